/* write_methods: how an image's new tag is written (write-back-method), one table each, so a
 * new method is a new table here and not a branch in every caller. git commits to the
 * Application's repository; argocd patches the Application itself, which needs a Kubernetes
 * source (not there yet: it refuses, saying so). */
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
    return writeback_apply(app, u, 1, wo, res, err);
}

static const write_method write_git = {"git", git_target, NULL, git_plan, git_apply};

static char *argocd_target(const argo_app *app, const tp_config *cfg)
{
    (void)app, (void)cfg;
    return xasprintf("argocd: the Application itself (needs a Kubernetes source)");
}

static int argocd_usable(const argo_app *app, tp_err *err)
{
    return tp_err_set(err,
                      "app %s: write-back-method argocd patches the Application in the "
                      "cluster, which needs a Kubernetes source; use write-back-method git",
                      app->name);
}

/* Neither a plan (no file to diff) nor a write yet. */
static const write_method write_argocd = {"argocd", argocd_target, argocd_usable, NULL, NULL};

void engine_write_methods_init(engine *e)
{
    e->write_methods[WRITEBACK_GIT] = &write_git;
    e->write_methods[WRITEBACK_ARGOCD] = &write_argocd;
}
