/* Key dispatch without a terminal: the filter prompt, confirm dialogs that start on Cancel, the
 * tag chooser, and read-only mode that never submits a write, whatever is typed. */
#include <criterion/criterion.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "model_build.h"
#include "tags_fixture.h"

typedef struct recorded {
    int count;
    engine_cmd_kind kind[16];
    char tag[16][32];
    char app[16][32];
    char digest[16][80];
} recorded;

static recorded sent;

static void record(console *c, const engine_command *cmd)
{
    (void)c;
    if (sent.count < 16) {
        sent.kind[sent.count] = cmd->kind;
        snprintf(sent.tag[sent.count], sizeof sent.tag[0], "%s", cmd->tag ? cmd->tag : "");
        snprintf(sent.app[sent.count], sizeof sent.app[0], "%s", cmd->app ? cmd->app : "");
        snprintf(sent.digest[sent.count], sizeof sent.digest[0], "%s",
                 cmd->digest ? cmd->digest : "");
    }
    sent.count++;
}

static model_block *image(const char *app, const char *current, const char *candidate,
                          image_state st, const char *pin)
{
    model_block *b = model_block_new();
    model_image *m = model_block_image(b);
    m->app = model_block_str(b, app);
    m->alias = model_block_str(b, app);
    char *ref = xasprintf("127.0.0.1:5000/team/%s", app);
    m->image = model_block_str(b, ref);
    free(ref);
    m->strategy = model_block_str(b, "semver");
    m->current = model_block_str(b, current);
    m->candidate = model_block_str(b, candidate);
    m->pin = model_block_str(b, pin);
    m->previous = model_block_str(b, "v0.9.0");
    m->state = st;
    m->candidate_digest = model_block_str(
        b, "sha256:d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1");
    m->diff = model_block_str(b, "--- a/x\n+++ b/x\n-tag: v1.0.0\n+tag: v1.0.1\n");
    const char *const names[] = {"v0.9.0", "v1.0.0", "v1.0.1", "v1.1.0"};
    fixture_tags(b, names, 4, "~1.0");
    return b;
}

static model_snapshot *snapshot(void)
{
    model_block *b[] = {
        image("bookstore", "v1.0.0", "v1.0.1", STATE_UPDATE_AVAILABLE, NULL),
        image("catalog", "v1.0.1", "v1.0.1", STATE_UP_TO_DATE, NULL),
        image("payments", "v0.9.0", "v1.0.1", STATE_PINNED, "v0.9.0"),
    };
    model_header h = {.generation = 7, .phase = ENGINE_IDLE};
    model_snapshot *s = model_snapshot_new(&h, b, 3);
    for (int i = 0; i < 3; i++)
        model_block_unref(b[i]);
    return s;
}

static console c;

static void start(bool read_only)
{
    setlocale(LC_CTYPE, "C.UTF-8");
    memset(&sent, 0, sizeof sent);
    console_init(&c, read_only, false);
    c.submit = record;
    console_set_snapshot(&c, snapshot());
}

static void keys(const char *typed)
{
    for (const char *k = typed; *k; k++)
        console_key(&c, key_char((unsigned char)*k));
}

static const char *selected_app(void)
{
    const model_image *img = console_current_image(&c);
    return img ? img->app : "";
}

Test(console, filter_then_approve_with_y)
{
    start(false);
    keys("/book\n");
    cr_assert_eq(c.rows.count, 1);
    cr_assert_str_eq(selected_app(), "bookstore");
    keys("a");
    cr_assert(dialog_is_open(&c.dialog));
    cr_assert_eq(c.dialog.focus, DIALOG_FOCUS_CANCEL, "a confirm dialog starts on Cancel");
    cr_assert_str_eq(c.dialog.tag, "v1.0.1");
    bool shows_diff = false;
    for (size_t i = 0; i < c.dialog.body.count; i++)
        shows_diff |= strcmp(c.dialog.body.items[i], "+tag: v1.0.1") == 0;
    cr_assert(shows_diff, "the dialog shows the diff it will commit");
    keys("y");
    cr_assert(!dialog_is_open(&c.dialog));
    cr_assert_eq(sent.count, 1);
    cr_assert_eq(sent.kind[0], CMD_APPROVE);
    cr_assert_str_eq(sent.app[0], "bookstore");
    cr_assert_str_eq(sent.tag[0], "v1.0.1");
    console_free(&c);
}

