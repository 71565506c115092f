#!/bin/sh
# The stand-in Kubernetes API server (tests/lib/kubeapi.py) held to this machine's real kubectl:
# paginated lists, get, merge and JSON patches, a watch, Secrets, client-certificate, token and
# exec-plugin logins, and the 401, 403 and 409 answers as kubectl reads them. tagpilot's
# Kubernetes tests trust the stand-in only as far as this suite shows kubectl agrees with it.
# A few checks go below kubectl, with curl, for what kubectl never asks (410 on an expired
# continue token or watch, bookmarks).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/kubeapi.sh"
need kubectl jq curl base64 timeout
K=$TAP_TMP/kube
REG=127.0.0.1:5999
REPO=https://git.example.com/cluster.git
APPS=/apis/argoproj.io/v1alpha1
BOOKSTORE=$APPS/namespaces/argocd/applications/bookstore
if ! kubeapi_start "$K" --seed "$TP_ROOT/tests/fixtures/kube/apps.yaml" \
    --seed "$TP_ROOT/tests/fixtures/kube/secrets.yaml" \
    --seed "$TP_ROOT/tests/fixtures/kube/imageupdater.yaml" --var "REGISTRY=$REG" \
    --var "REPO=$REPO" --var REG_AUTH=dGFncGlsb3Q6czNjcmV0 --var GIT_PASSWORD=git-s3cret \
    --var REG_PASSWORD=s3cret --bookmark-seconds 1; then
    not_ok "the stand-in starts"
    finish
    exit 1
fi
ok "the stand-in starts"
export KUBECONFIG=$KUBEAPI_CONFIG
KOUT=$TAP_TMP/kout
KERR=$TAP_TMP/kerr

# kc ARGS...: kubectl with stdout in $KOUT, stderr in $KERR, exit code in $RC; never hangs
kc() {
    timeout 30 kubectl "$@" >"$KOUT" 2>"$KERR" </dev/null
    RC=$?
}
# requests Q: how many logged requests match the jq condition Q
requests() {
    jq -c "select($1)" "$KUBEAPI_LOG" | wc -l
}
field() { # PATH [jq options] FILTER: a field of the object at PATH, read as the control user
    p=$1
    shift
    kubeapi_api "$p" | jq -r "$@"
}

# --- list: pagination across several objects -----------------------------------------------------
: >"$KUBEAPI_LOG"
kc get applications -A -o json --chunk-size=1
check "kubectl get applications -A --chunk-size=1 exits 0" [ "$RC" = 0 ]
check "every Application, in namespace/name order, across pages: $(jq -r '[.items[].metadata.name] | join(" ")' "$KOUT")" \
    [ "$(jq -r '[.items[] | .metadata.namespace + "/" + .metadata.name] | join(" ")' "$KOUT")" = \
        "argocd/bookstore argocd/catalog argocd/multi team-a/payments" ]
check "kubectl asked for 4 pages of 1" [ "$(requests '.verb == "list" and .query.limit == "1"')" = 4 ]
check "and followed 3 continue tokens" [ "$(requests '.verb == "list" and .query.continue != null')" = 3 ]
check "the seed's \${REGISTRY} is replaced" \
    [ "$(jq -r '.items[0].metadata.annotations["argocd-image-updater.argoproj.io/image-list"]' "$KOUT")" = \
        "bookstore=$REG/amplication/bookstore-application:~1.0" ]

kc get applications -A -l 'team in (books,payments),team!=payments' -o name
check "a label selector with in and != (kubectl -l): $(tr '\n' ' ' <"$KOUT")" \
    [ "$(tr '\n' ' ' <"$KOUT")" = "application.argoproj.io/bookstore application.argoproj.io/catalog " ]
kc get applications -n argocd --field-selector metadata.name=multi -o name
check "a field selector on metadata.name" [ "$(cat "$KOUT")" = "application.argoproj.io/multi" ]
kc get namespaces -o name
check "namespaces: every namespace an object is in" \
    [ "$(tr '\n' ' ' <"$KOUT")" = "namespace/argocd namespace/team-a " ]
