/* The argocd write-back's plan (writeback/argocd_patch): what changes in the Application, the
 * merge patch conditional on its resourceVersion, the tag it replaces, the diff shown before a
 * write, and the refusals. */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "writeback/argocd_patch.h"
#include "yamldoc.h"

#define ANN "argocd-image-updater.argoproj.io/"

/* An Application object as the API server returns it: JSON text (which is YAML too, so the
 * app's settings come from the same bytes). */
static char *object(const char *annotations, const char *spec, const char *status)
{
    return xasprintf("{\"apiVersion\":\"argoproj.io/v1alpha1\",\"kind\":\"Application\","
                     "\"metadata\":{\"name\":\"bookstore\",\"namespace\":\"argocd\","
                     "\"resourceVersion\":\"42\",\"annotations\":{%s}},"
                     "\"spec\":%s,\"status\":%s}",
                     annotations, spec, status ? status : "{}");
}

static argo_app app_of(const char *json)
{
    ydoc doc;
    tp_err err = {{0}};
    cr_assert_eq(yamldoc_parse(json, strlen(json), "obj", &doc, &err), 0, "%s", err.msg);
    argo_app app;
    cr_assert_eq(app_from_node(doc.roots[0], "obj", &app), 0);
    yamldoc_free(&doc);
    cr_assert_null(app.error, "%s", app.error);
    return app;
}

static cJSON *patch_source(const argocd_patch *p)
{
    cJSON *j = cJSON_Parse(p->body);
    cr_assert_not_null(j, "patch is JSON: %s", p->body ? p->body : "(null)");
    return j;
}

static const char *param_value(const cJSON *params, const char *name, bool *force)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, params)
    {
        const cJSON *n = cJSON_GetObjectItem(e, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0) {
            *force = cJSON_IsTrue(cJSON_GetObjectItem(e, "forceString"));
            return cJSON_GetObjectItem(e, "value")->valuestring;
        }
    }
    return NULL;
}

#define HELM_ANN "\"" ANN "image-list\":\"bs=registry.example:5000/bookstore\""

Test(argocd_patch, helm_parameters_merged_by_name_with_force_string)
{
    char *json = object(HELM_ANN,
                        "{\"source\":{\"repoURL\":\"https://git.example/x\",\"path\":\"chart\","
                        "\"helm\":{\"releaseName\":\"bs\",\"parameters\":["
                        "{\"name\":\"replicas\",\"value\":\"3\"},"
                        "{\"name\":\"image.tag\",\"value\":\"1.0.0\"}]}}}",
                        NULL);
    argo_app app = app_of(json);
    image_update u = {&app.settings.images[0], "1.0.0", "1.0.1"};
    argocd_patch p;
    tp_err err = {{0}};
    cr_assert_eq(argocd_patch_plan(json, &app, &u, 1, NULL, &p, &err), 0, "%s", err.msg);
    cJSON *j = patch_source(&p);
    cr_assert_str_eq(
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "metadata"), "resourceVersion")->valuestring,
        "42", "the patch is conditional on the version it was planned on");
    const cJSON *helm =
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "spec"), "source"), "helm");
    const cJSON *params = cJSON_GetObjectItem(helm, "parameters");
    cr_assert_eq(cJSON_GetArraySize(params), 3);
    bool force = false;
    cr_assert_str_eq(param_value(params, "replicas", &force), "3", "others kept");
    cr_assert_str_eq(cJSON_GetArrayItem(params, 0)->child->valuestring, "replicas", "order kept");
    cr_assert_str_eq(param_value(params, "image.tag", &force), "1.0.1");
    cr_assert(force, "forceString: true, as argocd-image-updater sets it");
    cr_assert_str_eq(param_value(params, "image.name", &force), "registry.example:5000/bookstore");
    cr_assert_str_eq(cJSON_GetObjectItem(helm, "releaseName")->valuestring, "bs");
    cr_assert_str_eq(p.replaced[0], "1.0.0", "the tag the Application set");
    cr_assert_str_eq(p.field, "spec.source");
    cr_assert(strstr(p.diff, "\n-    value: 1.0.0\n"), "diff:\n%s", p.diff);
    cr_assert(strstr(p.diff, "\n+    value: 1.0.1\n+    forceString: true\n"), "diff:\n%s", p.diff);
    cr_assert(strstr(p.diff, "\n   - name: replicas\n     value: \"3\"\n"), "diff:\n%s", p.diff);
    cJSON_Delete(j);
    argocd_patch_free(&p);
    app_free(&app);
    free(json);
}

