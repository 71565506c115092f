/* cmd_test: `tagpilot test IMAGE …` — which tag would be chosen for this image, and why not the
 * others. Flag names follow argocd-image-updater's `test` command. */
#include "cli.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "annotations.h"
#include "config.h"
#include "core/image_check.h"
#include "select/imageref.h"
#include "registry/conf.h"
#include "registry/registry.h"
#include "select/strategy.h"
#include "select/tagset.h"
#include "select/tagfilter.h"
#include "timefmt.h"

typedef struct test_opts {
    const char *image_arg;
    const char *strategy;
    const char *constraint;
    const char *allow_tags;
    const char *platforms;
    const char *credentials;
    const char *registries_conf;
    const char *tags_file;
    const char *config;
    bool json;
    strvec ignore;
} test_opts;

/* Everything one run works out, so output and clean-up see the same picture. */
typedef struct test_run {
    image_list images;        /* exactly one: the image and any constraint written after it */
    const image_entry *entry; /* images.items[0] */
    const char *constraint;   /* --semver-constraint, else the one after the image */
    strategy_kind kind;
    tagfilter *filter;
    platform *platforms;
    size_t n_platforms;
    tag_table *tags; /* from the registry or a tags file */
    strategy_result result;
    strvec platform_mismatch; /* newest-build tags with no image for the platforms */
    strvec warnings;
} test_run;

static const char test_help[] =
    "usage: tagpilot test IMAGE [options]\n"
    "Which tag would tagpilot choose for IMAGE, and why not the others?\n\n"
    "  IMAGE                        [alias=]image[:constraint], as in an image-list annotation\n"
    "  --update-strategy S          semver (default), newest-build, alphabetical, digest\n"
    "  --semver-constraint C        e.g. '~1.0', '^2', '>=1.2 <2'; for digest: the tag to follow\n"
    "  --allow-tags M               regexp:<re> or any\n"
    "  --ignore-tags G              a glob of tags to ignore (repeatable)\n"
    "  --platforms P                os/arch[/variant],… for newest-build (default: this host's)\n"
    "  --credentials SPEC           env:VAR (holds user:pass) or ext:/abs/script (prints it);\n"
    "                               pullsecret: and secret: need a Kubernetes source (not yet)\n"
    "  --registries-conf-path F     argocd-image-updater registries.conf\n"
    "  --config F                   take registries-conf: from this tagpilot.yaml (the flag\n"
    "                               above wins); nothing else of it is used\n"
    "  --tags-file F|-              read tags from F (one a line, optional TAB created TAB "
    "digest)\n"
    "                               instead of the registry\n"
    "  --format text|json           output format (default text)\n"
    "  --rate-limit N               accepted for argocd-image-updater's command line, and\n"
    "                               ignored (limits come from registries.conf)\n";

enum {
    OPT_STRATEGY = 256,
    OPT_CONSTRAINT,
    OPT_ALLOW,
    OPT_IGNORE,
    OPT_PLATFORMS,
    OPT_CREDS,
    OPT_REGCONF,
    OPT_TAGSFILE,
    OPT_FORMAT,
    OPT_CONFIG,
    OPT_RATE
};

static const struct option test_options[] = {
    {"update-strategy", required_argument, NULL, OPT_STRATEGY},
    {"semver-constraint", required_argument, NULL, OPT_CONSTRAINT},
    {"allow-tags", required_argument, NULL, OPT_ALLOW},
    {"ignore-tags", required_argument, NULL, OPT_IGNORE},
    {"platforms", required_argument, NULL, OPT_PLATFORMS},
    {"credentials", required_argument, NULL, OPT_CREDS},
    {"registries-conf-path", required_argument, NULL, OPT_REGCONF},
    {"tags-file", required_argument, NULL, OPT_TAGSFILE},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"rate-limit", required_argument, NULL, OPT_RATE},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* The specs the registry client knows (registry/creds.h), spelt as the pull-secret annotation
 * must be: a typo is bad usage, not a registry error after the tags were asked for. */
