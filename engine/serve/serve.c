/* serve: the poll loop of `tagpilot serve` — control socket, clients, engine, HTTP. */
#include "serve.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/wire.h"
#include "kube/kube.h"
#include "state/journal.h"

/* A client whose unsent output passes this is disconnected; one that has had output waiting
 * this long without taking any is too (a stopped or hung viewer never holds anything up: its
 * snapshots are coalesced meanwhile, and the engine never waits for a client). */
#define SERVE_QUEUE_MAX (32u << 20)
#define SERVE_STALL_NS  (10LL * 1000000000LL)
#define SERVE_HTTP_MAX  8192
#define SERVE_MAX_CONNS 256

typedef enum conn_kind { CONN_CLIENT, CONN_HTTP } conn_kind;

typedef struct conn {
    conn_kind kind;
    int fd;
    char user[64];
    serve_role role;
    bool greeted;    /* its hello came, ours went */
    bool subscribed; /* wants snapshots */
    bool dirty;      /* a snapshot newer than the last sent */
    bool closing;    /* close once the output is out */
    strbuf in;
    strbuf out;
    size_t out_done;
    int64_t waiting_since; /* output has waited since (0: none waits) */
    wire_sent sent;
} conn;

typedef struct pending_result { /* a command the engine has, for whom */
    uint64_t engine_id;
    int fd;           /* the client's, checked against the conn still there */
    double client_id; /* the id the client gave */
    conn *owner;
} pending_result;

typedef struct server {
    engine *engine;
    const serve_options *opts;
    int unix_fd, http_fd;
    conn *conns[SERVE_MAX_CONNS];
    size_t n_conns;
    model_snapshot *snap;
    pending_result *pending;
    size_t n_pending, cap_pending;
} server;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- listening ---- */

static int make_parent(const char *path, const tp_config *cfg, tp_err *err)
{
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir)
        *slash = '\0';
    struct stat st;
    int rc = 0;
    if (stat(dir, &st) != 0) {
        /* Ours: 0750 when a group may use the socket, else 0700 (the parents must exist). */
        if (mkdir(dir, cfg->serve_group ? 0750 : 0700) != 0)
            rc = tp_err_set(err, "cannot create %s for the socket: %s", dir, strerror(errno));
        else if (cfg->serve_group) {
            struct group *g = getgrnam(cfg->serve_group);
            if (!g || chown(dir, (uid_t)-1, g->gr_gid) != 0 || chmod(dir, 0750) != 0)
                rc = tp_err_set(err, "%s: cannot give it to group %s", dir, cfg->serve_group);
        }
    } else if (!S_ISDIR(st.st_mode)) {
        rc = tp_err_set(err, "%s is not a folder", dir);
    }
    free(dir);
    return rc;
}

int serve_refuse_live(const char *path, tp_err *err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path)
        return tp_err_set(err, "socket path too long: %s", path);
    strcpy(sa.sun_path, path);
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool live = probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (probe >= 0)
        close(probe);
    return live ? tp_err_set(err, "a tagpilot server already answers on %s", path) : 0;
}

static int listen_unix(const char *path, const tp_config *cfg, tp_err *err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path)
        return tp_err_set(err, "socket path too long: %s", path);
    strcpy(sa.sun_path, path);
    if (make_parent(path, cfg, err) < 0)
        return -1;
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return tp_err_set(err, "%s exists and is not a socket: not replaced", path);
        /* A live server answers; a dead one's socket is refused at connect and replaced. */
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bool live = probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0;
        if (probe >= 0)
            close(probe);
        if (live)
            return tp_err_set(err, "a tagpilot server already answers on %s", path);
        if (unlink(path) != 0)
            return tp_err_set(err, "cannot remove the stale socket %s: %s", path, strerror(errno));
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return tp_err_set(err, "socket: %s", strerror(errno));
    /* 0770 from the start (no window in which another mode holds). */
    mode_t old = umask(0007);
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (rc != 0 || listen(fd, 64) != 0) {
        int saved = errno;
        close(fd);
        return tp_err_set(err, "cannot listen on %s: %s", path, strerror(saved));
    }
    if (cfg->serve_group) {
        struct group *g = getgrnam(cfg->serve_group);
        if (!g || chown(path, (uid_t)-1, g->gr_gid) != 0) {
            close(fd);
            unlink(path);
            return tp_err_set(err, "serve.group: cannot give %s to group %s", path,
                              cfg->serve_group);
        }
    }
    return fd;
}

