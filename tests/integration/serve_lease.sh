#!/bin/sh
# Leader election (serve.lease) with two real `tagpilot serve` processes against the stand-in API
# server: each its own state dir, socket, metrics port and Kubernetes user (tokens tp-a, tp-b),
# so the stand-in's request log says who wrote. Exactly one leads (the Lease's holderIdentity,
# /metrics tagpilot_leader) and only it patches the Applications (write-back-method argocd,
# --approval auto); the follower refuses commands ("not the leader (holder: X)"); kill -9 of the
# leader: the other takes over within the lease duration and writes what became pending, and no
# write happens twice; SIGTERM releases the lease, so the other takes over at its next round.
. "$(dirname "$0")/../lib/tap.sh"
. "$TP_ROOT/tests/lib/registry.sh"
. "$TP_ROOT/tests/lib/kubeapi.sh"
. "$TP_ROOT/tests/lib/kubeapps.sh"
need python3 jq curl git
DUR=4
registry_start anon || { not_ok "docker-registry starts"; finish; exit 1; }
D=$TAP_TMP/k
kubeapps_start "$D" || { not_ok "the stand-in API server starts"; finish; exit 1; }
LEASE=/apis/coordination.k8s.io/v1/namespaces/argocd/leases/tagpilot
APPS=/apis/argoproj.io/v1alpha1/namespaces/argocd/applications
PIDS=""
at_exit 'for p in $PIDS; do kill -9 $p 2>/dev/null; done'

# config NAME: user tp-NAME with its own token, kubeconfig, state dir, socket and metrics port
config() {
    kubeapi_token "token-$1" "tp-$1"
    kubeapi_allow "tp-$1" '*' '*' '*'
    kubeapi_kubeconfig "$TAP_TMP/$1.kubeconfig" "token: token-$1"
    port=$(free_port)
    eval "PORT_$1=$port"
    cat >"$TAP_TMP/$1.yaml" <<Y
sources:
  - kubernetes:
      kubeconfig: $TAP_TMP/$1.kubeconfig
      selector: team=books
registries-conf: $KUBEAPPS_DIR/registries.conf
state-dir: $TAP_TMP/state-$1
interval: 1s
serve:
  socket: $TAP_TMP/$1.sock
  listen: 127.0.0.1:$port
  lease: {namespace: argocd, name: tagpilot, duration: ${DUR}s}
Y
}
# start NAME: a server for NAME's config; its pid in PID_NAME
start() {
    POD_NAME=pod-$1 "$TAGPILOT" serve --approval auto --config "$TAP_TMP/$1.yaml" \
        >>"$TAP_TMP/$1.log" 2>&1 &
    eval "PID_$1=$!"
    PIDS="$PIDS $!"
}
holder() { kubeapi_api "$LEASE" | jq -r '.spec.holderIdentity // ""'; }
leader_metric() { # NAME: its tagpilot_leader value
    eval "p=\$PORT_$1"
    curl -s --max-time 2 "http://127.0.0.1:$p/metrics" | sed -n 's/^tagpilot_leader //p'
}
until_true() { # SECONDS CMD...: poll every 0.2 s
    n=$(($1 * 5))
    shift
    while [ $n -gt 0 ]; do
        "$@" && return 0
        sleep 0.2
        n=$((n - 1))
    done
    return 1
}
# patches APP [USER]: PATCHes of the Application that were written (200), by USER if given
patches() {
    jq -c "select(.method == \"PATCH\" and .status == 200 and .path == \"$APPS/$1\"${2:+ and .user == \"$2\"})" \
        "$KUBEAPI_LOG" | wc -l
}
patch_users() {
    jq -r "select(.method == \"PATCH\" and (.path | startswith(\"$APPS/\"))) | .user" "$KUBEAPI_LOG" |
        sort -u | tr '\n' ' '
}
tag_of() { kubeapps_app bookstore | jq -r '.spec.source.helm.parameters[] | select(.name == "image.tag") | .value'; }
has_holder() { h=$(holder) && [ -n "$h" ]; }
is_tag() { [ "$(tag_of)" = "$1" ]; }
held_by() { case $(holder) in "pod-$1_"*) return 0 ;; esac; return 1; }
patched() { [ "$(patches "$1")" -ge "$2" ]; }

config a
config b
# --- both start at once: exactly one leads --------------------------------------------------
start a
start b
check "a Lease is created and held" until_true 10 has_holder
H=$(holder)
case $H in pod-a_*) L=a F=b ;; *) L=b F=a ;; esac
eval "LPID=\$PID_$L"
check "its holderIdentity is a server's pod name and pid ($H)" [ "$H" = "pod-${L}_$LPID" ]
check "the bookstore Application is patched to v1.0.1" until_true 20 is_tag v1.0.1
check "and catalog" until_true 10 patched catalog 1
sleep $((DUR + 2)) # past the lease's duration: the leader has renewed, nothing more is written
check "the leader still holds the Lease past its duration (renewed)" [ "$(holder)" = "$H" ]
check "the leader's /metrics: tagpilot_leader 1" [ "$(leader_metric $L)" = 1 ]
check "the follower's /metrics: tagpilot_leader 0" [ "$(leader_metric $F)" = 0 ]
check "only the leader patched Applications (users: $(patch_users))" [ "$(patch_users)" = "tp-$L " ]
check "bookstore was written once" [ "$(patches bookstore)" = 1 ]
check "catalog was written once" [ "$(patches catalog)" = 1 ]
tp pin bookstore v1.0.0 --config "$TAP_TMP/$F.yaml"
expect_rc 1 "a command to the follower is refused"
check "it says not the leader and names the holder" grep -q "not the leader (holder: $H)" "$OUT" "$ERR"

