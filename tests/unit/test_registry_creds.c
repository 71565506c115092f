#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registry/creds.h"

static char tmpdir[64];

static void make_tmp(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tp-creds.XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tmp(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    cr_assert_eq(system(cmd), 0);
}

static char *write_file(const char *name, const char *text, mode_t mode)
{
    char *path = xasprintf("%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
    return path;
}

TestSuite(registry_creds, .init = make_tmp, .fini = remove_tmp);

Test(registry_creds, env_spec)
{
    setenv("TP_TEST_CREDS", "alice:pa:ss", 1);
    registry_creds c;
    tp_err err;
    cr_assert_eq(registry_creds_resolve("env:TP_TEST_CREDS", "ghcr.io", 0, NULL, &c, &err), 0);
    cr_assert_str_eq(c.username, "alice");
    cr_assert_str_eq(c.password, "pa:ss"); /* split at the first ':' */
    cr_assert_str_eq(c.source, "env:TP_TEST_CREDS");
    registry_creds_free(&c);
}

struct bad_spec {
    const char *spec;
    const char *message;
};

Test(registry_creds, bad_specs_say_why_without_the_secret)
{
    setenv("TP_TEST_NOCOLON", "justasecretvalue", 1);
    unsetenv("TP_TEST_UNSET");
    static const struct bad_spec cases[] = {
        {"env:TP_TEST_UNSET", "credentials 'env:TP_TEST_UNSET': environment variable TP_TEST_UNSET "
                              "is not set"},
        {"env:TP_TEST_NOCOLON", "credentials 'env:TP_TEST_NOCOLON': value is not user:password"},
        {"pullsecret:argocd/regcred", "no kubernetes source is configured"},
        {"secret:argocd/creds#token", "no kubernetes source is configured"},
        {"pullsecret:regcred", "expected pullsecret:NAMESPACE/NAME"},
        {"pullsecret:argocd/regcred#x", "(no #field)"},
        {"secret:argocd/creds", "expected secret:NAMESPACE/NAME#FIELD"},
        {"secret:Argo/creds#f", "not a Kubernetes namespace/name"},
        {"secret:argocd/creds#", "not a Kubernetes namespace/name"},
        {"ext:relative/script.sh", "the script path must be absolute"},
        {"ext:/nonexistent/script", "cannot run /nonexistent/script"},
        {"vault:foo", "unknown kind"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        registry_creds c;
        tp_err err = {{0}};
        cr_assert_eq(registry_creds_resolve(cases[i].spec, "ghcr.io", 0, NULL, &c, &err), -1, "%s",
                     cases[i].spec);
        cr_assert(strstr(err.msg, cases[i].message), "want «%s» in «%s»", cases[i].message,
                  err.msg);
        cr_assert_null(strstr(err.msg, "justasecretvalue"), "secret leaked: %s", err.msg);
        cr_assert_null(c.username);
    }
}

Test(registry_creds, ext_script)
{
    char *ok = write_file("ok.sh", "#!/bin/sh\necho 'bob:hunter2'\n", 0700);
    char *spec = xasprintf("ext:%s", ok);
    registry_creds c;
    tp_err err;
    cr_assert_eq(registry_creds_resolve(spec, "ghcr.io", 0, NULL, &c, &err), 0, "%s", err.msg);
    cr_assert_str_eq(c.username, "bob");
    cr_assert_str_eq(c.password, "hunter2");
    registry_creds_free(&c);
    free(spec);
    free(ok);

    char *bad = write_file("bad.sh", "#!/bin/sh\necho 'hunter2'\n", 0700);
    spec = xasprintf("ext:%s", bad);
    cr_assert_eq(registry_creds_resolve(spec, "ghcr.io", 0, NULL, &c, &err), -1);
    cr_assert(strstr(err.msg, "script output is not user:password"), "%s", err.msg);
    cr_assert_null(strstr(err.msg, "hunter2"));
    free(spec);
    free(bad);

    char *fails = write_file("fails.sh", "#!/bin/sh\nexit 3\n", 0700);
    spec = xasprintf("ext:%s", fails);
    cr_assert_eq(registry_creds_resolve(spec, "ghcr.io", 0, NULL, &c, &err), -1);
    cr_assert(strstr(err.msg, "script failed (exit 3)"), "%s", err.msg);
    free(spec);
    free(fails);
}

Test(registry_creds, ext_script_timeout_kills_it)
{
    char *slow = write_file("slow.sh", "#!/bin/sh\nsleep 30\necho a:b\n", 0700);
    char *spec = xasprintf("ext:%s", slow);
    registry_creds c;
    tp_err err;
    cr_assert_eq(registry_creds_resolve(spec, "ghcr.io", 300, NULL, &c, &err), -1);
    cr_assert(strstr(err.msg, "did not finish within"), "%s", err.msg);
    free(spec);
    free(slow);
}

Test(registry_creds, docker_config)
{
    /* base64("carol:pw1") and a username/password entry; keys as docker writes them */
    char *cfg = write_file("config.json",
                           "{\"auths\": {\n"
                           "  \"https://index.docker.io/v1/\": {\"auth\": \"Y2Fyb2w6cHcx\"},\n"
                           "  \"ghcr.io\": {\"username\": \"dave\", \"password\": \"pw2\"},\n"
                           "  \"https://127.0.0.1:5000\": {\"auth\": \"bm9jb2xvbg==\"},\n"
                           "  \"quay.io\": {}\n"
                           "}, \"credsStore\": \"desktop\"}\n",
                           0600);
    free(cfg);
    setenv("DOCKER_CONFIG", tmpdir, 1);
    registry_creds c;
    tp_err err;
    cr_assert_eq(registry_creds_resolve(NULL, "docker.io", 0, NULL, &c, &err), 0, "%s", err.msg);
    cr_assert_str_eq(c.username, "carol");
    cr_assert_str_eq(c.password, "pw1");
    cr_assert(strstr(c.source, "docker config"), "%s", c.source);
    registry_creds_free(&c);
    cr_assert_eq(registry_creds_resolve(NULL, "ghcr.io", 0, NULL, &c, &err), 0);
    cr_assert_str_eq(c.username, "dave");
    registry_creds_free(&c);
    /* an entry without credentials (a credsStore helper) stays anonymous */
    cr_assert_eq(registry_creds_resolve(NULL, "quay.io", 0, NULL, &c, &err), 0);
    cr_assert_null(c.username);
    registry_creds_free(&c);
    cr_assert_eq(registry_creds_resolve(NULL, "example.com", 0, NULL, &c, &err), 0);
    cr_assert_null(c.username);
    /* a host is matched whole: ghcr.io's credentials never go to a host that starts with it */
    cr_assert_eq(registry_creds_resolve(NULL, "ghcr.io.evil.example", 0, NULL, &c, &err), 0, "%s",
                 err.msg);
    cr_assert_null(c.username, "ghcr.io's user went to ghcr.io.evil.example");
    cr_assert_eq(registry_creds_resolve(NULL, "127.0.0.1:50000", 0, NULL, &c, &err), 0, "%s",
                 err.msg);
    cr_assert_null(c.username);
    /* "nocolon" is not user:password */
    cr_assert_eq(registry_creds_resolve(NULL, "127.0.0.1:5000", 0, NULL, &c, &err), -1);
    cr_assert(strstr(err.msg, "is not base64 of user:password"), "%s", err.msg);
    unsetenv("DOCKER_CONFIG");
}

Test(registry_creds, no_docker_config_is_anonymous)
{
    setenv("DOCKER_CONFIG", tmpdir, 1); /* empty folder */
    registry_creds c;
    tp_err err;
    cr_assert_eq(registry_creds_resolve(NULL, "ghcr.io", 0, NULL, &c, &err), 0);
    cr_assert_null(c.username);
    unsetenv("DOCKER_CONFIG");
}

Test(registry_creds, base64_round_trip)
{
    static const char *const inputs[] = {"", "a", "ab", "abc", "user:p@ss/w0rd+", "\xff\x00\x10"};
    static const size_t lens[] = {0, 1, 2, 3, 15, 3};
    static const char *const encoded[] = {"",    "YQ==", "YWI=", "YWJj", "dXNlcjpwQHNzL3cwcmQr",
                                          "/wAQ"};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        char *e = registry_base64_encode((const unsigned char *)inputs[i], lens[i]);
        cr_assert_str_eq(e, encoded[i]);
        size_t n;
        unsigned char *d = registry_base64_decode(e, &n);
        cr_assert_eq(n, lens[i]);
        cr_assert_eq(memcmp(d, inputs[i], n), 0);
        free(d);
        free(e);
    }
    size_t n;
    cr_assert_null(registry_base64_decode("not*base64", &n));
}

/* A cluster's Secrets as the engine would read them: a table, and a count of reads. */
static int secret_reads;
static char *fake_secret(void *ud, const char *ns, const char *name, const char *field, tp_err *err)
{
    (void)ud;
    secret_reads++;
    if (str_eq(ns, "argocd") && str_eq(name, "regcred") && str_eq(field, ".dockerconfigjson"))
        /* "robot:s3cret" */
        return xstrdup("{\"auths\":{\"other.example\":{\"auth\":\"eDp5\"},"
                       "\"https://ghcr.io/v1/\":{\"auth\":\"cm9ib3Q6czNjcmV0\"}}}");
    if (str_eq(ns, "argocd") && str_eq(name, "creds") && str_eq(field, "pair"))
        return xstrdup("bot:hunter2");
    if (str_eq(ns, "argocd") && str_eq(name, "creds") && str_eq(field, "token"))
        return xstrdup("justasecretvalue");
    tp_err_set(err, "cannot get secrets in namespace %s: forbidden", ns);
    return NULL;
}

Test(registry_creds, secrets_from_the_cluster)
{
    registry_secret_reader reader = {fake_secret, NULL};
    registry_creds c;
    tp_err err = {{0}};
    cr_assert_eq(
        registry_creds_resolve("pullsecret:argocd/regcred", "ghcr.io", 0, &reader, &c, &err), 0,
        "%s", err.msg);
    cr_assert_str_eq(c.username, "robot", "the auths entry for this registry, not another's");
    cr_assert_str_eq(c.password, "s3cret");
    cr_assert_str_eq(c.source, "pull secret argocd/regcred");
    registry_creds_free(&c);
    cr_assert_eq(
        registry_creds_resolve("secret:argocd/creds#pair", "ghcr.io", 0, &reader, &c, &err), 0,
        "%s", err.msg);
    cr_assert_str_eq(c.username, "bot");
    cr_assert_str_eq(c.password, "hunter2");
    registry_creds_free(&c);
    /* No entry for the host; a field that is not user:password; a Secret we may not read. */
    cr_assert_eq(
        registry_creds_resolve("pullsecret:argocd/regcred", "quay.io", 0, &reader, &c, &err), -1);
    cr_assert(strstr(err.msg, "no auths entry for quay.io"), "%s", err.msg);
    cr_assert_eq(
        registry_creds_resolve("secret:argocd/creds#token", "quay.io", 0, &reader, &c, &err), -1);
    cr_assert(strstr(err.msg, "field token is not user:password"), "%s", err.msg);
    cr_assert_null(strstr(err.msg, "justasecretvalue"), "secret leaked: %s", err.msg);
    cr_assert_eq(registry_creds_resolve("secret:kube-system/x#f", "quay.io", 0, &reader, &c, &err),
                 -1);
    cr_assert(strstr(err.msg, "credentials 'secret:kube-system/x#f': cannot get secrets in "
                              "namespace kube-system: forbidden"),
              "%s", err.msg);
    cr_assert_null(c.username);
}
