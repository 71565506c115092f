/* kube: a small Kubernetes API client — what tagpilot needs and nothing more. It reads a
 * kubeconfig as kubectl does (or a pod's service account), and makes requests through the one
 * HTTP stack (net/http): list with pagination, watch streams, merge and JSON patches, and
 * Secrets. Credentials (tokens, client keys, exec plugin output) never appear in an error text
 * or a log line. Not thread-safe: one client per thread. */
#ifndef TP_KUBE_H
#define TP_KUBE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "util.h"

typedef struct kube_client kube_client;

/* Requests counted for /metrics (argocd_image_updater_k8s_api_*): one tally shared by every
 * client of a process, whatever thread each runs in — hence atomics, not a lock. */
typedef struct kube_tally {
    atomic_ulong requests; /* HTTP requests sent (a watch is one; a 401 retried with the exec
                              plugin's new credential is two) */
    atomic_ulong errors;   /* of those: no reply (connect, TLS, timeout, cut) or status >= 400
                              (404, 409 and 410 included: the caller may expect them) */
} kube_tally;

typedef struct kube_options {
    /* A kubeconfig path or a ':' list (merged as kubectl merges: the first file to set a map
     * key wins); NULL: $KUBECONFIG, then ~/.kube/config, then the pod's service account
     * (/var/run/secrets/kubernetes.io/serviceaccount and $KUBERNETES_SERVICE_HOST/_PORT).
     * "~/" is expanded. */
    const char *kubeconfig;
    const char *context;     /* NULL: current-context */
    long timeout_ms;         /* per request (not a watch); 0: 30 s */
    long connect_timeout_ms; /* 0: 10 s */
    size_t max_body;         /* bytes of one reply (a list page, an object); 0: 64 MiB */
    kube_tally *tally;       /* NULL: not counted; borrowed, must outlive the client */
} kube_options;

/* Read the configuration and pick the context. Nothing is sent yet. NULL with err naming the
 * file and what is wrong ("~/.kube/config: context \"prod\" not found"). */
kube_client *kube_client_new(const kube_options *opts, tp_err *err);
void kube_client_free(kube_client *c);

/* What the error messages name. Borrowed. */
const char *kube_client_context(const kube_client *c); /* "prod", "in-cluster" */
const char *kube_client_user(const kube_client *c);    /* the kubeconfig user entry's name */
const char *kube_client_server(const kube_client *c);  /* "https://host:6443" */
/* The context's namespace (or the pod's); "default" when none is set. */
const char *kube_client_namespace(const kube_client *c);

typedef enum kube_status {
    KUBE_OK = 0,
    KUBE_ERROR = -1,     /* transport, TLS, a garbage reply, 5xx...: err says what */
    KUBE_NOT_FOUND = -2, /* 404 */
    KUBE_CONFLICT = -3,  /* 409: the resourceVersion is stale (or the object exists) */
    KUBE_GONE = -4,      /* 410: a watch or continue token is too old; list again */
    KUBE_DENIED = -5,    /* 401 after re-authentication, or 403; err names context, user,
                            verb and resource: "cannot patch applications in namespace argocd:
                            forbidden (context prod, user admin) — the Role needs `patch`" */
} kube_status;

/* A resource collection: group "" for the core API. */
typedef struct kube_resource {
    const char *group;      /* "argoproj.io", "" */
    const char *version;    /* "v1alpha1", "v1" */
    const char *plural;     /* "applications", "secrets" */
    const char *namespace_; /* NULL or "*": every namespace */
} kube_resource;

/* List every object (pages of `limit`, following `continue`). On KUBE_OK *items is a new JSON
 * array of the objects and *resource_version the list's (for kube_watch). */
kube_status kube_list(kube_client *c, const kube_resource *r, const char *label_selector,
                      cJSON **items, char **resource_version, tp_err *err);

/* Get one object (a new cJSON). */
kube_status kube_get(kube_client *c, const kube_resource *r, const char *name, cJSON **obj,
                     tp_err *err);

/* One watch event: type "ADDED", "MODIFIED", "DELETED" or "BOOKMARK"; object borrowed for the
 * call. Return nonzero to end the watch. */
typedef int (*kube_watch_fn)(void *ud, const char *type, const cJSON *object);

/* Watch from resource_version (allowWatchBookmarks) until the server ends the stream, timeout_s
 * passes, the callback returns nonzero or *stop becomes true (checked at least every 200 ms).
 * *resource_version is updated from each event (BOOKMARKs included), so the caller can watch
 * again from where this one ended. KUBE_GONE: list again. */
kube_status kube_watch(kube_client *c, const kube_resource *r, const char *label_selector,
                       char **resource_version, int timeout_s, kube_watch_fn fn, void *ud,
                       atomic_bool *stop, tp_err *err);

/* PATCH name with body, content type "application/merge-patch+json" (merge = true) or
 * "application/json-patch+json". On KUBE_OK *result (may be NULL) is the object after it.
 * KUBE_CONFLICT when the patch names a resourceVersion that is not the object's any more. */
kube_status kube_patch(kube_client *c, const kube_resource *r, const char *name, bool merge,
                       const char *body, cJSON **result, tp_err *err);

/* Create an object in r's namespace (POST; body: the object's JSON). KUBE_CONFLICT when one of
 * that name exists already. On KUBE_OK *result (may be NULL) is the object stored. */
kube_status kube_create(kube_client *c, const kube_resource *r, const char *body, cJSON **result,
                        tp_err *err);

/* Replace object name (PUT; body: the whole object). When the body's metadata.resourceVersion
 * is set and is not the object's any more: KUBE_CONFLICT, nothing written. On KUBE_OK *result
 * (may be NULL) is the object after it. */
kube_status kube_update(kube_client *c, const kube_resource *r, const char *name, const char *body,
                        cJSON **result, tp_err *err);

/* A Secret's data, base64-decoded: key -> value into *data (a new cJSON object of strings).
 * Never logged. */
kube_status kube_secret(kube_client *c, const char *namespace_, const char *name, cJSON **data,
                        tp_err *err);

#endif
