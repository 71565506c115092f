#!/bin/sh
# The engine (`tagpilot run --once`) against Debian's docker-registry: allow-tags and ignore-tags
# decide the candidate, names are read in any case as argocd-image-updater reads them
# ("Alphabetical", "REGEXP:", "ANY"), and the warnings of the annotations reach the operator:
# "warnings" in the JSON plan, log lines said once and not every cycle. `tagpilot lint` reads
# the same Applications and sends the registry nothing.
. "$(dirname "$0")/../lib/tap.sh"
. "$TP_ROOT/tests/lib/registry.sh"

REG_ACCESS_LOG_OFF=false registry_start anon || { not_ok "docker-registry starts"; finish; exit 1; }
R=$REG_HOST
GIT_ID="-c user.name=ops -c user.email=ops@example.com"
# team/filtered: a release, a newer release, a release candidate and a debug build, in that order
for t in v1.0.0:2024-01-01 v1.0.1:2024-02-01 v1.0.1-rc1:2024-03-01 v1.0.2-debug:2024-04-01; do
    reg_push image team/filtered "${t%%:*}" --created "${t#*:}T00:00:00Z" >/dev/null ||
        not_ok "push ${t%%:*}"
done
# requests: GETs and HEADs the registry has logged, once its log has stopped growing
requests() {
    a=-1
    b=$(wc -c <"$REG_DIR/registry.log")
    while [ "$a" != "$b" ]; do sleep 0.3; a=$b; b=$(wc -c <"$REG_DIR/registry.log"); done
    grep -cE '"(GET|HEAD) /v2/' "$REG_DIR/registry.log"
}

D=$TAP_TMP/cluster
mkdir -p "$D/seed" "$D/apps"
git init -q --bare -b main "$D/config.git"
# app NAME ANNOTATION-LINES...: an Application in $D/apps tracking team/filtered as alias
# "app", whose plain manifest (in the git repository) runs v1.0.0. Its first extra annotation
# is on line 9 of the file, the next on line 10, ...
app() {
    name=$1
    shift
    mkdir -p "$D/seed/plain-$name"
    printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: %s\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: %s\n' \
        "$name" "$R/team/filtered:v1.0.0" >"$D/seed/plain-$name/deployment.yaml"
    {
        printf 'apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: %s\n' "$name"
        printf '  namespace: argocd\n  annotations:\n'
        printf '    argocd-image-updater.argoproj.io/image-list: app=%s/team/filtered\n' "$R"
        printf '    argocd-image-updater.argoproj.io/write-back-method: git\n'
        for line in "$@"; do printf '    argocd-image-updater.argoproj.io/%s\n' "$line"; done
        printf 'spec:\n  source:\n    repoURL: file://%s/config.git\n    targetRevision: main\n    path: plain-%s\n' "$D" "$name"
    } >"$D/apps/$name.yaml"
}
app plain "app.update-strategy: alphabetical"
app allowed "app.update-strategy: alphabetical" 'app.allow-tags: regexp:^v[0-9.]+$'
app ignored "app.update-strategy: alphabetical" "app.ignore-tags: '*-debug'"
app both "app.update-strategy: newest-build" 'app.allow-tags: regexp:^v1\.0\.' \
    "app.ignore-tags: '*-debug, *-rc*'"
app upper "app.update-strategy: Alphabetical" 'app.allow-tags: REGEXP:^v[0-9.]+$'
app anycase "app.update-strategy: NEWEST-BUILD" "app.allow-tags: ANY"
app typo "app.update-stratgy: alphabetical" "update-strategy: Latest"
(cd "$D/seed" && git init -q -b main && git add -A && git $GIT_ID commit -qm apps &&
    git push -q "$D/config.git" main) || not_ok "app repository"
reg_conf "$D/registries.conf"
cat >"$D/tagpilot.yaml" <<EOF
sources:
  - dir: ./apps
registries-conf: ./registries.conf
state-dir: ./state
approval: manual
EOF
field() { # APP FIELD: from the last plan ($OUT), as jq -c prints it
    jq -c --arg a "$1" --arg f "$2" '.applications[] | select(.name == $a) | .images[0][$f]' "$OUT"
}

