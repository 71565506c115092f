/* registry/tags: one tags/list page body into the listing. Registries send the same plain shape
 * every time, {"name":"team/app","tags":["1.0.0",...]}, and cJSON spent a tenth of a steady
 * scan building a tree of it; so a strict scanner takes exactly that shape, and every other body
 * (escapes, numbers, nesting, unknown or repeated members, trailing bytes) goes to cJSON as
 * before. Both give the same tags, cut the same way, and refuse past max_tags with the same
 * message (tests/fuzz/fuzz_tags_fast.c compares them). Bodies are hostile: len is authoritative,
 * the body is not NUL-terminated. */
#include "registry/registry.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/internal.h"

/* A listed tag longer than this is kept cut (it is invalid anyway: the grammar stops at 128), so
 * a hostile 4 MiB tag costs 255 bytes of memory and of screen. */
#define TAG_KEPT_MAX 255

/* Where kept tags go: each its own allocation in *tags (blocks NULL), or packed: a page's names
 * in one block (kept in *blocks; the names in *tags point into it). 100,000 listed tags were
 * 100,000 mallocs and frees, and 1.6 MB of their headers. */
typedef struct tag_sink {
    strvec *tags;
    strvec *blocks;
    char *at; /* packed: the next free byte of the page's block */
} tag_sink;

/* At most what a tag of len bytes takes packed (a cut one ends in "\u2026" and its NUL). */
static size_t kept_size(size_t len)
{
    return len <= TAG_KEPT_MAX ? len + 1 : TAG_KEPT_MAX + sizeof "\u2026";
}

/* Packed: a block of bytes for the page's names (none for none). */
static void sink_reserve(tag_sink *sink, size_t bytes)
{
    if (!sink->blocks || bytes == 0)
        return;
    sink->at = xmalloc(bytes);
    strvec_push_ref(sink->blocks, sink->at);
}

/* Keep a listed tag, name[0..len) (not NUL-terminated); one over TAG_KEPT_MAX bytes is cut at a
 * character boundary and marked. Packed, the room is reserved (kept_size). */
static void keep_tag(tag_sink *sink, const char *name, size_t len)
{
    size_t n = len;
    if (len > TAG_KEPT_MAX) {
        n = TAG_KEPT_MAX;
        while (n > 0 && ((unsigned char)name[n] & 0xC0) == 0x80)
            n--; /* name[n] is the first byte dropped: not inside a UTF-8 sequence */
    }
    if (!sink->blocks) {
        if (n == len) {
            strvec_push_n(sink->tags, name, len);
        } else {
            char *cut = xasprintf("%.*s\u2026", (int)n, name);
            strvec_push(sink->tags, cut);
            free(cut);
        }
        return;
    }
    char *s = sink->at;
    memcpy(s, name, n);
    if (n < len) {
        memcpy(s + n, "\u2026", sizeof "\u2026" - 1);
        n += sizeof "\u2026" - 1;
    }
    s[n] = '\0';
    sink->at = s + n + 1;
    strvec_push_ref(sink->tags, s);
}

static int too_many_tags(size_t max_tags, const char *registry, const char *repo, tp_err *err)
{
    return tp_err_set(err,
                      "registry %s: %s has more than %zu tags — tagpilot stops there to bound "
                      "memory",
                      registry, repo, max_tags);
}

/* ---- the fast path: the plain shape only ---- */

/* JSON's four whitespace bytes (cJSON skips every byte up to 0x20: these are a subset). */
static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* p at a string's opening quote: its bytes in [*s, *s + *n) and the byte after its closing quote.
 * NULL for a backslash (any escape) or a control byte (cJSON keeps those, a raw NUL ending the
 * C string early: left to it), or no closing quote before end. Bytes >= 0x80 are copied as they
 * are, as cJSON does. */
static const char *scan_string(const char *p, const char *end, const char **s, size_t *n)
{
    if (p == end || *p != '"')
        return NULL;
    const char *start = ++p;
    while (p < end && *p != '"') {
        if (*p == '\\' || (unsigned char)*p < 0x20)
            return NULL;
        p++;
    }
    if (p == end)
        return NULL;
    *s = start;
    *n = (size_t)(p - start);
    return p + 1;
}