static bool credentials_spec_ok(const char *spec)
{
    bool known = str_starts_with(spec, "env:") || str_starts_with(spec, "ext:") ||
                 str_starts_with(spec, "pullsecret:") || str_starts_with(spec, "secret:");
    return known && annotations_credentials_ok(spec);
}

/* Returns -1 when the process should exit with *code. */
static int parse_options(int argc, char **argv, test_opts *o, int *code)
{
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", test_options, NULL)) != -1) {
        switch (c) {
        case OPT_STRATEGY:
            o->strategy = optarg;
            break;
        case OPT_CONSTRAINT:
            o->constraint = optarg;
            break;
        case OPT_ALLOW:
            o->allow_tags = optarg;
            break;
        case OPT_IGNORE:
            strvec_push(&o->ignore, optarg);
            break;
        case OPT_PLATFORMS:
            o->platforms = optarg;
            break;
        case OPT_CREDS:
            if (!credentials_spec_ok(optarg)) {
                *code = cli_usage_error("test",
                                        "--credentials: '%s' is not a credentials spec (want "
                                        "env:VAR, ext:/abs/script, pullsecret:<ns>/<name> or "
                                        "secret:<ns>/<name>#<field>)",
                                        optarg);
                return -1;
            }
            o->credentials = optarg;
            break;
        case OPT_REGCONF:
            o->registries_conf = optarg;
            break;
        case OPT_TAGSFILE:
            o->tags_file = optarg;
            break;
        case OPT_CONFIG:
            o->config = optarg;
            break;
        case OPT_RATE:
            break; /* accepted for compatibility; limits come from registries.conf */
        case OPT_FORMAT:
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0) {
                *code = cli_usage_error("test", "--format must be text or json, not '%s'", optarg);
                return -1;
            }
            o->json = strcmp(optarg, "json") == 0;
            break;
        case 'h':
            fputs(test_help, stdout);
            *code = CLI_OK;
            return -1;
        case ':':
            *code = cli_usage_error("test", "%s needs a value", argv[optind - 1]);
            return -1;
        default:
            *code = cli_usage_error("test", "unknown option '%s'", argv[optind - 1]);
            return -1;
        }
    }
    if (argc - optind != 1) {
        *code = cli_usage_error("test",
                                argc == optind ? "test needs an IMAGE" : "test takes one IMAGE");
        return -1;
    }
    o->image_arg = argv[optind];
    return 0;
}

static void check_done(void *ud, image_check *c)
{
    (void)c;
    *(bool *)ud = true;
}

/* Tags from the registry, asked as the engine asks them (image_check): the listing, then what
 * the strategy needs. No disk cache: `test` leaves the state dir alone. */
static int fetch_registry(const test_opts *o, test_run *run, tp_err *err)
{
    registries_conf conf = {0};
    bool have_conf = false;
    if (o->registries_conf) {
        if (registries_conf_load(o->registries_conf, &conf, err) < 0)
            return -1;
        have_conf = true;
    }
    registry_options opts = {0};
    opts.conf = have_conf ? &conf : NULL;
    opts.credentials = o->credentials;
    registry_client *client = registry_client_new(&opts, err);
    if (!client) {
        registries_conf_free(&conf);
        return -1;
    }
    image_check_params p = {
        .ref = &run->entry->ref,
        .strategy = run->kind,
        .constraint = run->constraint,
        .filter = run->filter,
        .platforms = run->platforms,
        .n_platforms = run->n_platforms,
    };
    bool done = false;
    image_check *check = image_check_start(client, &p, check_done, &done);
    int rc = registry_client_run(client, err);
    if (rc == 0 && image_check_error(check)) {
        *err = *image_check_error(check);
        rc = -1;
    } else if (rc == 0 && done) {
        run->tags = tag_table_ref(image_check_tags(check));
        const strvec *mismatch = image_check_platform_mismatch(check);
        for (size_t i = 0; i < mismatch->count; i++)
            strvec_push(&run->platform_mismatch, mismatch->items[i]);
    } else if (rc == 0) {
        rc = tp_err_set(err, "registry: the check of %s did not finish", run->entry->ref.name);
    }
    image_check_free(check);
    registry_client_free(client);
    registries_conf_free(&conf);
    return rc;
}

