/* gitrepo: a cached clone of one remote repository, driven in-process by libgit2 (no git child
 * processes). A bare clone in <state-dir>/git/<slug>.git, fetched after: there is no work tree,
 * files are read from git objects (gitrepo_tree) and commits are built in memory from the
 * commit they change, so nothing a repository holds is ever written out as files (a hostile
 * symlink cannot point anywhere) and read-only readers write no work tree. Pushes are never
 * forced. Used by the git source, the manifest reader and git write-back. */
#ifndef TP_GITREPO_H
#define TP_GITREPO_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "source/repotree.h"
#include "util.h"

typedef struct gitrepo gitrepo;

/* How to reach the remote (borrowed strings). */
typedef struct gitrepo_opts {
    const char *state_dir;        /* the cache lives in <state_dir>/git/; required */
    const config_git_cred *creds; /* git.credentials by URL prefix (source/gitcred.h) */
    size_t n_creds;
    bool creds_configured; /* git.credentials was written (no ssh-agent fallback then) */
    const struct gitcred_secret *secrets; /* read from the cluster (source/gitcred.h), first */
    size_t n_secrets;
    long timeout_ms;         /* no progress this long ends a transfer (source/gitnet.h); 0: 30 s */
    long connect_timeout_ms; /* 0: 10 s */
} gitrepo_opts;

/* The options a config gives (borrowed from it). */
gitrepo_opts gitrepo_opts_from(const tp_config *cfg);

/* A file's new content for gitrepo_commit (borrowed). */
typedef struct gitrepo_file {
    const char *path; /* repository-relative, '/' separated */
    const char *data;
    size_t len;
    const char *before; /* the content the change was planned on; NULL: the file was absent */
    size_t before_len;
} gitrepo_file;

/* Returned by gitrepo_push when the transfer broke off (a timeout, a cancel, a dropped
 * connection) after the server may have taken the push: whether the branch has the commit is
 * known only by asking again (gitrepo_branch_contains after a fetch). */
#define GITREPO_UNKNOWN (-3)

/* Returned by gitrepo_push when the remote moved on (non-fast-forward, "fetch first", or the
 * server's "failed to update ref" when another push won the race). */
#define GITREPO_REJECTED (-2)

/* Open the cached clone of url, cloning it first when needed; fetches when it already existed.
 * Errors name the repository (URL without credentials) and the cause. Free with gitrepo_close.
 * While open, other processes sharing the state dir wait for this clone (a POSIX record lock on
 * <clone>.lock, up to 60 s; never blocks the same process). */
int gitrepo_open(const char *url, const gitrepo_opts *opts, gitrepo **out, tp_err *err);
void gitrepo_close(gitrepo *repo);

/* Fetch all branches from origin (pruning deleted ones). */
int gitrepo_fetch(gitrepo *repo, tp_err *err);

/* Name of the remote's default branch ("main"); a new string. */
char *gitrepo_default_branch(gitrepo *repo);

/* True when origin has branch `name` (after the last fetch). */
bool gitrepo_has_branch(gitrepo *repo, const char *name);

/* Make the fetched tip of origin/<branch> the head (NULL or "" or "HEAD": the default branch;
 * a tag name also works). Nothing is written. */
int gitrepo_resolve(gitrepo *repo, const char *branch, tp_err *err);

/* The files of the head commit (free with repotree_free, before gitrepo_close). */
int gitrepo_tree(gitrepo *repo, repotree **out, tp_err *err);

/* True when origin/<branch> (as of the last fetch) is commit `hex` or descends from it. */
bool gitrepo_branch_contains(gitrepo *repo, const char *branch, const char *hex);
/* The URL with any user:password@ removed, for messages (owned by repo). */
const char *gitrepo_display_url(const gitrepo *repo);
/* Hex id of the head: the commit last resolved or committed (owned by repo), "" before any. */
const char *gitrepo_head(const gitrepo *repo);

/* Commit files on top of the head with author/committer name <email> and message, set the
 * local branch refs/heads/<branch> to it and make it the head. id_out receives the hex id.
 * Each file's `before` must equal its content in the head commit (else the plan was made on
 * other content, and nothing is committed), and no file may sit at or under a symbolic link,
 * a file or a submodule of the head's tree. */
int gitrepo_commit(gitrepo *repo, const gitrepo_file *files, size_t n, const char *message,
                   const char *author_name, const char *author_email, const char *branch,
                   char id_out[41], tp_err *err);

/* Push refs/heads/<branch> to origin, never forced. GITREPO_REJECTED when the remote branch has
 * commits we do not have; GITREPO_UNKNOWN when the transfer broke off after it began; -1 on
 * other errors, where the commit certainly did not land (a refusal, authentication:
 * "credentials '<spec>' were rejected"; the secret itself is never part of a message). */
int gitrepo_push(gitrepo *repo, const char *branch, tp_err *err);

/* A URL with "user:password@" removed; a new string. */
char *gitrepo_redact_url(const char *url);

#endif
