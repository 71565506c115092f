#!/bin/sh
# Credentials go only to the registry's own origin (scheme, host, port). A hostile registry
# (tests/lib/faultserver.py behind Basic auth) points tagpilot at a second server, the "spy",
# which records every request and its Authorization header: a tags page whose Link leads to the
# spy, a 302 to the spy, and — from a TLS registry — a Bearer realm on the spy over plain HTTP.
# The spy must never see the credentials. Driven through the real `tagpilot test`.
. "$(dirname "$0")/../lib/tap.sh"
. "$TP_ROOT/tests/lib/registry.sh"

SPY_LOG=$TAP_TMP/spy.log
MAIN_LOG=$TAP_TMP/main.log
: >"$SPY_LOG"
fault_start --plain --log "$SPY_LOG" || { not_ok "spy server starts"; finish; exit 1; }
SPY=$FAULT_URL
fault_start --log "$MAIN_LOG" --foreign "$SPY" || { not_ok "fault server starts"; finish; exit 1; }
F=$FAULT_HOST
mkdir -p "$TAP_TMP/tls"
tls_certs "$TAP_TMP/tls"
fault_start --tls "$TAP_TMP/tls/server.crt" "$TAP_TMP/tls/server.key" --foreign "$SPY" ||
    { not_ok "TLS fault server starts"; finish; exit 1; }
T=$FAULT_HOST
CONF=$TAP_TMP/registries.conf
cat >"$CONF" <<EOF
registries:
- name: faults
  prefix: $F
  api_url: http://$F
  credentials: env:FAULT_CREDS
- name: faults over TLS
  prefix: $T
  api_url: https://$T
  credentials: env:FAULT_CREDS
  ca_file: $TAP_TMP/tls/ca.crt
EOF
export FAULT_CREDS=tagpilot:s3cret-faults

no_secret() { ! grep -q s3cret-faults "$OUT" "$ERR"; }

tp test "$F/fault/authok" --registries-conf-path "$CONF" --format json
expect_rc 0 "behind Basic auth, the registry's own repository works"
check "… and the credentials went to the registry itself" \
    grep -q '"path": "/v2/fault/authok/tags/list?n=1000", "authorization": "Basic ' "$MAIN_LOG"

# A next page on another origin: refused before anything is sent there.
tp test "$F/fault/authlink" --registries-conf-path "$CONF" --format json
expect_rc 1 "a tags page linking to another origin fails the listing"
check "the error names the registry, the repository and the foreign origin" \
    grep -qF "registry $F: tags list of fault/authlink: next page on another origin $SPY refused" "$ERR"
check "the other origin never received the credentials" sh -c "! grep -q '\"authorization\": \"' '$SPY_LOG'"
check "nor any request at all" sh -c "! grep -q authlink '$SPY_LOG'"
check "no secret in the output" no_secret

# A 302 to another origin is followed (registries send blobs to CDNs that way), without our
# Authorization header: curl's rule while CURLOPT_UNRESTRICTED_AUTH stays off.
tp test "$F/fault/authredirect" --registries-conf-path "$CONF" --format json
expect_rc 0 "a 302 to another origin is followed"
check "… and its answer used (candidate $(jq -r .candidate "$OUT"))" [ "$(jq -r .candidate "$OUT")" = v1 ]
check "the redirected request reached the other origin" grep -q '"path": "/v2/fault/authredirect/tags/list' "$SPY_LOG"
check "without the Authorization header" sh -c "! grep authredirect '$SPY_LOG' | grep -q '\"authorization\": \"'"
check "while the registry itself got it" \
    grep -q '"path": "/v2/fault/authredirect/tags/list?n=1000", "authorization": "Basic ' "$MAIN_LOG"

# A TLS registry whose Bearer realm is plain HTTP: no token is fetched (it would carry the Basic
# credentials, and bring back a token, in the clear).
: >"$SPY_LOG"
tp test "$T/fault/httprealm" --registries-conf-path "$CONF" --format json
expect_rc 1 "an https registry with an http:// token realm fails"
check "the error names the realm" \
    grep -qF "registry $T: token realm '$SPY/token' for fault/httprealm is not https" "$ERR"
check "the realm was never asked" sh -c "! grep -q /token '$SPY_LOG'"
check "no credentials went to it" sh -c "! grep -q '\"authorization\": \"' '$SPY_LOG'"
check "no secret in the output" no_secret

# The same TLS registry serves its Basic-auth repository: the refusal is about the realm only.
tp test "$T/fault/authok" --registries-conf-path "$CONF" --format json
expect_rc 0 "the TLS registry's Basic-auth repository works"
finish
