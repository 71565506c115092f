#include <criterion/criterion.h>
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