tp run --once --dry-run --format json --config "$D/tagpilot.yaml"
expect_rc 0 "the run succeeds: no image is in error"
check "without filters alphabetical picks the debug build (got $(field plain candidate))" \
    [ "$(field plain candidate)" = '"v1.0.2-debug"' ]
check "allow-tags regexp:^v[0-9.]+\$ keeps the releases only: v1.0.1 (got $(field allowed candidate))" \
    [ "$(field allowed candidate)" = '"v1.0.1"' ]
check "ignore-tags *-debug drops the debug build: v1.0.1-rc1 (got $(field ignored candidate))" \
    [ "$(field ignored candidate)" = '"v1.0.1-rc1"' ]
check "newest-build with both filters: the newest release, v1.0.1 (got $(field both candidate))" \
    [ "$(field both candidate)" = '"v1.0.1"' ]
check "'Alphabetical' and 'REGEXP:' are read in any case: v1.0.1 (got $(field upper candidate), $(field upper error))" \
    [ "$(field upper candidate)" = '"v1.0.1"' ]
check "'upper' waits for approval, not in error" [ "$(field upper state)" = '"update-available"' ]
check "'NEWEST-BUILD' with allow-tags 'ANY': the newest build (got $(field anycase candidate), $(field anycase error))" \
    [ "$(field anycase candidate)" = '"v1.0.2-debug"' ]

# Warnings: in the plan, per image, with file and line; an image without any has [].
check "a clean app has no warnings" [ "$(field allowed warnings)" = '[]' ]
W1="typo.yaml:9: argocd-image-updater.argoproj.io/app.update-stratgy: unknown annotation (did you mean app.update-strategy?)"
W2="typo.yaml:10: argocd-image-updater.argoproj.io/update-strategy: update strategy 'Latest' is deprecated, use 'newest-build'"
check "the misspelt key and the deprecated name, in file order: $(field typo warnings)" \
    [ "$(field typo warnings)" = "$(jq -cn --arg a "$W1" --arg b "$W2" '[$a, $b]')" ]
check "the misspelt key is ignored: 'Latest' (newest-build) chose v1.0.2-debug (got $(field typo candidate))" \
    [ "$(field typo candidate)" = '"v1.0.2-debug"' ]

# Text output: the warnings are log lines.
tp run --once --dry-run --config "$D/tagpilot.yaml"
expect_rc 0 "a text run succeeds"
check "the log says the misspelt key, with its file and line" \
    grep -qF "warning: app typo: $W1" "$OUT"
check "and the deprecated name" grep -qF "warning: app typo: $W2" "$OUT"

# A running engine says a warning when it appears, not at every cycle.
"$TAGPILOT" run --dry-run --interval 1s --config "$D/tagpilot.yaml" >"$TAP_TMP/daemon.log" 2>&1 &
daemon=$!
at_exit "kill $daemon 2>/dev/null"
for _ in $(seq 150); do
    [ "$(grep -c 'cycle done' "$TAP_TMP/daemon.log")" -ge 3 ] && break
    sleep 0.1
done
kill -TERM $daemon
wait $daemon
cycles=$(grep -c 'cycle done' "$TAP_TMP/daemon.log")
check "three cycles ran ($cycles)" [ "$cycles" -ge 3 ]
check "the warning was logged once in $cycles cycles ($(grep -c 'update-stratgy' "$TAP_TMP/daemon.log") times)" \
    [ "$(grep -c 'update-stratgy' "$TAP_TMP/daemon.log")" = 1 ]
check "the daemon's stderr is clean" sh -c "! grep -E 'Sanitizer|runtime error' '$TAP_TMP/daemon.log'"

# lint reads the same Applications, and asks the registry nothing.
r0=$(requests)
tp lint --config "$D/tagpilot.yaml"
r1=$(requests)
expect_rc 0 "lint: warnings alone exit 0"
check "lint lists the misspelt key" grep -qxF "typo.yaml:9: warning: argocd-image-updater.argoproj.io/app.update-stratgy: unknown annotation (did you mean app.update-strategy?)" "$OUT"
check "lint sent the registry nothing ($((r1 - r0)) requests)" [ "$r1" = "$r0" ]
finish
