#!/bin/sh
# Git write-back over HTTP with credentials: git's git-http-backend behind lighttpd with basic
# auth on a free loopback port. The right token clones and pushes; a wrong or missing one gives
# a clear error naming the repository; the token is never printed.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/githttp.sh"
GITWB=${TP_TOOLS:-$TP_ROOT/build/asan/tools}/gitwb
export GIT_AUTHOR_NAME=ops GIT_AUTHOR_EMAIL=ops@example.com
export GIT_COMMITTER_NAME=ops GIT_COMMITTER_EMAIL=ops@example.com
export HOME=$TAP_TMP
TOKEN=tok-7f3a9c1e5b
SRV=$TAP_TMP/srv
D=$TAP_TMP/c
W=$D/work
mkdir -p "$SRV" "$W/apps" "$W/charts/web"
git init -q --bare -b main "$SRV/config.git"
git -C "$SRV/config.git" config http.receivepack true
if ! githttp_start "$SRV" bot "$TOKEN"; then
    not_ok "lighttpd with git-http-backend starts"
    finish
    exit 1
fi
ok "lighttpd with git-http-backend starts"
URL=$GITHTTP_URL/config.git

cat >"$W/charts/web/Chart.yaml" <<Y
apiVersion: v2
name: web
version: 0.1.0
appVersion: "1.0.0"
Y
cat >"$W/charts/web/values.yaml" <<Y
image:
  repository: ghcr.io/acme/web
  tag: 1.0.0   # managed
Y
cat >"$W/apps/web.yaml" <<Y
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web
  namespace: argocd
  annotations:
    argocd-image-updater.argoproj.io/image-list: web=ghcr.io/acme/web
    argocd-image-updater.argoproj.io/write-back-method: git
    argocd-image-updater.argoproj.io/write-back-target: helmvalues
    argocd-image-updater.argoproj.io/web.helm.image-name: image.repository
spec:
  source:
    repoURL: $URL
    targetRevision: main
    path: charts/web
Y
(cd "$W" && git init -q -b main && git add -A && git commit -qm init &&
    git push -q "http://bot:$TOKEN@${URL#http://}" main) || not_ok "seed push over http"

config() { # file state credentials
    cat >"$1" <<Y
sources:
  - git: $URL
    branch: main
    path: apps
state-dir: $2
git:
  author: {name: tagpilot, email: tagpilot@example.com}
  credentials: $3
Y
}
count() { git --git-dir="$SRV/config.git" rev-list --count main; }
run() { "$GITWB" "$@" >"$OUT" 2>"$ERR"; RC=$?; cat "$OUT" "$ERR" >>"$TAP_TMP/all-output"; }
no_token() { ! grep -q "$TOKEN" "$OUT" "$ERR"; }

config "$D/good.yaml" "$D/state-good" "env:GIT_CREDS"
export GIT_CREDS="bot:$TOKEN"
run current "$D/good.yaml"
expect_rc 0 "clone over http with env: credentials"
check "current tag read through http" grep -q "^web/web	1.0.0	helm-values	charts/web/values.yaml:3$" "$OUT"

n=$(count)
run apply "$D/good.yaml" web web=1.1.0
expect_rc 0 "push with the right token"
check "the commit landed on the server" [ "$(count)" = $((n + 1)) ]
check "one-line edit over http" sh -c "git --git-dir='$SRV/config.git' show main:charts/web/values.yaml | grep -q '^  tag: 1.1.0   # managed$'"
check "the token is not printed" no_token

printf 'bot:%s\n' "$TOKEN" >"$D/creds"
chmod 600 "$D/creds"
config "$D/file.yaml" "$D/state-file" "file:$D/creds"
n=$(count)
run apply "$D/file.yaml" web web=1.2.0
expect_rc 0 "push with file: credentials"
check "file: commit landed" [ "$(count)" = $((n + 1)) ]

# A commit lands over http between our commit and our push: fetched, re-applied, both kept.
git clone -q "http://bot:$TOKEN@${URL#http://}" "$TAP_TMP/other" 2>/dev/null
race="cd '$TAP_TMP/other' && git pull -q --ff-only && echo '# hotfix' >>charts/web/Chart.yaml && git commit -qam hotfix && git push -q origin main"
n=$(count)
run apply "$D/good.yaml" web web=1.2.1 --race "$race"
expect_rc 0 "push while another commit lands over http"
check "retried once" grep -q "attempts 2" "$OUT"
check "both commits are on the server" [ "$(count)" = $((n + 2)) ]
check "the other commit's change is kept" sh -c "git --git-dir='$SRV/config.git' show main:charts/web/Chart.yaml | grep -q '^# hotfix$'"

# The wrong token: the cached clone exists, so fetch is refused first.
export GIT_CREDS="bot:wrong-$TOKEN"
n=$(count)
run apply "$D/good.yaml" web web=1.3.0
expect_rc 1 "the wrong token fails"
check "the error says the credentials were rejected" grep -q "credentials 'env:GIT_CREDS' were rejected" "$ERR"
check "the error names the repository" grep -q "$URL" "$ERR"
check "nothing was pushed" [ "$(count)" = "$n" ]
check "the token is not printed" no_token

# A fresh clone with the wrong token.
config "$D/fresh.yaml" "$D/state-fresh" "env:GIT_CREDS"
run apps "$D/fresh.yaml"
expect_rc 1 "clone with the wrong token fails"
check "clone error says the credentials were rejected" grep -q "git clone $URL: credentials 'env:GIT_CREDS' were rejected" "$ERR"

unset GIT_CREDS
run apps "$D/fresh.yaml"
expect_rc 1 "missing credentials fail"
check "the error names the unset variable" grep -q "environment variable GIT_CREDS is not set" "$ERR"

printf 'just-a-token\n' >"$D/badcreds"
config "$D/bad.yaml" "$D/state-bad" "file:$D/badcreds"
run apps "$D/bad.yaml"
expect_rc 1 "malformed credentials file fails"
check "the error asks for user:token" grep -q "must hold user:token" "$ERR"

# No credentials configured at all.
config "$D/none.yaml" "$D/state-none" "env:NOPE_UNSET"
sed -i '/credentials:/d' "$D/none.yaml"
run apps "$D/none.yaml"
expect_rc 1 "no credentials configured fails"
check "the error says none are configured" grep -q "none are configured" "$ERR"

check "the token never appeared in any output" sh -c "! grep -q '$TOKEN' '$TAP_TMP/all-output'"
finish
