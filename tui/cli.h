/* cli: the subcommands main() dispatches to. Each takes argc/argv starting at the subcommand's
 * name and returns the process exit code: 0 ok, 1 the command failed (message on stderr),
 * 2 bad usage. */
#ifndef TP_CLI_H
#define TP_CLI_H

#define CLI_OK     0
#define CLI_FAILED 1
#define CLI_USAGE  2

int cmd_test(int argc, char **argv);
/* The operator console (tui/cmd_console.c); argv[0] is "console" or the program name. */
int cmd_console(int argc, char **argv);
int cmd_run(int argc, char **argv);
/* approve, pin, unpin, rollback, skip: argv[0] names which. */
int cmd_action(int argc, char **argv);
int cmd_history(int argc, char **argv);
/* `tagpilot lint`: the annotations' errors and warnings, file and line each; no registry. */
int cmd_lint(int argc, char **argv);

/* Print "tagpilot: <message>" to stderr and return CLI_USAGE, with a pointer to --help. */
int cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
