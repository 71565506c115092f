/* registry/call: one authenticated, polite request to a registry — the Authorization header its
 * auth scheme needs (a bearer token fetched from the realm, shared by the calls waiting for the
 * same scope, or Basic credentials), the send, and what a response means: a 401 challenge
 * learnt and answered once, a 429 or 5xx retried after Retry-After or a backoff, anything else
 * handed to the operation's callback. Queueing, politeness and the loop are in client.c. */
#include "registry/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "registry/internal.h"

typedef struct token_fetch {
    char *key; /* host key | scope */
    reg_host *host;
    char *repo;
    reg_call **waiters;
    size_t n_waiters;
    http_transfer *xfer; /* the request to the realm */
    struct token_fetch *next;
} token_fetch;

static void on_http(void *ud, http_response *resp);

void call_free(reg_call *call)
{
    free(call->repo);
    free(call->url);
    free(call);
}

static const char *creds_name(const reg_host *h)
{
    if (h->creds.source)
        return h->creds.source;
    return h->creds_spec ? h->creds_spec : NULL;
}

void registry_status_error(const reg_call *call, long status, const char *what, tp_err *err)
{
    const reg_host *h = call->host;
    const char *cn = creds_name(h);
    if (status == 401 && cn && h->creds.username)
        tp_err_set(err, "registry %s: 401 for %s — check credentials '%s'", h->name, call->repo,
                   cn);
    else if (status == 401)
        tp_err_set(err,
                   "registry %s: 401 for %s — anonymous access refused (or no such "
                   "repository); set credentials in registries.conf, --credentials or docker "
                   "config.json",
                   h->name, call->repo);
    else if (status == 403)
        tp_err_set(err, "registry %s: 403 for %s — access denied%s%s%s", h->name, call->repo,
                   cn ? " to credentials '" : "", cn ? cn : "", cn ? "'" : "");
    else
        tp_err_set(err, "registry %s: HTTP %ld for %s (%s)", h->name, status, call->repo, what);
}

/* Credentials are read when a challenge first asks for them, and again after credsexpire. A
 * failure is remembered for a minute, so that a broken ext: script is not run (and waited for)
 * once per request, yet a fixed variable or script is picked up without a restart. */
static int host_creds(registry_client *c, reg_host *h, const char *repo, tp_err *err)
{
    int64_t now = registry_now_ms();
    long expire_s = h->conf ? h->conf->credsexpire_s : 0;
    if (h->creds_loaded && h->creds_error && expire_s <= 0)
        expire_s = 60;
    /* A Secret in the cluster may be rotated: read again after a minute unless told. */
    if (expire_s <= 0 && h->creds_spec &&
        (str_starts_with(h->creds_spec, "pullsecret:") ||
         str_starts_with(h->creds_spec, "secret:")))
        expire_s = 60;
    if (h->creds_loaded && expire_s > 0 && now - h->creds_loaded_ms > expire_s * 1000) {
        registry_creds_free(&h->creds);
        free(h->creds_error);
        h->creds_error = NULL;
        h->creds_loaded = false;
    }
    if (!h->creds_loaded) {
        tp_err e;
        const char *host_name = str_eq(h->name, "docker.io") ? "docker.io" : h->name;
        if (registry_creds_resolve(h->creds_spec, host_name, 10000, &c->opts.secrets, &h->creds,
                                   &e) < 0)
            h->creds_error = xstrdup(e.msg);
        h->creds_loaded = true;
        h->creds_loaded_ms = now;
    }
    (void)c;
    if (h->creds_error)
        return tp_err_set(err, "registry %s: %s (needed for %s)", h->name, h->creds_error, repo);
    return 0;
}

static char *scope_for(const reg_call *call)
{
    if (call->kind == CALL_PING)
        return xstrdup("");
    return xasprintf("repository:%s:pull", call->repo);
}

void call_fail(reg_call *call, const tp_err *err)
{
    call->client->stats.failures++;
    call->done(call, NULL, err);
    call_free(call);
}

