#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "annotations.h"
#include "select/tagfilter.h"

/* The tables write annotations as {key, value}: the key's line is 0 unless a test is about
 * lines. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define P         ANNOTATION_PREFIX
#define MAX_ITEMS 20

/* Comma-joined renderings so a table can state lists in one string. */
static char *join_platforms(const platform *p, size_t n)
{
    strbuf sb = {0};
    for (size_t i = 0; i < n; i++)
        strbuf_printf(&sb, "%s%s/%s%s%s", i ? "," : "", p[i].os, p[i].arch, p[i].variant ? "/" : "",
                      p[i].variant ? p[i].variant : "");
    return strbuf_take(&sb);
}

static char *join_strvec(const strvec *v)
{
    strbuf sb = {0};
    for (size_t i = 0; i < v->count; i++)
        strbuf_printf(&sb, "%s%s", i ? "," : "", v->items[i]);
    return strbuf_take(&sb);
}

static void expect_str(const char *actual, const char *expected, const char *what, const char *name)
{
    if (!expected) {
        cr_assert_null(actual, "%s: %s: want NULL, got '%s'", name, what, actual ? actual : "");
        return;
    }
    cr_assert_not_null(actual, "%s: %s: want '%s', got NULL", name, what, expected);
    cr_assert_str_eq(actual, expected, "%s: %s", name, what);
}

/* Messages must match one for one, in order. */
static void expect_msgs_n(const strvec *got, const char *const *want, size_t cap, const char *what,
                          const char *name)
{
    size_t n = 0;
    while (n < cap && want[n])
        n++;
    for (size_t i = 0; i < got->count && i < n; i++)
        cr_assert_str_eq(got->items[i], want[i], "%s: %s %zu", name, what, i);
    cr_assert_eq(got->count, n, "%s: %zu %s, want %zu (first: %s)", name, got->count, what, n,
                 got->count ? got->items[0] : "-");
}

#define expect_msgs(got, want, what, name)                                                         \
    expect_msgs_n(got, want, sizeof(want) / sizeof(want)[0], what, name)

static size_t count_items(const annotation *items)
{
    size_t n = 0;
    while (n < MAX_ITEMS && items[n].key)
        n++;
    return n;
}

struct want_image {
    const char *alias, *name, *constraint;
    strategy_kind strategy;
    const char *allow_tags, *ignore_tags, *platforms; /* lists comma-joined */
    bool force_update;
    const char *pull_secret, *helm_name, *helm_tag, *helm_spec, *kustomize_name;
    const char *error; /* NULL: the image can be updated */
};

struct image_case {
    const char *name;
    annotation items[MAX_ITEMS];
    size_t n_images;
    struct want_image images[4];
    const char *errors[6];
    const char *warnings[12];
};

#define CREDS_HINT                                                                                 \
    "(want pullsecret:<ns>/<name>, secret:<ns>/<name>#<field>, env:<VAR> or ext:/<path>)"
#define BOOL_HINT   "(want true/false, yes/no, on/off or 1/0)"
#define MATCH_HINT  "(want regexp:<pattern> or any)"
#define METHOD_HINT "(want argocd, git, git:repocreds or git:secret:[<ns>/]<name>)"

