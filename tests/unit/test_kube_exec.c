/* Exec credential plugins (engine/kube/exec.c): what they print, and plugins that misbehave. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kube/internal.h"

static char tmpdir[64];

static void make_tmp(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tp-kubeexec.XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tmp(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    cr_assert_eq(system(cmd), 0);
}

static char *script(const char *name, const char *body)
{
    char *path = xasprintf("%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "#!/bin/sh\n%s", body);
    fclose(f);
    chmod(path, 0700);
    return path;
}

TestSuite(kube_exec, .init = make_tmp, .fini = remove_tmp);

#define V1     "client.authentication.k8s.io/v1"
#define V1BETA "client.authentication.k8s.io/v1beta1"

static int parse(const char *json, const char *api, kube_cred *out, tp_err *err)
{
    return kube_exec_parse(json, strlen(json), api, out, err);
}

Test(kube_exec, parse_token_and_expiry)
{
    kube_cred cred;
    tp_err err = {0};
    cr_assert_eq(parse("{\"kind\":\"ExecCredential\",\"apiVersion\":\"" V1 "\","
                       "\"status\":{\"token\":\"tok-1\","
                       "\"expirationTimestamp\":\"2030-01-02T03:04:05Z\"}}",
                       V1, &cred, &err),
                 0, "%s", err.msg);
    cr_assert_str_eq(cred.token, "tok-1");
    cr_assert(cred.expires);
    tp_time before = {1893553445 - 1, 0}, at = {1893553445, 0}; /* 2030-01-02T03:04:05Z */
    cr_assert_not(kube_cred_expired(&cred, before));
    cr_assert(kube_cred_expired(&cred, at));
    kube_cred_free(&cred);
    /* no expirationTimestamp: good until the server says otherwise */
    cr_assert_eq(parse("{\"kind\":\"ExecCredential\",\"apiVersion\":\"" V1BETA "\","
                       "\"status\":{\"token\":\"t\"}}",
                       V1BETA, &cred, &err),
                 0, "%s", err.msg);
    cr_assert_not(cred.expires);
    cr_assert_not(kube_cred_expired(&cred, (tp_time){253402300799, 0}));
    kube_cred_free(&cred);
}

Test(kube_exec, parse_client_certificate)
{
    kube_cred cred;
    tp_err err = {0};
    cr_assert_eq(parse("{\"kind\":\"ExecCredential\",\"apiVersion\":\"" V1 "\","
                       "\"status\":{\"clientCertificateData\":\"-----BEGIN CERTIFICATE-----\\n\","
                       "\"clientKeyData\":\"-----BEGIN PRIVATE KEY-----\\n\"}}",
                       V1, &cred, &err),
                 0, "%s", err.msg);
    cr_assert_null(cred.token);
    cr_assert_str_eq(cred.cert_pem, "-----BEGIN CERTIFICATE-----\n");
    cr_assert_str_eq(cred.key_pem, "-----BEGIN PRIVATE KEY-----\n");
    kube_cred_free(&cred);
}