static int listen_http(const char *spec, tp_err *err)
{
    if (!spec || !*spec || strcmp(spec, "off") == 0)
        return -2; /* none wanted */
    const char *colon = strrchr(spec, ':');
    if (!colon)
        return tp_err_set(err, "serve.listen: '%s' is not HOST:PORT", spec);
    char *host = xstrndup(spec, (size_t)(colon - spec));
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int gai = getaddrinfo(*host ? host : NULL, colon + 1, &hints, &ai);
    free(host);
    if (gai != 0)
        return tp_err_set(err, "serve.listen: %s: %s", spec, gai_strerror(gai));
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 16) != 0) {
        int saved = errno;
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return tp_err_set(err, "serve.listen: cannot listen on %s: %s", spec, strerror(saved));
    }
    freeaddrinfo(ai);
    return fd;
}

/* ---- connections ---- */

static void conn_close(server *sv, size_t i)
{
    conn *c = sv->conns[i];
    for (size_t k = 0; k < sv->n_pending; k++)
        if (sv->pending[k].owner == c)
            sv->pending[k].owner = NULL; /* its result has no one to go to */
    close(c->fd);
    strbuf_free(&c->in);
    strbuf_free(&c->out);
    wire_sent_free(&c->sent);
    free(c);
    sv->conns[i] = sv->conns[--sv->n_conns];
}

static void queue_json(conn *c, cJSON *msg)
{
    char *text = cJSON_PrintUnformatted(msg);
    strbuf_puts(&c->out, text);
    strbuf_putc(&c->out, '\n');
    free(text);
    cJSON_Delete(msg);
}

static void queue_error(conn *c, const char *message)
{
    cJSON *msg = cJSON_CreateObject();
    cJSON_AddStringToObject(msg, "type", "error");
    cJSON_AddStringToObject(msg, "message", message);
    queue_json(c, msg);
}

static void queue_result(conn *c, double id, const char *kind, bool ok, const char *message,
                         const char *commit)
{
    cJSON *msg = cJSON_CreateObject();
    cJSON_AddStringToObject(msg, "type", "result");
    cJSON_AddNumberToObject(msg, "id", id);
    cJSON_AddStringToObject(msg, "command", kind);
    cJSON_AddBoolToObject(msg, "ok", ok);
    char *clean = str_utf8_sanitize(message ? message : "");
    cJSON_AddStringToObject(msg, "message", clean);
    free(clean);
    if (commit)
        cJSON_AddStringToObject(msg, "commit", commit);
    queue_json(c, msg);
}

static void accept_client(server *sv, int listen_fd, conn_kind kind)
{
    int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return;
    if (sv->n_conns == SERVE_MAX_CONNS) {
        close(fd);
        return;
    }
    conn *c = xcalloc(1, sizeof *c);
    c->kind = kind;
    c->fd = fd;
    sv->conns[sv->n_conns++] = c;
    if (kind == CONN_HTTP)
        return;
    /* Who is it? The kernel says (SO_PEERCRED), whatever the client claims. */
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        queue_error(c, "cannot tell who you are (SO_PEERCRED)");
        c->closing = true;
        return;
    }
    c->role = serve_role_of(sv->opts->config, (unsigned)cred.uid, c->user, sizeof c->user);
    if (c->role == ROLE_NONE) {
        char *why =
            xasprintf("user %s is neither in serve.viewers nor in serve.operators", c->user);
        queue_error(c, why);
        free(why);
        c->closing = true;
    }
}

