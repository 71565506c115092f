/* registry/meta: what newest-build needs per tag — the tag's manifest (verified against its
 * SHA-256), for an index the children matching the wanted platforms, and each image's config
 * blob for `created`. Everything keyed by digest goes through the metadata cache, so a digest
 * seen once is never fetched again. A tag whose digest this client has not learnt yet is read
 * with one GET of its manifest, which gives the digest (the body's SHA-256) and the content
 * together; a tag it knows gets a HEAD (ops.c), and its manifest only when the digest moved to
 * one the cache has not seen. */
#include "registry/registry.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/internal.h"
#include "strmap.h"
#include "timefmt.h"

/* Real indexes list a few dozen platforms; each wanted child costs a manifest request, so a
 * hostile index of 100,000 children is refused instead of followed. */
#define MAX_INDEX_CHILDREN 1000

typedef void (*meta_fn)(void *ud, const char *digest, const meta_record *rec, const tp_err *err);

typedef struct meta_waiter {
    meta_fn fn;
    void *ud;
} meta_waiter;

/* Fetching the metadata of one digest: manifest, then config blob for an image. */
typedef struct meta_fetch {
    char digest[72]; /* "" while a fetch by tag has not read the body */
    char *tag;       /* by tag: the manifest is asked for by this tag; NULL: by digest */
    reg_host *host;
    char *repo;
    meta_record rec; /* being built */
    char config_digest[72];
    meta_waiter *waiters;
    size_t n_waiters;
    struct meta_fetch *prev, *next;
} meta_fetch;

/* One registry_image_metadata request. */
typedef struct meta_op {
    registry_client *client;
    reg_host *host;
    char *repo, *tag;
    platform *platforms; /* copies */
    size_t n_platforms;
    registry_meta_cb cb;
    void *ud;
    char digest[72];
    size_t pending; /* child lookups not answered yet */
    bool failed;
    tp_err err;
    bool found; /* an image for a wanted platform was seen */
    bool has_created;
    tp_time created;
    char *os, *arch, *variant;
    struct meta_op *prev, *next;
} meta_op;

/* A cold newest-build cycle has 10,000 fetches in flight: finding one by digest or tag, and
 * taking one out, must not walk them all (it did: the cycle was quadratic). */
struct meta_state {
    meta_fetch *fetches; /* doubly linked */
    meta_op *ops;        /* doubly linked */
    strmap by_digest;    /* "host key|digest" -> the fetch of that digest */
    strmap by_tag;       /* "host key|repo|tag" -> the fetch by that tag */
};

static char *digest_key(const reg_host *h, const char *digest)
{
    return xasprintf("%s|%s", h->key, digest);
}

static char *tag_key(const reg_host *h, const char *repo, const char *tag)
{
    return xasprintf("%s|%s|%s", h->key, repo, tag);
}

/* f is found by digest from now on, unless another fetch of that digest is (the first stays). */
static void fetch_index_digest(struct meta_state *s, meta_fetch *f)
{
    char *key = digest_key(f->host, f->digest);
    if (!strmap_get(&s->by_digest, key))
        strmap_put(&s->by_digest, key, f);
    free(key);
}

static void fetch_link(struct meta_state *s, meta_fetch *f)
{
    f->prev = NULL;
    f->next = s->fetches;
    if (s->fetches)
        s->fetches->prev = f;
    s->fetches = f;
    if (f->digest[0])
        fetch_index_digest(s, f);
    if (f->tag) {
        char *key = tag_key(f->host, f->repo, f->tag);
        strmap_put(&s->by_tag, key, f);
        free(key);
    }
}

