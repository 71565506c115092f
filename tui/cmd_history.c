/* cmd_history: `tagpilot history [APP[/ALIAS]] [--format json]` — the journal for people and
 * scripts. Reads without the writer's lock, so it works while an engine runs. */
#include "cli.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "state/journal.h"

enum { OPT_CONFIG = 256, OPT_FORMAT };

static const struct option history_options[] = {
    {"config", required_argument, NULL, OPT_CONFIG},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static bool matches(const journal_record *r, const char *app, const char *alias)
{
    if (app && !str_eq(r->app, app))
        return false;
    return !alias || str_eq(r->alias, alias);
}

/* The records to show: the journal's own, or those a server sent. */
typedef struct record_list {
    const journal_record *const *items;
    size_t count;
} record_list;

static void print_json(const record_list *j, const char *app, const char *alias)
{
    cJSON *list = cJSON_CreateArray();
    for (size_t i = 0; i < j->count; i++) {
        const journal_record *r = j->items[i];
        if (!matches(r, app, alias))
            continue;
        char *line = journal_record_to_json(r);
        cJSON_AddItemToArray(list, cJSON_Parse(line));
        free(line);
    }
    cli_print_json(list, true);
    cJSON_Delete(list);
}

static void print_text(const record_list *j, const char *app, const char *alias)
{
    size_t shown = 0;
    for (size_t i = 0; i < j->count; i++) {
        const journal_record *r = j->items[i];
        if (!matches(r, app, alias))
            continue;
        char target[256];
        snprintf(target, sizeof target, "%s%s%s", r->app ? r->app : "-", r->alias ? "/" : "",
                 r->alias ? r->alias : "");
        char change[256];
        snprintf(change, sizeof change, "%s%s%s", r->from ? r->from : "",
                 r->from && r->to ? " -> " : "", r->to ? r->to : "");
        /* One record, one line: whatever the journal holds is shown, escaped. */
        cli_line(stdout, "%-24.24s %-20s %-10s %-28s %-28s %-8s %.12s%s%s", r->time ? r->time : "",
                 r->user ? r->user : "?", r->action, target, change, r->result ? r->result : "",
                 r->commit ? r->commit : "", r->detail ? "  " : "", r->detail ? r->detail : "");
        shown++;
    }
    if (!shown)
        cli_line(stdout, "no history%s%s", app ? " for " : "", app ? app : "");
}

/* The journal from the config's server: 1 (records in *out), 0 when none answers, -1 (err). */
static int served_records(const tp_config *cfg, journal_record **out, size_t *n, tp_err *err)
{
    tp_err quiet = {{0}};
    char *sock = config_serve_socket(cfg, &quiet);
    char *text = NULL;
    int rc = sock ? engine_attach_history(sock, &text, err) : 0;
    free(sock);
    if (rc <= 0)
        return rc;
    cJSON *list = cJSON_Parse(text);
    free(text);
    size_t cap = (size_t)cJSON_GetArraySize(list);
    *out = xcalloc(cap ? cap : 1, sizeof **out);
    const cJSON *item;
    cJSON_ArrayForEach(item, list)
    {
        char *line = cJSON_PrintUnformatted(item);
        if (journal_record_from_json(line, strlen(line), &(*out)[*n]) == 0)
            (*n)++;
        free(line);
    }
    cJSON_Delete(list);
    return 1;
}

int cmd_history(int argc, char **argv)
{
    const char *config_path = NULL;
    bool json = false;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", history_options, NULL)) != -1) {
        switch (c) {
        case OPT_CONFIG:
            config_path = optarg;
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0)
                return cli_usage_error("history", "--format must be text or json");
            json = strcmp(optarg, "json") == 0;
            break;
        case 'h':
            printf("usage: tagpilot history [APP[/ALIAS]] [--format text|json] [--config F]\n"
                   "The journal, oldest first: who did what and when, from which tag to which,\n"
                   "the commit and the result. Reads while another tagpilot writes.\n");
            return CLI_OK;
        case ':':
            return cli_usage_error("history", "%s needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("history", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind > 1)
        return cli_usage_error("history", "history takes at most one APP[/ALIAS]");
    char *app = argc > optind ? xstrdup(argv[optind]) : NULL;
    char *alias = app ? strchr(app, '/') : NULL;
    if (alias)
        *alias++ = '\0';
    tp_config cfg;
    tp_err err = {{0}};
    journal *j = NULL;
    int code = CLI_OK;
    record_list list = {0};
    journal_record *served = NULL; /* from a server: its state dir may not be ours to read */
    size_t n_served = 0;
    int attached = 0;
    if (config_resolve(config_path, &cfg, &err) < 0) {
        cli_line(stderr, "tagpilot: %s", err.msg);
        code = CLI_FAILED;
    } else if ((attached = served_records(&cfg, &served, &n_served, &err)) < 0) {
        cli_line(stderr, "tagpilot: %s", err.msg);
        code = CLI_FAILED;
    } else if (!attached && (!config_state_dir(&cfg, &err) ||
                             journal_open(cfg.state_dir, JOURNAL_READ_ONLY, &j, &err) < 0)) {
        cli_line(stderr, "tagpilot: %s", err.msg);
        code = CLI_FAILED;
    } else {
        size_t n = attached ? n_served : journal_count(j);
        const journal_record **items = xcalloc(n ? n : 1, sizeof *items);
        for (size_t i = 0; i < n; i++)
            items[i] = attached ? &served[i] : journal_get(j, i);
        list = (record_list){items, n};
        for (size_t i = 0; j && i < journal_warnings(j)->count; i++)
            cli_line(stderr, "tagpilot: warning: %s", journal_warnings(j)->items[i]);
        if (json)
            print_json(&list, app, alias);
        else
            print_text(&list, app, alias);
        free((void *)list.items);
    }
    for (size_t i = 0; i < n_served; i++)
        journal_record_clear(&served[i]);
    free(served);
    journal_close(j);
    config_free(&cfg); /* config_resolve leaves it freeable even when it fails */
    free(app);
    return code;
}
