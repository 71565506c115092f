/* timefmt: RFC 3339 date-times — the one parser and formatter for every `created` tagpilot reads
 * (image config blobs, tags files, the metadata cache). Covers every instant RFC 3339 can write,
 * years 0000 to 9999 with any offset, so images built without a date (`0001-01-01T00:00:00Z`, as
 * Go's zero time is written) still sort, as the oldest. No dependencies beyond libc. */
#ifndef TP_TIMEFMT_H
#define TP_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* An instant. Proleptic Gregorian calendar, no leap seconds (POSIX time). */
typedef struct tp_time {
    int64_t sec;  /* seconds since 1970-01-01T00:00:00Z; negative before */
    int32_t nsec; /* 0 to 999,999,999 */
} tp_time;

/* Longest text timefmt_format writes, with its NUL: "9999-12-31T23:59:59.999999999+23:59". */
#define TIMEFMT_MAX 36

/* Parse exactly len bytes of s (no NUL needed; nothing past s + len is read) as an RFC 3339
 * date-time: YYYY-MM-DD, a separator `T`, `t` or space (RFC 3339 §5.6 allows the space; some
 * tools write it), hh:mm:ss, an optional fraction of one or more digits (any length, truncated to
 * nanoseconds), and `Z`, `z` or ±hh:mm. Strict: the month's real length (Feb 29 only in leap
 * years), hours 00-23, minutes 00-59, seconds 00-60, offsets up to ±23:59. A leap second (:60)
 * reads as the last nanosecond of its minute (hh:mm:59.999999999): POSIX time has no leap
 * seconds, and this keeps both the order and the minute. Returns 0, or -1 with *out untouched. */
int timefmt_parse(const char *s, size_t len, tp_time *out);

/* <0, 0, >0 as a is before, the same instant as, or after b. */
int timefmt_compare(tp_time a, tp_time b);

/* RFC 3339 text of t into buf (at least TIMEFMT_MAX bytes): UTC with `Z`, the fraction only when
 * there is one and without trailing zeros ("2024-05-01T10:00:00.5Z"). An instant timefmt_parse
 * read from an offset that puts it outside UTC years 0000-9999 (0000-01-01T00:00:00+01:00) is
 * written with the offset +23:59 or -23:59 that brings it inside, so what timefmt_parse reads,
 * timefmt_format writes back and timefmt_parse reads again as the same instant. */
void timefmt_format(tp_time t, char *buf);

/* An instant's UTC calendar fields, for displays ("2024-05-01 10:00"). */
typedef struct tp_civil {
    int64_t year; /* may be -1 or 10000 for the instants timefmt_format writes with an offset */
    int month, day, hour, minute, second;
    int32_t nsec;
} tp_civil;

void timefmt_to_civil(tp_time t, tp_civil *out);

/* From nanoseconds since the epoch (the metadata cache's old format). */
tp_time timefmt_from_ns(int64_t ns);

#endif
