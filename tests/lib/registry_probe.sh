# Helpers for the registry suites: run tests/tools/registry_probe (the ASan build) or
# `tagpilot test` and read their JSON. Source after tap.sh and registry.sh.
PROBE=${TP_TOOLS:-$TP_ROOT/build/asan/tools}/registry_probe

# probe ARGS...: stdout in $OUT, stderr in $ERR, exit code in $RC; a sanitizer report fails.
probe() {
    "$PROBE" "$@" >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    if [ $RC = 86 ] || [ $RC = 87 ] || grep -q 'Sanitizer' "$ERR"; then
        not_ok "sanitizer report running: registry_probe $*"
        cat "$ERR"
    fi
    return 0
}

# j FILTER: jq over the last output ($OUT), raw
j() { jq -r "$1" "$OUT"; }

# stat NAME: one request counter from the last probe
stat() { jq -r ".stats.$1" "$OUT"; }

