#!/bin/sh
# Shared holds (issue 16): pins, skips and unpins are committed to the write-back repository's
# .tagpilot/holds.yaml, so two engines with their own state dirs (two machines, two replicas)
# honour each other's: a pin made by one holds in the other, an unpin by the other releases
# the first, a colleague's hand-written hold is kept and honoured, and a holds file that cannot
# be read stops the app's images instead of letting a pinned image move. Real registry, real
# bare git repository.
. "$(dirname "$0")/../lib/tap.sh"
. "$TP_ROOT/tests/lib/registry.sh"
. "$TP_ROOT/tests/lib/cluster.sh"

registry_start anon || { not_ok "registry starts"; finish; exit 1; }
B=amplication/bookstore-application
for v in v1.0.0 v1.0.1 v1.0.2; do reg_push image $B $v >/dev/null || not_ok "push $v"; done
reg_push image team/catalog 1.4.0 >/dev/null || not_ok "push catalog"
C=$TAP_TMP/cluster
cluster_repo "$C" || not_ok "cluster repository"
# Engine A and engine B: the same repository, each its own state dir (its own journal).
sed 's|state-dir: ./state|state-dir: ./state-b|' "$C/tagpilot.yaml" >"$C/b.yaml"

a() { tp "$@" --config "$C/tagpilot.yaml"; }
b() { tp "$@" --config "$C/b.yaml"; }
commits() { cluster_git "$C" rev-list --count main; }
holds() { # python expression over h (the holds file) -> printed
    cluster_file "$C" .tagpilot/holds.yaml >"$TAP_TMP/holds.yaml" 2>/dev/null
    /usr/bin/python3 -c "import yaml; h=yaml.safe_load(open('$TAP_TMP/holds.yaml')) or {}
a=h.get('applications') or {}
print($1)"
}
src_tag() { cluster_file "$C" charts/bookstore/.argocd-source-bookstore.yaml 2>/dev/null |
    /usr/bin/python3 -c 'import sys,yaml; d=yaml.safe_load(sys.stdin) or {}; print({p["name"]: p["value"] for p in d.get("helm",{}).get("parameters",[])}.get("image.tag","none"))'; }
field() { # field APP FIELD (of the last --format json)
    /usr/bin/python3 -c "import json; d=json.load(open('$OUT')); i=[i for a in d['applications'] if a['name']=='$1' for i in a['images']][0]; print(i.get('$2'))"
}
last_message() { cluster_git "$C" log -1 --format=%B main; }

# A colleague holds catalog by hand, in review like any change.
cluster_commit "$C" "hold catalog" sh -c 'mkdir -p .tagpilot && cat >.tagpilot/holds.yaml <<Y
apiVersion: tagpilot.io/v1
kind: Holds
applications:
  catalog:
    images:
      catalog: {pin: 1.4.0}
Y' || not_ok "colleague's holds commit"
n0=$(commits)

# A pins bookstore: the tag and the hold in one commit.
a pin bookstore v1.0.1
expect_rc 0 "A pins bookstore at v1.0.1"
check "one commit" [ "$(commits)" = "$((n0 + 1))" ]
check "it writes the tag" [ "$(src_tag)" = "v1.0.1" ]
check "and the pin to .tagpilot/holds.yaml" [ "$(holds "a['bookstore']['images']['bookstore']['pin']")" = "v1.0.1" ]
check "the colleague's hold on catalog is kept" [ "$(holds "a['catalog']['images']['catalog']['pin']")" = "1.4.0" ]
last_message >"$TAP_TMP/msg"
check "the message says the pin is shared" grep -q "^tagpilot: pin bookstore of bookstore at 'v1.0.1' (shared holds)$" "$TAP_TMP/msg"
check "and who pinned" grep -q "^Pinned-by: " "$TAP_TMP/msg"

# B, another state dir with an empty journal, auto policy, v1.0.2 waiting: the pin holds.
n1=$(commits)
b run --once --approval auto --format json
expect_rc 0 "B runs with the auto policy"
check "B sees bookstore pinned (state $(field bookstore state))" [ "$(field bookstore state)" = "pinned" ]
check "at v1.0.1" [ "$(field bookstore current)" = "v1.0.1" ]
check "B moved nothing" [ "$(commits)" = "$n1" ]
check "the hand-written hold pins catalog for B too" [ "$(field catalog state)" = "pinned" ]
check "B's journal has no pin of its own" sh -c "! grep -q '\"pin\"' '$C/state-b/journal.jsonl' 2>/dev/null"

