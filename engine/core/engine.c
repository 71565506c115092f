/* engine: the thread, its queues and its lifecycle. A cycle lives in engine_scan.c, commands
 * and write-back in engine_act.c, what is published in engine_publish.c. */
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine_internal.h"
#include "source/gitnet.h"

int64_t engine_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

bool engine_leading(engine *e, char *why, size_t len)
{
    if (!e->opts.leased)
        return true;
    pthread_mutex_lock(&e->inbox.lock);
    /* The deadline, not a flag: a lease thread stuck in a request cannot keep this true. */
    bool leading = monotonic_ns() < e->inbox.write_until_ns;
    if (!leading && why)
        snprintf(why, len, "not the leader (holder: %s)",
                 e->inbox.lease_holder[0] ? e->inbox.lease_holder : "none yet");
    pthread_mutex_unlock(&e->inbox.lock);
    return leading;
}

void engine_set_leader(engine *e, int64_t write_until_ns, const char *holder)
{
    pthread_mutex_lock(&e->inbox.lock);
    bool was = e->inbox.lease_led;
    e->inbox.write_until_ns = write_until_ns;
    snprintf(e->inbox.lease_holder, sizeof e->inbox.lease_holder, "%s", holder ? holder : "");
    bool is = monotonic_ns() < write_until_ns;
    e->inbox.lease_led = is;
    pthread_mutex_unlock(&e->inbox.lock);
    if (is != was) {
        /* A cycle now: the new leader writes what is pending (and reconciles its journal);
         * either way the snapshot says whether this engine writes. */
        engine_command refresh = {.kind = CMD_REFRESH};
        engine_submit(e, &refresh);
    }
}

void engine_wake_consumer(engine *e)
{
    char byte = 1;
    /* Non-blocking: a full pipe already means "wake up". */
    if (write(e->inbox.wake_pipe[1], &byte, 1) < 0 && errno != EAGAIN) {
        /* nothing sensible to do: the consumer polls again on its own timer */
    }
}

void engine_log(engine *e, const char *fmt, ...)
{
    char line[1024];
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(when, sizeof when, "%H:%M:%S", &tm);
    int n = snprintf(line, sizeof line, "%s ", when);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    if (e->log.count == ENGINE_LOG_KEEP) {
        free(e->log.items[0]);
        memmove(e->log.items, e->log.items + 1, (e->log.count - 1) * sizeof *e->log.items);
        e->log.count--;
    }
    strvec_push(&e->log, line);
    e->log_total++;
}

void engine_post_result(engine *e, uint64_t id, engine_cmd_kind kind, bool ok, const char *commit,
                        const char *fmt, ...)
{
    strbuf sb = {0};
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(&sb, fmt, ap);
    va_end(ap);
    engine_result r = {id, kind, ok, strbuf_take(&sb), commit && *commit ? xstrdup(commit) : NULL};
    engine_log(e, "%s %s", ok ? "done:" : "refused:", r.message);
    pthread_mutex_lock(&e->inbox.lock);
    if (e->inbox.n_results == e->inbox.cap_results) {
        e->inbox.cap_results = e->inbox.cap_results ? e->inbox.cap_results * 2 : 8;
        e->inbox.results =
            xrealloc(e->inbox.results, e->inbox.cap_results * sizeof *e->inbox.results);
    }
    e->inbox.results[e->inbox.n_results++] = r;
    pthread_mutex_unlock(&e->inbox.lock);
    engine_wake_consumer(e);
}

static void drain_fd(int fd)
{
    char buf[256];
    while (read(fd, buf, sizeof buf) > 0)
        ;
}

bool engine_stop_requested(engine *e)
{
    pthread_mutex_lock(&e->inbox.lock);
    bool stop = e->inbox.stop_requested;
    pthread_mutex_unlock(&e->inbox.lock);
    return stop;
}

struct pending_command *engine_pop_command(engine *e)
{
    pthread_mutex_lock(&e->inbox.lock);
    struct pending_command *c = e->inbox.queue;
    if (c) {
        e->inbox.queue = c->next;
        if (!e->inbox.queue)
            e->inbox.queue_tail = NULL;
    }
    pthread_mutex_unlock(&e->inbox.lock);
    return c;
}

void engine_free_command(struct pending_command *c)
{
    free(c->user);
    free(c->app);
    free(c->alias);
    free(c->tag);
    free(c->policy);
    free(c->digest);
    free(c);
}

static void run_commands(engine *e)
{
    struct pending_command *c;
    while ((c = engine_pop_command(e))) {
        engine_execute(e, c);
        engine_free_command(c);
        engine_publish(e);
    }
}

