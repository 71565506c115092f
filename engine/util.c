#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int tp_err_set(tp_err *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void tp_err_prefix(tp_err *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char old[sizeof err->msg];
    memcpy(old, err->msg, sizeof old);
    if (snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old) >= (int)sizeof err->msg)
        memcpy(err->msg + sizeof err->msg - 4, "...", 4); /* say it was cut */
}

static void oom(size_t size)
{
    fprintf(stderr, "tagpilot: out of memory allocating %zu bytes\n", size);
    abort();
}

void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        oom(size);
    return p;
}

void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        oom(count * size);
    return p;
}

void *xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (!p)
        oom(size);
    return p;
}

char *xstrdup(const char *s)
{
    return s ? xstrndup(s, strlen(s)) : NULL;
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    /* Exactly the size asked: these strings are kept (an image's key, 10,000 of them), and a
     * buffer grown by doubling would give each 64 to 256 bytes. Formatted once on the stack
     * when it fits (nearly always: a second vsnprintf was a tenth of reading 1,000
     * Applications), twice otherwise. */
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return xstrdup("");
    char *s = xmalloc((size_t)n + 1);
    if ((size_t)n < sizeof small) {
        memcpy(s, small, (size_t)n + 1);
        return s;
    }
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

bool str_starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool str_ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

char *str_trim(char *s)
{
    size_t len = strlen(s);
    while (len && isspace((unsigned char)s[len - 1]))
        s[--len] = '\0';
    size_t start = 0;
    while (s[start] && isspace((unsigned char)s[start]))
        start++;
    if (start)
        memmove(s, s + start, len - start + 1);
    return s;
}

size_t utf8_sequence_length(const unsigned char *s)
{
    unsigned char c = s[0];
    size_t len;
    unsigned min;
    unsigned cp;
    if (c < 0x80)
        return c ? 1 : 0;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, min = 0x80, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, min = 0x800, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, min = 0x10000, cp = c & 0x07;
    else
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0; /* overlong, out of range or a surrogate */
    return len;
}

char *str_utf8_sanitize(const char *s)
{
    strbuf sb = {0};
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = utf8_sequence_length(p);
        if (n) {
            strbuf_append(&sb, (const char *)p, n);
            p += n;
        } else {
            strbuf_puts(&sb, "\xEF\xBF\xBD");
            p++;
        }
    }
    return strbuf_take(&sb);
}

/* The code point of the valid sequence of n bytes at s. */
static unsigned utf8_decode(const unsigned char *s, size_t n)
{
    if (n == 1)
        return s[0];
    unsigned cp = s[0] & (0xFFu >> (n + 1));
    for (size_t i = 1; i < n; i++)
        cp = (cp << 6) | (s[i] & 0x3F);
    return cp;
}

/* Characters that move or hide text without being controls: the line and paragraph
 * separators (line breaks to YAML 1.1 and JavaScript) and the bidirectional marks, embeddings,
 * overrides and isolates (they reorder what a reader sees, "Trojan Source"). */
static bool invisible_format(unsigned cp)
{
    return cp == 0x2028 || cp == 0x2029 || cp == 0x200E || cp == 0x200F || cp == 0x061C ||
           (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

size_t utf8_printable_length(const unsigned char *s)
{
    size_t n = utf8_sequence_length(s);
    if (n == 0)
        return 0;
    unsigned cp = utf8_decode(s, n);
    if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0) || invisible_format(cp))
        return 0;
    return n;
}

const char *str_line_problem(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = utf8_sequence_length(p);
        if (!n)
            return "invalid UTF-8";
        unsigned cp = utf8_decode(p, n);
        if (cp == '\n' || cp == '\r' || cp == 0x85 || cp == 0x2028 || cp == 0x2029)
            return "a line break";
        if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0))
            return "a control character";
        if (invisible_format(cp))
            return "a bidirectional control";
        p += n;
    }
    return NULL;
}

char *str_printable(const char *s)
{
    strbuf sb = {0};
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = utf8_printable_length(p);
        if (n) {
            strbuf_append(&sb, (const char *)p, n);
            p += n;
            continue;
        }
        n = utf8_sequence_length(p);
        unsigned cp = n ? utf8_decode(p, n) : 0;
        if (n == 3) { /* a separator or bidirectional control: name it */
            strbuf_printf(&sb, "\\u%04x", cp);
        } else {
            /* controls (C1 as their two bytes) and bytes that are not UTF-8 */
            for (size_t i = 0; i < (n ? n : 1); i++)
                strbuf_printf(&sb, "\\x%02x", p[i]);
        }
        p += n ? n : 1;
    }
    return strbuf_take(&sb);
}

