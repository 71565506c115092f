/* engine_remote: an engine that is a `tagpilot serve` somewhere else. engine_attach connects to
 * its socket and starts a thread that turns what the server sends into snapshots and results in
 * the same inbox a local engine fills, so the console and the commands use engine.h unchanged:
 * engine_wake_fd, engine_snapshot, engine_submit and engine_take_results work as they do on an
 * engine of their own. The thread writes each command to the socket and owns the connection. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "engine_internal.h"
#include "wire.h"

typedef struct sent_command {
    uint64_t id;
    engine_cmd_kind kind;
} sent_command;

struct remote_link {
    char *socket;
    bool reconnect; /* the console: come back when the server does */
    int fd;         /* -1 while not connected */
    strbuf in;      /* bytes read, not yet a whole line */
    strbuf out;     /* bytes to write */
    size_t out_done;
    wire_model model;
    model_snapshot *last; /* the last one published (a reference) */
    uint64_t generation;  /* this side's: relabelled snapshots must not repeat a number */
    bool viewer;          /* the server says we may only watch */
    bool synced;          /* a snapshot arrived since the last connect */
    sent_command *sent;   /* written, no result yet */
    size_t n_sent, cap_sent;
    char *link_error;
};

void engine_remote_free(struct remote_link *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    strbuf_free(&r->in);
    strbuf_free(&r->out);
    model_snapshot_unref(r->last);
    wire_model_free(&r->model);
    free(r->sent);
    free(r->link_error);
    free(r->socket);
    free(r);
}

static int connect_to(const char *path, tp_err *err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path)
        return tp_err_set(err, "socket path too long: %s", path);
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return tp_err_set(err, "socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int saved = errno;
        close(fd);
        /* Nothing listens (no file, a stale one): no server; the caller goes on without. */
        if (saved == ENOENT || saved == ECONNREFUSED) {
            tp_err_set(err, "no server on %s: %s", path, strerror(saved));
            return -2;
        }
        return tp_err_set(err, "cannot reach the server on %s: %s", path, strerror(saved));
    }
    return fd;
}

static void send_json(struct remote_link *r, cJSON *msg)
{
    char *text = cJSON_PrintUnformatted(msg);
    strbuf_puts(&r->out, text);
    strbuf_putc(&r->out, '\n');
    free(text);
    cJSON_Delete(msg);
}

static void send_hello(struct remote_link *r)
{
    cJSON *hello = cJSON_CreateObject();
    cJSON_AddStringToObject(hello, "type", "hello");
    cJSON_AddNumberToObject(hello, "protocol", WIRE_PROTOCOL);
    send_json(r, hello);
    cJSON *sub = cJSON_CreateObject();
    cJSON_AddStringToObject(sub, "type", "subscribe");
    send_json(r, sub);
}

static void publish(engine *e, model_snapshot *s)
{
    struct remote_link *r = e->remote;
    s->generation = ++r->generation;
    s->viewer = r->viewer;
    if (r->viewer || e->opts.read_only)
        s->read_only = true;
    pthread_mutex_lock(&e->inbox.lock);
    model_snapshot *old = e->inbox.current;
    e->inbox.current = model_snapshot_ref(s);
    pthread_mutex_unlock(&e->inbox.lock);
    model_snapshot_unref(old);
    model_snapshot_unref(r->last);
    r->last = s;
    engine_wake_consumer(e);
}

static void post(engine *e, uint64_t id, engine_cmd_kind kind, bool ok, const char *message,
                 const char *commit)
{
    engine_result res = {id, kind, ok, xstrdup(message ? message : ""),
                         commit && *commit ? xstrdup(commit) : NULL};
    pthread_mutex_lock(&e->inbox.lock);
    if (e->inbox.n_results == e->inbox.cap_results) {
        e->inbox.cap_results = e->inbox.cap_results ? e->inbox.cap_results * 2 : 8;
        e->inbox.results =
            xrealloc(e->inbox.results, e->inbox.cap_results * sizeof *e->inbox.results);
    }
    e->inbox.results[e->inbox.n_results++] = res;
    pthread_mutex_unlock(&e->inbox.lock);
    engine_wake_consumer(e);
}

