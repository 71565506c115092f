#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cluster_fixture.h"
#include "manifest/manifest.h"
#include "writeback/writeback.h"

/* An Application from YAML text (annotations given as "key: value" lines). */
static argo_app make_app(const char *annotations, const char *path)
{
    char *text = xasprintf("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n"
                           "  name: t\n  annotations:\n%s"
                           "spec:\n  source:\n    repoURL: x\n    path: %s\n",
                           annotations, path);
    ydoc doc;
    tp_err err = {{0}};
    cr_assert_eq(yamldoc_parse(text, strlen(text), "t", &doc, &err), 0, "%s", err.msg);
    argo_app app;
    cr_assert_eq(app_from_node(doc.roots[0], "t", &app), 0);
    yamldoc_free(&doc);
    free(text);
    return app;
}

static int lines_changed(const writeback_file *f)
{
    int minus = 0, plus = 0;
    const char *a = f->before ? f->before : "", *b = f->after;
    /* Count lines present in one and not at the same position in the other. */
    while (*a || *b) {
        const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
        size_t la = ea ? (size_t)(ea - a) : strlen(a), lb = eb ? (size_t)(eb - b) : strlen(b);
        if (la != lb || memcmp(a, b, la) != 0) {
            minus += *a != '\0';
            plus += *b != '\0';
        }
        a = ea ? ea + 1 : a + la;
        b = eb ? eb + 1 : b + lb;
    }
    return minus > plus ? minus : plus;
}

static writeback_change plan(const argo_app *app, const image_update *u, size_t n,
                             const writeback_opts *o)
{
    writeback_change c;
    tp_err err = {{0}};
    cr_assert_eq(writeback_plan_in(app, cluster_tree, u, n, o, &c, &err), 0, "%s", err.msg);
    return c;
}

Test(writeback, argocd_source_new_file_for_helm, .init = setup, .fini = teardown)
{
    const argo_app *web = app_named("web");
    image_update u = {&web->settings.images[0], "1.16.0", "1.16.1"};
    writeback_change c = plan(web, &u, 1, NULL);
    cr_assert_eq(c.n_files, 1);
    cr_assert_str_eq(c.files[0].path, "charts/web/.argocd-source-web.yaml");
    cr_assert_null(c.files[0].before);
    cr_assert_str_eq(c.files[0].after, "helm:\n  parameters:\n"
                                       "  - name: image.name\n    value: ghcr.io/acme/web\n"
                                       "    forcestring: true\n"
                                       "  - name: image.tag\n    value: 1.16.1\n"
                                       "    forcestring: true\n");
    cr_assert(strstr(c.diff, "+++ b/charts/web/.argocd-source-web.yaml"), "%s", c.diff);
    cr_assert(strstr(c.diff, "+    value: 1.16.1\n"), "%s", c.diff);
    cr_assert_str_eq(c.message, "build: automatic update of web\n\n"
                                "updates image ghcr.io/acme/web tag '1.16.0' to '1.16.1'\n");
    writeback_change_free(&c);
}

Test(writeback, argocd_source_merge_with_spec_and_namespace, .init = setup, .fini = teardown)
{
    const argo_app *api = app_named("api");
    image_update u[] = {{&api->settings.images[0], "2.1.0", "2.2.0"},
                        {&api->settings.images[1], "3.2.1", "3.3.0"}};
    const char *trailers[] = {"Approved-by: alice@ops-host"};
    writeback_opts o = {.trailers = trailers, .n_trailers = 1};
    writeback_change c = plan(api, u, 2, &o);
    cr_assert_eq(c.n_files, 1);
    cr_assert_str_eq(c.files[0].path, "charts/api/.argocd-source-team-a_api.yaml");
    cr_assert_str_eq(c.files[0].after,
                     "helm:\n  parameters:\n"
                     "  - name: api.image.repository\n    value: ghcr.io/acme/api\n"
                     "    forcestring: true\n"
                     "  - name: api.image.tag\n    value: 2.2.0\n    forcestring: true\n"
                     "  - name: replicaCount\n    value: \"3\"\n    forcestring: true\n"
                     "  - name: \"workers[1].image\"\n    value: ghcr.io/acme/worker:3.3.0\n"
                     "    forcestring: true\n");
    cr_assert_str_eq(c.message, "build: automatic update of api\n\n"
                                "updates image ghcr.io/acme/api tag '2.1.0' to '2.2.0'\n"
                                "updates image ghcr.io/acme/worker tag '3.2.1' to '3.3.0'\n"
                                "\nApproved-by: alice@ops-host\n");
    writeback_change_free(&c);
}

