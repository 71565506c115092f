/* source/kube: Applications read from a cluster (`sources: - kubernetes:`). The first read is a
 * paginated list in each namespace; then one watcher thread per namespace (one for "*") keeps
 * the objects current from the list's resourceVersion, with bookmarks, listing again on 410 Gone
 * and after an error (with a backoff), and tells the engine through a pipe the moment anything
 * changed. list_apps reads the objects the watchers keep: an API server that cannot be reached
 * leaves the last good read in place, and the source says since when. The engine thread has its
 * own client (kube clients are one per thread) for writes and Secrets: argo_app.cluster. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "kube/kube.h"
#include "source/gitcred.h"
#include "source/imageupdater.h"
#include "source/source.h"
#include "timefmt.h"
#include "yamldoc.h"

typedef struct kube_src kube_src;

/* What a watcher keeps current: Applications, or argocd-image-updater's ImageUpdaters. */
typedef enum watched_kind { WATCH_APPS, WATCH_UPDATERS } watched_kind;

typedef struct kube_watcher {
    kube_src *ks;
    watched_kind kind;
    const char *ns; /* in ks->namespaces; NULL: every namespace */
    pthread_t thread;
    bool started;
} kube_watcher;

struct kube_src {
    kube_client *client; /* the engine thread's */
    kube_options kopts;
    const char *selector;
    strvec namespaces; /* what to read; "*" alone: every namespace */
    kube_watcher *watchers;
    size_t n_watchers;
    atomic_bool stop;
    int wake[2]; /* watchers -> engine: the objects changed */
    pthread_mutex_t lock;
    /* Under lock. */
    cJSON *objects;      /* "ns/name" -> the Application object */
    cJSON *updaters;     /* "ns/name" -> the ImageUpdater object */
    char *error;         /* the watchers' last failure, NULL when they are current */
    int64_t error_since; /* wall-clock ns of the first failure in a row */
};

static const kube_resource APPS = {"argoproj.io", "v1alpha1", "applications", NULL};
static const kube_resource UPDATERS = {"argocd-image-updater.argoproj.io", "v1alpha1",
                                       "imageupdaters", NULL};

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static char *object_key(const cJSON *obj)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const cJSON *ns = cJSON_GetObjectItemCaseSensitive(meta, "namespace");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(meta, "name");
    if (!cJSON_IsString(name))
        return NULL;
    return xasprintf("%s/%s", cJSON_IsString(ns) ? ns->valuestring : "", name->valuestring);
}

static void wake_engine(kube_src *ks)
{
    char b = 1;
    ssize_t n = write(ks->wake[1], &b, 1); /* nonblocking: a full pipe already says it */
    (void)n;
}

/* Replace every object of namespace ns (NULL: all) with items. Under the lock. */
static void replace_namespace(cJSON **store, const char *ns, const cJSON *items)
{
    cJSON *keep = cJSON_CreateObject();
    const cJSON *o;
    if (ns) {
        size_t n = strlen(ns);
        cJSON_ArrayForEach(o, *store)
        {
            if (!(strncmp(o->string, ns, n) == 0 && o->string[n] == '/'))
                cJSON_AddItemToObject(keep, o->string, cJSON_Duplicate(o, 1));
        }
    }
    cJSON_ArrayForEach(o, items)
    {
        char *key = object_key(o);
        if (key) {
            cJSON_DeleteItemFromObjectCaseSensitive(keep, key);
            cJSON_AddItemToObject(keep, key, cJSON_Duplicate(o, 1));
        }
        free(key);
    }
    cJSON_Delete(*store);
    *store = keep;
}

static void set_error(kube_src *ks, const char *msg)
{
    pthread_mutex_lock(&ks->lock);
    if (!ks->error)
        ks->error_since = wall_ns();
    free(ks->error);
    ks->error = msg ? xstrdup(msg) : NULL;
    if (!msg)
        ks->error_since = 0;
    pthread_mutex_unlock(&ks->lock);
}

static cJSON **store_of(kube_src *ks, watched_kind kind)
{
    return kind == WATCH_APPS ? &ks->objects : &ks->updaters;
}

