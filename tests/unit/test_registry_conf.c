#include <criterion/criterion.h>
#include <string.h>

#include "select/imageref.h"
#include "registry/conf.h"

static const char full_conf[] = "registries:\n"
                                "- name: Docker Hub\n"
                                "  api_url: https://registry-1.docker.io/\n"
                                "  ping: yes\n"
                                "  credentials: env:DOCKER_HUB_CREDS\n"
                                "  credsexpire: 1h30m\n"
                                "  defaultns: library\n"
                                "  default: true\n"
                                "  limit: 10\n"
                                "- name: GHCR\n"
                                "  prefix: ghcr.io\n"
                                "  api_url: https://ghcr.io\n"
                                "  tagsortmode: latest-first\n"
                                "  insecure: no\n"
                                "- name: private\n"
                                "  prefix: registry.local:5000\n"
                                "  api_url: https://registry.local:5000\n"
                                "  ca_file: certs/ca.pem\n"
                                "  insecure: yes\n"
                                "  limit: 2.5\n"
                                "  connections: 4\n";

Test(registry_conf, parses_every_key)
{
    registries_conf conf;
    tp_err err = {{0}};
    int rc =
        registries_conf_parse(full_conf, strlen(full_conf), "/etc/tp/registries.conf", &conf, &err);
    cr_assert_eq(rc, 0, "%s", err.msg);
    cr_assert_eq(conf.count, 3);
    const registry_conf_entry *hub = &conf.entries[0];
    cr_assert_str_eq(hub->name, "Docker Hub");
    cr_assert_str_eq(hub->api_url, "https://registry-1.docker.io");
    cr_assert_null(hub->prefix);
    cr_assert(hub->ping && hub->is_default && !hub->insecure);
    cr_assert_str_eq(hub->credentials, "env:DOCKER_HUB_CREDS");
    cr_assert_eq(hub->credsexpire_s, 5400);
    cr_assert_str_eq(hub->defaultns, "library");
    cr_assert_str_eq(hub->tagsortmode, "none");
    cr_assert_float_eq(hub->limit, 10.0, 1e-9);
    const registry_conf_entry *gh = &conf.entries[1];
    cr_assert_str_eq(gh->tagsortmode, "latest-first");
    cr_assert_float_eq(gh->limit, 0.0, 1e-9); /* no limit: unlimited */
    const registry_conf_entry *priv = &conf.entries[2];
    cr_assert(priv->insecure);
    cr_assert_str_eq(priv->ca_file, "/etc/tp/certs/ca.pem"); /* relative to the file */
    cr_assert_float_eq(priv->limit, 2.5, 1e-9);
    cr_assert_eq(priv->connections, 4);
    cr_assert_eq(hub->connections, 0); /* absent: the client's default */
    cr_assert_eq(priv->line, 15);
    registries_conf_free(&conf);
}

static void find_case(const registries_conf *conf, const char *image, const char *want_name)
{
    imageref ref;
    tp_err err;
    cr_assert_eq(imageref_parse(image, &ref, &err), 0, "%s", err.msg);
    const registry_conf_entry *e = registries_conf_find(conf, &ref);
    if (!want_name)
        cr_assert_null(e, "%s should not match an entry, got %s", image, e ? e->name : "");
    else {
        cr_assert_not_null(e, "%s should match %s", image, want_name);
        cr_assert_str_eq(e->name, want_name, "entry for %s", image);
    }
    imageref_free(&ref);
}

Test(registry_conf, finds_entry_by_prefix_and_default)
{
    registries_conf conf;
    tp_err err;
    cr_assert_eq(registries_conf_parse(full_conf, strlen(full_conf), NULL, &conf, &err), 0);
    find_case(&conf, "nginx", "Docker Hub");
    find_case(&conf, "bitnami/redis", "Docker Hub");
    find_case(&conf, "ghcr.io/a/b", "GHCR");
    find_case(&conf, "registry.local:5000/team/app", "private");
    find_case(&conf, "quay.io/x/y", NULL);
    registries_conf_free(&conf);
    cr_assert_null(registries_conf_find(NULL, NULL));
}

struct bad_conf {
    const char *text;
    const char *message; /* expected substring */
};

