/* registry/client: the client handle, registry hosts, and the loop every operation's calls go
 * through: a queue per registry → its token bucket and concurrency cap → call.c (auth, send,
 * retries) → the operation's callback; and the cycle deadline that ends what a registry still
 * owes when it has not answered in time. */
#include "registry/registry.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "registry/internal.h"

int64_t registry_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void registry_sha256(const void *data, size_t len, char out[72])
{
    unsigned char md[32];
    unsigned int md_len = 0;
    EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL);
    memcpy(out, "sha256:", 7);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

/* The test suites shorten the cycle deadline through the environment (docs/testing.md); a
 * value that is not a positive number of milliseconds is ignored. */
static long default_cycle_deadline_ms(void)
{
    const char *env = getenv("TAGPILOT_REGISTRY_DEADLINE_MS");
    char *end;
    long ms = env ? strtol(env, &end, 10) : 0;
    return env && *env && !*end && ms > 0 ? ms : 120000;
}

char *registry_shown(const char *text)
{
    char cut[81];
    snprintf(cut, sizeof cut, "%s", text ? text : "");
    return str_printable(cut);
}

registry_client *registry_client_new(const registry_options *opts, tp_err *err)
{
    registry_client *c = xcalloc(1, sizeof *c);
    if (opts)
        c->opts = *opts;
    registry_options *o = &c->opts;
    if (o->connect_timeout_ms <= 0)
        o->connect_timeout_ms = 10000;
    if (o->total_timeout_ms <= 0)
        o->total_timeout_ms = 30000;
    if (o->low_speed_bytes <= 0)
        o->low_speed_bytes = 1024;
    if (o->low_speed_seconds <= 0)
        o->low_speed_seconds = 10;
    if (o->max_body == 0)
        o->max_body = 8u << 20;
    if (o->max_tags == 0)
        o->max_tags = 100000;
    if (o->max_list_bytes == 0)
        o->max_list_bytes = 32u << 20;
    if (o->cycle_deadline_ms == 0)
        o->cycle_deadline_ms = default_cycle_deadline_ms();
    if (o->max_per_registry <= 0)
        o->max_per_registry = 10;
    if (o->max_retries == 0)
        o->max_retries = 2;
    else if (o->max_retries < 0)
        o->max_retries = 0;
    if (o->max_retry_wait_ms <= 0)
        o->max_retry_wait_ms = 10000;
    c->http = http_driver_new(err);
    if (!c->http) {
        free(c);
        return NULL;
    }
    c->meta = meta_cache_new(o->state_dir);
    c->tokens = auth_cache_new();
    c->cycle = 1;
    c->cycle_started_ms = registry_now_ms();
    ops_init(c);
    meta_ops_init(c);
    return c;
}

void registry_client_free(registry_client *c)
{
    if (!c)
        return;
    http_driver_free(c->http); /* no callbacks: calls in flight are freed here */
    while (c->inflight) {
        reg_call *call = c->inflight;
        c->inflight = call->inext;
        call_free(call);
    }
    ops_free(c);
    meta_ops_free(c);
    call_tokens_free(c);
    while (c->hosts) {
        reg_host *h = c->hosts;
        c->hosts = h->next;
        for (reg_call *q = h->queue; q;) {
            reg_call *next = q->next;
            call_free(q);
            q = next;
        }
        free(h->key);
        free(h->name);
        free(h->label);
        free(h->realm);
        free(h->service);
        free(h->creds_error);
        registry_creds_free(&h->creds);
        free(h);
    }
    meta_cache_free(c->meta);
    auth_cache_free(c->tokens);
    free(c);
}

reg_host *registry_host_for(registry_client *c, const imageref *ref, char **repo)
{
    const registry_conf_entry *e = registries_conf_find(c->opts.conf, ref);
    char *key = e ? xstrdup(e->api_url) : xasprintf("https://%s", ref->api_host);
    if (e && e->defaultns && !strchr(ref->repository, '/'))
        *repo = xasprintf("%s/%s", e->defaultns, ref->repository);
    else
        *repo = xstrdup(ref->repository);
    for (reg_host *h = c->hosts; h; h = h->next)
        if (strcmp(h->key, key) == 0) {
            free(key);
            return h;
        }
    reg_host *h = xcalloc(1, sizeof *h);
    h->key = key;
    h->name = xstrdup(ref->registry);
    const char *authority = strstr(key, "://");
    authority = authority ? authority + 3 : key;
    h->label = xstrndup(authority, strcspn(authority, "/"));
    h->conf = e;
    h->creds_spec = c->opts.credentials ? c->opts.credentials : e ? e->credentials : NULL;
    /* argocd-image-updater's defaults: 10 rps for Docker Hub, 20 for an inferred registry, an
     * entry without `limit` is unlimited. */
    double rate = e ? e->limit : str_eq(ref->registry, "docker.io") ? 10 : 20;
    int in_flight = e && e->connections ? e->connections : c->opts.max_per_registry;
    ratelimit_init(&h->rl, rate, in_flight, registry_now_ms());
    h->next = c->hosts;
    c->hosts = h;
    return h;
}

