#!/bin/sh
# make fuzz: run each libFuzzer target for FUZZ_SECONDS, one after another, from a scratch copy
# of its seed corpus (so tests/fuzz/corpus/ does not grow with what libFuzzer adds) plus its
# regression inputs; then print, per target, the executions, the time and what was found.
# Findings (crash-*, leak-*, timeout-*, oom-*) land in build/fuzz/findings/<name>/; copy each to
# tests/fuzz/regressions/<name>/ once it is fixed. Env: FUZZ_DIR, FUZZ_SECONDS. Args: target
# names (default: every tests/fuzz/fuzz_*.c).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(cd "$FUZZ_DIR" && pwd)
secs=${FUZZ_SECONDS:-60}
names=${*:-$(for f in "$root"/tests/fuzz/fuzz_*.c; do basename "$f" .c | sed 's/^fuzz_//'; done)}
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export ASAN_OPTIONS="detect_leaks=1"
status=0
summary=""
for name in $names; do
    bin=$dir/fuzz_$name
    [ -x "$bin" ] || { echo "fuzz_$name: not built" >&2; status=1; continue; }
    work=$dir/work/$name
    findings=$dir/findings/$name
    log=$dir/logs/$name.log
    rm -rf "$work"
    mkdir -p "$work" "$findings" "$dir/logs"
    cp "$root/tests/fuzz/corpus/$name"/* "$work"/ 2>/dev/null
    regressions=$root/tests/fuzz/regressions/$name
    [ -d "$regressions" ] || regressions=""
    dict=$root/tests/fuzz/dict/$name.dict
    echo "fuzz_$name: ${secs}s ..." >&2
    started=$(date +%s)
    # shellcheck disable=SC2086
    "$bin" -max_total_time="$secs" -timeout=30 -print_final_stats=1 \
        -artifact_prefix="$findings/" $([ -f "$dict" ] && echo "-dict=$dict") \
        "$work" $regressions >"$log" 2>&1
    rc=$?
    took=$(($(date +%s) - started))
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    found=$(grep -cE '^(==[0-9]+==ERROR|SUMMARY: |fuzz property failed|==[0-9]+== ERROR: libFuzzer)' "$log")
    line=$(printf '%-20s %12s executions %6ss  corpus %5s  %s' "fuzz_$name" "${runs:-?}" \
        "$took" "$(ls "$work" | wc -l)" \
        "$([ $rc = 0 ] && echo "no findings" || echo "FOUND something (exit $rc): $log, $findings")")
    echo "$line" >&2
    summary="$summary$line
"
    [ $rc = 0 ] || status=1
    [ "$found" = 0 ] || status=1
done
printf '\n%s' "$summary"
exit $status
