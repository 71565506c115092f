/* kubeconfig reading and merging (engine/kube/kubeconfig.c), on files written to a temp dir. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kube/internal.h"

static char tmpdir[64];

static void make_tmp(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tp-kubeconfig.XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tmp(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    cr_assert_eq(system(cmd), 0);
}

/* Write tmpdir/name (folders made) and return its path (caller frees). */
static char *put(const char *name, const char *text)
{
    char *path = xasprintf("%s/%s", tmpdir, name);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    mkdir(path, 0700);
    *slash = '/';
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
    return path;
}

TestSuite(kube_config, .init = make_tmp, .fini = remove_tmp);

static const char *basic_yaml =
    "apiVersion: v1\n"
    "kind: Config\n"
    "current-context: prod\n"
    "clusters:\n"
    "- name: prod-cluster\n"
    "  cluster:\n"
    "    server: https://prod.example:6443/\n"
    "    insecure-skip-tls-verify: true\n"
    "contexts:\n"
    "- name: prod\n"
    "  context: {cluster: prod-cluster, user: admin, namespace: argocd}\n"
    "- name: nons\n"
    "  context: {cluster: prod-cluster, user: admin}\n"
    "users:\n"
    "- name: admin\n"
    "  user:\n"
    "    token: s3cr3t-token\n";

Test(kube_config, current_context_token_and_server)
{
    char *path = put("config", basic_yaml);
    kube_config cfg;
    tp_err err = {0};
    cr_assert_eq(kubeconfig_load(path, true, NULL, &cfg, &err), 0, "%s", err.msg);
    cr_assert_str_eq(cfg.context, "prod");
    cr_assert_str_eq(cfg.user, "admin");
    cr_assert_str_eq(cfg.namespace_, "argocd");
    cr_assert_str_eq(cfg.server, "https://prod.example:6443"); /* trailing '/' dropped */
    cr_assert(cfg.insecure);
    cr_assert_str_eq(cfg.token, "s3cr3t-token");
    cr_assert_null(cfg.ca_pem);
    cr_assert_null(cfg.exec);
    kube_config_free(&cfg);
    /* a named context; no namespace means "default" */
    cr_assert_eq(kubeconfig_load(path, true, "nons", &cfg, &err), 0, "%s", err.msg);
    cr_assert_str_eq(cfg.namespace_, "default");
    kube_config_free(&cfg);
    free(path);
}

Test(kube_config, errors_name_the_file_and_the_entry)
{
    char *path = put("config", basic_yaml);
    kube_config cfg;
    tp_err err = {0};
    cr_assert_eq(kubeconfig_load(path, true, "staging", &cfg, &err), -1);
    char *want = xasprintf("%s: context \"staging\" not found", path);
    cr_assert_str_eq(err.msg, want);
    free(want);
    free(path);

    path = put("nocurrent", "clusters: []\ncontexts: []\nusers: []\n");
    cr_assert_eq(kubeconfig_load(path, true, NULL, &cfg, &err), -1);
    cr_assert(strstr(err.msg, "no current-context"), "%s", err.msg);
    free(path);

    path = put("nouser", "current-context: a\n"
                         "contexts: [{name: a, context: {cluster: c, user: ghost}}]\n"
                         "clusters: [{name: c, cluster: {server: 'https://c:1'}}]\n");
    cr_assert_eq(kubeconfig_load(path, true, NULL, &cfg, &err), -1);
    cr_assert(strstr(err.msg, "user \"ghost\" not found"), "%s", err.msg);
    free(path);

    path = put("nocluster", "current-context: a\n"
                            "contexts: [{name: a, context: {cluster: gone}}]\n");
    cr_assert_eq(kubeconfig_load(path, true, NULL, &cfg, &err), -1);
    cr_assert(strstr(err.msg, "cluster \"gone\" not found"), "%s", err.msg);
    free(path);

    /* a file named explicitly must exist */
    char *missing = xasprintf("%s/missing", tmpdir);
    cr_assert_eq(kubeconfig_load(missing, true, NULL, &cfg, &err), -1);
    cr_assert(strstr(err.msg, "missing"), "%s", err.msg);
    free(missing);
}

