/* cli: the subcommands main() dispatches to. Each takes argc/argv starting at the subcommand's
 * name and returns the process exit code: 0 ok, 1 the command failed (message on stderr),
 * 2 bad usage. */
#ifndef TP_CLI_H
#define TP_CLI_H

#define CLI_OK 0
#define CLI_FAILED 1
#define CLI_USAGE 2

int cmd_test(int argc, char **argv);

/* Print "tagpilot: <message>" to stderr and return CLI_USAGE, with a pointer to --help. */
int cli_usage_error(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
