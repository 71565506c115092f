/* kube/exec: exec credential plugins (client.authentication.k8s.io v1 and v1beta1), run as
 * kubectl runs them — no shell, the kubeconfig's args and env, KUBERNETES_EXEC_INFO, stdin
 * closed — with a deadline and bounded output. Their credential never reaches a message. */
#include "kube/internal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define EXEC_MAX_STDOUT  (1u << 20) /* an ExecCredential is a few KiB */
#define EXEC_KEEP_STDERR 8192       /* the tail kept for the message */

void kube_cred_free(kube_cred *cred)
{
    if (!cred)
        return;
    kube_wipe_free(cred->token);
    free(cred->cert_pem);
    kube_wipe_free(cred->key_pem);
    memset(cred, 0, sizeof *cred);
}

bool kube_cred_expired(const kube_cred *cred, tp_time now)
{
    return cred->expires && timefmt_compare(now, cred->expiry) >= 0;
}

static const char *json_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int kube_exec_parse(const char *json, size_t len, const char *api_version, kube_cred *out,
                    tp_err *err)
{
    memset(out, 0, sizeof *out);
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return tp_err_set(err, "printed no JSON object (an ExecCredential was expected)");
    }
    int rc = 0;
    const char *kind = json_str(root, "kind");
    const char *api = json_str(root, "apiVersion");
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(root, "status");
    const char *token = json_str(status, "token");
    const char *cert = json_str(status, "clientCertificateData");
    const char *key = json_str(status, "clientKeyData");
    const char *expiry = json_str(status, "expirationTimestamp");
    if (!str_eq(kind, "ExecCredential"))
        rc = tp_err_set(err, "printed JSON that is not an ExecCredential");
    else if (!str_eq(api, api_version))
        /* kubectl's rule: the plugin answers in the version it was asked for */
        rc = tp_err_set(err, "answered in apiVersion %s, but the kubeconfig asks for %s",
                        api ? "another" : "no", api_version);
    else if (!cJSON_IsObject(status))
        rc = tp_err_set(err, "printed an ExecCredential without a status");
    else if (!cert != !key)
        rc = tp_err_set(err, "gave a client certificate without its key (or a key without it)");
    else if ((!token || !*token) && !cert)
        rc = tp_err_set(err, "gave neither a token nor a client certificate");
    else if (expiry && timefmt_parse(expiry, strlen(expiry), &out->expiry) < 0)
        rc = tp_err_set(err, "expirationTimestamp is not an RFC 3339 time");
    if (rc == 0) {
        out->expires = expiry != NULL;
        out->token = token && *token ? xstrdup(token) : NULL;
        out->cert_pem = xstrdup(cert);
        out->key_pem = xstrdup(key);
    }
    /* the parsed copy holds the secret too */
    if (token)
        memset((char *)token, 0, strlen(token));
    if (key)
        memset((char *)key, 0, strlen(key));
    cJSON_Delete(root);
    return rc;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* KUBERNETES_EXEC_INFO as kubectl sets it: the ExecCredential's spec, with the cluster when the
 * kubeconfig asks for provideClusterInfo. */
static char *exec_info(const kube_exec_config *exec, const kube_config *cfg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", "ExecCredential");
    cJSON_AddStringToObject(o, "apiVersion", exec->api_version);
    cJSON *spec = cJSON_AddObjectToObject(o, "spec");
    cJSON_AddBoolToObject(spec, "interactive", false);
    if (exec->provide_cluster_info && cfg) {
        cJSON *cl = cJSON_AddObjectToObject(spec, "cluster");
        cJSON_AddStringToObject(cl, "server", cfg->server);
        if (cfg->ca_pem) {
            char *b64 = base64_encode((const unsigned char *)cfg->ca_pem, cfg->ca_pem_len);
            cJSON_AddStringToObject(cl, "certificate-authority-data", b64);
            free(b64);
        }
        if (cfg->insecure)
            cJSON_AddBoolToObject(cl, "insecure-skip-tls-verify", true);
    }
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    char *out = xstrdup(text);
    cJSON_free(text);
    return out;
}

