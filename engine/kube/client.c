/* kube/client: the client's configuration and credentials, one request at a time through
 * net/http (its own driver, driven here until the transfer ends), and the error a reply maps
 * to — naming context, user, verb and resource, the server's text only sanitised. */
#include "kube/internal.h"

#include <stdatomic.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KUBE_MAX_BODY     (64u << 20) /* a page of 500 Applications is a few MiB */
#define KUBE_EXEC_TIMEOUT 30000L      /* ms */
#define KUBE_TOKEN_MAX    65536
#define SERVICEACCOUNT    "/var/run/secrets/kubernetes.io/serviceaccount"

struct kube_client {
    kube_config cfg;
    http_driver *http;
    kube_cred cred; /* the exec plugin's, while have_cred */
    bool have_cred;
    long timeout_ms, connect_timeout_ms;
    size_t max_body;
    kube_tally *tally; /* NULL: none */
};

void kube_reply_free(kube_reply *r)
{
    free(r->body);
    memset(r, 0, sizeof *r);
}

/* The configuration as kubectl finds it: the option, else $KUBECONFIG (missing files skipped),
 * else ~/.kube/config, else a pod's service account. */
static int find_config(const kube_options *o, kube_config *cfg, tp_err *err)
{
    if (o->kubeconfig && *o->kubeconfig)
        return kubeconfig_load(o->kubeconfig, true, o->context, cfg, err);
    const char *env = getenv("KUBECONFIG");
    int rc = 1;
    if (env && *env)
        rc = kubeconfig_load(env, false, o->context, cfg, err);
    else if (getenv("HOME"))
        rc = kubeconfig_load("~/.kube/config", false, o->context, cfg, err);
    if (rc <= 0)
        return rc;
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    struct stat st;
    if (host && *host && stat(SERVICEACCOUNT "/token", &st) == 0) {
        if (o->context && *o->context && !str_eq(o->context, "in-cluster"))
            return tp_err_set(err, "in-cluster: no kubeconfig holds context \"%s\"", o->context);
        return kubeconfig_in_cluster(SERVICEACCOUNT, host, getenv("KUBERNETES_SERVICE_PORT"), cfg,
                                     err);
    }
    return tp_err_set(err,
                      "no kubeconfig: %s, ~/.kube/config does not exist and this is not "
                      "a pod with a service account",
                      env && *env ? "no file of $KUBECONFIG exists" : "$KUBECONFIG is unset");
}

kube_client *kube_client_new(const kube_options *opts, tp_err *err)
{
    kube_options none = {0};
    const kube_options *o = opts ? opts : &none;
    kube_client *c = xcalloc(1, sizeof *c);
    if (find_config(o, &c->cfg, err) != 0) {
        free(c);
        return NULL;
    }
    c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
    c->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 10000;
    c->max_body = o->max_body > 0 ? o->max_body : KUBE_MAX_BODY;
    c->tally = o->tally;
    c->http = http_driver_new(err);
    if (!c->http) {
        kube_client_free(c);
        return NULL;
    }
    return c;
}

void kube_client_free(kube_client *c)
{
    if (!c)
        return;
    http_driver_free(c->http);
    kube_cred_free(&c->cred);
    kube_config_free(&c->cfg);
    free(c);
}

const char *kube_client_context(const kube_client *c)
{
    return c->cfg.context;
}

const char *kube_client_user(const kube_client *c)
{
    return c->cfg.user;
}

const char *kube_client_server(const kube_client *c)
{
    return c->cfg.server;
}

const char *kube_client_namespace(const kube_client *c)
{
    return c->cfg.namespace_;
}

static tp_time now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (tp_time){ts.tv_sec, (int32_t)ts.tv_nsec};
}

/* The bearer token for this request into *token (a new secret string, or NULL), and the client
 * certificate to present. tokenFile is read every time (a service account token rotates); an
 * exec plugin's credential is kept until it expires or refresh says the server refused it. */
