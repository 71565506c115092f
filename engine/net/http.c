/* net/http: curl_multi driver with classified failures. It runs curl's socket API: curl says
 * which sockets to watch (on_socket) and when its timeouts are due (on_timer), one poll() waits
 * on those, the caller's fds and the wake-up pipe, and curl is then told about the sockets that
 * are ready and nothing else — curl_multi_perform would look at every transfer's socket (a poll
 * each) on every call. */
#include "net/http.h"

#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

struct http_transfer {
    CURL *easy;
    struct curl_slist *headers;
    http_done_fn done;
    void *ud;
    http_response resp;
    strbuf body;
    size_t max_body;
    bool too_large;
    bool is_head;
    http_data_fn on_data; /* streaming: 2xx body chunks go here */
    void *data_ud;
    bool aborted;     /* on_data said stop */
    long cur_status;  /* status line of the response being read (0 before it) */
    char *trust_hint; /* owned */
    long connect_timeout_ms, total_timeout_ms, low_speed_bytes, low_speed_seconds;
    int max_redirects;
    char *ca_file;
    char errbuf[CURL_ERROR_SIZE];
    struct http_transfer *prev, *next;
};

/* A socket curl asked us to watch. */
typedef struct http_socket {
    curl_socket_t fd;
    short events; /* POLLIN and/or POLLOUT, as curl last asked */
} http_socket;

struct http_driver {
    CURLM *multi;
    CURLSH *share;
    http_transfer *transfers; /* in flight, doubly linked */
    size_t active;
    http_socket *sockets; /* curl's sockets, any order (on_socket keeps it) */
    size_t n_sockets, cap_sockets;
    /* When curl's next timeout is due (CLOCK_MONOTONIC µs), -1: none. A transfer just added
     * sets it to now (on_timer with 0): the timeout run is what starts it. */
    int64_t timer_due_us;
    int wake[2];         /* http_driver_wakeup writes a byte to [1]; perform polls [0] */
    struct pollfd *pfds; /* poll's array, kept between calls */
    size_t cap_pfds;
};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* CURLMOPT_SOCKETFUNCTION: curl wants fd watched for what, or no longer (CURL_POLL_REMOVE,
 * before it closes the socket). Called from inside curl_multi_socket_action,
 * curl_multi_remove_handle and curl_multi_cleanup. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    (void)socketp;
    http_driver *d = userp;
    size_t i = 0;
    while (i < d->n_sockets && d->sockets[i].fd != fd)
        i++;
    if (what == CURL_POLL_REMOVE) {
        if (i < d->n_sockets)
            d->sockets[i] = d->sockets[--d->n_sockets];
        return 0;
    }
    if (i == d->n_sockets) {
        if (d->n_sockets == d->cap_sockets) {
            d->cap_sockets = d->cap_sockets ? 2 * d->cap_sockets : 16;
            d->sockets = xrealloc(d->sockets, d->cap_sockets * sizeof *d->sockets);
        }
        d->sockets[d->n_sockets++].fd = fd;
    }
    d->sockets[i].events =
        (short)(((what & CURL_POLL_IN) ? POLLIN : 0) | ((what & CURL_POLL_OUT) ? POLLOUT : 0));
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: run curl's timeouts in timeout_ms (0: at once), or never (-1). */
static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    http_driver *d = userp;
    d->timer_due_us = timeout_ms < 0 ? -1 : now_us() + (int64_t)timeout_ms * 1000;
    return 0;
}

