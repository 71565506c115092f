#!/bin/sh
# make demo's script, as a newcomer runs it: it seeds a registry, a repository and a demo
# cluster, opens the console on them with every demo app in the state it was made for; approving
# the walkthrough's bookstore (write-back-method argocd) patches the Application in the cluster,
# as kubectl sees it, and approving docs lands a commit; quitting stops the registry and the
# cluster, and a second run works the same.
. "$(dirname "$0")/../lib/tap.sh"
. "$TP_ROOT/tests/e2e/console_common.inc"

D=$TAP_TMP/demo
run_demo() { # SESSION
    tmux -f /dev/null new-session -d -s "$1" -x 160 -y 40 \
        "env LANG=C.UTF-8 TERM=screen-256color TAGPILOT='$TAGPILOT' TAGPILOT_DEMO_DIR='$D' sh '$TP_ROOT/tests/demo/demo.sh' 2>'$TAP_TMP/$1.err'; echo \"demo exited rc=\$?\"; sleep 600"
}
registry_port() { sed -n 's/^  addr: 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$D/registry/config.yml"; }
kube() { kubectl --kubeconfig "$D/kube/kubeconfig" "$@"; }
bookstore_tag() {
    kube get application bookstore -o \
        jsonpath='{range .spec.source.helm.parameters[?(@.name=="image.tag")]}{.value} {.forceString}{end}'
}
need kubectl

s=demo1
run_demo $s
if ! wait_screen $s '^bookstore .*v1\.0\.0 +v1\.0\.1' 600; then
    not_ok "the demo opens the console on bookstore v1.0.0 -> v1.0.1"
    cat "$TAP_TMP/$s.err"
    finish
    exit 1
fi
ok "the demo opens the console on bookstore v1.0.0 -> v1.0.1"
wait_screen $s '^payments ' >/dev/null
check "newest-build: nightly build-101 -> build-103" wait_screen $s '^nightly .*build-101 +build-103 .*newest-build'
check "alphabetical: docs 2024.04-docs -> 2024.06-docs" wait_screen $s '^docs .*2024\.04-docs +2024\.06-docs .*alphabetical'
check "digest: edge follows stable" wait_screen $s '^edge .*stable .*digest'
check "a pinned app: payments pinned at 2.1.0" wait_screen $s '^payments .*2\.1\.0 .*pinned'
check "an app with a deliberate error: legacy" wait_screen $s '^legacy .*error'
press $s j j j Enter
check "the error's detail says what is wrong" wait_screen $s 'team/legacy-api not found'
press $s q g
n0=$(git --git-dir="$D/config.git" rev-list --count main)
press $s a
wait_screen $s 'Cancel' >/dev/null
check "the confirm dialog shows the patch of the Application" wait_screen $s 'spec\.source'
press $s y
check "approving bookstore patches the Application" \
    wait_screen $s 'v1\.0\.0 -> v1\.0\.1 written \(Application patched'
check "kubectl sees image.tag v1.0.1 with forceString" [ "$(bookstore_tag)" = "v1.0.1 true" ]
check "and no commit was made for it" [ "$(git --git-dir="$D/config.git" rev-list --count main)" = "$n0" ]
press $s j a
wait_screen $s 'Cancel' >/dev/null
press $s y
check "approving docs writes a commit" wait_screen $s '2024\.04-docs -> 2024\.06-docs written'
check "one commit more in the demo repository" \
    [ "$(git --git-dir="$D/config.git" rev-list --count main)" = $((n0 + 1)) ]
git --git-dir="$D/config.git" log -1 --format=%B >"$TAP_TMP/msg"
check "with Approved-by" grep -q '^Approved-by:' "$TAP_TMP/msg"
port=$(registry_port)
kport=$(sed -n 's|.*server: "https://127\.0\.0\.1:\([0-9]*\)".*|\1|p' "$D/kube/kubeconfig")
press $s q
check "quitting ends the demo" wait_screen $s 'demo exited rc=0' 100
check "the demo prints what the Application sets" grep -q 'image.tag=v1.0.1' "$TAP_TMP/$s.err"
check "and the repository's last commits" grep -q 'update of docs' "$TAP_TMP/$s.err"
check "quitting stopped the registry" sh -c "! curl -s -o /dev/null --max-time 2 http://127.0.0.1:$port/v2/"
check "and the cluster" sh -c "! curl -s -k -o /dev/null --max-time 2 https://127.0.0.1:$kport/readyz"
console_stderr $s
tmux kill-session -t $s

s=demo2
run_demo $s
check "running the demo again works" wait_screen $s '^bookstore .*v1\.0\.0 +v1\.0\.1' 600
port=$(registry_port)
press $s q
check "and quits again" wait_screen $s 'demo exited rc=0' 100
check "with the registry stopped" sh -c "! curl -s -o /dev/null --max-time 2 http://127.0.0.1:$port/v2/"
console_stderr $s
finish
