/* timefmt: RFC 3339 read and written with plain integer arithmetic — no timegm (whose time_t
 * and struct tm limits differ by platform) and no sscanf (which reads until it finds a NUL). */
#include "timefmt.h"

#include <stdbool.h>
#include <stdio.h>

#define NS_PER_SEC  1000000000
#define SEC_PER_DAY 86400
/* The offset that brings any instant RFC 3339 can write back inside years 0000-9999. */
#define MAX_OFFSET_SEC (23 * 3600 + 59 * 60)

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* A cursor over the len bytes being parsed: every read checks the end first. */
typedef struct cursor {
    const char *s;
    size_t len, pos;
} cursor;

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Exactly n decimal digits. */
static bool take_number(cursor *c, int n, int *out)
{
    if (c->len - c->pos < (size_t)n)
        return false;
    int v = 0;
    for (int i = 0; i < n; i++) {
        char ch = c->s[c->pos + (size_t)i];
        if (!is_digit(ch))
            return false;
        v = v * 10 + (ch - '0');
    }
    c->pos += (size_t)n;
    *out = v;
    return true;
}

/* One byte among `choices` (a short list of non-NUL characters); returns it, or 0. */
static char take_one_of(cursor *c, const char *choices)
{
    if (c->pos >= c->len)
        return 0;
    for (const char *p = choices; *p; p++)
        if (c->s[c->pos] == *p) {
            c->pos++;
            return *p;
        }
    return 0;
}

int timefmt_parse(const char *s, size_t len, tp_time *out)
{
    cursor c = {s, len, 0};
    int year, month, day, hour, minute, second;
    if (!take_number(&c, 4, &year) || !take_one_of(&c, "-") || !take_number(&c, 2, &month) ||
        !take_one_of(&c, "-") || !take_number(&c, 2, &day) || !take_one_of(&c, "Tt ") ||
        !take_number(&c, 2, &hour) || !take_one_of(&c, ":") || !take_number(&c, 2, &minute) ||
        !take_one_of(&c, ":") || !take_number(&c, 2, &second))
        return -1;
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 ||
        minute > 59 || second > 60)
        return -1;
    int32_t nsec = 0;
    if (take_one_of(&c, ".")) {
        size_t first = c.pos;
        int32_t scale = NS_PER_SEC;
        for (; c.pos < c.len && is_digit(c.s[c.pos]); c.pos++) {
            if (scale > 1) { /* like Go: digits past nanoseconds are read and dropped */
                scale /= 10;
                nsec += (int32_t)(c.s[c.pos] - '0') * scale;
            }
        }
        if (c.pos == first)
            return -1;
    }
    int offset_sec = 0;
    char sign = take_one_of(&c, "Zz+-");
    if (sign == '+' || sign == '-') {
        int oh, om;
        if (!take_number(&c, 2, &oh) || !take_one_of(&c, ":") || !take_number(&c, 2, &om) ||
            oh > 23 || om > 59)
            return -1;
        offset_sec = (sign == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    } else if (!sign) {
        return -1;
    }
    if (c.pos != c.len)
        return -1;
    if (second == 60) { /* a leap second: the last instant of its minute (see the header) */
        second = 59;
        nsec = NS_PER_SEC - 1;
    }
    out->sec = days_from_civil(year, month, day) * SEC_PER_DAY + hour * 3600 + minute * 60 +
               second - offset_sec;
    out->nsec = nsec;
    return 0;
}

int timefmt_compare(tp_time a, tp_time b)
{
    if (a.sec != b.sec)
        return a.sec < b.sec ? -1 : 1;
    return (a.nsec > b.nsec) - (a.nsec < b.nsec);
}

/* nsec into 0..999,999,999, carrying into sec, for values that did not come from the parser. */
static tp_time normalise(tp_time t)
{
    int32_t carry = t.nsec / NS_PER_SEC;
    t.nsec %= NS_PER_SEC;
    if (t.nsec < 0) {
        t.nsec += NS_PER_SEC;
        carry--;
    }
    if (carry < 0 ? t.sec >= INT64_MIN - carry : t.sec <= INT64_MAX - carry)
        t.sec += carry;
    return t;
}

void timefmt_to_civil(tp_time t, tp_civil *out)
{
    t = normalise(t);
    int64_t days = t.sec / SEC_PER_DAY, rem = t.sec % SEC_PER_DAY;
    if (rem < 0) {
        rem += SEC_PER_DAY;
        days--;
    }
    civil_from_days(days, &out->year, &out->month, &out->day);
    out->hour = (int)(rem / 3600);
    out->minute = (int)(rem / 60 % 60);
    out->second = (int)(rem % 60);
    out->nsec = t.nsec;
}

void timefmt_format(tp_time t, char *buf)
{
    static const int64_t first_sec = -62167219200; /* 0000-01-01T00:00:00Z */
    static const int64_t last_sec = 253402300799;  /* 9999-12-31T23:59:59Z */
    t = normalise(t);
    int offset = 0;
    if (t.sec < first_sec)
        offset = MAX_OFFSET_SEC;
    else if (t.sec > last_sec)
        offset = -MAX_OFFSET_SEC;
    /* a value no parse made may be too far out for any offset: its year is written anyway */
    if ((offset > 0 && t.sec <= INT64_MAX - offset) || (offset < 0 && t.sec >= INT64_MIN - offset))
        t.sec += offset;
    else
        offset = 0;
    tp_civil c;
    timefmt_to_civil(t, &c);
    char frac[11] = "";
    if (c.nsec) {
        snprintf(frac, sizeof frac, ".%09d", (int)c.nsec);
        size_t n = 10;
        while (frac[n - 1] == '0')
            frac[--n] = '\0';
    }
    char zone[7] = "Z";
    if (offset)
        snprintf(zone, sizeof zone, "%c23:59", offset > 0 ? '+' : '-');
    snprintf(buf, TIMEFMT_MAX, "%04lld-%02d-%02dT%02d:%02d:%02d%s%s", (long long)c.year, c.month,
             c.day, c.hour, c.minute, c.second, frac, zone);
}

tp_time timefmt_from_ns(int64_t ns)
{
    tp_time t = {ns / NS_PER_SEC, (int32_t)(ns % NS_PER_SEC)};
    return normalise(t);
}
