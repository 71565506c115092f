#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_internal.h"
#include "giturl.h"
#include "yamldoc.h"

int cfg_fail(const cfg_ctx *c, const ynode *at, const char *key, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return tp_err_set(c->err, "%s:%zu: %s: %s", c->file, at ? at->line : 1, key, what);
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

void config_defaults(tp_config *cfg)
{
    *cfg = (tp_config){0};
    cfg->approval = APPROVAL_MANUAL;
    cfg->interval_s = 120;
    cfg->git_author_name = xstrdup("tagpilot");
    cfg->git_author_email = xstrdup("tagpilot@localhost");
    cfg->argocd_namespace = xstrdup("argocd");
    cfg->serve_listen = xstrdup("127.0.0.1:8081");
    /* Relative values are ignored, as the XDG spec says. With neither, there is no default:
     * a shared fallback such as /tmp would let another user prepare the dir (config_state_dir
     * asks for state-dir: instead). */
    const char *xdg = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    if (xdg && *xdg == '/')
        cfg->state_dir = xasprintf("%s/tagpilot", xdg);
    else if (home && *home == '/')
        cfg->state_dir = xasprintf("%s/.local/state/tagpilot", home);
}

const char *config_state_dir(const tp_config *cfg, tp_err *err)
{
    if (cfg->state_dir)
        return cfg->state_dir;
    tp_err_set(err,
               "no state dir: $XDG_STATE_HOME and $HOME are not set (or not absolute); set "
               "state-dir: in %s",
               cfg->file ? cfg->file : "tagpilot.yaml (or name one with --config)");
    return NULL;
}

char *config_serve_socket(const tp_config *cfg, tp_err *err)
{
    if (cfg->serve_socket)
        return xstrdup(cfg->serve_socket);
    const char *run = getenv("XDG_RUNTIME_DIR");
    if (run && *run == '/')
        return xasprintf("%s/tagpilot/engine.sock", run);
    const char *dir = config_state_dir(cfg, err);
    return dir ? xasprintf("%s/engine.sock", dir) : NULL;
}

void config_source_copy(config_source *dst, const config_source *src)
{
    *dst = *src;
    dst->url = xstrdup(src->url);
    dst->branch = xstrdup(src->branch);
    dst->path = xstrdup(src->path ? src->path : "");
    dst->kube.kubeconfig = xstrdup(src->kube.kubeconfig);
    dst->kube.context = xstrdup(src->kube.context);
    dst->kube.selector = xstrdup(src->kube.selector);
    dst->kube.namespaces = (strvec){0};
    for (size_t i = 0; i < src->kube.namespaces.count; i++)
        strvec_push(&dst->kube.namespaces, src->kube.namespaces.items[i]);
}

void config_source_clear(config_source *src)
{
    free(src->url);
    free(src->branch);
    free(src->path);
    free(src->kube.kubeconfig);
    free(src->kube.context);
    free(src->kube.selector);
    strvec_free(&src->kube.namespaces);
    *src = (config_source){0};
}

void config_free(tp_config *cfg)
{
    for (size_t i = 0; i < cfg->n_sources; i++)
        config_source_clear(&cfg->sources[i]);
    free(cfg->sources);
    free(cfg->file);
    free(cfg->registries_conf);
    free(cfg->state_dir);
    free(cfg->git_author_name);
    free(cfg->git_author_email);
    for (size_t i = 0; i < cfg->n_git_creds; i++) {
        free(cfg->git_creds[i].url);
        free(cfg->git_creds[i].spec);
    }
    free(cfg->git_creds);
    free(cfg->commit_message_template);
    free(cfg->argocd_namespace);
    free(cfg->theme);
    free(cfg->serve_socket);
    free(cfg->serve_listen);
    free(cfg->serve_group);
    free(cfg->lease_name);
    free(cfg->lease_namespace);
    strvec_free(&cfg->serve_viewers);
    strvec_free(&cfg->serve_operators);
    *cfg = (tp_config){0};
}

int config_parse_duration(const char *s, unsigned *seconds)
{
    if (!s || !*s)
        return -1;
    if (strcmp(s, "0") == 0) {
        *seconds = 0;
        return 0;
    }
    double total = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno || v < 0 || *p == '+' || *p == '-')
            return -1;
        p = end;
        double unit;
        if (strncmp(p, "ms", 2) == 0) {
            unit = 0.001;
            p += 2;
        } else if (*p == 'h') {
            unit = 3600;
            p++;
        } else if (*p == 'm') {
            unit = 60;
            p++;
        } else if (*p == 's') {
            unit = 1;
            p++;
        } else {
            return -1;
        }
        total += v * unit;
    }
    if (total > (double)UINT_MAX)
        return -1;
    *seconds = (unsigned)ceil(total);
    return 0;
}

