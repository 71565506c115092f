/* tags_fixture: give a hand-made model block real tags — a tag table of these names and the
 * verdicts of a semver selection under constraint — the way the engine builds them. */
#ifndef TP_TAGS_FIXTURE_H
#define TP_TAGS_FIXTURE_H

#include <criterion/criterion.h>

#include "model_build.h"
#include "select/tagset.h"

static inline void fixture_tags(model_block *b, const char *const *names, size_t n,
                                const char *constraint)
{
    strvec sv = {0};
    for (size_t i = 0; i < n; i++)
        strvec_push(&sv, names[i]);
    tag_table *table = tag_table_of(&sv);
    strategy_params p = {STRATEGY_SEMVER, constraint, NULL, NULL};
    strategy_result r = {0};
    tp_err err = {{0}};
    cr_assert_eq(strategy_select(&p, &table->list, &r, &err), 0, "%s", err.msg);
    tag_verdicts *v = tag_verdicts_new(table, &r);
    model_block_set_tags(b, v);
    tag_verdicts_unref(v);
    tag_table_unref(table);
    strategy_result_free(&r);
    strvec_free(&sv);
}

#endif
