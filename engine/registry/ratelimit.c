/* registry/ratelimit: token bucket, concurrency cap and 429 pauses per registry. */
#include "registry/ratelimit.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void ratelimit_init(ratelimit *rl, double rate, int max_inflight, int64_t now_ms)
{
    memset(rl, 0, sizeof *rl);
    rl->rate = rate > 0 ? rate : 0;
    rl->burst = rate >= 1 ? rate : 1;
    rl->tokens = rl->burst;
    rl->updated_ms = now_ms;
    rl->max_inflight = max_inflight > 0 ? max_inflight : 1;
}

static void refill(ratelimit *rl, int64_t now_ms)
{
    if (now_ms <= rl->updated_ms)
        return;
    rl->tokens += rl->rate * (double)(now_ms - rl->updated_ms) / 1000.0;
    if (rl->tokens > rl->burst)
        rl->tokens = rl->burst;
    rl->updated_ms = now_ms;
}

int64_t ratelimit_acquire(ratelimit *rl, int64_t now_ms)
{
    if (now_ms < rl->paused_until_ms)
        return rl->paused_until_ms - now_ms;
    if (rl->inflight >= rl->max_inflight)
        return 1000; /* a completion will ask again sooner */
    if (rl->rate > 0) {
        refill(rl, now_ms);
        if (rl->tokens < 1.0) {
            int64_t wait = (int64_t)((1.0 - rl->tokens) * 1000.0 / rl->rate) + 1;
            return wait > 0 ? wait : 1;
        }
        rl->tokens -= 1.0;
    }
    rl->inflight++;
    return 0;
}

void ratelimit_release(ratelimit *rl)
{
    if (rl->inflight > 0)
        rl->inflight--;
}

void ratelimit_pause(ratelimit *rl, int64_t now_ms, int64_t wait_ms)
{
    if (now_ms + wait_ms > rl->paused_until_ms)
        rl->paused_until_ms = now_ms + wait_ms;
}

int64_t ratelimit_parse_retry_after(const char *value, int64_t now_wall_ms)
{
    if (!value)
        return -1;
    while (isspace((unsigned char)*value))
        value++;
    if (isdigit((unsigned char)*value)) {
        char *end;
        long secs = strtol(value, &end, 10);
        while (isspace((unsigned char)*end))
            end++;
        if (*end || secs < 0 || secs > 86400 * 7)
            return -1;
        return (int64_t)secs * 1000;
    }
    struct tm tm = {0};
    const char *end = strptime(value, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end)
        return -1;
    int64_t at_ms = (int64_t)timegm(&tm) * 1000;
    return at_ms > now_wall_ms ? at_ms - now_wall_ms : 0;
}

int64_t ratelimit_backoff_ms(int attempt)
{
    if (attempt < 1)
        attempt = 1;
    int64_t ms = 500;
    for (int i = 1; i < attempt && ms < 8000; i++)
        ms *= 2;
    return ms > 8000 ? 8000 : ms;
}

long ratelimit_parse_remaining(const char *value)
{
    if (!value)
        return -1;
    while (isspace((unsigned char)*value))
        value++;
    if (!isdigit((unsigned char)*value))
        return -1;
    char *end;
    long v = strtol(value, &end, 10);
    return v < 0 ? -1 : v;
}
