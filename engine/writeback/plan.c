/* Planning a write-back: which files change and how, computed from a repository's files (a
 * repotree: git objects, never a work tree) without writing anything. Each in-place edit
 * re-parses the file it edits, so several images in one file compose. */
#include <git2.h>
#include <stdlib.h>
#include <string.h>

#include "manifest/manifest.h"
#include "manifest/plain.h"
#include "manifest/yamledit.h"
#include "writeback.h"
#include "writeback/values.h"
#include "writeback/argocd_source.h"

/* The files touched so far, with their current planned content. */
typedef struct file_set {
    repotree *tree;
    writeback_file *files;
    size_t n;
} file_set;

/* The planned content of rel (read from the tree the first time). NULL + err when unreadable
 * (a link, a folder, ...); an empty new file when it does not exist and may_create. */
static writeback_file *fs_get(file_set *fs, const char *rel, bool may_create, tp_err *err)
{
    for (size_t i = 0; i < fs->n; i++)
        if (strcmp(fs->files[i].path, rel) == 0)
            return &fs->files[i];
    strbuf sb = {0};
    int rc = repotree_read(fs->tree, rel, &sb, err);
    bool exists = rc == 0;
    if (rc == REPOTREE_NOT_FOUND && may_create)
        rc = 0;
    if (rc) {
        strbuf_free(&sb);
        return NULL;
    }
    fs->files = xrealloc(fs->files, (fs->n + 1) * sizeof *fs->files);
    writeback_file *f = &fs->files[fs->n++];
    *f = (writeback_file){0};
    f->path = xstrdup(rel);
    if (exists) {
        f->before_len = sb.len;
        f->before = xstrndup(sb.data ? sb.data : "", sb.len);
    }
    f->after_len = sb.len;
    f->after = exists ? strbuf_take(&sb) : xstrdup("");
    strbuf_free(&sb);
    return f;
}

static void fs_set(writeback_file *f, strbuf *content)
{
    free(f->after);
    f->after_len = content->len;
    f->after = strbuf_take(content);
}

static void fs_free(file_set *fs)
{
    for (size_t i = 0; i < fs->n; i++) {
        free(fs->files[i].path);
        free(fs->files[i].before);
        free(fs->files[i].after);
    }
    free(fs->files);
    fs->files = NULL;
    fs->n = 0;
}

/* Set the scalar at path in the planned file; "missing" is reported by the caller. */
static int edit_path(writeback_file *f, const char *path, const char *value, bool *missing,
                     tp_err *err)
{
    ydoc doc;
    if (yamldoc_parse(f->after, f->after_len, f->path, &doc, err))
        return -1;
    const ynode *n = doc.n_roots ? ynode_path(doc.roots[0], path) : NULL;
    int rc = 0;
    *missing = n == NULL;
    if (n && !str_eq(ynode_str(n), value)) {
        yamledit_edit e;
        strbuf out = {0};
        if (yamledit_scalar(f->after, f->after_len, n, value, &e, err)) {
            tp_err_prefix(err, "%s: %s", f->path, path);
            rc = -1;
        } else if ((rc = yamledit_apply(f->after, f->after_len, &e, 1, &out, err)) == 0) {
            fs_set(f, &out);
        }
    }
    yamldoc_free(&doc);
    return rc;
}

static char *name_tag(const char *name, const char *tag)
{
    return xasprintf("%s:%s", name, tag);
}

