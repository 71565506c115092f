/* cmd_lint: `tagpilot lint` — every error and warning in the Applications' annotations, with
 * the file and line of the key, one a line, for people and CI. Reads the configured sources
 * (or a folder of manifests) and nothing else: no registry is asked, no state is written. */
#include "cli.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "source/app.h"
#include "source/gitrepo.h"
#include "source/source.h"
#include "util.h"

static const char lint_help[] =
    "usage: tagpilot lint [--dir PATH] [--format text|json] [--config F]\n"
    "Check the Applications' argocd-image-updater annotations, asking no registry: every error\n"
    "and warning with the file and line of its key, one a line.\n\n"
    "  --dir PATH           the Application manifests under PATH (a checkout of the config\n"
    "                       repository, say) instead of the config's sources; no config needed\n"
    "  --format text|json   FILE:LINE: error|warning: MESSAGE lines (default), or JSON\n"
    "Exit 0 when there is no error (warnings alone too), 1 when there is one, 2 bad usage.\n";

enum { OPT_DIR = 256, OPT_FORMAT, OPT_CONFIG };

static const struct option lint_options[] = {
    {"dir", required_argument, NULL, OPT_DIR},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* One finding. file/app are NULL for a file that could not be read (its message names it). */
typedef struct finding {
    const char *file, *app; /* borrowed from the app lists */
    size_t line;
    bool error;
    const char *message; /* borrowed, or in `owned` */
    size_t order;        /* keeps the reading order among equal lines */
} finding;

typedef struct findings {
    finding *items;
    size_t count, cap;
    size_t errors, warnings;
} findings;

static void add(findings *f, const char *file, const char *app, size_t line, bool error,
                const char *message)
{
    if (f->count == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 32;
        f->items = xrealloc(f->items, f->cap * sizeof *f->items);
    }
    f->items[f->count] = (finding){file, app, line, error, message, f->count};
    f->count++;
    if (error)
        f->errors++;
    else
        f->warnings++;
}

static int compare_findings(const void *pa, const void *pb)
{
    const finding *a = pa, *b = pb;
    /* files that could not be read first, then by file and line, then as read */
    int c = (a->file != NULL) - (b->file != NULL);
    if (!c && a->file)
        c = strcmp(a->file, b->file);
    if (!c)
        c = (a->line > b->line) - (a->line < b->line);
    return c ? c : (a->order > b->order) - (a->order < b->order);
}

/* Everything one list says: unreadable files, unusable Applications, annotation messages. */
static void collect(const app_list *list, findings *f)
{
    for (size_t i = 0; i < list->errors.count; i++)
        add(f, NULL, NULL, 0, true, list->errors.items[i]);
    for (size_t a = 0; a < list->count; a++) {
        const argo_app *app = &list->items[a];
        if (app->error) {
            /* app.c writes "FILE:LINE: " before the cause: the location has its own columns */
            char *where = xasprintf("%s:%zu: ", app->file, app->line);
            const char *cause =
                str_starts_with(app->error, where) ? app->error + strlen(where) : app->error;
            add(f, app->file, app->name, app->line, true, cause);
            free(where);
        }
        const app_settings *s = &app->settings;
        for (size_t i = 0; i < s->errors.count; i++)
            add(f, app->file, app->name, s->error_lines[i] ? s->error_lines[i] : app->line, true,
                s->errors.items[i]);
        for (size_t i = 0; i < s->warnings.count; i++)
            add(f, app->file, app->name, s->warning_lines[i] ? s->warning_lines[i] : app->line,
                false, s->warnings.items[i]);
    }
}

static void print_text(const findings *f)
{
    for (size_t i = 0; i < f->count; i++) {
        const finding *x = &f->items[i];
        strbuf sb = {0};
        if (x->file)
            strbuf_printf(&sb, "%s:%zu: %s: %s", x->file, x->line, x->error ? "error" : "warning",
                          x->message);
        else /* the message starts with the file it is about */
            strbuf_printf(&sb, "error: %s", x->message);
        /* repository contents: nothing they hold may drive the terminal */
        cli_line(stdout, "%s", sb.data);
        strbuf_free(&sb);
    }
}

static cJSON *json_str(const char *s)
{
    if (!s)
        return cJSON_CreateNull();
    char *clean = str_utf8_sanitize(s);
    cJSON *v = cJSON_CreateString(clean);
    free(clean);
    return v;
}

static void print_json(const findings *f)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "errors", (double)f->errors);
    cJSON_AddNumberToObject(root, "warnings", (double)f->warnings);
    cJSON *list = cJSON_AddArrayToObject(root, "messages");
    for (size_t i = 0; i < f->count; i++) {
        const finding *x = &f->items[i];
        cJSON *m = cJSON_CreateObject();
        cJSON_AddItemToObject(m, "file", json_str(x->file));
        cJSON_AddItemToObject(m, "line",
                              x->file ? cJSON_CreateNumber((double)x->line) : cJSON_CreateNull());
        cJSON_AddItemToObject(m, "app", json_str(x->app));
        cJSON_AddItemToObject(m, "severity", json_str(x->error ? "error" : "warning"));
        cJSON_AddItemToObject(m, "message", json_str(x->message));
        cJSON_AddItemToArray(list, m);
    }
    cli_print_json(root, true);
    cJSON_Delete(root);
}

