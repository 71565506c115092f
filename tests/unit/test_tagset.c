/* tagset: a verdict set kept in two bytes a tag must say, for every tag, exactly what the full
 * selection said — the same verdict, eligibility, candidate and reason text — and tables must
 * outlive whoever made them while anything points at them. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "model_build.h"
#include "select/tagset.h"

static tag_table *table_of(const char *const *names, size_t n)
{
    strvec sv = {0};
    for (size_t i = 0; i < n; i++)
        strvec_push(&sv, names[i]);
    tag_table *t = tag_table_of(&sv);
    strvec_free(&sv);
    return t;
}

/* Every tag: what the compact set says equals what strategy_select said. */
static void expect_same(const tag_verdicts *v, const strategy_result *r)
{
    cr_assert_eq(tag_verdicts_count(v), r->count);
    cr_expect_eq(v->candidate, r->candidate);
    for (size_t i = 0; i < r->count; i++) {
        char want[256], got[256];
        tag_verdict back = tag_verdicts_get(v, i);
        const tag_verdict *orig = &r->verdicts[i];
        cr_expect_eq(back.index, orig->index);
        cr_expect_eq(back.eligible, orig->eligible, "tag %zu", i);
        cr_expect_eq(back.reason, orig->reason, "tag %zu", i);
        cr_expect_str_eq(strategy_reason_text(&back, got, sizeof got),
                         strategy_reason_text(orig, want, sizeof want), "tag %s",
                         v->table->list.items[i].name);
    }
}

Test(tagset, semver_with_filters_round_trips)
{
    const char *names[] = {"1.0.0", "1.2.0",  "1.2.1-rc.1", "2.0.0",   "latest", "1.1.0-debug",
                           "0.9.0", "v1.3.0", "1.3.0",      "sha-abc", "1.2.9",  "1.2.9-alpine"};
    tag_table *t = table_of(names, sizeof names / sizeof *names);
    const char *ignore[] = {"*-debug", "sha-*"};
    tagfilter *f = tagfilter_new("regexp:^v?[0-9]", ignore, 2);
    strategy_params p = {STRATEGY_SEMVER, "~1.2", f, NULL};
    strategy_result r = {0};
    tp_err err = {{0}};
    cr_assert_eq(strategy_select(&p, &t->list, &r, &err), 0, "%s", err.msg);
    tag_verdicts *v = tag_verdicts_new(t, &r);
    expect_same(v, &r);
    /* The texts are copies: the filter they quote may go first. */
    tagfilter_free(f);
    cr_expect_str_eq(t->list.items[v->candidate].name, "1.2.9");
    /* Each distinct quote once: "~1.2", the two globs and the allow spec. */
    cr_expect_eq(v->n_details, 4);
    char buf[128];
    tag_verdict latest = tag_verdicts_get(v, 4);
    cr_expect_str_eq(strategy_reason_text(&latest, buf, sizeof buf),
                     "rejected by allow-tags regexp:^v?[0-9]");
    tag_verdict debug = tag_verdicts_get(v, 5);
    cr_expect_str_eq(strategy_reason_text(&debug, buf, sizeof buf), "ignored by glob '*-debug'");
    strategy_result_free(&r);
    tag_table_unref(t); /* v still holds it */
    cr_expect_str_eq(v->table->list.items[0].name, "1.0.0");
    tag_verdicts_unref(v);
}

Test(tagset, newest_build_dates_and_platforms_round_trip)
{
    const char *names[] = {"a", "b", "c", "d"};
    tag_table *t = table_of(names, 4);
    t->list.items[0].has_created = true;
    t->list.items[0].created = (tp_time){1000, 0};
    t->list.items[1].has_created = true;
    t->list.items[1].created = (tp_time){1000, 3000};
    t->list.items[1].digest = xstrdup("sha256:bbbb");
    strategy_params p = {STRATEGY_NEWEST_BUILD, NULL, NULL, NULL};
    strategy_result r = {0};
    tp_err err = {{0}};
    cr_assert_eq(strategy_select(&p, &t->list, &r, &err), 0, "%s", err.msg);
    strvec mismatch = {0};
    strvec_push(&mismatch, "d");
    strategy_mark_platform_mismatch(&r, &t->list, &mismatch);
    tag_verdicts *v = tag_verdicts_new(t, &r);
    expect_same(v, &r);
    char buf[128];
    tag_verdict d = tag_verdicts_get(v, 3);
    cr_expect_str_eq(strategy_reason_text(&d, buf, sizeof buf), "no image for the wanted platform");
    tag_verdict c = tag_verdicts_get(v, 2);
    cr_expect_str_eq(strategy_reason_text(&c, buf, sizeof buf), "no build date known");

    /* What the console reads through the model: names, digests, dates and the verdicts. */
    model_block *b = model_block_new();
    model_block_set_tags(b, v);
    tag_verdicts_unref(v);
    tag_table_unref(t);
    const model_image *img = model_block_image(b);
    cr_assert_eq(img->n_tags, 4);
    model_tag tb = model_image_tag(img, 1, buf, sizeof buf);
    cr_expect_str_eq(tb.name, "b");
    cr_expect_str_eq(tb.digest, "sha256:bbbb");
    cr_expect(tb.has_created && tb.created.sec == 1000 && tb.created.nsec == 3000);
    cr_expect(tb.candidate && tb.eligible);
    cr_expect_str_eq(tb.reason, "candidate");
    model_tag ta = model_image_tag(img, 0, NULL, 0);
    cr_expect(!ta.candidate);
    cr_expect_null(ta.reason);
    model_block_unref(b);
    strvec_free(&mismatch);
    strategy_result_free(&r);
}

