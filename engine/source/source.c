#include "source.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gitrepo.h"

app_source *source_new(const config_source *cfg, const source_env *env)
{
    app_source *src = xcalloc(1, sizeof *src);
    src->cfg = *cfg;
    src->cfg.url = xstrdup(cfg->url);
    src->cfg.branch = xstrdup(cfg->branch);
    src->cfg.path = xstrdup(cfg->path ? cfg->path : "");
    src->env = *env;
    if (cfg->kind == CONFIG_SOURCE_GIT) {
        src->ops = &source_git_ops;
        char *shown = gitrepo_redact_url(cfg->url);
        src->label = xasprintf("git %s@%s:%s", shown, cfg->branch ? cfg->branch : "HEAD",
                               *src->cfg.path ? src->cfg.path : ".");
        free(shown);
    } else {
        src->ops = &source_dir_ops;
        src->label = *src->cfg.path ? xasprintf("dir %s/%s", cfg->url, src->cfg.path)
                                    : xasprintf("dir %s", cfg->url);
    }
    return src;
}

void source_free(app_source *src)
{
    if (!src)
        return;
    source_close(src);
    free(src->cfg.url);
    free(src->cfg.branch);
    free(src->cfg.path);
    free(src->label);
    free(src);
}

int source_open(app_source *src, tp_err *err)
{
    if (src->ops->open(src, err))
        return -1;
    /* The folder the Applications are in must be there now, so that reading them cannot fail
     * for want of it (the engine lets go of the last read once the source has opened). */
    char *dir = src->cfg.path && *src->cfg.path ? xasprintf("%s/%s", src->root, src->cfg.path)
                                                : xstrdup(src->root);
    struct stat st;
    int rc = 0;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        rc = tp_err_set(err, "source %s: %s: %s", src->label,
                        src->cfg.path && *src->cfg.path ? src->cfg.path : ".",
                        stat(dir, &st) != 0 ? strerror(errno) : "not a folder");
        source_close(src);
    }
    free(dir);
    return rc;
}

int source_list_apps(app_source *src, app_list *out, tp_err *err)
{
    if (!src->root && source_open(src, err))
        return -1;
    if (src->ops->list_apps(src, out, err)) {
        tp_err_prefix(err, "source %s", src->label);
        return -1;
    }
    return 0;
}

void source_close(app_source *src)
{
    if (src->ops)
        src->ops->close(src);
    free(src->root);
    src->root = NULL;
}

/* --- dir --- */

static int dir_open(app_source *src, tp_err *err)
{
    free(src->root);
    src->root = NULL;
    char *abs = realpath(src->cfg.url, NULL);
    if (!abs)
        return tp_err_set(err, "source %s: folder not found", src->label);
    src->root = abs;
    return 0;
}

static int dir_list(app_source *src, app_list *out, tp_err *err)
{
    return app_list_read_dir(src->root, src->cfg.path, out, err);
}

static void dir_close(app_source *src)
{
    (void)src;
}

const source_ops source_dir_ops = {"dir", dir_open, dir_list, dir_close};

/* --- git --- */

static int git_open(app_source *src, tp_err *err)
{
    source_close(src);
    gitrepo_opts opts = {src->env.state_dir, src->env.credentials};
    gitrepo *repo;
    if (gitrepo_open(src->cfg.url, &opts, &repo, err))
        return -1;
    if (gitrepo_checkout(repo, src->cfg.branch, err)) {
        gitrepo_close(repo);
        return -1;
    }
    src->impl = repo;
    src->root = xstrdup(gitrepo_workdir(repo));
    return 0;
}

static int git_list(app_source *src, app_list *out, tp_err *err)
{
    return app_list_read_dir(src->root, src->cfg.path, out, err);
}

static void git_close(app_source *src)
{
    gitrepo_close(src->impl);
    src->impl = NULL;
}

const source_ops source_git_ops = {"git", git_open, git_list, git_close};
