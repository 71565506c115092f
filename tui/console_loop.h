/* console_loop: the terminal side of the console — curses set-up and teardown, the poll() loop
 * over the keyboard, the engine's wake pipe and a signal self-pipe, and the engine's lifetime. */
#ifndef TP_CONSOLE_LOOP_H
#define TP_CONSOLE_LOOP_H

#include <stdbool.h>

#include "config.h"
#include "util.h"

typedef struct console_options {
    const tp_config *config; /* borrowed */
    bool read_only;          /* --read-only: keys unbound and the engine cannot write */
    bool ascii;              /* --ascii (also chosen when the locale is not UTF-8) */
    const char *theme;       /* --theme NAME|PATH, or NULL: $TAGPILOT_THEME, config, default */
} console_options;

/* Run the console until the operator quits or SIGTERM/SIGINT/SIGHUP arrives. The terminal is
 * restored on every way out. Returns 0, or -1 with err (no terminal, engine did not start). */
int console_run(const console_options *opts, tp_err *err);

#endif