Test(console, enter_on_cancel_and_n_and_esc_write_nothing)
{
    start(false);
    keys("a\n");
    cr_assert(!dialog_is_open(&c.dialog));
    keys("an");
    keys("a\033");
    cr_assert(!dialog_is_open(&c.dialog));
    cr_assert_eq(sent.count, 0);
    /* Tab moves to the confirm button; Enter presses it */
    keys("a\t\n");
    cr_assert_eq(sent.count, 1);
    cr_assert_eq(sent.kind[0], CMD_APPROVE);
    console_free(&c);
}

Test(console, pin_chooses_a_tag_then_confirms)
{
    start(false);
    keys("p");
    cr_assert_eq(c.dialog.kind, DIALOG_CHOOSE);
    cr_assert_str_eq(c.dialog.choices.items[c.dialog.chosen], "v1.0.1", "starts on the candidate");
    keys("j\n");
    cr_assert_eq(c.dialog.kind, DIALOG_CONFIRM);
    cr_assert_eq(c.dialog.focus, DIALOG_FOCUS_CANCEL);
    keys("y");
    cr_assert_eq(sent.count, 1);
    cr_assert_eq(sent.kind[0], CMD_PIN);
    cr_assert_str_eq(sent.tag[0], "v1.0.0");
    /* rollback starts on the previous tag */
    keys("r");
    cr_assert_str_eq(c.dialog.choices.items[c.dialog.chosen], "v0.9.0");
    keys("\ny");
    cr_assert_eq(sent.kind[1], CMD_ROLLBACK);
    cr_assert_str_eq(sent.tag[1], "v0.9.0");
    console_free(&c);
}

Test(console, unpin_and_skip_need_something_to_act_on)
{
    start(false);
    keys("u");
    cr_assert(!dialog_is_open(&c.dialog), "bookstore is not pinned");
    cr_assert(strstr(c.status, "not pinned"), "%s", c.status);
    keys("G");
    cr_assert_str_eq(selected_app(), "payments");
    keys("uy");
    cr_assert_eq(sent.kind[0], CMD_UNPIN);
    keys("gxy");
    cr_assert_eq(sent.kind[1], CMD_SKIP);
    cr_assert_str_eq(sent.tag[1], "v1.0.1");
    cr_assert_eq(sent.count, 2);
    console_free(&c);
}

/* `a` on an image it cannot approve says why and what to do, instead of "nothing to approve". */
Test(console, approve_on_a_pinned_image_says_how_to_unpin)
{
    start(false);
    keys("G");
    cr_assert_str_eq(selected_app(), "payments");
    keys("a");
    cr_assert(!dialog_is_open(&c.dialog));
    cr_assert_eq(sent.count, 0);
    cr_assert_str_eq(c.status, "payments/payments is pinned at v0.9.0: unpin it (u) to approve "
                               "v1.0.1");
    console_free(&c);
}

/* The engine leaves an image whose write failed in error with its candidate: `a` offers the
 * approval again (with why the last attempt failed), not "already runs". */
Test(console, approve_is_offered_again_after_a_failed_write)
{
    start(false);
    model_block *b = image("bookstore", "v1.0.0", "v1.0.1", STATE_ERROR, NULL);
    model_block_image(b)->detail = model_block_str(b, "git push: refused");
    model_header h = {.generation = 8, .phase = ENGINE_IDLE};
    console_set_snapshot(&c, model_snapshot_new(&h, &b, 1));
    model_block_unref(b);
    keys("a");
    cr_assert(dialog_is_open(&c.dialog), "status: %s", c.status);
    bool says_why = false;
    for (size_t i = 0; i < c.dialog.body.count; i++)
        says_why |= strcmp(c.dialog.body.items[i],
                           "Again: the last attempt failed: git push: refused") == 0;
    cr_assert(says_why, "the dialog says the last attempt failed");
    keys("y");
    cr_assert_eq(sent.count, 1);
    cr_assert_eq(sent.kind[0], CMD_APPROVE);
    cr_assert_str_eq(sent.tag[0], "v1.0.1");
    /* In error with nothing to approve: the reason, not a dialog. */
    b = image("bookstore", "v1.0.0", NULL, STATE_ERROR, NULL);
    model_block_image(b)->detail = model_block_str(b, "registry: 503");
    h.generation = 9;
    console_set_snapshot(&c, model_snapshot_new(&h, &b, 1));
    model_block_unref(b);
    keys("a");
    cr_assert(!dialog_is_open(&c.dialog));
    cr_assert_str_eq(
        c.status, "bookstore/bookstore is in error, with no candidate to approve: registry: 503");
    console_free(&c);
}

