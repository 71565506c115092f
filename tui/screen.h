/* screen: the only place that turns roles into curses attributes and writes text cells. Every
 * string goes through text_fit, so nothing drawn can run past its column or carry a control
 * character to the terminal. */
#ifndef TP_SCREEN_H
#define TP_SCREEN_H

#include <stdbool.h>

#include "console.h"
#include "theme.h"

/* Compute c->attr from c->theme: colour pairs when c->color, attributes always. Needs curses. */
void screen_apply_theme(console *c);
/* Write s at (y, x) in at most width columns, padded to width, in role's attributes. */
void screen_put(console *c, int y, int x, int width, theme_role role, const char *s);
/* Like screen_put, keeping the end of s when it is cut. */
void screen_put_tail(console *c, int y, int x, int width, theme_role role, const char *s);
/* Like screen_put without padding; returns the columns used. */
int screen_text(console *c, int y, int x, int width, theme_role role, const char *s);
/* Blank width columns at (y, x) in role's attributes. */
void screen_fill(console *c, int y, int x, int width, theme_role role);
/* A box outline (UTF-8 lines, or + - | with --ascii). */
void screen_box(console *c, int y, int x, int height, int width, theme_role role);

#endif