/* p just past an array's '[': the array must hold plain strings only. Counts them in *count,
 * adds what the first keep_max of them take packed to *bytes (bytes NULL: not counted), and keeps
 * those in *sink (sink NULL: none). The byte after ']', or NULL when the array holds anything
 * else or is cut short. */
static const char *scan_tag_array(const char *p, const char *end, tag_sink *sink, size_t keep_max,
                                  size_t *count, size_t *bytes)
{
    *count = 0;
    p = skip_ws(p, end);
    if (p < end && *p == ']')
        return p + 1;
    for (;;) {
        const char *s;
        size_t n;
        p = scan_string(p, end, &s, &n);
        if (!p)
            return NULL;
        if (*count < keep_max) {
            if (bytes)
                *bytes += kept_size(n);
            if (sink)
                keep_tag(sink, s, n);
        }
        (*count)++;
        p = skip_ws(p, end);
        if (p == end)
            return NULL;
        if (*p == ']')
            return p + 1;
        if (*p != ',')
            return NULL;
        p = skip_ws(p + 1, end);
    }
}

static bool key_is(const char *key, size_t key_len, const char *name)
{
    return key_len == strlen(name) && memcmp(key, name, key_len) == 0;
}

static int parse_fast(const char *body, size_t len, size_t max_tags, const char *registry,
                      const char *repo, tag_sink *sink, tp_err *err)
{
    strvec *tags = sink->tags;
    if (!body)
        return REGISTRY_TAGS_NOT_HANDLED;
    const char *end = body + len;
    const char *list = NULL; /* just past the tags array's '[': none for null or no "tags" */
    size_t count = 0;        /* the strings in that array */
    bool seen_name = false, seen_tags = false;
    /* What max_tags leaves room for, as the cJSON loop does: it keeps tags until the listing
     * holds max_tags, and refuses at the next string. */
    size_t room = tags->count < max_tags ? max_tags - tags->count : 0;
    size_t bytes = 0; /* what the kept ones take packed */

    /* Pass 1 reads the whole body and touches nothing: a body that turns out not to be the
     * plain shape halfway has kept no tag for cJSON to keep a second time. */
    const char *p = skip_ws(body, end);
    if (p == end || *p != '{')
        return REGISTRY_TAGS_NOT_HANDLED;
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}') {
        p++;
    } else {
        for (;;) {
            const char *key, *s;
            size_t key_len, n;
            p = scan_string(p, end, &key, &key_len);
            if (!p)
                return REGISTRY_TAGS_NOT_HANDLED;
            p = skip_ws(p, end);
            if (p == end || *p != ':')
                return REGISTRY_TAGS_NOT_HANDLED;
            p = skip_ws(p + 1, end);
            if (key_is(key, key_len, "name") && !seen_name) {
                seen_name = true;
                p = scan_string(p, end, &s, &n); /* a string; its value is not used */
            } else if (key_is(key, key_len, "tags") && !seen_tags) {
                seen_tags = true;
                if ((size_t)(end - p) >= 4 && memcmp(p, "null", 4) == 0) {
                    p += 4;
                } else if (p < end && *p == '[') {
                    list = p + 1;
                    p = scan_tag_array(list, end, NULL, room, &count, &bytes);
                } else {
                    return REGISTRY_TAGS_NOT_HANDLED;
                }
            } else {
                return REGISTRY_TAGS_NOT_HANDLED; /* another member, or one seen before */
            }
            if (!p)
                return REGISTRY_TAGS_NOT_HANDLED;
            p = skip_ws(p, end);
            if (p == end)
                return REGISTRY_TAGS_NOT_HANDLED;
            if (*p == '}') {
                p++;
                break;
            }
            if (*p != ',')
                return REGISTRY_TAGS_NOT_HANDLED;
            p = skip_ws(p + 1, end);
        }
    }
    if (skip_ws(p, end) != end)
        return REGISTRY_TAGS_NOT_HANDLED; /* cJSON ignores trailing bytes; leave them to it */

    /* Pass 2 keeps what there is room for. */
    if (list) {
        sink_reserve(sink, bytes);
        scan_tag_array(list, end, sink, room, &count, NULL);
    }
    return count > room ? too_many_tags(max_tags, registry, repo, err) : 0;
}

