/* writeback: turn approved tag changes into a commit a reviewer would accept, in the app's
 * source repository, and push it. The target follows the app's annotations:
 *   - default: .argocd-source-<app>.yaml in the source path (Helm or Kustomize form), or — for a
 *     plain directory, which argocd-image-updater does not support — the container `image:`
 *     values of its manifests edited in place;
 *   - write-back-target helmvalues[:file]: the tag scalar in the values file;
 *   - write-back-target kustomization[:path]: the images entry of the kustomization.
 * In-place edits change only the bytes of the scalar (manifest/yamledit). One commit per call,
 * message from a template (argocd-image-updater's by default) plus trailers; no change, no
 * commit. Pushes are never forced: when the branch moved, the change is re-planned on the new
 * tip and pushed again (bounded). */
#ifndef TP_WRITEBACK_H
#define TP_WRITEBACK_H

#include <stdbool.h>
#include <stddef.h>

#include "annotations.h"
#include "source/app.h"
#include "source/gitrepo.h"
#include "source/repotree.h"
#include "state/holds.h"
#include "util.h"

/* One image to move (borrowed). */
typedef struct image_update {
    const image_settings *image; /* one of app->settings.images */
    const char *old_tag;         /* the current tag, or NULL when unknown */
    const char *new_tag;         /* the tag to write; "tag@sha256:…" for the digest strategy */
} image_update;

/* One file's change (owned). */
typedef struct writeback_file {
    char *path;   /* repository-relative */
    char *before; /* old content, NULL when the file is new */
    size_t before_len;
    char *after; /* new content */
    size_t after_len;
} writeback_file;

/* What a write-back would commit (owned). */
typedef struct writeback_change {
    writeback_file *files; /* only files whose bytes change */
    size_t n_files;
    char *diff;        /* unified diff ("a/…" "b/…") of every file; "" when nothing changes */
    char *message;     /* full commit message, trailers included */
    char *base_branch; /* branch the commit builds on */
    char *push_branch; /* branch it is pushed to (= base unless git-branch base:target) */
    char *repo_url;    /* repository, credentials removed */
} writeback_change;

/* What a push is about to publish, for a write-ahead record (borrowed during the call). */
typedef struct writeback_intent {
    const char *commit;          /* hex id about to be pushed */
    const char *repo_url;        /* without credentials */
    const char *branch;          /* the branch it is pushed to */
    const char *const *replaced; /* per update: the tag the commit replaces, NULL when unknown */
    int attempt;                 /* from 1 */
} writeback_intent;

/* Settings for a write-back (borrowed strings). */
typedef struct writeback_opts {
    gitrepo_opts git;        /* repository cache and credentials */
    const char *author_name; /* commit author and committer */
    const char *author_email;
    const char *message_template; /* NULL: "build: automatic update of <app>" + one line each */
    const char *argocd_namespace; /* NULL: "argocd" */
    const char *const *trailers;  /* e.g. "Approved-by: alice@host", added after a blank line */
    size_t n_trailers;
    int max_attempts; /* push attempts when the branch moved; 0 means 3 */
    /* A change to the shared holds made in the same commit or patch (.tagpilot/holds.yaml, or
     * the Application's tagpilot.io/ annotations), read and edited on the tip each attempt
     * builds on, so another engine's holds are kept. NULL: none. With no updates (n == 0) the
     * write is the holds change alone. */
    const hold_edit *hold;
    /* Called after each commit and before its push. A failure (the intent could not be
     * recorded) ends the write-back with that error and nothing is pushed: no commit reaches
     * the remote without a record of it. NULL: no hook. */
    int (*before_push)(void *ctx, const writeback_intent *intent, tp_err *err);
    void *hook_ctx;
} writeback_opts;

/* Result of writeback_apply (owned). */
typedef struct writeback_result {
    char commit[41];         /* hex id of the pushed commit; "" when nothing changed */
    int attempts;            /* push attempts made */
    writeback_change change; /* what was committed (the last plan) */
    char **replaced;         /* per update: the tag the last plan replaced, as read on the tip
                                it was built on (another writer may have moved it since the
                                scan); NULL entries when unknown; NULL before a plan */
    size_t n_replaced;
} writeback_result;

/* The message and the file changes for updates, computed against the repository's files in
 * tree. Nothing is written. Errors name the app and the file. */
int writeback_plan_in(const argo_app *app, repotree *tree, const image_update *updates, size_t n,
                      const writeback_opts *opts, writeback_change *out, tp_err *err);

/* Fetch the app's source repository into the cache, check out the branch the commit would build
 * on, and plan there: the exact diff that would be committed. */
int writeback_plan(const argo_app *app, const image_update *updates, size_t n,
                   const writeback_opts *opts, writeback_change *out, tp_err *err);

/* Plan, commit and push. On a push refused because the branch moved (non-fast-forward, "fetch
 * first", "failed to update ref"): fetch, re-read the current tags and re-plan on the new tip,
 * commit and push again, up to opts->max_attempts; never forced. out->commit is "" when
 * nothing changed.
 * Errors name the repository and the cause; credentials never appear in them. */
int writeback_apply(const argo_app *app, const image_update *updates, size_t n,
                    const writeback_opts *opts, writeback_result *out, tp_err *err);

void writeback_change_free(writeback_change *c);
void writeback_result_free(writeback_result *r);

/* The commit message alone (template, one line per image, trailers). A new string, or NULL with
 * err when the template is bad or a value going into it (app name, alias, image, current or new
 * tag, trailer) holds a line break, a control or bidirectional character or invalid UTF-8: such
 * a value is refused, naming the field, never written. */
char *writeback_message(const argo_app *app, const image_update *updates, size_t n,
                        const writeback_opts *opts, tp_err *err);

/* Branches from the git-branch annotation: base ("" → targetRevision, which may be NULL for the
 * remote default) and push target (template rendered over the updates). New strings (base may
 * be NULL = default branch). */
int writeback_branches(const argo_app *app, const image_update *updates, size_t n, char **base,
                       char **push, tp_err *err);

/* The write-back as an ops table, so an `argocd` method can sit beside it. */
typedef struct writeback_ops {
    const char *method; /* "git" */
    int (*plan)(const argo_app *app, const image_update *updates, size_t n,
                const writeback_opts *opts, writeback_change *out, tp_err *err);
    int (*apply)(const argo_app *app, const image_update *updates, size_t n,
                 const writeback_opts *opts, writeback_result *out, tp_err *err);
} writeback_ops;

extern const writeback_ops writeback_git_ops;
/* writeback/argocd.c: a merge patch of the Application in its cluster (app->cluster). */
extern const writeback_ops writeback_argocd_ops;
/* Whether the Application in its cluster already sets what the updates would write (an argocd
 * write's intent without an outcome: did the patch land?): 1 yes, 0 no, -1 cannot tell (err). */
int writeback_argocd_landed(const argo_app *app, const image_update *u, size_t n, tp_err *err);

#endif
