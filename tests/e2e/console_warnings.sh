#!/bin/sh
# The console in tmux: an Application whose annotations have a typo shows the warning where the
# operator looks — in the image's detail view (file, line, the key it meant; wrapped to the
# window, never cut), and in the engine log — while an image without warnings shows none.
. "$(dirname "$0")/../lib/tap.sh"
. "$TP_ROOT/tests/e2e/console_common.inc"

registry_start anon || { not_ok "registry starts"; finish; exit 1; }
B=amplication/bookstore-application
for t in v1.0.0 v1.0.1; do reg_push image $B $t >/dev/null; done
reg_push image team/catalog 1.4.0 >/dev/null || not_ok "push images"
C=$TAP_TMP/cluster
cluster_repo "$C" || not_ok "cluster repository"
slow_cycles "$C"
# line 10 of apps/bookstore.yaml: a misspelt key
typo() {
    sed -i '9a\    argocd-image-updater.argoproj.io/bookstore.update-stratgy: newest-build' apps/bookstore.yaml
}
cluster_commit "$C" "a typo" typo || not_ok "commit the typo"
P=argocd-image-updater.argoproj.io
WARNING="apps/bookstore.yaml:10: $P/bookstore.update-stratgy: unknown annotation (did you mean bookstore.update-strategy?)"

for size in 160x50 80x24; do
    cols=${size%x*} rows=${size#*x}
    s=w$size
    console_start "$s" "$cols" "$rows" -- --config "$C/tagpilot.yaml"
    if ! wait_screen "$s" '^bookstore .*v1\.0\.1'; then
        not_ok "$size: the table shows bookstore's candidate"
        console_stop "$s"
        continue
    fi
    press "$s" Enter
    check "$size: Enter opens bookstore's detail" wait_screen "$s" '^Tags \('
    screen_of "$s" >"$TAP_TMP/$s.detail"
    if [ "$cols" = 160 ]; then
        check "$size: the warning on one line, with its file, line and the key it meant" \
            grep -qxF "warning    $WARNING" "$TAP_TMP/$s.detail"
    else
        # wrapped at the window's width: the words in order, the suggestion not cut off
        joined=$(sed -n '/^warning /,/^strategy /p' "$TAP_TMP/$s.detail" | sed '$d' |
            sed 's/^warning  *//; s/^  *//' | tr '\n' ' ' | sed 's/ $//')
        check "$size: the warning wraps and reads whole: '$joined'" [ "$joined" = "$WARNING" ]
        check "$size: the wrapped lines are indented under the label" \
            grep -qE '^ {11}[^ ].*did you mean' "$TAP_TMP/$s.detail"
    fi
    check "$size: no line is wider than the window" \
        sh -c "/usr/bin/python3 -c 'import sys; sys.exit(any(len(l.rstrip(\"\\n\")) > $cols for l in sys.stdin))' <'$TAP_TMP/$s.detail'"
    press "$s" q j Enter
    check "$size: catalog's detail" wait_screen "$s" '^catalog / catalog'
    check "$size: catalog has no warning" sh -c "! tmux capture-pane -p -t $s | grep -q '^warning '"
    press "$s" q l
    check "$size: the engine log has the warning too" wait_screen "$s" "warning: app bookstore: apps/bookstore\.yaml:10: "
    press "$s" l q
    check "$size: q quits with exit code 0" wait_screen "$s" 'console exited rc=0'
    check "$size: the terminal is restored" terminal_restored "$s"
    console_stop "$s"
done
finish
