#!/bin/sh
# make demo: a local registry, a cluster-config git repository seeded with a small catalogue, a
# demo cluster (the stand-in Kubernetes API server, tests/lib/kubeapi.py) holding the walkthrough's
# Application `bookstore` with write-back-method argocd, and the console opened on them.
# Everything lives under $TAGPILOT_DEMO_DIR (default build/demo), made afresh on every run;
# quitting the console stops the registry and the cluster.
#   TAGPILOT            the binary (default ./tagpilot)
#   TAGPILOT_DEMO_DIR   where the registry data, the repository and the config go
#   DEMO_NO_CONSOLE=1   seed everything, print the plan, stop (for scripts and tests)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
tp=${TAGPILOT:-$root/tagpilot}
demo=${TAGPILOT_DEMO_DIR:-$root/build/demo}
py=/usr/bin/python3
[ -x "$py" ] || py=python3

say() { printf '%s\n' "$*" >&2; }
[ -x "$tp" ] || { say "demo: $tp is missing: run 'make' first"; exit 1; }
case $demo in
/*/*) ;;
*) say "demo: TAGPILOT_DEMO_DIR must be an absolute path below /: $demo"; exit 1 ;;
esac

# A previous demo that was killed hard may have left its registry or cluster running: stop them.
for pidfile in "$demo/registry.pid" "$demo/kube.pid"; do
    if [ -f "$pidfile" ]; then kill "$(cat "$pidfile")" 2>/dev/null || true; fi
done
rm -rf "$demo"
mkdir -p "$demo/registry" "$demo/seed"

port=$($py -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
reg=127.0.0.1:$port
cat >"$demo/registry/config.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $demo/registry/data
  delete:
    enabled: true
http:
  addr: $reg
  secret: tagpilot-demo
EOF
docker-registry serve "$demo/registry/config.yml" >"$demo/registry/log" 2>&1 &
reg_pid=$!
echo "$reg_pid" >"$demo/registry.pid"
kube_pid=""
stop_services() {
    kill "$reg_pid" $kube_pid 2>/dev/null || true
    wait "$reg_pid" $kube_pid 2>/dev/null || true
    rm -f "$demo/registry.pid" "$demo/kube.pid"
}
trap stop_services EXIT
trap 'exit 130' INT TERM

up=""
for _ in $(seq 100); do
    if $py -c "import urllib.request,sys; urllib.request.urlopen('http://$reg/v2/', timeout=1)" 2>/dev/null; then
        up=1
        break
    fi
    sleep 0.1
done
[ -n "$up" ] || { say "demo: docker-registry did not start: $(tail -3 "$demo/registry/log")"; exit 1; }
say "registry   http://$reg (docker-registry, data in $demo/registry)"

push() { # REPO TAG CREATED
    $py "$root/tests/lib/regpush.py" "http://$reg" image "$1" "$2" --created "$3" >/dev/null
}
B=amplication/bookstore-application
push $B v1.0.0 2024-03-01T10:00:00Z
push $B v1.0.1 2024-03-08T10:00:00Z
push $B v1.1.0 2024-04-02T10:00:00Z
push $B v2.0.0-rc1 2024-05-20T10:00:00Z
push $B latest 2024-05-20T10:00:00Z
push $B sha-5f2c1e0 2024-05-20T10:00:00Z
push team/nightly build-101 2024-06-01T02:00:00Z
push team/nightly build-102 2024-06-02T02:00:00Z
push team/nightly build-103 2024-06-03T02:00:00Z
# digest: the app runs stable as it was in May; stable has been rebuilt since
old_edge=$($py "$root/tests/lib/regpush.py" "http://$reg" image team/edge stable \
    --created 2024-05-01T12:00:00Z)
push team/edge stable 2024-06-01T12:00:00Z
push team/docs 2024.04-docs 2024-04-30T00:00:00Z
push team/docs 2024.05-docs 2024-05-31T00:00:00Z
push team/docs 2024.06-docs 2024-06-30T00:00:00Z
push team/payments 2.0.0 2024-02-01T00:00:00Z
push team/payments 2.1.0 2024-03-01T00:00:00Z
push team/payments 2.2.0 2024-04-01T00:00:00Z
say "catalogue  $B (v1.0.0 v1.0.1 v1.1.0 v2.0.0-rc1 latest sha-5f2c1e0),"
say "           team/nightly, team/edge, team/docs, team/payments; team/legacy-api is missing on purpose"

# The cluster-config repository: a helm-create-style chart for bookstore, small values-only
# charts for the others, one Application manifest each.
w=$demo/seed
git init -q --bare -b main "$demo/config.git"
mkdir -p "$w/apps" "$w/charts/bookstore/templates"
cat >"$w/charts/bookstore/Chart.yaml" <<EOF
apiVersion: v2
name: bookstore
description: A Helm chart for Kubernetes
type: application
version: 0.1.0
appVersion: "v1.0.0"
EOF
cat >"$w/charts/bookstore/values.yaml" <<EOF
# Default values for bookstore.
replicaCount: 1

image:
  repository: $reg/$B
  pullPolicy: IfNotPresent
  # Overrides the image tag whose default is the chart appVersion.
  tag: ""

imagePullSecrets: []
nameOverride: ""
fullnameOverride: ""

service:
  type: ClusterIP
  port: 80

ingress:
  enabled: false

resources: {}
EOF
cat >"$w/charts/bookstore/templates/deployment.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "bookstore.fullname" . }}
spec:
  replicas: {{ .Values.replicaCount }}
  template:
    spec:
      containers:
        - name: {{ .Chart.Name }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          ports:
            - name: http
              containerPort: {{ .Values.service.port }}
EOF
cat >"$w/charts/bookstore/templates/service.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata:
  name: {{ include "bookstore.fullname" . }}
spec:
  type: {{ .Values.service.type }}
  ports:
    - port: {{ .Values.service.port }}
      targetPort: http
EOF
cat >"$w/charts/bookstore/templates/_helpers.tpl" <<'EOF'
{{- define "bookstore.fullname" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}
EOF
printf '.git/\n*.swp\n' >"$w/charts/bookstore/.helmignore"

chart() { # NAME REPO TAG
    mkdir -p "$w/charts/$1"
    cat >"$w/charts/$1/Chart.yaml" <<EOF
apiVersion: v2
name: $1
version: 0.1.0
EOF
    cat >"$w/charts/$1/values.yaml" <<EOF
# $1 values; the image tag below is managed by the image updater.
replicaCount: 1
image:
  repository: $reg/$2
  tag: "$3"
EOF
}
chart nightly team/nightly build-101
chart edge team/edge "stable@$old_edge"
chart docs team/docs 2024.04-docs
chart payments team/payments 2.0.0
chart legacy team/legacy-api 1.0.0

A=argocd-image-updater.argoproj.io
app() { # NAME IMAGE-LIST ANNOTATION-LINES...
    name=$1 list=$2
    shift 2
    {
        cat <<EOF
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: $name
  namespace: argocd
  annotations:
    $A/image-list: $list
    $A/write-back-method: git
EOF
        for line in "$@"; do echo "    $line"; done
        cat <<EOF
spec:
  project: default
  source:
    repoURL: file://$demo/config.git
    targetRevision: main
    path: charts/$name
  destination:
    server: https://kubernetes.default.svc
    namespace: $name
EOF
    } >"$w/apps/$name.yaml"
}
# helmvalues ALIAS: the annotations that write the tag into the chart's own values.yaml
helmvalues() {
    echo "$A/write-back-target: helmvalues:values.yaml"
    echo "$A/$1.helm.image-name: image.repository"
    echo "$A/$1.helm.image-tag: image.tag"
}
app nightly "nightly=$reg/team/nightly" "$A/nightly.update-strategy: newest-build" \
    "$A/nightly.allow-tags: regexp:^build-[0-9]+\$"
app edge "edge=$reg/team/edge:stable" "$A/edge.update-strategy: digest"
app docs "docs=$reg/team/docs" "$A/docs.update-strategy: alphabetical"
app payments "payments=$reg/team/payments:^2.0" "$A/payments.update-strategy: semver"
app legacy "legacy=$reg/team/legacy-api:^1.0" "$A/legacy.update-strategy: semver"
for a in nightly edge docs payments legacy; do
    # the annotations go before spec:, where the other annotations end
    helmvalues $a | sed 's/^/    /' >"$w/extra"
    sed -i "/^spec:/e cat $w/extra" "$w/apps/$a.yaml"
    rm -f "$w/extra"
done
(cd "$w" && git init -q -b main && git add -A &&
    git -c user.name=demo -c user.email=demo@example.com commit -qm "cluster config" &&
    git push -q "$demo/config.git" main)
rm -rf "$w"

cat >"$demo/registries.conf" <<EOF
registries:
- name: demo registry
  api_url: http://$reg
  prefix: $reg
  insecure: yes
  default: true
EOF
cat >"$demo/tagpilot.yaml" <<EOF
# The demo's config: Applications from the local repository, images from the local registry.
sources:
  - git: file://$demo/config.git
    branch: main
    path: apps
  - kubernetes:
      kubeconfig: ./kube/kubeconfig
      namespaces: [argocd]
registries-conf: ./registries.conf
state-dir: ./state
approval: manual
interval: 30s
git:
  author: {name: tagpilot demo, email: demo@example.com}
EOF
say "repository $demo/config.git (apps/: nightly edge docs payments legacy; charts/bookstore)"

# The demo cluster: the stand-in API server (tests/lib/kubeapi.py: what tagpilot and kubectl use
# of a real one) over TLS, with the walkthrough's Application in namespace argocd. Its chart is
# the repository's charts/bookstore; approving patches the Application, as argocd-image-updater's
# default write-back does.
kube=$demo/kube
mkdir -p "$kube"
(
    cd "$kube" || exit 1
    ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
    # shellcheck disable=SC2086
    openssl req -x509 $ec -keyout ca.key -out ca.crt -days 2 -subj /CN=demo-cluster-ca &&
        openssl req $ec -keyout server.key -out server.csr -subj /CN=kube-apiserver &&
        printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >server.ext &&
        openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
            -out server.crt -days 2 -extfile server.ext
) >"$kube/openssl.log" 2>&1 || { say "demo: openssl: $(tail -2 "$kube/openssl.log")"; exit 1; }
token=demo-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
echo "$token operator" >"$kube/tokens"
echo "operator * * *" >"$kube/rules"
cat >"$kube/bookstore.yaml" <<EOF
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: bookstore
  namespace: argocd
  annotations:
    argocd-image-updater.argoproj.io/image-list: bookstore=$reg/$B:~1.0
    argocd-image-updater.argoproj.io/bookstore.update-strategy: semver
    argocd-image-updater.argoproj.io/write-back-method: argocd
spec:
  project: default
  source:
    repoURL: file://$demo/config.git
    targetRevision: main
    path: charts/bookstore
    helm: {}
  destination:
    server: https://kubernetes.default.svc
    namespace: bookstore
status:
  sync: {status: Synced}
  health: {status: Healthy}
  summary:
    images: [$reg/$B:v1.0.0]
EOF
kport=$($py -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
/usr/bin/python3 "$root/tests/lib/kubeapi.py" --port "$kport" \
    --tls "$kube/server.crt" "$kube/server.key" --tokens "$kube/tokens" --rules "$kube/rules" \
    --state "$kube/state.json" --seed "$kube/bookstore.yaml" >"$kube/server.log" 2>&1 &
kube_pid=$!
echo "$kube_pid" >"$demo/kube.pid"
cat >"$kube/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: demo
  cluster: {server: "https://127.0.0.1:$kport", certificate-authority: $kube/ca.crt}
users:
- name: operator
  user: {token: $token}
contexts:
- name: demo
  context: {cluster: demo, user: operator, namespace: argocd}
current-context: demo
EOF
up=""
for _ in $(seq 100); do
    if curl -s -o /dev/null --max-time 1 --cacert "$kube/ca.crt" "https://127.0.0.1:$kport/readyz"; then
        up=1
        break
    fi
    sleep 0.1
done
[ -n "$up" ] || { say "demo: the demo cluster did not start: $(tail -3 "$kube/server.log")"; exit 1; }
say "cluster    https://127.0.0.1:$kport (the stand-in API server; kubectl --kubeconfig $kube/kubeconfig)"
say "           Application argocd/bookstore, write-back-method argocd"

# The pinned app, pinned the way an operator would before the console opens.
if "$tp" pin payments 2.1.0 --config "$demo/tagpilot.yaml" >"$demo/pin.log" 2>&1; then
    say "pinned     payments at 2.1.0 (tagpilot pin)"
else
    say "demo: could not pin payments: $(tail -1 "$demo/pin.log")"
fi

if [ "${DEMO_NO_CONSOLE:-}" = 1 ]; then
    # Exit 1 means "an image is in error": legacy is, on purpose.
    "$tp" run --once --dry-run --config "$demo/tagpilot.yaml" || true
    exit 0
fi
say ""
say "Opening the console. Select bookstore, press a, then y to approve v1.0.1 (the Application in"
say "the demo cluster is patched); docs, nightly and the others write commits. ? lists every key."
say "Afterwards: kubectl --kubeconfig $kube/kubeconfig get application bookstore -o yaml"
say "            git --git-dir=$demo/config.git log"
sleep 1
rc=0
"$tp" console --config "$demo/tagpilot.yaml" "$@" || rc=$?
say ""
say "The demo cluster's bookstore Application sets:"
kubectl --kubeconfig "$kube/kubeconfig" get application bookstore \
    -o jsonpath='{range .spec.source.helm.parameters[*]}  {.name}={.value}{"\n"}{end}' >&2 || true
say "The demo repository's last commits:"
git --git-dir="$demo/config.git" log -5 --format='  %h %s%n%w(0,10,10)%(trailers:key=Approved-by,key=Pinned-by)' >&2 || true
exit $rc