static void fetch_unlink(struct meta_state *s, meta_fetch *f)
{
    if (f->prev)
        f->prev->next = f->next;
    else
        s->fetches = f->next;
    if (f->next)
        f->next->prev = f->prev;
    f->prev = f->next = NULL;
    if (f->digest[0]) {
        char *key = digest_key(f->host, f->digest);
        if (strmap_get(&s->by_digest, key) == f)
            strmap_remove(&s->by_digest, key);
        free(key);
    }
    if (f->tag) {
        char *key = tag_key(f->host, f->repo, f->tag);
        if (strmap_get(&s->by_tag, key) == f)
            strmap_remove(&s->by_tag, key);
        free(key);
    }
}

void meta_ops_init(registry_client *c)
{
    c->metas = xcalloc(1, sizeof *c->metas);
}

static void fetch_free(meta_fetch *f)
{
    free(f->repo);
    free(f->tag);
    meta_record_free(&f->rec);
    free(f->waiters);
    free(f);
}

static void op_free(meta_op *op)
{
    free(op->repo);
    free(op->tag);
    for (size_t i = 0; i < op->n_platforms; i++) {
        free(op->platforms[i].os);
        free(op->platforms[i].arch);
        free(op->platforms[i].variant);
    }
    free(op->platforms);
    free(op->os);
    free(op->arch);
    free(op->variant);
    free(op);
}

void meta_ops_free(registry_client *c)
{
    struct meta_state *s = c->metas;
    if (!s)
        return;
    while (s->fetches) {
        meta_fetch *f = s->fetches;
        s->fetches = f->next;
        fetch_free(f);
    }
    while (s->ops) {
        meta_op *op = s->ops;
        s->ops = op->next;
        op_free(op);
    }
    strmap_free(&s->by_digest);
    strmap_free(&s->by_tag);
    free(s);
    c->metas = NULL;
}

void registry_host_platform(const char **os, const char **arch, const char **variant)
{
    *os = "linux";
    *variant = NULL;
#if defined(__x86_64__)
    *arch = "amd64";
#elif defined(__aarch64__)
    *arch = "arm64";
#elif defined(__arm__)
    *arch = "arm";
    *variant = "v7";
#elif defined(__i386__)
    *arch = "386";
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
    *arch = "ppc64le";
#elif defined(__s390x__)
    *arch = "s390x";
#elif defined(__riscv)
    *arch = "riscv64";
#else
    *arch = "amd64";
#endif
}

static bool variant_matches(const char *arch, const char *want, const char *have)
{
    if (!want || !*want)
        return true;
    if (str_eq(want, have))
        return true;
    /* arm64 images usually omit their only variant */
    return str_eq(arch, "arm64") && str_eq(want, "v8") && (!have || !*have);
}

static bool platform_wanted(const meta_op *op, const char *os, const char *arch,
                            const char *variant)
{
    for (size_t i = 0; i < op->n_platforms; i++) {
        const platform *p = &op->platforms[i];
        if (str_eq(p->os, os) && str_eq(p->arch, arch) &&
            variant_matches(arch, p->variant, variant))
            return true;
    }
    return false;
}

/* ---- fetching one digest ---- */

/* Answer every waiter with rec (already in the cache) and forget the fetch. */
static void fetch_answer(registry_client *c, meta_fetch *f, const meta_record *rec)
{
    fetch_unlink(c->metas, f);
    for (size_t i = 0; i < f->n_waiters; i++)
        f->waiters[i].fn(f->waiters[i].ud, f->digest, rec, NULL);
    fetch_free(f);
}

static void fetch_finish(registry_client *c, meta_fetch *f, const tp_err *err)
{
    fetch_unlink(c->metas, f);
    const meta_record *rec = NULL;
    if (!err) {
        meta_cache_put(c->meta, f->digest, &f->rec);
        rec = meta_cache_get(c->meta, f->digest);
    }
    for (size_t i = 0; i < f->n_waiters; i++)
        f->waiters[i].fn(f->waiters[i].ud, f->digest, rec, err);
    fetch_free(f);
}

static char *json_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) && v->valuestring[0] ? xstrdup(v->valuestring) : NULL;
}

