/* strategy: candidate selection and the reason every other tag gets, as argocd-image-updater
 * would pick; tags files. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "select/strategy.h"

/* ---- names ---- */

typedef struct name_case {
    const char *name;
    strategy_kind kind;
    const char *warning; /* NULL: none */
} name_case;

Test(strategy, from_name_table)
{
    static const name_case cases[] = {
        {NULL, STRATEGY_SEMVER, NULL},
        {"", STRATEGY_SEMVER, NULL},
        {"semver", STRATEGY_SEMVER, NULL},
        {"newest-build", STRATEGY_NEWEST_BUILD, NULL},
        {"alphabetical", STRATEGY_ALPHABETICAL, NULL},
        {"digest", STRATEGY_DIGEST, NULL},
        {"latest", STRATEGY_NEWEST_BUILD,
         "update strategy 'latest' is deprecated, use 'newest-build'"},
        {"name", STRATEGY_ALPHABETICAL, "update strategy 'name' is deprecated, use 'alphabetical'"},
        {"foo", STRATEGY_SEMVER, "unknown update strategy 'foo', using semver"},
        {"newest", STRATEGY_SEMVER, "unknown update strategy 'newest', using semver"},
        /* argocd-image-updater lower-cases the name first */
        {"Semver", STRATEGY_SEMVER, NULL},
        {"SEMVER", STRATEGY_SEMVER, NULL},
        {"NEWEST-BUILD", STRATEGY_NEWEST_BUILD, NULL},
        {"Alphabetical", STRATEGY_ALPHABETICAL, NULL},
        {"Digest", STRATEGY_DIGEST, NULL},
        {"Latest", STRATEGY_NEWEST_BUILD,
         "update strategy 'Latest' is deprecated, use 'newest-build'"},
        {"NAME", STRATEGY_ALPHABETICAL, "update strategy 'NAME' is deprecated, use 'alphabetical'"},
        {"Newest", STRATEGY_SEMVER, "unknown update strategy 'Newest', using semver"},
        {"semver ", STRATEGY_SEMVER, "unknown update strategy 'semver ', using semver"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *warning = "unset";
        strategy_kind kind = strategy_from_name(cases[i].name, &warning);
        cr_expect_eq(kind, cases[i].kind, "%s", cases[i].name ? cases[i].name : "(null)");
        if (cases[i].warning)
            cr_expect_str_eq(warning, cases[i].warning);
        else
            cr_expect_null(warning, "%s: unexpected warning %s", cases[i].name, warning);
        cr_expect_eq(strategy_from_name(cases[i].name, NULL), cases[i].kind);
    }
}

Test(strategy, canonical_names)
{
    static const struct {
        strategy_kind kind;
        const char *name;
    } cases[] = {
        {STRATEGY_SEMVER, "semver"},
        {STRATEGY_NEWEST_BUILD, "newest-build"},
        {STRATEGY_ALPHABETICAL, "alphabetical"},
        {STRATEGY_DIGEST, "digest"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_expect_str_eq(strategy_name(cases[i].kind), cases[i].name);
        cr_expect_eq(strategy_from_name(cases[i].name, NULL), cases[i].kind);
    }
}

/* ---- tags files ---- */

static char *write_temp(const char *content, size_t len)
{
    char *path = strdup("/tmp/tagpilot-test-tags.XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, content, len), (ssize_t)len);
    close(fd);
    return path;
}

typedef struct file_case {
    const char *content; /* may hold NUL bytes: see len */
    size_t len;          /* 0: strlen(content) */
    size_t count;        /* tags read */
    const char *names;   /* all names joined by '|' */
    const char *error;   /* NULL: success; else the message after "tags file '<path>' " */
} file_case;

static void join_names(const tag_list *l, char *buf, size_t len)
{
    buf[0] = '\0';
    for (size_t i = 0; i < l->count; i++) {
        if (i)
            strncat(buf, "|", len - strlen(buf) - 1);
        strncat(buf, l->items[i].name, len - strlen(buf) - 1);
    }
}

Test(strategy, tags_file_table)
{
    static const file_case cases[] = {
        {"v1\nv2\n", 0, 2, "v1|v2", NULL},
        {"v1\r\nv2\r\n", 0, 2, "v1|v2", NULL},
        {"v1\nv2", 0, 2, "v1|v2", NULL},
        {"\n\n   \nv1\n\t\n\r\n", 0, 1, "v1", NULL},
        {"", 0, 0, "", NULL},
        {"  v1  \n", 0, 1, "v1", NULL},
        {"\xff\xfe"
         "bad\nok-\xc3\xa9\n",
         0, 2,
         "\xff\xfe"
         "bad|ok-\xc3\xa9",
         NULL},
        {"b\t\tsha256:x\n", 0, 1, "b", NULL},
        {"v1\nbad\tnot-a-date\n", 0, 0, "",
         "line 2: created 'not-a-date' is not an RFC 3339 time like 2024-05-01T10:00:00Z"},
        {"a\tb\tc\td\n", 0, 0, "",
         "line 1: more than three tab-separated columns (want: tag, created, digest)"},
        {"v1\n\tx\n", 0, 0, "", "line 2: no tag before the tab"},
        {"v1\nv\0x\n", 6, 0, "", "line 2: contains a NUL byte"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const file_case *c = &cases[i];
        char *path = write_temp(c->content, c->len ? c->len : strlen(c->content));
        tag_list l = {0};
        tp_err err = {{0}};
        int rc = tag_list_read(path, &l, &err);
        if (c->error) {
            char want[512];
            snprintf(want, sizeof want, "tags file '%s' %s", path, c->error);
            cr_expect_eq(rc, -1, "case %zu", i);
            cr_expect_str_eq(err.msg, want);
            cr_expect_eq(l.count, 0, "a failed read leaves the list empty");
            cr_expect_null(l.items);
        } else {
            char names[1024];
            cr_expect_eq(rc, 0, "case %zu: %s", i, err.msg);
            cr_expect_eq(l.count, c->count, "case %zu: %zu tags", i, l.count);
            join_names(&l, names, sizeof names);
            cr_expect_str_eq(names, c->names, "case %zu", i);
        }
        tag_list_free(&l);
        unlink(path);
        free(path);
    }
}

Test(strategy, tags_file_columns)
{
    static const char content[] = "a\t2024-01-01T00:00:00Z\tsha256:abc\n"
                                  "b\t2024-03-01T12:00:00.5+02:00\n"
                                  "c\t\tsha256:def\n"
                                  "d\n";
    char *path = write_temp(content, strlen(content));
    tag_list l = {0};
    tp_err err = {{0}};
    cr_assert_eq(tag_list_read(path, &l, &err), 0, "%s", err.msg);
    cr_assert_eq(l.count, 4);
    static const struct {
        const char *name, *digest;
        const char *created; /* as timefmt_format writes it, or NULL */
    } want[] = {
        {"a", "sha256:abc", "2024-01-01T00:00:00Z"},
        {"b", NULL, "2024-03-01T10:00:00.5Z"},
        {"c", "sha256:def", NULL},
        {"d", NULL, NULL},
    };
    for (size_t i = 0; i < 4; i++) {
        cr_expect_str_eq(l.items[i].name, want[i].name);
        if (want[i].digest)
            cr_expect_str_eq(l.items[i].digest, want[i].digest);
        else
            cr_expect_null(l.items[i].digest, "%s", want[i].name);
        cr_expect_eq(l.items[i].has_created, want[i].created != NULL, "%s", want[i].name);
        if (want[i].created) {
            char text[TIMEFMT_MAX];
            timefmt_format(l.items[i].created, text);
            cr_expect_str_eq(text, want[i].created, "%s", want[i].name);
        }
    }
    tag_list_free(&l);
    unlink(path);
    free(path);
}

Test(strategy, tags_file_from_stdin_and_missing)
{
    static const char content[] = "v1.0.0\nv1.1.0\r\n";
    char *path = write_temp(content, strlen(content));
    cr_assert_not_null(freopen(path, "r", stdin));
    tag_list l = {0};
    tp_err err = {{0}};
    cr_assert_eq(tag_list_read("-", &l, &err), 0, "%s", err.msg);
    cr_expect_eq(l.count, 2);
    cr_expect_str_eq(l.items[1].name, "v1.1.0");
    tag_list_free(&l);
    unlink(path);
    free(path);

    cr_expect_eq(tag_list_read("/nonexistent/tags", &l, &err), -1);
    cr_expect_str_eq(err.msg, "tags file '/nonexistent/tags': No such file or directory");
    cr_expect_eq(l.count, 0);
}

Test(strategy, tag_list_add_copies)
{
    tag_list l = {0};
    char name[16] = "v1.0.0", digest[16] = "sha256:aa";
    for (int i = 0; i < 40; i++) /* past the first growth */
        tag_list_add(&l, name, i == 0 ? digest : NULL, i == 0 ? &(tp_time){7, 8} : NULL);
    name[0] = 'X';
    digest[0] = 'X';
    cr_expect_eq(l.count, 40);
    cr_expect_str_eq(l.items[0].name, "v1.0.0");
    cr_expect_str_eq(l.items[0].digest, "sha256:aa");
    cr_expect(l.items[0].has_created && l.items[0].created.sec == 7 &&
              l.items[0].created.nsec == 8);
    cr_expect_null(l.items[1].digest);
    cr_expect_eq(l.items[1].has_created, false);
    tag_list_free(&l);
    cr_expect_eq(l.count, 0);
    cr_expect_null(l.items);
}

/* ---- selection ---- */

#define MAX_TAGS 8

typedef struct tag_spec {
    const char *name;
    const char *created; /* RFC 3339 or NULL */
    const char *digest;
} tag_spec;

typedef struct select_case {
    const char *what;
    strategy_kind kind;
    const char *constraint;
    tag_spec tags[MAX_TAGS];       /* ends at the first NULL name */
    const char *candidate;         /* NULL: none */
    const char *reasons[MAX_TAGS]; /* the reason text of each tag, in order */
} select_case;

#define BOOKSTORE                                                                                  \
    {                                                                                              \
        {"v1.0.0", NULL, NULL}, {"v1.0.1", NULL, NULL}, {"v1.1.0", NULL, NULL},                    \
            {"v2.0.0-rc1", NULL, NULL}, {"latest", NULL, NULL}, {"sha-abc", NULL, NULL},           \
    }
#define DATED                                                                                      \
    {                                                                                              \
        {"a", "2024-01-01T00:00:00Z", "sha256:aaa"}, {"b", "2024-03-01T12:00:00.5+02:00", NULL},   \
            {"c", "2024-03-01T10:00:00.5Z", NULL}, {"d", NULL, NULL},                              \
    }
#define OLDER      "older than the candidate"
#define NOT_SEMVER "not a semantic version"
#define INVALID    "not a valid tag"

static const select_case select_cases[] = {
    {"bookstore ~1.0",
     STRATEGY_SEMVER,
     "~1.0",
     BOOKSTORE,
     "v1.0.1",
     {OLDER, "candidate", "does not satisfy '~1.0'", "pre-release excluded by '~1.0'", NOT_SEMVER,
      NOT_SEMVER}},
    {"bookstore ^1.0",
     STRATEGY_SEMVER,
     "^1.0",
     BOOKSTORE,
     "v1.1.0",
     {OLDER, OLDER, "candidate", "pre-release excluded by '^1.0'", NOT_SEMVER, NOT_SEMVER}},
    {"bookstore 2.x-0 admits the pre-release",
     STRATEGY_SEMVER,
     "2.x-0",
     BOOKSTORE,
     "v2.0.0-rc1",
     {"does not satisfy '2.x-0'", "does not satisfy '2.x-0'", "does not satisfy '2.x-0'",
      "candidate", NOT_SEMVER, NOT_SEMVER}},
    {"bookstore without a constraint means '*'",
     STRATEGY_SEMVER,
     NULL,
     BOOKSTORE,
     "v1.1.0",
     {OLDER, OLDER, "candidate", "pre-release excluded by '*'", NOT_SEMVER, NOT_SEMVER}},
    {"an empty constraint means '*'",
     STRATEGY_SEMVER,
     "",
     BOOKSTORE,
     "v1.1.0",
     {OLDER, OLDER, "candidate", "pre-release excluded by '*'", NOT_SEMVER, NOT_SEMVER}},
    {"an OR of ranges",
     STRATEGY_SEMVER,
     "^1.0 || 2.x-0",
     BOOKSTORE,
     "v2.0.0-rc1",
     {OLDER, OLDER, OLDER, "candidate", NOT_SEMVER, NOT_SEMVER}},
    {"nothing satisfies",
     STRATEGY_SEMVER,
     "<1",
     BOOKSTORE,
     NULL,
     {"does not satisfy '<1'", "does not satisfy '<1'", "does not satisfy '<1'",
      "pre-release excluded by '<1'", NOT_SEMVER, NOT_SEMVER}},
    {"a hyphen range",
     STRATEGY_SEMVER,
     "1.0.0 - 1.0.5",
     BOOKSTORE,
     "v1.0.1",
     {OLDER, "candidate", "does not satisfy '1.0.0 - 1.0.5'",
      "pre-release excluded by '1.0.0 - 1.0.5'", NOT_SEMVER, NOT_SEMVER}},
    {"equal versions tie-break by the tag string, last in byte order wins",
     STRATEGY_SEMVER,
     NULL,
     {{"1.0", NULL, NULL}, {"v1.0.0", NULL, NULL}, {"1.0.0", NULL, NULL}},
     "v1.0.0",
     {OLDER, "candidate", OLDER}},
    {"the tie-break does not depend on the input order",
     STRATEGY_SEMVER,
     NULL,
     {{"v1.0.0", NULL, NULL}, {"1.0", NULL, NULL}},
     "v1.0.0",
     {"candidate", OLDER}},
    {"build metadata is semver but no tag: '+' is outside the tag grammar",
     STRATEGY_SEMVER,
     NULL,
     {{"1.0.0+b", NULL, NULL}, {"1.0.0", NULL, NULL}, {"0.9.9+z", NULL, NULL}},
     "1.0.0",
     {INVALID, "candidate", INVALID}},
    {"numbers, not strings: 1.10 beats 1.9",
     STRATEGY_SEMVER,
     "1.x",
     {{"1.9.0", NULL, NULL}, {"1.10.0", NULL, NULL}, {"1.2.0", NULL, NULL}},
     "1.10.0",
     {OLDER, "candidate", OLDER}},
    {"non-UTF-8 and non-ASCII tags are not valid tags",
     STRATEGY_SEMVER,
     NULL,
     {{"v1.0.0", NULL, NULL},
      {"\xff\xfe"
       "bad",
       NULL, NULL},
      {"ok-\xc3\xa9", NULL, NULL},
      {"1.0.0-\xc3\xa9", NULL, NULL}},
     "v1.0.0",
     {"candidate", INVALID, INVALID, INVALID}},
    {"newest-build: by created, offsets honoured, ties by name",
     STRATEGY_NEWEST_BUILD,
     NULL,
     DATED,
     "c",
     {OLDER, OLDER, "candidate", "no build date known"}},
    {"newest-build ignores the constraint",
     STRATEGY_NEWEST_BUILD,
     "~9",
     DATED,
     "c",
     {OLDER, OLDER, "candidate", "no build date known"}},
    {"newest-build: years 0000, 0001 (no build date, as Go writes it) and 9999 are dates",
     STRATEGY_NEWEST_BUILD,
     NULL,
     {{"undated", "0001-01-01T00:00:00Z", NULL},
      {"far", "9999-12-31T23:59:59Z", NULL},
      {"zero", "0000-01-01T00:00:00Z", NULL},
      {"now", "2024-05-01T10:00:00Z", NULL}},
     "far",
     {OLDER, "candidate", OLDER, OLDER}},
    {"newest-build: year 0001 is older than any real date",
     STRATEGY_NEWEST_BUILD,
     NULL,
     {{"z-undated", "0001-01-01T00:00:00Z", NULL},
      {"a-epoch", "1970-01-01T00:00:00Z", NULL},
      {"a-old", "1900-01-01T00:00:00Z", NULL}},
     "a-epoch",
     {OLDER, "candidate", OLDER}},
    {"newest-build: nothing dated, no candidate",
     STRATEGY_NEWEST_BUILD,
     NULL,
     {{"x", NULL, NULL}, {"y", NULL, NULL}},
     NULL,
     {"no build date known", "no build date known"}},
    {"alphabetical: byte-wise, last wins",
     STRATEGY_ALPHABETICAL,
     NULL,
     BOOKSTORE,
     "v2.0.0-rc1",
     {OLDER, OLDER, OLDER, "candidate", OLDER, OLDER}},
    {"alphabetical ignores the constraint; a non-ASCII tag sorting last is not valid",
     STRATEGY_ALPHABETICAL,
     "~1.0",
     {{"zeta", NULL, NULL}, {"\xc3\xa9t\xc3\xa9", NULL, NULL}, {"Zulu", NULL, NULL}},
     "zeta",
     {"candidate", INVALID, OLDER}},
    {"digest follows the named tag",
     STRATEGY_DIGEST,
     "a",
     DATED,
     "a",
     {"candidate", "not the followed tag 'a'", "not the followed tag 'a'",
      "not the followed tag 'a'"}},
    {"digest: the followed tag is absent",
     STRATEGY_DIGEST,
     "main",
     DATED,
     NULL,
     {"not the followed tag 'main'", "not the followed tag 'main'", "not the followed tag 'main'",
      "not the followed tag 'main'"}},
};

static void fill(tag_list *l, const tag_spec *specs)
{
    for (size_t i = 0; i < MAX_TAGS && specs[i].name; i++) {
        tp_time created = {0, 0};
        if (specs[i].created)
            cr_assert_eq(timefmt_parse(specs[i].created, strlen(specs[i].created), &created), 0,
                         "%s", specs[i].created);
        tag_list_add(l, specs[i].name, specs[i].digest, specs[i].created ? &created : NULL);
    }
}

static void expect_selection(const char *what, const strategy_params *params, const tag_list *l,
                             const char *candidate, const char *const *reasons)
{
    strategy_result r;
    tp_err err = {{0}};
    cr_assert_eq(strategy_select(params, l, &r, &err), 0, "%s: %s", what, err.msg);
    cr_assert_eq(r.count, l->count, "%s", what);
    if (candidate) {
        cr_expect_geq(r.candidate, 0, "%s: no candidate", what);
        if (r.candidate >= 0)
            cr_expect_str_eq(l->items[r.candidate].name, candidate, "%s", what);
    } else {
        cr_expect_eq(r.candidate, -1, "%s: unexpected candidate %s", what,
                     r.candidate >= 0 ? l->items[r.candidate].name : "");
    }
    for (size_t i = 0; i < l->count; i++) {
        char buf[256];
        const tag_verdict *v = &r.verdicts[i];
        cr_expect_eq(v->index, i);
        cr_expect_str_eq(strategy_reason_text(v, buf, sizeof buf), reasons[i], "%s: tag %s", what,
                         l->items[i].name);
        bool eligible = v->reason == REASON_CANDIDATE || v->reason == REASON_OLDER;
        cr_expect_eq(v->eligible, eligible, "%s: tag %s eligible", what, l->items[i].name);
    }
    strategy_result_free(&r);
}

Test(strategy, select_table)
{
    for (size_t i = 0; i < sizeof select_cases / sizeof select_cases[0]; i++) {
        const select_case *c = &select_cases[i];
        tag_list l = {0};
        fill(&l, c->tags);
        strategy_params params = {.kind = c->kind, .constraint = c->constraint, .filter = NULL};
        expect_selection(c->what, &params, &l, c->candidate, c->reasons);
        tag_list_free(&l);
    }
}

Test(strategy, select_empty_list)
{
    static const strategy_kind kinds[] = {STRATEGY_SEMVER, STRATEGY_NEWEST_BUILD,
                                          STRATEGY_ALPHABETICAL, STRATEGY_DIGEST};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        tag_list l = {0};
        strategy_params params = {.kind = kinds[i], .constraint = "v1"};
        strategy_result r;
        tp_err err = {{0}};
        cr_assert_eq(strategy_select(&params, &l, &r, &err), 0, "%s", err.msg);
        cr_expect_eq(r.candidate, -1);
        cr_expect_eq(r.count, 0);
        strategy_result_free(&r);
    }
}

Test(strategy, duplicate_tags_last_wins)
{
    tag_list l = {0};
    tag_list_add(&l, "1.0.0", NULL, NULL);
    tag_list_add(&l, "0.1.0", NULL, NULL);
    tag_list_add(&l, "1.0.0", NULL, NULL);
    strategy_params params = {.kind = STRATEGY_SEMVER};
    strategy_result r;
    cr_assert_eq(strategy_select(&params, &l, &r, NULL), 0);
    cr_expect_eq(r.candidate, 2);
    cr_expect_eq(r.verdicts[0].reason, REASON_OLDER);
    strategy_result_free(&r);
    tag_list_free(&l);
}

typedef struct failure_case {
    strategy_kind kind;
    const char *constraint;
    const char *message;
} failure_case;

Test(strategy, select_failures_table)
{
    static const failure_case cases[] = {
        {STRATEGY_SEMVER, "latest", "invalid semver constraint 'latest': improper constraint"},
        {STRATEGY_SEMVER, ">=abc", "invalid semver constraint '>=abc': improper constraint"},
        {STRATEGY_DIGEST, NULL, "digest strategy needs a tag to follow: write image:<tag>"},
        {STRATEGY_DIGEST, "", "digest strategy needs a tag to follow: write image:<tag>"},
        {STRATEGY_DIGEST, "  ", "digest strategy needs a tag to follow: write image:<tag>"},
    };
    tag_list l = {0};
    tag_list_add(&l, "v1.0.0", NULL, NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        strategy_params params = {.kind = cases[i].kind, .constraint = cases[i].constraint};
        strategy_result r;
        tp_err err = {{0}};
        cr_expect_eq(strategy_select(&params, &l, &r, &err), -1);
        cr_expect_str_eq(err.msg, cases[i].message);
        cr_expect_null(r.verdicts);
        cr_expect_eq(r.candidate, -1);
    }
    tag_list_free(&l);
}

/* A deterministic generator, so the expected candidate can be worked out independently. */
static uint32_t next_random(uint32_t *state)
{
    *state = *state * 1103515245u + 12345u;
    return (*state >> 16) & 0x7fff;
}

Test(strategy, hundred_thousand_tags)
{
    tag_list l = {0};
    uint32_t state = 7;
    unsigned best[3] = {0, 0, 0}; /* highest generated version, by numbers */
    char name[32];
    for (int i = 0; i < 99990; i++) {
        unsigned v[3] = {5 + next_random(&state) % 45, next_random(&state) % 50,
                         next_random(&state) % 50};
        snprintf(name, sizeof name, "%u.%u.%u", v[0], v[1], v[2]);
        tag_list_add(&l, name, NULL, NULL);
        bool higher = v[0] != best[0]   ? v[0] > best[0]
                      : v[1] != best[1] ? v[1] > best[1]
                                        : v[2] > best[2];
        if (higher)
            memcpy(best, v, sizeof best);
    }
    static const char *const planted[] = {"3.2.1",
                                          "3.9.9",
                                          "4.0.0",
                                          "3.10.0-rc1",
                                          "junk",
                                          "v3.9.10",
                                          "3.9.10",
                                          "3.9.9+build",
                                          "3.9.10-",
                                          "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                          "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                          "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"};
    for (size_t i = 0; i < sizeof planted / sizeof planted[0]; i++)
        tag_list_add(&l, planted[i], NULL, NULL);
    cr_assert_eq(l.count, 100000);
    cr_assert_eq(strlen(l.items[99999].name), 128);

    strategy_params params = {.kind = STRATEGY_SEMVER, .constraint = "~3.9"};
    strategy_result r;
    tp_err err = {{0}};
    cr_assert_eq(strategy_select(&params, &l, &r, &err), 0, "%s", err.msg);
    cr_assert_geq(r.candidate, 0);
    cr_expect_str_eq(l.items[r.candidate].name, "v3.9.10");
    size_t eligible = 0;
    for (size_t i = 0; i < r.count; i++)
        eligible += r.verdicts[i].eligible;
    cr_expect_eq(eligible, 3, "3.9.9, 3.9.10 and v3.9.10 ('+' makes 3.9.9+build no tag)");
    strategy_result_free(&r);

    params.constraint = NULL;
    cr_assert_eq(strategy_select(&params, &l, &r, &err), 0, "%s", err.msg);
    snprintf(name, sizeof name, "%u.%u.%u", best[0], best[1], best[2]);
    cr_assert_geq(r.candidate, 0);
    cr_expect_str_eq(l.items[r.candidate].name, name);
    strategy_result_free(&r);
    tag_list_free(&l);
}

Test(strategy, long_tags_keep_every_byte)
{
    char pre_zero[129], alnum[129], too_long[130];
    snprintf(pre_zero, sizeof pre_zero, "v1.0.0-%0121d", 7);  /* leading zeros: not semver */
    snprintf(alnum, sizeof alnum, "v2.0.0-a%0120d", 7);       /* a pre-release */
    snprintf(too_long, sizeof too_long, "v3.0.0-a%0121d", 7); /* one byte past the grammar */
    cr_assert(strlen(pre_zero) == 128 && strlen(alnum) == 128 && strlen(too_long) == 129);
    tag_list l = {0};
    tag_list_add(&l, pre_zero, NULL, NULL);
    tag_list_add(&l, "v1.0.0", NULL, NULL);
    tag_list_add(&l, too_long, NULL, NULL);
    tag_list_add(&l, alnum, NULL, NULL);
    const char *star[] = {NOT_SEMVER, "candidate", INVALID, "pre-release excluded by '*'"};
    strategy_params params = {.kind = STRATEGY_SEMVER};
    expect_selection("128-character tags", &params, &l, "v1.0.0", star);
    const char *with_pre[] = {NOT_SEMVER, OLDER, INVALID, "candidate"};
    params.constraint = ">=1.0.0-0";
    expect_selection("128-character pre-release admitted", &params, &l, alnum, with_pre);
    tag_list_free(&l);
}

static tagfilter *make_filter(const char *allow, const char *ignore);

/* What a hostile registry lists to win: every tag below is outside the distribution grammar and
 * would be the candidate if only the strategy judged it. None may ever be chosen, whatever the
 * strategy, and the reason says why (before any filter's reason). */
Test(strategy, invalid_tags_never_win)
{
    char huge[4097];
    memset(huge, 'z', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    static const char *const hostile[] = {
        "v9.9.9\n",
        "v9.9.9\xe2\x80\xa8", /* U+2028 */
        "v9.9.9\xc2\x85",
        /* U+0085 */ "v9.9.9\xe2\x80\xa9", /* U+2029 */
        "v9.9.9+evil",
        "zz z",
        "zz\xff\xfe",
        "../../x",
        ".v9",
        "-v9",
        "",
        "v9.9.9\t",
    };
    tag_list l = {0};
    tag_list_add(&l, "v1.0.0", "sha256:11", &(tp_time){100, 0});
    tag_list_add(&l, "v1.1.0", "sha256:22", &(tp_time){200, 0});
    size_t n_hostile = sizeof hostile / sizeof hostile[0];
    for (size_t i = 0; i < n_hostile; i++)
        tag_list_add(&l, hostile[i], "sha256:99", &(tp_time){900 + (int64_t)i, 0});
    tag_list_add(&l, huge, "sha256:99", &(tp_time){999, 0});
    static const strategy_kind kinds[] = {STRATEGY_SEMVER, STRATEGY_NEWEST_BUILD,
                                          STRATEGY_ALPHABETICAL};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        strategy_params params = {.kind = kinds[k]};
        strategy_result r;
        tp_err err = {{0}};
        cr_assert_eq(strategy_select(&params, &l, &r, &err), 0, "%s", err.msg);
        cr_assert_geq(r.candidate, 0, "%s: no candidate", strategy_name(kinds[k]));
        cr_expect_str_eq(l.items[r.candidate].name, "v1.1.0", "%s", strategy_name(kinds[k]));
        for (size_t i = 2; i < l.count; i++) {
            char buf[64];
            cr_expect_not(r.verdicts[i].eligible, "%s: tag %zu", strategy_name(kinds[k]), i);
            cr_expect_str_eq(strategy_reason_text(&r.verdicts[i], buf, sizeof buf), INVALID,
                             "%s: tag %zu", strategy_name(kinds[k]), i);
        }
        strategy_result_free(&r);
    }
    /* digest: following a tag the grammar refuses finds nothing to follow */
    for (size_t i = 0; i < n_hostile; i++) {
        if (!*hostile[i])
            continue; /* an empty constraint is "no tag to follow", an error of its own */
        strategy_params params = {.kind = STRATEGY_DIGEST, .constraint = hostile[i]};
        strategy_result r;
        tp_err err = {{0}};
        cr_assert_eq(strategy_select(&params, &l, &r, &err), 0, "%s", err.msg);
        cr_expect_eq(r.candidate, -1, "digest follows hostile tag %zu", i);
        strategy_result_free(&r);
    }
    /* the grammar comes before the filters: an ignore glob does not hide why */
    tagfilter *f = make_filter(NULL, "zz*");
    strategy_params params = {.kind = STRATEGY_ALPHABETICAL, .filter = f};
    strategy_result r;
    tp_err err = {{0}};
    cr_assert_eq(strategy_select(&params, &l, &r, &err), 0, "%s", err.msg);
    char buf[64];
    cr_expect_str_eq(strategy_reason_text(&r.verdicts[2 + 5], buf, sizeof buf), INVALID);
    strategy_result_free(&r);
    tagfilter_free(f);
    tag_list_free(&l);
}

static tagfilter *make_filter(const char *allow, const char *ignore)
{
    strvec globs = {0};
    tagfilter_split_globs(ignore, &globs);
    tagfilter *f = tagfilter_new(allow, (const char *const *)globs.items, globs.count);
    strvec_free(&globs);
    return f;
}

typedef struct filter_select_case {
    const char *what;
    strategy_kind kind;
    const char *constraint;
    const char *allow;
    const char *ignore;
    const char *candidate;
    const char *reasons[MAX_TAGS]; /* over the bookstore tags */
} filter_select_case;

Test(strategy, filters_come_first)
{
    static const filter_select_case cases[] = {
        {"allow-tags and ignore-tags combine",
         STRATEGY_SEMVER,
         NULL,
         "regexp:^v1\\.0",
         "v1.0.1",
         "v1.0.0",
         {"candidate", "ignored by glob 'v1.0.1'", "rejected by allow-tags regexp:^v1\\.0",
          "rejected by allow-tags regexp:^v1\\.0", "rejected by allow-tags regexp:^v1\\.0",
          "rejected by allow-tags regexp:^v1\\.0"}},
        {"ignore-tags '*' leaves nothing",
         STRATEGY_SEMVER,
         NULL,
         NULL,
         "*",
         NULL,
         {"ignored by glob '*'", "ignored by glob '*'", "ignored by glob '*'",
          "ignored by glob '*'", "ignored by glob '*'", "ignored by glob '*'"}},
        {"a filter outranks the constraint's reasons",
         STRATEGY_SEMVER,
         "~1.0",
         NULL,
         "latest, v2*",
         "v1.0.1",
         {OLDER, "candidate", "does not satisfy '~1.0'", "ignored by glob 'v2*'",
          "ignored by glob 'latest'", NOT_SEMVER}},
        {"an invalid regexp matches nothing",
         STRATEGY_ALPHABETICAL,
         NULL,
         "regexp:^v(",
         NULL,
         NULL,
         {"rejected by allow-tags regexp:^v(", "rejected by allow-tags regexp:^v(",
          "rejected by allow-tags regexp:^v(", "rejected by allow-tags regexp:^v(",
          "rejected by allow-tags regexp:^v(", "rejected by allow-tags regexp:^v("}},
        {"digest: a followed tag that is ignored is not followed",
         STRATEGY_DIGEST,
         "latest",
         NULL,
         "latest",
         NULL,
         {"not the followed tag 'latest'", "not the followed tag 'latest'",
          "not the followed tag 'latest'", "not the followed tag 'latest'",
          "ignored by glob 'latest'", "not the followed tag 'latest'"}},
    };
    static const tag_spec bookstore[MAX_TAGS] = BOOKSTORE;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const filter_select_case *c = &cases[i];
        tag_list l = {0};
        fill(&l, bookstore);
        tagfilter *f = make_filter(c->allow, c->ignore);
        strategy_params params = {.kind = c->kind, .constraint = c->constraint, .filter = f};
        expect_selection(c->what, &params, &l, c->candidate, c->reasons);
        tagfilter_free(f);
        tag_list_free(&l);
    }
}

typedef struct reason_case {
    tag_reason reason;
    const char *detail;
    const char *text;
} reason_case;

Test(strategy, reason_text_table)
{
    static const reason_case cases[] = {
        {REASON_CANDIDATE, NULL, "candidate"},
        {REASON_INVALID_TAG, NULL, "not a valid tag"},
        {REASON_OLDER, NULL, "older than the candidate"},
        {REASON_NOT_SEMVER, NULL, "not a semantic version"},
        {REASON_PRERELEASE, "~1.0", "pre-release excluded by '~1.0'"},
        {REASON_PRERELEASE, NULL, "pre-release excluded by '*'"},
        {REASON_UNSATISFIED, "^1.0", "does not satisfy '^1.0'"},
        {REASON_IGNORED, "sha-*", "ignored by glob 'sha-*'"},
        {REASON_NOT_ALLOWED, "regexp:^v1", "rejected by allow-tags regexp:^v1"},
        {REASON_NO_CREATED, NULL, "no build date known"},
        {REASON_NOT_FOLLOWED, "main", "not the followed tag 'main'"},
        {REASON_PLATFORM_MISMATCH, "linux/arm64", "no image for platform linux/arm64"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tag_verdict v = {.reason = cases[i].reason, .detail = cases[i].detail};
        char buf[128];
        cr_expect_str_eq(strategy_reason_text(&v, buf, sizeof buf), cases[i].text);
    }
    tag_verdict v = {.reason = REASON_OLDER};
    char small[6];
    cr_expect_str_eq(strategy_reason_text(&v, small, sizeof small), "older");
}

/* What each strategy asks the registry for besides the names: the image check (engine and
 * `tagpilot test` alike) asks exactly this, and an image that needs more than names gets a tag
 * table of its own. */
Test(strategy, needs)
{
    cr_assert_eq(strategy_needs(STRATEGY_SEMVER), STRATEGY_NEEDS_TAGS);
    cr_assert_eq(strategy_needs(STRATEGY_ALPHABETICAL), STRATEGY_NEEDS_TAGS);
    cr_assert_eq(strategy_needs(STRATEGY_DIGEST), STRATEGY_NEEDS_DIGEST);
    cr_assert_eq(strategy_needs(STRATEGY_NEWEST_BUILD), STRATEGY_NEEDS_METADATA);
}
