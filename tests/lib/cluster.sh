# A cluster-config git repository for the shell suites. Source after tap.sh and registry.sh
# (it uses $REG_HOST and reg_conf).
#
#   cluster_repo DIR   a bare repository DIR/config.git (branch main) holding
#                        apps/bookstore.yaml  chart charts/bookstore (helm create layout), image
#                                             amplication/bookstore-application, semver ~1.0,
#                                             git write-back to .argocd-source-bookstore.yaml
#                        apps/catalog.yaml    chart charts/catalog, image team/catalog, semver ^1.0,
#                                             write-back-target helmvalues:values.yaml
#                      and DIR/tagpilot.yaml (approval: $APPROVAL, default manual),
#                      DIR/registries.conf, DIR/state for the state dir.
#   cluster_git DIR ARGS...   git against the bare repository
#   cluster_file DIR PATH     a file as main has it now
#   cluster_commit DIR MSG CMD...  change the repository like a colleague: clone, run CMD in it,
#                                  commit, push
GIT_ID="-c user.name=ops -c user.email=ops@example.com"

cluster_git() {
    dir=$1
    shift
    git --git-dir="$dir/config.git" "$@"
}

cluster_file() {
    cluster_git "$1" show "main:$2"
}

cluster_commit() {
    dir=$1 msg=$2
    shift 2
    work=$(mktemp -d "$TAP_TMP/colleague.XXXXXX")
    git clone -q "$dir/config.git" "$work" &&
        (cd "$work" && "$@" && git add -A && git $GIT_ID commit -qm "$msg" && git push -q origin main)
    rc=$?
    rm -rf "$work"
    return $rc
}

cluster_app() { # NAME IMAGE-LIST EXTRA-ANNOTATION-LINES
    cat <<Y
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: $1
  namespace: argocd
  annotations:
    argocd-image-updater.argoproj.io/image-list: $2
    argocd-image-updater.argoproj.io/write-back-method: git
$3
spec:
  project: default
  source:
    repoURL: file://$CLUSTER_DIR/config.git
    targetRevision: main
    path: charts/$1
  destination:
    server: https://kubernetes.default.svc
    namespace: $1
Y
}

cluster_repo() {
    CLUSTER_DIR=$1
    w=$CLUSTER_DIR/seed
    mkdir -p "$w/apps" "$w/charts/bookstore/templates" "$w/charts/catalog"
    git init -q --bare -b main "$CLUSTER_DIR/config.git"
    cat >"$w/charts/bookstore/Chart.yaml" <<Y
apiVersion: v2
name: bookstore
description: A Helm chart for Kubernetes
type: application
version: 0.1.0
appVersion: "v1.0.0"
Y
    cat >"$w/charts/bookstore/values.yaml" <<Y
replicaCount: 1

image:
  repository: $REG_HOST/amplication/bookstore-application
  pullPolicy: IfNotPresent
  # Overrides the image tag whose default is the chart appVersion.
  tag: ""
Y
    echo "# templates would be here" >"$w/charts/bookstore/templates/NOTES.txt"
    cat >"$w/charts/catalog/Chart.yaml" <<Y
apiVersion: v2
name: catalog
version: 0.1.0
appVersion: "1.4.0"
Y
    cat >"$w/charts/catalog/values.yaml" <<Y
# Catalog service values; keep comments intact.
replicaCount: 2   # two replicas

image:
  repository: $REG_HOST/team/catalog   # where CI pushes
  # the tag below is managed by the image updater
  tag: 1.4.0
  pullPolicy: IfNotPresent

service: {type: ClusterIP, port: 80}
Y
    cluster_app bookstore "bookstore=$REG_HOST/amplication/bookstore-application:~1.0" \
        "    argocd-image-updater.argoproj.io/bookstore.update-strategy: semver" \
        >"$w/apps/bookstore.yaml"
    cluster_app catalog "catalog=$REG_HOST/team/catalog:^1.0" \
        "    argocd-image-updater.argoproj.io/write-back-target: helmvalues:values.yaml
    argocd-image-updater.argoproj.io/catalog.helm.image-name: image.repository
    argocd-image-updater.argoproj.io/catalog.helm.image-tag: image.tag" >"$w/apps/catalog.yaml"
    (cd "$w" && git init -q -b main && git add -A && git $GIT_ID commit -qm "cluster config" &&
        git push -q "$CLUSTER_DIR/config.git" main) || return 1
    rm -rf "$w"
    reg_conf "$CLUSTER_DIR/registries.conf" "insecure: yes" "default: true"
    cat >"$CLUSTER_DIR/tagpilot.yaml" <<Y
sources:
  - git: file://$CLUSTER_DIR/config.git
    branch: main
    path: apps
registries-conf: ./registries.conf
state-dir: ./state
approval: ${APPROVAL:-manual}
interval: 2s
git:
  author: {name: tagpilot, email: tagpilot@example.com}
Y
}
