#!/bin/sh
# The engine (`tagpilot run --once`) against hostile registries, beside a good one (Debian's
# docker-registry): a registry that never answers holds only its own images, and only until the
# cycle deadline; tags outside the grammar are never candidates; allow-tags and ignore-tags hold
# the engine's pick, also for images sharing a repository's tag list; the digest the digest
# strategy offers is verified, and costs a GET only when it changed. Applications come from a folder
# (source `dir`), their current tags from plain manifests in a git repository.
. "$(dirname "$0")/../lib/tap.sh"
. "$TP_ROOT/tests/lib/registry.sh"

REG_ACCESS_LOG_OFF=false registry_start anon || { not_ok "docker-registry starts"; finish; exit 1; }
R=$REG_HOST
GIT_ID="-c user.name=ops -c user.email=ops@example.com"
fault_start --log "$TAP_TMP/fault.log" || { not_ok "fault server starts"; finish; exit 1; }
F=$FAULT_HOST
reg_push image team/good v1.0.0 >/dev/null && reg_push image team/good v1.1.0 >/dev/null &&
    d_digest=$(reg_push image team/pinned main --created 2024-02-01T00:00:00Z) ||
    not_ok "push images"
# what docker-registry logged so far: manifest GETs and HEADs
manifests() { # METHOD REPOSITORY: how many, once the log has stopped growing
    a=-1
    b=$(wc -c <"$REG_DIR/registry.log")
    while [ "$a" != "$b" ]; do sleep 0.3; a=$b; b=$(wc -c <"$REG_DIR/registry.log"); done
    grep -cE "\"$1 /v2/$2/manifests/" "$REG_DIR/registry.log"
}

D=$TAP_TMP/cluster
mkdir -p "$D/seed" "$D/apps"
git init -q --bare -b main "$D/config.git"
# app NAME IMAGE-LIST CURRENT-IMAGE [STRATEGY [ANNOTATION-LINES]]: an Application in $D/apps
# whose plain manifest (in the git repository) runs CURRENT-IMAGE
app() {
    mkdir -p "$D/seed/plain-$1"
    printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: %s\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: %s\n' \
        "$1" "$3" >"$D/seed/plain-$1/deployment.yaml"
    cat >"$D/apps/$1.yaml" <<Y
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: $1
  namespace: argocd
  annotations:
    argocd-image-updater.argoproj.io/image-list: $2
    argocd-image-updater.argoproj.io/write-back-method: git
    argocd-image-updater.argoproj.io/app.update-strategy: ${4:-semver}
${5:-}
spec:
  source:
    repoURL: file://$D/config.git
    targetRevision: main
    path: plain-$1
Y
}
zero=sha256:$(printf '0%.0s' $(seq 64))
app good "app=$R/team/good" "$R/team/good:v1.0.0"
# The same repository under filters: one tag list, three selections.
app allowing "app=$R/team/good" "$R/team/good:v1.0.0" semver \
    "    argocd-image-updater.argoproj.io/app.allow-tags: regexp:^v1\\.0\\."
app ignoring "app=$R/team/good" "$R/team/good:v1.0.0" semver \
    "    argocd-image-updater.argoproj.io/app.ignore-tags: v1.1.*"
app stalled "app=$F/fault/stall" "$F/fault/stall:v1.0.0"
app badsemver "app=$F/fault/badtags" "$F/fault/badtags:v1.0.0"
app badalpha "app=$F/fault/badtags" "$F/fault/badtags:v1.0.0" alphabetical
app badnewest "app=$F/fault/badtags" "$F/fault/badtags:v1.0.0" newest-build
app lie "app=$F/fault/headlie:v1" "$F/fault/headlie:v1@$zero" digest
app pinned "app=$R/team/pinned:main" "$R/team/pinned:main@$zero" digest
app paged "app=$F/fault/paged" "$F/fault/paged:t0000" alphabetical
# ignore-tags "*": nothing of it is asked (a repository the registry does not have)
app off "app=$R/team/off" "$R/team/off:v1.0.0" semver \
    "    argocd-image-updater.argoproj.io/app.ignore-tags: '*'"
(cd "$D/seed" && git init -q -b main && git add -A && git $GIT_ID commit -qm apps &&
    git push -q "$D/config.git" main) || not_ok "app repository"
cat >"$D/registries.conf" <<EOF
registries:
- name: good
  prefix: $R
  api_url: http://$R
- name: faults
  prefix: $F
  api_url: http://$F
EOF
cat >"$D/tagpilot.yaml" <<EOF
sources:
  - dir: ./apps
registries-conf: ./registries.conf
state-dir: ./state
approval: manual
EOF
field() { # APP FIELD: from the last plan ($OUT)
    jq -r --arg a "$1" --arg f "$2" '.applications[] | select(.name == $a) | .images[0][$f]' "$OUT"
}

