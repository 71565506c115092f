#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

static int parse(const char *text, tp_config *cfg, tp_err *err)
{
    return config_parse(text, strlen(text), "/etc/tp/tagpilot.yaml", cfg, err);
}

Test(config, full_example)
{
    setenv("HOME", "/home/op", 1);
    tp_config c;
    tp_err err = {{0}};
    const char *text = "sources:\n"
                       "  - git: https://git.example.com/platform/cluster-config.git\n"
                       "    branch: main\n"
                       "    path: apps/\n"
                       "  - dir: ./more-apps\n"
                       "registries-conf: ./registries.conf\n"
                       "state-dir: ~/.local/state/tagpilot\n"
                       "approval: auto\n"
                       "interval: 1h30m\n"
                       "argocd-namespace: gitops\n"
                       "git:\n"
                       "  author: {name: bot, email: bot@example.com}\n"
                       "  credentials: file:creds.txt\n"
                       "  commit-message-template: 'chore: {{.AppName}}'\n"
                       "theme: themes/dark.theme\n";
    cr_assert_eq(parse(text, &c, &err), 0, "%s", err.msg);
    cr_assert_eq(c.n_sources, 2);
    cr_assert_eq(c.sources[0].kind, CONFIG_SOURCE_GIT);
    cr_assert_str_eq(c.sources[0].url, "https://git.example.com/platform/cluster-config.git");
    cr_assert_str_eq(c.sources[0].branch, "main");
    cr_assert_str_eq(c.sources[0].path, "apps");
    cr_assert_eq(c.sources[1].kind, CONFIG_SOURCE_DIR);
    cr_assert_str_eq(c.sources[1].url, "/etc/tp/more-apps");
    cr_assert_str_eq(c.sources[1].path, "");
    cr_assert_str_eq(c.registries_conf, "/etc/tp/registries.conf");
    cr_assert_str_eq(c.state_dir, "/home/op/.local/state/tagpilot");
    cr_assert_eq(c.approval, APPROVAL_AUTO);
    cr_assert_eq(c.interval_s, 5400);
    cr_assert_str_eq(c.argocd_namespace, "gitops");
    cr_assert_str_eq(c.git_author_name, "bot");
    cr_assert_str_eq(c.git_author_email, "bot@example.com");
    /* One spec serves the git sources' own server only. */
    cr_assert_eq(c.n_git_creds, 1);
    cr_assert_str_eq(c.git_creds[0].url, "https://git.example.com:443/");
    cr_assert_str_eq(c.git_creds[0].spec, "file:/etc/tp/creds.txt");
    cr_assert(c.git_creds_configured);
    cr_assert_str_eq(c.commit_message_template, "chore: {{.AppName}}");
    cr_assert_str_eq(c.theme, "/etc/tp/themes/dark.theme");
    config_free(&c);
}

Test(config, defaults)
{
    setenv("XDG_STATE_HOME", "/xdg/state", 1);
    tp_config c;
    tp_err err = {{0}};
    cr_assert_eq(parse("", &c, &err), 0, "%s", err.msg);
    cr_assert_eq(c.n_sources, 0);
    cr_assert_str_eq(c.state_dir, "/xdg/state/tagpilot");
    cr_assert_eq(c.approval, APPROVAL_MANUAL);
    cr_assert_eq(c.interval_s, 120);
    cr_assert_str_eq(c.argocd_namespace, "argocd");
    cr_assert_null(c.registries_conf);
    config_free(&c);
    unsetenv("XDG_STATE_HOME");
}

