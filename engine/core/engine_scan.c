/* engine_scan: one cycle — read the sources, work out each tracked image's current tag, ask the
 * registries (engine_registry.c), decide by policy, and write what the auto policy allows.
 * Per-image errors never stop the cycle. */
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "manifest/manifest.h"
#include "writeback/writeback.h"

void tracked_clear(tracked *t)
{
    free(t->key);
    free(t->current);
    free(t->current_digest);
    tagfilter_free(t->filter);
    tag_table_unref(t->tags);
    tag_verdicts_unref(t->verdicts);
    strvec_free(&t->platform_mismatch);
    free(t->candidate);
    free(t->candidate_digest);
    free(t->hint_tag);
    free(t->hint_digest);
    free(t->detail);
    model_text_unref(t->warnings);
    free(t->diff);
    free(t->target);
    model_block_unref(t->block);
    model_block_unref(t->shown);
    awaiting_merge_free(t->merge);
    *t = (tracked){0};
}

approval_policy engine_policy_of(const engine *e, const tracked *t)
{
    approval_policy p = decisions_policy(&e->dec, t->app->name);
    if (p != APPROVAL_DEFAULT)
        return p;
    if (t->app->settings.approval != APPROVAL_DEFAULT)
        return t->app->settings.approval;
    if (e->opts.approval == ENGINE_POLICY_AUTO)
        return APPROVAL_AUTO;
    if (e->opts.approval == ENGINE_POLICY_MANUAL)
        return APPROVAL_MANUAL;
    return e->cfg->approval == APPROVAL_AUTO ? APPROVAL_AUTO : APPROVAL_MANUAL;
}

/* ---- sources and tracked images ---- */

#define PROGRESS_NS 100000000LL /* at most ten progress publishes a second */

/* The first cycle, while a source's files are read: the header counts them and, on a first
 * start (no last run to show), the table grows with the Applications read so far. */
static void sources_progress(void *ctx, const app_list *list, size_t done, size_t total)
{
    engine *e = ctx;
    /* Counted over the sources: those read before add to both. */
    e->files_done = e->files_base + done;
    e->files_total = e->files_base + total;
    if (!e->preview_saved_ns) {
        for (; e->preview_apps < list->count; e->preview_apps++)
            engine_preview_add_app(e, &list->items[e->preview_apps]);
    }
    int64_t now = engine_now_ns();
    if (now - e->progress_published_ns < PROGRESS_NS && done < total)
        return;
    e->progress_published_ns = now;
    engine_publish(e);
}

/* first: the first cycle (nothing is shown yet but the last run's table, if any). */
static void read_sources(engine *e, bool first)
{
    app_list *lists = xcalloc(e->n_sources ? e->n_sources : 1, sizeof *lists);
    free(e->source_error);
    e->source_error = NULL;
    e->files_base = 0;
    for (size_t i = 0; i < e->n_sources; i++) {
        tp_err err = {{0}};
        if (first) {
            lists[i].on_progress = sources_progress;
            lists[i].progress_ctx = e;
            e->preview_apps = 0;
        }
        bool opened = source_open(e->sources[i], &err) == 0;
        if (opened && i < e->n_apps_lists) {
            /* Open, with its folder there: reading cannot fail now, so the last read goes
             * first and two lists of 10,000 Applications are never held at once. */
            app_list_free(&e->apps[i]);
        } else if (!opened && i < e->n_apps_lists) {
            /* Keep what the last good read of this source said rather than losing the apps. */
            lists[i] = e->apps[i];
            e->apps[i] = (app_list){0};
        }
        if (!opened || source_list_apps(e->sources[i], &lists[i], &err) < 0) {
            engine_log(e, "error: %s", err.msg);
            free(e->source_error);
            e->source_error = xstrdup(err.msg);
        }
        source_close(e->sources[i]);
        lists[i].on_progress = NULL;
        e->files_base = e->files_total;
        for (size_t k = 0; k < lists[i].errors.count; k++)
            engine_log(e, "error: %s", lists[i].errors.items[k]);
    }
    /* The tracked table points into the old lists: engine_scan moved it aside already. */
    for (size_t i = 0; i < e->n_apps_lists; i++)
        app_list_free(&e->apps[i]);
    free(e->apps);
    e->apps = lists;
    e->n_apps_lists = e->n_sources;
}

static int compare_tracked(const void *a, const void *b)
{
    const tracked *x = a, *y = b;
    int c = strcmp(x->app->name, y->app->name);
    return c ? c
             : strcmp(x->image->alias ? x->image->alias : "",
                      y->image->alias ? y->image->alias : "");
}

