#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/http.h"

/* The driver's loop on curl's socket API (net/http.c): which sockets it polls, when curl's
 * timers run, the wake-up pipe, the caller's fds. Against a small HTTP/1.1 server on a thread
 * that answers every path with the path itself, except /hang/..., which it reads and never
 * answers, and /gate/..., which it answers only once `gate` of them have come, all together
 * (so that all those transfers wait on their sockets at the same time). The clients'
 * behaviour against real registries is in tests/integration. */

enum { MAX_CONNS = 128 };

typedef struct conn {
    int fd;
    char buf[2048];
    size_t len;
    char held[256]; /* a /gate/ path not answered yet, or "" */
} conn;

typedef struct server {
    int listener, port;
    int stop[2];
    pthread_t thread;
    atomic_int accepted;      /* connections */
    atomic_int hung_requests; /* /hang requests read */
    int gate, held;           /* /gate/ requests: answered when `held` reaches `gate` */
    conn conns[MAX_CONNS];
} server;

static bool answer_path(int fd, const char *path)
{
    char reply[512];
    int n = snprintf(reply, sizeof reply,
                     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     strlen(path), path);
    return write(fd, reply, (size_t)n) == n;
}

/* Answer each complete request in c->buf; false when the connection is to be closed. */
static bool serve_requests(server *s, conn *c)
{
    char *end;
    while ((end = memmem(c->buf, c->len, "\r\n\r\n", 4))) {
        char path[256] = "";
        sscanf(c->buf, "GET %255s", path);
        if (strncmp(path, "/hang/", 6) == 0) {
            atomic_fetch_add(&s->hung_requests, 1);
        } else if (strncmp(path, "/gate/", 6) == 0) {
            snprintf(c->held, sizeof c->held, "%s", path);
            if (++s->held == s->gate)
                for (int i = 0; i < MAX_CONNS; i++)
                    if (s->conns[i].fd >= 0 && s->conns[i].held[0]) {
                        answer_path(s->conns[i].fd, s->conns[i].held);
                        s->conns[i].held[0] = '\0';
                    }
        } else if (!answer_path(c->fd, path)) {
            return false;
        }
        size_t used = (size_t)(end + 4 - c->buf);
        memmove(c->buf, end + 4, c->len - used);
        c->len -= used;
    }
    return c->len < sizeof c->buf;
}

static void *server_main(void *arg)
{
    server *s = arg;
    for (;;) {
        struct pollfd p[MAX_CONNS + 2] = {{s->stop[0], POLLIN, 0}, {s->listener, POLLIN, 0}};
        for (int i = 0; i < MAX_CONNS; i++)
            p[i + 2] = (struct pollfd){.fd = s->conns[i].fd, .events = POLLIN};
        if (poll(p, MAX_CONNS + 2, -1) < 0 || p[0].revents)
            return NULL;
        if (p[1].revents) {
            int fd = accept(s->listener, NULL, NULL);
            int i = 0;
            while (i < MAX_CONNS && s->conns[i].fd >= 0)
                i++;
            if (fd >= 0 && i < MAX_CONNS) {
                s->conns[i] = (conn){.fd = fd};
                atomic_fetch_add(&s->accepted, 1);
            } else if (fd >= 0) {
                close(fd);
            }
        }
        for (int i = 0; i < MAX_CONNS; i++) {
            conn *c = &s->conns[i];
            if (c->fd < 0 || !p[i + 2].revents)
                continue;
            ssize_t n = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
            if (n > 0)
                c->len += (size_t)n;
            if (n <= 0 || !serve_requests(s, c)) {
                close(c->fd);
                c->fd = -1;
            }
        }
    }
}

static server *server_start(int gate)
{
    server *s = calloc(1, sizeof *s);
    s->gate = gate;
    for (int i = 0; i < MAX_CONNS; i++)
        s->conns[i].fd = -1;
    s->listener = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(s->listener, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(s->listener, (struct sockaddr *)&addr, sizeof addr), 0);
    cr_assert_eq(listen(s->listener, 128), 0);
    socklen_t len = sizeof addr;
    cr_assert_eq(getsockname(s->listener, (struct sockaddr *)&addr, &len), 0);
    s->port = ntohs(addr.sin_port);
    cr_assert_eq(pipe(s->stop), 0);
    cr_assert_eq(pthread_create(&s->thread, NULL, server_main, s), 0);
    return s;
}

