/* console: the state the console's views share, and the ops table each view exports. The
 * dispatcher (console.c) holds a stack of views and never needs to know which one it is talking
 * to (tig's view_ops). Everything here runs on the console's own thread; the only thing that
 * comes from the engine is an immutable snapshot, swapped in whole. */
#ifndef TP_CONSOLE_H
#define TP_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dialog.h"
#include "core/engine.h"
#include "filter.h"
#include "keys.h"
#include "model.h"
#include "rows.h"
#include "theme.h"
#include "util.h"

typedef struct console console;

/* Each view owns its state (tig's model): a struct its file declares, made when the console
 * starts and freed with it; the console keeps one slot per kind and knows nothing inside. */
typedef enum view_kind { VIEW_APPS, VIEW_DETAIL, VIEW_HELP, VIEW_LOG, VIEW_KINDS } view_kind;

typedef struct view_ops {
    const char *name;
    view_kind kind;
    void *(*state_new)(void); /* NULL: the view keeps no state */
    void (*state_free)(void *state);
    /* Draw into screen rows [top, top + height). */
    void (*draw)(console *c, int top, int height);
    /* An action from the key table (or ACT_NONE with the raw key); true when used. */
    bool (*handle)(console *c, key_action action, key_event ev);
    /* A new snapshot arrived (or the view was opened): rebuild what it shows. May be NULL. */
    void (*reload)(console *c);
} view_ops;

extern const view_ops view_apps_ops;
extern const view_ops view_detail_ops;
extern const view_ops view_help_ops;
extern const view_ops view_log_ops; /* a pane under the table, not on the stack */

/* The apps view starts from the top of the table again (a new filter). */
void view_apps_scroll_top(console *c);
/* Show app/alias in the detail view (pushed by the caller). */
void view_detail_show(console *c, const char *app, const char *alias);
/* The image the detail view shows, NULL when it is gone from the snapshot. */
const model_image *view_detail_image(const console *c);

/* Lines with a role each, for the scrolling views (detail, help). */
typedef struct styled_lines {
    strvec text;
    theme_role *role; /* one per line; owned */
    size_t role_cap;
    size_t top; /* first line shown */
} styled_lines;

void styled_add(styled_lines *l, theme_role role, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void styled_clear(styled_lines *l);
/* Draw lines from l->top into screen rows [top, top + height) (view_detail.c). */
void view_scroll_draw(struct console *c, styled_lines *l, int top, int height);
/* j/k/PgUp/PgDn/g/G scroll l, q/Esc pop the view; true when used. */
bool view_scroll_handle(struct console *c, styled_lines *l, key_action action);

#define CONSOLE_MAX_VIEWS 4
#define CONSOLE_MIN_COLS  60
#define CONSOLE_MIN_ROWS  10

struct console {
    /* wiring (console.c) */
    engine *engine;       /* NULL in unit tests */
    model_snapshot *snap; /* the snapshot on screen; one reference owned here */
    bool read_only;       /* dangerous keys unbound: read_only_asked or viewer */
    bool read_only_asked; /* --read-only: the engine refuses writes too */
    bool viewer;          /* attached as a viewer (the snapshot says so): the server refuses */
    bool ascii;           /* no UTF-8 symbols or box drawing */
    bool color;           /* colours in use (off for NO_COLOR or a terminal without) */
    /* Send a command; console.c sets it to the engine, tests to a recorder. */
    void (*submit)(console *c, const engine_command *cmd);
    unsigned pending; /* commands sent whose result has not come back */

    /* looks */
    theme theme;
    strvec theme_dirs;
    unsigned long attr[ROLE_COUNT]; /* curses attributes per role (screen.c) */

    /* the table */
    rows rows;
    filter_expr *filter; /* NULL when none */
    rows_sort sort;
    size_t selected;           /* index into rows */
    char *sel_app, *sel_alias; /* the selection's identity, kept across snapshots */
    bool filter_editing;
    strbuf filter_text; /* what is being typed after '/' */

    void *view_state[VIEW_KINDS]; /* each view's own, by kind (view_*.c) */
    const view_ops *views[CONSOLE_MAX_VIEWS];
    int depth;
    bool show_log;
    dialog dialog;

    char status[512]; /* the line above the hints: a command's result, a hint */
    bool status_error;
    bool dirty; /* something changed: draw before sleeping */
    bool quit;
};

/* Set up a console's state (no terminal): views, theme defaults, empty table. */
void console_init(console *c, bool read_only, bool ascii);
void console_free(console *c);
/* Take this snapshot (the console takes over the reference): rebuild rows and views. */
void console_set_snapshot(console *c, model_snapshot *snap);
/* One key press (from get_wch: a key code or a character). */
void console_key(console *c, key_event ev);
/* Draw everything that is on screen now (curses must be up). */
void console_draw(console *c);

/* Helpers for the views. */
const view_ops *console_top_view(const console *c);
void console_push_view(console *c, const view_ops *view);
void console_pop_view(console *c);
/* The image actions apply to: the detail view's, else the selected row's; NULL when none. */
const model_image *console_current_image(const console *c);
/* Recompute c->rows from the snapshot, filter and sort, keeping the selection. */
void console_rebuild_rows(console *c);
/* Remember the row at `index` as the selection. */
void console_select(console *c, size_t index);
void console_status(console *c, bool error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Load and apply the next theme in the theme folders (`t`). */
void console_next_theme(console *c);
/* Current wall clock in ns (for ages). */
int64_t console_now_ns(void);
/* The order tags are listed in (detail view, tag chooser): the candidate, then eligible tags,
 * then the rest, each newest version first (strverscmp). order must hold img->n_tags. */
void console_tag_order(const model_image *img, size_t *order);
/* The symbol a state is shown with ("↑", or "^" in ascii). */
const char *console_state_symbol(image_state state, bool ascii);

#endif