static int plan_helmvalues(const argo_app *app, file_set *fs, const image_update *u, tp_err *err)
{
    char *rel;
    if (manifest_helm_values_rel(app, &rel, err) < 0)
        return -1;
    writeback_file *f = fs_get(fs, rel, false, err);
    int rc = f ? 0 : -1;
    helm_keys k = manifest_helm_keys(u->image);
    bool missing = false;
    if (rc == 0 && k.spec) {
        /* Keep the image name as written, change what follows it. */
        ydoc doc;
        char *name = NULL;
        if (yamldoc_parse(f->after, f->after_len, rel, &doc, NULL) == 0) {
            const char *old = ynode_str(doc.n_roots ? ynode_path(doc.roots[0], k.spec) : NULL);
            if (old && manifest_image_matches(old, &u->image->ref))
                manifest_split_image(old, &name, NULL, NULL);
            yamldoc_free(&doc);
        }
        char *value = name_tag(name ? name : u->image->ref.short_name, u->new_tag);
        rc = edit_path(f, k.spec, value, &missing, err);
        free(value);
        free(name);
        if (rc == 0 && missing)
            rc = tp_err_set(err, "%s: no key '%s' (helm.image-spec)", rel, k.spec);
    } else if (rc == 0) {
        rc = edit_path(f, k.tag, u->new_tag, &missing, err);
        if (rc == 0 && missing)
            rc = tp_err_set(err, "%s: no key '%s' (set the %s.helm.image-tag annotation)", rel,
                            k.tag, u->image->alias ? u->image->alias : "<alias>");
        /* The name is rewritten only when it names another image: "repository: x" stays. */
        ydoc doc;
        if (rc == 0 && yamldoc_parse(f->after, f->after_len, rel, &doc, NULL) == 0) {
            const char *old = ynode_str(doc.n_roots ? ynode_path(doc.roots[0], k.name) : NULL);
            bool rewrite = old && !manifest_image_matches(old, &u->image->ref);
            yamldoc_free(&doc);
            if (rewrite)
                rc = edit_path(f, k.name, u->image->ref.short_name, &missing, err);
        }
    }
    free(rel);
    return rc;
}

/* Detect the file's line end so inserted lines match it. */
static const char *line_end(const char *text)
{
    const char *nl = strchr(text, '\n');
    return nl && nl > text && nl[-1] == '\r' ? "\r\n" : "\n";
}

/* Where a line goes after a block node: after the line holding its last scalar. (A block
 * collection's own end mark is the next token, which may lie past comments and blank lines.) */
static size_t after_node_line(const char *buf, size_t len, const ynode *n)
{
    while ((n->kind == YNODE_MAP || n->kind == YNODE_SEQ) && n->n_children)
        n = n->children[n->n_children - 1];
    size_t at = n->end;
    while (at < len && buf[at] != '\n')
        at++;
    return at < len ? at + 1 : at;
}

/* Set `field` (newTag or digest) of the image's entry in the planned kustomization: edit it in
 * place, add the line to the entry, or add an entry to `images:` (a new list at the end when
 * there is none). */
