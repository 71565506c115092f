#!/bin/sh
# The state directory is the user's, with the real binary against a real registry and git
# repository: files 0600 and folders 0700 after a run; a state dir owned by another user,
# writable by the group, or a symbolic link is refused with the reason; links planted for
# journal.jsonl, journal.corrupt, lock, last-run.json and a metadata cache file never make a
# root tagpilot write or copy a root-only file; without $HOME and $XDG_STATE_HOME the user is
# asked for state-dir:; action results show a hostile tag escaped; and a user's read-only
# commands work on a state dir they cannot write, writing nothing.
# Runs as root (CI does): it creates a user with useradd and removes it at exit.
. "$(dirname "$0")/../lib/tap.sh"
. "$TP_ROOT/tests/lib/registry.sh"
. "$TP_ROOT/tests/lib/cluster.sh"

if [ "$(id -u)" != 0 ]; then
    not_ok "state_dir needs root to create a user and hand it a directory (CI runs it as root)"
    finish
    exit 1
fi

registry_start anon || { not_ok "registry starts"; finish; exit 1; }
B=amplication/bookstore-application
reg_push image $B v1.0.0 --created 2024-01-01T00:00:00Z >/dev/null &&
    reg_push image $B v1.0.1 --created 2024-02-01T00:00:00Z >/dev/null &&
    reg_push image team/catalog 1.4.0 >/dev/null || not_ok "push images"
C=$TAP_TMP/cluster
cluster_repo "$C" || not_ok "cluster repository"
# bookstore by newest-build: its metadata goes through the disk cache (registry/meta).
cluster_commit "$C" "bookstore by newest-build" sed -i \
    's/bookstore.update-strategy: semver/bookstore.update-strategy: newest-build/' \
    apps/bookstore.yaml || not_ok "switch bookstore to newest-build"
CFG=$C/tagpilot.yaml
S=$C/state
ESC=$(printf '\033')
t() { tp "$@" --config "$CFG"; }
mode() { stat -c %a "$1"; }
# config_with LINE: a copy of the config with its state-dir: line replaced (or removed: "")
config_with() {
    f=$TAP_TMP/cfg-$(echo "$1" | md5sum | cut -c1-8).yaml
    if [ -n "$1" ]; then sed "s|^state-dir: .*|$1|" "$CFG" >"$f"; else sed '/^state-dir:/d' "$CFG" >"$f"; fi
    echo "$f"
}

# The other user: a state dir it owns is refused by root, and it runs the read-only commands.
U=tpst$$
useradd -M -N -s /usr/sbin/nologin "$U" || not_ok "useradd $U"
at_exit "userdel $U"
UID_U=$(id -u "$U")
GID_U=$(id -g "$U")
# A folder that user may enter (the suite's own temp folder is root's, 0700).
UDIR=$(mktemp -d /tmp/tagpilot-statedir.XXXXXX)
chmod 755 "$UDIR"
at_exit "rm -rf '$UDIR'"
# as_user ARGS...: tp, run as that user
as_user() {
    setpriv --reuid="$UID_U" --regid="$GID_U" --clear-groups "$TAGPILOT" "$@" >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    if [ $RC = 86 ] || [ $RC = 87 ] || grep -q 'Sanitizer' "$ERR"; then
        not_ok "sanitizer report running as $U: tagpilot $*"
        cat "$ERR"
    fi
}

# --- A run leaves a private state dir. ---------------------------------------------------------
t run --once
expect_rc 0 "a first run succeeds"
check "the state dir is 0700" [ "$(mode "$S")" = 700 ]
for f in journal.jsonl lock last-run.json yaml-cache; do
    check "$f is 0600" [ "$(mode "$S/$f")" = 600 ]
done
n_meta=$(find "$S/registry" -type f | wc -l)
check "newest-build cached metadata on disk ($n_meta files)" [ "$n_meta" -gt 0 ]
check "every cache file is 0600" [ -z "$(find "$S/registry" -type f ! -perm 600)" ]
check "every cache folder is 0700" [ -z "$(find "$S/registry" -type d ! -perm 700)" ]

# --- Links planted in it are never followed. ----------------------------------------------------
SECRET=$TAP_TMP/root-only
printf 'root-only s3cr3t %s\n' "$$" >"$SECRET"
chmod 600 "$SECRET"
cp "$SECRET" "$TAP_TMP/root-only.expected"
# Another user's file, where a copy of the secret would land.
LOOT=$UDIR/loot
: >"$LOOT"
chown "$U" "$LOOT"
chmod 666 "$LOOT"
secret_safe() { # DESC: the secret unchanged, and copied nowhere in the state dir or the loot
    check "$1: the root-only file is unchanged" cmp -s "$SECRET" "$TAP_TMP/root-only.expected"
    check "$1: its text is in no file of the state dir" sh -c "! grep -rqF 's3cr3t' '$S'"
    check "$1: nor in the other user's file" [ ! -s "$LOOT" ]
}

