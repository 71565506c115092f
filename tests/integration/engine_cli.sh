#!/bin/sh
# The engine through the command line, on a real registry and a real git repository: manual
# policy waits, approve writes one commit with a trailer, pin and rollback hold against newer
# tags until unpin, skip holds one candidate, an approval is bound to a digest, history records
# it all, and bad input (a dead registry, a corrupt journal, a locked or unusable state dir)
# gives a clear error while the rest keeps working.
. "$(dirname "$0")/../lib/tap.sh"
. "$TP_ROOT/tests/lib/registry.sh"
. "$TP_ROOT/tests/lib/cluster.sh"

REG_ACCESS_LOG_OFF=false registry_start anon || { not_ok "registry starts"; finish; exit 1; }
# requests: GETs and HEADs the registry has logged, once its log has stopped growing
requests() {
    a=-1
    b=$(wc -c <"$REG_DIR/registry.log")
    while [ "$a" != "$b" ]; do sleep 0.3; a=$b; b=$(wc -c <"$REG_DIR/registry.log"); done
    grep -cE '"(GET|HEAD) /v2/' "$REG_DIR/registry.log"
}
B=amplication/bookstore-application
reg_push image $B v1.0.0 >/dev/null && reg_push image $B v1.0.1 >/dev/null &&
    reg_push image team/catalog 1.4.0 >/dev/null || not_ok "push images"
C=$TAP_TMP/cluster
cluster_repo "$C" || not_ok "cluster repository"
CFG=$C/tagpilot.yaml

t() { tp "$@" --config "$CFG"; }
commits() { cluster_git "$C" rev-list --count main; }
src_tag() { cluster_file "$C" charts/bookstore/.argocd-source-bookstore.yaml 2>/dev/null |
    /usr/bin/python3 -c 'import sys,yaml; d=yaml.safe_load(sys.stdin) or {}; print({p["name"]: p["value"] for p in d.get("helm",{}).get("parameters",[])}.get("image.tag","none"))'; }
field() { # field APP FIELD
    /usr/bin/python3 -c "import json; d=json.load(open('$OUT')); i=[i for a in d['applications'] if a['name']=='$1' for i in a['images']][0]; print(i['$2'])"
}
n0=$(commits)

# The plan: current from the chart (appVersion, as helm create charts leave tag empty).
t run --once --dry-run --format json
expect_rc 0 "dry run succeeds"
check "plan: bookstore v1.0.0 -> v1.0.1, update-available" \
    [ "$(field bookstore current) $(field bookstore candidate) $(field bookstore state)" = "v1.0.0 v1.0.1 update-available" ]
check "plan: catalog is up to date at 1.4.0" [ "$(field catalog current) $(field catalog state)" = "1.4.0 up-to-date" ]
check "plan carries the candidate digest" grep -q '"digest":[[:space:]]*"sha256:' "$OUT"
check "a dry run writes no commit" [ "$(commits)" = "$n0" ]
check "nor a journal record" [ ! -s "$C/state/journal.jsonl" ]

# Manual policy waits.
t run --once
expect_rc 0 "run --once (manual) succeeds"
# A steady cycle — restarted, nothing new — lists each repository once and asks nothing else:
# where the waiting candidate points is remembered from the last run (last-run.json).
r0=$(requests)
t run --once
r1=$(requests)
[ $((r1 - r0)) = 2 ] || grep -E '"(GET|HEAD) /v2/' "$REG_DIR/registry.log" | tail -n $((r1 - r0)) | sed 's/^/# /'
check "a steady cycle sends only the 2 tag listings (sent $((r1 - r0)))" [ $((r1 - r0)) = 2 ]
check "manual policy writes nothing without approval" [ "$(commits)" = "$n0" ]
check "run logs the waiting update" grep -q "update available v1.0.0 -> v1.0.1" "$OUT"

# A cycle the registry fails saves its rows in error but keeps where each candidate pointed, so
# the restart after still asks no HEAD; a cycle that cannot read its sources saves nothing.
saved_row() { # APP: the app's row in last-run.json, as JSON
    /usr/bin/python3 -c "import json; print(json.dumps([r for r in json.load(open('$C/state/last-run.json'))['images'] if r['app']=='$1'][0]))"
}
registry_stop
t run --once
expect_rc 1 "run --once with the registry down exits 1"
row=$(saved_row bookstore)
check "the saved row is in error, with v1.0.1 and its digest kept as the hint: $row" \
    env ROW="$row" /usr/bin/python3 -c "