static int64_t interval_ns(const engine *e)
{
    if (e->opts.interval_ns > 0)
        return e->opts.interval_ns;
    unsigned s = e->cfg->interval_s ? e->cfg->interval_s : 120;
    return (int64_t)s * 1000000000LL;
}

/* How long to sleep in poll() before the next cycle is due (at most a second, so a stop or a
 * pause is noticed promptly even without a wake-up). */
static int sleep_ms(const engine *e)
{
    if (e->opts.once || e->phase == ENGINE_PAUSED)
        return 1000;
    int64_t wait_ns = e->next_cycle_ns - engine_now_ns();
    if (wait_ns <= 0)
        return 0;
    int64_t ms = wait_ns / 1000000 + 1;
    return ms > 1000 ? 1000 : (int)ms;
}

/* A --once engine is done once the caller has said (engine_wait) that it queued everything,
 * and that is run. */
static bool once_done(engine *e)
{
    pthread_mutex_lock(&e->inbox.lock);
    bool done = e->inbox.wait_called && !e->inbox.queue;
    pthread_mutex_unlock(&e->inbox.lock);
    return done;
}

#define ENGINE_MAX_WATCHED 16 /* sources polled for changes of their own */

static void *engine_main(void *arg)
{
    engine *e = arg;
    bool scanned = false;
    /* A console draws the last run's table at once. A --once run shows nothing before its
     * report: it reads last-run.json after the sources (engine_scan), while the registries
     * answer what was asked ahead, and starts asking sooner. */
    if (!e->opts.once)
        engine_build_preview(e, true);
    engine_publish(e);
    while (!engine_stop_requested(e)) {
        bool due = !scanned || e->refresh_requested || engine_now_ns() >= e->next_cycle_ns;
        if (e->phase != ENGINE_PAUSED && due && !(e->opts.once && scanned)) {
            e->refresh_requested = false;
            int64_t began = engine_now_ns();
            engine_scan(e);
            scanned = true;
            e->last_cycle_ns = engine_now_ns();
            e->last_cycle_duration_ns = e->last_cycle_ns - began;
            e->next_cycle_ns = e->last_cycle_ns + interval_ns(e);
            if (e->phase != ENGINE_PAUSED)
                e->phase = ENGINE_IDLE;
            /* A --once run about to stop publishes once, stopped (1,000 rows take ~2 ms). */
            if (!(e->opts.once && once_done(e)))
                engine_publish(e);
        }
        run_commands(e);
        if (e->opts.once && scanned && once_done(e))
            break;
        /* Commands, and sources that change on their own (a watched cluster): an Application
         * created, edited or deleted there is read again at once, not at the next interval. */
        struct pollfd pfd[1 + ENGINE_MAX_WATCHED];
        size_t n_fd = 0;
        pfd[n_fd++] = (struct pollfd){e->inbox.cmd_pipe[0], POLLIN, 0};
        for (size_t i = 0; i < e->src.n && n_fd < sizeof pfd / sizeof *pfd; i++) {
            int fd = source_wake_fd(e->src.list[i]);
            if (fd >= 0)
                pfd[n_fd++] = (struct pollfd){fd, POLLIN, 0};
        }
        if (poll(pfd, n_fd, sleep_ms(e)) > 0) {
            if (pfd[0].revents)
                drain_fd(e->inbox.cmd_pipe[0]);
            for (size_t i = 1; i < n_fd; i++)
                if (pfd[i].revents) {
                    drain_fd(pfd[i].fd);
                    if (!e->opts.once)
                        e->refresh_requested = true;
                }
        }
    }
    e->phase = ENGINE_STOPPED;
    engine_publish(e);
    pthread_mutex_lock(&e->inbox.lock);
    e->inbox.finished = true;
    pthread_cond_broadcast(&e->inbox.idle_cond);
    pthread_mutex_unlock(&e->inbox.lock);
    return NULL;
}

static int make_pipe(int fds[2], tp_err *err)
{
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
        return tp_err_set(err, "cannot create a pipe: %s", strerror(errno));
    return 0;
}

/* What only an engine of its own has (not an attached one). */
static void engine_free_own(engine *e)
{
    image_table_free(&e->table);
    strmap_free(&e->src.warned);
    engine_drop_preview(e);
    engine_drop_hints(e);
    for (size_t i = 0; i < e->src.n_apps_lists; i++)
        app_list_free(&e->src.apps[i]);
    free(e->src.apps);
    engine_git_secrets_free(e);
    for (size_t i = 0; i < e->src.n; i++)
        source_free(e->src.list[i]);
    free(e->src.list);
    free(e->src.label);
    free(e->src.error);
    engine_tags_free(e);
    engine_history_free(e);
    decisions_free(&e->records.dec);
    journal_close(e->records.journal);
    strvec_free(&e->log);
    free(e->records.identity);
}

