/* strategy_candidate (the candidate alone, for `run --once`) against strategy_select: the same
 * candidate for every list, strategy, constraint and filter, with and without a table's facts. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "select/semver.h"
#include "select/strategy.h"
#include "select/tagfilter.h"

/* A small generator of its own, so a failure names a seed that replays. */
static unsigned long next(unsigned long *s)
{
    *s = *s * 6364136223846793005UL + 1442695040888963407UL;
    return *s >> 33;
}

/* One tag: versions that collide (the same version under several names), pre-releases, build
 * metadata, loose and invalid tags, and plain words. */
static void random_tag(unsigned long *s, char *out, size_t len)
{
    unsigned long major = next(s) % 4, minor = next(s) % 3, patch = next(s) % 3;
    switch (next(s) % 10) {
    case 0:
        snprintf(out, len, "v%lu.%lu.%lu", major, minor, patch);
        break;
    case 1:
        snprintf(out, len, "%lu.%lu.%lu-rc.%lu", major, minor, patch, next(s) % 3);
        break;
    case 2:
        snprintf(out, len, "%lu.%lu.%lu+b%lu", major, minor, patch, next(s) % 3);
        break;
    case 3:
        snprintf(out, len, "%lu.%lu", major, minor);
        break;
    case 4:
        snprintf(out, len, "%s",
                 (const char *[]){"latest", "sha-1a2b", "main", "zz z", "v9\n"}[next(s) % 5]);
        break;
    default:
        snprintf(out, len, "%lu.%lu.%lu", major, minor, patch);
    }
}

Test(strategy, the_candidate_alone_is_the_selections)
{
    static const char *const constraints[] = {
        NULL, "*", "^1.0", "~2.1", ">=1.0.0-0", "<1 || >=3", "=2.0.0-rc.1", "1.1.1", "latest",
    };
    struct filter_spec {
        const char *allow;
        const char *ignore;
    } filters[] = {{NULL, NULL}, {"regexp:^v", NULL}, {NULL, "*-rc*"}, {"regexp:^[0-9]", "3.*"}};
    static const strategy_kind kinds[] = {STRATEGY_SEMVER, STRATEGY_NEWEST_BUILD,
                                          STRATEGY_ALPHABETICAL, STRATEGY_DIGEST};
    size_t compared = 0, with_candidate = 0;
    for (unsigned long seed = 1; seed <= 300; seed++) {
        unsigned long s = seed;
        tag_list l = {0};
        size_t n = next(&s) % 40;
        for (size_t i = 0; i < n; i++) {
            char name[64];
            random_tag(&s, name, sizeof name);
            /* build dates that collide too, and some missing */
            tp_time created = {1700000000 + (int64_t)(next(&s) % 3) * 86400, 0};
            tag_list_add(&l, name, NULL, next(&s) % 5 ? &created : NULL);
        }
        tag_fact *facts = strategy_tag_facts(&l);
        for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++)
            for (size_t c = 0; c < sizeof constraints / sizeof *constraints; c++)
                for (size_t f = 0; f < sizeof filters / sizeof *filters; f++)
                    for (int use_facts = 0; use_facts < 2; use_facts++) {
                        const char *ignore[1] = {filters[f].ignore};
                        tagfilter *tf =
                            tagfilter_new(filters[f].allow, ignore, filters[f].ignore ? 1 : 0);
                        strategy_params p = {kinds[k], constraints[c], tf,
                                             use_facts ? facts : NULL};
                        strategy_result r;
                        ptrdiff_t alone = -2;
                        tp_err e1 = {{0}}, e2 = {{0}};
                        int rc1 = strategy_select(&p, &l, &r, &e1);
                        int rc2 = strategy_candidate(&p, &l, &alone, &e2);
                        cr_assert_eq(rc2, rc1, "seed %lu kind %zu constraint %zu", seed, k, c);
                        cr_assert_str_eq(e2.msg, e1.msg);
                        if (rc1 == 0) {
                            cr_assert_eq(alone, r.candidate,
                                         "seed %lu, %s, constraint '%s', filter %zu, facts %d: "
                                         "%td, not %td",
                                         seed, strategy_name(kinds[k]),
                                         constraints[c] ? constraints[c] : "(none)", f, use_facts,
                                         alone, r.candidate);
                            compared++;
                            with_candidate += alone >= 0;
                            strategy_result_free(&r);
                        }
                        tagfilter_free(tf);
                    }
        free(facts);
        tag_list_free(&l);
    }
    /* the lists are not all empty, and most selections find something */
    cr_expect_gt(compared, 40000);
    cr_expect_gt(with_candidate, compared / 3, "%zu of %zu with a candidate", with_candidate,
                 compared);
}