Test(writeback, kustomization_one_line_and_new_entry, .init = setup, .fini = teardown)
{
    const argo_app *ov = app_named("overlay");
    image_update u = {&ov->settings.images[0], "1.25.3", "1.25.4"};
    writeback_change c = plan(ov, &u, 1, NULL);
    cr_assert_eq(c.n_files, 1);
    cr_assert_str_eq(c.files[0].path, "kustomize/overlay/kustomization.yaml");
    cr_assert_eq(lines_changed(&c.files[0]), 1, "%s", c.diff);
    cr_assert(strstr(c.diff, "-    newTag: \"1.25.3\"   # bumped by tagpilot\n"
                             "+    newTag: \"1.25.4\"   # bumped by tagpilot\n"),
              "%s", c.diff);
    writeback_change_free(&c);

    image_update add = {&ov->settings.images[1], "1.2.0", "1.3.0"};
    c = plan(ov, &add, 1, NULL);
    cr_assert_eq(c.n_files, 1);
    cr_assert(str_ends_with(c.files[0].after, "    newTag: \"1.25.3\"   # bumped by tagpilot\n"
                                              "  - name: ghcr.io/acme/web\n"
                                              "    newTag: 1.3.0\n"),
              "%s", c.files[0].after);
    writeback_change_free(&c);

    /* digest strategy: "tag@sha256:…" is split into newTag and a new digest line. */
    image_update dig = {&ov->settings.images[0], "1.25.3", "1.25.4@sha256:abc123"};
    c = plan(ov, &dig, 1, NULL);
    cr_assert(str_ends_with(c.files[0].after, "    newTag: \"1.25.4\"   # bumped by tagpilot\n"
                                              "    digest: sha256:abc123\n"),
              "%s", c.files[0].after);
    writeback_change_free(&c);
}

Test(writeback, plain_directory_in_place, .init = setup, .fini = teardown)
{
    const argo_app *pl = app_named("plain");
    image_update u[] = {{&pl->settings.images[0], "v2.3.4", "v2.4.0"},
                        {&pl->settings.images[1], "1.36", "1.37"}};
    writeback_change c = plan(pl, u, 2, NULL);
    cr_assert_eq(c.n_files, 1);
    cr_assert_str_eq(c.files[0].path, "plain/deployment.yaml");
    cr_assert_eq(lines_changed(&c.files[0]), 3, "%s", c.diff);
    cr_assert(strstr(c.files[0].after,
                     "image: \"registry.local:5000/team/app:v2.4.0\"   # pinned by CD\n"));
    cr_assert(strstr(c.files[0].after, "image: registry.local:5000/team/app:v2.4.0\n"));
    cr_assert(strstr(c.files[0].after, "image: busybox:1.37\n"));
    cr_assert(strstr(c.files[0].after, "image: registry.local:5000/team/other:1.0\n"));
    writeback_change_free(&c);
}

Test(writeback, helmvalues_one_line, .init = setup, .fini = teardown)
{
    argo_app app =
        make_app("    argocd-image-updater.argoproj.io/image-list: api=ghcr.io/acme/api\n"
                 "    argocd-image-updater.argoproj.io/write-back-target: helmvalues\n"
                 "    argocd-image-updater.argoproj.io/api.helm.image-name: api.image.repository\n"
                 "    argocd-image-updater.argoproj.io/api.helm.image-tag: api.image.tag\n",
                 "charts/api");
    image_update u = {&app.settings.images[0], "2.0.0", "2.0.1"};
    writeback_change c = plan(&app, &u, 1, NULL);
    cr_assert_eq(c.n_files, 1);
    cr_assert_str_eq(c.files[0].path, "charts/api/values.yaml");
    cr_assert_eq(lines_changed(&c.files[0]), 1, "%s", c.diff);
    cr_assert(strstr(c.diff, "-    tag: 2.0.0\n+    tag: 2.0.1\n"), "%s", c.diff);
    writeback_change_free(&c);

    /* Same tag again: nothing to commit. */
    image_update same = {&app.settings.images[0], "2.0.0", "2.0.0"};
    c = plan(&app, &same, 1, NULL);
    cr_assert_eq(c.n_files, 0);
    cr_assert_str_eq(c.diff, "");
    writeback_change_free(&c);
    app_free(&app);
}

