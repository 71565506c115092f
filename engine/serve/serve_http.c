/* serve_http: /metrics (Prometheus text format 0.0.4, argocd-image-updater's metric names where
 * it has them, tagpilot_* for the rest) and /healthz. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serve.h"
#include "strmap.h"

/* A label value as the text format wants it: \, " and line feed escaped. */
static void put_label(strbuf *sb, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            strbuf_printf(sb, "\\%c", *s);
        else if (*s == '\n')
            strbuf_puts(sb, "\\n");
        else
            strbuf_putc(sb, *s);
    }
}

static void family(strbuf *sb, const char *name, const char *type, const char *help)
{
    strbuf_printf(sb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

typedef struct app_count {
    size_t images, errors, updated;
} app_count;

/* One line per application with a count from pick. */
static void per_app(strbuf *sb, const model_snapshot *s, const char *name, int pick)
{
    const char *last = NULL;
    app_count n = {0};
    for (size_t i = 0; i <= s->n_images; i++) {
        const model_image *m = i < s->n_images ? s->images[i] : NULL;
        if (last && (!m || strcmp(m->app, last) != 0)) {
            strbuf_printf(sb, "%s{application=\"", name);
            put_label(sb, last);
            strbuf_printf(sb, "\"} %zu\n", pick == 0 ? n.images : pick == 1 ? n.errors : n.updated);
            n = (app_count){0};
        }
        if (!m)
            break;
        last = m->app;
        n.images++;
        n.errors += m->state == STATE_ERROR;
        /* Updates as the journal has them: every write of a new tag that committed. */
        for (size_t k = 0; k < m->n_history; k++) {
            const model_event *ev = &m->history[k];
            n.updated += ev->commit && ev->result && strcmp(ev->result, "ok") == 0;
        }
    }
}

static char *metrics(const model_snapshot *s, const serve_live *live)
{
    strbuf sb = {0};
    size_t apps = 0, pending = 0, pins = 0;
    for (size_t i = 0; i < s->n_images; i++) {
        const model_image *m = s->images[i];
        apps += i == 0 || strcmp(m->app, s->images[i - 1]->app) != 0;
        pending += m->state == STATE_UPDATE_AVAILABLE;
        pins += m->pin != NULL;
    }
    family(&sb, "argocd_image_updater_applications_watched_total", "gauge",
           "The number of applications watched");
    strbuf_printf(&sb, "argocd_image_updater_applications_watched_total %zu\n", apps);
    family(&sb, "argocd_image_updater_images_watched_total", "gauge",
           "The number of images watched, by application");
    per_app(&sb, s, "argocd_image_updater_images_watched_total", 0);
    family(&sb, "argocd_image_updater_images_updated_total", "counter",
           "The number of image updates written, by application (from the journal)");
    per_app(&sb, s, "argocd_image_updater_images_updated_total", 2);
    family(&sb, "argocd_image_updater_images_errors_total", "gauge",
           "The number of images in error now, by application");
    per_app(&sb, s, "argocd_image_updater_images_errors_total", 1);
    /* Per registry, as argocd-image-updater labels them (it puts the API URL there; here its
     * host[:port]). The name comes from an image reference: escaped like any label value. */
    family(&sb, "argocd_image_updater_registry_requests_total", "counter",
           "HTTP requests sent to a registry (its token fetches included)");
    for (size_t i = 0; i < s->n_registry_counts; i++) {
        strbuf_puts(&sb, "argocd_image_updater_registry_requests_total{registry=\"");
        put_label(&sb, s->registry_counts[i].registry);
        strbuf_printf(&sb, "\"} %llu\n", (unsigned long long)s->registry_counts[i].requests);
    }
    family(&sb, "argocd_image_updater_registry_requests_failed_total", "counter",
           "Registry requests without a reply or answered with a status >= 400 (not counting "
           "the 401 challenge to a request sent without credentials)");
    for (size_t i = 0; i < s->n_registry_counts; i++) {
        strbuf_puts(&sb, "argocd_image_updater_registry_requests_failed_total{registry=\"");
        put_label(&sb, s->registry_counts[i].registry);
        strbuf_printf(&sb, "\"} %llu\n", (unsigned long long)s->registry_counts[i].failed);
    }
    /* Always there, 0 without a cluster: a dashboard's query need not know the config. */
    family(&sb, "argocd_image_updater_k8s_api_requests_total", "counter",
           "HTTP requests sent to the Kubernetes API (sources, write-back, Secrets, the Lease)");
    strbuf_printf(&sb, "argocd_image_updater_k8s_api_requests_total %lu\n", live->kube_requests);
    family(&sb, "argocd_image_updater_k8s_api_errors_total", "counter",
           "Kubernetes API requests without a reply or answered with a status >= 400");
    strbuf_printf(&sb, "argocd_image_updater_k8s_api_errors_total %lu\n", live->kube_errors);
    family(&sb, "tagpilot_pending_approvals", "gauge",
           "Images with an update waiting for approval");
    strbuf_printf(&sb, "tagpilot_pending_approvals %zu\n", pending);
    family(&sb, "tagpilot_pins", "gauge", "Images held by a pin");
    strbuf_printf(&sb, "tagpilot_pins %zu\n", pins);
    family(&sb, "tagpilot_cycle_duration_seconds", "gauge", "How long the last cycle took");
    strbuf_printf(&sb, "tagpilot_cycle_duration_seconds %.3f\n",
                  (double)s->last_cycle_duration_ns / 1e9);
    family(&sb, "tagpilot_last_cycle_timestamp_seconds", "gauge",
           "When the last cycle finished (0: none yet)");
    strbuf_printf(&sb, "tagpilot_last_cycle_timestamp_seconds %.3f\n",
                  (double)s->last_cycle_ns / 1e9);
    family(&sb, "tagpilot_images_updated_total", "counter",
           "Writes of a new tag by this server since it started");
    strbuf_printf(&sb, "tagpilot_images_updated_total %llu\n",
                  (unsigned long long)s->images_updated);
    family(&sb, "tagpilot_journal_records", "gauge", "Records in the journal");
    strbuf_printf(&sb, "tagpilot_journal_records %zu\n", s->journal_records);
    family(&sb, "tagpilot_attached_clients", "gauge", "Clients attached to the control socket");
    strbuf_printf(&sb, "tagpilot_attached_clients %zu\n", live->clients);
    family(&sb, "tagpilot_leader", "gauge",
           "1 when this server writes (it holds serve.lease's Lease, or none is configured)");
    strbuf_printf(&sb, "tagpilot_leader %d\n", live->leader ? 1 : 0);
    return strbuf_take(&sb);
}

static char *reply(int status, const char *reason, const char *type, const char *body)
{
    return xasprintf("HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s",
                     status, reason, type, strlen(body), body);
}

char *serve_http_reply(const char *request, const model_snapshot *s, int64_t interval_ns,
                       const serve_live *live)
{
    char method[8], path[128];
    if (sscanf(request, "%7s %127s", method, path) != 2 ||
        strncmp(request + strlen(method) + 1 + strlen(path), " HTTP/1.", 8) != 0)
        return reply(400, "Bad Request", "text/plain", "bad request\n");
    bool head = strcmp(method, "HEAD") == 0;
    if (strcmp(method, "GET") != 0 && !head)
        return reply(405, "Method Not Allowed", "text/plain", "GET only\n");
    char *q = strchr(path, '?');
    if (q)
        *q = '\0';
    char *out;
    if (strcmp(path, "/metrics") == 0) {
        char *body = metrics(s, live);
        out = reply(200, "OK", "text/plain; version=0.0.4; charset=utf-8", body);
        free(body);
    } else if (strcmp(path, "/healthz") == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t now = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
        if (!s->last_cycle_ns) {
            out = reply(503, "Service Unavailable", "text/plain", "no cycle has finished yet\n");
        } else if (now - s->last_cycle_ns > 3 * interval_ns) {
            char *body = xasprintf("the last cycle finished %llds ago (interval %llds)\n",
                                   (long long)((now - s->last_cycle_ns) / 1000000000LL),
                                   (long long)(interval_ns / 1000000000LL));
            out = reply(503, "Service Unavailable", "text/plain", body);
            free(body);
        } else {
            out = reply(200, "OK", "text/plain", "ok\n");
        }
    } else {
        out = reply(404, "Not Found", "text/plain", "not found (/metrics, /healthz)\n");
    }
    if (head) { /* the headers only */
        char *end = strstr(out, "\r\n\r\n");
        if (end)
            end[4] = '\0';
    }
    return out;
}