static int prepare(const test_opts *o, test_run *run, tp_err *err)
{
    strvec errors = {0};
    imageref_parse_list(o->image_arg, &run->images, &errors);
    if (errors.count || run->images.count != 1) {
        tp_err_set(err, "invalid image '%s': %s", o->image_arg,
                   errors.count ? errors.items[0] : "want exactly one image");
        strvec_free(&errors);
        return -1;
    }
    strvec_free(&errors);
    run->entry = &run->images.items[0];
    run->constraint = o->constraint ? o->constraint : run->entry->constraint;
    const char *warning = NULL;
    run->kind = strategy_from_name(o->strategy, &warning);
    if (warning && run->kind == STRATEGY_SEMVER && o->strategy &&
        strcmp(o->strategy, "semver") != 0)
        return tp_err_set(err,
                          "unknown update strategy '%s' (want semver, newest-build, "
                          "alphabetical or digest)",
                          o->strategy);
    if (warning)
        strvec_push(&run->warnings, warning);

    run->filter =
        tagfilter_new(o->allow_tags, (const char *const *)o->ignore.items, o->ignore.count);
    if (tagfilter_problem(run->filter))
        return tp_err_set(err, "%s", tagfilter_problem(run->filter));
    if (tagfilter_disables_image(run->filter))
        strvec_push(&run->warnings, "ignore-tags '*' ignores every tag: the image is not updated");

    if (o->platforms &&
        annotations_parse_platforms(o->platforms, &run->platforms, &run->n_platforms, err) < 0)
        return -1;

    if (o->tags_file) {
        run->tags = tag_table_new();
        if (tag_list_read(o->tags_file, &run->tags->list, err) < 0)
            return -1;
    } else if (fetch_registry(o, run, err) < 0) {
        return -1;
    }
    strategy_params params = {run->kind, run->constraint, run->filter, NULL};
    if (strategy_select(&params, &run->tags->list, &run->result, err) < 0)
        return -1;
    strategy_mark_platform_mismatch(&run->result, &run->tags->list, &run->platform_mismatch);
    return 0;
}

static void run_free(test_run *run)
{
    image_list_free(&run->images);
    tagfilter_free(run->filter);
    platforms_free(run->platforms, run->n_platforms);
    tag_table_unref(run->tags);
    strategy_result_free(&run->result);
    strvec_free(&run->platform_mismatch);
    strvec_free(&run->warnings);
}

static const tag_info *candidate_of(const test_run *run)
{
    return run->result.candidate >= 0 ? &run->tags->list.items[run->result.candidate] : NULL;
}

static void add_string(cJSON *obj, const char *key, const char *value)
{
    if (!value) {
        cJSON_AddNullToObject(obj, key);
        return;
    }
    char *clean = str_utf8_sanitize(value);
    cJSON_AddStringToObject(obj, key, clean);
    free(clean);
}

static void print_json(const test_run *run)
{
    cJSON *root = cJSON_CreateObject();
    const tag_info *cand = candidate_of(run);
    add_string(root, "image", run->entry->ref.name);
    add_string(root, "registry", run->entry->ref.registry);
    add_string(root, "repository", run->entry->ref.repository);
    add_string(root, "strategy", strategy_name(run->kind));
    add_string(root, "constraint", run->constraint);
    add_string(root, "candidate", cand ? cand->name : NULL);
    add_string(root, "digest", cand ? cand->digest : NULL);
    cJSON *tags = cJSON_AddArrayToObject(root, "tags");
    char reason[512];
    for (size_t i = 0; i < run->result.count; i++) {
        const tag_verdict *v = &run->result.verdicts[i];
        const tag_info *t = &run->tags->list.items[v->index];
        cJSON *item = cJSON_CreateObject();
        add_string(item, "tag", t->name);
        cJSON_AddBoolToObject(item, "eligible", v->eligible);
        add_string(item, "reason", strategy_reason_text(v, reason, sizeof reason));
        if (t->has_created) {
            char when[TIMEFMT_MAX];
            timefmt_format(t->created, when);
            add_string(item, "created", when);
        }
        if (t->digest)
            add_string(item, "digest", t->digest);
        cJSON_AddItemToArray(tags, item);
    }
    cJSON *warnings = cJSON_AddArrayToObject(root, "warnings");
    for (size_t i = 0; i < run->warnings.count; i++) {
        char *clean = str_utf8_sanitize(run->warnings.items[i]);
        cJSON_AddItemToArray(warnings, cJSON_CreateString(clean));
        free(clean);
    }
    cli_print_json(root, false);
    cJSON_Delete(root);
}

