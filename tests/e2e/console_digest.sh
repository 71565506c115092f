#!/bin/sh
# An approval binds to what the operator saw. In a console that stays open (one engine, no new
# scan): a tag re-pushed with another digest after the screen showed it is refused, and so is a
# candidate that changed under the dialog; nothing is written either way. Under the digest
# strategy, with the engine scanning on: a digest that moved while the dialog was open is
# refused too (the console sends the digest it showed).
. "$(dirname "$0")/../lib/tap.sh"
. "$TP_ROOT/tests/e2e/console_common.inc"

registry_start anon || { not_ok "registry starts"; finish; exit 1; }
B=amplication/bookstore-application
for t in v1.0.0 v1.0.1; do reg_push image $B $t >/dev/null; done
reg_push image team/catalog 1.4.0 >/dev/null || not_ok "push images"
C=$TAP_TMP/cluster
cluster_repo "$C" || not_ok "cluster repository"
slow_cycles "$C"
commits() { cluster_git "$C" rev-list --count main; }
n0=$(commits)

s=digest
console_start $s 120 40 -- --config "$C/tagpilot.yaml"
wait_screen $s '^bookstore .*v1\.0\.1' || not_ok "the console shows bookstore's candidate"
press $s / && type_text $s bookstore && press $s Enter

# v1.0.1 now points somewhere else; the console still shows the digest of its last scan.
reg_push image $B v1.0.1 --created 2031-01-01T00:00:00Z >/dev/null
press $s a
wait_screen $s 'Cancel' >/dev/null
press $s y
check "approving a tag that moved since the screen showed it is refused" wait_screen $s 'moved'
sleep 1
check "and nothing was written" [ "$(commits)" = "$n0" ]
"$TAGPILOT" history bookstore --config "$C/tagpilot.yaml" --format json >"$TAP_TMP/h.json" 2>/dev/null
check "the refusal is in the history" /usr/bin/python3 -c "
import json; h=json.load(open('$TAP_TMP/h.json')); assert any(r['action']=='approve' and r['result']=='refused' for r in h), h"

# After the refusal the engine knows the new digest: the next approval goes through.
press $s a
wait_screen $s 'Cancel' >/dev/null
press $s y
check "approving again after the refusal writes" wait_screen $s 'written \(commit [0-9a-f]+'
check "one commit" [ "$(commits)" = $((n0 + 1)) ]
# The refusal was a failed result: its message must have been freed (LeakSanitizer would make the
# exit code 86 and write its report to the console's stderr).
press $s q
check "q quits with exit code 0" wait_screen $s 'console exited rc=0'
console_stop $s

# Under the digest strategy the tag stays and the digest moves; the engine verifies the followed
# tag's digest with a GET each cycle that finds it changed.
d1=$(reg_push image team/stable main --created 2030-01-01T00:00:00Z)
stable_app() {
    mkdir -p charts/stable
    printf 'apiVersion: v2\nname: stable\nversion: 0.1.0\n' >charts/stable/Chart.yaml
    printf 'image:\n  repository: %s/team/stable\n  tag: main\n' "$REG_HOST" >charts/stable/values.yaml
    cluster_app stable "s=$REG_HOST/team/stable:main" \
        "    argocd-image-updater.argoproj.io/s.update-strategy: digest
    argocd-image-updater.argoproj.io/write-back-target: helmvalues:values.yaml
    argocd-image-updater.argoproj.io/s.helm.image-name: image.repository
    argocd-image-updater.argoproj.io/s.helm.image-tag: image.tag" >apps/stable.yaml
}
cluster_commit "$C" "a digest-strategy app" stable_app || not_ok "commit the digest-strategy app"
n1=$(commits)

# No new scan: the approval's own re-read sees the move (not the answer the cycle verified).
s=moved
console_start $s 120 40 -- --config "$C/tagpilot.yaml"
wait_screen $s '^stable .*update' || not_ok "the console offers stable's digest"
press $s / && type_text $s stable && press $s Enter
press $s a
check "the dialog shows the digest it would write" wait_screen $s "\\+  tag: main@$d1"
d2=$(reg_push image team/stable main --created 2031-01-01T00:00:00Z)
press $s y
check "a followed tag that moved since the scan is refused" wait_screen $s 'moved'
sleep 1
check "and nothing was written" [ "$(commits)" = "$n1" ]
press $s q
check "q quits with exit code 0" wait_screen $s 'console exited rc=0'
console_stop $s

# The engine scanning on: the dialog binds the digest it showed, not the one the engine's next
# cycle found while the dialog was open.
sed -i 's/^interval: .*/interval: 2s/' "$C/tagpilot.yaml"
s=moving
console_start $s 120 40 -- --config "$C/tagpilot.yaml"
wait_screen $s '^stable .*update' || not_ok "the console offers stable's digest again"
press $s / && type_text $s stable && press $s Enter
press $s a
check "the dialog shows the digest it would write now" wait_screen $s "\\+  tag: main@$d2"
d3=$(reg_push image team/stable main --created 2032-01-01T00:00:00Z)
# Two cycles end after the push (the header's "cycle Ns ago" goes back to 0 twice), so one began
# after it: the engine has verified the new digest meanwhile.
cycle_ends() { wait_screen $s 'cycle [1-9][0-9]*s ago' && wait_screen $s 'cycle 0s ago'; }
cycle_ends && cycle_ends || not_ok "the engine keeps scanning under the dialog"
press $s y
check "approving after the digest moved under the dialog is refused" wait_screen $s 'moved'
sleep 1
check "and nothing was written ($d3 was never shown)" [ "$(commits)" = "$n1" ]
press $s q
check "q quits with exit code 0" wait_screen $s 'console exited rc=0'
console_stop $s
finish
