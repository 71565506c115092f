/* config_internal: what config.c and config_sources.c share while one file is read. */
#ifndef TP_CONFIG_INTERNAL_H
#define TP_CONFIG_INTERNAL_H

#include <stdbool.h>

#include "config.h"
#include "yamldoc.h"

/* Context for one file being checked: messages name the file and the line. */
typedef struct cfg_ctx {
    const char *file;
    char *base_dir;           /* folder of the file (owned) */
    char *single_credentials; /* git.credentials written as one spec (owned), or NULL */
    const ynode *single_at;   /* where, for messages */
    tp_err *err;
} cfg_ctx;

/* "file:LINE: key: what" into c->err; returns -1. */
int cfg_fail(const cfg_ctx *c, const ynode *at, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int cfg_want_scalar(const cfg_ctx *c, const ynode *v, const char *key, const char **out);
int cfg_set_string(const cfg_ctx *c, const ynode *v, const char *key, char **dst);
/* A git URL (scheme:// or scp-like user@host:path) rather than a local path. */
bool cfg_looks_like_url(const char *s);
/* A Kubernetes name: a DNS subdomain (lower-case letters, digits, '-', '.'; 253), or with label
 * a DNS label, as namespaces are (no '.'; 63). */
bool cfg_kube_name_ok(const char *s, bool label);
/* sources: (config_sources.c) */
int cfg_parse_sources(const cfg_ctx *c, const ynode *v, tp_config *cfg);

#endif