static kube_resource resource_in(watched_kind kind, const char *ns)
{
    kube_resource r = kind == WATCH_APPS ? APPS : UPDATERS;
    r.namespace_ = ns;
    return r;
}

/* List ns (NULL: all) with client c into the objects. */
static kube_status list_into(kube_src *ks, kube_client *c, watched_kind kind, const char *ns,
                             char **rv, tp_err *err)
{
    kube_resource r = resource_in(kind, ns);
    cJSON *items = NULL;
    free(*rv);
    *rv = NULL;
    /* the selector picks Applications; every ImageUpdater is read */
    kube_status st = kube_list(c, &r, kind == WATCH_APPS ? ks->selector : NULL, &items, rv, err);
    if (st != KUBE_OK)
        return st;
    pthread_mutex_lock(&ks->lock);
    replace_namespace(store_of(ks, kind), ns, items);
    pthread_mutex_unlock(&ks->lock);
    cJSON_Delete(items);
    return KUBE_OK;
}

static int on_event(void *ud, const char *type, const cJSON *object)
{
    kube_watcher *w = ud;
    kube_src *ks = w->ks;
    cJSON *store = *store_of(ks, w->kind);
    if (str_eq(type, "BOOKMARK"))
        return 0;
    char *key = object_key(object);
    if (!key)
        return 0;
    pthread_mutex_lock(&ks->lock);
    cJSON_DeleteItemFromObjectCaseSensitive(store, key);
    if (!str_eq(type, "DELETED"))
        cJSON_AddItemToObject(store, key, cJSON_Duplicate(object, 1));
    free(ks->error);
    ks->error = NULL;
    ks->error_since = 0;
    pthread_mutex_unlock(&ks->lock);
    free(key);
    wake_engine(ks);
    return 0;
}

/* Sleep ms, waking early on a stop. */
static void nap(kube_src *ks, int ms)
{
    for (int slept = 0; slept < ms && !atomic_load(&ks->stop); slept += 100)
        usleep(100 * 1000);
}

static void *watch_main(void *arg)
{
    kube_watcher *w = arg;
    kube_src *ks = w->ks;
    tp_err err = {{0}};
    kube_client *c = kube_client_new(&ks->kopts, &err);
    char *rv = NULL;
    bool need_list = true;
    int backoff_ms = 1000;
    while (c && !atomic_load(&ks->stop)) {
        kube_status st = KUBE_OK;
        if (need_list) {
            st = list_into(ks, c, w->kind, w->ns, &rv, &err);
            if (st == KUBE_OK) {
                need_list = false;
                set_error(ks, NULL);
                wake_engine(ks);
            }
        }
        if (st == KUBE_OK) {
            kube_resource r = resource_in(w->kind, w->ns);
            st = kube_watch(c, &r, w->kind == WATCH_APPS ? ks->selector : NULL, &rv, 240, on_event,
                            w, &ks->stop, &err);
            if (st == KUBE_OK) {
                backoff_ms = 1000;
                continue; /* the server ended the stream: watch again from rv */
            }
        }
        if (atomic_load(&ks->stop))
            break;
        need_list = true;
        if (st == KUBE_GONE)
            continue;
        set_error(ks, err.msg);
        wake_engine(ks);
        nap(ks, backoff_ms);
        backoff_ms = backoff_ms < 16000 ? backoff_ms * 2 : 30000;
    }
    if (!c)
        set_error(ks, err.msg);
    free(rv);
    kube_client_free(c);
    return NULL;
}

static void kube_stop(kube_src *ks)
{
    atomic_store(&ks->stop, true);
    for (size_t i = 0; i < ks->n_watchers; i++)
        if (ks->watchers[i].started)
            pthread_join(ks->watchers[i].thread, NULL);
}

static void kube_src_free(kube_src *ks)
{
    if (!ks)
        return;
    kube_stop(ks);
    free(ks->watchers);
    kube_client_free(ks->client);
    cJSON_Delete(ks->objects);
    cJSON_Delete(ks->updaters);
    free(ks->error);
    strvec_free(&ks->namespaces);
    close(ks->wake[0]);
    close(ks->wake[1]);
    pthread_mutex_destroy(&ks->lock);
    free(ks);
}