/* Read every source, print what their Applications say; the exit code. A source that cannot
 * be read is an error on stderr. */
static int lint_sources(const config_source *sources, size_t n, const tp_config *cfg, bool json)
{
    source_env env = {gitrepo_opts_from(cfg), cfg->argocd_namespace, NULL};
    app_list *lists = xcalloc(n ? n : 1, sizeof *lists);
    findings f = {0};
    size_t failed = 0;
    for (size_t i = 0; i < n; i++) {
        app_source *src = source_new(&sources[i], &env);
        tp_err err = {{0}};
        if (source_open(src, &err) < 0 || source_list_apps(src, &lists[i], &err) < 0) {
            cli_line(stderr, "tagpilot: %s", err.msg);
            failed++;
        }
        source_free(src);
        collect(&lists[i], &f);
    }
    if (f.count) /* qsort wants an array, even for nothing */
        qsort(f.items, f.count, sizeof *f.items, compare_findings);
    if (json)
        print_json(&f);
    else
        print_text(&f);
    int code = f.errors || failed ? CLI_FAILED : CLI_OK;
    free(f.items);
    for (size_t i = 0; i < n; i++)
        app_list_free(&lists[i]);
    free(lists);
    return code;
}

int cmd_lint(int argc, char **argv)
{
    const char *dir = NULL, *config_path = NULL;
    bool json = false;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", lint_options, NULL)) != -1) {
        switch (c) {
        case OPT_DIR:
            dir = optarg;
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0)
                return cli_usage_error("lint", "--format must be text or json, not '%s'", optarg);
            json = strcmp(optarg, "json") == 0;
            break;
        case OPT_CONFIG:
            config_path = optarg;
            break;
        case 'h':
            fputs(lint_help, stdout);
            return CLI_OK;
        case ':':
            return cli_usage_error("lint", "%s needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("lint", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("lint", "unexpected argument '%s'", argv[optind]);
    if (dir && config_path)
        return cli_usage_error("lint", "--dir reads a folder without a config: not both");

    tp_config cfg;
    tp_err err = {{0}};
    int code;
    if (dir) {
        /* a folder of manifests, as CI has a checkout: no config file, no state */
        char resolved[PATH_MAX];
        if (!realpath(dir, resolved)) {
            cli_line(stderr, "tagpilot: lint: %s: no such folder", dir);
            return CLI_FAILED;
        }
        config_defaults(&cfg);
        config_source folder = {.kind = CONFIG_SOURCE_DIR, .url = resolved, .path = ""};
        code = lint_sources(&folder, 1, &cfg, json);
    } else {
        if (config_resolve(config_path, &cfg, &err) < 0) {
            cli_line(stderr, "tagpilot: %s", err.msg);
            return CLI_FAILED;
        }
        code = lint_sources(cfg.sources, cfg.n_sources, &cfg, json);
    }
    config_free(&cfg);
    return code;
}