Test(argocd_patch, helm_image_spec_is_one_parameter)
{
    char *json = object(HELM_ANN ",\"" ANN "bs.helm.image-spec\":\"app.image\"",
                        "{\"source\":{\"repoURL\":\"https://charts.example\",\"chart\":\"bs\","
                        "\"targetRevision\":\"1.2.3\"}}",
                        NULL);
    argo_app app = app_of(json);
    image_update u = {&app.settings.images[0], NULL, "2.0.0"};
    argocd_patch p;
    tp_err err = {{0}};
    cr_assert_eq(argocd_patch_plan(json, &app, &u, 1, NULL, &p, &err), 0, "%s", err.msg);
    cJSON *j = patch_source(&p);
    const cJSON *params = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "spec"), "source"), "helm"),
        "parameters");
    cr_assert_eq(cJSON_GetArraySize(params), 1, "a chart with no helm section gets one made");
    bool force;
    cr_assert_str_eq(param_value(params, "app.image", &force),
                     "registry.example:5000/bookstore:2.0.0");
    cr_assert_null(p.replaced[0]);
    cJSON_Delete(j);
    argocd_patch_free(&p);
    app_free(&app);
    free(json);
}

Test(argocd_patch, kustomize_entry_replaced_others_kept)
{
    char *json = object(HELM_ANN,
                        "{\"source\":{\"repoURL\":\"https://git.example/x\",\"path\":\"k\","
                        "\"kustomize\":{\"images\":[\"registry.example:5000/bookstore:1.0.0\","
                        "\"registry.example:5000/other:2\",\"nginx:1.25\"]}}}",
                        NULL);
    argo_app app = app_of(json);
    image_update u = {&app.settings.images[0], "1.0.0", "1.0.1"};
    argocd_patch p;
    tp_err err = {{0}};
    cr_assert_eq(argocd_patch_plan(json, &app, &u, 1, NULL, &p, &err), 0, "%s", err.msg);
    cJSON *j = patch_source(&p);
    const cJSON *images = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "spec"), "source"),
                            "kustomize"),
        "images");
    cr_assert_eq(cJSON_GetArraySize(images), 3);
    cr_assert_str_eq(cJSON_GetArrayItem(images, 0)->valuestring,
                     "registry.example:5000/bookstore:1.0.1",
                     "the entry for the same image, not a second one");
    cr_assert_str_eq(cJSON_GetArrayItem(images, 1)->valuestring, "registry.example:5000/other:2",
                     "another image on the same registry is another entry (a port is not a tag)");
    cr_assert_str_eq(cJSON_GetArrayItem(images, 2)->valuestring, "nginx:1.25");
    cr_assert_str_eq(p.replaced[0], "1.0.0");
    cJSON_Delete(j);
    argocd_patch_free(&p);
    app_free(&app);
    free(json);
}

Test(argocd_patch, kustomize_image_name_keys_the_entry)
{
    char *json = object(HELM_ANN ",\"" ANN "bs.kustomize.image-name\":\"bookstore\"",
                        "{\"source\":{\"repoURL\":\"https://git.example/x\",\"path\":\"k\","
                        "\"kustomize\":{\"images\":[\"bookstore=registry.example:5000/"
                        "bookstore:1.0.0\"]}}}",
                        NULL);
    argo_app app = app_of(json);
    image_update u = {&app.settings.images[0], "1.0.0", "1.1.0"};
    argocd_patch p;
    tp_err err = {{0}};
    cr_assert_eq(argocd_patch_plan(json, &app, &u, 1, NULL, &p, &err), 0, "%s", err.msg);
    cJSON *j = patch_source(&p);
    const cJSON *images = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "spec"), "source"),
                            "kustomize"),
        "images");
    cr_assert_eq(cJSON_GetArraySize(images), 1);
    cr_assert_str_eq(cJSON_GetArrayItem(images, 0)->valuestring,
                     "bookstore=registry.example:5000/bookstore:1.1.0");
    cr_assert_str_eq(p.replaced[0], "1.0.0");
    cJSON_Delete(j);
    argocd_patch_free(&p);
    app_free(&app);
    free(json);
}

