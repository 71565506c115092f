#!/bin/sh
# Hard stops around a push, through the real binary against git-http-backend behind lighttpd
# (a wrapper CGI misbehaves on purpose, then runs the real backend):
#   - another writer wins the race, before our push ("non-fast-forward") and during it ("failed
#     to update ref"), or the server says "fetch first": tagpilot re-reads, re-plans and pushes
#     again; the journal and the commit name the tag it really replaced;
#   - SIGKILL while the server holds a push, after it landed and before: the next start
#     reconciles the intent record with the remote, so history names the commit that landed
#     and never one that did not;
#   - the state dir's disk fills up before and after a push (a small tmpfs);
#   - a server that accepts the connection and never answers: git.timeout ends the transfer,
#     SIGTERM ends the process at once.
. "$(dirname "$0")/../lib/tap.sh"
. "$TP_ROOT/tests/lib/registry.sh"
. "$TP_ROOT/tests/lib/cluster.sh"
. "$TP_ROOT/tests/lib/githttp.sh"

[ "$(id -u)" = 0 ] || { not_ok "this suite mounts a tmpfs: it must run as root"; finish; exit 1; }
registry_start anon || { not_ok "registry starts"; finish; exit 1; }
B=amplication/bookstore-application
reg_push image $B v1.0.0 >/dev/null && reg_push image $B v1.0.1 >/dev/null &&
    reg_push image team/catalog 1.4.0 >/dev/null || not_ok "push images"
C=$TAP_TMP/cluster
cluster_repo "$C" || not_ok "cluster repository"
git --git-dir="$C/config.git" config http.receivepack true

# The wrapper: $R/mode says which misbehaviour comes next (used once, then cleared).
R=$TAP_TMP/race
mkdir -p "$R"
cat >"$R/backend.sh" <<SH
#!/bin/sh
real=/usr/lib/git-core/git-http-backend
mode=\$(cat "$R/mode" 2>/dev/null)
case "\$REQUEST_METHOD \$PATH_INFO \$QUERY_STRING" in
"GET /config.git/info/refs service=git-receive-pack")
    [ "\$mode" = advert-race ] && { : >"$R/mode"; sh "$R/colleague.sh"; } ;;
"POST /config.git/git-receive-pack "*)
    case \$mode in
    post-race) : >"$R/mode"; sh "$R/colleague.sh" ;;
    hold-after) : >"$R/mode"; \$real >"$R/resp"; touch "$R/landed"; sleep 60; cat "$R/resp"; exit 0 ;;
    hold-before) : >"$R/mode"; touch "$R/holding"; sleep 60; exit 1 ;;
    fill-after) : >"$R/mode"; \$real >"$R/resp"; sh "$R/fill.sh"; cat "$R/resp"; exit 0 ;;
    fetch-first) : >"$R/mode"; exec /usr/bin/python3 "$R/fetchfirst.py" ;;
    esac ;;
esac
exec \$real
SH
chmod +x "$R/backend.sh"
# "fetch first" is how git's own client words a branch that moved; no receive-pack sends it as a
# ref's status, so for that one the wrapper answers in the backend's place (report-status in
# side band 1, as libgit2 negotiates it), after reading the push it refuses.
cat >"$R/fetchfirst.py" <<'PY'
import sys
sys.stdin.buffer.read()
def pkt(b):
    return b"%04x" % (len(b) + 4) + b
status = pkt(b"unpack ok\n") + pkt(b"ng refs/heads/main fetch first\n") + b"0000"
sys.stdout.buffer.write(b"Content-Type: application/x-git-receive-pack-result\r\n"
                        b"Cache-Control: no-cache\r\n\r\n" + pkt(b"\x01" + status) + b"0000")
