/* gitwb: drive sources, the current-tag reader and git write-back from the shell suites, until
 * `tagpilot run` exists. Usage:
 *   gitwb apps CONFIG                      one line per app: SOURCE<TAB>APP<TAB>NS<TAB>PATH, and
 *                                          "error<TAB>MESSAGE" for unreadable files / apps
 *   gitwb current CONFIG                   APP/ALIAS<TAB>TAG<TAB>ORIGIN<TAB>FILE:LINE, or
 *                                          APP/ALIAS<TAB>error<TAB>MESSAGE
 *   gitwb plan CONFIG APP ALIAS=TAG...     the diff that would be committed
 *   gitwb apply CONFIG APP ALIAS=TAG... [--trailer T]... [--race CMD] [--attempts N]
 *                                          "commit <id>" or "no change"; CMD runs (sh -c) once,
 *                                          between the commit and the first push
 * Exit 0 ok, 1 failure (message on stderr), 2 usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "manifest/manifest.h"
#include "source/source.h"
#include "writeback/writeback.h"

static int usage(void)
{
    fputs("usage: gitwb apps|current CONFIG | plan|apply CONFIG APP ALIAS=TAG... "
          "[--trailer T] [--race CMD] [--attempts N]\n",
          stderr);
    return 2;
}

/* All apps of all sources, in order. */
static int load_apps(const tp_config *cfg, app_list *all, bool print)
{
    source_env env = {gitrepo_opts_from(cfg), cfg->argocd_namespace, NULL};
    int rc = 0;
    for (size_t i = 0; i < cfg->n_sources; i++) {
        app_source *src = source_new(&cfg->sources[i], &env);
        app_list list = {0};
        tp_err err = {{0}};
        if (source_list_apps(src, &list, &err)) {
            fprintf(stderr, "gitwb: %s\n", err.msg);
            rc = -1;
        }
        for (size_t e = 0; print && e < list.errors.count; e++)
            printf("error\t%s\n", list.errors.items[e]);
        for (size_t a = 0; a < list.count; a++) {
            const argo_app *app = &list.items[a];
            if (print && app->error)
                printf("error\t%s\n", app->error);
            else if (print)
                printf("%s\t%s\t%s\t%s\n", src->label, app->name, app->namespace_,
                       *app->path ? app->path : ".");
            all->items = xrealloc(all->items, (all->count + 1) * sizeof *all->items);
            all->items[all->count++] = *app; /* moved: the list forgets it below */
            list.items[a] = (argo_app){0};
        }
        app_list_free(&list);
        source_free(src);
    }
    return rc;
}

static int cmd_current(const tp_config *cfg, app_list *apps)
{
    gitrepo_opts gopts = gitrepo_opts_from(cfg);
    for (size_t a = 0; a < apps->count; a++) {
        const argo_app *app = &apps->items[a];
        if (app->error)
            continue;
        size_t n = app->settings.n_images;
        gitrepo *repo = NULL;
        tp_err err = {{0}};
        current_tag *cur = xcalloc(n + 1, sizeof *cur);
        repotree *tree = NULL;
        if (manifest_open_repo(app, &gopts, &repo, &err) == 0 &&
            gitrepo_resolve(repo, manifest_revision(app), &err) == 0 &&
            gitrepo_tree(repo, &tree, &err) == 0)
            manifest_current(app, tree, cfg->argocd_namespace, cur, &err);
        repotree_free(tree);
        for (size_t i = 0; i < n; i++) {
            const char *alias = app->settings.images[i].alias;
            if (!tree)
                printf("%s/%s\terror\t%s\n", app->name, alias, err.msg);
            else if (cur[i].error)
                printf("%s/%s\terror\t%s\n", app->name, alias, cur[i].error);
            else
                printf("%s/%s\t%s\t%s\t%s:%zu\n", app->name, alias, cur[i].tag,
                       manifest_origin_name(cur[i].origin), cur[i].file ? cur[i].file : "-",
                       cur[i].line);
            current_tag_free(&cur[i]);
        }
        free(cur);
        gitrepo_close(repo);
    }
    return 0;
}

static int run_race(void *ctx, const writeback_intent *intent, tp_err *err)
{
    (void)err;
    const char *cmd = ctx;
    if (intent->attempt == 1 && cmd && system(cmd) != 0)
        fprintf(stderr, "gitwb: race command failed\n");
    return 0;
}