kc get imageupdaters -n argocd -o jsonpath='{.items[0].spec.applicationRefs[0].namePattern}'
check "ImageUpdaters of argocd-image-updater.argoproj.io" [ "$(cat "$KOUT")" = "book*" ]

# --- get one object, Secrets ---------------------------------------------------------------------
kc get application bookstore -n argocd -o json
check "kubectl get application bookstore -o json" [ "$(jq -r '.kind + " " + .metadata.name' "$KOUT")" = "Application bookstore" ]
check "it starts at generation 1" [ "$(jq -r .metadata.generation "$KOUT")" = 1 ]
RV0=$(jq -r .metadata.resourceVersion "$KOUT")
kc get application nope -n argocd
check "a missing Application: kubectl prints NotFound" \
    [ "$(cat "$KERR")" = 'Error from server (NotFound): applications.argoproj.io "nope" not found' ]
kc get secret -n argocd regcred -o 'jsonpath={.data.\.dockerconfigjson}'
check "a Secret's data, base64 (stringData folded in as the real server does)" \
    [ "$(base64 -d <"$KOUT")" = "{\"auths\":{\"$REG\":{\"auth\":\"dGFncGlsb3Q6czNjcmV0\"}}}" ]
kc get secrets -n argocd -l argocd.argoproj.io/secret-type=repository -o 'jsonpath={.items[*].metadata.name}'
check "Secrets by label" [ "$(cat "$KOUT")" = "config-repo" ]

# --- patch ---------------------------------------------------------------------------------------
kc patch application bookstore -n argocd --type merge \
    -p '{"spec":{"source":{"helm":{"parameters":[{"name":"image.tag","value":"v1.0.1","forceString":true}]}}}}'
check "kubectl patch --type merge: $(cat "$KOUT" "$KERR")" [ "$(cat "$KOUT")" = "application.argoproj.io/bookstore patched" ]
check "the merge patch replaced the list (RFC 7386)" \
    [ "$(field $BOOKSTORE -c .spec.source.helm.parameters)" = '[{"name":"image.tag","value":"v1.0.1","forceString":true}]' ]
check "a spec change bumps generation to 2" [ "$(field $BOOKSTORE .metadata.generation)" = 2 ]
RV1=$(field $BOOKSTORE .metadata.resourceVersion)
check "and resourceVersion ($RV0 -> $RV1)" [ "$RV1" -gt "$RV0" ]
check "the log saw a merge patch as user admin" \
    [ "$(requests '.method == "PATCH" and .verb == "patch" and .user == "admin" and .status == 200')" = 1 ]
kc patch application bookstore -n argocd --type merge -p '{"metadata":{"labels":{"tier":"web"}}}'
check "a metadata-only change keeps generation 2" [ "$(field $BOOKSTORE .metadata.generation)" = 2 ]
kc patch application bookstore -n argocd --type json \
    -p '[{"op":"test","path":"/spec/source/targetRevision","value":"main"},{"op":"add","path":"/spec/source/helm/parameters/-","value":{"name":"image.repository","value":"r"}},{"op":"replace","path":"/spec/source/targetRevision","value":"v2"},{"op":"remove","path":"/spec/syncPolicy"}]'
check "kubectl patch --type json: $(cat "$KOUT" "$KERR")" [ "$(cat "$KOUT")" = "application.argoproj.io/bookstore patched" ]
check "test, add to the list's end, replace and remove (RFC 6902)" \
    [ "$(field $BOOKSTORE -c '[.spec.source.targetRevision, .spec.source.helm.parameters[1].name, .spec.syncPolicy]')" = '["v2","image.repository",null]' ]
