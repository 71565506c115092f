/* selection: time strategy_select (semver, with a constraint) over 100,000 generated tags.
 * Prints "selection_ms MEDIAN", "selection_worst_ms WORST" and the candidate, for
 * tests/bench/bench.sh. Usage: selection [TAGS [RUNS]] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "select/strategy.h"
#include "util.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Tags as a busy repository has them, in the registry's (unsorted) order: mostly M.m.p, some
 * with a v prefix, some pre-releases, some not versions at all. */
static void make_tags(tag_list *tags, size_t count)
{
    unsigned seed = 12345;
    char name[64];
    for (size_t i = 0; i < count; i++) {
        seed = seed * 1103515245u + 12345u;
        unsigned r = (seed >> 8) % 100;
        size_t n = i / 10;
        unsigned major = (unsigned)(n / 100 % 100), minor = (unsigned)(n % 100),
                 patch = (unsigned)(i % 10);
        if (r < 5)
            snprintf(name, sizeof name, "sha-%08x", seed);
        else if (r < 10)
            snprintf(name, sizeof name, "%u.%u.%u-rc.%u", major, minor, patch, r);
        else if (r < 20)
            snprintf(name, sizeof name, "v%u.%u.%u", major, minor, patch);
        else
            snprintf(name, sizeof name, "%u.%u.%u", major, minor, patch);
        tag_list_add(tags, name, NULL, NULL);
    }
    /* shuffle: registries list tags in no useful order */
    for (size_t i = count; i > 1; i--) {
        seed = seed * 1103515245u + 12345u;
        size_t j = (seed >> 4) % i;
        tag_info t = tags->items[i - 1];
        tags->items[i - 1] = tags->items[j];
        tags->items[j] = t;
    }
}

int main(int argc, char **argv)
{
    size_t count = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
    int runs = argc > 2 ? atoi(argv[2]) : 21;
    if (count == 0 || runs <= 0) {
        fprintf(stderr, "usage: selection [TAGS [RUNS]]\n");
        return 2;
    }
    tag_list tags = {0};
    make_tags(&tags, count);
    strategy_params params = {STRATEGY_SEMVER, ">=12.0.0, <42.50.0", NULL, NULL};
    double *ms = xcalloc((size_t)runs, sizeof *ms);
    const char *candidate = "-";
    for (int r = 0; r < runs; r++) {
        strategy_result result = {0};
        tp_err err = {{0}};
        double t0 = now_ms();
        if (strategy_select(&params, &tags, &result, &err) < 0) {
            fprintf(stderr, "selection: %s\n", err.msg);
            return 1;
        }
        ms[r] = now_ms() - t0;
        if (result.candidate >= 0)
            candidate = tags.items[result.candidate].name;
        strategy_result_free(&result);
    }
    qsort(ms, (size_t)runs, sizeof *ms, compare_double);
    printf("selection_ms %.2f\n", ms[runs / 2]);
    printf("selection_worst_ms %.2f\n", ms[runs - 1]);
    printf("selection_tags %zu\n", count);
    printf("selection_runs %d\n", runs);
    printf("selection_candidate %s\n", candidate);
    free(ms);
    tag_list_free(&tags);
    return 0;
}
