/* config_sources: the `sources:` list of tagpilot.yaml — git, dir and kubernetes entries —
 * checked and resolved (config.c reads the rest of the file). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "yamldoc.h"

bool cfg_kube_name_ok(const char *s, bool label)
{
    size_t n = strlen(s);
    if (n == 0 || n > (label ? 63 : 253) || !isalnum((unsigned char)s[0]) ||
        !isalnum((unsigned char)s[n - 1]))
        return false;
    for (const char *p = s; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-' ||
              (*p == '.' && !label)))
            return false;
    return true;
}

/* "kubeconfig: ~/.kube/config" may be a ':' list, as $KUBECONFIG is: each part resolved. */
static char *resolve_path_list(const char *list, const char *base_dir)
{
    strbuf sb = {0};
    const char *p = list;
    for (;;) {
        const char *colon = strchr(p, ':');
        size_t n = colon ? (size_t)(colon - p) : strlen(p);
        if (n) {
            char *part = xstrndup(p, n);
            char *abs = config_resolve_path(part, base_dir);
            if (sb.len)
                strbuf_append(&sb, ":", 1);
            strbuf_append(&sb, abs, strlen(abs));
            free(abs);
            free(part);
        }
        if (!colon)
            break;
        p = colon + 1;
    }
    return strbuf_take(&sb);
}

/* The map under `kubernetes:` (empty or null: every default). */
static int parse_kube(const cfg_ctx *c, const ynode *v, config_kube *k)
{
    const ynode *m = ynode_deref(v);
    if (!m || (m->kind == YNODE_SCALAR && ynode_is_null(m)))
        return 0;
    if (m->kind != YNODE_MAP)
        return cfg_fail(c, v, "sources.kubernetes",
                        "expected a map (kubeconfig, context, namespaces, selector) or nothing");
    for (size_t i = 0; i + 1 < m->n_children; i += 2) {
        const ynode *kn = m->children[i], *val = m->children[i + 1];
        const char *key = ynode_str(kn);
        char label[96];
        snprintf(label, sizeof label, "sources.kubernetes.%s", key ? key : "?");
        if (str_eq(key, "kubeconfig")) {
            const char *s;
            if (cfg_want_scalar(c, val, label, &s))
                return -1;
            free(k->kubeconfig);
            k->kubeconfig = resolve_path_list(s, c->base_dir);
        } else if (str_eq(key, "context")) {
            if (cfg_set_string(c, val, label, &k->context))
                return -1;
        } else if (str_eq(key, "selector")) {
            if (cfg_set_string(c, val, label, &k->selector))
                return -1;
        } else if (str_eq(key, "namespaces")) {
            const ynode *seq = ynode_deref(val);
            if (!seq || seq->kind != YNODE_SEQ || !seq->n_children)
                return cfg_fail(c, val, label, "expected a list of namespaces, or [\"*\"]");
            strvec_free(&k->namespaces);
            for (size_t j = 0; j < seq->n_children; j++) {
                const char *ns;
                if (cfg_want_scalar(c, seq->children[j], label, &ns))
                    return -1;
                if (!str_eq(ns, "*") && !cfg_kube_name_ok(ns, true))
                    return cfg_fail(c, seq->children[j], label, "'%s' is not a namespace name", ns);
                strvec_push(&k->namespaces, ns);
            }
            for (size_t j = 0; j < k->namespaces.count; j++)
                if (str_eq(k->namespaces.items[j], "*") && k->namespaces.count > 1)
                    return cfg_fail(c, val, label, "\"*\" means every namespace: write it alone");
        } else {
            return cfg_fail(c, kn, label,
                            "unknown key (use kubeconfig, context, namespaces, selector)");
        }
    }
    return 0;
}

static int parse_source(const cfg_ctx *c, const ynode *item, config_source *src)
{
    const ynode *m = ynode_deref(item);
    if (!m || m->kind != YNODE_MAP)
        return cfg_fail(c, item, "sources",
                        "each source is a map with 'git:', 'dir:' or 'kubernetes:'");
    src->line = item->line;
    bool have_kind = false;
    for (size_t i = 0; i + 1 < m->n_children; i += 2) {
        const ynode *k = m->children[i], *v = m->children[i + 1];
        const char *key = ynode_str(k);
        char label[64];
        snprintf(label, sizeof label, "sources.%s", key ? key : "?");
        if (str_eq(key, "kubernetes")) {
            if (have_kind)
                return cfg_fail(c, k, label, "a source is one of 'git:', 'dir:', 'kubernetes:'");
            have_kind = true;
            src->kind = CONFIG_SOURCE_KUBERNETES;
            if (parse_kube(c, v, &src->kube))
                return -1;
        } else if (str_eq(key, "git") || str_eq(key, "dir")) {
            if (have_kind)
                return cfg_fail(c, k, label, "a source is one of 'git:', 'dir:', 'kubernetes:'");
            have_kind = true;
            const char *s;
            if (cfg_want_scalar(c, v, label, &s))
                return -1;
            if (str_eq(key, "git")) {
                src->kind = CONFIG_SOURCE_GIT;
                src->url = cfg_looks_like_url(s) ? xstrdup(s) : config_resolve_path(s, c->base_dir);
            } else {
                src->kind = CONFIG_SOURCE_DIR;
                src->url = config_resolve_path(s, c->base_dir);
            }
        } else if (str_eq(key, "branch")) {
            if (cfg_set_string(c, v, label, &src->branch))
                return -1;
        } else if (str_eq(key, "path")) {
            if (cfg_set_string(c, v, label, &src->path))
                return -1;
            if (src->path[0] == '/' || strstr(src->path, ".."))
                return cfg_fail(c, v, label, "'%s' must be a folder inside the source", src->path);
        } else {
            return cfg_fail(c, k, label, "unknown key (use git, dir, branch, path)");
        }
    }
    if (!have_kind)
        return cfg_fail(c, item, "sources",
                        "a source needs 'git: URL', 'dir: FOLDER' or 'kubernetes:'");
    if (src->kind != CONFIG_SOURCE_GIT && src->branch)
        return cfg_fail(c, item, "sources.branch", "only a git source has a branch");
    if (src->kind == CONFIG_SOURCE_KUBERNETES && src->path)
        return cfg_fail(c, item, "sources.path",
                        "a kubernetes source has no path (use namespaces and selector)");
    if (!src->path)
        src->path = xstrdup("");
    /* "apps/" and "apps" mean the same folder. */
    size_t n = strlen(src->path);
    while (n && src->path[n - 1] == '/')
        src->path[--n] = '\0';
    return 0;
}

int cfg_parse_sources(const cfg_ctx *c, const ynode *v, tp_config *cfg)
{
    const ynode *seq = ynode_deref(v);
    if (ynode_is_null(seq))
        return 0;
    if (!seq || seq->kind != YNODE_SEQ)
        return cfg_fail(c, v, "sources", "expected a list of sources");
    if (cfg->sources) /* a second `sources:` key: one list, or the first would silently go */
        return cfg_fail(c, v, "sources", "given twice (write one list)");
    cfg->sources = xcalloc(seq->n_children, sizeof *cfg->sources);
    for (size_t i = 0; i < seq->n_children; i++) {
        cfg->n_sources++;
        if (parse_source(c, seq->children[i], &cfg->sources[i]))
            return -1;
    }
    return 0;
}