/* True when the call answered 200 with a body whose SHA-256 is the digest asked for (and, for
 * a manifest, matching Docker-Content-Digest when sent); otherwise f is finished with the error
 * and the caller returns. */
static bool body_verified(reg_call *call, http_response *resp, const tp_err *err, bool manifest)
{
    meta_fetch *f = call->ud;
    registry_client *c = call->client;
    const char *want = manifest ? f->digest : f->config_digest;
    tp_err e;
    if (err) {
        fetch_finish(c, f, err);
        return false;
    }
    if (resp->status != 200) {
        registry_status_error(call, resp->status, manifest ? "manifest" : "config blob", &e);
        fetch_finish(c, f, &e);
        return false;
    }
    char sum[72];
    registry_sha256(resp->body, resp->body_len, sum);
    if (manifest && !want[0]) {
        /* Asked for by tag: the body's SHA-256 is its digest, and a Docker-Content-Digest that
         * says otherwise is a registry to refuse. */
        if (!resp->docker_digest || str_eq(resp->docker_digest, sum)) {
            snprintf(f->digest, sizeof f->digest, "%s", sum);
            return true;
        }
        tp_err_set(&e,
                   "registry %s: manifest %s:%s: body SHA-256 is %s, Docker-Content-Digest "
                   "%.80s — refusing it",
                   f->host->name, f->repo, f->tag, sum, resp->docker_digest);
        fetch_finish(c, f, &e);
        return false;
    }
    bool header_ok = !manifest || !resp->docker_digest || str_eq(resp->docker_digest, want);
    if (strcmp(sum, want) == 0 && header_ok)
        return true;
    if (manifest)
        tp_err_set(&e,
                   "registry %s: manifest %s of %s: body SHA-256 is %s, Docker-Content-Digest "
                   "%.80s — refusing it",
                   f->host->name, want, f->repo, sum,
                   resp->docker_digest ? resp->docker_digest : "(none)");
    else
        tp_err_set(&e, "registry %s: config blob %s of %s has SHA-256 %s — refusing it",
                   f->host->name, want, f->repo, sum);
    fetch_finish(c, f, &e);
    return false;
}

int meta_parse_config(const char *body, size_t len, meta_record *rec)
{
    cJSON *root = cJSON_ParseWithLength(body, len);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return -1;
    }
    char *created = json_str(root, "created");
    if (created && timefmt_parse(created, strlen(created), &rec->created) == 0)
        rec->has_created = true;
    free(created);
    rec->os = json_str(root, "os");
    rec->arch = json_str(root, "architecture");
    rec->variant = json_str(root, "variant");
    cJSON_Delete(root);
    return 0;
}

static void blob_done(reg_call *call, http_response *resp, const tp_err *err)
{
    meta_fetch *f = call->ud;
    registry_client *c = call->client;
    tp_err e;
    if (!body_verified(call, resp, err, false))
        return;
    if (meta_parse_config(resp->body, resp->body_len, &f->rec) < 0) {
        tp_err_set(&e, "registry %s: config blob %s of %s is not valid JSON", f->host->name,
                   f->config_digest, f->repo);
        fetch_finish(c, f, &e);
        return;
    }
    fetch_finish(c, f, NULL);
}

