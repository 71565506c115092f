/* registry/ops: ping, tag lists (deduplicated per cycle, paginated, bounded; tags.c reads each
 * page) and tag digests (verified GET or HEAD, deduplicated per cycle). Each keeps its state in a
 * list owned by the client so that freeing the client mid-flight frees everything. Image metadata
 * is in meta.c. */
#include "registry/registry.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "select/imageref.h"
#include "registry/internal.h"
#include "strmap.h"

typedef struct tags_waiter {
    registry_tags_cb cb;
    void *ud;
} tags_waiter;

typedef enum entry_state { ENTRY_RUNNING, ENTRY_DONE, ENTRY_FAILED } entry_state;

typedef struct tags_entry {
    char *key; /* host key | repo */
    reg_host *host;
    char *repo;
    unsigned long cycle;
    entry_state state;
    strvec tags;   /* the listing: its names live in blocks (never strvec_free it) */
    strvec blocks; /* one a page: registry_parse_tags_packed */
    tp_err err;
    size_t pages;
    size_t bytes;     /* page bodies and page URLs so far, against max_list_bytes */
    strmap page_urls; /* every page URL asked, -> its page number (1-based); while running */
    tags_waiter *waiters;
    size_t n_waiters;
    struct tags_entry *next;
} tags_entry;

typedef struct digest_waiter {
    registry_digest_cb cb;
    void *ud;
    bool counted; /* a public request (in c->outstanding), not one of meta.c's */
} digest_waiter;

typedef struct digest_entry {
    char *key; /* host key | repo | tag | "verified" or "head" */
    reg_host *host;
    char *repo, *tag;
    unsigned long cycle;
    int64_t fetched_ms;
    entry_state state;
    char digest[72];
    tp_err err;
    digest_waiter *waiters;
    size_t n_waiters;
    struct digest_entry *prev, *next; /* doubly linked: a stale answer leaves in O(1) */
} digest_entry;

typedef struct ping_op {
    registry_client *client;
    registry_ping_cb cb;
    void *ud;
    struct ping_op *next;
} ping_op;

struct ops_state {
    tags_entry *tags;
    strmap tags_by_key;    /* key -> the newest listing with that key (a scan looks one up per
                              image: 1,000 walks of the list were 400,000 strcmp) */
    strmap digests_by_key; /* key -> its digest entry (one a key): a warm newest-build cycle
                              asks 10,000 */
    digest_entry *digests;
    ping_op *pings;
    /* "host key|repo|tag" -> 1: tags whose digest this client has learnt (in any cycle), for
     * which a HEAD tells whether it moved; the others are read with one GET (meta.c). */
    strmap known;
};

/* A new epoch for every client and every cycle end: never one seen before, in any client. */
static uint64_t next_lists_epoch(void)
{
    static atomic_uint_fast64_t last;
    return (uint64_t)atomic_fetch_add(&last, 1) + 1;
}

void ops_init(registry_client *c)
{
    c->ops = xcalloc(1, sizeof *c->ops);
    c->lists_epoch = next_lists_epoch();
}

static void tags_entry_free(struct ops_state *s, tags_entry *e)
{
    if (strmap_get(&s->tags_by_key, e->key) == e)
        strmap_remove(&s->tags_by_key, e->key);
    free(e->key);
    free(e->repo);
    free(e->tags.items);
    strvec_free(&e->blocks);
    strmap_free(&e->page_urls);
    free(e->waiters);
    free(e);
}

/* Take e out of the list and the index, and free it. */
static void digest_entry_free(struct ops_state *s, digest_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else if (s->digests == e)
        s->digests = e->next;
    if (e->next)
        e->next->prev = e->prev;
    if (strmap_get(&s->digests_by_key, e->key) == e)
        strmap_remove(&s->digests_by_key, e->key);
    free(e->key);
    free(e->repo);
    free(e->tag);
    free(e->waiters);
    free(e);
}

void ops_free(registry_client *c)
{
    struct ops_state *s = c->ops;
    if (!s)
        return;
    while (s->tags) {
        tags_entry *e = s->tags;
        s->tags = e->next;
        tags_entry_free(s, e);
    }
    strmap_free(&s->tags_by_key);
    while (s->digests)
        digest_entry_free(s, s->digests);
    strmap_free(&s->digests_by_key);
    while (s->pings) {
        ping_op *p = s->pings;
        s->pings = p->next;
        free(p);
    }
    strmap_free(&s->known);
    free(s);
    c->ops = NULL;
}

