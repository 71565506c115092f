/* engine: the thread, its queues and the snapshots it publishes. A cycle lives in
 * engine_scan.c, commands and write-back in engine_act.c. */
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine_internal.h"

typedef struct history_list {
    size_t *records; /* journal indexes, oldest first */
    size_t count, cap;
} history_list;

int64_t engine_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void wake_consumer(engine *e)
{
    char byte = 1;
    /* Non-blocking: a full pipe already means "wake up". */
    if (write(e->wake_pipe[1], &byte, 1) < 0 && errno != EAGAIN) {
        /* nothing sensible to do: the consumer polls again on its own timer */
    }
}

void engine_log(engine *e, const char *fmt, ...)
{
    char line[1024];
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(when, sizeof when, "%H:%M:%S", &tm);
    int n = snprintf(line, sizeof line, "%s ", when);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    if (e->log.count == ENGINE_LOG_KEEP) {
        free(e->log.items[0]);
        memmove(e->log.items, e->log.items + 1, (e->log.count - 1) * sizeof *e->log.items);
        e->log.count--;
    }
    strvec_push(&e->log, line);
    e->log_total++;
}

void tracked_mark_dirty(tracked *t)
{
    if (!t->block)
        return;
    model_block_unref(t->shown);
    t->shown = t->block;
    t->block = NULL;
}

void tracked_set_detail(tracked *t, const char *fmt, ...)
{
    free(t->detail);
    t->detail = NULL;
    if (fmt) {
        strbuf sb = {0};
        va_list ap;
        va_start(ap, fmt);
        strbuf_vprintf(&sb, fmt, ap);
        va_end(ap);
        t->detail = strbuf_take(&sb);
    }
    tracked_mark_dirty(t);
}