RV2=$(field $BOOKSTORE .metadata.resourceVersion)
kc patch application bookstore -n argocd --type json -p '[{"op":"test","path":"/spec/source/targetRevision","value":"main"},{"op":"replace","path":"/spec/project","value":"x"}]'
check "a failed JSON patch test: kubectl says the request is invalid" \
    [ "$(cat "$KERR")" = "The request is invalid: testing value /spec/source/targetRevision failed: test failed" ]
check "and nothing was written" [ "$(field $BOOKSTORE .metadata.resourceVersion)" = "$RV2" ]
kc patch application bookstore -n argocd --type merge -p '{"spec":{"source":{"targetRevision":"v2"}}}'
check "a patch that changes nothing: kubectl says (no change)" \
    [ "$(cat "$KOUT")" = "application.argoproj.io/bookstore patched (no change)" ]
check "and resourceVersion stays" [ "$(field $BOOKSTORE .metadata.resourceVersion)" = "$RV2" ]
kc patch application bookstore -n argocd -p '{"spec":{}}'
check "a strategic merge patch (kubectl's default) is refused as for any custom resource" \
    grep -q 'application/strategic-merge-patch+json is not supported' "$KERR"

# --- 409 on a stale resourceVersion --------------------------------------------------------------
kc patch application bookstore -n argocd --type merge \
    -p "{\"metadata\":{\"resourceVersion\":\"$RV0\"},\"spec\":{\"source\":{\"targetRevision\":\"stale\"}}}"
check "a patch carrying a stale resourceVersion: kubectl prints the Conflict" \
    [ "$(cat "$KERR")" = 'Error from server (Conflict): Operation cannot be fulfilled on applications.argoproj.io "bookstore": the object has been modified; please apply your changes to the latest version and try again' ]
check "and the object is not changed" [ "$(field $BOOKSTORE .spec.source.targetRevision)" = v2 ]
kc patch application bookstore -n argocd --type merge \
    -p "{\"metadata\":{\"resourceVersion\":\"$RV2\"},\"spec\":{\"source\":{\"targetRevision\":\"v3\"}}}"
check "the same patch with the current resourceVersion is written" \
    [ "$(field $BOOKSTORE .spec.source.targetRevision)" = v3 ]
kubeapi_api "$BOOKSTORE" -X PATCH -H 'Content-Type: application/merge-patch+json' \
    -d "{\"metadata\":{\"resourceVersion\":\"$RV0\"}}" >"$KOUT"
check "the 409 Status as the real server words it" \
    [ "$(jq -c '[.kind, .status, .reason, .code, .details]' "$KOUT")" = \
        '["Status","Failure","Conflict",409,{"name":"bookstore","group":"argoproj.io","kind":"applications"}]' ]

