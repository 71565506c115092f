#!/bin/sh
# Applications from a git source, current tags, and git write-back against bare repositories over
# file://: argocd-image-updater's .argocd-source format, one-line helmvalues and kustomization
# edits, plain directories, trailers, git-branch base:target, no change → no commit, and a race
# (another commit lands between our fetch and our push: both survive). Drives tests/tools/gitwb.
. "$(dirname "$0")/../lib/tap.sh"
GITWB=${TP_TOOLS:-$TP_ROOT/build/asan/tools}/gitwb
export GIT_AUTHOR_NAME=ops GIT_AUTHOR_EMAIL=ops@example.com
export GIT_COMMITTER_NAME=ops GIT_COMMITTER_EMAIL=ops@example.com
export HOME=$TAP_TMP
D=$TAP_TMP/c
W=$D/work
mkdir -p "$W/apps" "$W/charts/bookstore" "$W/charts/catalog" "$W/kust" "$W/plain"
git init -q --bare -b main "$D/config.git"

cat >"$W/charts/bookstore/Chart.yaml" <<Y
apiVersion: v2
name: bookstore
version: 0.1.0
appVersion: "v1.0.0"
Y
cat >"$W/charts/bookstore/values.yaml" <<Y
replicaCount: 1
image:
  repository: 127.0.0.1:5000/amplication/bookstore-application
  tag: "v1.0.0"
Y
cat >"$W/charts/catalog/Chart.yaml" <<Y
apiVersion: v2
name: catalog
version: 0.1.0
appVersion: "1.0.0"
Y
cat >"$W/charts/catalog/values.yaml" <<Y
# Catalog service values; keep comments intact.
replicaCount: 2   # two replicas

image:
  repository: 127.0.0.1:5000/team/catalog   # where CI pushes
  # the tag below is managed by the image updater
  tag: 1.4.0
  pullPolicy: IfNotPresent

service: {type: ClusterIP, port: 80}
Y
cat >"$W/kust/kustomization.yaml" <<Y
resources:
  - deploy.yaml
images:
  - name: 127.0.0.1:5000/team/shop
    newTag: 0.9.0   # shop
Y
cat >"$W/kust/deploy.yaml" <<Y
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop}
spec:
  template:
    spec:
      containers:
        - name: shop
          image: 127.0.0.1:5000/team/shop
Y
cat >"$W/plain/deploy.yaml" <<Y
apiVersion: apps/v1
kind: Deployment
metadata:
  name: legacy
spec:
  template:
    spec:
      containers:
        - name: legacy
          image: 127.0.0.1:5000/team/legacy:2.0.0
Y
app() { # name path image-list [extra annotation lines]
    cat >"$W/apps/$1.yaml" <<Y
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: $1
  namespace: argocd
  annotations:
    argocd-image-updater.argoproj.io/image-list: $3
    argocd-image-updater.argoproj.io/write-back-method: git
${4:-}
spec:
  project: default
  source:
    repoURL: file://$D/config.git
    targetRevision: main
    path: $2
Y
}
app bookstore charts/bookstore "bookstore=127.0.0.1:5000/amplication/bookstore-application:~1.0"
app catalog charts/catalog "catalog=127.0.0.1:5000/team/catalog:^1.0" \
"    argocd-image-updater.argoproj.io/write-back-target: helmvalues:values.yaml
    argocd-image-updater.argoproj.io/catalog.helm.image-name: image.repository
    argocd-image-updater.argoproj.io/catalog.helm.image-tag: image.tag"
app shop kust "shop=127.0.0.1:5000/team/shop" \
"    argocd-image-updater.argoproj.io/write-back-target: kustomization"
app legacy plain "legacy=127.0.0.1:5000/team/legacy"
app branchy charts/bookstore "bookstore=127.0.0.1:5000/amplication/bookstore-application" \
"    argocd-image-updater.argoproj.io/git-branch: main:tagpilot/{{range .Images}}{{.Alias}}-{{.NewTag}}{{end}}"
app nokey charts/catalog "catalog=127.0.0.1:5000/team/catalog" \
"    argocd-image-updater.argoproj.io/write-back-target: helmvalues
    argocd-image-updater.argoproj.io/catalog.helm.image-tag: image.missing"
app tagged plain "legacy=127.0.0.1:5000/team/legacy"
sed -i 's/targetRevision: main/targetRevision: release-1/' "$W/apps/tagged.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n' >"$W/apps/zz-configmap.yaml"
(cd "$W" && git init -q -b main && git add -A && git commit -qm "cluster config" &&
    git tag release-1 && git push -q --tags "$D/config.git" main) || { not_ok "could not make the cluster repo"; finish; exit 1; }

cat >"$D/tagpilot.yaml" <<Y
sources:
  - git: file://$D/config.git
    branch: main
    path: apps