/* ---- every other body: cJSON ---- */

/* cJSON turns the escape \u0000 into a NUL byte that ends the C string early, so that
 * "v9.9.9\u0000x" would arrive as the valid-looking "v9.9.9". Spell it \u2400 (the visible
 * symbol for NUL) instead: same length, and the tag stays what it is, invalid. */
static void spell_out_nul_escapes(char *body, size_t len)
{
    char *p = body;
    while ((p = memmem(p, len - (size_t)(p - body), "\\u0000", 6))) {
        memcpy(p + 2, "2400", 4);
        p += 6;
    }
}

static int parse_json(const char *body, size_t len, size_t max_tags, const char *registry,
                      const char *repo, tag_sink *sink, tp_err *err)
{
    strvec *tags = sink->tags;
    /* A copy to spell \u0000 out in (see spell_out_nul_escapes). */
    char *text = xstrndup(body ? body : "", len);
    spell_out_nul_escapes(text, len);
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *list = root ? cJSON_GetObjectItemCaseSensitive(root, "tags") : NULL;
    if (!root || !cJSON_IsObject(root) || (list && !cJSON_IsArray(list) && !cJSON_IsNull(list))) {
        cJSON_Delete(root);
        return tp_err_set(err, "registry %s: tags list for %s is not valid JSON", registry, repo);
    }
    const cJSON *items = cJSON_IsArray(list) ? list : NULL;
    const cJSON *t;
    /* A raw NUL inside the string ends it here, as it always has. */
    size_t bytes = 0, kept = tags->count;
    cJSON_ArrayForEach(t, items)
    {
        if (cJSON_IsString(t) && kept++ < max_tags)
            bytes += kept_size(strnlen(t->valuestring, TAG_KEPT_MAX + 1));
    }
    sink_reserve(sink, bytes);
    cJSON_ArrayForEach(t, items)
    {
        if (!cJSON_IsString(t))
            continue;
        if (tags->count >= max_tags) {
            cJSON_Delete(root);
            return too_many_tags(max_tags, registry, repo, err);
        }
        keep_tag(sink, t->valuestring, strnlen(t->valuestring, TAG_KEPT_MAX + 1));
    }
    cJSON_Delete(root);
    return 0;
}

int registry_parse_tags_fast(const char *body, size_t len, size_t max_tags, const char *registry,
                             const char *repo, strvec *tags, tp_err *err)
{
    tag_sink sink = {tags, NULL, NULL};
    return parse_fast(body, len, max_tags, registry, repo, &sink, err);
}

int registry_parse_tags_json(const char *body, size_t len, size_t max_tags, const char *registry,
                             const char *repo, strvec *tags, tp_err *err)
{
    tag_sink sink = {tags, NULL, NULL};
    return parse_json(body, len, max_tags, registry, repo, &sink, err);
}

int registry_parse_tags_packed(const char *body, size_t len, size_t max_tags, const char *registry,
                               const char *repo, strvec *tags, strvec *blocks, tp_err *err)
{
    tag_sink sink = {tags, blocks, NULL};
    int rc = parse_fast(body, len, max_tags, registry, repo, &sink, err);
    if (rc != REGISTRY_TAGS_NOT_HANDLED)
        return rc;
    return parse_json(body, len, max_tags, registry, repo, &sink, err);
}

int registry_parse_tags(const char *body, size_t len, size_t max_tags, const char *registry,
                        const char *repo, strvec *tags, tp_err *err)
{
    return registry_parse_tags_packed(body, len, max_tags, registry, repo, tags, NULL, err);
}
