#include <criterion/criterion.h>

#include "state/decisions.h"

typedef struct rec_spec {
    const char *action, *app, *alias, *from, *to, *result;
} rec_spec;

static void apply_all(decisions *d, const rec_spec *specs, size_t n)
{
    *d = (decisions){0};
    for (size_t i = 0; i < n; i++) {
        journal_record r = {.action = (char *)specs[i].action,
                            .app = (char *)specs[i].app,
                            .alias = (char *)specs[i].alias,
                            .from = (char *)specs[i].from,
                            .to = (char *)specs[i].to,
                            .result = (char *)specs[i].result};
        decisions_apply(d, &r);
    }
}

Test(decisions, approve_rollback_pin_unpin)
{
    static const rec_spec history[] = {
        {"approve", "bookstore", "web", "v1.0.0", "v1.0.1", "ok"},
        {"rollback", "bookstore", "web", "v1.0.1", "v1.0.0", "ok"},
    };
    decisions d;
    apply_all(&d, history, 2);
    cr_assert_str_eq(decisions_pin(&d, "bookstore", "web"), "v1.0.0", "rollback pins");
    cr_assert_str_eq(decisions_previous(&d, "bookstore", "web"), "v1.0.0",
                     "a rollback is not a new previous: rolling back twice stays back");
    cr_assert_null(decisions_pin(&d, "bookstore", "api"), "other aliases untouched");
    journal_record unpin = {.action = "unpin", .app = "bookstore", .alias = "web", .result = "ok"};
    decisions_apply(&d, &unpin);
    cr_assert_null(decisions_pin(&d, "bookstore", "web"));
    decisions_free(&d);
}

Test(decisions, failures_change_nothing)
{
    static const rec_spec history[] = {
        {"approve", "bookstore", "web", "v1.0.0", "v1.0.1", "ok"},
        {"pin", "bookstore", "web", "v1.0.1", "v0.9", "error"},
        {"approve", "bookstore", "web", "v1.0.1", "v1.0.2", "refused"},
        {"set-policy", "bookstore", NULL, NULL, "auto", "error"},
    };
    decisions d;
    apply_all(&d, history, 4);
    cr_assert_null(decisions_pin(&d, "bookstore", "web"));
    cr_assert_str_eq(decisions_previous(&d, "bookstore", "web"), "v1.0.0");
    cr_assert_eq(decisions_policy(&d, "bookstore"), APPROVAL_DEFAULT);
    decisions_free(&d);
}

Test(decisions, skips_and_policies)
{
    static const rec_spec history[] = {
        {"skip", "catalog", "catalog", NULL, "1.5.2", "ok"},
        {"skip", "catalog", "catalog", NULL, "1.6.0", "ok"},
        {"set-policy", "catalog", NULL, NULL, "auto", "ok"},
        {"set-policy", "catalog", NULL, NULL, "manual", "ok"},
        {"set-policy", "web", NULL, NULL, "auto", "ok"},
        {"set-policy", "web", NULL, NULL, "sometimes", "ok"},
    };
    decisions d;
    apply_all(&d, history, 6);
    cr_assert(decisions_skipped(&d, "catalog", "catalog", "1.5.2"));
    cr_assert(decisions_skipped(&d, "catalog", "catalog", "1.6.0"));
    cr_assert_not(decisions_skipped(&d, "catalog", "catalog", "1.7.0"));
    cr_assert_eq(decisions_policy(&d, "catalog"), APPROVAL_MANUAL, "the last policy wins");
    cr_assert_eq(decisions_policy(&d, "web"), APPROVAL_AUTO, "a bad value is ignored");
    cr_assert_eq(decisions_policy(&d, "nobody"), APPROVAL_DEFAULT);
    decisions_free(&d);
}

Test(decisions, pin_to_current_does_not_move_previous)
{
    static const rec_spec history[] = {
        {"auto", "a", "x", "1.0", "1.1", "ok"},
        {"pin", "a", "x", "1.1", "1.1", "ok"},
    };
    decisions d;
    apply_all(&d, history, 2);
    cr_assert_str_eq(decisions_previous(&d, "a", "x"), "1.0");
    cr_assert_str_eq(decisions_pin(&d, "a", "x"), "1.1");
    decisions_free(&d);
}

/* A write-ahead intent is not an outcome: a pin is in force only once its push is recorded ok
 * (the outcome, or a reconciliation that found the commit on the branch). */
Test(decisions, intents_change_nothing)
{
    static const rec_spec history[] = {
        {"pin", "bookstore", "web", "v1.0.0", "v0.9", "intent"},
        {"approve", "bookstore", "web", "v1.0.0", "v1.0.1", "intent"},
    };
    decisions d;
    apply_all(&d, history, 2);
    cr_assert_null(decisions_pin(&d, "bookstore", "web"), "an intent pinned");
    cr_assert_null(decisions_previous(&d, "bookstore", "web"), "an intent moved 'previous'");
    journal_record outcome = {.action = "pin",
                              .app = "bookstore",
                              .alias = "web",
                              .from = "v1.0.0",
                              .to = "v0.9",
                              .result = "ok"};
    decisions_apply(&d, &outcome);
    cr_assert_str_eq(decisions_pin(&d, "bookstore", "web"), "v0.9");
    decisions_free(&d);
}