state-dir: $D/state
git:
  author: {name: tagpilot, email: tagpilot@example.com}
Y
count() { git --git-dir="$D/config.git" rev-list --count "${1:-main}"; }
run() { "$GITWB" "$@" >"$OUT" 2>"$ERR"; RC=$?; }

run apps "$D/tagpilot.yaml"
expect_rc 0 "apps from a git source"
check "seven Applications, the ConfigMap skipped" [ "$(grep -c "^git file://$D/config.git@main:apps" "$OUT")" = 7 ]
check "the app names its path" grep -q "	catalog	argocd	charts/catalog$" "$OUT"
check "cloned once into the state dir" [ -d "$D/state/git" ]

run current "$D/tagpilot.yaml"
expect_rc 0 "current tags"
check "bookstore from values.yaml" grep -q "^bookstore/bookstore	v1.0.0	helm-values	charts/bookstore/values.yaml:4$" "$OUT"
check "catalog from values.yaml" grep -q "^catalog/catalog	1.4.0	helm-values	charts/catalog/values.yaml:7$" "$OUT"
check "shop from kustomization" grep -q "^shop/shop	0.9.0	kustomization	kust/kustomization.yaml:5$" "$OUT"
check "a missing values key is an error for that image alone" grep -q "^nokey/catalog	error	charts/catalog/values.yaml: no key 'image.missing'" "$OUT"
check "legacy from a plain manifest" grep -q "^legacy/legacy	2.0.0	manifest	plain/deploy.yaml:10$" "$OUT"

before=$(count)
run plan "$D/tagpilot.yaml" catalog catalog=1.5.2
expect_rc 0 "plan catalog"
check "plan shows the one-line diff" grep -q "^+  tag: 1.5.2$" "$OUT"
check "plan shows no other change" [ "$(grep -c '^[-+][^-+]' "$OUT")" = 2 ]
check "plan commits nothing" [ "$(count)" = "$before" ]

run apply "$D/tagpilot.yaml" bookstore bookstore=v1.0.1 --trailer "Approved-by: alice@ops-host"
expect_rc 0 "apply bookstore (.argocd-source)"
check "one commit pushed" [ "$(count)" = $((before + 1)) ]
git --git-dir="$D/config.git" show main:charts/bookstore/.argocd-source-bookstore.yaml >"$TAP_TMP/src.yaml" 2>/dev/null
if /usr/bin/python3 - "$TAP_TMP/src.yaml" <<'PY'
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
ps = {p["name"]: p for p in d["helm"]["parameters"]}
assert ps["image.tag"]["value"] == "v1.0.1", ps
assert ps["image.name"]["value"] == "127.0.0.1:5000/amplication/bookstore-application", ps
assert all(p["forcestring"] is True for p in ps.values())
PY
then ok ".argocd-source-bookstore.yaml in argocd-image-updater's format"; else not_ok ".argocd-source format: $(cat "$TAP_TMP/src.yaml")"; fi
git --git-dir="$D/config.git" log -1 --format='%an <%ae>%n%B' main >"$TAP_TMP/msg"
check "author from the config" grep -q "^tagpilot <tagpilot@example.com>$" "$TAP_TMP/msg"
check "default message" grep -q "^build: automatic update of bookstore$" "$TAP_TMP/msg"
check "one line per image" grep -q "^updates image 127.0.0.1:5000/amplication/bookstore-application tag 'v1.0.0' to 'v1.0.1'$" "$TAP_TMP/msg"
check "trailer" grep -q "^Approved-by: alice@ops-host$" "$TAP_TMP/msg"

run apply "$D/tagpilot.yaml" catalog catalog=1.5.2
expect_rc 0 "apply catalog (helmvalues)"
git --git-dir="$D/config.git" diff main~1 main -- charts/catalog/values.yaml >"$TAP_TMP/d"
check "helmvalues diff is one line" [ "$(grep -c '^-[^-]' "$TAP_TMP/d")" = 1 ]
check "helmvalues diff is one line (also)" [ "$(grep -c '^+[^+]' "$TAP_TMP/d")" = 1 ]
check "helmvalues keeps the comment lines" grep -q "^+  tag: 1.5.2$" "$TAP_TMP/d"

n=$(count)
run apply "$D/tagpilot.yaml" catalog catalog=1.5.2
expect_rc 0 "apply the same tag again"
check "no change, no commit" [ "$(cat "$OUT")" = "no change" ]
check "no change, no commit (also)" [ "$(count)" = "$n" ]

run apply "$D/tagpilot.yaml" shop shop=1.0.0
expect_rc 0 "apply shop (kustomization)"
git --git-dir="$D/config.git" diff main~1 main >"$TAP_TMP/d"
check "kustomization edit keeps the comment" grep -q "^+    newTag: 1.0.0   # shop$" "$TAP_TMP/d"

run apply "$D/tagpilot.yaml" legacy legacy=2.1.0
expect_rc 0 "apply legacy (plain directory)"
check "plain manifest edited in place" sh -c "git --git-dir='$D/config.git' show main:plain/deploy.yaml | grep -q 'image: 127.0.0.1:5000/team/legacy:2.1.0$'"

run current "$D/tagpilot.yaml"
check "an app at a tag reads the tagged manifests" grep -q "^tagged/legacy	2.0.0	manifest	plain/deploy.yaml:10$" "$OUT"
check "the app at main reads the new tag" grep -q "^legacy/legacy	2.1.0	manifest	plain/deploy.yaml:10$" "$OUT"

n=$(count)
run apply "$D/tagpilot.yaml" branchy bookstore=v1.1.0
expect_rc 0 "apply with git-branch base:target"
check "target branch from the template" [ "$(count tagpilot/bookstore-v1.1.0)" = $((n + 1)) ]
check "base branch untouched" [ "$(count)" = "$n" ]

n=$(count)
run apply "$D/tagpilot.yaml" nokey catalog=9.9.9
expect_rc 1 "write-back to a missing key fails"
check "the error names the app, the repository, the file and the key" grep -q "app nokey: write-back to file://$D/config.git: charts/catalog/values.yaml: no key 'image.missing'" "$ERR"
check "no commit for a failed write-back" [ "$(count)" = "$n" ]

# The race: another commit lands on main after our commit and before our push.
git clone -q "$D/config.git" "$TAP_TMP/other"
n=$(count)
race="cd '$TAP_TMP/other' && git pull -q --ff-only && echo '# hotfix' >>charts/catalog/Chart.yaml && git commit -qam 'hotfix by a human' && git push -q origin main"
run apply "$D/tagpilot.yaml" catalog catalog=1.6.0 --race "$race"
expect_rc 0 "apply while another commit lands"
check "pushed on the second attempt" grep -q "attempts 2" "$OUT"
check "both commits survive" [ "$(count)" = $((n + 2)) ]
git --git-dir="$D/config.git" log --format=%s main -2 >"$TAP_TMP/log"
check "the human's commit is kept" grep -q "^hotfix by a human$" "$TAP_TMP/log"
check "ours is on top" [ "$(head -1 "$TAP_TMP/log")" = "build: automatic update of catalog" ]
check "the hotfix is still in the file" sh -c "git --git-dir='$D/config.git' show main:charts/catalog/Chart.yaml | grep -q '^# hotfix$'"
check "our tag is in the file" sh -c "git --git-dir='$D/config.git' show main:charts/catalog/values.yaml | grep -q '^  tag: 1.6.0$'"

# The branch keeps moving: bounded attempts, never forced.
n=$(count)
race="cd '$TAP_TMP/other' && git pull -q --ff-only && echo x >>README && git add README && git commit -qm more && git push -q origin main"
run apply "$D/tagpilot.yaml" catalog catalog=1.7.0 --race "$race" --attempts 1
expect_rc 1 "gives up when the branch moved and no attempts are left"
check "the error says why and names the repository" grep -q "gave up after 1 attempts.*file://$D/config.git" "$ERR"
check "nothing was forced" [ "$(count)" = $((n + 1)) ]

# Two processes on one state dir: the second waits for the first's clone instead of switching
# its work tree underneath it, then sees what the first pushed.
"$GITWB" apply "$D/tagpilot.yaml" legacy legacy=2.2.0 --race "sleep 2" >"$TAP_TMP/a.out" 2>"$TAP_TMP/a.err" &
first=$!
sleep 0.5
run current "$D/tagpilot.yaml"
wait $first
cat "$TAP_TMP/a.err" >&2
check "the first process pushed" grep -q "^commit " "$TAP_TMP/a.out"
expect_rc 0 "a second process on the same state dir waits"
check "and reads the first one's change" grep -q "^legacy/legacy	2.2.0	" "$OUT"

# A broken Application manifest is an error for it alone.
(cd "$TAP_TMP/other" && git pull -q --ff-only && printf 'kind: Application\napiVersion: argoproj.io/v1alpha1\nmetadata: [\n' >apps/broken.yaml &&
    git add -A && git commit -qm broken && git push -q origin main)
run apps "$D/tagpilot.yaml"
expect_rc 0 "a malformed manifest does not stop the source"
check "malformed file named with its line" grep -q "^error	apps/broken.yaml:4:" "$OUT"
check "the other apps are still read" [ "$(grep -c "^git " "$OUT")" = 7 ]

# A repository that does not exist: the error names it.
sed "s|config.git|missing.git|" "$D/tagpilot.yaml" >"$D/missing.yaml"
run apps "$D/missing.yaml"
expect_rc 1 "a missing repository fails"
check "the error names the repository" grep -q "file://$D/missing.git" "$ERR"
finish
