/* The per-kind current-tag readers: Helm values / Chart.yaml, kustomization.yaml images, and
 * container images in plain manifests. */
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "plain.h"
#include "yamldoc.h"

/* "/abs/file" → "abs/file"; "file" → "<path>/file"; cleaned, so it cannot leave the tree. */
static int target_rel(const argo_app *app, const char *target, const char *what, char **out,
                      tp_err *err)
{
    char *joined;
    if (target[0] == '/') {
        while (*target == '/')
            target++;
        joined = xstrdup(target);
    } else {
        joined = repopath_join(app->path, target);
    }
    int rc = repopath_clean(joined, what, out, err);
    free(joined);
    return rc;
}

int manifest_helm_values_rel(const argo_app *app, char **out, tp_err *err)
{
    const char *t = app->settings.target == TARGET_HELMVALUES && app->settings.target_path &&
                            *app->settings.target_path
                        ? app->settings.target_path
                        : "values.yaml";
    return target_rel(app, t, "write-back-target helmvalues", out, err);
}

int manifest_kustomize_dir_rel(const argo_app *app, char **out, tp_err *err)
{
    const char *t = app->settings.target == TARGET_KUSTOMIZATION && app->settings.target_path &&
                            *app->settings.target_path
                        ? app->settings.target_path
                        : ".";
    return target_rel(app, t, "write-back-target kustomization", out, err);
}

int manifest_load_yaml(repotree *tree, const char *rel, ydoc *doc, tp_err *err)
{
    strbuf text = {0};
    int rc = repotree_read(tree, rel, &text, err);
    if (rc == 0)
        rc = yamldoc_parse(text.data, text.len, rel, doc, err);
    strbuf_free(&text);
    return rc;
}

static void set_tag(current_tag *out, const char *tag, const char *digest, tag_origin origin,
                    const char *file, size_t line)
{
    current_tag_free(out);
    out->tag = xstrdup(tag);
    out->digest = xstrdup(digest);
    out->origin = origin;
    out->file = xstrdup(file);
    out->line = line;
}

static void set_error(current_tag *out, char *msg /* taken */)
{
    free(out->error);
    out->error = msg;
}

static void chart_app_version(const argo_app *app, repotree *tree, const char *values_rel,
                              const char *key, current_tag *out)
{
    char *chart_rel = repopath_join(app->path, "Chart.yaml");
    ydoc doc;
    tp_err err = {{0}};
    if (manifest_load_yaml(tree, chart_rel, &doc, &err) == 0) {
        const ynode *v = doc.n_roots ? ynode_get(doc.roots[0], "appVersion") : NULL;
        if (ynode_str(v) && *ynode_str(v))
            set_tag(out, ynode_str(v), NULL, ORIGIN_CHART_APPVERSION, chart_rel, v->line);
        else
            set_error(out, xasprintf("%s: '%s' is empty and %s has no appVersion", values_rel, key,
                                     chart_rel));
        yamldoc_free(&doc);
    } else {
        set_error(out, xasprintf("%s: '%s' is empty and %s cannot be read (%s)", values_rel, key,
                                 chart_rel, err.msg));
    }
    free(chart_rel);
}

void manifest_current_helm(const argo_app *app, const image_settings *img, repotree *tree,
                           current_tag *out)
{
    char *rel;
    tp_err err = {{0}};
    if (manifest_helm_values_rel(app, &rel, &err) < 0) {
        set_error(out, xstrdup(err.msg));
        return;
    }
    ydoc doc;
    int rc = manifest_load_yaml(tree, rel, &doc, &err);
    if (rc == REPOTREE_NOT_FOUND) {
        char *chart = repopath_join(app->path, "Chart.yaml");
        bool have_chart = repotree_kind_of(tree, chart) == REPOTREE_FILE;
        free(chart);
        if (app->chart)
            set_error(out, xasprintf("chart '%s' comes from a Helm repository: set the tag with "
                                     "Helm parameters or .argocd-source",
                                     app->chart));
        else if (have_chart)
            set_error(out, xasprintf("%s: file not found", rel));
        else
            set_error(out, xasprintf("no chart in '%s' (no Chart.yaml, no %s)",
                                     *app->path ? app->path : ".", rel));
        free(rel);
        return;
    }
    if (rc) {
        set_error(out, xstrdup(err.msg));
        free(rel);
        return;
    }
    helm_keys k = manifest_helm_keys(img);
    const char *key = k.spec ? k.spec : k.tag;
    const ynode *root = doc.n_roots ? doc.roots[0] : NULL;
    const ynode *v = ynode_path(root, key);
    if (!v)
        set_error(out, xasprintf("%s: no key '%s' (set the %s.helm.image-%s annotation)", rel, key,
                                 img->alias ? img->alias : "<alias>", k.spec ? "spec" : "tag"));
    else if (!ynode_str(v))
        set_error(out, xasprintf("%s:%zu: '%s' is not a single value", rel, v->line, key));
    else if (ynode_is_null(v) || !*ynode_str(v))
        chart_app_version(app, tree, rel, key, out);
    else {
        char *tag = NULL, *digest = NULL;
        if (k.spec)
            manifest_split_image(ynode_str(v), NULL, &tag, &digest);
        else {
            const char *s = ynode_str(v);
            const char *at = strchr(s, '@');
            tag = at ? xstrndup(s, (size_t)(at - s)) : xstrdup(s);
            digest = at ? xstrdup(at + 1) : NULL;
        }
        if (tag)
            set_tag(out, tag, digest, ORIGIN_HELM_VALUES, rel, v->line);
        else
            set_error(out, xasprintf("%s:%zu: '%s' has no tag", rel, v->line, key));
        free(tag);
        free(digest);
    }
    yamldoc_free(&doc);
    free(rel);
}

