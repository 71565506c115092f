#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "select/imageref.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define D256  "sha256:" HEX64

/* NULL-aware string check that names the case. */
static void expect_str(const char *actual, const char *expected, const char *what,
                       const char *input)
{
    if (!expected) {
        cr_assert_null(actual, "%s of '%s': want NULL, got '%s'", what, input,
                       actual ? actual : "");
        return;
    }
    cr_assert_not_null(actual, "%s of '%s': want '%s', got NULL", what, input, expected);
    cr_assert_str_eq(actual, expected, "%s of '%s'", what, input);
}

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

struct good_ref {
    const char *input;
    const char *registry, *api_host, *repository, *name, *short_name, *tag, *digest;
};

static const struct good_ref good_refs[] = {
    {"nginx", "docker.io", "registry-1.docker.io", "library/nginx", "docker.io/library/nginx",
     "nginx", NULL, NULL},
    {"nginx:1.25", "docker.io", "registry-1.docker.io", "library/nginx", "docker.io/library/nginx",
     "nginx", "1.25", NULL},
    {"library/nginx", "docker.io", "registry-1.docker.io", "library/nginx",
     "docker.io/library/nginx", "library/nginx", NULL, NULL},
    {"docker.io/nginx", "docker.io", "registry-1.docker.io", "library/nginx",
     "docker.io/library/nginx", "docker.io/nginx", NULL, NULL},
    /* argocd-image-updater drops "library/" unless the text starts with it */
    {"docker.io/library/nginx", "docker.io", "registry-1.docker.io", "library/nginx",
     "docker.io/library/nginx", "docker.io/nginx", NULL, NULL},
    {"index.docker.io/bitnami/redis", "docker.io", "registry-1.docker.io", "bitnami/redis",
     "docker.io/bitnami/redis", "bitnami/redis", NULL, NULL},
    {"index.docker.io/nginx", "docker.io", "registry-1.docker.io", "library/nginx",
     "docker.io/library/nginx", "nginx", NULL, NULL},
    {"docker.io/library/team/app", "docker.io", "registry-1.docker.io", "library/team/app",
     "docker.io/library/team/app", "docker.io/library/team/app", NULL, NULL},
    {"[::1]/app", "[::1]", "[::1]", "app", "[::1]/app", "[::1]/app", NULL, NULL},
    {"bitnami/redis:7.2", "docker.io", "registry-1.docker.io", "bitnami/redis",
     "docker.io/bitnami/redis", "bitnami/redis", "7.2", NULL},
    {"ghcr.io/amplication/bookstore:v1.0.1", "ghcr.io", "ghcr.io", "amplication/bookstore",
     "ghcr.io/amplication/bookstore", "ghcr.io/amplication/bookstore", "v1.0.1", NULL},
    {"ghcr.io/library/app", "ghcr.io", "ghcr.io", "library/app", "ghcr.io/library/app",
     "ghcr.io/library/app", NULL, NULL},
    {"localhost:5000/app:v1", "localhost:5000", "localhost:5000", "app", "localhost:5000/app",
     "localhost:5000/app", "v1", NULL},
    {"localhost/app", "localhost", "localhost", "app", "localhost/app", "localhost/app", NULL,
     NULL},
    {"localhost", "docker.io", "registry-1.docker.io", "library/localhost",
     "docker.io/library/localhost", "localhost", NULL, NULL},
    {"localhost:5000", "docker.io", "registry-1.docker.io", "library/localhost",
     "docker.io/library/localhost", "localhost", "5000", NULL},
    {"127.0.0.1:5000/team/app", "127.0.0.1:5000", "127.0.0.1:5000", "team/app",
     "127.0.0.1:5000/team/app", "127.0.0.1:5000/team/app", NULL, NULL},
    {"[::1]:5000/app:2", "[::1]:5000", "[::1]:5000", "app", "[::1]:5000/app", "[::1]:5000/app", "2",
     NULL},
    {"Registry.Example.COM/a/b/c@" D256, "Registry.Example.COM", "Registry.Example.COM", "a/b/c",
     "Registry.Example.COM/a/b/c", "Registry.Example.COM/a/b/c", NULL, D256},
    {"nginx:1.25-alpine@" D256, "docker.io", "registry-1.docker.io", "library/nginx",
     "docker.io/library/nginx", "nginx", "1.25-alpine", D256},
    {"team/a.b_c__d---e9", "docker.io", "registry-1.docker.io", "team/a.b_c__d---e9",
     "docker.io/team/a.b_c__d---e9", "team/a.b_c__d---e9", NULL, NULL},
    {"app:_V1.0-RC_1", "docker.io", "registry-1.docker.io", "library/app", "docker.io/library/app",
     "app", "_V1.0-RC_1", NULL},
    {"my-host.example:443/x", "my-host.example:443", "my-host.example:443", "x",
     "my-host.example:443/x", "my-host.example:443/x", NULL, NULL},
    {"app@sha512:" HEX64 HEX64, "docker.io", "registry-1.docker.io", "library/app",
     "docker.io/library/app", "app", NULL, "sha512:" HEX64 HEX64},
    /* unregistered algorithms: the grammar only (at least 32 hex digits, any case) */
    {"app@tar.sum+v1:0123456789ABCDEF0123456789abcdef", "docker.io", "registry-1.docker.io",
     "library/app", "docker.io/library/app", "app", NULL,
     "tar.sum+v1:0123456789ABCDEF0123456789abcdef"},
};