static void take_history(server *sv, conn *c, const cJSON *msg)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
    cJSON *reply = cJSON_CreateObject();
    cJSON_AddStringToObject(reply, "type", "history");
    cJSON_AddNumberToObject(reply, "id", cJSON_IsNumber(id) ? id->valuedouble : 0);
    tp_err err = {{0}};
    journal *j = NULL;
    const char *dir = config_state_dir(sv->opts->config, &err);
    if (!dir || journal_open(dir, JOURNAL_READ_ONLY, &j, &err) < 0) {
        cJSON_AddStringToObject(reply, "error", err.msg);
    } else {
        cJSON *records = cJSON_AddArrayToObject(reply, "records");
        for (size_t i = 0; i < journal_count(j); i++) {
            char *line = journal_record_to_json(journal_get(j, i));
            cJSON_AddItemToArray(records, cJSON_Parse(line));
            free(line);
        }
    }
    journal_close(j);
    queue_json(c, reply);
}

static void take_command(server *sv, conn *c, const cJSON *msg)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(msg, "command");
    double client_id = cJSON_IsNumber(id) ? id->valuedouble : 0;
    int kind = engine_cmd_kind_of(cJSON_IsString(name) ? name->valuestring : NULL);
    const char *label = kind >= 0 ? engine_cmd_name((engine_cmd_kind)kind) : "unknown";
    if (kind < 0) {
        queue_result(c, client_id, label, false, "unknown command", NULL);
        return;
    }
    /* The role decides, not the client: a viewer's command is refused here, whatever it is. */
    if (c->role != ROLE_OPERATOR) {
        char *why =
            xasprintf("%s refused: %s is a viewer (serve.operators may act)", label, c->user);
        queue_result(c, client_id, label, false, why, NULL);
        free(why);
        return;
    }
    if (kind == CMD_SHUTDOWN || kind == CMD_PAUSE || kind == CMD_RESUME) {
        queue_result(c, client_id, label, false,
                     "refused: the server's engine is stopped or paused by its own operator "
                     "(a signal), not by a client",
                     NULL);
        return;
    }
    const char *const keys[] = {"app", "alias", "tag", "policy", "digest"};
    const char *vals[5] = {0};
    for (size_t i = 0; i < 5; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(msg, keys[i]);
        vals[i] = cJSON_IsString(v) ? v->valuestring : NULL;
    }
    engine_command cmd = {.kind = (engine_cmd_kind)kind,
                          .app = vals[0],
                          .alias = vals[1],
                          .tag = vals[2],
                          .policy = vals[3],
                          .digest = vals[4],
                          .user = c->user};
    uint64_t eid = engine_submit(sv->engine, &cmd);
    if (sv->n_pending == sv->cap_pending) {
        sv->cap_pending = sv->cap_pending ? sv->cap_pending * 2 : 8;
        sv->pending = xrealloc(sv->pending, sv->cap_pending * sizeof *sv->pending);
    }
    sv->pending[sv->n_pending++] = (pending_result){eid, c->fd, client_id, c};
}

/* One line from a client; false: drop it. */
static bool take_line(server *sv, conn *c, const char *line, size_t len)
{
    cJSON *msg = cJSON_ParseWithLength(line, len);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(msg, "type");
    bool keep = true;
    if (!cJSON_IsString(type)) {
        queue_error(c, "expected a JSON object with a type");
        keep = false;
    } else if (strcmp(type->valuestring, "hello") == 0) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(msg, "protocol");
        if (!cJSON_IsNumber(p) || p->valueint != WIRE_PROTOCOL) {
            char *why = xasprintf("this server speaks protocol %d", WIRE_PROTOCOL);
            queue_error(c, why);
            free(why);
            keep = false;
        } else {
            cJSON *hello = cJSON_CreateObject();
            cJSON_AddStringToObject(hello, "type", "hello");
            cJSON_AddNumberToObject(hello, "protocol", WIRE_PROTOCOL);
            cJSON_AddStringToObject(hello, "server", "tagpilot");
            cJSON_AddStringToObject(hello, "user", c->user);
            cJSON_AddStringToObject(hello, "role", serve_role_name(c->role));
            queue_json(c, hello);
            c->greeted = true;
        }
    } else if (!c->greeted) {
        queue_error(c, "say hello first");
        keep = false;
    } else if (strcmp(type->valuestring, "subscribe") == 0) {
        c->subscribed = c->dirty = true;
    } else if (strcmp(type->valuestring, "command") == 0) {
        take_command(sv, c, msg);
    } else if (strcmp(type->valuestring, "history") == 0) {
        take_history(sv, c, msg);
    } else {
        queue_error(c, "unknown message type");
    }
    cJSON_Delete(msg);
    return keep;
}