/* One verdict group of the text listing: candidate, then eligible, then the rest. */
static void print_group(const test_run *run, int group, size_t width)
{
    static const char *const labels[] = {"candidate", "eligible", "skipped"};
    char reason[512];
    for (size_t i = 0; i < run->result.count; i++) {
        const tag_verdict *v = &run->result.verdicts[i];
        int g = (ptrdiff_t)v->index == run->result.candidate ? 0 : v->eligible ? 1 : 2;
        if (g != group)
            continue;
        /* Escaped before padding, so the columns count what is shown. */
        char *name = str_printable(run->tags->list.items[v->index].name);
        cli_line(stdout, "  %-*s  %-9s  %s", (int)width, name, labels[g],
                 g == 0 ? "" : strategy_reason_text(v, reason, sizeof reason));
        free(name);
    }
}

static void print_text(const test_run *run)
{
    const tag_info *cand = candidate_of(run);
    cli_line(stdout, "image       %s", run->entry->ref.name);
    if (run->constraint && *run->constraint)
        cli_line(stdout, "strategy    %s, %s '%s'", strategy_name(run->kind),
                 run->kind == STRATEGY_DIGEST ? "following" : "constraint", run->constraint);
    else
        cli_line(stdout, "strategy    %s", strategy_name(run->kind));
    if (cand) {
        cli_line(stdout, "candidate   %s%s%s", cand->name, cand->digest ? "@" : "",
                 cand->digest ? cand->digest : "");
    } else {
        printf("candidate   none (%zu tags, none eligible)\n", run->tags->list.count);
    }
    if (!run->result.count)
        return;
    size_t width = 3;
    for (size_t i = 0; i < run->tags->list.count && width < 40; i++) {
        size_t len = strlen(run->tags->list.items[i].name);
        width = len > width ? (len > 40 ? 40 : len) : width;
    }
    printf("\n  %-*s  %-9s  %s\n", (int)width, "TAG", "VERDICT", "REASON");
    for (int group = 0; group < 3; group++)
        print_group(run, group, width);
}

int cmd_test(int argc, char **argv)
{
    test_opts opts = {0};
    int code = CLI_OK;
    if (parse_options(argc, argv, &opts, &code) < 0) {
        strvec_free(&opts.ignore);
        return code;
    }
    test_run run = {0};
    tp_err err = {{0}};
    /* --config F: the registries as the engine would ask them (--registries-conf-path wins). */
    tp_config cfg;
    config_defaults(&cfg);
    if (opts.config) {
        config_free(&cfg);
        if (config_resolve(opts.config, &cfg, &err) < 0) {
            cli_line(stderr, "tagpilot: %s", err.msg);
            config_free(&cfg);
            strvec_free(&opts.ignore);
            return CLI_FAILED;
        }
        if (!opts.registries_conf)
            opts.registries_conf = cfg.registries_conf;
    }
    if (prepare(&opts, &run, &err) < 0) {
        cli_line(stderr, "tagpilot: %s", err.msg);
        code = CLI_FAILED;
    } else {
        for (size_t i = 0; i < run.warnings.count; i++)
            cli_line(stderr, "tagpilot: warning: %s", run.warnings.items[i]);
        if (opts.json)
            print_json(&run);
        else
            print_text(&run);
    }
    run_free(&run);
    strvec_free(&opts.ignore);
    config_free(&cfg);
    return code;
}
