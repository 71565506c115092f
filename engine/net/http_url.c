/* net/http_url: the URL helpers of net/http.h — an origin, same-origin, a Link header's next
 * page. Pure string work on what registries send, apart from the driver. */
#include "net/http.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

char *http_url_origin(const char *url)
{
    const char *p = strstr(url, "://");
    if (!p)
        return NULL;
    p += 3;
    size_t n = strcspn(p, "/?#");
    return xstrndup(url, (size_t)(p - url) + n);
}

/* Split a URL's origin into lower-cased scheme and host and a port; false when it has none. */
static bool origin_parts(const char *url, char *scheme, size_t scheme_len, char *host,
                         size_t host_len, long *port)
{
    const char *sep = url ? strstr(url, "://") : NULL;
    if (!sep || (size_t)(sep - url) >= scheme_len || sep == url)
        return false;
    for (size_t i = 0; url + i < sep; i++)
        scheme[i] = (char)tolower((unsigned char)url[i]);
    scheme[sep - url] = '\0';
    const char *auth = sep + 3;
    size_t n = strcspn(auth, "/?#");
    if (n == 0 || memchr(auth, '@', n) || n >= host_len)
        return false; /* user info: not an origin a registry's pages may use */
    const char *end = auth + n, *colon = NULL;
    if (*auth == '[') { /* [v6]:port */
        const char *close = memchr(auth, ']', n);
        if (!close)
            return false;
        colon = close + 1 < end && close[1] == ':' ? close + 1 : NULL;
    } else {
        colon = memchr(auth, ':', n);
    }
    size_t hn = (size_t)((colon ? colon : end) - auth);
    for (size_t i = 0; i < hn; i++)
        host[i] = (char)tolower((unsigned char)auth[i]);
    host[hn] = '\0';
    if (colon) {
        char *stop;
        *port = strtol(colon + 1, &stop, 10);
        if (stop != end || colon + 1 == end || *port <= 0 || *port > 65535)
            return false;
    } else if (strcmp(scheme, "https") == 0) {
        *port = 443;
    } else if (strcmp(scheme, "http") == 0) {
        *port = 80;
    } else {
        return false;
    }
    return true;
}

bool http_same_origin(const char *a, const char *b)
{
    char sa[16], sb[16], ha[256], hb[256];
    long pa, pb;
    return origin_parts(a, sa, sizeof sa, ha, sizeof ha, &pa) &&
           origin_parts(b, sb, sizeof sb, hb, sizeof hb, &pb) && strcmp(sa, sb) == 0 &&
           strcmp(ha, hb) == 0 && pa == pb;
}

char *http_link_next(const char *link, const char *request_url)
{
    if (!link)
        return NULL;
    const char *p = link;
    while ((p = strchr(p, '<'))) {
        const char *close = strchr(p, '>');
        if (!close)
            return NULL;
        const char *params = close + 1;
        const char *stop = params;
        /* params run to the next ",<" (a comma inside quotes does not end them) */
        bool quoted = false;
        for (; *stop; stop++) {
            if (*stop == '"')
                quoted = !quoted;
            else if (*stop == ',' && !quoted)
                break;
        }
        char *ps = xstrndup(params, (size_t)(stop - params));
        bool is_next = false;
        for (char *q = ps; *q; q++)
            *q = (char)tolower((unsigned char)*q);
        if (strstr(ps, "rel=\"next\"") || strstr(ps, "rel=next") || strstr(ps, "rel=\"next "))
            is_next = true;
        free(ps);
        if (is_next) {
            char *target = xstrndup(p + 1, (size_t)(close - p - 1));
            char *t = str_trim(target);
            char *out;
            if (strstr(t, "://")) {
                out = xstrdup(t);
            } else if (t[0] == '/') {
                char *origin = http_url_origin(request_url);
                out = origin ? xasprintf("%s%s", origin, t) : NULL;
                free(origin);
            } else {
                /* relative to the request's path: replace its last segment */
                size_t base = strcspn(request_url, "?#");
                const char *slash = request_url + base;
                while (slash > request_url && slash[-1] != '/')
                    slash--;
                out = xasprintf("%.*s%s", (int)(slash - request_url), request_url, t);
            }
            free(target);
            return out;
        }
        p = *stop ? stop + 1 : stop;
    }
    return NULL;
}
