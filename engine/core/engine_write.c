/* engine_write: the one write-and-record path every write takes — approve, pin, rollback and the
 * auto policy: plan and commit (writeback), an intent record in the journal before the push,
 * the push, the outcome after. A write counts as done only once its outcome is in the journal;
 * an intent whose outcome never came (tagpilot stopped, the transfer broke off, the disk filled
 * after the push) is reconciled against the remote by engine_reconcile. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_internal.h"
#include "manifest/manifest.h"
#include "source/gitrepo.h"
#include "writeback/writeback.h"

/* A write's id: unique per process and time, shared by its intent and outcome records. */
static char *new_op_id(void)
{
    static unsigned counter;
    return xasprintf("%lld-%ld-%u", (long long)(engine_now_ns() / 1000000), (long)getpid(),
                     ++counter);
}

/* What a request's records say it moves to: the tag, or the hold's tag or policy. */
static const char *request_to(const write_request *req)
{
    return req->tag ? req->tag : req->hold ? req->hold->value : NULL;
}

/* The alias a request's records name: none for an app's policy. */
static const char *request_alias(const tracked *t, const write_request *req)
{
    return req->hold && req->hold->op == HOLD_POLICY ? NULL : t->image->alias;
}

typedef struct intent_ctx {
    engine *e;
    const tracked *t;
    const write_request *req;
    const char *op;
} intent_ctx;

/* writeback's before_push: the intent is durable before anything leaves for the remote. */
static int record_intent(void *ctx, const writeback_intent *in, tp_err *err)
{
    intent_ctx *c = ctx;
    journal_record rec = {
        .action = (char *)c->req->action,
        .app = (char *)c->t->app->name,
        .alias = (char *)request_alias(c->t, c->req),
        /* argocd: no entry to replace yet (a parameter the patch adds)
         * is NULL, and the scan's current tag is what it replaces */
        .from = (char *)(in->replaced && in->replaced[0] ? in->replaced[0] : c->t->current),
        .to = (char *)request_to(c->req),
        .digest = (char *)c->req->digest,
        .commit = (char *)in->commit,
        .result = "intent",
        .op = (char *)c->op,
        .repo = (char *)in->repo_url,
        .branch = (char *)in->branch};
    if (engine_record(c->e, &rec, err) < 0) {
        tp_err_prefix(err, "the intent could not be recorded");
        return -1;
    }
    return 0;
}

/* The branch the scan reads the current tag from: targetRevision, or when that names none
 * (empty, HEAD, a Helm chart's version) the remote's default branch, which the plan's base then
 * is (unless git-branch names another base: taken as the one it is read from). */
static const char *read_branch(const argo_app *app, const writeback_change *c)
{
    const char *rev = manifest_revision(app);
    return rev && *rev && strcmp(rev, "HEAD") != 0 ? rev : c->base_branch;
}

/* After a write that left req->tag in git: when that is on another branch than the one the
 * scan reads, the image waits there for a merge (t->merge); else nothing waits. */
static void note_merge(tracked *t, const write_request *req, const writeback_change *c)
{
    awaiting_merge_free(t->merge);
    t->merge = NULL;
    const char *read = read_branch(t->app, c);
    if (!c->push_branch || !read || str_eq(c->push_branch, read))
        return;
    t->merge = xcalloc(1, sizeof *t->merge);
    t->merge->tag = xstrdup(req->tag);
    t->merge->digest = t->image->strategy == STRATEGY_DIGEST ? xstrdup(req->digest) : NULL;
    t->merge->branch = xstrdup(c->push_branch);
    t->merge->base = xstrdup(read);
}

