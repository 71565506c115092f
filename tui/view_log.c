/* view_log: the engine's recent events, as a pane under the table (`l`); follows the tail. */
#include "console.h"

#include <curses.h>

#include "screen.h"

static void log_draw(console *c, int top, int height)
{
    if (height < 2)
        return;
    screen_fill(c, top, 0, COLS, ROLE_COLUMNS);
    screen_text(c, top, 1, COLS - 2, ROLE_COLUMNS, "Engine log (l hides)");
    size_t n = c->snap ? c->snap->n_log : 0;
    int body = height - 1;
    size_t first = n > (size_t)body ? n - (size_t)body : 0;
    for (int j = 0; j < body; j++) {
        size_t i = first + (size_t)j;
        screen_put(c, top + 1 + j, 0, COLS, ROLE_LOG, i < n ? c->snap->log[i] : "");
    }
}

static bool log_handle(console *c, key_action action, key_event ev)
{
    (void)c;
    (void)action;
    (void)ev;
    return false;
}

const view_ops view_log_ops = {"log", VIEW_LOG, NULL, NULL, log_draw, log_handle, NULL};
