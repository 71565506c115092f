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

int argocd_patch_plan(const char *object_json, const argo_app *app, const image_update *updates,
                      size_t n, argocd_patch *out, tp_err *err)
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
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(obj, "status");
    cJSON *sources = cJSON_GetObjectItemCaseSensitive(spec, "sources");
    cJSON *source = cJSON_GetObjectItemCaseSensitive(spec, "source");
    int index = -1;
    source_kind kind = KIND_NONE;
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
    if (!cJSON_IsObject(source)) {
        cJSON_Delete(obj);
        return tp_err_set(err, "app %s: the Application has neither spec.source nor spec.sources",
                          name);
    }
    kind = kind_of(source, status, index, app);
    out->field = index < 0 ? xstrdup("spec.source") : xasprintf("spec.sources[%d]", index);
    if (kind == KIND_NONE) {
        const char *detected = index < 0 ? json_str(status, "sourceType") : NULL;
        tp_err_set(err,
                   "app %s: write-back-method argocd sets Helm parameters or Kustomize images, "
                   "and %s is neither (no helm, chart or kustomize section%s%s%s); use "
                   "write-back-method git",
                   name, out->field, detected ? ", Argo CD detected '" : "",
                   detected ? detected : "", detected ? "'" : "");
        cJSON_Delete(obj);
        argocd_patch_free(out);
        return -1;
    }
    char *before = pretty(source);
    out->replaced = xcalloc(n ? n : 1, sizeof *out->replaced);
    out->n_replaced = n;
    tp_err why = {0};
    int rc = kind == KIND_HELM ? set_helm(source, updates, n, out->replaced, &why)
                               : set_kustomize(source, updates, n, out->replaced, &why);
    if (rc) {
        tp_err_set(err, "app %s: %s.%s", name, out->field, why.msg);
        free(before);
        cJSON_Delete(obj);
        argocd_patch_free(out);
        return -1;
    }
    char *after = pretty(source);
    out->resource_version = xstrdup(rv);
    if (strcmp(before, after) == 0) {
        out->diff = xstrdup("");
    } else {
        char *label =
            xasprintf("%s/%s %s", *app->namespace_ ? app->namespace_ : "-", name, out->field);
        out->diff = unified(label, before, after);
        free(label);
        /* {"metadata":{"resourceVersion":rv},"spec":{"source":{...}}} or, for a multi-source
         * app, the whole spec.sources list (a merge patch replaces lists whole; the
         * resourceVersion keeps that from undoing anyone else's change). */
        cJSON *patch = cJSON_CreateObject();
        cJSON *pm = cJSON_AddObjectToObject(patch, "metadata");
        cJSON_AddStringToObject(pm, "resourceVersion", rv);
        cJSON *ps = cJSON_AddObjectToObject(patch, "spec");
        if (index < 0) {
            cJSON *src = cJSON_AddObjectToObject(ps, "source");
            const char *section = kind == KIND_HELM ? "helm" : "kustomize";
            cJSON_AddItemToObject(
                src, section,
                cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(source, section), 1));
        } else {
            cJSON_AddItemToObject(ps, "sources", cJSON_Duplicate(sources, 1));
        }
        out->body = cJSON_PrintUnformatted(patch);
        cJSON_Delete(patch);
    }
    free(before);
    free(after);
    cJSON_Delete(obj);
    return 0;
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
