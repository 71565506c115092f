/* net/http: the curl_multi driver every HTTP request goes through (the registry client and the
 * Kubernetes client). Many transfers in flight on one thread, connections and TLS sessions
 * reused, HTTP/2 over TLS when the server offers it. Each transfer has connect, total and
 * low-speed timeouts and a body cap; a finished transfer is handed to its callback with the
 * status, the headers the clients need and a classified failure text that never contains a
 * credential. A body may instead be streamed to a callback chunk by chunk (a watch). */
#ifndef TP_NET_HTTP_H
#define TP_NET_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

typedef struct http_driver http_driver;
typedef struct http_transfer http_transfer;

/* Called with each chunk of a streamed 2xx body, from inside http_driver_perform; return false
 * to abort the transfer (its callback then sees HTTP_FAIL_ABORTED). */
typedef bool (*http_data_fn)(void *ud, const char *data, size_t len);

typedef struct http_request_spec {
    const char *method; /* "GET", "HEAD", "PATCH", "POST", ... */
    const char *url;
    const char *accept;        /* Accept value, or NULL */
    const char *authorization; /* whole Authorization value, or NULL; never logged */
    const char *body;          /* request body (copied at submit), or NULL for none */
    size_t body_len;
    const char *content_type; /* the body's Content-Type, or NULL */
    const char *ca_file;      /* trust these CAs, or NULL for the system's */
    const char *ca_pem;       /* or these (PEM in memory, copied): then only these, no system */
    size_t ca_pem_len;        /*   CA file or folder at all */
    /* TLS client certificate and key, PEM: from memory (copied at submit) or from files. */
    const char *client_cert_pem;
    size_t client_cert_pem_len;
    const char *client_key_pem;
    size_t client_key_pem_len;
    const char *client_cert_file;
    const char *client_key_file;
    bool insecure;   /* no TLS verification */
    size_t max_body; /* bytes; a larger body fails the transfer (a streamed body is not held) */
    long connect_timeout_ms;
    long total_timeout_ms;
    long low_speed_bytes;   /* per second... */
    long low_speed_seconds; /* ...for this long cuts the transfer */
    int max_redirects;
    bool no_redirects;      /* a 3xx is the response, not followed */
    const char *trust_hint; /* what an untrusted certificate's message suggests; NULL: the
                               registry's ("set ca_file or insecure in registries.conf") */
    /* Streaming: a 2xx body goes to on_data as it arrives instead of into resp->body (left "");
     * any other status's body is buffered as usual (up to max_body), so errors read the same. */
    http_data_fn on_data;
    void *data_ud;
} http_request_spec;

typedef enum http_failure {
    HTTP_FAIL_NONE = 0,
    HTTP_FAIL_TIMEOUT,
    HTTP_FAIL_TLS,
    HTTP_FAIL_CONNECT,
    HTTP_FAIL_TOO_LARGE,
    HTTP_FAIL_TRUNCATED,
    HTTP_FAIL_REDIRECTS,
    HTTP_FAIL_ABORTED, /* on_data returned false */
    HTTP_FAIL_OTHER,
} http_failure;

typedef struct http_response {
    long status;          /* HTTP status; 0 when the transfer failed */
    http_failure failure; /* HTTP_FAIL_NONE when a response arrived */
    char message[384];    /* the failure in words ("timeout after 30 s"); "" when none */
    char *body;           /* NUL-terminated; owned by the driver unless the callback takes it
                             (set to NULL) */
    size_t body_len;
    char *content_type;     /* headers of the last response (after redirects); NULL if absent */
    char *docker_digest;    /* Docker-Content-Digest */
    char *www_authenticate; /* all WWW-Authenticate values joined by ", " */
    char *link;             /* all Link values joined by ", " */
    char *retry_after;
    char *ratelimit_remaining;
    double seconds;       /* total time of the transfer */
    long new_connections; /* connections this transfer had to open (0: one was reused) */
    bool http2;           /* the response came over HTTP/2 */
} http_response;

/* Called once per submitted transfer, from inside http_driver_perform (never from submit), unless
 * the transfer is cancelled first. The callback may submit new transfers. */
typedef void (*http_done_fn)(void *ud, http_response *resp);

http_driver *http_driver_new(tp_err *err);
/* Abort everything in flight without calling callbacks. */
void http_driver_free(http_driver *d);
/* Start a transfer. The handle is valid until its callback returns or http_cancel. Redirects
 * are followed (http/https only) unless no_redirects; spec->authorization is never sent past a
 * redirect to another origin (scheme, host, port: curl's rule while CURLOPT_UNRESTRICTED_AUTH
 * stays off). Everything spec points at may be freed once this returns. */
http_transfer *http_submit(http_driver *d, const http_request_spec *spec, http_done_fn done,
                           void *ud);
/* Abort a transfer in flight; its callback is not called. */
void http_cancel(http_driver *d, http_transfer *t);
/* Wait up to timeout_ms for network activity, curl's next timeout, the extra fds (readable, any
 * number) or a wakeup, then run callbacks of finished transfers. What was submitted since the
 * last call starts before the wait; when that already finished some, it returns without
 * waiting. Returns transfers still running, or -1 (err). */
int http_driver_perform(http_driver *d, int timeout_ms, const int *extra_fds, size_t n_extra,
                        tp_err *err);
/* Without waiting: start what was submitted, take in what has arrived (one poll over the
 * transfers' sockets) and run the callbacks of finished transfers — for a caller that has other
 * work between two steps. A pending wakeup is left for the next http_driver_perform. Returns
 * transfers still running, or -1 (err). */
int http_driver_step(http_driver *d, tp_err *err);
/* From any thread (or a signal handler): ends the wait of the http_driver_perform under way, or
 * of the next one. Wakeups before that perform count as one. */
void http_driver_wakeup(http_driver *d);
size_t http_driver_active(const http_driver *d);

/* From a Link header, the rel="next" target resolved against the URL it came with (relative
 * paths, absolute paths and absolute URLs). NULL when there is none. Caller frees. */
char *http_link_next(const char *link, const char *request_url);
/* "https://host:port" part of a URL (scheme and authority) into a new string; NULL if none. */
char *http_url_origin(const char *url);
/* True when two URLs have the same origin: scheme and host compared without case, the port
 * spelled or implied (80 for http, 443 for https). A URL with user info ("https://a@host") or
 * without a scheme has no origin and matches nothing. */
bool http_same_origin(const char *a, const char *b);

#endif
