#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_fixture.h"
#include "manifest/manifest.h"

/* Table: app, image index, want tag (NULL: error containing want_error), origin, file, line. */
Test(manifest, current_tags_in_precedence_order, .init = setup, .fini = teardown)
{
    static const struct {
        const char *app;
        size_t image;
        const char *tag;
        tag_origin origin;
        const char *file;
        size_t line;
        const char *error;
    } cases[] = {
        /* helm create chart: tag "" → Chart.yaml appVersion */
        {"web", 0, "1.16.0", ORIGIN_CHART_APPVERSION, "charts/web/Chart.yaml", 6, NULL},
        /* .argocd-source-<ns>_<app>.yaml wins over the Application's own parameter */
        {"api", 0, "2.1.0", ORIGIN_ARGOCD_SOURCE, "charts/api/.argocd-source-team-a_api.yaml", 4,
         NULL},
        /* image-spec at an indexed path in values.yaml */
        {"api", 1, "3.2.1", ORIGIN_HELM_VALUES, "charts/api/values.yaml", 7, NULL},
        {"overlay", 0, "1.25.3", ORIGIN_KUSTOMIZATION, "kustomize/overlay/kustomization.yaml", 10,
         NULL},
        /* no images entry: the container in the kustomization's resources */
        {"overlay", 1, "1.2.0", ORIGIN_PLAIN, "kustomize/overlay/deployment.yaml", 10, NULL},
        {"plain", 0, "v2.3.4", ORIGIN_PLAIN, "plain/deployment.yaml", 13, NULL},
        {"plain", 1, "1.36", ORIGIN_PLAIN, "plain/deployment.yaml", 10, NULL},
        {"broken", 0, NULL, ORIGIN_NONE, NULL, 0,
         "charts/broken/values.yaml:3:1: did not find expected"},
        {"nochart", 0, NULL, ORIGIN_NONE, NULL, 0, "no chart in 'charts/nochart'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const argo_app *app = app_named(cases[i].app);
        size_t n = app->settings.n_images;
        cr_assert_gt(n, cases[i].image, "case %zu: %zu images", i, n);
        current_tag *cur = xcalloc(n, sizeof *cur);
        tp_err err = {{0}};
        cr_assert_eq(manifest_current(app, cluster_tree, "argocd", cur, &err), 0, "case %zu: %s", i,
                     err.msg);
        const current_tag *c = &cur[cases[i].image];
        if (cases[i].tag) {
            cr_assert_null(c->error, "case %zu: %s", i, c->error);
            cr_assert_str_eq(c->tag, cases[i].tag, "case %zu", i);
            cr_assert_eq(c->origin, cases[i].origin, "case %zu: origin %s", i,
                         manifest_origin_name(c->origin));
            cr_assert_str_eq(c->file, cases[i].file, "case %zu", i);
            cr_assert_eq(c->line, cases[i].line, "case %zu: line %zu", i, c->line);
        } else {
            cr_assert_null(c->tag, "case %zu: tag %s", i, c->tag);
            cr_assert(c->error && strstr(c->error, cases[i].error), "case %zu: error '%s'", i,
                      c->error ? c->error : "(none)");
        }
        for (size_t j = 0; j < n; j++)
            current_tag_free(&cur[j]);
        free(cur);
    }
}

/* The Application's own helm parameter counts when there is no .argocd-source file. */
Test(manifest, application_parameters_before_values)
{
    const char *text = "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
                       "metadata:\n  name: api2\n  annotations:\n"
                       "    argocd-image-updater.argoproj.io/image-list: api=ghcr.io/acme/api\n"
                       "    argocd-image-updater.argoproj.io/api.helm.image-tag: api.image.tag\n"
                       "spec:\n  source:\n    repoURL: x\n    path: charts/api\n"
                       "    helm:\n      parameters:\n      - name: api.image.tag\n"
                       "        value: 9.9.9\n";
    ydoc doc;
    cr_assert_eq(yamldoc_parse(text, strlen(text), "t", &doc, NULL), 0);
    argo_app app;
    cr_assert_eq(app_from_node(doc.roots[0], "t", &app), 0);
    char *dir = cluster_fixture_dir();
    repotree *tree = folder_tree(dir);
    current_tag cur = {0};
    cr_assert_eq(manifest_current(&app, tree, "argocd", &cur, NULL), 0);
    repotree_free(tree);
    cr_assert_str_eq(cur.tag, "9.9.9");
    cr_assert_eq(cur.origin, ORIGIN_APP_SPEC);
    current_tag_free(&cur);
    app_free(&app);
    yamldoc_free(&doc);
    free(dir);
}

Test(manifest, missing_source_path_is_an_app_error, .init = setup, .fini = teardown)
{
    const argo_app *app = app_named("gone");
    current_tag cur = {0};
    tp_err err = {{0}};
    cr_assert_eq(manifest_current(app, cluster_tree, "argocd", &cur, &err), -1);
    cr_assert(strstr(err.msg, "app gone: source path 'does/not/exist' not found"), "%s", err.msg);
    cr_assert(cur.error != NULL);
    current_tag_free(&cur);
}

Test(manifest, names_and_kinds, .init = setup, .fini = teardown)
{
    char *n = manifest_argocd_source_name(app_named("web"), "argocd");
    cr_assert_str_eq(n, ".argocd-source-web.yaml");
    free(n);
    n = manifest_argocd_source_name(app_named("api"), "argocd");
    cr_assert_str_eq(n, ".argocd-source-team-a_api.yaml");
    free(n);
    n = manifest_argocd_source_name(app_named("api"), "team-a");
    cr_assert_str_eq(n, ".argocd-source-api.yaml");
    free(n);
    cr_assert_eq(manifest_app_kind(app_named("web"), cluster_tree), APP_KIND_HELM);
    cr_assert_eq(manifest_app_kind(app_named("plain"), cluster_tree), APP_KIND_PLAIN);
    cr_assert_eq(manifest_app_kind(app_named("overlay"), cluster_tree), APP_KIND_KUSTOMIZE);
}

Test(manifest, split_image)
{
    static const struct {
        const char *in, *name, *tag, *digest;
    } cases[] = {
        {"nginx", "nginx", NULL, NULL},
        {"nginx:1.25", "nginx", "1.25", NULL},
        {"localhost:5000/a/b", "localhost:5000/a/b", NULL, NULL},
        {"localhost:5000/a/b:v1", "localhost:5000/a/b", "v1", NULL},
        {"a/b:v1@sha256:abc", "a/b", "v1", "sha256:abc"},
        {"a/b@sha256:abc", "a/b", NULL, "sha256:abc"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *name, *tag, *digest;
        manifest_split_image(cases[i].in, &name, &tag, &digest);
        cr_assert_str_eq(name, cases[i].name, "case %zu", i);
        if (cases[i].tag)
            cr_assert_str_eq(tag, cases[i].tag, "case %zu", i);
        else
            cr_assert_null(tag, "case %zu", i);
        if (cases[i].digest)
            cr_assert_str_eq(digest, cases[i].digest, "case %zu", i);
        else
            cr_assert_null(digest, "case %zu", i);
        free(name);
        free(tag);
        free(digest);
    }
}

/* An image written in a manifest is this image only when it names the same registry and
 * repository; Docker Hub's spellings of one image are one image. */
Test(manifest, image_matches_registry_and_repository)
{
    static const struct {
        const char *written, *ref;
        bool same;
    } cases[] = {
        {"team/app:v1", "docker.io/team/app", true},
        {"docker.io/team/app", "team/app", true},
        {"index.docker.io/team/app@sha256:00", "team/app", true},
        {"docker.io/library/nginx:1.25", "nginx", true},
        {"ghcr.io/team/app:v1", "team/app", false},
        {"team/app", "ghcr.io/team/app", false},
        {"127.0.0.1:5001/team/app", "127.0.0.1:5000/team/app", false},
        {"ghcr.io/team/app-two", "ghcr.io/team/app", false},
        {"ghcr.io/other/app", "ghcr.io/team/app", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        imageref ref;
        cr_assert_eq(imageref_parse(cases[i].ref, &ref, NULL), 0, "case %zu", i);
        cr_expect_eq(manifest_image_matches(cases[i].written, &ref), cases[i].same,
                     "case %zu: '%s' against %s", i, cases[i].written, cases[i].ref);
        imageref_free(&ref);
    }
}
