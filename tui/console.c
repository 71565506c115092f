/* console: the state the views share, key dispatch, and the frame around the views (header,
 * status and hint lines, the filter prompt). No terminal set-up and no engine calls here: the
 * loop in console_loop.c feeds keys and snapshots in, and commands leave through c->submit. */
#include "console.h"

#include <curses.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "screen.h"
#include "text.h"

void styled_add(styled_lines *l, theme_role role, const char *fmt, ...)
{
    strbuf sb = {0};
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(&sb, fmt, ap);
    va_end(ap);
    char *text = strbuf_take(&sb);
    strvec_push(&l->text, text);
    free(text);
    if (l->text.count > l->role_cap) {
        l->role_cap = l->role_cap ? l->role_cap * 2 : 32;
        l->role = xrealloc(l->role, l->role_cap * sizeof *l->role);
    }
    l->role[l->text.count - 1] = role;
}

void styled_clear(styled_lines *l)
{
    strvec_free(&l->text);
    free(l->role);
    l->role = NULL;
    l->role_cap = 0;
}

int64_t console_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

const char *console_state_symbol(image_state state, bool ascii)
{
    /* Distinct characters so that states stay apart without colour (htop's way). */
    static const char *const utf8[STATE_COUNT] = {
        [STATE_CHECKING] = "\xe2\x80\xa6",         /* … */
        [STATE_UP_TO_DATE] = "\xe2\x9c\x93",       /* ✓ */
        [STATE_UPDATE_AVAILABLE] = "\xe2\x86\x91", /* ↑ */
        [STATE_APPROVED] = "\xe2\x86\x92",         /* → */
        [STATE_WRITING] = "\xe2\x9f\xb3",          /* ⟳ */
        [STATE_WRITTEN] = "\xe2\x97\x8f",          /* ● */
        [STATE_PINNED] = "\xe2\x97\x86",           /* ◆ */
        [STATE_HELD] = "\xe2\x80\x96",             /* ‖ */
        [STATE_ERROR] = "\xe2\x9c\x97",            /* ✗ */
    };
    static const char *const plain[STATE_COUNT] = {
        [STATE_CHECKING] = ".", [STATE_UP_TO_DATE] = "=", [STATE_UPDATE_AVAILABLE] = "^",
        [STATE_APPROVED] = ">", [STATE_WRITING] = "~",    [STATE_WRITTEN] = "+",
        [STATE_PINNED] = "#",   [STATE_HELD] = "|",       [STATE_ERROR] = "!",
    };
    if (state >= STATE_COUNT)
        return "?";
    return ascii ? plain[state] : utf8[state];
}

static int console_tag_group(const model_tag *t)
{
    return t->candidate ? 0 : t->eligible ? 1 : 2;
}

static int console_tag_compare(const void *pa, const void *pb, void *ctx)
{
    const model_image *img = ctx;
    model_tag a = model_image_tag(img, *(const size_t *)pa, NULL, 0);
    model_tag b = model_image_tag(img, *(const size_t *)pb, NULL, 0);
    int c = console_tag_group(&a) - console_tag_group(&b);
    if (!c)
        c = strverscmp(b.name ? b.name : "", a.name ? a.name : "");
    return c;
}

void console_tag_order(const model_image *img, size_t *order)
{
    for (size_t i = 0; i < img->n_tags; i++)
        order[i] = i;
    if (img->n_tags > 1)
        qsort_r(order, img->n_tags, sizeof *order, console_tag_compare, (void *)img);
}

void console_init(console *c, bool read_only, bool ascii)
{
    memset(c, 0, sizeof *c);
    c->read_only = read_only;
    c->read_only_asked = read_only;
    c->ascii = ascii;
    theme_builtin(&c->theme);
    const view_ops *all[] = {&view_apps_ops, &view_detail_ops, &view_help_ops, &view_log_ops};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (all[i]->state_new)
            c->view_state[all[i]->kind] = all[i]->state_new();
    c->views[0] = &view_apps_ops;
    c->depth = 1;
    c->dirty = true;
}

void console_free(console *c)
{
    model_snapshot_unref(c->snap);
    rows_free(&c->rows);
    filter_free(c->filter);
    free(c->sel_app);
    free(c->sel_alias);
    strbuf_free(&c->filter_text);
    const view_ops *all[] = {&view_apps_ops, &view_detail_ops, &view_help_ops, &view_log_ops};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (all[i]->state_free)
            all[i]->state_free(c->view_state[all[i]->kind]);
    dialog_clear(&c->dialog);
    strvec_free(&c->theme_dirs);
    memset(c, 0, sizeof *c);
}

const view_ops *console_top_view(const console *c)
{
    return c->views[c->depth - 1];
}

