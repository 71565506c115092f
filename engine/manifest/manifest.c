#include "manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plain.h"
#include "yamldoc.h"

helm_keys manifest_helm_keys(const image_settings *img)
{
    helm_keys k = {"image.name", "image.tag", NULL};
    if (img->helm_image_name && *img->helm_image_name)
        k.name = img->helm_image_name;
    if (img->helm_image_tag && *img->helm_image_tag)
        k.tag = img->helm_image_tag;
    if (img->helm_image_spec && *img->helm_image_spec)
        k.spec = img->helm_image_spec;
    return k;
}

const char *manifest_kustomization_name(repotree *tree, const char *dir)
{
    static const char *const names[] = {"kustomization.yaml", "kustomization.yml", "Kustomization"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char *p = repopath_join(dir, names[i]);
        repotree_kind kind = repotree_kind_of(tree, p);
        free(p);
        if (kind != REPOTREE_MISSING) /* a link here is found, then refused when read */
            return names[i];
    }
    return NULL;
}

app_kind manifest_app_kind(const argo_app *app, repotree *tree)
{
    if (app->settings.target == TARGET_HELMVALUES || app->has_helm || app->chart)
        return APP_KIND_HELM;
    if (app->settings.target == TARGET_KUSTOMIZATION || app->has_kustomize)
        return APP_KIND_KUSTOMIZE;
    char *chart = repopath_join(app->path, "Chart.yaml");
    bool helm = repotree_kind_of(tree, chart) != REPOTREE_MISSING;
    free(chart);
    if (helm)
        return APP_KIND_HELM;
    if (manifest_kustomization_name(tree, app->path))
        return APP_KIND_KUSTOMIZE;
    for (size_t i = 0; i < app->settings.n_images; i++) {
        const image_settings *img = &app->settings.images[i];
        if (img->helm_image_name || img->helm_image_tag || img->helm_image_spec)
            return APP_KIND_HELM;
        if (img->kustomize_image_name)
            return APP_KIND_KUSTOMIZE;
    }
    return APP_KIND_PLAIN;
}

char *manifest_argocd_source_name(const argo_app *app, const char *argocd_ns)
{
    const char *ns = app->namespace_;
    if (ns && *ns && !str_eq(ns, argocd_ns ? argocd_ns : "argocd"))
        return xasprintf(".argocd-source-%s_%s.yaml", ns, app->name);
    return xasprintf(".argocd-source-%s.yaml", app->name);
}

const char *manifest_revision(const argo_app *app)
{
    /* A chart from a Helm repository: targetRevision is the chart's version, not a branch of
     * the git-repository where the values live. */
    if (app->chart)
        return NULL;
    return app->target_revision;
}

int manifest_open_repo(const argo_app *app, const gitrepo_opts *opts, gitrepo **out, tp_err *err)
{
    *out = NULL;
    const char *url = app_repo_url(app);
    if (!url || !*url)
        return tp_err_set(err, "app %s: no spec.source.repoURL (nor git-repository annotation)",
                          app->name);
    if (app->chart && !(app->settings.git_repository && *app->settings.git_repository))
        return tp_err_set(err,
                          "app %s: chart '%s' comes from the Helm repository %s, not git: set "
                          "the git-repository annotation to the repository tagpilot should "
                          "read and write",
                          app->name, app->chart, url);
    gitrepo *repo;
    if (gitrepo_open(url, opts, &repo, err))
        return -1;
    *out = repo;
    return 0;
}

void manifest_split_image(const char *value, char **name, char **tag, char **digest)
{
    const char *at = strchr(value, '@');
    size_t base_len = at ? (size_t)(at - value) : strlen(value);
    const char *slash = NULL;
    for (const char *p = value; p < value + base_len; p++)
        if (*p == '/')
            slash = p;
    const char *colon = NULL;
    for (const char *p = slash ? slash : value; p < value + base_len; p++)
        if (*p == ':')
            colon = p;
    if (name)
        *name = xstrndup(value, colon ? (size_t)(colon - value) : base_len);
    if (tag)
        *tag = colon ? xstrndup(colon + 1, base_len - (size_t)(colon + 1 - value)) : NULL;
    if (digest)
        *digest = at ? xstrdup(at + 1) : NULL;
}

