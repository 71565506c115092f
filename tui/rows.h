/* rows: which images the table shows and in what order — the snapshot's images filtered and
 * sorted into an index array. Rebuilt when the snapshot, the filter or the sort changes, never
 * while drawing; the table then draws only the rows on screen. */
#ifndef TP_ROWS_H
#define TP_ROWS_H

#include <stddef.h>

#include "filter.h"
#include "model.h"

typedef enum rows_sort {
    SORT_APP = 0, /* app, then alias */
    SORT_STATE,   /* most urgent first: error, update available, approved, ... */
    SORT_AGE,     /* longest since the last check first */
    SORT_IMAGE,   /* image name, then app */
    SORT_COUNT
} rows_sort;

typedef struct rows {
    size_t *index; /* into snapshot->images; owned */
    size_t count;
    size_t cap;
} rows;

/* "app", "state", "age", "image". */
const char *rows_sort_name(rows_sort sort);
/* Fill r from snap (filter may be NULL: everything). */
void rows_rebuild(rows *r, const model_snapshot *snap, const filter_expr *f, rows_sort sort);
void rows_free(rows *r);
/* Position of the image (app, alias) in r, or (size_t)-1 when it is not shown. */
size_t rows_find(const rows *r, const model_snapshot *snap, const char *app, const char *alias);
/* The console's urgency rank of a state (0 = most urgent). */
int rows_state_rank(image_state state);

#endif
