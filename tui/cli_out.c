/* cli_out: every line a subcommand prints goes through here, so no tag, app name, URL or
 * registry message can put an escape sequence, a newline or a bidirectional override on the
 * operator's terminal or into a log a script collects. */
#include "cli.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdlib.h>

#include "util.h"

void cli_line(FILE *f, const char *fmt, ...)
{
    strbuf sb = {0};
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(&sb, fmt, ap);
    va_end(ap);
    char *clean = str_printable(sb.data ? sb.data : "");
    fputs(clean, f);
    fputc('\n', f);
    free(clean);
    strbuf_free(&sb);
}

/* The character at p (n bytes, 0 when not valid UTF-8: U+FFFD) as \uXXXX. What is escaped
 * this way is in the Basic Multilingual Plane (utf8_printable_length refuses nothing above it). */
static void escape_char(strbuf *sb, const unsigned char *p, size_t n)
{
    unsigned cp = *p;
    if (n > 1) {
        cp = p[0] & (0xFFu >> (n + 1));
        for (size_t i = 1; i < n; i++)
            cp = (cp << 6) | (p[i] & 0x3F);
    } else if (n == 0) {
        cp = 0xFFFD;
    }
    strbuf_printf(sb, "\\u%04x", cp);
}

void cli_json_string(strbuf *sb, const char *s)
{
    if (!s) {
        strbuf_puts(sb, "null");
        return;
    }
    strbuf_putc(sb, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t run = 0; /* printable ASCII but the two JSON escapes, a run at a time */
        while (p[run] >= 0x20 && p[run] < 0x7F && p[run] != '"' && p[run] != '\\')
            run++;
        if (run) {
            strbuf_append(sb, (const char *)p, run);
            p += run;
            continue;
        }
        const char *esc = NULL;
        switch (*p) {
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        }
        if (esc) {
            strbuf_puts(sb, esc);
            p++;
            continue;
        }
        size_t n = utf8_sequence_length(p);
        if (n == 0) { /* str_utf8_sanitize's U+FFFD, which a terminal shows */
            strbuf_puts(sb, "\xEF\xBF\xBD");
            p++;
            continue;
        }
        if (utf8_printable_length(p)) {
            strbuf_append(sb, (const char *)p, n);
            p += n;
            continue;
        }
        escape_char(sb, p, n); /* a control, DEL, a separator or a bidirectional control */
        p += n;
    }
    strbuf_putc(sb, '"');
}

/* cJSON escapes C0 controls, quotes and backslashes; DEL, C1 controls, the separators and the
 * bidirectional controls it leaves as they are, valid JSON that a terminal would still act on.
 * They can only stand inside strings (the rest is ASCII), where \uXXXX means the same. */
void cli_print_json(const cJSON *root, bool pretty)
{
    char *text = cli_json_text(root, pretty);
    puts(text);
    free(text);
}

char *cli_json_text(const cJSON *root, bool pretty)
{
    char *text = pretty ? cJSON_Print(root) : cJSON_PrintUnformatted(root);
    strbuf sb = {0};
    for (const unsigned char *p = (const unsigned char *)text; p && *p;) {
        /* printable ASCII and the layout's newlines and tabs, a run at a time */
        size_t run = 0;
        while ((p[run] >= 0x20 && p[run] < 0x7F) || p[run] == '\n' || p[run] == '\t')
            run++;
        if (run) {
            strbuf_append(&sb, (const char *)p, run);
            p += run;
            continue;
        }
        size_t n = utf8_printable_length(p);
        if (n || *p == '\n' || *p == '\t') {
            n = n ? n : 1;
            strbuf_append(&sb, (const char *)p, n);
            p += n;
            continue;
        }
        n = utf8_sequence_length(p); /* C0 cannot occur (cJSON escaped it); DEL is one byte */
        escape_char(&sb, p, n);
        p += n ? n : 1;
    }
    free(text);
    return sb.data ? strbuf_take(&sb) : xstrdup("null");
}
