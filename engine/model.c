#include "model.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "model_build.h"
#include "select/tagset.h"
#include "util.h"

static const struct {
    const char *name, *text;
} state_info[STATE_COUNT] = {
    [STATE_CHECKING] = {"checking", "checking the registry"},
    [STATE_UP_TO_DATE] = {"up-to-date", "up to date"},
    [STATE_UPDATE_AVAILABLE] = {"update-available", "update available: approve to write it"},
    [STATE_APPROVED] = {"approved", "approved: waiting to be written"},
    [STATE_WRITING] = {"writing", "writing to git"},
    [STATE_WRITTEN] = {"written", "written to git"},
    [STATE_PINNED] = {"pinned", "pinned: held at this tag until unpinned"},
    [STATE_HELD] = {"held", "candidate skipped: a newer tag will be offered"},
    [STATE_ERROR] = {"error", "error"},
};

const char *model_state_name(image_state state)
{
    return state < STATE_COUNT ? state_info[state].name : "unknown";
}

const char *model_state_text(image_state state)
{
    return state < STATE_COUNT ? state_info[state].text : "unknown";
}

/* Bump allocator: everything a block or snapshot points to lives in its chunks and goes at
 * once. */
typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, size;
    max_align_t data[];
} arena_chunk;

typedef struct arena {
    arena_chunk *head;
} arena;

static void *arena_alloc(arena *a, size_t size)
{
    size = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (!a->head || a->head->size - a->head->used < size) {
        /* Small first: 10,000 image blocks of a few hundred bytes each must not take a page
         * each (40 MB). Later chunks double, up to a page. */
        size_t chunk = a->head ? a->head->size * 2 : 256;
        chunk = chunk > 4096 ? 4096 : chunk;
        chunk = size > chunk ? size : chunk;
        arena_chunk *c = xmalloc(sizeof *c + chunk);
        c->next = a->head;
        c->used = 0;
        c->size = chunk;
        a->head = c;
    }
    void *p = (char *)a->head->data + a->head->used;
    a->head->used += size;
    memset(p, 0, size);
    return p;
}

static const char *arena_str(arena *a, const char *s)
{
    if (!s)
        return NULL;
    size_t len = strlen(s) + 1;
    char *p = arena_alloc(a, len);
    memcpy(p, s, len);
    return p;
}

static void arena_free(arena *a)
{
    while (a->head) {
        arena_chunk *next = a->head->next;
        free(a->head);
        a->head = next;
    }
}

struct model_text {
    atomic_int refs;
    char text[];
};

model_text *model_text_new(const char *s)
{
    size_t len = strlen(s) + 1;
    model_text *t = xmalloc(sizeof *t + len);
    atomic_init(&t->refs, 1);
    memcpy(t->text, s, len);
    return t;
}

model_text *model_text_ref(model_text *t)
{
    atomic_fetch_add(&t->refs, 1);
    return t;
}

void model_text_unref(model_text *t)
{
    if (t && atomic_fetch_sub(&t->refs, 1) == 1)
        free(t);
}

const char *model_text_str(const model_text *t)
{
    return t->text;
}

struct model_block {
    atomic_int refs;
    model_image image;
    tag_verdicts *tags;
    model_text *warnings; /* image.warnings' storage, shared; NULL when none */
    model_block *owner;   /* whose storage image's strings are in: NULL for its own */
    arena mem;
};

model_block *model_block_new(void)
{
    model_block *b = xcalloc(1, sizeof *b);
    atomic_init(&b->refs, 1);
    return b;
}

model_block *model_block_ref(model_block *b)
{
    atomic_fetch_add(&b->refs, 1);
    return b;
}

void model_block_unref(model_block *b)
{
    if (b && atomic_fetch_sub(&b->refs, 1) == 1) {
        tag_verdicts_unref(b->tags);
        model_text_unref(b->warnings);
        model_block_unref(b->owner);
        arena_free(&b->mem);
        free(b);
    }
}

model_block *model_block_derive(model_block *from)
{
    model_block *b = model_block_new();
    b->image = from->image;
    b->owner = model_block_ref(from->owner ? from->owner : from);
    b->tags = from->tags ? tag_verdicts_ref(from->tags) : NULL;
    b->warnings = from->warnings ? model_text_ref(from->warnings) : NULL;
    return b;
}

void model_block_reserve(model_block *b, size_t bytes)
{
    if (!b->mem.head && bytes) {
        b->mem.head = xmalloc(sizeof *b->mem.head + bytes);
        b->mem.head->next = NULL;
        b->mem.head->used = 0;
        b->mem.head->size = bytes;
    }
}

size_t model_str_size(const char *s)
{
    return s ? (strlen(s) + sizeof(max_align_t)) / sizeof(max_align_t) * sizeof(max_align_t) : 0;
}

model_image *model_block_image(model_block *b)
{
    return &b->image;
}

const char *model_block_str(model_block *b, const char *s)
{
    return arena_str(&b->mem, s);
}

void model_block_set_tags(model_block *b, tag_verdicts *v)
{
    tag_verdicts_unref(b->tags);
    b->tags = v ? tag_verdicts_ref(v) : NULL;
    b->image.tags = b->tags;
    b->image.n_tags = tag_verdicts_count(b->tags);
}

