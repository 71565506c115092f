/* engine_scan: one cycle — read the sources, work out each tracked image's current tag, ask the
 * registries (engine_registry.c), decide by policy, and write what the auto policy allows.
 * Per-image errors never stop the cycle. */
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "manifest/manifest.h"
#include "state/yamlcache.h"
#include "writeback/writeback.h"

approval_policy engine_policy_of(const engine *e, const tracked *t)
{
    return image_policy(t, &e->records.dec, e->opts.approval, e->cfg->approval);
}

/* ---- sources and tracked images ---- */

#define PROGRESS_NS 100000000LL /* at most ten progress publishes a second */

/* The first cycle, while a source's files are read: the header counts them and, on a first
 * start (no last run to show), the table grows with the Applications read so far. */
static void sources_progress(void *ctx, const app_list *list, size_t done, size_t total)
{
    engine *e = ctx;
    /* Counted over the sources: those read before add to both. */
    e->src.files_done = e->src.files_base + done;
    e->src.files_total = e->src.files_base + total;
    if (!e->preview.saved_ns) {
        for (; e->preview.apps < list->count; e->preview.apps++)
            engine_preview_add_app(e, &list->items[e->preview.apps]);
    }
    int64_t now = engine_now_ns();
    if (now - e->src.progress_published_ns < PROGRESS_NS && done < total)
        return;
    e->src.progress_published_ns = now;
    engine_publish(e);
}

/* After each file: ask ahead about the Applications read since the last call, and let the
 * registries' answers come in, so they work while the rest is read. */
static void sources_ask_ahead(void *ctx, const app_list *list)
{
    engine *e = ctx;
    for (; e->src.apps_asked < list->count; e->src.apps_asked++)
        engine_ask_ahead(e, &list->items[e->src.apps_asked]);
    engine_pump_registry(e);
}

/* first: the first cycle (nothing is shown yet but the last run's table, if any). */
static void read_sources(engine *e, bool first)
{
    app_list *lists = xcalloc(e->src.n ? e->src.n : 1, sizeof *lists);
    /* A --once run keeps the manifests it parsed for the next one (state/yamlcache: libyaml was
     * a quarter of a steady scan). A console reads its sources every cycle and keeps its
     * memory for the table (10,000 images in 64 MiB): it parses them. */
    yamlcache *parsed =
        e->opts.once && e->cfg->state_dir
            ? yamlcache_load(e->cfg->state_dir, !e->opts.read_only && !e->opts.dry_run)
            : NULL;
    free(e->src.error);
    e->src.error = NULL;
    e->src.files_base = 0;
    for (size_t i = 0; i < e->src.n; i++) {
        tp_err err = {{0}};
        lists[i].on_file = sources_ask_ahead;
        lists[i].progress_ctx = e;
        e->src.apps_asked = 0;
        if (first && !e->opts.once) { /* a --once run draws no rows while it reads */
            lists[i].on_progress = sources_progress;
            e->preview.apps = 0;
        }
        bool opened = source_open(e->src.list[i], &err) == 0;
        if (opened && i < e->src.n_apps_lists) {
            /* Open, with its folder there: reading cannot fail now, so the last read goes
             * first and two lists of 10,000 Applications are never held at once. */
            app_list_free(&e->src.apps[i]);
        } else if (!opened && i < e->src.n_apps_lists) {
            /* Keep what the last good read of this source said rather than losing the apps. */
            lists[i] = e->src.apps[i];
            e->src.apps[i] = (app_list){0};
        }
        lists[i].yaml_cache = parsed;
        if (!opened || source_list_apps(e->src.list[i], &lists[i], &err) < 0) {
            engine_log(e, "error: %s", err.msg);
            free(e->src.error);
            e->src.error = xstrdup(err.msg);
        }
        source_close(e->src.list[i]);
        lists[i].on_progress = NULL;
        lists[i].on_file = NULL;
        lists[i].yaml_cache = NULL;
        e->src.files_base = e->src.files_total;
        for (size_t k = 0; k < lists[i].errors.count; k++)
            engine_log(e, "error: %s", lists[i].errors.items[k]);
    }
    /* Saved by the writer only (as last-run.json): a reader may not own the state dir. */
    tp_err cache_err = {{0}};
    if (yamlcache_save(parsed, &cache_err) < 0)
        engine_log(e, "warning: %s", cache_err.msg);
    yamlcache_free(parsed);
    /* The tracked table points into the old lists: engine_scan moved it aside already. */
    for (size_t i = 0; i < e->src.n_apps_lists; i++)
        app_list_free(&e->src.apps[i]);
    free(e->src.apps);
    e->src.apps = lists;
    e->src.n_apps_lists = e->src.n;
}