/* Start every queued call the host's politeness allows now; returns when the next one may go. */
void registry_requeue(reg_call *call, int64_t not_before_ms)
{
    reg_host *h = call->host;
    call->not_before_ms = not_before_ms;
    h->n_delayed += not_before_ms > 0;
    call->next = NULL;
    if (h->queue_tail)
        h->queue_tail->next = call;
    else
        h->queue = call;
    h->queue_tail = call;
}

static bool deadline_passed(const registry_client *c, int64_t now)
{
    return c->opts.cycle_deadline_ms > 0 && now - c->cycle_started_ms >= c->opts.cycle_deadline_ms;
}

void registry_pump_host(registry_client *c, reg_host *h)
{
    if (h->pumping || deadline_passed(c, registry_now_ms()))
        return; /* past the deadline, expire_hosts fails what is queued */
    h->pumping = true;
    int64_t now = registry_now_ms();
    reg_call **pp = &h->queue;
    reg_call *prev = NULL;
    while (*pp) {
        reg_call *call = *pp;
        if (call->not_before_ms > now) {
            prev = call;
            pp = &call->next;
            continue;
        }
        if (ratelimit_acquire(&h->rl, now) > 0)
            break;
        *pp = call->next;
        if (h->queue_tail == call)
            h->queue_tail = prev;
        call->next = NULL;
        h->n_delayed -= call->not_before_ms > 0;
        call_send(call);
        /* a nested operation may have appended calls; the scan restarts from the head */
        pp = &h->queue;
        prev = NULL;
    }
    h->pumping = false;
}

static bool host_busy(const registry_client *c, const reg_host *h)
{
    if (h->queue)
        return true;
    for (const reg_call *call = c->inflight; call; call = call->inext)
        if (call->host == h)
            return true;
    return call_tokens_busy(c, h);
}

static void format_seconds(long ms, char *buf, size_t len)
{
    if (ms % 1000 == 0)
        snprintf(buf, len, "%ld s", ms / 1000);
    else
        snprintf(buf, len, "%.1f s", (double)ms / 1000);
}

/* Past the cycle deadline: everything a registry still owes fails — its token fetches, its
 * requests in flight (aborted) and those waiting to start — so that its images go to error
 * while other registries' answers stand. A failure may queue new calls (an operation's next
 * step); nothing starts past the deadline, so those fail here too, until the host is idle. */
static void expire_hosts(registry_client *c)
{
    if (!deadline_passed(c, registry_now_ms()))
        return;
    char took[32];
    format_seconds(c->opts.cycle_deadline_ms, took, sizeof took);
    for (reg_host *h = c->hosts; h; h = h->next) {
        tp_err err;
        tp_err_set(&err, "registry %s: no answer within %s this cycle", h->name, took);
        for (;;) {
            if (call_tokens_expire(c, h, &err))
                continue;
            reg_call *call = c->inflight;
            while (call && call->host != h)
                call = call->inext;
            if (call) {
                if (call->iprev)
                    call->iprev->inext = call->inext;
                else
                    c->inflight = call->inext;
                if (call->inext)
                    call->inext->iprev = call->iprev;
                http_cancel(c->http, call->xfer);
                ratelimit_release(&h->rl);
                call_fail(call, &err);
                continue;
            }
            if (h->queue) {
                call = h->queue;
                h->queue = call->next;
                if (!h->queue)
                    h->queue_tail = NULL;
                h->n_delayed -= call->not_before_ms > 0;
                call_fail(call, &err);
                continue;
            }
            break;
        }
    }
}

/* Milliseconds until some queued call may start or the cycle deadline cuts a busy registry
 * (-1: nothing to wait for). */
