/* model: the immutable picture of every tracked image that the engine publishes and the console
 * (or `tagpilot run`) reads. A snapshot is reference-counted and never changes once published;
 * images that did not change are shared between consecutive snapshots, so publishing after each
 * change costs one pointer array, not a copy of 10,000 images and their tag lists. */
#ifndef TP_MODEL_H
#define TP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "timefmt.h"

/* DESIGN §4. The order is the order the console sorts states in (most urgent first is done
 * by the console's own sort key, not by this enum). */
typedef enum image_state {
    STATE_CHECKING = 0,
    STATE_UP_TO_DATE,
    STATE_UPDATE_AVAILABLE,
    STATE_APPROVED,
    STATE_WRITING,
    STATE_WRITTEN,
    STATE_PINNED,
    STATE_HELD,
    STATE_ERROR,
    STATE_COUNT
} image_state;

/* "update-available": the name scripts and JSON use. */
const char *model_state_name(image_state state);
/* What the console shows a person: "update available: approve to write". */
const char *model_state_text(image_state state);

/* One tag of an image, as model_image_tag() makes it on demand (the reason is formatted into
 * the caller's buffer: the model keeps two bytes a tag, not a string). */
typedef struct model_tag {
    const char *name;
    const char *digest; /* NULL when unknown */
    tp_time created;    /* valid when has_created */
    bool has_created;
    bool eligible;
    bool candidate;
    const char *reason; /* "does not satisfy '~1.0'" */
} model_tag;

/* One journal record about this image, newest last. */
typedef struct model_event {
    const char *time, *user, *action, *from, *to, *commit, *result, *detail;
} model_event;

typedef struct model_image {
    /* identity */
    const char *app;
    const char *alias;
    const char *image; /* short name: "ghcr.io/amplication/bookstore-application" */
    /* how it is chosen */
    const char *strategy;   /* "semver" */
    const char *constraint; /* NULL when none */
    const char *policy;     /* "manual" or "auto" */
    /* where it stands */
    const char *current;   /* tag running per git, NULL when unknown */
    const char *live;      /* tag the cluster runs (status.summary.images) for an Application
                              read from a cluster; NULL otherwise or when it says none */
    const char *candidate; /* NULL when none */
    const char *candidate_digest;
    const char *pin;      /* pinned tag, NULL when not pinned */
    const char *previous; /* tag a rollback would go back to, NULL when none */
    image_state state;
    const char *detail; /* error text, or why held/pinned/refused; NULL */
    /* What the Application's annotations say that does nothing, or not what was meant (a
     * misspelt key, a deprecated name): one warning a line, each "FILE:LINE: message"; NULL
     * when there are none. Shared by the app's images. */
    const char *warnings;
    int64_t last_check_ns; /* wall clock, 0 before the first check */
    /* what a write would do */
    const char *target; /* "charts/bookstore/.argocd-source-bookstore.yaml in file:///…" */
    const char *diff;   /* unified diff a write of the candidate would commit; NULL */
    /* evidence: the registry's tags (registry order) and the verdict on each; read them with
     * model_image_tag(). Shared with other images of the same repository and selection. */
    const struct tag_verdicts *tags;
    size_t n_tags;
    const model_event *history;
    size_t n_history;
} model_image;

typedef enum engine_phase {
    ENGINE_STARTING = 0,
    ENGINE_IDLE,
    ENGINE_SCANNING,
    ENGINE_PAUSED,
    ENGINE_STOPPED,
} engine_phase;

typedef struct model_rate {
    const char *registry; /* host */
    long remaining;       /* RateLimit-Remaining last seen */
} model_rate;

/* One registry's requests, for /metrics. */
typedef struct model_registry_count {
    const char *registry;      /* host[:port] the requests go to (registry_host_count) */
    uint64_t requests, failed; /* since the engine started */
} model_registry_count;

typedef struct model_snapshot {
    uint64_t generation; /* grows by one per publish */
    engine_phase phase;
    size_t scan_done, scan_total; /* progress of the cycle in flight */
    int64_t last_cycle_ns;        /* wall clock of the last finished cycle, 0 before */
    int64_t next_cycle_ns;        /* when the next one starts, 0 when paused */
    int64_t last_run_ns; /* nonzero: n_last_run of the images are rows of the table a run saved
                            then (last-run.json), shown at start until this run has decided
                            them again */
    size_t n_last_run;
    size_t files_done, files_total; /* the first cycle reading a source's files (else 0, 0):
                                       a first start shows the Applications read so far */
    bool read_only;                 /* the engine refuses writes */
    const char *sources;      /* "git file:///…/config.git@main:apps" (several joined by ", ") */
    const char *source_error; /* why the last read of a source failed (its apps are those of
                                 the read before, if any), or NULL */
    const model_image *const *images; /* sorted by app, then alias */
    size_t n_images;
    const model_rate *rates;
    size_t n_rates;
    const char *const *log; /* recent engine events, oldest first */
    size_t n_log;
    uint64_t log_total; /* events ever logged: log[n_log-1] is event number log_total */
    /* For /metrics (`tagpilot serve`): counters of this engine since it started. */
    const model_registry_count *registry_counts; /* per registry, in the order first asked */
    size_t n_registry_counts;
    uint64_t images_updated;        /* writes that committed a new tag */
    int64_t last_cycle_duration_ns; /* how long the last finished cycle took */
    size_t journal_records;         /* records in the journal */
    /* Attached to a server (engine_attach): its socket; NULL for an engine of one's own. */
    const char *attached;
    const char *link_error; /* attached, and the server is not answering: why; else NULL */
    bool viewer; /* attached, and the server's hello said this peer is a viewer (or named no
                    role): it refuses writes, so a console binds no writing key */
    struct model_private *priv; /* refcount and storage; not for readers */
} model_snapshot;

/* Take another reference (returns s). Thread-safe. */
model_snapshot *model_snapshot_ref(model_snapshot *s);
/* Drop a reference; the last one frees. Thread-safe. NULL is fine. */
void model_snapshot_unref(model_snapshot *s);

/* Tag i (< img->n_tags) of img, its reason written into reason[len] (reason NULL: no reason,
 * for when only names and verdicts matter, as in sorting). A buffer of MODEL_REASON_MAX holds
 * any reason whole. */
#define MODEL_REASON_MAX 512
model_tag model_image_tag(const model_image *img, size_t i, char *reason, size_t len);

/* Find an image by app and alias (alias NULL: the app's only image, or its first). */
const model_image *model_find(const model_snapshot *s, const char *app, const char *alias);

#endif
