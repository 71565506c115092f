/* Git write-back: resolve the branch in the repository cache (bare: no work tree), plan on its
 * files, commit in memory, push; re-plan on the new tip when the push was refused because the
 * branch moved. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest/manifest.h"
#include "source/gitrepo.h"
#include "writeback.h"

/* Open the repository and work out the branches: the commit builds on the push branch when it
 * already exists (git-branch base:target used before), else on the base branch. */
static int prepare(const argo_app *app, const image_update *u, size_t n, const writeback_opts *opts,
                   gitrepo **repo, char **base, char **push, tp_err *err)
{
    *repo = NULL;
    if (writeback_branches(app, u, n, base, push, err))
        return -1;
    const char *url = app_repo_url(app);
    if (!url || !*url) {
        free(*base);
        free(*push);
        return tp_err_set(err, "app %s: no spec.source.repoURL (nor git-repository annotation)",
                          app->name);
    }
    if (gitrepo_open(url, &opts->git, repo, err)) {
        free(*base);
        free(*push);
        return -1;
    }
    if (!*base)
        *base = gitrepo_default_branch(*repo);
    if (!*push)
        *push = xstrdup(*base);
    return 0;
}

/* The tip the commit builds on, and its files. */
static int open_tip(gitrepo *repo, const char *base, const char *push, repotree **tree, tp_err *err)
{
    bool on_push = strcmp(base, push) != 0 && gitrepo_has_branch(repo, push);
    *tree = NULL;
    if (gitrepo_resolve(repo, on_push ? push : base, err) < 0)
        return -1;
    return gitrepo_tree(repo, tree, err);
}

static int plan_here(const argo_app *app, gitrepo *repo, repotree *tree, const image_update *u,
                     size_t n, const writeback_opts *opts, const char *base, const char *push,
                     writeback_change *out, tp_err *err)
{
    if (writeback_plan_in(app, tree, u, n, opts, out, err))
        return -1;
    out->base_branch = xstrdup(base);
    out->push_branch = xstrdup(push);
    out->repo_url = xstrdup(gitrepo_display_url(repo));
    return 0;
}

int writeback_plan(const argo_app *app, const image_update *updates, size_t n,
                   const writeback_opts *opts, writeback_change *out, tp_err *err)
{
    *out = (writeback_change){0};
    gitrepo *repo;
    char *base, *push;
    if (prepare(app, updates, n, opts, &repo, &base, &push, err))
        return -1;
    repotree *tree = NULL;
    int rc = open_tip(repo, base, push, &tree, err);
    if (rc == 0)
        rc = plan_here(app, repo, tree, updates, n, opts, base, push, out, err);
    repotree_free(tree);
    free(base);
    free(push);
    gitrepo_close(repo);
    return rc;
}

/* The tags the tip holds now for the updated images: another writer may have changed them
 * since the scan, and the commit message and the journal must name what was really replaced. */
static void read_replaced(const argo_app *app, repotree *tree, const image_update *u, size_t n,
                          const writeback_opts *opts, writeback_result *out)
{
    for (size_t i = 0; i < out->n_replaced; i++)
        free(out->replaced[i]);
    free(out->replaced);
    out->replaced = xcalloc(n ? n : 1, sizeof *out->replaced);
    out->n_replaced = n;
    size_t n_images = app->settings.n_images;
    current_tag *cur = xcalloc(n_images ? n_images : 1, sizeof *cur);
    manifest_current(app, tree, opts->argocd_namespace, cur, NULL);
    for (size_t i = 0; i < n; i++) {
        size_t k = (size_t)(u[i].image - app->settings.images);
        out->replaced[i] = k < n_images && cur[k].tag ? xstrdup(cur[k].tag) : NULL;
    }
    for (size_t k = 0; k < n_images; k++)
        current_tag_free(&cur[k]);
    free(cur);
}

/* One attempt: plan on the tip, commit, record the intent, push. Returns 0 (pushed, or nothing
 * to change), GITREPO_REJECTED (the branch moved: try again) or -1. */
