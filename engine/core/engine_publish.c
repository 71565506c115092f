/* engine_publish: what the engine shows. Each tracked image's published block (its texts,
 * history and tag verdicts), the rows shown before the first cycle has read the sources (the
 * last run's, or the Applications read so far), and the snapshot that puts them together for
 * the consumer. Engine thread only, but for the hand-over under the lock. */
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "manifest/manifest.h"

typedef struct history_list {
    size_t *records; /* journal indexes, oldest first */
    size_t count, cap;
} history_list;

void engine_history_index(engine *e, size_t record_index)
{
    const journal_record *r = journal_get(e->records.journal, record_index);
    if (!r || !r->app)
        return;
    char *key = xasprintf("%s\x1f%s", r->app, r->alias ? r->alias : "");
    history_list *h = strmap_get(&e->records.history, key);
    if (!h) {
        h = xcalloc(1, sizeof *h);
        strmap_put(&e->records.history, key, h);
    }
    free(key);
    if (h->count == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 8;
        h->records = xrealloc(h->records, h->cap * sizeof *h->records);
    }
    h->records[h->count++] = record_index;
}

static void free_history(const char *key, void *value, void *ctx)
{
    (void)key, (void)ctx;
    history_list *h = value;
    free(h->records);
    free(h);
}

void engine_history_free(engine *e)
{
    strmap_each(&e->records.history, free_history, NULL);
    strmap_free(&e->records.history);
}

static const history_list *history_of(engine *e, const char *app, const char *alias)
{
    char *key = xasprintf("%s\x1f%s", app, alias ? alias : "");
    const history_list *h = e->records.journal ? strmap_get(&e->records.history, key) : NULL;
    free(key);
    return h;
}

#define EVENT_FIELDS(r) r->time, r->user, r->action, r->from, r->to, r->commit, r->result, r->detail

