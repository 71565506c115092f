#!/bin/sh
# A misbehaving registry (tests/lib/faultserver.py on loopback): every fault must end in a clear
# error naming the registry, the repository and the cause, within the timeouts — never a crash,
# a hang or a silently accepted answer. Pagination (which docker-registry 2.8 does not do) is
# proven here too. The slow cases run in parallel with the default timeouts.
. "$(dirname "$0")/../lib/tap.sh"
. "$TP_ROOT/tests/lib/registry.sh"
. "$TP_ROOT/tests/lib/registry_probe.sh"

fault_start || { not_ok "fault server starts"; finish; exit 1; }
F=$FAULT_HOST
CONF=$TAP_TMP/faults.conf
cat >"$CONF" <<EOF
registries:
- name: faults
  prefix: $F
  api_url: http://$F
EOF

# bg NAME ARGS...: run the probe in the background; results in $TAP_TMP/bg.NAME.*
BG_PIDS=""
bg() {
    name=$1
    shift
    (
        start=$(date +%s%N)
        "$PROBE" --conf "$CONF" "$@" >"$TAP_TMP/bg.$name.out" 2>"$TAP_TMP/bg.$name.err" </dev/null
        echo $? >"$TAP_TMP/bg.$name.rc"
        echo $((($(date +%s%N) - start) / 1000000)) >"$TAP_TMP/bg.$name.ms"
    ) &
    BG_PIDS="$BG_PIDS $!"
}

# expect NAME MAX_MS MESSAGE [REGISTRY]: the run failed cleanly within MAX_MS with MESSAGE on
# stderr, naming the registry
expect() {
    name=$1 max=$2 msg=$3 reg=${4:-$F}
    rc=$(cat "$TAP_TMP/bg.$name.rc")
    ms=$(cat "$TAP_TMP/bg.$name.ms")
    err=$(head -c 400 "$TAP_TMP/bg.$name.err")
    if grep -qE 'Sanitizer|runtime error' "$TAP_TMP/bg.$name.err"; then
        not_ok "$name: sanitizer report"
        cat "$TAP_TMP/bg.$name.err"
    elif [ "$rc" = 1 ] && [ "$ms" -le "$max" ] && grep -qF -- "$msg" "$TAP_TMP/bg.$name.err" &&
        grep -qF "registry $reg" "$TAP_TMP/bg.$name.err"; then
        ok "$name: clear error in ${ms} ms: $err"
    else
        not_ok "$name: want exit 1 within $max ms saying «$msg»; got exit $rc after $ms ms: $err"
    fi
}

# default timeouts: the low-speed cut-off (10 s) ends a drip and a stall. The time bounds below
# are generous (the suites run in parallel with others under ASan); what matters is that every
# case ends well inside the 30 s request timeout instead of hanging.
bg drip "$F/fault/drip"
bg stall "$F/fault/stall"
# the rest with defaults too; they end fast
bg e500 "$F/fault/e500"
bg e429 "$F/fault/e429"
bg retrylong "$F/fault/retrylong"
bg garbage "$F/fault/garbage"
bg truncated "$F/fault/truncated"
bg endless "$F/fault/endless"
bg redirect "$F/fault/redirect"
bg linkloop "$F/fault/linkloop"
bg wrongdigest --strategy newest-build "$F/fault/wrongdigest"
bg wrongdigest_digest --strategy digest --constraint v1 "$F/fault/wrongdigest"
bg manytags --max-tags 50 "$F/fault/manytags"
bg e429once --strategy newest-build "$F/fault/e429once"
bg refused "127.0.0.1:1/fault/anything"
# a short total timeout, to see that one fire too
bg total --timeout-ms 1500 --low-speed-s 60 "$F/fault/drip"
# shellcheck disable=SC2086
wait $BG_PIDS # not a bare wait: the fault server is a child too

expect drip 20000 "timeout: less than 1024 bytes/s for 10 s"
expect stall 20000 "timeout: less than 1024 bytes/s for 10 s"
expect total 8000 "timeout after 1 s"
expect e500 12000 "HTTP 500 (server error) for fault/e500, still after 3 attempts"
expect e429 12000 "HTTP 429 (Too Many Requests) for fault/e429, still after 3 attempts"
expect retrylong 8000 "asks to wait 3600 s"
expect garbage 8000 "tags list for fault/garbage is not valid JSON"
expect truncated 8000 "fault/truncated: truncated response body"
expect endless 15000 "response body larger than 8388608 bytes"
expect redirect 8000 "redirect loop: more than 5 redirects"
expect linkloop 8000 "pagination does not advance"
expect wrongdigest 8000 "body SHA-256 is sha256:"
check "wrong digest is refused, not cached or printed" [ ! -s "$TAP_TMP/bg.wrongdigest.out" ]
manifest_digest=$(jq -r .tags[0].digest "$TAP_TMP/bg.wrongdigest_digest.out" 2>/dev/null)
check "digest strategy reports the registry's claim (HEAD; body not read): $manifest_digest" \
    [ "$manifest_digest" = "sha256:$(printf 'a%.0s' $(seq 64))" ]
expect manytags 8000 "fault/manytags has more than 50 tags"
expect refused 8000 "cannot connect" 127.0.0.1:1

rc=$(cat "$TAP_TMP/bg.e429once.rc")
check "429 once with Retry-After: 1 is retried and then succeeds ($(cat "$TAP_TMP/bg.e429once.ms") ms)" \
    [ "$rc" = 0 ] && [ "$(jq -r .candidate "$TAP_TMP/bg.e429once.out")" = v1 ]
check "… after waiting: $(jq -r .stats.retries "$TAP_TMP/bg.e429once.out") retries" \
    [ "$(jq -r .stats.retries "$TAP_TMP/bg.e429once.out")" -ge 1 ] && \
    [ "$(cat "$TAP_TMP/bg.e429once.ms")" -ge 1000 ]

for kind in paged pagedurl pagedrel; do
    probe --conf "$CONF" "$F/fault/$kind"
    check "pagination ($kind Link): 1200 tags in $(stat tag_pages) pages" \
        [ "$RC" = 0 ] && [ "$(j '.tags | length')" = 1200 ] && [ "$(stat tag_pages)" = 3 ] &&
        [ "$(j '[.tags[].tag] | unique | length')" = 1200 ]
done

probe --conf "$CONF" --dedupe 1 "$F/fault/ok"
check "RateLimit-Remaining recorded for the console (got $(j .rate_remaining))" [ "$(j .rate_remaining)" = 76 ]
probe --conf "$CONF" --strategy newest-build "$F/fault/ok"
check "the well-behaved repository on the same server works" [ "$RC" = 0 ]
check "the well-behaved repository on the same server works (also)" [ "$(j .candidate)" = v1 ]

tp test "$F/fault/e500" --registries-conf-path "$CONF" --format json
check "tagpilot test: a registry fault exits 1 with the cause" \
    [ "$RC" = 1 ] && grep -q "registry $F: HTTP 500" "$ERR"
tp test "$F/fault/wrongdigest" --registries-conf-path "$CONF" --update-strategy newest-build
check "tagpilot test: a wrong digest is an error" [ "$RC" = 1 ]
check "tagpilot test: a wrong digest is an error (also)" grep -q "SHA-256" "$ERR"
finish
