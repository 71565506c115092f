/* config: tagpilot.yaml — where Applications come from, registries.conf, the state directory,
 * approval policy, scan interval, git author and credentials. Relative paths are resolved against
 * the file's folder and "~" is expanded, so the struct holds absolute paths only. */
#ifndef TP_CONFIG_H
#define TP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "annotations.h"
#include "util.h"

typedef enum config_source_kind {
    CONFIG_SOURCE_GIT,
    CONFIG_SOURCE_DIR,
    CONFIG_SOURCE_KUBERNETES,
} config_source_kind;

/* A `kubernetes:` source's settings (owned strings). */
typedef struct config_kube {
    char *kubeconfig;  /* path or ':' list (absolute, "~" expanded); NULL: $KUBECONFIG, then
                          ~/.kube/config, then the pod's service account */
    char *context;     /* NULL: current-context */
    strvec namespaces; /* empty: [argocd-namespace]; "*" alone: every namespace */
    char *selector;    /* label selector, or NULL */
} config_kube;

/* One entry of `sources:` (owned strings). */
typedef struct config_source {
    config_source_kind kind;
    char *url;        /* git: URL (file://, http(s)://, ssh://, scp-like) or absolute local path;
                         dir: absolute folder */
    char *branch;     /* git: branch to read, NULL = the remote's default branch */
    char *path;       /* folder inside the repository / dir holding the manifests; "" = its root */
    size_t line;      /* line of the entry in the config file, for messages */
    config_kube kube; /* kubernetes: the cluster and what to read there (url, branch NULL) */
} config_source;

/* Deep copy / release of one source entry. */
void config_source_copy(config_source *dst, const config_source *src);
void config_source_clear(config_source *src);

/* One git.credentials entry: the spec offered to remotes under url (owned strings). */
typedef struct config_git_cred {
    char *url;  /* prefix: scheme://host[:port][/path], matched as source/giturl.h says */
    char *spec; /* "env:VAR" (user:token), "file:PATH" (user:token or an SSH key), "ssh-agent" */
} config_git_cred;

/* The whole configuration (owned strings; every path absolute). */
typedef struct tp_config {
    char *file; /* the file that was read, or NULL when only defaults apply */
    config_source *sources;
    size_t n_sources;
    char *registries_conf;      /* NULL = none */
    char *state_dir;            /* default $XDG_STATE_HOME/tagpilot, else
                                   $HOME/.local/state/tagpilot; NULL when neither is set */
    approval_policy approval;   /* APPROVAL_MANUAL unless configured */
    unsigned interval_s;        /* seconds between scans; default 120 */
    char *git_author_name;      /* default "tagpilot" */
    char *git_author_email;     /* default "tagpilot@localhost" */
    config_git_cred *git_creds; /* git.credentials by URL prefix, longest wins; a remote
                                   matching none gets no credentials */
    size_t n_git_creds;
    bool git_creds_configured;      /* git.credentials was written (else ssh-agent may serve
                                       ssh remotes, as git itself does) */
    bool git_creds_argocd;          /* git.credentials: argocd — Argo CD's repository Secrets in
                                       the cluster of the kubernetes source */
    char *commit_message_template;  /* NULL = argocd-image-updater's default message */
    unsigned git_timeout_s;         /* git.timeout: a transfer with no progress this long ends;
                                       0 = the default (30 s) */
    unsigned git_connect_timeout_s; /* git.connect-timeout; 0 = the default (10 s) */
    char *argocd_namespace;         /* default "argocd" */
    char *theme; /* name, or absolute path when it names a file; NULL = default */
    /* serve: (`tagpilot serve`, and where consoles and commands look for it) */
    char *serve_socket;     /* serve.socket (absolute); NULL: config_serve_socket's default */
    char *serve_listen;     /* serve.listen host:port for /metrics; default "127.0.0.1:8081";
                               "" (or "off"): none */
    char *serve_group;      /* serve.group: the socket's group (0770, its folder 0750); NULL:
                               the server's own group */
    strvec serve_viewers;   /* serve.viewers: Unix users or groups that may watch */
    strvec serve_operators; /* serve.operators: ... that may act (the server's uid always may) */
    /* serve.lease: leader election on a coordination.k8s.io/v1 Lease among `tagpilot serve`
     * replicas (docs/kubernetes.md). lease_name NULL: no election, the server always writes. */
    char *lease_name;          /* serve.lease.name (default "tagpilot" once lease: is set) */
    char *lease_namespace;     /* serve.lease.namespace (default: argocd-namespace) */
    unsigned lease_duration_s; /* serve.lease.duration, seconds (default 15; 2 to 3600) */
} tp_config;

/* Fill *cfg with defaults (no sources). Free with config_free. */
void config_defaults(tp_config *cfg);

/* Which file to read: cli_path (--config) if given, else $TAGPILOT_CONFIG, else ./tagpilot.yaml
 * when it exists, else $XDG_CONFIG_HOME/tagpilot/config.yaml (~/.config when unset) when it
 * exists. *out is a new string the caller frees, or NULL when none was found (defaults apply).
 * A file named by --config or $TAGPILOT_CONFIG that does not exist is an error. */
int config_find(const char *cli_path, char **out, tp_err *err);

/* Read and check a config file. Errors name the file, line and key:
 * "tagpilot.yaml:7: interval: bad duration 'soon' (use e.g. 30s, 2m, 1h)". */
int config_load(const char *path, tp_config *out, tp_err *err);
/* The same from a buffer; `path` names it in messages and anchors relative paths. */
int config_parse(const char *buf, size_t len, const char *path, tp_config *out, tp_err *err);

/* config_find then config_load (or defaults when no file was found). */
int config_resolve(const char *cli_path, tp_config *out, tp_err *err);

void config_free(tp_config *cfg);

/* The state dir, or NULL with err asking for state-dir: when no default could be made (no
 * $XDG_STATE_HOME, no $HOME). Borrowed from cfg. */
const char *config_state_dir(const tp_config *cfg, tp_err *err);

/* The control socket of `tagpilot serve` for this config: serve.socket, else
 * $XDG_RUNTIME_DIR/tagpilot/engine.sock, else <state-dir>/engine.sock; NULL with err when none
 * can be made. A new string. */
char *config_serve_socket(const tp_config *cfg, tp_err *err);

/* "90s", "2m", "1h30m", "1.5h" → seconds. Returns 0, or -1 when malformed. */
int config_parse_duration(const char *s, unsigned *seconds);

/* Expand "~" and make `path` absolute against base_dir (both may be NULL-free strings).
 * Returns a new string. */
char *config_resolve_path(const char *path, const char *base_dir);

#endif
