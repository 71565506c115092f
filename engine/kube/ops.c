/* kube/ops: the requests tagpilot makes — a paginated list, get, patch, a Secret — their URLs,
 * and their replies checked before anyone reads them (a reply is untrusted text). */
#include "kube/internal.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KUBE_PAGE_LIMIT "500"
#define KUBE_MAX_PAGES  10000 /* 5 million objects: a server that never stops is a loop */

/* A path segment: what Kubernetes names may hold (DNS labels and subdomains, plurals,
 * versions), never ".", ".." or anything that would change the URL's shape. */
static bool segment_ok(const char *s)
{
    if (!s || !*s || strlen(s) > 253 || str_eq(s, ".") || str_eq(s, ".."))
        return false;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' && *p != '_')
            return false;
    return true;
}

char *kube_resource_path(const kube_resource *r, const char *name, tp_err *err)
{
    bool every = !r->namespace_ || str_eq(r->namespace_, "*");
    const char *bad = NULL;
    if (r->group && *r->group && !segment_ok(r->group))
        bad = "group";
    else if (!segment_ok(r->version))
        bad = "version";
    else if (!segment_ok(r->plural))
        bad = "resource";
    else if (!every && !segment_ok(r->namespace_))
        bad = "namespace";
    else if (name && !segment_ok(name))
        bad = "name";
    if (bad) {
        tp_err_set(err, "kube: not a valid %s for a request", bad);
        return NULL;
    }
    strbuf sb = {0};
    if (r->group && *r->group)
        strbuf_printf(&sb, "/apis/%s/%s", r->group, r->version);
    else
        strbuf_printf(&sb, "/api/%s", r->version);
    if (!every)
        strbuf_printf(&sb, "/namespaces/%s", r->namespace_);
    strbuf_printf(&sb, "/%s", r->plural);
    if (name)
        strbuf_printf(&sb, "/%s", name);
    return strbuf_take(&sb);
}

void kube_query_add(strbuf *url, const char *key, const char *value)
{
    strbuf_putc(url, url->data && strchr(url->data, '?') ? '&' : '?');
    strbuf_puts(url, key);
    strbuf_putc(url, '=');
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~')
            strbuf_putc(url, (char)*p);
        else
            strbuf_printf(url, "%%%02X", *p);
    }
}

/* The reply's body as a JSON object, or NULL with err. */
static cJSON *reply_object(const kube_reply *reply, const char *verb, const char *plural,
                           tp_err *err)
{
    cJSON *o = cJSON_ParseWithLength(reply->body, reply->body_len);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        tp_err_set(err, "kube: %s %s: the reply is not a JSON object", verb, plural);
        return NULL;
    }
    return o;
}