manifest_kind meta_parse_manifest(const char *body, size_t len, meta_record *rec,
                                  char config_digest[72])
{
    cJSON *root = cJSON_ParseWithLength(body, len);
    const cJSON *manifests = root ? cJSON_GetObjectItemCaseSensitive(root, "manifests") : NULL;
    const cJSON *config = root ? cJSON_GetObjectItemCaseSensitive(root, "config") : NULL;
    const cJSON *schema = root ? cJSON_GetObjectItemCaseSensitive(root, "schemaVersion") : NULL;
    manifest_kind kind = root ? MANIFEST_UNKNOWN : MANIFEST_INVALID;
    if (cJSON_IsArray(manifests) && cJSON_GetArraySize(manifests) > MAX_INDEX_CHILDREN) {
        kind = MANIFEST_TOO_MANY;
    } else if (cJSON_IsArray(manifests)) {
        rec->is_index = true;
        int n = cJSON_GetArraySize(manifests);
        rec->children = n > 0 ? xcalloc((size_t)n, sizeof *rec->children) : NULL;
        const cJSON *m;
        cJSON_ArrayForEach(m, manifests)
        {
            char *d = json_str(m, "digest");
            if (!registry_digest_valid(d)) {
                free(d);
                continue; /* not sha256: nothing tagpilot can verify */
            }
            meta_child *ch = &rec->children[rec->n_children++];
            ch->digest = d;
            const cJSON *p = cJSON_GetObjectItemCaseSensitive(m, "platform");
            ch->os = json_str(p, "os");
            ch->arch = json_str(p, "architecture");
            ch->variant = json_str(p, "variant");
        }
        kind = MANIFEST_INDEX;
    } else {
        char *cfg = cJSON_IsObject(config) ? json_str(config, "digest") : NULL;
        if (cfg && registry_digest_valid(cfg)) {
            snprintf(config_digest, 72, "%s", cfg);
            kind = MANIFEST_IMAGE;
        } else if (cJSON_IsNumber(schema) && schema->valueint == 1) {
            kind = MANIFEST_SCHEMA1;
        }
        free(cfg);
    }
    cJSON_Delete(root);
    return kind;
}

static void manifest_done(reg_call *call, http_response *resp, const tp_err *err)
{
    meta_fetch *f = call->ud;
    registry_client *c = call->client;
    tp_err e;
    if (!body_verified(call, resp, err, true))
        return;
    if (f->tag) {
        ops_digest_learnt(c, f->host, f->repo, f->tag);
        char *key = xasprintf("%s|%s", f->host->key, f->repo);
        meta_cache_repo_mark(c->meta, key);
        free(key);
        /* A digest already described (another tag, an earlier run): nothing more to fetch. */
        const meta_record *known = meta_cache_get(c->meta, f->digest);
        if (known) {
            c->stats.meta_cache_hits++;
            fetch_answer(c, f, known);
            return;
        }
        /* Another fetch of the same digest is on its way (tags sharing one image): wait for
         * it instead of fetching its config blob again. */
        char *dkey = digest_key(f->host, f->digest);
        meta_fetch *g = strmap_get(&c->metas->by_digest, dkey);
        free(dkey);
        if (g && g != f) {
            g->waiters = xrealloc(g->waiters, (g->n_waiters + f->n_waiters) * sizeof *g->waiters);
            memcpy(g->waiters + g->n_waiters, f->waiters, f->n_waiters * sizeof *f->waiters);
            g->n_waiters += f->n_waiters;
            f->n_waiters = 0;
            fetch_unlink(c->metas, f);
            fetch_free(f);
            return;
        }
        fetch_index_digest(c->metas, f); /* the digest's fetch from now on */
    }
    manifest_kind kind = meta_parse_manifest(resp->body, resp->body_len, &f->rec, f->config_digest);
    switch (kind) {
    case MANIFEST_INDEX:
        fetch_finish(c, f, NULL);
        return;
    case MANIFEST_IMAGE: {
        char *url = xasprintf("%s/v2/%s/blobs/%s", f->host->key, f->repo, f->config_digest);
        registry_call(c, f->host, f->repo, CALL_BLOB, "GET", url, blob_done, f);
        free(url);
        return;
    }
    case MANIFEST_TOO_MANY:
        tp_err_set(&e, "registry %s: index %s of %s lists more manifests than tagpilot reads (%d)",
                   f->host->name, f->digest, f->repo, MAX_INDEX_CHILDREN);
        break;
    case MANIFEST_SCHEMA1:
        tp_err_set(&e, "registry %s: %s@%s is a schema 1 manifest, which tagpilot does not read",
                   f->host->name, f->repo, f->digest);
        break;
    case MANIFEST_UNKNOWN:
    case MANIFEST_INVALID:
        tp_err_set(&e, "registry %s: manifest %s of %s is %s", f->host->name, f->digest, f->repo,
                   kind == MANIFEST_INVALID ? "not valid JSON" : "neither an image nor an index");
        break;
    }
    fetch_finish(c, f, &e);
}