/* kubectl's merge: the first file to set current-context, or to define a name, wins the whole
 * entry; later files fill in names the first does not have. */
Test(kube_config, merge_first_file_wins)
{
    char *a = put("a.yaml", "current-context: from-a\n"
                            "contexts:\n"
                            "- {name: from-a, context: {cluster: shared, user: u}}\n"
                            "clusters:\n"
                            "- {name: shared, cluster: {server: 'https://first:1'}}\n");
    char *b = put("b.yaml", "current-context: from-b\n"
                            "contexts:\n"
                            "- {name: from-b, context: {cluster: shared, user: u, namespace: b}}\n"
                            "- {name: from-a, context: {cluster: other, user: u}}\n"
                            "clusters:\n"
                            "- {name: shared, cluster: {server: 'https://second:2'}}\n"
                            "users:\n"
                            "- {name: u, user: {token: tok-b}}\n");
    char *missing = xasprintf("%s/none.yaml", tmpdir);
    char *list = xasprintf("%s::%s:%s", missing, a, b); /* an empty entry and a missing file */
    kube_config cfg;
    tp_err err = {0};
    cr_assert_eq(kubeconfig_load(list, false, NULL, &cfg, &err), 0, "%s", err.msg);
    cr_assert_str_eq(cfg.context, "from-a");
    cr_assert_str_eq(cfg.server, "https://first:1"); /* a's "shared", not b's */
    cr_assert_str_eq(cfg.token, "tok-b");            /* the user only b has */
    kube_config_free(&cfg);
    /* a context only b has, with a's cluster of that name */
    cr_assert_eq(kubeconfig_load(list, false, "from-b", &cfg, &err), 0, "%s", err.msg);
    cr_assert_str_eq(cfg.namespace_, "b");
    cr_assert_str_eq(cfg.server, "https://first:1");
    kube_config_free(&cfg);
    /* $KUBECONFIG where no file exists: "none here", the caller looks elsewhere */
    cr_assert_eq(kubeconfig_load(missing, false, NULL, &cfg, &err), 1);
    /* an explicit list: every file must exist */
    cr_assert_eq(kubeconfig_load(list, true, NULL, &cfg, &err), -1);
    free(list);
    free(missing);
    free(a);
    free(b);
}

/* File names inside a kubeconfig are relative to that file, not to the working directory. */
Test(kube_config, relative_files_and_data_fields)
{
    free(put("sub/ca.pem", "CA-PEM\n"));
    free(put("sub/client.crt", "CERT-PEM\n"));
    free(put("sub/client.key", "KEY-PEM\n"));
    free(put("sub/token", "file-token\n"));
    char *path = put("sub/config", "current-context: c\n"
                                   "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
                                   "clusters:\n"
                                   "- name: k\n"
                                   "  cluster:\n"
                                   "    server: https://k:6443\n"
                                   "    certificate-authority: ca.pem\n"
                                   "users:\n"
                                   "- name: u\n"
                                   "  user:\n"
                                   "    client-certificate: client.crt\n"
                                   "    client-key: ./client.key\n"
                                   "    tokenFile: token\n");
    kube_config cfg;
    tp_err err = {0};
    cr_assert_eq(kubeconfig_load(path, true, NULL, &cfg, &err), 0, "%s", err.msg);
    cr_assert_str_eq(cfg.ca_pem, "CA-PEM\n");
    cr_assert_eq(cfg.ca_pem_len, 7);
    cr_assert_str_eq(cfg.cert_pem, "CERT-PEM\n");
    cr_assert_str_eq(cfg.key_pem, "KEY-PEM\n");
    char *want = xasprintf("%s/sub/token", tmpdir);
    cr_assert_str_eq(cfg.token_file, want);
    free(want);
    kube_config_free(&cfg);
    free(path);

    /* -data fields are base64 and win over the file fields */
    path = put("data", "current-context: c\n"
                       "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
                       "clusters:\n"
                       "- name: k\n"
                       "  cluster:\n"
                       "    server: https://k:6443\n"
                       "    certificate-authority-data: Q0EtREFUQQ==\n" /* CA-DATA */
                       "    certificate-authority: /nonexistent\n"
                       "users:\n"
                       "- name: u\n"
                       "  user:\n"
                       "    client-certificate-data: Q0VSVA==\n" /* CERT */
                       "    client-key-data: S0VZ\n");           /* KEY */
    cr_assert_eq(kubeconfig_load(path, true, NULL, &cfg, &err), 0, "%s", err.msg);
    cr_assert_str_eq(cfg.ca_pem, "CA-DATA");
    cr_assert_str_eq(cfg.cert_pem, "CERT");
    cr_assert_str_eq(cfg.key_pem, "KEY");
    kube_config_free(&cfg);
    free(path);
}