static char *target_text(const argo_app *app, const engine *e)
{
    const app_settings *s = &app->settings;
    const char *url = app_repo_url(app) ? app_repo_url(app) : "?";
    if (s->writeback != WRITEBACK_GIT)
        return xasprintf("argocd: the Application itself (needs a Kubernetes source)");
    char *redacted = gitrepo_redact_url(url);
    char *file;
    const char *path = app->path && *app->path ? app->path : ".";
    if (s->target == TARGET_HELMVALUES)
        file = xasprintf("%s/%s", path, s->target_path ? s->target_path : "values.yaml");
    else if (s->target == TARGET_KUSTOMIZATION)
        file = xasprintf("%s/kustomization.yaml", s->target_path ? s->target_path : path);
    else {
        char *name = manifest_argocd_source_name(app, e->cfg->argocd_namespace);
        file = xasprintf("%s/%s", path, name);
        free(name);
    }
    char *text = xasprintf("%s in %s", file, redacted);
    free(file);
    free(redacted);
    return text;
}

/* The app's warnings go to the log when they first appear or change, not every cycle: a
 * typo is said once, not every two minutes. Only apps with warnings take an entry. */
static void log_warnings(engine *e, const argo_app *app, const char *text)
{
    if (!text) {
        strmap_remove(&e->warned, app->name); /* said again should they come back */
        return;
    }
    uint64_t hash = 1469598103934665603ULL; /* FNV-1a */
    for (const char *p = text; *p; p++)
        hash = (hash ^ (unsigned char)*p) * 1099511628211ULL;
    uintptr_t seen = (uintptr_t)hash | 1; /* never NULL, which means "not said" */
    if ((uintptr_t)strmap_get(&e->warned, app->name) == seen)
        return;
    strmap_put(&e->warned, app->name, (void *)seen);
    char *copy = xstrdup(text);
    for (char *save, *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        engine_log(e, "warning: app %s: %s", app->name, line);
    free(copy);
}

static void build_tracked(engine *e)
{
    size_t n = 0;
    for (size_t l = 0; l < e->n_apps_lists; l++)
        for (size_t a = 0; a < e->apps[l].count; a++)
            n += e->apps[l].items[a].settings.n_images;
    e->images = xcalloc(n ? n : 1, sizeof *e->images);
    strmap_free(&e->by_key);
    size_t k = 0;
    for (size_t l = 0; l < e->n_apps_lists; l++)
        for (size_t a = 0; a < e->apps[l].count; a++) {
            const argo_app *app = &e->apps[l].items[a];
            if (e->opts.only_app && strcmp(app->name, e->opts.only_app) != 0)
                continue;
            for (size_t i = 0; i < app->settings.errors.count; i++)
                engine_log(e, "error: app %s: %s", app->name, app->settings.errors.items[i]);
            model_text *warnings = engine_app_warnings(app);
            log_warnings(e, app, warnings ? model_text_str(warnings) : NULL);
            for (size_t i = 0; i < app->settings.n_images; i++) {
                tracked *t = &e->images[k++];
                t->warnings = warnings ? model_text_ref(warnings) : NULL;
                t->app = app;
                t->image = &app->settings.images[i];
                t->key = xasprintf("%s\x1f%s", app->name, t->image->alias ? t->image->alias : "");
                t->state = STATE_CHECKING;
                t->target = target_text(app, e);
                if (app->error)
                    tracked_fail(t, "%s", app->error);
                else if (t->image->error)
                    tracked_fail(t, "%s", t->image->error); /* shown, never written */
            }
            model_text_unref(warnings);
        }
    e->n_images = k;
    qsort(e->images, k, sizeof *e->images, compare_tracked);
    for (size_t i = 0; i < k; i++) {
        tracked *t = &e->images[i];
        if (strmap_put(&e->by_key, t->key, t))
            tracked_fail(t, "%s", "two Applications with this name track the same alias");
    }
}

/* ---- current tags ---- */

typedef struct repo_cache {
    strmap by_url;  /* url -> gitrepo* (fetched once per cycle) */
    strmap by_tree; /* url \x1f revision -> repotree* (its files at that revision) */
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
        gitrepo_opts go = gitrepo_opts_from(e->cfg);
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
    for (size_t i = 0; i < e->n_images;) {
        const argo_app *app = e->images[i].app;
        size_t end = i;
        while (end < e->n_images && e->images[end].app == app)
            end++;
        tp_err err = {{0}};
        repotree *tree = app->error ? NULL : tree_for(e, rc, app, &err);
        current_tag *cur = xcalloc(app->settings.n_images, sizeof *cur);
        if (tree && manifest_current(app, tree, e->cfg->argocd_namespace, cur, &err) < 0)
            tree = NULL;
        for (size_t k = i; k < end; k++) {
            tracked *t = &e->images[k];
            if (t->failed)
                continue;
            if (!tree) {
                tracked_fail(t, "%s", err.msg);
                continue;
            }
            const current_tag *c = &cur[t->image - app->settings.images];
            if (c->error)
                tracked_fail(t, "%s", c->error);
            t->current = xstrdup(c->tag);
            t->current_digest = xstrdup(c->digest);
        }
        for (size_t k = 0; k < app->settings.n_images; k++)
            current_tag_free(&cur[k]);
        free(cur);
        i = end;
    }
}

/* ---- decisions ---- */

/* The candidate is what a write left on another branch, waiting to be merged. */
static bool awaits_merge(const tracked *t)
{
    const awaiting_merge *m = t->merge;
    return m && str_eq(m->tag, t->candidate) &&
           (!m->digest || str_eq(m->digest, t->candidate_digest));
}

static void set_merge_detail(tracked *t, const char *commit)
{
    tracked_set_detail(t, "%s is on branch %s%s%.12s%s, waiting for it to be merged into %s",
                       t->merge->tag, t->merge->branch, commit && *commit ? " (commit " : "",
                       commit ? commit : "", commit && *commit ? ")" : "", t->merge->base);
}

void engine_decide(engine *e, tracked *t)
{
    const char *app = t->app->name, *alias = t->image->alias;
    const char *pin = decisions_pin(&e->dec, app, alias);
    if (t->failed) {
        t->state = STATE_ERROR;
    } else if (pin) {
        t->state = STATE_PINNED;
        if (t->candidate && !str_eq(t->candidate, pin))
            tracked_set_detail(t, "pinned at %s; %s is available", pin, t->candidate);
        else
            tracked_set_detail(t, "pinned at %s", pin);
    } else if (tagfilter_disables_image(t->filter)) {
        t->state = STATE_UP_TO_DATE;
        tracked_set_detail(t, "%s", "not updated: ignore-tags is '*'");
    } else if (!t->candidate) {
        t->state = STATE_UP_TO_DATE;
        tracked_set_detail(t, "%s",
                           t->tags && t->tags->list.count ? "no tag is eligible"
                                                          : "the registry lists no tags");
    } else if (tracked_same_as_current(t)) {
        t->state = STATE_UP_TO_DATE;
        tracked_set_detail(t, NULL);
        awaiting_merge_free(t->merge); /* merged, if it waited */
        t->merge = NULL;
    } else if (decisions_skipped(&e->dec, app, alias, t->candidate)) {
        t->state = STATE_HELD;
        tracked_set_detail(t, "%s was skipped by an operator", t->candidate);
    } else if (awaits_merge(t)) {
        t->state = STATE_WRITTEN; /* not written again: it is there */
        set_merge_detail(t, NULL);
    } else {
        t->state = STATE_UPDATE_AVAILABLE;
        tracked_set_detail(t, NULL);
    }
    tracked_mark_dirty(t);
}

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
        t->state = STATE_APPROVED;
        tracked_set_detail(t, "auto policy: would write %s (dry run)", t->candidate);
        return;
    }
    if (e->opts.read_only || e->opts.no_auto_writes)
        return;
    t->state = STATE_WRITING;
    tracked_mark_dirty(t);
    engine_publish(e);
    char commit[41] = "";
    char *from = NULL;
    tp_err err = {{0}};
    /* Under the digest strategy the digest is what moves (written as tag@digest). */
    const char *digest = t->image->strategy == STRATEGY_DIGEST ? t->candidate_digest : NULL;
    write_request req = {"auto", t->candidate, t->candidate_digest, NULL};
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
    if (rc >= 0 && t->merge) {
        /* The tag read stays what the scan's branch has until the merge. */
        t->state = STATE_WRITTEN;
        set_merge_detail(t, commit);
    } else if (rc >= 0) {
        free(t->current);
        t->current = xstrdup(t->candidate);
        free(t->current_digest);
        t->current_digest = xstrdup(t->candidate_digest);
        t->state = STATE_WRITTEN;
        if (commit[0])
            tracked_set_detail(t, "commit %.12s", commit);
        else
            tracked_set_detail(t, "%s", "git already had it");
    } else {
        t->state = STATE_ERROR;
        tracked_set_detail(t, "%s", err.msg);
    }
    free(from);
}

