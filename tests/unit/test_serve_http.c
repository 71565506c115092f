/* /metrics as serve_http_reply writes it (engine/serve/serve_http.c): one series per registry,
 * label values escaped as the text format wants (a registry's name comes from an image
 * reference, which anyone who can commit to the config repository writes), the Kubernetes
 * counters from what the server reads live. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "model_build.h"
#include "serve/serve.h"

static char *metrics_of(const model_registry_count *counts, size_t n, const serve_live *live)
{
    model_header h = {.registry_counts = counts, .n_registry_counts = n, .sources = "test"};
    model_snapshot *s = model_snapshot_new(&h, NULL, 0);
    char *page = serve_http_reply("GET /metrics HTTP/1.1\r\n\r\n", s, 60000000000LL, live);
    model_snapshot_unref(s);
    char *body = strstr(page, "\r\n\r\n");
    cr_assert(body, "no header/body separator in %s", page);
    char *out = strdup(body + 4);
    free(page);
    return out;
}

Test(serve_http, one_series_per_registry)
{
    model_registry_count counts[] = {{"ghcr.io", 12, 1}, {"127.0.0.1:5000", 3, 0}};
    serve_live live = {0};
    char *m = metrics_of(counts, 2, &live);
    cr_expect(
        strstr(m, "\nargocd_image_updater_registry_requests_total{registry=\"ghcr.io\"} 12\n"),
        "%s", m);
    cr_expect(strstr(m,
                     "\nargocd_image_updater_registry_requests_total{registry=\"127.0.0.1:5000\"} "
                     "3\n"),
              "%s", m);
    cr_expect(
        strstr(m,
               "\nargocd_image_updater_registry_requests_failed_total{registry=\"ghcr.io\"} 1\n"),
        "%s", m);
    cr_expect(strstr(m,
                     "\nargocd_image_updater_registry_requests_failed_total{registry=\"127.0.0.1:"
                     "5000\"} 0\n"),
              "%s", m);
    cr_expect_null(strstr(m, "registry=\"*\""), "no all-registries series any more: %s", m);
    free(m);
}

Test(serve_http, hostile_registry_names_are_escaped)
{
    /* A quote, a backslash and a line feed: unescaped, the line feed would end the sample and
     * start a line of the attacker's choosing. */
    model_registry_count counts[] = {{"evil\"} 1\nfake_metric{x=\"y\\", 7, 7}};
    serve_live live = {0};
    char *m = metrics_of(counts, 1, &live);
    cr_expect(strstr(m, "argocd_image_updater_registry_requests_total{registry=\"evil\\\"} "
                        "1\\nfake_metric{x=\\\"y\\\\\"} 7\n"),
              "%s", m);
    /* Every line is a comment or a sample of one of our families. */
    char *save = NULL;
    for (char *line = strtok_r(m, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        cr_expect(line[0] == '#' || strncmp(line, "argocd_image_updater_", 21) == 0 ||
                      strncmp(line, "tagpilot_", 9) == 0,
                  "a line that is not ours: %s", line);
    free(m);
}

Test(serve_http, kubernetes_counters_always_there)
{
    serve_live none = {0};
    char *m = metrics_of(NULL, 0, &none);
    cr_expect(strstr(m, "\nargocd_image_updater_k8s_api_requests_total 0\n"), "%s", m);
    cr_expect(strstr(m, "\nargocd_image_updater_k8s_api_errors_total 0\n"), "%s", m);
    cr_expect(strstr(m, "# TYPE argocd_image_updater_k8s_api_errors_total counter\n"), "%s", m);
    free(m);
    serve_live live = {.kube_requests = 41, .kube_errors = 2};
    m = metrics_of(NULL, 0, &live);
    cr_expect(strstr(m, "\nargocd_image_updater_k8s_api_requests_total 41\n"), "%s", m);
    cr_expect(strstr(m, "\nargocd_image_updater_k8s_api_errors_total 2\n"), "%s", m);
    free(m);
}
