#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source/gitcred.h"
#include "giturl.h"
#include "source/repotree.h"
#include "source/gitrepo.h"
#include "source/source.h"

static char *cluster_dir(void)
{
    const char *root = getenv("TP_ROOT");
    return xasprintf("%s/tests/fixtures/cluster", root ? root : ".");
}

static const argo_app *find_app(const app_list *l, const char *name)
{
    for (size_t i = 0; i < l->count; i++)
        if (str_eq(l->items[i].name, name))
            return &l->items[i];
    return NULL;
}

Test(source, dir_reads_applications_and_skips_other_kinds)
{
    char *dir = cluster_dir();
    config_source cfg = {.kind = CONFIG_SOURCE_DIR, dir, NULL, "apps", .line = 1};
    source_env env = {.git = {.state_dir = "/tmp/tp-unused-state"}};
    app_source *src = source_new(&cfg, &env);
    cr_assert_str_eq(src->ops->kind, "dir");
    app_list list = {0};
    tp_err err = {{0}};
    cr_assert_eq(source_list_apps(src, &list, &err), 0, "%s", err.msg);
    /* web, api (helm.yaml); overlay, plain, broken, nochart, gone, nameless (more.yml). */
    cr_assert_eq(list.count, 8, "got %zu apps", list.count);
    cr_assert_str_eq(list.items[0].name, "web");
    cr_assert_str_eq(list.items[1].name, "api");
    cr_assert_null(find_app(&list, "not-an-app"));

    const argo_app *api = find_app(&list, "api");
    cr_assert_str_eq(api->namespace_, "team-a");
    cr_assert_str_eq(api->file, "apps/helm.yaml");
    cr_assert_eq(api->line, 22);
    cr_assert_str_eq(api->path, "charts/api");
    cr_assert_null(api->target_revision);
    cr_assert_str_eq(api->repo_url, "https://git.example.com/cluster.git");
    cr_assert(api->has_helm);
    cr_assert_eq(api->n_helm_params, 1);
    cr_assert_str_eq(api->helm_params[0].value, "from-app-spec");
    cr_assert_eq(api->settings.n_images, 2);
    cr_assert_eq(api->settings.writeback, WRITEBACK_GIT);

    const argo_app *web = find_app(&list, "web");
    cr_assert_str_eq(web->target_revision, "main");
    cr_assert_eq(web->settings.n_images, 1);
    cr_assert_str_eq(web->settings.images[0].alias, "web");

    /* An Application without a name is an error for it alone, and shown: under a name that
     * says where it is, with its images (in error, as the engine tracks them). */
    const argo_app *nameless = &list.items[7];
    cr_assert_str_eq(nameless->name, "(unnamed apps/more.yml:60)");
    cr_assert_str_eq(nameless->error, "apps/more.yml:60: Application without metadata.name");
    cr_assert_eq(nameless->settings.n_images, 1);
    cr_assert_str_eq(nameless->settings.images[0].alias, "n");

    /* The malformed file is reported by name and line; the others were still read. */
    cr_assert_eq(list.errors.count, 1);
    cr_assert(str_starts_with(list.errors.items[0], "apps/zz-malformed.yaml:"), "%s",
              list.errors.items[0]);
    app_list_free(&list);
    source_free(src);
    free(dir);
}

Test(source, dir_missing_folder_is_an_error)
{
    config_source cfg = {.kind = CONFIG_SOURCE_DIR, "/nonexistent/tp", NULL, "", .line = 1};
    source_env env = {.git = {.state_dir = "/tmp"}};
    app_source *src = source_new(&cfg, &env);
    app_list list = {0};
    tp_err err = {{0}};
    cr_assert_eq(source_list_apps(src, &list, &err), -1);
    cr_assert(strstr(err.msg, "/nonexistent/tp"), "%s", err.msg);
    app_list_free(&list);
    source_free(src);

    char *dir = cluster_dir();
    config_source sub = {.kind = CONFIG_SOURCE_DIR, dir, NULL, "no-such-path", .line = 1};
    src = source_new(&sub, &env);
    cr_assert_eq(source_list_apps(src, &list, &err), -1);
    cr_assert(strstr(err.msg, "no-such-path"), "%s", err.msg);
    app_list_free(&list);
    source_free(src);
    free(dir);
}

