/* values: what an image update sets, in argocd-image-updater's terms, wherever it goes — the
 * .argocd-source-<app>.yaml file (git write-back) or the Application itself (argocd write-back):
 * Helm parameters {name, value} (image name and tag, or one image-spec "name:tag"), or
 * Kustomize image entries "[orig=]name:tag". One place, so both methods write the same. */
#ifndef TP_WRITEBACK_VALUES_H
#define TP_WRITEBACK_VALUES_H

#include <stddef.h>

#include "util.h"
#include "writeback/argocd_source.h"
#include "writeback/writeback.h"

/* The Helm parameters for the updates, in order: *params (free()) borrows from the updates and
 * from *owned (strvec_free()). Returns the count. */
size_t writeback_helm_params(const image_update *u, size_t n, argocd_param **params, strvec *owned);

/* The Kustomize image entries for the updates, one per update, appended to *entries. */
void writeback_kustomize_entries(const image_update *u, size_t n, strvec *entries);

/* The original image name a Kustomize entry replaces: "orig" of "orig=new:tag", else the name
 * before its tag or digest. A new string. */
char *writeback_kustomize_key(const char *entry);

#endif