# --- watch ---------------------------------------------------------------------------------------
timeout 8 kubectl get applications -n argocd --watch -o json >"$TAP_TMP/watch.out" 2>"$TAP_TMP/watch.err" &
W=$!
i=0
while [ "$(requests '.verb == "watch" and .user == "admin"')" = 0 ] && [ $i -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
kubeapi_merge $APPS/namespaces/argocd/applications/catalog '{"spec":{"source":{"targetRevision":"watched"}}}' >/dev/null
# the edit must arrive while the watch is open: wait for it, then end kubectl
i=0
while ! grep -q '"watched"' "$TAP_TMP/watch.out" && [ $i -lt 60 ]; do
    sleep 0.1
    i=$((i + 1))
done
kill $W 2>/dev/null
wait $W 2>/dev/null
check "kubectl get --watch prints the three Applications, then the edit streamed to it" \
    [ "$(jq -r -s '[.[] | .metadata.name + "=" + (.spec.source.targetRevision // "-")] | join(" ")' "$TAP_TMP/watch.out")" = \
        "bookstore=v3 catalog=main multi=- catalog=watched" ]
check "kubectl watched from the list's resourceVersion" \
    [ "$(requests '.verb == "watch" and .user == "admin" and (.query.resourceVersion | tonumber) > 0')" = 1 ]
timeout 8 kubectl get applications -n argocd --watch-only --output-watch-events -o json \
    >"$TAP_TMP/watch2.out" 2>"$TAP_TMP/watch2.err" &
W=$!
i=0
while [ "$(requests '.verb == "watch" and .user == "admin"')" = 1 ] && [ $i -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
kubeapi_ctl delete "path=$APPS/namespaces/argocd/applications/multi" >/dev/null
i=0
while ! grep -q DELETED "$TAP_TMP/watch2.out" && [ $i -lt 60 ]; do
    sleep 0.1
    i=$((i + 1))
done
kill $W 2>/dev/null
wait $W 2>/dev/null
check "a deletion streams as DELETED" [ "$(jq -r -s -c '[.[] | [.type, .object.metadata.name]]' "$TAP_TMP/watch2.out")" = '[["DELETED","multi"]]' ]

RVNOW=$(kubeapi_api "$APPS/applications" | jq -r .metadata.resourceVersion)
kubeapi_api "$APPS/applications?watch=1&allowWatchBookmarks=true&timeoutSeconds=2&resourceVersion=$RVNOW" \
    --max-time 10 >"$KOUT"
check "allowWatchBookmarks: BOOKMARKs at the current resourceVersion, and timeoutSeconds ends the stream" \
    [ "$(jq -r -s '[.[] | .type + "@" + .object.metadata.resourceVersion] | unique | join(" ")' "$KOUT")" = "BOOKMARK@$RVNOW" ]
kubeapi_ctl compact >/dev/null
kubeapi_api "$APPS/applications?watch=1&timeoutSeconds=5&resourceVersion=$RV0" --max-time 10 >"$KOUT"
check "a watch from before the kept history: one ERROR event with a 410 Expired Status" \
    [ "$(jq -c '[.type, .object.code, .object.reason]' "$KOUT")" = '["ERROR",410,"Expired"]' ]

# --- continue tokens expire ----------------------------------------------------------------------
TOKEN=$(kubeapi_api "$APPS/applications?limit=1" | jq -r .metadata.continue)
kubeapi_api "$APPS/applications?limit=1&continue=$TOKEN" >"$KOUT"
check "a continue token gives the next page" [ "$(jq -r '.items[0].metadata.name' "$KOUT")" = catalog ]
# another writer, then a compaction past the list's resourceVersion (one at it would keep it)
kubeapi_merge $APPS/namespaces/argocd/applications/catalog '{"metadata":{"labels":{"paged":"yes"}}}' >/dev/null
kubeapi_ctl compact >/dev/null
kubeapi_api "$APPS/applications?limit=1&continue=$TOKEN" -w '%{http_code}' -o "$KOUT" >"$TAP_TMP/code"
check "after a compaction the token answers 410 Expired" \
    [ "$(cat "$TAP_TMP/code") $(jq -r .reason "$KOUT")" = "410 Expired" ]

# --- logins --------------------------------------------------------------------------------------
: >"$KUBEAPI_LOG"
kc --context cert get application bookstore -n argocd -o name
check "a client certificate logs in (kubectl --context cert)" [ "$(cat "$KOUT")" = "application.argoproj.io/bookstore" ]
check "as the certificate's CN" [ "$(requests '.user == "admin" and .verb == "get"')" = 1 ]
kc --context token get application bookstore -n argocd -o name
check "a bearer token logs in" [ "$(cat "$KOUT")" = "application.argoproj.io/bookstore" ]
kc --token wrong-token get applications -n argocd
check "a bad token: kubectl says it must log in (401)" \
    [ "$(cat "$KERR")" = "error: You must be logged in to the server (Unauthorized)" ]
curl -s --cacert "$KUBEAPI_CA" -o "$KOUT" "$KUBEAPI_URL$BOOKSTORE"
check "no credentials at all: a 401 Status" [ "$(jq -c '[.code, .reason]' "$KOUT")" = '[401,"Unauthorized"]' ]

# an exec credential plugin, as EKS/GKE/AKS kubeconfigs have: it issues a token valid 3 s
cat >"$TAP_TMP/plugin.sh" <<P
#!/bin/sh
tok=exec-\$(od -An -N8 -tx1 /dev/urandom | tr -d ' \\n')
exp=\$((\$(date +%s) + 3))
echo "\$tok execuser \$exp" >>"$KUBEAPI_DIR/tokens"
echo "\$tok" >>"$TAP_TMP/plugin.tokens"
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}\n' \
    "\$tok" "\$(date -u -d @\$exp +%Y-%m-%dT%H:%M:%SZ)"
P
chmod +x "$TAP_TMP/plugin.sh"
kubeapi_allow execuser argocd applications get,list
kubeapi_kubeconfig "$TAP_TMP/exec.kubeconfig" "exec:
  apiVersion: client.authentication.k8s.io/v1
  command: $TAP_TMP/plugin.sh
  interactiveMode: Never"
kc --kubeconfig "$TAP_TMP/exec.kubeconfig" get applications -n argocd -o name
check "an exec-plugin kubeconfig: kubectl runs the plugin and its token logs in" \
    [ "$(tr '\n' ' ' <"$KOUT")" = "application.argoproj.io/bookstore application.argoproj.io/catalog " ]
check "as the plugin's user" [ "$(requests '.user == "execuser" and .status == 200')" -ge 1 ]
EXEC_TOKEN=$(tail -1 "$TAP_TMP/plugin.tokens")
sleep 3.2
curl -s --cacert "$KUBEAPI_CA" -H "Authorization: Bearer $EXEC_TOKEN" -o "$KOUT" "$KUBEAPI_URL$BOOKSTORE"
check "the plugin's token after its expiry: 401" [ "$(jq -r .code "$KOUT")" = 401 ]

# --- 403 per verb --------------------------------------------------------------------------------
kubeapi_token tok-viewer viewer
kubeapi_allow viewer argocd applications get,list,watch
kc --token tok-viewer get application bookstore -n argocd -o name
check "a user the rules allow get" [ "$(cat "$KOUT")" = "application.argoproj.io/bookstore" ]
kc --token tok-viewer patch application bookstore -n argocd --type merge -p '{"spec":{"project":"x"}}'
check "a verb the rules deny: kubectl prints the Forbidden message" \
    [ "$(cat "$KERR")" = 'Error from server (Forbidden): applications.argoproj.io "bookstore" is forbidden: User "viewer" cannot patch resource "applications" in API group "argoproj.io" in the namespace "argocd"' ]
kc --token tok-viewer get applications -A
check "across all namespaces it needs a rule for *: forbidden at the cluster scope" \
    [ "$(cat "$KERR")" = 'Error from server (Forbidden): applications.argoproj.io is forbidden: User "viewer" cannot list resource "applications" in API group "argoproj.io" at the cluster scope' ]
kc --token tok-viewer get secret regcred -n argocd
check "Secrets are another resource: forbidden" \
    [ "$(cat "$KERR")" = 'Error from server (Forbidden): secrets "regcred" is forbidden: User "viewer" cannot get resource "secrets" in API group "" in the namespace "argocd"' ]
curl -s --cacert "$KUBEAPI_CA" -H "Authorization: Bearer tok-viewer" -X PATCH \
    -H 'Content-Type: application/merge-patch+json' -d '{}' -o "$KOUT" "$KUBEAPI_URL$BOOKSTORE"
check "the 403 Status has the real server's fields" \
    [ "$(jq -c '[.kind, .apiVersion, .status, .reason, .code, .details]' "$KOUT")" = \
        '["Status","v1","Failure","Forbidden",403,{"name":"bookstore","group":"argoproj.io","kind":"applications"}]' ]

# --- stalls and failures on demand -----------------------------------------------------------------
kubeapi_ctl stall >/dev/null
kc --request-timeout=1s get application bookstore -n argocd -o name
check "a stalled stand-in: kubectl times out" [ "$RC" != 0 ]
kubeapi_ctl resume >/dev/null
kc get application bookstore -n argocd -o name
check "resumed: kubectl gets its answer" [ "$(cat "$KOUT")" = "application.argoproj.io/bookstore" ]
kubeapi_ctl fail code=503 >/dev/null
kubeapi_api "$BOOKSTORE" -o /dev/null -w '%{http_code} ' >"$TAP_TMP/code"
kubeapi_api "$BOOKSTORE" -o /dev/null -w '%{http_code}' >>"$TAP_TMP/code"
check "fail?code=503 answers the next request 503, then it recovers" [ "$(cat "$TAP_TMP/code")" = "503 200" ]

# --- leases (coordination.k8s.io/v1): what leader election reads and writes ---------------------
cat >"$TAP_TMP/lease.yaml" <<'Y'
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: tagpilot, namespace: argocd}
spec: {holderIdentity: pod-a_1, leaseDurationSeconds: 15, renewTime: "2025-01-01T00:00:00.000000Z"}
Y
kc create --validate=false -f "$TAP_TMP/lease.yaml"
check "kubectl create a Lease: $(cat "$KOUT" "$KERR")" [ "$(cat "$KOUT")" = "lease.coordination.k8s.io/tagpilot created" ]
kc get lease -n argocd tagpilot -o json
check "kubectl get lease -n argocd tagpilot -o json: its holder" \
    [ "$(jq -r '.kind + " " + .spec.holderIdentity' "$KOUT")" = "Lease pod-a_1" ]