static const struct image_case image_cases[] = {
    {.name = "no image-list", .items = {{"other.io/x", "1"}}},
    {.name = "empty image-list",
     .items = {{P "image-list", "  "}},
     .warnings = {P "image-list: empty, no image is tracked"}},
    {.name = "spaces around commas, defaults",
     .items = {{P "image-list", " web=nginx:1.x , ghcr.io/a/api "}},
     .n_images = 2,
     .images = {{.alias = "web", .name = "docker.io/library/nginx", .constraint = "1.x"},
                {.alias = "ghcr.io/a/api", .name = "ghcr.io/a/api"}}},
    {.name = "per-alias keys override app-wide ones",
     .items = {{P "image-list", "web=nginx, api=ghcr.io/a/api:^2"},
               {P "update-strategy", "newest-build"},
               {P "web.update-strategy", "digest"},
               {P "allow-tags", "regexp:^v"},
               {P "api.allow-tags", "any"},
               {P "ignore-tags", "*-rc, latest"},
               {P "web.ignore-tags", " dev , ,"},
               {P "platforms", "linux/amd64"},
               {P "web.platforms", "linux/arm64/v8, linux/amd64"},
               {P "force-update", "yes"},
               {P "api.force-update", "Off"},
               {P "pull-secret", "pullsecret:argocd/regcred"},
               {P "web.pull-secret", "env:WEB_CREDS"},
               {P "web.helm.image-name", "app.image.repository"},
               {P "web.helm.image-tag", "  app.image.tag  "},
               {P "api.helm.image-spec", "api.image"},
               {P "api.kustomize.image-name", "api-image"}},
     .n_images = 2,
     .images = {{.alias = "web",
                 .name = "docker.io/library/nginx",
                 .strategy = STRATEGY_DIGEST,
                 .allow_tags = "regexp:^v",
                 .ignore_tags = "dev",
                 .platforms = "linux/arm64/v8,linux/amd64",
                 .force_update = true,
                 .pull_secret = "env:WEB_CREDS",
                 .helm_name = "app.image.repository",
                 .helm_tag = "app.image.tag"},
                {.alias = "api",
                 .name = "ghcr.io/a/api",
                 .constraint = "^2",
                 .strategy = STRATEGY_NEWEST_BUILD,
                 .allow_tags = "any",
                 .ignore_tags = "*-rc,latest",
                 .platforms = "linux/amd64",
                 .pull_secret = "pullsecret:argocd/regcred",
                 .helm_spec = "api.image",
                 .kustomize_name = "api-image"}}},
    {.name = "an image without alias takes only app-wide keys",
     .items = {{P "image-list", "nginx"},
               {P "update-strategy", "alphabetical"},
               {P "nginx.update-strategy", "digest"}},
     .n_images = 1,
     .images = {{.alias = "nginx",
                 .name = "docker.io/library/nginx",
                 .strategy = STRATEGY_ALPHABETICAL}},
     .warnings = {P "nginx.update-strategy: ignored: image 'nginx' has no alias in the image-list "
                    "(write 'nginx=nginx' to set options for it)"}},
    {.name = "'/' in an alias is '_' in keys",
     .items = {{P "image-list", "team/web=ghcr.io/t/web"},
               {P "team_web.update-strategy", "alphabetical"},
               {P "team/web.allow-tags", "any"}},
     .n_images = 1,
     .images = {{.alias = "team/web", .name = "ghcr.io/t/web", .strategy = STRATEGY_ALPHABETICAL}},
     .warnings = {P "team/web.allow-tags: ignored: write alias 'team/web' as 'team_web' in "
                    "annotation keys"}},
    {.name = "a bad platform puts an error on that image only",
     .items = {{P "image-list", "web=nginx, api=redis"}, {P "web.platforms", "linux"}},
     .n_images = 2,
     .images = {{.alias = "web",
                 .name = "docker.io/library/nginx",
                 .error = P "web.platforms: invalid platform 'linux' (want os/arch[/variant])"},
                {.alias = "api", .name = "docker.io/library/redis"}},
     .errors = {P "web.platforms: invalid platform 'linux' (want os/arch[/variant])"}},
    {.name = "a bad app-wide value spares images that override it",
     .items = {{P "image-list", "web=nginx, api=redis"},
               {P "platforms", "linux/amd64/"},
               {P "web.platforms", "linux/arm64"}},
     .n_images = 2,
     .images = {{.alias = "web", .name = "docker.io/library/nginx", .platforms = "linux/arm64"},
                {.alias = "api",
                 .name = "docker.io/library/redis",
                 .error = P "platforms: invalid platform 'linux/amd64/' (want os/arch[/variant])"}},
     .errors = {P "platforms: invalid platform 'linux/amd64/' (want os/arch[/variant])"}},
    {.name = "a bad app-wide value: the image inheriting it has the error, not the overrider",
     .items = {{P "image-list", "web=nginx, api=redis"},
               {P "force-update", "maybe"},
               {P "api.force-update", "on"}},
     .n_images = 2,
     .images = {{.alias = "web",
                 .name = "docker.io/library/nginx",
                 .error = P "force-update: invalid boolean 'maybe' " BOOL_HINT},
                {.alias = "api", .name = "docker.io/library/redis", .force_update = true}},
     .errors = {P "force-update: invalid boolean 'maybe' " BOOL_HINT}},
    {.name = "an image's errors are joined in the order they were reported",
     .items = {{P "image-list", "web=nginx, api=redis"},
               {P "web.allow-tags", "glob:x"},
               {P "force-update", "maybe"},
               {P "api.force-update", "0"}},
     .n_images = 2,
     .images = {{.alias = "web",
                 .name = "docker.io/library/nginx",
                 .allow_tags = "glob:x",
                 .error = P "force-update: invalid boolean 'maybe' " BOOL_HINT "; " P
                            "web.allow-tags: unknown match function in 'glob:x' " MATCH_HINT},
                {.alias = "api", .name = "docker.io/library/redis"}},
     .errors = {P "force-update: invalid boolean 'maybe' " BOOL_HINT,
                P "web.allow-tags: unknown match function in 'glob:x' " MATCH_HINT}},
    {.name = "a bad write-back-method puts its error on every image",
     .items = {{P "image-list", "web=nginx, api=redis"},
               {P "write-back-method", "svn"},
               {P "api.force-update", "ture"}},
     .n_images = 2,
     .images = {{.alias = "web",
                 .name = "docker.io/library/nginx",
                 .error = P "write-back-method: unknown method 'svn' " METHOD_HINT},
                {.alias = "api",
                 .name = "docker.io/library/redis",
                 .error = P "write-back-method: unknown method 'svn' " METHOD_HINT "; " P
                            "api.force-update: invalid boolean 'ture' " BOOL_HINT}},
     .errors = {P "write-back-method: unknown method 'svn' " METHOD_HINT,
                P "api.force-update: invalid boolean 'ture' " BOOL_HINT}},
    {.name = "booleans",
     .items = {{P "image-list", "a=nginx,b=redis,c=alpine"},
               {P "a.force-update", "ture"},
               {P "b.force-update", "TRUE"},
               {P "c.force-update", " "}},
     .n_images = 3,
     .images = {{.alias = "a",
                 .name = "docker.io/library/nginx",
                 .error = P "a.force-update: invalid boolean 'ture' " BOOL_HINT},
                {.alias = "b", .name = "docker.io/library/redis", .force_update = true},
                {.alias = "c", .name = "docker.io/library/alpine"}},
     .errors = {P "a.force-update: invalid boolean 'ture' " BOOL_HINT}},
    {.name = "bad allow-tags and pull-secret values",
     .items = {{P "image-list", "a=nginx,b=redis,c=alpine,d=busybox"},
               {P "a.allow-tags", "glob:v*"},
               {P "b.pull-secret", "secret:argocd/creds"},
               {P "c.pull-secret", "ext:relative.sh"},
               {P "d.pull-secret", "secret:ns/name#field"}},
     .n_images = 4,
     .images = {{.alias = "a",
                 .name = "docker.io/library/nginx",
                 .allow_tags = "glob:v*",
                 .error = P "a.allow-tags: unknown match function in 'glob:v*' " MATCH_HINT},
                {.alias = "b",
                 .name = "docker.io/library/redis",
                 .pull_secret = "secret:argocd/creds",
                 .error = P
                 "b.pull-secret: invalid credential source 'secret:argocd/creds' " CREDS_HINT},
                {.alias = "c",
                 .name = "docker.io/library/alpine",
                 .pull_secret = "ext:relative.sh",
                 .error =
                     P "c.pull-secret: invalid credential source 'ext:relative.sh' " CREDS_HINT},
                {.alias = "d",
                 .name = "docker.io/library/busybox",
                 .pull_secret = "secret:ns/name#field"}},
     .errors = {P "a.allow-tags: unknown match function in 'glob:v*' " MATCH_HINT,
                P "b.pull-secret: invalid credential source 'secret:argocd/creds' " CREDS_HINT,
                P "c.pull-secret: invalid credential source 'ext:relative.sh' " CREDS_HINT}},
    {.name = "values that are not text",
     .items = {{P "image-list", "web=nginx, api=redis, ui=caddy"},
               {P "web.helm.image-name", "image\xffname"},
               {P "api.helm.image-tag", "a\tb"},
               {P "ui.helm.image-name", "imag\xc3\xa9"}},
     .n_images = 3,
     .images = {{.alias = "web",
                 .name = "docker.io/library/nginx",
                 .error = P "web.helm.image-name: invalid value 'image\\xffname' (not UTF-8)"},
                {.alias = "api",
                 .name = "docker.io/library/redis",
                 .error = P "api.helm.image-tag: invalid value 'a\\x09b' (control character)"},
                {.alias = "ui", .name = "docker.io/library/caddy", .helm_name = "imag\xc3\xa9"}},
     .errors = {P "web.helm.image-name: invalid value 'image\\xffname' (not UTF-8)",
                P "api.helm.image-tag: invalid value 'a\\x09b' (control character)"}},
    {.name = "unknown keys and aliases warn",
     .items = {{P "image-list", "web=nginx"},
               {P "web.update-stratgy", "semver"},
               {P "foo", "bar"},
               {"tagpilot.io/aproval", "auto"},
               {"other.io/x", "y"},
               {P "ghost.allow-tags", "any"}},
     .n_images = 1,
     .images = {{.alias = "web", .name = "docker.io/library/nginx"}},
     .warnings = {P "web.update-stratgy: unknown annotation (did you mean web.update-strategy?)",
                  P "foo: unknown annotation (ignored)",
                  "tagpilot.io/aproval: unknown annotation (did you mean tagpilot.io/approval?)",
                  P "ghost.allow-tags: ignored: alias 'ghost' is not in the image-list"}},
    {.name = "misspelt keys get the closest known key",
     .items = {{P "image-list", "web=nginx, team/api=redis"},
               {P "update-stratgey", "semver"},
               {P "imagelist", "x"},
               {P "web.platform", "linux/amd64"},
               {P "wbe.update-strategy", "digest"},
               {P "Web.allow-tags", "any"},
               {P "team_ap.force-update", "true"},
               {P "api.update-strategy", "digest"},
               {P "web.frobnicate", "1"},
               {P "write-back-methd", "git"},
               {"tagpilot.io/something-else", "x"}},
     .n_images = 2,
     .images = {{.alias = "web", .name = "docker.io/library/nginx"},
                {.alias = "team/api", .name = "docker.io/library/redis"}},
     .warnings = {P "update-stratgey: unknown annotation (did you mean update-strategy?)",
                  P "imagelist: unknown annotation (did you mean image-list?)",
                  P "web.platform: unknown annotation (did you mean web.platforms?)",
                  P "wbe.update-strategy: ignored: alias 'wbe' is not in the image-list (did you "
                    "mean web.update-strategy?)",
                  P "Web.allow-tags: ignored: alias 'Web' is not in the image-list (did you mean "
                    "web.allow-tags?)",
                  P "team_ap.force-update: ignored: alias 'team_ap' is not in the image-list (did "
                    "you mean team_api.force-update?)",
                  P "api.update-strategy: ignored: alias 'api' is not in the image-list",
                  P "web.frobnicate: unknown annotation (ignored)",
                  P "write-back-methd: unknown annotation (did you mean write-back-method?)",
                  "tagpilot.io/something-else: unknown annotation (ignored)"}},
    {.name = "names in any case, as argocd-image-updater lower-cases them; patterns as written",
     .items = {{P "image-list", "web=nginx, api=redis, ui=caddy, db=postgres"},
               {P "web.update-strategy", "Newest-Build"},
               {P "web.allow-tags", "ANY"},
               {P "api.update-strategy", "DIGEST"},
               {P "api.allow-tags", "Regexp:^V1"},
               {P "ui.update-strategy", "Alphabetical"},
               {P "ui.tag-match", "REGEXP:^x"},
               {P "db.update-strategy", "SemVer"}},
     .n_images = 4,
     .images = {{.alias = "web",
                 .name = "docker.io/library/nginx",
                 .strategy = STRATEGY_NEWEST_BUILD,
                 .allow_tags = "ANY"},
                {.alias = "api",
                 .name = "docker.io/library/redis",
                 .strategy = STRATEGY_DIGEST,
                 .allow_tags = "Regexp:^V1"},
                {.alias = "ui",
                 .name = "docker.io/library/caddy",
                 .strategy = STRATEGY_ALPHABETICAL,
                 .allow_tags = "REGEXP:^x"},
                {.alias = "db", .name = "docker.io/library/postgres"}},
     .warnings = {P "ui.tag-match: deprecated, use ui.allow-tags"}},
    {.name = "argocd-image-updater keys without an image-list",
     .items = {{P "update-strategy", "semver"}, {"other.io/x", "1"}, {P "web.allow-tags", "any"}},
     .warnings = {P "update-strategy: ignored: the Application has no " P "image-list, no image "
                    "is tracked",
                  P "web.allow-tags: ignored: alias 'web' is not in the image-list"}},
    {.name = "tag-match is the deprecated allow-tags",
     .items = {{P "image-list", "web=nginx,api=redis"},
               {P "web.tag-match", "regexp:^1"},
               {P "api.tag-match", "regexp:^1"},
               {P "api.allow-tags", "regexp:^2"}},
     .n_images = 2,
     .images = {{.alias = "web", .name = "docker.io/library/nginx", .allow_tags = "regexp:^1"},
                {.alias = "api", .name = "docker.io/library/redis", .allow_tags = "regexp:^2"}},
     .warnings = {P "web.tag-match: deprecated, use web.allow-tags",
                  P "api.tag-match: deprecated, use api.allow-tags"}},
    {.name = "a bad tag-match is the image's error only when no allow-tags applies",
     .items = {{P "image-list", "web=nginx,api=redis"},
               {P "web.tag-match", "^1"},
               {P "api.tag-match", "^1"},
               {P "api.allow-tags", "any"}},
     .n_images = 2,
     .images = {{.alias = "web",
                 .name = "docker.io/library/nginx",
                 .allow_tags = "^1",
                 .error = P "web.tag-match: unknown match function in '^1' " MATCH_HINT},
                {.alias = "api", .name = "docker.io/library/redis", .allow_tags = "any"}},
     .errors = {P "web.tag-match: unknown match function in '^1' " MATCH_HINT,
                P "api.tag-match: unknown match function in '^1' " MATCH_HINT},
     .warnings = {P "web.tag-match: deprecated, use web.allow-tags",
                  P "api.tag-match: deprecated, use api.allow-tags"}},
    {.name = "bad image-list entries are left out, others tracked",
     .items = {{P "image-list", "web=nginx, web=redis, Bad, api=ngin\xffx, ok=alpine:~3"}},
     .n_images = 2,
     .images = {{.alias = "web", .name = "docker.io/library/nginx"},
                {.alias = "ok", .name = "docker.io/library/alpine", .constraint = "~3"}},
     .errors = {P "image-list: image-list entry 'web=redis': duplicate alias 'web'",
                P "image-list: image-list entry 'Bad': repository name must be lowercase: 'Bad'",
                P "image-list: image-list entry 'api=ngin\\xffx': invalid reference format: "
                  "'ngin\\xffx' (bad path component 'ngin\\xffx')"}},
    {.name = "keys of a bad entry's alias do not warn again",
     .items = {{P "image-list", "web=Nginx, api=redis"},
               {P "web.update-strategy", "digest"},
               {P "api.update-strategy", "digest"}},
     .n_images = 1,
     .images = {{.alias = "api", .name = "docker.io/library/redis", .strategy = STRATEGY_DIGEST}},
     .errors = {P "image-list: image-list entry 'web=Nginx': repository name must be lowercase: "
                  "'Nginx'"}},
    {.name = "the last of repeated keys wins",
     .items = {{P "image-list", "web=nginx"},
               {P "web.allow-tags", "any"},
               {P "web.allow-tags", "regexp:x"}},
     .n_images = 1,
     .images = {{.alias = "web", .name = "docker.io/library/nginx", .allow_tags = "regexp:x"}}},
};

