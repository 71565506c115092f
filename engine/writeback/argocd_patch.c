#include "writeback/argocd_patch.h"

#include <cJSON.h>
#include <git2.h>
#include <stdlib.h>
#include <string.h>

#include "manifest/manifest.h"
#include "manifest/yamledit.h"
#include "writeback/values.h"

typedef enum source_kind { KIND_NONE, KIND_HELM, KIND_KUSTOMIZE } source_kind;

static const char *json_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Helm or Kustomize: the source's own sections first, then what Argo CD detected
 * (status.sourceType, or status.sourceTypes[i] for a multi-source app), then the images'
 * annotations (helm.* or kustomize.* keys). */
static source_kind kind_of(const cJSON *source, const cJSON *status, int index, const argo_app *app)
{
    if (cJSON_GetObjectItemCaseSensitive(source, "helm") ||
        cJSON_GetObjectItemCaseSensitive(source, "chart"))
        return KIND_HELM;
    if (cJSON_GetObjectItemCaseSensitive(source, "kustomize"))
        return KIND_KUSTOMIZE;
    const char *detected = NULL;
    if (index < 0)
        detected = json_str(status, "sourceType");
    else {
        const cJSON *types = cJSON_GetObjectItemCaseSensitive(status, "sourceTypes");
        const cJSON *t = cJSON_IsArray(types) ? cJSON_GetArrayItem(types, index) : NULL;
        detected = cJSON_IsString(t) ? t->valuestring : NULL;
    }
    if (str_eq(detected, "Helm"))
        return KIND_HELM;
    if (str_eq(detected, "Kustomize"))
        return KIND_KUSTOMIZE;
    for (size_t i = 0; i < app->settings.n_images; i++) {
        const image_settings *img = &app->settings.images[i];
        if (img->helm_image_name || img->helm_image_tag || img->helm_image_spec)
            return KIND_HELM;
        if (img->kustomize_image_name)
            return KIND_KUSTOMIZE;
    }
    return KIND_NONE;
}

/* The section named `path` under source ("helm" then "parameters"), made when missing. */
static cJSON *section_array(cJSON *source, const char *section, const char *list, tp_err *err)
{
    cJSON *s = cJSON_GetObjectItemCaseSensitive(source, section);
    if (!s)
        s = cJSON_AddObjectToObject(source, section);
    if (!cJSON_IsObject(s)) {
        tp_err_set(err, "%s is not an object", section);
        return NULL;
    }
    cJSON *a = cJSON_GetObjectItemCaseSensitive(s, list);
    if (!a)
        a = cJSON_AddArrayToObject(s, list);
    if (!cJSON_IsArray(a)) {
        tp_err_set(err, "%s.%s is not a list", section, list);
        return NULL;
    }
    return a;
}

static int set_helm(cJSON *source, const image_update *u, size_t n, char **replaced, tp_err *err)
{
    cJSON *params = section_array(source, "helm", "parameters", err);
    if (!params)
        return -1;
    /* The tags set now, before the change: the tag parameter of each image. */
    for (size_t i = 0; i < n; i++) {
        helm_keys k = manifest_helm_keys(u[i].image);
        const char *key = k.spec ? k.spec : k.tag;
        const cJSON *p;
        cJSON_ArrayForEach(p, params)
        {
            const char *value = json_str(p, "value");
            if (str_eq(json_str(p, "name"), key) && value) {
                if (k.spec) {
                    const char *colon = strrchr(value, ':');
                    const char *slash = strrchr(value, '/');
                    value = colon && (!slash || colon > slash) ? colon + 1 : NULL;
                }
                replaced[i] = xstrdup(value);
            }
        }
    }
    argocd_param *want;
    strvec owned = {0};
    size_t np = writeback_helm_params(u, n, &want, &owned);
    for (size_t i = 0; i < np; i++) {
        cJSON *found = NULL, *p;
        cJSON_ArrayForEach(p, params)
        {
            if (!cJSON_IsObject(p)) {
                tp_err_set(err, "helm.parameters holds an entry that is not an object");
                goto fail;
            }
            if (str_eq(json_str(p, "name"), want[i].name))
                found = p;
        }
        if (!found) {
            found = cJSON_CreateObject();
            cJSON_AddItemToArray(params, found);
            cJSON_AddStringToObject(found, "name", want[i].name);
        }
        cJSON_DeleteItemFromObjectCaseSensitive(found, "value");
        cJSON_AddStringToObject(found, "value", want[i].value);
        cJSON_DeleteItemFromObjectCaseSensitive(found, "forceString");
        cJSON_AddBoolToObject(found, "forceString", 1);
    }
    free(want);
    strvec_free(&owned);
    return 0;
fail:
    free(want);
    strvec_free(&owned);
    return -1;
}

