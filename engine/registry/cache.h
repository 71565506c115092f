/* registry/cache: what a manifest digest tells newest-build, kept for good (a digest names
 * immutable content) in memory and, when a state dir is given, on disk as one small JSON file
 * per digest under <state_dir>/registry/meta/sha256/<hex>.json (written atomically). A corrupt
 * or unreadable file is a miss, never an error. */
#ifndef TP_REGISTRY_CACHE_H
#define TP_REGISTRY_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "timefmt.h"
#include "util.h"

typedef struct meta_child {
    char *digest;              /* owned */
    char *os, *arch, *variant; /* owned; variant may be NULL */
} meta_child;

typedef struct meta_record {
    bool is_index;
    /* image manifest: from its config blob */
    bool has_created;
    tp_time created;
    char *os, *arch, *variant; /* owned; may be NULL */
    /* index / manifest list */
    meta_child *children; /* owned */
    size_t n_children;
} meta_record;

typedef struct meta_cache meta_cache;

/* state_dir may be NULL (memory only). The directory is created on first write. */
meta_cache *meta_cache_new(const char *state_dir);
void meta_cache_free(meta_cache *mc);
/* The record for digest, from memory or disk; NULL when unknown. Borrowed: lives as long as
 * the cache. */
const meta_record *meta_cache_get(meta_cache *mc, const char *digest);
/* Store a deep copy; written to disk when the cache has a state dir (failures ignored: the
 * cache is an optimisation). */
void meta_cache_put(meta_cache *mc, const char *digest, const meta_record *rec);
size_t meta_cache_count(const meta_cache *mc);

/* Whether the tags of a repository ("host key|repo") have been described before, here or in
 * an earlier run (a marker under <state_dir>/registry/repos/): then a HEAD per tag says whether
 * its digest moved; a repository never seen is read with one manifest GET per tag instead. */
bool meta_cache_repo_seen(meta_cache *mc, const char *key);
void meta_cache_repo_mark(meta_cache *mc, const char *key);

void meta_record_free(meta_record *r);
/* "sha256:<64 lowercase hex>" */
bool registry_digest_valid(const char *digest);

#endif