Test(source, urls_shown_without_credentials)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"https://bot:s3cret@git.example.com/x.git", "https://git.example.com/x.git"},
        {"http://user:tok@127.0.0.1:8080/git/c.git", "http://127.0.0.1:8080/git/c.git"},
        {"https://token@git.example.com/x.git", "https://git.example.com/x.git"},
        {"ssh://git@host/x.git", "ssh://git@host/x.git"},
        {"ssh://git:pw@host/x.git", "ssh://host/x.git"},
        {"git@github.com:org/repo.git", "git@github.com:org/repo.git"},
        {"file:///srv/c.git", "file:///srv/c.git"},
        {"https://git.example.com/a@b/x.git", "https://git.example.com/a@b/x.git"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *got = gitrepo_redact_url(cases[i].in);
        cr_assert_str_eq(got, cases[i].want, "case %zu", i);
        free(got);
    }
    config_source cfg = {.kind = CONFIG_SOURCE_GIT,
                         "https://bot:s3cret@git.example.com/x.git",
                         "main",
                         "apps",
                         .line = 1};
    source_env env = {.git = {.state_dir = "/tmp"}};
    app_source *src = source_new(&cfg, &env);
    cr_assert_str_eq(src->label, "git https://git.example.com/x.git@main:apps");
    cr_assert_str_eq(src->ops->kind, "git");
    source_free(src);
}

Test(source, secrets_scrubbed_from_messages)
{
    char msg[128] = "failed: http://bot:tok-123@host/x.git said tok-123 twice tok-123";
    gitcred_scrub(msg, sizeof msg, "tok-123");
    cr_assert_str_eq(msg, "failed: http://host/x.git said *** twice ***");
    char small[16] = "ab a b ab";
    gitcred_scrub(small, sizeof small, "a");
    cr_assert_str_eq(small, "***b *** b ***b");
    char none[16] = "nothing";
    gitcred_scrub(none, sizeof none, NULL);
    cr_assert_str_eq(none, "nothing");
}

static void sh(const char *fmt, const char *dir)
{
    char *cmd = xasprintf(fmt, dir, dir, dir, dir);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    free(cmd);
}

/* The clone cache straight through its API: clone, checkout, a commit refused when the planned
 * base is not the head's content, then commit and push. */
