/* lastrun: the table the last cycle left, kept in <state-dir>/last-run.json between runs.
 * Two uses. A console started on 10,000 images draws these rows at once, marked as the last
 * run's, instead of a blank screen while the sources are read and parsed. And a restarted engine
 * does not ask the registry again where an unchanged candidate points (a steady cycle stays at
 * one tag listing per repository); an approval still re-reads the digest before writing, so a
 * stale row can only cause a refusal, never a wrong write. A missing or unreadable file is an
 * empty table. */
#ifndef TP_LASTRUN_H
#define TP_LASTRUN_H

#include <stdint.h>

#include "model.h"
#include "strmap.h"
#include "util.h"

typedef struct lastrun_row {
    char *key; /* "app\x1falias" */
    char *app, *alias, *image, *strategy, *constraint, *policy;
    char *current, *candidate, *candidate_digest, *detail; /* NULL when none */
    char *hint_tag, *hint_digest; /* in error this time, with no candidate (say, the registry
                                     did not answer): where the one before pointed, or NULL */
    image_state state;
    int64_t checked_ns; /* 0: never checked */
} lastrun_row;

typedef struct lastrun {
    lastrun_row *rows; /* in the order saved: the snapshot's (app, alias) */
    size_t n;
    strmap by_key;    /* key -> lastrun_row* */
    int64_t saved_ns; /* wall clock of the save, 0 when there is no table */
} lastrun;

/* Read-only: a missing, refused or unreadable state dir or file is an empty table. */
void lastrun_load(const char *state_dir, lastrun *out);
/* Replace the file with these rows: a new temp file (0600, unique name), fsync, rename, all
 * through statedir (the dir is checked, no link followed). Returns 0 or -1 with err. */
int lastrun_save(const char *state_dir, const lastrun_row *rows, size_t n, int64_t saved_ns,
                 tp_err *err);
const lastrun_row *lastrun_find(const lastrun *lr, const char *key);
void lastrun_free(lastrun *lr);

#endif
