#include "source/gitnet.h"

#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <git2/sys/stream.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* libgit2's ssh transport takes the descriptor out of the standard stream it gets by casting
 * it to its own socket stream ({parent, host, port, s}): ours starts with the same fields. */
typedef struct gitnet_stream {
    git_stream parent;
    char *host;
    char *port;
    int s;
    /* ours */
    int64_t last_ms; /* last sign of life (monitor's lock) */
    bool ended;      /* shut down by the monitor or a cancel */
    struct gitnet_stream *next;
} gitnet_stream;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static gitnet_stream *live; /* open sockets */
static bool monitor_running;
static bool cancelled;
static long connect_ms = 10000, stall_ms = 30000;
static char reason[160];

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Under lock. */
static void end_stream(gitnet_stream *st, const char *why)
{
    if (st->ended || st->s < 0)
        return;
    st->ended = true;
    shutdown(st->s, SHUT_RDWR); /* wakes a read blocked in us or in libssh2 */
    snprintf(reason, sizeof reason, "%s", why);
}

static void *monitor(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    while (live) {
        int64_t now = now_ms();
        for (gitnet_stream *st = live; st; st = st->next)
            if (!st->ended && now - st->last_ms > stall_ms) {
                char why[96];
                snprintf(why, sizeof why, "no progress for %ld s (git.timeout)",
                         (stall_ms + 999) / 1000);
                end_stream(st, why);
            }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        long step = stall_ms / 4 < 500 ? stall_ms / 4 : 500;
        until.tv_nsec += (step > 0 ? step : 1) * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&wake, &lock, &until);
    }
    monitor_running = false;
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void touch(gitnet_stream *st)
{
    pthread_mutex_lock(&lock);
    st->last_ms = now_ms();
    pthread_mutex_unlock(&lock);
}

static void set_reason_error(gitnet_stream *st, const char *what)
{
    pthread_mutex_lock(&lock);
    if (st->ended && reason[0])
        git_error_set(GIT_ERROR_NET, "%s %s:%s: %s", what, st->host, st->port, reason);
    else
        git_error_set(GIT_ERROR_NET, "%s %s:%s: %s", what, st->host, st->port, strerror(errno));
    pthread_mutex_unlock(&lock);
}

static void add_live(gitnet_stream *st)
{
    pthread_mutex_lock(&lock);
    st->last_ms = now_ms();
    st->next = live;
    live = st;
    if (!monitor_running) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        monitor_running = pthread_create(&t, &attr, monitor, NULL) == 0;
        pthread_attr_destroy(&attr);
    }
    pthread_mutex_unlock(&lock);
}

static void remove_live(gitnet_stream *st)
{
    pthread_mutex_lock(&lock);
    for (gitnet_stream **pp = &live; *pp; pp = &(*pp)->next)
        if (*pp == st) {
            *pp = st->next;
            break;
        }
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&lock);
}

/* Non-blocking connect, waited for in slices so a cancel is seen. */
static int connect_one(const struct addrinfo *ai, int64_t deadline, int *out)
{
    int s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (s < 0)
        return -1;
    if (connect(s, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
        close(s);
        return -1;
    }
    for (;;) {
        if (gitnet_cancelled()) {
            close(s);
            errno = ECANCELED;
            return -1;
        }
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            close(s);
            errno = ETIMEDOUT;
            return -1;
        }
        struct pollfd p = {s, POLLOUT, 0};
        int n = poll(&p, 1, left > 200 ? 200 : (int)left);
        if (n < 0 && errno != EINTR) {
            close(s);
            return -1;
        }
        if (n > 0) {
            int soerr = 0;
            socklen_t len = sizeof soerr;
            if (getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr) {
                close(s);
                errno = soerr ? soerr : errno;
                return -1;
            }
            break;
        }
    }
    /* Blocking from here: the monitor bounds every wait by shutting the socket down. */
    int flags = fcntl(s, F_GETFL);
    fcntl(s, F_SETFL, flags & ~O_NONBLOCK);
    *out = s;
    return 0;
}

