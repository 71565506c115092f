#!/bin/sh
# Crash safety of the journal: a writer is killed with SIGKILL at random moments, 60 rounds.
# Every record it acknowledged must still be there, in order, and the journal must parse.
. "$(dirname "$0")/../lib/tap.sh"

state=$TAP_TMP/state
writer=$TP_TOOLS/journal_crash
acked=0
lost=""
for round in $(seq 60); do
    "$writer" "$state" "$acked" 100000 >"$TAP_TMP/acks" 2>"$TAP_TMP/err" &
    pid=$!
    # Let it acknowledge something (however slow the machine), then kill it 0..20 ms later:
    # mostly in the middle of a later write.
    for _ in $(seq 200); do [ -s "$TAP_TMP/acks" ] && break; sleep 0.01; done
    sleep "0.0$(printf '%02d' $(($(od -An -N1 -tu1 /dev/urandom) % 21)))"
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    last=$(tail -n 1 "$TAP_TMP/acks" | sed -n 's/^acked //p')
    [ -n "$last" ] && acked=$((last + 1))
    # Read back with a fresh writer that appends nothing: its warnings show repairs.
    "$writer" "$state" 0 0 2>"$TAP_TMP/check" >/dev/null || { lost="round $round: $(cat "$TAP_TMP/check")"; break; }
    got=$(grep -c '"action":"approve"' "$state/journal.jsonl")
    if [ "$got" -lt "$acked" ]; then
        lost="round $round: $got records on disk, $acked acknowledged"
        break
    fi
done
check "60 kill -9 rounds lose no acknowledged record${lost:+ ($lost)}" [ -z "$lost" ]
check "records were written across the rounds ($acked)" [ "$acked" -gt 60 ]
check "every line of the journal parses" /usr/bin/python3 -c '
import json, sys
n = [int(json.loads(l)["to"][1:]) for l in open(sys.argv[1]) if l.strip()]
# A record written but killed before its acknowledgement is written again by the next round,
# so a number may repeat once in a row; otherwise the sequence runs without holes.
dedup = [x for i, x in enumerate(n) if i == 0 or x != n[i - 1]]
sys.exit(0 if dedup == list(range(len(dedup))) else 1)' "$state/journal.jsonl"
finish
