/* serve_lease: the election thread of `tagpilot serve` (serve.lease). One round every
 * duration/3 (kube_lease_step); each round the lease is held moves the engine's write deadline
 * (engine_set_leader) to the round's start + 2/3 of the duration. So a leader whose renewals
 * fail — or whose thread hangs in a request — stops writing a third of the duration before any
 * other replica may take the lease over, and an in-flight write has that long to finish. */
#include "serve.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kube/kube.h"
#include "kube/lease.h"

struct serve_lease {
    engine *engine;
    kube_client *client;
    kube_lease_spec spec;
    char *namespace_, *name, *identity; /* spec's strings */
    pthread_t thread;
    int wake[2];             /* stop: a byte */
    atomic_bool leader;      /* for /metrics */
    atomic_int_fast64_t led; /* the write deadline we set last (CLOCK_MONOTONIC ns) */
    bool halted;             /* the thread has been joined */
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static tp_time wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (tp_time){ts.tv_sec, (int32_t)ts.tv_nsec};
}

char *serve_lease_identity(void)
{
    const char *pod = getenv("POD_NAME");
    char host[256] = "";
    if (!pod || !*pod) {
        if (gethostname(host, sizeof host - 1) != 0 || !*host)
            snprintf(host, sizeof host, "tagpilot");
        pod = host;
    }
    return xasprintf("%.200s_%ld", pod, (long)getpid());
}

static void round_once(serve_lease *l)
{
    int64_t started = mono_ns();
    bool leader = false;
    char *holder = NULL;
    tp_err err = {{0}};
    kube_status st = kube_lease_step(l->client, &l->spec, wall_now(), &leader, &holder, &err);
    int64_t d = (int64_t)l->spec.duration_s * 1000000000LL;
    bool was = atomic_load(&l->leader);
    if (st != KUBE_OK) {
        /* Keep the deadline the last good round set: it runs out by itself. */
        fprintf(stderr, "tagpilot: lease %s/%s: %s\n", l->spec.namespace_, l->spec.name, err.msg);
        if (was && mono_ns() >= atomic_load(&l->led)) {
            atomic_store(&l->leader, false);
            engine_set_leader(l->engine, 0, "unknown: the lease could not be renewed");
            fprintf(stderr, "tagpilot: lease %s/%s: lost (not renewed in time); read-only\n",
                    l->spec.namespace_, l->spec.name);
        }
        return;
    }
    int64_t until = leader ? started + d * 2 / 3 : 0;
    atomic_store(&l->led, until);
    atomic_store(&l->leader, leader);
    engine_set_leader(l->engine, until, holder);
    if (leader != was)
        fprintf(stderr, "tagpilot: lease %s/%s: %s (holder %s)\n", l->spec.namespace_, l->spec.name,
                leader ? "leading: this server writes" : "following: read-only",
                holder && *holder ? holder : "none");
    free(holder);
}

static void *lease_main(void *arg)
{
    serve_lease *l = arg;
    int period_ms = l->spec.duration_s * 1000 / 3;
    for (;;) {
        int64_t started = mono_ns();
        round_once(l);
        int left = period_ms - (int)((mono_ns() - started) / 1000000);
        struct pollfd p = {l->wake[0], POLLIN, 0};
        if (poll(&p, 1, left > 0 ? left : 0) > 0)
            break;
    }
    return NULL;
}

int serve_lease_start(const tp_config *cfg, engine *e, struct kube_tally *tally, serve_lease **out,
                      tp_err *err)
{
    *out = NULL;
    /* The cluster is the first kubernetes source's (else kubectl's defaults). */
    const config_kube *k = NULL;
    for (size_t i = 0; i < cfg->n_sources && !k; i++)
        if (cfg->sources[i].kind == CONFIG_SOURCE_KUBERNETES)
            k = &cfg->sources[i].kube;
    int duration = (int)cfg->lease_duration_s;
    kube_options ko = {.kubeconfig = k ? k->kubeconfig : NULL,
                       .context = k ? k->context : NULL,
                       /* a round must end well before the deadline it keeps */
                       .timeout_ms = duration * 1000L / 3,
                       .connect_timeout_ms = duration * 1000L / 3,
                       .tally = tally};
    kube_client *c = kube_client_new(&ko, err);
    if (!c)
        return -1;
    serve_lease *l = xcalloc(1, sizeof *l);
    l->engine = e;
    l->client = c;
    l->namespace_ = xstrdup(cfg->lease_namespace ? cfg->lease_namespace : cfg->argocd_namespace);
    l->name = xstrdup(cfg->lease_name);
    l->identity = serve_lease_identity();
    l->spec = (kube_lease_spec){l->namespace_, l->name, l->identity, duration};
    if (pipe(l->wake) != 0 || pthread_create(&l->thread, NULL, lease_main, l) != 0) {
        tp_err_set(err, "lease: cannot start its thread: %s", strerror(errno));
        kube_client_free(c);
        free(l->namespace_);
        free(l->name);
        free(l->identity);
        free(l);
        return -1;
    }
    *out = l;
    return 0;
}

bool serve_lease_leader(serve_lease *l)
{
    return !l || atomic_load(&l->leader);
}

const char *serve_lease_id(const serve_lease *l)
{
    return l ? l->identity : NULL;
}

void serve_lease_halt(serve_lease *l)
{
    if (!l || l->halted)
        return;
    if (write(l->wake[1], "x", 1) < 0) {
        /* the thread still stops at its next round's poll: the pipe is never full */
    }
    pthread_join(l->thread, NULL);
    l->halted = true;
}

void serve_lease_stop(serve_lease *l, bool release)
{
    if (!l)
        return;
    serve_lease_halt(l);
    if (release && atomic_load(&l->leader)) {
        tp_err err = {{0}};
        if (kube_lease_release(l->client, &l->spec, wall_now(), &err) != KUBE_OK)
            fprintf(stderr, "tagpilot: lease %s/%s: release: %s\n", l->spec.namespace_,
                    l->spec.name, err.msg);
        else
            fprintf(stderr, "tagpilot: lease %s/%s: released\n", l->spec.namespace_, l->spec.name);
    }
    close(l->wake[0]);
    close(l->wake[1]);
    kube_client_free(l->client);
    free(l->namespace_);
    free(l->name);
    free(l->identity);
    free(l);
}