/* The diff the console shows before anyone approves. */
static void plan_diff(engine *e, repo_cache *rc, tracked *t)
{
    if (t->app->settings.writeback != WRITEBACK_GIT)
        return;
    tp_err err = {{0}};
    repotree *tree = tree_for(e, rc, t->app, &err);
    if (!tree)
        return;
    char *new_tag = tag_to_write(t);
    image_update u = {t->image, t->current, new_tag};
    writeback_opts wo = {0};
    wo.git = gitrepo_opts_from(e->cfg);
    wo.author_name = e->cfg->git_author_name;
    wo.author_email = e->cfg->git_author_email;
    wo.message_template = e->cfg->commit_message_template;
    wo.argocd_namespace = e->cfg->argocd_namespace;
    writeback_change change = {0};
    if (writeback_plan_in(t->app, tree, &u, 1, &wo, &change, &err) == 0) {
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
    for (size_t i = 0; i < e->n_images; i++) {
        tracked *t = &e->images[i];
        updates += t->state == STATE_UPDATE_AVAILABLE;
        errors += t->state == STATE_ERROR;
        intptr_t before = (intptr_t)strmap_get(&e->last_states, t->key);
        intptr_t now = (intptr_t)t->state + 1;
        if (before == now)
            continue;
        strmap_put(&e->last_states, t->key, (void *)now);
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
    engine_log(e, "cycle done: %zu images, %zu updates waiting, %zu errors", e->n_images, updates,
               errors);
}

/* Only the writer (the journal's lock holder) saves the table, so two processes never race on
 * the file; readers use what is there. */
static void save_last_run(engine *e)
{
    /* A cycle a shutdown cut short would leave every image in error, and one whose sources
     * could not all be read would drop their rows: the table saved before says more than
     * either. Sources read cleanly with no image in them save an empty table. */
    if (e->opts.read_only || e->opts.dry_run || e->opts.only_app || engine_stop_requested(e) ||
        e->source_error)
        return;
    lastrun_row *rows = xcalloc(e->n_images ? e->n_images : 1, sizeof *rows);
    for (size_t i = 0; i < e->n_images; i++) {
        const tracked *t = &e->images[i];
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
    if (lastrun_save(e->cfg->state_dir, rows, e->n_images, engine_now_ns(), &err) < 0)
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
    model_block *shown = strmap_get(&e->preview_by_key, t->key);
    if (!before && shown && !t->failed) {
        t->block = model_block_ref(shown);
        t->from_last_run = e->preview_saved_ns != 0;
    }
    /* This cycle's table, else the hint it carried through a cycle the registry failed, else
     * the last run's. */
    const preview_hint *last_hint = strmap_get(&e->preview_hints, t->key);
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
    tracked *old = e->images;
    size_t n_old = e->n_images;
    strmap old_keys = e->by_key;
    e->images = NULL;
    e->n_images = 0;
    e->by_key = (strmap){0};
    read_sources(e, n_old == 0);
    e->files_done = e->files_total = 0;
    engine_reconcile(e); /* before anything is decided: a landed pin counts this cycle */
    build_tracked(e);
    for (size_t i = 0; i < e->n_images; i++)
        carry_over(e, &e->images[i], strmap_get(&old_keys, e->images[i].key));
    engine_drop_preview(e);
    if (!e->source_error)
        engine_drop_hints(e);
    for (size_t i = 0; i < n_old; i++)
        tracked_clear(&old[i]);
    free(old);
    strmap_free(&old_keys);
    engine_publish(e);
    repo_cache rc = {0};
    read_current_tags(e, &rc);
    engine_ask_registries(e);
    for (size_t i = 0; i < e->n_images; i++)
        engine_decide(e, &e->images[i]);
    for (size_t i = 0; i < e->n_images; i++) {
        tracked *t = &e->images[i];
        if (t->state == STATE_UPDATE_AVAILABLE && engine_policy_of(e, t) == APPROVAL_AUTO)
            auto_write(e, t);
    }
    for (size_t i = 0; i < e->n_images; i++) {
        tracked *t = &e->images[i];
        if (t->state == STATE_UPDATE_AVAILABLE || t->state == STATE_APPROVED)
            plan_diff(e, &rc, t);
    }
    repo_cache_free(&rc);
    log_state_changes(e);
    save_last_run(e);
    engine_prune_tagsets(e, false);
}
