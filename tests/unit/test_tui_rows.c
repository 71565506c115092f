/* The table's rows: the filter (regex, substring, inverted) and the sorts, over a snapshot built
 * by hand. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "model_build.h"
#include "rows.h"
#include "util.h"

static model_block *image(const char *app, const char *alias, const char *img, image_state st,
                          int64_t checked)
{
    model_block *b = model_block_new();
    model_image *m = model_block_image(b);
    m->app = model_block_str(b, app);
    m->alias = model_block_str(b, alias);
    m->image = model_block_str(b, img);
    m->state = st;
    m->last_check_ns = checked;
    return b;
}

static model_snapshot *sample(void)
{
    model_block *b[] = {
        image("bookstore", "bookstore", "127.0.0.1:5000/amplication/bookstore-application",
              STATE_UPDATE_AVAILABLE, 300),
        image("catalog", "catalog", "127.0.0.1:5000/team/catalog", STATE_UP_TO_DATE, 100),
        image("nightly", "web", "127.0.0.1:5000/team/nightly", STATE_ERROR, 200),
        image("payments", "api", "127.0.0.1:5000/team/payments", STATE_PINNED, 400),
    };
    model_header h = {.generation = 1, .phase = ENGINE_IDLE};
    model_snapshot *s = model_snapshot_new(&h, b, 4);
    for (int i = 0; i < 4; i++)
        model_block_unref(b[i]);
    return s;
}

static void expect(const rows *r, const model_snapshot *s, const char *apps)
{
    strbuf sb = {0};
    for (size_t i = 0; i < r->count; i++)
        strbuf_printf(&sb, "%s%s", i ? " " : "", s->images[r->index[i]]->app);
    cr_assert_str_eq(sb.data ? sb.data : "", apps);
    strbuf_free(&sb);
}

static void filtered(const char *pattern, const char *want)
{
    model_snapshot *s = sample();
    rows r = {0};
    filter_expr *f = filter_new(pattern);
    rows_rebuild(&r, s, f, SORT_APP);
    expect(&r, s, want);
    filter_free(f);
    rows_free(&r);
    model_snapshot_unref(s);
}

Test(filter, empty_matches_everything)
{
    filtered("", "bookstore catalog nightly payments");
}

Test(filter, substring_over_app_image_and_state)
{
    filtered("book", "bookstore");
    filtered("team/", "catalog nightly payments");
    filtered("error", "nightly");
    filtered("api", "payments");               /* the alias */
    filtered("UPDATE-available", "bookstore"); /* case does not matter */
    filtered("zzz", "");
}

Test(filter, regex_and_invert)
{
    filtered("^(catalog|payments)$", "catalog payments");
    filtered("pinned|error", "nightly payments");
    filtered("!team/", "bookstore");
    filtered("!", "bookstore catalog nightly payments");
}

Test(filter, invalid_regex_is_a_substring)
{
    filter_expr *f = filter_new("catalog(");
    cr_assert(filter_is_literal(f));
    cr_assert_str_eq(filter_pattern(f), "catalog(");
    filter_free(f);
    filtered("[", "");
}

Test(sort, by_app_state_age_and_image)
{
    model_snapshot *s = sample();
    rows r = {0};
    rows_rebuild(&r, s, NULL, SORT_APP);
    expect(&r, s, "bookstore catalog nightly payments");
    rows_rebuild(&r, s, NULL, SORT_STATE);
    expect(&r, s, "nightly bookstore payments catalog");
    rows_rebuild(&r, s, NULL, SORT_AGE);
    expect(&r, s, "catalog nightly bookstore payments");
    rows_rebuild(&r, s, NULL, SORT_IMAGE);
    expect(&r, s, "bookstore catalog nightly payments");
    cr_assert_str_eq(rows_sort_name(SORT_STATE), "state");
    cr_assert_eq(rows_find(&r, s, "nightly", NULL), 2);
    cr_assert_eq(rows_find(&r, s, "nightly", "web"), 2);
    cr_assert_eq(rows_find(&r, s, "nightly", "other"), (size_t)-1);
    rows_free(&r);
    model_snapshot_unref(s);
}

Test(sort, ten_thousand_rows_filter_and_sort)
{
    enum { N = 10000 };
    model_block **b = xcalloc(N, sizeof *b);
    for (int i = 0; i < N; i++) {
        char app[32];
        snprintf(app, sizeof app, "app%05d", i);
        b[i] = image(app, "main", "example.com/x", (image_state)(i % STATE_COUNT), N - i);
    }
    model_header h = {.generation = 1};
    model_snapshot *s = model_snapshot_new(&h, b, N);
    for (int i = 0; i < N; i++)
        model_block_unref(b[i]);
    free(b);
    rows r = {0};
    filter_expr *f = filter_new("app0999[0-9]");
    rows_rebuild(&r, s, f, SORT_STATE);
    cr_assert_eq(r.count, 10);
    cr_assert_eq(s->images[r.index[0]]->state, STATE_ERROR);
    filter_free(f);
    rows_rebuild(&r, s, NULL, SORT_AGE);
    cr_assert_eq(r.count, N);
    cr_assert_str_eq(s->images[r.index[0]]->app, "app09999");
    rows_free(&r);
    model_snapshot_unref(s);
}
