/* The engine's decisions without a thread, git or a registry: image_decide for every state,
 * the approval policy's precedence, the digest an approval binds to, what a write leaves, and
 * the write-and-record path's rule for a journal that refuses the record (a fake write-back
 * method stands in for git). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine_internal.h"
#include "core/image_table.h"

static argo_app app;
static image_settings img;
static decisions dec;
static tracked t;

static void setup(void)
{
    app = (argo_app){.name = "shop"};
    img = (image_settings){.alias = "web", .strategy = STRATEGY_SEMVER};
    app.settings.images = &img;
    app.settings.n_images = 1;
    app.settings.writeback = WRITEBACK_GIT;
    dec = (decisions){0};
    t = (tracked){0};
    image_init(&t, &app, &img, xstrdup("somewhere"));
    t.filter = tagfilter_new(NULL, NULL, 0); /* the registry's check sets one before deciding */
}

static void teardown(void)
{
    image_clear(&t);
    decisions_free(&dec);
}

static void record(const char *action, const char *to)
{
    journal_record rec = {.action = (char *)action,
                          .app = "shop",
                          .alias = "web",
                          .from = "v1.0.0",
                          .to = (char *)to,
                          .result = "ok"};
    decisions_apply(&dec, &rec);
}

/* A listing with these tags, so "no tag is eligible" can be told from "no tags". */
static void listed(const char *tag)
{
    strvec names = {0};
    strvec_push(&names, tag);
    t.tags = tag_table_of(&names);
    strvec_free(&names);
}

TestSuite(image_table, .init = setup, .fini = teardown);

Test(image_table, a_new_image_is_checking)
{
    cr_assert_eq(t.state, STATE_CHECKING);
    cr_assert_str_eq(t.key, "shop\x1fweb");
}

Test(image_table, an_image_with_an_annotation_error_fails_at_once)
{
    image_clear(&t);
    img.error = "bad constraint";
    image_init(&t, &app, &img, NULL);
    img.error = NULL;
    cr_assert(t.failed);
    cr_assert_eq(t.state, STATE_ERROR);
    cr_assert_str_eq(t.detail, "bad constraint");
}

Test(image_table, error_wins_over_everything)
{
    image_set_current(&t, "v1.0.0", NULL);
    image_set_candidate(&t, "v1.0.1", NULL);
    record("pin", "v1.0.0");
    image_fail(&t, "registry: %s", "timeout");
    image_decide(&t, &dec);
    cr_assert_eq(t.state, STATE_ERROR);
    cr_assert_str_eq(t.detail, "registry: timeout");
}

Test(image_table, pinned_says_what_is_available)
{
    image_set_current(&t, "v1.0.0", NULL);
    image_set_candidate(&t, "v1.0.1", NULL);
    record("pin", "v1.0.0");
    image_decide(&t, &dec);
    cr_assert_eq(t.state, STATE_PINNED);
    cr_assert_str_eq(t.detail, "pinned at v1.0.0; v1.0.1 is available");
}

Test(image_table, up_to_date_when_the_candidate_is_current)
{
    image_set_current(&t, "v1.0.1", NULL);
    image_set_candidate(&t, "v1.0.1", NULL);
    image_decide(&t, &dec);
    cr_assert_eq(t.state, STATE_UP_TO_DATE);
    cr_assert_null(t.detail);
}

Test(image_table, up_to_date_without_a_candidate_says_why)
{
    image_set_current(&t, "v1.0.0", NULL);
    image_decide(&t, &dec);
    cr_assert_eq(t.state, STATE_UP_TO_DATE);
    cr_assert_str_eq(t.detail, "the registry lists no tags");
    listed("latest");
    image_decide(&t, &dec);
    cr_assert_str_eq(t.detail, "no tag is eligible");
}

Test(image_table, ignore_tags_star_is_up_to_date)
{
    const char *all[] = {"*"};
    tagfilter_free(t.filter);
    t.filter = tagfilter_new(NULL, all, 1);
    image_set_current(&t, "v1.0.0", NULL);
    image_set_candidate(&t, "v1.0.1", NULL);
    image_decide(&t, &dec);
    cr_assert_eq(t.state, STATE_UP_TO_DATE);
    cr_assert_str_eq(t.detail, "not updated: ignore-tags is '*'");
}

