#!/bin/sh
# Run every test: the Criterion unit binaries, the fuzz targets' corpus replay, then the shell
# suites in tests/e2e and tests/integration (each prints TAP "ok"/"not ok" lines). A sanitizer
# report anywhere in a suite's output fails that suite even when its own runner called it a pass.
# Env: TAGPILOT (the ASan binary), UNIT_DIR, TOOL_DIR, FUZZ_DIR. Arg: optional substring filter.
# Ends with "N passed, N failed".
# Every suite has a plan in tests/plans: the number of checks it means to run. A suite that runs
# more or fewer (a loop that ran empty, an early exit, a check lost in an edit) fails; one with
# no plan fails too. TP_WRITE_PLANS=1 (make plans) records what each suite ran instead, for a
# person to review in the diff.
set -u
filter=${1:-}
root=$(cd "$(dirname "$0")/.." && pwd)
export TAGPILOT=$(cd "$(dirname "$TAGPILOT")" && pwd)/$(basename "$TAGPILOT")
export TP_TOOLS=$(cd "${TOOL_DIR:-.}" 2>/dev/null && pwd)
export TP_ROOT=$root
# LeakSanitizer reports and UBSan aborts get exit codes of their own, and always a report.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=86:strict_string_checks=1"
export LSAN_OPTIONS="exitcode=86"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=87"
plans=$root/tests/plans
[ -n "${TP_WRITE_PLANS:-}" ] && [ ! -f "$plans" ] && : >"$plans"
logdir=$(mktemp -d /tmp/tagpilot-tests.XXXXXX)
trap 'rm -rf "$logdir"' EXIT
passed=0
failed=0
suites=0 # suites run besides the lint
sanitizer_re='ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: (Address|Leak|UndefinedBehavior)Sanitizer'

count() { # file: adds its TAP results to the totals
    p=$(grep -c '^ok ' "$1")
    f=$(grep -c '^not ok ' "$1")
    passed=$((passed + p))
    failed=$((failed + f))
}

run_suite() { # name command... ("@TAP@" in the command becomes a TAP file to read results from)
    name=$1
    shift
    log=$logdir/$(echo "$name" | tr '/' '_').log
    tap=$log.tap
    : >"$tap"
    cmd=""
    for a in "$@"; do
        cmd="$cmd '$(printf '%s' "$a" | sed "s|@TAP@|$tap|g")'"
    done
    eval "$cmd" >"$log" 2>&1
    rc=$?
    # Criterion hides the children's stderr (and so LeakSanitizer) when TAP goes to stdout, so
    # its TAP goes to a file and is appended here.
    cat "$tap" >>"$log"
    count "$log"
    grep -E '^not ok ' "$log" | sed "s|^|  $name: |"
    ran=$(grep -cE '^(not )?ok ' "$log")
    want=$(awk -v s="$name" '$1 == s {print $2}' "$plans" 2>/dev/null)
    if [ -n "${TP_WRITE_PLANS:-}" ]; then
        awk -v s="$name" '$1 != s' "$plans" >"$plans.new"
        echo "$name $ran" >>"$plans.new"
        sort "$plans.new" >"$plans" && rm -f "$plans.new"
    elif [ -z "$want" ]; then
        failed=$((failed + 1))
        echo "not ok - $name: no plan in tests/plans (it ran $ran checks)"
    elif [ "$ran" != "$want" ]; then
        failed=$((failed + 1))
        echo "not ok - $name: ran $ran checks, its plan in tests/plans is $want"
    fi
    if grep -qE "$sanitizer_re" "$log"; then
        failed=$((failed + 1))
        echo "not ok - $name: sanitizer report"
        grep -E -A25 "$sanitizer_re" "$log" | head -60
    elif [ $rc != 0 ] && ! grep -q '^not ok ' "$log"; then
        failed=$((failed + 1))
        echo "not ok - $name exited $rc without a failing test"
        tail -20 "$log"
    fi
    printf '%-40s %s ok, %s not ok\n' "$name" "$(grep -c '^ok ' "$log")" "$(grep -c '^not ok ' "$log")"
}

for bin in "${UNIT_DIR:-build/asan/tests}"/test_*; do
    [ -x "$bin" ] || continue
    # the filter matches the suite's name, never the folder it sits in (a worktree's path)
    case $(basename "$bin") in *"$filter"*) ;; *) continue ;; esac
    suites=$((suites + 1))
    run_suite "unit/$(basename "$bin")" "$bin" --tap=@TAP@ --jobs=2
done

# Every fuzz target replays its seed corpus and regression inputs (tests/fuzz/replay.sh). The
# list comes from the sources, so a target that was not built fails rather than being skipped.
export FUZZ_DIR=$(cd "${FUZZ_DIR:-build/fuzz}" 2>/dev/null && pwd || echo "${FUZZ_DIR:-build/fuzz}")
for src in "$root"/tests/fuzz/fuzz_*.c; do
    [ -f "$src" ] || continue
    name=$(basename "$src" .c)
    case $name in *"$filter"*) ;; *) continue ;; esac
    suites=$((suites + 1))
    run_suite "fuzz/$name" sh "$root/tests/fuzz/replay.sh" "${name#fuzz_}"
done

# A check that cannot fail is a defect: refuse `check … && …` lines before running anything.
run_suite "lint/check-lines" /usr/bin/python3 "$root/tests/lib/lint_suites.py" \
    "$root"/tests/e2e/*.sh "$root"/tests/integration/*.sh

for script in "$root"/tests/e2e/*.sh "$root"/tests/integration/*.sh; do
    [ -f "$script" ] || continue
    suite=$(basename "$(dirname "$script")")/$(basename "$script" .sh)
    case $suite in *"$filter"*) ;; *) continue ;; esac
    suites=$((suites + 1))
    run_suite "$suite" sh "$script"
done

# A filter that selects nothing has tested nothing: that is a failure, not a pass.
if [ "$suites" = 0 ]; then
    failed=$((failed + 1))
    echo "not ok - no suite matches '$filter'"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
