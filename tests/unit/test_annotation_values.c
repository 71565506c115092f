/* Single annotation values: booleans, allow-tags forms, platforms, and values too long to
 * keep (split out of test_annotations.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "annotations.h"
#include "select/tagfilter.h"

/* The tables write annotations as {key, value}: the key's line is 0 unless a test is about
 * lines. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define P ANNOTATION_PREFIX

static char *join_platforms(const platform *p, size_t n)
{
    strbuf sb = {0};
    for (size_t i = 0; i < n; i++)
        strbuf_printf(&sb, "%s%s/%s%s%s", i ? "," : "", p[i].os, p[i].arch, p[i].variant ? "/" : "",
                      p[i].variant ? p[i].variant : "");
    return strbuf_take(&sb);
}

Test(annotations, parse_bool)
{
    struct {
        const char *value;
        int rc;
        bool out;
    } cases[] = {
        {"true", 0, true}, {"TRUE", 0, true},    {"True", 0, true},      {"yes", 0, true},
        {"Yes", 0, true},  {"YES", 0, true},     {"on", 0, true},        {"ON", 0, true},
        {"1", 0, true},    {"false", 0, false},  {"FALSE", 0, false},    {"no", 0, false},
        {"No", 0, false},  {"off", 0, false},    {"Off", 0, false},      {"0", 0, false},
        {"", -1, false},   {"ture", -1, false},  {"y", -1, false},       {"t", -1, false},
        {"2", -1, false},  {" true", -1, false}, {"yes\xff", -1, false}, {"truee", -1, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool out = !cases[i].out; /* must be overwritten on success */
        cr_assert_eq(annotations_parse_bool(cases[i].value, &out), cases[i].rc, "'%s'",
                     cases[i].value);
        if (cases[i].rc == 0)
            cr_assert_eq(out, cases[i].out, "'%s'", cases[i].value);
    }
    bool out;
    cr_assert_eq(annotations_parse_bool(NULL, &out), -1);
}

