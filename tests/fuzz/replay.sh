#!/bin/sh
# Replay one fuzz target's seed corpus and every regression input once each (make check): a
# crash, leak, undefined behaviour or broken property fails it. Prints TAP.
# Usage: replay.sh NAME   (Env: FUZZ_DIR, the built targets; TP_ROOT)
set -u
name=$1
bin=$FUZZ_DIR/fuzz_$name
corpus=$TP_ROOT/tests/fuzz/corpus/$name
regressions=$TP_ROOT/tests/fuzz/regressions/$name
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# replay WHAT DIR: run every file of DIR through the target, one TAP line
replay() {
    n=$(find "$2" -type f 2>/dev/null | wc -l)
    if [ "$1" = seed ] && [ "$n" = 0 ]; then
        echo "not ok - fuzz_$name: no seed inputs in tests/fuzz/corpus/$name"
        return
    fi
    [ "$n" = 0 ] && { echo "ok - fuzz_$name: no $1 inputs yet"; return; }
    # one process for all files: what libFuzzer does when given files rather than folders
    find "$2" -type f -print0 | sort -z | xargs -0 "$bin" -timeout=30 >"$log" 2>&1
    if [ $? = 0 ]; then
        echo "ok - fuzz_$name replays its $n $1 input(s)"
    else
        echo "not ok - fuzz_$name fails on a $1 input:"
        grep -E 'Running:|ERROR|runtime error|fuzz property failed|SUMMARY' "$log" | tail -8 |
            sed 's/^/#   /'
    fi
}

if [ ! -x "$bin" ]; then
    echo "not ok - fuzz_$name was not built ($bin)"
    exit 1
fi
replay seed "$corpus"
replay regression "$regressions"