static int64_t next_wake(registry_client *c)
{
    int64_t now = registry_now_ms(), best = -1;
    if (c->opts.cycle_deadline_ms > 0)
        for (reg_host *h = c->hosts; h; h = h->next)
            if (host_busy(c, h)) {
                int64_t left = c->cycle_started_ms + c->opts.cycle_deadline_ms - now;
                best = left > 0 ? left : 0;
                break;
            }
    /* Thousands may be queued (a cold newest-build cycle): every call that may go now waits
     * for the same thing, the host's politeness, asked once; and nothing beats 0. */
    for (reg_host *h = c->hosts; h; h = h->next) {
        int64_t ready_at = -1;
        if (h->queue && h->n_delayed == 0) { /* all may go now: the head says when for all */
            ratelimit probe = h->rl;
            int64_t w = ratelimit_acquire(&probe, now);
            int64_t at = w > 0 ? w : 0;
            if (best < 0 || at < best)
                best = at;
            if (best == 0)
                return 0;
            continue;
        }
        for (reg_call *q = h->queue; q; q = q->next) {
            int64_t at = q->not_before_ms > now ? q->not_before_ms - now : 0;
            if (at == 0) {
                if (ready_at < 0) {
                    ratelimit probe = h->rl;
                    int64_t w = ratelimit_acquire(&probe, now);
                    ready_at = w > 0 ? w : 0;
                }
                at = ready_at;
            }
            if (best < 0 || at < best)
                best = at;
            if (best == 0)
                return 0;
        }
    }
    return best;
}

void registry_call(registry_client *c, reg_host *h, const char *repo, call_kind kind,
                   const char *method, const char *url, reg_call_fn done, void *ud)
{
    reg_call *call = xcalloc(1, sizeof *call);
    call->client = c;
    call->host = h;
    call->repo = xstrdup(repo);
    call->url = xstrdup(url);
    call->method = method;
    call->kind = kind;
    call->done = done;
    call->ud = ud;
    registry_requeue(call, 0);
    registry_pump_host(c, h);
}

int registry_client_perform(registry_client *c, int timeout_ms, const int *extra_fds,
                            size_t n_extra, tp_err *err)
{
    expire_hosts(c);
    for (reg_host *h = c->hosts; h; h = h->next)
        registry_pump_host(c, h);
    int64_t wake = next_wake(c);
    int wait = timeout_ms;
    if (wake >= 0 && (wait < 0 || wake < wait))
        wait = (int)wake;
    if (http_driver_perform(c->http, wait, extra_fds, n_extra, err) < 0)
        return -1;
    expire_hosts(c);
    for (reg_host *h = c->hosts; h; h = h->next)
        registry_pump_host(c, h);
    return (int)c->outstanding;
}

int registry_client_step(registry_client *c, tp_err *err)
{
    expire_hosts(c);
    for (reg_host *h = c->hosts; h; h = h->next)
        registry_pump_host(c, h);
    if (http_driver_step(c->http, err) < 0)
        return -1;
    /* answers free places: the calls waiting for them go now */
    for (reg_host *h = c->hosts; h; h = h->next)
        registry_pump_host(c, h);
    return (int)c->outstanding;
}

void registry_client_wakeup(registry_client *c)
{
    http_driver_wakeup(c->http);
}

int registry_client_run(registry_client *c, tp_err *err)
{
    while (c->outstanding > 0) {
        if (registry_client_perform(c, 1000, NULL, 0, err) < 0)
            return -1;
    }
    return 0;
}

size_t registry_client_outstanding(const registry_client *c)
{
    return c->outstanding;
}

void registry_client_stats(const registry_client *c, registry_stats *out)
{
    *out = c->stats;
}

size_t registry_client_host_counts(const registry_client *c, registry_host_count **out)
{
    size_t n = 0;
    for (const reg_host *h = c->hosts; h; h = h->next)
        n++;
    *out = xcalloc(n ? n : 1, sizeof **out);
    size_t i = n;
    for (const reg_host *h = c->hosts; h; h = h->next) /* newest first: fill from the end */
        (*out)[--i] = (registry_host_count){h->label, h->requests, h->failed};
    return n;
}

bool registry_client_rate_remaining(const registry_client *c, const char *host, long *remaining)
{
    for (const reg_host *h = c->hosts; h; h = h->next) {
        if (!h->has_rate_remaining)
            continue;
        const char *k = strstr(h->key, "://");
        k = k ? k + 3 : h->key;
        if (str_eq(h->name, host) || str_eq(k, host)) {
            *remaining = h->rate_remaining;
            return true;
        }
    }
    return false;
}

void registry_client_end_cycle(registry_client *c)
{
    ops_end_cycle(c);
}

uint64_t registry_client_lists_epoch(const registry_client *c)
{
    return c->lists_epoch;
}

void registry_client_begin_cycle(registry_client *c)
{
    c->cycle++;
    c->cycle_started_ms = registry_now_ms();
    ops_begin_cycle(c);
}
