#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "select/tagfilter.h"

typedef struct filter_case {
    const char *allow;
    const char *ignore; /* comma-separated, as the annotation */
    const char *tag;
    tagfilter_result want;
    const char *want_detail; /* NULL: none expected */
} filter_case;

static tagfilter *make(const char *allow, const char *ignore)
{
    strvec globs = {0};
    tagfilter_split_globs(ignore, &globs);
    tagfilter *f = tagfilter_new(allow, (const char *const *)globs.items, globs.count);
    strvec_free(&globs);
    return f;
}

Test(tagfilter, table)
{
    static const filter_case cases[] = {
        {NULL, NULL, "v1.0.0", TAGFILTER_ALLOWED, NULL},
        {"", "", "anything", TAGFILTER_ALLOWED, NULL},
        {"any", NULL, "latest", TAGFILTER_ALLOWED, NULL},
        /* unanchored, like RE2's Match */
        {"regexp:v1", NULL, "release-v1.2", TAGFILTER_ALLOWED, NULL},
        {"regexp:^v1\\.", NULL, "v1.2.0", TAGFILTER_ALLOWED, NULL},
        {"regexp:^v1\\.", NULL, "v2.0.0", TAGFILTER_REJECTED, "regexp:^v1\\."},
        {"regexp:^[0-9]+\\.[0-9]+\\.[0-9]+$", NULL, "1.2.3-rc1", TAGFILTER_REJECTED,
         "regexp:^[0-9]+\\.[0-9]+\\.[0-9]+$"},
        /* "any" and "regexp:" in any case, as argocd-image-updater lower-cases the function;
         * the pattern keeps its case */
        {"ANY", NULL, "latest", TAGFILTER_ALLOWED, NULL},
        {"Any", "latest", "latest", TAGFILTER_IGNORED, "latest"},
        {"REGEXP:^v1\\.", NULL, "v1.2.0", TAGFILTER_ALLOWED, NULL},
        {"Regexp:^v1\\.", NULL, "v2.0.0", TAGFILTER_REJECTED, "Regexp:^v1\\."},
        {"regexp:^V", NULL, "v1.0.0", TAGFILTER_REJECTED, "regexp:^V"},
        {"REGEXP:^V", NULL, "V1.0.0", TAGFILTER_ALLOWED, NULL},
        {"anyx", NULL, "v1", TAGFILTER_REJECTED, "anyx"},
        {"regexp", NULL, "v1", TAGFILTER_REJECTED, "regexp"},
        /* an invalid regexp or unknown function matches nothing */
        {"regexp:^v(", NULL, "v1", TAGFILTER_REJECTED, "regexp:^v("},
        {"glob:v*", NULL, "v1", TAGFILTER_REJECTED, "glob:v*"},
        /* ignore globs win, and name the glob */
        {NULL, "latest, sha-*", "sha-abc123", TAGFILTER_IGNORED, "sha-*"},
        {NULL, "latest, sha-*", "latest", TAGFILTER_IGNORED, "latest"},
        {NULL, "latest, sha-*", "v1.0.0", TAGFILTER_ALLOWED, NULL},
        {"regexp:^v", "*-rc?", "v2.0.0-rc1", TAGFILTER_IGNORED, "*-rc?"},
        {NULL, "[0-9]*", "1.0", TAGFILTER_IGNORED, "[0-9]*"},
        {NULL, "[!0-9]*", "1.0", TAGFILTER_ALLOWED, NULL},
        /* arbitrary bytes never break matching */
        {"regexp:^v", NULL, "v\xff\xfe-bad", TAGFILTER_ALLOWED, NULL},
        {"regexp:bad$", NULL, "\xc3\x28-bad", TAGFILTER_ALLOWED, NULL},
        {"regexp:^x", NULL, "\xff", TAGFILTER_REJECTED, "regexp:^x"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const filter_case *c = &cases[i];
        tagfilter *f = make(c->allow, c->ignore);
        const char *detail = "unset";
        tagfilter_result got = tagfilter_check(f, c->tag, &detail);
        cr_expect_eq(got, c->want, "case %zu (%s): got %d want %d", i, c->tag, got, c->want);
        if (c->want_detail)
            cr_expect(detail && strcmp(detail, c->want_detail) == 0, "case %zu: detail '%s'", i,
                      detail ? detail : "(null)");
        else
            cr_expect_null(detail, "case %zu: detail '%s'", i, detail);
        tagfilter_free(f);
    }
}

Test(tagfilter, problems_are_explained)
{
    tagfilter *f = make("regexp:^v(", NULL);
    cr_assert_not_null(tagfilter_problem(f));
    cr_assert(strstr(tagfilter_problem(f), "invalid allow-tags regexp '^v('") != NULL, "%s",
              tagfilter_problem(f));
    tagfilter_free(f);

    f = make("semver:1.x", NULL);
    cr_assert(strstr(tagfilter_problem(f), "unknown allow-tags function 'semver:1.x'") != NULL);
    tagfilter_free(f);

    f = make("regexp:^v[0-9]+$", NULL);
    cr_assert_null(tagfilter_problem(f));
    tagfilter_free(f);

    /* the same answer without building a filter */
    char *problem = tagfilter_spec_problem("regexp:^v(");
    cr_assert_not_null(problem);
    cr_assert(strstr(problem, "invalid allow-tags regexp '^v('") != NULL, "%s", problem);
    free(problem);
    problem = tagfilter_spec_problem("glob:v*");
    cr_assert(strstr(problem, "unknown allow-tags function 'glob:v*'") != NULL, "%s", problem);
    free(problem);
    cr_assert_null(tagfilter_spec_problem("Regexp:^v[0-9]+$"));
    cr_assert_null(tagfilter_spec_problem("ANY"));
    cr_assert_null(tagfilter_spec_problem(NULL));

    /* names in any case are no problem */
    f = make("ANY", NULL);
    cr_assert_null(tagfilter_problem(f));
    tagfilter_free(f);
    f = make("ReGeXp:^v", NULL);
    cr_assert_null(tagfilter_problem(f));
    tagfilter_free(f);
}

Test(tagfilter, star_disables_image)
{
    static const struct {
        const char *ignore;
        bool disables;
    } cases[] = {{"*", true}, {" latest , * ", true}, {"*-rc*", false}, {"", false}, {NULL, false}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        tagfilter *f = make(NULL, cases[i].ignore);
        cr_expect_eq(tagfilter_disables_image(f), cases[i].disables, "case %zu", i);
        tagfilter_free(f);
    }
}

Test(tagfilter, split_globs_trims_and_skips_empty)
{
    strvec v = {0};
    tagfilter_split_globs(" a ,, b*,\tc ,", &v);
    cr_assert_eq(v.count, 3);
    cr_assert_str_eq(v.items[0], "a");
    cr_assert_str_eq(v.items[1], "b*");
    cr_assert_str_eq(v.items[2], "c");
    strvec_free(&v);
}

Test(tagfilter, long_tags_and_many_checks)
{
    char tag[130];
    memset(tag, 'a', 128);
    tag[128] = '\0';
    tag[0] = 'v';
    tagfilter *f = make("regexp:^v[a]+$", "b*");
    cr_assert_eq(tagfilter_check(f, tag, NULL), TAGFILTER_ALLOWED);
    /* The compiled pattern and its match data are reused for every tag. */
    int allowed = 0;
    char buf[32];
    for (int i = 0; i < 100000; i++) {
        snprintf(buf, sizeof buf, i % 2 ? "va%d" : "vaaa", i);
        allowed += tagfilter_check(f, buf, NULL) == TAGFILTER_ALLOWED;
    }
    cr_assert_eq(allowed, 50000);
    tagfilter_free(f);
}
