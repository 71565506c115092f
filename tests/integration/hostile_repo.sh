#!/bin/sh
# A cluster-config repository written by an attacker: symbolic links to files outside it, '..'
# and absolute paths in source paths and write-back targets, names that are not Kubernetes
# names, link loops in the Applications folder. Through the real binary, with auto approval on:
# not a byte from outside the checkout may be read, committed, printed or recorded, nothing
# outside it may be written, and each app says what is wrong with it while the others proceed.
. "$(dirname "$0")/../lib/tap.sh"
. "$TP_ROOT/tests/lib/registry.sh"
. "$TP_ROOT/tests/lib/cluster.sh"

registry_start anon || { not_ok "registry starts"; finish; exit 1; }
B=amplication/bookstore-application
reg_push image $B v1.0.0 >/dev/null && reg_push image $B v1.0.1 >/dev/null &&
    reg_push image team/catalog 1.4.0 >/dev/null || not_ok "push images"
C=$TAP_TMP/cluster
APPROVAL=auto cluster_repo "$C" || not_ok "cluster repository"
CFG=$C/tagpilot.yaml

# What lives outside the repository: a kubeconfig with a token, a file a write must not reach,
# and an Application manifest that is not in the repository.
SECRET=SUPERSECRET-7c1d93aa
OUTSIDE=$TAP_TMP/outside
mkdir -p "$OUTSIDE/charts/stolen"
cat >"$OUTSIDE/kubeconfig" <<Y
apiVersion: v1
users:
- name: admin
  user:
    token: $SECRET
Y
printf 'untouched\n' >"$OUTSIDE/victim"
printf 'image:\n  tag: %s\n' "$SECRET" >"$OUTSIDE/charts/stolen/values.yaml"
cluster_app outsider "o=$REG_HOST/$B:~1.0" "" >"$OUTSIDE/outsider.yaml"

hostile() { # the attacker's commit
    mkdir -p charts/leak charts/wt charts/dots
    printf 'apiVersion: v2\nname: leak\nversion: 0.1.0\nappVersion: "v1.0.0"\n' >charts/leak/Chart.yaml
    ln -s "$OUTSIDE/kubeconfig" charts/leak/values.yaml
    cluster_app leak "leak=$REG_HOST/$B:~1.0" \
        "    argocd-image-updater.argoproj.io/write-back-target: helmvalues:values.yaml
    argocd-image-updater.argoproj.io/leak.helm.image-tag: users[0].user.token" >apps/leak.yaml
    # a write through a link: the .argocd-source file points at a file outside
    cp charts/bookstore/Chart.yaml charts/wt/Chart.yaml
    printf 'image:\n  tag: ""\n' >charts/wt/values.yaml
    ln -s "$OUTSIDE/victim" charts/wt/.argocd-source-wt.yaml
    cluster_app wt "wt=$REG_HOST/$B:~1.0" "" >apps/wt.yaml
    # a folder link as the source path, '..' in a path, an absolute target, a bad name
    ln -s "$OUTSIDE/charts/stolen" charts/dirlink
    cluster_app dirlink "d=$REG_HOST/$B:~1.0" "    argocd-image-updater.argoproj.io/write-back-target: helmvalues" |
        sed 's|path: charts/dirlink|path: charts/dirlink|' >apps/dirlink.yaml
    cluster_app dots "x=$REG_HOST/$B:~1.0" "" | sed "s|path: charts/dots|path: charts/../../outside/charts/stolen|" >apps/dots.yaml
    cluster_app target "t=$REG_HOST/$B:~1.0" \
        "    argocd-image-updater.argoproj.io/write-back-target: helmvalues:/../outside/charts/stolen/values.yaml" |
        sed 's|path: charts/target|path: charts/leak|' >apps/target.yaml
    cluster_app evil "e=$REG_HOST/$B:~1.0" "" | sed 's|name: evil|name: ../../evil|' >apps/evil.yaml
    # a namespace that is no Kubernetes name (it would name .argocd-source-<ns>_<app>.yaml), on
    # an app that could otherwise be written
    cp -r charts/bookstore charts/nsapp
    cluster_app nsapp "n=$REG_HOST/$B:~1.0" "" | sed 's|^  namespace: argocd|  namespace: team/sub|' >apps/nsapp.yaml
    # links in the Applications folder: two loops and a file outside
    ln -s . apps/loop1
    ln -s .. apps/loop2
    ln -s "$OUTSIDE/outsider.yaml" apps/outsider.yaml
}
cluster_commit "$C" "hostile" hostile || not_ok "the attacker's commit"
n0=$(cluster_git "$C" rev-list --count main)