bool manifest_image_matches(const char *written, const imageref *ref)
{
    if (!written || !ref || !ref->name)
        return false;
    char *name;
    manifest_split_image(written, &name, NULL, NULL);
    imageref parsed;
    bool same = false;
    if (imageref_parse(name, &parsed, NULL) == 0) {
        same = str_eq(parsed.name, ref->name);
        imageref_free(&parsed);
    } else {
        same = str_eq(name, ref->short_name) || str_eq(name, ref->name);
    }
    free(name);
    return same;
}

const char *manifest_origin_name(tag_origin origin)
{
    switch (origin) {
    case ORIGIN_ARGOCD_SOURCE:
        return "argocd-source";
    case ORIGIN_APP_SPEC:
        return "application";
    case ORIGIN_HELM_VALUES:
        return "helm-values";
    case ORIGIN_CHART_APPVERSION:
        return "chart-appversion";
    case ORIGIN_KUSTOMIZATION:
        return "kustomization";
    case ORIGIN_PLAIN:
        return "manifest";
    case ORIGIN_LIVE:
        return "live";
    default:
        return "none";
    }
}

void current_tag_free(current_tag *t)
{
    free(t->tag);
    free(t->digest);
    free(t->file);
    free(t->error);
    *t = (current_tag){0};
}

static void found(current_tag *out, const char *tag, const char *digest, tag_origin origin,
                  const char *file, size_t line)
{
    current_tag_free(out);
    out->tag = xstrdup(tag);
    out->digest = xstrdup(digest);
    out->origin = origin;
    out->file = xstrdup(file);
    out->line = line;
}

static void fail(current_tag *out, const char *msg)
{
    if (!out->error)
        out->error = xstrdup(msg);
}

/* A Helm "name:tag" spec value, or a tag value that may carry "@digest". */
static void found_helm_value(current_tag *out, const char *value, bool is_spec, tag_origin origin,
                             const char *file, size_t line)
{
    char *tag = NULL, *digest = NULL;
    if (is_spec)
        manifest_split_image(value, NULL, &tag, &digest);
    else {
        const char *at = strchr(value, '@');
        tag = at ? xstrndup(value, (size_t)(at - value)) : xstrdup(value);
        digest = at ? xstrdup(at + 1) : NULL;
    }
    found(out, tag, digest, origin, file, line);
    free(tag);
    free(digest);
}

/* Kustomize image override "[orig=]new[:tag][@digest]" for this image. */
static bool kustomize_entry_matches(const char *entry, const image_settings *img, char **tag,
                                    char **digest)
{
    const char *eq = strchr(entry, '=');
    char *orig = eq ? xstrndup(entry, (size_t)(eq - entry)) : NULL;
    const char *ref = eq ? eq + 1 : entry;
    char *name;
    manifest_split_image(ref, &name, tag, digest);
    bool match;
    if (img->kustomize_image_name)
        match = str_eq(orig ? orig : name, img->kustomize_image_name) ||
                manifest_image_matches(orig ? orig : name, &img->ref);
    else
        match = manifest_image_matches(orig ? orig : name, &img->ref) ||
                manifest_image_matches(name, &img->ref);
    free(orig);
    free(name);
    if (!match) {
        free(*tag);
        free(*digest);
        *tag = *digest = NULL;
    }
    return match;
}

/* Steps 1 and 2: a list of Helm parameters or Kustomize images. */
typedef struct overrides {
    const char *const *names; /* helm parameter names */
    const char *const *values;
    const size_t *lines;
    size_t n_params;
    const char *const *images; /* kustomize entries */
    const size_t *image_lines;
    size_t n_images;
} overrides;

