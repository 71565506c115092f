/* view_detail: one image in full — every tag with its verdict and reason, digest and created
 * date, the journal's history of it, the write-back target and the diff a write would commit. */
#include "console.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "screen.h"
#include "text.h"
#include "timefmt.h"

/* The detail view's own state: which image it shows, and its lines. */
typedef struct detail_state {
    char *app, *alias;
    styled_lines lines;
    int cols; /* the width the lines were built for: long lines wrap to it */
} detail_state;

static detail_state *state_of(console *c)
{
    return c->view_state[VIEW_DETAIL];
}

static const char *dash(const char *s)
{
    return s && *s ? s : "-";
}

static void detail_created(const model_tag *t, char *out, size_t outsz)
{
    if (!t->has_created) {
        snprintf(out, outsz, "-");
        return;
    }
    tp_civil c;
    timefmt_to_civil(t->created, &c);
    snprintf(out, outsz, "%04lld-%02d-%02d %02d:%02d", (long long)c.year, c.month, c.day, c.hour,
             c.minute);
}

/* "sha256:0123456789ab" — enough to tell digests apart on screen. */
static void detail_short_digest(const char *digest, char *out, size_t outsz)
{
    if (!digest) {
        snprintf(out, outsz, "-");
        return;
    }
    snprintf(out, outsz, "%.19s", digest);
}

#define DETAIL_LABEL 11 /* "warning    " */

/* One line of text in `label`'s column, word-wrapped to the screen's width: the lines after
 * the first are indented under it (a warning is read whole, its suggestion is at the end). */
static void detail_wrapped(styled_lines *l, theme_role role, const char *label, const char *text,
                           int cols)
{
    int width = cols - DETAIL_LABEL > 20 ? cols - DETAIL_LABEL : 20;
    strbuf line = {0};
    bool first = true;
    const char *p = text;
    while (*p) {
        size_t len = strcspn(p, " ");
        char *word = xstrndup(p, len);
        char *joined = xasprintf("%s%s%s", line.data ? line.data : "", line.len ? " " : "", word);
        if (line.len && text_width(joined) > width) {
            styled_add(l, role, "%-*s%s", DETAIL_LABEL, first ? label : "", line.data);
            first = false;
            line.len = 0;
            strbuf_puts(&line, word);
        } else {
            line.len = 0;
            strbuf_puts(&line, joined);
        }
        free(joined);
        free(word);
        p += len;
        p += strspn(p, " ");
    }
    if (line.len || first)
        styled_add(l, role, "%-*s%s", DETAIL_LABEL, first ? label : "", line.data ? line.data : "");
    strbuf_free(&line);
}

