/* holds: the operator's holds on images — pins, skipped candidate tags, and per-app approval
 * policies — in the form every engine and replica shares: `.tagpilot/holds.yaml` committed to
 * the repository an Application's git write-back goes to, or `tagpilot.io/...` annotations on the
 * Application itself for the argocd write-back. A pin made on one machine then holds on every
 * other; the local journal stays the audit log. Pure: parse, edit and render; no I/O.
 *
 * The file (docs/writeback.md "Shared holds"):
 *   apiVersion: tagpilot.io/v1
 *   kind: Holds
 *   applications:
 *     bookstore:
 *       policy: manual          # or auto; absent: the annotations' and config's default
 *       images:
 *         web:
 *           pin: "v1.0.0"
 *           skip: ["v1.2.0"]
 * The annotations: tagpilot.io/<alias>.pin (an empty value: not pinned), tagpilot.io/<alias>.skip
 * (comma-separated tags), and tagpilot.io/approval as the policy. Both come from people tagpilot
 * does not trust: every name and tag is checked against its grammar, and a file that does not
 * parse, names a key twice, or says anything it does not know, is an error (an unread pin would
 * let an engine move a pinned image).
 *
 * An app is "listed" when the file names it or it has a .pin or .skip annotation: from then on its
 * shared holds are the ones that count (state/decisions); before, the journal's still do, so
 * holds recorded before they were shared are not dropped by an upgrade. */
#ifndef TP_HOLDS_H
#define TP_HOLDS_H

#include <stdbool.h>
#include <stddef.h>

#include "annotations.h"
#include "strmap.h"
#include "util.h"

/* Where the holds live in a write-back repository. */
#define HOLDS_PATH ".tagpilot/holds.yaml"
/* The annotation prefix on an Application. */
#define HOLDS_ANNOTATION_PREFIX "tagpilot.io/"
/* Skipped tags kept per image: the oldest go first. */
#define HOLDS_MAX_SKIPS 64
/* Images held per app: a hostile file could otherwise make every cycle slow. */
#define HOLDS_MAX_IMAGES 1000

typedef struct holds_image {
    char *alias;
    char *pin;    /* or NULL */
    strvec skips; /* oldest first, no duplicates */
} holds_image;

typedef struct holds_app {
    char *name;
    char *policy; /* "auto", "manual" or NULL */
    holds_image *images;
    size_t n_images;
    bool listed; /* the file or the annotations name it: its shared holds count */
    char *error; /* why its holds cannot be read (engine_holds): nothing else is set */
} holds_app;

/* One file's holds (sorted by app name when rendered). */
typedef struct holds {
    holds_app *apps;
    size_t n_apps;
    strmap index; /* app name -> its index + 1 */
} holds;

typedef enum hold_op { HOLD_PIN, HOLD_UNPIN, HOLD_SKIP, HOLD_POLICY } hold_op;

/* One change (borrowed strings): pin alias at value, unpin alias, skip tag value for alias, set
 * the app's policy to value ("auto" or "manual"). */
typedef struct hold_edit {
    hold_op op;
    const char *app;
    const char *alias; /* NULL for HOLD_POLICY */
    const char *value; /* the tag or the policy; NULL for HOLD_UNPIN */
} hold_edit;

/* Parse a holds file (name for messages). Empty text is no holds. -1 with err naming the file,
 * the line and the problem. */
int holds_parse(const char *text, size_t len, const char *name, holds *out, tp_err *err);
/* The file's text for h: a comment, then the sorted document. A new string. */
char *holds_render(const holds *h);
/* Apply one edit. 1 when h changed, 0 when it already said so, -1 (err) for a name, tag or
 * policy outside its grammar. The app is listed after it. */
int holds_apply(holds *h, const hold_edit *e, tp_err *err);
/* The same on one app's holds (e->app must be a's name). */
int holds_app_apply(holds_app *a, const hold_edit *e, tp_err *err);
/* The app's entry, or NULL. */
const holds_app *holds_find(const holds *h, const char *app);
const holds_image *holds_app_image(const holds_app *a, const char *alias);
bool holds_app_skipped(const holds_app *a, const char *alias, const char *tag);
/* The pin that forbids a write of new_tag ("tag" or "tag@digest") for alias: the app's, when
 * it is listed and pins another tag, unless the write is itself a pin of alias (hold may be
 * NULL). NULL when the write may go. */
const char *holds_pin_conflict(const holds_app *a, const char *alias, const char *new_tag,
                               const hold_edit *hold);
/* A deep copy (NULL for NULL). */
holds_app *holds_app_dup(const holds_app *a);
void holds_app_free(holds_app *a);
void holds_app_clear(holds_app *a);
void holds_free(holds *h);

/* An Application's holds from its annotations (key/value pairs, all of them: those without the
 * prefix are ignored). -1 with err for a bad value or an unknown tagpilot.io/ key. *out is
 * filled on success (holds_app_clear). */
int holds_from_annotations(const char *app, const char *const *keys, const char *const *values,
                           size_t n, holds_app *out, tp_err *err);
/* The annotation key holding alias's pin ("pin") or skips ("skip"): a new string, or NULL with
 * err when alias cannot be part of an annotation name (63 characters of [A-Za-z0-9-_.]). */
char *holds_annotation_key(const char *alias, const char *what, tp_err *err);
/* The annotation key for the app's policy. */
#define HOLDS_ANNOTATION_POLICY ANNOTATION_APPROVAL
/* The annotation value for alias's skips after e (comma-joined) — what a patch sets. */
char *holds_skips_joined(const holds_image *img);

/* Grammar checks. */
bool holds_alias_valid(const char *alias);

#endif
