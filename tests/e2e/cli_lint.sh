#!/bin/sh
# End to end: `tagpilot lint` on a folder of typo'd and hostile Applications, as CI runs it on a
# checkout of the config repository — every error and warning on a line of its own with the
# file and line of the key, in file order; exit 1 for an error, 0 for warnings alone; JSON for
# scripts; the configured sources (a folder and a git repository) without --dir.
. "$(dirname "$0")/../lib/tap.sh"

A=$TAP_TMP/apps
mkdir -p "$A/team"
P=argocd-image-updater.argoproj.io
cat >"$A/web.yaml" <<EOF
# The web app (comments and a folded image-list do not move the lines lint names)
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web
  namespace: argocd
  annotations:
    $P/image-list: >-
      web=ghcr.io/example/web:~1.2,
      api=ghcr.io/example/api
    $P/web.allow-tags: ANY
    $P/web.update-stratgy: newest-build
    $P/api.update-strategy: Name
    $P/wbe.platforms: linux/amd64
    $P/git-branch: main
    tagpilot.io/aproval: auto
spec:
  source:
    repoURL: https://git.example.com/cluster.git
    path: charts/web
EOF
# Two documents: the second Application's lines count from the top of the file.
cat >"$A/team/multi.yaml" <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: not-an-application
  annotations:
    $P/image-list: ignored=nginx
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: billing
  annotations:
    $P/image-list: billing=nginx, billing=redis, api=ghcr.io/Acme/api
    $P/billing.force-update: maybe
    $P/write-back-method: svn
    $P/billing.allow-tags: glob:v*