static void server_stop(server *s)
{
    cr_assert_eq(write(s->stop[1], "x", 1), 1);
    pthread_join(s->thread, NULL);
    for (int i = 0; i < MAX_CONNS; i++)
        if (s->conns[i].fd >= 0)
            close(s->conns[i].fd);
    close(s->listener);
    close(s->stop[0]);
    close(s->stop[1]);
    free(s);
}

typedef struct answer {
    int calls;
    long status;
    char body[256];
    char message[384];
} answer;

static void on_done(void *ud, http_response *r)
{
    answer *a = ud;
    a->calls++;
    a->status = r->status;
    snprintf(a->body, sizeof a->body, "%s", r->body);
    snprintf(a->message, sizeof a->message, "%s", r->message);
}

static http_transfer *get(http_driver *d, server *s, const char *path, answer *a)
{
    char url[300];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", s->port, path);
    http_request_spec spec = {
        .method = "GET",
        .url = url,
        .max_body = 1 << 20,
        .connect_timeout_ms = 20000, /* its timer, 20 s on, would run a transfer left unwatched */
        .total_timeout_ms = 30000,   /* and no low-speed check: its timer would end waits */
    };
    return http_submit(d, &spec, on_done, a);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Run until nothing is in flight or `limit` seconds have passed; returns the seconds taken. */
static double run_until_idle(http_driver *d, int wait_ms, double limit)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    tp_err err = {{0}};
    while (http_driver_active(d) > 0 && seconds_since(&t0) < limit)
        cr_assert_geq(http_driver_perform(d, wait_ms, NULL, 0, &err), 0, "%s", err.msg);
    return seconds_since(&t0);
}

/* One perform with nothing to do; returns how long it slept. */
static double idle_perform(http_driver *d, int wait_ms)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    tp_err err = {{0}};
    cr_assert_geq(http_driver_perform(d, wait_ms, NULL, 0, &err), 0, "%s", err.msg);
    return seconds_since(&t0);
}

/* More sockets than a fixed table of 16 would hold, all waiting at once (the server answers
 * none before it has all 40 requests), then done one after another: each socket curl drops
 * leaves the table with the others intact. */
Test(net_http, many_transfers_over_more_than_16_sockets_all_complete)
{
    enum { N = 40 };
    server *s = server_start(N);
    tp_err err;
    http_driver *d = http_driver_new(&err);
    cr_assert_not_null(d);
    answer got[N] = {{0}};
    for (int i = 0; i < N; i++) {
        char path[32];
        snprintf(path, sizeof path, "/gate/%d", i);
        get(d, s, path, &got[i]);
    }
    cr_assert_eq(http_driver_active(d), N);
    double took = run_until_idle(d, 1000, 8.0);
    cr_expect_eq(http_driver_active(d), 0, "transfers left: %zu", http_driver_active(d));
    cr_expect_lt(took, 4.0, "%d transfers took %.1f s", N, took);
    for (int i = 0; i < N; i++) {
        char want[32];
        snprintf(want, sizeof want, "/gate/%d", i);
        cr_expect(got[i].calls == 1 && got[i].status == 200 && strcmp(got[i].body, want) == 0,
                  "transfer %d: %d calls, status %ld, body '%s' %s", i, got[i].calls, got[i].status,
                  got[i].body, got[i].message);
    }
    cr_expect_gt(atomic_load(&s->accepted), 16, "connections: %d", atomic_load(&s->accepted));
    http_driver_free(d);
    server_stop(s);
}

/* A transfer just submitted starts in the next perform, not after its wait (curl's timer says
 * 0 when a transfer is added; there is no socket to wake the poll yet). */
