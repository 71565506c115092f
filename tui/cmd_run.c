/* cmd_run: `tagpilot run` — the engine without a screen, for cron, CI and daemons. Logs one line
 * per event; `--once --dry-run --format json` prints the plan and writes nothing. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "core/engine.h"

static const char run_help[] =
    "usage: tagpilot run [--once] [--dry-run] [--interval 2m] [--approval manual|auto]\n"
    "                    [--format text|json] [--config F]\n"
    "Scan on a schedule and write what the approval policy allows, without a screen.\n\n"
    "  --once               one cycle, then exit (1 when an image or a source is in error)\n"
    "  --dry-run            decide but write nothing: no commit, no journal record\n"
    "  --interval D         time between cycles (default: the config's interval:, else 2m)\n"
    "  --approval P         manual or auto, for apps without tagpilot.io/approval (default:\n"
    "                       the config's approval:, else manual)\n"
    "  --format text|json   with --once: the plan as a table or as JSON (default text)\n"
    "  --config F           tagpilot.yaml to read (else $TAGPILOT_CONFIG, ./tagpilot.yaml,\n"
    "                       $XDG_CONFIG_HOME/tagpilot/config.yaml)\n"
    "  --max-concurrency N  accepted for argocd-image-updater's command line, and ignored\n";

enum { OPT_ONCE = 256, OPT_DRY, OPT_INTERVAL, OPT_APPROVAL, OPT_FORMAT, OPT_CONFIG, OPT_IGNORED };

static const struct option run_options[] = {
    {"once", no_argument, NULL, OPT_ONCE},
    {"dry-run", no_argument, NULL, OPT_DRY},
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"approval", required_argument, NULL, OPT_APPROVAL},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"max-concurrency", required_argument, NULL, OPT_IGNORED},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int signal_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    char byte = (char)sig;
    if (write(signal_pipe[1], &byte, 1) < 0) {
        /* the pipe is full: a stop is already on its way */
    }
    errno = saved;
}

static void print_new_log(const model_snapshot *s, uint64_t *seen)
{
    uint64_t first = s->log_total - s->n_log; /* event number of log[0], minus one */
    for (size_t i = 0; i < s->n_log; i++)
        if (first + i + 1 > *seen)
            cli_line(stdout, "%s", s->log[i]);
    if (s->log_total > *seen)
        *seen = s->log_total;
    fflush(stdout);
}

/* The plan as JSON, written as it goes (1,000 images as a cJSON tree were 26,000 allocations
 * and a copy). The layout is cJSON's pretty print, tabs and all, as before. */
static void json_field(strbuf *sb, int depth, const char *key, const char *value, bool last)
{
    for (int i = 0; i < depth; i++)
        strbuf_putc(sb, '\t');
    strbuf_putc(sb, '"');
    strbuf_puts(sb, key); /* a literal name */
    strbuf_puts(sb, "\":\t");
    cli_json_string(sb, value);
    strbuf_puts(sb, last ? "\n" : ",\n");
}

/* Lines of text ("a\nb") as an array of strings; [] for NULL. */
static void json_lines(strbuf *sb, const char *text)
{
    strbuf_putc(sb, '[');
    for (const char *p = text; p && *p;) {
        size_t len = strcspn(p, "\n");
        char *line = xstrndup(p, len);
        if (p != text)
            strbuf_puts(sb, ", ");
        cli_json_string(sb, line);
        free(line);
        p += len + (p[len] == '\n');
    }
    strbuf_putc(sb, ']');
}

static void print_plan_json(const model_snapshot *s)
{
    strbuf sb = {0};
    strbuf_puts(&sb, "{\n\t\"applications\":\t[");
    const char *app_name = NULL;
    for (size_t i = 0; i < s->n_images; i++) {
        const model_image *m = s->images[i];
        bool new_app = !app_name || strcmp(app_name, m->app) != 0;
        if (new_app) {
            if (app_name)
                strbuf_puts(&sb, "}]\n\t\t}, ");
            strbuf_puts(&sb, "{\n");
            json_field(&sb, 3, "name", m->app, false);
            strbuf_puts(&sb, "\t\t\t\"images\":\t[");
            app_name = m->app;
        } else {
            strbuf_puts(&sb, "}, ");
        }
        strbuf_puts(&sb, "{\n");
        json_field(&sb, 5, "alias", m->alias, false);
        json_field(&sb, 5, "image", m->image, false);
        json_field(&sb, 5, "current", m->current, false);
        if (m->live) { /* read from a cluster: what runs there, and whether git says the same */
            json_field(&sb, 5, "live", m->live, false);
            strbuf_printf(&sb, "\t\t\t\t\t\"live_differs\":\t%s,\n",
                          str_eq(m->live, m->current) ? "false" : "true");
        }
        json_field(&sb, 5, "candidate", m->candidate, false);
        json_field(&sb, 5, "digest", m->candidate_digest, false);
        json_field(&sb, 5, "state", model_state_name(m->state), false);
        json_field(&sb, 5, "policy", m->policy, false);
        json_field(&sb, 5, "pin", m->pin, false);
        json_field(&sb, 5, "error", m->state == STATE_ERROR ? m->detail : NULL, false);
        json_field(&sb, 5, "detail", m->detail, false);
        strbuf_puts(&sb, "\t\t\t\t\t\"warnings\":\t");
        json_lines(&sb, m->warnings);
        strbuf_puts(&sb, "\n\t\t\t\t");
    }
    if (app_name)
        strbuf_puts(&sb, "}]\n\t\t}");
    strbuf_puts(&sb, "]\n}\n");
    fwrite(sb.data, 1, sb.len, stdout);
    strbuf_free(&sb);
}