void engine_history_index(engine *e, size_t record_index)
{
    const journal_record *r = journal_get(e->journal, record_index);
    if (!r || !r->app)
        return;
    char *key = xasprintf("%s\x1f%s", r->app, r->alias ? r->alias : "");
    history_list *h = strmap_get(&e->history, key);
    if (!h) {
        h = xcalloc(1, sizeof *h);
        strmap_put(&e->history, key, h);
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

static const history_list *history_of(engine *e, const char *app, const char *alias)
{
    char *key = xasprintf("%s\x1f%s", app, alias ? alias : "");
    const history_list *h = e->journal ? strmap_get(&e->history, key) : NULL;
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
        const journal_record *r = journal_get(e->journal, h->records[i]);
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
        const journal_record *r = journal_get(e->journal, h->records[i]);
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
    const char *in[] = {
        app,
        img->alias,
        img->ref.short_name ? img->ref.short_name : img->ref.name,
        strategy_name(img->strategy),
        img->constraint,
        engine_policy_of(e, t) == APPROVAL_AUTO ? "auto" : "manual",
        t->current,
        t->candidate,
        t->candidate_digest,
        decisions_pin(&e->dec, app, img->alias),
        decisions_previous(&e->dec, app, img->alias),
        t->detail,
        t->target,
        t->diff,
    };
    const char **out[] = {&m.app,      &m.alias,      &m.image,
                          &m.strategy, &m.constraint, &m.policy,
                          &m.current,  &m.candidate,  &m.candidate_digest,
                          &m.pin,      &m.previous,   &m.detail,
                          &m.target,   &m.diff};
    _Static_assert(sizeof in / sizeof *in == sizeof out / sizeof *out, "one field each");
    block_fields f = {in, out, &m, sizeof in / sizeof *in};
    model_block *b = block_for(e, t->shown, app, img->alias, &f);
    model_block_unref(t->shown);
    t->shown = NULL;
    model_image *dst = model_block_image(b);
    dst->state = t->state;
    dst->last_check_ns = t->last_check_ns;
    model_block_set_tags(b, t->verdicts);
    return b;
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
        decisions_pin(&e->dec, r->app, r->alias),
        decisions_previous(&e->dec, r->app, r->alias),
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

void engine_build_preview(engine *e)
{
    lastrun lr;
    lastrun_load(e->cfg->state_dir, &lr);
    e->preview = xmalloc((lr.n ? lr.n : 1) * sizeof *e->preview);
    for (size_t i = 0; i < lr.n; i++) {
        const lastrun_row *r = &lr.rows[i];
        e->preview[i] = build_preview_block(e, r);
        strmap_put(&e->preview_by_key, r->key, e->preview[i]);
        bool seen = r->candidate && r->candidate_digest;
        if (seen || (r->hint_tag && r->hint_digest)) {
            const char *tag = seen ? r->candidate : r->hint_tag;
            const char *digest = seen ? r->candidate_digest : r->hint_digest;
            size_t tag_len = strlen(tag) + 1;
            preview_hint *h = xmalloc(sizeof *h + tag_len + strlen(digest) + 1);
            memcpy(h->tag, tag, tag_len);
            h->digest = strcpy(h->tag + tag_len, digest);
            strmap_put(&e->preview_hints, r->key, h);
        }
    }
    e->n_preview = lr.n;
    e->preview_saved_ns = e->last_run_ns = lr.saved_ns; /* 0 when the file held no rows */
    lastrun_free(&lr);
}

void engine_preview_add_app(engine *e, const argo_app *app)
{
    if (e->opts.only_app && strcmp(app->name, e->opts.only_app) != 0)
        return;
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
        e->preview = xrealloc(e->preview, (e->n_preview + 1) * sizeof *e->preview);
        e->preview[e->n_preview++] = b;
        e->preview_unsorted = true;
        char *key = xasprintf("%s\x1f%s", app->name, img->alias ? img->alias : "");
        strmap_put(&e->preview_by_key, key, b);
        free(key);
    }
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
    strmap_each(&e->preview_hints, free_hint, NULL);
    strmap_free(&e->preview_hints);
}

void engine_drop_preview(engine *e)
{
    for (size_t i = 0; i < e->n_preview; i++)
        model_block_unref(e->preview[i]);
    free(e->preview);
    e->preview = NULL;
    e->n_preview = 0;
    e->preview_saved_ns = 0;
    e->preview_unsorted = false;
    strmap_free(&e->preview_by_key);
}

void engine_publish(engine *e)
{
    /* Until the first cycle has read the sources, the table is the last run's. */
    bool preview = e->n_images == 0 && e->n_preview > 0;
    if (preview && e->preview_unsorted) { /* snapshots are sorted by app and alias */
        qsort(e->preview, e->n_preview, sizeof *e->preview, compare_blocks);
        e->preview_unsorted = false;
    }
    size_t n = preview ? e->n_preview : e->n_images;
    size_t n_last_run = preview && e->preview_saved_ns ? n : 0;
    model_block **blocks = xmalloc((n ? n : 1) * sizeof *blocks);
    for (size_t i = 0; i < n; i++) {
        if (preview) {
            blocks[i] = e->preview[i];
            continue;
        }
        tracked *t = &e->images[i];
        if (!t->block) {
            t->block = build_block(e, t);
            t->from_last_run = false;
        }
        n_last_run += t->from_last_run;
        blocks[i] = t->block;
    }
    if (!preview && !n_last_run)
        e->last_run_ns = 0; /* every row is this run's now */
    model_rate rates[16];
    size_t n_rates = 0;
    /* Docker Hub is the registry whose rate limit people hit. */
    long remaining;
    if (e->registry &&
        registry_client_rate_remaining(e->registry, "registry-1.docker.io", &remaining))
        rates[n_rates++] = (model_rate){"docker.io", remaining};
    model_header h = {
        .generation = ++e->generation,
        .phase = e->phase,
        .scan_done = e->scan_done,
        .scan_total = e->n_images,
        .last_run_ns = n_last_run ? e->last_run_ns : 0,
        .n_last_run = n_last_run,
        .files_done = e->n_images ? 0 : e->files_done,
        .files_total = e->n_images ? 0 : e->files_total,
        .last_cycle_ns = e->last_cycle_ns,
        .next_cycle_ns = e->phase == ENGINE_PAUSED ? 0 : e->next_cycle_ns,
        .read_only = e->opts.read_only,
        .sources = e->sources_label,
        .source_error = e->source_error,
        .rates = rates,
        .n_rates = n_rates,
        .log = (const char *const *)e->log.items,
        .n_log = e->log.count,
        .log_total = e->log_total,
    };
    model_snapshot *s = model_snapshot_new(&h, blocks, n);
    free(blocks);
    pthread_mutex_lock(&e->lock);
    model_snapshot *old = e->current;
    e->current = s;
    pthread_mutex_unlock(&e->lock);
    model_snapshot_unref(old);
    wake_consumer(e);
}

void engine_post_result(engine *e, uint64_t id, engine_cmd_kind kind, bool ok, const char *commit,
                        const char *fmt, ...)
{
    strbuf sb = {0};
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(&sb, fmt, ap);
    va_end(ap);
    engine_result r = {id, kind, ok, strbuf_take(&sb), commit && *commit ? xstrdup(commit) : NULL};
    engine_log(e, "%s %s", ok ? "done:" : "refused:", r.message);
    pthread_mutex_lock(&e->lock);
    if (e->n_results == e->cap_results) {
        e->cap_results = e->cap_results ? e->cap_results * 2 : 8;
        e->results = xrealloc(e->results, e->cap_results * sizeof *e->results);
    }
    e->results[e->n_results++] = r;
    pthread_mutex_unlock(&e->lock);
    wake_consumer(e);
}

static void drain_fd(int fd)
{
    char buf[256];
    while (read(fd, buf, sizeof buf) > 0)
        ;
}

bool engine_stop_requested(engine *e)
{
    pthread_mutex_lock(&e->lock);
    bool stop = e->stop_requested;
    pthread_mutex_unlock(&e->lock);
    return stop;
}

size_t engine_live_op_add(engine *e, void *ctx)
{
    if (e->n_live_ops == e->cap_live_ops) {
        e->cap_live_ops = e->cap_live_ops ? e->cap_live_ops * 2 : 64;
        e->live_ops = xrealloc(e->live_ops, e->cap_live_ops * sizeof *e->live_ops);
    }
    e->live_ops[e->n_live_ops] = ctx;
    return e->n_live_ops++;
}

void engine_live_op_done(engine *e, size_t slot)
{
    e->live_ops[slot] = NULL;
    /* All called back: start the table over, so it does not grow across cycles. */
    while (e->n_live_ops && !e->live_ops[e->n_live_ops - 1])
        e->n_live_ops--;
}

void engine_cancel_registry(engine *e)
{
    registry_client_free(e->registry); /* cancels without calling back */
    for (size_t i = 0; i < e->n_live_ops; i++)
        free(e->live_ops[i]);
    e->n_live_ops = 0;
    tp_err err = {{0}};
    e->registry = registry_client_new(&e->registry_opts, &err);
    if (!e->registry)
        engine_log(e, "error: %s", err.msg);
}

int engine_drive_registry(engine *e, tp_err *err)
{
    if (!e->registry)
        return tp_err_set(err, "no registry client");
    while (registry_client_outstanding(e->registry) > 0) {
        if (engine_stop_requested(e)) {
            engine_cancel_registry(e);
            return tp_err_set(err, "engine stopping");
        }
        /* Commands wait for the scan; a stop interrupts it through registry_client_wakeup.
         * (The command pipe stays out of this poll: nothing drains it here.) */
        if (registry_client_perform(e->registry, 1000, NULL, 0, err) < 0) {
            engine_cancel_registry(e);
            return -1;
        }
    }
    return 0;
}

static struct pending_command *pop_command(engine *e)
{
    pthread_mutex_lock(&e->lock);
    struct pending_command *c = e->queue;
    if (c) {
        e->queue = c->next;
        if (!e->queue)
            e->queue_tail = NULL;
    }
    pthread_mutex_unlock(&e->lock);
    return c;
}

static void free_command(struct pending_command *c)
{
    free(c->app);
    free(c->alias);
    free(c->tag);
    free(c->policy);
    free(c->digest);
    free(c);
}

static void run_commands(engine *e)
{
    struct pending_command *c;
    while ((c = pop_command(e))) {
        engine_execute(e, c);
        free_command(c);
        engine_publish(e);
    }
}

static int64_t interval_ns(const engine *e)
{
    if (e->opts.interval_ns > 0)
        return e->opts.interval_ns;
    unsigned s = e->cfg->interval_s ? e->cfg->interval_s : 120;
    return (int64_t)s * 1000000000LL;
}

/* How long to sleep in poll() before the next cycle is due (at most a second, so a stop or a
 * pause is noticed promptly even without a wake-up). */
static int sleep_ms(const engine *e)
{
    if (e->opts.once || e->phase == ENGINE_PAUSED)
        return 1000;
    int64_t wait_ns = e->next_cycle_ns - engine_now_ns();
    if (wait_ns <= 0)
        return 0;
    int64_t ms = wait_ns / 1000000 + 1;
    return ms > 1000 ? 1000 : (int)ms;
}

static void *engine_main(void *arg)
{
    engine *e = arg;
    bool scanned = false;
    engine_build_preview(e);
    engine_publish(e);
    while (!engine_stop_requested(e)) {
        bool due = !scanned || e->refresh_requested || engine_now_ns() >= e->next_cycle_ns;
        if (e->phase != ENGINE_PAUSED && due && !(e->opts.once && scanned)) {
            e->refresh_requested = false;
            engine_scan(e);
            scanned = true;
            e->last_cycle_ns = engine_now_ns();
            e->next_cycle_ns = e->last_cycle_ns + interval_ns(e);
            if (e->phase != ENGINE_PAUSED)
                e->phase = ENGINE_IDLE;
            engine_publish(e);
        }
        run_commands(e);
        if (e->opts.once && scanned) {
            /* Done once the caller has said (engine_wait) that it queued everything. */
            pthread_mutex_lock(&e->lock);
            bool done = e->wait_called && !e->queue;
            pthread_mutex_unlock(&e->lock);
            if (done)
                break;
        }
        struct pollfd pfd = {e->cmd_pipe[0], POLLIN, 0};
        if (poll(&pfd, 1, sleep_ms(e)) > 0)
            drain_fd(e->cmd_pipe[0]);
    }
    e->phase = ENGINE_STOPPED;
    engine_publish(e);
    pthread_mutex_lock(&e->lock);
    e->finished = true;
    pthread_cond_broadcast(&e->idle_cond);
    pthread_mutex_unlock(&e->lock);
    return NULL;
}

static int make_pipe(int fds[2], tp_err *err)
{
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
        return tp_err_set(err, "cannot create a pipe: %s", strerror(errno));
    return 0;
}

static void engine_free(engine *e)
{
    for (size_t i = 0; i < e->n_images; i++)
        tracked_clear(&e->images[i]);
    free(e->images);
    strmap_free(&e->by_key);
    strmap_free(&e->last_states);
    engine_drop_preview(e);
    engine_drop_hints(e);
    engine_prune_tagsets(e, true);
    for (size_t i = 0; i < e->n_apps_lists; i++)
        app_list_free(&e->apps[i]);
    free(e->apps);
    for (size_t i = 0; i < e->n_sources; i++)
        source_free(e->sources[i]);
    free(e->sources);
    free(e->sources_label);
    free(e->source_error);
    registry_client_free(e->registry);
    for (size_t i = 0; i < e->n_live_ops; i++)
        free(e->live_ops[i]);
    free(e->live_ops);
    if (e->have_rconf)
        registries_conf_free(&e->rconf);
    strmap_each(&e->history, free_history, NULL);
    strmap_free(&e->history);
    decisions_free(&e->dec);
    journal_close(e->journal);
    strvec_free(&e->log);
    model_snapshot_unref(e->current);
    for (size_t i = 0; i < e->n_results; i++)
        engine_result_clear(&e->results[i]);
    free(e->results);
    struct pending_command *c;
    while ((c = pop_command(e)))
        free_command(c);
    for (int i = 0; i < 2; i++) {
        if (e->wake_pipe[i] >= 0)
            close(e->wake_pipe[i]);
        if (e->cmd_pipe[i] >= 0)
            close(e->cmd_pipe[i]);
    }
    free(e->identity);
    pthread_mutex_destroy(&e->lock);
    pthread_cond_destroy(&e->idle_cond);
    free(e);
}

static int open_state(engine *e, tp_err *err)
{
    /* Viewers and dry runs never take the writer's lock, and never write. */
    journal_mode mode =
        e->opts.read_only || e->opts.dry_run ? JOURNAL_READ_ONLY : JOURNAL_READ_WRITE;
    if (journal_open(e->cfg->state_dir, mode, &e->journal, err) < 0)
        return -1;
    for (size_t i = 0; i < journal_warnings(e->journal)->count; i++)
        engine_log(e, "warning: %s", journal_warnings(e->journal)->items[i]);
    /* A writer repairs what it was warned about: valid records into a fresh file, the bad
     * lines kept aside in journal.corrupt. */
    if (mode == JOURNAL_READ_WRITE && journal_warnings(e->journal)->count) {
        tp_err cerr = {{0}};
        if (journal_compact(e->journal, &cerr) < 0)
            engine_log(e, "warning: %s", cerr.msg);
        else
            engine_log(e, "journal repaired: bad lines moved to journal.corrupt");
    }
    decisions_rebuild(&e->dec, e->journal);
    for (size_t i = 0; i < journal_count(e->journal); i++)
        engine_history_index(e, i);
    return 0;
}

static int open_registry(engine *e, tp_err *err)
{
    if (e->cfg->registries_conf) {
        if (registries_conf_load(e->cfg->registries_conf, &e->rconf, err) < 0)
            return -1;
        e->have_rconf = true;
    }
    registry_options ro = {0};
    ro.state_dir = e->cfg->state_dir;
    ro.conf = e->have_rconf ? &e->rconf : NULL;
    e->registry_opts = ro;
    e->registry = registry_client_new(&ro, err);
    return e->registry ? 0 : -1;
}

static void open_sources(engine *e)
{
    source_env env = {e->cfg->state_dir, e->cfg->git_credentials};
    e->sources = xcalloc(e->cfg->n_sources ? e->cfg->n_sources : 1, sizeof *e->sources);
    strbuf label = {0};
    for (size_t i = 0; i < e->cfg->n_sources; i++) {
        e->sources[i] = source_new(&e->cfg->sources[i], &env);
        strbuf_printf(&label, "%s%s", i ? ", " : "", e->sources[i]->label);
    }
    e->n_sources = e->cfg->n_sources;
    e->sources_label = strbuf_take(&label);
}

engine *engine_start(const engine_options *opts, tp_err *err)
{
    engine *e = xcalloc(1, sizeof *e);
    e->opts = *opts;
    e->cfg = opts->config;
    e->wake_pipe[0] = e->wake_pipe[1] = e->cmd_pipe[0] = e->cmd_pipe[1] = -1;
    e->phase = ENGINE_STARTING;
    e->identity = journal_identity();
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->idle_cond, NULL);
    if (make_pipe(e->wake_pipe, err) < 0 || make_pipe(e->cmd_pipe, err) < 0 ||
        open_state(e, err) < 0 || open_registry(e, err) < 0) {
        engine_free(e);
        return NULL;
    }
    open_sources(e);
    if (e->cfg->n_sources == 0)
        engine_log(e, "warning: no sources configured: nothing to track");
    int rc = pthread_create(&e->thread, NULL, engine_main, e);
    if (rc != 0) {
        tp_err_set(err, "cannot start the engine thread: %s", strerror(rc));
        engine_free(e);
        return NULL;
    }
    e->thread_started = true;
    return e;
}

static void poke_engine(engine *e)
{
    char byte = 1;
    if (write(e->cmd_pipe[1], &byte, 1) < 0 && errno != EAGAIN) {
        /* the engine also wakes on its own timer */
    }
    if (e->registry)
        registry_client_wakeup(e->registry);
}

void engine_stop(engine *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&e->lock);
    e->stop_requested = true;
    pthread_mutex_unlock(&e->lock);
    poke_engine(e);
    if (e->thread_started)
        pthread_join(e->thread, NULL);
    engine_free(e);
}