import json, os; r=json.loads(os.environ['ROW'])
assert r['state']=='error' and 'candidate' not in r and r['hint']=='v1.0.1' and r['hint_digest'].startswith('sha256:'), r"
registry_restart || not_ok "the registry comes back"
r0=$(requests)
t run --once
r1=$(requests)
check "back up, the candidate's digest is not asked again (sent $((r1 - r0)))" [ $((r1 - r0)) = 2 ]
check "and bookstore waits again" grep -q "update available v1.0.0 -> v1.0.1" "$OUT"
# Within one run too: a cycle the registry fails keeps the hint for the cycle after it.
"$TAGPILOT" run --config "$CFG" --interval 3s >"$TAP_TMP/hint.log" 2>&1 &
hinted=$!
at_exit "kill $hinted 2>/dev/null"
wait_cycles() { # N: until the run has logged N cycles (10 s at most)
    for _ in $(seq 100); do
        [ "$(grep -c 'cycle done' "$TAP_TMP/hint.log")" -ge "$1" ] && return 0
        sleep 0.1
    done
    return 1
}
wait_cycles 1 || not_ok "the run finishes its first cycle"
registry_stop
wait_cycles 2 || not_ok "the run finishes a cycle with the registry down"
registry_restart || not_ok "the registry comes back"
r0=$(requests)
wait_cycles 3 || not_ok "the run finishes a cycle with the registry back"
r1=$(requests)
kill -TERM $hinted
wait $hinted
check "the cycle after a failed one asks only the tag lists (sent $((r1 - r0)))" [ $((r1 - r0)) = 2 ]
check "and finds the update again" sh -c "tail -n 3 '$TAP_TMP/hint.log' | grep -q '1 updates waiting, 0 errors'"

# One of two sources unreadable: the table is partial, so it is not saved.
cp "$C/state/last-run.json" "$TAP_TMP/last-run.good"
sed 's|^sources:|sources:\n  - dir: ./no-such-folder|' "$CFG" >"$C/gone.yaml"
tp run --once --config "$C/gone.yaml"
expect_rc 1 "a source whose folder is gone fails the run"
check "and names the folder" grep -q "no-such-folder" "$ERR"
check "the other source's apps are still read" grep -q "^bookstore " "$OUT"
check "the last run's table is not replaced by a partial one" cmp -s "$TAP_TMP/last-run.good" "$C/state/last-run.json"
# Sources read cleanly with no Application in them: an empty table, nothing stale to show.
mkdir -p "$C/empty"
sed 's|^  - git: .*|  - dir: ./empty|; /^    branch:/d; /^    path:/d' "$CFG" >"$C/empty.yaml"
tp run --once --config "$C/empty.yaml"
expect_rc 0 "a run over an empty folder succeeds"
check "and saves an empty table" /usr/bin/python3 -c "
import json; assert json.load(open('$C/state/last-run.json'))['images'] == []"
cp "$TAP_TMP/last-run.good" "$C/state/last-run.json"

# Approve: one commit, with the trailer, in argocd-image-updater's file format.
t approve bookstore
expect_rc 0 "approve succeeds"
check "approve made exactly one commit" [ "$(commits)" = $((n0 + 1)) ]
check "the tag is written" [ "$(src_tag)" = v1.0.1 ]
head=$(cluster_git "$C" rev-parse main)
check "approve prints the commit it wrote" grep -q "${head%????????????????????????????}" "$OUT"
check "the commit carries Approved-by" sh -c "git --git-dir='$C/config.git' log -1 --format=%B main | grep -q '^Approved-by: .*@'"
check "and the default message" sh -c "git --git-dir='$C/config.git' log -1 --format=%B main | grep -q \"updates image .*bookstore-application tag 'v1.0.0' to 'v1.0.1'\""
t approve bookstore
expect_rc 1 "approving again is refused: nothing to approve"
t history bookstore --format json
check "history records the approval with its commit" /usr/bin/python3 -c "
import json; h=json.load(open('$OUT'))
assert any(r['action']=='approve' and r['commit']=='$head' and r['result']=='ok' and r['to']=='v1.0.1' and r['user'] for r in h), h"

# Pin holds against newer tags.
t pin bookstore v1.0.0
expect_rc 0 "pin v1.0.0 succeeds"
check "pin wrote v1.0.0" [ "$(src_tag)" = v1.0.0 ]
check "with Pinned-by" sh -c "git --git-dir='$C/config.git' log -1 --format=%B main | grep -q '^Pinned-by:'"
reg_push image $B v1.0.2 >/dev/null
n1=$(commits)
t run --once --approval auto
check "an auto run leaves a pinned image alone" [ "$(commits) $(src_tag)" = "$n1 v1.0.0" ]
t run --once --dry-run --format json
check "the plan says pinned" [ "$(field bookstore state) $(field bookstore pin)" = "pinned v1.0.0" ]
t pin bookstore v9.9.9
expect_rc 1 "pinning a tag the registry does not have is refused"
check "and says so" grep -q "no tag 'v9.9.9'" "$ERR"

