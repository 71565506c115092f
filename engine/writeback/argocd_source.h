/* argocd_source: the .argocd-source-<app>.yaml file exactly as argocd-image-updater writes it.
 * Helm form: `helm: parameters:` items name / value / forcestring, sorted by name and merged
 * with the parameters already there. Kustomize form: `kustomize: images:` entries
 * "[orig=]name:tag", replacing the entry for the same image and keeping the others. Two-space
 * indentation, sequences not indented (as Go's yaml writes them). */
#ifndef TP_ARGOCD_SOURCE_H
#define TP_ARGOCD_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

typedef struct argocd_param {
    const char *name, *value; /* borrowed */
} argocd_param;

/* Merge params (written with forcestring: true) into the helm form of `existing` (may be NULL
 * or empty), writing the whole new file into *out. `file` names it in messages. Every name and
 * value is written by yamledit_render (quoted unless plainly safe); one that is not valid UTF-8
 * fails the whole file. */
int argocd_source_helm(const char *existing, size_t len, const char *file,
                       const argocd_param *params, size_t n, strbuf *out, tp_err *err);

/* Merge kustomize image entries "[orig=]name[:tag][@digest]" (an entry replaces the one with
 * the same original name) into the kustomize form of `existing`. */
int argocd_source_kustomize(const char *existing, size_t len, const char *file,
                            const char *const *images, size_t n, strbuf *out, tp_err *err);

#endif