static int set_kustomize(cJSON *source, const image_update *u, size_t n, char **replaced,
                         tp_err *err)
{
    cJSON *images = section_array(source, "kustomize", "images", err);
    if (!images)
        return -1;
    strvec entries = {0};
    writeback_kustomize_entries(u, n, &entries);
    int rc = 0;
    for (size_t i = 0; i < entries.count && rc == 0; i++) {
        char *key = writeback_kustomize_key(entries.items[i]);
        cJSON *found = NULL, *e;
        cJSON_ArrayForEach(e, images)
        {
            if (!cJSON_IsString(e)) {
                rc = tp_err_set(err, "kustomize.images holds an entry that is not a string");
                break;
            }
            char *k = writeback_kustomize_key(e->valuestring);
            if (str_eq(k, key))
                found = e;
            free(k);
        }
        free(key);
        if (rc)
            break;
        if (found) {
            const char *old = found->valuestring;
            const char *eq = strchr(old, '=');
            const char *name = eq ? eq + 1 : old;
            const char *slash = strrchr(name, '/');
            const char *colon = strchr(slash ? slash : name, ':');
            if (colon)
                replaced[i] = xstrdup(colon + 1);
            cJSON_SetValuestring(found, entries.items[i]);
        } else {
            cJSON_AddItemToArray(images, cJSON_CreateString(entries.items[i]));
        }
    }
    strvec_free(&entries);
    return rc;
}

/* The source section as YAML (as `kubectl get -o yaml` shows it), for the diff a person reads
 * before a write. Strings go through yamledit_render, the one YAML scalar writer. */
