/* argocd_patch: the `argocd` write-back's plan — the change to an Application object that
 * argocd-image-updater's default method makes, as a JSON merge patch (RFC 7386):
 *   Helm:      spec.source.helm.parameters, entries {name, value, forceString: true} merged by
 *              name (order kept, new ones appended);
 *   Kustomize: spec.source.kustomize.images, "[orig=]name:tag" replacing the entry for the same
 *              original image (others kept, new ones appended).
 * A multi-source Application (spec.sources[]) gets the source the image is in: the first one
 * with a `helm` or `chart` (Helm) or `kustomize` (Kustomize) section, else the first. The patch
 * names the object's metadata.resourceVersion, so the API server refuses it (409) when another
 * writer changed the Application since it was read: nothing of theirs is overwritten. Pure: no
 * I/O; the object comes in as JSON text. */
#ifndef TP_ARGOCD_PATCH_H
#define TP_ARGOCD_PATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "source/app.h"
#include "util.h"
#include "writeback/writeback.h"

typedef struct argocd_patch {
    char *body;  /* the merge patch (JSON); NULL when nothing changes */
    char *diff;  /* the source section before and after, as a unified diff; "" when nothing
                    changes */
    char *field; /* "spec.source" or "spec.sources[1]": what the patch changes */
    char *resource_version; /* the object's, which the patch is conditional on */
    char **replaced;        /* per update: the tag the Application sets now, or NULL */
    size_t n_replaced;
} argocd_patch;

/* Plan the patch for updates against object (an Application as the API returns it), and the
 * hold's change to its tagpilot.io/ annotations (hold may be NULL; with n == 0 the patch is the
 * annotations alone). Errors name the app: a source that is neither Helm nor Kustomize, a
 * malformed object, malformed holds annotations, an alias that cannot name an annotation. */
int argocd_patch_plan(const char *object_json, const argo_app *app, const image_update *updates,
                      size_t n, const hold_edit *hold, argocd_patch *out, tp_err *err);

/* The same plan without refusing a tag the annotations pin elsewhere: for asking whether an
 * earlier write landed (a body: it did not), which a pin set since cannot change. */
int argocd_patch_plan_landed(const char *object_json, const argo_app *app,
                             const image_update *updates, size_t n, argocd_patch *out, tp_err *err);

void argocd_patch_free(argocd_patch *p);

#endif
