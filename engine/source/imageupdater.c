#include "source/imageupdater.h"

#include <fnmatch.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX "argocd-image-updater.argoproj.io/"

static const char *str_of(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *get(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static bool in_values(const cJSON *values, const char *v)
{
    const cJSON *x;
    cJSON_ArrayForEach(x, values)
    {
        if (cJSON_IsString(x) && v && strcmp(x->valuestring, v) == 0)
            return true;
    }
    return false;
}

int imageupdater_labels_match(const cJSON *selector, const cJSON *labels)
{
    if (!selector || cJSON_IsNull(selector))
        return 1;
    if (!cJSON_IsObject(selector))
        return -1;
    const cJSON *kv;
    cJSON_ArrayForEach(kv, get(selector, "matchLabels"))
    {
        if (!cJSON_IsString(kv))
            return -1;
        const char *have = str_of(labels, kv->string);
        if (!have || strcmp(have, kv->valuestring) != 0)
            return 0;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, get(selector, "matchExpressions"))
    {
        const char *key = str_of(e, "key"), *op = str_of(e, "operator");
        const cJSON *values = get(e, "values");
        if (!key || !op)
            return -1;
        const char *have = str_of(labels, key);
        bool ok;
        if (strcmp(op, "In") == 0)
            ok = have && in_values(values, have);
        else if (strcmp(op, "NotIn") == 0)
            ok = !have || !in_values(values, have);
        else if (strcmp(op, "Exists") == 0)
            ok = have != NULL;
        else if (strcmp(op, "DoesNotExist") == 0)
            ok = have == NULL;
        else
            return -1;
        if (!ok)
            return 0;
    }
    return 1;
}

/* The first of levels (most specific first) that sets key in its commonUpdateSettings. */
static const cJSON *setting(const cJSON *const *levels, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++) {
        const cJSON *v = get(get(levels[i], "commonUpdateSettings"), key);
        if (v && !cJSON_IsNull(v))
            return v;
    }
    return NULL;
}

static void put(cJSON *ann, const char *key, const char *value)
{
    if (!value)
        return;
    cJSON_DeleteItemFromObjectCaseSensitive(ann, key);
    cJSON_AddStringToObject(ann, key, value);
}

static char *joined(const cJSON *list)
{
    strbuf sb = {0};
    strbuf_append(&sb, "", 0);
    const cJSON *x;
    cJSON_ArrayForEach(x, list)
    {
        if (cJSON_IsString(x))
            strbuf_printf(&sb, "%s%s", sb.len ? "," : "", x->valuestring);
    }
    return strbuf_take(&sb);
}

/* The annotations an ApplicationRef's images and settings stand for. */
static int annotations_of(const cJSON *spec, const cJSON *ref, cJSON *ann, tp_err *err)
{
    const cJSON *images = get(ref, "images");
    if (!cJSON_IsArray(images) || !cJSON_GetArraySize(images))
        return tp_err_set(err, "applicationRefs[].images: expected a list of images");
    strbuf list = {0};
    const cJSON *img;
    cJSON_ArrayForEach(img, images)
    {
        const char *alias = str_of(img, "alias"), *name = str_of(img, "imageName");
        if (!alias || !name) {
            strbuf_free(&list);
            return tp_err_set(err, "an image needs alias and imageName");
        }
        strbuf_printf(&list, "%s%s=%s", list.len ? "," : "", alias, name);
        const cJSON *levels[] = {img, ref, spec};
        size_t nl = sizeof levels / sizeof *levels;
        char key[256];
#define KEY(suffix) (snprintf(key, sizeof key, PREFIX "%s.%s", alias, suffix), key)
        const cJSON *v;
        if ((v = setting(levels, nl, "updateStrategy")) && cJSON_IsString(v))
            put(ann, KEY("update-strategy"), v->valuestring);
        if ((v = setting(levels, nl, "forceUpdate")) && cJSON_IsBool(v))
            put(ann, KEY("force-update"), cJSON_IsTrue(v) ? "true" : "false");
        if ((v = setting(levels, nl, "allowTags")) && cJSON_IsString(v)) {
            /* v1 takes a regular expression; the annotation names its kind */
            bool kind =
                strncmp(v->valuestring, "regexp:", 7) == 0 || strcmp(v->valuestring, "any") == 0;
            char *spec_value =
                kind ? xstrdup(v->valuestring) : xasprintf("regexp:%s", v->valuestring);
            put(ann, KEY("allow-tags"), spec_value);
            free(spec_value);
        }
        if ((v = setting(levels, nl, "ignoreTags")) && cJSON_IsArray(v)) {
            char *s = joined(v);
            put(ann, KEY("ignore-tags"), s);
            free(s);
        }
        if ((v = setting(levels, nl, "pullSecret")) && cJSON_IsString(v))
            put(ann, KEY("pull-secret"), v->valuestring);
        if ((v = setting(levels, nl, "platforms")) && cJSON_IsArray(v)) {
            char *s = joined(v);
            put(ann, KEY("platforms"), s);
            free(s);
        }
        const cJSON *targets = get(img, "manifestTargets");
        const cJSON *helm = get(targets, "helm"), *kust = get(targets, "kustomize");
        put(ann, KEY("helm.image-name"), str_of(helm, "name"));
        put(ann, KEY("helm.image-tag"), str_of(helm, "tag"));
        put(ann, KEY("helm.image-spec"), str_of(helm, "spec"));
        put(ann, KEY("kustomize.image-name"), str_of(kust, "name"));
#undef KEY
    }
    put(ann, PREFIX "image-list", list.data);
    strbuf_free(&list);
    /* writeBackConfig: the ref's, else the spec's; the method defaults to argocd */
    const cJSON *wb = get(ref, "writeBackConfig");
    if (!wb)
        wb = get(spec, "writeBackConfig");
    const char *method = str_of(wb, "method");
    put(ann, PREFIX "write-back-method", method ? method : "argocd");
    const cJSON *git = get(wb, "gitConfig");
    put(ann, PREFIX "git-repository", str_of(git, "repository"));
    put(ann, PREFIX "git-branch", str_of(git, "branch"));
    put(ann, PREFIX "write-back-target", str_of(git, "writeBackTarget"));
    return 0;
}

int imageupdater_apply(const cJSON *updaters, cJSON *app, char **by, tp_err *err)
{
    *by = NULL;
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(app, "metadata");
    const char *name = str_of(meta, "name"), *ns = str_of(meta, "namespace");
    if (!name)
        return 0;
    const cJSON *iu;
    cJSON_ArrayForEach(iu, updaters)
    {
        const cJSON *iu_meta = get(iu, "metadata"), *spec = get(iu, "spec");
        const char *iu_ns = str_of(iu_meta, "namespace"), *iu_name = str_of(iu_meta, "name");
        /* the Applications it manages are in spec.namespace, else its own */
        const char *target_ns = str_of(spec, "namespace") ? str_of(spec, "namespace") : iu_ns;
        if (!iu_ns || !iu_name || !ns || !target_ns || strcmp(target_ns, ns) != 0)
            continue;
        const cJSON *ref;
        cJSON_ArrayForEach(ref, get(spec, "applicationRefs"))
        {
            const char *pattern = str_of(ref, "namePattern");
            if (!pattern || fnmatch(pattern, name, 0) != 0)
                continue;
            int labels = imageupdater_labels_match(get(ref, "labelSelectors"), get(meta, "labels"));
            if (labels < 0)
                return tp_err_set(err,
                                  "ImageUpdater %s/%s: applicationRefs '%s': malformed "
                                  "labelSelectors",
                                  iu_ns, iu_name, pattern);
            if (!labels)
                continue;
            *by = xasprintf("%s/%s", iu_ns, iu_name);
            if (cJSON_IsTrue(get(ref, "useAnnotations")))
                return 1; /* selected; its own annotations configure it */
            cJSON *ann = cJSON_CreateObject();
            /* annotations that are not the image updater's stay */
            const cJSON *old;
            cJSON_ArrayForEach(old, get(meta, "annotations"))
            {
                if (cJSON_IsString(old) && strncmp(old->string, PREFIX, strlen(PREFIX)) != 0)
                    cJSON_AddStringToObject(ann, old->string, old->valuestring);
            }
            tp_err why = {{0}};
            if (annotations_of(spec, ref, ann, &why) < 0) {
                cJSON_Delete(ann);
                free(*by);
                *by = NULL;
                return tp_err_set(err, "ImageUpdater %s/%s: applicationRefs '%s': %s", iu_ns,
                                  iu_name, pattern, why.msg);
            }
            cJSON_DeleteItemFromObjectCaseSensitive(meta, "annotations");
            cJSON_AddItemToObject(meta, "annotations", ann);
            return 1;
        }
    }
    return 0;
}