struct bad_config {
    const char *user_or_cluster; /* YAML spliced into a config */
    const char *message;         /* part of the error */
};

Test(kube_config, refusals_say_why)
{
    static const struct bad_config cases[] = {
        {"users: [{name: u, user: {client-certificate-data: Q0VSVA==}}]", "needs its key"},
        {"users: [{name: u, user: {username: a, password: hunter2}}]",
         "basic authentication (username/password) is not supported"},
        {"users: [{name: u, user: {auth-provider: {name: gcp}}}]", "auth-provider"},
        {"users: [{name: u, user: {as: root}}]", "impersonation"},
        {"users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1alpha1, "
         "command: x}}}]",
         "exec apiVersion must be"},
        {"users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1}}}]",
         "exec has no command"},
        {"users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, "
         "command: x, interactiveMode: Always}}}]",
         "needs a terminal"},
        {"users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, "
         "command: x, env: [{value: v}]}}}]",
         "env entry 1 needs a name"},
        {"users: [{name: u, user: {client-key-data: '!!notbase64'}}]",
         "client-key-data is not base64"},
        {"users: [{name: u, user: {token: t}}]\n"
         "clusters: [{name: k, cluster: {server: 'https://k', insecure-skip-tls-verify: true, "
         "certificate-authority-data: Q0E=}}]",
         "certificate-authority and insecure-skip-tls-verify together"},
        {"users: [{name: u, user: {token: t}}]\n"
         "clusters: [{name: k, cluster: {server: 'ftp://k'}}]",
         "server must be an https:// URL"},
        {"users: [{name: u, user: {token: t}}]\n"
         "clusters: [{name: k, cluster: {server: 'https://k', insecure-skip-tls-verify: maybe}}]",
         "insecure-skip-tls-verify is not true or false"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool has_cluster = strstr(cases[i].user_or_cluster, "clusters:") != NULL;
        char *text = xasprintf("current-context: c\n"
                               "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
                               "%s%s\n",
                               has_cluster ? ""
                                           : "clusters: [{name: k, cluster: {server: "
                                             "'https://k:1'}}]\n",
                               cases[i].user_or_cluster);
        char *path = put("bad", text);
        kube_config cfg;
        tp_err err = {0};
        cr_assert_eq(kubeconfig_load(path, true, NULL, &cfg, &err), -1, "case %zu loaded", i);
        cr_assert(strstr(err.msg, cases[i].message), "case %zu: %s", i, err.msg);
        cr_assert_null(strstr(err.msg, "hunter2"));
        free(path);
        free(text);
    }
}

Test(kube_config, exec_plugin_settings)
{
    char *path = put("plug/config", "current-context: c\n"
                                    "contexts: [{name: c, context: {cluster: k, user: eks}}]\n"
                                    "clusters: [{name: k, cluster: {server: 'https://k:443'}}]\n"
                                    "users:\n"
                                    "- name: eks\n"
                                    "  user:\n"
                                    "    exec:\n"
                                    "      apiVersion: client.authentication.k8s.io/v1beta1\n"
                                    "      command: bin/get-token\n"
                                    "      args: [token, --cluster, prod]\n"
                                    "      env: [{name: AWS_PROFILE, value: prod}]\n"
                                    "      installHint: install get-token\n"
                                    "      provideClusterInfo: true\n");
    kube_config cfg;
    tp_err err = {0};
    cr_assert_eq(kubeconfig_load(path, true, NULL, &cfg, &err), 0, "%s", err.msg);
    cr_assert_not_null(cfg.exec);
    char *want = xasprintf("%s/plug/bin/get-token", tmpdir); /* has a '/': resolved */
    cr_assert_str_eq(cfg.exec->command, want);
    free(want);
    cr_assert_eq(cfg.exec->args.count, 3);
    cr_assert_str_eq(cfg.exec->args.items[2], "prod");
    cr_assert_str_eq(cfg.exec->env_names.items[0], "AWS_PROFILE");
    cr_assert_str_eq(cfg.exec->env_values.items[0], "prod");
    cr_assert_str_eq(cfg.exec->install_hint, "install get-token");
    cr_assert(cfg.exec->provide_cluster_info);
    kube_config_free(&cfg);
    free(path);

    /* a bare name is left for PATH */
    path = put("bare", "current-context: c\n"
                       "contexts: [{name: c, context: {cluster: k, user: g}}]\n"
                       "clusters: [{name: k, cluster: {server: 'https://k:443'}}]\n"
                       "users: [{name: g, user: {exec: {apiVersion: "
                       "client.authentication.k8s.io/v1, command: gke-gcloud-auth-plugin, "
                       "interactiveMode: Never}}}]\n");
    cr_assert_eq(kubeconfig_load(path, true, NULL, &cfg, &err), 0, "%s", err.msg);
    cr_assert_str_eq(cfg.exec->command, "gke-gcloud-auth-plugin");
    kube_config_free(&cfg);
    free(path);
}

Test(kube_config, hostile_files_are_errors)
{
    static const char *texts[] = {
        "- just\n- a list\n",
        "current-context: [unclosed\n",
        "current-context: c\ncontexts: notalist\n",
        "current-context: c\ncontexts: [{name: c, context: [1, 2]}]\n",
        "\x01\x02\xff binary",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        char *path = put("hostile", texts[i]);
        kube_config cfg;
        tp_err err = {0};
        cr_assert_eq(kubeconfig_load(path, true, NULL, &cfg, &err), -1, "text %zu", i);
        cr_assert_neq(err.msg[0], '\0');
        free(path);
    }
}

Test(kube_config, in_cluster_service_account)
{
    free(put("sa/token", "pod-token\n"));
    free(put("sa/ca.crt", "POD-CA\n"));
    free(put("sa/namespace", "argocd\n"));
    char *sa = xasprintf("%s/sa", tmpdir);
    kube_config cfg;
    tp_err err = {0};
    cr_assert_eq(kubeconfig_in_cluster(sa, "10.0.0.1", "443", &cfg, &err), 0, "%s", err.msg);
    cr_assert_str_eq(cfg.server, "https://10.0.0.1:443");
    cr_assert_str_eq(cfg.context, "in-cluster");
    cr_assert_str_eq(cfg.namespace_, "argocd");
    cr_assert_str_eq(cfg.ca_pem, "POD-CA\n");
    char *tok = xasprintf("%s/token", sa);
    cr_assert_str_eq(cfg.token_file, tok); /* read per request: the token rotates */
    free(tok);
    kube_config_free(&cfg);
    cr_assert_eq(kubeconfig_in_cluster(sa, "fd00::1", "6443", &cfg, &err), 0, "%s", err.msg);
    cr_assert_str_eq(cfg.server, "https://[fd00::1]:6443");
    kube_config_free(&cfg);
    cr_assert_eq(kubeconfig_in_cluster(sa, NULL, "443", &cfg, &err), -1);
    char *none = xasprintf("%s/none", tmpdir);
    cr_assert_eq(kubeconfig_in_cluster(none, "h", "1", &cfg, &err), -1);
    free(none);
    free(sa);
}
