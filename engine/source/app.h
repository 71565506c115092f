/* app: an Argo CD Application as tagpilot needs it — name, namespace, annotations (parsed into
 * per-image settings), where its manifests live (spec.source), and the Helm parameters /
 * Kustomize images the Application itself overrides. Read from multi-document YAML; other kinds
 * are skipped, and a broken file or Application is an error for it alone. */
#ifndef TP_APP_H
#define TP_APP_H

#include <stdbool.h>
#include <stddef.h>

#include "annotations.h"
#include "source/repotree.h"
#include "state/holds.h"
#include "util.h"
#include "yamldoc.h"

typedef struct helm_param {
    char *name, *value;
    bool force_string;
} helm_param;

/* One Application (all strings owned). */
typedef struct argo_app {
    char *name;
    char *namespace_;        /* metadata.namespace, "" when not written */
    char *file;              /* manifest it came from, relative to the source's folder */
    size_t line;             /* line of its document */
    app_settings settings;   /* annotations_parse of metadata.annotations */
    char *repo_url;          /* spec.source.repoURL, or NULL */
    char *target_revision;   /* spec.source.targetRevision, or NULL (= HEAD) */
    char *path;              /* spec.source.path, "" for the repository root */
    char *chart;             /* spec.source.chart (a Helm repository chart), or NULL */
    bool has_helm;           /* spec.source.helm present */
    bool has_kustomize;      /* spec.source.kustomize present */
    helm_param *helm_params; /* spec.source.helm.parameters */
    size_t n_helm_params;
    strvec kustomize_images; /* spec.source.kustomize.images entries */
    char *error;             /* why this Application cannot be used, or NULL */
    /* Its tagpilot.io/ annotations (the argocd write-back's shared holds): NULL when it has
     * none; holds_error when they are malformed (its images must not move then). */
    holds_app *holds;
    char *holds_error;
    /* Read from a cluster (source/kube): NULL otherwise. */
    struct kube_client *cluster; /* the source's client for the engine thread (borrowed) */
    char *object_json;           /* the object as the API server returned it */
    char *resource_version;      /* metadata.resourceVersion */
    strvec live_images;          /* status.summary.images: what runs now */
} argo_app;

/* Applications from one source, and the errors of files that could not be read. */
typedef struct app_list {
    argo_app *items;
    size_t count, cap;
    strvec errors; /* "apps/broken.yaml:3:1: ..." one per unreadable file */
    /* Set by the reader's caller (may be NULL): told every few dozen files while a folder is
     * read, with what is read so far, so a console can draw 10,000 Applications as they come. */
    void (*on_progress)(void *ctx, const struct app_list *list, size_t files_done,
                        size_t files_total);
    /* Also set by the caller (may be NULL): told after every file, with what is read so far,
     * so that the engine can ask the registries about those Applications while it reads the
     * rest. Keep it cheap: it runs 10,000 times for 10,000 files. */
    void (*on_file)(void *ctx, const struct app_list *list);
    void *progress_ctx; /* for both */
    /* Set by the caller (may be NULL): manifests parsed by an earlier run (state/yamlcache). */
    struct yamlcache *yaml_cache;
} app_list;

/* Read one YAML document. Returns 1 when it is not an Application (skipped), 0 when *out was
 * filled (out->error set when it is an Application that cannot be used). */
int app_from_node(const ynode *root, const char *file, argo_app *out);

/* Read every *.yaml / *.yml under the folder rel of tree (recursively, sorted by path, links
 * not followed: each is an error line) into *list (appended). Returns -1 only when rel itself
 * cannot be read. */
int app_list_read_tree(repotree *tree, const char *rel, app_list *list, tp_err *err);

/* A Kubernetes object name (RFC 1123 subdomain): what metadata.name and metadata.namespace
 * must be before they are used in file names and commits. */
bool app_name_valid(const char *name);

/* The repository URL the app's manifests come from: the git-repository annotation, else
 * spec.source.repoURL; NULL when neither. Borrowed. */
const char *app_repo_url(const argo_app *app);

void app_free(argo_app *app);
void app_list_free(app_list *list);

#endif
