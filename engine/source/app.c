#include "app.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
            if (k && v)
                pairs[n++] = (annotation){k, v}; /* borrowed from the document */
        }
    }
    annotations_parse(pairs, n, &app->settings);
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
    if (!out->name) {
        out->error = xasprintf("%s:%zu: Application without metadata.name", file, out->line);
        return 0;
    }
    parse_annotations(ynode_path(root, "metadata.annotations"), out);
    const ynode *src = ynode_path(root, "spec.source");
    if (!src) {
        const ynode *sources = ynode_deref(ynode_path(root, "spec.sources"));
        if (sources && sources->kind == YNODE_SEQ && sources->n_children)
            src = sources->children[0]; /* multi-source: the first one holds the manifests */
    }
    if (!src) {
        out->error =
            xasprintf("%s:%zu: Application %s has no spec.source", file, out->line, out->name);
        return 0;
    }
    out->repo_url = dup_scalar(ynode_get(src, "repoURL"));
    out->target_revision = dup_scalar(ynode_get(src, "targetRevision"));
    out->chart = dup_scalar(ynode_get(src, "chart"));
    char *path = dup_scalar(ynode_get(src, "path"));
    if (path) {
        free(out->path);
        out->path = path;
        size_t n = strlen(path);
        while (n && path[n - 1] == '/')
            path[--n] = '\0';
        if (strcmp(path, ".") == 0)
            path[0] = '\0';
        else if (str_starts_with(path, "./"))
            memmove(path, path + 2, strlen(path + 2) + 1);
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

static bool is_yaml_name(const char *name)
{
    return str_ends_with(name, ".yaml") || str_ends_with(name, ".yml");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collect YAML files under base/rel (relative names), skipping dot folders such as .git. */
static void collect(const char *base, const char *rel, strvec *out, int depth)
{
    char *full = *rel ? xasprintf("%s/%s", base, rel) : xstrdup(base);
    DIR *d = depth < 32 ? opendir(full) : NULL;
    free(full);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *child = *rel ? xasprintf("%s/%s", rel, e->d_name) : xstrdup(e->d_name);
        char *abs = xasprintf("%s/%s", base, child);
        /* The entry's type when the file system says it (no stat for 10,000 files); links
         * and unknown types are followed with stat. */
        struct stat st;
        bool is_dir = e->d_type == DT_DIR, is_reg = e->d_type == DT_REG;
        if (e->d_type == DT_UNKNOWN || e->d_type == DT_LNK) {
            bool known = stat(abs, &st) == 0;
            is_dir = known && S_ISDIR(st.st_mode);
            is_reg = known && S_ISREG(st.st_mode);
        }
        if (is_dir)
            collect(base, child, out, depth + 1);
        else if (is_reg && is_yaml_name(e->d_name))
            strvec_push(out, child);
        free(abs);
        free(child);
    }
    closedir(d);
}

void app_list_collect_yaml(const char *base, const char *rel, strvec *out)
{
    collect(base, rel, out, 0);
    if (out->count) /* an empty folder: no array to sort (qsort(NULL) is undefined) */
        qsort(out->items, out->count, sizeof *out->items, cmp_str);
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

int app_list_read_dir(const char *base, const char *rel, app_list *list, tp_err *err)
{
    char *top = *rel ? xasprintf("%s/%s", base, rel) : xstrdup(base);
    struct stat st;
    if (stat(top, &st) != 0 || !S_ISDIR(st.st_mode)) {
        tp_err_set(err, "%s: %s", *rel ? rel : top,
                   errno && stat(top, &st) != 0 ? strerror(errno) : "not a folder");
        free(top);
        return -1;
    }
    free(top);
    strvec files = {0};
    app_list_collect_yaml(base, rel, &files);
    for (size_t i = 0; i < files.count; i++) {
        char *path = xasprintf("%s/%s", base, files.items[i]);
        ydoc doc;
        tp_err perr = {{0}};
        if (yamldoc_load(path, &doc, &perr)) {
            /* Name the file relative to the source, not the cache folder. */
            const char *msg = str_starts_with(perr.msg, path) ? perr.msg + strlen(path) : NULL;
            if (msg) {
                char *m = xasprintf("%s%s", files.items[i], msg);
                strvec_push(&list->errors, m);
                free(m);
            } else {
                strvec_push(&list->errors, perr.msg);
            }
        } else {
            for (size_t d = 0; d < doc.n_roots; d++) {
                argo_app app;
                if (doc.roots[d] && app_from_node(doc.roots[d], files.items[i], &app) == 0)
                    push_app(list, &app);
            }
            yamldoc_free(&doc);
        }
        free(path);
        if (list->on_progress && (i + 1) % APP_PROGRESS_EVERY == 0)
            list->on_progress(list->progress_ctx, list, i + 1, files.count);
    }
    if (list->count && list->count < list->cap) { /* kept all cycle: give the spare back */
        list->items = xrealloc(list->items, list->count * sizeof *list->items);
        list->cap = list->count;
    }
    if (list->on_progress)
        list->on_progress(list->progress_ctx, list, files.count, files.count);
    strvec_free(&files);
    return 0;
}