void console_push_view(console *c, const view_ops *view)
{
    if (c->depth < CONSOLE_MAX_VIEWS)
        c->views[c->depth++] = view;
    if (view->reload)
        view->reload(c);
    c->dirty = true;
}

void console_pop_view(console *c)
{
    if (c->depth > 1)
        c->depth--;
    c->dirty = true;
}

void console_status(console *c, bool error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->status, sizeof c->status, fmt, ap);
    va_end(ap);
    c->status_error = error;
    c->dirty = true;
}

const model_image *console_current_image(const console *c)
{
    if (!c->snap)
        return NULL;
    if (console_top_view(c) == &view_detail_ops)
        return view_detail_image(c);
    if (c->selected < c->rows.count)
        return c->snap->images[c->rows.index[c->selected]];
    return NULL;
}

void console_select(console *c, size_t index)
{
    if (c->rows.count == 0) {
        c->selected = 0;
        return;
    }
    if (index >= c->rows.count)
        index = c->rows.count - 1;
    c->selected = index;
    const model_image *img = c->snap->images[c->rows.index[index]];
    free(c->sel_app);
    free(c->sel_alias);
    c->sel_app = xstrdup(img->app);
    c->sel_alias = xstrdup(img->alias);
    c->dirty = true;
}

void console_rebuild_rows(console *c)
{
    rows_rebuild(&c->rows, c->snap, c->filter, c->sort);
    size_t at = rows_find(&c->rows, c->snap, c->sel_app, c->sel_alias);
    if (at != (size_t)-1)
        c->selected = at;
    else if (c->selected >= c->rows.count)
        c->selected = c->rows.count ? c->rows.count - 1 : 0;
    c->dirty = true;
}

void console_set_snapshot(console *c, model_snapshot *snap)
{
    model_snapshot_unref(c->snap);
    c->snap = snap;
    /* The server says what this peer may do: a viewer's console is a read-only one, so the key
     * table leaves the writing keys out of bindings, hints and help alike. */
    bool viewer = snap && snap->attached && snap->viewer;
    if (viewer != c->viewer) {
        c->viewer = viewer;
        c->read_only = c->read_only_asked || viewer;
        if (viewer)
            console_status(c, false, "viewer: watching; only serve.operators can write");
    }
    console_rebuild_rows(c);
    for (int i = 0; i < c->depth; i++)
        if (c->views[i]->reload)
            c->views[i]->reload(c);
    c->dirty = true;
}

void console_next_theme(console *c)
{
    strvec names = {0};
    theme_list(&c->theme_dirs, &names);
    if (!names.count) {
        console_status(c, true,
                       "no theme files found (looked next to the program and in "
                       "share/tagpilot/themes)");
        return;
    }
    size_t next = 0;
    for (size_t i = 0; i < names.count; i++)
        if (strcmp(names.items[i], c->theme.name) == 0)
            next = (i + 1) % names.count;
    tp_err err;
    if (theme_load(names.items[next], &c->theme_dirs, &c->theme, &err) < 0)
        console_status(c, true, "%s", err.msg);
    else
        console_status(c, false, "theme: %s%s", c->theme.name,
                       c->color ? "" : " (no colour: NO_COLOR or the terminal)");
    screen_apply_theme(c);
    strvec_free(&names);
}

/* Filter prompt: typing narrows the table at once; Enter keeps it, Esc clears it. */
static void console_filter_apply(console *c)
{
    filter_free(c->filter);
    c->filter = c->filter_text.len ? filter_new(c->filter_text.data) : NULL;
    console_rebuild_rows(c);
}

static void console_filter_key(console *c, key_event ev)
{
    strbuf *t = &c->filter_text;
    c->dirty = true;
    if (key_is(ev, '\n') || key_is(ev, '\r') || key_is(ev, KEY_ENTER)) {
        c->filter_editing = false;
        console_select(c, 0);
        view_apps_scroll_top(c);
        if (c->filter)
            console_status(c, false, "%zu of %zu match /%s%s (Esc clears)", c->rows.count,
                           c->snap ? c->snap->n_images : 0, filter_pattern(c->filter),
                           filter_is_literal(c->filter) ? " (as text: not a valid regex)" : "");
        return;
    }
    if (key_is(ev, 033)) {
        c->filter_editing = false;
        strbuf_free(t);
        console_filter_apply(c);
        console_status(c, false, "filter cleared");
        return;
    }
    if (key_is(ev, KEY_BACKSPACE) || key_is(ev, 127) || key_is(ev, 8)) {
        /* drop one whole UTF-8 character */
        while (t->len > 0) {
            unsigned char last = (unsigned char)t->data[--t->len];
            if ((last & 0xC0) != 0x80)
                break;
        }
        if (t->data)
            t->data[t->len] = '\0';
        console_filter_apply(c);
        return;
    }
    if (!key_is_text(ev))
        return;
    char mb[MB_LEN_MAX];
    mbstate_t st;
    memset(&st, 0, sizeof st);
    size_t n = wcrtomb(mb, (wchar_t)ev.value, &st);
    if (n == (size_t)-1 || t->len + n > 200)
        return;
    strbuf_append(t, mb, n);
    console_filter_apply(c);
    console_select(c, 0);
}

