#!/bin/sh
# The Kubernetes client (engine/kube) against the stand-in API server (tests/lib/kubeapi.py,
# which tests/integration/kube_standin.sh holds to the real kubectl), through the small driver
# tests/tools/kubeprobe.c: token, client-certificate and exec-plugin credentials (an expiring
# token: a proactive run at its expiry, a run on 401), CA verification, a list over several
# pages, watches (an out-of-band edit, a BOOKMARK, 410, a stop), merge patches with
# resourceVersion and the 409, the 403 message, a Secret, replies too large, a stalled server
# and the server stopping mid-run.
. "$(dirname "$0")/../lib/tap.sh"
. "$TP_ROOT/tests/lib/kubeapi.sh"

need python3 openssl curl
KP=$TP_TOOLS/kubeprobe
APPS="argoproj.io v1alpha1 applications"
K=$TAP_TMP/kube
POUT=$TAP_TMP/probe.out
PERR=$TAP_TMP/probe.err
PRC=0

# probe ARGS...: run kubeprobe; stdout in $POUT, stderr in $PERR, exit code in $PRC
probe() {
    "$KP" "$@" >"$POUT" 2>"$PERR" </dev/null
    PRC=$?
    if [ $PRC = 86 ] || [ $PRC = 87 ] || grep -q 'Sanitizer' "$PERR"; then
        not_ok "sanitizer report running: kubeprobe $*"
        cat "$PERR"
    fi
    return 0
}
prc_is() { [ "$PRC" = "$1" ] || { echo "# exit $PRC, want $1: $(head -c 400 "$PERR")"; false; }; }
out_has() { grep -qF -- "$1" "$POUT" || { echo "# stdout: $(head -c 400 "$POUT")"; false; }; }
err_has() { grep -qF -- "$1" "$PERR" || { echo "# stderr: $(head -c 400 "$PERR")"; false; }; }
now_ms() { date +%s%3N; }

# 1,201 Applications: three pages of 500.
/usr/bin/python3 - "$TAP_TMP/apps.json" <<'PY'
import json, sys
items = [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
          "metadata": {"name": "app-%04d" % i, "namespace": "argocd" if i % 2 else "team",
                       "labels": {"team": "payments" if i % 3 == 0 else "other"}},
          "spec": {"source": {"repoURL": "https://git.example/r.git", "path": "a%d" % i}}}
         for i in range(1201)]
items.append({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
              "metadata": {"name": "repo", "namespace": "argocd"},
              "stringData": {"username": "git", "password": "pa ss:word"}})
json.dump({"apiVersion": "v1", "kind": "List", "items": items}, open(sys.argv[1], "w"))
PY
kubeapi_start "$K" --seed "$TAP_TMP/apps.json" --bookmark-seconds 1 ||
    { not_ok "the stand-in API server starts"; finish; exit 1; }
C=$KUBEAPI_CONFIG

# --- credentials -----------------------------------------------------------------------------
probe --kubeconfig "$C" info
check "info: the current context and its user" out_has "context token"
check "info: the user entry's name" out_has "user admin-token"
check "info: no namespace in the context is default" out_has "namespace default"

probe --kubeconfig "$C" list $APPS argocd
check "token: a list of one namespace succeeds" prc_is 0
check "token: 600 of the 1,201 Applications are in argocd" out_has '"count":600'
# pagination: pages of 500, each after the first with the continue token of the one before
lists=$(grep -c '"path": *"/apis/argoproj.io/v1alpha1/namespaces/argocd/applications"' "$KUBEAPI_LOG")
check "a list of 600 takes two pages of limit=500 (saw $lists requests)" [ "$lists" = 2 ]
: >"$KUBEAPI_LOG"
probe --kubeconfig "$C" list $APPS '*'
check "every namespace: all 1,201 across three pages" out_has '"count":1201'
check "every namespace: the last item of the last page is there" out_has '"team/app-1200"'
conts=$(grep -c '"continue"' "$KUBEAPI_LOG")
check "pages 2 and 3 carry a continue token (saw $conts)" [ "$conts" = 2 ]
limits=$(grep -c '"limit": *"500"' "$KUBEAPI_LOG")
check "every page asks limit=500 (saw $limits)" [ "$limits" = 3 ]
probe --kubeconfig "$C" list $APPS argocd team=payments
check "a label selector narrows the list" out_has '"count":200'

probe --kubeconfig "$C" --context cert list $APPS argocd
check "client certificate: a list succeeds" prc_is 0
check "client certificate: the server saw user admin" \
    grep -q '"user": *"admin".*"status": *200' "$KUBEAPI_LOG"