static void yaml_scalar(strbuf *sb, const cJSON *v)
{
    if (cJSON_IsString(v)) {
        char *s = NULL;
        tp_err ignored;
        if (yamledit_render(v->valuestring, YSTYLE_PLAIN, &s, &ignored) == 0)
            strbuf_puts(sb, s);
        else
            strbuf_puts(sb, "\"(not valid UTF-8)\"");
        free(s);
    } else if (cJSON_IsBool(v)) {
        strbuf_puts(sb, cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsNumber(v)) {
        char *n = cJSON_PrintUnformatted(v);
        strbuf_puts(sb, n);
        cJSON_free(n);
    } else {
        strbuf_puts(sb, "null");
    }
}

static void yaml_emit(strbuf *sb, const cJSON *v, int indent, bool in_seq);

static void yaml_child(strbuf *sb, const cJSON *c, int indent)
{
    bool nested = (cJSON_IsObject(c) || cJSON_IsArray(c)) && c->child;
    if (!nested) {
        strbuf_puts(sb, " ");
        if (cJSON_IsObject(c))
            strbuf_puts(sb, "{}");
        else if (cJSON_IsArray(c))
            strbuf_puts(sb, "[]");
        else
            yaml_scalar(sb, c);
        strbuf_puts(sb, "\n");
    } else {
        strbuf_puts(sb, "\n");
        /* Sequences are not indented under their key (as kubectl and Go's yaml write them). */
        yaml_emit(sb, c, cJSON_IsArray(c) ? indent : indent + 2, false);
    }
}

static void yaml_emit(strbuf *sb, const cJSON *v, int indent, bool in_seq)
{
    const cJSON *c;
    bool first = true;
    if (cJSON_IsObject(v)) {
        cJSON_ArrayForEach(c, v)
        {
            if (!(in_seq && first))
                strbuf_printf(sb, "%*s", indent, "");
            first = false;
            cJSON key = {.type = cJSON_String, .valuestring = c->string};
            yaml_scalar(sb, &key);
            strbuf_puts(sb, ":");
            yaml_child(sb, c, indent);
        }
    } else if (cJSON_IsArray(v)) {
        cJSON_ArrayForEach(c, v)
        {
            strbuf_printf(sb, "%*s- ", indent, "");
            if (cJSON_IsObject(c) && c->child) {
                yaml_emit(sb, c, indent + 2, true);
            } else {
                yaml_child(sb, c, indent);
            }
        }
    }
}

static char *pretty(const cJSON *v)
{
    strbuf sb = {0};
    strbuf_append(&sb, "", 0);
    yaml_emit(&sb, v, 0, false);
    return strbuf_take(&sb);
}

static char *unified(const char *label, const char *before, const char *after)
{
    git_libgit2_init();
    git_patch *patch = NULL;
    git_buf buf = {0};
    char *out = NULL;
    if (git_patch_from_buffers(&patch, before, strlen(before), label, after, strlen(after), label,
                               NULL) == 0 &&
        git_patch_to_buf(&buf, patch) == 0)
        out = xstrndup(buf.ptr, buf.size);
    git_buf_dispose(&buf);
    git_patch_free(patch);
    git_libgit2_shutdown();
    return out ? out : xstrdup("");
}

/* The Application's shared holds, from the annotations of the object as it is now. */
static int read_holds(const cJSON *meta, const argo_app *app, holds_app *out, tp_err *err)
{
    const cJSON *ann = cJSON_GetObjectItemCaseSensitive(meta, "annotations");
    int count = cJSON_IsObject(ann) ? cJSON_GetArraySize(ann) : 0;
    const char **keys = xcalloc((size_t)count + 1, sizeof *keys);
    const char **values = xcalloc((size_t)count + 1, sizeof *values);
    size_t n = 0;
    for (const cJSON *a = count ? ann->child : NULL; a; a = a->next)
        if (cJSON_IsString(a) && a->string)
            keys[n] = a->string, values[n++] = a->valuestring;
    int rc = holds_from_annotations(app->name, keys, values, n, out, err);
    free(keys);
    free(values);
    return rc;
}

/* A write of a tag other than the pin another engine has set since the scan is refused: the
 * pin is on the object the patch would change. */
static int check_pins(const holds_app *held, const image_update *u, size_t n, const hold_edit *hold,
                      tp_err *err)
{
    for (size_t i = 0; i < n; i++) {
        const char *alias = u[i].image->alias;
        const char *pin = holds_pin_conflict(held, alias, u[i].new_tag, hold);
        if (pin)
            return tp_err_set(err,
                              "app %s: %s is pinned at %s (tagpilot.io/%s.pin, set since "
                              "the scan): %s is not written",
                              held->name, alias, pin, alias, u[i].new_tag);
    }
    return 0;
}

/* The hold's change to the annotations: *key and *value when they change (an unpin sets ""
 * so the app's holds stay the shared ones), both NULL when they already say so. */
static int plan_hold(holds_app *held, const hold_edit *hold, char **key, char **value, tp_err *err)
{
    *key = *value = NULL;
    int rc = holds_app_apply(held, hold, err);
    if (rc < 1)
        return rc;
    const holds_image *img = holds_app_image(held, hold->alias);
    if (hold->op == HOLD_POLICY) {
        *key = xstrdup(HOLDS_ANNOTATION_POLICY);
        *value = xstrdup(hold->value);
        return 0;
    }
    *key = holds_annotation_key(hold->alias, hold->op == HOLD_SKIP ? "skip" : "pin", err);
    if (!*key)
        return -1;
    *value = hold->op == HOLD_SKIP ? holds_skips_joined(img)
             : img && img->pin     ? xstrdup(img->pin)
                                   : xstrdup("");
    return 0;
}

/* What the annotation says now, for the diff. */
static char *annotation_now(const cJSON *meta, const char *key)
{
    const char *v = json_str(cJSON_GetObjectItemCaseSensitive(meta, "annotations"), key);
    return v ? xstrdup(v) : NULL;
}

/* The spec side: which source, and the updates set in it (a copy in *after). */
static int plan_source(cJSON *obj, const argo_app *app, const image_update *updates, size_t n,
                       argocd_patch *out, cJSON **patch_spec, tp_err *err)
{
    const char *name = app->name ? app->name : "?";
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(obj, "status");
    cJSON *sources = cJSON_GetObjectItemCaseSensitive(spec, "sources");
    cJSON *source = cJSON_GetObjectItemCaseSensitive(spec, "source");
    int index = -1;
    if (!cJSON_IsObject(source) && cJSON_IsArray(sources) && cJSON_GetArraySize(sources) > 0) {
        /* The first source that says Helm or Kustomize, else the first. */
        int count = cJSON_GetArraySize(sources);
        for (int i = 0; i < count && index < 0; i++) {
            cJSON *s = cJSON_GetArrayItem(sources, i);
            if (cJSON_IsObject(s) && (cJSON_GetObjectItemCaseSensitive(s, "helm") ||
                                      cJSON_GetObjectItemCaseSensitive(s, "chart") ||
                                      cJSON_GetObjectItemCaseSensitive(s, "kustomize")))
                index = i;
        }
        if (index < 0)
            index = 0;
        source = cJSON_GetArrayItem(sources, index);
    }
    if (!cJSON_IsObject(source))
        return tp_err_set(err, "app %s: the Application has neither spec.source nor spec.sources",
                          name);
    source_kind kind = kind_of(source, status, index, app);
    out->field = index < 0 ? xstrdup("spec.source") : xasprintf("spec.sources[%d]", index);
    if (kind == KIND_NONE) {
        const char *detected = index < 0 ? json_str(status, "sourceType") : NULL;
        return tp_err_set(err,
                          "app %s: write-back-method argocd sets Helm parameters or Kustomize "
                          "images, and %s is neither (no helm, chart or kustomize section%s%s%s); "
                          "use write-back-method git",
                          name, out->field, detected ? ", Argo CD detected '" : "",
                          detected ? detected : "", detected ? "'" : "");
    }
    char *before = pretty(source);
    out->replaced = xcalloc(n ? n : 1, sizeof *out->replaced);
    out->n_replaced = n;
    tp_err why = {0};
    int rc = kind == KIND_HELM ? set_helm(source, updates, n, out->replaced, &why)
                               : set_kustomize(source, updates, n, out->replaced, &why);
    if (rc) {
        free(before);
        return tp_err_set(err, "app %s: %s.%s", name, out->field, why.msg);
    }
    char *after = pretty(source);
    if (strcmp(before, after) != 0) {
        char *label =
            xasprintf("%s/%s %s", *app->namespace_ ? app->namespace_ : "-", name, out->field);
        char *diff = unified(label, before, after);
        free(label);
        free(out->diff);
        out->diff = diff;
        /* {"spec":{"source":{...}}} or, for a multi-source app, the whole spec.sources list (a
         * merge patch replaces lists whole; the resourceVersion keeps that from undoing anyone
         * else's change). */
        *patch_spec = cJSON_CreateObject();
        if (index < 0) {
            cJSON *src = cJSON_AddObjectToObject(*patch_spec, "source");
            const char *section = kind == KIND_HELM ? "helm" : "kustomize";
            cJSON_AddItemToObject(
                src, section,
                cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(source, section), 1));
        } else {
            cJSON_AddItemToObject(*patch_spec, "sources", cJSON_Duplicate(sources, 1));
        }
    }
    free(before);
    free(after);
    return 0;
}