# tag lists docker-registry was asked for, of REPOSITORY (or of any), once the log is still
lists() {
    manifests GET >/dev/null # waits for the log
    grep -cE "\"GET /v2/${1:-[^ ]*}/tags/list" "$REG_DIR/registry.log"
}

# One cycle with a 2 s deadline: the stalled registry is cut there, the rest is decided.
l0=$(lists team/good)
TAGPILOT_REGISTRY_DEADLINE_MS=2000 tp run --once --dry-run --format json --config "$D/tagpilot.yaml"
expect_rc 1 "the run ends, exit 1 for the image in error"
# Tag lists are asked while the Applications are read (engine_ask_ahead): still once each.
check "team/good, tracked by three Applications, is listed once (listed $(($(lists team/good) - l0)))" \
    [ $(($(lists team/good) - l0)) = 1 ]
check "an image ignoring every tag is not asked about" [ "$(lists team/off)" = 0 ]
check "… and is no error (got $(field off state))" [ "$(field off state)" != error ]
check "the stalled image is in error" [ "$(field stalled state)" = error ]
check "naming its registry and the deadline (got: $(field stalled error))" \
    [ "$(field stalled error)" = "registry $F: no answer within 2 s this cycle" ]
check "the good registry's image gets its candidate" [ "$(field good candidate)" = v1.1.0 ]
check "… and waits for approval" [ "$(field good state)" = update-available ]
check "the same fault server's other repositories answered in time" [ "$(field lie state)" = update-available ]
check "allow-tags holds the pick: allowing keeps v1.0.0 (got $(field allowing candidate))" \
    [ "$(field allowing candidate)" = v1.0.0 ]
check "… up to date" [ "$(field allowing state)" = up-to-date ]
check "ignore-tags too: ignoring keeps v1.0.0 (got $(field ignoring candidate))" \
    [ "$(field ignoring candidate)" = v1.0.0 ]

# Pagination through the engine: 1,200 tags in pages of at most 500 (the server caps n=1000);
# the last tag is on the third page.
check "paged: every page is read, the candidate is t1199 (got $(field paged candidate))" \
    [ "$(field paged candidate)" = t1199 ]
check "paged: in 3 pages" [ "$(jq -r 'select(.path | test("fault/paged/tags/list")) | .path' "$TAP_TMP/fault.log" | wc -l)" = 3 ]

# Tags outside the grammar never become candidates, whatever the strategy.
for a in badsemver badalpha badnewest; do
    check "$a: the candidate is v1.1.0 (got $(field $a candidate | head -c 40))" [ "$(field $a candidate)" = v1.1.0 ]
done
check "no request named an invalid tag" sh -c "! jq -r .path '$TAP_TMP/fault.log' | grep -E 'badtags/manifests/' | grep -vqE 'manifests/(v1\\.[01]\\.0|sha256:[0-9a-f]{64})\$'"

# The digest strategy offers (and would write) the verified digest, not the HEAD's claim.
good=sha256:$(curl -s "http://$F/v2/fault/ok/manifests/v1" | sha256sum | cut -d' ' -f1)
check "lie: the candidate digest is the manifest's SHA-256 (got $(field lie digest))" \
    [ "$(field lie digest)" = "$good" ]
check "pinned: the candidate digest is the pushed one" [ "$(field pinned digest)" = "$d_digest" ]

# An action scans its Application alone: only its registry is asked, ahead or not.
l0=$(lists)
tp unpin good --config "$D/tagpilot.yaml"
check "unpin good: one tag list, team/good's (listed $(($(lists) - l0)))" [ $(($(lists) - l0)) = 1 ]

# A steady digest-strategy image costs a HEAD per cycle; the GET only when the digest changed.
rm "$D/apps/stalled.yaml" # its 2-minute default deadline is not what this part is about
tp run --once --config "$D/tagpilot.yaml"
expect_rc 0 "a first recorded run succeeds"
g0=$(manifests GET team/pinned)
h0=$(manifests HEAD team/pinned)
tp run --once --config "$D/tagpilot.yaml"
expect_rc 0 "a second run succeeds"
g1=$(manifests GET team/pinned)
h1=$(manifests HEAD team/pinned)
check "the second run sends one HEAD for the followed tag (sent $((h1 - h0)))" [ $((h1 - h0)) = 1 ]
check "and no GET: the digest did not change (sent $((g1 - g0)))" [ $((g1 - g0)) = 0 ]
d_moved=$(reg_push image team/pinned main --created 2024-03-01T00:00:00Z)
tp run --once --dry-run --format json --config "$D/tagpilot.yaml"
g2=$(manifests GET team/pinned)
check "the tag moved: one GET verifies the new digest (sent $((g2 - g1)))" [ $((g2 - g1)) = 1 ]
check "… which the plan offers" [ "$(field pinned digest)" = "$d_moved" ]
finish