void ops_end_cycle(registry_client *c)
{
    struct ops_state *s = c->ops;
    c->lists_epoch = next_lists_epoch();
    for (tags_entry **pp = &s->tags; *pp;) {
        tags_entry *e = *pp;
        if (e->state != ENTRY_RUNNING) {
            *pp = e->next;
            tags_entry_free(s, e);
        } else {
            pp = &e->next;
        }
    }
}

void ops_begin_cycle(registry_client *c)
{
    struct ops_state *s = c->ops;
    ops_end_cycle(c); /* the tag lists */
    /* Answers expire with the cycle, or by age when the engine asked for a TTL. */
    int64_t now = registry_now_ms();
    long ttl = c->opts.tag_digest_ttl_ms;
    for (digest_entry *e = s->digests, *next; e; e = next) {
        next = e->next;
        if (e->state != ENTRY_RUNNING && (ttl <= 0 || now - e->fetched_ms >= ttl))
            digest_entry_free(s, e);
    }
}

#define UNLINK(head, type, item)                                                                   \
    for (type **pp_ = &(head); *pp_; pp_ = &(*pp_)->next)                                          \
        if (*pp_ == (item)) {                                                                      \
            *pp_ = (item)->next;                                                                   \
            break;                                                                                 \
        }

/* ---- ping ---- */

static void ping_done(reg_call *call, http_response *resp, const tp_err *err)
{
    ping_op *op = call->ud;
    registry_client *c = op->client;
    tp_err e;
    if (!err && resp->status != 200) {
        registry_status_error(call, resp->status, "GET /v2/", &e);
        err = &e;
    }
    UNLINK(c->ops->pings, ping_op, op);
    c->outstanding--;
    op->cb(op->ud, err);
    free(op);
}

void registry_ping(registry_client *c, const imageref *ref, registry_ping_cb cb, void *ud)
{
    char *repo;
    reg_host *h = registry_host_for(c, ref, &repo);
    ping_op *op = xcalloc(1, sizeof *op);
    op->client = c;
    op->cb = cb;
    op->ud = ud;
    op->next = c->ops->pings;
    c->ops->pings = op;
    c->outstanding++;
    char *url = xasprintf("%s/v2/", h->key);
    registry_call(c, h, repo, CALL_PING, "GET", url, ping_done, op);
    free(url);
    free(repo);
}

/* ---- tag lists ---- */

static void tags_finish(registry_client *c, tags_entry *e)
{
    strmap_free(&e->page_urls); /* only a listing in progress needs them */
    tags_waiter *w = e->waiters;
    size_t n = e->n_waiters;
    e->waiters = NULL;
    e->n_waiters = 0;
    for (size_t i = 0; i < n; i++) {
        c->outstanding--;
        w[i].cb(w[i].ud, e->state == ENTRY_DONE ? &e->tags : NULL,
                e->state == ENTRY_FAILED ? &e->err : NULL);
    }
    free(w);
}

int registry_next_page(const char *link, const char *url, const char *registry, const char *repo,
                       char **next, tp_err *err)
{
    *next = http_link_next(link, url);
    if (!*next)
        return 0;
    int rc = 0;
    /* The next request carries the registry's credentials, which go only to its own origin. */
    if (!http_same_origin(*next, url)) {
        char *origin = http_url_origin(*next);
        char *shown = registry_shown(origin ? origin : *next);
        rc = tp_err_set(err, "registry %s: tags list of %s: next page on another origin %s refused",
                        registry, repo, shown);
        free(shown);
        free(origin);
    } else if (str_eq(*next, url)) {
        rc = tp_err_set(err, "registry %s: tags list of %s: pagination does not advance", registry,
                        repo);
    }
    if (rc < 0) {
        free(*next);
        *next = NULL;
    }
    return rc;
}

static void tags_page_done(reg_call *call, http_response *resp, const tp_err *err);

