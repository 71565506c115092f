/* view_help: `?` — the keys, generated from the key table, and what the state symbols mean. */
#include "console.h"

#include <stdlib.h>
#include <string.h>

/* The help view's own state. */
typedef struct help_state {
    styled_lines lines;
} help_state;

static styled_lines *lines_of(console *c)
{
    return &((help_state *)c->view_state[VIEW_HELP])->lines;
}

static void help_refresh(console *c)
{
    styled_lines *l = lines_of(c);
    size_t keep_top = l->top;
    styled_clear(l);
    l->top = keep_top;
    styled_add(l, ROLE_COLUMNS, "Keys%s",
               !c->read_only ? ""
               : c->viewer   ? "  (viewer: writing keys locked; the server lets operators write)"
                             : "  (read-only: writing keys locked)");
    strvec keys = {0};
    keys_help_lines(c->read_only, &keys);
    for (size_t i = 0; i < keys.count; i++) {
        bool locked = c->read_only && strstr(keys.items[i], "[locked");
        styled_add(l, locked ? ROLE_DIM : ROLE_ROW, "%s", keys.items[i]);
    }
    strvec_free(&keys);
    styled_add(l, ROLE_ROW, "  Ctrl-L      repaint the screen");
    styled_add(l, ROLE_ROW, "%s", "");
    styled_add(l, ROLE_COLUMNS, "In a confirm dialog (it starts on Cancel)");
    styled_add(l, ROLE_ROW, "  y           confirm: write it");
    styled_add(l, ROLE_ROW, "  n/Esc       cancel: write nothing");
    styled_add(l, ROLE_ROW, "  Tab         move between the buttons");
    styled_add(l, ROLE_ROW, "  Enter       press the focused button");
    styled_add(l, ROLE_ROW, "%s", "");
    styled_add(l, ROLE_COLUMNS, "States");
    for (int s = 0; s < STATE_COUNT; s++)
        styled_add(l, (theme_role)(ROLE_STATE_CHECKING + s), "  %s %-18s %s",
                   console_state_symbol((image_state)s, c->ascii), model_state_name((image_state)s),
                   model_state_text((image_state)s));
    styled_add(l, ROLE_ROW, "%s", "");
    styled_add(l, ROLE_DIM, "  theme: %s%s%s", c->theme.name, c->theme.path[0] ? " from " : "",
               c->theme.path);
}

static void help_draw(console *c, int top, int height)
{
    view_scroll_draw(c, lines_of(c), top, height);
}

static bool help_handle(console *c, key_action action, key_event ev)
{
    (void)ev;
    return view_scroll_handle(c, lines_of(c), action);
}

static void *help_state_new(void)
{
    return xcalloc(1, sizeof(help_state));
}

static void help_state_free(void *state)
{
    help_state *h = state;
    if (!h)
        return;
    styled_clear(&h->lines);
    free(h);
}

const view_ops view_help_ops = {"help",    VIEW_HELP,   help_state_new, help_state_free,
                                help_draw, help_handle, help_refresh};
