#!/bin/sh
# The mutation check (`make mutants`): each tests/mutants/NNN-*.patch plants one small bug. In a
# scratch copy of the tree, built once, every patch is applied, the suites its header names are
# run (`make check TESTS=<suite>`, one after another, stopping at the first that fails), and the
# patch is reverted, so make rebuilds only what the patch touched. A mutant is killed when a
# suite fails, survives when all pass; a patch that no longer applies is "stale", one that does
# not build "broken". One line per mutant, then the totals.
#
# Patch header (lines before the diff):
#   # why: <the bug in one line>
#   # suites: <suite> ...        exact suite names, as `make check TESTS=` matches them
#   # equivalent: <why no test can tell>   (only for a mutant that cannot be killed)
#
# Env: MUTANTS    substrings of patch names (any matches), e.g. MUTANTS="023 journal"
#      BUILD      the worktree's build dir; its asan/ objects seed the scratch build (default build)
#      MUTANTS_FRESH=1     build the scratch copy from nothing instead
#      MUTANTS_BASELINE=0  skip running the named suites once without any mutant first
#      MUTANTS_TIMEOUT     seconds per suite run (default 600): past it the suite counts as failed
# Logs: $BUILD/mutants/<patch>.log. Exit 0 when every mutant is killed or explained as equivalent.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-build}
case $build in /*) build_abs=$build ;; *) build_abs=$root/$build ;; esac
logdir=$build_abs/mutants
limit=${MUTANTS_TIMEOUT:-600}
started=$(date +%s)

scratch=""
child=""
cleanup() {
    if [ -n "$child" ]; then
        # timeout(1) runs the suite in a process group of its own and passes the signal on to
        # all of it, so the suites' own exit traps stop their registries and git servers.
        kill -TERM "$child" 2>/dev/null
        wait "$child" 2>/dev/null
        child=""
    fi
    [ -n "$scratch" ] && rm -rf "$scratch"
    scratch=""
}
trap cleanup EXIT
trap 'echo "mutants: interrupted; scratch copy removed" >&2; cleanup; exit 130' INT TERM HUP

header() { # patch field: the value of "# field: ..."
    sed -n "s/^# $2: //p" "$1" | head -1
}

# ---- which mutants ----
patches=""
for p in "$root"/tests/mutants/[0-9]*.patch; do
    [ -f "$p" ] || continue
    name=$(basename "$p" .patch)
    if [ -n "${MUTANTS:-}" ]; then
        hit=""
        for want in $MUTANTS; do
            case $name in *"$want"*) hit=1 ;; esac
        done
        [ -n "$hit" ] || continue
    fi
    if [ -z "$(header "$p" suites)" ]; then
        echo "mutants: $name has no '# suites:' line" >&2
        exit 2
    fi
    patches="$patches $name"
done
if [ -z "$patches" ]; then
    echo "mutants: no patch matches MUTANTS='${MUTANTS:-}'" >&2
    exit 2
fi

# ---- the scratch copy ----
scratch=$(mktemp -d /tmp/tp-mut.XXXXXX)
tree=$scratch/src
mkdir -p "$tree" "$logdir"
# The working tree as it is (uncommitted changes included), without git metadata or builds.
(cd "$root" && tar --exclude=./.git --exclude=./build --exclude="./$build" --exclude=./tagpilot \
    -cf - .) | tar -C "$tree" -xf - || {
    echo "mutants: cannot copy the tree" >&2
    exit 2
}
if [ "${MUTANTS_FRESH:-0}" != 1 ] && [ -d "$build_abs/asan" ]; then
    # Objects keep their times, and so do the copied sources: make rebuilds only what is stale.
    mkdir -p "$tree/build" && cp -a "$build_abs/asan" "$tree/build/asan"
fi

# run_suite suite log: `make check TESTS=suite` in the scratch copy; 0 passed, 1 failed,
# 2 did not build (no totals line), 3 timed out.
run_suite() {
    (cd "$tree" && exec timeout -k 30 "$limit" make --no-print-directory check BUILD=build \
        TESTS="$1") >"$2" 2>&1 &
    child=$!
    wait "$child"
    rc=$?
    child=""
    [ $rc = 0 ] && return 0
    [ $rc = 124 ] || [ $rc = 137 ] && return 3
    grep -qE '^[0-9]+ passed, [0-9]+ failed$' "$2" && return 1
    return 2
}

echo "mutants: scratch copy in $scratch; logs in $logdir"
echo "mutants: building the scratch copy"
# A filter no suite matches builds everything and runs nothing: "no suite matches" is a failed
# run (1), which is a built tree; only a run without totals (2, 3) did not build.
run_suite /no-suite-has-this-name/ "$logdir/build.log"
if [ $? -gt 1 ]; then
    echo "mutants: the unmutated tree does not build (see $logdir/build.log)" >&2
    exit 2
fi

# ---- baseline: every named suite passes without a mutant ----
if [ "${MUTANTS_BASELINE:-1}" != 0 ]; then
    suites=$(for n in $patches; do header "$tree/tests/mutants/$n.patch" suites; done | tr ' ' '\n' | sed '/^$/d' | sort -u)
    echo "mutants: baseline ($(echo "$suites" | wc -l) suites without a mutant)"
    for s in $suites; do
        if ! run_suite "$s" "$logdir/baseline-$s.log"; then
            echo "mutants: suite $s fails without any mutant (see $logdir/baseline-$s.log);" \
                "fix that first or leave it out" >&2
            exit 2
        fi
    done
fi

# ---- the mutants ----
total=0 killed=0 survived=0 equivalent=0 stale=0 broken=0
survivors=""
for name in $patches; do
    p=$tree/tests/mutants/$name.patch # the copy's: editing tests/mutants/ meanwhile changes nothing
    log=$logdir/$name.log
    : >"$log"
    total=$((total + 1))
    t0=$(date +%s)
    if ! (cd "$tree" && git apply --check "$p") >>"$log" 2>&1; then
        stale=$((stale + 1))
        printf '%-10s %-52s %s\n' stale "$name" "the patch no longer applies: refresh it"
        continue
    fi
    (cd "$tree" && git apply "$p") >>"$log" 2>&1
    status=survived
    by=""
    for s in $(header "$p" suites); do
        run_suite "$s" "$log.tmp"
        rc=$?
        { echo "=== $s (exit class $rc)"; cat "$log.tmp"; } >>"$log"
        rm -f "$log.tmp"
        case $rc in
        1) status=killed by="by $s" ;;
        3) status=killed by="by $s (timed out after $limit s)" ;;
        2) status=broken by="does not build (see the log)" ;;
        esac
        [ "$status" = survived ] || break
    done
    if ! (cd "$tree" && git apply -R "$p") >>"$log" 2>&1; then
        echo "mutants: cannot revert $name in the scratch copy; stopping" >&2
        exit 2
    fi
    took=$(($(date +%s) - t0))
    why=$(header "$p" equivalent)
    if [ "$status" = survived ] && [ -n "$why" ]; then
        status=equivalent by="equivalent: $why"
    fi
    case $status in
    killed) killed=$((killed + 1)) ;;
    survived)
        survived=$((survived + 1))
        survivors="$survivors $name"
        by="suites: $(header "$p" suites)"
        ;;
    equivalent) equivalent=$((equivalent + 1)) ;;
    broken) broken=$((broken + 1)) ;;
    esac
    printf '%-10s %-52s %s (%d s)\n' "$status" "$name" "$by" "$took"
done

secs=$(($(date +%s) - started))
echo "mutants: $killed/$total killed ($survived survived, $equivalent equivalent, $stale stale," \
    "$broken broken) in $((secs / 60))m$((secs % 60))s"
[ -n "$survivors" ] && echo "mutants: survivors:$survivors"
[ $survived = 0 ] && [ $stale = 0 ] && [ $broken = 0 ]