/* The environment the plugin gets: ours, with the kubeconfig's env and KUBERNETES_EXEC_INFO
 * set over it. */
static char **exec_env(const kube_exec_config *exec, const char *info)
{
    size_t n = 0;
    while (environ && environ[n])
        n++;
    char **env = xcalloc(n + exec->env_names.count + 2, sizeof *env);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        size_t name_len = strcspn(environ[i], "=");
        bool replaced = name_len == strlen("KUBERNETES_EXEC_INFO") &&
                        !strncmp(environ[i], "KUBERNETES_EXEC_INFO", name_len);
        for (size_t j = 0; j < exec->env_names.count && !replaced; j++)
            replaced = strlen(exec->env_names.items[j]) == name_len &&
                       !strncmp(environ[i], exec->env_names.items[j], name_len);
        if (!replaced)
            env[k++] = xstrdup(environ[i]);
    }
    for (size_t j = 0; j < exec->env_names.count; j++)
        env[k++] = xasprintf("%s=%s", exec->env_names.items[j], exec->env_values.items[j]);
    env[k++] = xasprintf("KUBERNETES_EXEC_INFO=%s", info);
    env[k] = NULL;
    return env;
}

static void free_env(char **env)
{
    for (size_t i = 0; env[i]; i++)
        free(env[i]);
    free(env);
}

/* The last non-empty line of the plugin's stderr, made printable and cut, into buf. */
static void last_line(const strbuf *err_out, char *buf, size_t len)
{
    buf[0] = '\0';
    if (!err_out->data)
        return;
    char *copy = xstrndup(err_out->data, err_out->len);
    char *end = copy + strlen(copy);
    while (end > copy && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
        *--end = '\0';
    char *start = end;
    while (start > copy && start[-1] != '\n')
        start--;
    char *shown = str_printable(start);
    snprintf(buf, len, "%.200s%s", shown, strlen(shown) > 200 ? "..." : "");
    free(shown);
    free(copy);
}

typedef struct exec_io {
    strbuf out, err;
    bool timed_out, too_big;
    int exec_errno; /* execvp's errno, reported through a close-on-exec pipe; 0 when it ran */
} exec_io;

static void collect(pid_t pid, int out_fd, int err_fd, int status_fd, long timeout_ms, exec_io *io)
{
    long long deadline = now_ms() + timeout_ms;
    struct pollfd pfd[3] = {
        {.fd = out_fd, .events = POLLIN},
        {.fd = err_fd, .events = POLLIN},
        {.fd = status_fd, .events = POLLIN},
    };
    while (pfd[0].fd >= 0 || pfd[1].fd >= 0 || pfd[2].fd >= 0) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            io->timed_out = true;
            break;
        }
        int r = poll(pfd, 3, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            break;
        for (int i = 0; i < 3; i++) {
            if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char buf[4096];
            ssize_t n = read(pfd[i].fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                close(pfd[i].fd);
                pfd[i].fd = -1;
                continue;
            }
            if (i == 0) {
                if (io->out.len + (size_t)n > EXEC_MAX_STDOUT) {
                    io->too_big = true;
                    goto done;
                }
                strbuf_append(&io->out, buf, (size_t)n);
            } else if (i == 1) {
                strbuf_append(&io->err, buf, (size_t)n);
                if (io->err.len > 2 * EXEC_KEEP_STDERR) { /* keep the tail */
                    size_t drop = io->err.len - EXEC_KEEP_STDERR;
                    memmove(io->err.data, io->err.data + drop, io->err.len - drop + 1);
                    io->err.len -= drop;
                }
            } else if ((size_t)n >= sizeof(int)) {
                memcpy(&io->exec_errno, buf, sizeof(int));
            }
        }
    }
done:
    for (int i = 0; i < 3; i++)
        if (pfd[i].fd >= 0)
            close(pfd[i].fd);
    if (io->timed_out || io->too_big) {
        kill(-pid, SIGKILL); /* the plugin and whatever it started */
        kill(pid, SIGKILL);
    }
}