static int credentials(kube_client *c, bool refresh, char **token, const char **cert,
                       size_t *cert_len, const char **key, size_t *key_len, tp_err *err)
{
    *token = NULL;
    *cert = c->cfg.cert_pem;
    *cert_len = c->cfg.cert_pem_len;
    *key = c->cfg.key_pem;
    *key_len = c->cfg.key_pem_len;
    if (c->cfg.token_file) {
        strbuf sb = {0};
        int rc = file_read_all(c->cfg.token_file, NULL, &sb, err);
        if (rc == 0 && sb.len > KUBE_TOKEN_MAX)
            rc = tp_err_set(err, "%s: larger than a token", c->cfg.token_file);
        if (rc == 0 && !*str_trim(sb.data))
            rc = tp_err_set(err, "%s: empty", c->cfg.token_file);
        if (rc == 0)
            *token = xstrdup(str_trim(sb.data));
        if (sb.data)
            memset(sb.data, 0, sb.len);
        strbuf_free(&sb);
        if (rc < 0)
            tp_err_prefix(err, "kube context %s: tokenFile", c->cfg.context);
        return rc;
    }
    if (c->cfg.token) {
        *token = xstrdup(c->cfg.token);
        return 0;
    }
    if (!c->cfg.exec)
        return 0;
    if (refresh || !c->have_cred || kube_cred_expired(&c->cred, now())) {
        kube_cred_free(&c->cred);
        c->have_cred = false;
        if (kube_exec_run(c->cfg.exec, &c->cfg, KUBE_EXEC_TIMEOUT, &c->cred, err) < 0) {
            tp_err_prefix(err, "kube context %s, user %s", c->cfg.context, c->cfg.user);
            return -1;
        }
        c->have_cred = true;
    }
    *token = xstrdup(c->cred.token);
    if (c->cred.cert_pem) {
        *cert = c->cred.cert_pem;
        *cert_len = strlen(c->cred.cert_pem);
        *key = c->cred.key_pem;
        *key_len = strlen(c->cred.key_pem);
    }
    return 0;
}

typedef struct call_state {
    bool done;
    long status;
    http_failure failure;
    char message[384];
    char *body;
    size_t body_len;
} call_state;

static void on_done(void *ud, http_response *resp)
{
    call_state *st = ud;
    st->done = true;
    st->status = resp->status;
    st->failure = resp->failure;
    memcpy(st->message, resp->message, sizeof st->message);
    st->body = resp->body; /* taken */
    st->body_len = resp->body_len;
    resp->body = NULL;
}

/* "in namespace argocd", "in every namespace" */
static void where(const kube_what *w, char *buf, size_t len)
{
    if (!w->namespace_ || str_eq(w->namespace_, "*"))
        snprintf(buf, len, "in every namespace");
    else
        snprintf(buf, len, "in namespace %s", w->namespace_);
}

/* The server's Status message (or the body's first line when it is no Status), printable and
 * cut, into buf; "" when there is none. */
static void server_text(const char *body, size_t len, char *buf, size_t buflen)
{
    buf[0] = '\0';
    if (!body || !len)
        return;
    cJSON *st = cJSON_ParseWithLength(body, len);
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(st, "message");
    char *raw = cJSON_IsString(msg)
                    ? xstrdup(msg->valuestring)
                    : xstrndup(body, strcspn(body, "\r\n") < 300 ? strcspn(body, "\r\n") : 300);
    cJSON_Delete(st);
    char *shown = str_printable(raw);
    snprintf(buf, buflen, "%.200s%s", shown, strlen(shown) > 200 ? "..." : "");
    free(shown);
    free(raw);
}

kube_status kube_status_error(const kube_client *c, const kube_what *w, long code, const char *body,
                              size_t body_len, tp_err *err)
{
    char in[300], said[256], obj[300];
    where(w, in, sizeof in);
    server_text(body, body_len, said, sizeof said);
    const char *sep = said[0] ? "; the server said: " : "";
    if (w->name)
        snprintf(obj, sizeof obj, "%s \"%s\"", w->plural, w->name);
    else
        snprintf(obj, sizeof obj, "%s", w->plural);
    bool every = !w->namespace_ || str_eq(w->namespace_, "*");
    switch (code) {
    case 401:
        tp_err_set(err,
                   "cannot %s %s %s: unauthorized (context %s, user %s) — the server refused "
                   "the credentials%s%s%s",
                   w->verb, obj, in, c->cfg.context, c->cfg.user,
                   c->cfg.exec ? ", also the exec plugin's new ones" : "", sep, said);
        return KUBE_DENIED;
    case 403:
        tp_err_set(err,
                   "cannot %s %s %s: forbidden (context %s, user %s) — the %s needs \"%s\"%s%s",
                   w->verb, w->plural, in, c->cfg.context, c->cfg.user,
                   every ? "ClusterRole" : "Role", w->verb, sep, said);
        return KUBE_DENIED;
    case 404:
        if (w->name)
            tp_err_set(err, "%s not found %s (context %s)", obj, in, c->cfg.context);
        else
            tp_err_set(err, "cannot %s %s %s: the server does not serve them (context %s)%s%s",
                       w->verb, obj, in, c->cfg.context, sep, said);
        return KUBE_NOT_FOUND;
    case 409:
        tp_err_set(err, "cannot %s %s %s: conflict — it changed since it was read (context %s)%s%s",
                   w->verb, obj, in, c->cfg.context, sep, said);
        return KUBE_CONFLICT;
    case 410:
        tp_err_set(err, "cannot %s %s %s: the resourceVersion is too old (410 Gone)", w->verb, obj,
                   in);
        return KUBE_GONE;
    default:
        if (code >= 300 && code < 400)
            tp_err_set(err, "cannot %s %s %s: the server answered with a redirect (%ld)", w->verb,
                       obj, in, code);
        else
            tp_err_set(err, "cannot %s %s %s: HTTP %ld (context %s)%s%s", w->verb, obj, in, code,
                       c->cfg.context, sep, said);
        return KUBE_ERROR;
    }
}

