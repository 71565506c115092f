/* util: allocation wrappers that fail loudly, small string helpers and the error record every
 * fallible function fills. No module state. */
#ifndef TP_UTIL_H
#define TP_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* Error record: a fallible function returns 0 or a negative value and, when given a non-NULL
 * tp_err, leaves a message a person can act on (naming the object and the cause). */
typedef struct tp_err {
    char msg[512];
} tp_err;

/* Format into err->msg; err may be NULL. Always returns -1 so callers can `return tp_err_set(...)`.
 */
int tp_err_set(tp_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prepend "prefix: " to an existing message (e.g. the app or image it concerns). */
void tp_err_prefix(tp_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Allocation: abort with a message on out-of-memory; never return NULL. */
void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
/* xstrdup(NULL) returns NULL. */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a freshly allocated string the caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Both non-NULL and equal. */
static inline bool str_eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}
/* Both NULL, or equal. */
static inline bool str_same(const char *a, const char *b)
{
    return a == b || str_eq(a, b);
}
bool str_starts_with(const char *s, const char *prefix);
bool str_ends_with(const char *s, const char *suffix);
/* Trim ASCII white space in place; returns s. */
char *str_trim(char *s);

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when the bytes there are not one. */
size_t utf8_sequence_length(const unsigned char *s);
/* Copy with every invalid UTF-8 byte replaced by U+FFFD, so JSON output stays valid. */
char *str_utf8_sanitize(const char *s);
/* Length of the character at s (1-4) when a terminal shows it as text; 0 when it is a
 * control (C0, DEL, C1), a line or paragraph separator (U+2028/U+2029), a bidirectional
 * control (U+200E/F, U+202A-E, U+2066-9, U+061C), or not valid UTF-8. */
size_t utf8_printable_length(const unsigned char *s);
/* The one sanitiser for text that reaches a terminal or a log line: a copy in which every
 * character utf8_printable_length refuses is written visibly: controls and bad bytes as \xNN
 * (ESC is \x1b, a newline \x0a), separators and bidirectional controls as \uXXXX. The result
 * is one line of valid UTF-8. */
char *str_printable(const char *s);
/* What keeps s from being one line of plain text — "a line break" (\n, \r, U+0085, U+2028,
 * U+2029), "a control character", "a bidirectional control", "invalid UTF-8" — or NULL when
 * nothing does. For values that must not start a new line where they go (commit messages). */
const char *str_line_problem(const char *s);

/* Standard base64 (RFC 4648 with padding) of n bytes; the caller frees. And the reverse: a new
 * buffer with a NUL after its *out_len bytes, or NULL when text holds a character outside the
 * alphabet (decoding stops at the first '='). One codec for the registry's and the cluster's
 * credentials. */
char *base64_encode(const unsigned char *data, size_t n);
unsigned char *base64_decode(const char *text, size_t *out_len);

/* Growable byte string; data is always NUL-terminated once anything was appended. */
typedef struct strbuf {
    char *data;
    size_t len;
    size_t cap;
} strbuf;

void strbuf_append(strbuf *sb, const char *s, size_t n);
void strbuf_puts(strbuf *sb, const char *s);
void strbuf_putc(strbuf *sb, char c);
void strbuf_printf(strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_vprintf(strbuf *sb, const char *fmt, va_list ap);
/* Write all n bytes to fd (EINTR retried). false with errno set (EIO for a write of nothing). */
bool fd_write_all(int fd, const void *p, size_t n);
/* Once sb holds at least `at_least` bytes (0: whatever it holds), write them to fd and empty it:
 * a file written through a small buffer. false with errno set on a failed write. */
bool strbuf_write_out(strbuf *sb, int fd, size_t at_least);
/* Hand the buffer to the caller (never NULL; "" when empty) and reset sb. */
char *strbuf_take(strbuf *sb);
void strbuf_free(strbuf *sb);

/* Read a whole file into out (appended; out->data is never NULL afterwards). Errors say
 * "<name>: <cause>", name being how messages should call the file (NULL: the path). */
int file_read_all(const char *path, const char *name, strbuf *out, tp_err *err);

/* Growable array of owned strings. */
typedef struct strvec {
    char **items;
    size_t count;
    size_t cap;
} strvec;

void strvec_push(strvec *v, const char *s);             /* copies s */
void strvec_push_n(strvec *v, const char *s, size_t n); /* copies s[0..n) (need not end in NUL) */
/* Append s itself, not a copy: the vector owns it from then on (strvec_free frees it), unless
 * its owner says otherwise (a vector of names that live in blocks of their own). */
void strvec_push_ref(strvec *v, char *s);
void strvec_free(strvec *v);

#endif
