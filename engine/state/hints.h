/* hints: each image's last candidate and the digest it had, kept in <state-dir>/hints.json
 * between runs, so a restarted engine does not ask the registry again where an unchanged
 * candidate points (a steady cycle stays at one tag listing per repository). An approval still
 * re-reads the digest before writing, so a stale hint can only cause a refusal, never a wrong
 * write. A missing or unreadable file is an empty set of hints. */
#ifndef TP_HINTS_H
#define TP_HINTS_H

#include "strmap.h"
#include "util.h"

typedef struct hint {
    char *tag;
    char *digest;
} hint;

/* Load into map (key -> hint*; the caller frees with hints_free). */
void hints_load(const char *state_dir, strmap *map);
/* Replace the file with keys/tags/digests (n entries; NULL tags skipped): temp file, fsync,
 * rename. Returns 0 or -1 with err. */
int hints_save(const char *state_dir, const char *const *keys, const char *const *tags,
               const char *const *digests, size_t n, tp_err *err);
void hints_free(strmap *map);

#endif
