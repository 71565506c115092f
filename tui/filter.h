/* filter: what `/` types. A pattern is a case-insensitive POSIX extended regex matched anywhere
 * in a row's app, alias, image and state name; text that is not a valid regex is matched as a
 * plain substring. A leading '!' inverts (k9s' "/!"). The empty pattern matches everything. */
#ifndef TP_FILTER_H
#define TP_FILTER_H

#include <stdbool.h>

#include "model.h"

typedef struct filter_expr filter_expr;

/* A compiled filter for pattern (copied). Never NULL. */
filter_expr *filter_new(const char *pattern);
void filter_free(filter_expr *f);
/* The pattern as typed (never NULL). */
const char *filter_pattern(const filter_expr *f);
/* True when the pattern was not a valid regex and is used as a substring. */
bool filter_is_literal(const filter_expr *f);
bool filter_matches(const filter_expr *f, const model_image *img);

#endif