static int kustomize_set(writeback_file *f, const image_settings *img, const char *field,
                         const char *value, tp_err *err)
{
    ydoc doc;
    if (yamldoc_parse(f->after, f->after_len, f->path, &doc, err))
        return -1;
    const char *want = img->kustomize_image_name;
    const ynode *images = ynode_deref(doc.n_roots ? ynode_get(doc.roots[0], "images") : NULL);
    const ynode *entry = NULL;
    for (size_t i = 0; images && images->kind == YNODE_SEQ && i < images->n_children; i++) {
        const ynode *e = images->children[i];
        const char *ename = ynode_str(ynode_get(e, "name"));
        if ((want && str_eq(ename, want)) || manifest_image_matches(ename, &img->ref) ||
            (!want && manifest_image_matches(ynode_str(ynode_get(e, "newName")), &img->ref)))
            entry = e;
    }
    int rc = 0;
    strbuf out = {0};
    const char *nl = line_end(f->after);
    const char *entry_name = want ? want : img->ref.short_name;
    char *rendered = NULL, *name = NULL;
    const ynode *current = entry ? ynode_get(entry, field) : NULL;
    if (!current && (yamledit_render(value, YSTYLE_PLAIN, &rendered, err) < 0 ||
                     yamledit_render(entry_name, YSTYLE_PLAIN, &name, err) < 0)) {
        tp_err_prefix(err, "%s: images[%s].%s", f->path, entry_name, field);
        rc = -1;
    } else if (current) {
        yamledit_edit e;
        if (!str_eq(ynode_str(current), value)) {
            rc = yamledit_scalar(f->after, f->after_len, current, value, &e, err);
            if (rc == 0)
                rc = yamledit_apply(f->after, f->after_len, &e, 1, &out, err);
        }
    } else if (entry && entry->style == YSTYLE_BLOCK) {
        /* The new key goes under the entry's keys, at their indentation, after its last line. */
        size_t at = after_node_line(f->after, f->after_len, entry);
        strbuf_append(&out, f->after, at);
        if (at && f->after[at - 1] != '\n')
            strbuf_puts(&out, nl);
        strbuf_printf(&out, "%*s%s: %s%s", (int)(entry->column - 1), "", field, rendered, nl);
        strbuf_append(&out, f->after + at, f->after_len - at);
    } else if (!entry && (!images || images->style == YSTYLE_BLOCK)) {
        size_t at = images ? after_node_line(f->after, f->after_len, images) : f->after_len;
        int indent = images && images->n_children ? (int)images->children[0]->column - 3 : 0;
        if (indent < 0)
            indent = 0;
        strbuf_append(&out, f->after, at);
        if (at && f->after[at - 1] != '\n')
            strbuf_puts(&out, nl);
        if (!images)
            strbuf_printf(&out, "images:%s", nl);
        strbuf_printf(&out, "%*s- name: %s%s%*s  %s: %s%s", indent, "", name, nl, indent, "", field,
                      rendered, nl);
        strbuf_append(&out, f->after + at, f->after_len - at);
    } else {
        rc = tp_err_set(err, "%s: cannot add to the flow-style entry or list for %s", f->path,
                        entry_name);
    }
    if (rc == 0 && out.data)
        fs_set(f, &out);
    strbuf_free(&out);
    free(rendered);
    free(name);
    yamldoc_free(&doc);
    return rc;
}

static int plan_kustomization(const argo_app *app, file_set *fs, const image_update *u, tp_err *err)
{
    char *dir_rel;
    if (manifest_kustomize_dir_rel(app, &dir_rel, err) < 0)
        return -1;
    const char *name = manifest_kustomization_name(fs->tree, dir_rel);
    if (!name) {
        int rc = tp_err_set(err, "no kustomization.yaml in '%s'", *dir_rel ? dir_rel : ".");
        free(dir_rel);
        return rc;
    }
    char *rel = repopath_join(dir_rel, name);
    free(dir_rel);
    writeback_file *f = fs_get(fs, rel, false, err);
    free(rel);
    if (!f)
        return -1;
    /* kustomize keeps "tag@sha256:…" apart: newTag and digest. */
    const char *at = strchr(u->new_tag, '@');
    char *tag = at ? xstrndup(u->new_tag, (size_t)(at - u->new_tag)) : xstrdup(u->new_tag);
    int rc = 0;
    if (*tag)
        rc = kustomize_set(f, u->image, "newTag", tag, err);
    if (rc == 0 && at)
        rc = kustomize_set(f, u->image, "digest", at + 1, err);
    free(tag);
    return rc;
}

typedef struct plain_ctx {
    const char *buf;
    size_t len;
    const char *new_tag;
    yamledit_edit *edits;
    size_t n;
    size_t matches; /* image: values naming the image, changed or not */
    tp_err *err;
    int rc;
} plain_ctx;

static int collect_plain(const ynode *v, void *data)
{
    plain_ctx *c = data;
    c->matches++;
    char *name;
    manifest_split_image(v->value, &name, NULL, NULL);
    char *value = name_tag(name, c->new_tag);
    free(name);
    if (strcmp(value, v->value) != 0) {
        c->edits = xrealloc(c->edits, (c->n + 1) * sizeof *c->edits);
        if (yamledit_scalar(c->buf, c->len, v, value, &c->edits[c->n], c->err) == 0)
            c->n++;
        else
            c->rc = -1;
    }
    free(value);
    return c->rc;
}