static void wipe(char *s)
{
    if (s)
        memset(s, 0, strlen(s));
}

kube_status kube_request(kube_client *c, const char *method, const char *path,
                         const char *content_type, const char *body, const kube_what *what,
                         http_data_fn on_data, void *data_ud, long timeout_ms, atomic_bool *stop,
                         kube_reply *reply, tp_err *err)
{
    memset(reply, 0, sizeof *reply);
    char *url = xasprintf("%s%s", c->cfg.server, path);
    kube_status result = KUBE_ERROR;
    /* A 401 with an exec plugin: its credential may have been revoked early; run it again once,
     * as kubectl does. */
    bool can_refresh = c->cfg.exec && !c->cfg.token && !c->cfg.token_file;
    for (int attempt = 0; attempt < 2; attempt++) {
        char *token = NULL, *authorization = NULL;
        const char *cert, *key;
        size_t cert_len, key_len;
        if (credentials(c, attempt > 0, &token, &cert, &cert_len, &key, &key_len, err) < 0)
            break;
        if (token)
            authorization = xasprintf("Bearer %s", token);
        http_request_spec spec = {
            .method = method,
            .url = url,
            .accept = "application/json",
            .authorization = authorization,
            .body = body,
            .body_len = body ? strlen(body) : 0,
            .content_type = content_type,
            .ca_pem = c->cfg.ca_pem,
            .ca_pem_len = c->cfg.ca_pem_len,
            .client_cert_pem = cert,
            .client_cert_pem_len = cert_len,
            .client_key_pem = key,
            .client_key_pem_len = key_len,
            .insecure = c->cfg.insecure,
            .max_body = c->max_body,
            .connect_timeout_ms = c->connect_timeout_ms,
            .total_timeout_ms = on_data ? timeout_ms : c->timeout_ms,
            /* a watch may be quiet for minutes; a request that drips is cut */
            .low_speed_bytes = on_data ? 0 : 1,
            .low_speed_seconds = on_data ? 0 : c->timeout_ms / 1000,
            .no_redirects = true, /* an API server does not redirect; credentials stay */
            .trust_hint = "set certificate-authority(-data) or insecure-skip-tls-verify in the "
                          "kubeconfig",
            .on_data = on_data,
            .data_ud = data_ud,
        };
        call_state st = {0};
        http_transfer *t = http_submit(c->http, &spec, on_done, &st);
        if (c->tally)
            atomic_fetch_add_explicit(&c->tally->requests, 1, memory_order_relaxed);
        wipe(authorization);
        free(authorization);
        kube_wipe_free(token);
        bool stopped = false;
        while (!st.done) {
            if (stop && atomic_load(stop)) {
                http_cancel(c->http, t);
                stopped = true;
                break;
            }
            if (http_driver_perform(c->http, 200, NULL, 0, err) < 0) {
                http_cancel(c->http, t);
                break;
            }
        }
        if (stopped || st.failure == HTTP_FAIL_ABORTED) {
            free(st.body);
            result = KUBE_OK; /* the caller asked to stop: status stays 0 */
            break;
        }
        /* No reply, or a refusal: an error for /metrics (a stop above is neither). */
        if (c->tally && (!st.done || st.status == 0 || st.status >= 400))
            atomic_fetch_add_explicit(&c->tally->errors, 1, memory_order_relaxed);
        if (!st.done)
            break; /* the driver failed: err says why */
        if (st.status == 0) {
            free(st.body);
            tp_err_set(err, "kube context %s (%s): %s", c->cfg.context, c->cfg.server, st.message);
            break;
        }
        reply->status = st.status;
        reply->body = st.body;
        reply->body_len = st.body_len;
        if (st.status == 401 && can_refresh && attempt == 0) {
            kube_reply_free(reply);
            continue;
        }
        if (st.status >= 200 && st.status < 300)
            result = KUBE_OK;
        else
            result = kube_status_error(c, what, st.status, reply->body, reply->body_len, err);
        break;
    }
    free(url);
    return result;
}
