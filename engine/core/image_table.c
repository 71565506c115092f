/* image_table: the tracked images and every change of their state (see image_table.h). */
#include "image_table.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "image_check.h"
#include "select/strategy.h"

void awaiting_merge_free(awaiting_merge *m)
{
    if (!m)
        return;
    free(m->tag);
    free(m->digest);
    free(m->branch);
    free(m->base);
    free(m);
}

void image_init(tracked *t, const argo_app *app, const image_settings *image, char *target)
{
    t->app = app;
    t->image = image;
    t->key = xasprintf("%s\x1f%s", app->name, image->alias ? image->alias : "");
    t->state = STATE_CHECKING;
    t->target = target;
    if (app->error)
        image_fail(t, "%s", app->error);
    else if (image->error)
        image_fail(t, "%s", image->error); /* shown, never written */
}

void image_clear(tracked *t)
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
    image_check_free(t->check);
    *t = (tracked){0};
}

void image_table_free(image_table *tab)
{
    for (size_t i = 0; i < tab->n_images; i++)
        image_clear(&tab->images[i]);
    free(tab->images);
    tab->images = NULL;
    tab->n_images = 0;
    strmap_free(&tab->by_key);
    strmap_free(&tab->last_states);
}

void image_mark_dirty(tracked *t)
{
    if (!t->block)
        return;
    model_block_unref(t->shown);
    t->shown = t->block;
    t->block = NULL;
}

void image_set_detail(tracked *t, const char *fmt, ...)
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
    image_mark_dirty(t);
}

void image_fail(tracked *t, const char *fmt, const char *arg)
{
    t->failed = true;
    t->state = STATE_ERROR;
    image_set_detail(t, fmt, arg);
}

static void replace(char **field, const char *value)
{
    char *copy = xstrdup(value);
    free(*field);
    *field = copy;
}

void image_set_current(tracked *t, const char *tag, const char *digest)
{
    replace(&t->current, tag);
    replace(&t->current_digest, digest);
}

void image_set_candidate(tracked *t, const char *tag, const char *digest)
{
    replace(&t->candidate, tag);
    replace(&t->candidate_digest, digest);
}

void image_set_candidate_digest(tracked *t, const char *digest)
{
    replace(&t->candidate_digest, digest);
}

bool image_same_as_current(const tracked *t)
{
    if (t->image->strategy == STRATEGY_DIGEST)
        return t->current_digest && t->candidate_digest &&
               strcmp(t->current_digest, t->candidate_digest) == 0;
    return str_eq(t->candidate, t->current);
}

/* The candidate is what a write left on another branch, waiting to be merged. */
static bool awaits_merge(const tracked *t)
{
    const awaiting_merge *m = t->merge;
    return m && str_eq(m->tag, t->candidate) &&
           (!m->digest || str_eq(m->digest, t->candidate_digest));
}

static void set_merge_detail(tracked *t, const char *commit)
{
    image_set_detail(t, "%s is on branch %s%s%.12s%s, waiting for it to be merged into %s",
                     t->merge->tag, t->merge->branch, commit && *commit ? " (commit " : "",
                     commit ? commit : "", commit && *commit ? ")" : "", t->merge->base);
}

