/* kube/internal: what the kube client's files share — the resolved configuration of one
 * context (kubeconfig.c), exec credential plugins (exec.c), one request (client.c) and the
 * watch stream's line splitter (watch.c). Not for other layers; the unit tests use it. */
#ifndef TP_KUBE_INTERNAL_H
#define TP_KUBE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "kube/kube.h"
#include "net/http.h"
#include "timefmt.h"
#include "util.h"

/* A user's exec credential plugin (kubeconfig users[].user.exec). */
typedef struct kube_exec_config {
    char *api_version; /* client.authentication.k8s.io/v1 or v1beta1 */
    char *command;     /* as written, or resolved against the kubeconfig's folder when it
                          holds a '/' (kubectl's rule); else looked up in PATH */
    strvec args;
    strvec env_names, env_values; /* added to the environment, same index */
    char *install_hint;           /* shown when the command is missing; may be NULL */
    bool provide_cluster_info;
} kube_exec_config;

/* A credential an exec plugin printed. Secrets: wiped when freed. */
typedef struct kube_cred {
    char *token;    /* NULL when the plugin gave a client certificate */
    char *cert_pem; /* clientCertificateData (PEM text) */
    char *key_pem;  /* clientKeyData */
    bool expires;   /* expirationTimestamp was set */
    tp_time expiry;
} kube_cred;

/* One context, resolved: everything a request needs. Owned strings; PEM in memory. */
typedef struct kube_config {
    char *source;  /* for messages: the kubeconfig path(s) as given, or "in-cluster" */
    char *context; /* context name ("in-cluster" for a pod's service account) */
    char *user;    /* the users[] entry's name ("" when the context names none) */
    char *namespace_;
    char *server; /* "https://host:port", no trailing '/' */
    char *ca_pem; /* certificate-authority(-data); NULL: the system's CAs */
    size_t ca_pem_len;
    bool insecure;    /* insecure-skip-tls-verify */
    char *token;      /* secret */
    char *token_file; /* re-read on every request (rotated service account tokens) */
    char *cert_pem;   /* client-certificate(-data) */
    size_t cert_pem_len;
    char *key_pem; /* client-key(-data); secret */
    size_t key_pem_len;
    kube_exec_config *exec; /* NULL when none */
} kube_config;

/* Read kubeconfig files and resolve one context. paths: a ':' list, merged as kubectl merges
 * (the first file to set a map entry or current-context wins; relative file names resolved
 * against the file that names them). When required, every listed file must exist (an explicit
 * `kubeconfig:`); else missing ones are skipped ($KUBECONFIG), and -1 if none is left. context
 * NULL: current-context. */
int kubeconfig_load(const char *paths, bool required, const char *context, kube_config *out,
                    tp_err *err);
/* A pod's service account: token, ca.crt and namespace in sa_dir, the server from host and port
 * ($KUBERNETES_SERVICE_HOST/_PORT). */
int kubeconfig_in_cluster(const char *sa_dir, const char *host, const char *port, kube_config *out,
                          tp_err *err);
void kube_config_free(kube_config *c);
void kube_exec_config_free(kube_exec_config *e);

/* Parse an ExecCredential as a plugin prints it; api_version is the one the kubeconfig asked
 * for (the reply must carry the same). Messages never hold the credential. */
int kube_exec_parse(const char *json, size_t len, const char *api_version, kube_cred *out,
                    tp_err *err);
/* Run the plugin (no shell; stdin /dev/null; KUBERNETES_EXEC_INFO set) for at most timeout_ms,
 * and parse what it prints. A failure names the command, its exit and its stderr's last line
 * (str_printable). cfg gives the cluster for provideClusterInfo. */
int kube_exec_run(const kube_exec_config *exec, const kube_config *cfg, long timeout_ms,
                  kube_cred *out, tp_err *err);
/* True when the credential's expirationTimestamp has passed at now. */
bool kube_cred_expired(const kube_cred *cred, tp_time now);
void kube_cred_free(kube_cred *cred);

/* Free a secret string: bytes zeroed first. */
void kube_wipe_free(char *s);

/* Splits a watch stream into lines (newline-delimited JSON), holding a partial line between
 * chunks; a line longer than max_line is an error, not a larger buffer. */
typedef struct kube_lines {
    strbuf partial;
    size_t max_line;
} kube_lines;
/* Feed a chunk; on_line is called for each complete line (without its '\n'; empty lines are
 * skipped) and may return nonzero to stop: that value is returned. -1 with err when a line
 * passes max_line. */
int kube_lines_feed(kube_lines *l, const char *data, size_t len,
                    int (*on_line)(void *ud, const char *line, size_t len), void *ud, tp_err *err);
void kube_lines_free(kube_lines *l);

/* One request's reply. */
typedef struct kube_reply {
    long status;
    char *body; /* NUL-terminated; "" when none */
    size_t body_len;
} kube_reply;
void kube_reply_free(kube_reply *r);

/* What a request does, for messages: "patch" "applications" in namespace "argocd" (NULL or
 * "*": every namespace), and the object's name (NULL for a collection). */
typedef struct kube_what {
    const char *verb;
    const char *plural;
    const char *namespace_;
    const char *name;
} kube_what;

/* Send one request to path (from '/', query included) with the context's credentials; on a 401
 * with an exec plugin, run it again and retry once. Streams a 2xx body to on_data when set
 * (timeout_ms 0: none, *stop checked every 200 ms). Returns KUBE_OK for a 2xx, else the status
 * the reply maps to with err saying what (kube_status_error). max_body 0: the client's. */
kube_status kube_request(kube_client *c, const char *method, const char *path,
                         const char *content_type, const char *body, const kube_what *what,
                         http_data_fn on_data, void *data_ud, long timeout_ms, atomic_bool *stop,
                         kube_reply *reply, tp_err *err);
/* The message and status for an error reply (status >= 300), from the Status object the server
 * sent when there is one (its text sanitised and cut). Also for a watch's ERROR event. */
kube_status kube_status_error(const kube_client *c, const kube_what *what, long code,
                              const char *body, size_t body_len, tp_err *err);
/* "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications" (+ "/name"): path segments are
 * checked (a name with '/' or '?' is refused). NULL with err on a bad one. */
char *kube_resource_path(const kube_resource *r, const char *name, tp_err *err);
/* Append "&key=value" (or "?key=value" when the URL has no '?'), value percent-encoded. */
void kube_query_add(strbuf *url, const char *key, const char *value);

#endif