Test(source, gitrepo_commit_checks_the_planned_base)
{
    char tmpl[] = "/tmp/tp-gitrepo-XXXXXX";
    char *dir = mkdtemp(tmpl);
    cr_assert_not_null(dir);
    sh("git init -q --bare -b main %s/r.git && git init -q -b main %s/w && cd %s/w && "
       "echo one >a.txt && git add a.txt && git -c user.name=t -c user.email=t@t commit -qm a && "
       "git push -q %s/r.git main",
       dir);
    char *url = xasprintf("file://%s/r.git", dir);
    char *state = xasprintf("%s/state", dir);
    gitrepo_opts opts = {.state_dir = state};
    gitrepo *repo;
    tp_err err = {{0}};
    cr_assert_eq(gitrepo_open(url, &opts, &repo, &err), 0, "%s", err.msg);
    char *def = gitrepo_default_branch(repo);
    cr_assert_str_eq(def, "main");
    free(def);
    cr_assert(gitrepo_has_branch(repo, "main"));
    cr_assert_not(gitrepo_has_branch(repo, "nope"));
    cr_assert_eq(gitrepo_resolve(repo, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(strlen(gitrepo_head(repo)), 40);
    cr_assert_eq(gitrepo_resolve(repo, "nope", &err), -1);
    cr_assert(strstr(err.msg, "no branch or tag 'nope'"), "%s", err.msg);

    char id[41];
    gitrepo_file stale = {"a.txt", "two\n", 4, "zero\n", 5};
    cr_assert_eq(gitrepo_commit(repo, &stale, 1, "m", "t", "t@t", "main", id, &err), -1);
    cr_assert(strstr(err.msg, "a.txt changed in the repository"), "%s", err.msg);
    gitrepo_file absent = {"new.txt", "x\n", 2, "was here\n", 9};
    cr_assert_eq(gitrepo_commit(repo, &absent, 1, "m", "t", "t@t", "main", id, &err), -1);

    gitrepo_file good[] = {{"a.txt", "two\n", 4, "one\n", 4}, {"b/new.txt", "x\n", 2, NULL, 0}};
    cr_assert_eq(gitrepo_commit(repo, good, 2, "msg\n", "t", "t@t", "main", id, &err), 0, "%s",
                 err.msg);
    cr_assert_str_eq(id, gitrepo_head(repo));
    cr_assert_eq(gitrepo_push(repo, "main", &err), 0, "%s", err.msg);
    gitrepo_close(repo);
    char *check = xasprintf("test \"$(git --git-dir=%s/r.git rev-parse main)\" = %s && "
                            "test \"$(git --git-dir=%s/r.git show main:b/new.txt)\" = x",
                            dir, id, dir);
    cr_assert_eq(system(check), 0, "%s", check);
    free(check);
    char *rm = xasprintf("rm -rf %s", dir);
    cr_assert_eq(system(rm), 0);
    free(rm);
    free(url);
    free(state);
}

/* A reader of 10,000 files tells its caller how far it is, with the Applications so far, so
 * the console can draw them as they come; the last call always says "all of them". */
typedef struct progress_seen {
    size_t calls, last_done, last_total, apps_at_last;
    bool monotonic, apps_match;
} progress_seen;

enum { BROKEN = 63 }; /* the file whose progress call is due, and that fails to parse */

static void on_progress(void *ctx, const app_list *list, size_t done, size_t total)
{
    progress_seen *p = ctx;
    if (done < p->last_done || done > total)
        p->monotonic = false;
    /* Each file here holds one Application but the 64th, which is not YAML. */
    if (list->count != done - (done >= BROKEN + 1))
        p->apps_match = false;
    p->calls++;
    p->last_done = done;
    p->last_total = total;
    p->apps_at_last = list->count;
}

Test(source, dir_read_reports_progress_with_the_apps_so_far)
{
    char dir[] = "/tmp/tp-progress-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    enum { FILES = 150 };
    for (int i = 0; i < FILES; i++) {
        char *path = xasprintf("%s/app-%03d.yaml", dir, i);
        FILE *f = fopen(path, "w");
        cr_assert_not_null(f);
        if (i == BROKEN)
            fputs("metadata: [unclosed\n", f);
        else
            fprintf(
                f,
                "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: app-%03d\n"
                "  annotations:\n    argocd-image-updater.argoproj.io/image-list: "
                "web=nginx:1.x\nspec:\n  source:\n    repoURL: https://git.example/c.git\n"
                "    path: charts/app\n",
                i);
        fclose(f);
        free(path);
    }
    progress_seen seen = {.monotonic = true, .apps_match = true};
    app_list list = {.on_progress = on_progress, .progress_ctx = &seen};
    repotree *tree = repotree_open_dir(dir, NULL);
    cr_assert_not_null(tree);
    cr_assert_eq(app_list_read_tree(tree, "", &list, NULL), 0);
    repotree_free(tree);
    cr_expect_eq(list.count, FILES - 1);
    cr_expect_eq(list.errors.count, 1);
    cr_expect_eq(seen.calls, 3, "every 64 files, a broken one too, and at the end: %zu calls",
                 seen.calls);
    cr_expect(seen.monotonic);
    cr_expect(seen.apps_match);
    cr_expect_eq(seen.last_done, FILES);
    cr_expect_eq(seen.last_total, FILES);
    cr_expect_eq(seen.apps_at_last, FILES - 1);
    app_list_free(&list);
    char *cmd = xasprintf("rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
    free(cmd);
}

/* An empty folder is a source with no Applications, not an error (nor undefined behaviour). */
Test(source, an_empty_folder_reads_as_no_apps)
{
    char dir[] = "/tmp/tp-empty-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    progress_seen seen = {.monotonic = true, .apps_match = true};
    app_list list = {.on_progress = on_progress, .progress_ctx = &seen};
    tp_err err = {{0}};
    repotree *tree = repotree_open_dir(dir, NULL);
    cr_assert_not_null(tree);
    cr_expect_eq(app_list_read_tree(tree, "", &list, &err), 0, "%s", err.msg);
    repotree_free(tree);
    cr_expect_eq(list.count, 0);
    cr_expect_eq(list.errors.count, 0);
    cr_expect_eq(seen.calls, 1, "one call: 0 of 0 files");
    cr_expect_eq(seen.last_total, 0);
    app_list_free(&list);
    cr_expect_eq(rmdir(dir), 0);
}

/* A name that is missing, null, empty or not text is no name: each such Application gets its
 * own "(unnamed FILE:LINE)" and an error, and keeps its images so they can be shown. */
Test(source, nameless_applications_are_named_by_where_they_are)
{
    static const char text[] =
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
        "metadata: {annotations: {argocd-image-updater.argoproj.io/image-list: a=x/a}}\n"
        "---\n"
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: ''}\n"
        "---\n"
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: ~}\n"
        "---\n"
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: [web]}\n";
    static const size_t lines[] = {1, 5, 9, 13};
    ydoc doc;
    tp_err err = {{0}};
    cr_assert_eq(yamldoc_parse(text, strlen(text), "apps/x.yaml", &doc, &err), 0, "%s", err.msg);
    cr_assert_eq(doc.n_roots, 4);
    for (size_t i = 0; i < 4; i++) {
        argo_app app;
        cr_assert_eq(app_from_node(doc.roots[i], "apps/x.yaml", &app), 0);
        char *name = xasprintf("(unnamed apps/x.yaml:%zu)", lines[i]);
        char *error = xasprintf("apps/x.yaml:%zu: Application without metadata.name", lines[i]);
        cr_expect_str_eq(app.name, name);
        cr_expect_str_eq(app.error ? app.error : "(none)", error);
        free(name);
        free(error);
        app_free(&app);
    }
    argo_app first;
    app_from_node(doc.roots[0], "apps/x.yaml", &first);
    cr_expect_eq(first.settings.n_images, 1, "its image is kept, to be shown in error");
    app_free(&first);
    yamldoc_free(&doc);
}