static void tags_fetch_page(registry_client *c, tags_entry *e, const char *url)
{
    e->pages++;
    e->bytes += strlen(url);
    strmap_put(&e->page_urls, url, (void *)(uintptr_t)e->pages);
    registry_call(c, e->host, e->repo, CALL_TAGS, "GET", url, tags_page_done, e);
}

/* The next page (on the registry's origin, advancing: registry_next_page), or an error: it must
 * not be a page already asked (a loop), and must fit the bounds. */
static int tags_check_next(registry_client *c, tags_entry *e, const char *next)
{
    uintptr_t page = (uintptr_t)strmap_get(&e->page_urls, next);
    if (page)
        return tp_err_set(&e->err,
                          "registry %s: tags list of %s: pagination loops back to page %zu",
                          e->host->name, e->repo, (size_t)page);
    if (e->pages >= c->opts.max_tags)
        return tp_err_set(&e->err,
                          "registry %s: tags list of %s: more than %zu pages — tagpilot stops "
                          "there",
                          e->host->name, e->repo, e->pages);
    if (e->bytes + strlen(next) > c->opts.max_list_bytes)
        return tp_err_set(&e->err,
                          "registry %s: tags list of %s is larger than %zu bytes (%zu pages so "
                          "far) — tagpilot stops there to bound memory",
                          e->host->name, e->repo, c->opts.max_list_bytes, e->pages);
    return 0;
}

static void tags_page_done(reg_call *call, http_response *resp, const tp_err *err)
{
    tags_entry *e = call->ud;
    registry_client *c = call->client;
    if (err) {
        e->err = *err;
        goto failed;
    }
    if (resp->status == 404) {
        tp_err_set(&e->err, "registry %s: repository %s not found (404)", e->host->name, e->repo);
        goto failed;
    }
    if (resp->status != 200) {
        registry_status_error(call, resp->status, "tags list", &e->err);
        goto failed;
    }
    e->bytes += resp->body_len;
    if (e->bytes > c->opts.max_list_bytes) {
        tp_err_set(&e->err,
                   "registry %s: tags list of %s is larger than %zu bytes (at page %zu) — "
                   "tagpilot stops there to bound memory",
                   e->host->name, e->repo, c->opts.max_list_bytes, e->pages);
        goto failed;
    }
    if (registry_parse_tags_packed(resp->body, resp->body_len, c->opts.max_tags, e->host->name,
                                   e->repo, &e->tags, &e->blocks, &e->err) < 0)
        goto failed;
    char *next = NULL;
    if (registry_next_page(resp->link, call->url, e->host->name, e->repo, &next, &e->err) < 0)
        goto failed;
    if (next && tags_check_next(c, e, next) < 0) {
        free(next);
        goto failed;
    }
    if (next) {
        tags_fetch_page(c, e, next);
        free(next);
        return;
    }
    e->state = ENTRY_DONE;
    tags_finish(c, e);
    return;
failed:
    e->state = ENTRY_FAILED;
    tags_finish(c, e);
}

/* This cycle's listing of the repository (or one still running from before), or NULL. Only the
 * newest listing of a key can be either: a new one starts only when neither exists. */
static tags_entry *tags_entry_find(registry_client *c, const char *key)
{
    tags_entry *e = strmap_get(&c->ops->tags_by_key, key);
    return e && (e->cycle == c->cycle || e->state == ENTRY_RUNNING) ? e : NULL;
}

/* A new listing with its first waiter, its first page asked. Takes key and repo. */
static void tags_entry_start(registry_client *c, reg_host *h, char *key, char *repo,
                             registry_tags_cb cb, void *ud)
{
    tags_entry *e = xcalloc(1, sizeof *e);
    e->key = key;
    e->host = h;
    e->repo = repo;
    e->cycle = c->cycle;
    e->waiters = xmalloc(sizeof *e->waiters);
    e->waiters[e->n_waiters++] = (tags_waiter){cb, ud};
    e->next = c->ops->tags;
    c->ops->tags = e;
    strmap_put(&c->ops->tags_by_key, key, e);
    c->outstanding++;
    char *url = xasprintf("%s/v2/%s/tags/list?n=1000", h->key, repo);
    tags_fetch_page(c, e, url);
    free(url);
}