Test(image_table, held_when_the_candidate_was_skipped)
{
    image_set_current(&t, "v1.0.0", NULL);
    image_set_candidate(&t, "v1.0.1", NULL);
    record("skip", "v1.0.1");
    image_decide(&t, &dec);
    cr_assert_eq(t.state, STATE_HELD);
    /* A newer candidate than the skipped one is offered. */
    image_set_candidate(&t, "v1.0.2", NULL);
    image_decide(&t, &dec);
    cr_assert_eq(t.state, STATE_UPDATE_AVAILABLE);
}

Test(image_table, update_available)
{
    image_set_current(&t, "v1.0.0", NULL);
    image_set_candidate(&t, "v1.0.1", "sha256:1");
    image_decide(&t, &dec);
    cr_assert_eq(t.state, STATE_UPDATE_AVAILABLE);
    cr_assert_null(t.detail);
}

/* Under the digest strategy the tag stays and the digest moves: the same tag at another digest
 * is an update, at the same digest it is not. */
Test(image_table, digest_strategy_compares_digests)
{
    img.strategy = STRATEGY_DIGEST;
    image_set_current(&t, "latest", "sha256:1");
    image_set_candidate(&t, "latest", "sha256:2");
    image_decide(&t, &dec);
    cr_assert_eq(t.state, STATE_UPDATE_AVAILABLE);
    image_set_candidate_digest(&t, "sha256:1");
    image_decide(&t, &dec);
    cr_assert_eq(t.state, STATE_UP_TO_DATE);
}

/* A write left on another branch waits for its merge: written, not offered again; once the
 * branch read has the tag the wait is over. */
Test(image_table, written_while_waiting_for_a_merge)
{
    image_set_current(&t, "v1.0.0", NULL);
    image_set_candidate(&t, "v1.0.1", NULL);
    t.merge = xcalloc(1, sizeof *t.merge);
    t.merge->tag = xstrdup("v1.0.1");
    t.merge->branch = xstrdup("update");
    t.merge->base = xstrdup("main");
    image_decide(&t, &dec);
    cr_assert_eq(t.state, STATE_WRITTEN);
    cr_assert_str_eq(t.detail, "v1.0.1 is on branch update, waiting for it to be merged into main");
    image_set_current(&t, "v1.0.1", NULL);
    image_decide(&t, &dec);
    cr_assert_eq(t.state, STATE_UP_TO_DATE);
    cr_assert_null(t.merge);
}

Test(image_table, an_operator_write_is_written_then_up_to_date)
{
    image_set_current(&t, "v1.0.0", NULL);
    image_set_candidate(&t, "v1.0.1", NULL);
    image_decide(&t, &dec);
    image_written(&t, &dec, "v1.0.1", NULL, true);
    cr_assert_eq(t.state, STATE_WRITTEN);
    cr_assert_str_eq(t.current, "v1.0.1");
    /* git already had it: nothing was written, so it is simply up to date */
    image_written(&t, &dec, "v1.0.1", NULL, false);
    cr_assert_eq(t.state, STATE_UP_TO_DATE);
}

Test(image_table, an_auto_write_moves_current)
{
    image_set_current(&t, "v1.0.0", NULL);
    image_set_candidate(&t, "v1.0.1", "sha256:2");
    image_auto_written(&t, "0123456789abcdef");
    cr_assert_eq(t.state, STATE_WRITTEN);
    cr_assert_str_eq(t.current, "v1.0.1");
    cr_assert_str_eq(t.current_digest, "sha256:2");
    cr_assert_str_eq(t.detail, "commit 0123456789ab");
}

Test(image_table, a_failed_write_keeps_the_candidate)
{
    image_set_current(&t, "v1.0.0", NULL);
    image_set_candidate(&t, "v1.0.1", NULL);
    image_write_failed(&t, "push refused");
    cr_assert_eq(t.state, STATE_ERROR);
    cr_assert_not(t.failed, "a write's error is not the image's");
    cr_assert_str_eq(t.candidate, "v1.0.1");
}

