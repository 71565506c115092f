#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/http.h"
#include "registry/internal.h"

struct link_case {
    const char *link;
    const char *request_url;
    const char *next; /* NULL: no next page */
};

static const struct link_case link_cases[] = {
    /* distribution's own form: an absolute path */
    {"</v2/team/app/tags/list?last=v9&n=100>; rel=\"next\"",
     "http://127.0.0.1:5000/v2/team/app/tags/list?n=100",
     "http://127.0.0.1:5000/v2/team/app/tags/list?last=v9&n=100"},
    /* an absolute URL, here on another host: registry_next_page refuses to follow it */
    {"<https://cdn.example/v2/a/tags/list?last=x>; rel=\"next\"",
     "https://r.example/v2/a/tags/list", "https://cdn.example/v2/a/tags/list?last=x"},
    /* relative to the request's path */
    {"<list?last=x&n=2>; rel=next", "https://r.example:8443/v2/a/tags/list?n=2",
     "https://r.example:8443/v2/a/tags/list?last=x&n=2"},
    /* several links: only rel="next" counts, whatever its position */
    {"</v2/a/tags/list?first>; rel=\"first\", </v2/a/tags/list?p=2>; rel=\"next\"",
     "https://r.example/v2/a/tags/list", "https://r.example/v2/a/tags/list?p=2"},
    /* a comma inside quoted parameters does not split the link */
    {"</v2/a/tags/list?p=3>; title=\"a, b\"; rel=\"next\"", "https://r.example/v2/a/tags/list",
     "https://r.example/v2/a/tags/list?p=3"},
    /* rel with several values and upper case */
    {"</v2/a/tags/list?p=4>; REL=\"next last\"", "https://r.example/v2/a/tags/list",
     "https://r.example/v2/a/tags/list?p=4"},
    {"</v2/a/tags/list?p=1>; rel=\"prev\"", "https://r.example/v2/a/tags/list", NULL},
    {"", "https://r.example/v2/a/tags/list", NULL},
    {"<unterminated; rel=\"next\"", "https://r.example/v2/a/tags/list", NULL},
};

Test(registry_http, link_next_table)
{
    for (size_t i = 0; i < sizeof link_cases / sizeof link_cases[0]; i++) {
        const struct link_case *tc = &link_cases[i];
        char *next = http_link_next(tc->link, tc->request_url);
        if (!tc->next)
            cr_assert_null(next, "«%s» should have no next, got %s", tc->link, next);
        else {
            cr_assert_not_null(next, "«%s» should have a next", tc->link);
            cr_assert_str_eq(next, tc->next, "next of «%s»", tc->link);
        }
        free(next);
    }
    cr_assert_null(http_link_next(NULL, "https://r.example/"));
}

Test(registry_http, url_origin)
{
    char *o = http_url_origin("https://ghcr.io:443/v2/a/b/tags/list?n=1");
    cr_assert_str_eq(o, "https://ghcr.io:443");
    free(o);
    o = http_url_origin("http://127.0.0.1:5000");
    cr_assert_str_eq(o, "http://127.0.0.1:5000");
    free(o);
    cr_assert_null(http_url_origin("not a url"));
}

