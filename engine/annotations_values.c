/* annotations_values: the checks on single annotation values — booleans, platforms,
 * allow-tags match specs, credential sources — shared by the annotation parser. */
#include "annotations_values.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

int annotations_parse_bool(const char *value, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    if (!value)
        return -1;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(value, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(value, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

/* os, arch and variant are names like "linux", "arm64", "v8". */
bool annotations_platform_part_ok(const char *s)
{
    return *s &&
           s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")] ==
               '\0';
}

void platforms_free(platform *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(p[i].os);
        free(p[i].arch);
        free(p[i].variant);
    }
    free(p);
}

platform *annotations_platforms_copy(const platform *p, size_t n)
{
    if (n == 0)
        return NULL;
    platform *copy = xcalloc(n, sizeof *copy);
    for (size_t i = 0; i < n; i++) {
        copy[i].os = xstrdup(p[i].os);
        copy[i].arch = xstrdup(p[i].arch);
        copy[i].variant = xstrdup(p[i].variant);
    }
    return copy;
}

/* allow-tags as AIU reads it: "any", or "<function>:<argument>" with the one function regexp. */
bool annotations_match_spec_ok(const char *v)
{
    if (strcasecmp(v, "any") == 0)
        return true;
    const char *colon = strchr(v, ':');
    return colon && colon - v == 6 && strncasecmp(v, "regexp", 6) == 0;
}

/* "a/b" with both parts non-empty and no further '/'. */
bool annotations_ns_name_ok(const char *s, size_t n)
{
    const char *slash = memchr(s, '/', n);
    return slash && slash > s && slash < s + n - 1 &&
           !memchr(slash + 1, '/', n - (size_t)(slash - s) - 1);
}

/* Credential sources as AIU's ParseCredentialSource accepts them (and ext: paths absolute). */
bool annotations_credentials_ok(const char *v)
{
    const char *colon = strchr(v, ':');
    if (!colon || colon == v || !colon[1] || strchr(colon + 1, ':'))
        return false;
    const char *arg = colon + 1;
    size_t kind_len = (size_t)(colon - v);
    if (kind_len == 10 && strncasecmp(v, "pullsecret", 10) == 0)
        return annotations_ns_name_ok(arg, strlen(arg));
    if (kind_len == 6 && strncasecmp(v, "secret", 6) == 0) {
        const char *hash = strchr(arg, '#');
        return hash && hash[1] && !strchr(hash + 1, '#') &&
               annotations_ns_name_ok(arg, (size_t)(hash - arg));
    }
    if (kind_len == 3 && strncasecmp(v, "env", 3) == 0)
        return true;
    if (kind_len == 3 && strncasecmp(v, "ext", 3) == 0)
        return arg[0] == '/';
    return false;
}