static size_t attached(const server *sv)
{
    size_t n = 0;
    for (size_t i = 0; i < sv->n_conns; i++)
        n += sv->conns[i]->kind == CONN_CLIENT && sv->conns[i]->greeted;
    return n;
}

static bool read_client(server *sv, conn *c)
{
    char buf[16384];
    ssize_t n = read(c->fd, buf, sizeof buf);
    if (n == 0)
        return false;
    if (n < 0)
        return errno == EAGAIN || errno == EINTR;
    if (c->closing)
        return true; /* refused: what it says no longer matters */
    strbuf_append(&c->in, buf, (size_t)n);
    if (c->kind == CONN_HTTP) {
        if (c->in.len > SERVE_HTTP_MAX)
            return false;
        if (!strstr(c->in.data, "\r\n\r\n") && !strstr(c->in.data, "\n\n"))
            return true;
        kube_tally *kt = sv->opts->kube_tally;
        serve_live live = {
            .clients = attached(sv),
            .leader = serve_lease_leader(sv->opts->lease),
            .kube_requests = kt ? atomic_load_explicit(&kt->requests, memory_order_relaxed) : 0,
            .kube_errors = kt ? atomic_load_explicit(&kt->errors, memory_order_relaxed) : 0,
        };
        char *page = sv->snap ? serve_http_reply(c->in.data, sv->snap, sv->opts->interval_ns, &live)
                              : xstrdup("HTTP/1.1 503 Service Unavailable\r\nContent-Length: "
                                        "0\r\nConnection: close\r\n\r\n");
        strbuf_puts(&c->out, page);
        free(page);
        c->closing = true;
        return true;
    }
    size_t start = 0;
    for (;;) {
        char *nl = memchr(c->in.data + start, '\n', c->in.len - start);
        if (!nl)
            break;
        size_t len = (size_t)(nl - (c->in.data + start));
        if (!take_line(sv, c, c->in.data + start, len)) {
            c->closing = true;
            break;
        }
        start += len + 1;
    }
    memmove(c->in.data, c->in.data + start, c->in.len - start);
    c->in.len -= start;
    return c->in.len <= 65536; /* a client's line is small: a command or a request */
}

/* Send what fits without waiting; false: the client is gone. */
static bool write_client(conn *c, int64_t now)
{
    size_t before = c->out_done;
    while (c->out_done < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->out_done, c->out.len - c->out_done,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            return false;
        }
        c->out_done += (size_t)n;
    }
    if (c->out_done == c->out.len) {
        c->out.len = c->out_done = 0;
        c->waiting_since = 0;
    } else if (c->out_done != before || !c->waiting_since) {
        c->waiting_since = now; /* progress: the stall clock starts again */
    }
    return true;
}

/* ---- the engine's side ---- */

static void take_engine(server *sv)
{
    engine_drain_wake(sv->engine);
    model_snapshot *s = engine_snapshot(sv->engine);
    if (s && (!sv->snap || s->generation != sv->snap->generation)) {
        model_snapshot_unref(sv->snap);
        sv->snap = s;
        for (size_t i = 0; i < sv->n_conns; i++)
            sv->conns[i]->dirty = true;
    } else {
        model_snapshot_unref(s);
    }
    engine_result r;
    while (engine_take_results(sv->engine, &r, 1) == 1) {
        for (size_t k = 0; k < sv->n_pending; k++) {
            pending_result *p = &sv->pending[k];
            if (p->engine_id != r.id)
                continue;
            if (p->owner)
                queue_result(p->owner, p->client_id, engine_cmd_name(r.kind), r.ok, r.message,
                             r.commit);
            sv->pending[k] = sv->pending[--sv->n_pending];
            break;
        }
        engine_result_clear(&r);
    }
}

