/* registry_probe: drive the registry client from shell suites with knobs `tagpilot test` does
 * not have (timeouts, caps, repeated lookups, request counters).
 *
 *   registry_probe [--conf F] [--credentials S] [--state DIR] [--strategy S] [--constraint C]
 *                  [--platforms os/arch[/v],…] [--timeout-ms N] [--low-speed-s N]
 *                  [--max-tags N] [--max-body N] [--max-list-bytes N] [--retries N]
 *                  [--deadline-ms N] IMAGE
 *       prints {"tags":[{"tag","digest","created"}],"mismatch":[…],"stats":{…}} (one image_check)
 *   registry_probe --dedupe N [--cycles K] … IMAGE
 *       lists IMAGE's tags N times per cycle for K cycles; prints the stats
 *   registry_probe --ping … IMAGE
 * Exit 0, or 1 with the error on stderr. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/image_check.h"
#include "registry/conf.h"
#include "select/imageref.h"
#include "registry/registry.h"
#include "select/strategy.h"
#include "timefmt.h"

typedef struct probe_params {
    const char *registries_conf_path, *credentials, *state_dir, *constraint;
} probe_params;

static void check_done(void *ud, image_check *c)
{
    (void)c;
    *(bool *)ud = true;
}

static cJSON *stats_json(const registry_stats *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "requests", (double)s->requests);
    cJSON_AddNumberToObject(o, "pings", (double)s->pings);
    cJSON_AddNumberToObject(o, "tag_pages", (double)s->tag_pages);
    cJSON_AddNumberToObject(o, "manifest_heads", (double)s->manifest_heads);
    cJSON_AddNumberToObject(o, "manifest_gets", (double)s->manifest_gets);
    cJSON_AddNumberToObject(o, "blob_gets", (double)s->blob_gets);
    cJSON_AddNumberToObject(o, "token_fetches", (double)s->token_fetches);
    cJSON_AddNumberToObject(o, "retries", (double)s->retries);
    cJSON_AddNumberToObject(o, "meta_cache_hits", (double)s->meta_cache_hits);
    cJSON_AddNumberToObject(o, "tag_list_dedup", (double)s->tag_list_dedup);
    cJSON_AddNumberToObject(o, "connections", (double)s->connections);
    cJSON_AddNumberToObject(o, "http2_responses", (double)s->http2_responses);
    return o;
}

static void print_json(cJSON *o)
{
    char *text = cJSON_PrintUnformatted(o);
    puts(text);
    cJSON_free(text);
    cJSON_Delete(o);
}

static int parse_platforms(const char *s, platform **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    char *copy = xstrdup(s);
    for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ",")) {
        char *os = tok, *arch = strchr(tok, '/');
        if (!arch) {
            free(copy);
            return -1;
        }
        *arch++ = '\0';
        char *variant = strchr(arch, '/');
        if (variant)
            *variant++ = '\0';
        *out = xrealloc(*out, (*n + 1) * sizeof **out);
        (*out)[(*n)++] = (platform){xstrdup(os), xstrdup(arch), xstrdup(variant)};
    }
    free(copy);
    return 0;
}

typedef struct dedupe_ctx {
    size_t answers;
    size_t tags;
    tp_err err;
    bool failed;
} dedupe_ctx;

static void on_tags(void *ud, const strvec *tags, const tp_err *err)
{
    dedupe_ctx *d = ud;
    d->answers++;
    if (err) {
        d->failed = true;
        d->err = *err;
    } else {
        d->tags = tags->count;
    }
}

static void on_ping(void *ud, const tp_err *err)
{
    dedupe_ctx *d = ud;
    d->answers++;
    if (err) {
        d->failed = true;
        d->err = *err;
    }
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"conf", required_argument, NULL, 'c'},
        {"credentials", required_argument, NULL, 'C'},
        {"state", required_argument, NULL, 's'},
        {"strategy", required_argument, NULL, 'S'},
        {"constraint", required_argument, NULL, 'k'},
        {"platforms", required_argument, NULL, 'p'},
        {"timeout-ms", required_argument, NULL, 't'},
        {"low-speed-s", required_argument, NULL, 'l'},
        {"max-tags", required_argument, NULL, 'm'},
        {"max-body", required_argument, NULL, 'b'},
        {"retries", required_argument, NULL, 'r'},
        {"max-list-bytes", required_argument, NULL, 'B'},
        {"deadline-ms", required_argument, NULL, 'D'},
        {"dedupe", required_argument, NULL, 'd'},
        {"cycles", required_argument, NULL, 'y'},
        {"ping", no_argument, NULL, 'P'},
        {NULL, 0, NULL, 0},
    };
    registry_options tuning = {0};
    probe_params p = {0};
    const char *strategy = "semver";
    platform *platforms = NULL;
    size_t n_platforms = 0;
    int dedupe = 0, cycles = 1, opt;
    bool ping = false;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            p.registries_conf_path = optarg;
            break;
        case 'C':
            p.credentials = optarg;
            break;
        case 's':
            p.state_dir = optarg;
            break;
        case 'S':
            strategy = optarg;
            break;
        case 'k':
            p.constraint = optarg;
            break;
        case 'p':
            if (parse_platforms(optarg, &platforms, &n_platforms) < 0) {
                fprintf(stderr, "bad --platforms\n");
                return 2;
            }
            break;
        case 't':
            tuning.total_timeout_ms = atol(optarg);
            break;
        case 'l':
            tuning.low_speed_seconds = atol(optarg);
            break;
        case 'm':
            tuning.max_tags = (size_t)atol(optarg);
            break;
        case 'b':
            tuning.max_body = (size_t)atol(optarg);
            break;
        case 'r':
            tuning.max_retries = atoi(optarg);
            break;
        case 'B':
            tuning.max_list_bytes = (size_t)atol(optarg);
            break;
        case 'D':
            tuning.cycle_deadline_ms = atol(optarg);
            break;
        case 'd':
            dedupe = atoi(optarg);
            break;
        case 'y':
            cycles = atoi(optarg);
            break;
        case 'P':
            ping = true;
            break;
        default:
            return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "usage: registry_probe [options] IMAGE\n");
        return 2;
    }
    imageref ref;
    tp_err err;
    if (imageref_parse(argv[optind], &ref, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 2;
    }
    int rc = 0;
    registries_conf conf = {0};
    if (p.registries_conf_path && registries_conf_load(p.registries_conf_path, &conf, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        imageref_free(&ref);
        return 1;
    }
    tuning.conf = p.registries_conf_path ? &conf : NULL;
    tuning.credentials = p.credentials;
    tuning.state_dir = p.state_dir;
    registry_client *c = registry_client_new(&tuning, &err);
    if (!c) {
        fprintf(stderr, "%s\n", err.msg);
        rc = 1;
    } else if (dedupe > 0 || ping) {
        dedupe_ctx d = {0};
        for (int cy = 0; cy < cycles && !d.failed; cy++) {
            if (cy > 0)
                registry_client_begin_cycle(c);
            if (ping)
                registry_ping(c, &ref, on_ping, &d);
            for (int i = 0; i < dedupe; i++)
                registry_list_tags(c, &ref, on_tags, &d);
            if (registry_client_run(c, &err) < 0) {
                d.failed = true;
                d.err = err;
            }
        }
        if (d.failed) {
            fprintf(stderr, "%s\n", d.err.msg);
            rc = 1;
        } else {
            registry_stats st;
            registry_client_stats(c, &st);
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "answers", (double)d.answers);
            cJSON_AddNumberToObject(o, "tags", (double)d.tags);
            long remaining;
            if (registry_client_rate_remaining(c, ref.registry, &remaining))
                cJSON_AddNumberToObject(o, "rate_remaining", (double)remaining);
            cJSON_AddItemToObject(o, "stats", stats_json(&st));
            print_json(o);
        }
    } else {
        /* One image check, as the engine and `tagpilot test` run it. */
        image_check_params cp = {
            .ref = &ref,
            .strategy = strategy_from_name(strategy, NULL),
            .constraint = p.constraint,
            .platforms = platforms,
            .n_platforms = n_platforms,
        };
        bool done = false;
        image_check *check = image_check_start(c, &cp, check_done, &done);
        if (registry_client_run(c, &err) < 0 || !done || image_check_error(check)) {
            fprintf(stderr, "%s\n",
                    image_check_error(check) ? image_check_error(check)->msg
                    : done                   ? err.msg
                                             : "the check did not finish");
            rc = 1;
        } else {
            const tag_list *tags = &image_check_tags(check)->list;
            const strvec *mismatch = image_check_platform_mismatch(check);
            registry_stats st;
            registry_client_stats(c, &st);
            cJSON *o = cJSON_CreateObject();
            cJSON *arr = cJSON_AddArrayToObject(o, "tags");
            for (size_t i = 0; i < tags->count; i++) {
                cJSON *t = cJSON_CreateObject();
                cJSON_AddStringToObject(t, "tag", tags->items[i].name);
                if (tags->items[i].digest)
                    cJSON_AddStringToObject(t, "digest", tags->items[i].digest);
                if (tags->items[i].has_created) {
                    char buf[TIMEFMT_MAX];
                    timefmt_format(tags->items[i].created, buf);
                    cJSON_AddStringToObject(t, "created", buf);
                }
                cJSON_AddItemToArray(arr, t);
            }
            strategy_params sp = {.kind = cp.strategy, .constraint = cp.constraint};
            strategy_result res;
            if (strategy_select(&sp, tags, &res, &err) == 0) {
                const tag_info *cand = res.candidate >= 0 ? &tags->items[res.candidate] : NULL;
                if (cand)
                    cJSON_AddStringToObject(o, "candidate", cand->name);
                else
                    cJSON_AddNullToObject(o, "candidate");
                if (cand && cand->digest)
                    cJSON_AddStringToObject(o, "digest", cand->digest);
                strategy_result_free(&res);
            } else {
                cJSON_AddStringToObject(o, "strategy_error", err.msg);
            }
            cJSON *mm = cJSON_AddArrayToObject(o, "mismatch");
            for (size_t i = 0; i < mismatch->count; i++)
                cJSON_AddItemToArray(mm, cJSON_CreateString(mismatch->items[i]));
            cJSON_AddItemToObject(o, "stats", stats_json(&st));
            print_json(o);
        }
        image_check_free(check);
    }
    registry_client_free(c);
    registries_conf_free(&conf);
    for (size_t i = 0; i < n_platforms; i++) {
        free(platforms[i].os);
        free(platforms[i].arch);
        free(platforms[i].variant);
    }
    free(platforms);
    imageref_free(&ref);
    return rc;
}
