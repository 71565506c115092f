#!/bin/sh
# write-back-method argocd end to end: `tagpilot approve|pin|rollback` patch the Application in
# the stand-in API server (tests/lib/kubeapi.py) — Helm parameters (forceString, the other
# parameters kept), Kustomize images, the annotated source of a multi-source app (the other
# source kept) — and `tagpilot history` names each write. Another writer patching between plan
# and write (a genuine 409): both changes survive. A 403 on patch: the message says what the
# Role needs and nothing is written. Registry credentials from the cluster: pullsecret: and
# secret: against a registry with htpasswd auth.
. "$(dirname "$0")/../lib/tap.sh"
. "$TP_ROOT/tests/lib/registry.sh"
. "$TP_ROOT/tests/lib/kubeapi.sh"
. "$TP_ROOT/tests/lib/kubeapps.sh"

need python3 jq git
registry_start basic || { not_ok "docker-registry starts"; finish; exit 1; }
D=$TAP_TMP/k
kubeapps_start "$D" || { not_ok "the stand-in API server starts"; finish; exit 1; }
CFG=$TAP_TMP/tagpilot.yaml
kubeapps_config "$CFG"
APPS=/apis/argoproj.io/v1alpha1/namespaces/argocd/applications
# obj APP JQ-FILTER: a field of the Application as the stand-in holds it now
obj() { kubeapps_app "$1" | jq -c "$2"; }
param() { # APP NAME [SOURCE-PATH]: the Helm parameter NAME's entry
    obj "$1" "${3:-.spec.source}.helm.parameters[] | select(.name == \"$2\")"
}

# --- registry credentials from the cluster ---------------------------------------------------
reg_conf "$D/registries.conf" "insecure: yes" "credentials: pullsecret:argocd/regcred"
tp run --once --dry-run --format json --config "$CFG"
expect_rc 0 "pullsecret:argocd/regcred: a clean cycle against the htpasswd registry"
check "pullsecret: the registry's tags were read (a candidate)" \
    [ "$(jq -r '.applications[0].images[0].candidate' "$OUT")" = v1.0.1 ]
check "the Secret was read through the API" \
    grep -q '"path": *"/api/v1/namespaces/argocd/secrets/regcred".*"status": *200' "$KUBEAPI_LOG"
check "the password is in no output" sh -c "! grep -qF '$REG_PASS' '$OUT' '$ERR'"
reg_conf "$D/registries.conf" "insecure: yes" "credentials: secret:argocd/registry-token#creds"
tp run --once --dry-run --format json --config "$CFG"
expect_rc 0 "secret:argocd/registry-token#creds: a clean cycle"
reg_conf "$D/registries.conf" "insecure: yes" "credentials: pullsecret:argocd/nosuch"
tp run --once --dry-run --config "$CFG"
expect_rc 1 "a pull secret that does not exist: the images are in error"
check "its message names the Secret and that it is not there" \
    grep -q "pullsecret:argocd/nosuch.*not found" "$OUT" "$ERR"
reg_conf "$D/registries.conf" "insecure: yes" "credentials: pullsecret:argocd/regcred"
# A folder of Applications read before the cluster source: tag lists are asked ahead while the
# folder is read, but not from a registry whose credentials are a Secret — the cluster source
# that reads it is not open yet, and a failed read would stand for the whole cycle. (Enough
# files that the registry's 401 comes back while the folder is still being read.)
mkdir -p "$TAP_TMP/dirapps"
for n in $(seq -w 1 300); do
    cat >"$TAP_TMP/dirapps/web$n.yaml" <<EOF
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: dirweb$n
  namespace: argocd
  annotations:
    argocd-image-updater.argoproj.io/image-list: web=$REG_HOST/team/web:~2.0
    argocd-image-updater.argoproj.io/web.helm.image-name: web.image.repository
    argocd-image-updater.argoproj.io/web.helm.image-tag: web.image.tag
spec:
  source:
    repoURL: file://$D/config.git
    targetRevision: main
    path: charts/web
EOF
done
cat >"$TAP_TMP/dirfirst.yaml" <<EOF
sources:
  - dir: $TAP_TMP/dirapps
  - kubernetes:
      kubeconfig: $KUBEAPI_CONFIG
registries-conf: $D/registries.conf
state-dir: $TAP_TMP/dirfirst-state
EOF
tp run --once --dry-run --format json --config "$TAP_TMP/dirfirst.yaml"
expect_rc 0 "pullsecret: with a folder source read before the cluster, a clean cycle"
check "pullsecret: the folder's image has its candidate (its registry was asked after the sources)" \
    [ "$(jq -r '.applications[] | select(.name == "dirweb001") | .images[0].candidate' "$OUT")" = 2.0.3 ]