static int attempt_once(const argo_app *app, gitrepo *repo, const image_update *updates, size_t n,
                        const writeback_opts *opts, const char *base, const char *push, int attempt,
                        writeback_result *out, tp_err *err)
{
    repotree *tree = NULL;
    if (open_tip(repo, base, push, &tree, err) < 0)
        return -1;
    read_replaced(app, tree, updates, n, opts, out);
    image_update *fresh = xcalloc(n ? n : 1, sizeof *fresh);
    for (size_t i = 0; i < n; i++) {
        fresh[i] = updates[i];
        if (out->replaced[i])
            fresh[i].old_tag = out->replaced[i];
    }
    int rc = plan_here(app, repo, tree, fresh, n, opts, base, push, &out->change, err);
    free(fresh);
    repotree_free(tree);
    if (rc < 0 || out->change.n_files == 0)
        return rc; /* nothing to change (perhaps someone else already did): no commit */
    const char *name = opts->author_name && *opts->author_name ? opts->author_name : "tagpilot";
    const char *email =
        opts->author_email && *opts->author_email ? opts->author_email : "tagpilot@localhost";
    gitrepo_file *files = xcalloc(out->change.n_files, sizeof *files);
    for (size_t i = 0; i < out->change.n_files; i++)
        files[i] = (gitrepo_file){out->change.files[i].path, out->change.files[i].after,
                                  out->change.files[i].after_len, out->change.files[i].before,
                                  out->change.files[i].before_len};
    rc = gitrepo_commit(repo, files, out->change.n_files, out->change.message, name, email, push,
                        out->commit, err);
    free(files);
    if (rc < 0)
        return -1;
    if (opts->before_push) {
        writeback_intent intent = {out->commit, gitrepo_display_url(repo), push,
                                   (const char *const *)out->replaced, attempt};
        if (opts->before_push(opts->hook_ctx, &intent, err) < 0) {
            tp_err_prefix(err, "commit %.12s not pushed", out->commit);
            out->commit[0] = '\0';
            return -1;
        }
    }
    out->attempts = attempt;
    rc = gitrepo_push(repo, push, err);
    if (rc < 0)
        out->commit[0] = '\0';
    return rc;
}

int writeback_apply(const argo_app *app, const image_update *updates, size_t n,
                    const writeback_opts *opts, writeback_result *out, tp_err *err)
{
    *out = (writeback_result){0};
    gitrepo *repo;
    char *base, *push;
    if (prepare(app, updates, n, opts, &repo, &base, &push, err))
        return -1;
    int max = opts->max_attempts > 0 ? opts->max_attempts : 3;
    int rc = -1;
    for (int attempt = 1; attempt <= max; attempt++) {
        writeback_change_free(&out->change);
        out->commit[0] = '\0';
        if (attempt > 1 && gitrepo_fetch(repo, err))
            break;
        rc = attempt_once(app, repo, updates, n, opts, base, push, attempt, out, err);
        if (rc != GITREPO_REJECTED)
            break;
        if (attempt == max)
            tp_err_prefix(err, "gave up after %d attempts, the branch kept moving", max);
        rc = -1;
    }
    if (rc && err) {
        /* Plan errors already name the app and the file; say which repository too. */
        char *own = xasprintf("app %s: ", app->name);
        if (str_starts_with(err->msg, own)) {
            char rest[sizeof err->msg];
            snprintf(rest, sizeof rest, "%s", err->msg + strlen(own));
            tp_err_set(err, "%s", rest);
        }
        free(own);
        tp_err_prefix(err, "app %s: write-back to %s", app->name, gitrepo_display_url(repo));
    }
    free(base);
    free(push);
    gitrepo_close(repo);
    return rc;
}

void writeback_result_free(writeback_result *r)
{
    writeback_change_free(&r->change);
    for (size_t i = 0; i < r->n_replaced; i++)
        free(r->replaced[i]);
    free(r->replaced);
    r->replaced = NULL;
    r->n_replaced = 0;
    r->commit[0] = '\0';
}

const writeback_ops writeback_git_ops = {"git", writeback_plan, writeback_apply};