/* The metadata of digest: from the cache, a fetch already running, or a new fetch. */
static void meta_lookup(registry_client *c, reg_host *h, const char *repo, const char *digest,
                        meta_fn fn, void *ud)
{
    const meta_record *rec = meta_cache_get(c->meta, digest);
    if (rec) {
        c->stats.meta_cache_hits++;
        fn(ud, digest, rec, NULL);
        return;
    }
    char *key = digest_key(h, digest);
    meta_fetch *f = strmap_get(&c->metas->by_digest, key);
    free(key);
    bool start = !f;
    if (start) {
        f = xcalloc(1, sizeof *f);
        snprintf(f->digest, sizeof f->digest, "%s", digest);
        f->host = h;
        f->repo = xstrdup(repo);
        fetch_link(c->metas, f);
    }
    /* The waiter goes in first: a call that fails at once (unreadable credentials) finishes
     * and frees f before registry_call returns. */
    f->waiters = xrealloc(f->waiters, (f->n_waiters + 1) * sizeof *f->waiters);
    f->waiters[f->n_waiters++] = (meta_waiter){fn, ud};
    if (start) {
        char *url = xasprintf("%s/v2/%s/manifests/%s", h->key, repo, digest);
        registry_call(c, h, repo, CALL_MANIFEST, "GET", url, manifest_done, f);
        free(url);
    }
}

/* The metadata of repo:tag through one GET of its manifest by tag (the digest is learnt from
 * the body). Fetches of the same tag in flight are shared. */
static void meta_by_tag(registry_client *c, reg_host *h, const char *repo, const char *tag,
                        meta_fn fn, void *ud)
{
    char *key = tag_key(h, repo, tag);
    meta_fetch *f = strmap_get(&c->metas->by_tag, key);
    free(key);
    bool start = !f;
    if (start) {
        f = xcalloc(1, sizeof *f);
        f->host = h;
        f->repo = xstrdup(repo);
        f->tag = xstrdup(tag);
        fetch_link(c->metas, f);
    }
    f->waiters = xrealloc(f->waiters, (f->n_waiters + 1) * sizeof *f->waiters);
    f->waiters[f->n_waiters++] = (meta_waiter){fn, ud};
    if (start) {
        char *url = xasprintf("%s/v2/%s/manifests/%s", h->key, repo, tag);
        registry_call(c, h, repo, CALL_MANIFEST, "GET", url, manifest_done, f);
        free(url);
    }
}

/* ---- one image_metadata request ---- */

static void op_finish(meta_op *op)
{
    registry_client *c = op->client;
    if (op->prev)
        op->prev->next = op->next;
    else
        c->metas->ops = op->next;
    if (op->next)
        op->next->prev = op->prev;
    registry_image_meta m = {
        .digest = op->digest,
        .platform_match = op->found,
        .has_created = op->has_created,
        .created = op->created,
        .os = op->os,
        .arch = op->arch,
        .variant = op->variant,
    };
    c->outstanding--;
    op->cb(op->ud, op->failed ? NULL : &m, op->failed ? &op->err : NULL);
    op_free(op);
}

static void take_image(meta_op *op, const meta_record *rec)
{
    op->found = true;
    if (rec->has_created && (!op->has_created || timefmt_compare(rec->created, op->created) > 0)) {
        op->has_created = true;
        op->created = rec->created;
        free(op->os);
        free(op->arch);
        free(op->variant);
        op->os = xstrdup(rec->os);
        op->arch = xstrdup(rec->arch);
        op->variant = xstrdup(rec->variant);
    } else if (!op->os) {
        op->os = xstrdup(rec->os);
        op->arch = xstrdup(rec->arch);
        op->variant = xstrdup(rec->variant);
    }
}