Test(console, read_only_refuses_every_dangerous_key)
{
    start(true);
    keys("/book\n");
    keys("ayypyyryyuyyxyy\n\t\ny");
    cr_assert_eq(sent.count, 0);
    cr_assert(!dialog_is_open(&c.dialog));
    cr_assert(strstr(c.status, "read-only"), "%s", c.status);
    /* safe keys still work: refresh reads only */
    keys("R");
    cr_assert_eq(sent.count, 1);
    cr_assert_eq(sent.kind[0], CMD_REFRESH);
    console_free(&c);
}

Test(console, esc_clears_the_filter_and_selection_survives_snapshots)
{
    start(false);
    keys("/cat\n");
    cr_assert_str_eq(selected_app(), "catalog");
    console_key(&c, key_char(033));
    cr_assert_null(c.filter);
    cr_assert_eq(c.rows.count, 3);
    cr_assert_str_eq(selected_app(), "catalog", "the selection stays on its image");
    console_set_snapshot(&c, snapshot());
    cr_assert_str_eq(selected_app(), "catalog");
    keys("s");
    cr_assert_eq(c.sort, SORT_STATE);
    cr_assert_str_eq(selected_app(), "catalog");
    keys("\n");
    cr_assert_eq(console_top_view(&c), &view_detail_ops);
    cr_assert_str_eq(selected_app(), "catalog");
    keys("q");
    cr_assert_eq(console_top_view(&c), &view_apps_ops);
    cr_assert(!c.quit);
    keys("?");
    cr_assert_eq(console_top_view(&c), &view_help_ops);
    keys("q");
    keys("q");
    cr_assert(c.quit);
    console_free(&c);
}

/* A character is not a key code with the same number: 'Ă' (U+0102, KEY_DOWN's 0402) does not
 * move the selection, 'ć' (U+0107, KEY_BACKSPACE's) and 'ą' (U+0105, KEY_RIGHT's) type into the
 * filter; the real Down and Backspace still work. */
Test(console, characters_are_not_key_codes)
{
    start(false);
    cr_assert_str_eq(selected_app(), "bookstore");
    console_key(&c, key_char(0x102));
    cr_assert_str_eq(selected_app(), "bookstore", "'Ă' moved the selection");
    console_key(&c, key_code(KEYCODE_DOWN));
    cr_assert_str_neq(selected_app(), "bookstore", "Down did not move the selection");
    keys("/");
    console_key(&c, key_char(0x107));
    console_key(&c, key_char(0x105));
    cr_assert_str_eq(c.filter_text.data, "\xc4\x87\xc4\x85", "typed: '%s'", c.filter_text.data);
    console_key(&c, key_code(KEYCODE_BACKSPACE));
    cr_assert_str_eq(c.filter_text.data, "\xc4\x87", "after Backspace: '%s'", c.filter_text.data);
    console_key(&c, key_char(0x3a9)); /* Ω: any printable character, Latin or not */
    cr_assert_str_eq(c.filter_text.data, "\xc4\x87\xce\xa9");
    console_free(&c);
}

/* An approval carries the digest the operator was shown, so the engine refuses it when the tag
 * has moved since — even if the engine itself has learnt the new digest meanwhile. */
Test(console, approve_sends_the_digest_shown)
{
    start(false);
    keys("a");
    cr_assert(dialog_is_open(&c.dialog));
    /* While the dialog is open the engine's view changes under it: the dialog keeps what it
     * showed. */
    console_set_snapshot(&c, snapshot());
    keys("y");
    int last = sent.count - 1;
    cr_assert_eq(sent.kind[last], CMD_APPROVE);
    cr_assert_str_eq(sent.tag[last], "v1.0.1");
    cr_assert_str_eq(sent.digest[last],
                     "sha256:d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1",
                     "sent digest '%s'", sent.digest[last]);
    console_free(&c);
}
