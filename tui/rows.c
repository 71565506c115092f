/* rows: filtering and sorting the table's index. */
#include "rows.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

const char *rows_sort_name(rows_sort sort)
{
    static const char *const names[SORT_COUNT] = {"app", "state", "age", "image"};
    return sort < SORT_COUNT ? names[sort] : "app";
}

int rows_state_rank(image_state state)
{
    static const int rank[STATE_COUNT] = {
        [STATE_ERROR] = 0,      [STATE_UPDATE_AVAILABLE] = 1,
        [STATE_APPROVED] = 2,   [STATE_WRITING] = 3,
        [STATE_HELD] = 4,       [STATE_PINNED] = 5,
        [STATE_CHECKING] = 6,   [STATE_WRITTEN] = 7,
        [STATE_UP_TO_DATE] = 8,
    };
    return state < STATE_COUNT ? rank[state] : STATE_COUNT;
}

static int rows_strcmp(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

typedef struct rows_sorting {
    const model_snapshot *snap;
    rows_sort sort;
} rows_sorting;

static int rows_compare(const void *pa, const void *pb, void *ctx)
{
    const rows_sorting *how = ctx;
    size_t ia = *(const size_t *)pa, ib = *(const size_t *)pb;
    const model_image *a = how->snap->images[ia];
    const model_image *b = how->snap->images[ib];
    int c = 0;
    switch (how->sort) {
    case SORT_STATE:
        c = rows_state_rank(a->state) - rows_state_rank(b->state);
        break;
    case SORT_AGE:
        c = (a->last_check_ns > b->last_check_ns) - (a->last_check_ns < b->last_check_ns);
        break;
    case SORT_IMAGE:
        c = rows_strcmp(a->image, b->image);
        break;
    default:
        break;
    }
    if (!c)
        c = rows_strcmp(a->app, b->app);
    if (!c)
        c = rows_strcmp(a->alias, b->alias);
    if (!c) /* stable: the snapshot's own order */
        c = (ia > ib) - (ia < ib);
    return c;
}

void rows_rebuild(rows *r, const model_snapshot *snap, const filter_expr *f, rows_sort sort)
{
    r->count = 0;
    size_t n = snap ? snap->n_images : 0;
    if (n > r->cap) {
        r->index = xrealloc(r->index, n * sizeof *r->index);
        r->cap = n;
    }
    for (size_t i = 0; i < n; i++)
        if (!f || filter_matches(f, snap->images[i]))
            r->index[r->count++] = i;
    /* The engine already sorts by app then alias. */
    if (sort == SORT_APP || r->count < 2)
        return;
    rows_sorting how = {snap, sort};
    qsort_r(r->index, r->count, sizeof *r->index, rows_compare, &how);
}

void rows_free(rows *r)
{
    free(r->index);
    memset(r, 0, sizeof *r);
}

size_t rows_find(const rows *r, const model_snapshot *snap, const char *app, const char *alias)
{
    if (!snap || !app)
        return (size_t)-1;
    for (size_t i = 0; i < r->count; i++) {
        const model_image *img = snap->images[r->index[i]];
        if (str_eq(img->app, app) && (!alias || str_eq(img->alias, alias)))
            return i;
    }
    return (size_t)-1;
}