Test(imageref, parses_valid_references)
{
    for (size_t i = 0; i < sizeof good_refs / sizeof good_refs[0]; i++) {
        const struct good_ref *c = &good_refs[i];
        imageref ref;
        tp_err err = {{0}};
        int rc = imageref_parse(c->input, &ref, &err);
        cr_assert_eq(rc, 0, "'%s' should parse, got: %s", c->input, err.msg);
        expect_str(ref.registry, c->registry, "registry", c->input);
        expect_str(ref.api_host, c->api_host, "api_host", c->input);
        expect_str(ref.repository, c->repository, "repository", c->input);
        expect_str(ref.name, c->name, "name", c->input);
        expect_str(ref.short_name, c->short_name, "short_name", c->input);
        expect_str(ref.tag, c->tag, "tag", c->input);
        expect_str(ref.digest, c->digest, "digest", c->input);
        imageref_free(&ref);
    }
}

struct bad_ref {
    const char *input;
    const char *message;
};

static const struct bad_ref bad_refs[] = {
    {"", "empty image reference"},
    {"Nginx", "repository name must be lowercase: 'Nginx'"},
    {"Foo/bar", "repository name must be lowercase: 'Foo/bar'"},
    {"ghcr.io/Team/app:1.0", "repository name must be lowercase: 'ghcr.io/Team/app'"},
    {"nginx:", "invalid tag ''"},
    {"nginx:-1", "invalid tag '-1'"},
    {"nginx:.x", "invalid tag '.x'"},
    {"nginx:1 0", "invalid tag '1 0'"},
    {"nginx:~1.0", "invalid tag '~1.0'"},
    {"nginx@sha256:abc", "invalid digest 'sha256:abc'"},
    {"nginx@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
     "invalid digest 'sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef'"},
    {"nginx@sha256:" HEX64 "0", "invalid digest 'sha256:" HEX64 "0'"},
    {"nginx@", "invalid digest ''"},
    {"nginx@sha384:" HEX64, "invalid digest 'sha384:" HEX64 "'"},
    {"nginx@md5:abcd", "invalid digest 'md5:abcd'"},
    {"nginx@1sha:0123456789abcdef0123456789abcdef",
     "invalid digest '1sha:0123456789abcdef0123456789abcdef'"},
    {"nginx@sha256", "invalid digest 'sha256'"},
    {"/nginx", "invalid reference format: '/nginx' (bad path component '')"},
    {"nginx/", "invalid reference format: 'nginx/' (bad path component '')"},
    {"a//b", "invalid reference format: 'a//b' (bad path component '')"},
    {"ngi nx", "invalid reference format: 'ngi nx' (bad path component 'ngi nx')"},
    {"-nginx", "invalid reference format: '-nginx' (bad path component '-nginx')"},
    {"team/a_-b", "invalid reference format: 'team/a_-b' (bad path component 'a_-b')"},
    {"team/a..b", "invalid reference format: 'team/a..b' (bad path component 'a..b')"},
    {"team/a___b", "invalid reference format: 'team/a___b' (bad path component 'a___b')"},
    {"exa_mple.com/app", "invalid reference format: 'exa_mple.com/app' (bad registry host "
                         "'exa_mple.com')"},
    {"-bad.com/app", "invalid reference format: '-bad.com/app' (bad registry host '-bad.com')"},
    {"host.com:/app", "invalid reference format: 'host.com:/app' (bad registry host 'host.com:')"},
    {"host.com:8a/app",
     "invalid reference format: 'host.com:8a/app' (bad registry host 'host.com:8a')"},
    {"[::1/app", "invalid reference format: '[::1/app' (bad registry host '[::1')"},
    {HEX64, "invalid repository name '" HEX64 "': a 64-digit hexadecimal string is an image id, "
            "not a name"},
    {":tag", "invalid reference format: ':tag' (no name)"},
    {"@" D256, "invalid reference format: '@" D256 "' (no name)"},
    {"\xff\xfe", "invalid reference format: '\\xff\\xfe' (bad path component '\\xff\\xfe')"},
    {"caf\xc3\xa9", "invalid reference format: 'caf\\xc3\\xa9' (bad path component "
                    "'caf\\xc3\\xa9')"},
};