static int kube_open(app_source *src, tp_err *err)
{
    if (src->impl)
        return 0; /* open once: the watchers keep it current */
    kube_src *ks = xcalloc(1, sizeof *ks);
    pthread_mutex_init(&ks->lock, NULL);
    ks->objects = cJSON_CreateObject();
    ks->updaters = cJSON_CreateObject();
    if (pipe2(ks->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
        free(ks);
        return tp_err_set(err, "pipe: %s", strerror(errno));
    }
    const config_kube *k = &src->cfg.kube;
    ks->kopts = (kube_options){
        .kubeconfig = k->kubeconfig, .context = k->context, .tally = src->env.kube_tally};
    ks->selector = k->selector;
    for (size_t i = 0; i < k->namespaces.count; i++)
        strvec_push(&ks->namespaces, k->namespaces.items[i]);
    if (!ks->namespaces.count)
        strvec_push(&ks->namespaces,
                    src->env.argocd_namespace ? src->env.argocd_namespace : "argocd");
    ks->client = kube_client_new(&ks->kopts, err);
    if (!ks->client) {
        kube_src_free(ks);
        return -1;
    }
    /* The first read, here: the first cycle sees the cluster's Applications. */
    bool all = str_eq(ks->namespaces.items[0], "*");
    size_t n = all ? 1 : ks->namespaces.count;
    /* ImageUpdaters too, where argocd-image-updater v1's resource is installed (a cluster
     * without it answers 404: nothing to watch there). */
    bool updaters = true;
    for (size_t i = 0; i < n; i++) {
        const char *ns = all ? NULL : ks->namespaces.items[i];
        char *rv = NULL;
        kube_status st = list_into(ks, ks->client, WATCH_APPS, ns, &rv, err);
        free(rv);
        rv = NULL;
        if (st == KUBE_OK && updaters) {
            tp_err ignored = {{0}};
            kube_status su = list_into(ks, ks->client, WATCH_UPDATERS, ns, &rv, &ignored);
            updaters = su == KUBE_OK;
            free(rv);
        }
        if (st != KUBE_OK) {
            kube_src_free(ks);
            return -1;
        }
    }
    ks->watchers = xcalloc(2 * n, sizeof *ks->watchers);
    for (size_t i = 0; i < 2 * n; i++) {
        watched_kind kind = i < n ? WATCH_APPS : WATCH_UPDATERS;
        if (kind == WATCH_UPDATERS && !updaters)
            break;
        kube_watcher *w = &ks->watchers[ks->n_watchers++];
        *w = (kube_watcher){ks, kind, all ? NULL : ks->namespaces.items[i % n], 0, false};
        w->started = pthread_create(&w->thread, NULL, watch_main, w) == 0;
    }
    src->impl = ks;
    return 0;
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

/* status.summary.images: what the cluster runs now. */
static void read_live(const cJSON *obj, argo_app *app)
{
    const cJSON *images = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(obj, "status"),
                                         "summary"),
        "images");
    const cJSON *i;
    cJSON_ArrayForEach(i, images)
    {
        if (cJSON_IsString(i))
            strvec_push(&app->live_images, i->valuestring);
    }
}

/* The Application as the ImageUpdaters configure it (their settings as its annotations,
 * source/imageupdater), or NULL when none selects it. Under the lock. */