static int plan_plain(const argo_app *app, file_set *fs, const image_update *u, tp_err *err)
{
    strvec files = {0};
    repotree_list_yaml(fs->tree, app->path, &files, NULL, NULL);
    int rc = 0;
    size_t hits = 0;
    for (size_t i = 0; rc == 0 && i < files.count; i++) {
        if (strstr(files.items[i], ".argocd-source"))
            continue;
        writeback_file *f = fs_get(fs, files.items[i], false, err);
        ydoc doc;
        if (!f || yamldoc_parse(f->after, f->after_len, f->path, &doc, NULL))
            continue; /* unreadable manifests hold no image we could edit */
        plain_ctx c = {f->after, f->after_len, u->new_tag, NULL, 0, 0, err, 0};
        for (size_t d = 0; c.rc == 0 && d < doc.n_roots; d++)
            plain_walk(doc.roots[d], &u->image->ref, collect_plain, &c);
        rc = c.rc;
        if (rc == 0 && c.n) {
            strbuf out = {0};
            rc = yamledit_apply(f->after, f->after_len, c.edits, c.n, &out, err);
            if (rc == 0)
                fs_set(f, &out);
        }
        hits += c.matches;
        free(c.edits);
        yamldoc_free(&doc);
    }
    strvec_free(&files);
    if (rc == 0 && hits == 0)
        rc = tp_err_set(err, "no container in '%s' uses %s", *app->path ? app->path : ".",
                        u->image->ref.short_name);
    return rc;
}

static int plan_argocd_source(const argo_app *app, file_set *fs, const image_update *u, size_t n,
                              bool helm, const writeback_opts *opts, tp_err *err)
{
    char *base = manifest_argocd_source_name(app, opts ? opts->argocd_namespace : NULL);
    char *rel = repopath_join(app->path, base);
    free(base);
    writeback_file *f = fs_get(fs, rel, true, err);
    int rc = f ? 0 : -1;
    strbuf out = {0};
    if (rc == 0 && helm) {
        argocd_param *params;
        strvec owned = {0};
        size_t np = writeback_helm_params(u, n, &params, &owned);
        rc = argocd_source_helm(f->after, f->after_len, rel, params, np, &out, err);
        free(params);
        strvec_free(&owned);
    } else if (rc == 0) {
        strvec entries = {0};
        writeback_kustomize_entries(u, n, &entries);
        rc = argocd_source_kustomize(f->after, f->after_len, rel,
                                     (const char *const *)entries.items, entries.count, &out, err);
        strvec_free(&entries);
    }
    if (rc == 0)
        fs_set(f, &out);
    strbuf_free(&out);
    free(rel);
    return rc;
}

/* A write of a tag other than the pin another engine committed since the scan is refused: the
 * pin is in the tip the commit would build on. (A file that cannot be read refuses too.) */
static int check_pins(const argo_app *app, file_set *fs, const image_update *u, size_t n,
                      const hold_edit *hold, tp_err *err)
{
    strbuf sb = {0};
    int read = repotree_read(fs->tree, HOLDS_PATH, &sb, err);
    holds h = {0};
    if ((read < 0 && read != REPOTREE_NOT_FOUND) ||
        (read == 0 && holds_parse(sb.data ? sb.data : "", sb.len, HOLDS_PATH, &h, err) < 0)) {
        strbuf_free(&sb);
        return -1;
    }
    strbuf_free(&sb);
    const holds_app *held = holds_find(&h, app->name);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *pin = holds_pin_conflict(held, u[i].image->alias, u[i].new_tag, hold);
        if (pin)
            rc = tp_err_set(err,
                            "%s: %s is pinned at %s (committed since the scan): %s is not "
                            "written",
                            HOLDS_PATH, u[i].image->alias, pin, u[i].new_tag);
    }
    holds_free(&h);
    return rc;
}

