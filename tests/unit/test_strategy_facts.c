/* strategy: a table's tag facts (strategy_tag_facts) against parsing each tag per selection. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "select/strategy.h"

/* A table's tags are judged once (strategy_tag_facts) for every selection over it: a selection
 * with the facts must say exactly what one without them says, tag for tag, whatever the tags —
 * numbers past 32 bits (which the packed form cannot hold), pre-releases far into a long tag,
 * tags outside the grammar, loose versions. */
Test(strategy, facts_select_as_parsing_does)
{
    char long_pre[129];
    snprintf(long_pre, sizeof long_pre, "v2.0.0-a%0120d", 7); /* its pre-release at byte 7 */
    static const char *const names[] = {
        "1.0.0",
        "v1.2.3",
        "1.2",
        "1",
        "01.002.0003",
        "1.0.0-rc.1",
        "1.0.0-rc.1+build.5",
        "1.0.0+meta",
        "4294967295.0.0",
        "4294967296.0.0",
        "0.4294967296.1",
        "18446744073709551615.0.0",
        "18446744073709551616.0.0",
        "2.0.0-0",
        "2.0.0-01",
        "latest",
        "sha-abc123",
        "v",
        "1.0.0-",
        "1..0",
        "v9.9.9\n",
        "zz z",
        "",
        "3.0.0",
        "3.0.0-beta",
        "4294967295.4294967295.4294967295",
        "2.0.0-alpha.4294967296",
    };
    tag_list l = {0};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        tag_list_add(&l, names[i], NULL, NULL);
    tag_list_add(&l, long_pre, NULL, NULL);
    tag_fact *facts = strategy_tag_facts(&l);
    cr_assert_not_null(facts);
    static const char *const constraints[] = {
        NULL,
        "*",
        ">=1.0.0",
        "^1",
        "~1.2",
        ">=4294967295.0.0",
        ">4294967296.0.0",
        ">=1.0.0-0",
        ">=2.0.0-0 <3",
        "<1 || >=3.0.0-0",
        "=1.0.0-rc.1",
        "2.0.0-alpha.4294967296",
        ">=18446744073709551615.0.0",
    };
    static const strategy_kind kinds[] = {STRATEGY_SEMVER, STRATEGY_ALPHABETICAL};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        for (size_t c = 0; c < sizeof constraints / sizeof constraints[0]; c++) {
            strategy_params plain = {.kind = kinds[k], .constraint = constraints[c]};
            strategy_params with = plain;
            with.facts = facts;
            strategy_result a, b;
            tp_err err = {{0}};
            cr_assert_eq(strategy_select(&plain, &l, &a, &err), 0, "%s", err.msg);
            cr_assert_eq(strategy_select(&with, &l, &b, &err), 0, "%s", err.msg);
            const char *what = constraints[c] ? constraints[c] : "(none)";
            cr_expect_eq(a.candidate, b.candidate, "%s %s: candidate", strategy_name(kinds[k]),
                         what);
            for (size_t i = 0; i < l.count; i++) {
                char ta[128], tb[128];
                cr_expect_eq(a.verdicts[i].eligible, b.verdicts[i].eligible, "%s %s: tag '%s'",
                             strategy_name(kinds[k]), what, l.items[i].name);
                cr_expect_str_eq(strategy_reason_text(&a.verdicts[i], ta, sizeof ta),
                                 strategy_reason_text(&b.verdicts[i], tb, sizeof tb),
                                 "%s %s: tag '%s'", strategy_name(kinds[k]), what, l.items[i].name);
            }
            strategy_result_free(&a);
            strategy_result_free(&b);
        }
    /* what the facts say of a few of them */
    cr_expect_eq(facts[0].kind, TAG_FACT_SEMVER);
    cr_expect_eq(facts[8].kind, TAG_FACT_SEMVER); /* 4294967295: fits */
    cr_expect_eq(facts[9].kind, TAG_FACT_WIDE);   /* 4294967296: parsed when needed */
    cr_expect_eq(facts[15].kind, TAG_FACT_NOT_SEMVER);
    cr_expect_eq(facts[20].kind, TAG_FACT_INVALID);
    free(facts);
    tag_list_free(&l);
    cr_expect_null(strategy_tag_facts(&(tag_list){0}));
}
