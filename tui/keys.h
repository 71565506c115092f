/* keys: the one key table. Every key the console knows is one line of KEY_TABLE, and the action
 * enum, the key binding, the help screen, the hint line, `tagpilot console --help-keys` and the
 * read-only filter are all generated from it, so they can never disagree (tig's request list).
 * A `dangerous` key writes something (git, the journal); --read-only does not bind it. */
#ifndef TP_KEYS_H
#define TP_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "util.h"

/* The codes ncurses gives for special keys, restated so that this header (and the table) need
 * no curses include; keys.c checks at compile time that they match <curses.h>. */
#define KEYCODE_DOWN      0402
#define KEYCODE_UP        0403
#define KEYCODE_HOME      0406
#define KEYCODE_BACKSPACE 0407
#define KEYCODE_NPAGE     0522
#define KEYCODE_PPAGE     0523
#define KEYCODE_ENTER     0527
#define KEYCODE_END       0550
#define KEYCODE_ESC       033
#define KEYCODE_NONE      (-1)
#define KEYCODE_MIN       0401 /* curses' KEY_MIN: key codes from here on, characters below */

/* One key press as curses reports it: a key code (KEY_DOWN, ...; is_code) or a typed
 * character (a wide character). Only the flag tells them apart: U+0102 'Ă' has KEY_DOWN's
 * number, U+0107 'ć' KEY_BACKSPACE's. */
typedef struct key_event {
    int value;
    bool is_code;
} key_event;

static inline key_event key_char(int ch)
{
    return (key_event){ch, false};
}

static inline key_event key_code(int code)
{
    return (key_event){code, true};
}

/* The press is `key` as the key table writes keys: a code (>= KEYCODE_MIN) or a character. */
static inline bool key_is(key_event ev, int key)
{
    return key != KEYCODE_NONE && ev.value == key && ev.is_code == (key >= KEYCODE_MIN);
}

/* A character that types into a prompt (not a control character, not a key code). */
static inline bool key_is_text(key_event ev)
{
    return !ev.is_code && ev.value >= 0x20 && ev.value != 0x7f;
}

/* X(action, key, alternate key, label, name, help text, dangerous, in the hint line) */
#define KEY_TABLE(X)                                                                               \
    X(DOWN, 'j', KEYCODE_DOWN, "j/Down", "down", "move down", false, false)                        \
    X(UP, 'k', KEYCODE_UP, "k/Up", "up", "move up", false, false)                                  \
    X(PAGE_DOWN, KEYCODE_NPAGE, ' ', "PgDn/Space", "page-down", "page down", false, false)         \
    X(PAGE_UP, KEYCODE_PPAGE, KEYCODE_NONE, "PgUp", "page-up", "page up", false, false)            \
    X(TOP, 'g', KEYCODE_HOME, "g/Home", "top", "first row", false, false)                          \
    X(BOTTOM, 'G', KEYCODE_END, "G/End", "bottom", "last row", false, false)                       \
    X(OPEN, '\n', KEYCODE_ENTER, "Enter", "detail",                                                \
      "detail: every tag with its verdict and reason, history, the diff", false, true)             \
    X(FILTER, '/', KEYCODE_NONE, "/", "filter",                                                    \
      "filter by app, image or state (regex; a leading ! inverts)", false, true)                   \
    X(SORT, 's', KEYCODE_NONE, "s", "sort", "sort by app, state, age or image", false, true)       \
    X(APPROVE, 'a', KEYCODE_NONE, "a", "approve", "approve the candidate (writes it)", true, true) \
    X(PIN, 'p', KEYCODE_NONE, "p", "pin", "pin a tag (writes it; automation then holds)", true,    \
      true)                                                                                        \
    X(UNPIN, 'u', KEYCODE_NONE, "u", "unpin", "unpin (automation may move it again)", true, true)  \
    X(ROLLBACK, 'r', KEYCODE_NONE, "r", "rollback", "roll back to an earlier tag and pin it",      \
      true, true)                                                                                  \
    X(SKIP, 'x', KEYCODE_NONE, "x", "skip", "skip this candidate (a newer one is offered)", true,  \
      true)                                                                                        \
    X(REFRESH, 'R', KEYCODE_NONE, "R", "refresh", "check the registries now", false, false)        \
    X(LOG, 'l', KEYCODE_NONE, "l", "log", "show or hide the engine log", false, true)              \
    X(THEME, 't', KEYCODE_NONE, "t", "theme", "next theme", false, false)                          \
    X(HELP, '?', KEYCODE_NONE, "?", "help", "this help", false, true)                              \
    X(BACK, 'q', KEYCODE_ESC, "q/Esc", "quit", "back, or quit from the table", false, true)

typedef enum key_action {
    ACT_NONE = 0,
#define KEYS_ENUM(action, key, alt, label, name, help, dangerous, hint) ACT_##action,
    KEY_TABLE(KEYS_ENUM)
#undef KEYS_ENUM
        ACT_COUNT
} key_action;

typedef struct key_entry {
    key_action action;
    int key, alt;      /* ncurses key codes; KEYCODE_NONE when there is no alternate */
    const char *label; /* "j/Down" */
    const char *name;  /* "approve": the hint line's word */
    const char *help;
    bool dangerous;
    bool hint; /* shown on the bottom line */
} key_entry;

/* The entry for an action (never NULL for ACT_NONE < a < ACT_COUNT). */
const key_entry *keys_entry(key_action action);
/* What a key press means; ACT_NONE when unbound, which is what a dangerous key is in
 * read-only mode. Enter arrives as '\n', '\r' or KEY_ENTER. */
key_action keys_lookup(key_event ev, bool read_only);
/* One line per bound action ("  a         approve the candidate (writes it)"); in read-only mode
 * dangerous ones are listed as locked. Appended to lines. */
void keys_help_lines(bool read_only, strvec *lines);
/* The hint line ("Enter detail  / filter  a approve ... ? help  q quit") in at most `width`
 * columns: without dangerous keys when read-only; when narrow, single spaces, then fewer keys
 * (help and quit always stay). Returns a new string. */
char *keys_hint_line(bool read_only, int width);
/* The key table as a Markdown table (for docs/console.md: `tagpilot console --help-keys`). */
void keys_print_markdown(FILE *out);

#endif