/* Credentials go with a page only when it is on the registry's own origin. */
Test(registry_http, same_origin_table)
{
    static const struct {
        const char *a, *b;
        bool same;
    } cases[] = {
        {"https://ghcr.io/v2/a/tags/list?n=1", "https://ghcr.io", true},
        {"https://GHCR.io:443/v2/a/tags/list", "https://ghcr.io", true},
        {"HTTPS://ghcr.io/x", "https://ghcr.io:443", true},
        {"http://127.0.0.1:5000/v2/", "http://127.0.0.1:5000", true},
        {"http://127.0.0.1/v2/", "http://127.0.0.1:80", true},
        {"http://[::1]:5000/v2/", "http://[::1]:5000", true},
        {"http://127.0.0.1:5001/v2/", "http://127.0.0.1:5000", false}, /* port */
        {"http://ghcr.io/v2/", "https://ghcr.io", false},              /* scheme */
        {"http://ghcr.io:443/v2/", "https://ghcr.io", false},
        {"https://evil.example/v2/", "https://ghcr.io", false}, /* host */
        {"https://ghcr.io.evil.example/v2/", "https://ghcr.io", false},
        {"https://ghcr.io@evil.example/v2/", "https://ghcr.io", false}, /* user info */
        {"https://user@ghcr.io/v2/", "https://ghcr.io", false},
        {"https://ghcr.io:99999/v2/", "https://ghcr.io:99999", false},
        {"https://ghcr.io:44x/v2/", "https://ghcr.io:44x", false},
        {"ftp://ghcr.io/v2/", "ftp://ghcr.io", false}, /* no known default port */
        {"//ghcr.io/v2/", "https://ghcr.io", false},
        {"/v2/a/tags/list", "https://ghcr.io", false},
        {NULL, "https://ghcr.io", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_expect_eq(http_same_origin(cases[i].a, cases[i].b), cases[i].same, "%s vs %s",
                     cases[i].a ? cases[i].a : "NULL", cases[i].b);
}

Test(registry_http, arbitrary_link_headers_are_safe)
{
    static const char alphabet[] = "<>;,\"= relnxt/?:ab";
    unsigned seed = 777;
    char link[48];
    for (int round = 0; round < 20000; round++) {
        size_t n = (seed = seed * 1103515245u + 12345u) % sizeof link;
        for (size_t i = 0; i < n; i++)
            link[i] = alphabet[(seed = seed * 1103515245u + 12345u) % (sizeof alphabet - 1)];
        link[n] = '\0';
        free(http_link_next(link, "https://r.example/v2/a/tags/list?n=1"));
    }
}

/* The next tags page of registry_next_page (ops.c): found by fuzz_link, a Link to another
 * origin was followed, carrying this registry's credentials there. */
Test(registry_http, next_page_stays_on_the_registry)
{
    static const struct {
        const char *link, *url, *next, *error;
    } cases[] = {
        {"</v2/a/tags/list?p=2>; rel=\"next\"", "https://r.example/v2/a/tags/list",
         "https://r.example/v2/a/tags/list?p=2", NULL},
        {"<HTTPS://R.example/v2/a/tags/list?p=2>; rel=\"next\"", "https://r.example/v2/a/tags/list",
         "HTTPS://R.example/v2/a/tags/list?p=2", NULL},
        {"<https://cdn.example/v2/a/tags/list?last=x>; rel=\"next\"",
         "https://r.example/v2/a/tags/list", NULL,
         "registry r.example: tags list of a: next page on another origin https://cdn.example "
         "refused"},
        {"<https://r.example:444/v2/a/tags/list?p=2>; rel=\"next\"",
         "https://r.example/v2/a/tags/list", NULL, "origin https://r.example:444 refused"},
        {"<http://r.example/v2/a/tags/list?p=2>; rel=\"next\"", "https://r.example/v2/a/tags/list",
         NULL, "origin http://r.example refused"},
        {"</v2/a/tags/list>; rel=\"next\"", "https://r.example/v2/a/tags/list", NULL,
         "registry r.example: tags list of a: pagination does not advance"},
        {"</v2/a/tags/list?p=1>; rel=\"prev\"", "https://r.example/v2/a/tags/list", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *next = (char *)"unset";
        tp_err err = {{0}};
        int rc = registry_next_page(cases[i].link, cases[i].url, "r.example", "a", &next, &err);
        cr_expect_eq(rc, cases[i].error ? -1 : 0, "case %zu: %s", i, err.msg);
        if (cases[i].next)
            cr_expect_str_eq(next, cases[i].next, "case %zu", i);
        else
            cr_expect_null(next, "case %zu: %s", i, next);
        if (cases[i].error)
            cr_expect(strstr(err.msg, cases[i].error), "case %zu: %s", i, err.msg);
        free(next);
    }
}

Test(registry_http, tags_page_bodies)
{
    strvec tags = {0};
    tp_err err = {{0}};
    const char *body = "{\"name\":\"a\",\"tags\":[\"v1\",2,null,\"v2\"]}";
    cr_assert_eq(registry_parse_tags(body, strlen(body), 3, "r", "a", &tags, &err), 0);
    cr_expect_eq(tags.count, 2);
    cr_expect_str_eq(tags.items[1], "v2");
    cr_expect_eq(registry_parse_tags(body, strlen(body), 3, "r", "a", &tags, &err), -1);
    cr_expect_str_eq(err.msg, "registry r: a has more than 3 tags — tagpilot stops there to bound "
                              "memory");
    const char *null_tags = "{\"tags\":null}";
    cr_expect_eq(registry_parse_tags(null_tags, strlen(null_tags), 3, "r", "a", &tags, &err), 0);
    cr_expect_eq(registry_parse_tags("[]", 2, 3, "r", "a", &tags, &err), -1);
    cr_expect_str_eq(err.msg, "registry r: tags list for a is not valid JSON");
    cr_expect_eq(registry_parse_tags("{\"tags\":\"v1\"}", 13, 3, "r", "a", &tags, &err), -1);
    strvec_free(&tags);
}

struct tags_case {
    const char *body;
    size_t max_tags;
    bool handled; /* by registry_parse_tags_fast; else left to cJSON */
};

static const struct tags_case tags_cases[] = {
    /* the shape registries send, in any order and spacing */
    {"{\"name\":\"team/app\",\"tags\":[\"1.0.0\",\"1.0.1\",\"latest\"]}", 100, true},
    {"\r\n { \"tags\" : [ \"v1\" , \"v2\" ] , \"name\" : \"a/b\" } \n", 100, true},
    {"{\"name\":\"a\",\"tags\":null}", 100, true},
    {"{\"name\":\"a\",\"tags\":[]}", 100, true},
    {"{\"name\":\"a\"}", 100, true},
    {"{}", 100, true},
    {"{\"tags\":[\"\xc3\xa9t\xc3\xa9\",\"\xff\"]}", 100, true}, /* bytes copied as they are */
    /* past max_tags: the first tags kept, then the same refusal */
    {"{\"name\":\"a\",\"tags\":[\"v1\",\"v2\",\"v3\"]}", 3, true},
    /* anything else goes to cJSON */
    {"{\"name\":\"a\",\"tags\":[\"1.0\\u002e0\"]}", 100, false},
    {"{\"name\":\"a\\/b\",\"tags\":[\"v1\"]}", 100, false},
    {"{\"name\":\"a\",\"tags\":[\"v9\\u0000x\"]}", 100, false},
    {"{\"tags\":[\"v1\"],\"tags\":[\"v2\"]}", 100, false},
    {"{\"name\":\"a\",\"name\":\"b\",\"tags\":[\"v1\"]}", 100, false},
    {"{\"name\":\"a\",\"tags\":[[\"v1\"]]}", 100, false},
    {"{\"name\":\"a\",\"tags\":[\"v1\",2,null]}", 100, false},
    {"{\"name\":{\"x\":1},\"tags\":[\"v1\"]}", 100, false},
    {"{\"name\":\"a\",\"tags\":[\"v1\"],\"extra\":true}", 100, false},
    {"{\"name\":\"a\",\"tags\":[\"v1\"]}x", 100, false},
    {"{\"name\":\"a\",\"tags\":[\"v1\"]}{}", 100, false},
    {"{\"name\":\"a\",\"tags\":[\"v\tx\"]}", 100, false},
    {"{\"name\":\"a\",\"tags\":[\"v1\",]}", 100, false},
    {"{\"name\":\"a\",\"tags\":\"v1\"}", 100, false},
    {"[\"v1\"]", 100, false},
    /* cut short anywhere: never read past the end */
    {"{\"name\":\"a\",\"tags\":[\"v1\",\"v", 100, false},
    {"{\"name\":\"a\",\"tags\":[\"v1\"", 100, false},
    {"{\"name\":\"a\",\"tags\":[\"v1\"]", 100, false},
    {"{\"name\":\"a\",\"tags\":nul", 100, false},
    {"{\"name\":\"a\",\"tags\":", 100, false},
    {"{\"name\":\"a", 100, false},
    {"{", 100, false},
    {"", 100, false},
};

/* The body in a heap block of exactly its length, as a response body is: AddressSanitizer
 * reports the first byte read past it. */
static char *exact_copy(const char *s, size_t len)
{
    char *p = malloc(len ? len : 1);
    memcpy(p, s, len);
    return p;
}

static void expect_same_tags(const strvec *a, const strvec *b, size_t i)
{
    cr_expect_eq(a->count, b->count, "case %zu", i);
    for (size_t t = 0; t < a->count && t < b->count; t++)
        cr_expect_str_eq(a->items[t], b->items[t], "case %zu, tag %zu", i, t);
}

Test(registry_http, tags_fast_path_takes_the_plain_shape_and_agrees_with_cjson)
{
    for (size_t i = 0; i < sizeof tags_cases / sizeof *tags_cases; i++) {
        const struct tags_case *c = &tags_cases[i];
        size_t len = strlen(c->body);
        char *body = exact_copy(c->body, len);
        strvec fast = {0}, json = {0}, both = {0};
        tp_err fast_err = {{0}}, json_err = {{0}}, both_err = {{0}};
        int fast_rc = registry_parse_tags_fast(body, len, c->max_tags, "r", "a", &fast, &fast_err);
        int json_rc = registry_parse_tags_json(body, len, c->max_tags, "r", "a", &json, &json_err);
        int both_rc = registry_parse_tags(body, len, c->max_tags, "r", "a", &both, &both_err);
        cr_expect_eq(fast_rc != REGISTRY_TAGS_NOT_HANDLED, c->handled, "case %zu: %s", i, c->body);
        if (fast_rc == REGISTRY_TAGS_NOT_HANDLED) {
            cr_expect_eq(fast.count, 0, "case %zu: left to cJSON but kept tags", i);
        } else {
            cr_expect_eq(fast_rc, json_rc, "case %zu", i);
            cr_expect_str_eq(fast_err.msg, json_err.msg, "case %zu", i);
            expect_same_tags(&fast, &json, i);
        }
        /* and registry_parse_tags answers what cJSON does, whichever half ran */
        cr_expect_eq(both_rc, json_rc, "case %zu", i);
        cr_expect_str_eq(both_err.msg, json_err.msg, "case %zu", i);
        expect_same_tags(&both, &json, i);
        /* packed the same (a block a page, sized exactly: ASan reports a byte past it) */
        strvec packed = {0}, blocks = {0};
        tp_err packed_err = {{0}};
        int packed_rc = registry_parse_tags_packed(body, len, c->max_tags, "r", "a", &packed,
                                                   &blocks, &packed_err);
        cr_expect_eq(packed_rc, json_rc, "case %zu", i);
        cr_expect_str_eq(packed_err.msg, json_err.msg, "case %zu", i);
        expect_same_tags(&packed, &json, i);
        cr_expect_leq(blocks.count, 1, "case %zu: one block a page", i);
        free(packed.items);
        strvec_free(&blocks);
        strvec_free(&fast);
        strvec_free(&json);
        strvec_free(&both);
        free(body);
    }
}

/* Pages appended to one listing, packed: the names are those registry_parse_tags keeps (cut
 * ones too, by either half), one block a page, and the cap cuts the same tag. */
Test(registry_http, packed_pages_keep_what_owned_ones_do)
{
    char long_tag[400];
    memset(long_tag, 'a', sizeof long_tag);
    memcpy(long_tag + 254, "\xc3\xa9", 2); /* a character across the cut at 255 bytes */
    long_tag[sizeof long_tag - 1] = '\0';
    char *pages[3];
    /* the plain shape; an escape (cJSON's half); the plain shape past the cap */
    pages[0] = xasprintf("{\"name\":\"a\",\"tags\":[\"v1\",\"%s\",\"v2\"]}", long_tag);
    pages[1] = xasprintf("{\"name\":\"a\",\"tags\":[\"v\\u0033\",\"%s\",\"\"]}", long_tag);
    pages[2] = xasprintf("{\"name\":\"a\",\"tags\":[\"v4\",\"%sz\",\"v5\"]}", long_tag);
    strvec owned = {0}, packed = {0}, blocks = {0};
    for (size_t i = 0; i < 3; i++) {
        size_t len = strlen(pages[i]);
        char *body = exact_copy(pages[i], len);
        tp_err oe = {{0}}, pe = {{0}};
        int orc = registry_parse_tags(body, len, 8, "r", "a", &owned, &oe);
        int prc = registry_parse_tags_packed(body, len, 8, "r", "a", &packed, &blocks, &pe);
        cr_expect_eq(prc, orc, "page %zu", i);
        cr_expect_str_eq(pe.msg, oe.msg, "page %zu", i);
        cr_expect_eq(blocks.count, i + 1, "page %zu: its own block", i);
        free(body);
    }
    cr_expect_eq(owned.count, 8);
    expect_same_tags(&packed, &owned, 0);
    cr_expect_eq(strlen(packed.items[1]), 254 + 3, "cut before the split character, marked");
    cr_expect_str_eq(packed.items[3], "v3");
    for (size_t i = 0; i < 3; i++)
        free(pages[i]);
    strvec_free(&owned);
    free(packed.items);
    strvec_free(&blocks);
}

Test(registry_http, tags_fast_path_results)
{
    strvec tags = {0};
    tp_err err = {{0}};
    const char *plain = "{\"name\":\"a\",\"tags\":[\"v1\",\"v2\",\"v3\"]}";
    cr_assert_eq(registry_parse_tags_fast(plain, strlen(plain), 2, "r", "a", &tags, &err), -1);
    cr_expect_eq(tags.count, 2);
    cr_expect_str_eq(tags.items[1], "v2");
    cr_expect_str_eq(err.msg, "registry r: a has more than 2 tags — tagpilot stops there to bound "
                              "memory");
    strvec_free(&tags);
    /* a tag over 255 bytes is kept cut at a character boundary, then marked */
    char body[600];
    char tag[301];
    memset(tag, 'z', 300);
    tag[300] = '\0';
    memcpy(tag + 254, "\xc3\xa9", 2); /* é across bytes 254 and 255: the cut comes before it */
    snprintf(body, sizeof body, "{\"tags\":[\"%s\"]}", tag);
    cr_assert_eq(registry_parse_tags_fast(body, strlen(body), 10, "r", "a", &tags, &err), 0);
    cr_assert_eq(tags.count, 1);
    cr_expect_eq(strlen(tags.items[0]), 254 + strlen("\u2026"));
    strvec_free(&tags);
    /* the escaped tag is cJSON's, and reads as the plain one */
    const char *escaped = "{\"tags\":[\"1.0\\u002e0\"]}";
    cr_expect_eq(registry_parse_tags(escaped, strlen(escaped), 10, "r", "a", &tags, &err), 0);
    cr_expect_str_eq(tags.items[0], "1.0.0");
    strvec_free(&tags);
}
