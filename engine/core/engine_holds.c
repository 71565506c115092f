/* engine_holds: each cycle, every Application's shared holds (state/holds) are read from where
 * its write-back goes — .tagpilot/holds.yaml in the tree the scan read (git), or its
 * tagpilot.io/ annotations (argocd) — and handed to the decisions, where they replace this
 * state dir's pins, skips and policy for the app. Holds that cannot be read stop the app's
 * images: an unread pin must not let an image move. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

/* One holds file, parsed once per tree a cycle. */
typedef struct parsed_holds {
    holds h;
    char *error; /* why the file cannot be used, or NULL */
} parsed_holds;

static parsed_holds *parse_tree(repotree *tree, strmap *cache)
{
    char key[32];
    snprintf(key, sizeof key, "%p", (void *)tree);
    parsed_holds *p = strmap_get(cache, key);
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
    strmap_put(cache, key, p);
    return p;
}

/* The app's holds as their own entry (an empty one when it has none: still shared). */
static holds_app *entry_for(const argo_app *app, const holds_app *found)
{
    holds_app *h = found ? holds_app_dup(found) : xcalloc(1, sizeof *h);
    if (!found)
        h->name = xstrdup(app->name);
    return h;
}

const char *engine_holds_read(engine *e, const argo_app *app, repotree *tree, strmap *cache)
{
    decisions *dec = &e->records.dec;
    if (app->settings.writeback == WRITEBACK_ARGOCD) {
        if (!app->cluster) {
            decisions_set_shared(dec, app->name, NULL);
            return NULL;
        }
        if (app->holds_error)
            return app->holds_error;
        decisions_set_shared(dec, app->name, entry_for(app, app->holds));
        return NULL;
    }
    if (!tree) {
        decisions_set_shared(dec, app->name, NULL);
        return NULL;
    }
    parsed_holds *p = parse_tree(tree, cache);
    if (p->error)
        return p->error;
    decisions_set_shared(dec, app->name, entry_for(app, holds_find(&p->h, app->name)));
    return NULL;
}

static void free_parsed(const char *key, void *value, void *ctx)
{
    (void)key, (void)ctx;
    parsed_holds *p = value;
    holds_free(&p->h);
    free(p->error);
    free(p);
}

void engine_holds_cache_free(strmap *cache)
{
    strmap_each(cache, free_parsed, NULL);
    strmap_free(cache);
}