# Bounded: the link loops must not make the walk run away (a timeout fails it).
timeout -k 5 120 "$TAGPILOT" run --once --format json --config "$CFG" >"$OUT" 2>"$ERR"
RC=$?
cp "$OUT" "$TAP_TMP/run1.json"
check "run --once ends (exit $RC, not a timeout)" [ "$RC" != 124 ]
expect_rc 1 "run --once exits 1: apps are in error"
field() { # APP FIELD
    /usr/bin/python3 -c "import json,sys; d=json.load(open('$TAP_TMP/run1.json')); i=[i for a in d['applications'] if a['name']==sys.argv[1] for i in a['images']]; print(i[0][sys.argv[2]] if i else 'absent')" "$1" "$2"
}
check "the honest app is still written by auto: bookstore $(field bookstore state)" \
    [ "$(field bookstore state)" = written ]
check "leak: the linked values.yaml is refused: $(field leak error)" \
    sh -c "printf '%s' \"\$1\" | grep -q 'charts/leak/values.yaml: a symbolic link'" - "$(field leak error)"
check "wt: the write through a link is refused: $(field wt error)" \
    sh -c "printf '%s' \"\$1\" | grep -q 'charts/wt/.argocd-source-wt.yaml: a symbolic link'" - "$(field wt error)"
check "dirlink: a linked source folder is refused: $(field dirlink error)" \
    sh -c "printf '%s' \"\$1\" | grep -q \"source path 'charts/dirlink' is a symbolic link\"" - "$(field dirlink error)"
check "dots: '..' in spec.source.path is refused: $(field dots error)" \
    sh -c "printf '%s' \"\$1\" | grep -q \"'..' would leave the repository\"" - "$(field dots error)"
check "target: '..' in a write-back target is refused: $(field target error)" \
    sh -c "printf '%s' \"\$1\" | grep -q \"write-back-target helmvalues .*'..' would leave the repository\"" - "$(field target error)"
check "a name that is no Kubernetes name is an error for its app" \
    grep -q "metadata.name '../../evil' is not a valid Kubernetes name" "$OUT"
check "a namespace that is no Kubernetes name is an error for its app" \
    grep -q "metadata.namespace 'team/sub' is not a valid Kubernetes name" "$OUT"
check "and that app is not written: $(field nsapp state)" [ "$(field nsapp state)" = error ]
check "nor is the Application outside the repository read" [ "$(field outsider state)" = absent ]
tp run --once --dry-run --config "$CFG"
check "links in the Applications folder are named, not followed" \
    grep -q "apps/loop1: a symbolic link, not followed" "$OUT"

# Not a byte of the secret anywhere: output, the repository's history, the state dir.
check "the token is in no output" sh -c "! grep -q '$SECRET' '$OUT' '$ERR' '$TAP_TMP/run1.json'"
check "the token is in no commit or file of the repository" \
    sh -c "! git --git-dir='$C/config.git' log -p --all | grep -q '$SECRET'"
check "the token is in nothing tagpilot saved" sh -c "! grep -rq '$SECRET' '$C/state'"
check "the file outside is unchanged" [ "$(cat "$OUTSIDE/victim")" = untouched ]
check "one commit: bookstore's ($(cluster_git "$C" rev-list --count main) after $n0)" \
    [ "$(cluster_git "$C" rev-list --count main)" = $((n0 + 1)) ]
check "the links are still links in the repository" \
    [ "$(cluster_git "$C" ls-tree main charts/wt/.argocd-source-wt.yaml | cut -c1-6)" = 120000 ]
check "no work tree is checked out in the state dir" \
    sh -c "! find '$C/state/git' -name values.yaml | grep -q ."

# A dir source is read the same way: links are not followed.
D=$TAP_TMP/dirsrc
mkdir -p "$D/apps"
cp "$OUTSIDE/outsider.yaml" "$D/apps/real.yaml"
sed -i 's/name: outsider/name: real/' "$D/apps/real.yaml"
ln -s "$OUTSIDE/outsider.yaml" "$D/apps/link.yaml"
ln -s "$OUTSIDE" "$D/apps/dirlink"
cat >"$D/tagpilot.yaml" <<Y
sources:
  - dir: ./apps
registries-conf: $C/registries.conf
state-dir: ./state
Y
tp run --once --dry-run --config "$D/tagpilot.yaml"
check "dir source: the real app is read" grep -q "^real " "$OUT"
check "dir source: the linked app is not" sh -c "! grep -q '^outsider ' '$OUT'"
check "dir source: the links are named" grep -q "error: link.yaml: a symbolic link, not followed" "$OUT"
check "dir source: the linked folder too" grep -q "error: dirlink: a symbolic link, not followed" "$OUT"
finish