/* ---- the approval policy ---- */

Test(image_table, policy_precedence)
{
    /* the config's, when nothing else says */
    cr_assert_eq(image_policy(&t, &dec, ENGINE_POLICY_CONFIG, APPROVAL_AUTO), APPROVAL_AUTO);
    cr_assert_eq(image_policy(&t, &dec, ENGINE_POLICY_CONFIG, APPROVAL_DEFAULT), APPROVAL_MANUAL);
    /* --approval over the config */
    cr_assert_eq(image_policy(&t, &dec, ENGINE_POLICY_MANUAL, APPROVAL_AUTO), APPROVAL_MANUAL);
    cr_assert_eq(image_policy(&t, &dec, ENGINE_POLICY_AUTO, APPROVAL_MANUAL), APPROVAL_AUTO);
    /* the app's annotation over --approval */
    app.settings.approval = APPROVAL_MANUAL;
    cr_assert_eq(image_policy(&t, &dec, ENGINE_POLICY_AUTO, APPROVAL_AUTO), APPROVAL_MANUAL);
    /* a set-policy in the journal over the annotation */
    journal_record rec = {.action = "set-policy", .app = "shop", .to = "auto", .result = "ok"};
    decisions_apply(&dec, &rec);
    cr_assert_eq(image_policy(&t, &dec, ENGINE_POLICY_MANUAL, APPROVAL_MANUAL), APPROVAL_AUTO);
}

/* ---- the digest an approval binds to ---- */

Test(image_table, approval_binds_to_the_digest_shown)
{
    image_set_candidate(&t, "v1.0.1", "sha256:scan");
    /* the operator saw sha256:shown: the scan's newer digest does not excuse a move */
    char *why = image_digest_moved(&t, "sha256:shown", "sha256:scan");
    cr_assert_not_null(why, "a digest other than the one shown was accepted");
    cr_assert(strstr(why, "v1.0.1 moved from sha256:shown"), "%s", why);
    free(why);
    cr_assert_null(image_digest_moved(&t, "sha256:now", "sha256:now"));
    /* nothing shown: the scan's digest binds */
    why = image_digest_moved(&t, NULL, "sha256:now");
    cr_assert_not_null(why);
    free(why);
    cr_assert_null(image_digest_moved(&t, NULL, "sha256:scan"));
    /* the refusal offers the candidate again at its new digest */
    image_candidate_moved(&t, "sha256:now", "moved");
    cr_assert_eq(t.state, STATE_UPDATE_AVAILABLE);
    cr_assert_str_eq(t.candidate_digest, "sha256:now");
}

/* ---- a journal that refuses the record ---- */

static char state[] = "/tmp/tp-image-table-XXXXXX";
static char ro_state[] = "/tmp/tp-image-table-ro-XXXXXX";
static journal *read_only_journal;
static bool pushed;

/* A write-back that commits and pushes (after recording its intent) without git; once pushed,
 * the journal refuses the outcome: it is swapped for one opened read-only. */
static engine *fake_engine;
static tp_config cfg;
static int fake_apply(const argo_app *a, const image_update *u, const writeback_opts *wo,
                      writeback_result *res, tp_err *err)
{
    (void)a, (void)u;
    const char *replaced[1] = {"v1.0.0"};
    writeback_intent in = {"0123456789abcdef0123456789abcdef01234567", "https://git.example/r",
                           "main", replaced, 1};
    if (wo->before_push(wo->hook_ctx, &in, err) < 0)
        return -1;
    pushed = true;
    memcpy(res->commit, in.commit, sizeof res->commit);
    fake_engine->records.journal = read_only_journal;
    return 0;
}

static const write_method fake_method = {"fake", false, "commit %.12s", "git already has it",
                                         NULL,   NULL,  NULL,           fake_apply};