spec:
  source: {repoURL: https://git.example.com/cluster.git, path: billing}
EOF
# Hostile: an escape sequence in a key, a control character in a value.
printf 'apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: hostile\n  annotations:\n    %s/image-list: "app=nginx"\n    "%s/\\e[31mapp.x": "1"\n    %s/app.helm.image-tag: "a\\x01b"\nspec:\n  source: {repoURL: x, path: y}\n' \
    $P $P $P >"$A/hostile.yaml"
# Keys without an image-list; an empty image-list; an Application without a name.
cat >"$A/nolist.yaml" <<EOF
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: nolist
  annotations:
    $P/update-strategy: semver
spec: {source: {repoURL: x, path: y}}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: empty
  annotations:
    $P/image-list: " "
spec: {source: {repoURL: x, path: y}}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  annotations: {}
EOF
printf 'kind: [\n' >"$A/broken.yaml"

tp lint --dir "$A"
expect_rc 1 "errors: exit 1"
cat >"$TAP_TMP/want" <<EOF
error: broken.yaml:2:1: did not find expected node content while parsing a flow node
hostile.yaml:7: warning: $P/\\x1b[31mapp.x: unknown annotation (ignored)
hostile.yaml:8: error: $P/app.helm.image-tag: invalid value 'a\\x01b' (control character)
nolist.yaml:6: warning: $P/update-strategy: ignored: the Application has no $P/image-list, no image is tracked
nolist.yaml:14: warning: $P/image-list: empty, no image is tracked
nolist.yaml:17: error: Application without metadata.name
EOF
check "the file errors first, then each file's messages by line: $(head -c 600 "$OUT" | tr '\n' '|')" \
    sh -c "head -n 6 '$OUT' | cmp -s - '$TAP_TMP/want'"
check "web.yaml:12: the misspelt key, with the key it meant" \
    grep -qxF "web.yaml:12: warning: $P/web.update-stratgy: unknown annotation (did you mean web.update-strategy?)" "$OUT"
check "web.yaml:13: a deprecated name in any case" \
    grep -qxF "web.yaml:13: warning: $P/api.update-strategy: update strategy 'Name' is deprecated, use 'alphabetical'" "$OUT"
check "web.yaml:14: a misspelt alias, with the alias it meant" \
    grep -qxF "web.yaml:14: warning: $P/wbe.platforms: ignored: alias 'wbe' is not in the image-list (did you mean web.platforms?)" "$OUT"
check "web.yaml:15: a git setting with argocd write-back" \
    grep -qxF "web.yaml:15: warning: $P/git-branch: has no effect with write-back-method argocd" "$OUT"
check "web.yaml:16: a misspelt tagpilot.io key" \
    grep -qxF "web.yaml:16: warning: tagpilot.io/aproval: unknown annotation (did you mean tagpilot.io/approval?)" "$OUT"
check "'ANY' is a valid allow-tags: no message for web.yaml:11" sh -c "! grep -q '^web.yaml:11:' '$OUT'"
check "the Deployment in multi.yaml is not an Application: nothing for line 6" \
    sh -c "! grep -q '^team/multi.yaml:6:' '$OUT'"
check "multi.yaml:13: the bad image-list entries, each an error on the list's line" \
    [ "$(grep -c "^team/multi.yaml:13: error: $P/image-list: image-list entry " "$OUT")" = 2 ]
check "multi.yaml:14: a bad boolean" \
    grep -qxF "team/multi.yaml:14: error: $P/billing.force-update: invalid boolean 'maybe' (want true/false, yes/no, on/off or 1/0)" "$OUT"
check "multi.yaml:15: an unknown write-back method" \
    grep -qxF "team/multi.yaml:15: error: $P/write-back-method: unknown method 'svn' (want argocd, git, git:repocreds or git:secret:[<ns>/]<name>)" "$OUT"
check "multi.yaml:16: an unknown match function" \
    grep -qxF "team/multi.yaml:16: error: $P/billing.allow-tags: unknown match function in 'glob:v*' (want regexp:<pattern> or any)" "$OUT"
check "every line is FILE:LINE: error|warning: or a file's error" \
    sh -c "! grep -vE '^([a-z/]+\.yaml:[0-9]+: (error|warning): |error: [a-z]+\.yaml:)' '$OUT'"
check "16 lines, one per message" [ "$(wc -l <"$OUT")" = 16 ]
esc=$(printf '\033')
check "no escape byte from a key reaches the terminal" sh -c "! grep -q '$esc' '$OUT'"
check "nothing on stderr" [ ! -s "$ERR" ]

tp lint --dir "$A" --format json
expect_rc 1 "json: exit 1 too"
check "json counts errors and warnings ($(jq -c '[.errors, .warnings]' "$OUT"))" \
    [ "$(jq -c '[.errors, .warnings]' "$OUT")" = "[8,8]" ]
check "json: a message with its file, line, app and severity" \
    [ "$(jq -c '.messages[] | select(.line == 12 and .file == "web.yaml") | [.app, .severity, .message]' "$OUT")" = \
    "$(jq -cn --arg m "$P/web.update-stratgy: unknown annotation (did you mean web.update-strategy?)" '["web", "warning", $m]')" ]
check "json: a file that could not be read names itself in the message" \
    [ "$(jq -c '.messages[0] | [.file, .line, .severity]' "$OUT")" = '[null,null,"error"]' ]

# Warnings alone exit 0; a clean folder prints nothing.
W=$TAP_TMP/warnings-only
mkdir -p "$W"
cp "$A/web.yaml" "$W/"
tp lint --dir "$W"
expect_rc 0 "warnings alone: exit 0"
check "… and 5 lines" [ "$(wc -l <"$OUT")" = 5 ]
sed -i "/stratgy\|Name\|wbe\|git-branch\|aproval/d" "$W/web.yaml"
tp lint --dir "$W"
expect_rc 0 "a clean folder: exit 0"
check "… and no output" [ ! -s "$OUT" ]
# A pattern that does not compile matches nothing: an error, found before any registry is asked.
printf 'apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: re\n  annotations:\n    %s/image-list: web=nginx\n    %s/web.allow-tags: "regexp:^v("\n' $P $P >"$W/re.yaml"
tp lint --dir "$W"
expect_rc 1 "a regexp that does not compile: exit 1"
check "… on its key's line" grep -q "^re.yaml:7: error: $P/web.allow-tags: invalid allow-tags regexp '^v(': " "$OUT"
rm "$W/re.yaml"
mkdir -p "$TAP_TMP/empty"
tp lint --dir "$TAP_TMP/empty"
expect_rc 0 "an empty folder: exit 0"

# Without --dir: the configured sources, a folder and a git repository (read, never written).
G=$TAP_TMP/config
mkdir -p "$G/seed/apps" "$G/local"
cp "$A/web.yaml" "$G/seed/apps/"
cp "$A/team/multi.yaml" "$G/local/"
git init -q --bare -b main "$G/config.git"
(cd "$G/seed" && git init -q -b main && git add -A &&
    git -c user.name=ops -c user.email=ops@example.com commit -qm apps &&
    git push -q "$G/config.git" main) || not_ok "config repository"
cat >"$G/tagpilot.yaml" <<EOF
sources:
  - git: file://$G/config.git
    branch: main
    path: apps
  - dir: ./local
state-dir: ./state
EOF
head0=$(git --git-dir="$G/config.git" rev-parse main)
tp lint --config "$G/tagpilot.yaml"
expect_rc 1 "lint --config: the folder's errors fail it"
check "the git source's file is named from the repository's root" \
    grep -qxF "apps/web.yaml:12: warning: $P/web.update-stratgy: unknown annotation (did you mean web.update-strategy?)" "$OUT"
check "the folder source's file from the folder" \
    grep -qxF "multi.yaml:15: error: $P/write-back-method: unknown method 'svn' (want argocd, git, git:repocreds or git:secret:[<ns>/]<name>)" "$OUT"
check "nothing was written to the repository" [ "$(git --git-dir="$G/config.git" rev-parse main)" = "$head0" ]
check "nor a journal" [ ! -e "$G/state/journal.jsonl" ]
sed -i '/- dir:/d' "$G/tagpilot.yaml"
tp lint --config "$G/tagpilot.yaml"
expect_rc 0 "lint --config with warnings alone: exit 0"
sed -i 's|config.git|missing.git|' "$G/tagpilot.yaml"
tp lint --config "$G/tagpilot.yaml"
expect_rc 1 "a source that cannot be read: exit 1"
check "… said on stderr" grep -q "missing.git" "$ERR"

# Usage.
tp lint --help
expect_rc 0 "lint --help"
check "help names --dir" grep -q -- "--dir PATH" "$OUT"
tp --help
check "tagpilot --help lists lint" grep -q "tagpilot lint" "$OUT"
tp lint --dir "$A" --format yaml
expect_rc 2 "an unknown format is bad usage"
tp lint --dir "$A" extra
expect_rc 2 "an argument is bad usage"
tp lint --dir "$A" --config "$G/tagpilot.yaml"
expect_rc 2 "--dir and --config together are bad usage"
tp lint --dir
expect_rc 2 "--dir without a value is bad usage"
tp lint --dir "$TAP_TMP/nowhere"
expect_rc 1 "a folder that does not exist fails"
check "… naming it" grep -q "nowhere: no such folder" "$ERR"
finish
