#!/bin/sh
# README.md's first screen (40 lines) against the program: it starts with the two set-up
# commands and says, before any scrolling, that the make targets install packages with apt-get,
# where Applications come from, which write-back works, and where the state lives — and the
# state directory it names is the one tagpilot uses.
. "$(dirname "$0")/../lib/tap.sh"

README=$TP_ROOT/README.md
head -n 40 "$README" | tr '\n' ' ' | tr -s ' ' >"$TAP_TMP/screen" # one line: as read
first_block=$(sed -n '/^```/,/^```/p' "$README" | sed -n '2,/^```/p' | sed '$d' | head -n 3)
check "the first code block is make demo, then make check" \
    [ "$(printf '%s\n' "$first_block" | awk '{print $1, $2}' | tr '\n' ,)" = "make demo,make check," ]
on_screen() { grep -q -- "$1" "$TAP_TMP/screen"; }
check "first screen: make installs missing packages with apt-get as root" on_screen 'install the Debian packages they miss, with `apt-get` as root'
check "first screen: Applications come from a cluster" on_screen 'read from a cluster (`sources: - kubernetes:`'
check "first screen: or a git repository or a folder" on_screen '(`- git:`) or from a local folder (`- dir:`)'
check "first screen: write-back-method argocd patches the Application" on_screen '`write-back-method: argocd` .* patches the Application'
check "first screen: git commits" on_screen '`git` commits to the app.s repository'
check "first screen: the journal lives in the state directory" on_screen 'the journal .* lives in the state directory'
check "first screen: its default" on_screen '~/.local/state/tagpilot'

# The default is what the program does: no state-dir:, no XDG_STATE_HOME.
mkdir -p "$TAP_TMP/home" "$TAP_TMP/apps"
printf 'sources:\n  - dir: %s\n' "$TAP_TMP/apps" >"$TAP_TMP/tagpilot.yaml"
HOME=$TAP_TMP/home XDG_STATE_HOME='' tp run --once --config "$TAP_TMP/tagpilot.yaml"
expect_rc 0 "a run without state-dir: succeeds"
check "and keeps its state in ~/.local/state/tagpilot" [ -f "$TAP_TMP/home/.local/state/tagpilot/last-run.json" ]
finish