int engine_write_and_record(engine *e, tracked *t, const write_request *req, char commit[41],
                            char **replaced, tp_err *err)
{
    commit[0] = '\0';
    if (replaced)
        *replaced = NULL;
    if (e->opts.read_only)
        return tp_err_set(err, "read-only: tagpilot was started with --read-only");
    if (e->opts.dry_run)
        return tp_err_set(err, "dry run: nothing is written");
    char why[200];
    if (!engine_leading(e, why, sizeof why))
        return tp_err_set(err, "%s", why);
    /* Under the digest strategy the tag stays and the digest moves. */
    bool digest_moves = req->digest && t->image->strategy == STRATEGY_DIGEST;
    bool changes = req->tag && (!str_eq(req->tag, t->current) ||
                                (digest_moves && !str_eq(req->digest, t->current_digest)));
    journal_record rec = {.action = (char *)req->action,
                          .app = (char *)t->app->name,
                          .alias = (char *)request_alias(t, req),
                          .from = t->current,
                          .to = (char *)request_to(req),
                          .digest = (char *)req->digest,
                          .result = "ok"};
    /* The auto policy's non-writes are not actions: recorded, one would repeat every cycle. */
    bool automatic = str_eq(req->action, "auto");
    if (!changes && !req->hold) {
        if (!automatic && engine_record(e, &rec, err) < 0)
            return -1;
        return 0;
    }
    const write_method *method = e->write_methods[t->app->settings.writeback];
    if (method->usable && method->usable(t->app, err) < 0)
        return -1;
    char *new_tag = !changes       ? NULL
                    : digest_moves ? xasprintf("%s@%s", req->tag, req->digest)
                                   : xstrdup(req->tag);
    /* The peer's user for a served command, on this host: "Approved-by: alice@host". */
    const char *at = strrchr(e->records.identity, '@');
    char *trailer = !req->trailer_name ? NULL
                    : e->records.acting
                        ? xasprintf("%s: %s%s", req->trailer_name, e->records.acting, at ? at : "")
                        : xasprintf("%s: %s", req->trailer_name, e->records.identity);
    char *op = new_op_id();
    intent_ctx ictx = {e, t, req, op};
    image_update u = {t->image, t->current, new_tag};
    const char *trailers[1] = {trailer};
    writeback_opts wo = {0};
    wo.git = engine_git_opts(e);
    wo.author_name = e->cfg->git_author_name;
    wo.author_email = e->cfg->git_author_email;
    wo.message_template = e->cfg->commit_message_template;
    wo.argocd_namespace = e->cfg->argocd_namespace;
    wo.trailers = trailer ? trailers : NULL;
    wo.n_trailers = trailer ? 1 : 0;
    wo.hold = req->hold;
    /* A patch that only changes annotations has no tag whose arrival could be checked later:
     * its record comes after the patch. A commit's can always be found on its branch. */
    wo.before_push = changes || method->reads_files ? record_intent : NULL;
    wo.hook_ctx = &ictx;
    writeback_result res = {0};
    tp_err werr = {{0}};
    int rc = method->apply(t->app, changes ? &u : NULL, &wo, &res, &werr);
    /* The tag the commit replaced, as read on the tip it was built on. */
    const char *from = res.n_replaced && res.replaced[0] ? res.replaced[0] : t->current;
    rec.from = (char *)from;
    rec.op = op;
    rec.repo = res.change.repo_url;
    rec.branch = res.change.push_branch;
    int out = 0;
    /* A patch of annotations alone has no intent to reconcile: recorded as failed now, saying
     * it may have landed (the next cycle reads the annotations either way). */
    bool unknown_hold = rc == GITREPO_UNKNOWN && !wo.before_push;
    if (rc < 0 && (rc != GITREPO_UNKNOWN || unknown_hold)) {
        rec.result = "error";
        rec.detail = werr.msg;
        tp_err jerr = {{0}};
        if (engine_record(e, &rec, &jerr) < 0)
            engine_log(e, "error: %s", jerr.msg);
        out = tp_err_set(err, "%s%s", werr.msg,
                         unknown_hold ? "; it may have been applied: the next cycle reads it" : "");
    } else if (rc == GITREPO_UNKNOWN) {
        e->records.intents_pending = true;
        /* No outcome is recorded: the intent stands until the remote says (next cycle). */
        out = tp_err_set(err, "%s; whether commit %.12s reached %s is checked on the next cycle",
                         werr.msg, res.commit,
                         res.change.push_branch ? res.change.push_branch : "the branch");
    } else {
        rec.commit = res.commit[0] ? res.commit : NULL;
        tp_err jerr = {{0}};
        if ((res.commit[0] || !automatic) && engine_record(e, &rec, &jerr) < 0) {
            /* Not acknowledged: the intent record stands, and the next cycle records the
             * outcome from the remote. */
            e->records.intents_pending = res.commit[0] != '\0';
            out = res.commit[0]
                      ? tp_err_set(err,
                                   "written (commit %.12s) but the outcome is not in the "
                                   "journal (%s); it is reconciled from the intent record on "
                                   "the next cycle",
                                   res.commit, jerr.msg)
                      : tp_err_set(err, "not in the journal: %s", jerr.msg);
        } else {
            memcpy(commit, res.commit, sizeof res.commit);
            if (replaced)
                *replaced = xstrdup(from);
            out = res.commit[0] ? 1 : 0;
            e->records.writes += (uint64_t)out;
            if (req->tag) /* a hold alone leaves an earlier write's merge waiting */
                note_merge(t, req, &res.change);
        }
    }
    writeback_result_free(&res);
    free(op);
    free(trailer);
    free(new_tag);
    return out;
}

/* ---- reconciling intents without an outcome ---- */

/* The URL to reach a record's repository: an Application's own (it may carry credentials the
 * record's display form dropped), else the record's. */
static const char *repo_url_for(engine *e, const journal_record *rec)
{
    for (size_t l = 0; l < e->src.n_apps_lists; l++)
        for (size_t a = 0; a < e->src.apps[l].count; a++) {
            const argo_app *app = &e->src.apps[l].items[a];
            const char *url = app_repo_url(app);
            if (!str_eq(app->name, rec->app) || !url)
                continue;
            char *shown = gitrepo_redact_url(url);
            bool same = str_eq(shown, rec->repo);
            free(shown);
            if (same)
                return url;
        }
    return rec->repo;
}

/* An argocd write (repo "kubernetes:<context>"): does the Application now set the tag? -1:
 * cannot tell yet (the app is not read, the cluster does not answer). */
