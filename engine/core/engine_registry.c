/* engine_registry: a cycle's questions to the registries — one tag listing per repository,
 * shared by its images; the selection over it (shared by images that select alike); the digest
 * of a new candidate, and per-tag metadata for the strategies that need it. Answers come back
 * as callbacks while engine_drive_registry runs; a failure is that image's error alone. A
 * registry that has not answered by the client's cycle deadline (counted from
 * registry_client_begin_cycle here) fails its own images and no one else's. Tags outside the
 * tag grammar are never asked about: they would go into a URL, and no strategy picks them. */
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "kube/kube.h"
#include "image_check.h"
#include "select/imageref.h"

typedef struct op_ctx {
    engine *e;
    tracked *t;
    size_t tag_index;
    size_t slot; /* in engine->live_ops */
} op_ctx;

static void image_done(engine *e, tracked *t);

static op_ctx *ctx_new(engine *e, tracked *t, size_t tag_index)
{
    op_ctx *c = xmalloc(sizeof *c);
    *c = (op_ctx){e, t, tag_index, 0};
    c->slot = engine_live_op_add(e, c);
    t->pending++;
    return c;
}

/* An operation finished: when it was the image's last, select and decide. */
static void op_finished(op_ctx *c)
{
    engine *e = c->e;
    tracked *t = c->t;
    engine_live_op_done(e, c->slot);
    free(c);
    if (--t->pending == 0)
        image_done(e, t);
}

/* An image whose tags carry its own metadata (newest-build dates, the digest strategy's followed
 * digest) has a table of its own; the others share their repository's, and their selections. */
static bool needs_own_table(const tracked *t)
{
    return strategy_needs(t->image->strategy) != STRATEGY_NEEDS_TAGS;
}

/* What makes two selections over a shared table the same: the table itself (a key exists only
 * while its verdicts hold a reference to the table, so the address is not reused meanwhile),
 * the strategy, the constraint and the filters. */
static char *selection_key(const tracked *t)
{
    const image_settings *img = t->image;
    strbuf sb = {0};
    strbuf_printf(&sb, "%p\x1f%d\x1f%s\x1f%s", (void *)t->tags, (int)img->strategy,
                  img->constraint ? img->constraint : "\x1e",
                  img->allow_tags ? img->allow_tags : "\x1e");
    for (size_t i = 0; i < img->ignore_tags.count; i++)
        strbuf_printf(&sb, "\x1f%s", img->ignore_tags.items[i]);
    return strbuf_take(&sb);
}

static void drop_table_facts(const char *key, void *value, void *ctx)
{
    (void)key, (void)ctx;
    tag_table *table = value;
    free(table->facts);
    table->facts = NULL;
}

/* The cycle's selections are made (and kept, shared): their facts can go. */
static void drop_facts(engine *e)
{
    strmap_each(&e->tags.tables, drop_table_facts, NULL);
}

static void select_candidate(engine *e, tracked *t)
{
    char *key = needs_own_table(t) ? NULL : selection_key(t);
    tag_verdicts *known = key ? strmap_get(&e->tags.selections, key) : NULL;
    if (known) {
        t->verdicts = tag_verdicts_ref(known);
    } else {
        if (t->image->strategy == STRATEGY_SEMVER && !t->tags->facts)
            t->tags->facts = strategy_tag_facts(&t->tags->list); /* for this cycle's selections */
        strategy_params p = {t->image->strategy, t->image->constraint, t->filter, t->tags->facts};
        strategy_result r = {0};
        ptrdiff_t only = -1;
        tp_err err = {{0}};
        /* Nobody will read the tags' reasons: the candidate alone, most tags unjudged (a
         * selection's verdicts were a third of a steady scan's instructions). */
        if (e->opts.no_evidence ? strategy_candidate(&p, &t->tags->list, &only, &err) < 0
                                : strategy_select(&p, &t->tags->list, &r, &err) < 0) {
            image_fail(t, "%s", err.msg);
            free(key);
            return;
        }
        if (e->opts.no_evidence) {
            t->verdicts = tag_verdicts_candidate(t->tags, only);
        } else {
            strategy_mark_platform_mismatch(&r, &t->tags->list, &t->platform_mismatch);
            t->verdicts = tag_verdicts_new(t->tags, &r);
            strategy_result_free(&r);
        }
        if (key)
            strmap_put(&e->tags.selections, key, tag_verdicts_ref(t->verdicts));
    }
    free(key);
    if (t->verdicts->candidate >= 0) {
        const tag_info *ti = &t->tags->list.items[t->verdicts->candidate];
        image_set_candidate(t, ti->name, ti->digest);
    }
}