static int cmd_write(const tp_config *cfg, app_list *apps, bool apply, int argc, char **argv)
{
    const char *app_name = argv[0];
    const argo_app *app = NULL;
    for (size_t a = 0; a < apps->count; a++)
        if (str_eq(apps->items[a].name, app_name))
            app = &apps->items[a];
    if (!app) {
        fprintf(stderr, "gitwb: no app %s\n", app_name);
        return 1;
    }
    image_update *u = xcalloc((size_t)argc + 1, sizeof *u);
    size_t n = 0;
    strvec trailers = {0};
    const char *race = NULL;
    int attempts = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--trailer") == 0 && i + 1 < argc) {
            strvec_push(&trailers, argv[++i]);
            continue;
        }
        if (strcmp(argv[i], "--race") == 0 && i + 1 < argc) {
            race = argv[++i];
            continue;
        }
        if (strcmp(argv[i], "--attempts") == 0 && i + 1 < argc) {
            attempts = atoi(argv[++i]);
            continue;
        }
        const char *eq = strchr(argv[i], '=');
        const image_settings *img = NULL;
        for (size_t k = 0; eq && k < app->settings.n_images; k++)
            if (strncmp(app->settings.images[k].alias, argv[i], (size_t)(eq - argv[i])) == 0 &&
                strlen(app->settings.images[k].alias) == (size_t)(eq - argv[i]))
                img = &app->settings.images[k];
        if (!img) {
            fprintf(stderr, "gitwb: %s: no such alias in %s\n", argv[i], app_name);
            free(u);
            strvec_free(&trailers);
            return 2;
        }
        u[n++] = (image_update){img, NULL, eq + 1};
    }
    /* Old tags for the message, as the engine will pass them. */
    gitrepo_opts gopts = gitrepo_opts_from(cfg);
    gitrepo *repo = NULL;
    tp_err err = {{0}};
    size_t ni = app->settings.n_images;
    current_tag *cur = xcalloc(ni + 1, sizeof *cur);
    repotree *tree = NULL;
    if (manifest_open_repo(app, &gopts, &repo, &err) == 0 &&
        gitrepo_resolve(repo, manifest_revision(app), &err) == 0 &&
        gitrepo_tree(repo, &tree, &err) == 0)
        manifest_current(app, tree, cfg->argocd_namespace, cur, &err);
    repotree_free(tree);
    gitrepo_close(repo);
    for (size_t k = 0; k < n; k++)
        u[k].old_tag = cur[u[k].image - app->settings.images].tag;
    writeback_opts o = {
        .git = gitrepo_opts_from(cfg),
        .author_name = cfg->git_author_name,
        .author_email = cfg->git_author_email,
        .message_template = cfg->commit_message_template,
        .argocd_namespace = cfg->argocd_namespace,
        .trailers = (const char *const *)trailers.items,
        .n_trailers = trailers.count,
        .max_attempts = attempts,
        .before_push = run_race,
        .hook_ctx = (void *)race,
    };
    int rc = 0;
    if (apply) {
        writeback_result r;
        if (writeback_apply(app, u, n, &o, &r, &err)) {
            fprintf(stderr, "gitwb: %s\n", err.msg);
            rc = 1;
        } else if (r.commit[0]) {
            printf("commit %s attempts %d branch %s\n", r.commit, r.attempts, r.change.push_branch);
        } else {
            printf("no change\n");
        }
        writeback_result_free(&r);
    } else {
        writeback_change c;
        if (writeback_plan(app, u, n, &o, &c, &err)) {
            fprintf(stderr, "gitwb: %s\n", err.msg);
            rc = 1;
        } else {
            fputs(c.diff, stdout);
        }
        writeback_change_free(&c);
    }
    for (size_t k = 0; k < ni; k++)
        current_tag_free(&cur[k]);
    free(cur);
    free(u);
    strvec_free(&trailers);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return usage();
    const char *cmd = argv[1];
    tp_config cfg;
    tp_err err = {{0}};
    if (config_load(argv[2], &cfg, &err)) {
        fprintf(stderr, "gitwb: %s\n", err.msg);
        return 1;
    }
    app_list apps = {0};
    int rc = load_apps(&cfg, &apps, strcmp(cmd, "apps") == 0) ? 1 : 0;
    if (strcmp(cmd, "apps") == 0)
        ;
    else if (strcmp(cmd, "current") == 0)
        rc = cmd_current(&cfg, &apps) ? 1 : rc;
    else if ((strcmp(cmd, "plan") == 0 || strcmp(cmd, "apply") == 0) && argc >= 4)
        rc = cmd_write(&cfg, &apps, strcmp(cmd, "apply") == 0, argc - 3, argv + 3);
    else
        rc = usage();
    app_list_free(&apps);
    config_free(&cfg);
    return rc;
}