char *config_resolve_path(const char *path, const char *base_dir)
{
    if (path[0] == '~' && (path[1] == '/' || path[1] == '\0')) {
        const char *home = getenv("HOME");
        return xasprintf("%s%s", home && *home ? home : "", path + 1);
    }
    if (path[0] == '/' || !base_dir)
        return xstrdup(path);
    if (strcmp(path, ".") == 0)
        return xstrdup(base_dir);
    if (str_starts_with(path, "./"))
        path += 2;
    return xasprintf("%s/%s", base_dir, path);
}

/* A git URL, or a local path to resolve like any other. */
bool cfg_looks_like_url(const char *s)
{
    if (strstr(s, "://"))
        return true;
    /* scp-like "user@host:path" */
    const char *colon = strchr(s, ':');
    const char *slash = strchr(s, '/');
    return colon && colon != s && (!slash || colon < slash) && s[0] != '/' && s[0] != '.' &&
           s[0] != '~';
}

int cfg_want_scalar(const cfg_ctx *c, const ynode *v, const char *key, const char **out)
{
    const ynode *d = ynode_deref(v);
    if (!d || d->kind != YNODE_SCALAR || ynode_is_null(d))
        return cfg_fail(c, v, key, "expected a text value");
    *out = d->value;
    return 0;
}

int cfg_set_string(const cfg_ctx *c, const ynode *v, const char *key, char **dst)
{
    const char *s;
    if (cfg_want_scalar(c, v, key, &s))
        return -1;
    free(*dst);
    *dst = xstrdup(s);
    return 0;
}

static int set_path(const cfg_ctx *c, const ynode *v, const char *key, char **dst)
{
    const char *s;
    if (cfg_want_scalar(c, v, key, &s))
        return -1;
    const char *home = getenv("HOME");
    if (s[0] == '~' && (s[1] == '/' || !s[1]) && (!home || *home != '/'))
        return cfg_fail(c, v, key, "'%s' needs $HOME, which is not set; write the path out", s);
    free(*dst);
    *dst = config_resolve_path(s, c->base_dir);
    return 0;
}

static int check_credentials(const cfg_ctx *c, const ynode *v, const char *key, char **spec)
{
    if (strcmp(*spec, "ssh-agent") == 0 || (str_starts_with(*spec, "env:") && (*spec)[4]))
        return 0;
    if (str_starts_with(*spec, "file:") && (*spec)[5]) {
        char *p = config_resolve_path(*spec + 5, c->base_dir);
        free(*spec);
        *spec = xasprintf("file:%s", p);
        free(p);
        return 0;
    }
    return cfg_fail(c, v, key, "unknown credentials '%s' (use env:VAR, file:PATH or ssh-agent)",
                    *spec);
}

static void add_git_cred(tp_config *cfg, char *url, char *spec)
{
    cfg->git_creds = xrealloc(cfg->git_creds, (cfg->n_git_creds + 1) * sizeof *cfg->git_creds);
    cfg->git_creds[cfg->n_git_creds++] = (config_git_cred){url, spec};
}

/* git.credentials: one spec, or a list of {url, credentials}. The single spec is kept aside
 * until the sources are known: it serves only their servers (config_parse). */
