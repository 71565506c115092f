#include "app.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "state/yamlcache.h"

static char *dup_scalar(const ynode *n)
{
    const char *s = ynode_str(n);
    return s && !ynode_is_null(n) ? xstrdup(s) : NULL;
}

/* Parse metadata.annotations into app->settings. The raw pairs are not kept: the settings
 * hold copies of what they need (at 10,000 Applications the raw keys alone were megabytes). */
static void parse_annotations(const ynode *map, argo_app *app)
{
    map = ynode_deref(map);
    size_t n = 0;
    annotation *pairs = NULL;
    if (map && map->kind == YNODE_MAP) {
        pairs = xcalloc(map->n_children / 2 + 1, sizeof *pairs);
        for (size_t i = 0; i + 1 < map->n_children; i += 2) {
            const char *k = ynode_str(map->children[i]);
            const char *v = ynode_str(map->children[i + 1]);
            if (k && v) /* borrowed from the document; the key's line for messages */
                pairs[n++] = (annotation){k, v, map->children[i]->line};
        }
    }
    annotations_parse(pairs, n, &app->settings);
    bool held = false;
    for (size_t i = 0; i < n; i++)
        held |= str_starts_with(pairs[i].key, HOLDS_ANNOTATION_PREFIX);
    if (held) {
        const char **keys = xcalloc(n, sizeof *keys), **values = xcalloc(n, sizeof *values);
        for (size_t i = 0; i < n; i++)
            keys[i] = pairs[i].key, values[i] = pairs[i].value;
        app->holds = xcalloc(1, sizeof *app->holds);
        tp_err err = {{0}};
        if (holds_from_annotations(app->name, keys, values, n, app->holds, &err) < 0) {
            holds_app_free(app->holds);
            app->holds = NULL;
            app->holds_error = xstrdup(err.msg);
        }
        free(keys);
        free(values);
    }
    free(pairs);
}

static void read_helm(const ynode *helm, argo_app *app)
{
    const ynode *params = ynode_deref(ynode_get(helm, "parameters"));
    if (!params || params->kind != YNODE_SEQ)
        return;
    app->helm_params = xcalloc(params->n_children + 1, sizeof *app->helm_params);
    for (size_t i = 0; i < params->n_children; i++) {
        const ynode *p = params->children[i];
        const char *name = ynode_str(ynode_get(p, "name"));
        if (!name)
            continue;
        helm_param *hp = &app->helm_params[app->n_helm_params++];
        hp->name = xstrdup(name);
        const char *v = ynode_str(ynode_get(p, "value"));
        hp->value = xstrdup(v ? v : "");
        const char *fs = ynode_str(ynode_get(p, "forceString"));
        hp->force_string = fs && strcmp(fs, "true") == 0;
    }
}

bool app_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        bool alnum = islower(c) || isdigit(c);
        if (!alnum && c != '-' && c != '.')
            return false;
        if ((i == 0 || i == n - 1) && !alnum)
            return false;
    }
    return true;
}

int app_from_node(const ynode *root, const char *file, argo_app *out)
{
    *out = (argo_app){0};
    const char *kind = ynode_str(ynode_get(root, "kind"));
    const char *api = ynode_str(ynode_get(root, "apiVersion"));
    if (!str_eq(kind, "Application") || !api || !str_starts_with(api, "argoproj.io/"))
        return 1;
    out->file = xstrdup(file);
    out->line = root ? root->line : 1;
    out->name = dup_scalar(ynode_path(root, "metadata.name"));
    char *ns = dup_scalar(ynode_path(root, "metadata.namespace"));
    out->namespace_ = ns ? ns : xstrdup("");
    out->path = xstrdup("");
    if (!out->name || !*out->name) {
        free(out->name);
        /* Shown, not dropped: under a name saying where it is (no Kubernetes name holds '(' or
         * a space, so it cannot stand for a real app), its images in error. */
        out->name = xasprintf("(unnamed %s:%zu)", file, out->line);
        out->error = xasprintf("%s:%zu: Application without metadata.name", file, out->line);
    } else if (!app_name_valid(out->name) ||
               (*out->namespace_ && !app_name_valid(out->namespace_))) {
        /* Names become file names (.argocd-source-<name>.yaml) and commit text: such an app is
         * shown with its images in error, and never read from or written to. */
        char *shown = str_printable(app_name_valid(out->name) ? out->namespace_ : out->name);
        out->error =
            xasprintf("%s:%zu: %s '%.100s' is not a valid Kubernetes name (lower-case "
                      "letters, digits, '-' and '.')",
                      file, out->line,
                      app_name_valid(out->name) ? "metadata.namespace" : "metadata.name", shown);
        free(shown);
    }
    parse_annotations(ynode_path(root, "metadata.annotations"), out);
    const ynode *src = ynode_path(root, "spec.source");
    if (!src) {
        const ynode *sources = ynode_deref(ynode_path(root, "spec.sources"));
        /* Multi-source: the first source that is Helm or Kustomize holds the images (the one
         * an argocd write-back patches, writeback/argocd_patch), else the first. */
        for (size_t i = 0; sources && sources->kind == YNODE_SEQ && i < sources->n_children; i++) {
            const ynode *s = sources->children[i];
            if (ynode_get(s, "helm") || ynode_get(s, "chart") || ynode_get(s, "kustomize")) {
                src = s;
                break;
            }
        }
        if (!src && sources && sources->kind == YNODE_SEQ && sources->n_children)
            src = sources->children[0];
    }
    if (!src) {
        if (!out->error)
            out->error =
                xasprintf("%s:%zu: Application %s has no spec.source", file, out->line, out->name);
        return 0;
    }
    out->repo_url = dup_scalar(ynode_get(src, "repoURL"));
    out->target_revision = dup_scalar(ynode_get(src, "targetRevision"));
    out->chart = dup_scalar(ynode_get(src, "chart"));
    char *path = dup_scalar(ynode_get(src, "path"));
    if (path) {
        /* Every path from a repository stays inside it: no "..", no absolute path. */
        tp_err perr;
        free(out->path);
        out->path = NULL;
        if (repopath_clean(path, "spec.source.path", &out->path, &perr) < 0) {
            out->path = xstrdup("");
            char *shown = str_printable(perr.msg);
            if (!out->error)
                out->error =
                    xasprintf("%s:%zu: Application %s: %s", file, out->line, out->name, shown);
            free(shown);
        }
        free(path);
    }
    const ynode *helm = ynode_get(src, "helm");
    const ynode *kust = ynode_get(src, "kustomize");
    out->has_helm = helm != NULL;
    out->has_kustomize = kust != NULL;
    if (helm)
        read_helm(helm, out);
    const ynode *images = ynode_deref(ynode_get(kust, "images"));
    if (images && images->kind == YNODE_SEQ)
        for (size_t i = 0; i < images->n_children; i++)
            if (ynode_str(images->children[i]))
                strvec_push(&out->kustomize_images, ynode_str(images->children[i]));
    return 0;
}

