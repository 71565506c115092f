/* journal: the durable, append-only history of operator and engine actions — one JSON record per
 * line in <state-dir>/journal.jsonl. A record is on disk (fsync'd) before journal_append
 * returns, so an acknowledged action survives kill -9 and power loss. A torn last line (a crash
 * mid-write) is detected, ignored with a warning and cut off before the next append; a corrupt
 * line elsewhere is skipped with a warning naming it; no other record is ever lost.
 * One writer per state dir, enforced by a lock; readers need no lock.
 *
 * Writes to git are recorded ahead: an "intent" record (result "intent", with op, commit, repo
 * and branch) is durable before the push, the outcome after it (the same op). An intent with no
 * outcome is a push whose fate is unknown — tagpilot stopped, or the transfer broke off — and is
 * reconciled against the remote (engine_write.c). */
#ifndef TP_JOURNAL_H
#define TP_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

typedef struct journal_record {
    char *time; /* RFC 3339 UTC, filled by journal_append when NULL */
    char *user; /* operator identity, filled by journal_append when NULL */
    char *host;
    char *ssh;    /* $SSH_CONNECTION when set, else NULL */
    char *action; /* approve, pin, unpin, rollback, skip, set-policy, write, … */
    char *app;
    char *alias;
    char *from;   /* tag before */
    char *to;     /* tag after (or policy for set-policy) */
    char *digest; /* digest bound to the action, when any */
    char *commit; /* git commit id written, when any */
    char *result; /* "ok", "refused", "error"; "intent" for a write-ahead record */
    char *detail; /* error text or note, when any */
    char *op;     /* one write's id, shared by its intent records and its outcome */
    char *repo;   /* repository written to (no credentials), with commit */
    char *branch; /* branch pushed to, with commit */
} journal_record;

typedef enum journal_mode {
    JOURNAL_READ_WRITE, /* takes the state dir's lock; fails when another process holds it */
    JOURNAL_READ_ONLY,  /* no lock, no writes: for viewers while a writer runs */
} journal_mode;

typedef struct journal journal;

/* Open (creating the state dir 0700 and the journal 0600 when writing) and load every record.
 * The state dir and its files go through statedir: a dir that is not the caller's is refused,
 * and no link in it is followed. A reader creates nothing (no state dir: no records).
 * A second writer on one state dir gets "state dir … is in use by another tagpilot (pid N);
 * open it read-only to watch". */
int journal_open(const char *state_dir, journal_mode mode, journal **out, tp_err *err);
void journal_close(journal *j);

/* Append rec (time/user/host/ssh filled in when NULL), fsync, then keep a copy in memory.
 * Returns 0 only once the record is durable. Refused in read-only mode. */
int journal_append(journal *j, const journal_record *rec, tp_err *err);

size_t journal_count(const journal *j);
/* The i-th record, oldest first; owned by the journal. */
const journal_record *journal_get(const journal *j, size_t i);
/* Warnings from loading (torn or corrupt lines), one message each. */
const strvec *journal_warnings(const journal *j);
const char *journal_path(const journal *j);

/* Rewrite the journal with only its valid records (new file, fsync, rename, fsync dir). Corrupt
 * lines are kept aside in journal.corrupt, never silently dropped. */
int journal_compact(journal *j, tp_err *err);

/* Serialise / parse one record (a line without the newline). Parse returns -1 when the line is
 * not a JSON object with an "action". */
char *journal_record_to_json(const journal_record *rec);
int journal_record_from_json(const char *line, size_t len, journal_record *out);
void journal_record_clear(journal_record *rec);

/* The operator as the journal and commit trailers name them: "user@host". Owned by the caller. */
char *journal_identity(void);

#endif