void registry_list_tags(registry_client *c, const imageref *ref, registry_tags_cb cb, void *ud)
{
    char *repo;
    reg_host *h = registry_host_for(c, ref, &repo);
    char *key = xasprintf("%s|%s", h->key, repo);
    tags_entry *e = tags_entry_find(c, key);
    if (!e) {
        tags_entry_start(c, h, key, repo, cb, ud);
        return;
    }
    free(key);
    free(repo);
    c->stats.tag_list_dedup++;
    if (e->state == ENTRY_RUNNING) {
        c->outstanding++;
        e->waiters = xrealloc(e->waiters, (e->n_waiters + 1) * sizeof *e->waiters);
        e->waiters[e->n_waiters++] = (tags_waiter){cb, ud};
    } else {
        cb(ud, e->state == ENTRY_DONE ? &e->tags : NULL, e->state == ENTRY_FAILED ? &e->err : NULL);
    }
}

/* The waiter of a listing asked ahead: registry_list_tags takes the answer from the entry. */
static void tags_ahead_done(void *ud, const strvec *tags, const tp_err *err)
{
    (void)ud, (void)tags, (void)err;
}

void registry_list_tags_ahead(registry_client *c, const imageref *ref)
{
    char *repo;
    reg_host *h = registry_host_for(c, ref, &repo);
    /* Credentials kept in the cluster are read through a source that may not be open yet, and
     * a failed read is remembered (host_creds): such a registry is asked in turn. */
    const char *spec = h->creds_spec;
    if (spec && (str_starts_with(spec, "pullsecret:") || str_starts_with(spec, "secret:"))) {
        free(repo);
        return;
    }
    char *key = xasprintf("%s|%s", h->key, repo);
    if (tags_entry_find(c, key)) {
        free(key);
        free(repo);
        return;
    }
    tags_entry_start(c, h, key, repo, tags_ahead_done, NULL);
}

/* ---- tag -> digest ---- */

static char *known_key(const reg_host *h, const char *repo, const char *tag)
{
    return xasprintf("%s|%s|%s", h->key, repo, tag);
}

bool ops_digest_known(registry_client *c, const reg_host *h, const char *repo, const char *tag)
{
    char *key = known_key(h, repo, tag);
    bool known = strmap_get(&c->ops->known, key) != NULL;
    free(key);
    return known;
}

void ops_digest_learnt(registry_client *c, const reg_host *h, const char *repo, const char *tag)
{
    char *key = known_key(h, repo, tag);
    strmap_put(&c->ops->known, key, (void *)1);
    free(key);
}

static void digest_finish(registry_client *c, digest_entry *e)
{
    if (e->state == ENTRY_DONE)
        ops_digest_learnt(c, e->host, e->repo, e->tag);
    digest_waiter *w = e->waiters;
    size_t n = e->n_waiters;
    e->waiters = NULL;
    e->n_waiters = 0;
    e->fetched_ms = registry_now_ms();
    for (size_t i = 0; i < n; i++) {
        c->outstanding -= w[i].counted;
        w[i].cb(w[i].ud, e->state == ENTRY_DONE ? e->digest : NULL,
                e->state == ENTRY_FAILED ? &e->err : NULL);
    }
    free(w);
}

/* A manifest GET: the digest is the SHA-256 of the body, and a registry that says otherwise is
 * not believed. */
static void digest_from_body(digest_entry *e, const http_response *resp)
{
    char sum[72];
    registry_sha256(resp->body, resp->body_len, sum);
    if (resp->docker_digest && !str_eq(resp->docker_digest, sum)) {
        char *said = registry_shown(resp->docker_digest);
        tp_err_set(&e->err,
                   "registry %s: manifest of %s:%s: body SHA-256 is %s, Docker-Content-Digest %s "
                   "— refusing it",
                   e->host->name, e->repo, e->tag, sum, said);
        free(said);
        return;
    }
    snprintf(e->digest, sizeof e->digest, "%s", sum);
    e->state = ENTRY_DONE;
}

