/* yamlcache: the Application manifests a --once run parsed, kept in the state dir for the next
 * one, so that a steady scan of unchanged files skips libyaml (a quarter of its CPU at 1,000
 * Applications). An entry is keyed by the file's exact bytes, compared whole (not a hash of
 * them): a file that changed in any way is parsed again. Documents come back through
 * yamldoc_unflatten, which checks what it reads (after its checksum). The file holds what the last
 * saving run read and nothing older, so it never outgrows one run's manifests; one that is missing,
 * written by another build of the parser, damaged or larger than YAMLCACHE_MAX_BYTES is an empty
 * cache. */
#ifndef TP_YAMLCACHE_H
#define TP_YAMLCACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"
#include "yamldoc.h"

#define YAMLCACHE_FILE      "yaml-cache"
#define YAMLCACHE_MAX_BYTES (256u << 20)
/* Files larger than this are parsed every time and never kept. */
#define YAMLCACHE_MAX_SOURCE (1u << 20)

typedef struct yamlcache yamlcache;

/* The cache saved in state_dir (a missing or unusable file: an empty one). writer: this run
 * saves it (the journal's writer); a new manifest's form is then written to a temp file as soon
 * as it is parsed, so no run holds every form until it saves. */
yamlcache *yamlcache_load(const char *state_dir, bool writer);
/* yamldoc_parse, from the cache when these exact bytes were parsed before (c NULL: no cache). */
int yamlcache_parse(yamlcache *c, const char *buf, size_t len, const char *name, ydoc *out,
                    tp_err *err);
/* A writer's save: the new file (what this run parsed, and what it read of the old one) put in
 * the old one's place, when they differ (new files, or files no longer read). Nothing for a
 * reader. -1 with err when the file cannot be written; the cache is only a cache then. */
int yamlcache_save(yamlcache *c, tp_err *err);
/* The largest file kept or read (YAMLCACHE_MAX_BYTES; a test sets less). Past it, a writer leaves
 * entries out, so the file the next run loads is never one it refuses. */
void yamlcache_set_max_bytes(yamlcache *c, size_t max_bytes);
/* What this run's parses took from the cache, and what they parsed (for tests and the log). */
void yamlcache_counts(const yamlcache *c, size_t *from_cache, size_t *parsed);
void yamlcache_free(yamlcache *c);

#endif
