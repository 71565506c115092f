#include "state/decisions.h"

#include <stdlib.h>
#include <string.h>

typedef struct decision_image {
    char *pin;
    char *previous;
    strvec skipped;
} decision_image;

static char *image_key(const char *app, const char *alias)
{
    /* Joined by hand: a scan looks up 5 decisions an image (printf was 1.4 % of a scan). */
    size_t a = strlen(app), b = alias ? strlen(alias) : 0;
    char *key = xmalloc(a + b + 2);
    memcpy(key, app, a);
    key[a] = '\x1f';
    memcpy(key + a + 1, alias ? alias : "", b + 1);
    return key;
}

static decision_image *lookup(const decisions *d, const char *app, const char *alias, bool create)
{
    char *key = image_key(app, alias);
    decision_image *img = strmap_get(&d->images, key);
    if (!img && create) {
        img = xcalloc(1, sizeof *img);
        strmap_put((strmap *)&d->images, key, img);
    }
    free(key);
    return img;
}

static void replace(char **slot, const char *value)
{
    free(*slot);
    *slot = xstrdup(value);
}

bool decisions_action_writes(const char *action)
{
    return str_eq(action, "approve") || str_eq(action, "auto") || str_eq(action, "pin") ||
           str_eq(action, "rollback");
}

void decisions_apply(decisions *d, const journal_record *rec)
{
    if (!str_eq(rec->result, "ok") || !rec->app)
        return;
    if (str_eq(rec->action, "set-policy")) {
        if (str_eq(rec->to, "auto") || str_eq(rec->to, "manual"))
            free(strmap_put(&d->policies, rec->app, xstrdup(rec->to)));
        return;
    }
    decision_image *img = lookup(d, rec->app, rec->alias, true);
    /* A rollback goes back; it is not a new "previous" (a second rollback would otherwise
     * re-deploy the tag just rolled away from). */
    if (decisions_action_writes(rec->action) && !str_eq(rec->action, "rollback") && rec->from &&
        rec->to && strcmp(rec->from, rec->to) != 0)
        replace(&img->previous, rec->from);
    if (str_eq(rec->action, "pin") || str_eq(rec->action, "rollback"))
        replace(&img->pin, rec->to);
    else if (str_eq(rec->action, "unpin"))
        replace(&img->pin, NULL);
    else if (str_eq(rec->action, "skip") && rec->to)
        strvec_push(&img->skipped, rec->to);
}

void decisions_rebuild(decisions *d, const journal *j)
{
    strmap shared = d->shared; /* not the journal's: kept */
    *d = (decisions){0};
    d->shared = shared;
    for (size_t i = 0; i < journal_count(j); i++)
        decisions_apply(d, journal_get(j, i));
}

static void free_image(const char *key, void *value, void *ctx)
{
    (void)key, (void)ctx;
    decision_image *img = value;
    free(img->pin);
    free(img->previous);
    strvec_free(&img->skipped);
    free(img);
}

static void free_value(const char *key, void *value, void *ctx)
{
    (void)key, (void)ctx;
    free(value);
}

static void free_shared(const char *key, void *value, void *ctx)
{
    (void)key, (void)ctx;
    holds_app_free(value);
}

void decisions_free(decisions *d)
{
    strmap_each(&d->images, free_image, NULL);
    strmap_free(&d->images);
    strmap_each(&d->policies, free_value, NULL);
    strmap_free(&d->policies);
    strmap_each(&d->shared, free_shared, NULL);
    strmap_free(&d->shared);
}

void decisions_set_shared(decisions *d, const char *app, holds_app *h)
{
    holds_app *old = h ? strmap_put(&d->shared, app, h) : strmap_remove(&d->shared, app);
    holds_app_free(old);
}

void decisions_hold(decisions *d, const hold_edit *e)
{
    holds_app *a = strmap_get(&d->shared, e->app);
    if (a)
        holds_app_apply(a, e, NULL); /* checked when it was written */
}

void decisions_replace_shared(decisions *d, strmap *next)
{
    strmap_each(&d->shared, free_shared, NULL);
    strmap_free(&d->shared);
    d->shared = *next;
    *next = (strmap){0};
}

/* The app's shared holds when they are the ones that count. */
static const holds_app *listed(const decisions *d, const char *app)
{
    const holds_app *a = strmap_get(&d->shared, app);
    return a && a->listed ? a : NULL;
}

const holds_app *decisions_shared(const decisions *d, const char *app)
{
    return strmap_get(&d->shared, app);
}

const char *decisions_journal_pin(const decisions *d, const char *app, const char *alias)
{
    decision_image *img = lookup(d, app, alias, false);
    return img ? img->pin : NULL;
}

const char *decisions_pin(const decisions *d, const char *app, const char *alias)
{
    const holds_app *shared = listed(d, app);
    if (shared) {
        const holds_image *h = holds_app_image(shared, alias);
        return h ? h->pin : NULL;
    }
    decision_image *img = lookup(d, app, alias, false);
    return img ? img->pin : NULL;
}

bool decisions_skipped(const decisions *d, const char *app, const char *alias, const char *tag)
{
    const holds_app *shared = listed(d, app);
    if (shared)
        return holds_app_skipped(shared, alias, tag);
    decision_image *img = lookup(d, app, alias, false);
    if (!img || !tag)
        return false;
    for (size_t i = 0; i < img->skipped.count; i++)
        if (strcmp(img->skipped.items[i], tag) == 0)
            return true;
    return false;
}

const char *decisions_previous(const decisions *d, const char *app, const char *alias)
{
    decision_image *img = lookup(d, app, alias, false);
    return img ? img->previous : NULL;
}

approval_policy decisions_policy(const decisions *d, const char *app)
{
    const holds_app *shared = decisions_shared(d, app);
    const char *p = shared && (shared->policy || shared->listed) ? shared->policy
                                                                 : strmap_get(&d->policies, app);
    if (str_eq(p, "auto"))
        return APPROVAL_AUTO;
    if (str_eq(p, "manual"))
        return APPROVAL_MANUAL;
    return APPROVAL_DEFAULT;
}
