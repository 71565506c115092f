/* timefmt: RFC 3339 over its whole range (years 0000-9999, any offset), strict validation, never
 * a byte read past the input, and a formatter whose text parses back to the same instant. */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "timefmt.h"

/* Parse from a heap copy of exactly strlen(text) bytes, without a NUL: AddressSanitizer stops
 * the test at the first byte read past the input. */
static int parse_exact(const char *text, tp_time *out)
{
    size_t len = strlen(text);
    char *copy = malloc(len ? len : 1);
    memcpy(copy, text, len);
    int rc = timefmt_parse(copy, len, out);
    free(copy);
    return rc;
}

typedef struct parse_case {
    const char *text;
    bool ok;
    int64_t sec;
    int32_t nsec;
} parse_case;

Test(timefmt, parse_table)
{
    static const parse_case cases[] = {
        {"1970-01-01T00:00:00Z", true, 0, 0},
        {"2024-05-01T10:00:00Z", true, 1714557600, 0},
        {"2024-05-01t10:00:00z", true, 1714557600, 0},
        {"2024-05-01 10:00:00Z", true, 1714557600, 0}, /* RFC 3339 §5.6 allows the space */
        {"2024-05-01T12:00:00+02:00", true, 1714557600, 0},
        {"2024-05-01T05:30:00-04:30", true, 1714557600, 0},
        {"2024-05-01T10:00:00-00:00", true, 1714557600, 0},
        {"1969-12-31T23:59:59Z", true, -1, 0},
        /* the whole range: year 0000 (a leap year), Go's zero time, the last second */
        {"0000-01-01T00:00:00Z", true, -62167219200, 0},
        {"0000-02-29T00:00:00Z", true, -62167219200 + 59 * 86400, 0},
        {"0001-01-01T00:00:00Z", true, -62135596800, 0},
        {"9999-12-31T23:59:59Z", true, 253402300799, 0},
        {"9999-12-31T23:59:59.999999999Z", true, 253402300799, 999999999},
        /* offsets up to ±23:59, also where they cross the ends of the range */
        {"0001-01-01T00:00:00+23:59", true, -62135596800 - 86340, 0},
        {"0000-01-01T00:00:00+23:59", true, -62167219200 - 86340, 0},
        {"9999-12-31T23:59:59-23:59", true, 253402300799 + 86340, 0},
        {"2024-05-01T10:00:00+24:00", false, 0, 0},
        {"2024-05-01T10:00:00+23:60", false, 0, 0},
        /* leap years: by 4, not by 100, by 400 */
        {"2024-02-29T12:00:00Z", true, 1709208000, 0},
        {"2000-02-29T00:00:00Z", true, 951782400, 0},
        {"2023-02-29T00:00:00Z", false, 0, 0},
        {"1900-02-29T00:00:00Z", false, 0, 0},
        {"1900-02-28T00:00:00Z", true, -2203977600, 0},
        {"2024-02-30T00:00:00Z", false, 0, 0},
        {"2024-02-31T00:00:00Z", false, 0, 0},
        {"2024-04-31T00:00:00Z", false, 0, 0},
        {"2024-12-32T00:00:00Z", false, 0, 0},
        {"2024-13-01T00:00:00Z", false, 0, 0},
        {"2024-00-01T00:00:00Z", false, 0, 0},
        {"2024-01-00T00:00:00Z", false, 0, 0},
        /* clock fields */
        {"2024-05-01T23:59:59Z", true, 1714607999, 0},
        {"2024-05-01T24:00:00Z", false, 0, 0},
        {"2024-05-01T10:60:00Z", false, 0, 0},
        {"2024-05-01T10:00:61Z", false, 0, 0},
        /* a leap second reads as the last nanosecond of its minute */
        {"2016-12-31T23:59:60Z", true, 1483228799, 999999999},
        {"2016-12-31T23:59:60.5Z", true, 1483228799, 999999999},
        {"9999-12-31T23:59:60Z", true, 253402300799, 999999999},
        /* fractions: any length, truncated to nanoseconds */
        {"2024-03-01T10:00:00.5Z", true, 1709287200, 500000000},
        {"2024-03-01T12:00:00.5+02:00", true, 1709287200, 500000000},
        {"2024-03-01T10:00:00.123456789Z", true, 1709287200, 123456789},
        {"2024-03-01T10:00:00.12345678912345678901Z", true, 1709287200, 123456789},
        {"2024-03-01T10:00:00.99999999999999999999Z", true, 1709287200, 999999999},
        {"2024-03-01T10:00:00.000000000000000000001Z", true, 1709287200, 0},
        {"2024-05-01T10:00:00.Z", false, 0, 0},
        {"2024-05-01T10:00:00,5Z", false, 0, 0},
        /* shapes */
        {"+1:2", false, 0, 0},
        {"2024-05-01T10:00:00+1:2", false, 0, 0},
        {"2024-05-01T10:00:00+01:2", false, 0, 0},
        {"2024-05-01T10:00:00+01", false, 0, 0},
        {"2024-05-01T10:00:00+0100", false, 0, 0},
        {"2024-05-01T10:00:00+", false, 0, 0},
        {"2024-05-01T10:00:00", false, 0, 0},
        {"2024-05-01T10:00", false, 0, 0},
        {"2024-05-01", false, 0, 0},
        {"2024-05-01T10:00:00Zjunk", false, 0, 0},
        {"2024-05-01T10:00:00Z ", false, 0, 0},
        {" 2024-05-01T10:00:00Z", false, 0, 0},
        {"2024-05-01_10:00:00Z", false, 0, 0},
        {"2024-5-01T10:00:00Z", false, 0, 0},
        {"02024-05-01T10:00:00Z", false, 0, 0},
        {"-001-05-01T10:00:00Z", false, 0, 0},
        {"2024-05-01T1:00:00Z", false, 0, 0},
        {"", false, 0, 0},
        {"2", false, 0, 0},
        {"yesterday", false, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tp_time t = {42, 42};
        int rc = parse_exact(cases[i].text, &t);
        cr_expect_eq(rc, cases[i].ok ? 0 : -1, "parse('%s') = %d", cases[i].text, rc);
        if (cases[i].ok && rc == 0) {
            cr_expect_eq(t.sec, cases[i].sec, "%s: sec %lld", cases[i].text, (long long)t.sec);
            cr_expect_eq(t.nsec, cases[i].nsec, "%s: nsec %d", cases[i].text, (int)t.nsec);
        }
        if (rc < 0)
            cr_expect(t.sec == 42 && t.nsec == 42, "%s: refused but *out written", cases[i].text);
    }
}

Test(timefmt, parse_reads_only_len_bytes)
{
    static const char text[] = "2024-05-01T10:00:00Zjunk";
    tp_time t;
    cr_expect_eq(timefmt_parse(text, 20, &t), 0);
    cr_expect_eq(t.sec, 1714557600);
    cr_expect_eq(timefmt_parse(text, 19, &t), -1); /* the Z cut off */
    cr_expect_eq(timefmt_parse("2024-05-01T10:00:00Z\0", 21, &t), -1);
}

typedef struct format_case {
    tp_time t;
    const char *text;
} format_case;

Test(timefmt, format_table)
{
    static const format_case cases[] = {
        {{0, 0}, "1970-01-01T00:00:00Z"},
        {{1714557600, 0}, "2024-05-01T10:00:00Z"},
        {{1714557600, 500000000}, "2024-05-01T10:00:00.5Z"},
        {{1714557600, 999999999}, "2024-05-01T10:00:00.999999999Z"},
        {{1714557600, 120}, "2024-05-01T10:00:00.00000012Z"},
        {{-1, 0}, "1969-12-31T23:59:59Z"},
        {{-1, 999999999}, "1969-12-31T23:59:59.999999999Z"},
        {{951782400, 0}, "2000-02-29T00:00:00Z"},
        {{-62167219200, 0}, "0000-01-01T00:00:00Z"},
        {{-62135596800, 0}, "0001-01-01T00:00:00Z"},
        {{253402300799, 999999999}, "9999-12-31T23:59:59.999999999Z"},
        /* outside UTC years 0000-9999: written with the offset that brings them inside */
        {{-62167219200 - 1, 0}, "0000-01-01T23:58:59+23:59"},
        {{-62167219200 - 86340, 0}, "0000-01-01T00:00:00+23:59"},
        {{253402300799 + 1, 0}, "9999-12-31T00:01:00-23:59"},
        {{253402300799 + 86340, 999999999}, "9999-12-31T23:59:59.999999999-23:59"},
        /* not from a parse: nanoseconds carried, far years written as they are */
        {{0, 1500000000}, "1970-01-01T00:00:01.5Z"},
        {{0, -1}, "1969-12-31T23:59:59.999999999Z"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[TIMEFMT_MAX];
        timefmt_format(cases[i].t, buf);
        cr_expect_str_eq(buf, cases[i].text, "%lld.%d", (long long)cases[i].t.sec,
                         (int)cases[i].t.nsec);
    }
    char buf[TIMEFMT_MAX];
    timefmt_format((tp_time){INT64_MAX, 999999999}, buf); /* no overflow, no overrun */
    timefmt_format((tp_time){INT64_MIN, -999999999}, buf);
    cr_expect_lt(strlen(buf), TIMEFMT_MAX);
}

/* What the parser reads, the formatter writes back as text that parses to the same instant and
 * formats to the same text. */
Test(timefmt, round_trip)
{
    static const char *const texts[] = {
        "0000-01-01T00:00:00+23:59",      "0000-01-01T00:00:00Z",
        "0000-12-31T23:59:59-23:59",      "0001-01-01T00:00:00Z",
        "1969-12-31T23:59:59.000000001Z", "2016-12-31T23:59:60Z",
        "2024-02-29T12:00:00.5+02:00",    "9999-12-31T23:59:60.9-23:59",
        "9999-12-31T23:59:59Z",           "9999-12-31T00:00:00-00:01",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        tp_time a, b;
        cr_assert_eq(parse_exact(texts[i], &a), 0, "%s", texts[i]);
        char once[TIMEFMT_MAX], twice[TIMEFMT_MAX];
        timefmt_format(a, once);
        cr_assert_eq(parse_exact(once, &b), 0, "%s -> %s does not parse", texts[i], once);
        cr_expect_eq(timefmt_compare(a, b), 0, "%s -> %s is another instant", texts[i], once);
        timefmt_format(b, twice);
        cr_expect_str_eq(once, twice, "%s", texts[i]);
    }
}

Test(timefmt, compare_orders_year_one_first)
{
    tp_time zero, epoch, later, later_ns;
    cr_assert_eq(parse_exact("0001-01-01T00:00:00Z", &zero), 0);
    cr_assert_eq(parse_exact("1970-01-01T00:00:00Z", &epoch), 0);
    cr_assert_eq(parse_exact("2024-05-01T10:00:00Z", &later), 0);
    cr_assert_eq(parse_exact("2024-05-01T12:00:00.000000001+02:00", &later_ns), 0);
    cr_expect_lt(timefmt_compare(zero, epoch), 0);
    cr_expect_gt(timefmt_compare(later, zero), 0);
    cr_expect_eq(timefmt_compare(later, later), 0);
    cr_expect_lt(timefmt_compare(later, later_ns), 0); /* same second, a nanosecond apart */
    cr_expect_gt(timefmt_compare(later_ns, later), 0);
}

Test(timefmt, civil_and_nanoseconds)
{
    tp_civil c;
    timefmt_to_civil((tp_time){-62135596800 + 86400 + 3723, 7}, &c);
    cr_expect(c.year == 1 && c.month == 1 && c.day == 2, "%lld-%d-%d", (long long)c.year, c.month,
              c.day);
    cr_expect(c.hour == 1 && c.minute == 2 && c.second == 3 && c.nsec == 7);
    tp_time t = timefmt_from_ns(-1);
    cr_expect(t.sec == -1 && t.nsec == 999999999, "%lld.%d", (long long)t.sec, (int)t.nsec);
    t = timefmt_from_ns(INT64_MAX);
    cr_expect(t.sec == 9223372036 && t.nsec == 854775807);
}
