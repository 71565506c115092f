/* view_apps: the table of tracked images — one row per (app, alias), only the rows on screen
 * drawn, the selection kept by identity across snapshots. */
#include "console.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "screen.h"
#include "text.h"

enum { COL_APP, COL_IMAGE, COL_CURRENT, COL_CANDIDATE, COL_STRATEGY, COL_STATE, COL_AGE, NCOLS };

static const char *const col_titles[NCOLS] = {"APP",      "ALIAS/IMAGE", "CURRENT", "CANDIDATE",
                                              "STRATEGY", "STATE",       "AGE"};
static const int col_min[NCOLS] = {8, 10, 7, 7, 6, 3, 4};
static const int col_max[NCOLS] = {28, 200, 24, 24, 20, 18, 4};
/* Who gets spare columns first: the tags, then names, then the rest. */
static const int col_priority[NCOLS] = {COL_CURRENT,  COL_CANDIDATE, COL_APP, COL_STATE,
                                        COL_STRATEGY, COL_IMAGE,     COL_AGE};

/* "bookstore=ghcr.io/…" when the alias differs from the app, else the image alone. */
static void apps_image_text(const model_image *img, char *out, size_t outsz)
{
    if (img->alias && !str_eq(img->alias, img->app))
        snprintf(out, outsz, "%s=%s", img->alias, img->image ? img->image : "");
    else
        snprintf(out, outsz, "%s", img->image ? img->image : "");
}

static void apps_strategy_text(const model_image *img, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s%s%s", img->strategy ? img->strategy : "-", img->constraint ? " " : "",
             img->constraint ? img->constraint : "");
}

/* Natural widths from the rows on screen and the titles; bytes are close enough here. */
static void apps_widths(console *c, size_t first, size_t count, int width, int *w)
{
    int natural[NCOLS];
    for (int k = 0; k < NCOLS; k++)
        natural[k] = (int)strlen(col_titles[k]);
    natural[COL_STATE] = 18; /* "↑ update-available" */
    char buf[512];
    for (size_t i = first; i < first + count && i < c->rows.count; i++) {
        const model_image *img = c->snap->images[c->rows.index[i]];
        int lens[NCOLS] = {
            text_width(img->app), 0, text_width(img->current), text_width(img->candidate), 0, 0, 4};
        apps_image_text(img, buf, sizeof buf);
        lens[COL_IMAGE] = text_width(buf);
        apps_strategy_text(img, buf, sizeof buf);
        lens[COL_STRATEGY] = text_width(buf);
        for (int k = 0; k < NCOLS; k++)
            if (lens[k] > natural[k])
                natural[k] = lens[k];
    }
    int spare = width - (NCOLS - 1); /* one space between columns */
    for (int k = 0; k < NCOLS; k++) {
        w[k] = col_min[k];
        spare -= w[k];
    }
    for (int p = 0; p < NCOLS && spare > 0; p++) {
        int k = col_priority[p];
        int want = natural[k] < col_max[k] ? natural[k] : col_max[k];
        int add = want - w[k];
        if (add > spare)
            add = spare;
        if (add > 0) {
            w[k] += add;
            spare -= add;
        }
    }
    if (spare > 0) /* whatever is left goes to the image column */
        w[COL_IMAGE] += spare;
}

static theme_role apps_state_role(image_state state)
{
    return state < STATE_COUNT ? (theme_role)(ROLE_STATE_CHECKING + (int)state) : ROLE_ROW;
}

static void apps_draw_row(console *c, int y, const int *w, const model_image *img, bool selected,
                          int64_t now)
{
    theme_role base = selected ? ROLE_SELECTED : ROLE_ROW;
    theme_role state_role = selected ? ROLE_SELECTED : apps_state_role(img->state);
    char buf[512];
    int x = 0;
    screen_fill(c, y, 0, COLS, base);
    screen_put(c, y, x, w[COL_APP], base, img->app);
    x += w[COL_APP] + 1;
    apps_image_text(img, buf, sizeof buf);
    screen_put_tail(c, y, x, w[COL_IMAGE], selected ? base : ROLE_DIM, buf);
    x += w[COL_IMAGE] + 1;
    screen_put(c, y, x, w[COL_CURRENT], base, img->current ? img->current : "-");
    x += w[COL_CURRENT] + 1;
    theme_role cand_role = base;
    if (!selected && img->state == STATE_UPDATE_AVAILABLE)
        cand_role = state_role;
    else if (!selected && str_eq(img->candidate, img->current))
        cand_role = ROLE_DIM;
    screen_put(c, y, x, w[COL_CANDIDATE], cand_role, img->candidate ? img->candidate : "-");
    x += w[COL_CANDIDATE] + 1;
    apps_strategy_text(img, buf, sizeof buf);
    screen_put(c, y, x, w[COL_STRATEGY], base, buf);
    x += w[COL_STRATEGY] + 1;
    snprintf(buf, sizeof buf, "%s %s", console_state_symbol(img->state, c->ascii),
             img->state < STATE_COUNT ? model_state_name(img->state) : "?");
    screen_put(c, y, x, w[COL_STATE], state_role, buf);
    x += w[COL_STATE] + 1;
    text_age(img->last_check_ns ? (now - img->last_check_ns) / 1000000000LL : -1, buf, sizeof buf);
    screen_put(c, y, x, w[COL_AGE], base, buf);
}