static bool from_overrides(const overrides *o, const image_settings *img, tag_origin origin,
                           const char *file, current_tag *out)
{
    helm_keys k = manifest_helm_keys(img);
    const char *want = k.spec ? k.spec : k.tag;
    for (size_t i = 0; i < o->n_params; i++)
        if (str_eq(o->names[i], want)) {
            found_helm_value(out, o->values[i], k.spec != NULL, origin, file,
                             o->lines ? o->lines[i] : 0);
            return true;
        }
    for (size_t i = 0; i < o->n_images; i++) {
        char *tag = NULL, *digest = NULL;
        if (kustomize_entry_matches(o->images[i], img, &tag, &digest)) {
            found(out, tag, digest, origin, file, o->image_lines ? o->image_lines[i] : 0);
            free(tag);
            free(digest);
            return true;
        }
    }
    return false;
}

/* .argocd-source-<app>.yaml, parsed into name/value lists. */
typedef struct source_file {
    ydoc doc;
    bool present;
    strvec names, values, images;
    size_t *lines, *image_lines;
} source_file;

static int read_source_file(repotree *tree, const char *rel, source_file *sf, tp_err *err)
{
    *sf = (source_file){0};
    strbuf text = {0};
    int rc = repotree_read(tree, rel, &text, err);
    if (rc == 0)
        rc = yamldoc_parse(text.data, text.len, rel, &sf->doc, err);
    strbuf_free(&text);
    if (rc == REPOTREE_NOT_FOUND)
        return 0;
    if (rc)
        return -1;
    sf->present = true;
    const ynode *root = sf->doc.n_roots ? sf->doc.roots[0] : NULL;
    const ynode *params = ynode_deref(ynode_path(root, "helm.parameters"));
    size_t np = params && params->kind == YNODE_SEQ ? params->n_children : 0;
    sf->lines = xcalloc(np + 1, sizeof *sf->lines);
    for (size_t i = 0; i < np; i++) {
        const ynode *p = params->children[i];
        const char *name = ynode_str(ynode_get(p, "name"));
        const ynode *v = ynode_get(p, "value");
        if (!name || !ynode_str(v))
            continue;
        sf->lines[sf->names.count] = v->line;
        strvec_push(&sf->names, name);
        strvec_push(&sf->values, ynode_str(v));
    }
    const ynode *images = ynode_deref(ynode_path(root, "kustomize.images"));
    size_t ni = images && images->kind == YNODE_SEQ ? images->n_children : 0;
    sf->image_lines = xcalloc(ni + 1, sizeof *sf->image_lines);
    for (size_t i = 0; i < ni; i++)
        if (ynode_str(images->children[i])) {
            sf->image_lines[sf->images.count] = images->children[i]->line;
            strvec_push(&sf->images, ynode_str(images->children[i]));
        }
    return 0;
}

static void source_file_free(source_file *sf)
{
    yamldoc_free(&sf->doc);
    strvec_free(&sf->names);
    strvec_free(&sf->values);
    strvec_free(&sf->images);
    free(sf->lines);
    free(sf->image_lines);
}

int manifest_check_source_path(const argo_app *app, repotree *tree, tp_err *err)
{
    repotree_kind kind = repotree_kind_of(tree, app->path);
    if (kind == REPOTREE_DIR)
        return 0;
    return tp_err_set(err, "app %s: source path '%s' %s", app->name, *app->path ? app->path : ".",
                      kind == REPOTREE_MISSING ? "not found in the repository"
                      : kind == REPOTREE_SYMLINK
                          ? "is a symbolic link (or under one), which tagpilot does not follow"
                          : "is not a folder");
}

/* What the Application itself sets: its Helm parameters and Kustomize images (the lists are
 * borrowed from app; free with overrides_free). */
