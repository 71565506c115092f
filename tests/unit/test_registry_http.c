#include <criterion/criterion.h>
#include <stdlib.h>

#include "registry/http.h"

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
    /* an absolute URL (some registries point at another host) */
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