# Unpin: offered again; auto writes it.
t unpin bookstore
expect_rc 0 "unpin succeeds"
t run --once --approval auto
check "after unpin an auto run writes v1.0.2" [ "$(src_tag)" = v1.0.2 ]
check "an auto write has no operator trailer" sh -c "! git --git-dir='$C/config.git' log -1 --format=%B main | grep -q -- '-by:'"

# Rollback: back to the previous tag, and it sticks.
t rollback bookstore
expect_rc 0 "rollback succeeds"
check "rollback wrote the previous tag" [ "$(src_tag)" = v1.0.0 ]
check "with Rolled-back-by" sh -c "git --git-dir='$C/config.git' log -1 --format=%B main | grep -q '^Rolled-back-by:'"
t run --once --approval auto
check "a rollback is not undone by the next auto run" [ "$(src_tag)" = v1.0.0 ]
t unpin bookstore

# An approval is bound to the digest the operator saw.
t run --once --dry-run --format json
seen=$(field bookstore digest)
reg_push image $B v1.0.2 --created 2030-01-01T00:00:00Z >/dev/null
n2=$(commits)
# Without the last run's hints the approving engine learns the new digest itself: only the
# digest the operator passed can tell it that this is not what they reviewed.
rm -f "$C/state/last-run.json"
t approve bookstore --digest "$seen"
expect_rc 1 "approval of a tag that moved to another digest is refused"
check "the refusal says the tag moved" grep -q "moved" "$ERR"
check "nothing was written" [ "$(commits)" = "$n2" ]
t history bookstore --format json
check "the refusal is in the history" /usr/bin/python3 -c "
import json; h=json.load(open('$OUT')); assert any(r['action']=='approve' and r['result']=='refused' for r in h)"

# Skip holds one candidate; a newer one is offered again.
t skip bookstore
expect_rc 0 "skip succeeds"
# ... and is shared: committed to the repository's .tagpilot/holds.yaml, by whom it says.
check "the skip is one commit" [ "$(commits)" = "$((n2 + 1))" ]
cluster_git "$C" show main:.tagpilot/holds.yaml >"$OUT.holds" 2>&1
check "the holds file skips v1.0.2 for bookstore" /usr/bin/python3 -c "
import yaml; h=yaml.safe_load(open('$OUT.holds'))
assert h['applications']['bookstore']['images']['bookstore']['skip'] == ['v1.0.2'], h"
check "the commit says who skipped" sh -c "git --git-dir='$C/config.git' log -1 --format=%B main | grep -q '^Skipped-by: '"
n2=$(commits)
t run --once --dry-run --format json
check "a skipped candidate is held" [ "$(field bookstore state) $(field bookstore candidate)" = "held v1.0.2" ]
reg_push image $B v1.0.3 >/dev/null
t run --once --dry-run --format json
check "a newer candidate is offered again" [ "$(field bookstore state) $(field bookstore candidate)" = "update-available v1.0.3" ]
# The digest the operator names is the one checked, not the one the engine's own scan found
# (here the scan's is right: only the operator's differs).
t approve bookstore --digest "sha256:$(printf '0%.0s' $(seq 64))"
expect_rc 1 "approval bound to a digest v1.0.3 never had is refused"
check "naming the digest the operator saw" grep -q "moved from sha256:000000000000" "$ERR"
check "nothing was written for it" [ "$(commits)" = "$n2" ]

# A second writer is told; readers still read.
"$TAGPILOT" run --config "$CFG" --interval 1h >"$TAP_TMP/daemon.log" 2>&1 &
daemon=$!
at_exit "kill $daemon"
for _ in $(seq 50); do grep -q "cycle done" "$TAP_TMP/daemon.log" && break; sleep 0.2; done
t approve bookstore
expect_rc 1 "a second writer on the state dir is refused"
check "and told why" grep -q "in use by another tagpilot" "$ERR"
t history --format json
expect_rc 0 "history reads while the engine runs"
kill -TERM $daemon
wait $daemon
check "run stops cleanly on SIGTERM (exit $?)" [ $? = 0 ]
check "and says so" grep -q "stopping" "$TAP_TMP/daemon.log"
check "and leaves no lock behind" sh -c "'$TAGPILOT' history --config '$CFG' >/dev/null"

