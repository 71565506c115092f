/* registry/ratelimit: politeness per registry — a token bucket (`limit` requests per second
 * from registries.conf), a cap on requests in flight, a pause after 429, and the backoff to use
 * when the server gives no Retry-After. Pure arithmetic on times the caller passes in. */
#ifndef TP_REGISTRY_RATELIMIT_H
#define TP_REGISTRY_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ratelimit {
    double rate;             /* tokens per second; 0: unlimited */
    double burst;            /* bucket size (tokens) */
    double tokens;           /* tokens now */
    int64_t updated_ms;      /* when tokens was last refilled */
    int max_inflight;        /* concurrency cap */
    int inflight;            /* requests in flight now */
    int64_t paused_until_ms; /* after a 429: nothing starts before this */
} ratelimit;

/* rate 0 means unlimited; burst is max(1, rate) so a slow registry still gets one at a time. */
void ratelimit_init(ratelimit *rl, double rate, int max_inflight, int64_t now_ms);
/* 0 when a request may start now (a token is taken and inflight counted), else how many ms to
 * wait before asking again (at least 1). */
int64_t ratelimit_acquire(ratelimit *rl, int64_t now_ms);
/* A request finished. */
void ratelimit_release(ratelimit *rl);
/* The server said 429: stop starting requests for wait_ms. */
void ratelimit_pause(ratelimit *rl, int64_t now_ms, int64_t wait_ms);

/* Retry-After: delta seconds or an HTTP date. Milliseconds to wait, or -1 when unparsable. */
int64_t ratelimit_parse_retry_after(const char *value, int64_t now_wall_ms);
/* Backoff for attempt n (1, 2, …) without Retry-After: 500 ms doubling, capped at 8 s. */
int64_t ratelimit_backoff_ms(int attempt);
/* Docker Hub "RateLimit-Remaining: 76;w=21600" -> 76; -1 when unparsable. */
long ratelimit_parse_remaining(const char *value);

#endif
