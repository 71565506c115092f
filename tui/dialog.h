/* dialog: the confirm dialog every dangerous action goes through, and the tag chooser pin and
 * rollback open first. A confirm dialog starts on Cancel and shows what will be written; `y`
 * confirms, `n`/Esc cancels, Tab (and the arrows) move between the buttons, Enter presses the
 * focused one. */
#ifndef TP_DIALOG_H
#define TP_DIALOG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/engine.h"
#include "keys.h"
#include "util.h"

typedef enum dialog_kind {
    DIALOG_NONE = 0,
    DIALOG_CHOOSE,  /* pick a tag (pin, rollback) */
    DIALOG_CONFIRM, /* confirm or cancel */
} dialog_kind;

enum { DIALOG_FOCUS_CONFIRM = 0, DIALOG_FOCUS_CANCEL = 1 };

typedef struct dialog {
    dialog_kind kind;
    engine_cmd_kind action;
    char *app, *alias, *tag; /* what the command names (owned) */
    char *digest;            /* approve: the candidate digest shown, which the write must match */
    char *title;             /* "Approve bookstore/bookstore" */
    char *confirm_label;     /* "Approve" */
    strvec body;             /* what will be written, one line each */
    int focus;               /* DIALOG_FOCUS_* */
    strvec choices;          /* tag names to choose from */
    strvec notes;            /* one note per choice ("candidate", "current", reason) */
    size_t chosen, top;      /* selected choice and the first one on screen */
} dialog;

struct console;

/* Open the dialog for a dangerous action on the current image; when the action makes no sense
 * there (no candidate to approve, not pinned), says why in the status line and opens nothing. */
void dialog_open(struct console *c, key_action action);
bool dialog_is_open(const dialog *d);
/* A key while the dialog is open (always consumed). */
void dialog_key(struct console *c, key_event ev);
void dialog_draw(struct console *c);
void dialog_clear(dialog *d);

#endif