/* Every bad key or value names the file, the line and the key. */
Test(config, errors_name_file_line_and_key)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"approval: manual\nfrobnicate: 1\n", "/etc/tp/tagpilot.yaml:2: frobnicate: unknown key"},
        {"interval: soon\n", "/etc/tp/tagpilot.yaml:1: interval: bad duration 'soon'"},
        {"interval: 0s\n", "tagpilot.yaml:1: interval: bad duration"},
        {"interval: 5\n", "tagpilot.yaml:1: interval: bad duration '5'"},
        {"approval: sometimes\n", "tagpilot.yaml:1: approval: bad value 'sometimes'"},
        {"sources:\n  - git: x.git\n    brnch: main\n", "tagpilot.yaml:3: sources.brnch: unknown"},
        {"sources:\n  - path: apps\n", "tagpilot.yaml:2: sources: a source needs"},
        {"sources:\n  - dir: a\n    branch: main\n", "tagpilot.yaml:2: sources.branch: only"},
        {"sources:\n  - git: x\n    dir: y\n", "tagpilot.yaml:3: sources.dir: a source is"},
        {"sources: apps\n", "tagpilot.yaml:1: sources: expected a list"},
        {"git:\n  author: {name: a, mail: b}\n", "tagpilot.yaml:2: git.author.mail: unknown"},
        {"git:\n  credentials: vault:x\n", "tagpilot.yaml:2: git.credentials: unknown"},
        {"git:\n  token: x\n", "tagpilot.yaml:2: git.token: unknown key"},
        {"state-dir: [a]\n", "tagpilot.yaml:1: state-dir: expected a text value"},
        {"- a\n", "tagpilot.yaml:1: expected a map"},
        {"sources: [\n", "tagpilot.yaml:2:"},
        /* found by fuzz_config: the second list overran the first's array */
        {"sources:\n  - dir: /a\nsources:\n  - dir: /b\n  - dir: /c\n",
         "tagpilot.yaml:4: sources: given twice (write one list)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        tp_config c;
        tp_err err = {{0}};
        cr_assert_eq(parse(cases[i].text, &c, &err), -1, "case %zu parsed", i);
        cr_assert(strstr(err.msg, cases[i].want) != NULL, "case %zu: got '%s', want '%s'", i,
                  err.msg, cases[i].want);
    }
}

