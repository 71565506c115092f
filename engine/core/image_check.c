/* image_check: one image's registry questions (see image_check.h). */
#include "image_check.h"

#include <stdlib.h>
#include <string.h>

typedef struct check_op {
    image_check *check;
    size_t tag_index;
} check_op;

struct image_check {
    image_check_params p;
    registry_client *client;
    image_check_done done;
    void *ud;
    tag_table *tags;
    strvec platform_mismatch;
    check_op list_op;
    check_op followed_op; /* digest: the one tag followed */
    check_op *ops;        /* newest-build: one per tag, once listed; NULL for the others (a
                             semver check of 500 tags must not cost 8 KiB an image) */
    int pending;
    tp_err *err; /* the first failure, or NULL (allocated then: 10,000 checks run at once) */
};

static void fail(image_check *c, const tp_err *err, const char *tag)
{
    if (c->err)
        return;
    c->err = xmalloc(sizeof *c->err);
    *c->err = *err;
    if (tag)
        tp_err_prefix(c->err, "tag '%s'", tag);
}

static void op_finished(image_check *c)
{
    if (--c->pending == 0)
        c->done(c->ud, c);
}

static tag_info *tag_of(const check_op *op)
{
    return &op->check->tags->list.items[op->tag_index];
}

static void on_meta(void *ud, const registry_image_meta *meta, const tp_err *err)
{
    check_op *op = ud;
    tag_info *ti = tag_of(op);
    if (err) {
        fail(op->check, err, ti->name);
    } else if (!meta->platform_match) {
        strvec_push(&op->check->platform_mismatch, ti->name);
    } else {
        ti->digest = xstrdup(meta->digest);
        ti->has_created = meta->has_created;
        ti->created = meta->created;
    }
    op_finished(op->check);
}

static void on_digest(void *ud, const char *digest, const tp_err *err)
{
    check_op *op = ud;
    tag_info *ti = tag_of(op);
    if (err) {
        fail(op->check, err, ti->name);
    } else {
        free(ti->digest);
        ti->digest = xstrdup(digest);
    }
    op_finished(op->check);
}

/* The digest strategy writes "tag@digest", so the digest it offers must be verified (a GET and
 * the SHA-256 of the body). A HEAD tells whether the followed tag moved; only a digest not
 * already known to be good costs the GET. */
static void on_followed_head(void *ud, const char *digest, const tp_err *err)
{
    check_op *op = ud;
    image_check *c = op->check;
    if (err) {
        on_digest(ud, NULL, err);
        return;
    }
    if (str_eq(digest, c->p.known_digest[0]) || str_eq(digest, c->p.known_digest[1]))
        on_digest(ud, digest, NULL);
    else
        registry_tag_digest(c->client, c->p.ref, c->p.constraint, on_digest, op);
}

static void ask(image_check *c, size_t i, bool head)
{
    const char *name = c->tags->list.items[i].name;
    c->pending++;
    if (strategy_needs(c->p.strategy) == STRATEGY_NEEDS_METADATA) {
        c->ops[i] = (check_op){c, i};
        registry_image_metadata(c->client, c->p.ref, name, c->p.platforms, c->p.n_platforms,
                                on_meta, &c->ops[i]);
        return;
    }
    c->followed_op = (check_op){c, i};
    if (head)
        registry_tag_digest_head(c->client, c->p.ref, name, on_followed_head, &c->followed_op);
    else
        registry_tag_digest(c->client, c->p.ref, name, on_digest, &c->followed_op);
}

static void on_tags(void *ud, const strvec *names, const tp_err *err)
{
    check_op *op = ud;
    image_check *c = op->check;
    if (err) {
        fail(c, err, NULL);
        op_finished(c);
        return;
    }
    strategy_need need = strategy_needs(c->p.strategy);
    c->tags = need == STRATEGY_NEEDS_TAGS && c->p.table_for
                  ? c->p.table_for(c->p.table_ctx, c->p.ref->name, names)
                  : tag_table_of(names);
    const tag_list *list = &c->tags->list;
    if (need == STRATEGY_NEEDS_METADATA) {
        c->ops = xcalloc(list->count ? list->count : 1, sizeof *c->ops);
        for (size_t i = 0; i < list->count; i++)
            if (imageref_tag_valid(list->items[i].name) &&
                (!c->p.filter ||
                 tagfilter_check(c->p.filter, list->items[i].name, NULL) == TAGFILTER_ALLOWED))
                ask(c, i, false);
    } else if (need == STRATEGY_NEEDS_DIGEST && c->p.constraint &&
               imageref_tag_valid(c->p.constraint)) {
        bool known = c->p.known_digest[0] || c->p.known_digest[1];
        for (size_t i = 0; i < list->count; i++)
            if (strcmp(list->items[i].name, c->p.constraint) == 0)
                ask(c, i, known);
    }
    op_finished(c);
}

image_check *image_check_start(registry_client *client, const image_check_params *p,
                               image_check_done done, void *ud)
{
    image_check *c = xcalloc(1, sizeof *c);
    c->p = *p;
    c->client = client;
    c->done = done;
    c->ud = ud;
    c->list_op = (check_op){c, 0};
    c->pending = 1;
    registry_list_tags(client, p->ref, on_tags, &c->list_op);
    return c;
}

const tp_err *image_check_error(const image_check *c)
{
    return c->err;
}

tag_table *image_check_tags(const image_check *c)
{
    return c->tags;
}

const strvec *image_check_platform_mismatch(const image_check *c)
{
    return &c->platform_mismatch;
}

void image_check_free(image_check *c)
{
    if (!c)
        return;
    tag_table_unref(c->tags);
    strvec_free(&c->platform_mismatch);
    free(c->ops);
    free(c->err);
    free(c);
}
