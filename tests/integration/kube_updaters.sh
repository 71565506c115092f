#!/bin/sh
# argocd-image-updater v1 ImageUpdater resources, read from the stand-in API server beside the
# Applications: the one in tests/fixtures/kube/imageupdater.yaml selects `book*` Applications and
# configures them (its images, strategy and Helm parameter names replace their annotations);
# approving then patches the parameters it names. An Application it does not select keeps its
# own annotations; a change to the ImageUpdater is seen on the next read.
. "$(dirname "$0")/../lib/tap.sh"
. "$TP_ROOT/tests/lib/registry.sh"
. "$TP_ROOT/tests/lib/kubeapi.sh"
need python3
registry_start anon || { not_ok "docker-registry starts"; finish; exit 1; }
R=$REG_HOST
B=amplication/bookstore-application
for t in v1.0.0 v1.0.1 v1.0.2 v2.0.0; do reg_push image $B $t >/dev/null || not_ok "push $t"; done
reg_push image team/catalog 1.0.0 >/dev/null && reg_push image team/catalog 1.2.0 >/dev/null ||
    not_ok "push catalog"
# bookworm: selected by name, no annotations of its own; catalog: not selected
cat >"$TAP_TMP/apps.yaml" <<Y
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: bookworm, namespace: argocd}
spec:
  source:
    repoURL: https://charts.example/helm
    chart: bookworm
    targetRevision: 1.0.0
    helm:
      parameters:
        - {name: image.repository, value: $R/$B, forceString: true}
        - {name: image.tag, value: v1.0.0, forceString: true}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: catalog
  namespace: argocd
  annotations:
    argocd-image-updater.argoproj.io/image-list: catalog=$R/team/catalog
    argocd-image-updater.argoproj.io/write-back-method: argocd
spec:
  source:
    repoURL: https://charts.example/helm
    chart: catalog
    targetRevision: 1.0.0
    kustomize: {images: ["$R/team/catalog:1.0.0"]}
Y
kubeapi_start "$TAP_TMP/kube" --seed "$TAP_TMP/apps.yaml" \
    --seed "$TP_ROOT/tests/fixtures/kube/imageupdater.yaml" --var "REGISTRY=$R" ||
    { not_ok "the stand-in API server starts"; finish; exit 1; }
printf 'registries:\n- name: t\n  api_url: http://%s\n  prefix: %s\n  insecure: yes\n' "$R" "$R" \
    >"$TAP_TMP/registries.conf"
printf 'sources:\n  - kubernetes: {kubeconfig: %s}\nregistries-conf: %s\nstate-dir: %s/state\n' \
    "$KUBEAPI_CONFIG" "$TAP_TMP/registries.conf" "$TAP_TMP" >"$TAP_TMP/tagpilot.yaml"
field() { # APP FIELD: from the last run's JSON
    python3 -c 'import json,sys
for a in json.load(open(sys.argv[1]))["applications"]:
    if a["name"] == sys.argv[2]:
        for i in a["images"]: print(i["alias"], i[sys.argv[3]])' "$OUT" "$@"
}
APP=/apis/argoproj.io/v1alpha1/namespaces/argocd/applications
param() { # APP NAME: a Helm parameter's value in the stand-in
    kubeapi_api "$APP/$1" | python3 -c 'import json,sys
for p in json.load(sys.stdin)["spec"]["source"]["helm"]["parameters"]:
    if p["name"] == sys.argv[1]: print(p["value"], p.get("forceString"))' "$2"
}

tp run --once --dry-run --format json --config "$TAP_TMP/tagpilot.yaml"
check "the ImageUpdater gives bookworm its image, under its alias" \
    [ "$(field bookworm current)" = "bookstore v1.0.0" ]
check "with its semver constraint ~1.0: v1.0.2, not v2.0.0" \
    [ "$(field bookworm candidate)" = "bookstore v1.0.2" ]
check "catalog, which no ImageUpdater selects, keeps its own annotations" \
    [ "$(field catalog candidate)" = "catalog 1.2.0" ]

tp approve bookworm/bookstore --config "$TAP_TMP/tagpilot.yaml"
expect_rc 0 "approve bookworm"
check "the patch sets the tag parameter the ImageUpdater names" \
    [ "$(param bookworm image.tag)" = "v1.0.2 True" ]
check "and the name parameter" [ "$(param bookworm image.repository)" = "$R/$B True" ]

# The ImageUpdater changes: no constraint now, so v2.0.0.
kubeapi_merge /apis/argocd-image-updater.argoproj.io/v1alpha1/namespaces/argocd/imageupdaters/books \
    "{\"spec\":{\"applicationRefs\":[{\"namePattern\":\"book*\",\"images\":[{\"alias\":\"bookstore\",\"imageName\":\"$R/$B\",\"manifestTargets\":{\"helm\":{\"name\":\"image.repository\",\"tag\":\"image.tag\"}}}]}]}}" \
    >/dev/null
tp run --once --dry-run --format json --config "$TAP_TMP/tagpilot.yaml"
check "a changed ImageUpdater is read again: v2.0.0 is the candidate" \
    [ "$(field bookworm candidate)" = "bookstore v2.0.0" ]
finish
