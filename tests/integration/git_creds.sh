#!/bin/sh
# git.credentials go only where they are configured for. A commit to the cluster-config
# repository names another server as an Application's repoURL (or git-repository): that server
# must never receive the token — not on a scan, not on a dry run — and the app's error says that
# no credentials entry matches. The list form matches by URL prefix, longest first, at '/'
# boundaries. Through the real binary against git-http-backend behind lighttpd (the configured
# server) and a server that logs what it is sent (the attacker's).
. "$(dirname "$0")/../lib/tap.sh"
. "$TP_ROOT/tests/lib/registry.sh"
. "$TP_ROOT/tests/lib/cluster.sh"
. "$TP_ROOT/tests/lib/githttp.sh"

registry_start anon || { not_ok "registry starts"; finish; exit 1; }
B=amplication/bookstore-application
reg_push image $B v1.0.0 >/dev/null && reg_push image team/catalog 1.4.0 >/dev/null ||
    not_ok "push images"
C=$TAP_TMP/cluster
cluster_repo "$C" || not_ok "cluster repository"
TOKEN=tok-creds-91b4
githttp_start "$C" bot "$TOKEN" || { not_ok "lighttpd starts"; finish; exit 1; }
URL=$GITHTTP_URL/config.git
TP=$(free_port)
/usr/bin/python3 "$TP_ROOT/tests/lib/credtrap.py" "$TP" "$TAP_TMP/trap.log" &
trap_pid=$!
at_exit "kill $trap_pid 2>/dev/null"
for _ in $(seq 50); do [ -e "$TAP_TMP/trap.log" ] && break; sleep 0.1; done
TRAP=http://127.0.0.1:$TP

# The attacker's commit: one app on the trap, one through git-repository, one on a path that
# only looks like an allowed prefix.
attack() {
    sed -i "s|repoURL: file://$C/config.git|repoURL: $URL|" apps/*.yaml
    cluster_app evil "e=$REG_HOST/$B" "" | sed "s|repoURL: .*|repoURL: $TRAP/evil/config.git|" >apps/evil.yaml
    cluster_app sneaky "s=$REG_HOST/$B" "    argocd-image-updater.argoproj.io/git-repository: $TRAP/team-evil/x.git" |
        sed "s|repoURL: .*|repoURL: $URL|" >apps/sneaky.yaml
}
cluster_commit "$C" "attack" attack || not_ok "the attacker's commit"
export GIT_CREDS="bot:$TOKEN"
config() { # credentials block
    cat >"$TAP_TMP/tagpilot.yaml" <<Y
sources:
  - git: $URL
    branch: main
    path: apps
registries-conf: $C/registries.conf
state-dir: $TAP_TMP/state
git:
  credentials: $1
Y
}
trap_auth() { grep -v 'auth=-$' "$TAP_TMP/trap.log"; }
field() { # APP FIELD
    /usr/bin/python3 -c "import json,sys; d=json.load(open('$OUT')); i=[i for a in d['applications'] if a['name']==sys.argv[1] for i in a['images']]; print(i[0][sys.argv[2]] if i else 'absent')" "$1" "$2"
}

# The single-spec form serves the configured source's server only.
config env:GIT_CREDS
tp run --once --dry-run --format json --config "$TAP_TMP/tagpilot.yaml"
check "the configured server still works: bookstore is $(field bookstore state)" \
    [ "$(field bookstore state)" = up-to-date ]
check "the trap was asked ($(grep -c . "$TAP_TMP/trap.log") requests)" grep -q "evil/config.git" "$TAP_TMP/trap.log"
check "and received no credentials: $(trap_auth | head -1)" sh -c "! grep -v 'auth=-\$' '$TAP_TMP/trap.log' | grep -q ."
check "evil's error says no entry matches: $(field evil error)" \
    sh -c "printf '%s' \"\$1\" | grep -q 'no git.credentials entry matches $TRAP/evil/config.git'" - "$(field evil error)"
check "the git-repository annotation gets nothing either" grep -q "team-evil/x.git/info/refs.* auth=-" "$TAP_TMP/trap.log"
check "the token is in no output" sh -c "! grep -q '$TOKEN' '$OUT' '$ERR'"

# The list form: by prefix, at '/' boundaries, longest first.
: >"$TAP_TMP/trap.log"
export TRAP_CREDS=trapuser:trapsecret
config "
    - url: $GITHTTP_URL/
      credentials: env:GIT_CREDS
    - url: $TRAP/team/
      credentials: env:TRAP_CREDS
    - url: $TRAP/evil/config.git
      credentials: env:TRAP_CREDS"
tp run --once --dry-run --format json --config "$TAP_TMP/tagpilot.yaml"
check "list form: the configured server works" [ "$(field bookstore state)" = up-to-date ]
expected=$(printf 'trapuser:trapsecret' | base64)
check "an entry for the trap's exact repository sends its credentials there" \
    grep -q "evil/config.git.* auth=Basic $expected" "$TAP_TMP/trap.log"
check "a prefix /team/ does not match /team-evil/" sh -c "! grep 'team-evil' '$TAP_TMP/trap.log' | grep -qv 'auth=-\$'"
check "the configured token never reaches the trap" \
    sh -c "! grep -q \"$(printf 'bot:%s' "$TOKEN" | base64)\" '$TAP_TMP/trap.log'"
finish