void engine_finish_when_idle(engine *e)
{
    pthread_mutex_lock(&e->lock);
    e->wait_called = true;
    pthread_mutex_unlock(&e->lock);
    poke_engine(e);
}

void engine_wait(engine *e)
{
    engine_finish_when_idle(e);
    pthread_mutex_lock(&e->lock);
    while (!e->finished)
        pthread_cond_wait(&e->idle_cond, &e->lock);
    pthread_mutex_unlock(&e->lock);
}

int engine_wake_fd(const engine *e)
{
    return e->wake_pipe[0];
}

void engine_drain_wake(engine *e)
{
    drain_fd(e->wake_pipe[0]);
}

model_snapshot *engine_snapshot(engine *e)
{
    pthread_mutex_lock(&e->lock);
    model_snapshot *s = e->current ? model_snapshot_ref(e->current) : NULL;
    pthread_mutex_unlock(&e->lock);
    return s;
}

uint64_t engine_submit(engine *e, const engine_command *cmd)
{
    struct pending_command *c = xcalloc(1, sizeof *c);
    c->kind = cmd->kind;
    c->app = xstrdup(cmd->app);
    c->alias = xstrdup(cmd->alias);
    c->tag = xstrdup(cmd->tag);
    c->policy = xstrdup(cmd->policy);
    c->digest = xstrdup(cmd->digest);
    pthread_mutex_lock(&e->lock);
    c->id = ++e->next_id;
    if (e->queue_tail)
        e->queue_tail->next = c;
    else
        e->queue = c;
    e->queue_tail = c;
    uint64_t id = c->id;
    pthread_mutex_unlock(&e->lock);
    poke_engine(e);
    return id;
}

