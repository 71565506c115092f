/* manifest: which tag each tracked image runs today, read from the app's source repository in
 * argocd-image-updater's order of precedence:
 *   1. .argocd-source-<app>.yaml in the source path (Helm parameters or Kustomize images),
 *   2. spec.source.helm.parameters / spec.source.kustomize.images of the Application,
 *   3. the chart's values.yaml at helm.image-tag / image-spec (dotted and indexed paths),
 *      falling back to Chart.yaml appVersion when the tag is empty (as `helm create` charts do),
 *   4. kustomization.yaml `images:`,
 *   5. for plain directories (not supported by argocd-image-updater), the `image:` of the
 *      containers in the workload manifests. */
#ifndef TP_MANIFEST_H
#define TP_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>

#include "annotations.h"
#include "source/app.h"
#include "source/gitrepo.h"
#include "source/repotree.h"
#include "select/imageref.h"
#include "util.h"
#include "yamldoc.h"

typedef enum app_kind {
    APP_KIND_HELM,
    APP_KIND_KUSTOMIZE,
    APP_KIND_PLAIN,
} app_kind;

typedef enum tag_origin {
    ORIGIN_NONE = 0,
    ORIGIN_ARGOCD_SOURCE,    /* .argocd-source-<app>.yaml */
    ORIGIN_APP_SPEC,         /* the Application's helm parameters / kustomize images */
    ORIGIN_HELM_VALUES,      /* values.yaml (or the helmvalues target file) */
    ORIGIN_CHART_APPVERSION, /* Chart.yaml appVersion, the values tag being empty */
    ORIGIN_KUSTOMIZATION,    /* kustomization.yaml images */
    ORIGIN_PLAIN,            /* a container image: in a plain manifest */
    ORIGIN_LIVE,             /* what the cluster runs (status.summary.images), nothing else said */
} tag_origin;

/* The current tag of one tracked image (owned strings). */
typedef struct current_tag {
    char *tag;    /* NULL when not found (error says why) */
    char *digest; /* "sha256:…" when the manifest pins one, else NULL */
    tag_origin origin;
    char *file;  /* repository-relative file it was read from, or NULL (Application spec) */
    size_t line; /* 1-based line of the value, 0 when unknown */
    char *error; /* why no tag could be read for this image, or NULL */
} current_tag;

/* Helm parameter / values keys for an image: the annotations, else argocd-image-updater's
 * defaults "image.name" and "image.tag". spec is NULL unless helm.image-spec is set. */
typedef struct helm_keys {
    const char *name, *tag, *spec;
} helm_keys;
helm_keys manifest_helm_keys(const image_settings *img);

/* Kind of the app's source folder: Helm (Chart.yaml, spec.source.helm, helmvalues target),
 * Kustomize (kustomization.yaml, spec.source.kustomize, kustomization target) or plain. */
app_kind manifest_app_kind(const argo_app *app, repotree *tree);

/* ".argocd-source-<app>.yaml", or ".argocd-source-<ns>_<app>.yaml" when the app's namespace is
 * set and differs from argocd_ns. A new string. */
char *manifest_argocd_source_name(const argo_app *app, const char *argocd_ns);

/* Open the app's source repository (git-repository annotation, else spec.source.repoURL) in the
 * cache (fetched). The revision to read is manifest_revision's, for gitrepo_resolve. */
int manifest_open_repo(const argo_app *app, const gitrepo_opts *opts, gitrepo **out, tp_err *err);
/* The revision the app's manifests are read at: spec.source.targetRevision, except for a chart
 * from a Helm repository (whose targetRevision is the chart's version): NULL, the default
 * branch. Borrowed. */
const char *manifest_revision(const argo_app *app);

/* The app's source path is a folder of tree (not missing, not a link). -1 with err naming the
 * app and the path. */
int manifest_check_source_path(const argo_app *app, repotree *tree, tp_err *err);

/* For an Application read from a cluster whose repository cannot be read (a chart from a Helm
 * repository, an unreachable server): the current tags from what the Application itself sets
 * (its Helm parameters or Kustomize images), else from what the cluster runs
 * (status.summary.images). why names the repository's problem in each image's error when
 * neither says. */
void manifest_current_from_app(const argo_app *app, const char *why, current_tag *out);

/* The tag the cluster runs for ref (status.summary.images), or NULL. Borrowed from app. */
const char *manifest_live_image(const argo_app *app, const imageref *ref);

/* Read the current tag of every image of app (out has app->settings.n_images entries, filled
 * even on error) from the repository's files. Returns -1 only when the app as a whole cannot be
 * read (missing source path); per-image problems go into out[i].error. */
int manifest_current(const argo_app *app, repotree *tree, const char *argocd_ns, current_tag *out,
                     tp_err *err);
void current_tag_free(current_tag *t);

/* Human name of an origin: "argocd-source", "application", "helm-values", ... */
const char *manifest_origin_name(tag_origin origin);

/* Split "name[:tag][@digest]" (the tag is after the last ':' that follows the last '/').
 * Outputs are new strings or NULL. */
void manifest_split_image(const char *value, char **name, char **tag, char **digest);

/* True when `written` (an image reference, tag optional) names the same repository as ref. */
bool manifest_image_matches(const char *written, const imageref *ref);

/* Repository-relative path of the values file to read and edit: the helmvalues target
 * (relative to the source path, or repo-absolute with a leading '/'), default
 * <path>/values.yaml. *out is a new string; -1 with err when the target leaves the repository
 * (".." and the like). */
int manifest_helm_values_rel(const argo_app *app, char **out, tp_err *err);
/* Repository-relative folder of the kustomization: the kustomization target, default the
 * source path ("" for the root). As above. */
int manifest_kustomize_dir_rel(const argo_app *app, char **out, tp_err *err);
/* Name of the kustomization file in the folder dir of tree ("kustomization.yaml", ".yml",
 * "Kustomization"), or NULL when there is none. Static string. */
const char *manifest_kustomization_name(repotree *tree, const char *dir);

/* Per-kind readers (step 3-5) used by manifest_current; fill out or out->error. */
void manifest_current_helm(const argo_app *app, const image_settings *img, repotree *tree,
                           current_tag *out);
void manifest_current_kustomize(const argo_app *app, const image_settings *img, repotree *tree,
                                current_tag *out);
/* First matching container image under the folder rel_dir; 0 when found, 1 when not. */
int manifest_current_plain(repotree *tree, const char *rel_dir, const imageref *ref,
                           current_tag *out);

/* Read and parse a YAML file of tree into doc. REPOTREE_NOT_FOUND or -1 with err naming it. */
int manifest_load_yaml(repotree *tree, const char *rel, ydoc *doc, tp_err *err);

#endif
