/* decisions: what the journal says about each image now — its pin, the candidate tags an
 * operator skipped, the tag before its last write (what a rollback goes back to), and per-app
 * approval policies. Rebuilt from the journal at start and kept current record by record. */
#ifndef TP_DECISIONS_H
#define TP_DECISIONS_H

#include <stdbool.h>

#include "annotations.h"
#include "state/journal.h"
#include "strmap.h"

typedef struct decisions {
    strmap images;   /* "app\x1falias" -> struct decision_image* */
    strmap policies; /* app -> char* "auto" | "manual" */
} decisions;

/* Start empty, then apply every record of j in order. */
void decisions_rebuild(decisions *d, const journal *j);
/* Fold one record in (only successful ones change anything). */
void decisions_apply(decisions *d, const journal_record *rec);
void decisions_free(decisions *d);

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