kubeapi_kubeconfig "$TAP_TMP/bad-token" "token: not-a-token"
probe --kubeconfig "$TAP_TMP/bad-token" list $APPS argocd
check "a refused token: denied (exit 5)" prc_is 5
check "the 401 message names verb, resource, context and user" \
    err_has "cannot list applications in namespace argocd: unauthorized (context standin, user u)"
check "the token is not in the message" sh -c "! grep -q not-a-token '$PERR'"

# --- TLS -------------------------------------------------------------------------------------
mkdir -p "$TAP_TMP/other"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$TAP_TMP/other/ca.key" -out "$TAP_TMP/other/ca.crt" -days 1 -subj /CN=other \
    2>/dev/null
sed "s|certificate-authority: .*|certificate-authority: $TAP_TMP/other/ca.crt|" "$C" >"$TAP_TMP/wrong-ca"
probe --kubeconfig "$TAP_TMP/wrong-ca" list $APPS argocd
check "a CA that did not sign the server: error (exit 1)" prc_is 1
check "the error says the certificate is not trusted and what to set" \
    err_has "TLS: certificate not trusted — set certificate-authority(-data) or insecure-skip-tls-verify"
sed "s|certificate-authority: .*|insecure-skip-tls-verify: true|" "$C" >"$TAP_TMP/insecure"
probe --kubeconfig "$TAP_TMP/insecure" list $APPS argocd
check "insecure-skip-tls-verify: the list succeeds" prc_is 0
ca_data=$(base64 -w0 "$KUBEAPI_CA")
sed "s|certificate-authority: .*|certificate-authority-data: $ca_data|" "$C" >"$TAP_TMP/ca-data"
probe --kubeconfig "$TAP_TMP/ca-data" --context cert list $APPS argocd
check "certificate-authority-data with a client certificate: succeeds" prc_is 0

# --- exec plugins ----------------------------------------------------------------------------
# The plugin registers a fresh token valid for 2 s with the stand-in and counts its runs.
# PLUGIN_EXPIRY=yes: it says when the token expires (the client runs it again before using an
# expired one); no: it does not (the client learns from the 401).
cat >"$TAP_TMP/plugin" <<EOF
#!/bin/sh
echo run >>"\$PLUGIN_RUNS"
case "\$KUBERNETES_EXEC_INFO" in *'"interactive":false'*) ;; *) echo "no exec info" >&2; exit 2 ;; esac
tok=exec-\$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
exp=\$((\$(date +%s) + 2))
echo "\$tok admin \$exp" >>"$K/tokens"
if [ "\$PLUGIN_EXPIRY" = yes ]; then
    stamp=",\"expirationTimestamp\":\"\$(date -u -d @\$exp +%Y-%m-%dT%H:%M:%SZ)\""
fi
printf '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"%s"%s}}\n' "\$tok" "\$stamp"
EOF
chmod +x "$TAP_TMP/plugin"
exec_config() { # FILE EXPIRY
    kubeapi_kubeconfig "$1" "exec:
  apiVersion: client.authentication.k8s.io/v1
  command: $TAP_TMP/plugin
  interactiveMode: Never
  env:
  - {name: PLUGIN_RUNS, value: $TAP_TMP/runs-$2}
  - {name: PLUGIN_EXPIRY, value: $2}"
}
exec_config "$TAP_TMP/exec-no" no
: >"$KUBEAPI_LOG"
probe --kubeconfig "$TAP_TMP/exec-no" --repeat 2 --sleep-ms 3200 list $APPS argocd
check "exec plugin, no expiry given: both lists succeed" prc_is 0
check "the token expired on the server: the client got a 401" \
    grep -q '"status": *401' "$KUBEAPI_LOG"
runs=$(wc -l <"$TAP_TMP/runs-no")
check "the 401 made the client run the plugin again (ran $runs times)" [ "$runs" = 2 ]
exec_config "$TAP_TMP/exec-yes" yes
: >"$KUBEAPI_LOG"
probe --kubeconfig "$TAP_TMP/exec-yes" --repeat 3 --sleep-ms 1200 list $APPS argocd
check "exec plugin with expirationTimestamp: every list succeeds" prc_is 0
runs=$(wc -l <"$TAP_TMP/runs-yes")
check "cached until it expired, then run again (ran $runs times for 3 lists)" [ "$runs" = 2 ]
check "an expired credential is never sent (no 401)" sh -c "! grep -q '\"status\": *401' '$KUBEAPI_LOG'"
cat >"$TAP_TMP/failing-plugin" <<'EOF'
#!/bin/sh
echo "opening a browser" >&2
echo "error: SSO session expired; run aws sso login" >&2
exit 1
EOF
chmod +x "$TAP_TMP/failing-plugin"
kubeapi_kubeconfig "$TAP_TMP/exec-fail" "exec:
  apiVersion: client.authentication.k8s.io/v1beta1
  command: $TAP_TMP/failing-plugin"