static int compare_tracked(const void *a, const void *b)
{
    const tracked *x = a, *y = b;
    int c = strcmp(x->app->name, y->app->name);
    return c ? c
             : strcmp(x->image->alias ? x->image->alias : "",
                      y->image->alias ? y->image->alias : "");
}

/* The write-back method an image's writes take. */
static const write_method *method_of(const engine *e, const argo_app *app)
{
    return e->write_methods[app->settings.writeback];
}

/* The app's warnings go to the log when they first appear or change, not every cycle: a
 * typo is said once, not every two minutes. Only apps with warnings take an entry. */
static void log_warnings(engine *e, const argo_app *app, const char *text)
{
    if (!text) {
        strmap_remove(&e->src.warned, app->name); /* said again should they come back */
        return;
    }
    uint64_t hash = 1469598103934665603ULL; /* FNV-1a */
    for (const char *p = text; *p; p++)
        hash = (hash ^ (unsigned char)*p) * 1099511628211ULL;
    uintptr_t seen = (uintptr_t)hash | 1; /* never NULL, which means "not said" */
    if ((uintptr_t)strmap_get(&e->src.warned, app->name) == seen)
        return;
    strmap_put(&e->src.warned, app->name, (void *)seen);
    char *copy = xstrdup(text);
    for (char *save, *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        engine_log(e, "warning: app %s: %s", app->name, line);
    free(copy);
}

static void build_tracked(engine *e)
{
    size_t n = 0;
    for (size_t l = 0; l < e->src.n_apps_lists; l++)
        for (size_t a = 0; a < e->src.apps[l].count; a++)
            n += e->src.apps[l].items[a].settings.n_images;
    e->table.images = xcalloc(n ? n : 1, sizeof *e->table.images);
    strmap_free(&e->table.by_key);
    size_t k = 0;
    for (size_t l = 0; l < e->src.n_apps_lists; l++)
        for (size_t a = 0; a < e->src.apps[l].count; a++) {
            const argo_app *app = &e->src.apps[l].items[a];
            if (e->opts.only_app && strcmp(app->name, e->opts.only_app) != 0)
                continue;
            for (size_t i = 0; i < app->settings.errors.count; i++)
                engine_log(e, "error: app %s: %s", app->name, app->settings.errors.items[i]);
            model_text *warnings = engine_app_warnings(app);
            log_warnings(e, app, warnings ? model_text_str(warnings) : NULL);
            for (size_t i = 0; i < app->settings.n_images; i++) {
                tracked *t = &e->table.images[k++];
                t->warnings = warnings ? model_text_ref(warnings) : NULL;
                image_init(t, app, &app->settings.images[i],
                           method_of(e, app)->target(app, e->cfg));
            }
            model_text_unref(warnings);
        }
    e->table.n_images = k;
    qsort(e->table.images, k, sizeof *e->table.images, compare_tracked);
    for (size_t i = 0; i < k; i++) {
        tracked *t = &e->table.images[i];
        if (strmap_put(&e->table.by_key, t->key, t))
            image_fail(t, "%s", "two Applications with this name track the same alias");
    }
}

/* ---- current tags ---- */

typedef struct repo_cache {
    strmap by_url;     /* url -> gitrepo* (fetched once per cycle) */
    strmap by_tree;    /* url \x1f revision -> repotree* (its files at that revision) */
    holds_cycle holds; /* the shared holds read (engine_holds) */
} repo_cache;

/* The files of the app's repository at the revision it reads, opened (and fetched) once per
 * repository and revision per cycle. */
static repotree *tree_for(engine *e, repo_cache *rc, const argo_app *app, tp_err *err)
{
    const char *url = app_repo_url(app);
    if (!url)
        return tp_err_set(err, "app %s: no spec.source.repoURL", app->name), NULL;
    const char *rev = manifest_revision(app);
    char *key = xasprintf("%s\x1f%s", url, rev ? rev : "");
    repotree *tree = strmap_get(&rc->by_tree, key);
    if (tree) {
        free(key);
        return tree;
    }
    gitrepo *repo = strmap_get(&rc->by_url, url);
    if (!repo) {
        gitrepo_opts go = engine_git_opts(e);
        if (manifest_open_repo(app, &go, &repo, err) < 0) {
            free(key);
            return NULL;
        }
        strmap_put(&rc->by_url, url, repo);
    }
    if (gitrepo_resolve(repo, rev, err) < 0 || gitrepo_tree(repo, &tree, err) < 0) {
        free(key);
        return NULL;
    }
    strmap_put(&rc->by_tree, key, tree);
    free(key);
    return tree;
}

static void close_repo(const char *key, void *value, void *ctx)
{
    (void)key, (void)ctx;
    gitrepo_close(value);
}

static void free_tree(const char *key, void *value, void *ctx)
{
    (void)key, (void)ctx;
    repotree_free(value);
}

static void repo_cache_free(repo_cache *rc)
{
    strmap_each(&rc->by_tree, free_tree, NULL); /* trees borrow their repositories */
    strmap_free(&rc->by_tree);
    strmap_each(&rc->by_url, close_repo, NULL);
    strmap_free(&rc->by_url);
}

static void read_current_tags(engine *e, repo_cache *rc)
{
    for (size_t i = 0; i < e->table.n_images;) {
        const argo_app *app = e->table.images[i].app;
        size_t end = i;
        while (end < e->table.n_images && e->table.images[end].app == app)
            end++;
        tp_err err = {{0}};
        current_tag *cur = xcalloc(app->settings.n_images, sizeof *cur);
        repotree *tree = NULL;
        bool from_app = false;
        /* An Application in a cluster that is written by patching it: a chart from a Helm
         * repository has no files to read, so what the Application sets (else what runs) is
         * the current tag; and when its repository cannot be read, the same. */
        bool patched = app->cluster && app->settings.writeback == WRITEBACK_ARGOCD;
        if (app->error)
            ;
        else if (patched && app->chart) {
            manifest_current_from_app(app, "the chart comes from a Helm repository", cur);
            from_app = true;
        } else {
            tree = tree_for(e, rc, app, &err);
            if (!tree && patched) {
                manifest_current_from_app(app, err.msg, cur);
                from_app = true;
            }
        }
        if (tree && manifest_current(app, tree, e->cfg->argocd_namespace, cur, &err) < 0)
            tree = NULL;
        const char *holds_error =
            tree || from_app ? engine_holds_read(e, app, tree, &rc->holds) : NULL;
        for (size_t k = i; k < end; k++) {
            tracked *t = &e->table.images[k];
            if (t->failed)
                continue;
            if (!tree && !from_app) {
                image_fail(t, "%s", err.msg);
                continue;
            }
            if (holds_error) {
                image_fail(t, "%s", holds_error);
                continue;
            }
            const current_tag *c = &cur[t->image - app->settings.images];
            if (c->error)
                image_fail(t, "%s", c->error);
            image_set_current(t, c->tag, c->digest);
        }
        for (size_t k = 0; k < app->settings.n_images; k++)
            current_tag_free(&cur[k]);
        free(cur);
        engine_pump_registry(e); /* the listings asked ahead go on meanwhile */
        i = end;
    }
}

/* ---- decisions ---- */

/* The tag a write puts in git: the digest strategy writes "tag@sha256:…". */
static char *tag_to_write(const tracked *t)
{
    if (t->image->strategy == STRATEGY_DIGEST && t->candidate_digest)
        return xasprintf("%s@%s", t->candidate, t->candidate_digest);
    return xstrdup(t->candidate);
}

static void auto_write(engine *e, tracked *t)
{
    if (e->opts.dry_run) {
        image_would_write(t);
        return;
    }
    if (e->opts.read_only || e->opts.no_auto_writes || !engine_leading(e, NULL, 0))
        return; /* not the leader: the one that is writes it */
    image_writing(t);
    engine_publish(e);
    char commit[41] = "";
    char *from = NULL;
    tp_err err = {{0}};
    /* Under the digest strategy the digest is what moves (written as tag@digest). */
    const char *digest = t->image->strategy == STRATEGY_DIGEST ? t->candidate_digest : NULL;
    write_request req = {"auto", t->candidate, t->candidate_digest, NULL, NULL};
    int rc = engine_write_and_record(e, t, &req, commit, &from, &err);
    if (rc == 0)
        engine_log(e, "%s/%s: %s%s%s is already on %s: nothing written", t->app->name,
                   t->image->alias, t->candidate, digest ? "@" : "", digest ? digest : "",
                   t->merge ? t->merge->branch : "the branch");
    else if (rc == 1)
        engine_log(e, "%s/%s: %s -> %s%s%s written, commit %s%s%s", t->app->name, t->image->alias,
                   from         ? from
                   : t->current ? t->current
                                : "?",
                   t->candidate, digest ? "@" : "", digest ? digest : "", commit,
                   t->merge ? " on branch " : "", t->merge ? t->merge->branch : "");
    if (rc >= 0)
        image_auto_written(t, commit);
    else
        image_write_failed(t, err.msg);
    free(from);
}

/* The diff the console shows before anyone approves. */
static void plan_diff(engine *e, repo_cache *rc, tracked *t)
{
    const write_method *m = method_of(e, t->app);
    if (!m->plan)
        return;
    tp_err err = {{0}};
    repotree *tree = m->reads_files ? tree_for(e, rc, t->app, &err) : NULL;
    if (m->reads_files && !tree)
        return;
    char *new_tag = tag_to_write(t);
    image_update u = {t->image, t->current, new_tag};
    writeback_opts wo = {0};
    wo.git = engine_git_opts(e);
    wo.author_name = e->cfg->git_author_name;
    wo.author_email = e->cfg->git_author_email;
    wo.message_template = e->cfg->commit_message_template;
    wo.argocd_namespace = e->cfg->argocd_namespace;
    writeback_change change = {0};
    if (m->plan(t->app, tree, &u, &wo, &change, &err) == 0) {
        free(t->diff);
        t->diff = xstrdup(change.diff);
    } else {
        free(t->diff);
        t->diff = xasprintf("cannot plan the write: %s", err.msg);
    }
    writeback_change_free(&change);
    free(new_tag);
}

static void log_state_changes(engine *e)
{
    size_t updates = 0, errors = 0;
    for (size_t i = 0; i < e->table.n_images; i++) {
        tracked *t = &e->table.images[i];
        updates += t->state == STATE_UPDATE_AVAILABLE;
        errors += t->state == STATE_ERROR;
        /* A --once engine has one cycle: every state is news, and none is kept for the next
         * (1,000 keys in a map cost it ~2 ms at the end of its only cycle). */
        intptr_t before = e->opts.once ? 0 : (intptr_t)strmap_get(&e->table.last_states, t->key);
        intptr_t now = (intptr_t)t->state + 1;
        if (before == now)
            continue;
        if (!e->opts.once)
            strmap_put(&e->table.last_states, t->key, (void *)now);
        if (t->state == STATE_UPDATE_AVAILABLE && t->image->strategy == STRATEGY_DIGEST)
            engine_log(e, "%s/%s: update available %s@%.19s -> %s@%.19s", t->app->name,
                       t->image->alias, t->current ? t->current : "?",
                       t->current_digest ? t->current_digest : "?", t->candidate,
                       t->candidate_digest ? t->candidate_digest : "?");
        else if (t->state == STATE_UPDATE_AVAILABLE)
            engine_log(e, "%s/%s: update available %s -> %s", t->app->name, t->image->alias,
                       t->current ? t->current : "?", t->candidate);
        else if (t->state == STATE_ERROR)
            engine_log(e, "error: %s/%s: %s", t->app->name, t->image->alias,
                       t->detail ? t->detail : "failed");
    }
    engine_log(e, "cycle done: %zu images, %zu updates waiting, %zu errors", e->table.n_images,
               updates, errors);
}

/* Only the writer (the journal's lock holder) saves the table, so two processes never race on
 * the file; readers use what is there. */
static void save_last_run(engine *e)
{
    /* A cycle a shutdown cut short would leave every image in error, and one whose sources
     * could not all be read would drop their rows: the table saved before says more than
     * either. Sources read cleanly with no image in them save an empty table. */
    if (e->opts.read_only || e->opts.dry_run || e->opts.only_app || engine_stop_requested(e) ||
        e->src.error)
        return;
    lastrun_row *rows = xcalloc(e->table.n_images ? e->table.n_images : 1, sizeof *rows);
    for (size_t i = 0; i < e->table.n_images; i++) {
        const tracked *t = &e->table.images[i];
        const image_settings *img = t->image;
        /* Borrowed strings: nothing here is freed. */
        rows[i] = (lastrun_row){
            .key = t->key,
            .app = (char *)t->app->name,
            .alias = img->alias,
            .image = img->ref.short_name ? img->ref.short_name : img->ref.name,
            .strategy = (char *)strategy_name(img->strategy),
            .constraint = img->constraint,
            .policy = engine_policy_of(e, t) == APPROVAL_AUTO ? "auto" : "manual",
            .current = t->current,
            .candidate = t->candidate,
            .candidate_digest = t->candidate_digest,
            /* An image in error this time (say, its registry did not answer) keeps where its
             * candidate pointed, so the next start still needs no HEAD for it. */
            .hint_tag = t->failed && !t->candidate ? t->hint_tag : NULL,
            .hint_digest = t->failed && !t->candidate ? t->hint_digest : NULL,
            .detail = t->detail,
            .state = t->state,
            .checked_ns = t->last_check_ns,
        };
    }
    tp_err err = {{0}};
    if (lastrun_save(e->cfg->state_dir, rows, e->table.n_images, engine_now_ns(), &err) < 0)
        engine_log(e, "warning: %s", err.msg);
    free(rows);
}

/* What a newly built tracked image takes from before: the row shown so far (last cycle's, or
 * on the first cycle the last run's or the one the read made), and where its candidate pointed
 * when last seen (the hint that spares a HEAD). before: the same image last cycle, or NULL. */
static void carry_over(engine *e, tracked *t, tracked *before)
{
    if (before && !t->failed) {
        t->block = before->block;
        t->from_last_run = before->from_last_run;
        before->block = NULL;
    }
    if (before) {
        t->merge = before->merge;
        before->merge = NULL;
    }
    model_block *shown = strmap_get(&e->preview.by_key, t->key);
    if (!before && shown && !t->failed) {
        t->block = model_block_ref(shown);
        t->from_last_run = e->preview.saved_ns != 0;
    }
    /* This cycle's table, else the hint it carried through a cycle the registry failed, else
     * the last run's. */
    const preview_hint *last_hint = strmap_get(&e->preview.hints, t->key);
    const char *hint_tag = NULL, *hint_digest = NULL;
    if (before && before->candidate && before->candidate_digest) {
        hint_tag = before->candidate;
        hint_digest = before->candidate_digest;
    } else if (before && before->failed && before->hint_tag) {
        hint_tag = before->hint_tag;
        hint_digest = before->hint_digest;
    } else if (last_hint) {
        hint_tag = last_hint->tag;
        hint_digest = last_hint->digest;
    }
    t->hint_tag = hint_tag ? xstrdup(hint_tag) : NULL;
    t->hint_digest = hint_digest ? xstrdup(hint_digest) : NULL;
}

void engine_scan(engine *e)
{
    e->phase = ENGINE_SCANNING;
    e->scan_done = 0;
    engine_publish(e);
    /* Last cycle's table, kept until the new one exists: each image goes on showing what it
     * showed (its published block) until this cycle has decided it again. */
    tracked *old = e->table.images;
    size_t n_old = e->table.n_images;
    strmap old_keys = e->table.by_key;
    e->table.images = NULL;
    e->table.n_images = 0;
    e->table.by_key = (strmap){0};
    read_sources(e, n_old == 0);
    if (e->opts.once) /* its hints spare HEADs (no rows: it draws none); see engine_main */
        engine_build_preview(e, false);
    e->src.files_done = e->src.files_total = 0;
    /* From here to engine_ask_registries the answers asked ahead keep coming in: each step
     * lets the client move (a registry whose answers wait unread is a registry idle). */
    engine_read_git_secrets(e); /* before any repository is opened */
    engine_reconcile(e);        /* before anything is decided: a landed pin counts this cycle */
    engine_pump_registry(e);
    build_tracked(e);
    engine_pump_registry(e);
    for (size_t i = 0; i < e->table.n_images; i++)
        carry_over(e, &e->table.images[i], strmap_get(&old_keys, e->table.images[i].key));
    engine_drop_preview(e);
    if (!e->src.error)
        engine_drop_hints(e);
    for (size_t i = 0; i < n_old; i++)
        image_clear(&old[i]);
    free(old);
    strmap_free(&old_keys);
    engine_pump_registry(e);
    engine_publish(e);
    engine_pump_registry(e);
    repo_cache rc = {0};
    read_current_tags(e, &rc);
    engine_holds_finish(e, &rc.holds);
    engine_ask_registries(e);
    for (size_t i = 0; i < e->table.n_images; i++)
        image_decide(&e->table.images[i], &e->records.dec);
    for (size_t i = 0; i < e->table.n_images; i++) {
        tracked *t = &e->table.images[i];
        if (t->state == STATE_UPDATE_AVAILABLE && engine_policy_of(e, t) == APPROVAL_AUTO)
            auto_write(e, t);
    }
    for (size_t i = 0; i < e->table.n_images && !e->opts.no_diffs; i++) {
        tracked *t = &e->table.images[i];
        if (t->state == STATE_UPDATE_AVAILABLE || t->state == STATE_APPROVED)
            plan_diff(e, &rc, t);
    }
    repo_cache_free(&rc);
    log_state_changes(e);
    save_last_run(e);
    engine_prune_tagsets(e, false);
}
