/* registry/conf: argocd-image-updater's registries.conf, read unchanged, plus tagpilot's ca_file.
 *
 *   registries:
 *   - name: Docker Hub
 *     api_url: https://registry-1.docker.io
 *     prefix: docker.io
 *     ping: yes
 *     credentials: env:DOCKER_CREDS
 *     credsexpire: 5h
 *     tagsortmode: none
 *     insecure: no
 *     defaultns: library
 *     limit: 10
 *     default: true
 *     ca_file: /etc/ssl/private-ca.pem   # tagpilot only
 *     connections: 4                     # tagpilot only
 */
#ifndef TP_REGISTRY_CONF_H
#define TP_REGISTRY_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "select/imageref.h"
#include "util.h"

typedef struct registry_conf_entry {
    char *name;         /* display name; owned */
    char *api_url;      /* "https://host[:port]" without trailing '/'; owned */
    char *prefix;       /* image prefix it serves ("ghcr.io"); owned; NULL when omitted: then it
                           serves images written without a registry, like `default` */
    char *credentials;  /* spec ("env:VAR", "ext:/path", …) or NULL; owned */
    char *tagsortmode;  /* "none", "latest-first", "latest-last"; owned */
    char *defaultns;    /* namespace for one-component names, or NULL; owned */
    char *ca_file;      /* PEM bundle to trust, or NULL; owned; relative paths resolved against
                           the file's folder */
    bool ping;          /* parsed for compatibility; GET /v2/ is sent anyway, as AIU does */
    bool insecure;      /* skip TLS verification */
    bool is_default;    /* serves images without a registry prefix */
    long credsexpire_s; /* re-read credentials after this many seconds; 0: never */
    double limit;       /* requests per second; 0: unlimited */
    int connections;    /* requests in flight at once (connections, over HTTP/1.1); 0: the
                           client's default (registry_options.max_per_registry, 10) */
    size_t line;        /* where the entry starts, for messages */
} registry_conf_entry;

typedef struct registries_conf {
    registry_conf_entry *entries; /* owned */
    size_t count;
    char *path; /* file name for messages; owned */
} registries_conf;

/* Parse registries.conf text. Errors name the file, line and key:
 * "registries.conf:7: limit: not a number: 'fast'". Returns 0 or -1. */
int registries_conf_parse(const char *buf, size_t len, const char *name, registries_conf *out,
                          tp_err *err);
int registries_conf_load(const char *path, registries_conf *out, tp_err *err);
void registries_conf_free(registries_conf *conf);

/* The entry serving ref: the one whose prefix equals ref->registry; for Docker Hub names
 * without a written registry also the default entry. NULL when none (conf may be NULL). */
const registry_conf_entry *registries_conf_find(const registries_conf *conf, const imageref *ref);

/* Go-style duration ("5h", "1h30m", "90s", "250ms") to seconds (rounded down); 0 or -1. */
int registries_conf_parse_duration(const char *s, long *out_s);

#endif
