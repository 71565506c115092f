/* engine_act: operator commands — approve, pin, unpin, rollback, skip, set-policy, refresh,
 * pause, resume, shutdown — and the write-back they cause. Every action is in the journal
 * (fsync'd) before its result is posted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "writeback/writeback.h"

int engine_record(engine *e, const journal_record *rec, tp_err *err)
{
    if (e->opts.dry_run)
        return 0;
    journal_record named = *rec;
    if (!named.user && e->records.acting)
        named.user = (char *)e->records.acting;
    if (journal_append(e->records.journal, &named, err) < 0)
        return -1;
    size_t index = journal_count(e->records.journal) - 1;
    decisions_apply(&e->records.dec, journal_get(e->records.journal, index));
    engine_history_index(e, index);
    return 0;
}

static tracked *find_tracked(engine *e, const struct pending_command *c, tp_err *err)
{
    if (!c->app)
        return tp_err_set(err, "%s needs APP[/ALIAS]", engine_cmd_name(c->kind)), NULL;
    size_t matches = 0;
    tracked *found = image_table_find(&e->table, c->app, c->alias, &matches);
    if (!found)
        return tp_err_set(err, "no tracked image %s%s%s%s%s%s", c->app, c->alias ? "/" : "",
                          c->alias ? c->alias : "",
                          e->src.error ? " (reading the sources failed: " : "",
                          e->src.error ? e->src.error : "", e->src.error ? ")" : ""),
               NULL;
    if (matches > 1)
        return tp_err_set(err, "%s tracks %zu images: say which, as %s/ALIAS", c->app, matches,
                          c->app),
               NULL;
    return found;
}

static bool tag_known(const tracked *t, const char *tag)
{
    for (size_t i = 0; t->tags && i < t->tags->list.count; i++)
        if (strcmp(t->tags->list.items[i].name, tag) == 0)
            return true;
    return false;
}

/* The digest a tag has right now, straight from the registry. */
static void digest_now_cb(void *ud, const char *digest, const tp_err *err)
{
    char **out = ud;
    *out = err ? NULL : xstrdup(digest);
}

static char *digest_now(engine *e, const tracked *t, const char *tag, tp_err *err)
{
    char *digest = NULL;
    if (!e->tags.registry)
        return tp_err_set(err, "no registry client"), NULL;
    /* The client answers tag -> digest from this cycle's cache; an approval must see where the
     * tag points now, so start a new cycle of the client's caches first. */
    registry_client_begin_cycle(e->tags.registry);
    registry_tag_digest(e->tags.registry, &t->image->ref, tag, digest_now_cb, &digest);
    if (engine_drive_registry(e, err) < 0)
        return NULL;
    if (!digest)
        tp_err_set(err, "%s/%s: cannot read the digest of %s now", t->app->name, t->image->alias,
                   tag);
    return digest;
}

/* A hold just written counts at once, not from the next read. */
static void hold_written(engine *e, const tracked *t, const hold_edit *hold)
{
    const holds_app *before = decisions_shared(&e->records.dec, t->app->name);
    bool first = !before || !before->listed;
    if (!before) { /* the holds did not name the app yet: they do now */
        holds_app *entry = xcalloc(1, sizeof *entry);
        entry->name = xstrdup(t->app->name);
        decisions_set_shared(&e->records.dec, t->app->name, entry);
    }
    decisions_hold(&e->records.dec, hold);
    if (first)
        engine_holds_note_listed(e, t);
}

