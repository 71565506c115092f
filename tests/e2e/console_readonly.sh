#!/bin/sh
# --read-only: the lock shows, the writing keys are not bound (help marks them locked, the hint
# line leaves them out), and no key sequence writes a commit or a journal record.
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
journal() { cat "$C"/state/journal* 2>/dev/null | cksum; }
n0=$(commits)
j0=$(journal)

s=ro
console_start $s 100 30 -- --read-only --config "$C/tagpilot.yaml"
wait_screen $s '^bookstore .*v1\.0\.1' || not_ok "the read-only console shows bookstore's candidate"
check "the header shows the lock" wait_screen $s 'READ-ONLY'
check "the hint line leaves out the writing keys" sh -c "tmux capture-pane -p -t $s | tail -1 | grep -q 'q quit' && ! tmux capture-pane -p -t $s | tail -1 | grep -Eq 'approve|pin|rollback|skip'"
press $s / && type_text $s bookstore && press $s Enter
for k in a y p y r y u y x y a Enter p Enter r Enter; do
    tmux send-keys -t $s "$k"
    sleep 0.15
done
sleep 2
check "no dialog opened" sh -c "! tmux capture-pane -p -t $s | grep -Eq 'Cancel|which tag'"
check "the status line says the key is locked" wait_screen $s "read-only: 'r' \(rollback\) is locked|read-only: '.' \([a-z]+\) is locked"
check "no commit was written" [ "$(commits)" = "$n0" ]
check "the journal is untouched" [ "$(journal)" = "$j0" ]
press $s Enter
check "the detail still opens" wait_screen $s '^Tags \(2\)'
for k in a y p Enter y; do tmux send-keys -t $s "$k"; sleep 0.15; done
sleep 1
check "no dialog from the detail view either" sh -c "! tmux capture-pane -p -t $s | grep -Eq 'Cancel|which tag'"
press $s q '?'
check "help marks the writing keys locked" wait_screen $s 'approve the candidate \(writes it\)  \[locked: read-only\]'
press $s q R
sleep 2
check "R (a refresh only reads) still works and writes nothing" [ "$(commits)" = "$n0" ]
check "R (a refresh only reads) still works and writes nothing (also)" [ "$(journal)" = "$j0" ]
press $s q
check "q quits" wait_screen $s 'console exited rc=0'
console_stop $s

# The same keys without --read-only do open a dialog: the test above is not vacuous.
s=rw
console_start $s 100 30 -- --config "$C/tagpilot.yaml"
wait_screen $s '^bookstore .*v1\.0\.1' >/dev/null
press $s a
check "without --read-only, a opens the dialog" wait_screen $s 'Approve bookstore/bookstore'
press $s n q
console_stop $s
finish