Test(annotations, images)
{
    for (size_t c = 0; c < sizeof image_cases / sizeof image_cases[0]; c++) {
        const struct image_case *tc = &image_cases[c];
        app_settings s;
        annotations_parse(tc->items, count_items(tc->items), &s);
        expect_msgs(&s.errors, tc->errors, "errors", tc->name);
        expect_msgs(&s.warnings, tc->warnings, "warnings", tc->name);
        cr_assert_eq(s.n_images, tc->n_images, "%s: images", tc->name);
        for (size_t i = 0; i < tc->n_images; i++) {
            const struct want_image *w = &tc->images[i];
            const image_settings *g = &s.images[i];
            expect_str(g->alias, w->alias, "alias", tc->name);
            expect_str(g->ref.name, w->name, "name", tc->name);
            cr_assert_null(g->ref.tag, "%s: no tag", tc->name);
            expect_str(g->constraint, w->constraint, "constraint", tc->name);
            cr_assert_eq(g->strategy, w->strategy, "%s: strategy of %s", tc->name, w->alias);
            cr_assert_null(g->strategy_warning, "%s: strategy warning", tc->name);
            expect_str(g->allow_tags, w->allow_tags, "allow_tags", tc->name);
            char *ignore = join_strvec(&g->ignore_tags);
            expect_str(ignore, w->ignore_tags ? w->ignore_tags : "", "ignore_tags", tc->name);
            free(ignore);
            char *platforms = join_platforms(g->platforms, g->n_platforms);
            expect_str(platforms, w->platforms ? w->platforms : "", "platforms", tc->name);
            free(platforms);
            cr_assert_eq(g->force_update, w->force_update, "%s: force_update of %s", tc->name,
                         w->alias);
            expect_str(g->pull_secret, w->pull_secret, "pull_secret", tc->name);
            expect_str(g->helm_image_name, w->helm_name, "helm_image_name", tc->name);
            expect_str(g->helm_image_tag, w->helm_tag, "helm_image_tag", tc->name);
            expect_str(g->helm_image_spec, w->helm_spec, "helm_image_spec", tc->name);
            expect_str(g->kustomize_image_name, w->kustomize_name, "kustomize_image_name",
                       tc->name);
            expect_str(g->error, w->error, "error", tc->name);
        }
        app_settings_free(&s);
        cr_assert_null(s.images);
    }
}

