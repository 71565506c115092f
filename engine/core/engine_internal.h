/* engine_internal: the engine's own struct, shared by engine.c (thread, queues),
 * engine_publish.c (blocks and snapshots), engine_scan.c (a cycle), engine_registry.c (its
 * registry questions) and engine_act.c (commands and write-back). Nothing outside engine_*.c
 * includes this. */
#ifndef TP_ENGINE_INTERNAL_H
#define TP_ENGINE_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include "engine.h"
#include "image_table.h"
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
#include "source/repotree.h"
#include "writeback/writeback.h"

#define ENGINE_LOG_KEEP      500
#define ENGINE_WRITE_METHODS (WRITEBACK_GIT + 1) /* one per writeback_method */

typedef struct preview_hint { /* one allocation */
    const char *digest;       /* in tag's storage, after it */
    char tag[];
} preview_hint;

/* engine.c: what the engine shares with its consumer, under lock. */
typedef struct engine_inbox {
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
    /* engine_set_leader (opts.leased): writes allowed until this CLOCK_MONOTONIC ns; and the
     * Lease's holder, for the refusal's message */
    int64_t write_until_ns;
    char lease_holder[128];
    bool lease_led; /* what the last engine_set_leader said: a change asks for a cycle */
} engine_inbox;

/* engine_registry.c: the registry client, the operations in flight, and the tag tables and
 * selections images share across cycles. */
typedef struct engine_tags {
    registry_client *registry;
    registry_options registry_opts; /* to make a fresh client after a cancel */
    void **live_ops;                /* registry callback contexts not yet called back */
    size_t n_live_ops, cap_live_ops;
    registries_conf rconf;
    bool have_rconf;
    strmap tables;  /* repository name -> tag_table*: the last listing of each */
    strmap matched; /* repository name -> the client's listing (strvec*) found equal to its
                       table, so the next image of the repository needs no comparison of 500
                       names; valid in its lists epoch (registry_client_lists_epoch) only */
    uint64_t matched_epoch;
    int64_t pumped_ns; /* engine_pump_registry's last look (engine_now_ns) */
    strmap selections; /* selection key -> tag_verdicts*: verdicts any image may share */
    bool cycle_begun;  /* this scan's first question started the client's cycle */
} engine_tags;

/* engine_act.c and engine_write.c: the journal and what is built from it. */
typedef struct engine_records {
    journal *journal;
    decisions dec;
    strmap history;       /* "app\x1falias" -> struct history_list* (journal indexes) */
    bool intents_pending; /* the journal may hold intents without an outcome (engine_reconcile) */
    char *identity;       /* "user@host" for trailers */
    const char *acting;   /* the command being executed names its user (engine_command.user):
                             journal records and trailers name that user; NULL: identity's */
    uint64_t writes;      /* commits of a new tag since start (images_updated) */
} engine_records;

/* engine_scan.c: the sources and what the last read of them gave. */
typedef struct engine_sources {
    app_source **list;
    size_t n;
    char *label;
    char *error;    /* why the last read of a source failed, or NULL */
    app_list *apps; /* one per source, from the last cycle */
    size_t n_apps_lists;
    strmap warned; /* app name -> hash of the warnings last logged, for apps with some */
    size_t files_done, files_total; /* progress reading the sources (first cycle) */
    size_t files_base;              /* files in the sources read before this one */
    size_t apps_asked; /* of the app list being read, how many were asked ahead about */
    int64_t progress_published_ns;
    struct gitcred_secret *git_secrets; /* cluster_creds.c: read this cycle, wiped when freed */
    size_t n_git_secrets;
} engine_sources;

/* engine_publish.c: the last run's table (last-run.json), published until the first cycle has
 * read the sources; its candidates and digests are that cycle's hints. */
typedef struct engine_preview {
    model_block **blocks;
    size_t n;
    strmap by_key;       /* key -> model_block* in blocks */
    strmap hints;        /* key -> preview_hint*: where the last run's candidate pointed */
    int64_t saved_ns;    /* 0: no last run; the preview grows as the sources are read */
    size_t apps;         /* of the app list being read, how many are in the preview */
    bool unsorted;       /* rows were added since the last sort */
    int64_t last_run_ns; /* the saved table's time, while rows from it are shown */
} engine_preview;