static void send_call(reg_call *call, const char *authorization)
{
    registry_client *c = call->client;
    reg_host *h = call->host;
    http_request_spec spec = {
        .method = call->method,
        .url = call->url,
        .accept =
            (call->kind == CALL_HEAD || call->kind == CALL_MANIFEST) ? ACCEPT_MANIFESTS : NULL,
        .authorization = authorization,
        .ca_file = h->conf ? h->conf->ca_file : NULL,
        .insecure = h->conf && h->conf->insecure,
        .max_body = c->opts.max_body,
        .connect_timeout_ms = c->opts.connect_timeout_ms,
        .total_timeout_ms = c->opts.total_timeout_ms,
        .low_speed_bytes = c->opts.low_speed_bytes,
        .low_speed_seconds = c->opts.low_speed_seconds,
        .max_redirects = 5,
    };
    call->sent_auth = authorization != NULL;
    c->stats.requests++;
    h->requests++;
    switch (call->kind) {
    case CALL_PING:
        c->stats.pings++;
        break;
    case CALL_TAGS:
        c->stats.tag_pages++;
        break;
    case CALL_HEAD:
        c->stats.manifest_heads++;
        break;
    case CALL_MANIFEST:
        c->stats.manifest_gets++;
        break;
    case CALL_BLOB:
        c->stats.blob_gets++;
        break;
    }
    call->iprev = NULL;
    call->inext = c->inflight;
    if (c->inflight)
        c->inflight->iprev = call;
    c->inflight = call;
    call->xfer = http_submit(c->http, &spec, on_http, call);
}

static char *basic_header(const registry_creds *cr)
{
    char *plain = xasprintf("%s:%s", cr->username, cr->password ? cr->password : "");
    char *b64 = registry_base64_encode((const unsigned char *)plain, strlen(plain));
    memset(plain, 0, strlen(plain));
    free(plain);
    char *h = xasprintf("Basic %s", b64);
    memset(b64, 0, strlen(b64));
    free(b64);
    return h;
}

static void send_with_header(reg_call *call, char *header)
{
    send_call(call, header);
    if (header) {
        memset(header, 0, strlen(header));
        free(header);
    }
}

static void on_token(void *ud, http_response *resp);

static void url_escape(strbuf *sb, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            strchr("-._~", ch))
            strbuf_putc(sb, (char)ch);
        else
            strbuf_printf(sb, "%%%02X", ch);
    }
}

/* Ask the realm for a token for this call's scope; calls for the same scope wait together. */
static void fetch_token(registry_client *c, reg_call *call, const char *key, const char *scope)
{
    for (token_fetch *tf = c->token_fetches; tf; tf = tf->next)
        if (strcmp(tf->key, key) == 0) {
            tf->waiters = xrealloc(tf->waiters, (tf->n_waiters + 1) * sizeof *tf->waiters);
            tf->waiters[tf->n_waiters++] = call;
            return;
        }
    reg_host *h = call->host;
    tp_err err;
    if (host_creds(c, h, call->repo, &err) < 0) {
        ratelimit_release(&h->rl);
        call_fail(call, &err);
        return;
    }
    token_fetch *tf = xcalloc(1, sizeof *tf);
    tf->key = xstrdup(key);
    tf->host = h;
    tf->repo = xstrdup(call->repo);
    tf->waiters = xmalloc(sizeof *tf->waiters);
    tf->waiters[tf->n_waiters++] = call;
    tf->next = c->token_fetches;
    c->token_fetches = tf;
    strbuf url = {0};
    strbuf_puts(&url, h->realm);
    strbuf_putc(&url, strchr(h->realm, '?') ? '&' : '?');
    if (h->service) {
        strbuf_puts(&url, "service=");
        url_escape(&url, h->service);
    }
    if (*scope) {
        strbuf_puts(&url, h->service ? "&scope=" : "scope=");
        url_escape(&url, scope);
    }
    char *auth = h->creds.username ? basic_header(&h->creds) : NULL;
    http_request_spec spec = {
        .method = "GET",
        .url = url.data,
        .authorization = auth,
        .ca_file = h->conf ? h->conf->ca_file : NULL,
        .insecure = h->conf && h->conf->insecure,
        .max_body = 1u << 20,
        .connect_timeout_ms = c->opts.connect_timeout_ms,
        .total_timeout_ms = c->opts.total_timeout_ms,
        .low_speed_bytes = c->opts.low_speed_bytes,
        .low_speed_seconds = c->opts.low_speed_seconds,
        .max_redirects = 5,
    };
    c->stats.requests++;
    c->stats.token_fetches++;
    h->requests++;
    tf->xfer = http_submit(c->http, &spec, on_token, tf);
    if (auth) {
        memset(auth, 0, strlen(auth));
        free(auth);
    }
    strbuf_free(&url);
}

