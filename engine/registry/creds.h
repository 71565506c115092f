/* registry/creds: turn a credentials spec into a user name and password.
 *   env:VAR          the variable holds "user:pass"
 *   ext:/abs/script  the script prints "user:pass" (10 s timeout, killed after)
 *   pullsecret:ns/name  a kubernetes.io/dockerconfigjson Secret: its `auths` entry for the host
 *   secret:ns/name#field  the Secret's field holds "user:pass"
 *                    (both read from the cluster through a registry_secret_reader)
 *   no spec          the user's docker config.json `auths` entry for the registry
 *                    ($DOCKER_CONFIG/config.json, else ~/.docker/config.json); none: anonymous
 * Messages name the spec, never the secret. */
#ifndef TP_REGISTRY_CREDS_H
#define TP_REGISTRY_CREDS_H

#include <stdbool.h>

#include "util.h"

typedef struct registry_creds {
    char *username; /* owned; NULL: anonymous */
    char *password; /* owned; wiped on free */
    char *source;   /* what to name in messages: the spec, or "docker config <path>"; owned */
} registry_creds;

/* How a Secret's field is read from the cluster (set by the engine when it has a kubernetes
 * source): the decoded value as a new string the caller wipes and frees, or NULL with err. */
typedef struct registry_secret_reader {
    char *(*read)(void *ud, const char *ns, const char *name, const char *field, tp_err *err);
    void *ud;
} registry_secret_reader;

/* Resolve spec (may be NULL: docker config) for a registry host ("ghcr.io", "127.0.0.1:5000";
 * Docker Hub is looked up under its index.docker.io key too). ext_timeout_ms 0 means 10 000.
 * Returns 0 (out->username NULL when no credentials were found) or -1 with err. */
int registry_creds_resolve(const char *spec, const char *host, long ext_timeout_ms,
                           const registry_secret_reader *secrets, registry_creds *out, tp_err *err);
void registry_creds_free(registry_creds *c);

/* "user:pass" into user and password (split at the first ':'); -1 when there is no ':'. */
int registry_creds_split(const char *text, registry_creds *out);

/* Standard base64 of n bytes; the caller frees. And the reverse (NULL on bad input). */
char *registry_base64_encode(const unsigned char *data, size_t n);
unsigned char *registry_base64_decode(const char *text, size_t *out_len);

#endif