Test(writeback, helmvalues_repo_absolute_file_and_empty_tag, .init = setup, .fini = teardown)
{
    argo_app app =
        make_app("    argocd-image-updater.argoproj.io/image-list: web=nginx\n"
                 "    argocd-image-updater.argoproj.io/write-back-target: "
                 "helmvalues:/charts/web/values.yaml\n"
                 "    argocd-image-updater.argoproj.io/web.helm.image-name: image.repository\n",
                 "apps");
    image_update u = {&app.settings.images[0], "1.16.0", "1.16.1"};
    writeback_change c = plan(&app, &u, 1, NULL);
    cr_assert_eq(c.n_files, 1);
    cr_assert_str_eq(c.files[0].path, "charts/web/values.yaml");
    cr_assert_eq(lines_changed(&c.files[0]), 1, "%s", c.diff);
    cr_assert(strstr(c.diff, "+  tag: \"1.16.1\"\n"), "%s", c.diff);
    writeback_change_free(&c);
    app_free(&app);
}

Test(writeback, errors_name_app_and_file, .init = setup, .fini = teardown)
{
    argo_app app =
        make_app("    argocd-image-updater.argoproj.io/image-list: api=ghcr.io/acme/api\n"
                 "    argocd-image-updater.argoproj.io/write-back-target: helmvalues\n",
                 "charts/api");
    image_update u = {&app.settings.images[0], "2.0.0", "2.0.1"};
    writeback_change c;
    tp_err err = {{0}};
    cr_assert_eq(writeback_plan_in(&app, cluster_tree, &u, 1, NULL, &c, &err), -1);
    cr_assert(strstr(err.msg, "app t: charts/api/values.yaml: no key 'image.tag'"), "%s", err.msg);
    app_free(&app);

    /* The fixture's own copy (each test runs in a process of its own). */
    argo_app *b = (argo_app *)app_named("broken");
    b->settings.target = TARGET_HELMVALUES;
    image_update ub = {&b->settings.images[0], "1", "2"};
    cr_assert_eq(writeback_plan_in(b, cluster_tree, &ub, 1, NULL, &c, &err), -1);
    cr_assert(strstr(err.msg, "app broken: charts/broken/values.yaml:3:1:"), "%s", err.msg);

    const argo_app *pl = app_named("plain");
    imageref ghost;
    cr_assert_eq(imageref_parse("ghcr.io/acme/ghost", &ghost, NULL), 0);
    image_settings gs = pl->settings.images[0];
    gs.ref = ghost;
    image_update ug = {&gs, "1", "2"};
    cr_assert_eq(writeback_plan_in(pl, cluster_tree, &ug, 1, NULL, &c, &err), -1);
    cr_assert(strstr(err.msg, "no container in 'plain' uses ghcr.io/acme/ghost"), "%s", err.msg);
    imageref_free(&ghost);
}

