/* cmd_action: `tagpilot approve|pin|unpin|rollback|skip APP[/ALIAS] [TAG]` — the console's
 * actions for scripts, through the same engine code. They never prompt: they act, or refuse
 * with the reason, and print the commit written. */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "core/engine.h"

static const struct {
    const char *name;
    engine_cmd_kind kind;
    int tag;          /* 0 none, 1 optional, 2 required */
    const char *does; /* for --help */
} actions[] = {
    {"approve", CMD_APPROVE, 0,
     "Write the candidate a scan of APP finds now (commit trailer Approved-by:). --digest D\n"
     "refuses unless the tag still points at D, the digest `run --format json` showed.\n"},
    {"pin", CMD_PIN, 2,
     "Write TAG and hold it there: no newer tag is written until unpin (Pinned-by:).\n"},
    {"unpin", CMD_UNPIN, 0,
     "Release the pin: recorded in the journal, nothing is committed; newer tags are\n"
     "offered again.\n"},
    {"rollback", CMD_ROLLBACK, 1,
     "Write TAG (default: the tag before the last write) and pin it (Rolled-back-by:).\n"},
    {"skip", CMD_SKIP, 1,
     "Hold back TAG (default: the current candidate): recorded in the journal, nothing is\n"
     "committed; a newer candidate is offered again.\n"},
};

enum { OPT_CONFIG = 256, OPT_DIGEST };

static const struct option action_options[] = {
    {"config", required_argument, NULL, OPT_CONFIG},
    {"digest", required_argument, NULL, OPT_DIGEST},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* What --digest binds an approval to: a registry's digest of the tag, "sha256:<64 hex>" (the
 * only algorithm registries answer with), compared byte for byte with the one read now. */
static bool digest_valid(const char *s)
{
    if (!str_starts_with(s, "sha256:") || strlen(s) != 7 + 64)
        return false;
    for (const char *p = s + 7; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

int cmd_action(int argc, char **argv)
{
    const char *name = argv[0];
    size_t which = 0;
    while (which < sizeof actions / sizeof *actions && strcmp(actions[which].name, name) != 0)
        which++;
    const char *config_path = NULL, *digest = NULL;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", action_options, NULL)) != -1) {
        switch (c) {
        case OPT_CONFIG:
            config_path = optarg;
            break;
        case OPT_DIGEST:
            if (!digest_valid(optarg))
                return cli_usage_error(name,
                                       "--digest: '%s' is not a digest (want sha256: and 64 "
                                       "lower-case hex digits, as `tagpilot run --format json` "
                                       "prints it)",
                                       optarg);
            digest = optarg;
            break;
        case 'h':
            printf("usage: tagpilot %s APP[/ALIAS]%s [--config F]%s\n", name,
                   actions[which].tag == 2   ? " TAG"
                   : actions[which].tag == 1 ? " [TAG]"
                                             : "",
                   actions[which].kind == CMD_APPROVE ? " [--digest sha256:…]" : "");
            fputs(actions[which].does, stdout);
            return CLI_OK;
        case ':':
            return cli_usage_error(name, "%s needs a value", argv[optind - 1]);
        default:
            return cli_usage_error(name, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (digest && actions[which].kind != CMD_APPROVE)
        return cli_usage_error(name, "--digest is for approve only");
    int positional = argc - optind;
    int max = actions[which].tag ? 2 : 1, min = actions[which].tag == 2 ? 2 : 1;
    if (positional < min || positional > max)
        return cli_usage_error(name, "%s takes APP[/ALIAS]%s", name,
                               actions[which].tag == 2   ? " TAG"
                               : actions[which].tag == 1 ? " [TAG]"
                                                         : "");
    char *app = xstrdup(argv[optind]);
    char *slash = strchr(app, '/');
    const char *alias = NULL;
    if (slash) {
        *slash = '\0';
        alias = slash + 1;
    }
    tp_config cfg;
    tp_err err = {{0}};
    if (config_resolve(config_path, &cfg, &err) < 0) {
        cli_line(stderr, "tagpilot: %s", err.msg);
        free(app);
        return CLI_FAILED;
    }
    engine_options eo = {.config = &cfg, .once = true, .no_auto_writes = true, .only_app = app};
    /* A server for this config does it (it holds the state dir); else an engine of our own. */
    engine *e = cli_attach(&cfg, &eo, false, &err);
    if (!e && !err.msg[0])
        e = engine_start(&eo, &err);
    if (!e) {
        cli_line(stderr, "tagpilot: %s", err.msg);
        config_free(&cfg);
        free(app);
        return CLI_FAILED;
    }
    engine_command cmd = {.kind = actions[which].kind,
                          .app = app,
                          .alias = alias,
                          .tag = positional == 2 ? argv[optind + 1] : NULL,
                          .digest = digest};
    engine_submit(e, &cmd);
    engine_wait(e);
    engine_result r;
    int code = CLI_FAILED;
    if (engine_take_results(e, &r, 1) == 1) {
        if (r.ok) {
            cli_line(stdout, "%s", r.message);
            code = CLI_OK;
        } else {
            cli_line(stderr, "tagpilot: %s", r.message);
        }
        engine_result_clear(&r);
    } else {
        cli_line(stderr, "tagpilot: %s: the engine stopped before answering", name);
    }
    engine_stop(e);
    config_free(&cfg);
    free(app);
    return code;
}
