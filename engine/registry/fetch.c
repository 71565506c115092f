/* registry/fetch: the blocking path `tagpilot test IMAGE` takes — list the tags, then fetch the
 * metadata the strategy needs. */
#include "registry/registry.h"

#include <stdlib.h>
#include <string.h>

#include "select/imageref.h"
#include "registry/internal.h"

typedef struct fetch_ctx {
    tp_err err;
    bool failed;
    strvec tags;
    tag_list *out;
    strvec *mismatch;
} fetch_ctx;

typedef struct fetch_item {
    fetch_ctx *ctx;
    size_t index;
} fetch_item;

static void fail_once(fetch_ctx *ctx, const tp_err *err, const char *tag)
{
    if (ctx->failed)
        return;
    ctx->failed = true;
    ctx->err = *err;
    if (tag)
        tp_err_prefix(&ctx->err, "tag '%s'", tag);
}

static void on_tags(void *ud, const strvec *tags, const tp_err *err)
{
    fetch_ctx *ctx = ud;
    if (err) {
        fail_once(ctx, err, NULL);
        return;
    }
    for (size_t i = 0; i < tags->count; i++)
        strvec_push(&ctx->tags, tags->items[i]);
}

static void on_meta(void *ud, const registry_image_meta *m, const tp_err *err)
{
    fetch_item *it = ud;
    tag_info *t = &it->ctx->out->items[it->index];
    if (err) {
        fail_once(it->ctx, err, t->name);
        return;
    }
    free(t->digest);
    t->digest = xstrdup(m->digest);
    if (!m->platform_match) {
        if (it->ctx->mismatch)
            strvec_push(it->ctx->mismatch, t->name);
        return;
    }
    t->has_created = m->has_created;
    t->created = m->created;
}

static void on_digest(void *ud, const char *digest, const tp_err *err)
{
    fetch_item *it = ud;
    tag_info *t = &it->ctx->out->items[it->index];
    if (err) {
        fail_once(it->ctx, err, t->name);
        return;
    }
    free(t->digest);
    t->digest = xstrdup(digest);
}

int registry_fetch_for_test(const registry_fetch_params *p, tag_list *out, tp_err *err)
{
    registries_conf conf = {0};
    bool have_conf = false;
    if (p->registries_conf_path) {
        if (registries_conf_load(p->registries_conf_path, &conf, err) < 0)
            return -1;
        have_conf = true;
    }
    registry_options opts = {0};
    if (p->tuning)
        opts = *p->tuning;
    opts.state_dir = p->state_dir;
    opts.conf = have_conf ? &conf : NULL;
    opts.credentials = p->credentials;
    registry_client *c = registry_client_new(&opts, err);
    if (!c) {
        registries_conf_free(&conf);
        return -1;
    }
    fetch_ctx ctx = {.out = out, .mismatch = p->platform_mismatch};
    int rc = 0;
    registry_list_tags(c, p->ref, on_tags, &ctx);
    if (registry_client_run(c, err) < 0) {
        rc = -1;
        goto done;
    }
    if (ctx.failed)
        goto failed;
    size_t base = out->count;
    for (size_t i = 0; i < ctx.tags.count; i++)
        tag_list_add(out, ctx.tags.items[i], NULL, NULL);
    fetch_item *items = xcalloc(ctx.tags.count ? ctx.tags.count : 1, sizeof *items);
    for (size_t i = 0; i < ctx.tags.count; i++) {
        items[i] = (fetch_item){&ctx, base + i};
        const char *name = ctx.tags.items[i];
        if (!imageref_tag_valid(name))
            continue; /* never chosen, so never asked about (it would go into a URL) */
        if (p->strategy == STRATEGY_NEWEST_BUILD) {
            if (p->filter && tagfilter_check(p->filter, name, NULL) != TAGFILTER_ALLOWED)
                continue;
            registry_image_metadata(c, p->ref, name, p->platforms, p->n_platforms, on_meta,
                                    &items[i]);
        } else if (p->strategy == STRATEGY_DIGEST && str_eq(name, p->constraint)) {
            registry_tag_digest(c, p->ref, name, on_digest, &items[i]);
        }
    }
    if (registry_client_run(c, err) < 0)
        rc = -1;
    free(items);
    if (rc == 0 && ctx.failed)
        goto failed;
    goto done;
failed:
    *err = ctx.err;
    rc = -1;
done:
    if (p->stats)
        registry_client_stats(c, p->stats);
    registry_client_free(c);
    registries_conf_free(&conf);
    strvec_free(&ctx.tags);
    return rc;
}