void call_send(reg_call *call)
{
    registry_client *c = call->client;
    reg_host *h = call->host;
    if (h->scheme == AUTH_BEARER) {
        char *scope = scope_for(call);
        char *key = xasprintf("%s|%s", h->key, scope);
        const char *token = auth_cache_get(c->tokens, key, registry_now_ms());
        if (token)
            send_with_header(call, xasprintf("Bearer %s", token));
        else
            fetch_token(c, call, key, scope);
        free(key);
        free(scope);
        return;
    }
    if (h->scheme == AUTH_BASIC) {
        tp_err err;
        if (host_creds(c, h, call->repo, &err) < 0) {
            ratelimit_release(&h->rl);
            call_fail(call, &err);
            return;
        }
        send_with_header(call, h->creds.username ? basic_header(&h->creds) : NULL);
        return;
    }
    send_call(call, NULL);
}

static void finish_token(registry_client *c, token_fetch *tf, const char *token, const tp_err *err)
{
    for (token_fetch **pp = &c->token_fetches; *pp; pp = &(*pp)->next)
        if (*pp == tf) {
            *pp = tf->next;
            break;
        }
    for (size_t i = 0; i < tf->n_waiters; i++) {
        reg_call *call = tf->waiters[i];
        if (token) {
            send_with_header(call, xasprintf("Bearer %s", token));
        } else {
            ratelimit_release(&call->host->rl);
            call_fail(call, err);
        }
    }
    free(tf->waiters);
    free(tf->key);
    free(tf->repo);
    free(tf);
}

static void on_token(void *ud, http_response *resp)
{
    token_fetch *tf = ud;
    reg_host *h = tf->host;
    registry_client *c = tf->waiters[0]->client;
    c->stats.connections += (unsigned long)resp->new_connections;
    c->stats.http2_responses += resp->http2;
    h->failed += resp->failure != HTTP_FAIL_NONE || resp->status >= 400;
    tp_err err;
    char *token = NULL;
    long expires_in = 60;
    const char *cn = creds_name(h);
    if (resp->failure != HTTP_FAIL_NONE) {
        tp_err_set(&err, "registry %s: token for %s from %s: %s", h->name, tf->repo, h->realm,
                   resp->message);
    } else if (resp->status == 401 || resp->status == 403) {
        if (cn && h->creds.username)
            tp_err_set(&err,
                       "registry %s: %ld for %s from token service %s — check credentials "
                       "'%s'",
                       h->name, resp->status, tf->repo, h->realm, cn);
        else
            tp_err_set(&err,
                       "registry %s: %ld for %s from token service %s — anonymous access "
                       "refused; set credentials",
                       h->name, resp->status, tf->repo, h->realm);
    } else if (resp->status != 200) {
        tp_err_set(&err, "registry %s: token service %s answered HTTP %ld for %s", h->name,
                   h->realm, resp->status, tf->repo);
    } else if (auth_parse_token_response(resp->body, resp->body_len, &token, &expires_in) < 0) {
        tp_err_set(&err, "registry %s: token service %s sent no token for %s", h->name, h->realm,
                   tf->repo);
    }
    if (token)
        auth_cache_put(c->tokens, tf->key, token, registry_now_ms() + expires_in * 1000);
    finish_token(c, tf, token, &err);
    if (token) {
        memset(token, 0, strlen(token));
        free(token);
    }
}

