/* fuzz: what every libFuzzer target under tests/fuzz/ shares. A target is one file,
 * fuzz_<name>.c, defining LLVMFuzzerTestOneInput; it links the engine built with
 * -fsanitize=fuzzer-no-link,address,undefined (see the Makefile's `fuzz` target). Crashes, leaks
 * and undefined behaviour are the sanitizers' to report; a broken property is reported here, by
 * fuzz_require, which aborts so that libFuzzer keeps the input. */
#ifndef TP_FUZZ_H
#define TP_FUZZ_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of the input (the caller frees). Bytes after an embedded NUL are there
 * but a C string reader stops at it. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* An exact-size heap copy without a terminator, so that AddressSanitizer reports the first byte
 * a length-bounded parser reads past its input. */
static inline char *fuzz_exact(const uint8_t *data, size_t size)
{
    char *s = malloc(size ? size : 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    return s;
}

/* Split the input at the first `sep`: *head gets the part before (a new C string), *tail and
 * *tail_len the rest (pointing into data; tail_len 0 when there is no separator). */
static inline char *fuzz_split(const uint8_t *data, size_t size, char sep, const uint8_t **tail,
                               size_t *tail_len)
{
    const uint8_t *at = size ? memchr(data, sep, size) : NULL;
    size_t head_len = at ? (size_t)(at - data) : size;
    *tail = at ? at + 1 : data + size;
    *tail_len = at ? size - head_len - 1 : 0;
    return fuzz_cstr(data, head_len);
}

/* A property of the code under test: when it does not hold, say which and abort. */
__attribute__((format(printf, 2, 3))) static inline void fuzz_require(bool holds, const char *fmt,
                                                                      ...)
{
    if (holds)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz property failed: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

#endif
