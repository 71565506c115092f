/* registry/cache: digest-keyed image metadata in a hash table, mirrored to disk. */
#include "registry/cache.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "registry/internal.h"
#include "statedir.h"
#include "strmap.h"

#define META_DIR      "registry/meta/sha256"
#define REPOS_DIR     "registry/repos"
#define META_MAX_SIZE 65535 /* a record is a few hundred bytes; anything larger is not ours */

typedef struct cache_slot {
    char *digest;
    meta_record rec;
    struct cache_slot *next;
} cache_slot;

struct meta_cache {
    char *state_path; /* the state dir, or NULL: memory only */
    statedir *sd;     /* opened on first use; NULL while there is no dir */
    bool disk_off;    /* the state dir was refused: memory only from then on */
    cache_slot **buckets;
    size_t n_buckets;
    size_t count;
    strmap repos; /* "host|repo" -> REPO_SEEN or REPO_NEW once asked */
};

#define REPO_SEEN ((void *)1)
#define REPO_NEW  ((void *)2)

bool registry_digest_valid(const char *digest)
{
    if (!digest || !str_starts_with(digest, "sha256:") || strlen(digest) != 71)
        return false;
    for (const char *p = digest + 7; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

static size_t hash_str(const char *s)
{
    size_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

meta_cache *meta_cache_new(const char *state_dir)
{
    meta_cache *mc = xcalloc(1, sizeof *mc);
    mc->n_buckets = 1024;
    mc->buckets = xcalloc(mc->n_buckets, sizeof *mc->buckets);
    if (state_dir && *state_dir)
        mc->state_path = xstrdup(state_dir);
    return mc;
}

void meta_record_free(meta_record *r)
{
    if (!r)
        return;
    free(r->os);
    free(r->arch);
    free(r->variant);
    for (size_t i = 0; i < r->n_children; i++) {
        free(r->children[i].digest);
        free(r->children[i].os);
        free(r->children[i].arch);
        free(r->children[i].variant);
    }
    free(r->children);
    memset(r, 0, sizeof *r);
}

void meta_cache_free(meta_cache *mc)
{
    if (!mc)
        return;
    for (size_t i = 0; i < mc->n_buckets; i++) {
        cache_slot *s = mc->buckets[i];
        while (s) {
            cache_slot *next = s->next;
            free(s->digest);
            meta_record_free(&s->rec);
            free(s);
            s = next;
        }
    }
    free(mc->buckets);
    strmap_free(&mc->repos);
    statedir_close(mc->sd);
    free(mc->state_path);
    free(mc);
}

size_t meta_cache_count(const meta_cache *mc)
{
    return mc->count;
}

static void record_copy(meta_record *dst, const meta_record *src)
{
    *dst = *src;
    dst->os = xstrdup(src->os);
    dst->arch = xstrdup(src->arch);
    dst->variant = xstrdup(src->variant);
    dst->children = NULL;
    if (src->n_children) {
        dst->children = xcalloc(src->n_children, sizeof *dst->children);
        for (size_t i = 0; i < src->n_children; i++) {
            dst->children[i].digest = xstrdup(src->children[i].digest);
            dst->children[i].os = xstrdup(src->children[i].os);
            dst->children[i].arch = xstrdup(src->children[i].arch);
            dst->children[i].variant = xstrdup(src->children[i].variant);
        }
    }
}

static void grow(meta_cache *mc)
{
    size_t n = mc->n_buckets * 2;
    cache_slot **b = xcalloc(n, sizeof *b);
    for (size_t i = 0; i < mc->n_buckets; i++) {
        cache_slot *s = mc->buckets[i];
        while (s) {
            cache_slot *next = s->next;
            size_t h = hash_str(s->digest) % n;
            s->next = b[h];
            b[h] = s;
            s = next;
        }
    }
    free(mc->buckets);
    mc->buckets = b;
    mc->n_buckets = n;
}

static cache_slot *memory_find(meta_cache *mc, const char *digest)
{
    for (cache_slot *s = mc->buckets[hash_str(digest) % mc->n_buckets]; s; s = s->next)
        if (strcmp(s->digest, digest) == 0)
            return s;
    return NULL;
}

/* Takes ownership of rec's contents. */
static cache_slot *memory_insert(meta_cache *mc, const char *digest, meta_record *rec)
{
    cache_slot *s = memory_find(mc, digest);
    if (s) {
        meta_record_free(&s->rec);
        s->rec = *rec;
        return s;
    }
    if (mc->count >= mc->n_buckets)
        grow(mc);
    s = xcalloc(1, sizeof *s);
    s->digest = xstrdup(digest);
    s->rec = *rec;
    size_t h = hash_str(digest) % mc->n_buckets;
    s->next = mc->buckets[h];
    mc->buckets[h] = s;
    mc->count++;
    return s;
}

static char *json_dup(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
}

static int record_from_json(const char *text, size_t len, meta_record *rec)
{
    memset(rec, 0, sizeof *rec);
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root)
        return -1;
    int rc = 0;
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(root, "kind");
    if (cJSON_IsString(kind) && strcmp(kind->valuestring, "index") == 0) {
        rec->is_index = true;
        const cJSON *children = cJSON_GetObjectItemCaseSensitive(root, "children");
        int n = cJSON_GetArraySize(children);
        rec->children = n > 0 ? xcalloc((size_t)n, sizeof *rec->children) : NULL;
        const cJSON *ch;
        cJSON_ArrayForEach(ch, children)
        {
            meta_child *mch = &rec->children[rec->n_children++];
            mch->digest = json_dup(ch, "digest");
            mch->os = json_dup(ch, "os");
            mch->arch = json_dup(ch, "architecture");
            mch->variant = json_dup(ch, "variant");
            if (!registry_digest_valid(mch->digest))
                rc = -1;
        }
    } else if (cJSON_IsString(kind) && strcmp(kind->valuestring, "image") == 0) {
        const cJSON *created = cJSON_GetObjectItemCaseSensitive(root, "created");
        const cJSON *created_ns = cJSON_GetObjectItemCaseSensitive(root, "created_ns");
        if (cJSON_IsString(created)) {
            const char *when = created->valuestring;
            if (timefmt_parse(when, strlen(when), &rec->created) < 0)
                rc = -1;
            rec->has_created = true;
        } else if (cJSON_IsString(created_ns)) { /* files written before "created" */
            char *end;
            errno = 0;
            long long v = strtoll(created_ns->valuestring, &end, 10);
            if (*end || errno)
                rc = -1;
            rec->has_created = true;
            rec->created = timefmt_from_ns(v);
        }
        rec->os = json_dup(root, "os");
        rec->arch = json_dup(root, "architecture");
        rec->variant = json_dup(root, "variant");
    } else {
        rc = -1;
    }
    cJSON_Delete(root);
    if (rc < 0)
        meta_record_free(rec);
    return rc;
}

static char *record_to_json(const meta_record *rec)
{
    cJSON *root = cJSON_CreateObject();
    if (rec->is_index) {
        cJSON_AddStringToObject(root, "kind", "index");
        cJSON *arr = cJSON_AddArrayToObject(root, "children");
        for (size_t i = 0; i < rec->n_children; i++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "digest", rec->children[i].digest);
            if (rec->children[i].os)
                cJSON_AddStringToObject(o, "os", rec->children[i].os);
            if (rec->children[i].arch)
                cJSON_AddStringToObject(o, "architecture", rec->children[i].arch);
            if (rec->children[i].variant)
                cJSON_AddStringToObject(o, "variant", rec->children[i].variant);
            cJSON_AddItemToArray(arr, o);
        }
    } else {
        cJSON_AddStringToObject(root, "kind", "image");
        if (rec->has_created) {
            char text[TIMEFMT_MAX];
            timefmt_format(rec->created, text);
            cJSON_AddStringToObject(root, "created", text);
            /* also the old field while it can hold the date, so that an older tagpilot reading
             * this state dir still sees it (it reads only created_ns) */
            int64_t ns;
            if (!__builtin_mul_overflow(rec->created.sec, (int64_t)1000000000, &ns) &&
                !__builtin_add_overflow(ns, (int64_t)rec->created.nsec, &ns)) {
                char buf[32];
                snprintf(buf, sizeof buf, "%" PRId64, ns);
                cJSON_AddStringToObject(root, "created_ns", buf);
            }
        }
        if (rec->os)
            cJSON_AddStringToObject(root, "os", rec->os);
        if (rec->arch)
            cJSON_AddStringToObject(root, "architecture", rec->arch);
        if (rec->variant)
            cJSON_AddStringToObject(root, "variant", rec->variant);
    }
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    char *out = xstrdup(text);
    cJSON_free(text);
    return out;
}

/* The state dir, through statedir (its owner and mode checked, no link followed). Reading
 * never creates it; the first store does. A refused dir turns the disk cache off: the journal
 * has already told the user why. */
static statedir *cache_dir(meta_cache *mc, bool for_store)
{
    if (!mc->sd && mc->state_path && !mc->disk_off &&
        statedir_open(mc->state_path, for_store ? STATEDIR_CREATE : STATEDIR_EXISTING, &mc->sd,
                      NULL) < 0)
        mc->disk_off = true;
    return mc->sd;
}

static bool disk_load(meta_cache *mc, const char *digest, meta_record *rec)
{
    statedir *sd = cache_dir(mc, false);
    if (!sd)
        return false;
    char *rel = xasprintf(META_DIR "/%s.json", digest + 7);
    strbuf text = {0};
    bool ok = statedir_read_file(sd, rel, META_MAX_SIZE, &text, NULL) == 0 && text.len &&
              record_from_json(text.data, text.len, rec) == 0;
    strbuf_free(&text);
    free(rel);
    return ok;
}

/* text as rel: a new file (0600, unique name) renamed into place, so readers never see half
 * of it. A cache: a failure leaves nothing behind and is not an error. */
static void store_file(statedir *sd, const char *rel, const char *text)
{
    char *tmp;
    int fd = statedir_create_temp(sd, rel, &tmp, NULL);
    if (fd < 0)
        return;
    size_t len = strlen(text);
    bool ok = write(fd, text, len) == (ssize_t)len;
    ok = close(fd) == 0 && ok;
    if (!ok || statedir_replace(sd, tmp, rel, NULL) < 0)
        statedir_remove(sd, tmp);
    free(tmp);
}

static void disk_store(meta_cache *mc, const char *digest, const meta_record *rec)
{
    statedir *sd = cache_dir(mc, true);
    if (!sd)
        return;
    char *rel = xasprintf(META_DIR "/%s.json", digest + 7);
    char *text = record_to_json(rec);
    store_file(sd, rel, text);
    free(text);
    free(rel);
}

const meta_record *meta_cache_get(meta_cache *mc, const char *digest)
{
    if (!registry_digest_valid(digest))
        return NULL;
    cache_slot *s = memory_find(mc, digest);
    if (s)
        return &s->rec;
    if (!mc->state_path)
        return NULL;
    meta_record rec;
    if (!disk_load(mc, digest, &rec))
        return NULL;
    return &memory_insert(mc, digest, &rec)->rec;
}

void meta_cache_put(meta_cache *mc, const char *digest, const meta_record *rec)
{
    if (!registry_digest_valid(digest))
        return;
    meta_record copy;
    record_copy(&copy, rec);
    memory_insert(mc, digest, &copy);
    if (mc->state_path)
        disk_store(mc, digest, rec);
}

/* A repository's marker: REPOS_DIR/<sha256 hex of the key>, holding the key. */
static char *repo_rel(const char *key)
{
    char sum[72];
    registry_sha256(key, strlen(key), sum);
    return xasprintf(REPOS_DIR "/%s", sum + 7);
}

bool meta_cache_repo_seen(meta_cache *mc, const char *key)
{
    void *v = strmap_get(&mc->repos, key);
    if (v)
        return v == REPO_SEEN;
    bool seen = false;
    statedir *sd = mc->state_path ? cache_dir(mc, false) : NULL;
    if (sd) {
        char *rel = repo_rel(key);
        strbuf text = {0};
        seen = statedir_read_file(sd, rel, 4096, &text, NULL) == 0;
        strbuf_free(&text);
        free(rel);
    }
    strmap_put(&mc->repos, key, seen ? REPO_SEEN : REPO_NEW);
    return seen;
}

void meta_cache_repo_mark(meta_cache *mc, const char *key)
{
    if (strmap_get(&mc->repos, key) == REPO_SEEN)
        return;
    strmap_put(&mc->repos, key, REPO_SEEN);
    statedir *sd = mc->state_path ? cache_dir(mc, true) : NULL;
    if (!sd)
        return;
    char *rel = repo_rel(key);
    store_file(sd, rel, key);
    free(rel);
}