static bool has_scheme(const char *url, const char *scheme)
{
    size_t n = strlen(scheme);
    return url && strncasecmp(url, scheme, n) == 0 && strncmp(url + n, "://", 3) == 0;
}

/* Where a registry may send us for a token: from an https registry only to https (a token or
 * the Basic credentials sent for it would otherwise cross the network in the clear); from a
 * plain-http registry, which already sees everything in the clear, to http or https. Another
 * host is fine: that is how Docker Hub works (registry-1.docker.io -> auth.docker.io). */
static bool realm_allowed(const reg_host *h, const char *realm)
{
    if (has_scheme(realm, "https"))
        return true;
    return has_scheme(realm, "http") && !has_scheme(h->key, "https");
}

/* A 401: learn the challenge, then try again once with fresh auth. Returns 1 to send again, 0
 * to give up (the caller reports the 401), -1 when the challenge itself is refused (err set). */
static int handle_401(registry_client *c, reg_call *call, http_response *resp, tp_err *err)
{
    reg_host *h = call->host;
    auth_challenge ch[4];
    int n = auth_parse_challenges(resp->www_authenticate, ch, 4);
    const auth_challenge *pick = n > 0 ? auth_pick(ch, (size_t)n) : NULL;
    bool retry = false;
    if (pick && pick->scheme == AUTH_BEARER && !realm_allowed(h, pick->realm)) {
        char *shown = registry_shown(pick->realm);
        tp_err_set(err,
                   "registry %s: token realm '%s' for %s is not https — refusing to fetch a "
                   "token over plain HTTP for an https registry",
                   h->name, shown, call->repo);
        free(shown);
        for (int i = 0; i < n; i++)
            auth_challenge_free(&ch[i]);
        return -1;
    }
    if (pick) {
        h->scheme = pick->scheme;
        if (pick->scheme == AUTH_BEARER && !str_eq(h->realm, pick->realm)) {
            free(h->realm);
            h->realm = xstrdup(pick->realm);
        }
        if (pick->scheme == AUTH_BEARER && pick->service && !str_eq(h->service, pick->service)) {
            free(h->service);
            h->service = xstrdup(pick->service);
        }
        /* First contact carries no auth: that 401 is how the scheme is learnt. After that, one
         * more try with a refetched token or re-read credentials, as argocd-image-updater does. */
        if (!call->sent_auth && call->auth_attempts == 0) {
            retry = true;
        } else if (call->auth_attempts < 2) {
            retry = true;
            char *scope = scope_for(call);
            char *key = xasprintf("%s|%s", h->key, scope);
            auth_cache_drop(c->tokens, key);
            free(key);
            free(scope);
            if (h->creds_loaded && h->creds_spec && call->auth_attempts == 1) {
                registry_creds_free(&h->creds);
                h->creds_loaded = false;
            }
        }
        /* Basic with no credentials to offer cannot succeed: do not ask again. */
        if (pick->scheme == AUTH_BASIC && !call->sent_auth &&
            host_creds(c, h, call->repo, NULL) == 0 && !h->creds.username)
            retry = false;
    }
    for (int i = 0; i < n; i++)
        auth_challenge_free(&ch[i]);
    if (retry && call->auth_attempts < 3) {
        call->auth_attempts++;
        c->stats.retries += call->sent_auth;
        return 1;
    }
    return 0;
}

