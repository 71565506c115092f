/* registry/creds: turn a credentials spec into a user name and password.
 *   env:VAR          the variable holds "user:pass"
 *   ext:/abs/script  the script prints "user:pass" (10 s timeout, killed after)
 *   pullsecret:ns/name, secret:ns/name#field   need a Kubernetes source (an error for now)
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

/* Resolve spec (may be NULL: docker config) for a registry host ("ghcr.io", "127.0.0.1:5000";
 * Docker Hub is looked up under its index.docker.io key too). ext_timeout_ms 0 means 10 000.
 * Returns 0 (out->username NULL when no credentials were found) or -1 with err. */
int registry_creds_resolve(const char *spec, const char *host, long ext_timeout_ms,
                           registry_creds *out, tp_err *err);
void registry_creds_free(registry_creds *c);

/* "user:pass" into user and password (split at the first ':'); -1 when there is no ':'. */
int registry_creds_split(const char *text, registry_creds *out);

/* Standard base64 of n bytes; the caller frees. And the reverse (NULL on bad input). */
char *registry_base64_encode(const unsigned char *data, size_t n);
unsigned char *registry_base64_decode(const char *text, size_t *out_len);

#endif
