/* argocd-image-updater v1 ImageUpdater resources as the annotations they stand for
 * (source/imageupdater): selection by name pattern, labels and namespace, v1's precedence (image
 * over applicationRef over spec), useAnnotations, the write-back settings, malformed resources. */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "source/imageupdater.h"

#define P "argocd-image-updater.argoproj.io/"

static cJSON *app(const char *name, const char *labels, const char *annotations)
{
    char *text = xasprintf("{\"metadata\":{\"name\":\"%s\",\"namespace\":\"argocd\","
                           "\"labels\":%s,\"annotations\":%s},\"spec\":{}}",
                           name, labels, annotations);
    cJSON *j = cJSON_Parse(text);
    free(text);
    cr_assert_not_null(j);
    return j;
}

static const char *ann(const cJSON *app_obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(app_obj, "metadata"), "annotations"), key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *updaters_json =
    "[{\"metadata\":{\"name\":\"books\",\"namespace\":\"argocd\"},\"spec\":{"
    "\"commonUpdateSettings\":{\"updateStrategy\":\"newest-build\",\"ignoreTags\":[\"latest\"],"
    "\"forceUpdate\":true},"
    "\"writeBackConfig\":{\"method\":\"git\",\"gitConfig\":{\"branch\":\"main:up-{{.SHA256}}\","
    "\"writeBackTarget\":\"helmvalues:values.yaml\"}},"
    "\"applicationRefs\":["
    " {\"namePattern\":\"book*\",\"labelSelectors\":{\"matchLabels\":{\"team\":\"books\"},"
    "  \"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"NotIn\",\"values\":[\"test\"]}]},"
    "  \"commonUpdateSettings\":{\"updateStrategy\":\"semver\",\"allowTags\":\"^v1\\\\.\"},"
    "  \"images\":[{\"alias\":\"bs\",\"imageName\":\"ghcr.io/a/bookstore:~1.0\","
    "   \"commonUpdateSettings\":{\"platforms\":[\"linux/amd64\",\"linux/arm64\"],"
    "    \"pullSecret\":\"pullsecret:argocd/regcred\"},"
    "   \"manifestTargets\":{\"helm\":{\"name\":\"image.repository\",\"tag\":\"image.tag\"}}},"
    "   {\"alias\":\"side\",\"imageName\":\"ghcr.io/a/sidecar\",\"commonUpdateSettings\":"
    "    {\"updateStrategy\":\"digest\",\"allowTags\":\"regexp:^main$\"},"
    "   \"manifestTargets\":{\"kustomize\":{\"name\":\"sidecar\"}}}]},"
    " {\"namePattern\":\"legacy-*\",\"useAnnotations\":true,\"images\":[{\"alias\":\"x\","
    "  \"imageName\":\"x\"}]}"
    "]}}]";

Test(imageupdater, settings_with_v1_precedence)
{
    cJSON *ius = cJSON_Parse(updaters_json);
    cJSON *a = app("bookstore", "{\"team\":\"books\"}",
                   "{\"" P "image-list\":\"old=nginx\",\"note\":\"kept\"}");
    char *by = NULL;
    tp_err err = {{0}};
    cr_assert_eq(imageupdater_apply(ius, a, &by, &err), 1, "%s", err.msg);
    cr_assert_str_eq(by, "argocd/books");
    cr_assert_str_eq(ann(a, P "image-list"), "bs=ghcr.io/a/bookstore:~1.0,side=ghcr.io/a/sidecar",
                     "the CR's images replace the app's own");
    cr_assert_str_eq(ann(a, "note"), "kept", "annotations of others stay");
    cr_assert_str_eq(ann(a, P "bs.update-strategy"), "semver", "the ref's over the spec's");
    cr_assert_str_eq(ann(a, P "side.update-strategy"), "digest", "the image's over the ref's");
    cr_assert_str_eq(ann(a, P "bs.allow-tags"), "regexp:^v1\\.", "a bare expression is regexp:");
    cr_assert_str_eq(ann(a, P "side.allow-tags"), "regexp:^main$");
    cr_assert_str_eq(ann(a, P "bs.ignore-tags"), "latest", "the spec's when nothing closer");
    cr_assert_str_eq(ann(a, P "bs.force-update"), "true");
    cr_assert_str_eq(ann(a, P "bs.platforms"), "linux/amd64,linux/arm64");
    cr_assert_str_eq(ann(a, P "bs.pull-secret"), "pullsecret:argocd/regcred");
    cr_assert_null(ann(a, P "side.pull-secret"), "an image's setting is its own");
    cr_assert_str_eq(ann(a, P "bs.helm.image-name"), "image.repository");
    cr_assert_str_eq(ann(a, P "bs.helm.image-tag"), "image.tag");
    cr_assert_str_eq(ann(a, P "side.kustomize.image-name"), "sidecar");
    cr_assert_str_eq(ann(a, P "write-back-method"), "git");
    cr_assert_str_eq(ann(a, P "git-branch"), "main:up-{{.SHA256}}");
    cr_assert_str_eq(ann(a, P "write-back-target"), "helmvalues:values.yaml");
    free(by);
    cJSON_Delete(a);
    cJSON_Delete(ius);
}