Test(config, durations)
{
    static const struct {
        const char *text;
        int want; /* -1: error */
    } cases[] = {
        {"30s", 30},  {"2m", 120}, {"1h", 3600}, {"1h30m", 5400}, {"1.5h", 5400},
        {"500ms", 1}, {"0", 0},    {"", -1},     {"2", -1},       {"m", -1},
        {"-1s", -1},  {"2d", -1},  {"1m x", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        unsigned got = 99;
        int rc = config_parse_duration(cases[i].text, &got);
        if (cases[i].want < 0)
            cr_assert_eq(rc, -1, "'%s' accepted", cases[i].text);
        else
            cr_assert(rc == 0 && got == (unsigned)cases[i].want, "'%s' → %u", cases[i].text, got);
    }
}

Test(config, git_urls_and_paths)
{
    tp_config c;
    tp_err err = {{0}};
    const char *text = "sources:\n"
                       "  - git: file:///srv/config.git\n"
                       "  - git: git@github.com:org/repo.git\n"
                       "  - git: ../local.git\n"
                       "  - git: ssh://git@host/x.git\n";
    cr_assert_eq(parse(text, &c, &err), 0, "%s", err.msg);
    cr_assert_str_eq(c.sources[0].url, "file:///srv/config.git");
    cr_assert_null(c.sources[0].branch);
    cr_assert_str_eq(c.sources[1].url, "git@github.com:org/repo.git");
    cr_assert_str_eq(c.sources[2].url, "/etc/tp/../local.git");
    cr_assert_str_eq(c.sources[3].url, "ssh://git@host/x.git");
    config_free(&c);
}

/* --config, then $TAGPILOT_CONFIG, then ./tagpilot.yaml, then $XDG_CONFIG_HOME. */
Test(config, lookup_order)
{
    char tmpl[] = "/tmp/tp-config-XXXXXX";
    char *dir = mkdtemp(tmpl);
    cr_assert_not_null(dir);
    char *xdg = xasprintf("%s/xdg", dir);
    char *xdg_tp = xasprintf("%s/xdg/tagpilot", dir);
    char *xdg_file = xasprintf("%s/xdg/tagpilot/config.yaml", dir);
    char *cwd_file = xasprintf("%s/tagpilot.yaml", dir);
    char *env_file = xasprintf("%s/env.yaml", dir);
    mkdir(xdg, 0700);
    mkdir(xdg_tp, 0700);
    FILE *f = fopen(xdg_file, "w");
    fputs("interval: 1m\n", f);
    fclose(f);
    char old[4096];
    cr_assert_not_null(getcwd(old, sizeof old));
    cr_assert_eq(chdir(dir), 0);
    setenv("XDG_CONFIG_HOME", xdg, 1);
    unsetenv("TAGPILOT_CONFIG");

    char *found;
    tp_err err = {{0}};
    cr_assert_eq(config_find(NULL, &found, &err), 0);
    cr_assert_str_eq(found, xdg_file);
    free(found);

    f = fopen(cwd_file, "w");
    fputs("interval: 2m\n", f);
    fclose(f);
    cr_assert_eq(config_find(NULL, &found, &err), 0);
    cr_assert_str_eq(found, "tagpilot.yaml");
    free(found);

    f = fopen(env_file, "w");
    fputs("interval: 3m\n", f);
    fclose(f);
    setenv("TAGPILOT_CONFIG", env_file, 1);
    tp_config c;
    cr_assert_eq(config_resolve(NULL, &c, &err), 0, "%s", err.msg);
    cr_assert_eq(c.interval_s, 180);
    config_free(&c);

    cr_assert_eq(config_resolve(cwd_file, &c, &err), 0, "%s", err.msg);
    cr_assert_eq(c.interval_s, 120, "--config wins");
    config_free(&c);

    cr_assert_eq(config_find("/nonexistent/x.yaml", &found, &err), -1);
    cr_assert(strstr(err.msg, "/nonexistent/x.yaml") && strstr(err.msg, "--config"), "%s", err.msg);
    setenv("TAGPILOT_CONFIG", "/nonexistent/y.yaml", 1);
    cr_assert_eq(config_find(NULL, &found, &err), -1);
    cr_assert(strstr(err.msg, "$TAGPILOT_CONFIG"), "%s", err.msg);
    unsetenv("TAGPILOT_CONFIG");

    cr_assert_eq(chdir(old), 0);
    unlink(xdg_file);
    unlink(cwd_file);
    unlink(env_file);
    rmdir(xdg_tp);
    rmdir(xdg);
    rmdir(dir);
    free(xdg);
    free(xdg_tp);
    free(xdg_file);
    free(cwd_file);
    free(env_file);
}

/* No shared fallback such as /tmp: without $XDG_STATE_HOME and $HOME (absolute) there is no
 * default state dir, and whoever needs one is told to set state-dir:. */
Test(config, no_home_means_no_default_state_dir)
{
    unsetenv("XDG_STATE_HOME");
    unsetenv("HOME");
    tp_config c;
    tp_err err = {{0}};
    cr_assert_eq(parse("approval: auto\n", &c, &err), 0, "%s", err.msg);
    cr_expect_null(c.state_dir);
    cr_expect_null(config_state_dir(&c, &err));
    cr_expect(strstr(err.msg, "$XDG_STATE_HOME and $HOME are not set") &&
                  strstr(err.msg, "set state-dir: in /etc/tp/tagpilot.yaml"),
              "%s", err.msg);
    config_free(&c);
    /* Relative values do not count (the XDG spec says to ignore them). */
    setenv("XDG_STATE_HOME", "state", 1);
    setenv("HOME", "home", 1);
    cr_assert_eq(parse("", &c, &err), 0, "%s", err.msg);
    cr_expect_null(c.state_dir);
    config_free(&c);
    /* state-dir: in the file is the answer; "~" in it needs a $HOME. */
    cr_assert_eq(parse("state-dir: /var/lib/tagpilot\n", &c, &err), 0, "%s", err.msg);
    cr_expect_str_eq(config_state_dir(&c, &err), "/var/lib/tagpilot");
    config_free(&c);
    cr_expect_eq(parse("state-dir: ~/state\n", &c, &err), -1);
    cr_expect(strstr(err.msg, "tagpilot.yaml:1: state-dir: '~/state' needs $HOME"), "%s", err.msg);
    setenv("HOME", "/home/op", 1);
    cr_assert_eq(parse("", &c, &err), 0, "%s", err.msg);
    cr_expect_str_eq(c.state_dir, "/home/op/.local/state/tagpilot");
    config_free(&c);
    unsetenv("XDG_STATE_HOME");
}

Test(config, kubernetes_source)
{
    setenv("HOME", "/home/op", 1);
    tp_config c;
    tp_err err = {{0}};
    const char *text = "sources:\n"
                       "  - kubernetes:\n"
                       "      kubeconfig: ~/.kube/config:kube/extra\n"
                       "      context: prod\n"
                       "      namespaces: [argocd, team-a]\n"
                       "      selector: team=payments\n"
                       "  - kubernetes:\n"
                       "  - kubernetes: {namespaces: ['*']}\n";
    cr_assert_eq(parse(text, &c, &err), 0, "%s", err.msg);
    cr_assert_eq(c.n_sources, 3);
    const config_kube *k = &c.sources[0].kube;
    cr_assert_eq(c.sources[0].kind, CONFIG_SOURCE_KUBERNETES);
    cr_assert_str_eq(k->kubeconfig, "/home/op/.kube/config:/etc/tp/kube/extra",
                     "each part of the list resolved");
    cr_assert_str_eq(k->context, "prod");
    cr_assert_eq(k->namespaces.count, 2);
    cr_assert_str_eq(k->namespaces.items[1], "team-a");
    cr_assert_str_eq(k->selector, "team=payments");
    cr_assert_eq(c.sources[1].kind, CONFIG_SOURCE_KUBERNETES, "an empty entry: every default");
    cr_assert_null(c.sources[1].kube.kubeconfig);
    cr_assert_eq(c.sources[1].kube.namespaces.count, 0);
    cr_assert_str_eq(c.sources[2].kube.namespaces.items[0], "*");
    config_source copy;
    config_source_copy(&copy, &c.sources[0]);
    cr_assert_str_eq(copy.kube.namespaces.items[0], "argocd");
    cr_assert_str_eq(copy.kube.context, "prod");
    config_source_clear(&copy);
    config_free(&c);
}

Test(config, kubernetes_source_errors)
{
    const char *bad[][2] = {
        {"sources:\n  - kubernetes: {path: apps}\n", "unknown key"},
        {"sources:\n  - kubernetes:\n    path: apps\n", "a kubernetes source has no path"},
        {"sources:\n  - kubernetes: {namespaces: [Argo_CD]}\n", "'Argo_CD' is not a namespace"},
        {"sources:\n  - kubernetes: {namespaces: ['*', argocd]}\n", "write it alone"},
        {"sources:\n  - kubernetes: {namespaces: []}\n", "expected a list of namespaces"},
        {"sources:\n  - kubernetes: prod\n", "expected a map"},
        {"sources:\n  - kubernetes:\n    git: x\n", "one of 'git:', 'dir:', 'kubernetes:'"},
        {"sources:\n  - kubernetes:\n    branch: main\n", "only a git source has a branch"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        tp_config c;
        tp_err err = {{0}};
        cr_assert_eq(parse(bad[i][0], &c, &err), -1, "accepted: %s", bad[i][0]);
        cr_assert(strstr(err.msg, bad[i][1]), "%s: got %s", bad[i][0], err.msg);
        cr_assert(strstr(err.msg, "tagpilot.yaml:"), "names the file and line: %s", err.msg);
    }
}
