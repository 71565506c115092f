/* kubeprobe: drive the Kubernetes client (engine/kube) from shell suites.
 *
 *   kubeprobe [--kubeconfig F] [--context C] [--timeout-ms N] [--max-body N] COMMAND ...
 *     info                              context, user, server and namespace, one a line
 *     list GROUP VERSION PLURAL NS [SEL]  {"resourceVersion","count","names":["ns/name",…]}
 *     get GROUP VERSION PLURAL NS NAME    the object (JSON)
 *     watch GROUP VERSION PLURAL NS RV [--events N] [--timeout-s S] [--stop-ms MS]
 *                                       one line per event, "TYPE ns/name resourceVersion",
 *                                       flushed as it comes; after N events (BOOKMARKs
 *                                       included) it stops; then "end RV"
 *     patch GROUP VERSION PLURAL NS NAME merge|json BODY   the new resourceVersion
 *     secret NS NAME [KEY]              the keys, one a line; with KEY, its value
 *   --repeat N --sleep-ms MS: run the command N times with one client, MS apart (credential
 *   caching); the exit code is the last run's.
 * GROUP "-" is the core API, NS "*" every namespace. Exit 0, else the kube_status as
 * 1 error, 2 not found, 3 conflict, 4 gone, 5 denied (message on stderr); 64 usage. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "kube/kube.h"

static atomic_bool stop_flag;

static void on_alarm(int sig)
{
    (void)sig;
    atomic_store(&stop_flag, true);
}

static int exit_code(kube_status st)
{
    return st == KUBE_OK ? 0 : -(int)st;
}

static int usage(void)
{
    fprintf(stderr, "usage: kubeprobe [--kubeconfig F] [--context C] [--timeout-ms N] "
                    "[--max-body N] info|list|get|watch|patch|secret ...\n");
    return 64;
}

static const char *name_of(const cJSON *o, char *buf, size_t len)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(o, "metadata");
    const cJSON *ns = cJSON_GetObjectItemCaseSensitive(meta, "namespace");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(meta, "name");
    snprintf(buf, len, "%s/%s", cJSON_IsString(ns) ? ns->valuestring : "",
             cJSON_IsString(name) ? name->valuestring : "");
    return buf;
}

typedef struct watch_state {
    long events_left; /* <0: no limit */
} watch_state;

static int on_event(void *ud, const char *type, const cJSON *object)
{
    watch_state *w = ud;
    char name[512];
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(object, "metadata");
    const cJSON *rv = cJSON_GetObjectItemCaseSensitive(meta, "resourceVersion");
    printf("%s %s %s\n", type, name_of(object, name, sizeof name),
           cJSON_IsString(rv) ? rv->valuestring : "-");
    fflush(stdout);
    if (w->events_left > 0)
        w->events_left--;
    return w->events_left == 0;
}

