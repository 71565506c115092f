/* engine_internal: the engine's own struct, shared by engine.c (thread, queues),
 * engine_publish.c (blocks and snapshots), engine_scan.c (a cycle), engine_registry.c (its
 * registry questions) and engine_act.c (commands and write-back). Nothing outside engine_*.c
 * includes this. */
#ifndef TP_ENGINE_INTERNAL_H
#define TP_ENGINE_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include "engine.h"
#include "model_build.h"
#include "registry/registry.h"
#include "source/app.h"
#include "source/source.h"
#include "state/decisions.h"
#include "state/lastrun.h"
#include "state/journal.h"
#include "select/strategy.h"
#include "strmap.h"
#include "select/tagfilter.h"
#include "select/tagset.h"

#define ENGINE_LOG_KEEP 500

/* A write that went to another branch than the one the current tag is read from (git-branch
 * base:target): the tag is there, waiting for a merge. While it is the candidate it is not
 * written again (each cycle would otherwise push nothing and record a write). Kept while the
 * process runs; a new candidate, the tag reaching the base, or a restart ends it. */
typedef struct awaiting_merge {
    char *tag, *digest; /* what was written (digest NULL unless the digest strategy) */
    char *branch;       /* where it is: the push branch */
    char *base;         /* the branch it waits to be merged into */
} awaiting_merge;

/* One tracked image: an (application, alias) pair, rebuilt every cycle. Engine thread only. */
typedef struct tracked {
    char *key;                   /* "app\x1falias" */
    const argo_app *app;         /* in engine->apps */
    const image_settings *image; /* in app->settings */
    char *current;               /* tag in git now, NULL when unknown */
    char *current_digest;        /* when git pins one */
    tagfilter *filter;
    tag_table *tags;          /* this cycle's listing: shared by the repository's images, or the
                                 image's own when it needs per-tag metadata; NULL before */
    tag_verdicts *verdicts;   /* the selection over tags; NULL before */
    strvec platform_mismatch; /* newest-build tags with no image for the platforms */
    char *candidate;          /* NULL: none */
    char *candidate_digest;   /* digest the candidate tag pointed at when checked */
    char *hint_tag;           /* last cycle's candidate and its digest: the same candidate */
    char *hint_digest;        /* needs no HEAD again (approve re-checks before writing) */
    image_state state;
    char *detail;         /* error text or why; NULL */
    model_text *warnings; /* the app's annotation warnings, one reference per image; NULL */
    int64_t last_check_ns;
    char *diff;         /* what writing the candidate would commit */
    char *target;       /* where a write goes, for the console */
    int pending;        /* registry operations in flight for it */
    bool failed;        /* error already recorded; skip the rest */
    bool selected;      /* candidate chosen this cycle */
    model_block *block; /* last published form, NULL when it changed since */
    model_block *shown; /* when block is NULL: the form published before (reused if the
                           change left its strings alone), or NULL */
    bool from_last_run; /* block is the last run's row, not yet decided again */
    /* Owned; NULL unless a write waits on another branch, carried from cycle to cycle. */
    awaiting_merge *merge;
} tracked;

typedef struct preview_hint { /* one allocation */
    const char *digest;       /* in tag's storage, after it */
    char tag[];
} preview_hint;

struct engine {
    engine_options opts;
    const tp_config *cfg;
    pthread_t thread;
    bool thread_started;

    /* Shared with the consumer, under lock. */
    pthread_mutex_t lock;
    pthread_cond_t idle_cond; /* signalled when a --once engine has finished */
    model_snapshot *current;
    struct pending_command *queue; /* FIFO */
    struct pending_command *queue_tail;
    engine_result *results;
    size_t n_results, cap_results;
    uint64_t next_id;
    bool stop_requested;
    bool wait_called; /* engine_wait: the caller queued everything */
    bool finished;
    int wake_pipe[2]; /* engine -> consumer */
    int cmd_pipe[2];  /* consumer -> engine */

    /* Engine thread only. */
    registry_client *registry;
    registry_options registry_opts; /* to make a fresh client after a cancel */
    void **live_ops;                /* registry callback contexts not yet called back */
    size_t n_live_ops, cap_live_ops;
    registries_conf rconf;
    bool have_rconf;
    journal *journal;
    decisions dec;
    strmap history; /* "app\x1falias" -> struct history_list* (journal indexes) */
    app_source **sources;
    size_t n_sources;
    char *sources_label;
    char *source_error; /* why the last read of a source failed, or NULL */
    app_list *apps;     /* one per source, from the last cycle */
    size_t n_apps_lists;
    tracked *images; /* sorted by app, alias */
    size_t n_images;
    strmap by_key;      /* key -> tracked* */
    strmap last_states; /* key -> state + 1, to log changes only */
    strmap warned;      /* app name -> hash of the warnings last logged, for apps with some */
    /* The last run's table (last-run.json), published until the first cycle has read the
     * sources; its candidates and digests are that cycle's hints. */
    model_block **preview;
    size_t n_preview;
    strmap preview_by_key;    /* key -> model_block* in preview */
    strmap preview_hints;     /* key -> preview_hint*: where the last run's candidate pointed */
    int64_t preview_saved_ns; /* 0: no last run; the preview grows as the sources are read */
    size_t preview_apps;      /* of the app list being read, how many are in the preview */
    bool preview_unsorted;    /* rows were added since the last sort */
    int64_t last_run_ns;      /* the saved table's time, while rows from it are shown */
    size_t files_done, files_total; /* progress reading the sources (first cycle) */
    size_t files_base;              /* files in the sources read before this one */
    int64_t progress_published_ns;
    strmap tag_tables; /* repository name -> tag_table*: the last listing of each */
    strmap selections; /* selection key -> tag_verdicts*: verdicts any image may share */
    strvec log;        /* ring of the last ENGINE_LOG_KEEP lines */
    uint64_t log_total;
    uint64_t generation;
    engine_phase phase;
    size_t scan_done;
    int64_t last_cycle_ns, next_cycle_ns;
    bool refresh_requested;
    bool intents_pending; /* the journal may hold intents without an outcome (engine_reconcile) */
    char *identity;       /* "user@host" for trailers */
};