/* Write tag for an operator action and record it: approve, pin, rollback. */
static void act_write(engine *e, const struct pending_command *c, tracked *t, const char *action,
                      const char *tag, const char *digest, const char *trailer_name,
                      const hold_edit *hold)
{
    char commit[41] = "";
    tp_err err = {{0}};
    char *from = NULL;
    bool digest_moves = digest && t->image->strategy == STRATEGY_DIGEST;
    if (!str_eq(tag, t->current) || (digest_moves && !str_eq(digest, t->current_digest))) {
        image_writing(t);
        engine_publish(e);
    }
    write_request req = {action, tag, digest, trailer_name, hold};
    int rc = engine_write_and_record(e, t, &req, commit, &from, &err);
    if (rc >= 0 && hold)
        hold_written(e, t, hold);
    if (rc < 0) {
        image_write_failed(t, err.msg);
        engine_post_result(e, c->id, c->kind, false, NULL, "%s/%s: %s", t->app->name,
                           t->image->alias, err.msg);
        free(from);
        return;
    }
    /* On another branch (git-branch base:target) the tag waits there for a merge. */
    char *where = t->merge ? xasprintf(" on branch %s, waiting for it to be merged into %s",
                                       t->merge->branch, t->merge->base)
                           : xstrdup("");
    const write_method *m = e->write_methods[t->app->settings.writeback];
    if (rc == 1) {
        char receipt[128];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        snprintf(receipt, sizeof receipt, m->receipt, commit);
#pragma GCC diagnostic pop
        engine_post_result(e, c->id, c->kind, true, commit, "%s/%s: %s -> %s written (%s)%s",
                           t->app->name, t->image->alias, from ? from : "?", tag, receipt, where);
    } else {
        engine_post_result(e, c->id, c->kind, true, NULL, "%s/%s: %s %s (%s%s)", t->app->name,
                           t->image->alias, action, tag, m->already, where);
    }
    free(where);
    image_written(t, &e->records.dec, tag, digest, rc == 1);
    free(from);
}

static void act_approve(engine *e, const struct pending_command *c, tracked *t)
{
    if (t->state == STATE_PINNED) {
        engine_post_result(e, c->id, c->kind, false, NULL, "%s/%s is pinned at %s: unpin it first",
                           t->app->name, t->image->alias,
                           decisions_pin(&e->records.dec, t->app->name, t->image->alias));
        return;
    }
    /* An image whose write failed keeps its candidate (the error is the write's, not the
     * image's: engine_execute refuses those): it may be approved again. */
    bool retry = t->state == STATE_ERROR && t->candidate && !image_same_as_current(t);
    if (t->state != STATE_UPDATE_AVAILABLE && t->state != STATE_HELD && !retry) {
        engine_post_result(e, c->id, c->kind, false, NULL, "%s/%s has no update to approve (%s)",
                           t->app->name, t->image->alias, model_state_name(t->state));
        return;
    }
    if (c->tag && !str_eq(c->tag, t->candidate)) {
        engine_post_result(e, c->id, c->kind, false, NULL,
                           "%s/%s: the candidate is now %s, not %s; review it again", t->app->name,
                           t->image->alias, t->candidate, c->tag);
        return;
    }
    /* The approval binds to the digest the operator saw; the tag must still point there. */
    const char *bound = c->digest ? c->digest : t->candidate_digest;
    tp_err err = {{0}};
    char *now = digest_now(e, t, t->candidate, &err);
    if (!now) {
        engine_post_result(e, c->id, c->kind, false, NULL, "%s", err.msg);
        return;
    }
    char *why = image_digest_moved(t, c->digest, now);
    if (why) {
        journal_record rec = {.action = "approve",
                              .app = (char *)t->app->name,
                              .alias = (char *)t->image->alias,
                              .from = t->current,
                              .to = t->candidate,
                              .digest = (char *)bound,
                              .result = "refused",
                              .detail = why};
        tp_err jerr = {{0}};
        if (engine_record(e, &rec, &jerr) < 0)
            engine_log(e, "error: %s", jerr.msg);
        image_candidate_moved(t, now, why);
        engine_post_result(e, c->id, c->kind, false, NULL, "%s/%s: approval refused: %s",
                           t->app->name, t->image->alias, why);
        free(why);
        free(now);
        return;
    }
    char *candidate = xstrdup(t->candidate);
    act_write(e, c, t, "approve", candidate, now, "Approved-by", NULL);
    free(candidate);
    free(now);
}