static engine *engine_for_write(journal **own)
{
    cr_assert_not_null(mkdtemp(state));
    cr_assert_not_null(mkdtemp(ro_state));
    tp_err err = {{0}};
    cr_assert_eq(journal_open(state, JOURNAL_READ_WRITE, own, &err), 0, "%s", err.msg);
    cr_assert_eq(journal_open(state, JOURNAL_READ_ONLY, &read_only_journal, &err), 0, "%s",
                 err.msg);
    engine *e = xcalloc(1, sizeof *e);
    config_defaults(&cfg);
    e->cfg = &cfg;
    e->records.journal = *own;
    e->records.identity = xstrdup("tester@host");
    e->write_methods[WRITEBACK_GIT] = &fake_method;
    fake_engine = e;
    pushed = false;
    return e;
}

static void engine_for_write_free(engine *e, journal *own)
{
    journal_close(own);
    journal_close(read_only_journal);
    engine_history_free(e);
    decisions_free(&e->records.dec);
    strvec_free(&e->log);
    free(e->records.identity);
    free(e);
    config_free(&cfg);
    char *rm = xasprintf("rm -rf '%s' '%s'", state, ro_state);
    cr_assert_eq(system(rm), 0);
    free(rm);
}

static bool logged(const engine *e, const char *text)
{
    for (size_t i = 0; i < e->log.count; i++)
        if (strstr(e->log.items[i], text))
            return true;
    return false;
}

/* Pushed, but the outcome could not be recorded: reported as failed (never "written"), and left
 * for the next cycle to reconcile from the intent record, which is in the journal. */
Test(image_table, a_write_whose_outcome_is_not_recorded_is_reported_failed)
{
    journal *own = NULL;
    engine *e = engine_for_write(&own);
    image_set_current(&t, "v1.0.0", NULL);
    image_set_candidate(&t, "v1.0.1", NULL);
    write_request req = {"approve", "v1.0.1", NULL, "Approved-by", NULL};
    char commit[41] = "";
    char *from = NULL;
    tp_err err = {{0}};
    int rc = engine_write_and_record(e, &t, &req, commit, &from, &err);
    cr_assert(pushed);
    cr_assert_eq(rc, -1, "reported as %d, not as failed", rc);
    cr_assert(strstr(err.msg, "not in the journal"), "%s", err.msg);
    cr_assert_str_eq(commit, "", "a commit is reported for an unrecorded write");
    cr_assert_null(from);
    cr_assert(e->records.intents_pending, "the intent is not left for reconciliation");
    cr_assert_eq(journal_count(own), 1);
    cr_assert_str_eq(journal_get(own, 0)->result, "intent");
    cr_assert_null(t.merge);
    cr_assert_not(logged(e, "written"));
    engine_for_write_free(e, own);
}

/* The intent cannot be recorded: nothing is pushed, and the write fails. */
Test(image_table, a_write_whose_intent_is_not_recorded_is_not_pushed)
{
    journal *own = NULL;
    engine *e = engine_for_write(&own);
    e->records.journal = read_only_journal;
    image_set_current(&t, "v1.0.0", NULL);
    write_request req = {"pin", "v1.0.1", NULL, "Pinned-by", NULL};
    char commit[41] = "";
    tp_err err = {{0}};
    int rc = engine_write_and_record(e, &t, &req, commit, NULL, &err);
    cr_assert_not(pushed);
    cr_assert_eq(rc, -1);
    cr_assert(strstr(err.msg, "the intent could not be recorded"), "%s", err.msg);
    engine_for_write_free(e, own);
}

/* git already has the tag: an operator's action is still recorded, and fails when it cannot
 * be. */
Test(image_table, an_unrecorded_non_write_is_reported_failed)
{
    journal *own = NULL;
    engine *e = engine_for_write(&own);
    e->records.journal = read_only_journal;
    image_set_current(&t, "v1.0.1", NULL);
    write_request req = {"pin", "v1.0.1", NULL, "Pinned-by", NULL};
    char commit[41] = "";
    tp_err err = {{0}};
    cr_assert_eq(engine_write_and_record(e, &t, &req, commit, NULL, &err), -1);
    engine_for_write_free(e, own);
}
