/* tagset: the evidence behind a candidate, stored once. A tag table is one repository's tag
 * list as the registry gave it (shared by every image that tracks that repository, and kept
 * across cycles while the list does not change); a verdict set is one selection's verdict for
 * each tag of a table, two bytes a tag (shared by images with the same table, strategy,
 * constraint and filters). Both are immutable once made, reference-counted and safe to read
 * from any thread: the engine keeps them, model snapshots point at them, and the console formats
 * a reason only for the tags it draws. At 10,000 images over 200 repositories this is what keeps
 * the model in megabytes instead of a gigabyte of per-image copies. */
#ifndef TP_TAGSET_H
#define TP_TAGSET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strategy.h"
#include "util.h"

typedef struct tag_table {
    atomic_int refs;
    tag_list list;   /* fill before sharing; then never change */
    char *names;     /* tag_table_of: every name, NUL-separated, in one block the items point
                        into (100,000 names are 100,000 allocations otherwise); NULL: each item
                        owns its name */
    tag_fact *facts; /* each name's facts (strategy_tag_facts, 16 bytes a tag) while a cycle
                        selects over the table: made by the engine thread for its first semver
                        selection and dropped when the cycle's answers are in (the selections
                        made are shared and kept), so they cost no memory between cycles. Only
                        the engine thread touches them; NULL: none. */
} tag_table;

/* An empty table (one reference). */
tag_table *tag_table_new(void);
/* A table of these names (digests and dates unknown). */
tag_table *tag_table_of(const strvec *names);
tag_table *tag_table_ref(tag_table *t);
void tag_table_unref(tag_table *t); /* NULL is fine */
/* The same names in the same order (what a shared table is kept across cycles by). */
bool tag_table_same_names(const tag_table *t, const strvec *names);

typedef struct tag_verdicts {
    atomic_int refs;
    tag_table *table; /* a reference */
    uint16_t *codes;  /* one per tag of table: reason, eligible bit, detail index; NULL when
                         only the candidate is known (tag_verdicts_candidate) */
    char **details;   /* the distinct texts reasons quote: constraint, globs, allow spec */
    size_t n_details;
    ptrdiff_t candidate; /* index into table, -1 when none */
} tag_verdicts;

/* Compact r (a selection over table->list) into a verdict set holding a reference to table.
 * Detail texts are copied. */
tag_verdicts *tag_verdicts_new(tag_table *table, const strategy_result *r);
/* Only the candidate (strategy_candidate's), no verdict per tag: tag_verdicts_count is 0. */
tag_verdicts *tag_verdicts_candidate(tag_table *table, ptrdiff_t candidate);
tag_verdicts *tag_verdicts_ref(tag_verdicts *v);
void tag_verdicts_unref(tag_verdicts *v); /* NULL is fine */
size_t tag_verdicts_count(const tag_verdicts *v);
/* Verdict i as strategy.h has it (detail points into v). */
tag_verdict tag_verdicts_get(const tag_verdicts *v, size_t i);

#endif