Test(imageref, rejects_invalid_references)
{
    for (size_t i = 0; i < sizeof bad_refs / sizeof bad_refs[0]; i++) {
        const struct bad_ref *c = &bad_refs[i];
        imageref ref;
        tp_err err = {{0}};
        cr_assert_eq(imageref_parse(c->input, &ref, &err), -1, "'%s' should not parse", c->input);
        cr_assert_str_eq(err.msg, c->message, "message for '%s'", c->input);
        cr_assert_null(ref.name, "no fields set on failure for '%s'", c->input);
    }
    imageref ref;
    cr_assert_eq(imageref_parse(NULL, &ref, NULL), -1);
}

Test(imageref, length_limits)
{
    /* tags: 128 characters at most */
    struct {
        size_t tag_len;
        int rc;
    } tags[] = {{1, 0}, {127, 0}, {128, 0}, {129, -1}, {300, -1}};
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
        char *tag = repeat('t', tags[i].tag_len);
        char *input = xasprintf("ghcr.io/a/b:%s", tag);
        imageref ref;
        tp_err err = {{0}};
        cr_assert_eq(imageref_parse(input, &ref, &err), tags[i].rc, "tag of %zu chars",
                     tags[i].tag_len);
        if (tags[i].rc == 0) {
            cr_assert_str_eq(ref.tag, tag);
            imageref_free(&ref);
        } else {
            cr_assert(str_starts_with(err.msg, "invalid tag 'tttt"), "got: %s", err.msg);
            cr_assert(str_ends_with(err.msg, "...'"), "long tags are cut in messages: %s", err.msg);
        }
        free(tag);
        free(input);
    }

    /* repositories: 255 characters at most, "library/" counted, the registry not */
    struct {
        const char *prefix;
        size_t component_len;
        int rc;
        const char *message;
    } names[] = {
        {"ghcr.io/", 255, 0, NULL},
        {"ghcr.io/", 256, -1, "repository name longer than 255 characters (256)"},
        {"a/", 253, 0, NULL},
        {"a/", 254, -1, "repository name longer than 255 characters (256)"},
        {"", 247, 0, NULL}, /* library/ + 247 = 255 */
        {"", 248, -1, "repository name longer than 255 characters (256)"},
        {"docker.io/", 248, -1, "repository name longer than 255 characters (256)"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *component = repeat('n', names[i].component_len);
        char *input = xasprintf("%s%s:1.0", names[i].prefix, component);
        imageref ref;
        tp_err err = {{0}};
        int rc = imageref_parse(input, &ref, &err);
        cr_assert_eq(rc, names[i].rc, "case %zu: %s", i, err.msg);
        if (rc == 0) {
            cr_assert(str_ends_with(ref.repository, component));
            cr_assert_leq(strlen(ref.repository), 255);
            imageref_free(&ref);
        } else {
            cr_assert_str_eq(err.msg, names[i].message);
        }
        free(component);
        free(input);
    }
}