Test(argocd_patch, multi_source_patches_the_helm_source_and_keeps_the_others)
{
    char *json = object(HELM_ANN,
                        "{\"sources\":[{\"repoURL\":\"https://git.example/values\","
                        "\"ref\":\"values\"},{\"repoURL\":\"https://charts.example\","
                        "\"chart\":\"bs\",\"helm\":{\"valueFiles\":[\"$values/v.yaml\"]}}]}",
                        "{\"sourceTypes\":[\"Directory\",\"Helm\"]}");
    argo_app app = app_of(json);
    image_update u = {&app.settings.images[0], NULL, "1.0.1"};
    argocd_patch p;
    tp_err err = {{0}};
    cr_assert_eq(argocd_patch_plan(json, &app, &u, 1, NULL, &p, &err), 0, "%s", err.msg);
    cr_assert_str_eq(p.field, "spec.sources[1]");
    cJSON *j = patch_source(&p);
    const cJSON *sources = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "spec"), "sources");
    cr_assert_eq(cJSON_GetArraySize(sources), 2, "a merge patch replaces a list whole: both");
    cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(sources, 0), "ref")->valuestring,
                     "values");
    const cJSON *helm = cJSON_GetObjectItem(cJSON_GetArrayItem(sources, 1), "helm");
    cr_assert_not_null(cJSON_GetObjectItem(helm, "valueFiles"));
    bool force;
    cr_assert_str_eq(param_value(cJSON_GetObjectItem(helm, "parameters"), "image.tag", &force),
                     "1.0.1");
    cJSON_Delete(j);
    argocd_patch_free(&p);
    app_free(&app);
    free(json);
}

Test(argocd_patch, status_source_type_decides_when_the_spec_does_not)
{
    char *json = object(HELM_ANN,
                        "{\"source\":{\"repoURL\":\"https://git.example/x\","
                        "\"path\":\"k\"}}",
                        "{\"sourceType\":\"Kustomize\"}");
    argo_app app = app_of(json);
    image_update u = {&app.settings.images[0], NULL, "1.0.1"};
    argocd_patch p;
    tp_err err = {{0}};
    cr_assert_eq(argocd_patch_plan(json, &app, &u, 1, NULL, &p, &err), 0, "%s", err.msg);
    cr_assert(strstr(p.body, "\"kustomize\":{\"images\":[\"registry.example:5000/bookstore:"
                             "1.0.1\"]}"),
              "%s", p.body);
    argocd_patch_free(&p);
    app_free(&app);
    free(json);
}

Test(argocd_patch, directory_app_refused_with_what_to_do)
{
    char *json = object(HELM_ANN,
                        "{\"source\":{\"repoURL\":\"https://git.example/x\","
                        "\"path\":\"plain\"}}",
                        "{\"sourceType\":\"Directory\"}");
    argo_app app = app_of(json);
    image_update u = {&app.settings.images[0], NULL, "1.0.1"};
    argocd_patch p;
    tp_err err = {{0}};
    cr_assert_eq(argocd_patch_plan(json, &app, &u, 1, NULL, &p, &err), -1);
    cr_assert(strstr(err.msg, "app bookstore") && strstr(err.msg, "'Directory'") &&
                  strstr(err.msg, "use write-back-method git"),
              "%s", err.msg);
    app_free(&app);
    free(json);
}

Test(argocd_patch, no_change_no_patch)
{
    char *json = object(HELM_ANN,
                        "{\"source\":{\"repoURL\":\"x\",\"helm\":{\"parameters\":["
                        "{\"name\":\"image.name\",\"value\":\"registry.example:5000/bookstore\","
                        "\"forceString\":true},"
                        "{\"name\":\"image.tag\",\"value\":\"1.0.1\",\"forceString\":true}]}}}",
                        NULL);
    argo_app app = app_of(json);
    image_update u = {&app.settings.images[0], "1.0.1", "1.0.1"};
    argocd_patch p;
    tp_err err = {{0}};
    cr_assert_eq(argocd_patch_plan(json, &app, &u, 1, NULL, &p, &err), 0, "%s", err.msg);
    cr_assert_null(p.body, "%s", p.body);
    cr_assert_str_eq(p.diff, "");
    argocd_patch_free(&p);
    app_free(&app);
    free(json);
}

