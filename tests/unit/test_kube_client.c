/* The kube client without a server: request paths, query encoding, the messages error replies
 * map to, and the watch stream's line splitter (engine/kube/client.c, ops.c, watch.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kube/internal.h"

static char tmpdir[64];
static kube_client *client;

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tp-kubeclient.XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
    char *path = xasprintf("%s/config", tmpdir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("current-context: prod\n"
          "contexts: [{name: prod, context: {cluster: k, user: admin, namespace: argocd}}]\n"
          "clusters: [{name: k, cluster: {server: 'https://127.0.0.1:1'}}]\n"
          "users: [{name: admin, user: {token: SECRET-TOKEN}}]\n",
          f);
    fclose(f);
    kube_options o = {.kubeconfig = path};
    tp_err err = {0};
    client = kube_client_new(&o, &err);
    cr_assert_not_null(client, "%s", err.msg);
    free(path);
}

static void teardown(void)
{
    kube_client_free(client);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(kube_client, .init = setup, .fini = teardown);

Test(kube_client, accessors)
{
    cr_assert_str_eq(kube_client_context(client), "prod");
    cr_assert_str_eq(kube_client_user(client), "admin");
    cr_assert_str_eq(kube_client_server(client), "https://127.0.0.1:1");
    cr_assert_str_eq(kube_client_namespace(client), "argocd");
}

Test(kube_client, resource_paths)
{
    tp_err err = {0};
    kube_resource apps = {"argoproj.io", "v1alpha1", "applications", "argocd"};
    char *p = kube_resource_path(&apps, "bookstore", &err);
    cr_assert_str_eq(p, "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/bookstore");
    free(p);
    kube_resource every = {"argoproj.io", "v1alpha1", "applications", "*"};
    p = kube_resource_path(&every, NULL, &err);
    cr_assert_str_eq(p, "/apis/argoproj.io/v1alpha1/applications");
    free(p);
    kube_resource secrets = {"", "v1", "secrets", "argocd"};
    p = kube_resource_path(&secrets, "repo", &err);
    cr_assert_str_eq(p, "/api/v1/namespaces/argocd/secrets/repo");
    free(p);
    /* nothing that changes the URL's shape gets in */
    static const char *bad_names[] = {"..", ".", "a/b", "a?watch=1", "a#b", "a%2f", "", "a b"};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        cr_assert_null(kube_resource_path(&apps, bad_names[i], &err), "%s", bad_names[i]);
        cr_assert_str_eq(err.msg, "kube: not a valid name for a request");
    }
    kube_resource bad_ns = {"argoproj.io", "v1alpha1", "applications", "../x"};
    cr_assert_null(kube_resource_path(&bad_ns, NULL, &err));
}

Test(kube_client, query_encoding)
{
    strbuf url = {0};
    strbuf_puts(&url, "/api/v1/secrets");
    kube_query_add(&url, "limit", "500");
    kube_query_add(&url, "labelSelector", "team=pay ments,env!=prod&x");
    kube_query_add(&url, "continue", "eyJ2Ijo+/=");
    cr_assert_str_eq(url.data, "/api/v1/secrets?limit=500"
                               "&labelSelector=team%3Dpay%20ments%2Cenv%21%3Dprod%26x"
                               "&continue=eyJ2Ijo%2B%2F%3D");
    strbuf_free(&url);
}

static const char *status_body(const char *message)
{
    static char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
             "\"message\":\"%s\",\"code\":403}",
             message);
    return buf;
}

Test(kube_client, forbidden_names_verb_resource_context_and_user)
{
    kube_what w = {"patch", "applications", "argocd", "bookstore"};
    tp_err err = {0};
    const char *body = status_body("applications.argoproj.io \\\"bookstore\\\" is forbidden");
    cr_assert_eq(kube_status_error(client, &w, 403, body, strlen(body), &err), KUBE_DENIED);
    cr_assert_str_eq(err.msg,
                     "cannot patch applications in namespace argocd: forbidden (context prod, "
                     "user admin) — the Role needs \"patch\"; the server said: "
                     "applications.argoproj.io \"bookstore\" is forbidden");
    /* every namespace: a ClusterRole */
    kube_what all = {"list", "applications", "*", NULL};
    cr_assert_eq(kube_status_error(client, &all, 403, "", 0, &err), KUBE_DENIED);
    cr_assert_str_eq(err.msg, "cannot list applications in every namespace: forbidden (context "
                              "prod, user admin) — the ClusterRole needs \"list\"");
}