# --- a 403 on patch --------------------------------------------------------------------------
kubeapi_token reader-token reader
kubeapi_allow reader argocd applications get,list,watch
kubeapi_allow reader argocd secrets get
kubeapi_kubeconfig "$TAP_TMP/reader.kubeconfig" "token: reader-token"
sed "s|kubeconfig: .*|kubeconfig: $TAP_TMP/reader.kubeconfig|" "$CFG" >"$TAP_TMP/reader.yaml"
before=$(kubeapps_app catalog | jq -c .)
tp approve catalog --config "$TAP_TMP/reader.yaml"
expect_rc 1 "403 on patch: approve fails"
check "403: cannot patch applications in namespace argocd" \
    grep -q "cannot patch applications in namespace argocd: forbidden" "$ERR"
check "403: names context and user" grep -q "context standin, user u" "$ERR"
check "403: the Role needs patch" grep -q 'the Role needs "patch"' "$ERR"
check "403: the Application is unchanged" [ "$(kubeapps_app catalog | jq -c .)" = "$before" ]

# --- approve: Helm, Kustomize, multi-source --------------------------------------------------
# another writer's parameter beside the image's two
kubeapi_merge "$APPS/bookstore" "{\"spec\":{\"source\":{\"helm\":{\"parameters\":[
    {\"name\":\"image.repository\",\"value\":\"$REG_HOST/amplication/bookstore-application\",\"forceString\":true},
    {\"name\":\"image.tag\",\"value\":\"v1.0.0\",\"forceString\":true},
    {\"name\":\"replicaCount\",\"value\":\"2\"}]}}}}" >/dev/null
tp approve bookstore --config "$CFG"
expect_rc 0 "Helm: approve succeeds"
check "Helm: says the Application was patched" grep -q "v1.0.0 -> v1.0.1 written (Application patched" "$OUT"
check "Helm: image.tag is the new tag, forceString" \
    [ "$(param bookstore image.tag)" = '{"name":"image.tag","value":"v1.0.1","forceString":true}' ]
check "Helm: image.repository kept" \
    [ "$(param bookstore image.repository | jq -r .value)" = "$REG_HOST/amplication/bookstore-application" ]
check "Helm: another parameter kept" [ "$(param bookstore replicaCount | jq -r .value)" = 2 ]
check "Helm: the rest of the source kept" [ "$(obj bookstore .spec.source.path)" = '"charts/bookstore"' ]

tp approve catalog --config "$CFG"
expect_rc 0 "Kustomize: approve succeeds"
check "Kustomize: images holds the new tag" \
    [ "$(obj catalog .spec.source.kustomize.images)" = "[\"$REG_HOST/team/catalog:1.0.1\"]" ]
check "Kustomize: the rest of the source kept" [ "$(obj catalog .spec.source.path)" = '"kustomize/catalog"' ]

tp approve multi --config "$CFG"
expect_rc 0 "multi-source: approve succeeds"
check "multi-source: the Helm source's web.image.tag, forceString" \
    [ "$(param multi web.image.tag '.spec.sources[0]')" = '{"name":"web.image.tag","value":"2.0.3","forceString":true}' ]
check "multi-source: its valueFiles kept" \
    [ "$(obj multi '.spec.sources[0].helm.valueFiles')" = '["$values/envs/prod.yaml"]' ]
check "multi-source: the other source kept as it was" \
    [ "$(obj multi '.spec.sources[1]')" = "{\"repoURL\":\"file://$D/config.git\",\"targetRevision\":\"main\",\"ref\":\"values\"}" ]

tp run --once --dry-run --config "$CFG"
check "after the approvals the next scan finds nothing to do" \
    grep -q "cycle done: 3 images, 0 updates waiting, 0 errors" "$OUT"

# --- another writer between plan and write: a genuine 409 ------------------------------------
params=$(obj bookstore .spec.source.helm.parameters)
kubeapi_race "$APPS/bookstore" "{\"metadata\":{\"labels\":{\"raced\":\"yes\"}},\"spec\":{\"source\":{\"helm\":{\"parameters\":$(
    echo "$params" | jq -c '. + [{"name":"theirs","value":"kept"}]')}}}}" >/dev/null
: >"$KUBEAPI_LOG"
tp pin bookstore v1.0.0 --config "$CFG"
expect_rc 0 "pin through a race: succeeds"
check "the first PATCH met a 409" grep -q '"method": *"PATCH".*"status": *409' "$KUBEAPI_LOG"
check "the patch planned again went through" grep -q '"method": *"PATCH".*"status": *200' "$KUBEAPI_LOG"
check "race: their parameter is kept" [ "$(param bookstore theirs | jq -r .value)" = kept ]
check "race: their label is kept" [ "$(obj bookstore .metadata.labels.raced)" = '"yes"' ]
check "race: ours is there (the pinned tag)" [ "$(param bookstore image.tag | jq -r .value)" = v1.0.0 ]