/* The hold's change to .tagpilot/holds.yaml, as the tip has it (another engine's holds stay). */
static int plan_hold(file_set *fs, const hold_edit *hold, tp_err *err)
{
    writeback_file *f = fs_get(fs, HOLDS_PATH, true, err);
    if (!f)
        return -1;
    holds h;
    if (holds_parse(f->after, f->after_len, HOLDS_PATH, &h, err) < 0)
        return -1;
    int rc = holds_apply(&h, hold, err);
    if (rc == 1) {
        strbuf sb = {0};
        char *text = holds_render(&h);
        strbuf_puts(&sb, text);
        free(text);
        fs_set(f, &sb);
    }
    holds_free(&h);
    return rc < 0 ? -1 : 0;
}

static char *make_diff(const writeback_file *files, size_t n)
{
    git_libgit2_init();
    strbuf sb = {0};
    strbuf_append(&sb, "", 0);
    for (size_t i = 0; i < n; i++) {
        git_patch *patch = NULL;
        git_buf buf = {0};
        const char *path = files[i].path;
        if (git_patch_from_buffers(&patch, files[i].before, files[i].before_len,
                                   files[i].before ? path : NULL, files[i].after,
                                   files[i].after_len, path, NULL) == 0 &&
            git_patch_to_buf(&buf, patch) == 0)
            strbuf_append(&sb, buf.ptr, buf.size);
        git_buf_dispose(&buf);
        git_patch_free(patch);
    }
    git_libgit2_shutdown();
    return strbuf_take(&sb);
}

int writeback_plan_in(const argo_app *app, repotree *tree, const image_update *updates, size_t n,
                      const writeback_opts *opts, writeback_change *out, tp_err *err)
{
    *out = (writeback_change){0};
    if (app->error)
        return tp_err_set(err, "app %s: %s", app->name ? app->name : "?", app->error);
    if (manifest_check_source_path(app, tree, err) < 0)
        return -1;
    app_kind kind = manifest_app_kind(app, tree);
    file_set fs = {tree, NULL, 0};
    int rc = 0;
    writeback_target_kind target = app->settings.target;
    if (n > 0)
        rc = check_pins(app, &fs, updates, n, opts ? opts->hold : NULL, err);
    if (rc == 0 && n > 0 && target == TARGET_ARGOCD_SOURCE && kind != APP_KIND_PLAIN)
        rc = plan_argocd_source(app, &fs, updates, n, kind == APP_KIND_HELM, opts, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (target == TARGET_HELMVALUES)
            rc = plan_helmvalues(app, &fs, &updates[i], err);
        else if (target == TARGET_KUSTOMIZATION)
            rc = plan_kustomization(app, &fs, &updates[i], err);
        else if (kind == APP_KIND_PLAIN)
            rc = plan_plain(app, &fs, &updates[i], err);
    }
    if (rc == 0 && opts && opts->hold)
        rc = plan_hold(&fs, opts->hold, err);
    if (rc) {
        tp_err_prefix(err, "app %s", app->name);
        fs_free(&fs);
        return -1;
    }
    /* Keep only files whose bytes change. */
    for (size_t i = 0; i < fs.n; i++) {
        writeback_file *f = &fs.files[i];
        bool same = f->before && f->before_len == f->after_len &&
                    memcmp(f->before, f->after, f->after_len) == 0;
        if (same) {
            free(f->path);
            free(f->before);
            free(f->after);
            continue;
        }
        out->files = xrealloc(out->files, (out->n_files + 1) * sizeof *out->files);
        out->files[out->n_files++] = *f;
    }
    free(fs.files);
    out->diff = make_diff(out->files, out->n_files);
    out->message = writeback_message(app, updates, n, opts, err);
    if (!out->message) {
        writeback_change_free(out);
        return -1;
    }
    return 0;
}

void writeback_change_free(writeback_change *c)
{
    for (size_t i = 0; i < c->n_files; i++) {
        free(c->files[i].path);
        free(c->files[i].before);
        free(c->files[i].after);
    }
    free(c->files);
    free(c->diff);
    free(c->message);
    free(c->base_branch);
    free(c->push_branch);
    free(c->repo_url);
    *c = (writeback_change){0};
}
