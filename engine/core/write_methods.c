/* write_methods: how an image's new tag is written (write-back-method), one table each, so a
 * new method is a new table here and not a branch in every caller. git commits to the
 * Application's repository; argocd patches the Application itself in the cluster it was read
 * from (writeback/argocd), which needs a kubernetes source. */
#include <stdlib.h>

#include "engine_internal.h"
#include "manifest/manifest.h"
#include "source/gitrepo.h"

static char *git_target(const argo_app *app, const tp_config *cfg)
{
    const app_settings *s = &app->settings;
    const char *url = app_repo_url(app) ? app_repo_url(app) : "?";
    char *redacted = gitrepo_redact_url(url);
    char *file;
    const char *path = app->path && *app->path ? app->path : ".";
    if (s->target == TARGET_HELMVALUES)
        file = xasprintf("%s/%s", path, s->target_path ? s->target_path : "values.yaml");
    else if (s->target == TARGET_KUSTOMIZATION)
        file = xasprintf("%s/kustomization.yaml", s->target_path ? s->target_path : path);
    else {
        char *name = manifest_argocd_source_name(app, cfg->argocd_namespace);
        file = xasprintf("%s/%s", path, name);
        free(name);
    }
    char *text = xasprintf("%s in %s", file, redacted);
    free(file);
    free(redacted);
    return text;
}

static int git_plan(const argo_app *app, repotree *tree, const image_update *u,
                    const writeback_opts *wo, writeback_change *out, tp_err *err)
{
    return writeback_plan_in(app, tree, u, 1, wo, out, err);
}

static int git_apply(const argo_app *app, const image_update *u, const writeback_opts *wo,
                     writeback_result *res, tp_err *err)
{
    return writeback_apply(app, u, u ? 1 : 0, wo, res, err);
}

static const write_method write_git = {"git",      true, "commit %.12s", "git already has it",
                                       git_target, NULL, git_plan,       git_apply};

static char *argocd_target(const argo_app *app, const tp_config *cfg)
{
    (void)cfg;
    if (!app->cluster)
        return xasprintf("argocd: the Application itself (needs a kubernetes source)");
    return xasprintf("the Application %s/%s in the cluster (%s)",
                     *app->namespace_ ? app->namespace_ : "-", app->name,
                     app->settings.images && app->chart ? "its Helm parameters"
                                                        : "its Helm parameters or Kustomize "
                                                          "images");
}

static int argocd_usable(const argo_app *app, tp_err *err)
{
    if (app->cluster && app->object_json)
        return 0;
    return tp_err_set(err,
                      "app %s: write-back-method argocd patches the Application in the "
                      "cluster, and this one was read from files: add a kubernetes source "
                      "(docs/kubernetes.md) or use write-back-method git",
                      app->name);
}

/* The patch a write would send, planned on the object the scan read (no request). */
static int argocd_plan(const argo_app *app, repotree *tree, const image_update *u,
                       const writeback_opts *wo, writeback_change *out, tp_err *err)
{
    (void)tree;
    return writeback_argocd_ops.plan(app, u, 1, wo, out, err);
}

static int argocd_apply(const argo_app *app, const image_update *u, const writeback_opts *wo,
                        writeback_result *res, tp_err *err)
{
    return writeback_argocd_ops.apply(app, u, u ? 1 : 0, wo, res, err);
}

static const write_method write_argocd = {"argocd",
                                          false,
                                          "Application patched, resourceVersion %s",
                                          "the Application already sets it",
                                          argocd_target,
                                          argocd_usable,
                                          argocd_plan,
                                          argocd_apply};

void engine_write_methods_init(engine *e)
{
    e->write_methods[WRITEBACK_GIT] = &write_git;
    e->write_methods[WRITEBACK_ARGOCD] = &write_argocd;
}
