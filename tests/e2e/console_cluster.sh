#!/bin/sh
# The console with a kubernetes source (the stand-in API server, tests/lib/kubeapi.py) and an
# hour between scans: an Application created in the cluster shows within seconds and one
# deleted goes (the watch wakes the engine, not the interval); approving bookstore patches the
# Application (write-back-method argocd) and the row shows the new tag; the detail view shows
# the live image beside it.
. "$(dirname "$0")/../lib/tap.sh"
. "$TP_ROOT/tests/e2e/console_common.inc"
. "$TP_ROOT/tests/lib/kubeapi.sh"
. "$TP_ROOT/tests/lib/kubeapps.sh"

need python3 jq git
registry_start anon || { not_ok "registry starts"; finish; exit 1; }
D=$TAP_TMP/k
kubeapps_start "$D" || { not_ok "the stand-in API server starts"; finish; exit 1; }
CFG=$TAP_TMP/tagpilot.yaml
kubeapps_config "$CFG"
echo "interval: 1h" >>"$CFG"
APPS=/apis/argoproj.io/v1alpha1/namespaces/argocd/applications
# gone NAME REGEX [tenths]: until the screen no longer matches
gone() {
    i=0
    while [ $i -lt "${3:-50}" ]; do
        screen_of "$1" | grep -Eq -- "$2" || return 0
        sleep 0.1
        i=$((i + 1))
    done
    echo "# /$2/ still on the screen of $1" >&2
    return 1
}

s=cluster
console_start $s 120 40 -- --config "$CFG"
check "the cluster's Applications show" wait_screen $s '^(> )?bookstore .*v1\.0\.0 +v1\.0\.1'
# the first cycle is over (nothing is checking any more) before the cluster changes
wait_screen $s 'cycle [0-9]+s ago' >/dev/null

cat >"$TAP_TMP/newcomer.yaml" <<Y
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: newcomer
  namespace: argocd
  annotations:
    argocd-image-updater.argoproj.io/image-list: p=$REG_HOST/team/payments:^2.0
    argocd-image-updater.argoproj.io/write-back-method: argocd
spec:
  source:
    repoURL: file://$D/config.git
    targetRevision: main
    path: charts/payments
    helm:
      parameters:
      - {name: image.tag, value: "2.0.0"}
Y
kubeapi_apply "$TAP_TMP/newcomer.yaml"
check "an Application created in the cluster shows within seconds" \
    wait_screen $s '^(> )?newcomer .*2\.0\.0 +2\.1\.0' 80
kubeapi_ctl delete "path=$APPS/newcomer" >/dev/null
check "one deleted in the cluster goes within seconds" gone $s '^(> )?newcomer ' 80

press $s / && type_text $s bookstore && press $s Enter
press $s a
check "a: the confirm dialog for bookstore" wait_screen $s 'Approve bookstore/bookstore'
check "the dialog shows the patch of the Application's parameters" \
    wait_screen $s '\+ +value: v1\.0\.1'
press $s y
check "y: the status line says the Application was patched" \
    wait_screen $s 'v1\.0\.0 -> v1\.0\.1 written \(Application patched'
check "the Application in the cluster holds v1.0.1" \
    [ "$(kubeapps_app bookstore | jq -r '.spec.source.helm.parameters[] | select(.name == "image.tag") | .value')" = v1.0.1 ]
check "the row shows the new tag" wait_screen $s '^(> )?bookstore .*v1\.0\.1 +v1\.0\.1'
press $s Enter
check "detail: the live line, what the cluster still runs" \
    wait_screen $s 'live +v1\.0\.0 +the cluster runs another tag'
press $s Escape
console_stop $s
finish