http_driver *http_driver_new(tp_err *err)
{
    /* Reference-counted and thread-safe since curl 7.84. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        tp_err_set(err, "cannot initialise libcurl");
        return NULL;
    }
    http_driver *d = xcalloc(1, sizeof *d);
    d->timer_due_us = -1;
    d->wake[0] = d->wake[1] = -1;
    if (pipe2(d->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
        tp_err_set(err, "cannot create the HTTP driver's wake-up pipe: %s", strerror(errno));
        http_driver_free(d);
        return NULL;
    }
    d->multi = curl_multi_init();
    d->share = curl_share_init();
    if (!d->multi || !d->share) {
        tp_err_set(err, "cannot initialise libcurl");
        http_driver_free(d);
        return NULL;
    }
    curl_multi_setopt(d->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(d->multi, CURLMOPT_SOCKETDATA, d);
    curl_multi_setopt(d->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(d->multi, CURLMOPT_TIMERDATA, d);
    /* One thread uses these, so no lock callbacks. */
    curl_share_setopt(d->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(d->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_multi_setopt(d->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    return d;
}

static void response_clear(http_response *r)
{
    free(r->body);
    free(r->content_type);
    free(r->docker_digest);
    free(r->www_authenticate);
    free(r->link);
    free(r->retry_after);
    free(r->ratelimit_remaining);
    memset(r, 0, sizeof *r);
}

static void headers_clear(http_response *r)
{
    char *body = r->body;
    size_t len = r->body_len;
    r->body = NULL;
    response_clear(r);
    r->body = body;
    r->body_len = len;
}

static void transfer_free(http_driver *d, http_transfer *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        d->transfers = t->next;
    if (t->next)
        t->next->prev = t->prev;
    curl_multi_remove_handle(d->multi, t->easy);
    curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
    response_clear(&t->resp);
    strbuf_free(&t->body);
    free(t->ca_file);
    free(t->trust_hint);
    free(t);
    d->active--;
}

void http_driver_free(http_driver *d)
{
    if (!d)
        return;
    while (d->transfers)
        transfer_free(d, d->transfers);
    if (d->multi)
        curl_multi_cleanup(d->multi); /* may still call on_socket */
    if (d->share)
        curl_share_cleanup(d->share);
    for (int i = 0; i < 2; i++)
        if (d->wake[i] >= 0)
            close(d->wake[i]);
    free(d->sockets);
    free(d->pfds);
    free(d);
    curl_global_cleanup();
}

static bool streaming(const http_transfer *t)
{
    return t->on_data && t->cur_status >= 200 && t->cur_status < 300;
}

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    http_transfer *t = ud;
    size_t len = size * n;
    if (streaming(t)) {
        if (!t->on_data(t->data_ud, data, len)) {
            t->aborted = true;
            return 0; /* aborts with CURLE_WRITE_ERROR */
        }
        return len;
    }
    if (t->body.len + len > t->max_body) {
        t->too_large = true;
        return 0; /* aborts with CURLE_WRITE_ERROR */
    }
    strbuf_append(&t->body, data, len);
    return len;
}

/* Keep a header value; repeated headers are joined with ", " (RFC 9110 list semantics). */
static void keep(char **slot, const char *value, size_t len)
{
    if (*slot) {
        char *joined = xasprintf("%s, %.*s", *slot, (int)len, value);
        free(*slot);
        *slot = joined;
    } else {
        *slot = xstrndup(value, len);
    }
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
    http_transfer *t = ud;
    size_t len = size * n;
    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        headers_clear(&t->resp); /* a new response (redirect, 100-continue) */
        const char *sp = memchr(data, ' ', len);
        t->cur_status = sp ? strtol(sp + 1, NULL, 10) : 0;
        return len;
    }
    const char *colon = memchr(data, ':', len);
    if (!colon)
        return len;
    size_t name_len = (size_t)(colon - data);
    const char *v = colon + 1;
    const char *end = data + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && isspace((unsigned char)end[-1]))
        end--;
    size_t vlen = (size_t)(end - v);
    static const struct {
        const char *name;
        size_t off;
    } wanted[] = {
        {"content-type", offsetof(http_response, content_type)},
        {"docker-content-digest", offsetof(http_response, docker_digest)},
        {"www-authenticate", offsetof(http_response, www_authenticate)},
        {"link", offsetof(http_response, link)},
        {"retry-after", offsetof(http_response, retry_after)},
        {"ratelimit-remaining", offsetof(http_response, ratelimit_remaining)},
    };
    for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
        if (strlen(wanted[i].name) == name_len &&
            strncasecmp(data, wanted[i].name, name_len) == 0) {
            keep((char **)((char *)&t->resp + wanted[i].off), v, vlen);
            break;
        }
    }
    if (name_len == 14 && strncasecmp(data, "content-length", 14) == 0) {
        unsigned long long cl = strtoull(v, NULL, 10);
        if (!t->is_head && !streaming(t) && cl > t->max_body) {
            t->too_large = true;
            return 0; /* say no before reading it */
        }
    }
    return len;
}