static cJSON *with_updaters(kube_src *ks, const cJSON *obj, app_list *out)
{
    if (!cJSON_GetArraySize(ks->updaters))
        return NULL;
    size_t n = (size_t)cJSON_GetArraySize(ks->updaters);
    const cJSON **sorted = xcalloc(n, sizeof *sorted);
    size_t k = 0;
    const cJSON *u;
    cJSON_ArrayForEach(u, ks->updaters) sorted[k++] = u;
    qsort(sorted, k, sizeof *sorted, key_cmp);
    cJSON *list = cJSON_CreateArray(); /* borrowed items, in name order */
    for (size_t i = 0; i < k; i++)
        cJSON_AddItemReferenceToArray(list, (cJSON *)sorted[i]);
    free(sorted);
    cJSON *copy = cJSON_Duplicate(obj, 1);
    char *by = NULL;
    tp_err err = {{0}};
    int rc = imageupdater_apply(list, copy, &by, &err);
    cJSON_Delete(list);
    free(by);
    if (rc < 0) {
        char *line = xasprintf("cluster:%s: %s", obj->string ? obj->string : "?", err.msg);
        strvec_push(&out->errors, line);
        free(line);
    }
    if (rc != 1) {
        cJSON_Delete(copy);
        return NULL;
    }
    return copy;
}

static int kube_list_apps(app_source *src, app_list *out, tp_err *err)
{
    kube_src *ks = src->impl;
    char drain[64];
    while (read(ks->wake[0], drain, sizeof drain) > 0)
        ;
    pthread_mutex_lock(&ks->lock);
    size_t n = (size_t)cJSON_GetArraySize(ks->objects);
    const cJSON **sorted = xcalloc(n + 1, sizeof *sorted);
    size_t k = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, ks->objects) sorted[k++] = o;
    qsort(sorted, k, sizeof *sorted, key_cmp);
    for (size_t i = 0; i < k; i++) {
        cJSON *configured = with_updaters(ks, sorted[i], out);
        char *text = cJSON_PrintUnformatted(configured ? configured : sorted[i]);
        cJSON_Delete(configured);
        char *file = xasprintf("cluster:%s", sorted[i]->string);
        ydoc doc;
        tp_err perr = {{0}};
        if (text && yamldoc_parse(text, strlen(text), file, &doc, &perr) == 0 && doc.n_roots) {
            argo_app app;
            if (app_from_node(doc.roots[0], file, &app) == 0) {
                app.cluster = ks->client;
                app.object_json = xstrdup(text);
                const cJSON *meta = cJSON_GetObjectItemCaseSensitive(sorted[i], "metadata");
                const cJSON *rv = cJSON_GetObjectItemCaseSensitive(meta, "resourceVersion");
                app.resource_version = cJSON_IsString(rv) ? xstrdup(rv->valuestring) : NULL;
                read_live(sorted[i], &app);
                if (out->count == out->cap) {
                    out->cap = out->cap ? out->cap * 2 : 16;
                    out->items = xrealloc(out->items, out->cap * sizeof *out->items);
                }
                out->items[out->count++] = app;
            }
            yamldoc_free(&doc);
        } else {
            char *line = xasprintf("%s: %s", file, perr.msg);
            strvec_push(&out->errors, line);
            free(line);
        }
        cJSON_free(text);
        free(file);
    }
    free(sorted);
    /* The watchers cannot reach the cluster: the list above is the last good read, and the
     * source says so (the console's header shows it) with since when. */
    int rc = 0;
    if (ks->error) {
        char when[TIMEFMT_MAX];
        timefmt_format(timefmt_from_ns(ks->error_since), when);
        rc = tp_err_set(err,
                        "cluster %s: cannot read Applications since %s (showing the last good "
                        "read): %s",
                        kube_client_context(ks->client), when, ks->error);
    }
    pthread_mutex_unlock(&ks->lock);
    return rc;
}

/* The engine lets go of a source after each read; the watchers go on until the source ends. */
static void kube_close(app_source *src)
{
    (void)src;
}

static void kube_destroy(app_source *src)
{
    kube_src_free(src->impl);
    src->impl = NULL;
}

static int kube_wake_fd(app_source *src)
{
    kube_src *ks = src->impl;
    return ks ? ks->wake[0] : -1;
}

const source_ops source_kube_ops = {
    .kind = "kubernetes",
    .open = kube_open,
    .list_apps = kube_list_apps,
    .close = kube_close,
    .destroy = kube_destroy,
    .wake_fd = kube_wake_fd,
};