# journal.jsonl -> the secret, journal.corrupt -> the other user's file. The old code read the
# secret as corrupt journal lines and appended them to journal.corrupt.
mv "$S/journal.jsonl" "$TAP_TMP/journal.saved"
ln -s "$SECRET" "$S/journal.jsonl"
ln -s "$LOOT" "$S/journal.corrupt"
t run --once
expect_rc 1 "a run refuses a linked journal"
check "naming it" grep -qF "$S/journal.jsonl is a symbolic link; refusing to follow it" "$ERR"
secret_safe "linked journal"
t history
expect_rc 1 "history refuses to read through the link too"
check "and prints nothing of the file" sh -c "! grep -qF 's3cr3t' '$OUT' '$ERR'"
rm "$S/journal.jsonl"
mv "$TAP_TMP/journal.saved" "$S/journal.jsonl"
# A torn journal is repaired into journal.corrupt: still the link there is not written through.
printf '{"action":' >>"$S/journal.jsonl"
t run --once
expect_rc 1 "a repair that would write through a linked journal.corrupt fails"
check "saying it cannot repair" grep -q "cannot repair journal" "$ERR"
secret_safe "linked journal.corrupt"
rm "$S/journal.corrupt"
t run --once
expect_rc 0 "with the link gone the repair works"
check "journal.corrupt is 0600" [ "$(mode "$S/journal.corrupt")" = 600 ]

ln -sf "$SECRET" "$S/lock"
t run --once
expect_rc 1 "a linked lock is refused"
check "naming it" grep -qF "$S/lock is a symbolic link; refusing to follow it" "$ERR"
secret_safe "linked lock"
rm "$S/lock"

ln -sf "$SECRET" "$S/last-run.json"
t run --once
expect_rc 0 "a linked last-run.json is not read, and replaced by the save"
check "last-run.json is a file of its own again" [ ! -L "$S/last-run.json" ]
check "0600" [ "$(mode "$S/last-run.json")" = 600 ]
check "holding the table" grep -q '"app":"bookstore"' "$S/last-run.json"
secret_safe "linked last-run.json"

# The manifests a --once run parsed (yaml-cache): a link there is not read, and the save replaces
# it; a manifest changed since the last run is read as it is now, the others as they were.
ln -sf "$SECRET" "$S/yaml-cache"
t run --once
expect_rc 0 "a linked yaml-cache is not read, and replaced by the save"
check "yaml-cache is a file of its own again" [ ! -L "$S/yaml-cache" ]
check "0600" [ "$(mode "$S/yaml-cache")" = 600 ]
secret_safe "linked yaml-cache"
catalog_candidate() { # the catalog image's candidate in a --once report
    t run --once --format json
    jq -r '.applications[] | select(.name == "catalog") | .images[0].candidate' "$OUT"
}
check "catalog's candidate is 1.4.0 under ^1.0" [ "$(catalog_candidate)" = 1.4.0 ]
cluster_commit "$C" "catalog on ^2.0" sed -i 's|team/catalog:^1.0|team/catalog:^2.0|' \
    apps/catalog.yaml || not_ok "change catalog's constraint"
check "a run after the change reads it: no candidate under ^2.0" \
    [ "$(catalog_candidate)" = null ]
check "bookstore, unchanged, still reads the same" \
    jq -e '.applications[] | select(.name == "bookstore") | .images[0].state != "error"' "$OUT"
cluster_commit "$C" "catalog back on ^1.0" sed -i 's|team/catalog:^2.0|team/catalog:^1.0|' \
    apps/catalog.yaml || not_ok "change catalog's constraint back"
check "and back: 1.4.0 again" [ "$(catalog_candidate)" = 1.4.0 ]

meta=$(find "$S/registry/meta" -type f | head -1)
ln -sf "$SECRET" "$meta"
t run --once
expect_rc 0 "a linked cache file is a miss"
check "replaced by a file of its own" [ ! -L "$meta" ]
check "0600" [ "$(mode "$meta")" = 600 ]
check "holding metadata" grep -q '"kind"' "$meta"
secret_safe "linked cache file"