http_transfer *http_submit(http_driver *d, const http_request_spec *spec, http_done_fn done,
                           void *ud)
{
    http_transfer *t = xcalloc(1, sizeof *t);
    t->done = done;
    t->ud = ud;
    t->max_body = spec->max_body;
    t->is_head = str_eq(spec->method, "HEAD");
    t->connect_timeout_ms = spec->connect_timeout_ms;
    t->total_timeout_ms = spec->total_timeout_ms;
    t->low_speed_bytes = spec->low_speed_bytes;
    t->low_speed_seconds = spec->low_speed_seconds;
    t->max_redirects = spec->max_redirects;
    t->ca_file = xstrdup(spec->ca_file);
    t->trust_hint =
        xstrdup(spec->trust_hint ? spec->trust_hint : "set ca_file or insecure in registries.conf");
    t->on_data = spec->on_data;
    t->data_ud = spec->data_ud;
    CURL *e = t->easy = curl_easy_init();
    if (!e) {
        fprintf(stderr, "tagpilot: curl_easy_init failed\n");
        abort();
    }
    curl_easy_setopt(e, CURLOPT_URL, spec->url);
    curl_easy_setopt(e, CURLOPT_SHARE, d->share);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "tagpilot/0.1");
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, spec->no_redirects ? 0L : 1L);
    /* Credentials stay with the origin they were meant for: with this off (curl's default, set
     * here so nobody turns it on), curl drops our Authorization header when a redirect leaves
     * the scheme, host and port of the request (tests/integration/registry_origin.sh). */
    curl_easy_setopt(e, CURLOPT_UNRESTRICTED_AUTH, 0L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)spec->max_redirects);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    /* Waiting for a connection to say whether it multiplexes pays only where it may (HTTP/2
     * over TLS); over plain HTTP/1.1 it holds every transfer but the first until that one's
     * answer, so a slow first request held the rest. */
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, strncasecmp(spec->url, "https:", 6) == 0 ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, spec->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, spec->total_timeout_ms);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, spec->low_speed_bytes);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, spec->low_speed_seconds);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    if (t->is_head)
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    if (spec->body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)spec->body_len);
        curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, spec->body);
    }
    /* GET and HEAD are curl's own; any other method is named as it is (with a body set above,
     * curl would otherwise send POST). */
    if (!str_eq(spec->method, "GET") && !t->is_head)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, spec->method);
    if (spec->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, spec->ca_file);
    if (spec->ca_pem) {
        /* A blob replaces the CA file; the folder is dropped too, so these CAs alone decide. */
        struct curl_blob ca = {(void *)spec->ca_pem, spec->ca_pem_len, CURL_BLOB_COPY};
        curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &ca);
        curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
    }
    if (spec->client_cert_pem) {
        struct curl_blob cert = {(void *)spec->client_cert_pem, spec->client_cert_pem_len,
                                 CURL_BLOB_COPY};
        curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &cert);
        curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
    } else if (spec->client_cert_file) {
        curl_easy_setopt(e, CURLOPT_SSLCERT, spec->client_cert_file);
    }
    if (spec->client_key_pem) {
        struct curl_blob key = {(void *)spec->client_key_pem, spec->client_key_pem_len,
                                CURL_BLOB_COPY};
        curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &key);
        curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
    } else if (spec->client_key_file) {
        curl_easy_setopt(e, CURLOPT_SSLKEY, spec->client_key_file);
    }
    if (spec->insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (spec->accept) {
        char *h = xasprintf("Accept: %s", spec->accept);
        t->headers = curl_slist_append(t->headers, h);
        free(h);
    }
    if (spec->content_type) {
        char *h = xasprintf("Content-Type: %s", spec->content_type);
        t->headers = curl_slist_append(t->headers, h);
        free(h);
    }
    if (spec->body) /* no 100-continue round trip */
        t->headers = curl_slist_append(t->headers, "Expect:");
    if (spec->authorization) {
        char *h = xasprintf("Authorization: %s", spec->authorization);
        t->headers = curl_slist_append(t->headers, h);
        memset(h, 0, strlen(h));
        free(h);
    }
    if (t->headers)
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    t->next = d->transfers;
    if (d->transfers)
        d->transfers->prev = t;
    d->transfers = t;
    d->active++;
    curl_multi_add_handle(d->multi, e); /* on_timer(0): the next perform or step starts it */
    return t;
}

