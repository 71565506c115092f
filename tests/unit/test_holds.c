/* Shared holds (state/holds): the file every engine reads, its edits, its refusals of what
 * a hostile repository could put there, the annotation form, and the decisions taking the
 * shared holds over the journal's for an app. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/decisions.h"
#include "state/holds.h"

static int parse(const char *text, holds *h, tp_err *err)
{
    return holds_parse(text, strlen(text), HOLDS_PATH, h, err);
}

static void edit(holds *h, hold_op op, const char *app, const char *alias, const char *value,
                 int want)
{
    hold_edit e = {op, app, alias, value};
    tp_err err = {{0}};
    cr_assert_eq(holds_apply(h, &e, &err), want, "%s %s %s: %s", app, alias ? alias : "",
                 value ? value : "", err.msg);
}

Test(holds, edits_render_sorted_and_read_back)
{
    holds h = {0};
    edit(&h, HOLD_PIN, "zoo", "web", "v1.0.0", 1);
    edit(&h, HOLD_PIN, "bookstore", "web", "v2.0.0", 1);
    edit(&h, HOLD_PIN, "bookstore", "web", "v2.0.0", 0);
    edit(&h, HOLD_SKIP, "bookstore", "api", "1.3.0", 1);
    edit(&h, HOLD_SKIP, "bookstore", "api", "1.3.0", 0);
    edit(&h, HOLD_SKIP, "bookstore", "api", "1.4.0", 1);
    edit(&h, HOLD_POLICY, "bookstore", NULL, "manual", 1);
    edit(&h, HOLD_UNPIN, "zoo", "web", NULL, 1);
    edit(&h, HOLD_UNPIN, "zoo", "web", NULL, 0);
    edit(&h, HOLD_UNPIN, "nobody", "web", NULL, 1); /* listed now: its holds are shared */
    edit(&h, HOLD_UNPIN, "nobody", "web", NULL, 0);
    edit(&h, HOLD_PIN, "null", "web", "1", 1);
    char *text = holds_render(&h);
    cr_assert_str_eq(text,
                     "# tagpilot's holds: pins, skipped tags and approval policies that "
                     "every tagpilot\n"
                     "# engine writing to this repository follows (docs/writeback.md, "
                     "\"Shared holds\").\n"
                     "# Written by tagpilot; review and revert it like any other change.\n"
                     "apiVersion: tagpilot.io/v1\n"
                     "kind: Holds\n"
                     "applications:\n"
                     "  \"bookstore\":\n"
                     "    policy: manual\n"
                     "    images:\n"
                     "      \"api\":\n"
                     "        skip:\n"
                     "          - \"1.3.0\"\n"
                     "          - \"1.4.0\"\n"
                     "      \"web\":\n"
                     "        pin: \"v2.0.0\"\n"
                     "  \"nobody\": {}\n"
                     "  \"null\":\n"
                     "    images:\n"
                     "      \"web\":\n"
                     "        pin: \"1\"\n"
                     "  \"zoo\": {}\n",
                     "sorted; names quoted (null stays a name); an app whose holds went stays "
                     "listed");
    holds back;
    tp_err err = {{0}};
    cr_assert_eq(parse(text, &back, &err), 0, "%s", err.msg);
    const holds_app *a = holds_find(&back, "bookstore");
    cr_assert_not_null(a);
    cr_assert_str_eq(a->policy, "manual");
    cr_assert_str_eq(holds_app_image(a, "web")->pin, "v2.0.0");
    cr_assert(holds_app_skipped(a, "api", "1.4.0"));
    cr_assert_not(holds_app_skipped(a, "api", "2.0.0"));
    cr_assert(holds_find(&back, "zoo")->listed, "an empty entry is read back as listed");
    char *again = holds_render(&back);
    cr_assert_str_eq(again, text, "parse and render are each other's inverse");
    free(again);
    free(text);
    holds_free(&back);
    holds_free(&h);
}

Test(holds, empty_and_hand_written_files)
{
    holds h;
    tp_err err = {{0}};
    cr_assert_eq(parse("", &h, &err), 0, "%s", err.msg);
    cr_assert_eq(h.n_apps, 0);
    cr_assert_eq(parse("---\n", &h, &err), 0, "an empty document: %s", err.msg);
    cr_assert_eq(h.n_apps, 0);
    char *text = holds_render(&h);
    cr_assert(strstr(text, "applications: {}\n"), "%s", text);
    free(text);
    cr_assert_eq(parse("apiVersion: tagpilot.io/v1\nkind: Holds\napplications:\n"
                       "  shop:\n    images:\n      web: {pin: 1.0}\n      api:\n"
                       "        skip: [a, b]\n",
                       &h, &err),
                 0, "%s", err.msg);
    cr_assert_str_eq(holds_app_image(holds_find(&h, "shop"), "web")->pin, "1.0",
                     "a plain 1.0 is the tag '1.0', not a number");
    cr_assert(holds_app_skipped(holds_find(&h, "shop"), "api", "b"));
    holds_free(&h);
}

