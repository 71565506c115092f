#!/bin/sh
# The console as a terminal program: NO_COLOR means no colour at all, 8 and 256 colours both
# draw, --ascii keeps to ASCII, themes cycle with t and a broken theme file is named with its
# line, resizing (even below the minimum) does not crash, and the terminal is restored after q
# and after SIGTERM.
. "$(dirname "$0")/../lib/tap.sh"
. "$TP_ROOT/tests/e2e/console_common.inc"

registry_start anon || { not_ok "registry starts"; finish; exit 1; }
B=amplication/bookstore-application
for t in v1.0.0 v1.0.1 v1.1.0; do reg_push image $B $t >/dev/null; done
reg_push image team/catalog 1.4.0 >/dev/null || not_ok "push images"
C=$TAP_TMP/cluster
cluster_repo "$C" || not_ok "cluster repository"
slow_cycles "$C"

# colours FILE: how many SGR sequences in a `capture-pane -e` dump set a colour
colours() {
    /usr/bin/python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
n = 0
for params in re.findall(r"\x1b\[([0-9;:]*)m", text):
    codes = [int(p) for p in re.split("[;:]", params) if p.isdigit()]
    if any(30 <= c <= 37 or 40 <= c <= 47 or 90 <= c <= 97 or 100 <= c <= 107 or c in (38, 48)
           for c in codes):
        n += 1
print(n)
PY
}

# NO_COLOR: attributes only.
s=nocolor
console_start $s 100 30 NO_COLOR=1 -- --config "$C/tagpilot.yaml"
wait_screen $s '^bookstore .*v1\.0\.1' || not_ok "NO_COLOR console shows the table"
tmux capture-pane -e -p -t $s >"$TAP_TMP/nocolor.ansi"
check "NO_COLOR: no colour escape sequences on the screen" [ "$(colours "$TAP_TMP/nocolor.ansi")" = 0 ]
check "NO_COLOR: the selection still stands out (reverse video)" grep -q "$(printf '\033')\[[0-9;]*7[;m]" "$TAP_TMP/nocolor.ansi"
check "NO_COLOR: states told apart by symbol" sh -c "tmux capture-pane -p -t $s | grep -q '↑ update-available'"
press $s t
tmux capture-pane -e -p -t $s >"$TAP_TMP/nocolor2.ansi"
check "NO_COLOR: still no colour after t switches theme" [ "$(colours "$TAP_TMP/nocolor2.ansi")" = 0 ]
press $s q
console_stop $s

# 256 and 8 colours.
for term in screen-256color screen; do
    s=c-$term
    CONSOLE_TERM=$term console_start $s 100 30 -- --config "$C/tagpilot.yaml"
    wait_screen $s '^bookstore .*v1\.0\.1' >/dev/null
    tmux capture-pane -e -p -t $s >"$TAP_TMP/$s.ansi"
    check "TERM=$term: the table draws in colour" [ "$(colours "$TAP_TMP/$s.ansi")" -gt 0 ]
    press $s q
    check "TERM=$term: quits cleanly" wait_screen $s 'console exited rc=0'
    console_stop $s
done

# Themes: t cycles; --theme picks one; a malformed file names file and line and falls back.
s=themes
console_start $s 100 30 -- --theme light --config "$C/tagpilot.yaml"
wait_screen $s '^bookstore ' >/dev/null
press $s t
check "t moves to the next theme (light -> monochrome)" wait_screen $s 'theme: monochrome'
press $s t
check "t cycles round to default" wait_screen $s 'theme: default'
press $s q
console_stop $s
printf 'name: broken\nheader:\n  fg: purple-ish\n' >"$TAP_TMP/broken.yaml"
s=badtheme
console_start $s 120 30 -- --theme "$TAP_TMP/broken.yaml" --config "$C/tagpilot.yaml"
check "a malformed theme is named with its line" wait_screen $s "broken\.yaml:3: unknown colour 'purple-ish'"
check "and the console runs on the default theme" wait_screen $s '^bookstore '
press $s q
wait_screen $s 'console exited' >/dev/null
check "the theme error is repeated on stderr after exit" grep -q "broken.yaml:3: unknown colour" "$TAP_TMP/$s.err"
console_stop $s
s=envtheme
console_start $s 100 30 TAGPILOT_THEME=high-contrast -- --config "$C/tagpilot.yaml"
wait_screen $s '^bookstore ' >/dev/null
press $s '?' G
check "\$TAGPILOT_THEME chooses the theme" wait_screen $s 'theme: high-contrast from .*themes/high-contrast\.yaml'
press $s q q
console_stop $s

cp "$C/tagpilot.yaml" "$C/themed.yaml"
echo "theme: monochrome" >>"$C/themed.yaml"
s=cfgtheme
console_start $s 100 30 -- --config "$C/themed.yaml"
wait_screen $s '^bookstore ' >/dev/null
press $s '?' G
check "the config's theme: chooses the theme" wait_screen $s 'theme: monochrome from .*themes/monochrome\.yaml'
press $s q q
console_stop $s

# --ascii: nothing but ASCII on the screen.
s=ascii
console_start $s 100 30 -- --ascii --config "$C/tagpilot.yaml"
wait_screen $s '^bookstore .*v1\.0\.1' >/dev/null
check "--ascii: states by ASCII symbol" wait_screen $s '\^ update-available'
press $s a
wait_screen $s 'Cancel' >/dev/null
check "--ascii: only ASCII characters, dialog included" sh -c "! tmux capture-pane -p -t $s | LC_ALL=C grep -q '[^ -~]'"
press $s n q
console_stop $s

# Resize: bigger, smaller, below the minimum and back; the process lives and redraws.
s=resize
console_start $s 100 30 -- --config "$C/tagpilot.yaml"
wait_screen $s '^bookstore .*v1\.0\.1' >/dev/null
pid=$(console_pid $s)
tmux resize-window -t $s -x 160 -y 50
check "resize to 160x50 redraws at the new width" wait_screen $s 'amplication/bookstore-application +v1\.0\.0'
press $s Enter
tmux resize-window -t $s -x 40 -y 8
check "below the minimum a clear message" wait_screen $s 'needs at least'
tmux resize-window -t $s -x 80 -y 24
check "back at 80x24 the view is drawn again" wait_screen $s '^Tags \(3\)'
for geometry in 70x20 120x40 61x11 200x60 80x24; do
    tmux resize-window -t $s -x "${geometry%x*}" -y "${geometry#*x}"
    sleep 0.2
done
check "the process survived every resize" kill -0 "$pid"
press $s q
check "the table after resizing" wait_screen $s '^bookstore .*v1\.0\.0'
check "no line is wider than the window after resizing" sh -c "tmux capture-pane -p -t $s | /usr/bin/python3 -c 'import sys; sys.exit(any(len(l.rstrip(\"\\n\")) > 80 for l in sys.stdin))'"
press $s q
check "q: exit code 0" wait_screen $s 'console exited rc=0'
check "q: the terminal is restored (icanon, echo, main screen)" terminal_restored $s
console_stop $s

# SIGTERM restores the terminal too.
s=term
console_start $s 100 30 -- --config "$C/tagpilot.yaml"
wait_screen $s '^bookstore ' >/dev/null
press $s a
pid=$(console_pid $s)
kill -TERM "$pid"
check "SIGTERM: the console exits" wait_screen $s 'console exited rc=0'
check "SIGTERM: the terminal is restored" terminal_restored $s
console_stop $s
finish
