#include "argocd_source.h"

#include <stdlib.h>
#include <string.h>

#include "manifest/manifest.h"
#include "manifest/yamledit.h"
#include "yamldoc.h"

typedef struct param_entry {
    char *name, *value;
    bool force_string;
} param_entry;

static int param_cmp(const void *a, const void *b)
{
    return strcmp(((const param_entry *)a)->name, ((const param_entry *)b)->name);
}

static int load_existing(const char *existing, size_t len, const char *file, ydoc *doc,
                         const ynode **root, tp_err *err)
{
    *root = NULL;
    *doc = (ydoc){0};
    if (!existing || !len)
        return 0;
    if (yamldoc_parse(existing, len, file, doc, err))
        return -1;
    *root = doc->n_roots ? ynode_deref(doc->roots[0]) : NULL;
    if (*root && !ynode_is_null(*root) && (*root)->kind != YNODE_MAP) {
        yamldoc_free(doc);
        return tp_err_set(err, "%s: expected a map with 'helm:' or 'kustomize:'", file);
    }
    return 0;
}

/* Every value goes through yamledit_render, the one place YAML text is made from a value. */
static int put_scalar(strbuf *out, const char *value, const char *file, const char *what,
                      tp_err *err)
{
    char *s;
    if (yamledit_render(value, YSTYLE_PLAIN, &s, err) < 0) {
        tp_err_prefix(err, "%s: %s", file, what);
        return -1;
    }
    strbuf_puts(out, s);
    free(s);
    return 0;
}

int argocd_source_helm(const char *existing, size_t len, const char *file,
                       const argocd_param *params, size_t n, strbuf *out, tp_err *err)
{
    ydoc doc;
    const ynode *root;
    if (load_existing(existing, len, file, &doc, &root, err))
        return -1;
    const ynode *old = ynode_deref(ynode_path(root, "helm.parameters"));
    size_t n_old = old && old->kind == YNODE_SEQ ? old->n_children : 0;
    param_entry *all = xcalloc(n_old + n + 1, sizeof *all);
    size_t count = 0;
    for (size_t i = 0; i < n_old; i++) {
        const char *name = ynode_str(ynode_get(old->children[i], "name"));
        const char *value = ynode_str(ynode_get(old->children[i], "value"));
        const char *fs = ynode_str(ynode_get(old->children[i], "forcestring"));
        if (!name)
            continue;
        all[count++] = (param_entry){xstrdup(name), xstrdup(value ? value : ""),
                                     fs && (strcmp(fs, "true") == 0 || strcmp(fs, "yes") == 0)};
    }
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < count && strcmp(all[j].name, params[i].name) != 0)
            j++;
        if (j == count)
            all[count++].name = xstrdup(params[i].name);
        free(all[j].value);
        all[j].value = xstrdup(params[i].value);
        all[j].force_string = true;
    }
    qsort(all, count, sizeof *all, param_cmp);
    strbuf_free(out);
    strbuf_puts(out, "helm:\n  parameters:\n");
    int rc = 0;
    for (size_t i = 0; i < count; i++) {
        if (rc == 0) {
            strbuf_puts(out, "  - name: ");
            rc = put_scalar(out, all[i].name, file, "parameter name", err);
        }
        if (rc == 0) {
            strbuf_puts(out, "\n    value: ");
            rc = put_scalar(out, all[i].value, file, all[i].name, err);
        }
        if (rc == 0)
            strbuf_printf(out, "\n    forcestring: %s\n", all[i].force_string ? "true" : "false");
        free(all[i].name);
        free(all[i].value);
    }
    free(all);
    yamldoc_free(&doc);
    if (rc)
        strbuf_free(out);
    return rc;
}

/* The original name an entry overrides: "orig=new:tag" → orig, "name:tag" → name. */
static char *entry_key(const char *entry)
{
    const char *eq = strchr(entry, '=');
    if (eq)
        return xstrndup(entry, (size_t)(eq - entry));
    char *name;
    manifest_split_image(entry, &name, NULL, NULL);
    return name;
}

int argocd_source_kustomize(const char *existing, size_t len, const char *file,
                            const char *const *images, size_t n, strbuf *out, tp_err *err)
{
    ydoc doc;
    const ynode *root;
    if (load_existing(existing, len, file, &doc, &root, err))
        return -1;
    strvec all = {0};
    const ynode *old = ynode_deref(ynode_path(root, "kustomize.images"));
    for (size_t i = 0; old && old->kind == YNODE_SEQ && i < old->n_children; i++)
        if (ynode_str(old->children[i]))
            strvec_push(&all, ynode_str(old->children[i]));
    for (size_t i = 0; i < n; i++) {
        char *key = entry_key(images[i]);
        size_t j = 0;
        for (; j < all.count; j++) {
            char *other = entry_key(all.items[j]);
            bool same = strcmp(other, key) == 0;
            free(other);
            if (same)
                break;
        }
        free(key);
        if (j == all.count) {
            strvec_push(&all, images[i]);
        } else {
            free(all.items[j]);
            all.items[j] = xstrdup(images[i]);
        }
    }
    strbuf_free(out);
    strbuf_puts(out, "kustomize:\n  images:\n");
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < all.count; i++) {
        strbuf_puts(out, "  - ");
        rc = put_scalar(out, all.items[i], file, "kustomize.images", err);
        strbuf_putc(out, '\n');
    }
    strvec_free(&all);
    yamldoc_free(&doc);
    if (rc)
        strbuf_free(out);
    return rc;
}
