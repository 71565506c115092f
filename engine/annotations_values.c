/* annotations_values: the checks on single annotation values — booleans, platforms,
 * allow-tags match specs, credential sources, how close a key is to a known one — and the
 * messages that name them, shared by the annotation parser. */
#include "annotations_values.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

/* One message into out->errors or out->warnings, with the line of the key it is about (0: none)
 * beside it. */
static void add_msgv(app_settings *out, bool warning, size_t line, const char *fmt, va_list ap)
{
    strvec *v = warning ? &out->warnings : &out->errors;
    size_t **lines = warning ? &out->warning_lines : &out->error_lines;
    strbuf sb = {0};
    strbuf_vprintf(&sb, fmt, ap);
    strvec_push(v, sb.data ? sb.data : "");
    strbuf_free(&sb);
    /* grown one at a time: an app has a handful of messages, most have none */
    *lines = xrealloc(*lines, v->count * sizeof **lines);
    (*lines)[v->count - 1] = line;
}

void annotations_error(app_settings *out, size_t line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_msgv(out, false, line, fmt, ap);
    va_end(ap);
}

void annotations_warning(app_settings *out, size_t line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_msgv(out, true, line, fmt, ap);
    va_end(ap);
}

bool annotations_utf8_valid(const unsigned char *s)
{
    while (*s) {
        size_t n = utf8_sequence_length(s);
        if (!n)
            return false;
        s += n;
    }
    return true;
}

/* A value as a message shows it: UTF-8 text kept, control bytes (and every byte >= 0x80 when the
 * value is not UTF-8) written \xNN, cut at SHOWN_MAX bytes. Returns buf. */
const char *annotations_shown(const char *s, char *buf, size_t cap)
{
    bool utf8 = annotations_utf8_valid((const unsigned char *)s);
    size_t out = 0;
    for (size_t i = 0; s[i] && out + 8 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i == SHOWN_MAX) {
            memcpy(buf + out, "...", 3);
            out += 3;
            break;
        }
        if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8))
            out += (size_t)snprintf(buf + out, cap - out, "\\x%02x", c);
        else
            buf[out++] = (char)c;
    }
    buf[out] = '\0';
    return buf;
}

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

#define CLOSEST_MAX_LEN 64

/* Optimal string alignment distance between a and b (each at most CLOSEST_MAX_LEN bytes),
 * computed only within `limit` of the diagonal: anything further is limit + 1. */
static size_t edit_distance(const char *a, size_t la, const char *b, size_t lb, size_t limit)
{
    unsigned char d[CLOSEST_MAX_LEN + 1][CLOSEST_MAX_LEN + 1]; /* every value <= 64 */
    size_t far = limit + 1;
    for (size_t i = 0; i <= la; i++)
        for (size_t j = 0; j <= lb; j++)
            d[i][j] = (unsigned char)(i == 0 ? j : j == 0 ? i : far);
    for (size_t i = 1; i <= la; i++) {
        size_t from = i > limit ? i - limit : 1, to = i + limit < lb ? i + limit : lb;
        for (size_t j = from; j <= to; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t best = d[i - 1][j - 1] + cost;
            if (d[i - 1][j] + 1u < best)
                best = d[i - 1][j] + 1u;
            if (d[i][j - 1] + 1u < best)
                best = d[i][j - 1] + 1u;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1u < best)
                best = d[i - 2][j - 2] + 1u;
            d[i][j] = (unsigned char)(best < far ? best : far);
        }
    }
    return d[la][lb];
}

const char *annotations_closest(const char *word, const char *const *candidates, size_t n)
{
    size_t len = strlen(word);
    if (len > CLOSEST_MAX_LEN)
        return NULL;
    size_t limit = len <= 4 ? 1 : len <= 12 ? 2 : 3;
    const char *best = NULL;
    size_t best_distance = limit + 1;
    for (size_t i = 0; i < n; i++) {
        size_t clen = strlen(candidates[i]);
        if (clen > CLOSEST_MAX_LEN || (clen > len ? clen - len : len - clen) > limit)
            continue;
        size_t distance = edit_distance(word, len, candidates[i], clen, limit);
        if (distance > 0 && distance < best_distance) {
            best = candidates[i];
            best_distance = distance;
        }
    }
    return best;
}