Test(imageupdater, selection)
{
    cJSON *ius = cJSON_Parse(updaters_json);
    const char *cases[][3] = {
        /* name, labels, selected? */
        {"bookstore", "{\"team\":\"books\"}", "1"},
        {"bookshop", "{\"team\":\"books\",\"tier\":\"prod\"}", "1"},
        {"bookstore", "{\"team\":\"toys\"}", "0"},                    /* matchLabels */
        {"bookstore", "{\"team\":\"books\",\"tier\":\"test\"}", "0"}, /* NotIn */
        {"store", "{\"team\":\"books\"}", "0"},                       /* namePattern */
        {"legacy-api", "{}", "1"},                                    /* useAnnotations */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cJSON *a = app(cases[i][0], cases[i][1], "{\"" P "image-list\":\"own=nginx\"}");
        char *by = NULL;
        tp_err err = {{0}};
        int rc = imageupdater_apply(ius, a, &by, &err);
        cr_assert_eq(rc, atoi(cases[i][2]), "case %zu (%s %s): %d", i, cases[i][0], cases[i][1],
                     rc);
        if (str_eq(cases[i][0], "legacy-api"))
            cr_assert_str_eq(ann(a, P "image-list"), "own=nginx",
                             "useAnnotations: its own annotations configure it");
        free(by);
        cJSON_Delete(a);
    }
    /* Another namespace than the CR's (and its spec.namespace): not selected. */
    cJSON *other = cJSON_Parse("{\"metadata\":{\"name\":\"bookstore\",\"namespace\":\"team-a\","
                               "\"labels\":{\"team\":\"books\"}}}");
    char *by = NULL;
    tp_err err = {{0}};
    cr_assert_eq(imageupdater_apply(ius, other, &by, &err), 0);
    cJSON_Delete(other);
    cJSON_Delete(ius);
}

Test(imageupdater, spec_namespace_and_default_method)
{
    cJSON *ius = cJSON_Parse("[{\"metadata\":{\"name\":\"u\",\"namespace\":\"updaters\"},"
                             "\"spec\":{\"namespace\":\"argocd\",\"applicationRefs\":["
                             "{\"namePattern\":\"*\",\"images\":[{\"alias\":\"a\","
                             "\"imageName\":\"nginx:1.x\"}]}]}}]");
    cJSON *a = app("web", "{}", "{}");
    char *by = NULL;
    tp_err err = {{0}};
    cr_assert_eq(imageupdater_apply(ius, a, &by, &err), 1, "spec.namespace names the apps' one");
    cr_assert_str_eq(ann(a, P "write-back-method"), "argocd", "v1's default method");
    cr_assert_null(ann(a, P "a.update-strategy"), "no strategy set: the parser's default");
    free(by);
    cJSON_Delete(a);
    cJSON_Delete(ius);
}

Test(imageupdater, malformed_resources_are_errors_naming_them)
{
    const char *bad[] = {
        "[{\"metadata\":{\"name\":\"u\",\"namespace\":\"argocd\"},\"spec\":{\"applicationRefs\":"
        "[{\"namePattern\":\"*\"}]}}]",
        "[{\"metadata\":{\"name\":\"u\",\"namespace\":\"argocd\"},\"spec\":{\"applicationRefs\":"
        "[{\"namePattern\":\"*\",\"images\":[{\"alias\":\"a\"}]}]}}]",
        "[{\"metadata\":{\"name\":\"u\",\"namespace\":\"argocd\"},\"spec\":{\"applicationRefs\":"
        "[{\"namePattern\":\"*\",\"labelSelectors\":{\"matchExpressions\":[{\"key\":\"k\","
        "\"operator\":\"Near\"}]},\"images\":[{\"alias\":\"a\",\"imageName\":\"x\"}]}]}}]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cJSON *ius = cJSON_Parse(bad[i]);
        cr_assert_not_null(ius, "%zu", i);
        cJSON *a = app("web", "{\"k\":\"v\"}", "{\"" P "image-list\":\"own=nginx\"}");
        char *by = NULL;
        tp_err err = {{0}};
        cr_assert_eq(imageupdater_apply(ius, a, &by, &err), -1, "case %zu", i);
        cr_assert(strstr(err.msg, "ImageUpdater argocd/u"), "%s", err.msg);
        cr_assert_str_eq(ann(a, P "image-list"), "own=nginx", "nothing changed on an error");
        cr_assert_null(by);
        cJSON_Delete(a);
        cJSON_Delete(ius);
    }
}
