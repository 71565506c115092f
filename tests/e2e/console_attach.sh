#!/bin/sh
# `tagpilot serve` with consoles attached (tmux) and commands from other Unix users: one engine
# asks the registry, however many consoles watch; a viewer's hand-written command is refused by
# the server; an operator's approve lands in every console within a second, journalled and
# trailed with the operator's name; a stopped console holds no one up; consoles say when the
# server is gone and come back with it; /metrics passes promtool, counts each registry's
# requests apart, /healthz answers. A viewer's console started without --read-only is a
# read-only one all the same: the server's hello says it is a viewer.
# Runs as root (CI does): it creates two users and a group, and removes them at exit.
. "$(dirname "$0")/../lib/tap.sh"
. "$TP_ROOT/tests/e2e/console_common.inc"
need setpriv useradd groupadd promtool python3 curl

REG_ACCESS_LOG_OFF=false registry_start anon || { not_ok "docker-registry starts"; finish; exit 1; }
B=amplication/bookstore-application
for t in v1.0.0 v1.0.1; do reg_push image $B $t >/dev/null; done
reg_push image team/catalog 1.4.0 >/dev/null && reg_push image team/catalog 1.5.0 >/dev/null ||
    not_ok "push images"
# A second registry, for the ledger app: /metrics counts requests per registry.
R1_HOST=$REG_HOST R1_URL=$REG_URL R1_DIR=$REG_DIR
REG_ACCESS_LOG_OFF=false registry_start anon || not_ok "a second docker-registry starts"
R2_HOST=$REG_HOST
reg_push image team/ledger 2.0.0 >/dev/null || not_ok "push the ledger image"
REG_HOST=$R1_HOST REG_URL=$R1_URL REG_DIR=$R1_DIR
C=$TAP_TMP/c
cluster_repo "$C" || not_ok "cluster repository"
# ledger: its image is on the second registry.
add_ledger() {
    mkdir -p charts/ledger &&
        printf 'image:\n  repository: %s/team/ledger\n  tag: 2.0.0\n' "$R2_HOST" \
            >charts/ledger/values.yaml &&
        cluster_app ledger "ledger=$R2_HOST/team/ledger:^2.0" \
            "    argocd-image-updater.argoproj.io/write-back-target: helmvalues:values.yaml" \
            >apps/ledger.yaml
}
cluster_commit "$C" "ledger" add_ledger || not_ok "the ledger app"
printf -- '- name: second\n  prefix: %s\n  api_url: http://%s\n  insecure: yes\n' "$R2_HOST" \
    "$R2_HOST" >>"$C/registries.conf"

# Users: a viewer and an operator, both in the socket's group.
G=tpsg$$ V=tpsv$$ O=tpso$$
groupadd "$G" && useradd -M -N -g "$G" -s /usr/sbin/nologin "$V" &&
    useradd -M -N -g "$G" -s /usr/sbin/nologin "$O" || not_ok "useradd"
at_exit "userdel $V; userdel $O; groupdel $G"
# The config and the socket's folder where they may reach; the state dir stays root's, 0700.
UDIR=$(mktemp -d /tmp/tagpilot-serve.XXXXXX)
chmod 755 "$UDIR"
at_exit "rm -rf '$UDIR'"
HTTP=127.0.0.1:$(free_port)
sed "s#\./#$C/#; s#^interval: .*#interval: 1h#" "$C/tagpilot.yaml" >"$UDIR/tagpilot.yaml"
cat >>"$UDIR/tagpilot.yaml" <<Y
serve:
  socket: $UDIR/run/engine.sock
  listen: $HTTP
  group: $G
  viewers: [$V]
  operators: $O