tp rollback catalog --config "$CFG"
expect_rc 0 "rollback: succeeds"
check "rollback: the Kustomize image back at the tag before" \
    [ "$(obj catalog .spec.source.kustomize.images)" = "[\"$REG_HOST/team/catalog:1.0.0\"]" ]

# --- shared holds: annotations on the Application ---------------------------------------------
# ann APP KEY: the Application's annotation tagpilot.io/KEY, or null
ann() { obj "$1" ".metadata.annotations[\"tagpilot.io/$2\"]"; }
check "the pin went into the same patch as an annotation ($(ann bookstore bookstore.pin))" \
    [ "$(ann bookstore bookstore.pin)" = '"v1.0.0"' ]
check "the rollback pins catalog there too ($(ann catalog catalog.pin))" [ "$(ann catalog catalog.pin)" = '"1.0.0"' ]
# A second engine with its own state dir (another replica, another machine): v1.0.1 is newer,
# its policy auto, and the pin holds.
sed "s|^state-dir: .*|state-dir: $TAP_TMP/state-b|" "$CFG" >"$TAP_TMP/b.yaml"
tp run --once --approval auto --format json --config "$TAP_TMP/b.yaml"
expect_rc 0 "engine B runs"
state_of() { jq -r --arg a "$1" '.applications[] | select(.name == $a) | .images[0].state' "$OUT"; }
check "B sees bookstore pinned ($(state_of bookstore))" [ "$(state_of bookstore)" = pinned ]
check "B moved nothing" [ "$(param bookstore image.tag | jq -r .value)" = v1.0.0 ]
tp unpin bookstore --config "$TAP_TMP/b.yaml"
expect_rc 0 "B unpins bookstore"
check "the pin annotation is emptied, the holds still shared ($(ann bookstore bookstore.pin))" \
    [ "$(ann bookstore bookstore.pin)" = '""' ]
check "other annotations stay" [ "$(obj bookstore '.metadata.annotations | length')" -gt 1 ]
tp skip catalog 1.0.1 --config "$TAP_TMP/b.yaml"
expect_rc 0 "B skips catalog 1.0.1"
check "the skip is an annotation ($(ann catalog catalog.skip))" [ "$(ann catalog catalog.skip)" = '"1.0.1"' ]
tp run --once --dry-run --format json --config "$CFG"
check "A sees bookstore unpinned ($(state_of bookstore))" [ "$(state_of bookstore)" = update-available ]
check "A sees catalog pinned by its rollback ($(state_of catalog))" [ "$(state_of catalog)" = pinned ]
kubeapi_api "$APPS/bookstore" -X PATCH -H 'Content-Type: application/merge-patch+json' \
    -d '{"metadata":{"annotations":{"tagpilot.io/bookstore.pinn":"v1.0.0"}}}' >/dev/null
tp run --once --dry-run --format json --config "$CFG"
check "a misspelt tagpilot.io/ annotation stops the app's images ($(state_of bookstore))" [ "$(state_of bookstore)" = error ]
check "naming it" grep -q 'unknown annotation tagpilot.io/bookstore.pinn' "$OUT"
kubeapi_api "$APPS/bookstore" -X PATCH -H 'Content-Type: application/merge-patch+json' \
    -d '{"metadata":{"annotations":{"tagpilot.io/bookstore.pinn":null}}}' >/dev/null

# --- history ---------------------------------------------------------------------------------
tp history --format json --config "$CFG"
# rec ACTION APP: the outcome record of ACTION on APP, as "from to result"
rec() {
    jq -r --arg a "$1" --arg p "$2" \
        '[.[] | select(.action == $a and .app == $p and .result != "intent")][-1] |
         "\(.from) \(.to) \(.result)"' "$OUT"
}
check "history: the approve of bookstore ($(rec approve bookstore))" \
    [ "$(rec approve bookstore)" = "v1.0.0 v1.0.1 ok" ]
check "history: the pin of bookstore ($(rec pin bookstore))" [ "$(rec pin bookstore)" = "v1.0.1 v1.0.0 ok" ]
check "history: the rollback of catalog ($(rec rollback catalog))" \
    [ "$(rec rollback catalog)" = "1.0.1 1.0.0 ok" ]
check "history: the refused approve is recorded as an error" \
    [ "$(jq '[.[] | select(.app == "catalog" and .result == "error")] | length' "$OUT")" = 1 ]
check "history: where each write went (the cluster's context)" \
    [ "$(jq -r '[.[] | select(.action == "pin")][-1].repo' "$OUT")" = kubernetes:token ]
check "history: the multi-source intent says what it replaced ($(jq -c '[.[] | select(.app == "multi" and .result == "intent")][0].from' "$OUT"))" \
    [ "$(jq -r '[.[] | select(.app == "multi" and .result == "intent")][0].from' "$OUT")" = 2.0.0 ]
finish