static void digest_done(reg_call *call, http_response *resp, const tp_err *err)
{
    digest_entry *e = call->ud;
    registry_client *c = call->client;
    e->state = ENTRY_FAILED;
    if (err) {
        e->err = *err;
    } else if (resp->status == 404) {
        tp_err_set(&e->err, "registry %s: tag '%s' not found in %s (404)", e->host->name, e->tag,
                   e->repo);
    } else if (resp->status != 200) {
        registry_status_error(call, resp->status, "manifest", &e->err);
    } else if (call->kind == CALL_HEAD && !resp->docker_digest) {
        /* The registry does not say: read the manifest and hash it. */
        char *url = xasprintf("%s/v2/%s/manifests/%s", e->host->key, e->repo, e->tag);
        registry_call(c, e->host, e->repo, CALL_MANIFEST, "GET", url, digest_done, e);
        free(url);
        return;
    } else if (call->kind == CALL_HEAD) {
        if (!registry_digest_valid(resp->docker_digest)) {
            char *said = registry_shown(resp->docker_digest);
            tp_err_set(&e->err, "registry %s: %s:%s has an unusable Docker-Content-Digest '%s'",
                       e->host->name, e->repo, e->tag, said);
            free(said);
        } else {
            snprintf(e->digest, sizeof e->digest, "%s", resp->docker_digest);
            e->state = ENTRY_DONE;
        }
    } else {
        digest_from_body(e, resp);
    }
    digest_finish(c, e);
}

void registry_tag_digest(registry_client *c, const imageref *ref, const char *tag,
                         registry_digest_cb cb, void *ud)
{
    ops_tag_digest(c, ref, tag, true, cb, ud, true);
}

void registry_tag_digest_head(registry_client *c, const imageref *ref, const char *tag,
                              registry_digest_cb cb, void *ud)
{
    ops_tag_digest(c, ref, tag, false, cb, ud, true);
}

void ops_tag_digest(registry_client *c, const imageref *ref, const char *tag, bool verified,
                    registry_digest_cb cb, void *ud, bool counted)
{
    char *repo;
    reg_host *h = registry_host_for(c, ref, &repo);
    if (!imageref_tag_valid(tag)) {
        /* It would go into the URL: "../../x", a newline, 4 MiB. Nothing is sent. */
        tp_err err;
        char *shown = registry_shown(tag);
        tp_err_set(&err, "registry %s: %s: '%s' is not a valid tag — not asked", h->name, repo,
                   shown);
        free(shown);
        free(repo);
        cb(ud, NULL, &err);
        return;
    }
    char *key = xasprintf("%s|%s|%s|%s", h->key, repo, tag, verified ? "verified" : "head");
    int64_t now = registry_now_ms();
    long ttl = c->opts.tag_digest_ttl_ms;
    digest_entry *known = strmap_get(&c->ops->digests_by_key, key);
    digest_entry *e = known;
    if (e && !(e->state == ENTRY_RUNNING || (ttl <= 0 && e->cycle == c->cycle) ||
               (ttl > 0 && e->state == ENTRY_DONE && now - e->fetched_ms < ttl)))
        e = NULL;
    c->outstanding += counted;
    if (e) {
        free(key);
        free(repo);
        if (e->state == ENTRY_RUNNING) {
            e->waiters = xrealloc(e->waiters, (e->n_waiters + 1) * sizeof *e->waiters);
            e->waiters[e->n_waiters++] = (digest_waiter){cb, ud, counted};
        } else {
            c->outstanding -= counted;
            cb(ud, e->state == ENTRY_DONE ? e->digest : NULL,
               e->state == ENTRY_FAILED ? &e->err : NULL);
        }
        return;
    }
    if (known) /* a stale answer for the same key */
        digest_entry_free(c->ops, known);
    e = xcalloc(1, sizeof *e);
    e->key = key;
    e->host = h;
    e->repo = repo;
    e->tag = xstrdup(tag);
    e->cycle = c->cycle;
    e->waiters = xmalloc(sizeof *e->waiters);
    e->waiters[e->n_waiters++] = (digest_waiter){cb, ud, counted};
    e->next = c->ops->digests;
    if (e->next)
        e->next->prev = e;
    c->ops->digests = e;
    strmap_put(&c->ops->digests_by_key, key, e);
    char *url = xasprintf("%s/v2/%s/manifests/%s", h->key, repo, tag);
    if (verified)
        registry_call(c, h, repo, CALL_MANIFEST, "GET", url, digest_done, e);
    else
        registry_call(c, h, repo, CALL_HEAD, "HEAD", url, digest_done, e);
    free(url);
}