/* The link broke: say so, fail what waits for an answer. */
static void link_down(engine *e, const char *why)
{
    struct remote_link *r = e->remote;
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    r->synced = false;
    r->in.len = 0;
    r->out.len = 0;
    r->out_done = 0;
    for (size_t i = 0; i < r->n_sent; i++) {
        char *msg = xasprintf("%s: %s; whether it was done shows in `tagpilot history`",
                              engine_cmd_name(r->sent[i].kind), why);
        post(e, r->sent[i].id, r->sent[i].kind, false, msg, NULL);
        free(msg);
    }
    r->n_sent = 0;
    free(r->link_error);
    r->link_error = xasprintf("%s%s", why, r->reconnect ? "; reconnecting" : "");
    publish(e, wire_relabel(&r->model, r->last, r->socket, r->link_error));
}

static void send_command(engine *e, const struct pending_command *c)
{
    struct remote_link *r = e->remote;
    if (r->fd < 0) {
        post(e, c->id, c->kind, false, "not connected to the server: not sent", NULL);
        return;
    }
    cJSON *msg = cJSON_CreateObject();
    cJSON_AddStringToObject(msg, "type", "command");
    cJSON_AddNumberToObject(msg, "id", (double)c->id);
    cJSON_AddStringToObject(msg, "command", engine_cmd_name(c->kind));
    const char *const fields[][2] = {{"app", c->app},
                                     {"alias", c->alias},
                                     {"tag", c->tag},
                                     {"policy", c->policy},
                                     {"digest", c->digest}};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        if (fields[i][1])
            cJSON_AddStringToObject(msg, fields[i][0], fields[i][1]);
    send_json(r, msg);
    if (r->n_sent == r->cap_sent) {
        r->cap_sent = r->cap_sent ? r->cap_sent * 2 : 8;
        r->sent = xrealloc(r->sent, r->cap_sent * sizeof *r->sent);
    }
    r->sent[r->n_sent++] = (sent_command){c->id, c->kind};
}

static void take_result(engine *e, const cJSON *msg)
{
    struct remote_link *r = e->remote;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
    if (!cJSON_IsNumber(id))
        return;
    for (size_t i = 0; i < r->n_sent; i++) {
        if (r->sent[i].id != (uint64_t)id->valuedouble)
            continue;
        const cJSON *message = cJSON_GetObjectItemCaseSensitive(msg, "message"),
                    *commit = cJSON_GetObjectItemCaseSensitive(msg, "commit");
        post(e, r->sent[i].id, r->sent[i].kind,
             cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(msg, "ok")),
             cJSON_IsString(message) ? message->valuestring : NULL,
             cJSON_IsString(commit) ? commit->valuestring : NULL);
        r->sent[i] = r->sent[--r->n_sent];
        return;
    }
}

/* One line from the server. Returns -1 (with why) when the link must be dropped. */
static int take_line(engine *e, const char *line, size_t len, tp_err *why)
{
    struct remote_link *r = e->remote;
    cJSON *msg = cJSON_ParseWithLength(line, len);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(msg, "type");
    int rc = 0;
    if (!cJSON_IsString(type)) {
        rc = tp_err_set(why, "the server sent a line that is not a message");
    } else if (strcmp(type->valuestring, "hello") == 0) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(msg, "protocol");
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(msg, "role");
        if (!cJSON_IsNumber(p) || p->valueint != WIRE_PROTOCOL)
            rc = tp_err_set(why, "the server speaks protocol %d, this tagpilot %d",
                            cJSON_IsNumber(p) ? p->valueint : 0, WIRE_PROTOCOL);
        r->viewer = !(cJSON_IsString(role) && strcmp(role->valuestring, "operator") == 0);
    } else if (strcmp(type->valuestring, "tags") == 0) {
        rc = wire_decode_tags(&r->model, msg, why);
    } else if (strcmp(type->valuestring, "snapshot") == 0) {
        model_snapshot *s = wire_decode_snapshot(&r->model, msg, r->socket, why);
        if (!s)
            rc = -1;
        else {
            r->synced = true;
            free(r->link_error);
            r->link_error = NULL;
            publish(e, s);
        }
    } else if (strcmp(type->valuestring, "result") == 0) {
        take_result(e, msg);
    } else if (strcmp(type->valuestring, "error") == 0) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(msg, "message");
        rc = tp_err_set(why, "the server refused this client: %s",
                        cJSON_IsString(m) ? m->valuestring : "?");
    } /* other types: from a newer server, ignored */
    cJSON_Delete(msg);
    return rc;
}