Test(argocd_patch, hostile_shapes_are_errors_not_crashes)
{
    const char *specs[] = {
        "{\"source\":{\"repoURL\":\"x\",\"helm\":{\"parameters\":\"no\"}}}",
        "{\"source\":{\"repoURL\":\"x\",\"helm\":{\"parameters\":[1,2]}}}",
        "{\"source\":{\"repoURL\":\"x\",\"kustomize\":{\"images\":[{\"a\":1}]}}}",
        "{\"source\":{\"repoURL\":\"x\",\"helm\":[]}}",
    };
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
        char *json = object(HELM_ANN, specs[i], NULL);
        argo_app app = app_of(json);
        image_update u = {&app.settings.images[0], NULL, "1.0.1"};
        argocd_patch p;
        tp_err err = {{0}};
        cr_assert_eq(argocd_patch_plan(json, &app, &u, 1, NULL, &p, &err), -1, "spec %zu", i);
        cr_assert(strstr(err.msg, "app bookstore: spec.source."), "%s", err.msg);
        app_free(&app);
        free(json);
    }
    argo_app app = app_of("{\"apiVersion\":\"argoproj.io/v1alpha1\",\"kind\":\"Application\","
                          "\"metadata\":{\"name\":\"bookstore\",\"annotations\":{" HELM_ANN
                          "}},\"spec\":{\"source\":{\"repoURL\":\"x\"}}}");
    image_update u = {&app.settings.images[0], NULL, "1.0.1"};
    argocd_patch p;
    tp_err err = {{0}};
    cr_assert_eq(argocd_patch_plan("not json", &app, &u, 1, NULL, &p, &err), -1);
    cr_assert_eq(argocd_patch_plan("{\"spec\":{}}", &app, &u, 1, NULL, &p, &err), -1);
    cr_assert(strstr(err.msg, "resourceVersion"), "%s", err.msg);
    app_free(&app);
}

/* Shared holds on the Application: a pin goes into the same patch as an annotation; an unpin
 * empties it; a pin another engine set since the scan refuses another tag, though asking whether
 * an earlier write landed still answers. */
Test(argocd_patch, holds_as_annotations)
{
    static const char *spec = "{\"source\":{\"repoURL\":\"https://git.example/x\",\"path\":\"c\","
                              "\"helm\":{\"parameters\":[{\"name\":\"image.tag\",\"value\":"
                              "\"1.0.0\"}]}}}";
    char *json = object(HELM_ANN, spec, NULL);
    argo_app app = app_of(json);
    image_update u = {&app.settings.images[0], "1.0.0", "1.0.1"};
    argocd_patch p;
    tp_err err = {{0}};
    hold_edit pin = {HOLD_PIN, "bookstore", "bs", "1.0.1"};
    cr_assert_eq(argocd_patch_plan(json, &app, &u, 1, &pin, &p, &err), 0, "%s", err.msg);
    cJSON *j = patch_source(&p);
    const cJSON *ann = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "metadata"), "annotations");
    cr_assert_str_eq(cJSON_GetObjectItem(ann, "tagpilot.io/bs.pin")->valuestring, "1.0.1");
    cr_assert_not_null(cJSON_GetObjectItem(j, "spec"), "the tag in the same patch");
    cr_assert(strstr(p.diff, "+tagpilot.io/bs.pin: 1.0.1"), "diff:\n%s", p.diff);
    cJSON_Delete(j);
    argocd_patch_free(&p);
    app_free(&app);
    free(json);

    json = object(HELM_ANN ",\"tagpilot.io/bs.pin\":\"1.0.0\"", spec, NULL);
    app = app_of(json);
    u = (image_update){&app.settings.images[0], "1.0.0", "1.0.1"};
    cr_assert_eq(argocd_patch_plan(json, &app, &u, 1, NULL, &p, &err), -1,
                 "an approval of 1.0.1 while the Application pins 1.0.0");
    cr_assert(strstr(err.msg, "bs is pinned at 1.0.0"), "%s", err.msg);
    cr_assert_eq(argocd_patch_plan_landed(json, &app, &u, 1, &p, &err), 0, "%s", err.msg);
    cr_assert_not_null(p.body, "it did not land: the Application still sets 1.0.0");
    argocd_patch_free(&p);
    hold_edit unpin = {HOLD_UNPIN, "bookstore", "bs", NULL};
    cr_assert_eq(argocd_patch_plan(json, &app, NULL, 0, &unpin, &p, &err), 0, "%s", err.msg);
    j = patch_source(&p);
    ann = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "metadata"), "annotations");
    cr_assert_str_eq(cJSON_GetObjectItem(ann, "tagpilot.io/bs.pin")->valuestring, "",
                     "emptied, not removed: the holds stay the shared ones");
    cr_assert_null(cJSON_GetObjectItem(j, "spec"), "a hold alone touches no source");
    cJSON_Delete(j);
    argocd_patch_free(&p);
    app_free(&app);
    free(json);
}