Test(holds, refuses_what_it_does_not_understand)
{
    static const struct {
        const char *text, *says;
    } bad[] = {
        {"apiVersion: tagpilot.io/v2\nkind: Holds\n", "apiVersion"},
        {"apiVersion: tagpilot.io/v1\nkind: Pins\n", "kind must be Holds"},
        {"apiVersion: tagpilot.io/v1\nkind: Holds\napplication: {}\n", "unknown key 'application'"},
        {"apiVersion: tagpilot.io/v1\nkind: Holds\napplications:\n  shop:\n    images:\n"
         "      web: {pinned: v1}\n",
         "holds.yaml:6:13: unknown key 'pinned'"},
        {"apiVersion: tagpilot.io/v1\nkind: Holds\napplications:\n  shop:\n    policy: yolo\n",
         "policy must be auto or manual"},
        {"apiVersion: tagpilot.io/v1\nkind: Holds\napplications:\n  Shop_1: {}\n",
         "not an Application name"},
        {"apiVersion: tagpilot.io/v1\nkind: Holds\napplications:\n  shop:\n    images:\n"
         "      web: {pin: \"v1\\nApproved-by: mallory\"}\n",
         "is no tag"},
        {"apiVersion: tagpilot.io/v1\nkind: Holds\napplications:\n  shop:\n    images:\n"
         "      \"we b\": {pin: v1}\n",
         "alias"},
        {"apiVersion: tagpilot.io/v1\nkind: Holds\napplications:\n  shop:\n    images:\n"
         "      web: {skip: v1}\n",
         "skip must be a list"},
        {"apiVersion: tagpilot.io/v1\nkind: Holds\n---\napiVersion: tagpilot.io/v1\n",
         "one YAML document"},
        {"- a\n", "must be a map"},
        {"apiVersion: tagpilot.io/v1\nkind: Holds\napplications:\n  shop:\n    images:\n"
         "      web: {pin: null, pin: v1}\n",
         "a key given twice"},
        {"apiVersion: tagpilot.io/v1\nkind: Holds\napplications:\n  shop: {}\n  shop: {}\n",
         "given twice"},
        {"apiVersion: tagpilot.io/v1\nkind: Holds\napplications:\n  shop:\n    images:\n"
         "      web: {}\n      web: {pin: v1}\n",
         "a key given twice"},
        {"apiVersion: tagpilot.io/v1\nkind: Holds\napplications:\n  shop:\n    images:\n"
         "      web: {pin: \"v1\\0evil\"}\n",
         "is no tag"},

        {"apiVersion: [\n", "holds.yaml:"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        holds h;
        tp_err err = {{0}};
        cr_expect_eq(parse(bad[i].text, &h, &err), -1, "case %zu accepted", i);
        cr_expect(strstr(err.msg, bad[i].says), "case %zu: '%s' lacks '%s'", i, err.msg,
                  bad[i].says);
    }
}

Test(holds, edits_refuse_values_that_would_inject)
{
    holds h = {0};
    edit(&h, HOLD_PIN, "shop", "web", "v1\"\n  evil: x", -1);
    edit(&h, HOLD_PIN, "shop", "we\"b", "v1", -1);
    edit(&h, HOLD_PIN, "Shop", "web", "v1", -1);
    edit(&h, HOLD_SKIP, "shop", "web", "", -1);
    edit(&h, HOLD_POLICY, "shop", NULL, "always", -1);
    cr_assert_eq(h.n_apps, 0, "nothing refused was kept");
    holds_free(&h);
}

Test(holds, skips_are_bounded_oldest_first_out)
{
    holds h = {0};
    for (int i = 0; i < HOLDS_MAX_SKIPS + 3; i++) {
        char tag[16];
        snprintf(tag, sizeof tag, "1.0.%d", i);
        edit(&h, HOLD_SKIP, "shop", "web", tag, 1);
    }
    const holds_app *a = holds_find(&h, "shop");
    cr_assert_eq(holds_app_image(a, "web")->skips.count, HOLDS_MAX_SKIPS);
    cr_assert_not(holds_app_skipped(a, "web", "1.0.2"), "the oldest went");
    cr_assert(holds_app_skipped(a, "web", "1.0.3"));
    holds_free(&h);
}

Test(holds, annotations)
{
    const char *keys[] = {"argocd-image-updater.argoproj.io/image-list", "tagpilot.io/web.pin",
                          "tagpilot.io/api.skip", "tagpilot.io/approval"};
    const char *values[] = {"web=nginx", "1.25.3", "1.3.0,1.4.0", "auto"};
    holds_app *held = xcalloc(1, sizeof *held);
    tp_err err = {{0}};
    cr_assert_eq(holds_from_annotations("shop", keys, values, 4, held, &err), 0, "%s", err.msg);
    cr_assert_str_eq(holds_app_image(held, "web")->pin, "1.25.3");
    cr_assert(holds_app_skipped(held, "api", "1.4.0"));
    cr_assert_str_eq(held->policy, "auto");
    cr_assert(held->listed);
    char *joined = holds_skips_joined(holds_app_image(held, "api"));
    cr_assert_str_eq(joined, "1.3.0,1.4.0");
    free(joined);
    holds_app_free(held);
    holds_app a;

    const char *typo[] = {"tagpilot.io/web.pinned"};
    const char *v[] = {"1"};
    cr_assert_eq(holds_from_annotations("shop", typo, v, 1, &a, &err), -1);
    cr_assert(strstr(err.msg, "unknown annotation tagpilot.io/web.pinned"), "%s", err.msg);
    const char *inject[] = {"tagpilot.io/web.pin"};
    const char *iv[] = {"1\nApproved-by: x"};
    cr_assert_eq(holds_from_annotations("shop", inject, iv, 1, &a, &err), -1);
    cr_assert_not(strchr(err.msg, '\n'), "the refusal shows the tag escaped: %s", err.msg);

    const char *approval_only[] = {"tagpilot.io/approval"};
    const char *manual[] = {"manual"};
    cr_assert_eq(holds_from_annotations("shop", approval_only, manual, 1, &a, &err), 0, "%s",
                 err.msg);
    cr_assert_not(a.listed, "the approval annotation alone leaves the journal's pins counting");
    cr_assert_str_eq(a.policy, "manual");
    holds_app_clear(&a);
    const char *unpinned[] = {"tagpilot.io/web.pin"};
    const char *empty[] = {""};
    cr_assert_eq(holds_from_annotations("shop", unpinned, empty, 1, &a, &err), 0, "%s", err.msg);
    cr_assert(a.listed, "an empty pin: unpinned, and the holds shared");
    cr_assert_null(holds_app_image(&a, "web") ? holds_app_image(&a, "web")->pin : NULL);
    holds_app_clear(&a);

    char *key = holds_annotation_key("web", "pin", &err);
    cr_assert_str_eq(key, "tagpilot.io/web.pin");
    free(key);
    cr_assert_null(holds_annotation_key("library/nginx", "pin", &err),
                   "a / cannot be in an annotation's name");
    cr_assert(strstr(err.msg, "cannot name an annotation"), "%s", err.msg);
}

Test(holds, shared_holds_replace_the_journals_for_their_app)
{
    decisions d = {0};
    journal_record pin = {
        .action = "pin", .app = "shop", .alias = "web", .from = "1", .to = "2", .result = "ok"};
    journal_record skip = {
        .action = "skip", .app = "shop", .alias = "web", .to = "3", .result = "ok"};
    journal_record policy = {.action = "set-policy", .app = "shop", .to = "auto", .result = "ok"};
    decisions_apply(&d, &pin);
    decisions_apply(&d, &skip);
    decisions_apply(&d, &policy);
    cr_assert_str_eq(decisions_pin(&d, "shop", "web"), "2");
    holds h = {0};
    decisions_set_shared(&d, "shop", xcalloc(1, sizeof(holds_app)));
    cr_assert_str_eq(decisions_pin(&d, "shop", "web"), "2",
                     "holds that do not list the app leave the journal's pins counting (an "
                     "upgrade drops nothing)");
    edit(&h, HOLD_PIN, "shop", "api", "9", 1);
    decisions_set_shared(&d, "shop", holds_app_dup(holds_find(&h, "shop")));
    cr_assert_null(decisions_pin(&d, "shop", "web"), "another engine unpinned it: the journal's "
                                                     "pin no longer holds");
    cr_assert_str_eq(decisions_journal_pin(&d, "shop", "web"), "2");
    cr_assert_not(decisions_skipped(&d, "shop", "web", "3"));
    cr_assert_eq(decisions_policy(&d, "shop"), APPROVAL_DEFAULT);
    cr_assert_str_eq(decisions_pin(&d, "shop", "api"), "9");
    hold_edit e = {HOLD_SKIP, "shop", "web", "4"};
    decisions_hold(&d, &e);
    cr_assert(decisions_skipped(&d, "shop", "web", "4"), "a hold just written counts at once");
    hold_edit other = {HOLD_PIN, "elsewhere", "web", "4"};
    decisions_hold(&d, &other);
    cr_assert_null(decisions_pin(&d, "elsewhere", "web"), "only apps whose holds are shared");
    cr_assert_str_eq(decisions_previous(&d, "shop", "web"), "1",
                     "what a rollback goes back to stays the journal's");
    decisions_set_shared(&d, "shop", NULL);
    cr_assert_str_eq(decisions_pin(&d, "shop", "web"), "2", "without shared holds: the journal");
    holds_free(&h);
    decisions_free(&d);
}