static void engine_free(engine *e)
{
    if (e->remote)
        engine_remote_free(e->remote);
    else
        engine_free_own(e);
    model_snapshot_unref(e->inbox.current);
    for (size_t i = 0; i < e->inbox.n_results; i++)
        engine_result_clear(&e->inbox.results[i]);
    free(e->inbox.results);
    struct pending_command *c;
    while ((c = engine_pop_command(e)))
        engine_free_command(c);
    for (int i = 0; i < 2; i++) {
        if (e->inbox.wake_pipe[i] >= 0)
            close(e->inbox.wake_pipe[i]);
        if (e->inbox.cmd_pipe[i] >= 0)
            close(e->inbox.cmd_pipe[i]);
    }
    pthread_mutex_destroy(&e->inbox.lock);
    pthread_cond_destroy(&e->inbox.idle_cond);
    free(e);
}

static int open_state(engine *e, tp_err *err)
{
    /* Viewers and dry runs never take the writer's lock, and never write. */
    journal_mode mode =
        e->opts.read_only || e->opts.dry_run ? JOURNAL_READ_ONLY : JOURNAL_READ_WRITE;
    const char *dir = config_state_dir(e->cfg, err);
    if (!dir || journal_open(dir, mode, &e->records.journal, err) < 0)
        return -1;
    for (size_t i = 0; i < journal_warnings(e->records.journal)->count; i++)
        engine_log(e, "warning: %s", journal_warnings(e->records.journal)->items[i]);
    /* A writer repairs what it was warned about: valid records into a fresh file, the bad
     * lines kept aside in journal.corrupt. */
    if (mode == JOURNAL_READ_WRITE && journal_warnings(e->records.journal)->count) {
        tp_err cerr = {{0}};
        if (journal_compact(e->records.journal, &cerr) < 0)
            engine_log(e, "warning: %s", cerr.msg);
        else
            engine_log(e, "journal repaired: bad lines moved to journal.corrupt");
    }
    decisions_rebuild(&e->records.dec, e->records.journal);
    e->records.intents_pending = true; /* engine_reconcile looks on the first cycle */
    for (size_t i = 0; i < journal_count(e->records.journal); i++)
        engine_history_index(e, i);
    return 0;
}

static void open_sources(engine *e)
{
    source_env env = {gitrepo_opts_from(e->cfg), e->cfg->argocd_namespace, e->opts.kube_tally};
    e->src.list = xcalloc(e->cfg->n_sources ? e->cfg->n_sources : 1, sizeof *e->src.list);
    strbuf label = {0};
    for (size_t i = 0; i < e->cfg->n_sources; i++) {
        e->src.list[i] = source_new(&e->cfg->sources[i], &env);
        strbuf_printf(&label, "%s%s", i ? ", " : "", e->src.list[i]->label);
    }
    e->src.n = e->cfg->n_sources;
    e->src.label = strbuf_take(&label);
}

engine *engine_start(const engine_options *opts, tp_err *err)
{
    engine *e = xcalloc(1, sizeof *e);
    e->opts = *opts;
    e->cfg = opts->config;
    e->inbox.wake_pipe[0] = e->inbox.wake_pipe[1] = e->inbox.cmd_pipe[0] = e->inbox.cmd_pipe[1] =
        -1;
    e->phase = ENGINE_STARTING;
    engine_write_methods_init(e);
    e->records.identity = journal_identity();
    gitnet_resume(); /* a stopped engine cancelled the process's git transfers */
    pthread_mutex_init(&e->inbox.lock, NULL);
    pthread_cond_init(&e->inbox.idle_cond, NULL);
    if (make_pipe(e->inbox.wake_pipe, err) < 0 || make_pipe(e->inbox.cmd_pipe, err) < 0 ||
        open_state(e, err) < 0 || engine_open_registry(e, err) < 0) {
        engine_free(e);
        return NULL;
    }
    open_sources(e);
    if (e->cfg->n_sources == 0)
        engine_log(e, "warning: no sources configured: nothing to track");
    int rc = pthread_create(&e->thread, NULL, engine_main, e);
    if (rc != 0) {
        tp_err_set(err, "cannot start the engine thread: %s", strerror(rc));
        engine_free(e);
        return NULL;
    }
    e->thread_started = true;
    return e;
}

static void poke_engine(engine *e)
{
    char byte = 1;
    if (write(e->inbox.cmd_pipe[1], &byte, 1) < 0 && errno != EAGAIN) {
        /* the engine also wakes on its own timer */
    }
    if (e->tags.registry)
        registry_client_wakeup(e->tags.registry);
}

