/* screen: roles → curses attributes, and clipped text output. */
#include "screen.h"

#include <curses.h>

#include "text.h"

static attr_t screen_attrs(unsigned bits)
{
    attr_t a = A_NORMAL;
    if (bits & THEME_BOLD)
        a |= A_BOLD;
    if (bits & THEME_DIM)
        a |= A_DIM;
    if (bits & THEME_UNDERLINE)
        a |= A_UNDERLINE;
    if (bits & THEME_REVERSE)
        a |= A_REVERSE;
    if (bits & THEME_STANDOUT)
        a |= A_STANDOUT;
    if (bits & THEME_ITALIC)
        a |= A_ITALIC;
    if (bits & THEME_BLINK)
        a |= A_BLINK;
    return a;
}

void screen_apply_theme(console *c)
{
    for (int r = 0; r < ROLE_COUNT; r++) {
        const theme_style *st = &c->theme.style[r];
        attr_t a = screen_attrs(st->attrs);
        if (c->color) {
            short fg = theme_color_fit(st->fg, COLORS);
            short bg = theme_color_fit(st->bg, COLORS);
            if (COLORS < 16 && st->fg >= 8 && st->fg < 16) {
                /* An 8-colour terminal shows "bright" as bold; bright black (grey) would be
                 * black on a black screen, so it becomes the default colour, dimmed. */
                if (st->fg == 8) {
                    fg = -1;
                    a |= A_DIM;
                } else {
                    a |= A_BOLD;
                }
            }
            init_pair((short)(r + 1), fg, bg);
            a |= COLOR_PAIR(r + 1);
        } else if (r == ROLE_SELECTED || r == ROLE_BUTTON_FOCUS || r == ROLE_HEADER ||
                   r == ROLE_HINT) {
            /* Without colour these must still stand out: the selection above all. */
            if (!(a & (A_REVERSE | A_STANDOUT | A_UNDERLINE)))
                a |= r == ROLE_BUTTON_FOCUS ? A_UNDERLINE | A_BOLD : A_REVERSE;
        }
        c->attr[r] = a;
    }
}

int screen_text(console *c, int y, int x, int width, theme_role role, const char *s)
{
    if (width <= 0 || y < 0 || y >= LINES || x >= COLS)
        return 0;
    if (x + width > COLS)
        width = COLS - x;
    char buf[2048];
    int used = text_fit(s, width, c->ascii, false, buf, sizeof buf);
    attrset((attr_t)c->attr[role]);
    mvaddstr(y, x, buf);
    attrset(A_NORMAL);
    return used;
}

void screen_put(console *c, int y, int x, int width, theme_role role, const char *s)
{
    if (width <= 0 || y < 0 || y >= LINES || x >= COLS)
        return;
    if (x + width > COLS)
        width = COLS - x;
    char buf[2048];
    text_fit(s, width, c->ascii, true, buf, sizeof buf);
    attrset((attr_t)c->attr[role]);
    mvaddstr(y, x, buf);
    attrset(A_NORMAL);
}

void screen_put_tail(console *c, int y, int x, int width, theme_role role, const char *s)
{
    if (width <= 0 || y < 0 || y >= LINES || x >= COLS)
        return;
    if (x + width > COLS)
        width = COLS - x;
    char buf[2048];
    text_fit_tail(s, width, c->ascii, true, buf, sizeof buf);
    attrset((attr_t)c->attr[role]);
    mvaddstr(y, x, buf);
    attrset(A_NORMAL);
}

void screen_fill(console *c, int y, int x, int width, theme_role role)
{
    screen_put(c, y, x, width, role, "");
}

void screen_box(console *c, int y, int x, int height, int width, theme_role role)
{
    if (height < 2 || width < 2)
        return;
    const char *h = c->ascii ? "-" : "\xe2\x94\x80", *v = c->ascii ? "|" : "\xe2\x94\x82";
    const char *tl = c->ascii ? "+" : "\xe2\x94\x8c", *tr = c->ascii ? "+" : "\xe2\x94\x90";
    const char *bl = c->ascii ? "+" : "\xe2\x94\x94", *br = c->ascii ? "+" : "\xe2\x94\x98";
    attrset((attr_t)c->attr[role]);
    for (int i = 1; i < width - 1; i++) {
        mvaddstr(y, x + i, h);
        mvaddstr(y + height - 1, x + i, h);
    }
    for (int j = 1; j < height - 1; j++) {
        mvaddstr(y + j, x, v);
        mvaddstr(y + j, x + width - 1, v);
    }
    mvaddstr(y, x, tl);
    mvaddstr(y, x + width - 1, tr);
    mvaddstr(y + height - 1, x, bl);
    mvaddstr(y + height - 1, x + width - 1, br);
    attrset(A_NORMAL);
}
