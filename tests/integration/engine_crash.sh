#!/bin/sh
# Crash safety of actions: `tagpilot pin` / `unpin` are killed with SIGKILL at random moments,
# 50 rounds. Every acknowledged action must be in the journal, the journal must parse, every
# acknowledged commit must be on main, the cluster repository must pass git fsck with no
# half-written file, and the next run must work (no stale lock, no broken clone cache).
. "$(dirname "$0")/../lib/tap.sh"
. "$TP_ROOT/tests/lib/registry.sh"
. "$TP_ROOT/tests/lib/cluster.sh"

registry_start anon || { not_ok "registry starts"; finish; exit 1; }
B=amplication/bookstore-application
for t in v1.0.0 v1.0.1 v1.0.2 v1.0.3; do reg_push image $B $t >/dev/null; done
reg_push image team/catalog 1.4.0 >/dev/null
C=$TAP_TMP/cluster
cluster_repo "$C" || not_ok "cluster repository"
CFG=$C/tagpilot.yaml
acked=$TAP_TMP/acked
: >"$acked"
problems=""
tags="v1.0.0 v1.0.1 v1.0.2 v1.0.3"
for round in $(seq 50); do
    r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
    if [ $((r % 4)) = 0 ]; then
        set -- unpin bookstore
    else
        set -- pin bookstore "$(echo $tags | cut -d' ' -f$((r % 4 + 1)))"
    fi
    "$TAGPILOT" "$@" --config "$CFG" >"$TAP_TMP/out" 2>"$TAP_TMP/err" </dev/null &
    pid=$!
    # 0..1.2 s: before, during and after the write.
    sleep "$((r % 12)).$((r % 10))e-1" 2>/dev/null || sleep 0.$((r % 10))
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    rc=$?
    if [ $rc = 0 ]; then
        echo "$1 ${3:-} $(sed -n 's/.*(commit \([0-9a-f]*\)).*/\1/p' "$TAP_TMP/out")" >>"$acked"
    fi
    grep -q Sanitizer "$TAP_TMP/err" && problems="$problems round $round: sanitizer report;"
done
check "some rounds were acknowledged ($(wc -l <"$acked") of 50)" [ -s "$acked" ]

"$TAGPILOT" history --config "$CFG" --format json >"$TAP_TMP/history.json" 2>"$TAP_TMP/err"
check "the journal parses after 50 kills" /usr/bin/python3 -c "import json; json.load(open('$TAP_TMP/history.json'))"
check "every acknowledged action is in the journal" /usr/bin/python3 - "$TAP_TMP/history.json" "$acked" <<'PY'
import json, sys
hist = json.load(open(sys.argv[1]))
ok = [(r["action"], r.get("to") or "") for r in hist if r.get("result") == "ok"]
for line in open(sys.argv[2]):
    parts = line.split()
    want = (parts[0], parts[1] if parts[0] == "pin" else "")
    if want not in ok:
        sys.exit("acknowledged %s missing from the journal" % (want,))
PY
lost=""
while read -r action tag commit; do
    [ -n "$commit" ] || continue
    cluster_git "$C" merge-base --is-ancestor "$commit" main 2>/dev/null || lost="$lost $commit"
done <"$acked"
check "every acknowledged commit is on main${lost:+ (lost:$lost)}" [ -z "$lost" ]
check "the cluster repository passes git fsck" cluster_git "$C" fsck --no-progress --strict
check "the write-back file is whole YAML" sh -c "git --git-dir='$C/config.git' show main:charts/bookstore/.argocd-source-bookstore.yaml 2>/dev/null | /usr/bin/python3 -c 'import sys,yaml; yaml.safe_load(sys.stdin)' || ! git --git-dir='$C/config.git' cat-file -e main:charts/bookstore/.argocd-source-bookstore.yaml"
check "no sanitizer report in any round${problems:+:$problems}" [ -z "$problems" ]

# After all that, the next action works: no stale lock, no broken clone cache.
tp unpin bookstore --config "$CFG"
tp pin bookstore v1.0.1 --config "$CFG"
expect_rc 0 "a pin after the crashes works"
check "and is written" sh -c "git --git-dir='$C/config.git' show main:charts/bookstore/.argocd-source-bookstore.yaml | grep -q 'value: v1.0.1'"
finish