static void print_json(const cJSON *o)
{
    char *text = cJSON_PrintUnformatted(o);
    puts(text);
    cJSON_free(text);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"kubeconfig", required_argument, NULL, 'k'}, {"context", required_argument, NULL, 'c'},
        {"timeout-ms", required_argument, NULL, 't'}, {"max-body", required_argument, NULL, 'b'},
        {"events", required_argument, NULL, 'e'},     {"timeout-s", required_argument, NULL, 's'},
        {"stop-ms", required_argument, NULL, 'S'},    {"repeat", required_argument, NULL, 'r'},
        {"sleep-ms", required_argument, NULL, 'z'},   {NULL, 0, NULL, 0},
    };
    kube_options opts = {0};
    long events = -1, stop_ms = 0, repeat = 1, sleep_ms = 0;
    int timeout_s = 30;
    int ch;
    while ((ch = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
        switch (ch) {
        case 'k':
            opts.kubeconfig = optarg;
            break;
        case 'c':
            opts.context = optarg;
            break;
        case 't':
            opts.timeout_ms = atol(optarg);
            break;
        case 'b':
            opts.max_body = (size_t)atol(optarg);
            break;
        case 'r':
            repeat = atol(optarg);
            break;
        case 'z':
            sleep_ms = atol(optarg);
            break;
        default:
            return usage();
        }
    }
    if (optind >= argc)
        return usage();
    const char *cmd = argv[optind++];
    /* watch options may follow its arguments */
    char *pos[8];
    int npos = 0;
    while (optind < argc) {
        ch = getopt_long(argc, argv, "+", longopts, NULL);
        if (ch == -1) {
            if (npos == 8)
                return usage();
            pos[npos++] = argv[optind++];
            continue;
        }
        if (ch == 'e')
            events = atol(optarg);
        else if (ch == 's')
            timeout_s = atoi(optarg);
        else if (ch == 'S')
            stop_ms = atol(optarg);
        else
            return usage();
    }
    tp_err err = {0};
    kube_client *c = kube_client_new(&opts, &err);
    if (!c) {
        fprintf(stderr, "kubeprobe: %s\n", err.msg);
        return 1;
    }
    kube_status st = KUBE_OK;
    kube_resource r = {0};
    if (npos >= 4 && strcmp(cmd, "secret") != 0) {
        r = (kube_resource){str_eq(pos[0], "-") ? "" : pos[0], pos[1], pos[2], pos[3]};
    }
    for (long run = 0; run < repeat; run++) {
        if (run > 0)
            usleep((useconds_t)sleep_ms * 1000);
        if (str_eq(cmd, "info")) {
            printf("context %s\nuser %s\nserver %s\nnamespace %s\n", kube_client_context(c),
                   kube_client_user(c), kube_client_server(c), kube_client_namespace(c));
        } else if (str_eq(cmd, "list") && (npos == 4 || npos == 5)) {
            cJSON *items = NULL;
            char *rv = NULL;
            st = kube_list(c, &r, npos == 5 ? pos[4] : NULL, &items, &rv, &err);
            if (st == KUBE_OK) {
                cJSON *out = cJSON_CreateObject();
                cJSON_AddStringToObject(out, "resourceVersion", rv);
                cJSON_AddNumberToObject(out, "count", cJSON_GetArraySize(items));
                cJSON *names = cJSON_AddArrayToObject(out, "names");
                const cJSON *it;
                cJSON_ArrayForEach(it, items)
                {
                    char name[512];
                    cJSON_AddItemToArray(names, cJSON_CreateString(name_of(it, name, sizeof name)));
                }
                print_json(out);
                cJSON_Delete(out);
            }
            cJSON_Delete(items);
            free(rv);
        } else if (str_eq(cmd, "get") && npos == 5) {
            cJSON *obj = NULL;
            st = kube_get(c, &r, pos[4], &obj, &err);
            if (obj)
                print_json(obj);
            cJSON_Delete(obj);
        } else if (str_eq(cmd, "watch") && npos == 5) {
            char *rv = xstrdup(pos[4]);
            watch_state w = {events};
            if (stop_ms > 0) {
                signal(SIGALRM, on_alarm);
                struct itimerval it = {{0, 0}, {stop_ms / 1000, (stop_ms % 1000) * 1000}};
                setitimer(ITIMER_REAL, &it, NULL);
            }
            st = kube_watch(c, &r, NULL, &rv, timeout_s, on_event, &w, &stop_flag, &err);
            if (st == KUBE_OK)
                printf("end %s\n", rv);
            free(rv);
        } else if (str_eq(cmd, "patch") && npos == 7) {
            cJSON *obj = NULL;
            st = kube_patch(c, &r, pos[4], str_eq(pos[5], "merge"), pos[6], &obj, &err);
            if (obj) {
                const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
                const cJSON *rv = cJSON_GetObjectItemCaseSensitive(meta, "resourceVersion");
                puts(cJSON_IsString(rv) ? rv->valuestring : "-");
            }
            cJSON_Delete(obj);
        } else if (str_eq(cmd, "secret") && (npos == 2 || npos == 3)) {
            cJSON *data = NULL;
            st = kube_secret(c, pos[0], pos[1], &data, &err);
            const cJSON *kv;
            cJSON_ArrayForEach(kv, data)
            {
                if (npos == 3 && str_eq(kv->string, pos[2]))
                    printf("%s\n", kv->valuestring);
                else if (npos == 2)
                    printf("%s\n", kv->string);
            }
            cJSON_Delete(data);
        } else {
            kube_client_free(c);
            return usage();
        }
        if (st != KUBE_OK)
            fprintf(stderr, "kubeprobe: %s\n", err.msg);
    }
    kube_client_free(c);
    return exit_code(st);
}