char *source_kube_label(const config_kube *k)
{
    strbuf sb = {0};
    strbuf_printf(&sb, "kubernetes %s", k->context ? k->context : "(current context)");
    if (k->namespaces.count) {
        strbuf_puts(&sb, " namespaces ");
        for (size_t i = 0; i < k->namespaces.count; i++)
            strbuf_printf(&sb, "%s%s", i ? "," : "", k->namespaces.items[i]);
    }
    if (k->selector)
        strbuf_printf(&sb, " selector %s", k->selector);
    return strbuf_take(&sb);
}

struct kube_client *source_kube_client(app_source *src)
{
    kube_src *ks = src->ops == &source_kube_ops ? src->impl : NULL;
    return ks ? ks->client : NULL;
}

/* ---- git credentials from Secrets ---- */

/* A Secret's data field, base64-decoded into a new string; NULL when absent or not text. */
static char *secret_field(const cJSON *secret, const char *field)
{
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(secret, "data");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, field);
    if (!cJSON_IsString(v))
        return NULL;
    size_t len = 0;
    unsigned char *raw = base64_decode(v->valuestring, &len);
    if (!raw)
        return NULL;
    if (memchr(raw, '\0', len)) {
        memset(raw, 0, len);
        free(raw);
        return NULL;
    }
    char *s = xstrndup((const char *)raw, len);
    memset(raw, 0, len);
    free(raw);
    return s;
}

static void secret_to_cred(const cJSON *secret, const char *url, gitcred_secret *out)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(secret, "metadata");
    const cJSON *ns = cJSON_GetObjectItemCaseSensitive(meta, "namespace");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(meta, "name");
    *out = (gitcred_secret){0};
    out->url = url ? xstrdup(url) : secret_field(secret, "url");
    out->username = secret_field(secret, "username");
    out->password = secret_field(secret, "password");
    out->ssh_key = secret_field(secret, "sshPrivateKey");
    out->label = xasprintf("Secret %s/%s", cJSON_IsString(ns) ? ns->valuestring : "?",
                           cJSON_IsString(name) ? name->valuestring : "?");
}

int source_kube_git_secrets(app_source *src, const char *ns, gitcred_secret **out, size_t *n,
                            tp_err *err)
{
    kube_client *c = source_kube_client(src);
    if (!c)
        return tp_err_set(err, "the kubernetes source has not been read");
    kube_resource r = {"", "v1", "secrets", ns};
    cJSON *items = NULL;
    char *rv = NULL;
    kube_status st = kube_list(c, &r, "argocd.argoproj.io/secret-type in (repository,repo-creds)",
                               &items, &rv, err);
    free(rv);
    if (st != KUBE_OK)
        return -1;
    const cJSON *s;
    cJSON_ArrayForEach(s, items)
    {
        gitcred_secret cred;
        secret_to_cred(s, NULL, &cred);
        if (!cred.url) { /* a Secret without a url serves nothing */
            gitcred_secret_clear(&cred);
            continue;
        }
        *out = xrealloc(*out, (*n + 1) * sizeof **out);
        (*out)[(*n)++] = cred;
    }
    /* wipe the values before letting go of them */
    cJSON_ArrayForEach(s, items)
    {
        cJSON *f;
        cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(s, "data"))
        {
            if (cJSON_IsString(f))
                memset(f->valuestring, 0, strlen(f->valuestring));
        }
    }
    cJSON_Delete(items);
    return 0;
}

int source_kube_git_secret(app_source *src, const char *ns, const char *name, const char *url,
                           gitcred_secret *out, tp_err *err)
{
    kube_client *c = source_kube_client(src);
    if (!c)
        return tp_err_set(err, "the kubernetes source has not been read");
    kube_resource r = {"", "v1", "secrets", ns};
    cJSON *obj = NULL;
    if (kube_get(c, &r, name, &obj, err) != KUBE_OK)
        return -1;
    secret_to_cred(obj, url, out);
    cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(obj, "data"))
    {
        if (cJSON_IsString(f))
            memset(f->valuestring, 0, strlen(f->valuestring));
    }
    cJSON_Delete(obj);
    return 0;
}