# A tagpilot killed in the middle of a checkout leaves libgit2's lock files in its clone cache;
# the next run must not be stuck on them ("the index is locked").
for d in "$C"/state/git/*/.git; do touch "$d/index.lock" "$d/HEAD.lock"; done
t run --once --dry-run --format json
expect_rc 0 "stale git lock files in the clone cache do not block the next run"
check "and the apps are read" grep -q "\"name\":[[:space:]]*\"bookstore\"" "$OUT"

# A corrupt journal line: a warning, the rest kept.
echo "this is not json" >>"$C/state/journal.jsonl"
t history bookstore --format json
expect_rc 0 "history with a corrupt line still works"
check "and warns about the line" grep -q "not a valid record" "$ERR"
check "and keeps the records" /usr/bin/python3 -c "import json; assert len(json.load(open('$OUT'))) >= 8"
t run --once
check "a writer moves the bad line aside to journal.corrupt" grep -q "this is not json" "$C/state/journal.corrupt"
t history --format json
check "after the repair the history reads without a warning" [ ! -s "$ERR" ]

# An app whose registry is down: a clear error for it alone.
dead=$(free_port)
add_broken() {
    cluster_app broken "api=127.0.0.1:$dead/team/api:^1" >apps/broken.yaml
    mkdir -p charts/broken && printf 'image:\n  repository: x\n  tag: 1.0.0\n' >charts/broken/values.yaml
    printf 'apiVersion: v2\nname: broken\nversion: 0.1.0\n' >charts/broken/Chart.yaml
    cluster_app typo "web=$REG_HOST/$B:~1.0" \
        "    argocd-image-updater.argoproj.io/web.platforms: linux" >apps/typo.yaml
    mkdir -p charts/typo && printf 'image:\n  repository: x\n  tag: v1.0.0\n' >charts/typo/values.yaml
    printf 'apiVersion: v2\nname: typo\nversion: 0.1.0\n' >charts/typo/Chart.yaml
}
cluster_commit "$C" "add broken app" add_broken
t run --once --dry-run --format json
expect_rc 1 "run --once exits 1 when an image is in error"
check "the dead registry is an error for that app" [ "$(field broken state)" = error ]
check "naming the registry" sh -c "grep -q '127.0.0.1:$dead' '$OUT'"
check "the other apps still work" [ "$(field bookstore state)" = update-available ]
check "a bad annotation shows its image in error" [ "$(field typo state)" = error ]
check "naming the key and the value" sh -c "grep -q \"web.platforms.*'linux'\" '$OUT'"

# A shutdown in the middle of a cycle must not save that cycle's table: every image would be
# "engine stopping" in the next start's first screen. An app whose registry never answers
# keeps the cycle in flight while the signal arrives.
fault_start || not_ok "fault server starts"
printf -- '- name: faults\n  prefix: %s\n  api_url: http://%s\n' "$FAULT_HOST" "$FAULT_HOST" \
    >>"$C/registries.conf"
add_stalled() {
    cluster_app stalled "api=$FAULT_HOST/fault/stall:^1" >apps/stalled.yaml
    mkdir -p charts/stalled && printf 'image:\n  repository: x\n  tag: 1.0.0\n' >charts/stalled/values.yaml
    printf 'apiVersion: v2\nname: stalled\nversion: 0.1.0\n' >charts/stalled/Chart.yaml
}
cluster_commit "$C" "add an app whose registry stalls" add_stalled
cp "$C/state/last-run.json" "$TAP_TMP/last-run.before"
"$TAGPILOT" run --config "$CFG" --interval 1h >"$TAP_TMP/stalled.log" 2>&1 &
daemon=$!
at_exit "kill $daemon 2>/dev/null"
sleep 3
kill -TERM $daemon
wait $daemon
check "stopped mid-cycle ($(grep -c 'cycle done' "$TAP_TMP/stalled.log") cycles done)" \
    sh -c "! grep -q 'cycle done' '$TAP_TMP/stalled.log'"
check "the last run's table is left as it was" cmp -s "$TAP_TMP/last-run.before" "$C/state/last-run.json"
check "with no image in error" sh -c "! grep -q 'engine stopping' '$C/state/last-run.json'"

# An unusable state dir is a clear error.
sed "s|state-dir: ./state|state-dir: $CFG/sub|" "$CFG" >"$TAP_TMP/bad.yaml"
tp run --once --config "$TAP_TMP/bad.yaml"
expect_rc 1 "an unusable state dir fails"
check "with a message naming it" grep -q "cannot create state dir" "$ERR"
finish
