/* Git write-back: check out the branch in the repository cache, plan, commit, push; re-plan on
 * the new tip when the push was refused because the branch moved. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest/manifest.h"
#include "source/gitrepo.h"
#include "writeback.h"

/* Open the repository and check out the tip the commit builds on: the push branch when it
 * already exists (git-branch base:target used before), else the base branch. */
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
    gitrepo_opts gopts = {opts ? opts->state_dir : NULL, opts ? opts->credentials : NULL};
    if (gitrepo_open(url, &gopts, repo, err)) {
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

static int checkout_tip(gitrepo *repo, const char *base, const char *push, tp_err *err)
{
    bool on_push = strcmp(base, push) != 0 && gitrepo_has_branch(repo, push);
    return gitrepo_checkout(repo, on_push ? push : base, err);
}

static int plan_here(const argo_app *app, gitrepo *repo, const image_update *u, size_t n,
                     const writeback_opts *opts, const char *base, const char *push,
                     writeback_change *out, tp_err *err)
{
    if (writeback_plan_in(app, gitrepo_workdir(repo), u, n, opts, out, err))
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
    int rc = checkout_tip(repo, base, push, err);
    if (rc == 0)
        rc = plan_here(app, repo, updates, n, opts, base, push, out, err);
    free(base);
    free(push);
    gitrepo_close(repo);
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
    int max = opts && opts->max_attempts > 0 ? opts->max_attempts : 3;
    const char *name =
        opts && opts->author_name && *opts->author_name ? opts->author_name : "tagpilot";
    const char *email = opts && opts->author_email && *opts->author_email ? opts->author_email
                                                                          : "tagpilot@localhost";
    int rc = -1;
    for (int attempt = 1; attempt <= max; attempt++) {
        writeback_change_free(&out->change);
        out->commit[0] = '\0';
        if (attempt > 1 && gitrepo_fetch(repo, err))
            break;
        if (checkout_tip(repo, base, push, err) ||
            plan_here(app, repo, updates, n, opts, base, push, &out->change, err))
            break;
        if (out->change.n_files == 0) {
            rc = 0; /* nothing to change (perhaps someone else already did): no commit */
            break;
        }
        gitrepo_file *files = xcalloc(out->change.n_files, sizeof *files);
        for (size_t i = 0; i < out->change.n_files; i++)
            files[i] = (gitrepo_file){out->change.files[i].path, out->change.files[i].after,
                                      out->change.files[i].after_len, out->change.files[i].before,
                                      out->change.files[i].before_len};
        rc = gitrepo_commit(repo, files, out->change.n_files, out->change.message, name, email,
                            push, out->commit, err);
        free(files);
        if (rc)
            break;
        if (opts && opts->before_push)
            opts->before_push(opts->hook_ctx, attempt);
        out->attempts = attempt;
        rc = gitrepo_push(repo, push, err);
        if (rc == 0)
            break;
        out->commit[0] = '\0';
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
    r->commit[0] = '\0';
}

const writeback_ops writeback_git_ops = {"git", writeback_plan, writeback_apply};
