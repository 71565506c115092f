#!/bin/sh
# Authentication and TLS against real docker-registry set-ups: htpasswd basic auth, HTTPS with a
# CA made here, and bearer tokens from an issuer the test runs. Credentials come from env:, ext:,
# registries.conf and docker's config.json; a secret never shows in any output.
. "$(dirname "$0")/../lib/tap.sh"
. "$TP_ROOT/tests/lib/registry.sh"
. "$TP_ROOT/tests/lib/registry_probe.sh"
. "$TP_ROOT/tests/lib/cluster.sh"

# engine_check LABEL: the engine itself (`tagpilot run`), not a driver, against the registry of
# this section, with credentials from registries.conf: the right ones give bookstore's candidate,
# wrong ones an error naming the spec, and the secret shows nowhere.
engine_check() {
    reg_push image amplication/bookstore-application v1.0.0 >/dev/null &&
        reg_push image amplication/bookstore-application v1.0.1 >/dev/null &&
        reg_push image team/catalog 1.4.0 >/dev/null || not_ok "$1: push the cluster's images"
    ec=$TAP_TMP/cluster-$1
    cluster_repo "$ec" || not_ok "$1: cluster repository"
    for creds in TP_GOOD_CREDS TP_BAD_CREDS; do
        reg_conf "$ec/registries.conf" "insecure: yes" "default: true" "credentials: env:$creds"
        tp run --once --dry-run --format json --config "$ec/tagpilot.yaml"
        bs=$(jq -r '.applications[] | select(.name=="bookstore") | .images[0] | "\(.candidate) \(.state)"' "$OUT")
        if [ $creds = TP_GOOD_CREDS ]; then
            check "$1: tagpilot run with registries.conf credentials: bookstore $bs" \
                [ "$bs" = "v1.0.1 update-available" ]
        else
            check "$1: tagpilot run with wrong credentials fails (exit $RC)" [ "$RC" = 1 ]
            check "$1: … naming the spec" grep -q "check credentials 'env:TP_BAD_CREDS'" "$OUT"
        fi
        check "$1: no secret in tagpilot run's output ($creds)" no_secret "$SECRET"
    done
}

# no_secret WORD: neither output of the last run contains WORD
no_secret() { ! grep -qF -- "$1" "$OUT" "$ERR"; }

# ---- basic auth ----
registry_start basic || { not_ok "docker-registry (basic auth) starts"; finish; exit 1; }
R=$REG_HOST
SECRET=$REG_PASS
reg_push image team/app v1.0.0 --created 2024-01-01T00:00:00Z >/dev/null
reg_push image team/app v1.1.0 --created 2024-02-01T00:00:00Z >/dev/null
CONF=$TAP_TMP/basic.conf
reg_conf "$CONF"
export DOCKER_CONFIG=$TAP_TMP/nodocker # no docker config unless a test makes one

probe --conf "$CONF" "$R/team/app"
check "basic: anonymous is refused (exit 1)" [ "$RC" = 1 ]
check "basic: anonymous is refused with advice" \
    grep -q "registry $R: 401 for team/app — anonymous access refused" "$ERR"
export TP_GOOD_CREDS=$REG_CREDS TP_BAD_CREDS=tagpilot:not-$SECRET
probe --conf "$CONF" --credentials env:TP_GOOD_CREDS --strategy newest-build "$R/team/app"
check "basic: env: credentials work (candidate $(j .candidate))" [ "$RC" = 0 ]
check "basic: env: credentials work (candidate $(j .candidate)) (also)" [ "$(j .candidate)" = v1.1.0 ]
check "basic: no secret in the output" no_secret "$SECRET"
probe --conf "$CONF" --credentials env:TP_BAD_CREDS "$R/team/app"
check "basic: wrong credentials fail (exit 1)" [ "$RC" = 1 ]
check "basic: wrong credentials name the spec" \
    grep -q "registry $R: 401 for team/app — check credentials 'env:TP_BAD_CREDS'" "$ERR"