static void detail_build(console *c, const model_image *img)
{
    detail_state *st = state_of(c);
    styled_lines *l = &st->lines;
    size_t keep_top = l->top;
    styled_clear(l);
    l->top = keep_top;
    char buf[64];
    styled_add(l, ROLE_COLUMNS, "%s / %s   %s", img->app, dash(img->alias), dash(img->image));
    styled_add(l, (theme_role)(ROLE_STATE_CHECKING + (int)img->state), "state      %s %s: %s",
               console_state_symbol(img->state, c->ascii), model_state_name(img->state),
               model_state_text(img->state));
    if (img->detail)
        styled_add(l, img->state == STATE_ERROR ? ROLE_STATE_ERROR : ROLE_ROW, "why        %s",
                   img->detail);
    /* the app's annotations: a typo that does nothing is said where the operator looks */
    st->cols = COLS;
    if (img->warnings) {
        char *copy = xstrdup(img->warnings);
        for (char *save, *line = strtok_r(copy, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save))
            detail_wrapped(l, ROLE_WARNING, "warning", line, COLS);
        free(copy);
    }
    styled_add(l, ROLE_ROW, "strategy   %s%s%s   policy %s", dash(img->strategy),
               img->constraint ? "   constraint " : "", img->constraint ? img->constraint : "",
               dash(img->policy));
    styled_add(l, ROLE_ROW, "current    %s", dash(img->current));
    if (img->live && !str_eq(img->live, img->current))
        styled_add(l, ROLE_WARNING,
                   "live       %s   the cluster runs another tag: a sync is "
                   "pending, or a rollout failed",
                   img->live);
    else if (img->live)
        styled_add(l, ROLE_ROW, "live       %s", img->live);
    styled_add(l, ROLE_ROW, "candidate  %s%s%s", dash(img->candidate),
               img->candidate_digest ? "   " : "",
               img->candidate_digest ? img->candidate_digest : "");
    styled_add(l, ROLE_ROW, "pinned     %s   rollback would go to %s", dash(img->pin),
               dash(img->previous));
    if (img->last_check_ns) {
        text_age((console_now_ns() - img->last_check_ns) / 1000000000LL, buf, sizeof buf);
        styled_add(l, ROLE_ROW, "checked    %s ago", buf);
    } else {
        styled_add(l, ROLE_ROW, "checked    not yet");
    }
    styled_add(l, ROLE_ROW, "target     %s", dash(img->target));
    styled_add(l, ROLE_ROW, "%s", "");

    styled_add(l, ROLE_COLUMNS, "Tags (%zu)", img->n_tags);
    /* The reason is what an operator came for: it comes right after the verdict, and the
     * columns are as wide as this image's tags and reasons need. */
    int tag_w = 3, reason_w = 6;
    char reason[MODEL_REASON_MAX];
    for (size_t i = 0; i < img->n_tags; i++) {
        model_tag t = model_image_tag(img, i, reason, sizeof reason);
        int tw = text_width(t.name), rw = text_width(dash(t.reason));
        tag_w = tw > tag_w ? tw : tag_w;
        reason_w = rw > reason_w ? rw : reason_w;
    }
    tag_w = tag_w > 32 ? 32 : tag_w;
    reason_w = reason_w > 48 ? 48 : reason_w;
    char tag_cell[160], reason_cell[256];
    text_fit("TAG", tag_w, c->ascii, true, tag_cell, sizeof tag_cell);
    text_fit("REASON", reason_w, c->ascii, true, reason_cell, sizeof reason_cell);
    styled_add(l, ROLE_DIM, "  %s %-9s %s %-16s %s", tag_cell, "VERDICT", reason_cell,
               "CREATED (UTC)", "DIGEST");
    size_t *order = xcalloc(img->n_tags ? img->n_tags : 1, sizeof *order);
    console_tag_order(img, order);
    for (size_t k = 0; k < img->n_tags; k++) {
        model_tag tag = model_image_tag(img, order[k], reason, sizeof reason);
        const model_tag *t = &tag;
        char created[32], digest[32];
        detail_created(t, created, sizeof created);
        detail_short_digest(t->digest, digest, sizeof digest);
        text_fit(t->name, tag_w, c->ascii, true, tag_cell, sizeof tag_cell);
        text_fit(dash(t->reason), reason_w, c->ascii, true, reason_cell, sizeof reason_cell);
        const char *verdict = t->candidate ? "candidate" : t->eligible ? "eligible" : "skipped";
        theme_role role = t->candidate  ? ROLE_STATE_UPDATE_AVAILABLE
                          : t->eligible ? ROLE_ROW
                                        : ROLE_DIM;
        styled_add(l, role, "%s %s %-9s %s %-16s %s", t->candidate ? ">" : " ", tag_cell, verdict,
                   reason_cell, created, digest);
    }
    free(order);
    if (!img->n_tags)
        styled_add(l, ROLE_DIM, "  no tags known yet");
    styled_add(l, ROLE_ROW, "%s", "");

    styled_add(l, ROLE_COLUMNS, "History (%zu)", img->n_history);
    for (size_t i = img->n_history; i-- > 0;) { /* newest first */
        const model_event *e = &img->history[i];
        styled_add(l, str_eq(e->result, "ok") || !e->result ? ROLE_ROW : ROLE_STATE_ERROR,
                   "  %s  %-10s %-9s %s -> %s%s%s  %s%s%s", dash(e->time), dash(e->user),
                   dash(e->action), dash(e->from), dash(e->to), e->commit ? "  commit " : "",
                   e->commit ? e->commit : "", dash(e->result), e->detail ? ": " : "",
                   e->detail ? e->detail : "");
    }
    if (!img->n_history)
        styled_add(l, ROLE_DIM, "  nothing recorded yet");
    styled_add(l, ROLE_ROW, "%s", "");

    if (img->diff) {
        styled_add(l, ROLE_COLUMNS, "Diff a write of %s would commit", dash(img->candidate));
        char *copy = xstrdup(img->diff);
        for (char *save, *line = strtok_r(copy, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
            theme_role role = ROLE_ROW;
            if (line[0] == '+' && line[1] != '+')
                role = ROLE_DIFF_ADD;
            else if (line[0] == '-' && line[1] != '-')
                role = ROLE_DIFF_DEL;
            styled_add(l, role, "  %s", line);
        }
        free(copy);
    } else {
        styled_add(l, ROLE_DIM, "No write pending: nothing would be committed.");
    }
}

static void detail_refresh(console *c)
{
    detail_state *st = state_of(c);
    const model_image *img = c->snap ? model_find(c->snap, st->app, st->alias) : NULL;
    if (!img) {
        styled_clear(&st->lines);
        styled_add(&st->lines, ROLE_STATE_ERROR, "%s/%s is no longer tracked (q goes back)",
                   dash(st->app), dash(st->alias));
        return;
    }
    detail_build(c, img);
}

void view_scroll_draw(console *c, styled_lines *l, int top, int height)
{
    size_t n = l->text.count;
    if (l->top + (size_t)height > n)
        l->top = n > (size_t)height ? n - (size_t)height : 0;
    for (int j = 0; j < height; j++) {
        size_t i = l->top + (size_t)j;
        if (i >= n) {
            screen_fill(c, top + j, 0, COLS, ROLE_ROW);
            continue;
        }
        screen_put(c, top + j, 0, COLS, l->role[i], l->text.items[i]);
    }
    move(top, 0);
}

bool view_scroll_handle(console *c, styled_lines *l, key_action action)
{
    size_t page = LINES > 8 ? (size_t)(LINES - 6) : 1;
    size_t last = l->text.count ? l->text.count - 1 : 0;
    switch (action) {
    case ACT_DOWN:
        if (l->top < last)
            l->top++;
        break;
    case ACT_UP:
        if (l->top)
            l->top--;
        break;
    case ACT_PAGE_DOWN:
        l->top = l->top + page < last ? l->top + page : last;
        break;
    case ACT_PAGE_UP:
        l->top = l->top > page ? l->top - page : 0;
        break;
    case ACT_TOP:
        l->top = 0;
        break;
    case ACT_BOTTOM:
        l->top = last;
        break;
    case ACT_BACK:
        console_pop_view(c);
        break;
    default:
        return false;
    }
    c->dirty = true;
    return true;
}

static void detail_draw(console *c, int top, int height)
{
    detail_state *st = state_of(c);
    if (st->cols != COLS) /* resized: wrap again */
        detail_refresh(c);
    view_scroll_draw(c, &st->lines, top, height);
}

static bool detail_handle(console *c, key_action action, key_event ev)
{
    detail_state *st = state_of(c);
    (void)ev;
    return view_scroll_handle(c, &st->lines, action);
}

static void *detail_state_new(void)
{
    return xcalloc(1, sizeof(detail_state));
}

static void detail_state_free(void *state)
{
    detail_state *st = state;
    if (!st)
        return;
    free(st->app);
    free(st->alias);
    styled_clear(&st->lines);
    free(st);
}

void view_detail_show(console *c, const char *app, const char *alias)
{
    detail_state *st = state_of(c);
    free(st->app);
    free(st->alias);
    st->app = xstrdup(app);
    st->alias = xstrdup(alias);
    st->lines.top = 0;
}

const model_image *view_detail_image(const console *c)
{
    const detail_state *st = c->view_state[VIEW_DETAIL];
    return c->snap ? model_find(c->snap, st->app, st->alias) : NULL;
}

const view_ops view_detail_ops = {"detail",    VIEW_DETAIL,   detail_state_new, detail_state_free,
                                  detail_draw, detail_handle, detail_refresh};
