/* registry/creds: credentials specs (env:, ext:, docker config.json) into user and password. */
#include "registry/creds.h"

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

#define CREDS_MAX_OUTPUT 65536

char *registry_base64_encode(const unsigned char *data, size_t n)
{
    return base64_encode(data, n);
}

unsigned char *registry_base64_decode(const char *text, size_t *out_len)
{
    return base64_decode(text, out_len);
}

static void wipe_free(char *s)
{
    if (!s)
        return;
    volatile char *p = s;
    while (*p)
        *p++ = '\0';
    free(s);
}

void registry_creds_free(registry_creds *c)
{
    if (!c)
        return;
    free(c->username);
    wipe_free(c->password);
    free(c->source);
    memset(c, 0, sizeof *c);
}

int registry_creds_split(const char *text, registry_creds *out)
{
    const char *colon = strchr(text, ':');
    if (!colon)
        return -1;
    free(out->username);
    wipe_free(out->password);
    out->username = xstrndup(text, (size_t)(colon - text));
    out->password = xstrdup(colon + 1);
    return 0;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run an absolute path with no arguments, stdin and stderr on /dev/null; collect stdout. */
static int run_script(const char *spec, const char *path, long timeout_ms, strbuf *out, tp_err *err)
{
    if (path[0] != '/')
        return tp_err_set(err, "credentials '%s': the script path must be absolute", spec);
    if (access(path, X_OK) != 0)
        return tp_err_set(err, "credentials '%s': cannot run %s: %s", spec, path, strerror(errno));
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return tp_err_set(err, "credentials '%s': pipe: %s", spec, strerror(errno));
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return tp_err_set(err, "credentials '%s': fork: %s", spec, strerror(errno));
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 2);
        }
        dup2(fds[1], 1);
        setpgid(0, 0); /* so a timeout can kill what the script started too */
        execl(path, path, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    long long deadline = now_ms() + timeout_ms;
    bool timed_out = false, too_big = false;
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
        int r = poll(&pfd, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            timed_out = r == 0;
            break;
        }
        char buf[4096];
        ssize_t n = read(fds[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (out->len + (size_t)n > CREDS_MAX_OUTPUT) {
            too_big = true;
            break;
        }
        strbuf_append(out, buf, (size_t)n);
    }
    close(fds[0]);
    if (timed_out || too_big) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (timed_out)
        return tp_err_set(err, "credentials '%s': script did not finish within %ld s", spec,
                          timeout_ms / 1000);
    if (too_big)
        return tp_err_set(err, "credentials '%s': script printed more than %d bytes", spec,
                          CREDS_MAX_OUTPUT);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return tp_err_set(err, "credentials '%s': script failed (exit %d)", spec,
                          WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return 0;
}

/* "https://index.docker.io/v1/" -> "index.docker.io" (into buf). */
static void auth_key_host(const char *key, char *buf, size_t len)
{
    const char *p = strstr(key, "://");
    p = p ? p + 3 : key;
    size_t n = strcspn(p, "/");
    if (n >= len)
        n = len - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
}

static bool is_docker_hub(const char *host)
{
    return str_eq(host, "docker.io") || str_eq(host, "registry-1.docker.io") ||
           str_eq(host, "index.docker.io");
}

/* The `auths` entry for host in a docker config (config.json, or a pull secret's
 * .dockerconfigjson), into out; nothing found leaves out empty. label names the file or Secret
 * in messages. */
static int auths_lookup(const char *json, size_t len, const char *label, const char *host,
                        registry_creds *out, tp_err *err)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root)
        return tp_err_set(err, "%s: not valid JSON", label);
    int rc = 0;
    const cJSON *auths = cJSON_GetObjectItemCaseSensitive(root, "auths");
    const cJSON *item;
    cJSON_ArrayForEach(item, auths)
    {
        char key_host[256];
        auth_key_host(item->string ? item->string : "", key_host, sizeof key_host);
        if (!str_eq(key_host, host) && !(is_docker_hub(host) && is_docker_hub(key_host)))
            continue;
        const cJSON *auth = cJSON_GetObjectItemCaseSensitive(item, "auth");
        const cJSON *user = cJSON_GetObjectItemCaseSensitive(item, "username");
        const cJSON *pass = cJSON_GetObjectItemCaseSensitive(item, "password");
        if (cJSON_IsString(auth) && auth->valuestring[0]) {
            size_t plen;
            unsigned char *plain = registry_base64_decode(auth->valuestring, &plen);
            if (!plain || memchr(plain, '\0', plen) || registry_creds_split((char *)plain, out) < 0)
                rc = tp_err_set(err, "%s: auths entry '%s': 'auth' is not base64 of user:password",
                                label, item->string);
            if (plain) {
                memset(plain, 0, plen);
                free(plain);
            }
        } else if (cJSON_IsString(user) && cJSON_IsString(pass)) {
            out->username = xstrdup(user->valuestring);
            out->password = xstrdup(pass->valuestring);
        } else {
            continue; /* e.g. only a credsStore helper: not supported, stay anonymous */
        }
        if (rc == 0)
            out->source = xstrdup(label);
        break;
    }
    cJSON_Delete(root);
    return rc;
}

