#include <criterion/criterion.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

Test(util, strbuf_grows)
{
    strbuf sb = {0};
    for (int i = 0; i < 1000; i++)
        strbuf_printf(&sb, "%d,", i);
    cr_assert_eq(sb.len, 3890);
    cr_assert(str_starts_with(sb.data, "0,1,2,"));
    char *s = strbuf_take(&sb);
    cr_assert_null(sb.data);
    free(s);
}

/* Strings that are kept (10,000 image keys, write targets) cost what they hold, not the 64 to
 * 256 bytes a buffer grown by doubling would leave them (glibc's malloc_usable_size: the
 * chunk's room, at most 24 bytes over the request for small ones). */
Test(util, kept_strings_are_sized_to_fit)
{
    char *key = xasprintf("%s\x1f%s", "svc-00001", "app");
    cr_assert_str_eq(key, "svc-00001\x1f"
                          "app");
    cr_expect_leq(malloc_usable_size(key), strlen(key) + 1 + 24, "xasprintf: %zu bytes for %zu",
                  malloc_usable_size(key), strlen(key) + 1);
    strbuf sb = {0};
    for (int i = 0; i < 70; i++)
        strbuf_putc(&sb, 'x'); /* grown to 128 */
    char *s = strbuf_take(&sb);
    cr_expect_eq(strlen(s), 70);
    cr_expect_leq(malloc_usable_size(s), 71 + 24, "strbuf_take: %zu bytes for 71",
                  malloc_usable_size(s));
    free(key);
    free(s);
}

Test(util, trim_and_prefix)
{
    char buf[] = "  \t hello world \n";
    cr_assert_str_eq(str_trim(buf), "hello world");
    tp_err err;
    tp_err_set(&err, "401 for %s", "team/app");
    tp_err_prefix(&err, "registry %s", "ghcr.io");
    cr_assert_str_eq(err.msg, "registry ghcr.io: 401 for team/app");
}

Test(util, err_prefix_truncates_visibly)
{
    tp_err err;
    char longmsg[600];
    memset(longmsg, 'x', sizeof longmsg - 1);
    longmsg[sizeof longmsg - 1] = '\0';
    tp_err_set(&err, "%s", longmsg);
    tp_err_prefix(&err, "app");
    cr_assert(str_starts_with(err.msg, "app: xxx"));
    cr_assert(str_ends_with(err.msg, "..."));
}

Test(util, strvec_copies)
{
    strvec v = {0};
    char word[8] = "alpha";
    strvec_push(&v, word);
    word[0] = 'X';
    for (int i = 0; i < 20; i++)
        strvec_push(&v, "b");
    cr_assert_eq(v.count, 21);
    cr_assert_str_eq(v.items[0], "alpha");
    strvec_free(&v);
    cr_assert_eq(v.count, 0);
}

/* The terminal sanitiser: every control, separator, bidirectional control and bad byte shown
 * escaped, the rest (UTF-8 text included) kept, and the result one line. */
Test(util, printable_escapes_what_a_terminal_would_act_on)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"v1.0.0", "v1.0.0"},
        {"caf\xc3\xa9 \xe2\x86\x92 \xe6\x97\xa5", "caf\xc3\xa9 \xe2\x86\x92 \xe6\x97\xa5"},
        {"\x1b[2J\x1b]0;pwned\x07", "\\x1b[2J\\x1b]0;pwned\\x07"},
        {"a\nb\rc\td", "a\\x0ab\\x0dc\\x09d"},
        {"del\x7f", "del\\x7f"},
        {"csi\xc2\x9b"
         "31m",
         "csi\\xc2\\x9b31m"},
        {"nel\xc2\x85", "nel\\xc2\\x85"},
        {"ls\xe2\x80\xa8ps\xe2\x80\xa9", "ls\\u2028ps\\u2029"},
        {"rlo\xe2\x80\xae"
         "txt\xe2\x81\xa6",
         "rlo\\u202etxt\\u2066"},
        {"bad\xff\xc3", "bad\\xff\\xc3"},
        {"nbsp\xc2\xa0ok", "nbsp\xc2\xa0ok"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *got = str_printable(cases[i].in);
        cr_assert_str_eq(got, cases[i].want, "case %zu", i);
        cr_assert_null(strchr(got, '\n'));
        cr_assert_null(strchr(got, '\x1b'));
        free(got);
    }
}

Test(util, line_problem_names_what_would_break_a_line)
{
    cr_assert_null(str_line_problem("v1.2.3-rc.1+build"));
    cr_assert_null(str_line_problem("caf\xc3\xa9"));
    cr_assert_null(str_line_problem(""));
    cr_assert_str_eq(str_line_problem("v1\nApproved-by: boss"), "a line break");
    cr_assert_str_eq(str_line_problem("v1\r"), "a line break");
    cr_assert_str_eq(str_line_problem("v1\xc2\x85"), "a line break");
    cr_assert_str_eq(str_line_problem("v1\xe2\x80\xa8"), "a line break");
    cr_assert_str_eq(str_line_problem("v1\xe2\x80\xa9"), "a line break");
    cr_assert_str_eq(str_line_problem("v1\x1b[31m"), "a control character");
    cr_assert_str_eq(str_line_problem("v1\t"), "a control character");
    cr_assert_str_eq(str_line_problem("v1\x7f"), "a control character");
    cr_assert_str_eq(str_line_problem("v1\xc2\x9b"), "a control character");
    cr_assert_str_eq(str_line_problem("v1\xe2\x80\xae"), "a bidirectional control");
    cr_assert_str_eq(str_line_problem("v1\xff"), "invalid UTF-8");
}

/* Texts around every size the formatting buffers have (xasprintf's stack copy, a strbuf's room
 * as it doubles): each comes back whole, to the last byte. */
Test(util, formatted_texts_whole_at_every_size)
{
    char text[600];
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = (char)('a' + i % 26);
    for (int n = 0; n < 560; n++) {
        char *s = xasprintf("%.*s", n, text);
        cr_assert_eq(strlen(s), (size_t)n, "xasprintf of %d bytes", n);
        cr_assert(memcmp(s, text, (size_t)n) == 0, "xasprintf of %d bytes", n);
        free(s);
    }
    for (int before = 0; before < 140; before++) {
        for (int n = 0; n < 300; n += 1 + n / 16) {
            strbuf sb = {0};
            strbuf_append(&sb, text, (size_t)before);
            strbuf_printf(&sb, "%.*s|", n, text);
            cr_assert_eq(sb.len, (size_t)(before + n + 1), "%d then %d bytes", before, n);
            cr_assert_eq(strlen(sb.data), sb.len, "%d then %d bytes", before, n);
            cr_assert(memcmp(sb.data + before, text, (size_t)n) == 0 && sb.data[sb.len - 1] == '|',
                      "%d then %d bytes", before, n);
            strbuf_free(&sb);
        }
    }
}