Test(writeback, message_template_and_branches, .init = setup, .fini = teardown)
{
    const argo_app *web = app_named("web");
    image_update u = {&web->settings.images[0], "1.16.0", "1.16.1"};
    writeback_opts o = {.message_template = "chore({{.AppName}}): bump\n\n{{range .AppChanges}}- "
                                            "{{.Alias}} {{.OldTag}} -> {{.NewTag}}\n{{end}}"};
    tp_err err = {{0}};
    char *m = writeback_message(web, &u, 1, &o, &err);
    cr_assert_str_eq(m, "chore(web): bump\n\n- web 1.16.0 -> 1.16.1\n");
    free(m);
    o.message_template = "{{.Nope}}";
    cr_assert_null(writeback_message(web, &u, 1, &o, &err));
    cr_assert(strstr(err.msg, "commit-message-template: template: unknown field '.Nope'"), "%s",
              err.msg);

    argo_app app =
        make_app("    argocd-image-updater.argoproj.io/image-list: web=ghcr.io/acme/web\n"
                 "    argocd-image-updater.argoproj.io/git-branch: "
                 "'main:image-updater{{range .Images}}-{{.Alias}}-{{.NewTag}}{{end}}'\n",
                 "charts/web");
    image_update ua = {&app.settings.images[0], "1.16.0", "1.16.1"};
    char *base, *push;
    cr_assert_eq(writeback_branches(&app, &ua, 1, &base, &push, &err), 0, "%s", err.msg);
    cr_assert_str_eq(base, "main");
    cr_assert_str_eq(push, "image-updater-web-1.16.1");
    free(base);
    free(push);
    app_free(&app);

    argo_app sha =
        make_app("    argocd-image-updater.argoproj.io/image-list: web=ghcr.io/acme/web\n"
                 "    argocd-image-updater.argoproj.io/git-branch: "
                 "':updates-{{.SHA256}}'\n",
                 "charts/web");
    image_update us = {&sha.settings.images[0], "1.16.0", "1.16.1"};
    cr_assert_eq(writeback_branches(&sha, &us, 1, &base, &push, &err), 0, "%s", err.msg);
    cr_assert_null(base, "':target' builds on the default branch");
    cr_assert_eq(strlen(push), strlen("updates-") + 64, "%s", push);
    char *again;
    cr_assert_eq(writeback_branches(&sha, &us, 1, &base, &again, &err), 0);
    cr_assert_str_eq(again, push, "stable for the same change");
    free(again);
    free(push);
    app_free(&sha);

    argo_app bad =
        make_app("    argocd-image-updater.argoproj.io/image-list: web=ghcr.io/acme/web\n"
                 "    argocd-image-updater.argoproj.io/git-branch: 'main:a..b'\n",
                 "charts/web");
    image_update ub = {&bad.settings.images[0], "1.16.0", "1.16.1"};
    cr_assert_eq(writeback_branches(&bad, &ub, 1, &base, &push, &err), -1);
    cr_assert(strstr(err.msg, "not a valid branch name"), "%s", err.msg);
    app_free(&bad);

    cr_assert_eq(writeback_branches(web, &u, 1, &base, &push, &err), 0);
    cr_assert_str_eq(base, "main", "targetRevision");
    cr_assert_null(push);
    free(base);
}

/* What goes into a commit message stays on its line: a tag, image, alias, app name or trailer
 * holding a line break or a control character is refused with the field named, so no value can
 * forge a trailer such as "Approved-by:". */