struct app_case {
    const char *name;
    annotation items[6]; /* besides image-list "web=nginx" */
    writeback_method writeback;
    const char *secret;
    bool repocreds;
    writeback_target_kind target;
    const char *target_path, *branch, *repository;
    approval_policy approval;
    bool image_error; /* the image's error is the errors joined with "; " (else NULL) */
    const char *errors[3];
    const char *warnings[3];
};

static const struct app_case app_cases[] = {
    {.name = "defaults"},
    {.name = "argocd", .items = {{P "write-back-method", "argocd"}}},
    {.name = "git, trimmed",
     .items = {{P "write-back-method", "  git \n"}},
     .writeback = WRITEBACK_GIT},
    {.name = "git:repocreds",
     .items = {{P "write-back-method", "git:repocreds"}},
     .writeback = WRITEBACK_GIT,
     .repocreds = true},
    {.name = "git:secret with namespace",
     .items = {{P "write-back-method", "git:secret:argocd/git-creds"}},
     .writeback = WRITEBACK_GIT,
     .secret = "argocd/git-creds"},
    {.name = "git:secret without namespace",
     .items = {{P "write-back-method", "git:secret:git-creds"}},
     .writeback = WRITEBACK_GIT,
     .secret = "git-creds"},
    {.name = "git:secret empty",
     .items = {{P "write-back-method", "git:secret:"}},
     .errors = {P "write-back-method: invalid secret '' in 'git:secret:' (want "
                  "git:secret:[<ns>/]<name>)"},
     .image_error = true},
    {.name = "git:secret a/b/c",
     .items = {{P "write-back-method", "git:secret:a/b/c"}},
     .errors = {P "write-back-method: invalid secret 'a/b/c' in 'git:secret:a/b/c' (want "
                  "git:secret:[<ns>/]<name>)"},
     .image_error = true},
    {.name = "unknown method",
     .items = {{P "write-back-method", "svn"}},
     .errors = {P "write-back-method: unknown method 'svn' " METHOD_HINT},
     .image_error = true},
    {.name = "method names are lower-case",
     .items = {{P "write-back-method", "Git"}},
     .errors = {P "write-back-method: unknown method 'Git' " METHOD_HINT},
     .image_error = true},
    {.name = "unknown git credentials",
     .items = {{P "write-back-method", "git:ssh"}},
     .errors = {P "write-back-method: unknown credentials in 'git:ssh' (want git, git:repocreds "
                  "or git:secret:[<ns>/]<name>)"},
     .image_error = true},
    {.name = "kustomization",
     .items = {{P "write-back-method", "git"}, {P "write-back-target", "kustomization"}},
     .writeback = WRITEBACK_GIT,
     .target = TARGET_KUSTOMIZATION},
    {.name = "kustomization:path",
     .items = {{P "write-back-method", "git"}, {P "write-back-target", "kustomization:../base"}},
     .writeback = WRITEBACK_GIT,
     .target = TARGET_KUSTOMIZATION,
     .target_path = "../base"},
    {.name = "helmvalues:file, branch, repository",
     .items = {{P "write-back-method", "git"},
               {P "write-back-target", "helmvalues:/env/values.yaml"},
               {P "git-branch", "main:image-updates-{{.SHA256}}"},
               {P "git-repository", "https://git.example.com/x.git"}},
     .writeback = WRITEBACK_GIT,
     .target = TARGET_HELMVALUES,
     .target_path = "/env/values.yaml",
     .branch = "main:image-updates-{{.SHA256}}",
     .repository = "https://git.example.com/x.git"},
    {.name = "helmvalues, :target branch",
     .items = {{P "write-back-method", "git"},
               {P "write-back-target", "helmvalues"},
               {P "git-branch", ":feature"}},
     .writeback = WRITEBACK_GIT,
     .target = TARGET_HELMVALUES,
     .branch = ":feature"},
    {.name = "unknown target",
     .items = {{P "write-back-method", "git"}, {P "write-back-target", "kustomize"}},
     .writeback = WRITEBACK_GIT,
     .errors = {P "write-back-target: unknown target 'kustomize' (want kustomization[:<path>] or "
                  "helmvalues[:<file>])"},
     .image_error = true},
    {.name = "bad branch",
     .items = {{P "write-back-method", "git"}, {P "git-branch", "a:b:c"}},
     .writeback = WRITEBACK_GIT,
     .errors = {P "git-branch: invalid branch 'a:b:c' (want <branch>, <base>:<target> or "
                  ":<target>)"},
     .image_error = true},
    {.name = "git settings with argocd write-back",
     .items = {{P "write-back-target", "kustomization"}, {P "git-branch", "main"}},
     .target = TARGET_KUSTOMIZATION,
     .branch = "main",
     .warnings = {P "write-back-target: has no effect with write-back-method argocd",
                  P "git-branch: has no effect with write-back-method argocd"}},
    {.name = "approval auto", .items = {{ANNOTATION_APPROVAL, "auto"}}, .approval = APPROVAL_AUTO},
    {.name = "approval MANUAL",
     .items = {{ANNOTATION_APPROVAL, " MANUAL "}},
     .approval = APPROVAL_MANUAL},
    {.name = "approval typo is manual",
     .items = {{ANNOTATION_APPROVAL, "autoo"}},
     .approval = APPROVAL_MANUAL,
     .errors = {ANNOTATION_APPROVAL
                ": unknown policy 'autoo' (want auto or manual; using manual)"}},
    {.name = "every bad write-back key is in the image's error",
     .items = {{P "write-back-method", "git:ssh"}, {P "git-branch", "a:b:c"}},
     .errors = {P "write-back-method: unknown credentials in 'git:ssh' (want git, git:repocreds "
                  "or git:secret:[<ns>/]<name>)",
                P "git-branch: invalid branch 'a:b:c' (want <branch>, <base>:<target> or "
                  ":<target>)"},
     .image_error = true},
    {.name = "method not text",
     .items = {{P "write-back-method", "git\x01"}},
     .errors = {P "write-back-method: invalid value 'git\\x01' (control character)"},
     .image_error = true},
};