check "basic: the wrong password is not shown either" no_secret "not-$SECRET"
reg_conf "$TAP_TMP/basic-creds.conf" "credentials: env:TP_GOOD_CREDS"
probe --conf "$TAP_TMP/basic-creds.conf" --ping "$R/team/app"
check "basic: credentials from registries.conf, ping" [ "$RC" = 0 ]
check "basic: credentials from registries.conf, ping (also)" [ "$(stat pings)" -ge 1 ]
engine_check basic
printf '#!/bin/sh\necho "%s"\n' "$REG_CREDS" >"$TAP_TMP/creds.sh"
chmod 700 "$TAP_TMP/creds.sh"
probe --conf "$CONF" --credentials "ext:$TAP_TMP/creds.sh" "$R/team/app"
check "basic: ext: script credentials" [ "$RC" = 0 ]
check "basic: ext: script credentials (also)" [ "$(j '.tags | length')" = 2 ]
mkdir -p "$TAP_TMP/docker"
printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$R" "$(printf %s "$REG_CREDS" | base64)" \
    >"$TAP_TMP/docker/config.json"
DOCKER_CONFIG=$TAP_TMP/docker probe --conf "$CONF" "$R/team/app"
check "basic: \$DOCKER_CONFIG/config.json auths used by default" [ "$RC" = 0 ]
probe --conf "$CONF" --credentials pullsecret:argocd/regcred "$R/team/app"
check "basic: pullsecret: fails (exit 1)" [ "$RC" = 1 ]
check "basic: pullsecret: without a cluster says where it would be read from" \
    grep -q "credentials 'pullsecret:argocd/regcred' are read from the cluster, and no kubernetes source is configured" "$ERR"
probe --conf "$CONF" --credentials env:TP_UNSET_VAR "$R/team/app"
check "basic: an unset variable is named" [ "$RC" = 1 ]
check "basic: an unset variable is named (also)" grep -q "TP_UNSET_VAR is not set" "$ERR"

# ---- TLS with a private CA ----
registry_start tls || { not_ok "docker-registry (TLS) starts"; finish; exit 1; }
R=$REG_HOST
d=$(reg_push image team/app v1.0.0 --created 2024-01-01T00:00:00Z)
reg_conf "$TAP_TMP/tls.conf"
probe --conf "$TAP_TMP/tls.conf" "$R/team/app"
check "tls: an unknown CA is refused (exit 1)" [ "$RC" = 1 ]
check "tls: an unknown CA is refused with advice" \
    grep -q "registry $R: team/app: TLS: certificate not trusted — set ca_file or insecure" "$ERR"
probe "$R/team/app"
check "tls: without registries.conf too (https inferred)" [ "$RC" = 1 ]
check "tls: without registries.conf too (https inferred) (also)" grep -q "TLS: certificate not trusted" "$ERR"
reg_conf "$TAP_TMP/tls-ca.conf" "ca_file: $REG_CA"
probe --conf "$TAP_TMP/tls-ca.conf" --strategy digest --constraint v1.0.0 "$R/team/app"
check "tls: ca_file makes it trusted" [ "$RC" = 0 ]
check "tls: ca_file makes it trusted (also)" [ "$(j .digest)" = "$d" ]
for t in v1.0.1 v1.0.2 v1.0.3; do reg_push image team/app $t >/dev/null; done
probe --conf "$TAP_TMP/tls-ca.conf" --strategy newest-build "$R/team/app"
check "tls: with ca_file the check succeeds" [ "$RC" = 0 ]
check "tls: HTTP/2: $(stat requests) requests, $(stat http2_responses) over h2" \
    [ "$(stat http2_responses)" = "$(stat requests)" ]
