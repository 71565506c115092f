/* RFC 3339 times (engine/timefmt): the parser never reads past its input, and what it reads the
 * formatter writes back as text that parses to the same instant and formats to the same text.
 * The first 12 bytes are also taken as a raw tp_time, which the formatter must write into its
 * buffer whatever the value. */
#include "fuzz.h"
#include "timefmt.h"

/* Instants RFC 3339 can write: 0000-01-01T00:00:00+23:59 to 9999-12-31T23:59:59.999999999-23:59 */
#define FIRST_SEC (-62167219200LL - 86340)
#define LAST_SEC  (253402300799LL + 86340)

static void round_trip(tp_time t, const char *what)
{
    char once[TIMEFMT_MAX], twice[TIMEFMT_MAX];
    timefmt_format(t, once);
    tp_time back;
    fuzz_require(timefmt_parse(once, strlen(once), &back) == 0,
                 "%s: %lld.%09d formats as '%s', which does not parse", what, (long long)t.sec,
                 (int)t.nsec, once);
    fuzz_require(timefmt_compare(t, back) == 0, "%s: '%s' parses as %lld.%09d, not %lld.%09d", what,
                 once, (long long)back.sec, (int)back.nsec, (long long)t.sec, (int)t.nsec);
    timefmt_format(back, twice);
    fuzz_require(strcmp(once, twice) == 0, "%s: '%s' formats again as '%s'", what, once, twice);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_exact(data, size);
    tp_time t;
    if (timefmt_parse(text, size, &t) == 0) {
        fuzz_require(t.nsec >= 0 && t.nsec < 1000000000, "nsec %d out of range", (int)t.nsec);
        fuzz_require(t.sec >= FIRST_SEC && t.sec <= LAST_SEC, "sec %lld outside RFC 3339",
                     (long long)t.sec);
        round_trip(t, "parsed");
    }
    free(text);

    if (size >= 12) {
        tp_time raw;
        memcpy(&raw.sec, data, 8);
        memcpy(&raw.nsec, data + 8, 4);
        char buf[TIMEFMT_MAX];
        timefmt_format(raw, buf); /* any value: no overflow, no overrun */
        fuzz_require(strlen(buf) < TIMEFMT_MAX, "formatted past its buffer");
        if (raw.sec >= FIRST_SEC && raw.sec <= LAST_SEC && raw.nsec >= 0 && raw.nsec < 1000000000)
            round_trip(raw, "raw");
    }
    return 0;
}