# --- Action results show a hostile tag escaped. ------------------------------------------------
t skip bookstore "v9${ESC}[2J${ESC}]0;pwned$(printf '\007')"
expect_rc 1 "skip refuses what is no tag (it would go into the shared holds)"
check "its refusal shows the tag escaped" \
    grep -qF "'v9\x1b[2J\x1b]0;pwned\x07' is no tag" "$ERR"
check "with no raw ESC" sh -c "! grep -q '$ESC' '$OUT' '$ERR'"
t pin bookstore "v9${ESC}[2J"
expect_rc 1 "pin to a tag the registry does not have fails"
check "its refusal shows the tag escaped" grep -qF "the registry has no tag 'v9\x1b[2J'" "$ERR"
check "with no raw ESC" sh -c "! grep -q '$ESC' '$ERR'"
t approve bookstore
expect_rc 0 "approve writes"
check "its result names the tags" grep -q 'bookstore/bookstore: .*v1.0.1' "$OUT"
for f in journal.jsonl lock last-run.json yaml-cache; do
    check "$f is still 0600 after the actions" [ "$(mode "$S/$f")" = 600 ]
done

# --- A state dir that is not the user's is refused. --------------------------------------------
OTHER=$TAP_TMP/other-state
mkdir -m 700 "$OTHER"
chown "$U" "$OTHER"
t_other=$(config_with "state-dir: $OTHER")
tp run --once --config "$t_other"
expect_rc 1 "a state dir owned by another user is refused"
check "with the reason" grep -qF "state dir $OTHER is owned by uid $UID_U, not you (0); refusing it" "$ERR"
tp history --config "$t_other"
expect_rc 1 "history refuses it too"
check "with the reason" grep -qF "is owned by uid $UID_U" "$ERR"
check "nothing was written into it" [ -z "$(ls -A "$OTHER")" ]

GW=$TAP_TMP/group-state
mkdir "$GW"
chmod 775 "$GW"
tp run --once --config "$(config_with "state-dir: $GW")"
expect_rc 1 "a group-writable state dir is refused"
check "with the reason" grep -qF "state dir $GW is writable by group or others (mode 0775); refusing it" "$ERR"
check "nothing was written into it" [ -z "$(ls -A "$GW")" ]

REAL=$TAP_TMP/real-state
mkdir -m 700 "$REAL"
ln -s "$REAL" "$TAP_TMP/link-state"
tp run --once --config "$(config_with "state-dir: $TAP_TMP/link-state")"
expect_rc 1 "a state dir that is a symbolic link is refused"
check "with the reason" grep -qF "state dir $TAP_TMP/link-state is a symbolic link; refusing it" "$ERR"
check "nothing was written behind it" [ -z "$(ls -A "$REAL")" ]

# --- No $HOME, no $XDG_STATE_HOME: no /tmp fallback, a question. -------------------------------
nostate=$(config_with "")
saved_home=${HOME-}
unset HOME XDG_STATE_HOME
tp run --once --config "$nostate"
rc_run=$RC
cp "$ERR" "$TAP_TMP/nostate.err"
tp history --config "$nostate"
export HOME="$saved_home"
RC=$rc_run
expect_rc 1 "run without \$HOME, \$XDG_STATE_HOME or state-dir: fails"
check "asking for state-dir: in the config file" grep -qF \
    "no state dir: \$XDG_STATE_HOME and \$HOME are not set (or not absolute); set state-dir: in $nostate" \
    "$TAP_TMP/nostate.err"
check "history asks the same" grep -qF "set state-dir: in $nostate" "$ERR"

# --- A user's read-only commands on a state dir they cannot write. -----------------------------
US=$UDIR/state
mkdir -m 700 "$US"
cp "$S/journal.jsonl" "$S/last-run.json" "$US/"
chown -R "$U" "$US"
chmod 400 "$US/journal.jsonl" "$US/last-run.json"
chmod 500 "$US"
printf 'state-dir: %s\n' "$US" >"$UDIR/tagpilot.yaml"
before=$(ls -lA --time-style=+%s.%N "$US")
records=$(wc -l <"$US/journal.jsonl")
as_user history --config "$UDIR/tagpilot.yaml"
expect_rc 0 "history works on a state dir its user cannot write"
check "listing all $records records" [ "$(wc -l <"$OUT")" = "$records" ]
check "the hostile skip among them, escaped" grep -qF 'v9\x1b[2J' "$OUT"
as_user run --once --dry-run --config "$UDIR/tagpilot.yaml"
expect_rc 0 "a dry run works there too"
check "with no complaint about the state dir" sh -c "! grep -qiE 'state dir|denied|cannot' '$ERR' '$OUT'"
check "the state dir is as it was: nothing written" [ "$(ls -lA --time-style=+%s.%N "$US")" = "$before" ]
finish