const char *app_repo_url(const argo_app *app)
{
    if (app->settings.git_repository && *app->settings.git_repository)
        return app->settings.git_repository;
    return app->repo_url;
}

void app_free(argo_app *app)
{
    if (!app)
        return;
    free(app->name);
    free(app->namespace_);
    free(app->file);
    app_settings_free(&app->settings);
    free(app->repo_url);
    free(app->target_revision);
    free(app->path);
    free(app->chart);
    for (size_t i = 0; i < app->n_helm_params; i++) {
        free(app->helm_params[i].name);
        free(app->helm_params[i].value);
    }
    free(app->helm_params);
    strvec_free(&app->kustomize_images);
    free(app->error);
    holds_app_free(app->holds);
    free(app->holds_error);
    free(app->object_json);
    free(app->resource_version);
    strvec_free(&app->live_images);
    *app = (argo_app){0};
}

void app_list_free(app_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        app_free(&list->items[i]);
    free(list->items);
    strvec_free(&list->errors);
    *list = (app_list){0};
}

static void push_app(app_list *list, argo_app *app)
{
    if (list->count == list->cap) {
        list->cap = list->cap ? list->cap * 2 : 64;
        list->items = xrealloc(list->items, list->cap * sizeof *list->items);
    }
    list->items[list->count++] = *app;
}

#define APP_PROGRESS_EVERY 64 /* files between two on_progress calls */

int app_list_read_tree(repotree *tree, const char *rel, app_list *list, tp_err *err)
{
    strvec files = {0};
    strvec links = {0};
    if (repotree_list_yaml(tree, rel, &files, &links, err) < 0) {
        strvec_free(&links);
        return -1;
    }
    /* A link in the Applications folder is never followed (two link loops once made a scan
     * take 8 GB): say which, so a missing Application is explained. */
    for (size_t i = 0; i < links.count; i++)
        strvec_push(&list->errors, links.items[i]);
    strvec_free(&links);
    strbuf text = {0};
    for (size_t i = 0; i < files.count; i++) {
        ydoc doc;
        tp_err perr = {{0}};
        if (repotree_read(tree, files.items[i], &text, &perr) != 0 ||
            yamlcache_parse(list->yaml_cache, text.data, text.len, files.items[i], &doc, &perr) !=
                0) {
            strvec_push(&list->errors, perr.msg);
        } else {
            for (size_t d = 0; d < doc.n_roots; d++) {
                argo_app app;
                if (doc.roots[d] && app_from_node(doc.roots[d], files.items[i], &app) == 0)
                    push_app(list, &app);
            }
            yamldoc_free(&doc);
        }
        if (list->on_file)
            list->on_file(list->progress_ctx, list);
        if (list->on_progress && (i + 1) % APP_PROGRESS_EVERY == 0)
            list->on_progress(list->progress_ctx, list, i + 1, files.count);
    }
    strbuf_free(&text);
    if (list->count && list->count < list->cap) { /* kept all cycle: give the spare back */
        list->items = xrealloc(list->items, list->count * sizeof *list->items);
        list->cap = list->count;
    }
    if (list->on_progress)
        list->on_progress(list->progress_ctx, list, files.count, files.count);
    strvec_free(&files);
    return 0;
}