size_t engine_take_results(engine *e, engine_result *out, size_t max)
{
    pthread_mutex_lock(&e->lock);
    size_t n = e->n_results < max ? e->n_results : max;
    if (n == 0) { /* results may still be NULL: memcpy must not see it */
        pthread_mutex_unlock(&e->lock);
        return 0;
    }
    memcpy(out, e->results, n * sizeof *out);
    memmove(e->results, e->results + n, (e->n_results - n) * sizeof *e->results);
    e->n_results -= n;
    pthread_mutex_unlock(&e->lock);
    return n;
}

void engine_result_clear(engine_result *r)
{
    free(r->message);
    free(r->commit);
    *r = (engine_result){0};
}

const char *engine_cmd_name(engine_cmd_kind kind)
{
    static const char *const names[] = {
        [CMD_REFRESH] = "refresh",       [CMD_APPROVE] = "approve",   [CMD_PIN] = "pin",
        [CMD_UNPIN] = "unpin",           [CMD_ROLLBACK] = "rollback", [CMD_SKIP] = "skip",
        [CMD_SET_POLICY] = "set-policy", [CMD_PAUSE] = "pause",       [CMD_RESUME] = "resume",
        [CMD_SHUTDOWN] = "shutdown",
    };
    return kind <= CMD_SHUTDOWN ? names[kind] : "unknown";
}
