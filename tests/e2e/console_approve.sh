#!/bin/sh
# Writing from the console: approving bookstore makes exactly one commit with the Approved-by
# trailer (and Cancel, n and Esc make none), also after a write that failed; a pin chosen from
# the tag list holds when a newer tag is pushed.
. "$(dirname "$0")/../lib/tap.sh"
. "$TP_ROOT/tests/e2e/console_common.inc"

registry_start anon || { not_ok "registry starts"; finish; exit 1; }
B=amplication/bookstore-application
for t in v1.0.0 v1.0.1 v1.1.0; do reg_push image $B $t >/dev/null; done
reg_push image team/catalog 1.4.0 >/dev/null || not_ok "push images"
C=$TAP_TMP/cluster
cluster_repo "$C" || not_ok "cluster repository"
slow_cycles "$C"
commits() { cluster_git "$C" rev-list --count main; }
src_tag() { cluster_file "$C" charts/bookstore/.argocd-source-bookstore.yaml 2>/dev/null |
    grep -A1 'name: image.tag' | sed -n 's/.*value: *//p'; }
n0=$(commits)

s=approve
console_start $s 120 40 -- --config "$C/tagpilot.yaml"
wait_screen $s '^bookstore .*v1\.0\.1' || not_ok "the console shows bookstore's candidate"
press $s / && type_text $s bookstore && press $s Enter

# Three ways of saying no.
press $s a
check "a opens a confirm dialog on Cancel" wait_screen $s 'Approve bookstore/bookstore'
check "the dialog shows the diff it would commit" wait_screen $s '\+ +value: v1\.0\.1'
press $s Enter
check "Enter on the focused Cancel writes nothing" wait_screen $s 'cancelled: nothing was written'
press $s a n
press $s a Escape
sleep 1
check "Cancel, n and Esc made no commit" [ "$(commits)" = "$n0" ]

# A write that fails (a lock on the remote's branch) leaves bookstore in error with its
# candidate; the approval is offered again, and goes through once the lock is gone.
touch "$C/config.git/refs/heads/main.lock"
press $s a
wait_screen $s 'Cancel' >/dev/null
press $s y
check "a failed write says so in the status line" wait_screen $s 'bookstore/bookstore: app bookstore: write-back to'
check "and leaves the row in error" wait_screen $s '^(> )?bookstore .*v1\.0\.0 +v1\.0\.1 .*error'
check "the failed write made no commit" [ "$(commits)" = "$n0" ]
rm -f "$C/config.git/refs/heads/main.lock"

# And yes.
press $s a
check "after a failed write, a offers the approval again" wait_screen $s 'Approve bookstore/bookstore'
check "saying why the last attempt failed" wait_screen $s 'Again: the last attempt failed'
press $s y
check "y approves: the status line shows the commit" wait_screen $s 'v1\.0\.0 -> v1\.0\.1 written \(commit [0-9a-f]+'
check "exactly one commit" [ "$(commits)" = $((n0 + 1)) ]
check "the commit carries Approved-by" sh -c "git --git-dir='$C/config.git' log -1 --format=%B main | grep -q '^Approved-by: '"
check "the tag written is v1.0.1" [ "$(src_tag)" = v1.0.1 ]
check "the row now says written or up to date at v1.0.1" wait_screen $s '^bookstore .*v1\.0\.1 +v1\.0\.1 .*(written|up-to-date)'
press $s a
check "approving again: nothing to approve, no dialog" sh -c "! tmux capture-pane -p -t $s | grep -q 'Approve bookstore/bookstore'"

# Pin v1.0.0, chosen from the list.
press $s p
check "p opens the tag chooser" wait_screen $s 'Pin bookstore/bookstore to which tag'
press $s g
for _ in 1 2 3 4 5; do
    screen_of $s | grep -q '> v1\.0\.0 ' && break
    press $s j
done
press $s Enter
check "choosing v1.0.0 asks to confirm, on Cancel" wait_screen $s 'Pin bookstore/bookstore to v1\.0\.0'
press $s y
check "pin wrote v1.0.0" wait_screen $s 'written \(commit'
n1=$(commits)
check "one more commit, with Pinned-by" sh -c "[ $n1 = $((n0 + 2)) ] && git --git-dir='$C/config.git' log -1 --format=%B main | grep -q '^Pinned-by: '"
check "the file holds v1.0.0" [ "$(src_tag)" = v1.0.0 ]

# A newer tag arrives: the pin holds.
reg_push image $B v1.0.2 >/dev/null
press $s R
check "after a newer push the row shows the new candidate, pinned" wait_screen $s '^bookstore .*v1\.0\.0 +v1\.0\.2 .*pinned' 200
sleep 3
check "and nothing was written" [ "$(commits)" = "$n1" ]
check "and nothing was written (also)" [ "$(src_tag)" = v1.0.0 ]
press $s Enter
check "the detail lists the pin and the history" wait_screen $s 'pinned +v1\.0\.0'
check "history shows the approval" wait_screen $s 'approve +v1\.0\.0 -> v1\.0\.1'
press $s q q
check "q quits" wait_screen $s 'console exited rc=0'
console_stop $s
finish
