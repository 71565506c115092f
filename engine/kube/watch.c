/* kube/watch: a watch stream — newline-delimited JSON events read as they arrive, each line
 * bounded, the resourceVersion kept so the caller can resume, ERROR events turned into the
 * status they carry (410: list again). */
#include "kube/internal.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KUBE_MAX_LINE (16u << 20) /* one event: an object is at most ~1.5 MiB in etcd */

int kube_lines_feed(kube_lines *l, const char *data, size_t len,
                    int (*on_line)(void *ud, const char *line, size_t len), void *ud, tp_err *err)
{
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t take = nl ? (size_t)(nl - data) : len;
        if (l->partial.len + take > l->max_line)
            return tp_err_set(err, "a watch event longer than %zu bytes", l->max_line);
        strbuf_append(&l->partial, data, take);
        if (!nl)
            break;
        data += take + 1;
        len -= take + 1;
        size_t n = l->partial.len;
        l->partial.len = 0; /* the buffer is reused for the next line */
        if (n > 0 && !(n == 1 && l->partial.data[0] == '\r')) {
            int rc = on_line(ud, l->partial.data, n);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

void kube_lines_free(kube_lines *l)
{
    strbuf_free(&l->partial);
}

typedef struct watch_ctx {
    kube_client *client;
    const kube_what *what;
    kube_lines lines;
    kube_watch_fn fn;
    void *ud;
    char **resource_version;
    atomic_bool *stop;
    kube_status status; /* an event's error; KUBE_OK while none */
    tp_err *err;
} watch_ctx;

static int on_event(void *ud, const char *line, size_t len)
{
    watch_ctx *w = ud;
    cJSON *ev = cJSON_ParseWithLength(line, len);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "type");
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(ev, "object");
    if (!cJSON_IsObject(ev) || !cJSON_IsString(type) || !cJSON_IsObject(obj)) {
        cJSON_Delete(ev);
        w->status = KUBE_ERROR;
        tp_err_set(w->err,
                   "kube: watch %s: an event that is not a JSON object with a type and "
                   "an object",
                   w->what->plural);
        return -1;
    }
    const char *t = type->valuestring;
    if (str_eq(t, "ERROR")) {
        /* the object is a Status: 410 when the resourceVersion is too old */
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(obj, "code");
        long c = cJSON_IsNumber(code) ? (long)code->valuedouble : 500;
        char *text = cJSON_PrintUnformatted(obj);
        w->status =
            kube_status_error(w->client, w->what, c < 300 ? 500 : c, text, strlen(text), w->err);
        cJSON_free(text);
        cJSON_Delete(ev);
        return -1;
    }
    int rc = 0;
    if (str_eq(t, "ADDED") || str_eq(t, "MODIFIED") || str_eq(t, "DELETED") ||
        str_eq(t, "BOOKMARK")) {
        const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
        const cJSON *rv = cJSON_GetObjectItemCaseSensitive(meta, "resourceVersion");
        if (cJSON_IsString(rv) && *rv->valuestring) {
            free(*w->resource_version);
            *w->resource_version = xstrdup(rv->valuestring);
        }
        rc = w->fn(w->ud, t, obj) ? 1 : 0;
    } /* an event type this client does not know is skipped, as client-go's reflector does */
    cJSON_Delete(ev);
    return rc;
}

static bool on_data(void *ud, const char *data, size_t len)
{
    watch_ctx *w = ud;
    if (w->stop && atomic_load(w->stop))
        return false;
    int rc = kube_lines_feed(&w->lines, data, len, on_event, w, w->err);
    if (rc < 0 && w->status == KUBE_OK) {
        w->status = KUBE_ERROR; /* a line too long */
        tp_err_prefix(w->err, "kube: watch %s", w->what->plural);
    }
    return rc == 0;
}

kube_status kube_watch(kube_client *c, const kube_resource *r, const char *label_selector,
                       char **resource_version, int timeout_s, kube_watch_fn fn, void *ud,
                       atomic_bool *stop, tp_err *err)
{
    char *path = kube_resource_path(r, NULL, err);
    if (!path)
        return KUBE_ERROR;
    const kube_what what = {"watch", r->plural, r->namespace_, NULL};
    strbuf url = {0};
    strbuf_puts(&url, path);
    free(path);
    kube_query_add(&url, "watch", "1");
    kube_query_add(&url, "allowWatchBookmarks", "true");
    if (*resource_version && **resource_version)
        kube_query_add(&url, "resourceVersion", *resource_version);
    if (timeout_s > 0) {
        char secs[32];
        snprintf(secs, sizeof secs, "%d", timeout_s);
        kube_query_add(&url, "timeoutSeconds", secs);
    }
    if (label_selector && *label_selector)
        kube_query_add(&url, "labelSelector", label_selector);
    watch_ctx w = {
        .client = c,
        .what = &what,
        .lines = {.max_line = KUBE_MAX_LINE},
        .fn = fn,
        .ud = ud,
        .resource_version = resource_version,
        .stop = stop,
        .status = KUBE_OK,
        .err = err,
    };
    /* The server ends the stream at timeoutSeconds; past that and a margin, curl does. */
    long client_timeout = timeout_s > 0 ? ((long)timeout_s + 30) * 1000 : 0;
    kube_reply reply;
    kube_status st = kube_request(c, "GET", url.data, NULL, NULL, &what, on_data, &w,
                                  client_timeout, stop, &reply, err);
    strbuf_free(&url);
    kube_reply_free(&reply);
    /* the last event needs no newline after it */
    if (st == KUBE_OK && w.status == KUBE_OK && w.lines.partial.len > 0 &&
        !(stop && atomic_load(stop)))
        on_event(&w, w.lines.partial.data, w.lines.partial.len);
    kube_lines_free(&w.lines);
    if (w.status != KUBE_OK)
        return w.status;
    return st;
}