/* Ways of writing an image's new tag (write-back-method), behind one interface: git commits to
 * the Application's repository; argocd (patching the Application) needs a Kubernetes source. */
typedef struct write_method {
    const char *name;
    bool reads_files;    /* plan needs the repository's files (the tree the scan read) */
    const char *receipt; /* what a write left, one %s (the id): "commit %.12s" */
    const char *already; /* nothing written because it is there: "git already has it" */
    /* Where a write goes, for the console (owned by the caller). */
    char *(*target)(const argo_app *app, const tp_config *cfg);
    /* Why this method cannot write for app (-1 with err), checked before anything is planned;
     * NULL: it always can. */
    int (*usable)(const argo_app *app, tp_err *err);
    /* The diff a write would commit, from the tree the scan read; NULL: none to show. */
    int (*plan)(const argo_app *app, repotree *tree, const image_update *u,
                const writeback_opts *wo, writeback_change *out, tp_err *err);
    /* Write (calling wo->before_push before anything leaves), as writeback_apply. u NULL:
     * no tag moves, the write is wo->hold's change to the shared holds alone. */
    int (*apply)(const argo_app *app, const image_update *u, const writeback_opts *wo,
                 writeback_result *res, tp_err *err);
} write_method;

struct engine {
    engine_options opts;
    const tp_config *cfg;
    pthread_t thread;
    bool thread_started;
    engine_inbox inbox;
    engine_tags tags;
    engine_records records;
    engine_sources src;
    engine_preview preview;
    image_table table;
    /* Indexed by write_back_method; engine_start fills them (a test may put its own). */
    const write_method *write_methods[ENGINE_WRITE_METHODS];

    /* Engine thread only. */
    strvec log; /* ring of the last ENGINE_LOG_KEEP lines */
    uint64_t log_total;
    uint64_t generation;
    engine_phase phase;
    size_t scan_done;
    int64_t last_cycle_ns, next_cycle_ns;
    bool refresh_requested;
    int64_t last_cycle_duration_ns;
    struct remote_link *remote; /* attached to a server (engine_remote.c): the rest is unused */
};

