/* model_build: how the engine makes the immutable snapshots of model.h. Not for readers.
 * An image block holds one model_image and everything it points to; blocks are
 * reference-counted so consecutive snapshots share the images that did not change. */
#ifndef TP_MODEL_BUILD_H
#define TP_MODEL_BUILD_H

#include "model.h"

typedef struct model_block model_block;

/* A new, empty block (one reference). Fill it through model_block_image() and the helpers below
 * before publishing it; never change it afterwards. */
model_block *model_block_new(void);
model_block *model_block_ref(model_block *b);
void model_block_unref(model_block *b);
model_image *model_block_image(model_block *b);
/* A new block showing what `from` shows, sharing its strings and history (it keeps them alive):
 * a cycle that changed only an image's state or check time costs ~200 bytes, not a copy. Set
 * the fields that differ (state, last_check_ns, tags) before publishing; never its strings. */
model_block *model_block_derive(model_block *from);
/* Make the block's first storage exactly `bytes` (before anything is stored): a block built to
 * measure wastes nothing, which at 10,000 images is megabytes. */
void model_block_reserve(model_block *b, size_t bytes);
/* What model_block_str(s) takes from the storage. */
size_t model_str_size(const char *s);
/* Copy s into the block's storage (NULL stays NULL). */
const char *model_block_str(model_block *b, const char *s);
/* The image's tags and verdicts (the block takes a reference of its own; NULL: none); sets
 * image->tags/n_tags. */
struct tag_verdicts;
void model_block_set_tags(model_block *b, struct tag_verdicts *v);
/* Storage for n events, zeroed, owned by the block; also sets image->history/n_history. */
model_event *model_block_history(model_block *b, size_t n);

/* Immutable text several blocks share (an Application's warnings, once for all its images),
 * reference-counted: model_text_new gives one reference. */
typedef struct model_text model_text;
model_text *model_text_new(const char *s);
model_text *model_text_ref(model_text *t);
void model_text_unref(model_text *t); /* NULL is fine */
const char *model_text_str(const model_text *t);
/* Show t (NULL: none) as the image's warnings; the block takes a reference of its own. */
void model_block_set_warnings(model_block *b, model_text *t);

/* Everything a snapshot carries besides the images. Strings are copied. */
typedef struct model_header {
    uint64_t generation;
    engine_phase phase;
    size_t scan_done, scan_total;
    int64_t last_cycle_ns, next_cycle_ns;
    int64_t last_run_ns;
    size_t n_last_run;
    size_t files_done, files_total;
    bool read_only;
    const char *sources;
    const char *source_error;
    const model_rate *rates;
    size_t n_rates;
    const char *const *log;
    size_t n_log;
    uint64_t log_total;
    const model_registry_count *registry_counts;
    size_t n_registry_counts;
    uint64_t images_updated;
    int64_t last_cycle_duration_ns;
    size_t journal_records;
    const char *attached, *link_error;
} model_header;

/* A snapshot over blocks (each gets a reference of its own), one reference for the caller. */
model_snapshot *model_snapshot_new(const model_header *h, model_block *const *blocks, size_t n);

#endif
