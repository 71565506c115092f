/* registry/conf: registries.conf as argocd-image-updater reads it (strict: unknown keys are
 * errors), plus ca_file. */
#include "registry/conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "yamldoc.h"

static const char *const conf_keys[] = {
    "name",     "api_url",   "prefix", "ping",    "credentials", "credsexpire", "tagsortmode",
    "insecure", "defaultns", "limit",  "default", "ca_file",     "connections", NULL,
};

#define CONF_MAX_CONNECTIONS 100 /* a registry is a neighbour, not a load test */

static int conf_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1", "y", NULL};
    static const char *const no[] = {"false", "no", "off", "0", "n", NULL};
    for (size_t i = 0; yes[i]; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

int registries_conf_parse_duration(const char *s, long *out_s)
{
    if (!s || !*s)
        return -1;
    double total_ms = 0;
    const char *p = s;
    if (strcmp(p, "0") == 0) {
        *out_s = 0;
        return 0;
    }
    while (*p) {
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno || v < 0)
            return -1;
        p = end;
        double unit_ms;
        if (strncmp(p, "ms", 2) == 0) {
            unit_ms = 1;
            p += 2;
        } else if (*p == 'h') {
            unit_ms = 3600e3;
            p++;
        } else if (*p == 'm') {
            unit_ms = 60e3;
            p++;
        } else if (*p == 's') {
            unit_ms = 1e3;
            p++;
        } else {
            return -1;
        }
        total_ms += v * unit_ms;
    }
    if (total_ms > 1e15)
        return -1;
    *out_s = (long)(total_ms / 1000);
    return 0;
}

static void entry_free(registry_conf_entry *e)
{
    free(e->name);
    free(e->api_url);
    free(e->prefix);
    free(e->credentials);
    free(e->tagsortmode);
    free(e->defaultns);
    free(e->ca_file);
}

void registries_conf_free(registries_conf *conf)
{
    if (!conf)
        return;
    for (size_t i = 0; i < conf->count; i++)
        entry_free(&conf->entries[i]);
    free(conf->entries);
    free(conf->path);
    memset(conf, 0, sizeof *conf);
}

/* Relative ca_file paths are resolved against the folder of the file that names them. */
static char *resolve_relative(const char *conf_name, const char *path)
{
    if (path[0] == '/' || !conf_name)
        return xstrdup(path);
    const char *slash = strrchr(conf_name, '/');
    if (!slash)
        return xstrdup(path);
    return xasprintf("%.*s/%s", (int)(slash - conf_name), conf_name, path);
}

static bool known_key(const char *k)
{
    for (size_t i = 0; conf_keys[i]; i++)
        if (strcmp(conf_keys[i], k) == 0)
            return true;
    return false;
}

static int parse_entry(const ynode *map, const char *name, registry_conf_entry *e, tp_err *err)
{
    e->line = map->line;
    e->ping = true;
    for (size_t i = 0; i + 1 < map->n_children; i += 2) {
        const ynode *k = ynode_deref(map->children[i]);
        const ynode *v = ynode_deref(map->children[i + 1]);
        const char *key = ynode_str(k);
        if (!key)
            return tp_err_set(err, "%s:%zu: registry keys must be plain words", name, k->line);
        if (!known_key(key))
            return tp_err_set(err,
                              "%s:%zu: unknown key '%s' (known: name, api_url, prefix, "
                              "ping, credentials, credsexpire, tagsortmode, insecure, "
                              "defaultns, limit, default, ca_file, connections)",
                              name, k->line, key);
        const char *val = ynode_str(v);
        if (!val || ynode_is_null(v)) {
            if (v->kind != YNODE_SCALAR)
                return tp_err_set(err, "%s:%zu: %s: expected a single value", name, v->line, key);
            continue;
        }
        if (strcmp(key, "name") == 0) {
            free(e->name);
            e->name = xstrdup(val);
        } else if (strcmp(key, "api_url") == 0) {
            if (!str_starts_with(val, "https://") && !str_starts_with(val, "http://"))
                return tp_err_set(err, "%s:%zu: api_url: must start with https:// or http://: '%s'",
                                  name, v->line, val);
            free(e->api_url);
            e->api_url = xstrdup(val);
            size_t n = strlen(e->api_url);
            while (n > 0 && e->api_url[n - 1] == '/')
                e->api_url[--n] = '\0';
        } else if (strcmp(key, "prefix") == 0) {
            free(e->prefix);
            e->prefix = xstrdup(val);
        } else if (strcmp(key, "credentials") == 0) {
            free(e->credentials);
            e->credentials = xstrdup(val);
        } else if (strcmp(key, "tagsortmode") == 0) {
            if (!str_eq(val, "none") && !str_eq(val, "latest-first") && !str_eq(val, "latest-last"))
                return tp_err_set(err,
                                  "%s:%zu: tagsortmode: '%s' is not none, latest-first or "
                                  "latest-last",
                                  name, v->line, val);
            free(e->tagsortmode);
            e->tagsortmode = xstrdup(val);
        } else if (strcmp(key, "defaultns") == 0) {
            free(e->defaultns);
            e->defaultns = xstrdup(val);
        } else if (strcmp(key, "ca_file") == 0) {
            free(e->ca_file);
            e->ca_file = resolve_relative(name, val);
        } else if (strcmp(key, "credsexpire") == 0) {
            if (registries_conf_parse_duration(val, &e->credsexpire_s) < 0)
                return tp_err_set(err, "%s:%zu: credsexpire: not a duration (like 5h, 30m): '%s'",
                                  name, v->line, val);
        } else if (strcmp(key, "limit") == 0) {
            char *end;
            errno = 0;
            double lim = strtod(val, &end);
            if (end == val || *end || errno || lim < 0)
                return tp_err_set(err, "%s:%zu: limit: not a number of requests per second: '%s'",
                                  name, v->line, val);
            e->limit = lim;
        } else if (strcmp(key, "connections") == 0) {
            char *end;
            errno = 0;
            long n = strtol(val, &end, 10);
            if (end == val || *end || errno || n < 1 || n > CONF_MAX_CONNECTIONS)
                return tp_err_set(err, "%s:%zu: connections: not a whole number from 1 to %d: '%s'",
                                  name, v->line, CONF_MAX_CONNECTIONS, val);
            e->connections = (int)n;
        } else {
            bool b;
            if (conf_parse_bool(val, &b) < 0)
                return tp_err_set(err, "%s:%zu: %s: not a boolean (true/false, yes/no): '%s'", name,
                                  v->line, key, val);
            if (strcmp(key, "ping") == 0)
                e->ping = b;
            else if (strcmp(key, "insecure") == 0)
                e->insecure = b;
            else
                e->is_default = b;
        }
    }
    if (!e->api_url)
        return tp_err_set(err, "%s:%zu: api_url: missing (every registry needs one)", name,
                          e->line);
    if (!e->name)
        e->name = xstrdup(e->prefix ? e->prefix : e->api_url);
    if (!e->tagsortmode)
        e->tagsortmode = xstrdup("none");
    return 0;
}