static int stream_connect(git_stream *stream)
{
    gitnet_stream *st = (gitnet_stream *)stream;
    struct addrinfo hints = {0}, *info = NULL;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = AF_UNSPEC;
    int rc = getaddrinfo(st->host, st->port, &hints, &info);
    if (rc != 0) {
        git_error_set(GIT_ERROR_NET, "failed to resolve address for %s: %s", st->host,
                      gai_strerror(rc));
        return -1;
    }
    int64_t deadline = now_ms() + connect_ms;
    int saved = ECONNREFUSED;
    for (struct addrinfo *p = info; p && st->s < 0; p = p->ai_next)
        if (connect_one(p, deadline, &st->s) != 0)
            saved = errno;
    freeaddrinfo(info);
    if (st->s < 0) {
        if (saved == ETIMEDOUT)
            git_error_set(GIT_ERROR_NET, "failed to connect to %s:%s: timeout after %ld s",
                          st->host, st->port, (connect_ms + 999) / 1000);
        else if (saved == ECANCELED)
            git_error_set(GIT_ERROR_NET, "connecting to %s:%s: cancelled", st->host, st->port);
        else
            git_error_set(GIT_ERROR_NET, "failed to connect to %s:%s: %s", st->host, st->port,
                          strerror(saved));
        return -1;
    }
    add_live(st);
    return 0;
}

static ssize_t stream_read(git_stream *stream, void *data, size_t len)
{
    gitnet_stream *st = (gitnet_stream *)stream;
    ssize_t n;
    do
        n = recv(st->s, data, len, 0);
    while (n < 0 && errno == EINTR && !st->ended);
    if (n > 0)
        touch(st);
    if (n < 0 || (n == 0 && st->ended)) {
        set_reason_error(st, "error receiving from");
        return -1;
    }
    return n;
}

static ssize_t stream_write(git_stream *stream, const char *data, size_t len, int flags)
{
    gitnet_stream *st = (gitnet_stream *)stream;
    ssize_t n;
    do
        n = send(st->s, data, len, flags | MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR && !st->ended);
    if (n < 0) {
        set_reason_error(st, "error sending to");
        return -1;
    }
    touch(st);
    return n;
}

static int stream_close(git_stream *stream)
{
    gitnet_stream *st = (gitnet_stream *)stream;
    if (st->s < 0)
        return 0;
    remove_live(st);
    int rc = close(st->s);
    st->s = -1;
    return rc;
}

static void stream_free(git_stream *stream)
{
    gitnet_stream *st = (gitnet_stream *)stream;
    stream_close(stream);
    free(st->host);
    free(st->port);
    free(st);
}

static int stream_new(git_stream **out, const char *host, const char *port)
{
    if (gitnet_cancelled()) {
        git_error_set_str(GIT_ERROR_NET, "cancelled before connecting");
        return -1;
    }
    gitnet_stream *st = xcalloc(1, sizeof *st);
    st->parent.version = GIT_STREAM_VERSION;
    st->parent.connect = stream_connect;
    st->parent.read = stream_read;
    st->parent.write = stream_write;
    st->parent.close = stream_close;
    st->parent.free = stream_free;
    st->host = xstrdup(host);
    st->port = xstrdup(port ? port : "");
    st->s = -1;
    *out = &st->parent;
    return 0;
}

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void register_stream(void)
{
    git_stream_registration reg = {GIT_STREAM_VERSION, stream_new, NULL};
    git_stream_register(GIT_STREAM_STANDARD, &reg);
}

void gitnet_install(long connect, long stall)
{
    pthread_mutex_lock(&lock);
    if (connect > 0)
        connect_ms = connect;
    if (stall > 0)
        stall_ms = stall;
    pthread_mutex_unlock(&lock);
    pthread_once(&once, register_stream);
}

void gitnet_progress(void)
{
    pthread_mutex_lock(&lock);
    int64_t now = now_ms();
    for (gitnet_stream *st = live; st; st = st->next)
        st->last_ms = now;
    pthread_mutex_unlock(&lock);
}

void gitnet_cancel(void)
{
    pthread_mutex_lock(&lock);
    cancelled = true;
    for (gitnet_stream *st = live; st; st = st->next)
        end_stream(st, "cancelled (tagpilot is stopping)");
    pthread_mutex_unlock(&lock);
}

void gitnet_resume(void)
{
    pthread_mutex_lock(&lock);
    cancelled = false;
    pthread_mutex_unlock(&lock);
}

bool gitnet_cancelled(void)
{
    pthread_mutex_lock(&lock);
    bool c = cancelled;
    pthread_mutex_unlock(&lock);
    return c;
}

bool gitnet_reason(char *buf, size_t size)
{
    pthread_mutex_lock(&lock);
    bool have = reason[0] != '\0';
    if (have && size)
        snprintf(buf, size, "%s", reason);
    pthread_mutex_unlock(&lock);
    return have;
}

void gitnet_clear_reason(void)
{
    pthread_mutex_lock(&lock);
    reason[0] = '\0';
    pthread_mutex_unlock(&lock);
}

long gitnet_stall_seconds(void)
{
    pthread_mutex_lock(&lock);
    long s = (stall_ms + 999) / 1000;
    pthread_mutex_unlock(&lock);
    return s;
}