static void strbuf_reserve(strbuf *sb, size_t extra)
{
    if (sb->len + extra + 1 <= sb->cap)
        return;
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < sb->len + extra + 1)
        cap *= 2;
    sb->data = xrealloc(sb->data, cap);
    sb->cap = cap;
}

void strbuf_append(strbuf *sb, const char *s, size_t n)
{
    strbuf_reserve(sb, n);
    memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

void strbuf_puts(strbuf *sb, const char *s)
{
    strbuf_append(sb, s, strlen(s));
}

void strbuf_putc(strbuf *sb, char c)
{
    strbuf_append(sb, &c, 1);
}

void strbuf_vprintf(strbuf *sb, const char *fmt, va_list ap)
{
    /* Straight into the room there is, once, when the text fits (a report of 1,000 images
     * prints 11,000 fields); measured and printed again when it does not. */
    strbuf_reserve(sb, 0);
    size_t room = sb->cap - sb->len; /* counting the NUL */
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(sb->data + sb->len, room, fmt, copy);
    va_end(copy);
    if (n < 0) {
        sb->data[sb->len] = '\0';
        return;
    }
    if ((size_t)n >= room) {
        strbuf_reserve(sb, (size_t)n);
        vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
    }
    sb->len += (size_t)n;
}

void strbuf_printf(strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(sb, fmt, ap);
    va_end(ap);
}

bool fd_write_all(int fd, const void *p, size_t n)
{
    const char *at = p;
    while (n > 0) {
        ssize_t w = write(fd, at, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return false;
        }
        at += w;
        n -= (size_t)w;
    }
    return true;
}

bool strbuf_write_out(strbuf *sb, int fd, size_t at_least)
{
    if (sb->len < at_least || !sb->len)
        return true;
    bool ok = fd_write_all(fd, sb->data, sb->len);
    sb->len = 0;
    sb->data[0] = '\0';
    return ok;
}

char *strbuf_take(strbuf *sb)
{
    /* What is taken is usually kept: give back the room doubling left (up to half of it). */
    char *s = !sb->data               ? xstrdup("")
              : sb->cap > sb->len + 1 ? xrealloc(sb->data, sb->len + 1)
                                      : sb->data;
    *sb = (strbuf){0};
    return s;
}

void strbuf_free(strbuf *sb)
{
    free(sb->data);
    *sb = (strbuf){0};
}

static void strvec_grow(strvec *v)
{
    if (v->count == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 8;
        v->items = xrealloc(v->items, v->cap * sizeof *v->items);
    }
}

void strvec_push(strvec *v, const char *s)
{
    strvec_grow(v);
    v->items[v->count++] = xstrdup(s);
}

void strvec_push_n(strvec *v, const char *s, size_t n)
{
    strvec_grow(v);
    v->items[v->count++] = xstrndup(s, n);
}

void strvec_push_ref(strvec *v, char *s)
{
    strvec_grow(v);
    v->items[v->count++] = s;
}

void strvec_free(strvec *v)
{
    for (size_t i = 0; i < v->count; i++)
        free(v->items[i]);
    free(v->items);
    *v = (strvec){0};
}

static const char b64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *base64_encode(const unsigned char *data, size_t n)
{
    char *out = xmalloc((n + 2) / 3 * 4 + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)data[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)data[i + 1] << 8;
        if (i + 2 < n)
            v |= data[i + 2];
        out[o++] = b64_chars[(v >> 18) & 63];
        out[o++] = b64_chars[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64_chars[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? b64_chars[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

unsigned char *base64_decode(const char *text, size_t *out_len)
{
    size_t n = strlen(text);
    unsigned char *out = xmalloc(n / 4 * 3 + 3);
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = text[i];
        if (ch == '=')
            break;
        const char *p = strchr(b64_chars, ch);
        if (!p || !ch) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (unsigned)(p - b64_chars);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

int file_read_all(const char *path, const char *name, strbuf *out, tp_err *err)
{
    if (!name)
        name = path;
    FILE *f = fopen(path, "rb");
    if (!f)
        return tp_err_set(err, "%s: cannot open: %s", name, strerror(errno));
    char chunk[16384];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        strbuf_append(out, chunk, n);
    int failed = ferror(f);
    fclose(f);
    if (!out->data)
        strbuf_append(out, "", 0);
    return failed ? tp_err_set(err, "%s: read error", name) : 0;
}