/* The grammar registry data is held to before a tag is chosen or put into a URL. */
Test(imageref, tag_valid_table)
{
    static const struct {
        const char *tag;
        bool valid;
    } cases[] = {
        {"v1.0.0", true},      {"latest", true},    {"_x", true},
        {"1", true},           {"A-b_c.D", true},   {"v1.0.0+meta", false},
        {"", false},           {".v1", false},      {"-v1", false},
        {"v1\n", false},       {"v 1", false},      {"../../x", false},
        {"a/b", false},        {"a:b", false},      {"a@b", false},
        {"v1\t", false},       {"\xc3\xa9", false}, {"v1\xe2\x80\xa8", false},
        {"v1\xc2\x85", false}, {"v1\xff", false},   {NULL, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_expect_eq(imageref_tag_valid(cases[i].tag), cases[i].valid, "case %zu", i);
    char *max = repeat('t', 128), *over = repeat('t', 129), *huge = repeat('t', 4 << 20);
    cr_expect(imageref_tag_valid(max));
    cr_expect_not(imageref_tag_valid(over));
    cr_expect_not(imageref_tag_valid(huge));
    free(max);
    free(over);
    free(huge);
}

Test(imageref, is_host)
{
    struct {
        const char *component;
        bool host;
    } cases[] = {
        {"localhost", true}, {"ghcr.io", true},     {"registry:5000", true}, {"[::1]:5000", true},
        {"bitnami", false},  {"localhost2", false}, {"LOCALHOST", false},    {"", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_eq(imageref_is_host(cases[i].component, strlen(cases[i].component)),
                     cases[i].host, "'%s'", cases[i].component);
    /* only the given length counts */
    cr_assert(!imageref_is_host("abc.def", 3));
}

Test(imageref, copy_is_deep)
{
    imageref a, b;
    cr_assert_eq(imageref_parse("ghcr.io/team/app:1.0@" D256, &a, NULL), 0);
    imageref_copy(&b, &a);
    cr_assert_neq(a.name, b.name);
    cr_assert_str_eq(b.name, "ghcr.io/team/app");
    cr_assert_str_eq(b.short_name, "ghcr.io/team/app");
    cr_assert_str_eq(b.tag, "1.0");
    cr_assert_str_eq(b.digest, D256);
    imageref_free(&a);
    cr_assert_null(a.name);
    cr_assert_str_eq(b.api_host, "ghcr.io");
    imageref_free(&b);
    imageref_free(NULL);
}

/* ---- image-list ---- */

struct want_entry {
    const char *alias, *name, *constraint, *digest;
};

struct list_case {
    const char *value;
    size_t count;
    struct want_entry entries[4];
    size_t n_errors;
    const char *errors[3];
};

static const struct list_case list_cases[] = {
    {"", 0, {{0}}, 0, {0}},
    {"   ", 0, {{0}}, 0, {0}},
    {" , ,\t,", 0, {{0}}, 0, {0}},
    {"nginx", 1, {{NULL, "docker.io/library/nginx", NULL, NULL}}, 0, {0}},
    {"web=nginx:1.x, api = ghcr.io/team/api:~1.0 ,worker=localhost:5000/app:>=1.0 <2.0",
     3,
     {{"web", "docker.io/library/nginx", "1.x", NULL},
      {"api", "ghcr.io/team/api", "~1.0", NULL},
      {"worker", "localhost:5000/app", ">=1.0 <2.0", NULL}},
     0,
     {0}},
    {"x=nginx:^1.2 || ^2.0", 1, {{"x", "docker.io/library/nginx", "^1.2 || ^2.0", NULL}}, 0, {0}},
    {"localhost:5000/app:~1.0", 1, {{NULL, "localhost:5000/app", "~1.0", NULL}}, 0, {0}},
    {"d=nginx:latest@" D256, 1, {{"d", "docker.io/library/nginx", "latest", D256}}, 0, {0}},
    {"nginx@" D256 ",redis",
     2,
     {{NULL, "docker.io/library/nginx", NULL, D256}, {NULL, "docker.io/library/redis", NULL, NULL}},
     0,
     {0}},
    {"team/web=ghcr.io/t/web:v1.x", 1, {{"team/web", "ghcr.io/t/web", "v1.x", NULL}}, 0, {0}},
    {"a=b=c",
     0,
     {{0}},
     1,
     {"image-list entry 'a=b=c': invalid reference format: 'b=c' (bad path component 'b=c')"}},
    {"web=nginx, web=redis",
     1,
     {{"web", "docker.io/library/nginx", NULL, NULL}},
     1,
     {"image-list entry 'web=redis': duplicate alias 'web'"}},
    {"nginx, nginx:1.0",
     1,
     {{NULL, "docker.io/library/nginx", NULL, NULL}},
     1,
     {"image-list entry 'nginx:1.0': duplicate image 'nginx' (give one an alias)"}},
    {"a/b=nginx,a_b=redis",
     1,
     {{"a/b", "docker.io/library/nginx", NULL, NULL}},
     1,
     {"image-list entry 'a_b=redis': duplicate alias 'a_b'"}},
    {"=nginx", 0, {{0}}, 1, {"image-list entry '=nginx': empty alias before '='"}},
    {"web=", 0, {{0}}, 1, {"image-list entry 'web=': no image after '='"}},
    {"my app=nginx",
     0,
     {{0}},
     1,
     {"image-list entry 'my app=nginx': invalid alias 'my app' (letters, digits, '.', '_', '-', "
      "'/')"}},
    {"nginx:", 0, {{0}}, 1, {"image-list entry 'nginx:': empty constraint after ':'"}},
    {"web=nginx:1.0\xff",
     0,
     {{0}},
     1,
     {"image-list entry 'web=nginx:1.0\\xff': invalid constraint '1.0\\xff' (printable ASCII "
      "only)"}},
    {"Nginx, redis",
     1,
     {{NULL, "docker.io/library/redis", NULL, NULL}},
     1,
     {"image-list entry 'Nginx': repository name must be lowercase: 'Nginx'"}},
    {"ok=nginx, bad=ghcr.io/Bad/x, also=redis:7, dig=app@sha256:12",
     2,
     {{"ok", "docker.io/library/nginx", NULL, NULL},
      {"also", "docker.io/library/redis", "7", NULL}},
     2,
     {"image-list entry 'bad=ghcr.io/Bad/x': repository name must be lowercase: 'ghcr.io/Bad/x'",
      "image-list entry 'dig=app@sha256:12': invalid digest 'sha256:12'"}},
    {"\xc3\x28=nginx",
     0,
     {{0}},
     1,
     {"image-list entry '\\xc3(=nginx': invalid alias '\\xc3(' (letters, digits, '.', '_', '-', "
      "'/')"}},
};

Test(imageref, parses_image_lists)
{
    for (size_t i = 0; i < sizeof list_cases / sizeof list_cases[0]; i++) {
        const struct list_case *c = &list_cases[i];
        image_list list;
        strvec errors = {0};
        int bad = imageref_parse_list(c->value, &list, &errors);
        cr_assert_eq(bad, (int)c->n_errors, "bad entries in '%s'", c->value);
        cr_assert_eq(errors.count, c->n_errors, "errors for '%s'", c->value);
        for (size_t e = 0; e < c->n_errors; e++)
            cr_assert_str_eq(errors.items[e], c->errors[e], "error %zu of '%s'", e, c->value);
        cr_assert_eq(list.count, c->count, "entries in '%s'", c->value);
        for (size_t k = 0; k < c->count; k++) {
            const image_entry *got = &list.items[k];
            const struct want_entry *want = &c->entries[k];
            expect_str(got->alias, want->alias, "alias", c->value);
            expect_str(got->ref.name, want->name, "name", c->value);
            expect_str(got->constraint, want->constraint, "constraint", c->value);
            expect_str(got->ref.digest, want->digest, "digest", c->value);
            cr_assert_null(got->ref.tag, "the constraint is not a tag in '%s'", c->value);
        }
        image_list_free(&list);
        strvec_free(&errors);
    }
}

Test(imageref, list_edge_cases)
{
    image_list list;
    strvec errors = {0};
    cr_assert_eq(imageref_parse_list(NULL, &list, &errors), 0);
    cr_assert_eq(list.count, 0);

    /* a constraint longer than any tag is kept raw: it is not a tag */
    char *constraint = repeat('1', 200);
    char *value = xasprintf(" app = ghcr.io/a/app:%s ", constraint);
    cr_assert_eq(imageref_parse_list(value, &list, &errors), 0);
    cr_assert_eq(list.count, 1);
    cr_assert_str_eq(list.items[0].constraint, constraint);
    cr_assert_str_eq(list.items[0].alias, "app");
    image_list_free(&list);
    cr_assert_null(list.items);
    free(value);
    free(constraint);

    /* many entries grow the array */
    strbuf sb = {0};
    for (int i = 0; i < 40; i++)
        strbuf_printf(&sb, "%si%d=ghcr.io/t/app%d:^%d.0", i ? ", " : "", i, i, i);
    cr_assert_eq(imageref_parse_list(sb.data, &list, &errors), 0);
    cr_assert_eq(list.count, 40);
    cr_assert_str_eq(list.items[39].alias, "i39");
    cr_assert_str_eq(list.items[39].ref.repository, "t/app39");
    cr_assert_str_eq(list.items[39].constraint, "^39.0");
    image_list_free(&list);
    strbuf_free(&sb);
    cr_assert_eq(errors.count, 0);
    strvec_free(&errors);
}
