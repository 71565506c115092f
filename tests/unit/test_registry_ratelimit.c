#include <criterion/criterion.h>

#include "registry/ratelimit.h"

Test(registry_ratelimit, bucket_allows_burst_then_rate)
{
    ratelimit rl;
    ratelimit_init(&rl, 10, 100, 0); /* 10 requests/s, burst 10 */
    for (int i = 0; i < 10; i++)
        cr_assert_eq(ratelimit_acquire(&rl, 0), 0, "request %d of the burst", i);
    /* empty: the next token comes after 100 ms */
    int64_t wait = ratelimit_acquire(&rl, 0);
    cr_assert(wait >= 100 && wait <= 101, "wait %lld", (long long)wait);
    cr_assert_gt(ratelimit_acquire(&rl, 50), 0);
    cr_assert_eq(ratelimit_acquire(&rl, 100), 0);
    /* a long pause refills only up to the burst */
    int granted = 0;
    for (int i = 0; i < 30; i++)
        granted += ratelimit_acquire(&rl, 100000) == 0;
    cr_assert_eq(granted, 10);
}

Test(registry_ratelimit, slow_rate_has_burst_of_one)
{
    ratelimit rl;
    ratelimit_init(&rl, 0.5, 100, 1000); /* one every 2 s */
    cr_assert_eq(ratelimit_acquire(&rl, 1000), 0);
    int64_t wait = ratelimit_acquire(&rl, 1000);
    cr_assert(wait >= 2000 && wait <= 2001, "wait %lld", (long long)wait);
    cr_assert_eq(ratelimit_acquire(&rl, 3000), 0);
}

Test(registry_ratelimit, unlimited_rate_still_caps_inflight)
{
    ratelimit rl;
    ratelimit_init(&rl, 0, 3, 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(ratelimit_acquire(&rl, 0), 0);
    cr_assert_gt(ratelimit_acquire(&rl, 0), 0);
    ratelimit_release(&rl);
    cr_assert_eq(ratelimit_acquire(&rl, 0), 0);
    cr_assert_eq(rl.inflight, 3);
}

Test(registry_ratelimit, pause_after_429)
{
    ratelimit rl;
    ratelimit_init(&rl, 0, 10, 0);
    ratelimit_pause(&rl, 1000, 5000);
    cr_assert_eq(ratelimit_acquire(&rl, 2000), 4000);
    /* a shorter pause does not cut a longer one */
    ratelimit_pause(&rl, 2000, 100);
    cr_assert_eq(ratelimit_acquire(&rl, 5999), 1);
    cr_assert_eq(ratelimit_acquire(&rl, 6000), 0);
}

struct retry_case {
    const char *value;
    int64_t ms;
};

Test(registry_ratelimit, retry_after)
{
    /* now = Wed, 21 Oct 2015 07:28:00 GMT */
    const int64_t now = 1445412480000LL;
    static const struct retry_case cases[] = {
        {"1", 1000},
        {" 120 ", 120000},
        {"0", 0},
        {"Wed, 21 Oct 2015 07:28:30 GMT", 30000},
        {"Wed, 21 Oct 2015 07:27:00 GMT", 0}, /* in the past: now */
        {"soon", -1},
        {"-5", -1},
        {"12abc", -1},
        {"", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_eq(ratelimit_parse_retry_after(cases[i].value, now), cases[i].ms,
                     "Retry-After '%s'", cases[i].value);
    cr_assert_eq(ratelimit_parse_retry_after(NULL, now), -1);
}

Test(registry_ratelimit, backoff_doubles_and_caps)
{
    static const int64_t want[] = {500, 500, 1000, 2000, 4000, 8000, 8000};
    for (int attempt = 0; attempt < 7; attempt++)
        cr_assert_eq(ratelimit_backoff_ms(attempt), want[attempt], "attempt %d", attempt);
}

Test(registry_ratelimit, docker_hub_remaining)
{
    cr_assert_eq(ratelimit_parse_remaining("76;w=21600"), 76);
    cr_assert_eq(ratelimit_parse_remaining(" 0"), 0);
    cr_assert_eq(ratelimit_parse_remaining("none"), -1);
    cr_assert_eq(ratelimit_parse_remaining(NULL), -1);
}
