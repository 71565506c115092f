/* main: command-line dispatch. Each subcommand lives in its own cmd_*.c. */
#include "cli.h"

#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#ifndef TAGPILOT_VERSION
#define TAGPILOT_VERSION "0.1.0-dev"
#endif

static const char usage_text[] =
    "usage: tagpilot [console] [--config F] [--read-only] [--theme NAME|PATH] [--ascii]\n"
    "       tagpilot run [--once] [--dry-run] [--interval 2m] [--approval manual|auto]\n"
    "                    [--format text|json]\n"
    "       tagpilot serve [--interval 2m] [--approval manual|auto] [--socket PATH]\n"
    "                    [--listen HOST:PORT|off]\n"
    "       tagpilot test IMAGE [--update-strategy S] [--semver-constraint C] [--allow-tags M]\n"
    "                    [--ignore-tags G]... [--platforms P] [--credentials SPEC]\n"
    "                    [--registries-conf-path F] [--tags-file F|-] [--format text|json]\n"
    "       tagpilot approve APP[/ALIAS] [--digest sha256:…]\n"
    "       tagpilot pin APP[/ALIAS] TAG\n"
    "       tagpilot unpin APP[/ALIAS]\n"
    "       tagpilot rollback|skip APP[/ALIAS] [TAG]\n"
    "       tagpilot history [APP[/ALIAS]] [--format text|json]\n"
    "       tagpilot lint [--dir PATH] [--format text|json]\n"
    "       tagpilot version\n"
    "Every command takes --config F, before or after its name; 'tagpilot COMMAND --help' says\n"
    "more. Exit codes: 0 done, 1 failed or refused (the reason on stderr), 2 bad usage.\n";

int cli_usage_error(const char *command, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    cli_line(stderr, "tagpilot: %s", what);
    fprintf(stderr, "run 'tagpilot %s --help' for usage\n", command ? command : "");
    return CLI_USAGE;
}

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
} command;

static const command commands[] = {
    {"console", cmd_console}, {"test", cmd_test},   {"run", cmd_run},
    {"approve", cmd_action},  {"pin", cmd_action},  {"unpin", cmd_action},
    {"rollback", cmd_action}, {"skip", cmd_action}, {"history", cmd_history},
    {"lint", cmd_lint},       {"serve", cmd_serve},
};

/* Where the command word is: the first argument that is neither an option nor the value of
 * one (--config and --theme take one), or 0 when there is none. */
static int command_index(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0)
            return 0;
        if (a[0] != '-' || a[1] == '\0')
            return i;
        if (strcmp(a, "--config") == 0 || strcmp(a, "--theme") == 0)
            i++;
    }
    return 0;
}

int main(int argc, char **argv)
{
    /* One malloc arena for every thread. The engine thread allocates nearly everything; in an
     * arena of its own (glibc's default for a second thread) the heap grows a page at a time,
     * an mprotect each — 1,300 of them in a 1,000-image scan, some 5 % of its CPU — and what one
     * thread frees the other cannot reuse. The main arena grows by sbrk with padding. */
    mallopt(M_ARENA_MAX, 1);
    /* Options may come before the command (`tagpilot --config F run`): the command word moves
     * to the front and every subcommand parses the options as its own. */
    int word = command_index(argc, argv);
    if (word > 1) {
        char *name = argv[word];
        memmove(argv + 2, argv + 1, (size_t)(word - 1) * sizeof *argv);
        argv[1] = name;
    }
    /* No command, only options: the console, as `tagpilot --read-only` reads. */
    if (argc < 2 || (word == 0 && strcmp(argv[1], "--help") != 0 && strcmp(argv[1], "-h") != 0 &&
                     strcmp(argv[1], "--version") != 0))
        return cmd_console(argc, argv);
    const char *name = argv[1];
    if (strcmp(name, "version") == 0 || strcmp(name, "--version") == 0) {
        printf("tagpilot %s\n", TAGPILOT_VERSION);
        return CLI_OK;
    }
    if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        fputs(usage_text, stdout);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(name, commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    cli_line(stderr, "tagpilot: unknown command '%s'", name);
    fputs(usage_text, stderr);
    return CLI_USAGE;
}
