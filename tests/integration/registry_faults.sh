#!/bin/sh
# A misbehaving registry (tests/lib/faultserver.py on loopback): every fault must end in a clear
# error naming the registry, the repository and the cause, within the timeouts — never a crash,
# a hang or a silently accepted answer. Pagination (which docker-registry 2.8 does not do) is
# proven here too, with its bounds: page loops, bytes per listing. Tags outside the grammar are
# listed but never chosen nor asked about. The slow cases run in parallel with the default
# timeouts.
. "$(dirname "$0")/../lib/tap.sh"
. "$TP_ROOT/tests/lib/registry.sh"
. "$TP_ROOT/tests/lib/registry_probe.sh"

FAULT_LOG=$TAP_TMP/requests.log
fault_start --log "$FAULT_LOG" || { not_ok "fault server starts"; finish; exit 1; }
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
bg pageloop --max-tags 1000 "$F/fault/pageloop"
bg bigpages --max-list-bytes 4000000 "$F/fault/bigpages"
bg deepjson "$F/fault/deepjson"
bg deepindex --strategy newest-build "$F/fault/deepindex"
bg wrongdigest --strategy newest-build "$F/fault/wrongdigest"
bg wrongdigest_digest --strategy digest --constraint v1 "$F/fault/wrongdigest"
bg badblob --strategy newest-build "$F/fault/badblob"
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
expect pageloop 8000 "registry $F: tags list of fault/pageloop: pagination loops back to page 1"
expect bigpages 8000 "tags list of fault/bigpages is larger than 4000000 bytes"
expect deepjson 8000 "tags list for fault/deepjson is not valid JSON"
expect deepindex 8000 "of fault/deepindex is not valid JSON"
expect wrongdigest 8000 "body SHA-256 is sha256:"
check "wrong digest is refused, not cached or printed" [ ! -s "$TAP_TMP/bg.wrongdigest.out" ]
# The digest strategy's digest is written to git, so it is verified too: the registry's word for
# it (Docker-Content-Digest) must match the SHA-256 of the manifest.
claimed=sha256:$(printf 'a%.0s' $(seq 64))
expect wrongdigest_digest 8000 "manifest of fault/wrongdigest:v1: body SHA-256 is sha256:"
check "… naming the claimed digest too" grep -qF "Docker-Content-Digest $claimed — refusing it" "$TAP_TMP/bg.wrongdigest_digest.err"
check "… and printing no digest" [ ! -s "$TAP_TMP/bg.wrongdigest_digest.out" ]
# A config blob is verified too: its `created` decides newest-build.
expect badblob 8000 "of fault/badblob has SHA-256 sha256:"
check "… and no forged date is used or printed" [ ! -s "$TAP_TMP/bg.badblob.out" ]
expect manytags 8000 "fault/manytags has more than 50 tags"
expect refused 8000 "cannot connect" 127.0.0.1:1

rc=$(cat "$TAP_TMP/bg.e429once.rc")
check "429 once with Retry-After: 1 is retried and then succeeds ($(cat "$TAP_TMP/bg.e429once.ms") ms)" \
    [ "$rc" = 0 ]
check "… with the candidate" [ "$(jq -r .candidate "$TAP_TMP/bg.e429once.out")" = v1 ]
check "… after $(jq -r .stats.retries "$TAP_TMP/bg.e429once.out") retries" \
    [ "$(jq -r .stats.retries "$TAP_TMP/bg.e429once.out")" -ge 1 ]
check "… and waiting the Retry-After second" [ "$(cat "$TAP_TMP/bg.e429once.ms")" -ge 1000 ]

for kind in paged pagedurl pagedrel; do
    probe --conf "$CONF" "$F/fault/$kind"
    check "pagination ($kind Link) succeeds" [ "$RC" = 0 ]
    check "pagination ($kind Link): 1200 tags" [ "$(j '[.tags[].tag] | unique | length')" = 1200 ]
    check "pagination ($kind Link): in 3 pages (got $(stat tag_pages))" [ "$(stat tag_pages)" = 3 ]
done

# The default bound on one listing (32 MiB), through the real binary.
: >"$FAULT_LOG"
tp test "$F/fault/bigpages" --registries-conf-path "$CONF" --format json
expect_rc 1 "500 pages of 1 MiB fail the listing"
check "past 32 MiB, naming the registry and the repository" \
    grep -qF "registry $F: tags list of fault/bigpages is larger than 33554432 bytes" "$ERR"
