#include "tagset.h"

#include <stdlib.h>
#include <string.h>

/* A verdict's two bytes: the reason (bits 0-3), eligible (bit 4), which detail text (5-15). */
#define CODE_REASON_MASK  0x0fu
#define CODE_ELIGIBLE     0x10u
#define CODE_DETAIL_SHIFT 5
#define CODE_NO_DETAIL    0x7ffu /* the largest index: "no detail" */
_Static_assert(REASON_INVALID_TAG < CODE_REASON_MASK, "a reason must fit in four bits");

tag_table *tag_table_new(void)
{
    tag_table *t = xcalloc(1, sizeof *t);
    atomic_init(&t->refs, 1);
    return t;
}

tag_table *tag_table_of(const strvec *names)
{
    tag_table *t = tag_table_new();
    size_t bytes = 0;
    for (size_t i = 0; i < names->count; i++)
        bytes += strlen(names->items[i]) + 1;
    t->list.cap = t->list.count = names->count;
    t->list.items = names->count ? xcalloc(names->count, sizeof *t->list.items) : NULL;
    t->names = names->count ? xmalloc(bytes) : NULL;
    char *at = t->names;
    for (size_t i = 0; i < names->count; i++) {
        size_t len = strlen(names->items[i]) + 1;
        t->list.items[i].name = memcpy(at, names->items[i], len);
        at += len;
    }
    return t;
}

tag_table *tag_table_ref(tag_table *t)
{
    atomic_fetch_add(&t->refs, 1);
    return t;
}

void tag_table_unref(tag_table *t)
{
    if (t && atomic_fetch_sub(&t->refs, 1) == 1) {
        free(t->facts);
        if (t->names) { /* the names are one block; digests (metadata) are each their own */
            for (size_t i = 0; i < t->list.count; i++)
                free(t->list.items[i].digest);
            free(t->list.items);
            free(t->names);
        } else {
            tag_list_free(&t->list);
        }
        free(t);
    }
}

bool tag_table_same_names(const tag_table *t, const strvec *names)
{
    if (t->list.count != names->count)
        return false;
    for (size_t i = 0; i < names->count; i++)
        if (strcmp(t->list.items[i].name, names->items[i]) != 0)
            return false;
    return true;
}

/* The index of text among v's details, adding it when new; CODE_NO_DETAIL for NULL or when the
 * (absurd) 2,047 distinct texts are used up: the reason then reads without its quote. */
static unsigned detail_index(tag_verdicts *v, size_t *cap, const char *text)
{
    if (!text)
        return CODE_NO_DETAIL;
    for (size_t i = 0; i < v->n_details; i++)
        if (strcmp(v->details[i], text) == 0)
            return (unsigned)i;
    if (v->n_details == CODE_NO_DETAIL)
        return CODE_NO_DETAIL;
    if (v->n_details == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        v->details = xrealloc(v->details, *cap * sizeof *v->details);
    }
    v->details[v->n_details] = xstrdup(text);
    return (unsigned)v->n_details++;
}

tag_verdicts *tag_verdicts_new(tag_table *table, const strategy_result *r)
{
    tag_verdicts *v = xcalloc(1, sizeof *v);
    atomic_init(&v->refs, 1);
    v->table = tag_table_ref(table);
    v->candidate = r->candidate;
    size_t n = table->list.count, cap = 0;
    v->codes = xcalloc(n ? n : 1, sizeof *v->codes);
    /* A tag without a verdict (none here in practice) reads as "unknown reason". */
    for (size_t i = 0; i < n; i++)
        v->codes[i] = CODE_REASON_MASK | (CODE_NO_DETAIL << CODE_DETAIL_SHIFT);
    /* The strategy's handful of detail pointers repeat tag after tag: remember the last one. */
    const char *last_text = NULL;
    unsigned last_index = CODE_NO_DETAIL;
    for (size_t i = 0; i < r->count; i++) {
        const tag_verdict *tv = &r->verdicts[i];
        if (tv->index >= n)
            continue;
        unsigned d = tv->detail == last_text ? last_index : detail_index(v, &cap, tv->detail);
        last_text = tv->detail;
        last_index = d;
        v->codes[tv->index] =
            (uint16_t)(((unsigned)tv->reason & CODE_REASON_MASK) |
                       (tv->eligible ? CODE_ELIGIBLE : 0) | (d << CODE_DETAIL_SHIFT));
    }
    return v;
}

tag_verdicts *tag_verdicts_candidate(tag_table *table, ptrdiff_t candidate)
{
    tag_verdicts *v = xcalloc(1, sizeof *v);
    atomic_init(&v->refs, 1);
    v->table = tag_table_ref(table);
    v->candidate = candidate;
    return v;
}

tag_verdicts *tag_verdicts_ref(tag_verdicts *v)
{
    atomic_fetch_add(&v->refs, 1);
    return v;
}

void tag_verdicts_unref(tag_verdicts *v)
{
    if (!v || atomic_fetch_sub(&v->refs, 1) != 1)
        return;
    for (size_t i = 0; i < v->n_details; i++)
        free(v->details[i]);
    free(v->details);
    free(v->codes);
    tag_table_unref(v->table);
    free(v);
}

size_t tag_verdicts_count(const tag_verdicts *v)
{
    return v && v->codes ? v->table->list.count : 0;
}

tag_verdict tag_verdicts_get(const tag_verdicts *v, size_t i)
{
    unsigned code = v->codes[i];
    unsigned d = code >> CODE_DETAIL_SHIFT;
    unsigned reason = code & CODE_REASON_MASK;
    return (tag_verdict){
        .index = i,
        .eligible = (code & CODE_ELIGIBLE) != 0,
        .reason = (tag_reason)reason, /* CODE_REASON_MASK: "unknown reason" */
        .detail = d < v->n_details ? v->details[d] : NULL,
    };
}