static const struct bad_conf bad_confs[] = {
    {"registries:\n- name: a\n  api_url: https://a\n  limit: fast\n",
     "r.conf:4: limit: not a number of requests per second: 'fast'"},
    {"registries:\n- name: a\n  api_url: https://a\n  connections: 0\n",
     "r.conf:4: connections: not a whole number from 1 to 100: '0'"},
    {"registries:\n- name: a\n  api_url: https://a\n  connections: 2.5\n",
     "r.conf:4: connections: not a whole number from 1 to 100: '2.5'"},
    {"registries:\n- name: a\n  api_url: https://a\n  connections: 101\n",
     "r.conf:4: connections: not a whole number"},
    {"registries:\n- name: a\n  api_url: https://a\n  insecure: maybe\n",
     "r.conf:4: insecure: not a boolean"},
    {"registries:\n- name: a\n  api_url: https://a\n  credsexpire: soon\n",
     "r.conf:4: credsexpire: not a duration"},
    {"registries:\n- name: a\n  api_url: https://a\n  tagsortmode: random\n",
     "r.conf:4: tagsortmode: 'random'"},
    {"registries:\n- name: a\n  api_url: ftp://a\n", "r.conf:3: api_url: must start with"},
    {"registries:\n- name: a\n  prefix: a\n", "r.conf:2: api_url: missing"},
    {"registries:\n- name: a\n  api_url: https://a\n  colour: blue\n",
     "r.conf:4: unknown key 'colour'"},
    {"registries:\n- api_url: https://a\n  default: true\n  prefix: a\n- api_url: https://b\n  "
     "default: true\n  prefix: b\n",
     "r.conf:5: default: only one registry may be the default"},
    {"registries:\n- api_url: https://a\n  prefix: x\n- api_url: https://b\n  prefix: x\n",
     "r.conf:4: prefix: 'x' is already used on line 2"},
    {"registries:\n- api_url: https://a\n- api_url: https://b\n",
     "r.conf:3: prefix: only one registry may omit its prefix"},
    {"registries: {a: b}\n", "r.conf:1: registries: expected a list"},
    {"registry:\n- api_url: https://a\n", "r.conf:1: unknown key 'registry'"},
    {"registries:\n- [a]\n", "r.conf:2: registries[0]: expected a map"},
    {"registries:\n- name: [a\n", "r.conf:"},
};

Test(registry_conf, errors_name_file_line_and_key)
{
    for (size_t i = 0; i < sizeof bad_confs / sizeof bad_confs[0]; i++) {
        registries_conf conf;
        tp_err err = {{0}};
        int rc = registries_conf_parse(bad_confs[i].text, strlen(bad_confs[i].text), "r.conf",
                                       &conf, &err);
        cr_assert_eq(rc, -1, "case %zu should fail", i);
        cr_assert(strstr(err.msg, bad_confs[i].message), "case %zu: want «%s» in «%s»", i,
                  bad_confs[i].message, err.msg);
        cr_assert_null(conf.entries);
    }
}

Test(registry_conf, empty_file_configures_nothing)
{
    registries_conf conf;
    tp_err err;
    cr_assert_eq(registries_conf_parse("", 0, "r.conf", &conf, &err), 0);
    cr_assert_eq(conf.count, 0);
    registries_conf_free(&conf);
    cr_assert_eq(registries_conf_parse("registries: []\n", 15, "r.conf", &conf, &err), 0);
    cr_assert_eq(conf.count, 0);
    registries_conf_free(&conf);
}

Test(registry_conf, load_missing_file_names_it)
{
    registries_conf conf;
    tp_err err;
    cr_assert_eq(registries_conf_load("/nonexistent/registries.conf", &conf, &err), -1);
    cr_assert(strstr(err.msg, "/nonexistent/registries.conf: cannot open"), "%s", err.msg);
}

struct duration_case {
    const char *text;
    int rc;
    long seconds;
};

Test(registry_conf, durations)
{
    static const struct duration_case cases[] = {
        {"5h", 0, 18000},  {"1h30m", 0, 5400}, {"90s", 0, 90}, {"2500ms", 0, 2},
        {"1.5h", 0, 5400}, {"0", 0, 0},        {"", -1, 0},    {"5", -1, 0},
        {"5d", -1, 0},     {"h", -1, 0},       {"-1h", -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long s = -7;
        int rc = registries_conf_parse_duration(cases[i].text, &s);
        cr_assert_eq(rc, cases[i].rc, "rc of '%s'", cases[i].text);
        if (rc == 0)
            cr_assert_eq(s, cases[i].seconds, "seconds of '%s'", cases[i].text);
    }
}
