/* semver: the Masterminds/semver v3.4.0 behaviour argocd-image-updater relies on. Cases marked
 * "quirk" are the library's own answers that a reader might not expect; they are kept on
 * purpose so tagpilot picks what argocd-image-updater picks. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "select/semver.h"

typedef struct parse_case {
    const char *in;
    bool ok;
    uint64_t major, minor, patch;
    const char *pre;  /* NULL: none */
    const char *meta; /* NULL: none */
} parse_case;

static void expect_part(const char *in, const char *what, const char *got, size_t got_len,
                        const char *want)
{
    if (!want) {
        cr_expect_null(got, "%s: %s should be absent", in, what);
        return;
    }
    cr_expect(got && got_len == strlen(want) && memcmp(got, want, got_len) == 0,
              "%s: %s is '%.*s', want '%s'", in, what, got ? (int)got_len : 6, got ? got : "(null)",
              want);
}

Test(semver, parse_table)
{
    static const parse_case cases[] = {
        {"1.2.3", true, 1, 2, 3, NULL, NULL},
        {"v1.2.3", true, 1, 2, 3, NULL, NULL},
        {"1", true, 1, 0, 0, NULL, NULL},
        {"1.2", true, 1, 2, 0, NULL, NULL},
        {"v1.0", true, 1, 0, 0, NULL, NULL},
        {"01.02.03", true, 1, 2, 3, NULL, NULL}, /* leading zeros coerced (v3.4.0 default) */
        {"1.2-rc1", true, 1, 2, 0, "rc1", NULL},
        {"1-0", true, 1, 0, 0, "0", NULL},
        {"1.2.3-0", true, 1, 2, 3, "0", NULL},
        {"1.2.3-0a.01a", true, 1, 2, 3, "0a.01a", NULL}, /* alphanumerics may start with 0 */
        {"1.0.0-alpha+001", true, 1, 0, 0, "alpha", "001"},
        {"1.2.3+build.01", true, 1, 2, 3, NULL, "build.01"},
        {"1.2.3-x-y--z.-", true, 1, 2, 3, "x-y--z.-", NULL},
        {"v2.3.5-20161202202307-sha.e8fc5e5", true, 2, 3, 5, "20161202202307-sha.e8fc5e5", NULL},
        {"18446744073709551615.0.0", true, UINT64_MAX, 0, 0, NULL, NULL},
        {"18446744073709551616.0.0", false, 0, 0, 0, NULL, NULL},
        {"1.2.3-beta.01", false, 0, 0, 0, NULL, NULL}, /* numeric identifier, leading zero */
        {"1.2.3-00", false, 0, 0, 0, NULL, NULL},
        {"1.2.3-", false, 0, 0, 0, NULL, NULL},
        {"1.2.3+", false, 0, 0, 0, NULL, NULL},
        {"1.2.3-a..b", false, 0, 0, 0, NULL, NULL},
        {"1.2.3-a.", false, 0, 0, 0, NULL, NULL},
        {"1.2.3+a+b", false, 0, 0, 0, NULL, NULL},
        {"1.2.3-beta_1", false, 0, 0, 0, NULL, NULL},
        {"1.2.3.4", false, 0, 0, 0, NULL, NULL},
        {"1..2", false, 0, 0, 0, NULL, NULL},
        {"1.", false, 0, 0, 0, NULL, NULL},
        {".1", false, 0, 0, 0, NULL, NULL},
        {"", false, 0, 0, 0, NULL, NULL},
        {"v", false, 0, 0, 0, NULL, NULL},
        {"V1.2.3", false, 0, 0, 0, NULL, NULL}, /* only a lower-case v */
        {"vv1", false, 0, 0, 0, NULL, NULL},
        {" 1.2.3", false, 0, 0, 0, NULL, NULL},
        {"1.2.3 ", false, 0, 0, 0, NULL, NULL},
        {"1.2.3\n", false, 0, 0, 0, NULL, NULL},
        {"latest", false, 0, 0, 0, NULL, NULL},
        {"sha-abc", false, 0, 0, 0, NULL, NULL},
        {"x.y.z", false, 0, 0, 0, NULL, NULL},
        {"\xff\xfe"
         "1.0",
         false, 0, 0, 0, NULL, NULL},
        {"1.0.0-\xc3\xa9", false, 0, 0, 0, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const parse_case *c = &cases[i];
        semver_version v;
        memset(&v, 0x5a, sizeof v);
        int rc = semver_parse(c->in, &v);
        cr_expect_eq(rc, c->ok ? 0 : -1, "semver_parse('%s') = %d", c->in, rc);
        if (rc != 0 || !c->ok)
            continue;
        cr_expect(v.major == c->major && v.minor == c->minor && v.patch == c->patch,
                  "%s: got %llu.%llu.%llu", c->in, (unsigned long long)v.major,
                  (unsigned long long)v.minor, (unsigned long long)v.patch);
        expect_part(c->in, "pre-release", v.pre, v.pre_len, c->pre);
        expect_part(c->in, "metadata", v.meta, v.meta_len, c->meta);
    }
}

Test(semver, parse_128_char_tag)
{
    char tag[129];
    snprintf(tag, sizeof tag, "v1.0.0-%0121d", 7); /* numeric identifier with leading zeros */
    cr_assert_eq(strlen(tag), 128);
    semver_version v;
    cr_expect_eq(semver_parse(tag, &v), -1);
    snprintf(tag, sizeof tag, "v1.0.0-a%0120d", 7); /* alphanumeric: fine */
    cr_assert_eq(semver_parse(tag, &v), 0);
    cr_expect_eq(v.pre_len, 121);
}

typedef struct compare_case {
    const char *a, *b;
    int want; /* sign */
} compare_case;

static int sign(int x)
{
    return (x > 0) - (x < 0);
}

Test(semver, compare_table)
{
    static const compare_case cases[] = {
        /* the SemVer 2.0 §11 chain */
        {"1.0.0-alpha", "1.0.0-alpha.1", -1},
        {"1.0.0-alpha.1", "1.0.0-alpha.beta", -1},
        {"1.0.0-alpha.beta", "1.0.0-beta", -1},
        {"1.0.0-beta", "1.0.0-beta.2", -1},
        {"1.0.0-beta.2", "1.0.0-beta.11", -1},
        {"1.0.0-beta.11", "1.0.0-rc.1", -1},
        {"1.0.0-rc.1", "1.0.0", -1},
        {"1.0.0", "1.0.0-rc.1", 1},
        {"1.2.3", "1.10.0", -1},
        {"2.0.0", "10.0.0", -1},
        {"1.0", "v1.0.0", 0},
        {"1.0.0+build.1", "1.0.0+build.2", 0}, /* metadata is not ordered */
        {"1.0.0-rc1+a", "1.0.0-rc1+b", 0},
        {"1.0.0-2", "1.0.0-10", -1}, /* numeric identifiers compare as numbers */
        {"1.0.0-9", "1.0.0-a", -1},  /* numeric before alphanumeric */
        {"1.0.0-a", "1.0.0-9", 1},
        {"1.0.0-rc2", "1.0.0-rc10", 1}, /* alphanumerics compare byte-wise */
        {"1.0.0-B", "1.0.0-a", -1},
        {"1.0.0-a.b", "1.0.0-a", 1}, /* more identifiers sort later */
        {"1.0.0-a", "1.0.0-a.0", -1},
        /* quirk: a number too big for 64 bits is treated as alphanumeric */
        {"1.0.0-99999999999999999999", "1.0.0-5", 1},
        {"1.0.0-99999999999999999999", "1.0.0-a", -1},
        {"18446744073709551615.0.0", "18446744073709551614.9.9", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const compare_case *c = &cases[i];
        semver_version a, b;
        cr_assert_eq(semver_parse(c->a, &a), 0, "%s", c->a);
        cr_assert_eq(semver_parse(c->b, &b), 0, "%s", c->b);
        cr_expect_eq(sign(semver_compare(&a, &b)), c->want, "compare(%s, %s)", c->a, c->b);
        cr_expect_eq(sign(semver_compare(&b, &a)), -c->want, "compare(%s, %s)", c->b, c->a);
    }
}

typedef struct check_case {
    const char *constraint;
    const char *version;
    semver_check want;
} check_case;

#define OK  SEMVER_SATISFIED
#define NO  SEMVER_UNSATISFIED
#define PRE SEMVER_PRERELEASE_EXCLUDED

static const check_case check_cases[] = {
    /* = and bare versions: equal for a full version, ~ for a partial or wildcard one */
    {"=2.0.0", "1.2.3", NO},
    {"=2.0.0", "2.0.0", OK},
    {"=2.0", "2.0.1", OK},
    {"4.1", "4.1.0", OK},
    {"2", "2.1.1", OK},
    {"2", "3.4.5", NO},
    {"2.1", "2.2.1", NO},
    {"=1.2.3+meta", "1.2.3", OK},
    {"v1.2", "1.2.5", OK},
    {">=01.02", "1.2.0", OK}, /* leading zeros in a constraint are coerced too */
    {"=0", "1", NO},
    /* != */
    {"!=4.1.0", "4.1.0", NO},
    {"!=4.1.0", "4.1.1", OK},
    {"!=4.1", "4.1.1", NO},
    {"!=4.1", "5.1.0", OK},
    {"!=4.x", "4.1.0", NO},
    {"!=4.x", "5.1.0", OK},
    {"!=4.1.x", "4.2.0", OK},
    {"!=4.2.x", "4.2.3", NO},
    {"!=4.1-alpha", "4.1.0", OK},
    {"!=4.1-alpha", "4.1.0-alpha", NO},
    {"!=4.1-alpha", "4.1.1-alpha", NO},
    {"!=*", "0.0.0", NO}, /* quirk: a wildcard major compares with 0.0.0 */
    {"!=*", "1.0.0", OK},
    /* > with partial versions: >1.2 means above every 1.2.x */
    {">1.1", "4.1.0", OK},
    {">1.1", "1.1.0", NO},
    {">1.2", "1.2.9", NO},
    {">1.2", "1.3.0", OK},
    {">11", "11.1.0", NO},
    {">11", "12.0.0", OK},
    {">0", "0.0.1-alpha", PRE},
    {">0.0.0-0", "0.0.0-alpha", OK},
    {">1.2.3-alpha.1", "1.2.3-alpha.2", OK},
    {">1.2.3-alpha.1", "1.3.3-alpha.2", OK},
    {">*", "0.0.0", NO}, /* quirk: ">*" is "> 0.0.0" */
    {">*", "0.0.1", OK},
    /* < */
    {"<11", "0.1.0", OK},
    {"<11", "11.1.0", NO},
    {"<1.1", "1.1.0", NO},
    {"<1.x", "0.1.1", OK},
    {"<1.x", "1.1.1", NO},
    {"<1.1.x", "1.0.500", OK},
    {"<1.1.x", "1.1.500", NO},
    {"<0", "0.0.0-alpha", PRE},
    {"<0-z", "0.0.0-alpha", OK},
    /* >= */
    {">=11.1", "11.1.2", OK},
    {">=11.1", "11.0.2", NO},
    {">=1.1", "4.1.0-beta", PRE},
    {">=0-0", "0.0.0-alpha", OK},
    {">=1.2.3-0", "1.3.0-beta", OK}, /* the constraint carries a pre-release: admitted */
    {">=1.2.3-0", "1.2.3-0", OK},
    {">=1.2.3-1", "1.2.3-0", NO},
    {">=0.0.0-0", "3.4.5-beta.1", OK},
    /* <= with partial versions: <=1.2 includes every 1.2.x */
    {"<=11", "11.2.3", OK},
    {"<=11", "12.2.3", NO},
    {"<=1.1", "1.1.1", OK},
    {"<=1.1", "1.2.3", NO},
    {"<=1.2.x", "1.2.500", OK},
    {"<=1.2.x", "1.3.0", NO},
    {"<=2.x", "3.0.0", NO},
    {"<=1.1", "0.1.0-alpha", PRE},
    {"<=1.1-a", "0.1.0-alpha", OK},
    {"<=*", "0.0.5", OK}, /* quirk: "<=*" only admits 0.0.x */
    {"<=*", "1.0.0", NO},
    /* ~ and ~> */
    {"~1.2.3", "1.2.4", OK},
    {"~1.2.3", "1.2.2", NO},
    {"~1.2.3", "1.3.0", NO},
    {"~1.2", "1.2.9", OK},
    {"~1.2", "1.3.0", NO},
    {"~1", "1.9.9", OK},
    {"~1", "2.0.0", NO},
    {"~1.x", "1.4", OK},
    {"~>1.2", "1.2.7", OK},
    {"~>1.2", "1.3.0", NO},
    {"~0.0", "0.0.9", OK},
    {"~0.0", "0.1.0", NO},
    {"~*", "2.1.1", OK},
    {"~0.0.0", "1.2.3", OK},
    {"~1.1", "1.1.1-alpha", PRE},
    {"~1.1-alpha", "1.1.1-beta", OK},
    {"~1.1.1-beta", "1.1.1-alpha", NO},
    {"~1.2.3-beta.2", "1.2.4-beta.2", OK}, /* pre-releases of later patches too */
    {"~1.2.3-beta.2", "1.3.4-beta.2", NO},
    /* ^ */
    {"^1.2.3", "1.8.9", OK},
    {"^1.2.3", "2.0.0", NO},
    {"^1.2.3", "1.2.1", NO},
    {"^1.2", "1.8.9", OK},
    {"^1", "1.8.9", OK},
    {"^1", "2.8.9", NO},
    {"^1.x", "1.1.1", OK},
    {"^1.x", "1.1.1-beta1", PRE},
    {"^0.2.3", "0.2.9", OK},
    {"^0.2.3", "0.3.0", NO},
    {"^0.2", "0.2.5", OK},
    {"^0.2", "0.5.6", NO},
    {"^0.0.3", "0.0.3", OK},
    {"^0.0.3", "0.0.4", NO},
    {"^0.0", "0.0.3", OK},
    {"^0.0", "0.1.4", NO},
    {"^0", "0.9.9", OK},
    {"^0", "1.0.0", NO},
    {"^0.0.0", "1.2.3", NO},
    {"^1.2.0-alpha.0", "1.2.1-alpha.1", OK},
    {"^1.2.0-alpha.2", "1.2.0-alpha.1", NO},
    {"^1.2.x-alpha", "1.1.1-beta1", NO},
    {"^*", "0.0.0", OK}, /* quirk: "^*" sets no minor/patch wildcard and so means =0.0.0 */
    {"^*", "1.0.0", NO},
    /* wildcards and the empty constraint */
    {"*", "4.5.6", OK},
    {"*", "1.2.3-alpha.1", PRE},
    {"*-0", "1.2.3-alpha.1", OK},
    {"", "1.0.0", OK},
    {"", "1.0.0-rc1", PRE},
    {"  \t", "0.0.1", OK},
    {"x", "3.0.0", OK},
    {"X.1", "3.0.0", OK}, /* segments after a wildcard are ignored */
    {"1.x.1x", "1.5.0", OK},
    {"2.*", "2.1.1", OK},
    {"2.*", "3.4.5", NO},
    {"2.1.*", "2.1.1", OK},
    {"2.1.*", "2.2.1", NO},
    {"0.x.x", "1.2.3", NO},
    {"2.x-0", "2.0.0-rc1", OK},
    {"2.x-0", "2.3.0", OK},
    {"2.x-0", "3.0.0-rc1", NO},
    /* AND (comma or blanks) and OR */
    {">1.1, <2", "1.2.1", OK},
    {">1.1, <2", "1.1.1", NO},
    {">1.1 <2", "1.2.1", OK},
    {">   1.1 ,  <     2", "1.2.1", OK},
    {">=1.1, <2, !=1.2.3", "1.2.3", NO},
    {">=1.1 <2 !=1.2.3 || > 3", "4.1.2", OK},
    {">=1.1 <2 !=1.2.3 || > 3", "3.1.2", NO},
    {">=1.1, <2, !=1.2.3 || >= 3", "3.0.0", OK},
    {"12.3.34 ~1.2.3", "12.3.34", NO},
    {"^1.0 || 2.x-0", "2.0.0-rc1", OK},
    {"^1.0 || 2.x-0", "1.5.0", OK},
    /* pre-releases are decided per AND group (v3.4.0 #267): one term with a pre-release lets
     * the whole group consider them; another OR group does not */
    {">=1.0.0-0 <2.0.0", "1.5.0-beta", OK},
    {"<2.0.0 >=1.0.0-0", "1.5.0-beta", OK},
    {">=1.0.0-0 <2.0.0", "2.0.0-beta", OK}, /* 2.0.0-beta sorts below 2.0.0 */
    {">=1.0.0-0 <2.0.0", "2.0.1-beta", NO},
    {">=1.0.0-0 <2.0.0 || >=3", "3.1.0-beta", NO},
    {">=1.0.0-0 <2.0.0 || >=3", "1.0.1-rc1", OK},
    {"^1.0 || >=3", "3.1.0-beta", PRE},
    {"~1.0", "2.0.0-rc1", PRE}, /* refused as a pre-release before the range is looked at */
    /* hyphen ranges */
    {"1.2 - 1.4.5", "1.2.0", OK},
    {"1.2 - 1.4.5", "1.4.5", OK},
    {"1.2 - 1.4.5", "1.4.6", NO},
    {"1.2 - 1.4.5", "1.1.9", NO},
    {"1.2 - 1.4", "1.4.99", OK}, /* the upper end is <=1.4, so all of 1.4.x */
    {"1.2 - 1.4", "1.5.0", NO},
    {"1.1 - 2", "1.1.1", OK},
    {"1.0.0 - 2.0.0 <=2.0.0", "1.5.0", OK},
    {"1.0.0 - 2.0.0, <=2.0.0", "2.0.1", NO},
    {">=1, 1.2 - 1.4", "1.3.0", OK},
    {"2 - 3 || 5 - 6", "5.5.0", OK},
    {"2 - 3 || 5 - 6", "4.0.0", NO},
    {"1.0.0-0 - 2.0", "1.5.0-rc.1", OK},
    {"1.1-3", "4.3.2", NO}, /* not a range: 1.1 with pre-release "3" */
    {"1.1-3", "1.1.5", OK},
};

Test(semver, check_table)
{
    for (size_t i = 0; i < sizeof check_cases / sizeof check_cases[0]; i++) {
        const check_case *c = &check_cases[i];
        tp_err err = {{0}};
        semver_constraint *sc = semver_constraint_parse(c->constraint, &err);
        cr_expect_not_null(sc, "'%s' should parse: %s", c->constraint, err.msg);
        if (!sc)
            continue;
        semver_version v;
        cr_assert_eq(semver_parse(c->version, &v), 0, "%s", c->version);
        semver_check got = semver_constraint_check(sc, &v);
        cr_expect_eq(got, c->want, "'%s' against %s: got %d, want %d", c->constraint, c->version,
                     (int)got, (int)c->want);
        semver_constraint_free(sc);
    }
}

typedef struct invalid_case {
    const char *constraint;
    const char *message; /* the whole message */
} invalid_case;

Test(semver, invalid_constraints_name_the_text)
{
    static const invalid_case cases[] = {
        {"latest", "invalid semver constraint 'latest': improper constraint"},
        {">=abc", "invalid semver constraint '>=abc': improper constraint"},
        {">= bar", "invalid semver constraint '>= bar': improper constraint"},
        {"BAR >= 1.2.3", "invalid semver constraint 'BAR >= 1.2.3': improper constraint"},
        {"12.3.4.1234", "invalid semver constraint '12.3.4.1234': improper constraint"},
        {"12.3.34~ 1.2.3", "invalid semver constraint '12.3.34~ 1.2.3': improper constraint"},
        {"> =1.0", "invalid semver constraint '> =1.0': improper constraint"},
        {"!1.0", "invalid semver constraint '!1.0': improper constraint"},
        {"1.0,,2.0", "invalid semver constraint '1.0,,2.0': improper constraint"},
        {">1.0,", "invalid semver constraint '>1.0,': improper constraint"},
        {">1.0<2", "invalid semver constraint '>1.0<2': improper constraint"},
        {"=>", "invalid semver constraint '=>': improper constraint"},
        {"v", "invalid semver constraint 'v': improper constraint"},
        {"1.0 ||", "invalid semver constraint '1.0 ||': improper constraint ''"},
        {"~1.0 || foo", "invalid semver constraint '~1.0 || foo': improper constraint ' foo'"},
        /* the hyphen range swallows the blank that separated it (library quirk) */
        {">=1 1.2 - 1.4", "invalid semver constraint '>=1 1.2 - 1.4': improper constraint"},
        {"1x.2", "invalid semver constraint '1x.2': '1x.2' is not a version"},
        {">=1|2", "invalid semver constraint '>=1|2': '1|2' is not a version"},
        {"^18446744073709551616",
         "invalid semver constraint '^18446744073709551616': '18446744073709551616' is not a "
         "version"},
        {">=1.0.0-01", "invalid semver constraint '>=1.0.0-01': '1.0.0-01' has a numeric "
                       "pre-release identifier with a leading zero"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tp_err err = {{0}};
        semver_constraint *sc = semver_constraint_parse(cases[i].constraint, &err);
        cr_expect_null(sc, "'%s' should be refused", cases[i].constraint);
        semver_constraint_free(sc);
        cr_expect_str_eq(err.msg, cases[i].message);
    }
}

typedef struct describe_case {
    const char *constraint;
    const char *text;
    bool has_prerelease;
} describe_case;

Test(semver, text_and_prerelease_flag)
{
    static const describe_case cases[] = {
        {NULL, "*", false},
        {"", "*", false},
        {"   ", "*", false},
        {"~1.0", "~1.0", false},
        {"2.x-0", "2.x-0", true},
        {"^1 || >=2.0.0-rc.1", "^1 || >=2.0.0-rc.1", true},
        {"1.0.0-0 - 2", "1.0.0-0 - 2", true},
        {"1.0.0+build", "1.0.0+build", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tp_err err = {{0}};
        semver_constraint *sc = semver_constraint_parse(cases[i].constraint, &err);
        cr_assert_not_null(sc, "%s", err.msg);
        cr_expect_str_eq(semver_constraint_text(sc), cases[i].text);
        cr_expect_eq(semver_constraint_has_prerelease(sc), cases[i].has_prerelease, "%s",
                     cases[i].text);
        semver_constraint_free(sc);
    }
}

Test(semver, overlong_constraint_is_refused)
{
    static char text[4098];
    memset(text, '1', sizeof text - 1);
    tp_err err = {{0}};
    cr_expect_null(semver_constraint_parse(text, &err));
    cr_expect_str_eq(err.msg,
                     "invalid semver constraint '1111111111111111111111111111111111111111…': "
                     "longer than 4096 characters");
    memset(text + 1, ' ', 4095); /* "1" and 4095 blanks: long, valid, and quick to parse */
    text[4096] = '\0';
    semver_constraint *c = semver_constraint_parse(text, &err);
    cr_expect_not_null(c, "%s", err.msg);
    semver_constraint_free(c);
}

Test(semver, err_may_be_null)
{
    cr_expect_null(semver_constraint_parse("latest", NULL));
}
