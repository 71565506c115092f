#!/bin/sh
# The `kubernetes` source end to end through `tagpilot run`, against the stand-in API server
# (tests/lib/kubeapi.py), Debian's docker-registry and a git repository the Applications'
# repoURL points at: which Applications a source reads (namespaces, "*", a label selector);
# where the current tag comes from (the Application's Helm parameters over the chart's values,
# the repository when the Application sets nothing, the $values file of a multi-source app);
# the live image beside it; an exec plugin's expiring token across a run of several cycles; the
# API server stopping and starting under a running `tagpilot run`; 401 and 403 messages.
. "$(dirname "$0")/../lib/tap.sh"
. "$TP_ROOT/tests/lib/registry.sh"
. "$TP_ROOT/tests/lib/kubeapi.sh"
. "$TP_ROOT/tests/lib/kubeapps.sh"

need python3 jq git
registry_start anon || { not_ok "docker-registry starts"; finish; exit 1; }
D=$TAP_TMP/k
kubeapps_start "$D" || { not_ok "the stand-in API server starts"; finish; exit 1; }
CFG=$TAP_TMP/tagpilot.yaml

# plan SOURCE-LINES: `run --once --dry-run --format json` with that kubernetes source
plan() {
    kubeapps_config "$CFG" "${1:-}"
    tp run --once --dry-run --format json --config "$CFG"
}
apps() { jq -r '[.applications[].name] | join(",")' "$OUT"; }
field() { # APP FIELD: the first image's FIELD
    jq -r --arg a "$1" ".applications[] | select(.name == \$a) | .images[0].$2" "$OUT"
}

# --- which Applications ----------------------------------------------------------------------
plan
expect_rc 0 "default namespaces: one clean cycle"
check "default: the argocd namespace's Applications ($(apps))" [ "$(apps)" = bookstore,catalog,multi ]
plan 'namespaces: ["*"]'
check "namespaces [\"*\"]: every namespace's ($(apps))" [ "$(apps)" = bookstore,catalog,multi,payments ]
plan 'namespaces: [team-a]'
check "namespaces [team-a]: only its Application ($(apps))" [ "$(apps)" = payments ]
plan 'namespaces: ["*"]
selector: team=books'
check "selector team=books: only the labelled ones ($(apps))" [ "$(apps)" = bookstore,catalog ]
check "the selector went to the server as labelSelector" \
    grep -q '"labelSelector": *"team=books"' "$KUBEAPI_LOG"

# --- current and live ------------------------------------------------------------------------
plan 'namespaces: ["*"]'
check "Helm: the current tag is the Application's parameter, not the chart's v0.9.0" \
    [ "$(field bookstore current)" = v1.0.0 ]
check "an Application that sets nothing: the current tag from the repository's chart" \
    [ "$(field payments current)" = 2.0.0 ]
check "multi-source: from the chart of the source the annotations point at" \
    [ "$(field multi current)" = 2.0.0 ]
check "Kustomize: the Application's images entry" [ "$(field catalog current)" = 1.0.0 ]
check "live: status.summary.images" [ "$(field bookstore live)" = v1.0.0 ]
check "live equal to current: live_differs false" [ "$(field bookstore live_differs)" = false ]
kubeapi_merge /apis/argoproj.io/v1alpha1/namespaces/argocd/applications/bookstore \
    "{\"status\":{\"summary\":{\"images\":[\"$REG_HOST/amplication/bookstore-application:v0.9.9\"]}}}" >/dev/null
plan
check "a sync pending: live is what runs" [ "$(field bookstore live)" = v0.9.9 ]
check "a sync pending: live_differs true" [ "$(field bookstore live_differs)" = true ]
check "an Application without status.summary has no live field" [ "$(field multi live)" = null ]

# --- a running tagpilot: an exec plugin's tokens expire, the API server goes away ------------
# The plugin registers a fresh token valid for 2 s and counts its runs; the stand-in ends the
# watches twice after the tokens expired, so the watchers ask again with whatever they hold.
cat >"$TAP_TMP/plugin" <<EOF
#!/bin/sh
echo run >>"$TAP_TMP/plugin.runs"
tok=exec-\$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
exp=\$((\$(date +%s) + 2))
echo "\$tok admin \$exp" >>"$KUBEAPI_DIR/tokens"
printf '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"%s","expirationTimestamp":"%s"}}\n' "\$tok" "\$(date -u -d @\$exp +%Y-%m-%dT%H:%M:%SZ)"
EOF
chmod +x "$TAP_TMP/plugin"
kubeapi_kubeconfig "$TAP_TMP/exec.kubeconfig" "exec:
  apiVersion: client.authentication.k8s.io/v1
  command: $TAP_TMP/plugin
  interactiveMode: Never"
