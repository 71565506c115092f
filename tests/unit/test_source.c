#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "source/gitrepo.h"
#include "source/source.h"

static char *cluster_dir(void)
{
    const char *root = getenv("TP_ROOT");
    return xasprintf("%s/tests/fixtures/cluster", root ? root : ".");
}

static const argo_app *find_app(const app_list *l, const char *name)
{
    for (size_t i = 0; i < l->count; i++)
        if (str_eq(l->items[i].name, name))
            return &l->items[i];
    return NULL;
}

Test(source, dir_reads_applications_and_skips_other_kinds)
{
    char *dir = cluster_dir();
    config_source cfg = {CONFIG_SOURCE_DIR, dir, NULL, "apps", 1};
    source_env env = {"/tmp/tp-unused-state", NULL};
    app_source *src = source_new(&cfg, &env);
    cr_assert_str_eq(src->ops->kind, "dir");
    app_list list = {0};
    tp_err err = {{0}};
    cr_assert_eq(source_list_apps(src, &list, &err), 0, "%s", err.msg);
    /* web, api (helm.yaml); overlay, plain, broken, nochart, gone, nameless (more.yml). */
    cr_assert_eq(list.count, 8, "got %zu apps", list.count);
    cr_assert_str_eq(list.items[0].name, "web");
    cr_assert_str_eq(list.items[1].name, "api");
    cr_assert_null(find_app(&list, "not-an-app"));

    const argo_app *api = find_app(&list, "api");
    cr_assert_str_eq(api->namespace_, "team-a");
    cr_assert_str_eq(api->file, "apps/helm.yaml");
    cr_assert_eq(api->line, 22);
    cr_assert_str_eq(api->path, "charts/api");
    cr_assert_null(api->target_revision);
    cr_assert_str_eq(api->repo_url, "https://git.example.com/cluster.git");
    cr_assert(api->has_helm);
    cr_assert_eq(api->n_helm_params, 1);
    cr_assert_str_eq(api->helm_params[0].value, "from-app-spec");
    cr_assert_eq(api->settings.n_images, 2);
    cr_assert_eq(api->settings.writeback, WRITEBACK_GIT);

    const argo_app *web = find_app(&list, "web");
    cr_assert_str_eq(web->target_revision, "main");
    cr_assert_eq(web->settings.n_images, 1);
    cr_assert_str_eq(web->settings.images[0].alias, "web");

    /* An Application without a name is an error for it alone. */
    const argo_app *nameless = &list.items[7];
    cr_assert_null(nameless->name);
    cr_assert(nameless->error && strstr(nameless->error, "apps/more.yml:"), "%s",
              nameless->error ? nameless->error : "(none)");

    /* The malformed file is reported by name and line; the others were still read. */
    cr_assert_eq(list.errors.count, 1);
    cr_assert(str_starts_with(list.errors.items[0], "apps/zz-malformed.yaml:"), "%s",
              list.errors.items[0]);
    app_list_free(&list);
    source_free(src);
    free(dir);
}

Test(source, dir_missing_folder_is_an_error)
{
    config_source cfg = {CONFIG_SOURCE_DIR, "/nonexistent/tp", NULL, "", 1};
    source_env env = {"/tmp", NULL};
    app_source *src = source_new(&cfg, &env);
    app_list list = {0};
    tp_err err = {{0}};
    cr_assert_eq(source_list_apps(src, &list, &err), -1);
    cr_assert(strstr(err.msg, "/nonexistent/tp"), "%s", err.msg);
    app_list_free(&list);
    source_free(src);

    char *dir = cluster_dir();
    config_source sub = {CONFIG_SOURCE_DIR, dir, NULL, "no-such-path", 1};
    src = source_new(&sub, &env);
    cr_assert_eq(source_list_apps(src, &list, &err), -1);
    cr_assert(strstr(err.msg, "no-such-path"), "%s", err.msg);
    app_list_free(&list);
    source_free(src);
    free(dir);
}

Test(source, app_copy_is_deep)
{
    char *dir = cluster_dir();
    app_list list = {0};
    cr_assert_eq(app_list_read_dir(dir, "apps", &list, NULL), 0);
    argo_app copy;
    app_copy(&copy, &list.items[1]);
    app_list_free(&list);
    cr_assert_str_eq(copy.name, "api");
    cr_assert_eq(copy.settings.n_images, 2);
    cr_assert_str_eq(copy.helm_params[0].name, "api.image.tag");
    app_free(&copy);
    free(dir);
}

Test(source, urls_shown_without_credentials)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"https://bot:s3cret@git.example.com/x.git", "https://git.example.com/x.git"},
        {"http://user:tok@127.0.0.1:8080/git/c.git", "http://127.0.0.1:8080/git/c.git"},
        {"https://token@git.example.com/x.git", "https://git.example.com/x.git"},
        {"ssh://git@host/x.git", "ssh://git@host/x.git"},
        {"ssh://git:pw@host/x.git", "ssh://host/x.git"},
        {"git@github.com:org/repo.git", "git@github.com:org/repo.git"},
        {"file:///srv/c.git", "file:///srv/c.git"},
        {"https://git.example.com/a@b/x.git", "https://git.example.com/a@b/x.git"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *got = gitrepo_redact_url(cases[i].in);
        cr_assert_str_eq(got, cases[i].want, "case %zu", i);
        free(got);
    }
    config_source cfg = {CONFIG_SOURCE_GIT, "https://bot:s3cret@git.example.com/x.git", "main",
                         "apps", 1};
    source_env env = {"/tmp", NULL};
    app_source *src = source_new(&cfg, &env);
    cr_assert_str_eq(src->label, "git https://git.example.com/x.git@main:apps");
    cr_assert_str_eq(src->ops->kind, "git");
    source_free(src);
}