void console_key(console *c, key_event ev)
{
    c->dirty = true;
    if (key_is(ev, KEY_RESIZE))
        return;
    if (key_is(ev, 0x0c)) { /* Ctrl-L: the screen got garbled by something else; paint it all
                               again */
        clearok(curscr, TRUE);
        return;
    }
    if (dialog_is_open(&c->dialog)) {
        dialog_key(c, ev);
        return;
    }
    if (c->filter_editing) {
        console_filter_key(c, ev);
        return;
    }
    key_action action = keys_lookup(ev, c->read_only);
    if (action == ACT_NONE && c->read_only) {
        key_action would = keys_lookup(ev, false);
        if (would != ACT_NONE) {
            console_status(c, true, "read-only: '%s' (%s) is locked", keys_entry(would)->label,
                           keys_entry(would)->name);
            return;
        }
    }
    const view_ops *top = console_top_view(c);
    switch (action) {
    case ACT_HELP:
        if (top == &view_help_ops)
            console_pop_view(c);
        else
            console_push_view(c, &view_help_ops);
        return;
    case ACT_LOG:
        c->show_log = !c->show_log;
        return;
    case ACT_THEME:
        console_next_theme(c);
        return;
    case ACT_REFRESH: {
        engine_command cmd = {.kind = CMD_REFRESH};
        c->submit(c, &cmd);
        console_status(c, false, "checking the registries now...");
        return;
    }
    case ACT_APPROVE:
    case ACT_PIN:
    case ACT_UNPIN:
    case ACT_ROLLBACK:
    case ACT_SKIP:
        if (top == &view_apps_ops || top == &view_detail_ops)
            dialog_open(c, action);
        return;
    default:
        break;
    }
    top->handle(c, action, ev);
}

/* The two header lines: where from, what the engine does, the lock. */
static void console_draw_header(console *c)
{
    const model_snapshot *s = c->snap;
    char line[1024];
    screen_fill(c, 0, 0, COLS, ROLE_HEADER);
    screen_fill(c, 1, 0, COLS, ROLE_HEADER);
    snprintf(line, sizeof line, " tagpilot  %s", s && s->sources ? s->sources : "(no sources)");
    int lock_w = 0;
    if (c->read_only) {
        const char *what = c->viewer ? "VIEWER" : "READ-ONLY";
        char lock[32];
        snprintf(lock, sizeof lock, c->ascii ? " [RO] %s " : " \xf0\x9f\x94\x92 %s ", what);
        lock_w = text_width(lock);
        screen_text(c, 0, COLS - lock_w, lock_w, ROLE_LOCK, lock);
    }
    screen_text(c, 0, 0, COLS - lock_w - 1, ROLE_HEADER, line);

    strbuf sb = {0};
    int64_t now = console_now_ns();
    char age[16];
    const char *sep = c->ascii ? " | " : " \xc2\xb7 "; /* " · " */
    if (s && s->n_last_run)
        text_age((now - s->last_run_ns) / 1000000000LL, age, sizeof age);
    /* Which engine this is: a server's (and whether it answers), or our own. */
    if (s && s->attached)
        strbuf_printf(&sb, " attached to %s%s", s->attached, c->ascii ? " |" : " \xc2\xb7");
    else
        strbuf_puts(&sb, " own");
    if (s && s->link_error) {
        strbuf_printf(&sb, " server: %s", s->link_error);
    } else if (s && (s->files_total || (s->n_last_run && !s->scan_total))) {
        /* The first cycle reads the sources: the rows are the last run's (last-run.json), or
         * those of the Applications read so far. */
        strbuf_puts(&sb, " engine reading the sources");
        if (s->files_total)
            strbuf_printf(&sb, ": %zu of %zu files", s->files_done, s->files_total);
        if (s->n_last_run) {
            strbuf_printf(&sb, "%s%zu image%s as the last run left them, %s ago", sep, s->n_images,
                          s->n_images == 1 ? "" : "s", age);
        } else {
            strbuf_printf(&sb, "%s%zu image%s so far", sep, s->n_images,
                          s->n_images == 1 ? "" : "s");
        }
    } else if (!s || s->phase == ENGINE_STARTING) {
        strbuf_puts(&sb, " engine starting");
    } else {
        switch (s->phase) {
        case ENGINE_SCANNING:
            strbuf_printf(&sb, " engine scanning %zu of %zu", s->scan_done, s->scan_total);
            break;
        case ENGINE_PAUSED:
            strbuf_puts(&sb, " engine paused");
            break;
        case ENGINE_STOPPED:
            strbuf_puts(&sb, " engine stopped");
            break;
        default:
            strbuf_puts(&sb, " engine idle");
            break;
        }
        strbuf_printf(&sb, "%s%zu image%s", sep, s->n_images, s->n_images == 1 ? "" : "s");
        if (c->filter)
            strbuf_printf(&sb, ", %zu shown", c->rows.count);
        /* The sources are read but the first cycle has not decided these rows again yet. */
        if (s->n_last_run)
            strbuf_printf(&sb, ", %zu as the last run left them %s ago", s->n_last_run, age);
    }
    if (s && s->source_error) /* the table may lack that source's Applications: say so */
        strbuf_printf(&sb, "%ssource error: %s shows the log", sep, keys_entry(ACT_LOG)->label);
    if (c->filter && !c->filter_editing)
        strbuf_printf(&sb, "%sfilter /%s", sep, filter_pattern(c->filter));
    strbuf_printf(&sb, "%ssort: %s", sep, rows_sort_name(c->sort));
    if (s && s->last_cycle_ns) {
        text_age((now - s->last_cycle_ns) / 1000000000LL, age, sizeof age);
        strbuf_printf(&sb, "%scycle %s ago", sep, age);
    }
    if (s && s->next_cycle_ns && s->phase != ENGINE_SCANNING) {
        int64_t in = (s->next_cycle_ns - now) / 1000000000LL;
        text_age(in < 0 ? 0 : in, age, sizeof age);
        strbuf_printf(&sb, ", next in %s", age);
    }
    for (size_t i = 0; s && i < s->n_rates; i++)
        if (s->rates[i].remaining >= 0)
            strbuf_printf(&sb, "%s%s: %ld requests left", sep, s->rates[i].registry,
                          s->rates[i].remaining);
    screen_text(c, 1, 0, COLS, ROLE_HEADER, sb.data);
    strbuf_free(&sb);
}