probe --kubeconfig "$TAP_TMP/exec-fail" list $APPS argocd
check "a failing plugin: error (exit 1)" prc_is 1
check "its stderr's last line is in the message" \
    err_has "failed (exit 1): error: SSO session expired; run aws sso login"

# --- RBAC ------------------------------------------------------------------------------------
kubeapi_token viewer-token viewer
kubeapi_allow viewer argocd applications get,list,watch
kubeapi_kubeconfig "$TAP_TMP/viewer" "token: viewer-token"
probe --kubeconfig "$TAP_TMP/viewer" patch $APPS argocd app-0001 merge '{"metadata":{"labels":{"x":"y"}}}'
check "a patch without the verb: denied (exit 5)" prc_is 5
check "the 403 names verb, resource, namespace, context and user and what the Role needs" \
    err_has 'cannot patch applications in namespace argocd: forbidden (context standin, user u) — the Role needs "patch"'
check "the server's own text follows, sanitised" err_has 'the server said: applications.argoproj.io "app-0001" is forbidden'
probe --kubeconfig "$TAP_TMP/viewer" list $APPS '*'
check "a list across namespaces needs a ClusterRole" \
    err_has 'cannot list applications in every namespace: forbidden (context standin, user u) — the ClusterRole needs "list"'
probe --kubeconfig "$TAP_TMP/viewer" secret argocd repo
check "a secret without get on secrets: denied" err_has 'cannot get secrets in namespace argocd: forbidden'

# --- get, patch, 409, secret -----------------------------------------------------------------
probe --kubeconfig "$C" get $APPS argocd app-0001
rv=$(/usr/bin/python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["metadata"]["resourceVersion"])' "$POUT")
check "get: the object with its resourceVersion" [ -n "$rv" ]
probe --kubeconfig "$C" get $APPS argocd no-such-app
check "get of a missing object: not found (exit 2)" prc_is 2
check "the message names it" err_has 'applications "no-such-app" not found in namespace argocd (context token)'
probe --kubeconfig "$C" patch $APPS argocd app-0001 merge \
    "{\"metadata\":{\"resourceVersion\":\"$rv\"},\"spec\":{\"source\":{\"targetRevision\":\"v2\"}}}"
check "a merge patch at the current resourceVersion succeeds" prc_is 0
new_rv=$(cat "$POUT")
check "it answers with the new resourceVersion" [ "$new_rv" -gt "$rv" ]
check "the server got application/merge-patch+json" \
    grep -q '"method": *"PATCH".*"status": *200' "$KUBEAPI_LOG"
probe --kubeconfig "$C" patch $APPS argocd app-0001 merge \
    "{\"metadata\":{\"resourceVersion\":\"$rv\"},\"spec\":{\"source\":{\"targetRevision\":\"v3\"}}}"
check "a patch planned on the old resourceVersion: conflict (exit 3)" prc_is 3
check "the 409 message says it changed" err_has "conflict — it changed since it was read"
probe --kubeconfig "$C" get $APPS argocd app-0001
check "the other writer's change stays" out_has '"targetRevision":"v2"'
probe --kubeconfig "$C" patch $APPS argocd app-0001 json \
    '[{"op":"replace","path":"/spec/source/targetRevision","value":"v4"}]'
check "a JSON patch succeeds" prc_is 0
probe --kubeconfig "$C" secret argocd repo password
check "a Secret's value, base64-decoded" out_has "pa ss:word"
probe --kubeconfig "$C" secret argocd repo
check "a Secret's keys" out_has "username"

# --- watch -----------------------------------------------------------------------------------
probe --kubeconfig "$C" list $APPS argocd
rv=$(/usr/bin/python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["resourceVersion"])' "$POUT")
kubeapi_merge /apis/argoproj.io/v1alpha1/namespaces/argocd/applications/app-0003 \
    '{"spec":{"source":{"targetRevision":"edited"}}}' >/dev/null
probe --kubeconfig "$C" watch $APPS argocd "$rv" --events 1 --timeout-s 10
check "a watch from the list's resourceVersion sees the edit made after it" \
    out_has "MODIFIED argocd/app-0003"
