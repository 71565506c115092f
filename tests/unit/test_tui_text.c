/* Fitting text into columns: ellipsis, padding, wide characters, hostile bytes. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "text.h"

static void utf8_locale(void)
{
    if (!setlocale(LC_CTYPE, "C.UTF-8"))
        setlocale(LC_CTYPE, "en_US.UTF-8");
}

TestSuite(text, .init = utf8_locale);

Test(text, short_text_is_copied_and_padded)
{
    char out[64];
    cr_assert_eq(text_fit("v1.0.1", 10, false, false, out, sizeof out), 6);
    cr_assert_str_eq(out, "v1.0.1");
    cr_assert_eq(text_fit("v1.0.1", 10, false, true, out, sizeof out), 10);
    cr_assert_str_eq(out, "v1.0.1    ");
    cr_assert_eq(text_fit("exactly10!", 10, false, false, out, sizeof out), 10);
    cr_assert_str_eq(out, "exactly10!");
}

Test(text, long_text_ends_with_an_ellipsis)
{
    char out[64];
    cr_assert_eq(text_fit("amplication/bookstore-application", 12, false, false, out, sizeof out),
                 12);
    cr_assert_str_eq(out, "amplication\xe2\x80\xa6");
    cr_assert_eq(text_width(out), 12);
    cr_assert_eq(text_fit("amplication/bookstore-application", 12, true, false, out, sizeof out),
                 12);
    cr_assert_str_eq(out, "amplication~");
    cr_assert_eq(text_fit("abc", 1, false, false, out, sizeof out), 1);
    cr_assert_str_eq(out, "\xe2\x80\xa6");
    cr_assert_eq(text_fit("abc", 0, false, true, out, sizeof out), 0);
    cr_assert_str_eq(out, "");
}

Test(text, tail_keeps_the_end)
{
    char out[64];
    cr_assert_eq(text_fit_tail("127.0.0.1:5000/team/catalog", 13, false, false, out, sizeof out),
                 13);
    cr_assert_str_eq(out, "\xe2\x80\xa6team/catalog");
    cr_assert_eq(text_fit_tail("ghcr.io/x", 12, false, true, out, sizeof out), 12);
    cr_assert_str_eq(out, "ghcr.io/x   ");
    text_fit_tail("127.0.0.1:5000/team/catalog", 8, true, false, out, sizeof out);
    cr_assert_str_eq(out, "~catalog");
}

Test(text, wide_characters_count_two_columns)
{
    char out[64];
    cr_assert_eq(text_width("日本"), 4);
    /* 5 columns: "日本" is 4, so "日本語" (6) is cut to "日本…" (5) */
    cr_assert_eq(text_fit("日本語", 5, false, false, out, sizeof out), 5);
    cr_assert_str_eq(out, "日本\xe2\x80\xa6");
    /* a wide character never straddles the cut: 4 columns hold "日" and the ellipsis */
    cr_assert_eq(text_fit("日本語", 4, false, true, out, sizeof out), 4);
    cr_assert_str_eq(out, "日\xe2\x80\xa6 ");
}

Test(text, control_characters_and_bad_bytes_never_reach_the_terminal)
{
    char out[64];
    text_fit("a\x1b[31mb\xff", 20, false, false, out, sizeof out);
    cr_assert_str_eq(out, "a?[31mb?");
    cr_assert_eq(text_width("a\x1b"), 2);
}

Test(text, small_buffers_are_never_overrun)
{
    char out[4];
    text_fit("abcdefgh", 8, false, true, out, sizeof out);
    cr_assert_str_eq(out, "abc");
}

Test(text, ages)
{
    char out[16];
    text_age(-1, out, sizeof out);
    cr_assert_str_eq(out, "-");
    text_age(42, out, sizeof out);
    cr_assert_str_eq(out, "42s");
    text_age(300, out, sizeof out);
    cr_assert_str_eq(out, "5m");
    text_age(3 * 3600 + 5, out, sizeof out);
    cr_assert_str_eq(out, "3h");
    text_age(12 * 86400, out, sizeof out);
    cr_assert_str_eq(out, "12d");
}

/* `run --once --format json` writes its strings itself (cli_json_string); every other report
 * builds a cJSON tree for cli_print_json. The same hostile text must come out byte for byte the
 * same both ways: valid JSON, nothing a terminal acts on. */
Test(text, json_strings_written_directly_match_the_tree)
{
    static const char *const cases[] = {
        "",
        "v1.0.1",
        "quote \" and backslash \\ and slash /",
        "\b\f\n\r\t and \x01\x1b[31m and \x1f",
        "DEL \x7f, C1 \xc2\x85 \xc2\x9b",
        "separators \xe2\x80\xa8 \xe2\x80\xa9",
        "bidi \xe2\x80\xae evil \xe2\x81\xa6 \xd8\x9c \xe2\x80\x8f",
        "bad bytes \xff \xc3 \xe2\x82 \xed\xa0\x80 end",
        "wide \xe4\xb8\xad\xe6\x96\x87, emoji \xf0\x9f\x98\x80, accent caf\xc3\xa9",
        "replacement \xef\xbf\xbd itself",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *clean = str_utf8_sanitize(cases[i]);
        cJSON *item = cJSON_CreateString(clean);
        char *want = cli_json_text(item, false);
        strbuf got = {0};
        cli_json_string(&got, cases[i]);
        cr_assert_str_eq(got.data, want, "case %zu", i);
        strbuf_free(&got);
        free(want);
        cJSON_Delete(item);
        free(clean);
    }
    strbuf got = {0};
    cli_json_string(&got, NULL);
    cr_assert_str_eq(got.data, "null");
    strbuf_free(&got);
}