Test(kube_exec, bad_credentials_say_why_without_the_secret)
{
    static const struct {
        const char *json;
        const char *message;
    } cases[] = {
        {"", "no JSON object"},
        {"not json at all SECRET-1", "no JSON object"},
        {"[1,2,3]", "no JSON object"},
        {"{\"kind\":\"Pod\",\"apiVersion\":\"" V1 "\",\"status\":{\"token\":\"SECRET-1\"}}",
         "not an ExecCredential"},
        {"{\"kind\":\"ExecCredential\",\"apiVersion\":\"" V1BETA "\","
         "\"status\":{\"token\":\"SECRET-1\"}}",
         "answered in apiVersion another, but the kubeconfig asks for " V1},
        {"{\"kind\":\"ExecCredential\",\"apiVersion\":\"" V1 "\"}", "without a status"},
        {"{\"kind\":\"ExecCredential\",\"apiVersion\":\"" V1 "\",\"status\":{}}",
         "neither a token nor a client certificate"},
        {"{\"kind\":\"ExecCredential\",\"apiVersion\":\"" V1 "\","
         "\"status\":{\"clientKeyData\":\"SECRET-1\"}}",
         "without its key"},
        {"{\"kind\":\"ExecCredential\",\"apiVersion\":\"" V1 "\","
         "\"status\":{\"token\":\"SECRET-1\",\"expirationTimestamp\":\"tomorrow\"}}",
         "not an RFC 3339 time"},
        {"{\"kind\":\"ExecCredential\",\"apiVersion\":\"" V1 "\","
         "\"status\":{\"token\":42}}",
         "neither a token"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kube_cred cred;
        tp_err err = {0};
        cr_assert_eq(parse(cases[i].json, V1, &cred, &err), -1, "case %zu parsed", i);
        cr_assert(strstr(err.msg, cases[i].message), "case %zu: %s", i, err.msg);
        cr_assert_null(strstr(err.msg, "SECRET-1"), "case %zu shows the secret", i);
    }
}

Test(kube_exec, hostile_json_is_an_error_not_a_crash)
{
    /* 100,000 nested arrays: cJSON refuses the depth */
    size_t n = 100000;
    char *deep = xmalloc(2 * n + 1);
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    deep[2 * n] = '\0';
    kube_cred cred;
    tp_err err = {0};
    cr_assert_eq(parse(deep, V1, &cred, &err), -1);
    free(deep);
    /* a NUL inside the length: read no further than it */
    static const char withnul[] = "{\"kind\":\"ExecCredential\"\0garbage";
    cr_assert_eq(kube_exec_parse(withnul, sizeof withnul - 1, V1, &cred, &err), -1);
}

static kube_exec_config exec_of(const char *command)
{
    kube_exec_config e = {0};
    e.api_version = (char *)V1;
    e.command = (char *)command;
    return e;
}

/* The plugin gets its args, the kubeconfig's env and KUBERNETES_EXEC_INFO (with the cluster
 * when provideClusterInfo), and stdin closed. */
Test(kube_exec, run_passes_args_env_and_exec_info)
{
    char *info_file = xasprintf("%s/info", tmpdir);
    char *body =
        xasprintf("printf '%%s' \"$KUBERNETES_EXEC_INFO\" > '%s'\n"
                  "read line && exit 9\n" /* stdin must be at end of file */
                  "printf '{\"kind\":\"ExecCredential\",\"apiVersion\":\"%s\","
                  "\"status\":{\"token\":\"%%s-%%s-%%s\"}}' \"$1\" \"$2\" \"$PLUGIN_VAR\"\n",
                  info_file, V1);
    char *path = script("plugin", body);
    kube_exec_config e = exec_of(path);
    strvec_push(&e.args, "a b");
    strvec_push(&e.args, "$HOME");
    strvec_push(&e.env_names, "PLUGIN_VAR");
    strvec_push(&e.env_values, "from-config");
    e.provide_cluster_info = true;
    kube_config cfg = {.server = (char *)"https://k:6443", .ca_pem = (char *)"CA", .ca_pem_len = 2};
    kube_cred cred;
    tp_err err = {0};
    cr_assert_eq(kube_exec_run(&e, &cfg, 10000, &cred, &err), 0, "%s", err.msg);
    cr_assert_str_eq(cred.token, "a b-$HOME-from-config"); /* no shell between us */
    kube_cred_free(&cred);
    strbuf info = {0};
    cr_assert_eq(file_read_all(info_file, NULL, &info, &err), 0);
    cr_assert(strstr(info.data, "\"kind\":\"ExecCredential\""), "%s", info.data);
    cr_assert(strstr(info.data, "\"apiVersion\":\"" V1 "\""), "%s", info.data);
    cr_assert(strstr(info.data, "\"interactive\":false"), "%s", info.data);
    cr_assert(strstr(info.data, "\"server\":\"https://k:6443\""), "%s", info.data);
    cr_assert(strstr(info.data, "\"certificate-authority-data\":\"Q0E=\""), "%s", info.data);
    strbuf_free(&info);
    strvec_free(&e.args);
    strvec_free(&e.env_names);
    strvec_free(&e.env_values);
    free(path);
    free(body);
    free(info_file);
}

/* A failing plugin: its stderr's last line, made printable; never what it printed on stdout. */
Test(kube_exec, failure_shows_the_last_stderr_line)
{
    char *path = script("fails", "echo '{\"status\":{\"token\":\"STDOUT-SECRET\"}}'\n"
                                 "echo 'first line' >&2\n"
                                 "printf 'error: token expired \\033[31mred\\n\\n' >&2\n"
                                 "exit 3\n");
    kube_exec_config e = exec_of(path);
    kube_cred cred;
    tp_err err = {0};
    cr_assert_eq(kube_exec_run(&e, NULL, 10000, &cred, &err), -1);
    cr_assert(strstr(err.msg, "failed (exit 3): error: token expired \\x1b[31mred"), "%s", err.msg);
    cr_assert_null(strstr(err.msg, "first line"));
    cr_assert_null(strstr(err.msg, "STDOUT-SECRET"));
    free(path);
}

Test(kube_exec, junk_output_is_an_error)
{
    char *path = script("junk", "echo 'hello, I am not JSON'\n");
    kube_exec_config e = exec_of(path);
    kube_cred cred;
    tp_err err = {0};
    cr_assert_eq(kube_exec_run(&e, NULL, 10000, &cred, &err), -1);
    cr_assert(strstr(err.msg, "printed no JSON object"), "%s", err.msg);
    free(path);
    path = script("flood", "head -c 3000000 /dev/zero | tr '\\0' x\n");
    e = exec_of(path);
    cr_assert_eq(kube_exec_run(&e, NULL, 10000, &cred, &err), -1);
    cr_assert(strstr(err.msg, "printed more than"), "%s", err.msg);
    free(path);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A plugin that hangs — and one whose child keeps the pipe open — is killed at the deadline. */
Test(kube_exec, hanging_plugin_is_killed_at_the_deadline)
{
    char *path = script("hangs", "echo 'waiting for a browser' >&2\n"
                                 "sleep 30 &\n"
                                 "sleep 30\n");
    kube_exec_config e = exec_of(path);
    kube_cred cred;
    tp_err err = {0};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(kube_exec_run(&e, NULL, 700, &cred, &err), -1);
    double took = seconds_since(&t0);
    cr_assert_lt(took, 5.0, "took %.1f s", took);
    cr_assert(strstr(err.msg, "did not finish within 0.7 s: waiting for a browser"), "%s", err.msg);
    free(path);
}

Test(kube_exec, missing_command_shows_the_install_hint)
{
    kube_exec_config e = exec_of("tp-no-such-plugin-here");
    e.install_hint = (char *)"brew install\nsomething";
    kube_cred cred;
    tp_err err = {0};
    cr_assert_eq(kube_exec_run(&e, NULL, 10000, &cred, &err), -1);
    cr_assert(strstr(err.msg, "\"tp-no-such-plugin-here\": cannot run it: No such file or "
                              "directory — brew install\\x0asomething"),
              "%s", err.msg);
}