static int parse_git_credentials(cfg_ctx *c, const ynode *v, tp_config *cfg)
{
    const ynode *d = ynode_deref(v);
    cfg->git_creds_configured = true;
    if (d && d->kind == YNODE_SCALAR && str_eq(ynode_str(d), "argocd")) {
        /* Argo CD's own repository Secrets, read from the kubernetes source's cluster. */
        cfg->git_creds_argocd = true;
        return 0;
    }
    if (d && d->kind == YNODE_SCALAR) {
        free(c->single_credentials);
        c->single_credentials = NULL;
        if (cfg_set_string(c, v, "git.credentials", &c->single_credentials) ||
            check_credentials(c, v, "git.credentials", &c->single_credentials))
            return -1;
        c->single_at = v;
        return 0;
    }
    if (!d || d->kind != YNODE_SEQ)
        return cfg_fail(c, v, "git.credentials",
                        "expected a spec (env:VAR, file:PATH, ssh-agent), argocd (Argo CD's "
                        "repository Secrets) or a list of {url, credentials}");
    for (size_t i = 0; i < d->n_children; i++) {
        const ynode *item = ynode_deref(d->children[i]);
        const char *url = ynode_str(ynode_get(item, "url"));
        const ynode *spec_node = ynode_get(item, "credentials");
        if (!item || item->kind != YNODE_MAP || !url || !ynode_str(spec_node) ||
            item->n_children != 4)
            return cfg_fail(c, d->children[i], "git.credentials",
                            "each entry is {url: PREFIX, credentials: SPEC}");
        giturl parsed;
        if (giturl_parse(url, &parsed) < 0)
            return cfg_fail(c, d->children[i], "git.credentials.url",
                            "'%s' is not a git URL (https://host/path/, ssh://user@host/...)", url);
        giturl_free(&parsed);
        char *spec = xstrdup(ynode_str(spec_node));
        if (check_credentials(c, spec_node, "git.credentials.credentials", &spec)) {
            free(spec);
            return -1;
        }
        add_git_cred(cfg, xstrdup(url), spec);
    }
    return 0;
}

/* The single-spec form: the configured git sources' own servers, and nothing else. */
static void apply_single_credentials(cfg_ctx *c, tp_config *cfg)
{
    if (!c->single_credentials)
        return;
    for (size_t i = 0; i < cfg->n_sources; i++) {
        if (cfg->sources[i].kind != CONFIG_SOURCE_GIT)
            continue;
        char *server = giturl_server(cfg->sources[i].url);
        bool seen = !server;
        for (size_t k = 0; !seen && k < cfg->n_git_creds; k++)
            seen = str_eq(cfg->git_creds[k].url, server);
        if (!seen)
            add_git_cred(cfg, server, xstrdup(c->single_credentials));
        else
            free(server);
    }
}

static int parse_author(const cfg_ctx *c, const ynode *v, tp_config *cfg)
{
    const ynode *m = ynode_deref(v);
    if (!m || m->kind != YNODE_MAP)
        return cfg_fail(c, v, "git.author", "expected {name: ..., email: ...}");
    for (size_t i = 0; i + 1 < m->n_children; i += 2) {
        const char *key = ynode_str(m->children[i]);
        const ynode *val = m->children[i + 1];
        if (str_eq(key, "name")) {
            if (cfg_set_string(c, val, "git.author.name", &cfg->git_author_name))
                return -1;
        } else if (str_eq(key, "email")) {
            if (cfg_set_string(c, val, "git.author.email", &cfg->git_author_email))
                return -1;
        } else {
            char label[64];
            snprintf(label, sizeof label, "git.author.%s", key ? key : "?");
            return cfg_fail(c, m->children[i], label, "unknown key (use name, email)");
        }
    }
    return 0;
}