check "after 32 pages, not 500" [ "$(grep -c 'fault/bigpages/tags/list' "$FAULT_LOG")" = 32 ]

# Tags outside the grammar: listed (so they can be seen), never chosen, never asked about.
only_expected_requests() { # the log holds the listing and valid tags' manifests and configs only
    ! jq -r .path "$FAULT_LOG" | grep -v -e '^/v2/fault/badtags/tags/list?n=1000$' \
        -e '^/v2/fault/badtags/manifests/v1\.[01]\.0$' -e '^/v2/fault/badtags/manifests/sha256:' \
        -e '^/v2/fault/badtags/blobs/sha256:' | grep -q .
}
for strategy in semver alphabetical newest-build; do
    : >"$FAULT_LOG"
    tp test "$F/fault/badtags" --registries-conf-path "$CONF" --update-strategy $strategy --format json
    expect_rc 0 "badtags, $strategy: succeeds"
    check "badtags, $strategy: picks v1.1.0 (got $(jq -r .candidate "$OUT" | head -c 40))" \
        [ "$(jq -r .candidate "$OUT")" = v1.1.0 ]
    check "badtags, $strategy: lists all 12 tags" [ "$(jq '.tags | length' "$OUT")" = 12 ]
    check "badtags, $strategy: 10 of them 'not a valid tag'" \
        [ "$(jq '[.tags[] | select(.reason == "not a valid tag")] | length' "$OUT")" = 10 ]
    check "badtags, $strategy: none of those eligible" \
        [ "$(jq '[.tags[] | select(.reason == "not a valid tag" and .eligible)] | length' "$OUT")" = 0 ]
    check "badtags, $strategy: asked nothing but the list and the valid tags' manifests" \
        only_expected_requests
done
tp test "$F/fault/badtags" --registries-conf-path "$CONF" --update-strategy alphabetical --format json
check "the 4 MiB tag is kept cut to 255 bytes and marked" \
    [ "$(jq -r '.tags[].tag | select(startswith("zzzz"))' "$OUT")" = "$(printf 'z%.0s' $(seq 255))…" ]
check "so the whole answer stays small ($(wc -c <"$OUT") bytes)" [ "$(wc -c <"$OUT")" -lt 20000 ]
check "a NUL escape (\\u0000) does not cut a tag short into a valid-looking one" \
    sh -c "jq -r '.tags[].tag' '$OUT' | grep -qx 'v9.9.9␀x'"
tp test "$F/fault/badtags" --registries-conf-path "$CONF"
check "the text output escapes control characters (U+0085 as \\xc2\\x85)" grep -qF 'v9.9.9\xc2\x85' "$OUT"

# A HEAD that lies about the digest while GET is honest: what the digest strategy offers (and
# would write) is the manifest's own SHA-256.
good=sha256:$(curl -s "http://$F/v2/fault/ok/manifests/v1" | sha256sum | cut -d' ' -f1)
tp test "$F/fault/headlie:v1" --registries-conf-path "$CONF" --update-strategy digest --format json
expect_rc 0 "digest strategy over a lying HEAD succeeds"
check "… with the verified digest, not the HEAD's claim (got $(jq -r .digest "$OUT"))" \
    [ "$(jq -r .digest "$OUT")" = "$good" ]

probe --conf "$CONF" --dedupe 1 "$F/fault/ok"
check "RateLimit-Remaining recorded for the console (got $(j .rate_remaining))" [ "$(j .rate_remaining)" = 76 ]
probe --conf "$CONF" --strategy newest-build "$F/fault/ok"
check "the well-behaved repository on the same server works" [ "$RC" = 0 ]
check "the well-behaved repository on the same server works (also)" [ "$(j .candidate)" = v1 ]

tp test "$F/fault/e500" --registries-conf-path "$CONF" --format json
expect_rc 1 "tagpilot test: a registry fault exits 1"
check "tagpilot test: … with the cause" grep -q "registry $F: HTTP 500" "$ERR"
tp test "$F/fault/wrongdigest" --registries-conf-path "$CONF" --update-strategy newest-build
check "tagpilot test: a wrong digest is an error" [ "$RC" = 1 ]
check "tagpilot test: a wrong digest is an error (also)" grep -q "SHA-256" "$ERR"
finish