Test(tagset, same_names_means_same_order_and_content)
{
    const char *names[] = {"1.0.0", "1.1.0", "2.0.0"};
    tag_table *t = table_of(names, 3);
    strvec same = {0}, reordered = {0}, shorter = {0}, changed = {0};
    for (int i = 0; i < 3; i++) {
        strvec_push(&same, names[i]);
        strvec_push(&reordered, names[2 - i]);
        strvec_push(&changed, i == 1 ? "1.1.1" : names[i]);
        if (i < 2)
            strvec_push(&shorter, names[i]);
    }
    cr_expect(tag_table_same_names(t, &same));
    cr_expect_not(tag_table_same_names(t, &reordered));
    cr_expect_not(tag_table_same_names(t, &shorter));
    cr_expect_not(tag_table_same_names(t, &changed));
    strvec empty = {0};
    tag_table *none = tag_table_of(&empty);
    cr_expect(tag_table_same_names(none, &empty));
    cr_expect_not(tag_table_same_names(none, &same));
    tag_table_unref(none);
    tag_table_unref(t);
    strvec_free(&same);
    strvec_free(&reordered);
    strvec_free(&shorter);
    strvec_free(&changed);
}

/* More distinct quotes than the two bytes can index: the first 2,047 keep theirs, the rest read
 * without a quote rather than someone else's. */
Test(tagset, too_many_distinct_details_never_borrow_another)
{
    enum { N = 2100 };
    static char names[N][16], globs[N][16];
    strvec sv = {0};
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "t%d", i);
        snprintf(globs[i], sizeof globs[i], "g%d*", i);
        strvec_push(&sv, names[i]);
    }
    tag_table *t = tag_table_of(&sv);
    strategy_result r = {xcalloc(N, sizeof *r.verdicts), N, -1};
    for (int i = 0; i < N; i++)
        r.verdicts[i] = (tag_verdict){(size_t)i, false, REASON_IGNORED, globs[i]};
    tag_verdicts *v = tag_verdicts_new(t, &r);
    char buf[64];
    tag_verdict first = tag_verdicts_get(v, 0), last_kept = tag_verdicts_get(v, 2046);
    tag_verdict over = tag_verdicts_get(v, 2099);
    cr_expect_str_eq(strategy_reason_text(&first, buf, sizeof buf), "ignored by glob 'g0*'");
    cr_expect_str_eq(strategy_reason_text(&last_kept, buf, sizeof buf), "ignored by glob 'g2046*'");
    cr_expect_eq(over.reason, REASON_IGNORED);
    cr_expect_null(over.detail);
    tag_verdicts_unref(v);
    tag_table_unref(t);
    strategy_result_free(&r);
    strvec_free(&sv);
}

/* A repository's table holds its names in one block (100,000 names are otherwise 100,000
 * allocations, ~3 MB of malloc overhead at 10,000 images); what metadata adds to an item (a
 * digest) is still the item's own, and goes with the table. */
Test(tagset, a_table_holds_its_names_in_one_block)
{
    static const char *const names[] = {"1.0.0", "v2.0.0-rc.1", "", "latest"};
    tag_table *t = table_of(names, 4);
    cr_assert_not_null(t->names);
    size_t bytes = 0;
    for (size_t i = 0; i < 4; i++)
        bytes += strlen(names[i]) + 1;
    for (size_t i = 0; i < 4; i++) {
        cr_expect_str_eq(t->list.items[i].name, names[i]);
        cr_expect(t->list.items[i].name >= t->names && t->list.items[i].name < t->names + bytes,
                  "name %zu is outside the block", i);
        cr_expect_null(t->list.items[i].digest);
    }
    cr_expect_eq(t->list.count, 4);
    t->list.items[1].digest = xstrdup("sha256:abc"); /* as image_check's metadata does */
    tag_table_unref(t);                              /* LeakSanitizer: the digest is freed too */
    strvec none = {0};
    tag_table *empty = tag_table_of(&none);
    cr_expect_eq(empty->list.count, 0);
    tag_table_unref(empty);
}
