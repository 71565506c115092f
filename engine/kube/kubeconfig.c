/* kube/kubeconfig: kubeconfig files read and merged as kubectl reads them, down to the one
 * context a client uses; and a pod's service account. */
#include "kube/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "yamldoc.h"

/* One file of the merge, in precedence order. */
typedef struct kc_file {
    char *path; /* expanded */
    char *dir;  /* its folder, for relative names inside it */
    ydoc doc;
    const ynode *root;
} kc_file;

typedef struct kc_set {
    kc_file *files;
    size_t n;
    const char *label; /* the paths as given, for messages */
} kc_set;

void kube_wipe_free(char *s)
{
    if (!s)
        return;
    volatile char *p = s;
    while (*p)
        *p++ = '\0';
    free(s);
}

static void wipe_free_len(char *s, size_t len)
{
    if (!s)
        return;
    volatile char *p = s;
    for (size_t i = 0; i < len; i++)
        p[i] = '\0';
    free(s);
}

void kube_exec_config_free(kube_exec_config *e)
{
    if (!e)
        return;
    free(e->api_version);
    free(e->command);
    strvec_free(&e->args);
    strvec_free(&e->env_names);
    strvec_free(&e->env_values);
    free(e->install_hint);
    free(e);
}

void kube_config_free(kube_config *c)
{
    if (!c)
        return;
    free(c->source);
    free(c->context);
    free(c->user);
    free(c->namespace_);
    free(c->server);
    free(c->ca_pem);
    kube_wipe_free(c->token);
    free(c->token_file);
    free(c->cert_pem);
    wipe_free_len(c->key_pem, c->key_pem_len);
    kube_exec_config_free(c->exec);
    memset(c, 0, sizeof *c);
}

/* "~/x" -> "$HOME/x"; anything else copied. */
static char *expand_home(const char *path)
{
    const char *home = getenv("HOME");
    if (path[0] == '~' && (path[1] == '/' || path[1] == '\0') && home && *home)
        return xasprintf("%s%s", home, path + 1);
    return xstrdup(path);
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return xstrdup(".");
    if (slash == path)
        return xstrdup("/");
    return xstrndup(path, (size_t)(slash - path));
}

/* A file name as a kubeconfig writes it: relative to the file that holds it. */
static char *resolve(const kc_file *f, const char *name)
{
    if (name[0] == '/')
        return xstrdup(name);
    if (name[0] == '~')
        return expand_home(name);
    return xasprintf("%s/%s", f->dir, name);
}

static void set_free(kc_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->files[i].path);
        free(s->files[i].dir);
        yamldoc_free(&s->files[i].doc);
    }
    free(s->files);
    s->files = NULL;
    s->n = 0;
}

