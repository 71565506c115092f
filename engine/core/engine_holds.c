/* engine_holds: each cycle, every Application's shared holds (state/holds) are read from where
 * its write-back goes — .tagpilot/holds.yaml in the tree the scan read (git), or its
 * tagpilot.io/ annotations (argocd) — and handed to the decisions, where they replace this
 * state dir's pins, skips and policy for the app once they list it. Holds that cannot be read
 * stop the app's images: an unread pin must not let an image move. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

/* One holds file, parsed once per tree a cycle. */
typedef struct parsed_holds {
    holds h;
    char *error; /* why the file cannot be used, or NULL */
} parsed_holds;

static parsed_holds *parse_tree(repotree *tree, strmap *files)
{
    char key[32];
    snprintf(key, sizeof key, "%p", (void *)tree);
    parsed_holds *p = strmap_get(files, key);
    if (p)
        return p;
    p = xcalloc(1, sizeof *p);
    strbuf sb = {0};
    tp_err err = {{0}};
    int rc = repotree_read(tree, HOLDS_PATH, &sb, &err);
    if (rc == 0 && holds_parse(sb.data ? sb.data : "", sb.len, HOLDS_PATH, &p->h, &err) < 0)
        rc = -1;
    if (rc == -1)
        p->error = xasprintf("the shared holds cannot be read (%s); nothing moves until the "
                             "file is fixed",
                             err.msg);
    strbuf_free(&sb);
    strmap_put(files, key, p);
    return p;
}

/* The app's entry for this cycle: a copy of what was read, or an unlisted one. */
static holds_app *entry_for(const argo_app *app, const holds_app *found, const char *error)
{
    holds_app *h = found ? holds_app_dup(found) : xcalloc(1, sizeof *h);
    if (!found)
        h->name = xstrdup(app->name);
    if (error)
        h->error = xstrdup(error);
    return h;
}

/* git-branch base:target: the scan reads the base, writes go to a review branch. A hold there
 * would count only once merged, one on the base would skip the review: such apps keep their
 * holds in the journal (docs/writeback.md). */
static bool review_branch(const argo_app *app)
{
    const char *spec = app->settings.git_branch;
    return spec && strchr(spec, ':');
}

bool engine_holds_shared(const argo_app *app)
{
    return app->settings.writeback == WRITEBACK_ARGOCD ? app->cluster != NULL : !review_branch(app);
}

const char *engine_holds_read(engine *e, const argo_app *app, repotree *tree, holds_cycle *hc)
{
    (void)e;
    const holds_app *found = NULL;
    const char *error = NULL;
    if (!engine_holds_shared(app))
        return NULL;
    if (app->settings.writeback == WRITEBACK_ARGOCD) {
        found = app->holds;
        error = app->holds_error;
    } else if (tree) {
        parsed_holds *p = parse_tree(tree, &hc->files);
        found = holds_find(&p->h, app->name);
        error = p->error;
    }
    /* Only apps the holds name, or cannot be read for, take an entry: at 10,000 Applications
     * an empty one each was megabytes, rebuilt every cycle. */
    if (!found && !error)
        return NULL;
    holds_app *entry = entry_for(app, found, error);
    holds_app_free(strmap_put(&hc->next, app->name, entry));
    return entry->error;
}

static void free_parsed(const char *key, void *value, void *ctx)
{
    (void)key, (void)ctx;
    parsed_holds *p = value;
    holds_free(&p->h);
    free(p->error);
    free(p);
}

void engine_holds_finish(engine *e, holds_cycle *hc)
{
    decisions_replace_shared(&e->records.dec, &hc->next);
    strmap_each(&hc->files, free_parsed, NULL);
    strmap_free(&hc->files);
}

void engine_holds_note_listed(engine *e, const tracked *t)
{
    /* The first hold an app shares makes its shared holds the ones that count: say which of
     * this state dir's own no longer do. */
    for (size_t i = 0; i < e->table.n_images; i++) {
        const tracked *o = &e->table.images[i];
        if (o->app != t->app)
            continue;
        const char *mine = decisions_journal_pin(&e->records.dec, o->app->name, o->image->alias);
        const char *shared = decisions_pin(&e->records.dec, o->app->name, o->image->alias);
        if (mine && !str_eq(mine, shared))
            engine_log(e,
                       "warning: %s/%s: the pin at %s recorded in this state dir's journal no "
                       "longer counts: %s's holds are shared now (docs/writeback.md); pin it "
                       "again to keep it",
                       o->app->name, o->image->alias, mine, o->app->name);
    }
}