int registries_conf_parse(const char *buf, size_t len, const char *name, registries_conf *out,
                          tp_err *err)
{
    memset(out, 0, sizeof *out);
    if (!name)
        name = "registries.conf";
    ydoc doc;
    if (yamldoc_parse(buf, len, name, &doc, err) < 0)
        return -1;
    out->path = xstrdup(name);
    const ynode *root = doc.n_roots > 0 ? ynode_deref(doc.roots[0]) : NULL;
    int rc = 0;
    const ynode *list = root ? ynode_get(root, "registries") : NULL;
    if (!root || ynode_is_null(root)) {
        goto done; /* an empty file configures nothing */
    }
    if (root->kind != YNODE_MAP) {
        rc = tp_err_set(err, "%s:%zu: expected a map with the key 'registries'", name, root->line);
        goto done;
    }
    for (size_t i = 0; i < root->n_children; i += 2) {
        const char *k = ynode_str(ynode_deref(root->children[i]));
        if (!str_eq(k, "registries")) {
            rc = tp_err_set(err, "%s:%zu: unknown key '%s' (expected 'registries')", name,
                            root->children[i]->line, k ? k : "?");
            goto done;
        }
    }
    if (!list || ynode_is_null(list))
        goto done;
    list = ynode_deref(list);
    if (list->kind != YNODE_SEQ) {
        rc = tp_err_set(err, "%s:%zu: registries: expected a list", name, list->line);
        goto done;
    }
    out->entries = xcalloc(list->n_children ? list->n_children : 1, sizeof *out->entries);
    size_t n_default = 0, n_noprefix = 0;
    for (size_t i = 0; i < list->n_children; i++) {
        const ynode *item = ynode_deref(list->children[i]);
        if (item->kind != YNODE_MAP) {
            rc = tp_err_set(err, "%s:%zu: registries[%zu]: expected a map", name, item->line, i);
            goto done;
        }
        registry_conf_entry *e = &out->entries[out->count++];
        if (parse_entry(item, name, e, err) < 0) {
            rc = -1;
            goto done;
        }
        n_default += e->is_default;
        n_noprefix += e->prefix == NULL;
        if (n_default > 1) {
            rc = tp_err_set(err, "%s:%zu: default: only one registry may be the default", name,
                            e->line);
            goto done;
        }
        if (n_noprefix > 1) {
            rc = tp_err_set(err, "%s:%zu: prefix: only one registry may omit its prefix", name,
                            e->line);
            goto done;
        }
        for (size_t j = 0; e->prefix && j + 1 < out->count; j++)
            if (str_eq(out->entries[j].prefix, e->prefix)) {
                rc = tp_err_set(err, "%s:%zu: prefix: '%s' is already used on line %zu", name,
                                e->line, e->prefix, out->entries[j].line);
                goto done;
            }
    }
done:
    yamldoc_free(&doc);
    if (rc < 0)
        registries_conf_free(out);
    return rc;
}

int registries_conf_load(const char *path, registries_conf *out, tp_err *err)
{
    memset(out, 0, sizeof *out);
    strbuf sb = {0};
    int rc = file_read_all(path, NULL, &sb, err);
    if (rc == 0)
        rc = registries_conf_parse(sb.data, sb.len, path, out, err);
    strbuf_free(&sb);
    return rc;
}

static bool written_without_registry(const imageref *ref)
{
    return str_eq(ref->registry, "docker.io") && ref->short_name &&
           !str_starts_with(ref->short_name, "docker.io/");
}

const registry_conf_entry *registries_conf_find(const registries_conf *conf, const imageref *ref)
{
    if (!conf || !ref)
        return NULL;
    for (size_t i = 0; i < conf->count; i++)
        if (str_eq(conf->entries[i].prefix, ref->registry))
            return &conf->entries[i];
    if (!written_without_registry(ref))
        return NULL;
    for (size_t i = 0; i < conf->count; i++)
        if (!conf->entries[i].prefix)
            return &conf->entries[i];
    for (size_t i = 0; i < conf->count; i++)
        if (conf->entries[i].is_default)
            return &conf->entries[i];
    return NULL;
}