Test(annotations, value_forms)
{
    /* one image, one key: is the value accepted? */
    struct {
        const char *option, *value;
        bool ok;
    } cases[] = {
        {"pull-secret", "pullsecret:argocd/regcred", true},
        {"pull-secret", "PullSecret:argocd/regcred", true},
        {"pull-secret", "secret:argocd/creds#token", true},
        {"pull-secret", "env:REGISTRY_CREDS", true},
        {"pull-secret", "ext:/usr/local/bin/creds.sh", true},
        {"pull-secret", "pullsecret:regcred", false},
        {"pull-secret", "pullsecret:a/b/c", false},
        {"pull-secret", "secret:argocd/creds#", false},
        {"pull-secret", "secret:/creds#token", false},
        {"pull-secret", "env:", false},
        {"pull-secret", "ext:/path:with-colon", false},
        {"pull-secret", "vault:kv/x", false},
        {"pull-secret", "regcred", false},
        {"allow-tags", "any", true},
        {"allow-tags", "ANY", true},
        {"allow-tags", "regexp:^v[0-9]+$", true},
        {"allow-tags", "REGEXP:x", true},
        {"allow-tags", "regexp:", true},
        {"allow-tags", "regexp:^v(", false}, /* does not compile: matches nothing */
        {"allow-tags", "REGEXP:[z-a]", false},
        {"allow-tags", "^v1", false},
        {"allow-tags", "semver:^1", false},
        {"ignore-tags", "*", true},
        {"update-strategy", "whatever", true}, /* a warning, not an error */
        {"helm.image-spec", "images[1].spec", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *key = xasprintf(P "web.%s", cases[i].option);
        annotation items[] = {{P "image-list", "web=nginx"}, {key, cases[i].value}};
        app_settings s;
        annotations_parse(items, 2, &s);
        cr_assert_eq(s.n_images, 1, "%s: '%s'", key, cases[i].value);
        cr_assert_eq(s.errors.count, cases[i].ok ? 0 : 1, "%s: '%s'", key, cases[i].value);
        if (cases[i].ok) {
            cr_assert_null(s.images[0].error, "%s: '%s'", key, cases[i].value);
        } else {
            cr_assert(str_starts_with(s.errors.items[0], key), "the error names the key: %s",
                      s.errors.items[0]);
            cr_assert_not_null(s.images[0].error, "%s: '%s'", key, cases[i].value);
            cr_assert_str_eq(s.images[0].error, s.errors.items[0]);
        }
        app_settings_free(&s);
        free(key);
    }
}

#define PLATFORM_HINT " (want os/arch[/variant])"

Test(annotations, parse_platforms)
{
    struct {
        const char *value;
        int rc;
        size_t n;
        const char *joined; /* or the error message */
    } cases[] = {
        {"linux/amd64", 0, 1, "linux/amd64"},
        {" linux/amd64 , linux/arm/v7,windows/amd64 ", 0, 3,
         "linux/amd64,linux/arm/v7,windows/amd64"},
        {"linux/arm64/v8", 0, 1, "linux/arm64/v8"},
        {"", 0, 0, ""},
        {" , ,", 0, 0, ""},
        {NULL, 0, 0, ""},
        {"linux", -1, 0, "invalid platform 'linux'" PLATFORM_HINT},
        {"linux/amd64, linux", -1, 0, "invalid platform 'linux'" PLATFORM_HINT},
        {"linux/", -1, 0, "invalid platform 'linux/'" PLATFORM_HINT},
        {"/amd64", -1, 0, "invalid platform '/amd64'" PLATFORM_HINT},
        {"linux/arm/", -1, 0, "invalid platform 'linux/arm/'" PLATFORM_HINT},
        {"linux/arm/v7/x", -1, 0, "invalid platform 'linux/arm/v7/x'" PLATFORM_HINT},
        {"linux/am d64", -1, 0, "invalid platform 'linux/am d64'" PLATFORM_HINT},
        {"linux/\xff", -1, 0, "invalid platform 'linux/\\xff'" PLATFORM_HINT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        platform *p = (platform *)&cases[i]; /* must be reset */
        size_t n = 99;
        tp_err err = {{0}};
        int rc = annotations_parse_platforms(cases[i].value, &p, &n, &err);
        cr_assert_eq(rc, cases[i].rc, "'%s': %s", cases[i].value, err.msg);
        cr_assert_eq(n, cases[i].n, "'%s'", cases[i].value);
        if (rc == 0) {
            char *joined = join_platforms(p, n);
            cr_assert_str_eq(joined, cases[i].joined);
            free(joined);
        } else {
            cr_assert_null(p);
            cr_assert_str_eq(err.msg, cases[i].joined);
        }
        platforms_free(p, n);
    }
}

Test(annotations, long_values)
{
    /* a 128-character constraint and a 255-character repository pass through */
    strbuf list = {0};
    strbuf_puts(&list, "web=ghcr.io/");
    for (int i = 0; i < 255; i++)
        strbuf_putc(&list, 'r');
    strbuf_puts(&list, ":");
    for (int i = 0; i < 128; i++)
        strbuf_putc(&list, '1');
    char long_name[300];
    memset(long_name, 'x', 299);
    long_name[299] = '\0';
    annotation items[] = {{P "image-list", list.data}, {P "web.helm.image-name", long_name}};
    app_settings s;
    annotations_parse(items, 2, &s);
    cr_assert_eq(s.errors.count, 0);
    cr_assert_eq(s.n_images, 1);
    cr_assert_eq(strlen(s.images[0].ref.repository), 255);
    cr_assert_eq(strlen(s.images[0].constraint), 128);
    cr_assert_str_eq(s.images[0].helm_image_name, long_name);
    app_settings_free(&s);

    /* a long bad value is cut in its message */
    annotation bad[] = {{P "image-list", "web=nginx"}, {P "web.force-update", long_name}};
    annotations_parse(bad, 2, &s);
    cr_assert_eq(s.errors.count, 1);
    cr_assert(str_starts_with(s.errors.items[0], P "web.force-update: invalid boolean 'xxxx"));
    cr_assert(strstr(s.errors.items[0], "x...' (want"), "%s", s.errors.items[0]);
    cr_assert_lt(strlen(s.errors.items[0]), 250);
    app_settings_free(&s);
    strbuf_free(&list);
}
