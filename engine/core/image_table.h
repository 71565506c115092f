/* image_table: the tracked images — one per (Application, alias), rebuilt every cycle — and
 * every change of an image's state. The scanner, the registry callbacks and the commands set
 * what they learn through these calls (current tag, selection, failure, a write's outcome) and
 * image_decide turns it into a state; nothing else assigns a state. Engine thread only.
 *
 *   checking ─▶ error            (the app, its image, git or the registry failed: image_fail)
 *            ─▶ image_decide ─▶  pinned | up-to-date | held | update-available | written
 *   update-available ─▶ writing ─▶ written | error (image_written, image_auto_written,
 *                                                   image_write_failed)
 *                    ─▶ approved (dry run's auto policy: image_would_write) */
#ifndef TP_IMAGE_TABLE_H
#define TP_IMAGE_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "annotations.h"
#include "engine.h"
#include "model.h"
#include "model_build.h"
#include "source/app.h"
#include "state/decisions.h"
#include "select/tagfilter.h"
#include "select/tagset.h"
#include "strmap.h"
#include "util.h"

/* A write that went to another branch than the one the current tag is read from (git-branch
 * base:target): the tag is there, waiting for a merge. While it is the candidate it is not
 * written again (each cycle would otherwise push nothing and record a write). Kept while the
 * process runs; a new candidate, the tag reaching the base, or a restart ends it. */
typedef struct awaiting_merge {
    char *tag, *digest; /* what was written (digest NULL unless the digest strategy) */
    char *branch;       /* where it is: the push branch */
    char *base;         /* the branch it waits to be merged into */
} awaiting_merge;

/* One tracked image. The fields are read by everyone; they are set through the calls below
 * (the registry's check fills tags, verdicts and platform_mismatch). */
typedef struct tracked {
    char *key;                   /* "app\x1falias" */
    const argo_app *app;         /* in the engine's app lists */
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
    struct image_check *check; /* this cycle's registry check while it runs; NULL before, and
                                  once done (its answers are in the fields above) */
    bool check_finished;       /* the check has called back (perhaps before it returned) */
} tracked;

/* The cycle's images, sorted by app and alias, and what outlives a cycle about them. */
typedef struct image_table {
    tracked *images;
    size_t n_images;
    strmap by_key;      /* key -> tracked* */
    strmap last_states; /* key -> state + 1, to log changes only */
} image_table;

/* A new image of app, "checking" (failed at once when the app or the image is in error).
 * target: where its writes go (owned by the image now). */
void image_init(tracked *t, const argo_app *app, const image_settings *image, char *target);
void image_clear(tracked *t);
void awaiting_merge_free(awaiting_merge *m);
/* Free every image and the table's maps. */
void image_table_free(image_table *tab);

/* The published form is out of date (the next publish builds it again). */
void image_mark_dirty(tracked *t);
void image_set_detail(tracked *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* t is in error for this cycle (fmt takes one %s, arg); the rest of the cycle skips it. */
void image_fail(tracked *t, const char *fmt, const char *arg);

/* What git has now (tag NULL: unknown). */
void image_set_current(tracked *t, const char *tag, const char *digest);
/* The selection's candidate (tag NULL: none) and the digest it points at, when known. */
void image_set_candidate(tracked *t, const char *tag, const char *digest);
/* The candidate's digest, learnt after the selection. */
void image_set_candidate_digest(tracked *t, const char *digest);

/* The candidate is what git has now (tag, and the digest where the digest strategy pins it). */
bool image_same_as_current(const tracked *t);

/* The state from what the image knows and the operator's decisions: error, pinned,
 * up-to-date, held (skipped), written (waiting for a merge) or update-available. */
void image_decide(tracked *t, const decisions *dec);

/* Approval policy: a set-policy recorded in the journal, else the app's annotation, else
 * --approval, else the config's. */
approval_policy image_policy(const tracked *t, const decisions *dec, engine_policy_override over,
                             approval_policy config_default);

/* An approval binds to a digest: the one the operator saw (shown), else the scan's. NULL when
 * the tag still points there (or nothing was bound); else why not (owned by the caller). */
char *image_digest_moved(const tracked *t, const char *shown, const char *now);
/* The approval was refused because the candidate moved to now: it is offered again at now. */
void image_candidate_moved(tracked *t, const char *now, const char *why);

/* A write is under way (shown while it runs). */
void image_writing(tracked *t);
/* The write failed: the image shows why (its candidate stays: it may be approved again). */
void image_write_failed(tracked *t, const char *why);
/* An operator's write left tag (and digest) in git: committed when a commit was pushed. On
 * another branch (t->merge) git's current tag stays until the merge. */
void image_written(tracked *t, const decisions *dec, const char *tag, const char *digest,
                   bool committed);
/* The auto policy wrote the candidate (commit "" when git already had it). */
void image_auto_written(tracked *t, const char *commit);
/* The auto policy would write the candidate, but this is a dry run. */
void image_would_write(tracked *t);

/* The image of app/alias (alias NULL: any of the app's); *matches says how many there are
 * (the caller refuses 0 and, without an alias, more than one). */
tracked *image_table_find(image_table *tab, const char *app, const char *alias, size_t *matches);

#endif
