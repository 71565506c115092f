#include "giturl.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static char *lower_n(const char *s, size_t n)
{
    char *out = xstrndup(s, n);
    for (char *p = out; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return out;
}

static const char *default_port(const char *scheme)
{
    if (strcmp(scheme, "http") == 0)
        return "80";
    if (strcmp(scheme, "https") == 0)
        return "443";
    if (strcmp(scheme, "ssh") == 0 || strcmp(scheme, "git+ssh") == 0 ||
        strcmp(scheme, "ssh+git") == 0)
        return "22";
    if (strcmp(scheme, "git") == 0)
        return "9418";
    return "";
}

static bool valid_host(const char *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)h[i];
        if (!(isalnum(c) || c == '.' || c == '-' || c == '_' || c == '[' || c == ']' || c == ':'))
            return false;
    }
    return true;
}

int giturl_parse(const char *url, giturl *out)
{
    *out = (giturl){0};
    if (!url || !*url)
        return -1;
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            return -1;
    const char *sep = strstr(url, "://");
    const char *colon = strchr(url, ':');
    const char *slash = strchr(url, '/');
    if (!sep) {
        if (url[0] == '/') { /* a local path */
            out->scheme = xstrdup("file");
            out->host = xstrdup("");
            out->port = xstrdup("");
            out->path = xstrdup(url);
            return 0;
        }
        /* scp-like: [user@]host:path, the ':' before any '/' */
        if (!colon || (slash && slash < colon))
            return -1;
        const char *at = memchr(url, '@', (size_t)(colon - url));
        const char *host = at ? at + 1 : url;
        if (host == colon || !valid_host(host, (size_t)(colon - host)))
            return -1;
        out->scheme = xstrdup("ssh");
        out->host = lower_n(host, (size_t)(colon - host));
        out->port = xstrdup("22");
        out->path = colon[1] == '/' ? xstrdup(colon + 1) : xasprintf("/%s", colon + 1);
        return 0;
    }
    if (sep == url)
        return -1;
    out->scheme = lower_n(url, (size_t)(sep - url));
    const char *auth = sep + 3;
    const char *end = auth + strcspn(auth, "/?#");
    const char *at = NULL;
    for (const char *p = auth; p < end; p++)
        if (*p == '@')
            at = p;
    const char *host = at ? at + 1 : auth;
    const char *port = NULL;
    if (*host == '[') {
        const char *close = memchr(host, ']', (size_t)(end - host));
        if (!close) {
            giturl_free(out);
            return -1;
        }
        port = close + 1 < end && close[1] == ':' ? close + 2 : NULL;
    } else {
        port = memchr(host, ':', (size_t)(end - host));
        port = port ? port + 1 : NULL;
    }
    const char *host_end = port ? port - 1 : end;
    if (!valid_host(host, (size_t)(host_end - host)) ||
        (host_end == host && strcmp(out->scheme, "file") != 0)) {
        giturl_free(out);
        return -1;
    }
    out->host = lower_n(host, (size_t)(host_end - host));
    out->port = port && port < end ? xstrndup(port, (size_t)(end - port))
                                   : xstrdup(default_port(out->scheme));
    for (const char *p = out->port; *p; p++)
        if (!isdigit((unsigned char)*p)) {
            giturl_free(out);
            return -1;
        }
    out->path = xstrndup(end, strcspn(end, "?#"));
    return 0;
}

void giturl_free(giturl *u)
{
    free(u->scheme);
    free(u->host);
    free(u->port);
    free(u->path);
    *u = (giturl){0};
}

/* The rule's path is the remote's, or a folder of it. */
static bool path_prefix(const char *rule, const char *path)
{
    size_t n = strlen(rule);
    while (n && rule[n - 1] == '/')
        n--;
    if (n == 0)
        return true;
    return strncmp(rule, path, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

long giturl_best_match(const char *url, const char *const *prefixes, size_t n)
{
    giturl u;
    if (giturl_parse(url, &u) < 0)
        return -1;
    long best = -1;
    size_t best_len = 0;
    for (size_t i = 0; i < n; i++) {
        giturl r;
        if (giturl_parse(prefixes[i], &r) < 0)
            continue;
        bool same = strcmp(r.scheme, u.scheme) == 0 && strcmp(r.host, u.host) == 0 &&
                    strcmp(r.port, u.port) == 0 && path_prefix(r.path, u.path);
        size_t len = strlen(r.path);
        if (same && (best < 0 || len > best_len)) {
            best = (long)i;
            best_len = len;
        }
        giturl_free(&r);
    }
    giturl_free(&u);
    return best;
}

char *giturl_server(const char *url)
{
    giturl u;
    if (giturl_parse(url, &u) < 0)
        return NULL;
    char *s = *u.port ? xasprintf("%s://%s:%s/", u.scheme, u.host, u.port)
                      : xasprintf("%s://%s/", u.scheme, u.host);
    giturl_free(&u);
    return s;
}