static void candidate_digest_cb(void *ud, const char *digest, const tp_err *err)
{
    op_ctx *c = ud;
    if (err)
        engine_log(c->e, "warning: %s/%s: digest of %s unknown: %s", c->t->app->name,
                   c->t->image->alias, c->t->candidate, err->msg);
    else
        image_set_candidate_digest(c->t, digest);
    op_finished(c);
}

static void image_done(engine *e, tracked *t)
{
    if (!t->failed && !t->selected) {
        t->selected = true;
        select_candidate(e, t);
        /* An approval binds to the digest the candidate has now, so learn it (one HEAD) for
         * every image an operator may be asked about. */
        if (!t->failed && t->candidate && !t->candidate_digest && str_eq(t->candidate, t->hint_tag))
            image_set_candidate_digest(t, t->hint_digest); /* seen last cycle */
        /* The registry's word (HEAD) is enough here: nothing is written from it, and an
         * approval re-reads the verified digest (engine_act.c, digest_now). */
        if (!t->failed && t->candidate && !t->candidate_digest && !image_same_as_current(t)) {
            registry_tag_digest_head(e->tags.registry, &t->image->ref, t->candidate,
                                     candidate_digest_cb, ctx_new(e, t, 0));
            return;
        }
    }
    t->last_check_ns = engine_now_ns();
    e->scan_done++;
}

/* The repository's table: last cycle's when the registry lists the same tags (so everything
 * built on it stays shared), else a new one that replaces it. */
static tag_table *shared_table(void *ctx, const char *repository, const strvec *names)
{
    engine *e = ctx;
    tag_table *known = strmap_get(&e->tags.tables, repository);
    uint64_t epoch = registry_client_lists_epoch(e->tags.registry);
    if (epoch != e->tags.matched_epoch) { /* the lists remembered may be gone */
        strmap_free(&e->tags.matched);
        e->tags.matched_epoch = epoch;
    }
    if (known &&
        (strmap_get(&e->tags.matched, repository) == names || tag_table_same_names(known, names))) {
        strmap_put(&e->tags.matched, repository, (void *)names);
        return tag_table_ref(known);
    }
    tag_table *fresh = tag_table_of(names);
    tag_table_unref(strmap_put(&e->tags.tables, repository, tag_table_ref(fresh)));
    strmap_put(&e->tags.matched, repository, (void *)names);
    return fresh;
}

static void check_done(void *ud, image_check *check)
{
    op_ctx *c = ud;
    tracked *t = c->t;
    tag_table *tags = image_check_tags(check);
    t->tags = tags ? tag_table_ref(tags) : NULL;
    const strvec *mismatch = image_check_platform_mismatch(check);
    for (size_t i = 0; i < mismatch->count; i++)
        strvec_push(&t->platform_mismatch, mismatch->items[i]);
    const tp_err *err = image_check_error(check);
    if (err && !t->failed)
        image_fail(t, "%s", err->msg);
    /* Its answers are the image's now: 10,000 checks are not kept for the rest of the cycle.
     * Nothing touches a check after its callback. */
    image_check_free(check);
    t->check = NULL;
    t->check_finished = true;
    op_finished(c);
}

static void start_check(engine *e, tracked *t)
{
    const image_settings *img = t->image;
    image_check_params p = {
        .ref = &img->ref,
        .strategy = img->strategy,
        .constraint = img->constraint,
        .filter = t->filter,
        .platforms = img->platforms,
        .n_platforms = img->n_platforms,
        /* git's digest and the one verified last cycle need no GET again */
        .known_digest = {t->current_digest,
                         str_eq(t->hint_tag, img->constraint) ? t->hint_digest : NULL},
        .table_for = shared_table,
        .table_ctx = e,
    };
    t->check_finished = false;
    image_check *check = image_check_start(e->tags.registry, &p, check_done, ctx_new(e, t, 0));
    if (!t->check_finished) /* answered already (a listing asked ahead): check_done freed it */
        t->check = check;
}

/* The client's cycle (and its deadline) starts at this scan's first question. */
static void begin_cycle(engine *e)
{
    if (e->tags.cycle_begun)
        return;
    registry_client_begin_cycle(e->tags.registry);
    e->tags.cycle_begun = true;
}