# B unpins: A's own journal still says pinned, the shared holds say not, and they win.
b unpin bookstore
expect_rc 0 "B unpins bookstore"
check "the unpin is a commit" [ "$(commits)" = "$((n1 + 1))" ]
check "the pin is gone from the holds" [ "$(holds "(a.get('bookstore') or {}).get('images', {}).get('bookstore', {}).get('pin')")" = "None" ]
check "the tag stays" [ "$(src_tag)" = "v1.0.1" ]
last_message >"$TAP_TMP/msg"
check "the commit says who unpinned" grep -q "^Unpinned-by: " "$TAP_TMP/msg"
a run --once --approval auto --format json
expect_rc 0 "A runs with the auto policy"
check "A moves bookstore to v1.0.2: B's unpin released A's pin" [ "$(src_tag)" = "v1.0.2" ]

# B skips a candidate; A holds it.
reg_push image $B v1.0.3 >/dev/null || not_ok "push v1.0.3"
b skip bookstore v1.0.3
expect_rc 0 "B skips v1.0.3"
check "the skip is in the holds" [ "$(holds "a['bookstore']['images']['bookstore']['skip']")" = "['v1.0.3']" ]
a run --once --approval auto --format json
check "A holds v1.0.3 back (state $(field bookstore state))" [ "$(field bookstore state)" = "held" ]
check "and writes nothing" [ "$(src_tag)" = "v1.0.2" ]

# A policy in the holds (here a colleague's, by hand) is every engine's: manual beats the
# command line's --approval auto.
reg_push image $B v1.0.4 >/dev/null || not_ok "push v1.0.4"
cluster_commit "$C" "bookstore waits for approval" \
    sed -i 's/^  "bookstore":$/  "bookstore":\n    policy: manual/' .tagpilot/holds.yaml || not_ok "policy commit"
a run --once --approval auto --format json
check "the shared manual policy holds v1.0.4 for approval ($(field bookstore state) $(field bookstore candidate))" \
    [ "$(field bookstore state) $(field bookstore candidate)" = "update-available v1.0.4" ]
check "and nothing is written" [ "$(src_tag)" = "v1.0.2" ]

# A holds file that does not say what tagpilot understands stops the images, never moves one.
cluster_commit "$C" "typo" sh -c 'sed -i "s/pin:/pinned:/" .tagpilot/holds.yaml' || not_ok "typo commit"
n2=$(commits)
a run --once --approval auto --format json
check "a typo in the holds puts catalog in error (state $(field catalog state))" [ "$(field catalog state)" = "error" ]
check "naming the file and the key" sh -c "grep -q 'holds.yaml:[0-9]*:[0-9]*: unknown key .pinned.' '$OUT'"
check "bookstore, in the same repository, is stopped too" [ "$(field bookstore state)" = "error" ]
check "nothing is written" [ "$(commits)" = "$n2" ]
a pin bookstore v1.0.2
expect_rc 1 "a pin is refused while the holds cannot be read"
check "saying why" grep -q "shared holds cannot be read" "$ERR"

# A symbolic link in its place is not followed.
cluster_commit "$C" "link" sh -c 'rm .tagpilot/holds.yaml && ln -s ../apps/bookstore.yaml .tagpilot/holds.yaml' ||
    not_ok "link commit"
a run --once --format json
check "a linked holds file is an error" sh -c "grep -q 'holds.yaml.*symbolic link' '$OUT'"
check "and stops the images (state $(field bookstore state))" [ "$(field bookstore state)" = "error" ]

# git-branch base:target: writes go to a review branch, the scan reads the base; a hold on
# either would count too late or skip the review, so such an app's holds stay in the journal
cluster_commit "$C" "holds fixed" sh -c 'rm .tagpilot/holds.yaml &&
    printf "apiVersion: tagpilot.io/v1\nkind: Holds\napplications: {}\n" >.tagpilot/holds.yaml' ||
    not_ok "fix commit"
cluster_commit "$C" "bookstore via review" sed -i \
    's|^    argocd-image-updater.argoproj.io/write-back-method: git$|&\n    argocd-image-updater.argoproj.io/git-branch: main:review|' \
    apps/bookstore.yaml || not_ok "git-branch commit"
a pin bookstore v1.0.3
expect_rc 0 "a pin of an app written through a review branch ($(head -c 200 "$ERR"))"
check "goes to the review branch" sh -c "git --git-dir='$C/config.git' log -1 --format=%B review | grep -q '^Pinned-by: '"
check "without a holds change" sh -c "! git --git-dir='$C/config.git' show --stat --format= review | grep -q holds.yaml"
a run --once --approval auto --format json
check "the journal's pin holds it ($(field bookstore state) $(field bookstore pin))" \
    [ "$(field bookstore pin)" = v1.0.3 ]

finish
