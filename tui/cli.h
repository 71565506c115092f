/* cli: the subcommands main() dispatches to. Each takes argc/argv starting at the subcommand's
 * name and returns the process exit code: 0 ok, 1 the command failed (message on stderr),
 * 2 bad usage. */
#ifndef TP_CLI_H
#define TP_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "core/engine.h"

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
/* `tagpilot serve`: the engine headless, with a control socket (docs/protocol.md). */
int cmd_serve(int argc, char **argv);

/* The engine of a `tagpilot serve` answering on the config's socket (engine_attach), or NULL:
 * with err->msg empty when none answers (start an engine of one's own), else why it refused. */
engine *cli_attach(const tp_config *cfg, const engine_options *eo, bool reconnect, tp_err *err);

/* One line to f: formatted, then passed through str_printable (engine/util.h) so nothing in it
 * can move the cursor, start a line or reorder text; then a newline. Every line a subcommand
 * prints that holds a value from a registry, a repository, the journal or an error goes here. */
void cli_line(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print a cJSON tree to stdout (pretty: indented, else one line), with DEL, C1 controls,
 * separators and bidirectional controls inside strings written as \uXXXX: still the same JSON,
 * and safe on a terminal. Strings must be valid UTF-8 (str_utf8_sanitize). */
struct cJSON;
void cli_print_json(const struct cJSON *root, bool pretty);
/* What cli_print_json prints, without the newline (the caller frees). */
char *cli_json_text(const struct cJSON *root, bool pretty);
/* Append s to sb as a JSON string exactly as cli_print_json prints it after str_utf8_sanitize:
 * a bad byte as U+FFFD, quotes, backslashes and C0 controls escaped as cJSON escapes them, and
 * DEL, C1 controls, separators and bidirectional controls as \uXXXX. NULL is null. For reports
 * written straight out rather than built as a tree (`run --once --format json`). */
struct strbuf;
void cli_json_string(struct strbuf *sb, const char *s);

/* Print "tagpilot: <message>" to stderr and return CLI_USAGE, with a pointer to --help. */
int cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
