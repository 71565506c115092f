#!/bin/sh
# A restarted console draws the last run's table at once (last-run.json in the state dir),
# says so in the header, and lets go of it as soon as this run has read its sources — here, a
# git server that accepts the connection and never answers, so "at once" cannot be a race
# with the real scan. When that read fails, the old rows go and the failure shows instead; the
# saved table survives it, and rows read but not yet decided again stay marked as saved.
. "$(dirname "$0")/../lib/tap.sh"
. "$TP_ROOT/tests/e2e/console_common.inc"

registry_start anon || { not_ok "registry starts"; finish; exit 1; }
B=amplication/bookstore-application
for t in v1.0.0 v1.0.1; do reg_push image $B $t >/dev/null; done
reg_push image team/catalog 1.4.0 >/dev/null || not_ok "push images"
C=$TAP_TMP/cluster
cluster_repo "$C" || not_ok "cluster repository"
slow_cycles "$C"

# A first run leaves its table behind.
"$TAGPILOT" run --once --config "$C/tagpilot.yaml" >/dev/null 2>"$TAP_TMP/run.err"
check "a run leaves last-run.json in the state dir, readable by its owner only" \
    [ "$(stat -c %a "$C/state/last-run.json" 2>/dev/null)" = 600 ]

# The next start reads the sources from a server that holds every request.
HANG_PORT=$(free_port)
/usr/bin/python3 -c "
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $HANG_PORT))
s.listen(8)
held = []
while True:
    held.append(s.accept()[0])
" &
HANG_PID=$!
at_exit "kill $HANG_PID 2>/dev/null"
sed -i "s|git: file://.*|git: http://127.0.0.1:$HANG_PORT/config.git|" "$C/tagpilot.yaml"

s=restart
console_start $s 140 30 -- --config "$C/tagpilot.yaml"
check "the header says the rows are the last run's" wait_screen $s 'as the last run left them'
check "bookstore's row is there with its waiting update" wait_screen $s '^bookstore .*v1\.0\.0 .*v1\.0\.1'
check "and catalog's" wait_screen $s '^catalog .*1\.4\.0'
press $s Enter
check "its detail opens from the saved row" wait_screen $s 'candidate +v1\.0\.1'
press $s Escape

# The read fails: the old rows must not pass for the current state.
kill $HANG_PID
check "once the source read fails, the last run's rows are gone" \
    wait_screen $s 'no tracked images'
check "and the header no longer claims them" sh -c "! tmux capture-pane -p -t $s | grep -q 'as the last run left them'"
check "it says a source is in error instead" wait_screen $s 'source error: l shows the log'
press $s q
check "q quits with exit code 0" wait_screen $s 'console exited rc=0'
console_stop $s

# q while a fetch hangs: the console ends at once, not when git.timeout (30 s) runs out.
HANG2=$(free_port)
/usr/bin/python3 "$TP_ROOT/tests/lib/hungserver.py" "$HANG2" "$TAP_TMP/hang2.log" &
at_exit "kill $! 2>/dev/null"
for _ in $(seq 50); do [ -e "$TAP_TMP/hang2.log" ] && break; sleep 0.1; done
sed "s|- git: .*|- git: http://127.0.0.1:$HANG2/config.git|" "$C/tagpilot.yaml" >"$C/hung.yaml"
s=hungq
console_start $s 140 30 -- --config "$C/hung.yaml"
for _ in $(seq 100); do grep -q accepted "$TAP_TMP/hang2.log" && break; sleep 0.1; done
check "the console is fetching from the hung server" grep -q accepted "$TAP_TMP/hang2.log"
tmux send-keys -t $s q
check "q ends it within 5 s while the fetch hangs" wait_screen $s 'console exited rc=' 50
console_stop $s

# The source readable again and the registry frozen mid-answer: the rows read are the saved
# ones (the failed read above did not replace them with an empty table) until this cycle has
# decided them, and the header counts them until then.
sed -i "s|git: http://127.0.0.1:$HANG_PORT/config.git|git: file://$C/config.git|" "$C/tagpilot.yaml"
kill -STOP "$REG_PID"
at_exit "kill -CONT $REG_PID 2>/dev/null"
s=frozen
console_start $s 140 30 -- --config "$C/tagpilot.yaml"
check "read, the saved rows are counted while the registry is asked" \
    wait_screen $s 'engine scanning 0 of 2 .*2 images, 2 as the last run left them'
check "and still drawn" wait_screen $s '^bookstore .*v1\.0\.0 .*v1\.0\.1'
kill -CONT "$REG_PID"
check "answered, the cycle decides them and the mark goes" wait_screen $s 'engine idle'
check "no row is claimed as the last run's" sh -c "! tmux capture-pane -p -t $s | grep -q 'last run'"
check "bookstore waits again" wait_screen $s '^bookstore .*v1\.0\.0 .*v1\.0\.1 .*update'
press $s q
check "q quits with exit code 0" wait_screen $s 'console exited rc=0'
console_stop $s
finish
