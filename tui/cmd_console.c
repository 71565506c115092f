/* cmd_console: `tagpilot [console] [--config F] [--read-only] [--theme NAME|PATH] [--ascii]`. */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "console_loop.h"
#include "keys.h"

static const char console_usage[] =
    "usage: tagpilot [console] [--config F] [--read-only] [--theme NAME|PATH] [--ascii]\n"
    "\n"
    "Open the operator console on the Applications of tagpilot.yaml: every tracked image with\n"
    "its current and candidate tag; approve, pin, roll back or skip with a key (each asks first).\n"
    "\n"
    "  --config F        tagpilot.yaml to read (else $TAGPILOT_CONFIG, ./tagpilot.yaml,\n"
    "                    $XDG_CONFIG_HOME/tagpilot/config.yaml)\n"
    "  --read-only       watch only: writing keys are not bound and the engine writes nothing\n"
    "  --theme NAME|PATH default, light, high-contrast, monochrome, or a theme file\n"
    "                    (else $TAGPILOT_THEME, the config's theme:, default); NO_COLOR=1 drops\n"
    "                    colour\n"
    "  --ascii           no UTF-8 symbols or box drawing\n"
    "  --help-keys       print the key table (Markdown) and exit\n";

int cmd_console(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"read-only", no_argument, NULL, 'r'},
        {"theme", required_argument, NULL, 't'},
        {"ascii", no_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {"help-keys", no_argument, NULL, 'k'},
        {NULL, 0, NULL, 0},
    };
    console_options opts = {0};
    const char *config_path = NULL;
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config_path = optarg;
            break;
        case 'r':
            opts.read_only = true;
            break;
        case 't':
            opts.theme = optarg;
            break;
        case 'a':
            opts.ascii = true;
            break;
        case 'h':
            fputs(console_usage, stdout);
            return CLI_OK;
        case 'k':
            keys_print_markdown(stdout);
            return CLI_OK;
        case ':':
            return cli_usage_error("console", "%s needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("console", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc && strcmp(argv[optind], "console") == 0)
        optind++;
    if (optind < argc)
        return cli_usage_error("console", "unexpected argument '%s'", argv[optind]);

    tp_config cfg;
    tp_err err = {{0}};
    if (config_resolve(config_path, &cfg, &err) < 0) {
        cli_line(stderr, "tagpilot: %s", err.msg);
        return CLI_FAILED;
    }
    if (!cfg.file && cfg.n_sources == 0) {
        fprintf(stderr, "tagpilot: no tagpilot.yaml found (--config, $TAGPILOT_CONFIG, "
                        "./tagpilot.yaml or ~/.config/tagpilot/config.yaml); it names where the "
                        "Application manifests live (sources:)\n");
        config_free(&cfg);
        return CLI_FAILED;
    }
    opts.config = &cfg;
    int rc = console_run(&opts, &err);
    config_free(&cfg);
    if (rc < 0) {
        cli_line(stderr, "tagpilot: %s", err.msg);
        return CLI_FAILED;
    }
    return CLI_OK;
}
