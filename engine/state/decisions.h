/* decisions: what the journal says about each image now — its pin, the candidate tags an
 * operator skipped, the tag before its last write (what a rollback goes back to), and per-app
 * approval policies. Rebuilt from the journal at start and kept current record by record.
 * An app whose holds are shared (state/holds: .tagpilot/holds.yaml in its write-back repository,
 * or its tagpilot.io/ annotations) takes its pins, skips and policy from there instead: what
 * every engine sees wins over one state dir's journal. */
#ifndef TP_DECISIONS_H
#define TP_DECISIONS_H

#include <stdbool.h>

#include "annotations.h"
#include "state/holds.h"
#include "state/journal.h"
#include "strmap.h"

typedef struct decisions {
    strmap images;   /* "app\x1falias" -> struct decision_image* */
    strmap policies; /* app -> char* "auto" | "manual" */
    strmap shared;   /* app -> holds_app*: its shared holds, read this cycle */
} decisions;

/* Start empty, then apply every record of j in order. */
void decisions_rebuild(decisions *d, const journal *j);
/* Fold one record in (only successful ones change anything). */
void decisions_apply(decisions *d, const journal_record *rec);
void decisions_free(decisions *d);

/* The app's shared holds (taken; NULL: none, the journal's count again). They replace the
 * journal's pins and skips once the app is listed in them, and the journal's policy once they
 * set one or list the app. */
void decisions_set_shared(decisions *d, const char *app, holds_app *h);
/* A cycle's shared holds (app -> holds_app*, taken; *next is emptied) in place of the last
 * cycle's: apps no longer read drop out. */
void decisions_replace_shared(decisions *d, strmap *next);
/* The pin this state dir's journal records, whatever the shared holds say. */
const char *decisions_journal_pin(const decisions *d, const char *app, const char *alias);
/* A change to the shared holds just written: seen at once, not from the next read (for an app
 * that has shared holds). */
void decisions_hold(decisions *d, const hold_edit *e);
/* The app's shared holds, or NULL when its pins come from the journal. */
const holds_app *decisions_shared(const decisions *d, const char *app);

/* The pinned tag, or NULL. */
const char *decisions_pin(const decisions *d, const char *app, const char *alias);
bool decisions_skipped(const decisions *d, const char *app, const char *alias, const char *tag);
/* The tag the last write moved away from, or NULL when nothing was written yet. */
const char *decisions_previous(const decisions *d, const char *app, const char *alias);
/* The policy set with set-policy for app, or APPROVAL_DEFAULT. */
approval_policy decisions_policy(const decisions *d, const char *app);

/* Actions that write a tag to git (and so move "previous"): approve, auto, pin, rollback. */
bool decisions_action_writes(const char *action);

#endif