static int docker_config_lookup(const char *host, registry_creds *out, tp_err *err)
{
    char *path;
    const char *dir = getenv("DOCKER_CONFIG");
    if (dir && *dir)
        path = xasprintf("%s/config.json", dir);
    else if (getenv("HOME"))
        path = xasprintf("%s/.docker/config.json", getenv("HOME"));
    else
        return 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        free(path);
        return 0; /* no docker config: anonymous */
    }
    strbuf sb = {0};
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && sb.len < (1u << 22))
        strbuf_append(&sb, chunk, n);
    fclose(f);
    char *label = xasprintf("docker config %s", path);
    int rc = auths_lookup(sb.data ? sb.data : "", sb.len, label, host, out, err);
    if (sb.data)
        memset(sb.data, 0, sb.len);
    strbuf_free(&sb);
    free(label);
    free(path);
    return rc;
}

/* A Kubernetes name (RFC 1123): what a Secret's namespace and name must be. */
static bool kube_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
              s[i] == '.'))
            return false;
    return true;
}

/* pullsecret:NS/NAME (a kubernetes.io/dockerconfigjson Secret: its auths entry for host) and
 * secret:NS/NAME#FIELD (the field holds user:password), read through secrets. */
static int secret_lookup(const char *spec, const char *host, const registry_secret_reader *secrets,
                         registry_creds *out, tp_err *err)
{
    bool pull = str_starts_with(spec, "pullsecret:");
    const char *ref = spec + (pull ? strlen("pullsecret:") : strlen("secret:"));
    const char *slash = strchr(ref, '/');
    const char *hash = strchr(ref, '#');
    if (!slash || (hash && hash < slash))
        return tp_err_set(err, "credentials '%s': expected %s", spec,
                          pull ? "pullsecret:NAMESPACE/NAME" : "secret:NAMESPACE/NAME#FIELD");
    if (pull == (hash != NULL))
        return tp_err_set(err, "credentials '%s': expected %s", spec,
                          pull ? "pullsecret:NAMESPACE/NAME (no #field)"
                               : "secret:NAMESPACE/NAME#FIELD");
    size_t name_len = hash ? (size_t)(hash - slash - 1) : strlen(slash + 1);
    if (!kube_name_ok(ref, (size_t)(slash - ref)) || !kube_name_ok(slash + 1, name_len) ||
        (hash && !hash[1]))
        return tp_err_set(err, "credentials '%s': not a Kubernetes namespace/name", spec);
    if (!secrets || !secrets->read)
        return tp_err_set(err,
                          "credentials '%s' are read from the cluster, and no kubernetes source "
                          "is configured — add one, or use env:VAR, ext:/script or your docker "
                          "config.json",
                          spec);
    char *ns = xstrndup(ref, (size_t)(slash - ref));
    char *name = xstrndup(slash + 1, name_len);
    const char *field = pull ? ".dockerconfigjson" : hash + 1;
    tp_err why = {{0}};
    char *value = secrets->read(secrets->ud, ns, name, field, &why);
    int rc = 0;
    if (!value) {
        rc = tp_err_set(err, "credentials '%s': %s", spec, why.msg);
    } else if (pull) {
        char *label = xasprintf("pull secret %s/%s", ns, name);
        rc = auths_lookup(value, strlen(value), label, host, out, err);
        if (rc == 0 && !out->username)
            rc = tp_err_set(err, "credentials '%s': the Secret has no auths entry for %s", spec,
                            host);
        free(label);
    } else if (registry_creds_split(value, out) < 0) {
        rc = tp_err_set(err, "credentials '%s': field %s is not user:password", spec, field);
    }
    if (value) {
        memset(value, 0, strlen(value));
        free(value);
    }
    free(ns);
    free(name);
    return rc;
}

int registry_creds_resolve(const char *spec, const char *host, long ext_timeout_ms,
                           const registry_secret_reader *secrets, registry_creds *out, tp_err *err)
{
    memset(out, 0, sizeof *out);
    if (!spec || !*spec) {
        if (docker_config_lookup(host, out, err) < 0) {
            registry_creds_free(out);
            return -1;
        }
        return 0;
    }
    if (str_starts_with(spec, "env:")) {
        const char *var = spec + 4;
        const char *val = getenv(var);
        if (!val || !*val)
            return tp_err_set(err, "credentials '%s': environment variable %s is not set", spec,
                              var);
        if (registry_creds_split(val, out) < 0) {
            registry_creds_free(out);
            return tp_err_set(err, "credentials '%s': value is not user:password", spec);
        }
    } else if (str_starts_with(spec, "ext:")) {
        strbuf sb = {0};
        int rc = run_script(spec, spec + 4, ext_timeout_ms > 0 ? ext_timeout_ms : 10000, &sb, err);
        if (rc == 0) {
            char *text = sb.data ? sb.data : "";
            text = str_trim(text);
            if (strchr(text, '\n'))
                *strchr(text, '\n') = '\0';
            if (registry_creds_split(text, out) < 0)
                rc = tp_err_set(err, "credentials '%s': script output is not user:password", spec);
        }
        if (sb.data)
            memset(sb.data, 0, sb.len);
        strbuf_free(&sb);
        if (rc < 0) {
            registry_creds_free(out);
            return -1;
        }
    } else if (str_starts_with(spec, "pullsecret:") || str_starts_with(spec, "secret:")) {
        if (secret_lookup(spec, host, secrets, out, err) < 0) {
            registry_creds_free(out);
            return -1;
        }
        if (!out->source)
            out->source = xstrdup(spec);
        return 0;
    } else {
        return tp_err_set(err,
                          "credentials '%s': unknown kind (expected env:, ext:, pullsecret: or "
                          "secret:)",
                          spec);
    }
    out->source = xstrdup(spec);
    return 0;
}