/* What engine_ask_registries does with an image before it asks: false when it will not ask. */
static bool will_ask(const image_settings *img)
{
    if (img->error)
        return false;
    tagfilter *f = tagfilter_new(img->allow_tags, (const char *const *)img->ignore_tags.items,
                                 img->ignore_tags.count);
    bool asks = !tagfilter_problem(f) && !tagfilter_disables_image(f);
    tagfilter_free(f);
    return asks;
}

void engine_ask_ahead(engine *e, const argo_app *app)
{
    if (!e->tags.registry || app->error ||
        (e->opts.only_app && strcmp(app->name, e->opts.only_app) != 0))
        return;
    for (size_t i = 0; i < app->settings.n_images; i++) {
        const image_settings *img = &app->settings.images[i];
        if (!will_ask(img))
            continue;
        begin_cycle(e);
        registry_list_tags_ahead(e->tags.registry, &img->ref);
    }
}

#define PUMP_EVERY_NS (200 * 1000) /* a registry answers a tag list in ~1 ms here */

void engine_pump_registry(engine *e)
{
    if (!e->tags.registry || registry_client_outstanding(e->tags.registry) == 0)
        return;
    int64_t now = engine_now_ns();
    if (now - e->tags.pumped_ns < PUMP_EVERY_NS)
        return;
    e->tags.pumped_ns = now;
    /* A failure here is the client's, and engine_drive_registry meets it again. */
    tp_err err = {{0}};
    registry_client_step(e->tags.registry, &err);
}

void engine_ask_registries(engine *e)
{
    if (!e->tags.registry)
        engine_cancel_registry(e); /* a fresh client after an earlier failure */
    if (!e->tags.registry) {
        for (size_t i = 0; i < e->table.n_images; i++)
            if (!e->table.images[i].failed)
                image_fail(&e->table.images[i], "%s", "no registry client (see the log)");
        e->tags.cycle_begun = false;
        return;
    }
    begin_cycle(e);
    for (size_t i = 0; i < e->table.n_images; i++) {
        tracked *t = &e->table.images[i];
        if (t->failed) {
            e->scan_done++;
            continue;
        }
        const image_settings *img = t->image;
        t->filter = tagfilter_new(img->allow_tags, (const char *const *)img->ignore_tags.items,
                                  img->ignore_tags.count);
        if (tagfilter_problem(t->filter)) {
            image_fail(t, "%s", tagfilter_problem(t->filter));
            e->scan_done++;
            continue;
        }
        if (tagfilter_disables_image(t->filter)) {
            t->selected = true;
            e->scan_done++;
            continue;
        }
        start_check(e, t);
    }
    tp_err err = {{0}};
    if (engine_drive_registry(e, &err) < 0) {
        engine_log(e, "error: registry: %s", err.msg);
        /* What did not finish was cancelled (a fresh client); its images are errors. */
        for (size_t i = 0; i < e->table.n_images; i++)
            if (e->table.images[i].pending > 0 && !e->table.images[i].failed)
                image_fail(&e->table.images[i], "registry: %s", err.msg);
    }
    /* The answers are in the images now: the lists and the facts can go. A --once engine's
     * only cycle leaves them to its stop (its process ends next: freeing 100,000 listed tags
     * here was ~3 ms of a 1,000-image scan's tail, with the registry idle). */
    if (!e->opts.once) {
        if (e->tags.registry)
            registry_client_end_cycle(e->tags.registry);
        drop_facts(e);
    }
    e->tags.cycle_begun = false;
}

/* ---- the client and its operations in flight ---- */

/* registry_secret_reader: a Secret's field, through the first kubernetes source's client (the
 * engine thread's, which is the thread the registry client runs on). */
static char *read_secret(void *ud, const char *ns, const char *name, const char *field, tp_err *err)
{
    engine *e = ud;
    kube_client *c = NULL;
    for (size_t i = 0; i < e->src.n && !c; i++)
        c = source_kube_client(e->src.list[i]);
    if (!c) {
        tp_err_set(err, "the kubernetes source has not been read yet");
        return NULL;
    }
    cJSON *data = NULL;
    if (kube_secret(c, ns, name, &data, err) != KUBE_OK)
        return NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, field);
    char *value = cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
    if (!value)
        tp_err_set(err, "Secret %s/%s has no field %s", ns, name, field);
    /* wipe what the Secret held before letting go of it */
    cJSON *item;
    cJSON_ArrayForEach(item, data)
    {
        if (cJSON_IsString(item))
            memset(item->valuestring, 0, strlen(item->valuestring));
    }
    cJSON_Delete(data);
    return value;
}