static int patch_landed(engine *e, const journal_record *intent, tp_err *err)
{
    for (size_t l = 0; l < e->src.n_apps_lists; l++)
        for (size_t a = 0; a < e->src.apps[l].count; a++) {
            const argo_app *app = &e->src.apps[l].items[a];
            if (!str_eq(app->name, intent->app) || !app->cluster)
                continue;
            for (size_t i = 0; i < app->settings.n_images; i++) {
                const image_settings *img = &app->settings.images[i];
                if (!str_eq(img->alias, intent->alias))
                    continue;
                char *tag = img->strategy == STRATEGY_DIGEST && intent->digest
                                ? xasprintf("%s@%s", intent->to, intent->digest)
                                : xstrdup(intent->to);
                image_update u = {img, NULL, tag};
                int rc = writeback_argocd_landed(app, &u, 1, err);
                free(tag);
                return rc;
            }
        }
    tp_err_set(err, "the Application is not among those read");
    return -1;
}

/* True when the intent's outcome is now recorded. */
static bool reconcile_one(engine *e, const journal_record *intent)
{
    tp_err err = {{0}};
    bool landed;
    char *detail;
    if (str_starts_with(intent->repo, "kubernetes:")) {
        int rc = patch_landed(e, intent, &err);
        if (rc < 0) {
            engine_log(e,
                       "warning: %s/%s: cannot tell yet whether the patch of the Application "
                       "landed: %s",
                       intent->app, intent->alias ? intent->alias : "", err.msg);
            return false;
        }
        landed = rc == 1;
        detail = landed ? xasprintf("reconciled: the Application sets %s (the patch landed "
                                    "before its outcome was recorded)",
                                    intent->to)
                        : xasprintf("reconciled: the Application does not set %s (the patch "
                                    "did not land)",
                                    intent->to);
    } else {
        gitrepo_opts go = engine_git_opts(e);
        gitrepo *repo = NULL;
        if (gitrepo_open(repo_url_for(e, intent), &go, &repo, &err) < 0) {
            engine_log(e, "warning: %s/%s: cannot tell yet whether commit %.12s reached %s: %s",
                       intent->app, intent->alias ? intent->alias : "", intent->commit,
                       intent->branch, err.msg);
            return false;
        }
        landed = gitrepo_branch_contains(repo, intent->branch, intent->commit);
        gitrepo_close(repo);
        detail = landed ? xasprintf("reconciled: commit %.12s is on %s (the push landed before "
                                    "its outcome was recorded)",
                                    intent->commit, intent->branch)
                        : xasprintf("reconciled: commit %.12s is not on %s (the push did not "
                                    "land)",
                                    intent->commit, intent->branch);
    }
    journal_record rec = *intent;
    rec.time = rec.user = rec.host = rec.ssh = NULL; /* the outcome is recorded now, by us */
    rec.result = landed ? "ok" : "error";
    rec.commit = landed ? intent->commit : NULL;
    rec.detail = detail;
    tp_err jerr = {{0}};
    bool recorded = engine_record(e, &rec, &jerr) == 0;
    if (!recorded)
        engine_log(e, "error: %s", jerr.msg);
    else
        engine_log(e, "%s/%s: %s", intent->app, intent->alias ? intent->alias : "", detail);
    free(detail);
    return recorded;
}

static journal_record record_dup(const journal_record *r)
{
    journal_record c = {0};
    c.action = xstrdup(r->action);
    c.app = xstrdup(r->app);
    c.alias = xstrdup(r->alias);
    c.from = xstrdup(r->from);
    c.to = xstrdup(r->to);
    c.digest = xstrdup(r->digest);
    c.commit = xstrdup(r->commit);
    c.op = xstrdup(r->op);
    c.repo = xstrdup(r->repo);
    c.branch = xstrdup(r->branch);
    return c;
}

void engine_reconcile(engine *e)
{
    if (e->opts.read_only || e->opts.dry_run || !e->records.journal || !e->records.intents_pending)
        return;
    if (!engine_leading(e, NULL, 0))
        return; /* intents_pending stays: the engine reconciles once it leads */
    /* Of each op, the last record if it is an intent: its outcome never came. */
    strmap last = {0};
    size_t n = journal_count(e->records.journal);
    for (size_t i = 0; i < n; i++) {
        const journal_record *r = journal_get(e->records.journal, i);
        if (r->op)
            strmap_put(&last, r->op, (void *)r);
    }
    /* Copied first: reconciling appends records, which may move the journal's array. */
    journal_record *todo = xcalloc(n + 1, sizeof *todo);
    size_t n_todo = 0;
    for (size_t i = 0; i < n; i++) {
        const journal_record *r = journal_get(e->records.journal, i);
        if (r->op && strmap_get(&last, r->op) == r && str_eq(r->result, "intent") && r->commit &&
            r->branch && r->repo)
            todo[n_todo++] = record_dup(r);
    }
    strmap_free(&last);
    bool settled = true;
    for (size_t i = 0; i < n_todo; i++) {
        settled &= reconcile_one(e, &todo[i]);
        journal_record_clear(&todo[i]);
    }
    free(todo);
    e->records.intents_pending = !settled;
}