check "tls: multiplexed: $(stat connections) connection(s)" [ "$(stat connections)" = 1 ]
sk=$(skopeo inspect --cert-dir "$REG_DIR/skopeo-certs" --tls-verify=false --raw "docker://$R/team/app:v1.0.0" | sha256sum | cut -d' ' -f1)
check "tls: digest matches skopeo's" [ "sha256:$sk" = "$d" ]
cp "$REG_CA" "$TAP_TMP/ca-relative.pem"
reg_conf "$TAP_TMP/tls-rel.conf" "ca_file: ca-relative.pem"
probe --conf "$TAP_TMP/tls-rel.conf" "$R/team/app"
check "tls: a relative ca_file is found next to registries.conf" [ "$RC" = 0 ]
reg_conf "$TAP_TMP/tls-insecure.conf" "insecure: yes"
probe --conf "$TAP_TMP/tls-insecure.conf" "$R/team/app"
check "tls: insecure: yes skips verification" [ "$RC" = 0 ]
reg_conf "$TAP_TMP/tls-missing.conf" "ca_file: /nonexistent/ca.pem"
probe --conf "$TAP_TMP/tls-missing.conf" "$R/team/app"
check "tls: a missing ca_file is named" [ "$RC" = 1 ]
check "tls: a missing ca_file is named (also)" grep -q "ca_file '/nonexistent/ca.pem'" "$ERR"

# ---- bearer tokens ----
registry_start token || { not_ok "docker-registry (token auth) starts"; finish; exit 1; }
R=$REG_HOST
SECRET=$REG_PASS
export TP_GOOD_CREDS=$REG_CREDS TP_BAD_CREDS=tagpilot:not-$SECRET
for t in v1.0.0 v1.1.0 v1.2.0; do
    reg_push image public/app $t >/dev/null
    reg_push image team/app $t >/dev/null
done
reg_conf "$TAP_TMP/token.conf"
probe --conf "$TAP_TMP/token.conf" --strategy newest-build "$R/public/app"
check "token: anonymous pull of a public repository" [ "$RC" = 0 ]
check "token: anonymous pull of a public repository (also)" [ "$(j '.tags | length')" = 3 ]
check "token: one token for the whole newest-build check (got $(stat token_fetches))" \
    [ "$(stat token_fetches)" = 1 ]
probe --conf "$TAP_TMP/token.conf" "$R/team/app"
check "token: anonymous refused on a private repository (exit 1)" [ "$RC" = 1 ]
check "token: anonymous refused on a private repository" \
    grep -q "registry $R: 401 for team/app — anonymous access refused" "$ERR"
probe --conf "$TAP_TMP/token.conf" --credentials env:TP_GOOD_CREDS --strategy newest-build "$R/team/app"
check "token: credentials at the realm give access" [ "$RC" = 0 ]
check "token: credentials at the realm give access (also)" [ "$(j '.tags | length')" = 3 ]
check "token: no secret in the output" no_secret "$SECRET"
probe --conf "$TAP_TMP/token.conf" --credentials env:TP_BAD_CREDS "$R/team/app"
check "token: wrong credentials at the realm fail (exit 1)" [ "$RC" = 1 ]
check "token: wrong credentials at the realm name the spec" \
    grep -q "401 for team/app from token service http://127.0.0.1:[0-9]*/token — check credentials 'env:TP_BAD_CREDS'" "$ERR"
check "token: the wrong password is not shown" no_secret "not-$SECRET"
probe --conf "$TAP_TMP/token.conf" --credentials env:TP_GOOD_CREDS --dedupe 3 --ping "$R/team/app"
check "token: ping and listing succeed" [ "$RC" = 0 ]
check "token: ping and listing with one token per scope ($(stat token_fetches) fetches)" \
    [ "$(stat token_fetches)" -le 2 ]

tp test "$R/team/app" --registries-conf-path "$TAP_TMP/token.conf" --credentials env:TP_GOOD_CREDS --format json
check "tagpilot test --credentials with token auth" [ "$RC" = 0 ]
check "tagpilot test --credentials with token auth (also)" [ "$(jq -r .candidate "$OUT")" = v1.2.0 ]
tp test "$R/team/app" --registries-conf-path "$TAP_TMP/token.conf" --credentials env:TP_BAD_CREDS
check "tagpilot test: bad credentials exit 1" [ "$RC" = 1 ]
check "tagpilot test: bad credentials name the spec" grep -q "env:TP_BAD_CREDS" "$ERR"
check "tagpilot test: bad credentials, not the secret" no_secret "$SECRET"
engine_check token
finish