Test(net_http, a_new_transfer_starts_without_waiting)
{
    server *s = server_start(0);
    tp_err err;
    http_driver *d = http_driver_new(&err);
    for (int round = 0; round < 3; round++) { /* a new connection, then a reused one */
        answer a = {0};
        get(d, s, "/n/quick", &a);
        double took = run_until_idle(d, 5000, 20.0);
        cr_expect_eq(a.status, 200, "%s", a.message);
        cr_assert_lt(took, 2.0, "round %d: the transfer took %.1f s with waits of 5 s", round,
                     took);
    }
    http_driver_free(d);
    server_stop(s);
}

/* curl's own timers end a wait: a stalled transfer fails when its low-speed limit says, not
 * when the caller's wait ends. */
Test(net_http, a_stalled_transfer_times_out_inside_a_long_wait)
{
    server *s = server_start(0);
    tp_err err;
    http_driver *d = http_driver_new(&err);
    answer a = {0};
    char url[300];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hang/slow", s->port);
    http_request_spec spec = {
        .method = "GET",
        .url = url,
        .max_body = 1 << 20,
        .connect_timeout_ms = 20000,
        .total_timeout_ms = 30000,
        .low_speed_bytes = 1,
        .low_speed_seconds = 1,
    };
    http_submit(d, &spec, on_done, &a);
    double took = run_until_idle(d, 10000, 25.0);
    cr_expect_eq(a.calls, 1);
    cr_expect_str_eq(a.message, "timeout: less than 1 bytes/s for 1 s (a stalled or dripping "
                                "response)");
    cr_expect_lt(took, 5.0, "a 1 s low-speed limit took %.1f s with waits of 10 s", took);
    http_driver_free(d);
    server_stop(s);
}

/* http_driver_step moves transfers on by itself and never waits, even with one in flight that
 * never ends. */
Test(net_http, step_alone_runs_transfers_and_never_blocks)
{
    server *s = server_start(0);
    tp_err err = {{0}};
    http_driver *d = http_driver_new(&err);
    answer hung = {0}, quick = {0};
    http_transfer *h = get(d, s, "/hang/step", &hung);
    get(d, s, "/n/step", &quick);
    /* until both requests are out and one is answered, then a few more with the hung one
     * alone in flight */
    double slowest = 0;
    int after = 0;
    for (int i = 0; i < 3000 && after < 5; i++) {
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        cr_assert_geq(http_driver_step(d, &err), 0, "%s", err.msg);
        double took = seconds_since(&t0);
        slowest = took > slowest ? took : slowest;
        if (quick.calls > 0 && atomic_load(&s->hung_requests) > 0)
            after++;
        usleep(1000);
    }
    cr_expect_eq(quick.status, 200, "steps alone did not finish the transfer: %s", quick.message);
    cr_expect_eq(atomic_load(&s->hung_requests), 1, "the other request was not sent");
    cr_expect_lt(slowest, 0.5, "a step waited %.2f s", slowest);
    cr_expect_eq(http_driver_active(d), 1);
    http_cancel(d, h);
    cr_expect_eq(hung.calls, 0);
    http_driver_free(d);
    server_stop(s);
}

/* Cancelled mid-flight, a transfer's socket leaves the poll with it (curl closes it): no stale
 * fd makes the next wait return at once, and the driver runs new transfers as before. */
Test(net_http, a_transfer_cancelled_mid_flight_leaves_the_driver_working)
{
    server *s = server_start(0);
    tp_err err;
    http_driver *d = http_driver_new(&err);
    answer hung[3] = {{0}}, first = {0};
    http_transfer *h[3];
    for (int i = 0; i < 3; i++)
        h[i] = get(d, s, "/hang/cancel", &hung[i]);
    get(d, s, "/n/first", &first);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while ((first.calls == 0 || atomic_load(&s->hung_requests) < 3) && seconds_since(&t0) < 8)
        cr_assert_geq(http_driver_perform(d, 50, NULL, 0, &err), 0, "%s", err.msg);
    cr_assert_eq(first.status, 200, "%s", first.message);
    cr_assert_eq(atomic_load(&s->hung_requests), 3);
    cr_assert_eq(http_driver_active(d), 3);
    for (int i = 0; i < 3; i++)
        http_cancel(d, h[i]);
    cr_assert_eq(http_driver_active(d), 0);
    double slept = idle_perform(d, 300);
    cr_expect_geq(slept, 0.25, "an idle perform of 300 ms returned after %.3f s", slept);
    answer after[5] = {{0}};
    for (int i = 0; i < 5; i++)
        get(d, s, "/n/after", &after[i]);
    run_until_idle(d, 1000, 8.0);
    for (int i = 0; i < 5; i++)
        cr_expect_eq(after[i].status, 200, "transfer %d after the cancel: %s", i, after[i].message);
    for (int i = 0; i < 3; i++)
        cr_expect_eq(hung[i].calls, 0, "a cancelled transfer's callback ran");
    slept = idle_perform(d, 300);
    cr_expect_geq(slept, 0.25, "idle again, a perform of 300 ms returned after %.3f s", slept);
    http_driver_free(d);
    server_stop(s);
}