/* Read every file of the ':' list. Returns 0, 1 when !required and no file exists, or -1. */
static int set_load(kc_set *s, const char *paths, bool required, tp_err *err)
{
    char *list = xstrdup(paths);
    int rc = 0;
    for (char *save = NULL, *p = strtok_r(list, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
        if (!*p)
            continue;
        char *path = expand_home(p);
        bool seen = false;
        for (size_t i = 0; i < s->n; i++)
            seen = seen || str_eq(s->files[i].path, path);
        struct stat st;
        if (seen || (!required && stat(path, &st) != 0 && errno == ENOENT)) {
            free(path); /* kubectl skips a repeated or missing file of $KUBECONFIG */
            continue;
        }
        s->files = xrealloc(s->files, (s->n + 1) * sizeof *s->files);
        kc_file *f = &s->files[s->n];
        memset(f, 0, sizeof *f);
        f->path = path;
        f->dir = dir_of(path);
        s->n++;
        if (yamldoc_load(path, &f->doc, err) < 0) {
            rc = -1;
            break;
        }
        f->root = f->doc.n_roots ? ynode_deref(f->doc.roots[0]) : NULL;
        if (f->root && f->root->kind != YNODE_MAP) {
            rc = tp_err_set(err, "%s: not a kubeconfig (the document is not a map)", p);
            break;
        }
    }
    free(list);
    if (rc == 0 && s->n == 0)
        rc = required ? tp_err_set(err, "kubeconfig: no file named") : 1;
    return rc;
}

static const char *str_at(const ynode *map, const char *key)
{
    const ynode *v = map ? ynode_get(map, key) : NULL;
    if (!v || ynode_is_null(v))
        return NULL;
    return ynode_str(v);
}

/* The first entry named `name` in a list (clusters, users, contexts) over the files in order:
 * the first file to define a name wins the whole entry, as kubectl merges. */
static const ynode *find_entry(const kc_set *s, const char *list, const char *field,
                               const char *name, const kc_file **owner)
{
    for (size_t i = 0; i < s->n; i++) {
        const ynode *seq = s->files[i].root ? ynode_get(s->files[i].root, list) : NULL;
        seq = seq ? ynode_deref(seq) : NULL;
        if (!seq || seq->kind != YNODE_SEQ)
            continue;
        for (size_t j = 0; j < seq->n_children; j++) {
            const ynode *e = ynode_deref(seq->children[j]);
            if (e->kind != YNODE_MAP || !str_eq(str_at(e, "name"), name))
                continue;
            const ynode *body = ynode_get(e, field);
            body = body ? ynode_deref(body) : NULL;
            *owner = &s->files[i];
            return body && body->kind == YNODE_MAP ? body : e; /* e: an empty entry */
        }
    }
    return NULL;
}

static int yaml_bool(const kc_set *s, const ynode *map, const char *key, bool *out, tp_err *err)
{
    const char *v = str_at(map, key);
    if (!v)
        return 0;
    if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on"))
        *out = true;
    else if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off"))
        *out = false;
    else
        return tp_err_set(err, "%s: %s is not true or false", s->label, key);
    return 0;
}

/* A -data field (base64) or a file field into memory. */
static int read_pem(const kc_set *s, const kc_file *f, const ynode *map, const char *data_key,
                    const char *file_key, char **out, size_t *out_len, tp_err *err)
{
    const char *data = str_at(map, data_key);
    const char *file = str_at(map, file_key);
    if (data && *data) {
        unsigned char *bytes = base64_decode(data, out_len);
        if (!bytes)
            return tp_err_set(err, "%s: %s is not base64", s->label, data_key);
        *out = (char *)bytes;
        return 0;
    }
    if (file && *file) {
        char *path = resolve(f, file);
        strbuf sb = {0};
        int rc = file_read_all(path, NULL, &sb, err);
        free(path);
        if (rc < 0) {
            tp_err_prefix(err, "%s: %s", s->label, file_key);
            wipe_free_len(sb.data, sb.len);
            return -1;
        }
        *out_len = sb.len;
        *out = strbuf_take(&sb);
    }
    return 0;
}

static int read_exec(const kc_set *s, const kc_file *f, const char *user, const ynode *ex,
                     kube_config *out, tp_err *err)
{
    kube_exec_config *e = out->exec = xcalloc(1, sizeof *e);
    const char *api = str_at(ex, "apiVersion");
    const char *cmd = str_at(ex, "command");
    if (!api || (!str_eq(api, "client.authentication.k8s.io/v1") &&
                 !str_eq(api, "client.authentication.k8s.io/v1beta1")))
        return tp_err_set(err,
                          "%s: user \"%s\": exec apiVersion must be "
                          "client.authentication.k8s.io/v1 or v1beta1",
                          s->label, user);
    if (!cmd || !*cmd)
        return tp_err_set(err, "%s: user \"%s\": exec has no command", s->label, user);
    e->api_version = xstrdup(api);
    /* kubectl resolves a command with a '/' against the kubeconfig's folder; a bare name is
     * looked up in PATH. */
    e->command = strchr(cmd, '/') ? resolve(f, cmd) : xstrdup(cmd);
    e->install_hint = xstrdup(str_at(ex, "installHint"));
    if (yaml_bool(s, ex, "provideClusterInfo", &e->provide_cluster_info, err) < 0)
        return -1;
    if (str_eq(str_at(ex, "interactiveMode"), "Always"))
        return tp_err_set(err,
                          "%s: user \"%s\": the exec plugin needs a terminal "
                          "(interactiveMode: Always); tagpilot runs it without one",
                          s->label, user);
    const ynode *args = ynode_get(ex, "args");
    args = args ? ynode_deref(args) : NULL;
    for (size_t i = 0; args && args->kind == YNODE_SEQ && i < args->n_children; i++) {
        const char *a = ynode_str(ynode_deref(args->children[i]));
        if (!a)
            return tp_err_set(err, "%s: user \"%s\": exec args must be strings", s->label, user);
        strvec_push(&e->args, a);
    }
    const ynode *env = ynode_get(ex, "env");
    env = env ? ynode_deref(env) : NULL;
    for (size_t i = 0; env && env->kind == YNODE_SEQ && i < env->n_children; i++) {
        const ynode *kv = ynode_deref(env->children[i]);
        const char *name = kv->kind == YNODE_MAP ? str_at(kv, "name") : NULL;
        const char *value = kv->kind == YNODE_MAP ? str_at(kv, "value") : NULL;
        if (!name || !*name || strchr(name, '='))
            return tp_err_set(err, "%s: user \"%s\": exec env entry %zu needs a name", s->label,
                              user, i + 1);
        strvec_push(&e->env_names, name);
        strvec_push(&e->env_values, value ? value : "");
    }
    return 0;
}

static int read_user(const kc_set *s, const char *user, kube_config *out, tp_err *err)
{
    const kc_file *f = NULL;
    const ynode *u = find_entry(s, "users", "user", user, &f);
    if (!u)
        return tp_err_set(err, "%s: user \"%s\" not found", s->label, user);
    if (str_at(u, "username") || str_at(u, "password"))
        return tp_err_set(err,
                          "%s: user \"%s\": basic authentication (username/password) is not "
                          "supported; use a token, a client certificate or an exec plugin",
                          s->label, user);
    const ynode *ap = ynode_get(u, "auth-provider");
    if (ap && !ynode_is_null(ap))
        return tp_err_set(err,
                          "%s: user \"%s\": auth-provider is not supported (kubectl removed it); "
                          "use the provider's exec plugin",
                          s->label, user);
    if (str_at(u, "as") || ynode_get(u, "as-groups"))
        return tp_err_set(err, "%s: user \"%s\": impersonation (as) is not supported", s->label,
                          user);
    const char *token = str_at(u, "token");
    const char *token_file = str_at(u, "tokenFile");
    if (token && *token)
        out->token = xstrdup(token);
    if (token_file && *token_file)
        out->token_file = resolve(f, token_file);
    if (read_pem(s, f, u, "client-certificate-data", "client-certificate", &out->cert_pem,
                 &out->cert_pem_len, err) < 0 ||
        read_pem(s, f, u, "client-key-data", "client-key", &out->key_pem, &out->key_pem_len, err) <
            0)
        return -1;
    if (!out->cert_pem != !out->key_pem)
        return tp_err_set(err,
                          "%s: user \"%s\": a client certificate needs its key (and a key "
                          "its certificate)",
                          s->label, user);
    const ynode *ex = ynode_get(u, "exec");
    ex = ex ? ynode_deref(ex) : NULL;
    if (ex && ex->kind == YNODE_MAP)
        return read_exec(s, f, user, ex, out, err);
    return 0;
}

static int read_cluster(const kc_set *s, const char *cluster, kube_config *out, tp_err *err)
{
    const kc_file *f = NULL;
    const ynode *cl = find_entry(s, "clusters", "cluster", cluster, &f);
    if (!cl)
        return tp_err_set(err, "%s: cluster \"%s\" not found", s->label, cluster);
    const char *server = str_at(cl, "server");
    if (!server || !*server)
        return tp_err_set(err, "%s: cluster \"%s\" has no server", s->label, cluster);
    if (!str_starts_with(server, "https://") && !str_starts_with(server, "http://"))
        return tp_err_set(err, "%s: cluster \"%s\": server must be an https:// URL", s->label,
                          cluster);
    out->server = xstrdup(server);
    size_t n = strlen(out->server);
    while (n > 0 && out->server[n - 1] == '/')
        out->server[--n] = '\0';
    if (yaml_bool(s, cl, "insecure-skip-tls-verify", &out->insecure, err) < 0 ||
        read_pem(s, f, cl, "certificate-authority-data", "certificate-authority", &out->ca_pem,
                 &out->ca_pem_len, err) < 0)
        return -1;
    if (out->insecure && out->ca_pem)
        return tp_err_set(err,
                          "%s: cluster \"%s\": certificate-authority and "
                          "insecure-skip-tls-verify together (kubectl refuses this too)",
                          s->label, cluster);
    return 0;
}

int kubeconfig_load(const char *paths, bool required, const char *context, kube_config *out,
                    tp_err *err)
{
    memset(out, 0, sizeof *out);
    kc_set s = {.label = paths};
    int rc = set_load(&s, paths, required, err);
    if (rc != 0) {
        set_free(&s);
        return rc;
    }
    if (!context || !*context) {
        for (size_t i = 0; i < s.n && !context; i++) {
            const char *cc = s.files[i].root ? str_at(s.files[i].root, "current-context") : NULL;
            if (cc && *cc)
                context = cc; /* the first file to set it wins */
        }
        if (!context) {
            set_free(&s);
            return tp_err_set(err, "%s: no current-context; set one or name a context", paths);
        }
    }
    const kc_file *f = NULL;
    const ynode *ctx = find_entry(&s, "contexts", "context", context, &f);
    if (!ctx) {
        rc = tp_err_set(err, "%s: context \"%s\" not found", paths, context);
    } else {
        const char *cluster = str_at(ctx, "cluster");
        const char *user = str_at(ctx, "user");
        const char *ns = str_at(ctx, "namespace");
        out->source = xstrdup(paths);
        out->context = xstrdup(context);
        out->user = xstrdup(user ? user : "");
        out->namespace_ = xstrdup(ns && *ns ? ns : "default");
        if (!cluster || !*cluster)
            rc = tp_err_set(err, "%s: context \"%s\" names no cluster", paths, context);
        else if (read_cluster(&s, cluster, out, err) < 0 ||
                 (user && *user && read_user(&s, user, out, err) < 0))
            rc = -1;
    }
    set_free(&s);
    if (rc < 0)
        kube_config_free(out);
    return rc;
}

int kubeconfig_in_cluster(const char *sa_dir, const char *host, const char *port, kube_config *out,
                          tp_err *err)
{
    memset(out, 0, sizeof *out);
    if (!host || !*host || !port || !*port)
        return tp_err_set(err, "in-cluster: KUBERNETES_SERVICE_HOST and _PORT are not set");
    out->source = xstrdup("in-cluster");
    out->context = xstrdup("in-cluster");
    out->user = xstrdup("serviceaccount");
    /* An IPv6 address is written in brackets in a URL. */
    out->server = strchr(host, ':') ? xasprintf("https://[%s]:%s", host, port)
                                    : xasprintf("https://%s:%s", host, port);
    out->token_file = xasprintf("%s/token", sa_dir);
    char *ca = xasprintf("%s/ca.crt", sa_dir);
    strbuf sb = {0};
    int rc = file_read_all(ca, NULL, &sb, err);
    free(ca);
    out->ca_pem_len = sb.len;
    out->ca_pem = strbuf_take(&sb);
    if (rc == 0 && access(out->token_file, R_OK) != 0)
        rc = tp_err_set(err, "%s: cannot read: %s", out->token_file, strerror(errno));
    char *nsfile = xasprintf("%s/namespace", sa_dir);
    strbuf ns = {0};
    tp_err ignored;
    if (file_read_all(nsfile, NULL, &ns, &ignored) == 0 && *str_trim(ns.data))
        out->namespace_ = xstrdup(str_trim(ns.data));
    else
        out->namespace_ = xstrdup("default");
    strbuf_free(&ns);
    free(nsfile);
    if (rc < 0)
        kube_config_free(out);
    return rc;
}
