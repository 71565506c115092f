/* dialog: confirm dialogs and the tag chooser. */
#include "dialog.h"

#include <curses.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "screen.h"

void dialog_clear(dialog *d)
{
    free(d->app);
    free(d->alias);
    free(d->tag);
    free(d->digest);
    free(d->title);
    free(d->confirm_label);
    strvec_free(&d->body);
    strvec_free(&d->choices);
    strvec_free(&d->notes);
    memset(d, 0, sizeof *d);
}

bool dialog_is_open(const dialog *d)
{
    return d->kind != DIALOG_NONE;
}

static const char *or_none(const char *s)
{
    return s && *s ? s : "(none)";
}

static void body_add(dialog *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void body_add(dialog *d, const char *fmt, ...)
{
    strbuf sb = {0};
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(&sb, fmt, ap);
    va_end(ap);
    /* multi-line text (a diff) becomes one body line each */
    char *text = strbuf_take(&sb);
    for (char *save, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        strvec_push(&d->body, line);
    if (!*text)
        strvec_push(&d->body, "");
    free(text);
}

/* Fill the confirm stage for the action in d (app, alias, tag already set). */
static void dialog_confirm_stage(dialog *d, const model_image *img)
{
    const char *name = d->app;
    char *who = xasprintf("%s/%s", name, d->alias ? d->alias : "");
    strvec_free(&d->body);
    free(d->title);
    free(d->confirm_label);
    switch (d->action) {
    case CMD_APPROVE:
        d->title = xasprintf("Approve %s", who);
        d->confirm_label = xstrdup("Approve");
        body_add(d, "Write %s (now %s) for %s.", d->tag, or_none(img->current), img->image);
        if (img->state == STATE_ERROR && img->detail)
            body_add(d, "Again: the last attempt failed: %s", img->detail);
        if (img->candidate_digest)
            body_add(d, "The approval binds to digest %s.", img->candidate_digest);
        break;
    case CMD_PIN:
        d->title = xasprintf("Pin %s to %s", who, d->tag);
        d->confirm_label = xstrdup("Pin");
        body_add(d, "Write %s (now %s) and hold it: automation will not", d->tag,
                 or_none(img->current));
        body_add(d, "move %s until you unpin it.", who);
        break;
    case CMD_ROLLBACK:
        d->title = xasprintf("Roll back %s to %s", who, d->tag);
        d->confirm_label = xstrdup("Roll back");
        body_add(d, "Write %s (now %s) and pin it there, so automation", d->tag,
                 or_none(img->current));
        body_add(d, "does not undo the rollback.");
        break;
    case CMD_UNPIN:
        d->title = xasprintf("Unpin %s", who);
        d->confirm_label = xstrdup("Unpin");
        body_add(d, "Release the pin on %s; automation may move the image again",
                 or_none(img->pin));
        body_add(d, "(candidate now: %s).", or_none(img->candidate));
        break;
    case CMD_SKIP:
        d->title = xasprintf("Skip %s for %s", d->tag, who);
        d->confirm_label = xstrdup("Skip");
        body_add(d, "Hold back %s; %s stays at %s and a newer candidate", d->tag, who,
                 or_none(img->current));
        body_add(d, "will be offered again.");
        break;
    default:
        d->title = xstrdup(who);
        d->confirm_label = xstrdup("OK");
        break;
    }
    if (img->target)
        body_add(d, "Target: %s", img->target);
    if (img->diff && d->action == CMD_APPROVE) {
        body_add(d, "%s", "");
        body_add(d, "%s", img->diff);
    }
    d->kind = DIALOG_CONFIRM;
    d->focus = DIALOG_FOCUS_CANCEL;
    free(who);
}

static void dialog_choices(dialog *d, const model_image *img, const char *preselect)
{
    size_t *order = xcalloc(img->n_tags ? img->n_tags : 1, sizeof *order);
    console_tag_order(img, order);
    for (size_t k = 0; k < img->n_tags; k++) {
        char reason[MODEL_REASON_MAX];
        model_tag tag = model_image_tag(img, order[k], reason, sizeof reason);
        const model_tag *t = &tag;
        if (!t->name)
            continue;
        const char *note = t->candidate                     ? "candidate"
                           : str_eq(t->name, img->current)  ? "current"
                           : str_eq(t->name, img->previous) ? "previous"
                           : t->eligible                    ? "eligible"
                           : t->reason                      ? t->reason
                                                            : "";
        strvec_push(&d->choices, t->name);
        strvec_push(&d->notes, note);
        if (str_eq(t->name, preselect))
            d->chosen = d->choices.count - 1;
    }
    free(order);
    /* history may know a previous tag the registry no longer lists */
    if (img->previous && !d->choices.count) {
        strvec_push(&d->choices, img->previous);
        strvec_push(&d->notes, "previous");
    }
}

/* Whether an approval can be offered for img; when not, the status line says why and what to
 * do. By state, not by tag: under the digest strategy the tag stays and the digest moves. */
static bool approvable(console *c, const model_image *img)
{
    const char *app = img->app, *alias = img->alias;
    switch (img->state) {
    case STATE_UPDATE_AVAILABLE:
    case STATE_HELD:
        if (img->candidate)
            return true;
        break;
    case STATE_ERROR:
        /* A write that failed leaves its candidate: offer it again (the engine refuses, with
         * the reason, when the image itself is in error). */
        if (img->candidate)
            return true;
        console_status(c, true, "%s/%s is in error, with no candidate to approve: %s", app, alias,
                       img->detail ? img->detail : "Enter shows the detail");
        return false;
    case STATE_PINNED:
        console_status(c, true, "%s/%s is pinned at %s: unpin it (u) to approve %s", app, alias,
                       img->pin ? img->pin : "?", img->candidate ? img->candidate : "a newer tag");
        return false;
    case STATE_CHECKING:
        console_status(c, true, "%s/%s is being checked: approve once its candidate is known", app,
                       alias);
        return false;
    case STATE_WRITING:
        console_status(c, true, "%s/%s is being written now", app, alias);
        return false;
    case STATE_APPROVED:
    case STATE_WRITTEN:
        /* Not running yet: a dry run's decision, or a tag waiting on a branch to be merged. */
        if (img->detail && !str_eq(img->candidate, img->current)) {
            console_status(c, true, "%s/%s: nothing to approve: %s", app, alias, img->detail);
            return false;
        }
        break;
    default:
        break;
    }
    if (img->candidate)
        console_status(c, true, "%s/%s already runs %s: nothing to approve", app, alias,
                       img->current ? img->current : "?");
    else
        console_status(c, true, "%s/%s: no candidate to approve", app, alias);
    return false;
}

void dialog_open(console *c, key_action action)
{
    const model_image *img = console_current_image(c);
    if (!img) {
        console_status(c, true, "no image selected");
        return;
    }
    dialog *d = &c->dialog;
    dialog_clear(d);
    d->app = xstrdup(img->app);
    d->alias = xstrdup(img->alias);
    switch (action) {
    case ACT_APPROVE:
        if (!approvable(c, img)) {
            dialog_clear(d);
            return;
        }
        d->action = CMD_APPROVE;
        d->tag = xstrdup(img->candidate);
        d->digest = xstrdup(img->candidate_digest);
        dialog_confirm_stage(d, img);
        return;
    case ACT_SKIP:
        if (!img->candidate || str_eq(img->candidate, img->current)) {
            console_status(c, true, "%s/%s: no candidate to skip", img->app, img->alias);
            dialog_clear(d);
            return;
        }
        d->action = CMD_SKIP;
        d->tag = xstrdup(img->candidate);
        dialog_confirm_stage(d, img);
        return;
    case ACT_UNPIN:
        if (!img->pin) {
            console_status(c, true, "%s/%s is not pinned", img->app, img->alias);
            dialog_clear(d);
            return;
        }
        d->action = CMD_UNPIN;
        dialog_confirm_stage(d, img);
        return;
    case ACT_PIN:
    case ACT_ROLLBACK:
        d->action = action == ACT_PIN ? CMD_PIN : CMD_ROLLBACK;
        dialog_choices(d, img,
                       action == ACT_PIN ? (img->candidate ? img->candidate : img->current)
                                         : img->previous);
        if (!d->choices.count) {
            console_status(c, true, "%s/%s: no tags known yet to %s", img->app, img->alias,
                           action == ACT_PIN ? "pin" : "roll back to");
            dialog_clear(d);
            return;
        }
        d->title = action == ACT_PIN
                       ? xasprintf("Pin %s/%s to which tag?", img->app, img->alias)
                       : xasprintf("Roll %s/%s back to which tag?", img->app, img->alias);
        d->kind = DIALOG_CHOOSE;
        return;
    default:
        dialog_clear(d);
        return;
    }
}

static void dialog_submit(console *c)
{
    dialog *d = &c->dialog;
    engine_command cmd = {
        .kind = d->action, .app = d->app, .alias = d->alias, .tag = d->tag, .digest = d->digest};
    if (d->action == CMD_UNPIN)
        cmd.tag = NULL;
    if (c->read_only) { /* cannot happen through the keys; refuse anyway */
        console_status(c, true, "read-only: %s refused", engine_cmd_name(d->action));
    } else {
        c->submit(c, &cmd);
        console_status(c, false, "%s %s/%s%s%s: sent, waiting for the engine...",
                       engine_cmd_name(d->action), d->app, d->alias, cmd.tag ? " " : "",
                       cmd.tag ? cmd.tag : "");
    }
    dialog_clear(d);
}

static void dialog_choose_key(console *c, key_event ev)
{
    dialog *d = &c->dialog;
    size_t n = d->choices.count;
    if (key_is(ev, 'j') || key_is(ev, KEY_DOWN)) {
        if (d->chosen + 1 < n)
            d->chosen++;
    } else if (key_is(ev, 'k') || key_is(ev, KEY_UP)) {
        if (d->chosen > 0)
            d->chosen--;
    } else if (key_is(ev, KEY_NPAGE)) {
        d->chosen = d->chosen + 10 < n ? d->chosen + 10 : n - 1;
    } else if (key_is(ev, KEY_PPAGE)) {
        d->chosen = d->chosen > 10 ? d->chosen - 10 : 0;
    } else if (key_is(ev, 'g') || key_is(ev, KEY_HOME)) {
        d->chosen = 0;
    } else if (key_is(ev, 'G') || key_is(ev, KEY_END)) {
        d->chosen = n - 1;
    } else if (key_is(ev, '\n') || key_is(ev, '\r') || key_is(ev, KEY_ENTER)) {
        const model_image *img = model_find(c->snap, d->app, d->alias);
        if (!img) {
            console_status(c, true, "%s/%s is gone from the latest scan", d->app, d->alias);
            dialog_clear(d);
            return;
        }
        d->tag = xstrdup(d->choices.items[d->chosen]);
        dialog_confirm_stage(d, img);
    } else if (key_is(ev, 'n') || key_is(ev, 'q') || key_is(ev, 033)) {
        console_status(c, false, "cancelled");
        dialog_clear(d);
    }
}

void dialog_key(console *c, key_event ev)
{
    dialog *d = &c->dialog;
    c->dirty = true;
    if (d->kind == DIALOG_CHOOSE) {
        dialog_choose_key(c, ev);
        return;
    }
    if (key_is(ev, 'y') || key_is(ev, 'Y')) {
        dialog_submit(c);
    } else if (key_is(ev, 'n') || key_is(ev, 'N') || key_is(ev, 'q') || key_is(ev, 033)) {
        console_status(c, false, "cancelled: nothing was written");
        dialog_clear(d);
    } else if (key_is(ev, '\t') || key_is(ev, KEY_BTAB) || key_is(ev, KEY_LEFT) ||
               key_is(ev, KEY_RIGHT) || key_is(ev, 'h') || key_is(ev, 'l')) {
        d->focus = d->focus == DIALOG_FOCUS_CONFIRM ? DIALOG_FOCUS_CANCEL : DIALOG_FOCUS_CONFIRM;
    } else if (key_is(ev, '\n') || key_is(ev, '\r') || key_is(ev, KEY_ENTER)) {
        if (d->focus == DIALOG_FOCUS_CONFIRM) {
            dialog_submit(c);
        } else {
            console_status(c, false, "cancelled: nothing was written");
            dialog_clear(d);
        }
    }
}

/* The body as drawn at `cols` columns: the prose (up to the first blank line) wrapped at
 * spaces, the diff after it kept line for line (cut with an ellipsis when too wide). */
static void dialog_wrap(const dialog *d, int cols, strvec *out)
{
    bool prose = true;
    for (size_t i = 0; i < d->body.count; i++) {
        const char *line = d->body.items[i];
        if (!*line)
            prose = false;
        if (!prose || cols < 10 || (int)strlen(line) <= cols) {
            strvec_push(out, line);
            continue;
        }
        while (*line) {
            int len = (int)strlen(line);
            int cut = len <= cols ? len : cols;
            if (cut < len) {
                int space = cut;
                while (space > 0 && line[space] != ' ')
                    space--;
                if (space > cols / 2)
                    cut = space;
            }
            char *part = xstrndup(line, (size_t)cut);
            strvec_push(out, part);
            free(part);
            line += cut;
            while (*line == ' ')
                line++;
        }
    }
}

void dialog_draw(console *c)
{
    dialog *d = &c->dialog;
    if (d->kind == DIALOG_NONE)
        return;
    int width = COLS - 4 < 100 ? COLS - 4 : 100;
    strvec shown = {0};
    if (d->kind == DIALOG_CONFIRM)
        dialog_wrap(d, width - 4, &shown);
    size_t lines = d->kind == DIALOG_CHOOSE ? d->choices.count : shown.count;
    int inner = (int)lines;
    int max_inner = LINES - 8;
    if (max_inner < 1)
        max_inner = 1;
    if (inner > max_inner)
        inner = max_inner;
    if (inner < 1)
        inner = 1;
    int height = inner + 6;
    int y = (LINES - height) / 2, x = (COLS - width) / 2;
    for (int j = 0; j < height; j++)
        screen_fill(c, y + j, x, width, ROLE_DIALOG);
    screen_box(c, y, x, height, width, ROLE_DIALOG);
    char *title = xasprintf(" %s ", d->title);
    screen_text(c, y, x + 2, width - 4, ROLE_DIALOG, title);
    free(title);
    int cursor_y = y + 2, cursor_x = x + 2;
    if (d->kind == DIALOG_CHOOSE) {
        if (d->chosen < d->top)
            d->top = d->chosen;
        if (d->chosen >= d->top + (size_t)inner)
            d->top = d->chosen - (size_t)inner + 1;
        for (int j = 0; j < inner && d->top + (size_t)j < d->choices.count; j++) {
            size_t i = d->top + (size_t)j;
            theme_role role = i == d->chosen ? ROLE_SELECTED : ROLE_DIALOG;
            char *line = xasprintf("%s %-20s %s", i == d->chosen ? ">" : " ", d->choices.items[i],
                                   d->notes.items[i]);
            screen_put(c, y + 2 + j, x + 2, width - 4, role, line);
            free(line);
            if (i == d->chosen)
                cursor_y = y + 2 + j;
        }
        screen_text(c, y + height - 2, x + 2, width - 4, ROLE_DIALOG,
                    "Enter choose   j/k move   Esc cancel");
    } else {
        for (int j = 0; j < inner && (size_t)j < shown.count; j++) {
            const char *line = shown.items[j];
            theme_role role = ROLE_DIALOG;
            if (line[0] == '+' && line[1] != '+')
                role = ROLE_DIFF_ADD;
            else if (line[0] == '-' && line[1] != '-')
                role = ROLE_DIFF_DEL;
            screen_put(c, y + 2 + j, x + 2, width - 4, role, line);
        }
        char *ok = xasprintf("[ %s (y) ]", d->confirm_label);
        const char *cancel = "[ Cancel (n) ]";
        int by = y + height - 2;
        int okw = (int)strlen(ok), cw = (int)strlen(cancel);
        int bx = x + (width - okw - cw - 4) / 2;
        screen_text(c, by, bx, okw,
                    d->focus == DIALOG_FOCUS_CONFIRM ? ROLE_BUTTON_FOCUS : ROLE_BUTTON, ok);
        screen_text(c, by, bx + okw + 4, cw,
                    d->focus == DIALOG_FOCUS_CANCEL ? ROLE_BUTTON_FOCUS : ROLE_BUTTON, cancel);
        cursor_y = by;
        cursor_x = d->focus == DIALOG_FOCUS_CONFIRM ? bx + 2 : bx + okw + 6;
        free(ok);
    }
    strvec_free(&shown);
    move(cursor_y, cursor_x);
}