static int parse_git(cfg_ctx *c, const ynode *v, tp_config *cfg)
{
    const ynode *m = ynode_deref(v);
    if (!m || m->kind != YNODE_MAP)
        return cfg_fail(c, v, "git",
                        "expected a map (author, credentials, "
                        "commit-message-template)");
    for (size_t i = 0; i + 1 < m->n_children; i += 2) {
        const char *key = ynode_str(m->children[i]);
        const ynode *val = m->children[i + 1];
        if (str_eq(key, "author")) {
            if (parse_author(c, val, cfg))
                return -1;
        } else if (str_eq(key, "credentials")) {
            if (parse_git_credentials(c, val, cfg))
                return -1;
        } else if (str_eq(key, "commit-message-template")) {
            if (cfg_set_string(c, val, "git.commit-message-template",
                               &cfg->commit_message_template))
                return -1;
        } else if (str_eq(key, "timeout") || str_eq(key, "connect-timeout")) {
            char label[64];
            snprintf(label, sizeof label, "git.%s", key);
            const char *s;
            unsigned *dst =
                str_eq(key, "timeout") ? &cfg->git_timeout_s : &cfg->git_connect_timeout_s;
            if (cfg_want_scalar(c, val, label, &s))
                return -1;
            if (config_parse_duration(s, dst) || *dst == 0 || *dst > 3600)
                return cfg_fail(c, val, label, "bad duration '%s' (use e.g. 10s, 1m; at most 1h)",
                                s);
        } else {
            char label[64];
            snprintf(label, sizeof label, "git.%s", key ? key : "?");
            return cfg_fail(c, m->children[i], label,
                            "unknown key (use author, credentials, commit-message-template, "
                            "timeout, connect-timeout)");
        }
    }
    return 0;
}

/* A list of Unix user or group names (a single name is a list of one). */
static int parse_names(const cfg_ctx *c, const ynode *v, const char *key, strvec *out)
{
    const ynode *n = ynode_deref(v);
    if (n && n->kind == YNODE_SEQ) {
        for (size_t i = 0; i < n->n_children; i++) {
            const char *s;
            if (cfg_want_scalar(c, n->children[i], key, &s))
                return -1;
            if (!*s || strpbrk(s, " \t:/\n"))
                return cfg_fail(c, n->children[i], key, "'%s' is no user or group name", s);
            strvec_push(out, s);
        }
        return 0;
    }
    const char *s;
    if (cfg_want_scalar(c, v, key, &s))
        return -1;
    if (!*s || strpbrk(s, " \t:/\n"))
        return cfg_fail(c, v, key, "'%s' is no user or group name", s);
    strvec_push(out, s);
    return 0;
}

static int parse_lease(cfg_ctx *c, const ynode *v, tp_config *cfg)
{
    const ynode *m = ynode_deref(v);
    if (!m || m->kind != YNODE_MAP)
        return cfg_fail(c, v, "serve.lease", "expected a map (namespace, name, duration)");
    free(cfg->lease_name);
    cfg->lease_name = xstrdup("tagpilot");
    cfg->lease_duration_s = 15;
    for (size_t i = 0; i + 1 < m->n_children; i += 2) {
        const char *key = ynode_str(m->children[i]);
        const ynode *val = m->children[i + 1];
        const char *s;
        char label[64];
        snprintf(label, sizeof label, "serve.lease.%s", key ? key : "?");
        if (str_eq(key, "namespace") || str_eq(key, "name")) {
            char **dst = str_eq(key, "name") ? &cfg->lease_name : &cfg->lease_namespace;
            if (cfg_set_string(c, val, label, dst))
                return -1;
            if (!cfg_kube_name_ok(*dst, false))
                return cfg_fail(c, val, label,
                                "'%s' is not a Kubernetes name (lower-case letters, digits, "
                                "'-' and '.')",
                                *dst);
        } else if (str_eq(key, "duration")) {
            if (cfg_want_scalar(c, val, label, &s))
                return -1;
            if (config_parse_duration(s, &cfg->lease_duration_s) || cfg->lease_duration_s < 2 ||
                cfg->lease_duration_s > 3600)
                return cfg_fail(c, val, label, "bad duration '%s' (use e.g. 15s; 2s to 1h)", s);
        } else {
            return cfg_fail(c, m->children[i], label,
                            "unknown key (use namespace, name, duration)");
        }
    }
    return 0;
}

