/* text: column arithmetic for the console. */
#include "text.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

#include "util.h"

/* Decode one character at s: its bytes in *len, its columns in *cols; unprintable → '?'. */
static wchar_t text_next(const char *s, size_t *len, int *cols)
{
    /* The same rule as str_printable (engine/util.c): a separator or bidirectional control is
     * no more drawn than a control character is. */
    const unsigned char *u = (const unsigned char *)s;
    if (*u && !utf8_printable_length(u)) {
        size_t n = utf8_sequence_length(u);
        *len = n ? n : 1;
        *cols = 1;
        return L'?';
    }
    mbstate_t st;
    memset(&st, 0, sizeof st);
    wchar_t wc;
    size_t n = mbrtowc(&wc, s, MB_CUR_MAX, &st);
    if (n == 0 || n == (size_t)-1 || n == (size_t)-2) {
        *len = 1;
        *cols = 1;
        return L'?';
    }
    *len = n;
    int w = wcwidth(wc);
    if (w < 0 || !iswprint(wc)) {
        *cols = 1;
        return L'?';
    }
    *cols = w;
    return wc;
}

int text_width(const char *s)
{
    int total = 0;
    while (s && *s) {
        size_t len;
        int cols;
        text_next(s, &len, &cols);
        total += cols;
        s += len;
    }
    return total;
}

/* Append bytes if they fit (always leaving room for the NUL). */
static bool text_put(char *out, size_t outsz, size_t *used, const char *bytes, size_t n)
{
    if (*used + n + 1 > outsz)
        return false;
    memcpy(out + *used, bytes, n);
    *used += n;
    out[*used] = '\0';
    return true;
}

int text_fit(const char *s, int width, bool ascii, bool pad, char *out, size_t outsz)
{
    if (outsz == 0)
        return 0;
    out[0] = '\0';
    if (width <= 0)
        return 0;
    if (!s)
        s = "";
    const char *ellipsis = ascii ? "~" : "\xe2\x80\xa6";
    size_t used = 0;
    int cols = 0;
    bool fits = text_width(s) <= width;
    int room = fits ? width : width - 1; /* keep one column for the ellipsis */
    while (*s) {
        size_t len;
        int w;
        wchar_t wc = text_next(s, &len, &w);
        if (cols + w > room)
            break;
        bool ok;
        if (wc == L'?' && (len != 1 || *s != '?'))
            ok = text_put(out, outsz, &used, "?", 1);
        else if (ascii && (len > 1 || w != 1))
            ok = text_put(out, outsz, &used, "?", 1), w = 1;
        else
            ok = text_put(out, outsz, &used, s, len);
        if (!ok)
            break;
        cols += w;
        s += len;
    }
    if (!fits && text_put(out, outsz, &used, ellipsis, strlen(ellipsis)))
        cols += 1;
    while (pad && cols < width && text_put(out, outsz, &used, " ", 1))
        cols++;
    return cols;
}

int text_fit_tail(const char *s, int width, bool ascii, bool pad, char *out, size_t outsz)
{
    if (!s)
        s = "";
    int total = text_width(s);
    if (width <= 1 || total <= width)
        return text_fit(s, width, ascii, pad, out, outsz);
    /* skip characters from the start until the rest fits after the ellipsis */
    while (*s && total > width - 1) {
        size_t len;
        int cols;
        text_next(s, &len, &cols);
        total -= cols;
        s += len;
    }
    char *rest = xasprintf("%s%s", ascii ? "~" : "\xe2\x80\xa6", s);
    int used = text_fit(rest, width, ascii, pad, out, outsz);
    free(rest);
    return used;
}

void text_age(int64_t seconds, char *out, size_t outsz)
{
    if (seconds < 0)
        snprintf(out, outsz, "-");
    else if (seconds < 60)
        snprintf(out, outsz, "%" PRId64 "s", seconds);
    else if (seconds < 3600)
        snprintf(out, outsz, "%" PRId64 "m", seconds / 60);
    else if (seconds < 86400)
        snprintf(out, outsz, "%" PRId64 "h", seconds / 3600);
    else
        snprintf(out, outsz, "%" PRId64 "d", seconds / 86400);
}