/* A folder source reads files through real folders only: a folder on the way that is a link to
 * somewhere outside is not followed, whatever is behind it. */
Test(source, dir_tree_never_reads_through_a_linked_folder)
{
    char dir[] = "/tmp/tp-dirlink-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    sh("mkdir -p %s/repo/charts/real %s/outside && printf 'tag: secret\\n' >%s/outside/values.yaml",
       dir);
    sh("printf 'tag: v1\\n' >%s/repo/charts/real/values.yaml", dir);
    char *link = xasprintf("%s/repo/charts/link", dir), *target = xasprintf("%s/outside", dir);
    cr_assert_eq(symlink(target, link), 0);
    char *root = xasprintf("%s/repo", dir);
    tp_err err = {{0}};
    repotree *tree = repotree_open_dir(root, &err);
    cr_assert_not_null(tree, "%s", err.msg);
    strbuf text = {0};
    cr_expect_eq(repotree_read(tree, "charts/real/values.yaml", &text, &err), 0, "%s", err.msg);
    cr_expect_eq(repotree_read(tree, "charts/link/values.yaml", &text, &err), -1,
                 "read through the link: '%s'", text.data ? text.data : "");
    cr_expect(strstr(err.msg, "charts/link/values.yaml: a symbolic link (or under one)"), "%s",
              err.msg);
    cr_expect_eq(repotree_kind_of(tree, "charts/link/values.yaml"), REPOTREE_SYMLINK);
    strvec files = {0};
    cr_expect_eq(repotree_list_yaml(tree, "charts/link", &files, NULL, &err), -1);
    cr_expect_eq(files.count, 0);
    strvec_free(&files);
    strbuf_free(&text);
    repotree_free(tree);
    free(root);
    free(link);
    free(target);
    sh("rm -rf %s", dir);
}

/* Paths from a repository stay inside it: cleaned, or refused with what they were. */
Test(source, repopath_clean_confines)
{
    static const struct {
        const char *in, *out; /* out NULL: refused */
    } cases[] = {
        {"", ""},
        {".", ""},
        {"./charts//web/./", "charts/web"},
        {"a/b", "a/b"},
        {"..", NULL},
        {"charts/../../etc", NULL},
        {"a/..", NULL},
        {"/etc/passwd", NULL},
        {"a\nb", NULL},
        {"a\x1b[2Jb", NULL},
        {"...", "..."}, /* a name, not a way up */
        {"..a/b..", "..a/b.."},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *out = NULL;
        tp_err err = {{0}};
        int rc = repopath_clean(cases[i].in, "source path", &out, &err);
        if (cases[i].out) {
            cr_assert_eq(rc, 0, "case %zu: %s", i, err.msg);
            cr_assert_str_eq(out, cases[i].out, "case %zu", i);
        } else {
            cr_assert_eq(rc, -1, "case %zu accepted as '%s'", i, out ? out : "");
            cr_assert(strstr(err.msg, "source path"), "case %zu: %s", i, err.msg);
        }
        free(out);
    }
}

/* Credentials by URL prefix: scheme, host and port must be the same, the path a prefix at a
 * '/' boundary, the longest wins; scp-like and default ports are understood. */
Test(source, git_credentials_match_by_prefix)
{
    const char *const rules[] = {
        "https://git.example.com/",          /* 0 */
        "https://git.example.com/platform/", /* 1 */
        "ssh://git@git.example.com/team",    /* 2 */
        "http://git.example.com/",           /* 3 */
    };
    static const struct {
        const char *url;
        long want;
    } cases[] = {
        {"https://git.example.com/x.git", 0},
        {"https://GIT.example.com:443/platform/config.git", 1},
        {"https://bot:tok@git.example.com/platform/config.git", 1},
        {"https://git.example.com/platform-evil/x.git", 0},
        {"https://git.example.com:8443/x.git", -1},
        {"https://git.example.com.evil.io/x.git", -1},
        {"git@git.example.com:team/app.git", 2},
        {"ssh://git.example.com:22/team/app.git", 2},
        {"git@git.example.com:teamx/app.git", -1},
        {"http://git.example.com/x.git", 3},
        {"file:///srv/x.git", -1},
        {"not a url", -1},
        {"", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        cr_assert_eq(giturl_best_match(cases[i].url, rules, 4), cases[i].want, "case %zu: %s", i,
                     cases[i].url);
    char *server = giturl_server("https://bot:x@Git.Example.com/platform/config.git");
    cr_assert_str_eq(server, "https://git.example.com:443/");
    free(server);
    cr_assert_null(giturl_server("::"));
}