void http_cancel(http_driver *d, http_transfer *t)
{
    transfer_free(d, t);
}

static void classify(http_transfer *t, CURLcode code)
{
    http_response *r = &t->resp;
    const char *eb = t->errbuf[0] ? t->errbuf : curl_easy_strerror(code);
    switch (code) {
    case CURLE_OPERATION_TIMEDOUT: {
        curl_off_t connect_us = 0;
        curl_easy_getinfo(t->easy, CURLINFO_CONNECT_TIME_T, &connect_us);
        r->failure = HTTP_FAIL_TIMEOUT;
        if (strstr(eb, "too slow"))
            snprintf(r->message, sizeof r->message,
                     "timeout: less than %ld bytes/s for %ld s (a stalled or dripping response)",
                     t->low_speed_bytes, t->low_speed_seconds);
        else if (connect_us == 0 && strstr(eb, "onnect"))
            snprintf(r->message, sizeof r->message, "connect timeout after %ld s",
                     t->connect_timeout_ms / 1000);
        else
            snprintf(r->message, sizeof r->message, "timeout after %ld s",
                     t->total_timeout_ms / 1000);
        break;
    }
    case CURLE_PEER_FAILED_VERIFICATION:
        r->failure = HTTP_FAIL_TLS;
        snprintf(r->message, sizeof r->message, "TLS: certificate not trusted — %.120s (%.200s)",
                 t->trust_hint, eb);
        break;
    case CURLE_SSL_CERTPROBLEM:
        r->failure = HTTP_FAIL_TLS;
        snprintf(r->message, sizeof r->message, "TLS: cannot use the client certificate: %.200s",
                 eb);
        break;
    case CURLE_SSL_CACERT_BADFILE:
        r->failure = HTTP_FAIL_TLS;
        if (t->ca_file)
            snprintf(r->message, sizeof r->message, "TLS: cannot read ca_file '%.200s'",
                     t->ca_file);
        else
            snprintf(r->message, sizeof r->message, "TLS: cannot read the CA certificates: %.200s",
                     eb);
        break;
    case CURLE_SSL_CONNECT_ERROR:
        r->failure = HTTP_FAIL_TLS;
        snprintf(r->message, sizeof r->message, "TLS handshake failed: %.200s", eb);
        break;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        r->failure = HTTP_FAIL_CONNECT;
        snprintf(r->message, sizeof r->message, "cannot connect: %.200s", eb);
        break;
    case CURLE_WRITE_ERROR:
        if (t->aborted) {
            r->failure = HTTP_FAIL_ABORTED;
            snprintf(r->message, sizeof r->message, "stopped by the reader");
            break;
        }
        if (t->too_large) {
            r->failure = HTTP_FAIL_TOO_LARGE;
            snprintf(r->message, sizeof r->message, "response body larger than %zu bytes",
                     t->max_body);
            break;
        }
        r->failure = HTTP_FAIL_OTHER;
        snprintf(r->message, sizeof r->message, "%.200s", eb);
        break;
    case CURLE_PARTIAL_FILE:
        r->failure = HTTP_FAIL_TRUNCATED;
        snprintf(r->message, sizeof r->message, "truncated response body (%.200s)", eb);
        break;
    case CURLE_TOO_MANY_REDIRECTS:
        r->failure = HTTP_FAIL_REDIRECTS;
        snprintf(r->message, sizeof r->message, "redirect loop: more than %d redirects",
                 t->max_redirects);
        break;
    case CURLE_GOT_NOTHING:
        r->failure = HTTP_FAIL_TRUNCATED;
        snprintf(r->message, sizeof r->message,
                 "the server closed the connection without a response");
        break;
    default:
        r->failure = HTTP_FAIL_OTHER;
        snprintf(r->message, sizeof r->message, "%.200s", eb);
        break;
    }
}

