#include "source.h"

#include <stdlib.h>
#include <string.h>

#include "source/gitrepo.h"

app_source *source_new(const config_source *cfg, const source_env *env)
{
    app_source *src = xcalloc(1, sizeof *src);
    config_source_copy(&src->cfg, cfg);
    src->env = *env;
    if (cfg->kind == CONFIG_SOURCE_KUBERNETES) {
        src->ops = &source_kube_ops;
        src->label = source_kube_label(&cfg->kube);
    } else if (cfg->kind == CONFIG_SOURCE_GIT) {
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
    if (src->ops && src->ops->destroy)
        src->ops->destroy(src);
    config_source_clear(&src->cfg);
    free(src->label);
    free(src);
}

int source_open(app_source *src, tp_err *err)
{
    if (src->ops->open(src, err))
        return -1;
    if (src->cfg.kind == CONFIG_SOURCE_KUBERNETES)
        return 0; /* no files: the objects are the source */
    /* The folder the Applications are in must be there now, so that reading them cannot fail
     * for want of it (the engine lets go of the last read once the source has opened). */
    repotree_kind kind = repotree_kind_of(src->tree, src->cfg.path);
    if (kind == REPOTREE_DIR)
        return 0;
    tp_err_set(err, "source %s: %s: %s", src->label, *src->cfg.path ? src->cfg.path : ".",
               kind == REPOTREE_MISSING   ? "no such folder"
               : kind == REPOTREE_SYMLINK ? "a symbolic link, which tagpilot does not follow"
                                          : "not a folder");
    source_close(src);
    return -1;
}

int source_list_apps(app_source *src, app_list *out, tp_err *err)
{
    if ((!src->tree || src->cfg.kind == CONFIG_SOURCE_KUBERNETES) && source_open(src, err))
        return -1;
    if (src->ops->list_apps(src, out, err)) {
        tp_err_prefix(err, "source %s", src->label);
        return -1;
    }
    return 0;
}

void source_close(app_source *src)
{
    repotree_free(src->tree);
    src->tree = NULL;
    if (src->ops)
        src->ops->close(src);
}

/* --- dir --- */

static int dir_open(app_source *src, tp_err *err)
{
    source_close(src);
    tp_err why;
    src->tree = repotree_open_dir(src->cfg.url, &why);
    if (!src->tree)
        return tp_err_set(err, "source %s: folder not found", src->label);
    return 0;
}

static int tree_list(app_source *src, app_list *out, tp_err *err)
{
    return app_list_read_tree(src->tree, src->cfg.path, out, err);
}

static void dir_close(app_source *src)
{
    (void)src;
}

const source_ops source_dir_ops = {"dir", dir_open, tree_list, dir_close, NULL, NULL};

/* --- git --- */

static int git_open(app_source *src, tp_err *err)
{
    source_close(src);
    gitrepo *repo;
    if (gitrepo_open(src->cfg.url, &src->env.git, &repo, err))
        return -1;
    if (gitrepo_resolve(repo, src->cfg.branch, err) || gitrepo_tree(repo, &src->tree, err)) {
        gitrepo_close(repo);
        return -1;
    }
    src->impl = repo;
    return 0;
}

static void git_close(app_source *src)
{
    gitrepo_close(src->impl);
    src->impl = NULL;
}

const source_ops source_git_ops = {"git", git_open, tree_list, git_close, NULL, NULL};

int source_wake_fd(app_source *src)
{
    return src->ops && src->ops->wake_fd ? src->ops->wake_fd(src) : -1;
}