static const char *meta_str(const cJSON *o, const char *key)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(o, "metadata");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(meta, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

kube_status kube_list(kube_client *c, const kube_resource *r, const char *label_selector,
                      cJSON **items, char **resource_version, tp_err *err)
{
    *items = NULL;
    *resource_version = NULL;
    char *base = kube_resource_path(r, NULL, err);
    if (!base)
        return KUBE_ERROR;
    const kube_what what = {"list", r->plural, r->namespace_, NULL};
    cJSON *all = cJSON_CreateArray();
    char *cont = NULL, *rv = NULL;
    bool restarted = false;
    kube_status st = KUBE_OK;
    for (int page = 0;; page++) {
        if (page >= KUBE_MAX_PAGES) {
            st = KUBE_ERROR;
            tp_err_set(err,
                       "kube: list %s: more than %d pages; the server keeps answering "
                       "with a continue token",
                       r->plural, KUBE_MAX_PAGES);
            break;
        }
        strbuf url = {0};
        strbuf_puts(&url, base);
        kube_query_add(&url, "limit", KUBE_PAGE_LIMIT);
        if (label_selector && *label_selector)
            kube_query_add(&url, "labelSelector", label_selector);
        if (cont)
            kube_query_add(&url, "continue", cont);
        kube_reply reply;
        st = kube_request(c, "GET", url.data, NULL, NULL, &what, NULL, NULL, 0, NULL, &reply, err);
        strbuf_free(&url);
        if (st == KUBE_GONE && cont && !restarted) {
            /* the continue token expired mid-list: start over once, as client-go's pager */
            kube_reply_free(&reply);
            restarted = true;
            free(cont);
            cont = NULL;
            cJSON_Delete(all);
            all = cJSON_CreateArray();
            page = -1;
            continue;
        }
        if (st != KUBE_OK) {
            kube_reply_free(&reply);
            break;
        }
        cJSON *list = reply_object(&reply, "list", r->plural, err);
        kube_reply_free(&reply);
        cJSON *page_items = cJSON_GetObjectItemCaseSensitive(list, "items");
        if (!list || !(cJSON_IsArray(page_items) || cJSON_IsNull(page_items))) {
            if (list)
                tp_err_set(err, "kube: list %s: the reply has no items", r->plural);
            cJSON_Delete(list);
            st = KUBE_ERROR;
            break;
        }
        while (cJSON_IsArray(page_items) && page_items->child) {
            cJSON *item = cJSON_DetachItemViaPointer(page_items, page_items->child);
            if (!cJSON_IsObject(item)) {
                cJSON_Delete(item);
                continue; /* not an object: nothing a caller could read */
            }
            cJSON_AddItemToArray(all, item);
        }
        const char *next = meta_str(list, "continue");
        const char *page_rv = meta_str(list, "resourceVersion");
        free(rv);
        rv = xstrdup(page_rv);
        bool loop = next && cont && str_eq(next, cont);
        free(cont);
        cont = next && *next ? xstrdup(next) : NULL;
        cJSON_Delete(list);
        if (loop) {
            st = KUBE_ERROR;
            tp_err_set(err, "kube: list %s: the server sent the same continue token twice",
                       r->plural);
            break;
        }
        if (!cont)
            break;
    }
    free(cont);
    free(base);
    if (st != KUBE_OK) {
        cJSON_Delete(all);
        free(rv);
        return st;
    }
    *items = all;
    *resource_version = rv ? rv : xstrdup("");
    return KUBE_OK;
}

kube_status kube_get(kube_client *c, const kube_resource *r, const char *name, cJSON **obj,
                     tp_err *err)
{
    *obj = NULL;
    if (!r->namespace_ || str_eq(r->namespace_, "*")) {
        tp_err_set(err, "kube: get %s: a namespace is needed", r->plural);
        return KUBE_ERROR;
    }
    char *path = kube_resource_path(r, name, err);
    if (!path)
        return KUBE_ERROR;
    const kube_what what = {"get", r->plural, r->namespace_, name};
    kube_reply reply;
    kube_status st =
        kube_request(c, "GET", path, NULL, NULL, &what, NULL, NULL, 0, NULL, &reply, err);
    free(path);
    if (st == KUBE_OK) {
        *obj = reply_object(&reply, "get", r->plural, err);
        if (!*obj)
            st = KUBE_ERROR;
    }
    kube_reply_free(&reply);
    return st;
}

kube_status kube_secret(kube_client *c, const char *namespace_, const char *name, cJSON **data,
                        tp_err *err)
{
    *data = NULL;
    const kube_resource r = {"", "v1", "secrets", namespace_};
    if (!namespace_ || str_eq(namespace_, "*")) {
        tp_err_set(err, "kube: get secrets: a namespace is needed");
        return KUBE_ERROR;
    }
    char *path = kube_resource_path(&r, name, err);
    if (!path)
        return KUBE_ERROR;
    const kube_what what = {"get", "secrets", namespace_, name};
    kube_reply reply;
    kube_status st =
        kube_request(c, "GET", path, NULL, NULL, &what, NULL, NULL, 0, NULL, &reply, err);
    free(path);
    cJSON *secret = st == KUBE_OK ? reply_object(&reply, "get", "secrets", err) : NULL;
    if (reply.body)
        memset(reply.body, 0, reply.body_len);
    kube_reply_free(&reply);
    if (st != KUBE_OK)
        return st;
    if (!secret)
        return KUBE_ERROR;
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(secret, "data");
    cJSON *out = cJSON_CreateObject();
    const cJSON *kv;
    cJSON_ArrayForEach(kv, in)
    {
        if (!cJSON_IsString(kv) || !kv->string)
            continue;
        size_t len = 0;
        unsigned char *bytes = base64_decode(kv->valuestring, &len);
        if (!bytes) {
            st = KUBE_ERROR;
            /* the key's name is not secret, its value is */
            char *key = str_printable(kv->string);
            tp_err_set(err, "kube: secret %s/%s: key %.100s is not base64", namespace_, name, key);
            free(key);
            break;
        }
        /* A value with a NUL byte is binary (a keystore): no credential tagpilot reads. */
        if (memchr(bytes, '\0', len) == NULL)
            cJSON_AddStringToObject(out, kv->string, (const char *)bytes);
        memset(bytes, 0, len);
        free(bytes);
    }
    cJSON_ArrayForEach(kv, in)
    {
        if (cJSON_IsString(kv))
            memset(kv->valuestring, 0, strlen(kv->valuestring));
    }
    cJSON_Delete(secret);
    if (st != KUBE_OK) {
        cJSON_Delete(out);
        return st;
    }
    *data = out;
    return KUBE_OK;
}

/* POST, PUT or PATCH body (of content type ctype); *result (may be NULL) the object the server
 * stored. */
static kube_status write_object(kube_client *c, const char *method, const char *verb,
                                const char *ctype, const kube_resource *r, const char *name,
                                const char *body, cJSON **result, tp_err *err)
{
    if (result)
        *result = NULL;
    if (!r->namespace_ || str_eq(r->namespace_, "*")) {
        tp_err_set(err, "kube: %s %s: a namespace is needed", verb, r->plural);
        return KUBE_ERROR;
    }
    char *path = kube_resource_path(r, name, err);
    if (!path)
        return KUBE_ERROR;
    const kube_what what = {verb, r->plural, r->namespace_, name};
    kube_reply reply;
    kube_status st =
        kube_request(c, method, path, ctype, body, &what, NULL, NULL, 0, NULL, &reply, err);
    free(path);
    if (st == KUBE_OK && result) {
        *result = reply_object(&reply, verb, r->plural, err);
        if (!*result)
            st = KUBE_ERROR;
    }
    kube_reply_free(&reply);
    return st;
}

kube_status kube_create(kube_client *c, const kube_resource *r, const char *body, cJSON **result,
                        tp_err *err)
{
    return write_object(c, "POST", "create", "application/json", r, NULL, body, result, err);
}

kube_status kube_update(kube_client *c, const kube_resource *r, const char *name, const char *body,
                        cJSON **result, tp_err *err)
{
    return write_object(c, "PUT", "update", "application/json", r, name, body, result, err);
}

kube_status kube_patch(kube_client *c, const kube_resource *r, const char *name, bool merge,
                       const char *body, cJSON **result, tp_err *err)
{
    return write_object(c, "PATCH", "patch",
                        merge ? "application/merge-patch+json" : "application/json-patch+json", r,
                        name, body, result, err);
}