Test(annotations, app_settings)
{
    for (size_t c = 0; c < sizeof app_cases / sizeof app_cases[0]; c++) {
        const struct app_case *tc = &app_cases[c];
        annotation items[8] = {{P "image-list", "web=nginx"}};
        size_t n = 1;
        for (size_t i = 0; i < 6 && tc->items[i].key; i++)
            items[n++] = tc->items[i];
        app_settings s;
        annotations_parse(items, n, &s);
        expect_msgs(&s.errors, tc->errors, "errors", tc->name);
        expect_msgs(&s.warnings, tc->warnings, "warnings", tc->name);
        cr_assert_eq(s.writeback, tc->writeback, "%s: writeback", tc->name);
        expect_str(s.writeback_secret, tc->secret, "writeback_secret", tc->name);
        cr_assert_eq(s.writeback_repocreds, tc->repocreds, "%s: repocreds", tc->name);
        cr_assert_eq(s.target, tc->target, "%s: target", tc->name);
        expect_str(s.target_path, tc->target_path, "target_path", tc->name);
        expect_str(s.git_branch, tc->branch, "git_branch", tc->name);
        expect_str(s.git_repository, tc->repository, "git_repository", tc->name);
        cr_assert_eq(s.approval, tc->approval, "%s: approval", tc->name);
        cr_assert_eq(s.n_images, 1, "%s: images", tc->name);
        strbuf joined = {0};
        for (size_t i = 0; i < s.errors.count; i++)
            strbuf_printf(&joined, "%s%s", i ? "; " : "", s.errors.items[i]);
        expect_str(s.images[0].error, tc->image_error ? joined.data : NULL, "image error",
                   tc->name);
        strbuf_free(&joined);
        app_settings_free(&s);
    }
}