void image_decide(tracked *t, const decisions *dec)
{
    const char *app = t->app->name, *alias = t->image->alias;
    const char *pin = decisions_pin(dec, app, alias);
    if (t->failed) {
        t->state = STATE_ERROR;
    } else if (pin) {
        t->state = STATE_PINNED;
        if (t->candidate && !str_eq(t->candidate, pin))
            image_set_detail(t, "pinned at %s; %s is available", pin, t->candidate);
        else
            image_set_detail(t, "pinned at %s", pin);
    } else if (tagfilter_disables_image(t->filter)) {
        t->state = STATE_UP_TO_DATE;
        image_set_detail(t, "%s", "not updated: ignore-tags is '*'");
    } else if (!t->candidate) {
        t->state = STATE_UP_TO_DATE;
        image_set_detail(t, "%s",
                         t->tags && t->tags->list.count ? "no tag is eligible"
                                                        : "the registry lists no tags");
    } else if (image_same_as_current(t)) {
        t->state = STATE_UP_TO_DATE;
        image_set_detail(t, NULL);
        awaiting_merge_free(t->merge); /* merged, if it waited */
        t->merge = NULL;
    } else if (decisions_skipped(dec, app, alias, t->candidate)) {
        t->state = STATE_HELD;
        image_set_detail(t, "%s was skipped by an operator", t->candidate);
    } else if (awaits_merge(t)) {
        t->state = STATE_WRITTEN; /* not written again: it is there */
        set_merge_detail(t, NULL);
    } else {
        t->state = STATE_UPDATE_AVAILABLE;
        image_set_detail(t, NULL);
    }
    image_mark_dirty(t);
}

approval_policy image_policy(const tracked *t, const decisions *dec, engine_policy_override over,
                             approval_policy config_default)
{
    approval_policy p = decisions_policy(dec, t->app->name);
    if (p != APPROVAL_DEFAULT)
        return p;
    if (t->app->settings.approval != APPROVAL_DEFAULT)
        return t->app->settings.approval;
    if (over == ENGINE_POLICY_AUTO)
        return APPROVAL_AUTO;
    if (over == ENGINE_POLICY_MANUAL)
        return APPROVAL_MANUAL;
    return config_default == APPROVAL_AUTO ? APPROVAL_AUTO : APPROVAL_MANUAL;
}

char *image_digest_moved(const tracked *t, const char *shown, const char *now)
{
    const char *bound = shown ? shown : t->candidate_digest;
    if (!bound || strcmp(bound, now) == 0)
        return NULL;
    return xasprintf("%s moved from %.19s… to %.19s… since it was checked; review it again",
                     t->candidate, bound, now);
}

void image_candidate_moved(tracked *t, const char *now, const char *why)
{
    image_set_candidate_digest(t, now);
    t->state = STATE_UPDATE_AVAILABLE;
    image_set_detail(t, "%s", why);
}

void image_writing(tracked *t)
{
    t->state = STATE_WRITING;
    image_mark_dirty(t);
}

void image_write_failed(tracked *t, const char *why)
{
    t->state = STATE_ERROR;
    image_set_detail(t, "%s", why);
}

void image_written(tracked *t, const decisions *dec, const char *tag, const char *digest,
                   bool committed)
{
    if (!t->merge) { /* else the branch the tag is read from has it only after the merge */
        replace(&t->current, tag);
        if (digest)
            replace(&t->current_digest, digest);
    }
    image_decide(t, dec);
    if (committed && t->state == STATE_UP_TO_DATE)
        t->state = STATE_WRITTEN;
    image_mark_dirty(t);
}

void image_auto_written(tracked *t, const char *commit)
{
    t->state = STATE_WRITTEN;
    if (t->merge) {
        /* The tag read stays what the scan's branch has until the merge. */
        set_merge_detail(t, commit);
        return;
    }
    replace(&t->current, t->candidate);
    replace(&t->current_digest, t->candidate_digest);
    if (commit[0])
        image_set_detail(t, "commit %.12s", commit);
    else
        image_set_detail(t, "%s", "git already had it");
}

void image_would_write(tracked *t)
{
    t->state = STATE_APPROVED;
    image_set_detail(t, "auto policy: would write %s (dry run)", t->candidate);
}

tracked *image_table_find(image_table *tab, const char *app, const char *alias, size_t *matches)
{
    tracked *found = NULL;
    *matches = 0;
    for (size_t i = 0; i < tab->n_images; i++) {
        tracked *t = &tab->images[i];
        if (strcmp(t->app->name, app) != 0)
            continue;
        if (alias && !str_eq(t->image->alias, alias))
            continue;
        found = t;
        (*matches)++;
    }
    return found;
}