static void finish(http_driver *d, http_transfer *t, CURLcode code)
{
    http_response *r = &t->resp;
    if (code == CURLE_OK) {
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &r->status);
    } else {
        r->status = 0;
        classify(t, code);
    }
    curl_off_t total_us = 0;
    curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME_T, &total_us);
    r->seconds = (double)total_us / 1e6;
    long version = 0;
    curl_easy_getinfo(t->easy, CURLINFO_HTTP_VERSION, &version);
    r->http2 = version == CURL_HTTP_VERSION_2_0;
    curl_easy_getinfo(t->easy, CURLINFO_NUM_CONNECTS, &r->new_connections);
    if (!t->body.data)
        strbuf_append(&t->body, "", 0);
    if (!t->body.data)
        t->body.data = xstrdup("");
    r->body_len = t->body.len;
    r->body = strbuf_take(&t->body);
    t->done(t->ud, r);
    transfer_free(d, t);
}

/* Run the callbacks of finished transfers; returns how many finished. */
static int finish_done(http_driver *d)
{
    int finished = 0;
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(d->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        http_transfer *t = NULL;
        CURLcode code = msg->data.result;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        finish(d, t, code);
        finished++;
    }
    return finished;
}

static bool timer_due(const http_driver *d, int64_t now)
{
    return d->timer_due_us >= 0 && d->timer_due_us <= now;
}

