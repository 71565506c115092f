/* imageref: the Docker reference grammar of distribution/reference (regexp.go, normalize.go),
 * written as small hand scanners instead of regular expressions, plus argocd-image-updater's
 * image-list syntax on top. */
#include "imageref.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define REPOSITORY_MAX    255 /* distribution/reference checks the path, "library/" included */
#define TAG_MAX           128
#define SHOWN_MAX         80 /* bytes of user input quoted in a message */
#define DOCKER_HUB        "docker.io"
#define DOCKER_HUB_LEGACY "index.docker.io"
#define DOCKER_HUB_API    "registry-1.docker.io"
#define OFFICIAL_PREFIX   "library/"

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_word(char c)
{
    return is_alnum(c) || c == '_';
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* Quote user input for a message: control bytes and bytes >= 0x80 as \xNN (so a terminal shows
 * what was there), cut at SHOWN_MAX with "...". */
static const char *shown(const char *s, size_t n, char *buf, size_t cap)
{
    size_t out = 0;
    for (size_t i = 0; i < n && out + 8 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i == SHOWN_MAX) {
            memcpy(buf + out, "...", 3);
            out += 3;
            break;
        }
        if (c < 0x20 || c >= 0x7f)
            out += (size_t)snprintf(buf + out, cap - out, "\\x%02x", c);
        else
            buf[out++] = (char)c;
    }
    buf[out] = '\0';
    return buf;
}

/* path-component := [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)* */
static bool valid_component(const char *s, size_t n)
{
    size_t i = 0;
    if (n == 0 || !is_lower_alnum(s[0]))
        return false;
    while (i < n) {
        while (i < n && is_lower_alnum(s[i]))
            i++;
        if (i == n)
            return true;
        if (s[i] == '.') {
            i++;
        } else if (s[i] == '_') {
            i++;
            if (i < n && s[i] == '_')
                i++;
        } else if (s[i] == '-') {
            while (i < n && s[i] == '-')
                i++;
        } else {
            return false;
        }
        if (i == n || !is_lower_alnum(s[i]))
            return false;
    }
    return true;
}

/* host [':' port]: DNS-like components of [A-Za-z0-9-] (not starting or ending with '-')
 * joined by '.', or a bracketed IPv6 address. */