/* Read what is there and handle each whole line; -1 when the link is gone. */
static int read_server(engine *e, tp_err *why)
{
    struct remote_link *r = e->remote;
    char buf[65536];
    ssize_t n = read(r->fd, buf, sizeof buf);
    if (n == 0)
        return tp_err_set(why, "the server went away");
    if (n < 0)
        return errno == EAGAIN || errno == EINTR
                   ? 0
                   : tp_err_set(why, "the server at %s: %s", r->socket, strerror(errno));
    strbuf_append(&r->in, buf, (size_t)n);
    size_t start = 0;
    for (;;) {
        char *nl = memchr(r->in.data + start, '\n', r->in.len - start);
        if (!nl)
            break;
        size_t len = (size_t)(nl - (r->in.data + start));
        if (take_line(e, r->in.data + start, len, why) < 0)
            return -1;
        start += len + 1;
    }
    memmove(r->in.data, r->in.data + start, r->in.len - start);
    r->in.len -= start;
    if (r->in.len > WIRE_MAX_LINE)
        return tp_err_set(why, "the server sent a line longer than %u bytes", WIRE_MAX_LINE);
    return 0;
}

static int write_server(struct remote_link *r, tp_err *why)
{
    while (r->out_done < r->out.len) {
        ssize_t n = send(r->fd, r->out.data + r->out_done, r->out.len - r->out_done,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0)
            return errno == EAGAIN || errno == EINTR
                       ? 0
                       : tp_err_set(why, "the server at %s: %s", r->socket, strerror(errno));
        r->out_done += (size_t)n;
    }
    r->out.len = r->out_done = 0;
    return 0;
}

/* A --once client is done: its commands answered, the server has finished a cycle. */
static bool once_done(engine *e)
{
    struct remote_link *r = e->remote;
    pthread_mutex_lock(&e->inbox.lock);
    bool asked = e->inbox.wait_called && !e->inbox.queue;
    pthread_mutex_unlock(&e->inbox.lock);
    return asked && r->n_sent == 0 &&
           (r->fd < 0 || (r->synced && r->last && r->last->last_cycle_ns != 0));
}

void *engine_remote_main(void *arg)
{
    engine *e = arg;
    struct remote_link *r = e->remote;
    int64_t retry_at = 0;
    while (!engine_stop_requested(e)) {
        tp_err why = {{0}};
        if (r->fd < 0 && r->reconnect && engine_now_ns() >= retry_at) {
            tp_err cerr = {{0}};
            int fd = connect_to(r->socket, &cerr);
            if (fd >= 0) {
                r->fd = fd;
                fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
                send_hello(r);
            } else {
                retry_at = engine_now_ns() + 500000000LL; /* twice a second */
            }
        }
        struct pending_command *c;
        while ((c = engine_pop_command(e))) {
            send_command(e, c);
            engine_free_command(c);
        }
        if (e->opts.once && once_done(e))
            break;
        struct pollfd pfd[2] = {{e->inbox.cmd_pipe[0], POLLIN, 0}, {r->fd, 0, 0}};
        if (r->fd >= 0)
            pfd[1].events = (short)(POLLIN | (r->out.len > r->out_done ? POLLOUT : 0));
        if (poll(pfd, r->fd >= 0 ? 2 : 1, r->fd >= 0 ? 1000 : 200) < 0 && errno != EINTR)
            break;
        if (pfd[0].revents) {
            char buf[256];
            while (read(e->inbox.cmd_pipe[0], buf, sizeof buf) > 0)
                ;
        }
        if (r->fd < 0)
            continue;
        int rc = 0;
        if (pfd[1].revents & POLLOUT)
            rc = write_server(r, &why);
        if (rc == 0 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)))
            rc = read_server(e, &why);
        if (rc == 0 && r->out.len > r->out_done)
            rc = write_server(r, &why);
        if (rc < 0) {
            link_down(e, why.msg);
            retry_at = engine_now_ns() + 200000000LL;
            if (!r->reconnect)
                break;
        }
    }
    /* Stopped: a last snapshot that says so, as a local engine's. */
    model_snapshot *s = wire_relabel(&r->model, r->last, r->socket, r->link_error);
    s->phase = ENGINE_STOPPED;
    publish(e, s);
    pthread_mutex_lock(&e->inbox.lock);
    e->inbox.finished = true;
    pthread_cond_broadcast(&e->inbox.idle_cond);
    pthread_mutex_unlock(&e->inbox.lock);
    return NULL;
}

/* Wait up to 5 s for the server's hello (so that "no server" and "another protocol" are known
 * before engine_attach returns). */
