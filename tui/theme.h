/* theme: the console's colours as data. A theme file (themes/NAME.yaml) is a small YAML map:
 * `name:` and, per role, `{fg: COLOUR, bg: COLOUR, attrs: [bold, ...]}`, where COLOUR is a name
 * (default, black, red, green, yellow, blue, magenta, cyan, white, bright-black … bright-white)
 * or a number 0-255. Numbers above what the terminal has are mapped to the nearest of its 16 or
 * 8 colours. Roles a file leaves out draw in the terminal's default colours. This module only
 * parses and finds themes; screen.c turns one into curses attributes. */
#ifndef TP_THEME_H
#define TP_THEME_H

#include <stdbool.h>

#include "util.h"

/* X(role, key in the file) */
#define THEME_ROLES(X)                                                                             \
    X(HEADER, "header")                                                                            \
    X(COLUMNS, "columns")                                                                          \
    X(ROW, "row")                                                                                  \
    X(SELECTED, "selected")                                                                        \
    X(DIM, "dim")                                                                                  \
    X(STATUS, "status")                                                                            \
    X(STATUS_ERROR, "status-error")                                                                \
    X(HINT, "hint")                                                                                \
    X(LOCK, "lock")                                                                                \
    X(DIALOG, "dialog")                                                                            \
    X(BUTTON, "button")                                                                            \
    X(BUTTON_FOCUS, "button-focus")                                                                \
    X(DIFF_ADD, "diff-add")                                                                        \
    X(DIFF_DEL, "diff-del")                                                                        \
    X(LOG, "log")                                                                                  \
    X(WARNING, "warning")                                                                          \
    X(STATE_CHECKING, "state-checking")                                                            \
    X(STATE_UP_TO_DATE, "state-up-to-date")                                                        \
    X(STATE_UPDATE_AVAILABLE, "state-update-available")                                            \
    X(STATE_APPROVED, "state-approved")                                                            \
    X(STATE_WRITING, "state-writing")                                                              \
    X(STATE_WRITTEN, "state-written")                                                              \
    X(STATE_PINNED, "state-pinned")                                                                \
    X(STATE_HELD, "state-held")                                                                    \
    X(STATE_ERROR, "state-error")

typedef enum theme_role {
#define THEME_ENUM(role, key) ROLE_##role,
    THEME_ROLES(THEME_ENUM)
#undef THEME_ENUM
        ROLE_COUNT
} theme_role;

enum {
    THEME_BOLD = 1 << 0,
    THEME_DIM = 1 << 1,
    THEME_UNDERLINE = 1 << 2,
    THEME_REVERSE = 1 << 3,
    THEME_STANDOUT = 1 << 4,
    THEME_ITALIC = 1 << 5,
    THEME_BLINK = 1 << 6,
};

typedef struct theme_style {
    short fg, bg;   /* 0-255, or -1 for the terminal's default */
    unsigned attrs; /* THEME_* bits */
} theme_style;

typedef struct theme {
    char name[64];
    char path[512]; /* file it came from; "" for the built-in default */
    theme_style style[ROLE_COUNT];
} theme;

/* The key a role has in theme files ("state-error"). */
const char *theme_role_key(theme_role role);
/* Parse theme text; `file` names it in messages ("themes/x.yaml:7: unknown colour 'blu'"). */
int theme_parse(const char *buf, size_t len, const char *file, theme *out, tp_err *err);
int theme_load_file(const char *path, theme *out, tp_err *err);
/* The default theme compiled in (used when no theme file can be read). */
void theme_builtin(theme *out);

/* Folders to look for themes in, in order: themes/ next to the executable and up to three
 * folders above it (a build tree), then PREFIX/share/tagpilot/themes next to the executable's
 * bin/, /usr/local/share/tagpilot/themes and /usr/share/tagpilot/themes. Only existing ones. */
void theme_dirs(strvec *dirs);
/* Load a theme by name (found as NAME.yaml in dirs) or by path (contains '/' or ends in .yaml).
 * NULL or "" means "default". On failure out holds the default theme (from dirs, else built in)
 * and err says what was wrong; the return is still -1 so the caller can show it. */
int theme_load(const char *spec, const strvec *dirs, theme *out, tp_err *err);
/* Names of the themes in dirs (NAME.yaml files, sorted, each once). */
void theme_list(const strvec *dirs, strvec *names);

/* A colour a terminal with `colors` colours can show for `color` (0-255, or -1 default):
 * 256-colour numbers map to the nearest of 16 or 8. */
short theme_color_fit(short color, int colors);

#endif