static void on_http(void *ud, http_response *resp)
{
    reg_call *call = ud;
    registry_client *c = call->client;
    reg_host *h = call->host;
    if (call->iprev)
        call->iprev->inext = call->inext;
    else
        c->inflight = call->inext;
    if (call->inext)
        call->inext->iprev = call->iprev;
    call->iprev = call->inext = NULL;
    call->xfer = NULL;
    c->stats.connections += (unsigned long)resp->new_connections;
    c->stats.http2_responses += resp->http2;
    /* The challenge to a request without credentials is how authenticating starts: not a
     * failure of the registry's. */
    h->failed += resp->failure != HTTP_FAIL_NONE ||
                 (resp->status >= 400 && !(resp->status == 401 && !call->sent_auth));
    ratelimit_release(&h->rl);
    int64_t now = registry_now_ms();
    if (resp->ratelimit_remaining) {
        long rem = ratelimit_parse_remaining(resp->ratelimit_remaining);
        if (rem >= 0) {
            h->has_rate_remaining = true;
            h->rate_remaining = rem;
        }
    }
    tp_err err;
    if (resp->failure != HTTP_FAIL_NONE) {
        tp_err_set(&err, "registry %s: %s: %s", h->name, call->repo, resp->message);
        call_fail(call, &err);
        registry_pump_host(c, h);
        return;
    }
    int again = resp->status == 401 ? handle_401(c, call, resp, &err) : 0;
    if (again != 0) {
        if (again > 0)
            registry_requeue(call, 0);
        else
            call_fail(call, &err);
        registry_pump_host(c, h);
        return;
    }
    bool server_error =
        resp->status == 500 || resp->status == 502 || resp->status == 503 || resp->status == 504;
    if (resp->status == 429 || server_error) {
        call->attempts++;
        int64_t wait = -1;
        if (resp->retry_after) {
            struct timespec wall;
            clock_gettime(CLOCK_REALTIME, &wall);
            wait = ratelimit_parse_retry_after(resp->retry_after, (int64_t)wall.tv_sec * 1000 +
                                                                      wall.tv_nsec / 1000000);
        }
        if (wait < 0)
            wait = ratelimit_backoff_ms(call->attempts);
        const char *what = resp->status == 429 ? "Too Many Requests" : "server error";
        if (wait > c->opts.max_retry_wait_ms) {
            tp_err_set(
                &err,
                "registry %s: HTTP %ld (%s) for %s — the registry asks to wait %lld s; try later",
                h->name, resp->status, what, call->repo, (long long)(wait / 1000));
            call_fail(call, &err);
        } else if (call->attempts > c->opts.max_retries) {
            tp_err_set(&err, "registry %s: HTTP %ld (%s) for %s, still after %d attempts", h->name,
                       resp->status, what, call->repo, call->attempts);
            call_fail(call, &err);
        } else {
            c->stats.retries++;
            if (resp->status == 429)
                ratelimit_pause(&h->rl, now, wait);
            registry_requeue(call, now + wait);
        }
        registry_pump_host(c, h);
        return;
    }
    call->done(call, resp, NULL);
    call_free(call);
    registry_pump_host(c, h);
}

void call_tokens_free(registry_client *c)
{
    while (c->token_fetches) {
        token_fetch *tf = c->token_fetches;
        c->token_fetches = tf->next;
        for (size_t i = 0; i < tf->n_waiters; i++)
            call_free(tf->waiters[i]);
        free(tf->waiters);
        free(tf->key);
        free(tf->repo);
        free(tf);
    }
}

bool call_tokens_busy(const registry_client *c, const reg_host *h)
{
    for (const token_fetch *tf = c->token_fetches; tf; tf = tf->next)
        if (tf->host == h)
            return true;
    return false;
}

bool call_tokens_expire(registry_client *c, const reg_host *h, const tp_err *err)
{
    token_fetch *tf = c->token_fetches;
    while (tf && tf->host != h)
        tf = tf->next;
    if (!tf)
        return false;
    http_cancel(c->http, tf->xfer);
    finish_token(c, tf, NULL, err);
    return true;
}