static overrides app_overrides(const argo_app *app)
{
    const char **pnames = xcalloc(app->n_helm_params + 1, sizeof *pnames);
    const char **pvalues = xcalloc(app->n_helm_params + 1, sizeof *pvalues);
    for (size_t i = 0; i < app->n_helm_params; i++) {
        pnames[i] = app->helm_params[i].name;
        pvalues[i] = app->helm_params[i].value;
    }
    return (overrides){pnames,
                       pvalues,
                       NULL,
                       app->n_helm_params,
                       (const char *const *)app->kustomize_images.items,
                       NULL,
                       app->kustomize_images.count};
}

static void overrides_free(overrides *o)
{
    free((void *)o->names);
    free((void *)o->values);
}

const char *manifest_live_image(const argo_app *app, const imageref *ref)
{
    for (size_t i = 0; i < app->live_images.count; i++)
        if (manifest_image_matches(app->live_images.items[i], ref))
            return app->live_images.items[i];
    return NULL;
}

void manifest_current_from_app(const argo_app *app, const char *why, current_tag *out)
{
    overrides from_app = app_overrides(app);
    for (size_t i = 0; i < app->settings.n_images; i++) {
        const image_settings *img = &app->settings.images[i];
        out[i] = (current_tag){0};
        if (from_overrides(&from_app, img, ORIGIN_APP_SPEC, NULL, &out[i]))
            continue;
        const char *live = manifest_live_image(app, &img->ref);
        char *tag = NULL, *digest = NULL;
        if (live)
            manifest_split_image(live, NULL, &tag, &digest);
        if (tag || digest)
            found(&out[i], tag, digest, ORIGIN_LIVE, NULL, 0);
        else
            out[i].error =
                xasprintf("no tag for %s in the Application, and %s", img->ref.short_name, why);
        free(tag);
        free(digest);
    }
    overrides_free(&from_app);
}

int manifest_current(const argo_app *app, repotree *tree, const char *argocd_ns, current_tag *out,
                     tp_err *err)
{
    size_t n = app->settings.n_images;
    for (size_t i = 0; i < n; i++)
        out[i] = (current_tag){0};
    if (manifest_check_source_path(app, tree, err) < 0) {
        for (size_t i = 0; i < n; i++)
            fail(&out[i], err->msg);
        return -1;
    }
    char *base = manifest_argocd_source_name(app, argocd_ns);
    char *rel = repopath_join(app->path, base);
    source_file sf;
    tp_err sf_err = {{0}};
    bool sf_bad = read_source_file(tree, rel, &sf, &sf_err) != 0;
    overrides from_file = {(const char *const *)sf.names.items,
                           (const char *const *)sf.values.items,
                           sf.lines,
                           sf.names.count,
                           (const char *const *)sf.images.items,
                           sf.image_lines,
                           sf.images.count};
    overrides from_app = app_overrides(app);
    app_kind kind = manifest_app_kind(app, tree);
    for (size_t i = 0; i < n; i++) {
        const image_settings *img = &app->settings.images[i];
        if (sf_bad) {
            fail(&out[i], sf_err.msg);
            continue;
        }
        if (from_overrides(&from_file, img, ORIGIN_ARGOCD_SOURCE, rel, &out[i]) ||
            from_overrides(&from_app, img, ORIGIN_APP_SPEC, NULL, &out[i]))
            continue;
        if (kind == APP_KIND_HELM)
            manifest_current_helm(app, img, tree, &out[i]);
        else if (kind == APP_KIND_KUSTOMIZE)
            manifest_current_kustomize(app, img, tree, &out[i]);
        else if (manifest_current_plain(tree, app->path, &img->ref, &out[i]) != 0)
            fail(&out[i], "no container image found in the manifests");
        if (!out[i].tag && !out[i].error)
            out[i].error = xasprintf("no tag found for %s", img->ref.short_name);
    }
    overrides_free(&from_app);
    source_file_free(&sf);
    free(rel);
    free(base);
    return 0;
}