static size_t history_bytes(engine *e, const history_list *h)
{
    /* The events are one array (model_block_history), rounded up to the alignment once. */
    size_t events = h ? h->count * sizeof(model_event) : 0;
    size_t bytes = (events + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    for (size_t i = 0; h && i < h->count; i++) {
        const journal_record *r = journal_get(e->records.journal, h->records[i]);
        const char *fields[] = {EVENT_FIELDS(r)};
        for (size_t k = 0; k < sizeof fields / sizeof *fields; k++)
            bytes += model_str_size(fields[k]);
    }
    return bytes;
}

static void copy_history(engine *e, model_block *b, const history_list *h)
{
    model_event *ev = model_block_history(b, h ? h->count : 0);
    for (size_t i = 0; h && i < h->count; i++) {
        const journal_record *r = journal_get(e->records.journal, h->records[i]);
        const char *fields[] = {EVENT_FIELDS(r)};
        const char **dst[] = {&ev[i].time, &ev[i].user,   &ev[i].action, &ev[i].from,
                              &ev[i].to,   &ev[i].commit, &ev[i].result, &ev[i].detail};
        for (size_t k = 0; k < sizeof fields / sizeof *fields; k++)
            *dst[k] = model_block_str(b, fields[k]);
    }
}

/* The string fields a block is built from: in[i] goes to the field out[i] points at in a
 * template image m; the same field of any image is at the same offset. */
typedef struct block_fields {
    const char *const *in;
    const char **const *out;
    const model_image *m;
    size_t n;
} block_fields;

static const char **field_of(model_image *img, const block_fields *f, size_t i)
{
    return (const char **)((char *)img + ((const char *)f->out[i] - (const char *)f->m));
}

/* The block for one image: its string fields and the journal's records about it (oldest first);
 * the caller sets the rest. When `from` (what was shown before, may be NULL) holds the same
 * strings and history, the new block shares them (a steady cycle re-publishes 10,000 images for
 * ~200 bytes each, and never holds two copies of their texts); else it is built afresh, its
 * storage sized to fit exactly. (Sharing only the unchanged part was tried: keeping the old
 * block alive for it cost more than it saved.) */
static model_block *block_for(engine *e, model_block *from, const char *app, const char *alias,
                              const block_fields *f)
{
    const history_list *h = history_of(e, app, alias);
    model_image *was = from ? model_block_image(from) : NULL;
    bool same = was && was->n_history == (h ? h->count : 0);
    for (size_t i = 0; same && i < f->n; i++)
        same = str_same(*field_of(was, f, i), f->in[i]);
    if (same)
        return model_block_derive(from);
    size_t bytes = history_bytes(e, h);
    for (size_t i = 0; i < f->n; i++)
        bytes += model_str_size(f->in[i]);
    model_block *b = model_block_new();
    model_block_reserve(b, bytes);
    model_image *dst = model_block_image(b);
    for (size_t i = 0; i < f->n; i++)
        *field_of(dst, f, i) = model_block_str(b, f->in[i]);
    copy_history(e, b, h);
    return b;
}

/* The published form of one tracked image. */
static model_block *build_block(engine *e, tracked *t)
{
    const image_settings *img = t->image;
    const char *app = t->app->name;
    model_image m;
    const char *live_image = manifest_live_image(t->app, &img->ref);
    char *live = NULL, *live_digest = NULL;
    if (live_image)
        manifest_split_image(live_image, NULL, &live, &live_digest);
    const char *in[] = {
        app,
        live ? live : live_digest,
        img->alias,
        img->ref.short_name ? img->ref.short_name : img->ref.name,
        strategy_name(img->strategy),
        img->constraint,
        engine_policy_of(e, t) == APPROVAL_AUTO ? "auto" : "manual",
        t->current,
        t->candidate,
        t->candidate_digest,
        decisions_pin(&e->records.dec, app, img->alias),
        decisions_previous(&e->records.dec, app, img->alias),
        t->detail,
        t->target,
        t->diff,
    };
    const char **out[] = {&m.app,        &m.live,     &m.alias,   &m.image,     &m.strategy,
                          &m.constraint, &m.policy,   &m.current, &m.candidate, &m.candidate_digest,
                          &m.pin,        &m.previous, &m.detail,  &m.target,    &m.diff};
    _Static_assert(sizeof in / sizeof *in == sizeof out / sizeof *out, "one field each");
    block_fields f = {in, out, &m, sizeof in / sizeof *in};
    model_block *b = block_for(e, t->shown, app, img->alias, &f);
    free(live);
    free(live_digest);
    model_block_unref(t->shown);
    t->shown = NULL;
    model_image *dst = model_block_image(b);
    dst->state = t->state;
    dst->last_check_ns = t->last_check_ns;
    model_block_set_tags(b, t->verdicts);
    model_block_set_warnings(b, t->warnings);
    return b;
}

typedef struct warning_at {
    size_t line, index;
} warning_at;

static int compare_warnings(const void *pa, const void *pb)
{
    const warning_at *a = pa, *b = pb;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

model_text *engine_app_warnings(const argo_app *app)
{
    const app_settings *s = &app->settings;
    if (!s->warnings.count)
        return NULL;
    /* in the order of the file; a message about no key in particular at the Application */
    warning_at *order = xmalloc(s->warnings.count * sizeof *order);
    for (size_t i = 0; i < s->warnings.count; i++)
        order[i] = (warning_at){s->warning_lines[i] ? s->warning_lines[i] : app->line, i};
    qsort(order, s->warnings.count, sizeof *order, compare_warnings);
    strbuf sb = {0};
    /* one warning a line: nothing from the repository may break a line, or reach a terminal */
    char *file = str_printable(app->file ? app->file : "?");
    for (size_t i = 0; i < s->warnings.count; i++) {
        size_t line = order[i].line;
        char *message = str_printable(s->warnings.items[order[i].index]);
        strbuf_printf(&sb, "%s%s:%zu: %s", i ? "\n" : "", file, line, message);
        free(message);
    }
    free(file);
    free(order);
    model_text *t = model_text_new(sb.data);
    strbuf_free(&sb);
    return t;
}

/* The last run's row, shown as it was (pins and history as the journal has them now) until
 * this run has read the sources. */
static model_block *build_preview_block(engine *e, const lastrun_row *r)
{
    model_image m;
    const char *in[] = {
        r->app,
        r->alias,
        r->image,
        r->strategy,
        r->constraint,
        r->policy,
        r->current,
        r->candidate,
        r->candidate_digest,
        decisions_pin(&e->records.dec, r->app, r->alias),
        decisions_previous(&e->records.dec, r->app, r->alias),
        r->detail,
    };
    const char **out[] = {&m.app,      &m.alias,   &m.image,     &m.strategy,         &m.constraint,
                          &m.policy,   &m.current, &m.candidate, &m.candidate_digest, &m.pin,
                          &m.previous, &m.detail};
    _Static_assert(sizeof in / sizeof *in == sizeof out / sizeof *out, "one field each");
    block_fields f = {in, out, &m, sizeof in / sizeof *in};
    model_block *b = block_for(e, NULL, r->app, r->alias, &f);
    model_image *dst = model_block_image(b);
    dst->state = r->state;
    dst->last_check_ns = r->checked_ns;
    return b;
}

void engine_build_preview(engine *e, bool rows)
{
    lastrun lr;
    lastrun_load(e->cfg->state_dir, &lr);
    engine_pump_registry(e);
    e->preview.blocks = xmalloc((rows && lr.n ? lr.n : 1) * sizeof *e->preview.blocks);
    for (size_t i = 0; i < lr.n; i++) {
        const lastrun_row *r = &lr.rows[i];
        if (rows) {
            e->preview.blocks[i] = build_preview_block(e, r);
            strmap_put(&e->preview.by_key, r->key, e->preview.blocks[i]);
        }
        bool seen = r->candidate && r->candidate_digest;
        if (seen || (r->hint_tag && r->hint_digest)) {
            const char *tag = seen ? r->candidate : r->hint_tag;
            const char *digest = seen ? r->candidate_digest : r->hint_digest;
            size_t tag_len = strlen(tag) + 1;
            preview_hint *h = xmalloc(sizeof *h + tag_len + strlen(digest) + 1);
            memcpy(h->tag, tag, tag_len);
            h->digest = strcpy(h->tag + tag_len, digest);
            strmap_put(&e->preview.hints, r->key, h);
        }
    }
    e->preview.n = rows ? lr.n : 0;
    e->preview.saved_ns = e->preview.last_run_ns = lr.saved_ns; /* 0 when the file held no rows */
    lastrun_free(&lr);
}

void engine_preview_add_app(engine *e, const argo_app *app)
{
    if (e->opts.only_app && strcmp(app->name, e->opts.only_app) != 0)
        return;
    model_text *warnings = engine_app_warnings(app);
    for (size_t i = 0; i < app->settings.n_images; i++) {
        const image_settings *img = &app->settings.images[i];
        model_image m;
        const char *in[] = {app->name, img->alias,
                            img->ref.short_name ? img->ref.short_name : img->ref.name,
                            strategy_name(img->strategy), img->constraint};
        const char **out[] = {&m.app, &m.alias, &m.image, &m.strategy, &m.constraint};
        _Static_assert(sizeof in / sizeof *in == sizeof out / sizeof *out, "one field each");
        block_fields f = {in, out, &m, sizeof in / sizeof *in};
        model_block *b = block_for(e, NULL, app->name, img->alias, &f);
        model_block_image(b)->state = STATE_CHECKING;
        model_block_set_warnings(b, warnings);
        e->preview.blocks =
            xrealloc(e->preview.blocks, (e->preview.n + 1) * sizeof *e->preview.blocks);
        e->preview.blocks[e->preview.n++] = b;
        e->preview.unsorted = true;
        char *key = xasprintf("%s\x1f%s", app->name, img->alias ? img->alias : "");
        strmap_put(&e->preview.by_key, key, b);
        free(key);
    }
    model_text_unref(warnings);
}

static int compare_blocks(const void *pa, const void *pb)
{
    const model_image *a = model_block_image(*(model_block *const *)pa);
    const model_image *b = model_block_image(*(model_block *const *)pb);
    int c = strcmp(a->app, b->app);
    return c ? c : strcmp(a->alias ? a->alias : "", b->alias ? b->alias : "");
}

static void free_hint(const char *key, void *value, void *ctx)
{
    (void)key;
    (void)ctx;
    free(value);
}

void engine_drop_hints(engine *e)
{
    strmap_each(&e->preview.hints, free_hint, NULL);
    strmap_free(&e->preview.hints);
}

void engine_drop_preview(engine *e)
{
    for (size_t i = 0; i < e->preview.n; i++)
        model_block_unref(e->preview.blocks[i]);
    free(e->preview.blocks);
    e->preview.blocks = NULL;
    e->preview.n = 0;
    e->preview.saved_ns = 0;
    e->preview.unsorted = false;
    strmap_free(&e->preview.by_key);
}

void engine_publish(engine *e)
{
    /* Until the first cycle has read the sources, the table is the last run's. */
    bool preview = e->table.n_images == 0 && e->preview.n > 0;
    if (preview && e->preview.unsorted) { /* snapshots are sorted by app and alias */
        qsort(e->preview.blocks, e->preview.n, sizeof *e->preview.blocks, compare_blocks);
        e->preview.unsorted = false;
    }
    size_t n = preview ? e->preview.n : e->table.n_images;
    size_t n_last_run = preview && e->preview.saved_ns ? n : 0;
    model_block **blocks = xmalloc((n ? n : 1) * sizeof *blocks);
    for (size_t i = 0; i < n; i++) {
        if (preview) {
            blocks[i] = e->preview.blocks[i];
            continue;
        }
        tracked *t = &e->table.images[i];
        if (!t->block) {
            t->block = build_block(e, t);
            t->from_last_run = false;
        }
        n_last_run += t->from_last_run;
        blocks[i] = t->block;
    }
    if (!preview && !n_last_run)
        e->preview.last_run_ns = 0; /* every row is this run's now */
    model_rate rates[16];
    size_t n_rates = 0;
    /* Docker Hub is the registry whose rate limit people hit. */
    long remaining;
    if (e->tags.registry &&
        registry_client_rate_remaining(e->tags.registry, "registry-1.docker.io", &remaining))
        rates[n_rates++] = (model_rate){"docker.io", remaining};
    registry_host_count *hosts = NULL;
    size_t n_hosts = e->tags.registry ? registry_client_host_counts(e->tags.registry, &hosts) : 0;
    model_registry_count *counts = xcalloc(n_hosts ? n_hosts : 1, sizeof *counts);
    for (size_t i = 0; i < n_hosts; i++)
        counts[i] = (model_registry_count){hosts[i].registry, hosts[i].requests, hosts[i].failed};
    free(hosts);
    model_header h = {
        .registry_counts = counts,
        .n_registry_counts = n_hosts,
        .images_updated = e->records.writes,
        .last_cycle_duration_ns = e->last_cycle_duration_ns,
        .journal_records = e->records.journal ? journal_count(e->records.journal) : 0,
        .generation = ++e->generation,
        .phase = e->phase,
        .scan_done = e->scan_done,
        .scan_total = e->table.n_images,
        .last_run_ns = n_last_run ? e->preview.last_run_ns : 0,
        .n_last_run = n_last_run,
        .files_done = e->table.n_images ? 0 : e->src.files_done,
        .files_total = e->table.n_images ? 0 : e->src.files_total,
        .last_cycle_ns = e->last_cycle_ns,
        .next_cycle_ns = e->phase == ENGINE_PAUSED ? 0 : e->next_cycle_ns,
        .read_only = e->opts.read_only || !engine_leading(e, NULL, 0),
        .sources = e->src.label,
        .source_error = e->src.error,
        .rates = rates,
        .n_rates = n_rates,
        .log = (const char *const *)e->log.items,
        .n_log = e->log.count,
        .log_total = e->log_total,
    };
    model_snapshot *s = model_snapshot_new(&h, blocks, n);
    free(blocks);
    free(counts);
    pthread_mutex_lock(&e->inbox.lock);
    model_snapshot *old = e->inbox.current;
    e->inbox.current = s;
    pthread_mutex_unlock(&e->inbox.lock);
    model_snapshot_unref(old);
    engine_wake_consumer(e);
}
