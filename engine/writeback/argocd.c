/* writeback/argocd: the `argocd` write-back method — a merge patch of the Application in the
 * cluster it was read from (argo_app.cluster), as argocd-image-updater's default method does.
 * Optimistic: the patch names the resourceVersion it was planned on; on 409 Conflict the object
 * is read again and the change planned again on top of the other writer's (bounded), so nothing
 * of theirs is lost. The journal's intent is recorded before the patch leaves, like a push. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "kube/kube.h"
#include "source/gitrepo.h"
#include "writeback/argocd_patch.h"
#include "writeback/writeback.h"

static kube_resource apps_of(const argo_app *app)
{
    return (kube_resource){"argoproj.io", "v1alpha1", "applications", app->namespace_};
}

/* "kubernetes:<context>": where the write goes, in the journal's repo field. */
static char *target_of(const argo_app *app)
{
    return xasprintf("kubernetes:%s", kube_client_context(app->cluster));
}

static int check_app(const argo_app *app, tp_err *err)
{
    if (app->error)
        return tp_err_set(err, "app %s: %s", app->name ? app->name : "?", app->error);
    if (!app->cluster || !app->object_json)
        return tp_err_set(err,
                          "app %s: write-back-method argocd patches the Application in the "
                          "cluster, and this one was read from files; add a kubernetes source "
                          "or use write-back-method git",
                          app->name);
    return 0;
}

/* Fill change from a planned patch (diff, message, where). */
static int change_from(const argo_app *app, const image_update *u, size_t n,
                       const writeback_opts *opts, const argocd_patch *p, writeback_change *out,
                       tp_err *err)
{
    *out = (writeback_change){0};
    out->diff = xstrdup(p->diff);
    out->repo_url = target_of(app); /* no branch: nothing waits for a merge */
    out->message = writeback_message(app, u, n, opts, err);
    if (!out->message) {
        writeback_change_free(out);
        return -1;
    }
    return 0;
}

static int argocd_plan(const argo_app *app, const image_update *u, size_t n,
                       const writeback_opts *opts, writeback_change *out, tp_err *err)
{
    *out = (writeback_change){0};
    if (check_app(app, err))
        return -1;
    argocd_patch p;
    if (argocd_patch_plan(app->object_json, app, u, n, opts ? opts->hold : NULL, &p, err) < 0)
        return -1;
    int rc = change_from(app, u, n, opts, &p, out, err);
    argocd_patch_free(&p);
    return rc;
}

static int argocd_apply(const argo_app *app, const image_update *u, size_t n,
                        const writeback_opts *opts, writeback_result *out, tp_err *err)
{
    *out = (writeback_result){0};
    if (check_app(app, err))
        return -1;
    kube_resource r = apps_of(app);
    int max = opts->max_attempts > 0 ? opts->max_attempts : 3;
    int rc = -1;
    for (int attempt = 1; attempt <= max; attempt++) {
        writeback_change_free(&out->change);
        for (size_t i = 0; i < out->n_replaced; i++)
            free(out->replaced[i]);
        free(out->replaced);
        out->replaced = NULL;
        out->n_replaced = 0;
        /* The object as it is now: another writer may have changed it since the scan. */
        cJSON *obj = NULL;
        kube_status st = kube_get(app->cluster, &r, app->name, &obj, err);
        if (st != KUBE_OK) {
            rc = -1;
            break;
        }
        char *text = cJSON_PrintUnformatted(obj);
        cJSON_Delete(obj);
        argocd_patch p;
        rc = argocd_patch_plan(text, app, u, n, opts->hold, &p, err);
        cJSON_free(text);
        if (rc < 0)
            break;
        out->replaced = p.replaced;
        out->n_replaced = p.n_replaced;
        p.replaced = NULL;
        p.n_replaced = 0;
        if (change_from(app, u, n, opts, &p, &out->change, err) < 0) {
            argocd_patch_free(&p);
            rc = -1;
            break;
        }
        if (!p.body) { /* the Application already says so: nothing to write */
            argocd_patch_free(&p);
            rc = 0;
            break;
        }
        out->attempts = attempt;
        if (opts->before_push) {
            /* The field patched stands where a push names its branch. */
            writeback_intent intent = {p.resource_version, out->change.repo_url, p.field,
                                       (const char *const *)out->replaced, attempt};
            if (opts->before_push(opts->hook_ctx, &intent, err) < 0) {
                tp_err_prefix(err, "Application not patched");
                argocd_patch_free(&p);
                rc = -1;
                break;
            }
        }
        cJSON *after = NULL;
        st = kube_patch(app->cluster, &r, app->name, true, p.body, &after, err);
        argocd_patch_free(&p);
        if (st == KUBE_OK) {
            const cJSON *rv = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(after, "metadata"), "resourceVersion");
            snprintf(out->commit, sizeof out->commit, "%s",
                     cJSON_IsString(rv) ? rv->valuestring : "?");
            cJSON_Delete(after);
            rc = 0;
            break;
        }
        cJSON_Delete(after);
        if (st == KUBE_CONFLICT && attempt < max)
            continue; /* someone else wrote it: read theirs, plan ours on top */
        if (st == KUBE_CONFLICT)
            tp_err_set(err, "gave up after %d attempts, the Application kept changing", max);
        /* A transport failure after the request left: it may or may not have been applied. */
        rc = st == KUBE_ERROR ? GITREPO_UNKNOWN : -1;
        break;
    }
    if (rc && err)
        tp_err_prefix(err, "app %s: patch of the Application %s/%s", app->name,
                      *app->namespace_ ? app->namespace_ : "-", app->name);
    return rc;
}

const writeback_ops writeback_argocd_ops = {"argocd", argocd_plan, argocd_apply};

int writeback_argocd_landed(const argo_app *app, const image_update *u, size_t n, tp_err *err)
{
    if (check_app(app, err))
        return -1;
    kube_resource r = apps_of(app);
    cJSON *obj = NULL;
    if (kube_get(app->cluster, &r, app->name, &obj, err) != KUBE_OK)
        return -1;
    char *text = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    argocd_patch p;
    int rc = argocd_patch_plan_landed(text, app, u, n, &p, err);
    cJSON_free(text);
    if (rc < 0)
        return -1;
    rc = p.body == NULL; /* nothing left to change: the Application has it */
    argocd_patch_free(&p);
    return rc;
}