static bool valid_domain(const char *s, size_t n)
{
    size_t i = 0;
    if (n > 0 && s[0] == '[') {
        i = 1;
        while (i < n && (is_hex(s[i]) || s[i] == ':'))
            i++;
        if (i == 1 || i == n || s[i] != ']')
            return false;
        i++;
    } else {
        for (;;) {
            size_t start = i;
            while (i < n && (is_alnum(s[i]) || s[i] == '-'))
                i++;
            if (i == start || s[start] == '-' || s[i - 1] == '-')
                return false;
            if (i < n && s[i] == '.') {
                i++;
                continue;
            }
            break;
        }
    }
    if (i == n)
        return true;
    if (s[i] != ':' || i + 1 == n)
        return false;
    for (i++; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool valid_tag(const char *s, size_t n)
{
    if (n == 0 || n > TAG_MAX || !is_word(s[0]))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!is_word(s[i]) && s[i] != '.' && s[i] != '-')
            return false;
    return true;
}

bool imageref_tag_valid(const char *tag)
{
    /* strnlen: a 4 MiB tag is refused after TAG_MAX + 1 bytes, not measured */
    return tag && valid_tag(tag, strnlen(tag, TAG_MAX + 1));
}

/* digest := algorithm ':' hex, algorithm := [A-Za-z][A-Za-z0-9]* ([-_+.][A-Za-z][A-Za-z0-9]*)*,
 * hex at least 32 digits. The algorithms go-digest registers must be lower-case hex of their
 * exact length (sha256: 64, sha384: 96, sha512: 128). */
static bool valid_digest(const char *s, size_t n)
{
    const char *colon = memchr(s, ':', n);
    if (!colon)
        return false;
    size_t alg_len = (size_t)(colon - s), hex_len = n - alg_len - 1;
    const char *hex = colon + 1;
    size_t i = 0;
    for (;;) {
        if (i == alg_len || !((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
            return false;
        while (i < alg_len && is_alnum(s[i]))
            i++;
        if (i == alg_len)
            break;
        if (!strchr("-_+.", s[i]))
            return false;
        i++;
    }
    static const struct {
        const char *name;
        size_t hex_len;
    } registered[] = {{"sha256", 64}, {"sha384", 96}, {"sha512", 128}};
    for (size_t r = 0; r < sizeof registered / sizeof registered[0]; r++) {
        if (alg_len == strlen(registered[r].name) && memcmp(s, registered[r].name, alg_len) == 0) {
            if (hex_len != registered[r].hex_len)
                return false;
            for (size_t h = 0; h < hex_len; h++)
                if (!is_lower_hex(hex[h]))
                    return false;
            return true;
        }
    }
    if (hex_len < 32)
        return false;
    for (size_t h = 0; h < hex_len; h++)
        if (!is_hex(hex[h]))
            return false;
    return true;
}

bool imageref_is_host(const char *component, size_t len)
{
    if (len == 9 && memcmp(component, "localhost", 9) == 0)
        return true;
    return memchr(component, '.', len) != NULL || memchr(component, ':', len) != NULL;
}

static bool is_image_id(const char *s, size_t n)
{
    if (n != 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_lower_hex(s[i]))
            return false;
    return true;
}

/* Check the path (after the registry) component by component. */
static int check_path(const char *path, size_t n, const char *whole, tp_err *err)
{
    char buf[2][4 * SHOWN_MAX + 8];
    for (size_t i = 0; i < n; i++) {
        if (path[i] >= 'A' && path[i] <= 'Z')
            return tp_err_set(err, "repository name must be lowercase: '%s'",
                              shown(whole, (size_t)(path + n - whole), buf[0], sizeof buf[0]));
    }
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && path[i] != '/')
            continue;
        if (!valid_component(path + start, i - start))
            return tp_err_set(err, "invalid reference format: '%s' (bad path component '%s')",
                              shown(whole, strlen(whole), buf[0], sizeof buf[0]),
                              shown(path + start, i - start, buf[1], sizeof buf[1]));
        start = i + 1;
    }
    return 0;
}

int imageref_parse(const char *s, imageref *out, tp_err *err)
{
    char buf[2][4 * SHOWN_MAX + 8];
    *out = (imageref){0};
    if (!s || !*s)
        return tp_err_set(err, "empty image reference");
    size_t len = strlen(s);
    if (is_image_id(s, len))
        return tp_err_set(err,
                          "invalid repository name '%s': a 64-digit hexadecimal string is an "
                          "image id, not a name",
                          shown(s, len, buf[0], sizeof buf[0]));

    const char *at = strchr(s, '@');
    size_t before_digest = at ? (size_t)(at - s) : len;
    const char *slash = memrchr(s, '/', before_digest);
    const char *tail = slash ? slash + 1 : s;
    const char *colon = memchr(tail, ':', before_digest - (size_t)(tail - s));
    size_t name_len = colon ? (size_t)(colon - s) : before_digest;
    if (name_len == 0)
        return tp_err_set(err, "invalid reference format: '%s' (no name)",
                          shown(s, len, buf[0], sizeof buf[0]));

    /* Registry: the first component, when it looks like a host. */
    const char *first_slash = memchr(s, '/', name_len);
    const char *domain = NULL, *path = s;
    size_t domain_len = 0;
    if (first_slash && imageref_is_host(s, (size_t)(first_slash - s))) {
        domain = s;
        domain_len = (size_t)(first_slash - s);
        path = first_slash + 1;
        if (!valid_domain(domain, domain_len))
            return tp_err_set(err, "invalid reference format: '%s' (bad registry host '%s')",
                              shown(s, len, buf[0], sizeof buf[0]),
                              shown(domain, domain_len, buf[1], sizeof buf[1]));
    }
    size_t path_len = name_len - (size_t)(path - s);
    if (check_path(path, path_len, s, err) < 0)
        return -1;

    if (colon) {
        size_t tag_len = before_digest - name_len - 1;
        if (!valid_tag(colon + 1, tag_len))
            return tp_err_set(err, "invalid tag '%s'",
                              shown(colon + 1, tag_len, buf[0], sizeof buf[0]));
    }
    if (at && !valid_digest(at + 1, len - before_digest - 1))
        return tp_err_set(err, "invalid digest '%s'",
                          shown(at + 1, len - before_digest - 1, buf[0], sizeof buf[0]));

    bool hub = !domain ||
               (domain_len == strlen(DOCKER_HUB) && memcmp(domain, DOCKER_HUB, domain_len) == 0) ||
               (domain_len == strlen(DOCKER_HUB_LEGACY) &&
                memcmp(domain, DOCKER_HUB_LEGACY, domain_len) == 0);
    bool official = hub && !memchr(path, '/', path_len);
    size_t repo_len = path_len + (official ? strlen(OFFICIAL_PREFIX) : 0);
    if (repo_len > REPOSITORY_MAX)
        return tp_err_set(err, "repository name longer than %d characters (%zu)", REPOSITORY_MAX,
                          repo_len);

    out->registry = hub ? xstrdup(DOCKER_HUB) : xstrndup(domain, domain_len);
    out->api_host = xstrdup(hub ? DOCKER_HUB_API : out->registry);
    out->repository = xasprintf("%s%.*s", official ? OFFICIAL_PREFIX : "", (int)path_len, path);
    out->name = xasprintf("%s/%s", out->registry, out->repository);
    if (hub) {
        /* argocd-image-updater keeps "docker.io/" only when the text starts with it, and drops
         * "library/" unless the text starts with it; like Docker's familiar names, only from a
         * one-level "library/<name>" (dropping it from "library/a/b" would name another image). */
        bool show_registry = str_starts_with(s, DOCKER_HUB "/");
        const char *shown_repo = out->repository;
        if (!str_starts_with(s, OFFICIAL_PREFIX) && str_starts_with(shown_repo, OFFICIAL_PREFIX) &&
            !strchr(shown_repo + strlen(OFFICIAL_PREFIX), '/'))
            shown_repo += strlen(OFFICIAL_PREFIX);
        out->short_name = xasprintf("%s%s", show_registry ? DOCKER_HUB "/" : "", shown_repo);
    } else {
        out->short_name = xstrdup(out->name);
    }
    if (colon)
        out->tag = xstrndup(colon + 1, before_digest - name_len - 1);
    if (at)
        out->digest = xstrdup(at + 1);
    return 0;
}

void imageref_free(imageref *ref)
{
    if (!ref)
        return;
    free(ref->registry);
    free(ref->api_host);
    free(ref->repository);
    free(ref->name);
    free(ref->short_name);
    free(ref->tag);
    free(ref->digest);
    *ref = (imageref){0};
}

void imageref_copy(imageref *dst, const imageref *src)
{
    dst->registry = xstrdup(src->registry);
    dst->api_host = xstrdup(src->api_host);
    dst->repository = xstrdup(src->repository);
    dst->name = xstrdup(src->name);
    dst->short_name = xstrdup(src->short_name);
    dst->tag = xstrdup(src->tag);
    dst->digest = xstrdup(src->digest);
}

/* ---- image-list ---- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static void trim_span(const char **s, size_t *n)
{
    while (*n && is_space(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && is_space((*s)[*n - 1]))
        (*n)--;
}

/* Aliases end up in annotation keys ("<alias>.update-strategy", '/' written '_'), whose name
 * part Kubernetes limits to [A-Za-z0-9._-]. */
static bool valid_alias(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_alnum(s[i]) && !strchr("._-/", s[i]))
            return false;
    return n > 0;
}

/* The name an entry is known by: the alias as written in keys, or the short name. */
static char *entry_key(const image_entry *e)
{
    char *key = xstrdup(e->alias ? e->alias : e->ref.short_name);
    if (e->alias)
        for (char *p = key; *p; p++)
            if (*p == '/')
                *p = '_';
    return key;
}

static void image_entry_free(image_entry *e)
{
    free(e->alias);
    free(e->constraint);
    imageref_free(&e->ref);
}

/* Parse one trimmed, non-empty entry. On failure err says why (without naming the entry). */
static int parse_entry(const char *text, size_t n, image_entry *out, tp_err *err)
{
    char buf[4 * SHOWN_MAX + 8];
    *out = (image_entry){0};
    const char *image = text;
    size_t image_len = n;
    const char *eq = memchr(text, '=', n);
    if (eq) {
        const char *alias = text;
        size_t alias_len = (size_t)(eq - text);
        trim_span(&alias, &alias_len);
        image = eq + 1;
        image_len = n - (size_t)(image - text);
        trim_span(&image, &image_len);
        if (alias_len == 0)
            return tp_err_set(err, "empty alias before '='");
        if (!valid_alias(alias, alias_len))
            return tp_err_set(err, "invalid alias '%s' (letters, digits, '.', '_', '-', '/')",
                              shown(alias, alias_len, buf, sizeof buf));
        if (image_len == 0)
            return tp_err_set(err, "no image after '='");
        out->alias = xstrndup(alias, alias_len);
    }

    /* The constraint is what follows the ':' after the last '/', before any "@digest". */
    const char *at = memchr(image, '@', image_len);
    size_t before_digest = at ? (size_t)(at - image) : image_len;
    const char *slash = memrchr(image, '/', before_digest);
    const char *tail = slash ? slash + 1 : image;
    const char *colon = memchr(tail, ':', before_digest - (size_t)(tail - image));
    strbuf ref_text = {0};
    if (colon) {
        const char *c = colon + 1;
        size_t c_len = before_digest - (size_t)(c - image);
        trim_span(&c, &c_len);
        if (c_len == 0) {
            image_entry_free(out);
            return tp_err_set(err, "empty constraint after ':'");
        }
        for (size_t i = 0; i < c_len; i++) {
            if ((unsigned char)c[i] < 0x20 || (unsigned char)c[i] >= 0x7f) {
                image_entry_free(out);
                return tp_err_set(err, "invalid constraint '%s' (printable ASCII only)",
                                  shown(c, c_len, buf, sizeof buf));
            }
        }
        out->constraint = xstrndup(c, c_len);
        strbuf_append(&ref_text, image, (size_t)(colon - image));
        if (at)
            strbuf_append(&ref_text, at, image_len - before_digest);
    } else {
        strbuf_append(&ref_text, image, image_len);
    }
    int rc = imageref_parse(ref_text.data, &out->ref, err);
    strbuf_free(&ref_text);
    if (rc < 0) {
        image_entry_free(out);
        return -1;
    }
    return 0;
}

int imageref_parse_list(const char *value, image_list *out, strvec *errors)
{
    *out = (image_list){0};
    if (!value)
        return 0;
    size_t cap = 0;
    strvec keys = {0};
    int bad = 0;
    const char *p = value;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        const char *text = p;
        trim_span(&text, &n);
        if (n > 0) {
            char buf[4 * SHOWN_MAX + 8];
            image_entry entry;
            tp_err err;
            if (parse_entry(text, n, &entry, &err) < 0) {
                char *msg = xasprintf("image-list entry '%s': %s", shown(text, n, buf, sizeof buf),
                                      err.msg);
                strvec_push(errors, msg);
                free(msg);
                bad++;
            } else {
                char *key = entry_key(&entry);
                bool dup = false;
                for (size_t k = 0; k < keys.count && !dup; k++)
                    dup = strcmp(keys.items[k], key) == 0;
                if (dup) {
                    char *msg = xasprintf(
                        entry.alias
                            ? "image-list entry '%s': duplicate alias '%s'"
                            : "image-list entry '%s': duplicate image '%s' (give one an alias)",
                        shown(text, n, buf, sizeof buf), key);
                    strvec_push(errors, msg);
                    free(msg);
                    image_entry_free(&entry);
                    bad++;
                } else {
                    strvec_push(&keys, key);
                    if (out->count == cap) {
                        cap = cap ? cap * 2 : 4;
                        out->items = xrealloc(out->items, cap * sizeof *out->items);
                    }
                    out->items[out->count++] = entry;
                }
                free(key);
            }
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    strvec_free(&keys);
    return bad;
}

void image_list_free(image_list *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->count; i++)
        image_entry_free(&list->items[i]);
    free(list->items);
    *list = (image_list){0};
}