static void on_child(void *ud, const char *digest, const meta_record *rec, const tp_err *err)
{
    (void)digest;
    meta_op *op = ud;
    if (err && !op->failed) {
        op->failed = true;
        op->err = *err;
    } else if (rec && !rec->is_index) {
        take_image(op, rec);
    }
    if (--op->pending == 0)
        op_finish(op);
}

static void on_top(void *ud, const char *digest, const meta_record *rec, const tp_err *err)
{
    meta_op *op = ud;
    if (digest && digest[0])
        snprintf(op->digest, sizeof op->digest, "%s", digest);
    if (err) {
        op->failed = true;
        op->err = *err;
        op_finish(op);
        return;
    }
    if (!rec->is_index) {
        if (platform_wanted(op, rec->os, rec->arch, rec->variant))
            take_image(op, rec);
        op_finish(op);
        return;
    }
    /* Copy what is needed: lookups below may replace cache records. */
    size_t n = rec->n_children;
    char **digests = xcalloc(n ? n : 1, sizeof *digests);
    size_t wanted = 0;
    for (size_t i = 0; i < n; i++) {
        const meta_child *ch = &rec->children[i];
        if (platform_wanted(op, ch->os, ch->arch, ch->variant))
            digests[wanted++] = xstrdup(ch->digest);
    }
    op->pending = wanted + 1; /* +1 until every lookup is started */
    for (size_t i = 0; i < wanted; i++)
        meta_lookup(op->client, op->host, op->repo, digests[i], on_child, op);
    for (size_t i = 0; i < wanted; i++)
        free(digests[i]);
    free(digests);
    if (--op->pending == 0)
        op_finish(op);
}

static void on_digest(void *ud, const char *digest, const tp_err *err)
{
    meta_op *op = ud;
    if (err) {
        op->failed = true;
        op->err = *err;
        op_finish(op);
        return;
    }
    snprintf(op->digest, sizeof op->digest, "%s", digest);
    meta_lookup(op->client, op->host, op->repo, digest, on_top, op);
}

void registry_image_metadata(registry_client *c, const imageref *ref, const char *tag,
                             const platform *platforms, size_t n_platforms, registry_meta_cb cb,
                             void *ud)
{
    meta_op *op = xcalloc(1, sizeof *op);
    op->client = c;
    op->host = registry_host_for(c, ref, &op->repo);
    op->tag = xstrdup(tag);
    op->cb = cb;
    op->ud = ud;
    if (n_platforms == 0) {
        const char *os, *arch, *variant;
        registry_host_platform(&os, &arch, &variant);
        op->platforms = xcalloc(1, sizeof *op->platforms);
        op->platforms[0] = (platform){xstrdup(os), xstrdup(arch), xstrdup(variant)};
        op->n_platforms = 1;
    } else {
        op->platforms = xcalloc(n_platforms, sizeof *op->platforms);
        for (size_t i = 0; i < n_platforms; i++)
            op->platforms[i] = (platform){xstrdup(platforms[i].os), xstrdup(platforms[i].arch),
                                          xstrdup(platforms[i].variant)};
        op->n_platforms = n_platforms;
    }
    op->next = c->metas->ops;
    if (op->next)
        op->next->prev = op;
    c->metas->ops = op;
    c->outstanding++;
    char *key = xasprintf("%s|%s", op->host->key, op->repo);
    bool known = !imageref_tag_valid(tag) || ops_digest_known(c, op->host, op->repo, tag) ||
                 meta_cache_repo_seen(c->meta, key);
    free(key);
    if (known) /* a HEAD, then the manifest only for a digest not seen (refuses a bad tag) */
        ops_tag_digest(c, ref, tag, false, on_digest, op, false);
    else
        meta_by_tag(c, op->host, op->repo, tag, on_top, op);
}