Test(annotations, strategy_warnings)
{
    /* the wording belongs to strategy_from_name; here: where it ends up */
    const char *text = NULL;
    strategy_kind latest = strategy_from_name("latest", &text);
    cr_assert_not_null(text, "'latest' is deprecated");
    cr_assert_eq(latest, STRATEGY_NEWEST_BUILD);
    char warning[192]; /* the text lives until the next call */
    snprintf(warning, sizeof warning, "%s", text);

    annotation items[] = {
        {P "image-list", "web=nginx, api=redis, ui=caddy"},
        {P "update-strategy", "latest"},
        {P "api.update-strategy", "bogus"},
        {P "ui.update-strategy", "alphabetical"},
    };
    app_settings s;
    annotations_parse(items, sizeof items / sizeof items[0], &s);
    cr_assert_eq(s.errors.count, 0);
    cr_assert_eq(s.n_images, 3);
    cr_assert_eq(s.images[0].strategy, STRATEGY_NEWEST_BUILD);
    cr_assert_str_eq(s.images[0].strategy_warning, warning);
    cr_assert_eq(s.images[1].strategy, STRATEGY_SEMVER, "unknown names fall back to semver");
    cr_assert_not_null(s.images[1].strategy_warning);
    cr_assert_eq(s.images[2].strategy, STRATEGY_ALPHABETICAL);
    cr_assert_null(s.images[2].strategy_warning);
    /* one app warning per key, naming it */
    cr_assert_eq(s.warnings.count, 2);
    char *want = xasprintf(P "update-strategy: %s", warning);
    cr_assert_str_eq(s.warnings.items[0], want);
    free(want);
    cr_assert(str_starts_with(s.warnings.items[1], P "api.update-strategy: "));
    cr_assert(str_ends_with(s.warnings.items[1], s.images[1].strategy_warning));
    app_settings_free(&s);

    app_settings empty = {0};
    app_settings_free(&empty);
    app_settings_free(NULL);
}