static int await_hello(engine *e, tp_err *err)
{
    struct remote_link *r = e->remote;
    int64_t deadline = engine_now_ns() + 5000000000LL;
    while (engine_now_ns() < deadline) {
        if (write_server(r, err) < 0)
            return -1;
        struct pollfd pfd = {r->fd, POLLIN, 0};
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        char c;
        ssize_t n = read(r->fd, &c, 1); /* byte by byte: only the hello line, the rest waits */
        if (n <= 0)
            return n < 0 && errno == EAGAIN
                       ? 0
                       : tp_err_set(err, "the server at %s closed the connection", r->socket);
        if (c != '\n') {
            strbuf_putc(&r->in, c);
            if (r->in.len > 4096)
                return tp_err_set(err, "%s does not speak tagpilot's protocol", r->socket);
            continue;
        }
        int rc = take_line(e, r->in.data, r->in.len, err);
        r->in.len = 0;
        return rc;
    }
    return tp_err_set(err, "the server at %s did not answer within 5 s", r->socket);
}

engine *engine_attach(const engine_options *opts, const char *socket_path, bool reconnect,
                      tp_err *err)
{
    int fd = connect_to(socket_path, err);
    if (fd == -2)
        err->msg[0] = '\0'; /* no server: not an error */
    if (fd < 0)
        return NULL;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    engine *e = xcalloc(1, sizeof *e);
    e->opts = *opts;
    e->cfg = opts->config;
    e->inbox.wake_pipe[0] = e->inbox.wake_pipe[1] = e->inbox.cmd_pipe[0] = e->inbox.cmd_pipe[1] =
        -1;
    struct remote_link *r = xcalloc(1, sizeof *r);
    r->socket = xstrdup(socket_path);
    r->reconnect = reconnect;
    r->fd = fd;
    e->remote = r;
    pthread_mutex_init(&e->inbox.lock, NULL);
    pthread_cond_init(&e->inbox.idle_cond, NULL);
    if (pipe2(e->inbox.wake_pipe, O_NONBLOCK | O_CLOEXEC) != 0 ||
        pipe2(e->inbox.cmd_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
        tp_err_set(err, "cannot create a pipe: %s", strerror(errno));
        engine_stop(e);
        return NULL;
    }
    send_hello(r);
    if (await_hello(e, err) < 0) {
        engine_stop(e);
        return NULL;
    }
    /* Until the first snapshot: an empty table that says where it comes from. */
    publish(e, wire_relabel(&r->model, NULL, r->socket, NULL));
    int rc = pthread_create(&e->thread, NULL, engine_remote_main, e);
    if (rc != 0) {
        tp_err_set(err, "cannot start the client thread: %s", strerror(rc));
        engine_stop(e);
        return NULL;
    }
    e->thread_started = true;
    return e;
}

int engine_attach_history(const char *socket_path, char **records, tp_err *err)
{
    *records = NULL;
    int fd = connect_to(socket_path, err);
    if (fd == -2)
        return 0;
    if (fd < 0)
        return -1;
    const char req[] = "{\"type\":\"hello\",\"protocol\":1}\n{\"type\":\"history\",\"id\":1}\n";
    if (send(fd, req, sizeof req - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof req - 1)) {
        close(fd);
        return tp_err_set(err, "the server at %s: %s", socket_path, strerror(errno));
    }
    strbuf in = {0};
    int rc = 0;
    struct pollfd pfd = {fd, POLLIN, 0};
    int64_t deadline = engine_now_ns() + 30000000000LL;
    while (rc == 0 && !*records) {
        if (engine_now_ns() > deadline) {
            rc = tp_err_set(err, "the server at %s did not answer within 30 s", socket_path);
            break;
        }
        if (poll(&pfd, 1, 1000) <= 0)
            continue;
        char buf[65536];
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) {
            rc = tp_err_set(err, "the server at %s closed the connection", socket_path);
            break;
        }
        strbuf_append(&in, buf, (size_t)n);
        char *nl;
        while (rc == 0 && !*records && (nl = memchr(in.data, '\n', in.len))) {
            cJSON *msg = cJSON_ParseWithLength(in.data, (size_t)(nl - in.data));
            const cJSON *type = cJSON_GetObjectItemCaseSensitive(msg, "type");
            const char *t = cJSON_IsString(type) ? type->valuestring : "";
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(
                msg, strcmp(t, "error") == 0 ? "message" : "error");
            if (cJSON_IsString(m))
                rc = tp_err_set(err, "the server at %s: %s", socket_path, m->valuestring);
            else if (strcmp(t, "history") == 0)
                *records = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(msg, "records"));
            cJSON_Delete(msg);
            size_t used = (size_t)(nl - in.data) + 1;
            memmove(in.data, in.data + used, in.len - used);
            in.len -= used;
        }
    }
    strbuf_free(&in);
    close(fd);
    return rc < 0 ? -1 : 1;
}