check "it stops after the event it was asked for" out_has "end "
# live: an edit while the watch is open, and a BOOKMARK (every second on this server)
probe --kubeconfig "$C" list $APPS argocd
rv=$(/usr/bin/python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["resourceVersion"])' "$POUT")
"$KP" --kubeconfig "$C" watch $APPS argocd "$rv" --events 3 --timeout-s 20 \
    >"$TAP_TMP/live.out" 2>"$TAP_TMP/live.err" &
live=$!
sleep 1.5
kubeapi_merge /apis/argoproj.io/v1alpha1/namespaces/argocd/applications/app-0005 \
    '{"spec":{"source":{"targetRevision":"live"}}}' >/dev/null
i=0
while kill -0 $live 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill $live 2>/dev/null
wait $live
check "an open watch sees an out-of-band edit" grep -q "^MODIFIED argocd/app-0005" "$TAP_TMP/live.out"
check "an open watch sees BOOKMARKs" grep -q "^BOOKMARK " "$TAP_TMP/live.out"
last_rv=$(awk '$1=="end"{print $2}' "$TAP_TMP/live.out")
bm_rv=$(awk '$1!="end"{r=$3} END{print r}' "$TAP_TMP/live.out")
check "the resourceVersion to resume from is the last event's ($bm_rv)" [ "$last_rv" = "$bm_rv" ]

# A stalled server sends nothing, not even its headers or a BOOKMARK: only the client's own
# check of *stop can end the watch.
kubeapi_ctl stall >/dev/null
t0=$(now_ms)
probe --kubeconfig "$C" watch $APPS argocd "$last_rv" --timeout-s 30 --stop-ms 400
t1=$(now_ms)
kubeapi_ctl resume >/dev/null
check "a stop ends a silent watch within a second ($((t1 - t0)) ms)" [ $((t1 - t0)) -lt 1500 ]
check "a stopped watch is no error" prc_is 0

kubeapi_ctl compact >/dev/null
probe --kubeconfig "$C" watch $APPS argocd "$rv" --timeout-s 10
check "a watch from a compacted resourceVersion: gone (exit 4)" prc_is 4
check "the 410 says list again" err_has "the resourceVersion is too old (410 Gone)"

# --- hostile and failing servers -------------------------------------------------------------
probe --kubeconfig "$C" --max-body 4096 list $APPS argocd
check "a reply over the size cap is an error (exit 1)" prc_is 1
check "it says so" err_has "response body larger than 4096 bytes"
kubeapi_ctl fail "code=503&count=1" >/dev/null
probe --kubeconfig "$C" get $APPS argocd app-0001
check "a 503 is an error naming the status" err_has "HTTP 503 (context token)"
kubeapi_ctl stall >/dev/null
t0=$(now_ms)
probe --kubeconfig "$C" --timeout-ms 1500 get $APPS argocd app-0001
t1=$(now_ms)
kubeapi_ctl resume >/dev/null
check "a stalled server: error (exit 1)" prc_is 1
check "a stalled server: the request's timeout ends it ($((t1 - t0)) ms)" [ $((t1 - t0)) -lt 6000 ]

# The server stops while a watch is open: the watch ends with an error, at once.
"$KP" --kubeconfig "$C" watch $APPS argocd 0 --timeout-s 60 >"$TAP_TMP/dying.out" 2>"$TAP_TMP/dying.err" &
dying=$!
sleep 1.5
t0=$(now_ms)
kubeapi_stop
i=0
while kill -0 $dying 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
t1=$(now_ms)
kill $dying 2>/dev/null
wait $dying
drc=$?
check "the watch saw the objects before the server stopped" grep -q "^ADDED argocd/app-0001" "$TAP_TMP/dying.out"
check "the server stopping ends the watch ($((t1 - t0)) ms)" [ $((t1 - t0)) -lt 5000 ]
check "as an error (exit 1, got $drc), not a clean end" [ "$drc" = 1 ]
check "no end line: the caller knows the stream broke" sh -c "! grep -q '^end' '$TAP_TMP/dying.out'"
probe --kubeconfig "$C" --timeout-ms 3000 list $APPS argocd
check "a list while the server is down: error (exit 1)" prc_is 1
check "it says it cannot connect, naming the context and server" err_has "kube context token ($KUBEAPI_URL): cannot connect"
kubeapi_restart
probe --kubeconfig "$C" list $APPS argocd
check "after the server comes back, the list succeeds" prc_is 0

finish