/* Run curl's due timeouts: transfers just added start here, timed-out ones fail. */
static int run_timers(http_driver *d, tp_err *err)
{
    /* After a timeout run curl calls on_timer for any timeout left, but not to say there is
     * none: cleared here, the timer is set again only when curl has one. */
    d->timer_due_us = -1;
    int running;
    CURLMcode mc = curl_multi_socket_action(d->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    if (mc != CURLM_OK)
        return tp_err_set(err, "curl: %s", curl_multi_strerror(mc));
    return 0;
}

/* Copy curl's sockets into d->pfds, with room for `more` after them. */
static void fill_pfds(http_driver *d, size_t more)
{
    size_t need = d->n_sockets + more;
    if (need > d->cap_pfds) {
        d->cap_pfds = need * 2;
        d->pfds = xrealloc(d->pfds, d->cap_pfds * sizeof *d->pfds);
    }
    for (size_t i = 0; i < d->n_sockets; i++)
        d->pfds[i] = (struct pollfd){.fd = d->sockets[i].fd, .events = d->sockets[i].events};
}

/* Tell curl about the first n of d->pfds that poll found ready. */
static int act_on_ready(http_driver *d, size_t n, tp_err *err)
{
    for (size_t i = 0; i < n; i++) {
        const struct pollfd *p = &d->pfds[i];
        if (!p->revents)
            continue;
        /* an action before this one may have made curl drop the socket */
        size_t k = 0;
        while (k < d->n_sockets && d->sockets[k].fd != p->fd)
            k++;
        if (k == d->n_sockets)
            continue;
        /* An error or hang-up goes to the direction curl waits on: it reads or writes and
         * finds the cause itself (CURL_CSELECT_ERR alone would say only "poll error"). */
        int flags = 0;
        if ((p->events & POLLIN) && (p->revents & (POLLIN | POLLHUP | POLLERR)))
            flags |= CURL_CSELECT_IN;
        if ((p->events & POLLOUT) && (p->revents & (POLLOUT | POLLHUP | POLLERR)))
            flags |= CURL_CSELECT_OUT;
        int running;
        CURLMcode mc = curl_multi_socket_action(d->multi, p->fd, flags, &running);
        if (mc != CURLM_OK)
            return tp_err_set(err, "curl: %s", curl_multi_strerror(mc));
    }
    return 0;
}

int http_driver_perform(http_driver *d, int timeout_ms, const int *extra_fds, size_t n_extra,
                        tp_err *err)
{
    /* Due timeouts run before the wait: a transfer submitted since the last call starts now
     * (its timer is 0) rather than after the wait. */
    if (timer_due(d, now_us())) {
        if (run_timers(d, err) < 0)
            return -1;
        if (finish_done(d) > 0)
            return (int)d->active; /* callbacks ran: let the caller look before sleeping */
    }
    int wait = timeout_ms < 0 ? 0 : timeout_ms;
    if (d->timer_due_us >= 0) {
        int64_t left_us = d->timer_due_us - now_us();
        int64_t left_ms = left_us > 0 ? (left_us + 999) / 1000 : 0;
        if (left_ms < wait)
            wait = (int)left_ms;
    }
    size_t n_curl = d->n_sockets;
    fill_pfds(d, 1 + n_extra);
    d->pfds[n_curl] = (struct pollfd){.fd = d->wake[0], .events = POLLIN};
    for (size_t i = 0; i < n_extra; i++)
        d->pfds[n_curl + 1 + i] = (struct pollfd){.fd = extra_fds[i], .events = POLLIN};
    int ready = poll(d->pfds, (nfds_t)(n_curl + 1 + n_extra), wait);
    if (ready < 0 && errno != EINTR)
        return tp_err_set(err, "poll: %s", strerror(errno));
    if (ready > 0) {
        if (d->pfds[n_curl].revents) {
            char buf[64];
            while (read(d->wake[0], buf, sizeof buf) > 0) {
            }
        }
        if (act_on_ready(d, n_curl, err) < 0)
            return -1;
    }
    if (timer_due(d, now_us()) && run_timers(d, err) < 0)
        return -1;
    finish_done(d);
    return (int)d->active;
}

int http_driver_step(http_driver *d, tp_err *err)
{
    /* One poll over curl's sockets, without the wake-up pipe: a wakeup is left for the
     * perform it is meant to end. */
    if (timer_due(d, now_us()) && run_timers(d, err) < 0)
        return -1;
    size_t n_curl = d->n_sockets;
    if (n_curl > 0) {
        fill_pfds(d, 0);
        int ready = poll(d->pfds, (nfds_t)n_curl, 0);
        if (ready < 0 && errno != EINTR)
            return tp_err_set(err, "poll: %s", strerror(errno));
        if (ready > 0 && act_on_ready(d, n_curl, err) < 0)
            return -1;
    }
    finish_done(d);
    return (int)d->active;
}

/* Any thread, even a signal handler: one write to a non-blocking pipe. A full pipe already
 * holds a wakeup, so a failed write loses nothing. */
void http_driver_wakeup(http_driver *d)
{
    int saved = errno;
    char byte = 1;
    if (write(d->wake[1], &byte, 1) < 0) {
        /* EAGAIN: a wakeup is already waiting */
    }
    errno = saved;
}

size_t http_driver_active(const http_driver *d)
{
    return d->active;
}
