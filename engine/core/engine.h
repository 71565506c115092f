/* engine: the one background thread that owns sources, the registry client, decisions and the
 * journal. It scans on a schedule, publishes a new model snapshot after every change, wakes its
 * consumer through a pipe, and takes commands through a queue, each answered with a result.
 * The consumer (console or `tagpilot run`) never blocks on it: it polls engine_wake_fd(), then
 * takes the newest snapshot and any results. */
#ifndef TP_ENGINE_H
#define TP_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "model.h"
#include "util.h"

typedef struct engine engine;

typedef enum engine_policy_override {
    ENGINE_POLICY_CONFIG = 0, /* use the config's approval: */
    ENGINE_POLICY_MANUAL,
    ENGINE_POLICY_AUTO,
} engine_policy_override;

typedef struct engine_options {
    const tp_config *config;         /* borrowed; must outlive the engine */
    bool read_only;                  /* refuse every write and take no journal lock */
    bool dry_run;                    /* decide, but write nothing (not git, not the journal) */
    engine_policy_override approval; /* --approval */
    int64_t interval_ns;             /* 0: the config's interval */
    bool once;                       /* one cycle, then stop (engine_wait returns) */
    bool no_auto_writes;             /* decide, but write only what a command asks (CLI actions) */
    const char *only_app;            /* scan just this Application (CLI actions); NULL: all */
    bool no_diffs;    /* nobody will be shown a write's diff (`run --once` prints states and
                         candidates): do not plan them (200 plans in a 1,000-image scan) */
    bool no_evidence; /* nobody will be shown why a tag is not the candidate (`run --once`):
                         find each candidate without judging every tag (strategy_candidate);
                         the images' tag lists are then empty */
    bool leased;      /* leader election (`tagpilot serve` with serve.lease): write only while
                         engine_set_leader says so; until it first does, nothing is written */
    struct kube_tally *kube_tally; /* the Kubernetes clients count their requests into it
                                      (/metrics; kube/kube.h); NULL: not counted. Borrowed: it
                                      must outlive the engine and whatever else counts into it */
} engine_options;

typedef enum engine_cmd_kind {
    CMD_REFRESH = 0, /* app NULL: everything */
    CMD_APPROVE,
    CMD_PIN, /* tag required */
    CMD_UNPIN,
    CMD_ROLLBACK,   /* tag optional: the previous one from history */
    CMD_SKIP,       /* tag optional: the current candidate */
    CMD_SET_POLICY, /* policy "auto" or "manual"; app required, alias ignored */
    CMD_PAUSE,
    CMD_RESUME,
    CMD_SHUTDOWN,
} engine_cmd_kind;

typedef struct engine_command {
    engine_cmd_kind kind;
    const char *app;   /* borrowed during engine_submit only */
    const char *alias; /* NULL: the app's only image */
    const char *tag;
    const char *policy;
    const char *digest; /* approve: only if the candidate is still at this digest (what the
                           operator saw); NULL: the digest of the last scan */
    const char *user;   /* who acts, as the journal and the commit trailer name them (`tagpilot
                           serve` passes the peer's Unix user); NULL: this process's user */
} engine_command;

typedef struct engine_result {
    uint64_t id; /* as returned by engine_submit */
    engine_cmd_kind kind;
    bool ok;
    char *message; /* "bookstore/bookstore: v1.0.0 → v1.0.1 written (commit 1a2b3c4)" or why not */
    char *commit;  /* commit id when one was written, else NULL */
} engine_result;

/* Start the thread. Returns NULL with err when the state dir is unusable or locked by another
 * writer (read-only engines take no lock). */
engine *engine_start(const engine_options *opts, tp_err *err);
/* Ask it to stop, wait for the thread, free everything. Safe to call once. */
void engine_stop(engine *e);
/* engine_stop for a process that exits next (`run --once`): the thread is stopped and joined
 * the same way — nothing is left unwritten, and what it holds open (the journal, its lock, the
 * clone caches) the exit closes — but its memory goes with the process instead of being freed
 * piece by piece (~5 ms at 1,000 images). Sanitizer builds free it all, so that every test still
 * checks the whole teardown for leaks. */
void engine_stop_exiting(engine *e);
/* Tell a --once engine that everything is queued: it stops (phase ENGINE_STOPPED in a snapshot)
 * after its cycle and the queued commands. Does not block. */
void engine_finish_when_idle(engine *e);
/* engine_finish_when_idle, then block until the engine has stopped. */
void engine_wait(engine *e);

/* Readable whenever a new snapshot or result is ready; the consumer polls it. */
int engine_wake_fd(const engine *e);
/* Empty the wake pipe (call after poll says readable). */
void engine_drain_wake(engine *e);
/* The newest snapshot, referenced for the caller (unref when done). Never blocks on a scan. */
model_snapshot *engine_snapshot(engine *e);

/* Leader election (opts.leased): the engine writes — auto writes, commands, reconciling its
 * journal's intents — only while CLOCK_MONOTONIC is before write_until_ns (the lease's renew
 * deadline; 0: not the leader). Otherwise it refuses with "not the leader (holder: HOLDER)"
 * (holder: the Lease's holderIdentity, NULL or "" when none is known) and publishes snapshots
 * marked read-only. Becoming the leader asks for a cycle at once. Thread-safe. */
void engine_set_leader(engine *e, int64_t write_until_ns, const char *holder);

/* Queue a command; returns its id (> 0). Never blocks on a scan. */
uint64_t engine_submit(engine *e, const engine_command *cmd);
/* Move up to max finished results into out (caller frees each with engine_result_clear). */
size_t engine_take_results(engine *e, engine_result *out, size_t max);
void engine_result_clear(engine_result *r);

const char *engine_cmd_name(engine_cmd_kind kind);
/* The kind named ("approve"), or -1. */
int engine_cmd_kind_of(const char *name);
/* Whether a command of this kind changes anything (journal or git): what a viewer may not do. */
bool engine_cmd_writes(engine_cmd_kind kind);

/* The same consumer API over a `tagpilot serve` socket (engine_remote.c): every function above
 * works on the engine this returns, snapshots and results arrive from the server. Returns NULL
 * when nothing answers on socket_path (err->msg empty: no server, go on without one), or with
 * err when the server refuses this user or speaks another protocol. reconnect: when the server goes
 * away, say so in the snapshot (link_error) and connect again (the console); else stop (phase
 * ENGINE_STOPPED, pending commands failed). opts->once: engine_wait returns once the commands
 * queued have their results and the server has finished a cycle. opts->read_only: the snapshot says
 * read-only (the server refuses a viewer's actions whatever it sends). */
engine *engine_attach(const engine_options *opts, const char *socket_path, bool reconnect,
                      tp_err *err);
/* engine_attach's NULL with err->msg empty: nothing listens there (no file, or a stale socket).
 * The journal from the server: 1 with *records a JSON array of records (the caller frees it),
 * 0 when no server answers, -1 with err. */
int engine_attach_history(const char *socket_path, char **records, tp_err *err);

#endif