static void *wake_later(void *arg)
{
    usleep(100 * 1000);
    http_driver_wakeup(arg);
    return NULL;
}

/* A wakeup from another thread ends a perform with a transfer in flight; one that came before
 * the perform ends it at once (it is not lost); and once seen, wakeups are used up, however
 * many there were, so the next perform sleeps again. */
Test(net_http, wakeup_ends_a_perform_and_is_used_up)
{
    server *s = server_start(0);
    tp_err err = {{0}};
    http_driver *d = http_driver_new(&err);
    answer hung = {0};
    http_transfer *h = get(d, s, "/hang/wake", &hung);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* sent, and past curl's timers of the connection's first 200 ms: only the wakeup (or
     * the total timeout, 30 s) can end the wait below */
    while ((atomic_load(&s->hung_requests) == 0 || seconds_since(&t0) < 0.5) &&
           seconds_since(&t0) < 8)
        cr_assert_geq(http_driver_perform(d, 50, NULL, 0, &err), 0, "%s", err.msg);
    cr_assert_eq(atomic_load(&s->hung_requests), 1);

    pthread_t th;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_create(&th, NULL, wake_later, d);
    cr_assert_eq(http_driver_perform(d, 10000, NULL, 0, &err), 1, "%s", err.msg);
    double took = seconds_since(&t0);
    pthread_join(th, NULL);
    cr_expect_lt(took, 3.0, "perform slept %.1f s despite the wakeup", took);
    http_cancel(d, h); /* nothing in flight from here: no timer of curl's ends a wait */
    double slept = idle_perform(d, 300);
    cr_expect_geq(slept, 0.25, "after one wakeup, a perform of 300 ms returned after %.3f s",
                  slept);

    for (int i = 0; i < 1000; i++)
        http_driver_wakeup(d);
    took = idle_perform(d, 10000);
    cr_expect_lt(took, 3.0, "a wakeup sent before the perform was lost (slept %.1f s)", took);
    slept = idle_perform(d, 300);
    cr_expect_geq(slept, 0.25, "after 1,000 wakeups, a perform of 300 ms returned after %.3f s",
                  slept);
    cr_expect_eq(hung.calls, 0);
    http_driver_free(d);
    server_stop(s);
}

/* Any number of extra fds is watched (curl_multi_poll's array was capped at 16 here). */
Test(net_http, an_extra_fd_past_the_sixteenth_ends_a_wait)
{
    tp_err err = {{0}};
    http_driver *d = http_driver_new(&err);
    enum { N = 20 };
    int pipes[N][2], readers[N];
    for (int i = 0; i < N; i++) {
        cr_assert_eq(pipe(pipes[i]), 0);
        readers[i] = pipes[i][0];
    }
    cr_assert_eq(write(pipes[N - 1][1], "x", 1), 1);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(http_driver_perform(d, 10000, readers, N, &err), 0, "%s", err.msg);
    double took = seconds_since(&t0);
    cr_expect_lt(took, 3.0, "the 20th fd was readable, perform slept %.1f s", took);
    for (int i = 0; i < N; i++) {
        close(pipes[i][0]);
        close(pipes[i][1]);
    }
    http_driver_free(d);
}
