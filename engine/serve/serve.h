/* serve: `tagpilot serve` — one engine, many clients. A single thread (this one, a poll loop)
 * owns the control socket (docs/protocol.md), the clients' queues and the HTTP endpoint for
 * /metrics and /healthz; the engine thread stays what it is, and this loop is its consumer
 * (engine_wake_fd, engine_snapshot, engine_submit) like the console. */
#ifndef TP_SERVE_H
#define TP_SERVE_H

#include <stdint.h>

#include "config.h"
#include "core/engine.h"
#include "util.h"

/* serve_lease.c: leader election on serve.lease's Lease (docs/kubernetes.md). Its requests
 * count into tally (NULL: not counted), which must outlive the serve_lease. */
typedef struct serve_lease serve_lease;
/* Start the election thread for engine e (started with opts.leased): until it holds the lease,
 * e writes nothing. -1 with err when the cluster's configuration cannot be read. */
int serve_lease_start(const tp_config *cfg, engine *e, struct kube_tally *tally, serve_lease **out,
                      tp_err *err);
/* Whether this server leads now (true when l is NULL: no election, the one writer). */
bool serve_lease_leader(serve_lease *l);
/* This server's holderIdentity (borrowed; NULL when l is NULL). */
const char *serve_lease_id(const serve_lease *l);
/* $POD_NAME (else the host name) and the pid: "tagpilot-7d9c4-x2k8p_1". A new string. */
char *serve_lease_identity(void);
/* Stop the thread: no more rounds, no more calls into the engine (whose write deadline then
 * runs out by itself). Call before engine_stop. NULL is fine. */
void serve_lease_halt(serve_lease *l);
/* Halt, and with release give the lease up if held — after engine_stop, so nothing is written
 * once another replica may lead. Frees l; NULL is fine. */
void serve_lease_stop(serve_lease *l, bool release);

typedef struct serve_options {
    const tp_config *config;       /* serve.* keys, the state dir (history) */
    const char *socket_path;       /* the control socket */
    int64_t interval_ns;           /* the engine's interval: /healthz wants a cycle within 3 */
    int stop_fd;                   /* readable: stop (a signal's self-pipe) */
    serve_lease *lease;            /* NULL: no election */
    struct kube_tally *kube_tally; /* /metrics' Kubernetes counters (the engine's and the
                                      lease's); NULL: 0 */
} serve_options;

/* Listen on the socket (a stale one from a dead server is replaced, a live one refused) and on
 * serve.listen, then serve until stop_fd is readable. -1 with err when it cannot listen. */
int serve_run(engine *e, const serve_options *opts, tp_err *err);
/* -1 with err when a server already answers on path (checked before an engine is started, so
 * the message is that one, not the state dir's lock). */
int serve_refuse_live(const char *path, tp_err *err);

/* serve_auth.c: who a peer is. */
typedef enum serve_role {
    ROLE_NONE = 0,
    ROLE_VIEWER,
    ROLE_OPERATOR,
} serve_role;
/* The peer's role under serve.viewers / serve.operators (user or group names; the server's own
 * uid is always an operator); its user name into name[len] ("uid1234" when it has none). */
serve_role serve_role_of(const tp_config *cfg, unsigned uid, char *name, size_t len);
const char *serve_role_name(serve_role role);

/* What /metrics reads at the moment it answers, besides the snapshot. */
typedef struct serve_live {
    size_t clients;                           /* attached now */
    bool leader;                              /* tagpilot_leader */
    unsigned long kube_requests, kube_errors; /* the engine's kube_tally */
} serve_live;

/* serve_http.c: the reply to one HTTP request for /metrics or /healthz (status line, headers,
 * body), a new string. */
char *serve_http_reply(const char *request, const model_snapshot *s, int64_t interval_ns,
                       const serve_live *live);

#endif