/* The apps view's own state; the table it shows (rows, filter, selection) is the console's,
 * shared with the dialogs and the filter prompt. */
typedef struct apps_state {
    size_t top; /* first row on screen */
} apps_state;

static void apps_draw(console *c, int top, int height)
{
    apps_state *st = c->view_state[VIEW_APPS];
    if (height < 2)
        return;
    int body = height - 1; /* the column titles take one line */
    size_t n = c->rows.count;
    if (c->selected >= n)
        c->selected = n ? n - 1 : 0;
    if (c->selected < st->top)
        st->top = c->selected;
    if (c->selected >= st->top + (size_t)body)
        st->top = c->selected - (size_t)body + 1;
    if (st->top + (size_t)body > n)
        st->top = n > (size_t)body ? n - (size_t)body : 0;

    int w[NCOLS];
    apps_widths(c, st->top, (size_t)body, COLS, w);
    screen_fill(c, top, 0, COLS, ROLE_COLUMNS);
    for (int k = 0, x = 0; k < NCOLS; x += w[k] + 1, k++)
        screen_put(c, top, x, w[k], ROLE_COLUMNS, col_titles[k]);

    if (!c->snap || c->snap->n_images == 0) {
        const char *msg =
            !c->snap || c->snap->phase == ENGINE_STARTING || c->snap->last_cycle_ns == 0
                ? "waiting for the first scan..."
                : "no tracked images: check the sources in tagpilot.yaml and the "
                  "image-list annotations";
        screen_text(c, top + 2, 2, COLS - 4, ROLE_DIM, msg);
        return;
    }
    if (n == 0) {
        screen_text(c, top + 2, 2, COLS - 4, ROLE_DIM,
                    "no image matches the filter (Esc clears it)");
        return;
    }
    int64_t now = console_now_ns();
    int cursor_y = top + 1;
    for (int j = 0; j < body && st->top + (size_t)j < n; j++) {
        size_t i = st->top + (size_t)j;
        bool selected = i == c->selected;
        apps_draw_row(c, top + 1 + j, w, c->snap->images[c->rows.index[i]], selected, now);
        if (selected)
            cursor_y = top + 1 + j;
    }
    move(cursor_y, 0); /* screen readers follow the cursor */
}

static size_t apps_page(void)
{
    return LINES > 8 ? (size_t)(LINES - 6) : 1;
}

static bool apps_handle(console *c, key_action action, key_event ev)
{
    size_t n = c->rows.count;
    switch (action) {
    case ACT_DOWN:
        if (c->selected + 1 < n)
            console_select(c, c->selected + 1);
        return true;
    case ACT_UP:
        if (c->selected > 0)
            console_select(c, c->selected - 1);
        return true;
    case ACT_PAGE_DOWN:
        console_select(c, c->selected + apps_page() < n ? c->selected + apps_page() : n - 1);
        return true;
    case ACT_PAGE_UP:
        console_select(c, c->selected > apps_page() ? c->selected - apps_page() : 0);
        return true;
    case ACT_TOP:
        console_select(c, 0);
        return true;
    case ACT_BOTTOM:
        console_select(c, n ? n - 1 : 0);
        return true;
    case ACT_OPEN: {
        const model_image *img = console_current_image(c);
        if (!img)
            return true;
        view_detail_show(c, img->app, img->alias);
        console_push_view(c, &view_detail_ops);
        return true;
    }
    case ACT_FILTER:
        c->filter_editing = true;
        strbuf_free(&c->filter_text);
        if (c->filter)
            strbuf_puts(&c->filter_text, filter_pattern(c->filter));
        c->dirty = true;
        return true;
    case ACT_SORT:
        c->sort = (rows_sort)((c->sort + 1) % SORT_COUNT);
        console_rebuild_rows(c);
        console_status(c, false, "sorted by %s", rows_sort_name(c->sort));
        return true;
    case ACT_BACK:
        if (key_is(ev, 033) && c->filter) {
            filter_free(c->filter);
            c->filter = NULL;
            console_rebuild_rows(c);
            console_status(c, false, "filter cleared");
            return true;
        }
        c->quit = true;
        return true;
    default:
        return false;
    }
}

/* No reload: console_set_snapshot rebuilds the rows this view draws. */
static void *apps_state_new(void)
{
    return xcalloc(1, sizeof(apps_state));
}

void view_apps_scroll_top(console *c)
{
    ((apps_state *)c->view_state[VIEW_APPS])->top = 0;
}

const view_ops view_apps_ops = {"apps",      VIEW_APPS, apps_state_new, free, apps_draw,
                                apps_handle, NULL};
