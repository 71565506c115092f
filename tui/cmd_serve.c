/* cmd_serve: `tagpilot serve` — the engine headless, as the one writer, with a control socket
 * for consoles and commands (docs/protocol.md) and /metrics and /healthz on serve.listen. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "core/engine.h"
#include "kube/kube.h"
#include "serve/serve.h"

static const char serve_help[] =
    "usage: tagpilot serve [--interval 2m] [--approval manual|auto] [--socket PATH]\n"
    "                      [--listen HOST:PORT|off] [--config F]\n"
    "Run the engine without a screen as the one writer for this config, and let consoles and\n"
    "commands attach to it over a Unix socket: `tagpilot`, approve|pin|unpin|rollback|skip,\n"
    "history and `run --once --dry-run` use it instead of an engine of their own.\n\n"
    "  --socket PATH        the control socket (default: serve.socket, else\n"
    "                       $XDG_RUNTIME_DIR/tagpilot/engine.sock, else <state-dir>/engine.sock)\n"
    "  --listen HOST:PORT   /metrics and /healthz (default: serve.listen, else 127.0.0.1:8081;\n"
    "                       off: none)\n"
    "  --interval D, --approval P  as for `tagpilot run`\n";

enum { OPT_INTERVAL = 256, OPT_APPROVAL, OPT_SOCKET, OPT_LISTEN, OPT_CONFIG };

static const struct option serve_options_long[] = {
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"approval", required_argument, NULL, OPT_APPROVAL},
    {"socket", required_argument, NULL, OPT_SOCKET},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int serve_signal_pipe[2] = {-1, -1};

static void serve_on_signal(int sig)
{
    int saved = errno;
    char byte = (char)sig;
    if (write(serve_signal_pipe[1], &byte, 1) < 0) {
        /* full: a stop is on its way */
    }
    errno = saved;
}

int cmd_serve(int argc, char **argv)
{
    engine_options eo = {0};
    const char *config_path = NULL, *socket_path = NULL, *listen_spec = NULL;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", serve_options_long, NULL)) != -1) {
        switch (c) {
        case OPT_INTERVAL: {
            unsigned seconds;
            if (config_parse_duration(optarg, &seconds) < 0 || seconds == 0)
                return cli_usage_error("serve", "--interval: bad duration '%s' (e.g. 30s, 2m)",
                                       optarg);
            eo.interval_ns = (int64_t)seconds * 1000000000LL;
            break;
        }
        case OPT_APPROVAL:
            if (strcmp(optarg, "auto") == 0)
                eo.approval = ENGINE_POLICY_AUTO;
            else if (strcmp(optarg, "manual") == 0)
                eo.approval = ENGINE_POLICY_MANUAL;
            else
                return cli_usage_error("serve", "--approval must be manual or auto, not '%s'",
                                       optarg);
            break;
        case OPT_SOCKET:
            socket_path = optarg;
            break;
        case OPT_LISTEN:
            listen_spec = optarg;
            break;
        case OPT_CONFIG:
            config_path = optarg;
            break;
        case 'h':
            fputs(serve_help, stdout);
            return CLI_OK;
        case ':':
            return cli_usage_error("serve", "%s needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("serve", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("serve", "unexpected argument '%s'", argv[optind]);

    tp_config cfg;
    tp_err err = {{0}};
    if (config_resolve(config_path, &cfg, &err) < 0) {
        cli_line(stderr, "tagpilot: %s", err.msg);
        return CLI_FAILED;
    }
    if (listen_spec) {
        free(cfg.serve_listen);
        cfg.serve_listen = xstrdup(listen_spec);
    }
    char *sock = socket_path ? xstrdup(socket_path) : config_serve_socket(&cfg, &err);
    if (!sock || pipe2(serve_signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        cli_line(stderr, "tagpilot: %s", sock ? strerror(errno) : err.msg);
        free(sock);
        config_free(&cfg);
        return CLI_FAILED;
    }
    struct sigaction sa = {0};
    sa.sa_handler = serve_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    eo.config = &cfg;
    eo.leased = cfg.lease_name != NULL;
    /* Every Kubernetes client counts into it — the engine's and the lease's, which outlives
     * the engine to release the Lease — so it lives here. */
    kube_tally kube_counts;
    atomic_init(&kube_counts.requests, 0);
    atomic_init(&kube_counts.errors, 0);
    eo.kube_tally = &kube_counts;
    int code = CLI_OK;
    engine *e = serve_refuse_live(sock, &err) < 0 ? NULL : engine_start(&eo, &err);
    serve_lease *lease = NULL;
    if (e && eo.leased && serve_lease_start(&cfg, e, &kube_counts, &lease, &err) < 0) {
        /* the thread never started: nothing to halt */
        engine_stop(e);
        e = NULL;
    }
    if (!e) {
        cli_line(stderr, "tagpilot: %s", err.msg);
        code = CLI_FAILED;
    } else {
        serve_options so = {
            .config = &cfg,
            .socket_path = sock,
            .interval_ns = eo.interval_ns
                               ? eo.interval_ns
                               : (int64_t)(cfg.interval_s ? cfg.interval_s : 120) * 1000000000LL,
            .stop_fd = serve_signal_pipe[0],
            .lease = lease,
            .kube_tally = &kube_counts,
        };
        cli_line(stdout, "tagpilot: serving on %s%s%s", sock,
                 cfg.serve_listen && *cfg.serve_listen && strcmp(cfg.serve_listen, "off") != 0
                     ? ", metrics on http://"
                     : "",
                 cfg.serve_listen && strcmp(cfg.serve_listen, "off") != 0 ? cfg.serve_listen : "");
        if (lease)
            cli_line(stdout, "tagpilot: leader election on lease %s/%s as %s",
                     cfg.lease_namespace ? cfg.lease_namespace : cfg.argocd_namespace,
                     cfg.lease_name, serve_lease_id(lease));
        fflush(stdout);
        if (serve_run(e, &so, &err) < 0) {
            cli_line(stderr, "tagpilot: %s", err.msg);
            code = CLI_FAILED;
        }
        /* The election stops calling into the engine, the engine stops, and only then is the
         * lease released: once it is, another replica may write. */
        serve_lease_halt(lease);
        engine_stop(e);
        serve_lease_stop(lease, true);
    }
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    close(serve_signal_pipe[0]);
    close(serve_signal_pipe[1]);
    free(sock);
    config_free(&cfg);
    return code;
}