/* A constraint from random pieces: every operator, wildcards in each place, pre-releases, AND by
 * comma and space, OR, hyphen ranges. */
static void random_constraint(unsigned long *s, char *out, size_t len)
{
    static const char *const ops[] = {"", "=", "!=", ">", "<", ">=", "<=", "~", "^"};
    static const char *const versions[] = {"0",     "1",     "2",     "3",   "0.0",   "1.2",
                                           "0.1",   "x",     "*",     "1.x", "1.2.x", "2.0.0-rc.1",
                                           "0.0.0", "1.0.0", "2.1.1", "X",   "0.0.1", "3.0.0-0"};
    size_t at = 0;
    unsigned long groups = 1 + next(s) % 2;
    for (unsigned long g = 0; g < groups; g++) {
        if (g)
            at += (size_t)snprintf(out + at, len - at, " || ");
        if (next(s) % 6 == 0) { /* a hyphen range */
            at += (size_t)snprintf(out + at, len - at, "%s - %s",
                                   versions[next(s) % (sizeof versions / sizeof *versions)],
                                   versions[next(s) % (sizeof versions / sizeof *versions)]);
            continue;
        }
        unsigned long terms = 1 + next(s) % 2;
        for (unsigned long t = 0; t < terms; t++)
            at +=
                (size_t)snprintf(out + at, len - at, "%s%s%s", t ? (next(s) % 2 ? ", " : " ") : "",
                                 ops[next(s) % (sizeof ops / sizeof *ops)],
                                 versions[next(s) % (sizeof versions / sizeof *versions)]);
    }
}

/* semver_constraint_major_bound: no version past it satisfies the constraint (what lets
 * strategy_candidate pass those tags over); and the candidate alone is the selection's under
 * thousands of random constraints. */
Test(strategy, the_major_bound_holds_and_the_candidate_with_it)
{
    size_t bounded = 0, checked = 0;
    for (unsigned long seed = 1; seed <= 3000; seed++) {
        unsigned long s = seed * 7919;
        char text[128];
        random_constraint(&s, text, sizeof text);
        tp_err err = {{0}};
        semver_constraint *c = semver_constraint_parse(text, &err);
        if (!c)
            continue;
        uint64_t bound = semver_constraint_major_bound(c);
        bounded += bound != UINT64_MAX;
        for (unsigned long major = 0; major <= 5; major++)
            for (unsigned long minor = 0; minor <= 2; minor++)
                for (int pre = 0; pre < 2; pre++) {
                    char v[32];
                    snprintf(v, sizeof v, "%lu.%lu.%lu%s", major, minor, minor % 2,
                             pre ? "-rc.1" : "");
                    semver_version ver;
                    cr_assert_eq(semver_parse(v, &ver), 0);
                    if (major > bound) {
                        cr_assert_neq(semver_constraint_check(c, &ver), SEMVER_SATISFIED,
                                      "'%s' lets %s through, past its bound %lu", text, v,
                                      (unsigned long)bound);
                        checked++;
                    }
                }
        semver_constraint_free(c);
        /* and over a list, the candidate alone is the selection's */
        tag_list l = {0};
        size_t n = next(&s) % 30;
        for (size_t i = 0; i < n; i++) {
            char name[64];
            random_tag(&s, name, sizeof name);
            tag_list_add(&l, name, NULL, NULL);
        }
        tag_fact *facts = strategy_tag_facts(&l);
        strategy_params p = {STRATEGY_SEMVER, text, NULL, facts};
        strategy_result r;
        ptrdiff_t alone = -2;
        tp_err e1 = {{0}}, e2 = {{0}};
        cr_assert_eq(strategy_select(&p, &l, &r, &e1), 0, "%s", e1.msg);
        cr_assert_eq(strategy_candidate(&p, &l, &alone, &e2), 0, "%s", e2.msg);
        cr_assert_eq(alone, r.candidate, "'%s', seed %lu: %td, not %td", text, seed, alone,
                     r.candidate);
        strategy_result_free(&r);
        free(facts);
        tag_list_free(&l);
    }
    cr_expect_gt(bounded, 500, "%zu constraints bounded", bounded);
    cr_expect_gt(checked, 5000, "%zu versions past a bound checked", checked);
}