/* engine.c */
void engine_log(engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Tell the consumer a snapshot or a result is waiting (a byte down the wake pipe). */
void engine_wake_consumer(engine *e);
/* A shutdown was asked for (under the lock). */
bool engine_stop_requested(engine *e);
int64_t engine_now_ns(void);
void engine_post_result(engine *e, uint64_t id, engine_cmd_kind kind, bool ok, const char *commit,
                        const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void tracked_mark_dirty(tracked *t);
void tracked_set_detail(tracked *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* t is in error for this cycle (fmt takes one %s, arg); the rest of the cycle skips it. */
void tracked_fail(tracked *t, const char *fmt, const char *arg);
/* Run the registry client until nothing is outstanding (commands wait meanwhile). On failure or
 * a stop, everything outstanding is cancelled (engine_cancel_registry) before it returns -1. */
int engine_drive_registry(engine *e, tp_err *err);
/* Drop every outstanding registry operation without calling it back: a fresh client, and the
 * contexts the callbacks would have freed are freed here. */
void engine_cancel_registry(engine *e);
/* Register / forget a callback context (engine_registry's op_ctx), so a cancel can free it. */
size_t engine_live_op_add(engine *e, void *ctx);
void engine_live_op_done(engine *e, size_t slot);

/* engine_publish.c */
/* A new snapshot of the table for the consumer (blocks built for images that changed). */
void engine_publish(engine *e);
/* Fold journal record i into the per-image history the blocks carry; free it all. */
void engine_history_index(engine *e, size_t record_index);
void engine_history_free(engine *e);
/* Read last-run.json into e->preview (engine thread: its parse is big and brief, and belongs
 * in the arena the cycle reuses). */
void engine_build_preview(engine *e);
void engine_drop_preview(engine *e);
/* The last run's hints, once a cycle has read every source (until then they may still serve
 * images the failed read left out). */
void engine_drop_hints(engine *e);
/* A first start: rows for the app's images, "checking", into the preview. */
void engine_preview_add_app(engine *e, const argo_app *app);
/* The app's annotation warnings as the model shows them, one a line with the file and line of
 * the key: "apps/web.yaml:12: <message>"; NULL when there are none. */
model_text *engine_app_warnings(const argo_app *app);

/* engine_scan.c */
void engine_scan(engine *e);
void engine_decide(engine *e, tracked *t);
approval_policy engine_policy_of(const engine *e, const tracked *t);
void tracked_clear(tracked *t);
void awaiting_merge_free(awaiting_merge *m);

/* engine_registry.c */
/* Ask for every tracked image's tags (and digests, metadata as needed) and select candidates;
 * returns when every answer is in or the cycle is cut short. */
void engine_ask_registries(engine *e);
/* The candidate is what git has now (tag, and digest where git pins one). */
bool tracked_same_as_current(const tracked *t);
/* Drop the shared tag tables and verdict sets no image uses any more (all: every one). */
void engine_prune_tagsets(engine *e, bool all);

/* engine_act.c */
struct pending_command;
void engine_execute(engine *e, const struct pending_command *cmd);
/* Append a journal record and fold it into decisions and history (fsync'd before return). */
int engine_record(engine *e, const journal_record *rec, tp_err *err);

/* engine_write.c */
typedef struct write_request {
    const char *action;       /* "approve", "pin", "rollback", "auto" */
    const char *tag;          /* the tag to write */
    const char *digest;       /* the digest bound to it (the digest strategy writes tag@digest) */
    const char *trailer_name; /* "Approved-by", ...; NULL: no trailer */
} write_request;
/* Write and record one image's tag: plan, commit, intent, push, outcome. Returns 1 when a
 * commit was pushed (commit set, *replaced the tag it replaced as read on the tip: another
 * writer may have moved it since the scan), 0 when git already had the tag (nothing written;
 * recorded for an operator's action, not for the auto policy's, which would otherwise record
 * one such non-write a cycle), -1 with err otherwise (never "written" without its outcome in
 * the journal). When the branch written to is not the one the tag is read from (git-branch
 * base:target), t->merge says so after 1 and 0. replaced may be NULL; else *replaced is a new
 * string or NULL. */
int engine_write_and_record(engine *e, tracked *t, const write_request *req, char commit[41],
                            char **replaced, tp_err *err);
/* Settle the journal's intents that have no outcome, by asking their remotes whether the commit
 * landed (a writer only; one that cannot be reached stays for the next call). */
void engine_reconcile(engine *e);

struct pending_command {
    struct pending_command *next;
    uint64_t id;
    engine_cmd_kind kind;
    char *app, *alias, *tag, *policy, *digest;
};

#endif
