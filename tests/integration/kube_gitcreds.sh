#!/bin/sh
# Git write-back for Applications read from a cluster, with Argo CD's own repository Secrets as
# credentials: git-http-backend behind lighttpd with basic auth, the stand-in API server holding
# the Applications (write-back-method git) and a `repository` Secret. `git.credentials: argocd`
# and the annotation form `git:secret:NS/NAME` both clone, read and push; without them the server's
# 401 is named; a wrong password is "rejected", naming the Secret; the password never appears in
# output, the journal or the state dir.
. "$(dirname "$0")/../lib/tap.sh"
. "$TP_ROOT/tests/lib/githttp.sh"
. "$TP_ROOT/tests/lib/registry.sh"
. "$TP_ROOT/tests/lib/kubeapi.sh"
need git python3
export HOME=$TAP_TMP
PASSWORD=pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
SRV=$TAP_TMP/srv
W=$TAP_TMP/work
mkdir -p "$SRV" "$W/charts/shop"
git init -q --bare -b main "$SRV/config.git"
git -C "$SRV/config.git" config http.receivepack true
githttp_start "$SRV" bot "$PASSWORD" || { not_ok "lighttpd with git-http-backend starts"; finish; exit 1; }
REPO=$GITHTTP_URL/config.git
registry_start anon || { not_ok "docker-registry starts"; finish; exit 1; }
R=$REG_HOST
reg_push image team/shop 1.0.0 >/dev/null && reg_push image team/shop 1.1.0 >/dev/null ||
    not_ok "push images"

printf 'apiVersion: v2\nname: shop\nversion: 0.1.0\n' >"$W/charts/shop/Chart.yaml"
printf 'image:\n  repository: %s/team/shop\n  tag: 1.0.0\n' "$R" >"$W/charts/shop/values.yaml"
(cd "$W" && git init -q -b main && git add -A &&
    git -c user.name=ops -c user.email=ops@example.com commit -qm init &&
    git push -q "http://bot:$PASSWORD@${REPO#http://}" main) || not_ok "seed push over http"

app() { # NAME WRITE-BACK-METHOD
    cat <<Y
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: $1
  namespace: argocd
  annotations:
    argocd-image-updater.argoproj.io/image-list: shop=$R/team/shop
    argocd-image-updater.argoproj.io/write-back-method: $2
spec:
  source:
    repoURL: $REPO
    targetRevision: main
    path: charts/shop
    helm: {}
Y
}
{ app shop git; app shop2 git:secret:argocd/config-repo; } >"$TAP_TMP/apps.yaml"
kubeapi_start "$TAP_TMP/kube" --seed "$TAP_TMP/apps.yaml" \
    --seed "$TP_ROOT/tests/fixtures/kube/secrets.yaml" --var "REPO=$REPO" --var "REGISTRY=$R" \
    --var "GIT_PASSWORD=$PASSWORD" --var REG_AUTH=eDp5 --var REG_PASSWORD=x ||
    { not_ok "the stand-in API server starts"; finish; exit 1; }
printf 'registries:\n- name: t\n  api_url: http://%s\n  prefix: %s\n  insecure: yes\n' "$R" "$R" \
    >"$TAP_TMP/registries.conf"
config() { # NAME [git.credentials value]
    {
        printf 'sources:\n  - kubernetes:\n      kubeconfig: %s\n' "$KUBEAPI_CONFIG"
        printf 'registries-conf: %s\nstate-dir: %s/state-%s\n' "$TAP_TMP/registries.conf" "$TAP_TMP" "$1"
        printf 'git:\n  author: {name: tagpilot, email: tagpilot@example.com}\n'
        [ -n "${2:-}" ] && printf '  credentials: %s\n' "$2"
    } >"$TAP_TMP/$1.yaml"
}
commits() { git --git-dir="$SRV/config.git" rev-list --count main; }
no_password() { ! grep -rq "$PASSWORD" "$OUT" "$ERR" "$TAP_TMP/state-$1"; }
error_says() { field "$OUT" "$1" error | grep -q "$2"; } # APP TEXT
field() { # JSON-FILE APP FIELD
    python3 -c 'import json,sys
for a in json.load(open(sys.argv[1]))["applications"]:
    if a["name"] == sys.argv[2]: print(a["images"][0][sys.argv[3]])' "$@"
}

# Without credentials the server's refusal is named; the annotation form still works alone.
# (shop2 is taken away first: its Secret would serve the same repository URL to shop too)
config none
kubeapi_ctl delete path=/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/shop2 >/dev/null
tp run --once --dry-run --format json --config "$TAP_TMP/none.yaml"
check "without credentials: shop cannot be read" error_says shop 'none are configured'

app shop2 git:secret:argocd/config-repo >"$TAP_TMP/shop2.yaml"
kubeapi_apply "$TAP_TMP/shop2.yaml"
tp run --once --dry-run --format json --config "$TAP_TMP/none.yaml"
check "the annotation git:secret:argocd/config-repo reads shop2 on its own" \
    [ "$(field "$OUT" shop2 current)" = 1.0.0 ]
check "and offers 1.1.0" [ "$(field "$OUT" shop2 candidate)" = 1.1.0 ]

# git.credentials: argocd: Argo CD's repository Secret serves the repository it names.
config argo argocd
tp run --once --dry-run --format json --config "$TAP_TMP/argo.yaml"
check "git.credentials argocd: shop's current tag is read from the repository" \
    [ "$(field "$OUT" shop current)" = 1.0.0 ]
n=$(commits)
tp approve shop --config "$TAP_TMP/argo.yaml"
expect_rc 0 "approve shop pushes with the Secret's credentials"
check "one commit landed" [ "$(commits)" = $((n + 1)) ]
git --git-dir="$SRV/config.git" show main:charts/shop/.argocd-source-shop.yaml >"$TAP_TMP/src" 2>&1
check "the commit holds the .argocd-source file with 1.1.0" grep -q 'value: 1.1.0' "$TAP_TMP/src"
check "the password is in no output and nowhere in the state dir" no_password argo

# A wrong password: rejected, naming the Secret, not the password.
kubeapi_merge /api/v1/namespaces/argocd/secrets/config-repo '{"data":{"password":"d3Jvbmc="}}' \
    >"$TAP_TMP/merge.out"
tp run --once --dry-run --format json --config "$TAP_TMP/argo.yaml"
check "a wrong password in the Secret: rejected, naming the Secret" \
    error_says shop "credentials 'Secret argocd/config-repo' were rejected"
check "and the wrong password is not shown" sh -c "! grep -q wrong '$OUT' '$ERR'"

# Configured without a cluster to read from: a config error.
printf 'sources:\n  - dir: %s\ngit:\n  credentials: argocd\n' "$W" >"$TAP_TMP/nocluster.yaml"
tp run --once --config "$TAP_TMP/nocluster.yaml"
expect_rc 1 "git.credentials argocd without a kubernetes source is refused"
check "saying what to add" grep -q 'git.credentials: argocd reads .* add a kubernetes source' "$ERR"
finish
