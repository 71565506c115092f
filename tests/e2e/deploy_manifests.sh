#!/bin/sh
# deploy/: what can be checked without a cluster or a Docker engine. Each manifest is valid YAML
# with the kind and fields tagpilot's Deployment depends on (replicas 2, the ServiceAccount,
# POD_NAME from the downward API, liveness on /healthz at the metrics port, the ConfigMap's
# tagpilot.yaml parsed by tagpilot itself with serve.lease and serve.listen 0.0.0.0:8081, the
# Role's leases verbs). Not checked: the API server's schema (kubectl needs a server for its
# discovery, and the stand-in knows none of these kinds) and a real image build (the Dockerfile
# gets a lint: FROM, RUN, COPY, no `latest` or untagged base).
. "$(dirname "$0")/../lib/tap.sh"
need python3
DEP=$TP_ROOT/deploy
# y FILE EXPR: the Python expression over the documents of FILE (list `d`) is true
y() {
    /usr/bin/python3 - "$DEP/$1" "$2" <<'P'
import sys, yaml
d = list(yaml.safe_load_all(open(sys.argv[1])))
ok = eval(sys.argv[2], {"d": d})
sys.exit(0 if ok else 1)
P
}
for f in serviceaccount role rolebinding configmap deployment service; do
    check "deploy/$f.yaml is valid YAML in namespace argocd" y $f.yaml \
        'len(d) == 1 and d[0]["metadata"]["namespace"] == "argocd" and d[0]["metadata"]["name"].startswith("tagpilot")'
done
C='d[0]["spec"]["template"]["spec"]["containers"][0]'
check "Deployment apps/v1 with replicas: 2" y deployment.yaml 'd[0]["apiVersion"] == "apps/v1" and d[0]["kind"] == "Deployment" and d[0]["spec"]["replicas"] == 2'
check "its selector matches the pod template's labels" y deployment.yaml \
    'd[0]["spec"]["selector"]["matchLabels"].items() <= d[0]["spec"]["template"]["metadata"]["labels"].items()'
check "it runs as the ServiceAccount" y deployment.yaml 'd[0]["spec"]["template"]["spec"]["serviceAccountName"] == "tagpilot"'
check "POD_NAME from the downward API" y deployment.yaml \
    "[e['valueFrom']['fieldRef']['fieldPath'] for e in $C['env'] if e['name'] == 'POD_NAME'] == ['metadata.name']"
check "a metrics port 8081" y deployment.yaml "[p['containerPort'] for p in $C['ports'] if p['name'] == 'metrics'] == [8081]"
check "liveness on /healthz at the metrics port" y deployment.yaml \
    "$C['livenessProbe']['httpGet'] == {'path': '/healthz', 'port': 'metrics'}"
check "serve with the ConfigMap's tagpilot.yaml" y deployment.yaml \
    "$C['args'] == ['serve', '--config', '/etc/tagpilot/tagpilot.yaml'] and any(v.get('configMap', {}).get('name') == 'tagpilot' for v in d[0]['spec']['template']['spec']['volumes'])"
check "the Role: leases get, create, update in coordination.k8s.io" y role.yaml \
    "any(r['apiGroups'] == ['coordination.k8s.io'] and r['resources'] == ['leases'] and set(r['verbs']) == {'get', 'create', 'update'} for r in d[0]['rules'])"
check "the Role: applications get, list, watch, patch" y role.yaml \
    "any(r['resources'] == ['applications'] and set(r['verbs']) >= {'get', 'list', 'watch', 'patch'} for r in d[0]['rules'])"
check "the RoleBinding binds the Role to the ServiceAccount" y rolebinding.yaml \
    "d[0]['roleRef']['name'] == 'tagpilot' and d[0]['subjects'] == [{'kind': 'ServiceAccount', 'name': 'tagpilot', 'namespace': 'argocd'}]"
check "the Service selects the pods' metrics port" y service.yaml \
    "d[0]['spec']['ports'][0]['targetPort'] == 'metrics' and d[0]['spec']['selector'] == {'app.kubernetes.io/name': 'tagpilot'}"

# The ConfigMap's tagpilot.yaml, read by tagpilot (`lint` parses the config and the sources).
mkdir -p "$TAP_TMP/etc"
/usr/bin/python3 -c "
import sys, yaml
d = yaml.safe_load(open('$DEP/configmap.yaml'))['data']
for k in ('tagpilot.yaml', 'registries.conf'):
    open('$TAP_TMP/etc/' + k, 'w').write(d[k].replace('/etc/tagpilot', '$TAP_TMP/etc').replace('/var/lib/tagpilot', '$TAP_TMP/state'))
"
check "the ConfigMap has a kubernetes source, serve.lease and serve.listen 0.0.0.0:8081" \
    grep -q "listen: 0.0.0.0:8081" "$TAP_TMP/etc/tagpilot.yaml"
check "and serve.lease" grep -q "lease: {namespace: argocd, name: tagpilot, duration: 15s}" "$TAP_TMP/etc/tagpilot.yaml"
sed 's/lease: {namespace: argocd/lease: {namespace: Argo_CD/' "$TAP_TMP/etc/tagpilot.yaml" >"$TAP_TMP/etc/bad.yaml"
tp lint --config "$TAP_TMP/etc/bad.yaml"
check "tagpilot refuses a bad serve.lease (so the next check means something)" grep -q "serve.lease.namespace" "$ERR"
tp lint --config "$TAP_TMP/etc/tagpilot.yaml"
check "tagpilot reads the ConfigMap's config without a config error: $(head -c 200 "$ERR")" \
    sh -c "! grep -q 'tagpilot.yaml:[0-9]' '$ERR'"

# The Dockerfile: a lint, not a build (no Docker engine here).
DF=$DEP/Dockerfile
check "Dockerfile: FROM, RUN and COPY present" sh -c "grep -q '^FROM ' '$DF' && grep -q '^RUN ' '$DF' && grep -q '^COPY ' '$DF'"
check "Dockerfile: every base is Debian bookworm with a pinned tag (no latest)" \
    sh -c "! grep '^FROM ' '$DF' | grep -v '^FROM debian:bookworm-[0-9]' | grep -q . && ! grep -qi 'latest' '$DF'"
check "Dockerfile: it builds with make" grep -q 'RUN .*make' "$DF"
check "Dockerfile: the runtime stage installs no compiler or -dev package" \
    sh -c "awk '/^FROM/{n++} n==2' '$DF' | grep -Eq 'build-essential|-dev\\b|gcc' && exit 1 || exit 0"
finish