/* Snapshots go to a client only when its queue is empty: a slow one gets fewer, newer ones. */
static void feed(server *sv, conn *c)
{
    if (c->kind != CONN_CLIENT || !c->subscribed || !c->dirty || c->closing || !sv->snap ||
        c->out.len > c->out_done)
        return;
    wire_encode_snapshot(&c->sent, sv->snap, &c->out);
    c->dirty = false;
}

int serve_run(engine *e, const serve_options *opts, tp_err *err)
{
    server sv = {.engine = e, .opts = opts, .unix_fd = -1, .http_fd = -1};
    sv.unix_fd = listen_unix(opts->socket_path, opts->config, err);
    if (sv.unix_fd < 0)
        return -1;
    sv.http_fd = listen_http(opts->config->serve_listen, err);
    if (sv.http_fd == -1) {
        close(sv.unix_fd);
        unlink(opts->socket_path);
        return -1;
    }
    sv.snap = engine_snapshot(e);
    struct pollfd pfd[4 + SERVE_MAX_CONNS];
    for (;;) {
        int64_t now = now_ns();
        for (size_t i = 0; i < sv.n_conns;) {
            conn *c = sv.conns[i];
            feed(&sv, c);
            bool alive = write_client(c, now);
            bool stalled = c->waiting_since && now - c->waiting_since > SERVE_STALL_NS;
            bool flooded = c->out.len - c->out_done > SERVE_QUEUE_MAX;
            if (!alive || stalled || flooded || (c->closing && c->out.len == 0)) {
                conn_close(&sv, i);
                continue;
            }
            i++;
        }
        size_t n = 0;
        pfd[n++] = (struct pollfd){opts->stop_fd, POLLIN, 0};
        pfd[n++] = (struct pollfd){engine_wake_fd(e), POLLIN, 0};
        pfd[n++] = (struct pollfd){sv.unix_fd, POLLIN, 0};
        pfd[n++] = (struct pollfd){sv.http_fd, POLLIN, 0}; /* -2: ignored by poll */
        if (sv.http_fd < 0)
            pfd[n - 1].fd = -1;
        size_t first_conn = n;
        for (size_t i = 0; i < sv.n_conns; i++)
            pfd[n++] = (struct pollfd){
                sv.conns[i]->fd,
                (short)(POLLIN | (sv.conns[i]->out.len > sv.conns[i]->out_done ? POLLOUT : 0)), 0};
        if (poll(pfd, n, 1000) < 0 && errno != EINTR) {
            tp_err_set(err, "poll: %s", strerror(errno));
            break;
        }
        if (pfd[0].revents)
            break;
        if (pfd[1].revents)
            take_engine(&sv);
        /* Clients first (their indexes are pfd's), then new ones. */
        for (size_t k = sv.n_conns; k-- > 0;) {
            if (!(pfd[first_conn + k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (!read_client(&sv, sv.conns[k]))
                conn_close(&sv, k);
        }
        if (pfd[2].revents)
            accept_client(&sv, sv.unix_fd, CONN_CLIENT);
        if (sv.http_fd >= 0 && pfd[3].revents)
            accept_client(&sv, sv.http_fd, CONN_HTTP);
    }
    while (sv.n_conns)
        conn_close(&sv, 0);
    close(sv.unix_fd);
    unlink(opts->socket_path);
    if (sv.http_fd >= 0)
        close(sv.http_fd);
    model_snapshot_unref(sv.snap);
    free(sv.pending);
    return err->msg[0] ? -1 : 0;
}