# --- /metrics counts the Kubernetes API requests, and the ones that failed ---------------------
kube_metric() { # NAME requests|errors: that server's argocd_image_updater_k8s_api_*_total
    eval "p=\$PORT_$1"
    v=$(curl -s --max-time 2 "http://127.0.0.1:$p/metrics" |
        sed -n "s/^argocd_image_updater_k8s_api_$2_total //p")
    echo "${v:-0}"
}
kube_errors() { echo $(($(kube_metric a errors) + $(kube_metric b errors))); }
req0=$(kube_metric $L requests)
check "the leader's /metrics counts its Kubernetes API requests ($req0)" [ "$req0" -gt 0 ]
requests_moved() { [ "$(kube_metric $L requests)" -gt "$req0" ]; }
check "... and the count moves with the Lease renewals" until_true $DUR requests_moved
# Two 503s from the API server (for whichever server asks next): two errors between the two.
errors0=$(kube_errors)
kubeapi_ctl fail "code=503&count=2" >/dev/null
errors_moved() { [ "$(kube_errors)" -ge $((errors0 + 2)) ]; }
check "two 503s are counted as errors (before: $errors0)" until_true $DUR errors_moved

# --- kill -9 the leader: the follower takes over and writes what is pending -------------------
kill -9 "$LPID"
killed=$(date +%s)
reg_push image amplication/bookstore-application v1.0.2 >/dev/null
check "the follower holds the Lease after the kill" until_true $((DUR + 4)) held_by $F
took=$(($(date +%s) - killed))
check "within the lease duration and a renew period (${took}s, duration ${DUR}s)" [ "$took" -le $((DUR + 2)) ]
check "the new leader's /metrics: tagpilot_leader 1" until_true 3 sh -c "[ \"\$(curl -s http://127.0.0.1:$(eval echo \$PORT_$F)/metrics | sed -n 's/^tagpilot_leader //p')\" = 1 ]"
check "it writes the update that became pending (v1.0.2)" until_true 15 is_tag v1.0.2
check "v1.0.2 was written by the new leader's user" [ "$(patches bookstore "tp-$F")" = 1 ]
sleep 2
check "no write happened twice: bookstore patched 2 times in all" [ "$(patches bookstore)" = 2 ]
check "catalog still once" [ "$(patches catalog)" = 1 ]
check "the old leader's journal has v1.0.1" grep -q '"to":"v1.0.1"' "$TAP_TMP/state-$L/journal.jsonl"
check "and not v1.0.2" sh -c "! grep -q '\"to\":\"v1.0.2\"' '$TAP_TMP/state-$L/journal.jsonl'"
check "the new leader's journal has v1.0.2" grep -q '"to":"v1.0.2"' "$TAP_TMP/state-$F/journal.jsonl"
check "and not v1.0.1 (it never wrote that)" sh -c "! grep -q '\"to\":\"v1.0.1\"' '$TAP_TMP/state-$F/journal.jsonl'"

# --- SIGTERM releases: the restarted one takes over at its next round, not after the duration --
start "$L"
eval "NPID=\$PID_$L"
sleep 2
check "the restarted server follows (tagpilot_leader 0)" [ "$(leader_metric $L)" = 0 ]
eval "FPID=\$PID_$F"
kill -TERM "$FPID"
termed=$(date +%s%N)
check "the leader exits on SIGTERM" until_true 10 sh -c "! kill -0 $FPID 2>/dev/null"
check "it says it released the lease" grep -q "lease argocd/tagpilot: released" "$TAP_TMP/$F.log"
check "the restarted server takes over" until_true $((DUR + 4)) held_by $L
took=$((($(date +%s%N) - termed) / 1000000))
# released: the next round of the other (every DUR/3) takes it; not released, it would wait for
# the last renewal plus DUR, at least 2/3 of DUR after the SIGTERM
check "at its next round, well before the duration could run out (${took} ms)" [ "$took" -lt $((DUR * 1000 * 5 / 8)) ]
check "its holderIdentity has the new pid" [ "$(holder)" = "pod-${L}_$NPID" ]
# Another writer takes the Lease between the leader's read and its renewal (a PUT of the object as
# read): the renewal names the resourceVersion it read, so it meets a 409 and the other writer
# keeps the Lease; a renewal without it would overwrite theirs and take the Lease straight back.
now=$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)
kubeapi_ctl race "path=$LEASE" --data-binary \
    "{\"spec\":{\"holderIdentity\":\"intruder\",\"renewTime\":\"$now\",\"leaseDurationSeconds\":$DUR}}" \
    >/dev/null
holder_is() { [ "$(holder)" = "$1" ]; }
check "a renewal that meets another writer's change is refused: it keeps the Lease" \
    until_true 3 holder_is intruder
sleep 1
check "still theirs a renewal period later" holder_is intruder
metric_is() { [ "$(leader_metric "$1")" = "$2" ]; } # NAME VALUE
check "and the old holder stops leading (tagpilot_leader 0)" until_true "$DUR" metric_is "$L" 0
kill -TERM "$NPID"
until_true 10 sh -c "! kill -0 $NPID 2>/dev/null"
check "no sanitizer report from either server" sh -c "! grep -q 'Sanitizer' '$TAP_TMP/a.log' '$TAP_TMP/b.log'"
finish
