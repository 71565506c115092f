/* source: where Applications come from. One small interface — open, list_apps, close, wake_fd —
 * with a `git` implementation (a cached clone at a branch), a `dir` one (a local folder) and a
 * `kubernetes` one (a cluster's Applications, watched: source/kube.c). */
#ifndef TP_SOURCE_H
#define TP_SOURCE_H

#include "app.h"
#include "config.h"
#include "source/gitrepo.h"
#include "source/repotree.h"
#include "util.h"

typedef struct app_source app_source;

typedef struct source_ops {
    const char *kind; /* "git", "dir" */
    /* Make the manifests available (clone or fetch, and src->tree; check the folder). */
    int (*open)(app_source *src, tp_err *err);
    /* Append the Applications found to *out; per-file and per-app errors go into it, -1 only
     * when the source as a whole cannot be read (a watched source then still appends the last
     * good read, and err says since when). */
    int (*list_apps)(app_source *src, app_list *out, tp_err *err);
    /* Release what open took (the source can be opened again). */
    void (*close)(app_source *src);
    /* Release what lives from one open to the source's end (a cluster's watchers); NULL: none. */
    void (*destroy)(app_source *src);
    /* A descriptor that turns readable when the source changed on its own (a watched cluster),
     * so the engine reads it again at once; -1 or a NULL op: only the interval tells. */
    int (*wake_fd)(app_source *src);
} source_ops;

/* Shared settings for every source (borrowed). */
typedef struct source_env {
    gitrepo_opts git;              /* the clone cache and git.credentials */
    const char *argocd_namespace;  /* a kubernetes source's namespace when none is configured */
    struct kube_tally *kube_tally; /* a kubernetes source's clients count into it; NULL: none */
} source_env;

struct app_source {
    const source_ops *ops;
    config_source cfg; /* own copy */
    source_env env;    /* borrowed strings */
    char *label;       /* "git file:///x/config.git@main:apps" or "dir /x/apps", for messages */
    repotree *tree;    /* after open: the files the source's paths are relative to */
    void *impl;        /* implementation state */
};

extern const source_ops source_git_ops;
extern const source_ops source_dir_ops;
/* source/kube.c: Applications from a cluster, kept current by watching them. */
extern const source_ops source_kube_ops;
/* The engine thread's client of an opened kubernetes source (Secrets, patches); NULL for other
 * kinds and before it opened. */
struct kube_client *source_kube_client(app_source *src);
/* Argo CD's repository Secrets in namespace ns (labels argocd.argoproj.io/secret-type
 * repository and repo-creds: url, username/password or sshPrivateKey), appended to *out; and one
 * Secret (write-back-method git:secret:NS/NAME) serving url. Through src's cluster. */
int source_kube_git_secrets(app_source *src, const char *ns, struct gitcred_secret **out, size_t *n,
                            tp_err *err);
int source_kube_git_secret(app_source *src, const char *ns, const char *name, const char *url,
                           struct gitcred_secret *out, tp_err *err);
/* "kubernetes prod namespaces argocd selector team=a": the source in messages. */
char *source_kube_label(const config_kube *k);

/* A source for one config entry (copies cfg; env strings must outlive it). */
app_source *source_new(const config_source *cfg, const source_env *env);
void source_free(app_source *src); /* closes it first */

/* Convenience wrappers over the ops table; errors are prefixed with the source's label.
 * source_open also checks that the folder the Applications are in exists. */
int source_open(app_source *src, tp_err *err);
int source_list_apps(app_source *src, app_list *out, tp_err *err);
void source_close(app_source *src);
/* The source's wake descriptor (see source_ops.wake_fd), or -1. */
int source_wake_fd(app_source *src);

#endif