PY
TOKEN=tok-wal-5e2d
GITHTTP_BACKEND=$R/backend.sh githttp_start "$C" bot "$TOKEN" || { not_ok "lighttpd starts"; finish; exit 1; }
URL=$GITHTTP_URL/config.git
export GIT_CREDS="bot:$TOKEN"
# The apps and the config read the repository over http.
to_http() { sed -i "s|repoURL: file://$C/config.git|repoURL: $URL|" apps/*.yaml; }
cluster_commit "$C" "over http" to_http || not_ok "apps point at the http repository"
config() { # FILE STATE
    cat >"$1" <<Y
sources:
  - git: $URL
    branch: main
    path: apps
registries-conf: $C/registries.conf
state-dir: $2
interval: 2s
git:
  author: {name: tagpilot, email: tagpilot@example.com}
  credentials: env:GIT_CREDS
Y
}
CFG=$TAP_TMP/tagpilot.yaml
config "$CFG" "$TAP_TMP/state"
t() { tp "$@" --config "$CFG"; }
main_id() { cluster_git "$C" rev-parse main; }
src_tag() { cluster_file "$C" charts/bookstore/.argocd-source-bookstore.yaml 2>/dev/null |
    /usr/bin/python3 -c 'import sys,yaml; d=yaml.safe_load(sys.stdin) or {}; print({p["name"]: p["value"] for p in d.get("helm",{}).get("parameters",[])}.get("image.tag","none"))'; }
last_record() { # FIELD: of the journal's last record
    tail -n 1 "$1" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin).get('$2'))"
}
# A colleague sets bookstore's tag to $1 with a commit of their own, straight into the bare repo.
colleague() {
    cat >"$R/colleague.sh" <<SH
w=\$(mktemp -d)
git clone -q "$C/config.git" "\$w" && cd "\$w" &&
printf 'helm:\n  parameters:\n  - name: image.name\n    value: $REG_HOST/$B\n    forcestring: true\n  - name: image.tag\n    value: $1\n    forcestring: true\n' >charts/bookstore/.argocd-source-bookstore.yaml &&
git add -A && git $GIT_ID commit -qm "colleague: $1" && git push -q origin main
rm -rf "\$w"
SH
}

# bookstore_pin: bookstore's pin in the last --format json
bookstore_pin() {
    /usr/bin/python3 -c "import json; d=json.load(open('$OUT')); print([i for a in d['applications'] if a['name']=='bookstore' for i in a['images']][0].get('pin'))"
}

t run --once
expect_rc 0 "the first scan over http"

# 1. The branch moves between our fetch and our push: the push is refused as not a fast-forward
# (libgit2 sees the new tip in the advertisement) and tried again on the new tip.
colleague v1.0.0-hotfix1
echo advert-race >"$R/mode"
t approve bookstore
expect_rc 0 "approve succeeds after the branch moved before the push"
check "the colleague's commit is kept under ours" \
    sh -c "git --git-dir='$C/config.git' log --format=%s main | sed -n 2p | grep -q 'colleague: v1.0.0-hotfix1'"
check "main has v1.0.1: $(src_tag)" [ "$(src_tag)" = v1.0.1 ]
check "the commit message names the tag it replaced" \
    sh -c "git --git-dir='$C/config.git' log -1 --format=%B main | grep -q \"tag 'v1.0.0-hotfix1' to 'v1.0.1'\""
check "so does the journal: from $(last_record "$TAP_TMP/state/journal.jsonl" from)" \
    [ "$(last_record "$TAP_TMP/state/journal.jsonl" from)" = v1.0.0-hotfix1 ]
check "the journal's outcome is ok with the pushed commit" \
    [ "$(last_record "$TAP_TMP/state/journal.jsonl" commit)" = "$(main_id)" ]
check "an intent was recorded before each push (2 attempts)" \
    [ "$(grep -c '"result":"intent"' "$TAP_TMP/state/journal.jsonl")" = 2 ]

# 2. Another push wins during ours: the server's "failed to update ref" is retried too.
t rollback bookstore v1.0.0
colleague v1.0.0-hotfix2
echo post-race >"$R/mode"
t pin bookstore v1.0.1
expect_rc 0 "pin succeeds after the server refused with 'failed to update ref'"
check "main has v1.0.1 again: $(src_tag)" [ "$(src_tag)" = v1.0.1 ]
check "the journal names the tag really replaced: $(last_record "$TAP_TMP/state/journal.jsonl" from)" \
    [ "$(last_record "$TAP_TMP/state/journal.jsonl" from)" = v1.0.0-hotfix2 ]
t unpin bookstore

# 2b. The server refuses with "fetch first": the same retry on a fresh fetch.
t rollback bookstore v1.0.0
echo fetch-first >"$R/mode"
t pin bookstore v1.0.1
expect_rc 0 "pin succeeds after the server refused with 'fetch first'"
check "main has v1.0.1 once more: $(src_tag)" [ "$(src_tag)" = v1.0.1 ]
op=$(last_record "$TAP_TMP/state/journal.jsonl" op)
check "two intents for that pin: the refused push and the retry" \
    [ "$(grep -c "\"result\":\"intent\".*\"op\":\"$op\"" "$TAP_TMP/state/journal.jsonl")" = 2 ]
t unpin bookstore

# 3. SIGKILL while the server holds a push that has landed: the restart records it.
t rollback bookstore v1.0.0
before=$(main_id)
echo hold-after >"$R/mode"
rm -f "$R/landed"
"$TAGPILOT" pin bookstore v1.0.1 --config "$CFG" >"$TAP_TMP/kill1.out" 2>&1 &
pid=$!
for _ in $(seq 150); do [ -e "$R/landed" ] && break; sleep 0.1; done
check "the server has taken the push" [ -e "$R/landed" ]
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
landed=$(main_id)
check "the commit is on main ($landed, was $before)" [ "$landed" != "$before" ]
check "the journal ends on an intent for that commit" \
    [ "$(last_record "$TAP_TMP/state/journal.jsonl" result) $(last_record "$TAP_TMP/state/journal.jsonl" commit)" = "intent $landed" ]
t run --once
check "the restart reconciles: ok, commit $landed" \
    [ "$(last_record "$TAP_TMP/state/journal.jsonl" result) $(last_record "$TAP_TMP/state/journal.jsonl" commit)" = "ok $landed" ]
t history bookstore --format json
check "history names the commit that landed, as written" /usr/bin/python3 -c "
import json; r=json.load(open('$OUT'))
assert any(x.get('commit')=='$landed' and x.get('result')=='ok' for x in r), r"
t run --once --dry-run --format json
check "and the pin it made holds ($(bookstore_pin))" [ "$(bookstore_pin)" = v1.0.1 ]
t unpin bookstore

# 4. SIGKILL while the server holds a push it will refuse: the restart says it did not land.
t rollback bookstore v1.0.0
before=$(main_id)
echo hold-before >"$R/mode"
rm -f "$R/holding"
"$TAGPILOT" pin bookstore v1.0.1 --config "$CFG" >"$TAP_TMP/kill2.out" 2>&1 &
pid=$!
for _ in $(seq 150); do [ -e "$R/holding" ] && break; sleep 0.1; done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
sleep 1
check "main did not move" [ "$(main_id)" = "$before" ]
intent=$(last_record "$TAP_TMP/state/journal.jsonl" commit)
check "the journal ends on an intent" [ "$(last_record "$TAP_TMP/state/journal.jsonl" result)" = intent ]
t run --once
check "the restart records that it did not land" \
    [ "$(last_record "$TAP_TMP/state/journal.jsonl" result)" = error ]
check "naming the commit" sh -c "tail -n 1 '$TAP_TMP/state/journal.jsonl' | grep -q \"commit ${intent%????????????????????????????} is not on main\""
t run --once --dry-run --format json
check "the pin did not take: bookstore stays pinned where the rollback put it ($(bookstore_pin))" \
    [ "$(bookstore_pin)" = v1.0.0 ]
t unpin bookstore # the rollback's pin is shared: the state dir below would honour it too

# 5. The disk fills up: before the push nothing is pushed; after it, the outcome is recorded
# on the next start. (tmpfs gives a file whole pages: after the push, the journal is padded with
# blank lines, which it ignores, to the end of its last page, then the rest of the disk is
# filled, so that the outcome's append needs space there is none of.)
cat >"$R/fill.sh" <<SH
j="$R/tmpfs/state/journal.jsonl"
sz=\$(stat -c %s "\$j")
head -c \$(( (4096 - sz % 4096) % 4096 )) /dev/zero | tr '\\0' '\\n' >>"\$j"
dd if=/dev/zero of="$R/tmpfs/fill" bs=4k 2>/dev/null
SH
mkdir -p "$R/tmpfs"
mount -t tmpfs -o size=4m tmpfs "$R/tmpfs" || not_ok "mount a tmpfs"
at_exit "umount -l '$R/tmpfs'"
SMALL=$TAP_TMP/small.yaml
config "$SMALL" "$R/tmpfs/state"
tp run --once --config "$SMALL"
expect_rc 0 "a scan with the state dir on the small tmpfs"
dd if=/dev/zero of="$R/tmpfs/fill" bs=4k 2>/dev/null
before=$(main_id)
tp approve bookstore --config "$SMALL"
expect_rc 1 "approve on a full disk fails"
check "saying why: $(head -c 200 "$ERR")" grep -q "No space left on device" "$ERR"
check "and nothing was pushed" [ "$(main_id)" = "$before" ]
rm -f "$R/tmpfs/fill"
echo fill-after >"$R/mode"
tp approve bookstore --config "$SMALL"
expect_rc 1 "approve whose outcome cannot be recorded is not acknowledged"
check "saying it was written and will be reconciled: $(head -c 300 "$ERR")" grep -q "reconciled from the intent record" "$ERR"
after=$(main_id)
check "the commit is on main" [ "$after" != "$before" ]
rm -f "$R/tmpfs/fill"
tp run --once --config "$SMALL"
check "the next start records the outcome: ok $after" \
    [ "$(last_record "$R/tmpfs/state/journal.jsonl" result) $(last_record "$R/tmpfs/state/journal.jsonl" commit)" = "ok $after" ]
check "the journal still parses" /usr/bin/python3 -c "import json; [json.loads(l) for l in open('$R/tmpfs/state/journal.jsonl') if l.strip()]"

# 6. A server that accepts and never answers.
HP=$(free_port)
/usr/bin/python3 "$TP_ROOT/tests/lib/hungserver.py" "$HP" "$TAP_TMP/hung.log" &
hung=$!
at_exit "kill $hung 2>/dev/null"
for _ in $(seq 50); do [ -e "$TAP_TMP/hung.log" ] && break; sleep 0.1; done
HUNG=$TAP_TMP/hung.yaml
cat >"$HUNG" <<Y
sources:
  - git: http://127.0.0.1:$HP/config.git
    path: apps
state-dir: $TAP_TMP/hung-state
git:
  timeout: 2s
Y
timeout -k 5 60 "$TAGPILOT" run --once --config "$HUNG" >"$OUT" 2>"$ERR"
RC=$?
check "run --once against a hung server ends (exit $RC, not a timeout)" [ "$RC" = 1 ]
check "naming the stall: $(grep -m1 error "$OUT")" grep -q "no progress for 2 s" "$OUT"
cat >"$HUNG" <<Y
sources:
  - git: http://127.0.0.1:$HP/config.git
    path: apps
state-dir: $TAP_TMP/hung-state
Y
seen=$(grep -c accepted "$TAP_TMP/hung.log")
"$TAGPILOT" run --config "$HUNG" >"$TAP_TMP/term.out" 2>&1 &
pid=$!
for _ in $(seq 100); do [ "$(grep -c accepted "$TAP_TMP/hung.log")" -gt "$seen" ] && break; sleep 0.1; done
check "the run is connected to the hung server" [ "$(grep -c accepted "$TAP_TMP/hung.log")" -gt "$seen" ]
kill -TERM $pid
# The default timeout is 30 s: an exit before the watchdog's 10 s is SIGTERM's doing.
(sleep 10; kill -9 $pid 2>/dev/null) &
watchdog=$!
wait $pid
rc=$?
kill $watchdog 2>/dev/null
check "SIGTERM ends a run stuck on a hung server at once (exit $rc; 137 is the watchdog's kill)" [ $rc = 0 ]
check "no sanitizer report" sh -c "! grep -q Sanitizer '$TAP_TMP/term.out'"
finish