static void print_plan_text(const model_snapshot *s)
{
    printf("%-20s %-20s %-14s %-14s %s\n", "APP", "ALIAS", "CURRENT", "CANDIDATE", "STATE");
    for (size_t i = 0; i < s->n_images; i++) {
        const model_image *m = s->images[i];
        cli_line(stdout, "%-20s %-20s %-14s %-14s %s%s%s", m->app, m->alias ? m->alias : "-",
                 m->current ? m->current : "?", m->candidate ? m->candidate : "-",
                 model_state_name(m->state), m->detail ? ": " : "", m->detail ? m->detail : "");
    }
}

/* Sleep until the engine stops (returns 0) or a signal asks us to (returns 1), printing each
 * new log line when print_log. */
static int wait_for_engine(engine *e, bool print_log)
{
    uint64_t seen = 0;
    for (;;) {
        struct pollfd fds[2] = {{engine_wake_fd(e), POLLIN, 0}, {signal_pipe[0], POLLIN, 0}};
        if (poll(fds, 2, -1) < 0 && errno != EINTR)
            return 1;
        if (fds[1].revents)
            return 1;
        engine_drain_wake(e);
        model_snapshot *s = engine_snapshot(e);
        if (print_log)
            print_new_log(s, &seen);
        bool stopped = s->phase == ENGINE_STOPPED;
        model_snapshot_unref(s);
        if (stopped)
            return 0;
    }
}

static int report_once(engine *e, bool json)
{
    model_snapshot *s = engine_snapshot(e);
    int code = CLI_OK;
    if (json)
        print_plan_json(s);
    else
        print_plan_text(s);
    for (size_t i = 0; i < s->n_images; i++)
        if (s->images[i]->state == STATE_ERROR)
            code = CLI_FAILED;
    /* A source that could not be read leaves its images out (or as the read before had them):
     * a script must not take that for a clean run. */
    if (s->source_error) {
        cli_line(stderr, "tagpilot: %s", s->source_error);
        code = CLI_FAILED;
    }
    model_snapshot_unref(s);
    return code;
}

/* SIGTERM/SIGINT end the wait; the engine is then stopped (a write in progress finishes, the
 * rest is abandoned), and only after that are the handlers and their pipe taken down, so a late
 * signal never writes into a descriptor a write-back reused. */
static int catch_signals(void)
{
    if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        fprintf(stderr, "tagpilot: cannot create a pipe: %s\n", strerror(errno));
        return -1;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    return 0;
}

static void release_signals(void)
{
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    close(signal_pipe[0]);
    close(signal_pipe[1]);
}

int cmd_run(int argc, char **argv)
{
    engine_options eo = {0};
    const char *config_path = NULL;
    bool json = false;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", run_options, NULL)) != -1) {
        switch (c) {
        case OPT_ONCE:
            eo.once = true;
            eo.no_diffs = true;    /* the report has no diffs; a console is not watching */
            eo.no_evidence = true; /* nor a tag's reason */
            break;
        case OPT_DRY:
            eo.dry_run = true;
            break;
        case OPT_INTERVAL: {
            unsigned seconds;
            if (config_parse_duration(optarg, &seconds) < 0 || seconds == 0)
                return cli_usage_error("run", "--interval: bad duration '%s' (e.g. 30s, 2m)",
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
                return cli_usage_error("run", "--approval must be manual or auto, not '%s'",
                                       optarg);
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0)
                return cli_usage_error("run", "--format must be text or json, not '%s'", optarg);
            json = strcmp(optarg, "json") == 0;
            break;
        case OPT_CONFIG:
            config_path = optarg;
            break;
        case OPT_IGNORED:
            break;
        case 'h':
            fputs(run_help, stdout);
            return CLI_OK;
        case ':':
            return cli_usage_error("run", "%s needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("run", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("run", "unexpected argument '%s'", argv[optind]);
    if (json && !eo.once)
        return cli_usage_error("run", "--format json needs --once");

    tp_config cfg;
    tp_err err = {{0}};
    if (config_resolve(config_path, &cfg, &err) < 0) {
        cli_line(stderr, "tagpilot: %s", err.msg);
        return CLI_FAILED;
    }
    if (catch_signals() < 0) {
        config_free(&cfg);
        return CLI_FAILED;
    }
    eo.config = &cfg;
    /* A plan with no writes is what a server already has: ask it, not the registries. */
    engine *e = eo.once && eo.dry_run ? cli_attach(&cfg, &eo, false, &err) : NULL;
    if (!e && !err.msg[0])
        e = engine_start(&eo, &err);
    if (!e) {
        cli_line(stderr, "tagpilot: %s", err.msg);
        release_signals();
        config_free(&cfg);
        return CLI_FAILED;
    }
    int code = CLI_OK;
    if (eo.once)
        engine_finish_when_idle(e);
    bool interrupted = wait_for_engine(e, !json) != 0;
    if (interrupted)
        printf("stopping\n");
    else if (eo.once)
        code = report_once(e, json);
    if (eo.once) /* the process ends here */
        engine_stop_exiting(e);
    else
        engine_stop(e);
    release_signals();
    config_free(&cfg);
    return interrupted && eo.once ? CLI_FAILED : code;
}