static void stop_thread(engine *e)
{
    pthread_mutex_lock(&e->inbox.lock);
    e->inbox.stop_requested = true;
    pthread_mutex_unlock(&e->inbox.lock);
    poke_engine(e);
    /* A git transfer in flight ends now rather than at its timeout; a push cut this way left
     * its intent in the journal and is reconciled on the next start. */
    if (!e->remote)
        gitnet_cancel();
    if (e->thread_started)
        pthread_join(e->thread, NULL);
}

void engine_stop(engine *e)
{
    if (!e)
        return;
    stop_thread(e);
    engine_free(e);
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ENGINE_CLANG_ASAN 1
#endif
#endif
#ifndef ENGINE_CLANG_ASAN
#define ENGINE_CLANG_ASAN 0
#endif

void engine_stop_exiting(engine *e)
{
#if defined(__SANITIZE_ADDRESS__) || ENGINE_CLANG_ASAN
    engine_stop(e);
#else
    if (e)
        stop_thread(e);
#endif
}

void engine_finish_when_idle(engine *e)
{
    pthread_mutex_lock(&e->inbox.lock);
    e->inbox.wait_called = true;
    pthread_mutex_unlock(&e->inbox.lock);
    poke_engine(e);
}

void engine_wait(engine *e)
{
    engine_finish_when_idle(e);
    pthread_mutex_lock(&e->inbox.lock);
    while (!e->inbox.finished)
        pthread_cond_wait(&e->inbox.idle_cond, &e->inbox.lock);
    pthread_mutex_unlock(&e->inbox.lock);
}

int engine_wake_fd(const engine *e)
{
    return e->inbox.wake_pipe[0];
}

void engine_drain_wake(engine *e)
{
    drain_fd(e->inbox.wake_pipe[0]);
}

model_snapshot *engine_snapshot(engine *e)
{
    pthread_mutex_lock(&e->inbox.lock);
    model_snapshot *s = e->inbox.current ? model_snapshot_ref(e->inbox.current) : NULL;
    pthread_mutex_unlock(&e->inbox.lock);
    return s;
}

uint64_t engine_submit(engine *e, const engine_command *cmd)
{
    struct pending_command *c = xcalloc(1, sizeof *c);
    c->kind = cmd->kind;
    c->app = xstrdup(cmd->app);
    c->alias = xstrdup(cmd->alias);
    c->tag = xstrdup(cmd->tag);
    c->policy = xstrdup(cmd->policy);
    c->digest = xstrdup(cmd->digest);
    c->user = xstrdup(cmd->user);
    pthread_mutex_lock(&e->inbox.lock);
    c->id = ++e->inbox.next_id;
    if (e->inbox.queue_tail)
        e->inbox.queue_tail->next = c;
    else
        e->inbox.queue = c;
    e->inbox.queue_tail = c;
    uint64_t id = c->id;
    pthread_mutex_unlock(&e->inbox.lock);
    poke_engine(e);
    return id;
}

size_t engine_take_results(engine *e, engine_result *out, size_t max)
{
    pthread_mutex_lock(&e->inbox.lock);
    size_t n = e->inbox.n_results < max ? e->inbox.n_results : max;
    if (n == 0) { /* results may still be NULL: memcpy must not see it */
        pthread_mutex_unlock(&e->inbox.lock);
        return 0;
    }
    memcpy(out, e->inbox.results, n * sizeof *out);
    memmove(e->inbox.results, e->inbox.results + n,
            (e->inbox.n_results - n) * sizeof *e->inbox.results);
    e->inbox.n_results -= n;
    pthread_mutex_unlock(&e->inbox.lock);
    return n;
}

void engine_result_clear(engine_result *r)
{
    free(r->message);
    free(r->commit);
    *r = (engine_result){0};
}

const char *engine_cmd_name(engine_cmd_kind kind)
{
    static const char *const names[] = {
        [CMD_REFRESH] = "refresh",       [CMD_APPROVE] = "approve",   [CMD_PIN] = "pin",
        [CMD_UNPIN] = "unpin",           [CMD_ROLLBACK] = "rollback", [CMD_SKIP] = "skip",
        [CMD_SET_POLICY] = "set-policy", [CMD_PAUSE] = "pause",       [CMD_RESUME] = "resume",
        [CMD_SHUTDOWN] = "shutdown",
    };
    return kind <= CMD_SHUTDOWN ? names[kind] : "unknown";
}

int engine_cmd_kind_of(const char *name)
{
    for (int k = CMD_REFRESH; name && k <= CMD_SHUTDOWN; k++)
        if (strcmp(engine_cmd_name((engine_cmd_kind)k), name) == 0)
            return k;
    return -1;
}

bool engine_cmd_writes(engine_cmd_kind kind)
{
    return kind == CMD_APPROVE || kind == CMD_PIN || kind == CMD_UNPIN || kind == CMD_ROLLBACK ||
           kind == CMD_SKIP || kind == CMD_SET_POLICY;
}