static void act_pin(engine *e, const struct pending_command *c, tracked *t, bool rollback)
{
    const char *tag = c->tag;
    if (!tag && rollback)
        tag = decisions_previous(&e->records.dec, t->app->name, t->image->alias);
    if (!tag) {
        engine_post_result(e, c->id, c->kind, false, NULL,
                           rollback ? "%s/%s: no earlier tag is recorded to roll back to; "
                                      "name one: rollback APP TAG"
                                    : "%s/%s: pin needs a TAG",
                           t->app->name, t->image->alias);
        return;
    }
    if (!tag_known(t, tag)) {
        engine_post_result(e, c->id, c->kind, false, NULL, "%s/%s: the registry has no tag '%s'",
                           t->app->name, t->image->alias, tag);
        return;
    }
    char *pin = xstrdup(tag);
    char *digest = NULL;
    if (t->image->strategy == STRATEGY_DIGEST) {
        tp_err err = {{0}};
        digest = digest_now(e, t, pin, &err);
        if (!digest) {
            engine_post_result(e, c->id, c->kind, false, NULL, "%s", err.msg);
            free(pin);
            return;
        }
    }
    /* Where holds are shared the pin goes with the tag, in the same commit or patch. */
    hold_edit hold = {HOLD_PIN, t->app->name, t->image->alias, pin};
    bool shared = engine_holds_shared(t->app);
    act_write(e, c, t, rollback ? "rollback" : "pin", pin, digest,
              rollback ? "Rolled-back-by" : "Pinned-by", shared ? &hold : NULL);
    free(pin);
    free(digest);
}

/* unpin, skip, set-policy where the app's holds are shared: a write of the holds alone. */
static int write_hold(engine *e, tracked *t, const char *action, const hold_edit *hold,
                      const char *trailer_name, char **done, tp_err *err)
{
    char commit[41] = "";
    write_request req = {action, NULL, NULL, trailer_name, hold};
    int rc = engine_write_and_record(e, t, &req, commit, NULL, err);
    if (rc < 0)
        return -1;
    hold_written(e, t, hold);
    const write_method *m = e->write_methods[t->app->settings.writeback];
    char receipt[128];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(receipt, sizeof receipt, m->receipt, commit);
#pragma GCC diagnostic pop
    *done = xstrdup(rc == 1 ? receipt : "the shared holds already say so");
    return 0;
}

static void act_record_only(engine *e, const struct pending_command *c, tracked *t,
                            const char *action, const char *tag)
{
    const holds_app *shared = decisions_shared(&e->records.dec, t->app->name);
    if (shared && shared->error) {
        /* The journal is not where this app's holds live: recording it there would say done. */
        engine_post_result(e, c->id, c->kind, false, NULL, "%s/%s: %s", t->app->name,
                           t->image->alias, shared->error);
        return;
    }
    if (engine_holds_shared(t->app)) {
        hold_edit hold = {str_eq(action, "skip") ? HOLD_SKIP : HOLD_UNPIN, t->app->name,
                          t->image->alias, tag};
        tp_err err = {{0}};
        char *done = NULL;
        if (write_hold(e, t, action, &hold, str_eq(action, "skip") ? "Skipped-by" : "Unpinned-by",
                       &done, &err) < 0) {
            engine_post_result(e, c->id, c->kind, false, NULL, "%s/%s: %s", t->app->name,
                               t->image->alias, err.msg);
            return;
        }
        image_decide(t, &e->records.dec);
        engine_post_result(e, c->id, c->kind, true, NULL, "%s/%s: %s%s%s (%s)", t->app->name,
                           t->image->alias, action, tag ? " " : "", tag ? tag : "", done);
        free(done);
        return;
    }
    journal_record rec = {.action = (char *)action,
                          .app = (char *)t->app->name,
                          .alias = (char *)t->image->alias,
                          .from = t->current,
                          .to = (char *)tag,
                          .result = "ok"};
    tp_err err = {{0}};
    if (engine_record(e, &rec, &err) < 0) {
        engine_post_result(e, c->id, c->kind, false, NULL, "%s", err.msg);
        return;
    }
    image_decide(t, &e->records.dec);
    engine_post_result(e, c->id, c->kind, true, NULL, "%s/%s: %s%s%s", t->app->name,
                       t->image->alias, action, tag ? " " : "", tag ? tag : "");
}

static void execute(engine *e, const struct pending_command *c);

void engine_execute(engine *e, const struct pending_command *c)
{
    /* A command from `tagpilot serve` acts for the peer: the journal and the trailer name it. */
    e->records.acting = c->user;
    execute(e, c);
    e->records.acting = NULL;
}