LRV=$(jq -r .metadata.resourceVersion "$KOUT")
cp "$KOUT" "$TAP_TMP/lease.json"
jq '.spec.holderIdentity = "pod-b_2" | .metadata.resourceVersion = "1"' "$TAP_TMP/lease.json" >"$TAP_TMP/stale.json"
kc replace --validate=false -f "$TAP_TMP/stale.json"
check "kubectl replace with a stale resourceVersion: the Conflict" \
    grep -q 'Operation cannot be fulfilled on leases.coordination.k8s.io "tagpilot"' "$KERR"
jq '.spec.holderIdentity = "pod-b_2"' "$TAP_TMP/lease.json" >"$TAP_TMP/fresh.json"
kc replace --validate=false -f "$TAP_TMP/fresh.json"
check "with the current one ($LRV) it is replaced" \
    [ "$(field /apis/coordination.k8s.io/v1/namespaces/argocd/leases/tagpilot .spec.holderIdentity)" = pod-b_2 ]

# --- stop and start ------------------------------------------------------------------------------
RV3=$(field $BOOKSTORE .metadata.resourceVersion)
kubeapi_stop
kc get application bookstore -n argocd -o name
check "stopped: kubectl cannot connect" grep -q "The connection to the server 127.0.0.1:$KUBEAPI_PORT was refused" "$KERR"
kubeapi_restart
check "started again on the same port" [ "$(curl -s --cacert "$KUBEAPI_CA" "$KUBEAPI_URL/readyz")" = ok ]
kc get application bookstore -n argocd -o jsonpath='{.spec.source.targetRevision} {.metadata.resourceVersion}'
check "the state survived the restart" [ "$(cat "$KOUT")" = "v3 $RV3" ]
kc patch application bookstore -n argocd --type merge -p '{"spec":{"source":{"targetRevision":"v4"}}}'
check "the resourceVersion counter goes on from where it was" \
    [ "$(field $BOOKSTORE .metadata.resourceVersion)" -gt "$RV3" ]
kubeapi_api "$APPS/applications?watch=1&timeoutSeconds=5&resourceVersion=$RV0" --max-time 10 >"$KOUT"
check "a watch from before the restart: 410 (the history is gone, as after a real restart)" \
    [ "$(jq -c '[.type, .object.code]' "$KOUT")" = '["ERROR",410]' ]
finish