Test(writeback, message_refuses_values_that_would_break_a_line, .init = setup, .fini = teardown)
{
    const argo_app *web = app_named("web");
    static const struct {
        const char *old_tag, *new_tag, *trailer, *want;
    } cases[] = {
        {"1.16.0", "1.16.1\n\nApproved-by: boss@corp", NULL,
         "app web: commit message: the new tag of web '1.16.1\\x0a\\x0aApproved-by: boss@corp' "
         "holds a line break; refusing to write it"},
        {"1.16.0", "1.16.1\r\nApproved-by: x", NULL, "the new tag of web"},
        {"1.16.0",
         "1.16.1\xe2\x80\xa8"
         "Approved-by: x",
         NULL, "holds a line break"},
        {"1.16.0",
         "1.16.1\xc2\x85"
         "Approved-by: x",
         NULL, "holds a line break"},
        {"1.16.0\nApproved-by: x", "1.16.1", NULL,
         "the current tag of web '1.16.0\\x0aApproved-by: x' holds a line break"},
        {"1.16.0", "1.16.1\x1b[8m", NULL, "'1.16.1\\x1b[8m' holds a control character"},
        {"1.16.0", "1.16.1\xff", NULL, "holds invalid UTF-8"},
        {"1.16.0", "1.16.1", "Approved-by: a@b\nApproved-by: boss",
         "the trailer 'Approved-by: a@b\\x0aApproved-by: boss' holds a line break"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        image_update u = {&web->settings.images[0], cases[i].old_tag, cases[i].new_tag};
        const char *trailers[] = {cases[i].trailer};
        writeback_opts o = {.trailers = cases[i].trailer ? trailers : NULL,
                            .n_trailers = cases[i].trailer ? 1 : 0};
        tp_err err = {{0}};
        char *m = writeback_message(web, &u, 1, &o, &err);
        cr_expect_null(m, "case %zu wrote: %s", i, m ? m : "");
        free(m);
        cr_expect(strstr(err.msg, cases[i].want), "case %zu: %s", i, err.msg);
        cr_expect_null(strchr(err.msg, '\n'), "case %zu: the message is one line", i);
        /* The whole plan fails: nothing would be committed (a tag that is not UTF-8 is
         * already refused by the YAML it would go into). */
        writeback_change c;
        cr_expect_eq(writeback_plan_in(web, cluster_tree, &u, 1, &o, &c, &err), -1, "case %zu", i);
        cr_expect(strstr(err.msg, "commit message") || strstr(err.msg, "not valid UTF-8"),
                  "case %zu: %s", i, err.msg);
    }
    /* An app name from the repository is checked too. */
    argo_app evil = make_app(
        "    argocd-image-updater.argoproj.io/image-list: web=ghcr.io/acme/web\n", "charts/web");
    free(evil.name);
    evil.name = xstrdup("web\nApproved-by: boss");
    image_update ue = {&evil.settings.images[0], "1.16.0", "1.16.1"};
    tp_err err = {{0}};
    cr_expect_null(writeback_message(&evil, &ue, 1, NULL, &err));
    cr_expect(strstr(err.msg, "the app name 'web\\x0aApproved-by: boss' holds a line break"), "%s",
              err.msg);
    app_free(&evil);
}

/* New lines go right after the entry, before comments and blank lines that follow it, with the
 * file's CRLF line ends. */
Test(writeback, kustomization_insertions_keep_layout)
{
    char tmpl[] = "/tmp/tp-kust-XXXXXX";
    char *dir = mkdtemp(tmpl);
    cr_assert_not_null(dir);
    char *path = xasprintf("%s/kustomization.yaml", dir);
    FILE *f = fopen(path, "w");
    fputs("images:\r\n  - name: ghcr.io/acme/a\r\n    newName: ghcr.io/acme/a2\r\n"
          "  # b is next\r\n\r\n  - name: ghcr.io/acme/b\r\n    newTag: 1.0.0\r\n"
          "# trailing comment\r\n",
          f);
    fclose(f);
    argo_app app =
        make_app("    argocd-image-updater.argoproj.io/image-list: a=ghcr.io/acme/a, "
                 "c=ghcr.io/acme/c\n"
                 "    argocd-image-updater.argoproj.io/write-back-target: kustomization\n",
                 ".");
    image_update u[] = {{&app.settings.images[0], NULL, "2.0.0"},
                        {&app.settings.images[1], NULL, "3.0.0"}};
    writeback_change c;
    tp_err err = {{0}};
    repotree *tree = folder_tree(dir);
    cr_assert_eq(writeback_plan_in(&app, tree, u, 2, NULL, &c, &err), 0, "%s", err.msg);
    repotree_free(tree);
    cr_assert_eq(c.n_files, 1);
    cr_assert_str_eq(c.files[0].after,
                     "images:\r\n  - name: ghcr.io/acme/a\r\n    newName: ghcr.io/acme/a2\r\n"
                     "    newTag: 2.0.0\r\n"
                     "  # b is next\r\n\r\n  - name: ghcr.io/acme/b\r\n    newTag: 1.0.0\r\n"
                     "  - name: ghcr.io/acme/c\r\n    newTag: 3.0.0\r\n"
                     "# trailing comment\r\n");
    writeback_change_free(&c);
    app_free(&app);
    unlink(path);
    rmdir(dir);
    free(path);
}

static char *read_fixture(const char *name, size_t *len)
{
    const char *root = getenv("TP_ROOT");
    char *path = xasprintf("%s/tests/fixtures/writeback/%s", root ? root : ".", name);
    strbuf sb = {0};
    cr_assert_eq(file_read_all(path, name, &sb, NULL), 0, "%s", path);
    free(path);
    *len = sb.len;
    return strbuf_take(&sb);
}

/* Write-back through the public plan on the golden fixtures: the new file equals the golden one
 * and the diff is exactly one line. */
Test(writeback, golden_values_and_kustomization)
{
    const char *root = getenv("TP_ROOT");
    char *dir = xasprintf("%s/tests/fixtures/writeback", root ? root : ".");
    static const struct {
        const char *annotations, *path, *image_tag, *file, *golden;
    } cases[] = {
        {"    argocd-image-updater.argoproj.io/image-list: web=ghcr.io/acme/web\n"
         "    argocd-image-updater.argoproj.io/write-back-target: helmvalues:values.yaml\n"
         "    argocd-image-updater.argoproj.io/web.helm.image-name: image.repository\n",
         "", "v1.5.0", "values.yaml", "values.image-tag.golden"},
        {"    argocd-image-updater.argoproj.io/image-list: web=ghcr.io/acme/web\n"
         "    argocd-image-updater.argoproj.io/write-back-target: helmvalues:/values-crlf.yaml\n"
         "    argocd-image-updater.argoproj.io/web.helm.image-name: image.repository\n",
         "kust", "v1.5.0", "values-crlf.yaml", "values-crlf.golden"},
        {"    argocd-image-updater.argoproj.io/image-list: shop=ghcr.io/acme/shop\n"
         "    argocd-image-updater.argoproj.io/write-back-target: kustomization\n",
         "kust", "2.4.0", "kust/kustomization.yaml", "kustomization.golden"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        argo_app app = make_app(cases[i].annotations, *cases[i].path ? cases[i].path : ".");
        free(app.path);
        app.path = xstrdup(cases[i].path);
        image_update u = {&app.settings.images[0], NULL, cases[i].image_tag};
        writeback_change c;
        tp_err err = {{0}};
        repotree *tree = folder_tree(dir);
        cr_assert_eq(writeback_plan_in(&app, tree, &u, 1, NULL, &c, &err), 0, "case %zu: %s", i,
                     err.msg);
        repotree_free(tree);
        cr_assert_eq(c.n_files, 1, "case %zu", i);
        cr_assert_str_eq(c.files[0].path, cases[i].file, "case %zu", i);
        size_t glen;
        char *golden = read_fixture(cases[i].golden, &glen);
        cr_assert_eq(c.files[0].after_len, glen, "case %zu:\n%s", i, c.files[0].after);
        cr_assert(memcmp(c.files[0].after, golden, glen) == 0, "case %zu:\n%s", i,
                  c.files[0].after);
        cr_assert_eq(lines_changed(&c.files[0]), 1, "case %zu:\n%s", i, c.diff);
        free(golden);
        writeback_change_free(&c);
        app_free(&app);
    }
    free(dir);
}

/* A Kustomize app without a target gets the Kustomize form of .argocd-source. */
Test(writeback, argocd_source_kustomize_form, .init = setup, .fini = teardown)
{
    argo_app app = make_app("    argocd-image-updater.argoproj.io/image-list: "
                            "web=ghcr.io/acme/web, nginx=nginx\n"
                            "    argocd-image-updater.argoproj.io/nginx.kustomize.image-name: "
                            "docker.io/library/nginx-base\n",
                            "kustomize/overlay");
    image_update u[] = {{&app.settings.images[0], "1.2.0", "1.3.0"},
                        {&app.settings.images[1], "1.25.3", "1.25.4"}};
    writeback_change c = plan(&app, u, 2, NULL);
    cr_assert_eq(c.n_files, 1);
    cr_assert_str_eq(c.files[0].path, "kustomize/overlay/.argocd-source-t.yaml");
    cr_assert_str_eq(c.files[0].after, "kustomize:\n  images:\n  - ghcr.io/acme/web:1.3.0\n"
                                       "  - docker.io/library/nginx-base=nginx:1.25.4\n");
    writeback_change_free(&c);
    app_free(&app);
}

/* A helm values edit changes only the tag's bytes: the repository line stays as written when it
 * names the same image in another spelling (docker.io/library/nginx for nginx). */
Test(writeback, helmvalues_keeps_the_name_as_written)
{
    char dir[] = "/tmp/tp-wb-name-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char *cmd = xasprintf("mkdir -p %s/charts/web && printf 'apiVersion: v2\\nname: web\\n"
                          "version: 0.1.0\\n' >%s/charts/web/Chart.yaml && printf 'image:\\n"
                          "  repository: docker.io/library/nginx\\n  tag: 1.25.0\\n' "
                          ">%s/charts/web/values.yaml",
                          dir, dir, dir);
    cr_assert_eq(system(cmd), 0);
    free(cmd);
    repotree *tree = folder_tree(dir);
    argo_app app =
        make_app("    argocd-image-updater.argoproj.io/image-list: web=nginx\n"
                 "    argocd-image-updater.argoproj.io/write-back-target: helmvalues\n"
                 "    argocd-image-updater.argoproj.io/web.helm.image-name: image.repository\n"
                 "    argocd-image-updater.argoproj.io/web.helm.image-tag: image.tag\n",
                 "charts/web");
    image_update u = {&app.settings.images[0], "1.25.0", "1.25.1"};
    writeback_change c;
    tp_err err = {{0}};
    cr_assert_eq(writeback_plan_in(&app, tree, &u, 1, NULL, &c, &err), 0, "%s", err.msg);
    cr_assert_eq(c.n_files, 1);
    cr_expect_eq(lines_changed(&c.files[0]), 1, "%s", c.diff);
    cr_expect_str_eq(c.files[0].after, "image:\n  repository: docker.io/library/nginx\n"
                                       "  tag: 1.25.1\n");
    writeback_change_free(&c);
    app_free(&app);
    repotree_free(tree);
    cmd = xasprintf("rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
    free(cmd);
}

/* Shared holds in a write: a pin on the tip the write builds on (another engine's, since the
 * scan) refuses another tag; the pin itself goes through with its hold; a hold alone is a
 * commit of the holds file with its own message. */
Test(writeback, holds_on_the_tip)
{
    char tmpl[] = "/tmp/tp-holds-XXXXXX";
    char *dir = mkdtemp(tmpl);
    cr_assert_not_null(dir);
    char *sub = xasprintf("%s/.tagpilot", dir);
    cr_assert_eq(mkdir(sub, 0700), 0);
    char *path = xasprintf("%s/holds.yaml", sub);
    FILE *f = fopen(path, "w");
    fputs("apiVersion: tagpilot.io/v1\nkind: Holds\napplications:\n  t:\n    images:\n"
          "      c: {pin: 1.0.0}\n",
          f);
    fclose(f);
    char *kpath = xasprintf("%s/kustomization.yaml", dir);
    f = fopen(kpath, "w");
    fputs("images:\n  - name: ghcr.io/acme/c\n    newTag: 1.0.0\n", f);
    fclose(f);
    argo_app app =
        make_app("    argocd-image-updater.argoproj.io/image-list: c=ghcr.io/acme/c\n"
                 "    argocd-image-updater.argoproj.io/write-back-target: kustomization\n",
                 ".");
    image_update u = {&app.settings.images[0], "1.0.0", "2.0.0"};
    writeback_change c;
    tp_err err = {{0}};
    repotree *tree = folder_tree(dir);
    cr_assert_eq(writeback_plan_in(&app, tree, &u, 1, NULL, &c, &err), -1,
                 "an approval of 2.0.0 while the tip pins 1.0.0");
    cr_assert(strstr(err.msg, "c is pinned at 1.0.0"), "%s", err.msg);
    hold_edit pin = {HOLD_PIN, "t", "c", "2.0.0"};
    writeback_opts o = {.hold = &pin};
    cr_assert_eq(writeback_plan_in(&app, tree, &u, 1, &o, &c, &err), 0, "the pin moves it: %s",
                 err.msg);
    cr_assert_eq(c.n_files, 2, "the tag and the hold, in one commit");
    cr_assert(strstr(c.message, "tagpilot: pin c of t at '2.0.0' (shared holds)\n"), "%s",
              c.message);
    writeback_change_free(&c);
    hold_edit skip = {HOLD_SKIP, "t", "c", "3.0.0"};
    o.hold = &skip;
    cr_assert_eq(writeback_plan_in(&app, tree, NULL, 0, &o, &c, &err), 0, "%s", err.msg);
    cr_assert_eq(c.n_files, 1);
    cr_assert_str_eq(c.files[0].path, ".tagpilot/holds.yaml");
    cr_assert(strstr(c.files[0].after, "pin: \"1.0.0\""), "the pin stays: %s", c.files[0].after);
    cr_assert(strstr(c.files[0].after, "- \"3.0.0\""), "%s", c.files[0].after);
    cr_assert(str_starts_with(c.message, "tagpilot: skip '3.0.0' for c of t (shared holds)\n"),
              "%s", c.message);
    writeback_change_free(&c);
    repotree_free(tree);
    app_free(&app);
    unlink(path);
    unlink(kpath);
    rmdir(sub);
    rmdir(dir);
    free(path);
    free(kpath);
    free(sub);
}