void model_block_set_warnings(model_block *b, model_text *t)
{
    if (t == b->warnings)
        return;
    model_text_unref(b->warnings);
    b->warnings = t ? model_text_ref(t) : NULL;
    b->image.warnings = t ? t->text : NULL;
}

model_tag model_image_tag(const model_image *img, size_t i, char *reason, size_t len)
{
    const tag_verdicts *v = img->tags;
    const tag_info *info = &v->table->list.items[i];
    tag_verdict tv = tag_verdicts_get(v, i);
    return (model_tag){
        .name = info->name,
        .digest = info->digest,
        .created = info->created,
        .has_created = info->has_created,
        .eligible = tv.eligible,
        .candidate = (ptrdiff_t)i == v->candidate,
        .reason = reason ? strategy_reason_text(&tv, reason, len) : NULL,
    };
}

model_event *model_block_history(model_block *b, size_t n)
{
    model_event *events = n ? arena_alloc(&b->mem, n * sizeof *events) : NULL;
    b->image.history = events;
    b->image.n_history = n;
    return events;
}

struct model_private {
    atomic_int refs;
    model_block **blocks;
    size_t n_blocks;
    arena mem;
};

model_snapshot *model_snapshot_new(const model_header *h, model_block *const *blocks, size_t n)
{
    struct model_private *priv = xcalloc(1, sizeof *priv);
    atomic_init(&priv->refs, 1);
    model_snapshot *s = arena_alloc(&priv->mem, sizeof *s);
    s->priv = priv;
    s->generation = h->generation;
    s->phase = h->phase;
    s->scan_done = h->scan_done;
    s->scan_total = h->scan_total;
    s->last_cycle_ns = h->last_cycle_ns;
    s->next_cycle_ns = h->next_cycle_ns;
    s->last_run_ns = h->last_run_ns;
    s->n_last_run = h->n_last_run;
    s->files_done = h->files_done;
    s->files_total = h->files_total;
    s->read_only = h->read_only;
    s->sources = arena_str(&priv->mem, h->sources ? h->sources : "");
    s->source_error = h->source_error ? arena_str(&priv->mem, h->source_error) : NULL;
    model_registry_count *counts =
        arena_alloc(&priv->mem, (h->n_registry_counts ? h->n_registry_counts : 1) * sizeof *counts);
    for (size_t i = 0; i < h->n_registry_counts; i++) {
        counts[i] = h->registry_counts[i];
        counts[i].registry = arena_str(&priv->mem, h->registry_counts[i].registry);
    }
    s->registry_counts = counts;
    s->n_registry_counts = h->n_registry_counts;
    s->images_updated = h->images_updated;
    s->last_cycle_duration_ns = h->last_cycle_duration_ns;
    s->journal_records = h->journal_records;
    s->attached = arena_str(&priv->mem, h->attached);
    s->link_error = arena_str(&priv->mem, h->link_error);

    priv->blocks = xmalloc((n ? n : 1) * sizeof *priv->blocks);
    const model_image **images = arena_alloc(&priv->mem, (n ? n : 1) * sizeof *images);
    for (size_t i = 0; i < n; i++) {
        priv->blocks[i] = model_block_ref(blocks[i]);
        images[i] = &blocks[i]->image;
    }
    priv->n_blocks = n;
    s->images = images;
    s->n_images = n;

    model_rate *rates = arena_alloc(&priv->mem, (h->n_rates ? h->n_rates : 1) * sizeof *rates);
    for (size_t i = 0; i < h->n_rates; i++) {
        rates[i].registry = arena_str(&priv->mem, h->rates[i].registry);
        rates[i].remaining = h->rates[i].remaining;
    }
    s->rates = rates;
    s->n_rates = h->n_rates;

    const char **log = arena_alloc(&priv->mem, (h->n_log ? h->n_log : 1) * sizeof *log);
    for (size_t i = 0; i < h->n_log; i++)
        log[i] = arena_str(&priv->mem, h->log[i]);
    s->log = log;
    s->n_log = h->n_log;
    s->log_total = h->log_total;
    return s;
}

model_snapshot *model_snapshot_ref(model_snapshot *s)
{
    atomic_fetch_add(&s->priv->refs, 1);
    return s;
}

void model_snapshot_unref(model_snapshot *s)
{
    if (!s)
        return;
    struct model_private *priv = s->priv;
    if (atomic_fetch_sub(&priv->refs, 1) != 1)
        return;
    for (size_t i = 0; i < priv->n_blocks; i++)
        model_block_unref(priv->blocks[i]);
    free(priv->blocks);
    arena_free(&priv->mem); /* s itself lives here */
    free(priv);
}

const model_image *model_find(const model_snapshot *s, const char *app, const char *alias)
{
    for (size_t i = 0; i < s->n_images; i++) {
        const model_image *img = s->images[i];
        if (strcmp(img->app, app) != 0)
            continue;
        if (!alias || (img->alias && strcmp(img->alias, alias) == 0))
            return img;
    }
    return NULL;
}