Test(annotations, deprecated_names_in_any_case)
{
    annotation items[] = {
        {P "image-list", "web=nginx, api=redis"},
        {P "web.update-strategy", "Latest"},
        {P "api.update-strategy", "NAME"},
    };
    app_settings s;
    annotations_parse(items, sizeof items / sizeof items[0], &s);
    cr_assert_eq(s.errors.count, 0);
    cr_assert_eq(s.images[0].strategy, STRATEGY_NEWEST_BUILD);
    cr_assert_eq(s.images[1].strategy, STRATEGY_ALPHABETICAL);
    const char *want[] = {
        P "web.update-strategy: update strategy 'Latest' is deprecated, use 'newest-build'",
        P "api.update-strategy: update strategy 'NAME' is deprecated, use 'alphabetical'"};
    expect_msgs(&s.warnings, want, "warnings", "deprecated names");
    app_settings_free(&s);
}

/* What the annotations accept, the tag filter must run: "ANY" passed the annotation check once
 * and then put the image in error at every cycle. */
Test(annotations, allow_tags_any_case_reach_the_filter)
{
    struct {
        const char *allow, *tag;
        tagfilter_result want;
    } cases[] = {
        {"ANY", "whatever", TAGFILTER_ALLOWED},       {"Any", "v1", TAGFILTER_ALLOWED},
        {"REGEXP:^v1\\.", "v1.2", TAGFILTER_ALLOWED}, {"Regexp:^v1\\.", "v2.0", TAGFILTER_REJECTED},
        {"regexp:^V1", "v1.0", TAGFILTER_REJECTED}, /* the pattern keeps its case */
        {"regexp:^V1", "V1.0", TAGFILTER_ALLOWED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        annotation items[] = {{P "image-list", "web=nginx"}, {P "web.allow-tags", cases[i].allow}};
        app_settings s;
        annotations_parse(items, 2, &s);
        cr_assert_eq(s.errors.count, 0, "%s", cases[i].allow);
        cr_assert_null(s.images[0].error, "%s", cases[i].allow);
        tagfilter *f = tagfilter_new(s.images[0].allow_tags, NULL, 0);
        cr_assert_null(tagfilter_problem(f), "%s: %s", cases[i].allow, tagfilter_problem(f));
        cr_assert_eq(tagfilter_check(f, cases[i].tag, NULL), cases[i].want, "%s on %s",
                     cases[i].allow, cases[i].tag);
        tagfilter_free(f);
        app_settings_free(&s);
    }
}

/* Every message carries the line of the key it is about, for `tagpilot lint`. */
Test(annotations, message_lines)
{
    annotation items[] = {
        {P "image-list", "web=nginx, Bad", 7},
        {P "web.update-stratgy", "semver", 8},
        {P "web.force-update", "maybe", 9},
        {P "write-back-target", "kustomization", 10},
        {"tagpilot.io/aproval", "auto", 11},
        {P "update-strategy", "latest", 12},
        {P "write-back-method", "svn", 13},
        {P "write-back-method", "argocd", 14}, /* the last one wins, and its line */
        {P "ghost.platforms", "linux/amd64", 15},
    };
    app_settings s;
    annotations_parse(items, sizeof items / sizeof items[0], &s);
    cr_assert_eq(s.errors.count, 2, "%s", s.errors.count ? s.errors.items[0] : "-");
    cr_assert(str_starts_with(s.errors.items[0], P "image-list: "), "%s", s.errors.items[0]);
    cr_assert_eq(s.error_lines[0], 7);
    cr_assert(str_starts_with(s.errors.items[1], P "web.force-update: "), "%s", s.errors.items[1]);
    cr_assert_eq(s.error_lines[1], 9);
    static const struct {
        const char *key;
        size_t line;
    } warnings[] = {
        {P "write-back-target: ", 10}, {P "web.update-stratgy: ", 8}, {"tagpilot.io/aproval: ", 11},
        {P "ghost.platforms: ", 15},   {P "update-strategy: ", 12},
    };
    cr_assert_eq(s.warnings.count, sizeof warnings / sizeof warnings[0]);
    for (size_t i = 0; i < s.warnings.count; i++) {
        cr_assert(str_starts_with(s.warnings.items[i], warnings[i].key), "%zu: %s", i,
                  s.warnings.items[i]);
        cr_assert_eq(s.warning_lines[i], warnings[i].line, "%s", s.warnings.items[i]);
    }
    app_settings_free(&s);

    /* no message, no line array; a missing image-list is warned at the first key */
    annotation clean[] = {{P "image-list", "web=nginx", 3}};
    annotations_parse(clean, 1, &s);
    cr_assert_null(s.error_lines);
    cr_assert_null(s.warning_lines);
    app_settings_free(&s);
    annotation no_list[] = {{"other.io/x", "1", 4}, {P "update-strategy", "semver", 5}};
    annotations_parse(no_list, 2, &s);
    cr_assert_eq(s.warnings.count, 1);
    cr_assert_eq(s.warning_lines[0], 5);
    app_settings_free(&s);
}

Test(annotations, closest_key_is_bounded)
{
    /* a hostile file: many unknown keys near many aliases; suggestions stop after a budget and
     * keys longer than any real one are not compared */
    strbuf list = {0};
    for (int i = 0; i < 200; i++)
        strbuf_printf(&list, "%sa%03d=nginx:%d", i ? "," : "", i, i);
    annotation items[301] = {{P "image-list", list.data}};
    char *keys[300];
    for (int i = 0; i < 300; i++) {
        keys[i] = xasprintf(P "a%03d.update-stratgy", i % 200);
        items[i + 1] = (annotation){keys[i], "x", 0};
    }
    app_settings s;
    annotations_parse(items, 301, &s);
    cr_assert_eq(s.warnings.count, 300);
    size_t suggested = 0;
    for (size_t i = 0; i < s.warnings.count; i++)
        suggested += strstr(s.warnings.items[i], "did you mean") != NULL;
    cr_assert_eq(suggested, 32, "suggestions: %zu", suggested);
    cr_assert(strstr(s.warnings.items[0], "(did you mean a000.update-strategy?)") != NULL, "%s",
              s.warnings.items[0]);
    app_settings_free(&s);
    for (int i = 0; i < 300; i++)
        free(keys[i]);
    strbuf_free(&list);

    char long_key[200];
    memset(long_key, 'x', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = '\0';
    char *key = xasprintf(P "%s", long_key);
    annotation one[] = {{P "image-list", "web=nginx"}, {key, "1"}};
    annotations_parse(one, 2, &s);
    cr_assert_eq(s.warnings.count, 1);
    cr_assert(strstr(s.warnings.items[0], "unknown annotation (ignored)") != NULL);
    app_settings_free(&s);
    free(key);
}

/* An alias's option is <prefix><alias>.<option>, dot and all: <alias>_<option> (or a longer
 * alias that starts with this one) sets nothing for it. */
Test(annotations, alias_option_needs_its_dot)
{
    annotation items[] = {
        {P "image-list", "web=nginx", 1},
        {P "web_update-strategy", "latest", 2},
        {P "webx.update-strategy", "name", 3},
        {P "web.allow-tags", "regexp:^v", 4},
    };
    app_settings s;
    annotations_parse(items, sizeof items / sizeof *items, &s);
    cr_assert_eq(s.n_images, 1);
    cr_expect_eq(s.images[0].strategy, STRATEGY_SEMVER, "strategy %d", s.images[0].strategy);
    expect_str(s.images[0].allow_tags, "regexp:^v", "allow_tags", "dot");
    app_settings_free(&s);
}