static void console_draw_footer(console *c)
{
    int status_y = LINES - 2, hint_y = LINES - 1;
    screen_fill(c, status_y, 0, COLS, ROLE_ROW);
    if (c->filter_editing) {
        char *prompt = xasprintf("/%s", c->filter_text.data ? c->filter_text.data : "");
        int used = screen_text(c, status_y, 0, COLS - 1, ROLE_ROW, prompt);
        free(prompt);
        screen_text(c, status_y, used + 1, COLS - used - 1, ROLE_DIM,
                    "  Enter keeps, Esc clears; regex or text, a leading ! inverts");
        move(status_y, used);
    } else if (c->status[0]) {
        screen_put(c, status_y, 0, COLS, c->status_error ? ROLE_STATUS_ERROR : ROLE_STATUS,
                   c->status);
    }
    char *hints = keys_hint_line(c->read_only, COLS - 2);
    char *line = xasprintf(" %s", hints);
    screen_put(c, hint_y, 0, COLS, ROLE_HINT, line);
    free(line);
    free(hints);
}

void console_draw(console *c)
{
    erase();
    if (COLS < CONSOLE_MIN_COLS || LINES < CONSOLE_MIN_ROWS) {
        char msg[160];
        snprintf(msg, sizeof msg,
                 "tagpilot needs at least %dx%d (this is %dx%d): enlarge the "
                 "window, or press q to quit",
                 CONSOLE_MIN_COLS, CONSOLE_MIN_ROWS, COLS, LINES);
        int w = COLS > 2 ? COLS - 2 : COLS;
        /* wrap at spaces by hand: the message must be readable in a tiny window */
        const char *p = msg;
        for (int y = 0; *p && y < LINES; y++) {
            int len = (int)strlen(p);
            int cut = len <= w ? len : w;
            if (cut < len)
                while (cut > 0 && p[cut] != ' ')
                    cut--;
            if (cut == 0)
                cut = len < w ? len : w;
            char part[160];
            snprintf(part, sizeof part, "%.*s", cut, p);
            screen_text(c, y, 1, w, ROLE_ROW, part);
            p += cut;
            while (*p == ' ')
                p++;
        }
        refresh();
        c->dirty = false;
        return;
    }
    console_draw_header(c);
    int top = 2;
    int bottom = LINES - 2; /* status and hint lines */
    int log_h = 0;
    if (c->show_log) {
        log_h = (bottom - top) / 3;
        if (log_h < 4)
            log_h = 4;
    }
    console_draw_footer(c);
    int cy, cx;
    getyx(stdscr, cy, cx);
    if (log_h)
        view_log_ops.draw(c, bottom - log_h, log_h);
    console_top_view(c)->draw(c, top, bottom - top - log_h);
    if (c->filter_editing)
        move(cy, cx); /* the cursor belongs to the prompt */
    dialog_draw(c);
    refresh();
    c->dirty = false;
}