/* engine.c */
void engine_log(engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Tell the consumer a snapshot or a result is waiting (a byte down the wake pipe). */
void engine_wake_consumer(engine *e);
/* A shutdown was asked for (under the lock). */
bool engine_stop_requested(engine *e);
int64_t engine_now_ns(void);
/* Whether this engine may write now: always, unless opts.leased and the lease's renew deadline
 * has passed (or it was never the leader). When not, why into why[len] ("not the leader
 * (holder: X)"). */
bool engine_leading(engine *e, char *why, size_t len);
void engine_post_result(engine *e, uint64_t id, engine_cmd_kind kind, bool ok, const char *commit,
                        const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* engine_publish.c */
/* A new snapshot of the table for the consumer (blocks built for images that changed). */
void engine_publish(engine *e);
/* Fold journal record i into the per-image history the blocks carry; free it all. */
void engine_history_index(engine *e, size_t record_index);
void engine_history_free(engine *e);
/* Read last-run.json into e->preview (engine thread: its parse is big and brief, and belongs
 * in the arena the cycle reuses): the rows to show, when rows, and the hints that spare HEADs.
 * Lets the registry client run meanwhile. */
void engine_build_preview(engine *e, bool rows);
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
/* The image's approval policy under this engine's options and config (image_policy). */
approval_policy engine_policy_of(const engine *e, const tracked *t);

/* engine_registry.c */
/* Ask for every tracked image's tags (and digests, metadata as needed) and select candidates;
 * returns when every answer is in or the cycle is cut short. */
void engine_ask_registries(engine *e);
/* While the sources are read: ask now for the tag lists app's images will need, so that
 * engine_ask_registries finds them asked (or answered). Only what that will ask: not for an app
 * or image in error, filtered out entirely or outside --app. */
void engine_ask_ahead(engine *e, const argo_app *app);
/* Let the registry client send and receive without waiting (the answers asked ahead). Looks at
 * most every PUMP_EVERY_NS: called after every file read, it would poll ten sockets a thousand
 * times for a scan's 200 answers. */
void engine_pump_registry(engine *e);
/* Drop the shared tag tables and verdict sets no image uses any more (all: every one). */
void engine_prune_tagsets(engine *e, bool all);
/* The registry client from the config's registries.conf; engine_tags_free frees it all. */
int engine_open_registry(engine *e, tp_err *err);
void engine_tags_free(engine *e);
/* Run the registry client until nothing is outstanding (commands wait meanwhile). On failure or
 * a stop, everything outstanding is cancelled (engine_cancel_registry) before it returns -1. */
int engine_drive_registry(engine *e, tp_err *err);
/* Drop every outstanding registry operation without calling it back: a fresh client, and the
 * contexts the callbacks would have freed are freed here. */
void engine_cancel_registry(engine *e);
/* Register / forget a callback context (engine_registry's op_ctx), so a cancel can free it. */
size_t engine_live_op_add(engine *e, void *ctx);
void engine_live_op_done(engine *e, size_t slot);

/* engine_act.c */
struct pending_command;
void engine_execute(engine *e, const struct pending_command *cmd);
/* Append a journal record and fold it into decisions and history (fsync'd before return). */
int engine_record(engine *e, const journal_record *rec, tp_err *err);

/* engine_write.c */
typedef struct write_request {
    const char *action;       /* "approve", "pin", "rollback", "auto"; with tag NULL: "unpin",
                                 "skip", "set-policy" */
    const char *tag;          /* the tag to write; NULL: the hold's change alone */
    const char *digest;       /* the digest bound to it (the digest strategy writes tag@digest) */
    const char *trailer_name; /* "Approved-by", ...; NULL: no trailer */
    const hold_edit *hold;    /* the shared holds' change made in the same write, or NULL */
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
/* The write-back methods an engine starts with. */
void engine_write_methods_init(engine *e);

/* engine_holds.c */
/* The holds read in one cycle: files parsed per tree, and each app's entry. */
typedef struct holds_cycle {
    strmap files; /* "%p" of a repotree -> its parsed .tagpilot/holds.yaml */
    strmap next;  /* app -> holds_app*: handed to the decisions by engine_holds_finish */
} holds_cycle;
/* Read the app's shared holds for this cycle: its tagpilot.io/ annotations (argocd
 * write-back) or .tagpilot/holds.yaml in tree (git write-back; tree is the repository the scan
 * read it from, NULL when it was not read). NULL, or why the holds cannot be read: the app's
 * images must not move then. */
const char *engine_holds_read(engine *e, const argo_app *app, repotree *tree, holds_cycle *hc);
/* Whether app's holds are shared (a write can carry them): argocd write-back from a cluster, or
 * git write-back without a review branch. */
bool engine_holds_shared(const argo_app *app);
/* The cycle's holds take the last cycle's place in the decisions. */
void engine_holds_finish(engine *e, holds_cycle *hc);
/* Log the journal pins of t's app that its first shared hold has just superseded. */
void engine_holds_note_listed(engine *e, const tracked *t);

/* cluster_creds.c */
/* Read the git credentials the cluster holds for this cycle (Argo CD's repository Secrets,
 * git:secret: annotations), replacing the last cycle's. */
void engine_read_git_secrets(engine *e);
void engine_git_secrets_free(engine *e);
/* The git options of this cycle: the config's, and the Secrets read from the cluster. */
gitrepo_opts engine_git_opts(const engine *e);

struct pending_command {
    struct pending_command *next;
    uint64_t id;
    engine_cmd_kind kind;
    char *app, *alias, *tag, *policy, *digest, *user;
};
/* engine.c: the consumer's queue, for the remote engine's thread too. */
struct pending_command *engine_pop_command(engine *e);
void engine_free_command(struct pending_command *c);
/* engine_remote.c: the link of an attached engine; its thread; freeing it. */
struct remote_link;
void *engine_remote_main(void *arg);
void engine_remote_free(struct remote_link *r);

#endif
