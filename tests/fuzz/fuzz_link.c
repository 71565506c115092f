/* Link headers of paginated tag lists (http_link_next in engine/net/http_url.c, through
 * registry_next_page in ops.c). Input: the request URL on the first line, the Link header after
 * it. The next page is a new URL on the same origin as the request — credentials go only to
 * the origin they are configured for — and never the request itself. */
#include <strings.h>

#include "fuzz.h"
#include "net/http.h"
#include "registry/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *rest;
    size_t rest_len;
    char *url = fuzz_split(data, size, '\n', &rest, &rest_len);
    char *link = fuzz_cstr(rest, rest_len);
    free(http_link_next(link, url));
    char *next = NULL;
    tp_err err;
    if (registry_next_page(link, url, "registry.example", "team/app", &next, &err) == 0) {
        /* requests always have an origin (the registry's api_url); only those are checked */
        char *from = http_url_origin(url);
        if (next && from) {
            fuzz_require(strcmp(next, url) != 0, "next page '%s' is the request", next);
            char *to = http_url_origin(next);
            fuzz_require(to && strcasecmp(from, to) == 0, "page '%s' links to '%s', another origin",
                         url, next);
            free(to);
        }
        free(from);
        free(next);
    } else {
        fuzz_require(!next && err.msg[0], "refused without a message, or with a page");
    }
    free(link);
    free(url);
    return 0;
}
