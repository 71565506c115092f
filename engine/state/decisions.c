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
    return xasprintf("%s\x1f%s", app, alias ? alias : "");
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
    *d = (decisions){0};
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

void decisions_free(decisions *d)
{
    strmap_each(&d->images, free_image, NULL);
    strmap_free(&d->images);
    strmap_each(&d->policies, free_value, NULL);
    strmap_free(&d->policies);
}

const char *decisions_pin(const decisions *d, const char *app, const char *alias)
{
    decision_image *img = lookup(d, app, alias, false);
    return img ? img->pin : NULL;
}

bool decisions_skipped(const decisions *d, const char *app, const char *alias, const char *tag)
{
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
    const char *p = strmap_get(&d->policies, app);
    if (str_eq(p, "auto"))
        return APPROVAL_AUTO;
    if (str_eq(p, "manual"))
        return APPROVAL_MANUAL;
    return APPROVAL_DEFAULT;
}