int engine_open_registry(engine *e, tp_err *err)
{
    if (e->cfg->registries_conf) {
        if (registries_conf_load(e->cfg->registries_conf, &e->tags.rconf, err) < 0)
            return -1;
        e->tags.have_rconf = true;
    }
    registry_options ro = {0};
    ro.state_dir = e->cfg->state_dir;
    ro.conf = e->tags.have_rconf ? &e->tags.rconf : NULL;
    bool cluster = false;
    for (size_t i = 0; i < e->cfg->n_sources; i++)
        cluster |= e->cfg->sources[i].kind == CONFIG_SOURCE_KUBERNETES;
    if (cluster)
        ro.secrets = (registry_secret_reader){read_secret, e};
    e->tags.registry_opts = ro;
    e->tags.registry = registry_client_new(&ro, err);
    return e->tags.registry ? 0 : -1;
}

size_t engine_live_op_add(engine *e, void *ctx)
{
    if (e->tags.n_live_ops == e->tags.cap_live_ops) {
        e->tags.cap_live_ops = e->tags.cap_live_ops ? e->tags.cap_live_ops * 2 : 64;
        e->tags.live_ops =
            xrealloc(e->tags.live_ops, e->tags.cap_live_ops * sizeof *e->tags.live_ops);
    }
    e->tags.live_ops[e->tags.n_live_ops] = ctx;
    return e->tags.n_live_ops++;
}

void engine_live_op_done(engine *e, size_t slot)
{
    e->tags.live_ops[slot] = NULL;
    /* All called back: start the table over, so it does not grow across cycles. */
    while (e->tags.n_live_ops && !e->tags.live_ops[e->tags.n_live_ops - 1])
        e->tags.n_live_ops--;
}

void engine_cancel_registry(engine *e)
{
    registry_client_free(e->tags.registry); /* cancels without calling back */
    for (size_t i = 0; i < e->tags.n_live_ops; i++)
        free(e->tags.live_ops[i]);
    e->tags.n_live_ops = 0;
    tp_err err = {{0}};
    e->tags.registry = registry_client_new(&e->tags.registry_opts, &err);
    if (!e->tags.registry)
        engine_log(e, "error: %s", err.msg);
}

int engine_drive_registry(engine *e, tp_err *err)
{
    if (!e->tags.registry)
        return tp_err_set(err, "no registry client");
    while (registry_client_outstanding(e->tags.registry) > 0) {
        if (engine_stop_requested(e)) {
            engine_cancel_registry(e);
            return tp_err_set(err, "engine stopping");
        }
        /* Commands wait for the scan; a stop interrupts it through registry_client_wakeup.
         * (The command pipe stays out of this poll: nothing drains it here.) */
        if (registry_client_perform(e->tags.registry, 1000, NULL, 0, err) < 0) {
            engine_cancel_registry(e);
            return -1;
        }
    }
    return 0;
}

typedef struct prune_ctx {
    strvec unused;
    bool all;
    bool verdicts; /* which map: tag_verdicts or tag_table */
} prune_ctx;

static void find_unused(const char *key, void *value, void *ctx)
{
    prune_ctx *p = ctx;
    atomic_int *refs = p->verdicts ? &((tag_verdicts *)value)->refs : &((tag_table *)value)->refs;
    if (p->all || atomic_load(refs) == 1) /* only the map holds it: no image uses it now */
        strvec_push(&p->unused, key);
}

void engine_prune_tagsets(engine *e, bool all)
{
    /* Verdicts first: they hold references to tables. */
    prune_ctx p = {{0}, all, true};
    strmap_each(&e->tags.selections, find_unused, &p);
    for (size_t i = 0; i < p.unused.count; i++)
        tag_verdicts_unref(strmap_remove(&e->tags.selections, p.unused.items[i]));
    strvec_free(&p.unused);
    p = (prune_ctx){{0}, all, false};
    strmap_each(&e->tags.tables, find_unused, &p);
    for (size_t i = 0; i < p.unused.count; i++)
        tag_table_unref(strmap_remove(&e->tags.tables, p.unused.items[i]));
    strvec_free(&p.unused);
    if (all) {
        strmap_free(&e->tags.selections);
        strmap_free(&e->tags.tables);
    }
}

void engine_tags_free(engine *e)
{
    engine_prune_tagsets(e, true);
    strmap_free(&e->tags.matched);
    registry_client_free(e->tags.registry);
    for (size_t i = 0; i < e->tags.n_live_ops; i++)
        free(e->tags.live_ops[i]);
    free(e->tags.live_ops);
    if (e->tags.have_rconf)
        registries_conf_free(&e->tags.rconf);
}