static void execute(engine *e, const struct pending_command *c)
{
    /* Read-only is enforced here, not only by the console's key table. */
    if (engine_cmd_writes(c->kind) && (e->opts.read_only || e->opts.dry_run)) {
        engine_post_result(e, c->id, c->kind, false, NULL, "%s refused: %s",
                           engine_cmd_name(c->kind),
                           e->opts.read_only ? "tagpilot is read-only" : "dry run");
        return;
    }
    char why[200];
    if (engine_cmd_writes(c->kind) && !engine_leading(e, why, sizeof why)) {
        engine_post_result(e, c->id, c->kind, false, NULL, "%s refused: %s",
                           engine_cmd_name(c->kind), why);
        return;
    }
    switch (c->kind) {
    case CMD_REFRESH:
        e->refresh_requested = true;
        {
            engine_post_result(e, c->id, c->kind, true, NULL, "refresh requested");
            return;
        }
    case CMD_PAUSE:
        e->phase = ENGINE_PAUSED;
        {
            engine_post_result(e, c->id, c->kind, true, NULL, "paused");
            return;
        }
    case CMD_RESUME:
        e->phase = ENGINE_IDLE;
        {
            engine_post_result(e, c->id, c->kind, true, NULL, "resumed");
            return;
        }
    case CMD_SHUTDOWN:
        pthread_mutex_lock(&e->inbox.lock);
        e->inbox.stop_requested = true;
        pthread_mutex_unlock(&e->inbox.lock);
        {
            engine_post_result(e, c->id, c->kind, true, NULL, "shutting down");
            return;
        }
    case CMD_SET_POLICY: {
        if (!c->app || !(str_eq(c->policy, "auto") || str_eq(c->policy, "manual"))) {
            engine_post_result(e, c->id, c->kind, false, NULL,
                               "set-policy needs APP and auto or manual");
            return;
        }
        tracked *first = NULL;
        for (size_t i = 0; i < e->table.n_images && !first; i++)
            if (strcmp(e->table.images[i].app->name, c->app) == 0)
                first = &e->table.images[i];
        tp_err err = {{0}};
        char *done = NULL;
        if (first && engine_holds_shared(first->app)) {
            hold_edit hold = {HOLD_POLICY, c->app, NULL, c->policy};
            if (write_hold(e, first, "set-policy", &hold, "Policy-set-by", &done, &err) < 0) {
                engine_post_result(e, c->id, c->kind, false, NULL, "%s: %s", c->app, err.msg);
                return;
            }
        } else {
            journal_record rec = {
                .action = "set-policy", .app = c->app, .to = c->policy, .result = "ok"};
            if (engine_record(e, &rec, &err) < 0) {
                engine_post_result(e, c->id, c->kind, false, NULL, "%s", err.msg);
                return;
            }
        }
        for (size_t i = 0; i < e->table.n_images; i++)
            if (strcmp(e->table.images[i].app->name, c->app) == 0)
                image_mark_dirty(&e->table.images[i]);
        engine_post_result(e, c->id, c->kind, true, NULL, "%s: policy %s%s%s%s", c->app, c->policy,
                           done ? " (" : "", done ? done : "", done ? ")" : "");
        free(done);
        return;
    }
    default:
        break;
    }
    tp_err err = {{0}};
    tracked *t = find_tracked(e, c, &err);
    if (!t) {
        engine_post_result(e, c->id, c->kind, false, NULL, "%s", err.msg);
        return;
    }
    if (t->failed && c->kind != CMD_UNPIN) {
        engine_post_result(e, c->id, c->kind, false, NULL, "%s/%s is in error: %s", t->app->name,
                           t->image->alias, t->detail ? t->detail : "");
        return;
    }
    switch (c->kind) {
    case CMD_APPROVE: {
        act_approve(e, c, t);
        return;
    }
    case CMD_PIN: {
        act_pin(e, c, t, false);
        return;
    }
    case CMD_ROLLBACK: {
        act_pin(e, c, t, true);
        return;
    }
    case CMD_UNPIN:
        if (!decisions_pin(&e->records.dec, t->app->name, t->image->alias)) {
            engine_post_result(e, c->id, c->kind, false, NULL, "%s/%s is not pinned", t->app->name,
                               t->image->alias);
            return;
        }
        {
            act_record_only(e, c, t, "unpin", NULL);
            return;
        }
    case CMD_SKIP: {
        const char *tag = c->tag ? c->tag : t->candidate;
        if (!tag) {
            engine_post_result(e, c->id, c->kind, false, NULL, "%s/%s has no candidate to skip",
                               t->app->name, t->image->alias);
            return;
        }
        {
            act_record_only(e, c, t, "skip", tag);
            return;
        }
    }
    default:
        return;
    }
}
