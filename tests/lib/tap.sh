# TAP helpers for the shell suites in tests/e2e and tests/integration. Source it, then call
# `ok`/`not_ok`/`check`, and `finish` at the end. tests/run.sh counts the "ok"/"not ok" lines and
# fails a suite on any sanitizer report in its output.
#   TAGPILOT   the binary under test (tests/run.sh sets the ASan build)
#   TP_ROOT    the project root
TAP_N=0
TAP_FAILED=0
TP_ROOT=${TP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
TAGPILOT=${TAGPILOT:-$TP_ROOT/tagpilot}
TAP_TMP=$(mktemp -d /tmp/tagpilot-suite.XXXXXX)
TAP_CLEANUPS=""

# Register a command to run at exit (services, temp dirs), even when the suite fails.
at_exit() { TAP_CLEANUPS="$1; $TAP_CLEANUPS"; }
tap_exit() {
    [ -n "${TAP_KEEP:-}" ] && { echo "# kept $TAP_TMP"; TAP_TMP=/nonexistent; }
    eval "$TAP_CLEANUPS" 2>/dev/null
    rm -rf "$TAP_TMP"
}
trap tap_exit EXIT
trap 'exit 130' INT TERM

ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $*"; }
not_ok() { TAP_N=$((TAP_N + 1)); TAP_FAILED=$((TAP_FAILED + 1)); echo "not ok $TAP_N - $*"; }

# check "description" command... : ok when the command succeeds
check() {
    desc=$1
    shift
    if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# need TOOL...: the suite cannot test without these: a missing one is a failure (never a skip),
# and the suite ends there. tests/lib/deps.sh installs them for make check.
need() {
    for tool in "$@"; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            not_ok "$tool is installed (tests/lib/deps.sh installs it)"
            finish
            exit 1
        fi
    done
}

# tp ARGS...: run tagpilot with stdout in $OUT, stderr in $ERR and the exit code in $RC. A
# sanitizer exit code (86 LeakSanitizer/ASan, 87 UBSan) is reported as its own failure.
OUT=$TAP_TMP/out
ERR=$TAP_TMP/err
RC=0
tp() {
    "$TAGPILOT" "$@" >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    if [ $RC = 86 ] || [ $RC = 87 ] || grep -q 'Sanitizer' "$ERR"; then
        not_ok "sanitizer report running: tagpilot $*"
        cat "$ERR"
    fi
    return 0
}

# expect_rc N "description": the last tp call exited N
expect_rc() {
    if [ "$RC" = "$1" ]; then ok "$2"; else not_ok "$2 (exit $RC, want $1): $(head -c 300 "$ERR")"; fi
}

# free_port: a free TCP port on 127.0.0.1
free_port() {
    /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

finish() {
    echo "1..$TAP_N"
    [ "$TAP_FAILED" = 0 ]
}