int kube_exec_run(const kube_exec_config *exec, const kube_config *cfg, long timeout_ms,
                  kube_cred *out, tp_err *err)
{
    memset(out, 0, sizeof *out);
    char *shown = str_printable(exec->command);
    int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1}, status_pipe[2] = {-1, -1};
    if (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0 ||
        pipe2(status_pipe, O_CLOEXEC) < 0) {
        int e = errno;
        for (int i = 0; i < 2; i++) {
            if (out_pipe[i] >= 0)
                close(out_pipe[i]);
            if (err_pipe[i] >= 0)
                close(err_pipe[i]);
            if (status_pipe[i] >= 0)
                close(status_pipe[i]);
        }
        tp_err_set(err, "exec plugin \"%s\": pipe: %s", shown, strerror(e));
        free(shown);
        return -1;
    }
    char *info = exec_info(exec, cfg);
    char **env = exec_env(exec, info);
    free(info);
    char **argv = xcalloc(exec->args.count + 2, sizeof *argv);
    argv[0] = exec->command;
    for (size_t i = 0; i < exec->args.count; i++)
        argv[i + 1] = exec->args.items[i];
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(out_pipe[1], 1);
        dup2(err_pipe[1], 2);
        setpgid(0, 0); /* so a timeout can kill what the plugin started too */
        execvpe(exec->command, argv, env);
        int e = errno;
        if (write(status_pipe[1], &e, sizeof e) < 0)
            _exit(126);
        _exit(127);
    }
    int fork_errno = errno;
    free(argv);
    free_env(env);
    close(out_pipe[1]);
    close(err_pipe[1]);
    close(status_pipe[1]);
    if (pid < 0) {
        close(out_pipe[0]);
        close(err_pipe[0]);
        close(status_pipe[0]);
        tp_err_set(err, "exec plugin \"%s\": fork: %s", shown, strerror(fork_errno));
        free(shown);
        return -1;
    }
    exec_io io = {0};
    collect(pid, out_pipe[0], err_pipe[0], status_pipe[0], timeout_ms, &io);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    char line[256];
    last_line(&io.err, line, sizeof line);
    int rc = 0;
    if (io.exec_errno) {
        /* the hint is the kubeconfig's text: shown as one printable line */
        char *hint = exec->install_hint ? str_printable(exec->install_hint) : NULL;
        rc = tp_err_set(err, "exec plugin \"%s\": cannot run it: %s%s%.200s", shown,
                        strerror(io.exec_errno), hint ? " — " : "", hint ? hint : "");
        free(hint);
    } else if (io.timed_out) {
        rc = tp_err_set(err, "exec plugin \"%s\" did not finish within %g s%s%s", shown,
                        (double)timeout_ms / 1000, line[0] ? ": " : "", line);
    } else if (io.too_big) {
        rc = tp_err_set(err, "exec plugin \"%s\" printed more than %u bytes", shown,
                        EXEC_MAX_STDOUT);
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        rc = tp_err_set(err, "exec plugin \"%s\" failed (%s %d)%s%s", shown,
                        WIFEXITED(status) ? "exit" : "signal",
                        WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                        line[0] ? ": " : "", line);
    } else if (kube_exec_parse(io.out.data ? io.out.data : "", io.out.len, exec->api_version, out,
                               err) < 0) {
        tp_err_prefix(err, "exec plugin \"%s\"", shown);
        rc = -1;
    }
    if (io.out.data)
        memset(io.out.data, 0, io.out.len);
    strbuf_free(&io.out);
    strbuf_free(&io.err);
    free(shown);
    return rc;
}
