#include "writeback/values.h"

#include <stdlib.h>
#include <string.h>

#include "manifest/manifest.h"

size_t writeback_helm_params(const image_update *u, size_t n, argocd_param **params, strvec *owned)
{
    *params = xcalloc(2 * n + 1, sizeof **params);
    size_t np = 0;
    for (size_t i = 0; i < n; i++) {
        helm_keys k = manifest_helm_keys(u[i].image);
        if (k.spec) {
            char *v = xasprintf("%s:%s", u[i].image->ref.short_name, u[i].new_tag);
            strvec_push(owned, v);
            free(v);
            (*params)[np++] = (argocd_param){k.spec, owned->items[owned->count - 1]};
        } else {
            (*params)[np++] = (argocd_param){k.name, u[i].image->ref.short_name};
            (*params)[np++] = (argocd_param){k.tag, u[i].new_tag};
        }
    }
    return np;
}

void writeback_kustomize_entries(const image_update *u, size_t n, strvec *entries)
{
    for (size_t i = 0; i < n; i++) {
        const image_settings *img = u[i].image;
        char *e = img->kustomize_image_name &&
                          !manifest_image_matches(img->kustomize_image_name, &img->ref)
                      ? xasprintf("%s=%s:%s", img->kustomize_image_name, img->ref.short_name,
                                  u[i].new_tag)
                      : xasprintf("%s:%s", img->ref.short_name, u[i].new_tag);
        strvec_push(entries, e);
        free(e);
    }
}

char *writeback_kustomize_key(const char *entry)
{
    const char *eq = strchr(entry, '=');
    if (eq)
        return xstrndup(entry, (size_t)(eq - entry));
    /* name[:tag][@digest]: the tag's ':' is the last one after the last '/' (a registry port
     * "host:5000/x" is not a tag). */
    size_t end = strcspn(entry, "@");
    const char *slash = NULL;
    for (const char *p = entry; p < entry + end; p++)
        if (*p == '/')
            slash = p;
    const char *from = slash ? slash : entry;
    for (const char *p = from; p < entry + end; p++)
        if (*p == ':') {
            end = (size_t)(p - entry);
            break;
        }
    return xstrndup(entry, end);
}
