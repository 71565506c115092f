#!/bin/sh
# git-branch base:target through `tagpilot run`, against a real registry and a file://
# repository: the auto policy writes the candidate to the target branch once. Until someone
# merges it into the base — where the current tag is read — the image waits: no commit, no
# journal record and no "written" line per cycle (it was one of each, ~720 a day per image).
. "$(dirname "$0")/../lib/tap.sh"
. "$TP_ROOT/tests/lib/registry.sh"
. "$TP_ROOT/tests/lib/cluster.sh"

registry_start anon || { not_ok "registry starts"; finish; exit 1; }
B=amplication/bookstore-application
reg_push image $B v1.0.0 >/dev/null && reg_push image $B v1.0.1 >/dev/null &&
    reg_push image team/catalog 1.4.0 >/dev/null || not_ok "push images"
C=$TAP_TMP/cluster
APPROVAL=auto cluster_repo "$C" || not_ok "cluster repository"
CFG=$C/tagpilot.yaml
to_branch() {
    sed -i 's|^    argocd-image-updater.argoproj.io/write-back-method: git$|&\n    argocd-image-updater.argoproj.io/git-branch: main:tagpilot-updates|' apps/bookstore.yaml
}
cluster_commit "$C" "bookstore: write-back to a branch" to_branch || not_ok "annotate git-branch"

records() { if [ -f "$C/state/journal.jsonl" ]; then wc -l <"$C/state/journal.jsonl"; else echo 0; fi; }
on_branch() { cluster_git "$C" rev-list --count tagpilot-updates 2>/dev/null || echo 0; }
branch_tag() {
    cluster_git "$C" show tagpilot-updates:charts/bookstore/.argocd-source-bookstore.yaml 2>/dev/null |
        grep -A1 'name: image.tag' | sed -n 's/.*value: *//p'
}
main0=$(cluster_git "$C" rev-parse main)

tp run --once --config "$CFG"
expect_rc 0 "the first auto run writes"
check "v1.0.1 is committed on tagpilot-updates" [ "$(branch_tag)" = v1.0.1 ]
check "main is left alone" [ "$(cluster_git "$C" rev-parse main)" = "$main0" ]
n1=$(records)
check "the journal holds that write: its intent and its outcome ($n1 lines)" [ "$n1" = 2 ]
check "the row says where the tag is and what it waits for" \
    grep -Eq '^bookstore .* v1\.0\.0 +v1\.0\.1 +written: v1\.0\.1 is on branch tagpilot-updates \(commit [0-9a-f]{12}\), waiting for it to be merged into main$' "$OUT"
c1=$(on_branch)

# A second run (a new process: nothing remembered) finds the tag there and records nothing.
tp run --once --config "$CFG"
expect_rc 0 "a second run succeeds"
check "and commits nothing" [ "$(on_branch)" = "$c1" ]
check "and records nothing (journal still $n1 lines, has $(records))" [ "$(records)" = "$n1" ]
check "it says the tag is already there" \
    grep -q 'bookstore/bookstore: v1.0.1 is already on tagpilot-updates: nothing written' "$OUT"
check "and does not call that a write" sh -c "! grep -q 'written, commit' '$OUT'"
check "the row waits for the merge" \
    grep -q '^bookstore .*written: v1.0.1 is on branch tagpilot-updates, waiting for it to be merged into main$' "$OUT"

# One process, many cycles: it looks once, then waits without trying again.
"$TAGPILOT" run --config "$CFG" --interval 1s >"$TAP_TMP/daemon.log" 2>&1 &
daemon=$!
at_exit "kill $daemon 2>/dev/null"
for _ in $(seq 150); do
    [ "$(grep -c 'cycle done' "$TAP_TMP/daemon.log")" -ge 4 ] && break
    sleep 0.1
done
kill -TERM $daemon
wait $daemon
check "run stopped cleanly after its cycles" [ $? = 0 ]
check "four cycles ran ($(grep -c 'cycle done' "$TAP_TMP/daemon.log"))" \
    [ "$(grep -c 'cycle done' "$TAP_TMP/daemon.log")" -ge 4 ]
check "the journal gained nothing in them ($(records) lines)" [ "$(records)" = "$n1" ]
check "no commit either" [ "$(on_branch)" = "$c1" ]
check "the branch was looked at once, not every cycle" \
    [ "$(grep -c 'is already on tagpilot-updates' "$TAP_TMP/daemon.log")" = 1 ]
check "no cycle claims a write" sh -c "! grep -q -- '-> v1.0.1 written' '$TAP_TMP/daemon.log'"
check "no sanitizer report from the daemon" sh -c "! grep -E 'Sanitizer|runtime error' '$TAP_TMP/daemon.log'"

# Merged: the base has the tag, the image is up to date, still nothing recorded.
cluster_git "$C" update-ref refs/heads/main refs/heads/tagpilot-updates
tp run --once --config "$CFG"
check "after the merge bookstore is up to date" grep -Eq '^bookstore .* v1\.0\.1 +v1\.0\.1 +up-to-date' "$OUT"
check "and the journal is unchanged" [ "$(records)" = "$n1" ]

# A newer tag: written to the branch again, once.
reg_push image $B v1.0.2 >/dev/null
tp run --once --config "$CFG"
check "v1.0.2 is committed on the branch" [ "$(branch_tag) $(on_branch)" = "v1.0.2 $((c1 + 1))" ]
check "and recorded, once" [ "$(records)" = $((n1 + 2)) ]

# An operator's approval to the branch says where it went.
reg_push image $B v1.0.3 >/dev/null
tp approve bookstore --config "$CFG"
expect_rc 0 "approve writes v1.0.3"
check "and says it waits on the branch" \
    grep -Eq 'v1\.0\.2 -> v1\.0\.3 written \(commit [0-9a-f]{12}\) on branch tagpilot-updates, waiting for it to be merged into main' "$OUT"
check "v1.0.3 is on the branch" [ "$(branch_tag)" = v1.0.3 ]
finish
