# The fixture Applications (tests/fixtures/kube/apps.yaml) in the stand-in API server, with the
# images they name in a registry and the git repository their repoURL points at, for the suites
# that run tagpilot against a cluster. Source after tap.sh, registry.sh and kubeapi.sh, and after
# registry_start.
#
#   kubeapps_images        push the fixture images: bookstore v1.0.0 v1.0.1, catalog 1.0.0
#                          1.0.1, web 2.0.0 2.0.3, payments 2.0.0 2.1.0
#   kubeapps_repo DIR      a bare repository DIR/config.git (branch main): charts/bookstore
#                          (values.yaml says v0.9.0, which the Application's parameters
#                          override), charts/web (2.0.0) and envs/prod.yaml (2.0.0,
#                          the multi-source app's $values file), charts/payments (2.0.0, read from here: the
#                          Application sets nothing), kustomize/catalog (1.0.0)
#   kubeapps_start DIR [kubeapi.py options]   the two above and the stand-in seeded with
#                          apps.yaml (and secrets.yaml: REG_AUTH and REG_PASSWORD from
#                          $REG_CREDS); writes DIR/registries.conf
#   kubeapps_config FILE [SOURCE-LINES]   a tagpilot.yaml with one kubernetes source (the
#                          stand-in's kubeconfig; SOURCE-LINES indented under it), the
#                          registries.conf and DIR/state
#   kubeapps_app NAME      the Application argocd/NAME as the stand-in holds it (JSON)
KUBEAPPS_GIT="-c user.name=ops -c user.email=ops@example.com"

kubeapps_images() {
    for t in v1.0.0 v1.0.1; do reg_push image amplication/bookstore-application $t; done &&
        for t in 1.0.0 1.0.1; do reg_push image team/catalog $t; done &&
        for t in 2.0.0 2.0.3; do reg_push image team/web $t; done &&
        for t in 2.0.0 2.1.0; do reg_push image team/payments $t; done
}

kubeapps_repo() {
    w=$1/seed
    mkdir -p "$w/charts/bookstore" "$w/charts/web" "$w/charts/payments" "$w/kustomize/catalog" \
        "$w/envs"
    for c in bookstore web payments; do
        printf 'apiVersion: v2\nname: %s\nversion: 0.1.0\n' $c >"$w/charts/$c/Chart.yaml"
    done
    printf 'image:\n  repository: %s/amplication/bookstore-application\n  tag: v0.9.0\n' \
        "$REG_HOST" >"$w/charts/bookstore/values.yaml"
    printf 'web:\n  image:\n    repository: %s/team/web\n    tag: 2.0.0\n' "$REG_HOST" \
        >"$w/charts/web/values.yaml"
    printf 'web:\n  image:\n    tag: 2.0.0\n' >"$w/envs/prod.yaml"
    printf 'image:\n  name: %s/team/payments\n  tag: 2.0.0\n' "$REG_HOST" \
        >"$w/charts/payments/values.yaml"
    printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [deploy.yaml]\nimages:\n- name: %s/team/catalog\n  newTag: 1.0.0\n' \
        "$REG_HOST" >"$w/kustomize/catalog/kustomization.yaml"
    printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: catalog}\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: %s/team/catalog:1.0.0\n' \
        "$REG_HOST" >"$w/kustomize/catalog/deploy.yaml"
    git init -q --bare -b main "$1/config.git" &&
        (cd "$w" && git init -q -b main && git add -A &&
            git $KUBEAPPS_GIT commit -qm seed && git push -q "$1/config.git" main)
}

kubeapps_start() { # DIR [kubeapi.py options]
    KUBEAPPS_DIR=$1
    shift
    mkdir -p "$KUBEAPPS_DIR"
    kubeapps_images >/dev/null || return 1
    kubeapps_repo "$KUBEAPPS_DIR" || return 1
    reg_conf "$KUBEAPPS_DIR/registries.conf" "insecure: yes"
    pass=${REG_CREDS#*:}
    kubeapi_start "$KUBEAPPS_DIR/kube" --seed "$TP_ROOT/tests/fixtures/kube/apps.yaml" \
        --seed "$TP_ROOT/tests/fixtures/kube/secrets.yaml" --var "REGISTRY=$REG_HOST" \
        --var "REPO=file://$KUBEAPPS_DIR/config.git" \
        --var "REG_AUTH=$(printf '%s' "$REG_CREDS" | base64 -w0)" \
        --var "REG_PASSWORD=${pass:-none}" --var "GIT_PASSWORD=none" "$@"
}

kubeapps_config() { # FILE [SOURCE-LINES]
    {
        echo "sources:"
        echo "  - kubernetes:"
        echo "      kubeconfig: $KUBEAPI_CONFIG"
        [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/      /'
        echo "registries-conf: $KUBEAPPS_DIR/registries.conf"
        echo "state-dir: $KUBEAPPS_DIR/state"
    } >"$1"
}

kubeapps_app() { # NAME
    kubeapi_api "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/$1"
}