static int parse_serve(cfg_ctx *c, const ynode *v, tp_config *cfg)
{
    const ynode *m = ynode_deref(v);
    if (!m || m->kind != YNODE_MAP)
        return cfg_fail(c, v, "serve",
                        "expected a map (socket, listen, group, viewers, operators, lease)");
    for (size_t i = 0; i + 1 < m->n_children; i += 2) {
        const char *key = ynode_str(m->children[i]);
        const ynode *val = m->children[i + 1];
        int rc;
        if (str_eq(key, "socket")) {
            rc = set_path(c, val, "serve.socket", &cfg->serve_socket);
            if (rc == 0 && strlen(cfg->serve_socket) > 100)
                rc = cfg_fail(c, val, "serve.socket",
                              "path too long for a Unix socket (100 "
                              "bytes at most)");
        } else if (str_eq(key, "listen")) {
            rc = cfg_set_string(c, val, "serve.listen", &cfg->serve_listen);
        } else if (str_eq(key, "group")) {
            rc = cfg_set_string(c, val, "serve.group", &cfg->serve_group);
        } else if (str_eq(key, "viewers")) {
            rc = parse_names(c, val, "serve.viewers", &cfg->serve_viewers);
        } else if (str_eq(key, "operators")) {
            rc = parse_names(c, val, "serve.operators", &cfg->serve_operators);
        } else if (str_eq(key, "lease")) {
            rc = parse_lease(c, val, cfg);
        } else {
            char label[64];
            snprintf(label, sizeof label, "serve.%s", key ? key : "?");
            rc = cfg_fail(c, m->children[i], label,
                          "unknown key (use socket, listen, group, viewers, operators, lease)");
        }
        if (rc)
            return -1;
    }
    return 0;
}

static int parse_top_key(cfg_ctx *c, const ynode *k, const ynode *v, tp_config *cfg)
{
    const char *key = ynode_str(k);
    const char *s;
    if (str_eq(key, "sources"))
        return cfg_parse_sources(c, v, cfg);
    if (str_eq(key, "registries-conf"))
        return set_path(c, v, key, &cfg->registries_conf);
    if (str_eq(key, "state-dir"))
        return set_path(c, v, key, &cfg->state_dir);
    if (str_eq(key, "git"))
        return parse_git(c, v, cfg);
    if (str_eq(key, "serve"))
        return parse_serve(c, v, cfg);
    if (str_eq(key, "argocd-namespace"))
        return cfg_set_string(c, v, key, &cfg->argocd_namespace);
    if (str_eq(key, "approval")) {
        if (cfg_want_scalar(c, v, key, &s))
            return -1;
        if (strcmp(s, "manual") == 0)
            cfg->approval = APPROVAL_MANUAL;
        else if (strcmp(s, "auto") == 0)
            cfg->approval = APPROVAL_AUTO;
        else
            return cfg_fail(c, v, key, "bad value '%s' (use manual or auto)", s);
        return 0;
    }
    if (str_eq(key, "interval")) {
        if (cfg_want_scalar(c, v, key, &s))
            return -1;
        if (config_parse_duration(s, &cfg->interval_s) || cfg->interval_s == 0)
            return cfg_fail(c, v, key, "bad duration '%s' (use e.g. 30s, 2m, 1h)", s);
        return 0;
    }
    if (str_eq(key, "theme")) {
        if (cfg_want_scalar(c, v, key, &s))
            return -1;
        free(cfg->theme);
        cfg->theme = strchr(s, '/') ? config_resolve_path(s, c->base_dir) : xstrdup(s);
        return 0;
    }
    return cfg_fail(c, k, key ? key : "?",
                    "unknown key (known: sources, registries-conf, state-dir, approval, "
                    "interval, git, argocd-namespace, theme, serve)");
}