Y
chmod 644 "$UDIR/tagpilot.yaml"
CFG=$UDIR/tagpilot.yaml
SOCK=$UDIR/run/engine.sock
as() { # USER ARGS...: tp as that user
    who=$1
    shift
    setpriv --reuid="$(id -u "$who")" --regid="$(id -g "$who")" --init-groups \
        "$TAGPILOT" "$@" >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    grep -q Sanitizer "$ERR" && { not_ok "sanitizer report as $who: tagpilot $*"; cat "$ERR"; }
    return 0
}
serve_start() {
    "$TAGPILOT" serve --config "$CFG" >>"$TAP_TMP/serve.log" 2>&1 &
    SERVE_PID=$!
    at_exit "kill $SERVE_PID 2>/dev/null"
    i=0
    while [ $i -lt 100 ] && ! [ -S "$SOCK" ]; do sleep 0.1; i=$((i + 1)); done
    [ -S "$SOCK" ]
}
tag_lists() { grep -c "GET /v2/team/catalog/tags/list" "$REG_DIR/registry.log"; }
metric() { curl -s "http://$HTTP/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }

# --- The server and its socket. -----------------------------------------------------------------
check "tagpilot serve starts and listens" serve_start
check "the socket is 0770" [ "$(stat -c %a "$SOCK")" = 770 ]
check "the socket belongs to serve.group" [ "$(stat -c %G "$SOCK")" = "$G" ]
check "its folder is 0750" [ "$(stat -c %a "$UDIR/run")" = 750 ]
tp serve --config "$CFG"
expect_rc 1 "a second server on a live socket is refused"
check "... saying one answers there" grep -q "already answers" "$ERR"
i=0
while [ $i -lt 100 ] && [ "$(metric tagpilot_last_cycle_timestamp_seconds)" = 0.000 ]; do
    sleep 0.1
    i=$((i + 1))
done
lists=$(tag_lists)

# --- Consoles attach; the registry sees one engine. ---------------------------------------------
for n in 1 2 3; do console_start "w$n" 140 24 -- --config "$CFG" --read-only; done
for n in 1 2 3; do
    check "console $n says it is attached" wait_screen "w$n" "attached to $SOCK"
done
check "console 1 shows the server's rows" wait_screen w1 "catalog +1\.4\.0 +1\.5\.0"
sleep 1
check "three consoles cost the registry no tag list (one engine)" [ "$(tag_lists)" = "$lists" ]
check "/metrics counts the attached consoles" [ "$(metric tagpilot_attached_clients)" = 3 ]

# --- A viewer's hand-written command is refused by the server. ----------------------------------
before=$(wc -l <"$C/state/journal.jsonl" 2>/dev/null || echo 0)
cat >"$UDIR/raw.py" <<'P'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rw")
f.write(json.dumps({"type": "hello", "protocol": 1}) + "\n")
f.write(json.dumps({"type": "command", "id": 7, "command": "approve", "app": "catalog"}) + "\n")
f.flush()
for line in f:
    m = json.loads(line)
    if m["type"] in ("result", "error"):
        print(json.dumps(m))
        break
P
setpriv --reuid="$(id -u "$V")" --regid="$(id -g "$V")" --init-groups \
    /usr/bin/python3 "$UDIR/raw.py" "$SOCK" >"$OUT" 2>"$ERR"
check "the viewer's approve is answered: refused" grep -q '"ok": false' "$OUT"
check "... as a viewer's" grep -q "is a viewer" "$OUT"
as "$V" approve catalog --config "$CFG"
expect_rc 1 "tagpilot approve as a viewer fails"
check "nothing was recorded for the viewer" [ "$(wc -l <"$C/state/journal.jsonl" 2>/dev/null || echo 0)" = "$before" ]
check "catalog is still at 1.4.0 in git" sh -c "cluster_file() { git --git-dir='$C/config.git' show main:\$1; }; cluster_file charts/catalog/values.yaml | grep -q 'tag: 1.4.0'"

# --- A viewer's console without --read-only: the server's hello makes it a read-only one. -----
cat >"$UDIR/viewer.sh" <<S
#!/bin/sh
exec setpriv --reuid=$(id -u "$V") --regid=$(id -g "$V") --init-groups "$TAGPILOT" "\$@"
S
chmod 755 "$UDIR/viewer.sh"
REAL_TAGPILOT=$TAGPILOT
TAGPILOT=$UDIR/viewer.sh
console_start v1 140 24 -- --config "$CFG"
TAGPILOT=$REAL_TAGPILOT
check "the viewer's console attaches" wait_screen v1 "attached to $SOCK"
check "its header says it is a viewer" wait_screen v1 "VIEWER"
check "its hint line is there" sh -c "tmux capture-pane -p -t v1 | tail -1 | grep -q help"
check "... without a writing key" sh -c "! tmux capture-pane -p -t v1 | tail -1 | grep -Eq ' (a approve|p pin|u unpin|r rollback|x skip)'"
press v1 '?'
check "its help locks the writing keys" wait_screen v1 "approve the candidate.*\\[locked"
check "... as a viewer's" wait_screen v1 "viewer: writing keys locked"
press v1 q a y
check "a is locked for it" wait_screen v1 "'a' \\(approve\\) is locked"
sleep 1
check "... and sends nothing: the server refused nothing" sh -c "! tmux capture-pane -p -t v1 | grep -q 'is a viewer'"
check "... and nothing was journalled" [ "$(wc -l <"$C/state/journal.jsonl" 2>/dev/null || echo 0)" = "$before" ]
console_stop v1

# --- A stopped console holds no one up; an operator's approve reaches every console. ------------
kill -STOP "$(console_pid w3)"
as "$O" approve catalog --config "$CFG"
expect_rc 0 "the operator's approve lands through the server"
check "console 1 shows it within a second" wait_screen w1 "catalog +1\.5\.0 .*written" 10
check "console 2 too" wait_screen w2 "catalog +1\.5\.0 .*written" 10
check "the journal names the operator" grep -q "\"user\":\"$O\".*\"action\":\"approve\"" "$C/state/journal.jsonl"
check "the commit trailer names the operator" sh -c "git --git-dir='$C/config.git' log -1 --format=%B main | grep -q 'Approved-by: $O@'"
as "$V" history catalog --config "$CFG"
check "a viewer reads the history from the server" grep -q "$O .*approve" "$OUT"
kill -CONT "$(console_pid w3)"
check "the stopped console catches up" wait_screen w3 "catalog +1\.5\.0 .*written" 30

# --- run --once --dry-run asks the server, not the registry. -------------------------------------
lists=$(tag_lists)
as "$V" run --once --dry-run --format json --config "$CFG"
expect_rc 0 "run --once --dry-run works for a viewer through the server"
check "... with the server's table" sh -c "jq -e '.applications[] | select(.name == \"catalog\") | .images[0].current == \"1.5.0\"' '$OUT' >/dev/null"
check "... and no registry request" [ "$(tag_lists)" = "$lists" ]

# --- /metrics and /healthz. ---------------------------------------------------------------------
curl -s "http://$HTTP/metrics" >"$TAP_TMP/metrics"
# promtool parses (exit 1 on a format error) and lints (exit 3): the only lint it may report is
# "_total" on a gauge, for argocd-image-updater's own gauge names, kept as it names them.
promtool check metrics <"$TAP_TMP/metrics" >"$TAP_TMP/promtool.out" 2>&1
prc=$?
check "/metrics parses with promtool check metrics (exit $prc)" [ $prc = 0 -o $prc = 3 ]
check "... its only lint is argocd-image-updater's gauge names" sh -c "! grep -v '^argocd_image_updater_\\(applications_watched\\|images_watched\\|images_errors\\)_total non-counter metrics should not have \"_total\" suffix' '$TAP_TMP/promtool.out' | grep ."
check "/metrics counts the first registry's requests" grep -q "^argocd_image_updater_registry_requests_total{registry=\"$R1_HOST\"} [1-9]" "$TAP_TMP/metrics"
check "... and the second's, apart" grep -q "^argocd_image_updater_registry_requests_total{registry=\"$R2_HOST\"} [1-9]" "$TAP_TMP/metrics"
check "... each with its failed requests: none" grep -q "^argocd_image_updater_registry_requests_failed_total{registry=\"$R1_HOST\"} 0$" "$TAP_TMP/metrics"
check "... none for the second either" grep -q "^argocd_image_updater_registry_requests_failed_total{registry=\"$R2_HOST\"} 0$" "$TAP_TMP/metrics"
check "/metrics has the Kubernetes counters, 0 without a cluster" grep -q '^argocd_image_updater_k8s_api_requests_total 0$' "$TAP_TMP/metrics"
check "/metrics counts the watched images by application" grep -q '^argocd_image_updater_images_watched_total{application="catalog"} 1$' "$TAP_TMP/metrics"
check "/metrics counts the update" grep -q '^argocd_image_updater_images_updated_total{application="catalog"} 1$' "$TAP_TMP/metrics"
check "/healthz is 200 after a recent cycle" [ "$(curl -s -o /dev/null -w %{http_code} "http://$HTTP/healthz")" = 200 ]
check "an unknown path is 404" [ "$(curl -s -o /dev/null -w %{http_code} "http://$HTTP/nope")" = 404 ]

# --- The server goes away and comes back. -------------------------------------------------------
kill -9 "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null
check "console 1 says the server went away" wait_screen w1 "server: .*went away.*reconnecting" 30
check "console 2 too" wait_screen w2 "server: .*went away" 30
check "a stale socket is replaced by a new server" serve_start
check "console 1 reattaches" wait_screen w1 "engine (idle|scanning)" 100
check "... with the rows" wait_screen w1 "catalog +1\.5\.0" 50
for n in 1 2 3; do console_stop "w$n"; done
kill "$SERVE_PID"
wait "$SERVE_PID"
check "the server stops on SIGTERM (exit 0)" [ $? = 0 ]
check "... and removes its socket" [ ! -e "$SOCK" ]
check "no sanitizer report from the server" sh -c "! grep -q Sanitizer '$TAP_TMP/serve.log'"
finish