void manifest_current_kustomize(const argo_app *app, const image_settings *img, repotree *tree,
                                current_tag *out)
{
    char *dir_rel;
    tp_err err = {{0}};
    if (manifest_kustomize_dir_rel(app, &dir_rel, &err) < 0) {
        set_error(out, xstrdup(err.msg));
        return;
    }
    const char *name = manifest_kustomization_name(tree, dir_rel);
    if (!name) {
        set_error(out, xasprintf("no kustomization.yaml in '%s'", *dir_rel ? dir_rel : "."));
        free(dir_rel);
        return;
    }
    char *rel = repopath_join(dir_rel, name);
    ydoc doc;
    bool done = false;
    if (manifest_load_yaml(tree, rel, &doc, &err)) {
        set_error(out, xstrdup(err.msg));
        done = true;
    } else {
        const ynode *images = ynode_deref(doc.n_roots ? ynode_get(doc.roots[0], "images") : NULL);
        for (size_t i = 0; !done && images && images->kind == YNODE_SEQ && i < images->n_children;
             i++) {
            const ynode *e = images->children[i];
            const char *ename = ynode_str(ynode_get(e, "name"));
            const char *newname = ynode_str(ynode_get(e, "newName"));
            bool match = img->kustomize_image_name ? str_eq(ename, img->kustomize_image_name) ||
                                                         manifest_image_matches(ename, &img->ref)
                                                   : manifest_image_matches(ename, &img->ref) ||
                                                         manifest_image_matches(newname, &img->ref);
            const ynode *tag = ynode_get(e, "newTag");
            const ynode *digest = ynode_get(e, "digest");
            if (match && (ynode_str(tag) || ynode_str(digest))) {
                set_tag(out, ynode_str(tag) ? ynode_str(tag) : "", ynode_str(digest),
                        ORIGIN_KUSTOMIZATION, rel, tag ? tag->line : digest->line);
                done = true;
            }
        }
        yamldoc_free(&doc);
    }
    /* No override in the kustomization: the tag is whatever the resources say. */
    if (!done && manifest_current_plain(tree, dir_rel, &img->ref, out) != 0)
        set_error(out, xasprintf("%s: no images entry for %s, and no container uses it", rel,
                                 img->kustomize_image_name ? img->kustomize_image_name
                                                           : img->ref.short_name));
    free(rel);
    free(dir_rel);
}

typedef struct plain_first {
    const ynode *hit;
} plain_first;

static int take_first(const ynode *v, void *ctx)
{
    ((plain_first *)ctx)->hit = v;
    return 1;
}

int manifest_current_plain(repotree *tree, const char *rel_dir, const imageref *ref,
                           current_tag *out)
{
    strvec files = {0};
    repotree_list_yaml(tree, rel_dir ? rel_dir : "", &files, NULL, NULL);
    int rc = 1;
    for (size_t i = 0; rc && i < files.count; i++) {
        if (strstr(files.items[i], ".argocd-source"))
            continue;
        ydoc doc;
        if (manifest_load_yaml(tree, files.items[i], &doc, NULL) == 0) {
            for (size_t d = 0; rc && d < doc.n_roots; d++) {
                plain_first pf = {NULL};
                if (plain_walk(doc.roots[d], ref, take_first, &pf) && pf.hit) {
                    char *tag = NULL, *digest = NULL;
                    manifest_split_image(pf.hit->value, NULL, &tag, &digest);
                    set_tag(out, tag ? tag : "latest", digest, ORIGIN_PLAIN, files.items[i],
                            pf.hit->line);
                    free(tag);
                    free(digest);
                    rc = 0;
                }
            }
            yamldoc_free(&doc);
        }
    }
    strvec_free(&files);
    return rc;
}