static int plan(const char *object_json, const argo_app *app, const image_update *updates, size_t n,
                const hold_edit *hold, bool guard_pins, argocd_patch *out, tp_err *err)
{
    *out = (argocd_patch){0};
    const char *name = app->name ? app->name : "?";
    cJSON *obj = cJSON_Parse(object_json);
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const char *rv = json_str(meta, "resourceVersion");
    if (!cJSON_IsObject(obj) || !cJSON_IsObject(spec) || !rv) {
        cJSON_Delete(obj);
        return tp_err_set(err, "app %s: the Application object has no spec or resourceVersion",
                          name);
    }
    out->diff = xstrdup("");
    cJSON *patch_spec = NULL;
    char *key = NULL, *value = NULL, *was = NULL;
    int rc = 0;
    if (n > 0)
        rc = plan_source(obj, app, updates, n, out, &patch_spec, err);
    else
        out->field = xstrdup("metadata.annotations");
    holds_app held = {0};
    if (rc == 0)
        rc = read_holds(meta, app, &held, err);
    if (rc == 0 && guard_pins)
        rc = check_pins(&held, updates, n, hold, err);
    if (rc == 0 && hold)
        rc = plan_hold(&held, hold, &key, &value, err);
    if (rc == 0 && key)
        was = annotation_now(meta, key);
    holds_app_clear(&held);
    if (rc < 0) {
        free(key);
        free(value);
        cJSON_Delete(patch_spec);
        cJSON_Delete(obj);
        argocd_patch_free(out);
        return -1;
    }
    out->resource_version = xstrdup(rv);
    if (key) {
        char *label =
            xasprintf("%s/%s metadata.annotations", *app->namespace_ ? app->namespace_ : "-", name);
        char *before = was ? xasprintf("%s: %s\n", key, was) : xstrdup("");
        char *after = xasprintf("%s: %s\n", key, value);
        char *diff = unified(label, before, after);
        char *both = xasprintf("%s%s", out->diff, diff);
        free(out->diff);
        out->diff = both;
        free(diff);
        free(before);
        free(after);
        free(label);
    }
    if (patch_spec || key) {
        /* The object's resourceVersion makes the patch conditional: 409 when anyone changed
         * the Application since it was read. */
        cJSON *patch = cJSON_CreateObject();
        cJSON *pm = cJSON_AddObjectToObject(patch, "metadata");
        cJSON_AddStringToObject(pm, "resourceVersion", rv);
        if (key) {
            cJSON *pa = cJSON_AddObjectToObject(pm, "annotations");
            cJSON_AddStringToObject(pa, key, value);
        }
        if (patch_spec)
            cJSON_AddItemToObject(patch, "spec", patch_spec);
        out->body = cJSON_PrintUnformatted(patch);
        cJSON_Delete(patch);
    }
    free(key);
    free(value);
    free(was);
    cJSON_Delete(obj);
    return 0;
}

int argocd_patch_plan(const char *object_json, const argo_app *app, const image_update *updates,
                      size_t n, const hold_edit *hold, argocd_patch *out, tp_err *err)
{
    return plan(object_json, app, updates, n, hold, true, out, err);
}

int argocd_patch_plan_landed(const char *object_json, const argo_app *app,
                             const image_update *updates, size_t n, argocd_patch *out, tp_err *err)
{
    return plan(object_json, app, updates, n, NULL, false, out, err);
}

void argocd_patch_free(argocd_patch *p)
{
    if (p->body)
        cJSON_free(p->body);
    free(p->diff);
    free(p->field);
    free(p->resource_version);
    for (size_t i = 0; i < p->n_replaced; i++)
        free(p->replaced[i]);
    free(p->replaced);
    *p = (argocd_patch){0};
}