sed "s|kubeconfig: .*|kubeconfig: $TAP_TMP/exec.kubeconfig|" "$CFG" >"$TAP_TMP/exec.yaml"
LOG=$TAP_TMP/run.log
"$TAGPILOT" run --dry-run --interval 1s --config "$TAP_TMP/exec.yaml" >"$LOG" 2>&1 </dev/null &
RUN=$!
at_exit "kill $RUN 2>/dev/null"
# wait_log REGEX [tenths]: until the run's log matches
wait_log() {
    i=0
    while [ $i -lt "${2:-100}" ]; do
        grep -qE "$1" "$LOG" && return 0
        sleep 0.1
        i=$((i + 1))
    done
    echo "# no /$1/ in: $(tail -5 "$LOG")"
    false
}
check "the run's first cycle" wait_log "cycle done: 3 images"
sleep 3 # the first tokens expired
kubeapi_ctl end-watches >/dev/null
sleep 3
kubeapi_ctl end-watches >/dev/null
fresh() { # NAME TAG: an Application another writer creates
    cat >"$TAP_TMP/$1.yaml" <<Y
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: $1
  namespace: argocd
  annotations:
    argocd-image-updater.argoproj.io/image-list: p=$REG_HOST/team/payments:^2.0
    argocd-image-updater.argoproj.io/p.helm.image-name: image.name
    argocd-image-updater.argoproj.io/p.helm.image-tag: image.tag
    argocd-image-updater.argoproj.io/write-back-method: argocd
spec:
  source:
    repoURL: file://$D/config.git
    targetRevision: main
    path: charts/payments
    helm:
      parameters:
      - {name: image.tag, value: "$2"}
Y
    kubeapi_apply "$TAP_TMP/$1.yaml"
}
fresh late-one 2.0.0
check "after the tokens expired, a new Application still shows (the watch runs on)" \
    wait_log "late-one/p: update available 2.0.0 -> 2.1.0" 50
runs=$(wc -l <"$TAP_TMP/plugin.runs")
check "the plugin ran again as its tokens expired (ran $runs times)" [ "$runs" -ge 3 ]
check "no cycle of the run saw an error" sh -c "! grep -q 'error:' '$LOG'"
kubeapi_stop
check "API server gone: the run says since when it cannot read" \
    wait_log "cluster standin: cannot read Applications since [0-9-]+T[0-9:]+.*showing the last good read"
n=$(wc -l <"$LOG")
check "API server gone: the next cycle still has the last good read" \
    sh -c "sleep 1.5; tail -n +$n '$LOG' | grep -q 'cycle done: 4 images'"
kubeapi_restart
fresh after-restart 2.0.0
check "API server back: the run reads the cluster again" \
    wait_log "after-restart/p: update available 2.0.0 -> 2.1.0" 150
n=$(wc -l <"$LOG")
sleep 1.5
check "API server back: the cycles report no error any more" \
    sh -c "! tail -n +$((n + 1)) '$LOG' | grep -q 'error:'"
kill "$RUN"
wait "$RUN"
rc=$?
check "the run stops cleanly on SIGTERM (exit $rc)" [ "$rc" = 0 ]
check "no sanitizer report from the run" sh -c "! grep -q Sanitizer '$LOG'"

# --- 401 and 403 -----------------------------------------------------------------------------
kubeapi_kubeconfig "$TAP_TMP/bad.kubeconfig" "token: not-a-token"
sed "s|kubeconfig: .*|kubeconfig: $TAP_TMP/bad.kubeconfig|" "$CFG" >"$TAP_TMP/bad.yaml"
tp run --once --dry-run --config "$TAP_TMP/bad.yaml"
expect_rc 1 "401: the run fails"
check "401: says who was refused (context standin, user u)" \
    grep -q "context standin, user u" "$ERR"
check "401: names the verb and the resource" grep -q "list applications" "$ERR"
kubeapi_token viewer-token viewer
kubeapi_allow viewer argocd applications get
kubeapi_kubeconfig "$TAP_TMP/viewer.kubeconfig" "token: viewer-token"
sed "s|kubeconfig: .*|kubeconfig: $TAP_TMP/viewer.kubeconfig|" "$CFG" >"$TAP_TMP/viewer.yaml"
tp run --once --dry-run --config "$TAP_TMP/viewer.yaml"
expect_rc 1 "403: the run fails"
check "403: cannot list applications in namespace argocd" \
    grep -q "cannot list applications in namespace argocd" "$ERR"
check "403: names the context and the user" grep -q "context standin, user u" "$ERR"
check "403: says what the Role needs" grep -q "the Role needs .list" "$ERR"
check "no token in any message" sh -c "! grep -q 'viewer-token\|not-a-token' '$OUT' '$ERR'"
finish