Test(kube_client, other_statuses)
{
    kube_what w = {"get", "secrets", "argocd", "repo"};
    tp_err err = {0};
    cr_assert_eq(kube_status_error(client, &w, 401, "", 0, &err), KUBE_DENIED);
    cr_assert(strstr(err.msg, "cannot get secrets \"repo\" in namespace argocd: unauthorized "
                              "(context prod, user admin)"),
              "%s", err.msg);
    cr_assert_eq(kube_status_error(client, &w, 404, "", 0, &err), KUBE_NOT_FOUND);
    cr_assert_str_eq(err.msg, "secrets \"repo\" not found in namespace argocd (context prod)");
    cr_assert_eq(kube_status_error(client, &w, 409, "", 0, &err), KUBE_CONFLICT);
    cr_assert_eq(kube_status_error(client, &w, 410, "", 0, &err), KUBE_GONE);
    cr_assert_eq(kube_status_error(client, &w, 500, "", 0, &err), KUBE_ERROR);
    cr_assert_eq(kube_status_error(client, &w, 302, "", 0, &err), KUBE_ERROR);
    cr_assert(strstr(err.msg, "redirect"), "%s", err.msg);
}

/* The server's text is untrusted: one printable line, cut; a body that is no Status shows its
 * first line only. */
Test(kube_client, server_text_is_sanitised_and_cut)
{
    kube_what w = {"get", "applications", "argocd", "a"};
    tp_err err = {0};
    const char *body = status_body("evil\\u001b[2J\\nsecond line\\u202e");
    kube_status_error(client, &w, 500, body, strlen(body), &err);
    cr_assert(strstr(err.msg, "the server said: evil\\x1b[2J\\x0asecond line\\u202e"), "%s",
              err.msg);
    char big[5000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    kube_status_error(client, &w, 500, big, strlen(big), &err);
    cr_assert(strstr(err.msg, "xxx..."), "%s", err.msg);
    cr_assert_lt(strlen(err.msg), 400);
    const char *html = "<html>\n<body>bad gateway</body>";
    kube_status_error(client, &w, 502, html, strlen(html), &err);
    cr_assert(str_ends_with(err.msg, "the server said: <html>"), "%s", err.msg);
    cr_assert_null(strstr(err.msg, "SECRET-TOKEN"));
}

typedef struct seen {
    strvec lines;
    int stop_after; /* return nonzero at this many lines; 0: never */
} seen;

static int on_line(void *ud, const char *line, size_t len)
{
    seen *s = ud;
    char *copy = xstrndup(line, len);
    strvec_push(&s->lines, copy);
    free(copy);
    return s->stop_after && (int)s->lines.count == s->stop_after ? 7 : 0;
}

Test(kube_client, watch_lines_across_chunks)
{
    kube_lines l = {.max_line = 64};
    seen s = {0};
    tp_err err = {0};
    const char *chunks[] = {"{\"a\":", "1}\n{\"b\"", ":2}\r\n\n", "{\"c\":3}\n{\"d\""};
    for (size_t i = 0; i < 4; i++)
        cr_assert_eq(kube_lines_feed(&l, chunks[i], strlen(chunks[i]), on_line, &s, &err), 0);
    cr_assert_eq(s.lines.count, 3);
    cr_assert_str_eq(s.lines.items[0], "{\"a\":1}");
    cr_assert_str_eq(s.lines.items[1], "{\"b\":2}\r"); /* JSON reads the \r as blank */
    cr_assert_str_eq(s.lines.items[2], "{\"c\":3}");
    cr_assert_eq(l.partial.len, 4); /* {"d" waits for its end */
    strvec_free(&s.lines);
    kube_lines_free(&l);
}

Test(kube_client, watch_line_too_long_fails_cleanly)
{
    kube_lines l = {.max_line = 16};
    seen s = {0};
    tp_err err = {0};
    /* 10 + 10 bytes without a newline: the second chunk passes the cap */
    cr_assert_eq(kube_lines_feed(&l, "0123456789", 10, on_line, &s, &err), 0);
    cr_assert_eq(kube_lines_feed(&l, "0123456789", 10, on_line, &s, &err), -1);
    cr_assert_str_eq(err.msg, "a watch event longer than 16 bytes");
    cr_assert_leq(l.partial.cap, 64); /* it did not grow past the cap */
    kube_lines_free(&l);
    /* exactly the cap is fine */
    kube_lines m = {.max_line = 4};
    cr_assert_eq(kube_lines_feed(&m, "abcd\n", 5, on_line, &s, &err), 0);
    cr_assert_eq(s.lines.count, 1);
    kube_lines_free(&m);
    strvec_free(&s.lines);
}

Test(kube_client, watch_lines_stop_when_asked)
{
    kube_lines l = {.max_line = 64};
    seen s = {.stop_after = 2};
    tp_err err = {0};
    cr_assert_eq(kube_lines_feed(&l, "a\nb\nc\n", 6, on_line, &s, &err), 7);
    cr_assert_eq(s.lines.count, 2);
    strvec_free(&s.lines);
    kube_lines_free(&l);
}
