#!/bin/sh
# The console in tmux at 80x24 and 160x50: the table shows every app with its current and
# candidate tag, and Enter (detail), / (filter), ? (help) and s (sort) do what the keys say.
. "$(dirname "$0")/../lib/tap.sh"
. "$TP_ROOT/tests/e2e/console_common.inc"

registry_start anon || { not_ok "registry starts"; finish; exit 1; }
B=amplication/bookstore-application
for t in v1.0.0 v1.0.1 v1.1.0 v2.0.0-rc1 latest; do reg_push image $B $t >/dev/null; done
reg_push image team/catalog 1.4.0 >/dev/null && reg_push image team/catalog 1.5.0 >/dev/null ||
    not_ok "push images"
C=$TAP_TMP/cluster
cluster_repo "$C" || not_ok "cluster repository"
slow_cycles "$C"

for size in 80x24 160x50; do
    cols=${size%x*} rows=${size#*x}
    s=t$size
    console_start "$s" "$cols" "$rows" -- --config "$C/tagpilot.yaml"
    if ! wait_screen "$s" 'v1\.0\.1'; then
        not_ok "$size: the table shows bookstore's candidate"
        console_stop "$s"
        continue
    fi
    wait_screen "$s" '^catalog .*1\.5\.0' >/dev/null
    check "$size: bookstore row: current v1.0.0, candidate v1.0.1, update-available" \
        sh -c "tmux capture-pane -p -t $s | grep -E '^bookstore ' | grep -E 'v1\.0\.0 +v1\.0\.1 ' | grep -q 'update-av'"
    check "$size: catalog row: current 1.4.0, candidate 1.5.0" \
        sh -c "tmux capture-pane -p -t $s | grep -E '^catalog ' | grep -Eq '1\.4\.0 +1\.5\.0 '"
    check "$size: header names the source" sh -c "tmux capture-pane -p -t $s | head -1 | grep -q 'config.git@main:apps'"
    check "$size: the last line lists the keys" sh -c "tmux capture-pane -p -t $s | tail -1 | grep -q 'a approve.*q quit'"
    check "$size: column titles" sh -c "tmux capture-pane -p -t $s | grep -Eq '^APP +ALIAS/IMAGE +CURRENT +CANDIDATE +STRATEGY +STATE +AGE'"
    if [ "$cols" = 80 ]; then
        check "80x24: a long image name ends in an ellipsis" sh -c "tmux capture-pane -p -t $s | grep -E '^bookstore ' | grep -q '…'"
    else
        check "160x50: the whole image name fits" sh -c "tmux capture-pane -p -t $s | grep -E '^bookstore ' | grep -q 'amplication/bookstore-application '"
    fi
    check "$size: no line is wider than the window" sh -c "tmux capture-pane -p -t $s | /usr/bin/python3 -c 'import sys; sys.exit(any(len(l.rstrip(\"\\n\")) > $cols for l in sys.stdin))'"

    # Enter: the detail view of the selected (first) row, bookstore.
    press "$s" Enter
    check "$size: Enter opens bookstore's detail with every tag" wait_screen "$s" '^Tags \(5\)'
    check "$size: the detail gives a reason per tag" wait_screen "$s" "does not satisfy '~1\.0'"
    check "$size: the detail names the write-back target" wait_screen "$s" 'target +charts/bookstore/\.argocd-source-bookstore\.yaml'
    if [ "$rows" = 50 ]; then
        check "160x50: the detail shows the diff a write would commit" wait_screen "$s" '\+ +value: v1\.0\.1'
    fi
    press "$s" q
    check "$size: q goes back to the table" wait_screen "$s" '^APP +ALIAS/IMAGE'

    # /: filter, Enter keeps it, Esc clears it.
    press "$s" /
    type_text "$s" catalog
    press "$s" Enter
    check "$size: /catalog keeps catalog" wait_screen "$s" '^catalog '
    check "$size: /catalog hides bookstore" sh -c "! tmux capture-pane -p -t $s | grep -q '^bookstore '"
    check "$size: the header shows the filter" wait_screen "$s" 'filter /catalog'
    press "$s" Enter
    check "$size: after a filter, Enter opens the first match" wait_screen "$s" '^catalog / catalog'
    press "$s" q Escape
    check "$size: Esc clears the filter" wait_screen "$s" '^bookstore '
    press "$s" /
    type_text "$s" '^(book|nothing)'
    press "$s" Enter
    check "$size: a regex filter" sh -c "tmux capture-pane -p -t $s | grep -q '^bookstore ' && ! tmux capture-pane -p -t $s | grep -q '^catalog '"
    press "$s" Escape

    # ?: help from the key table.
    press "$s" '?'
    check "$size: ? shows help generated from the key table" wait_screen "$s" 'approve the candidate \(writes it\)'
    press "$s" G
    check "$size: help explains the state symbols (G scrolls to the end)" wait_screen "$s" '↑ update-available +update available'
    press "$s" q

    # s: sort by state puts the update first; the header says so.
    press "$s" s
    check "$size: s sorts by state" wait_screen "$s" 'sort: state'
    press "$s" s s s
    check "$size: s cycles back to app" wait_screen "$s" 'sort: app'

    # l: the engine's log in a pane under the table.
    press "$s" l
    check "$size: l shows the engine log" wait_screen "$s" 'Engine log \(l hides\)'
    check "$size: the log has the engine's events" wait_screen "$s" 'cycle done'
    check "$size: the table stays above the log" wait_screen "$s" '^bookstore '
    press "$s" l
    check "$size: l hides it again" sh -c "! tmux capture-pane -p -t $s | grep -q 'Engine log'"

    press "$s" q
    check "$size: q quits with exit code 0" wait_screen "$s" 'console exited rc=0'
    check "$size: the terminal is restored" terminal_restored "$s"
    console_stop "$s"
done
finish