static char *dir_of(const char *path)
{
    char *abs = realpath(path, NULL);
    char *copy = abs ? abs : xstrdup(path);
    char *slash = strrchr(copy, '/');
    char *dir;
    if (slash == copy)
        dir = xstrdup("/");
    else if (slash)
        dir = xstrndup(copy, (size_t)(slash - copy));
    else {
        char cwd[PATH_MAX];
        dir = xstrdup(getcwd(cwd, sizeof cwd) ? cwd : ".");
    }
    free(copy);
    return dir;
}

int config_parse(const char *buf, size_t len, const char *path, tp_config *out, tp_err *err)
{
    config_defaults(out);
    out->file = xstrdup(path);
    ydoc doc;
    if (yamldoc_parse(buf, len, path, &doc, err)) {
        config_free(out);
        return -1;
    }
    cfg_ctx c = {.file = path, .base_dir = dir_of(path), .err = err};
    int rc = 0;
    const ynode *root = doc.n_roots ? ynode_deref(doc.roots[0]) : NULL;
    if (doc.n_roots > 1)
        rc = tp_err_set(err, "%s: expected one YAML document, found %zu", path, doc.n_roots);
    else if (root && !ynode_is_null(root) && root->kind != YNODE_MAP)
        rc = tp_err_set(err, "%s:%zu: expected a map of settings", path, root->line);
    else if (root && root->kind == YNODE_MAP)
        for (size_t i = 0; rc == 0 && i + 1 < root->n_children; i += 2)
            rc = parse_top_key(&c, root->children[i], root->children[i + 1], out);
    if (rc == 0)
        apply_single_credentials(&c, out);
    if (rc == 0 && out->git_creds_argocd) {
        bool cluster = false;
        for (size_t i = 0; i < out->n_sources; i++)
            cluster |= out->sources[i].kind == CONFIG_SOURCE_KUBERNETES;
        if (!cluster)
            rc = tp_err_set(err,
                            "%s: git.credentials: argocd reads Argo CD's repository Secrets "
                            "from the cluster: add a kubernetes source",
                            path);
    }
    free(c.single_credentials);
    free(c.base_dir);
    yamldoc_free(&doc);
    if (rc)
        config_free(out);
    return rc;
}

int config_load(const char *path, tp_config *out, tp_err *err)
{
    *out = (tp_config){0};
    strbuf sb = {0};
    char *name = xasprintf("config %s", path);
    int rc = file_read_all(path, name, &sb, err);
    free(name);
    if (rc == 0)
        rc = config_parse(sb.data, sb.len, path, out, err);
    strbuf_free(&sb);
    return rc;
}

int config_find(const char *cli_path, char **out, tp_err *err)
{
    *out = NULL;
    const char *env = getenv("TAGPILOT_CONFIG");
    const char *named = cli_path && *cli_path ? cli_path : (env && *env ? env : NULL);
    if (named) {
        if (!file_exists(named))
            return tp_err_set(err, "config %s: %s (named by %s)", named, strerror(ENOENT),
                              cli_path && *cli_path ? "--config" : "$TAGPILOT_CONFIG");
        *out = xstrdup(named);
        return 0;
    }
    if (file_exists("tagpilot.yaml")) {
        *out = xstrdup("tagpilot.yaml");
        return 0;
    }
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    char *candidate = NULL;
    if (xdg && *xdg)
        candidate = xasprintf("%s/tagpilot/config.yaml", xdg);
    else if (home && *home)
        candidate = xasprintf("%s/.config/tagpilot/config.yaml", home);
    if (candidate && file_exists(candidate))
        *out = candidate;
    else
        free(candidate);
    return 0;
}

int config_resolve(const char *cli_path, tp_config *out, tp_err *err)
{
    char *path;
    if (config_find(cli_path, &path, err)) {
        *out = (tp_config){0};
        return -1;
    }
    if (!path) {
        config_defaults(out);
        return 0;
    }
    int rc = config_load(path, out, err);
    free(path);
    return rc;
}
