/* gitrepo: a cached clone of one remote repository, driven in-process by libgit2 (no git child
 * processes). Cloned once into <state-dir>/git/<slug>, fetched after; the work tree is forced
 * to the tip of a remote branch. Also makes commits from in-memory file contents and pushes
 * them without force. Used by the git source, the manifest reader and git write-back. */
#ifndef TP_GITREPO_H
#define TP_GITREPO_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

typedef struct gitrepo gitrepo;

/* How to reach the remote (borrowed strings). */
typedef struct gitrepo_opts {
    const char *state_dir;   /* the cache lives in <state_dir>/git/ */
    const char *credentials; /* "env:VAR" (user:token), "file:PATH" (user:token, or an SSH
                                private key), "ssh-agent", or NULL */
} gitrepo_opts;

/* A file's new content for gitrepo_commit (borrowed). */
typedef struct gitrepo_file {
    const char *path; /* repository-relative, '/' separated */
    const char *data;
    size_t len;
    const char *before; /* the content the change was planned on; NULL: the file was absent */
    size_t before_len;
} gitrepo_file;

/* Returned by gitrepo_push when the remote moved on (non-fast-forward, "fetch first"). */
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

/* Force the work tree to the fetched tip of origin/<branch> (NULL or "" or "HEAD": the default
 * branch; a tag name also works). Untracked files are removed. */
int gitrepo_checkout(gitrepo *repo, const char *branch, tp_err *err);

/* Absolute path of the work tree (owned by repo, ends without '/'). */
const char *gitrepo_workdir(const gitrepo *repo);
/* The URL with any user:password@ removed, for messages (owned by repo). */
const char *gitrepo_display_url(const gitrepo *repo);
/* Hex id of the commit last checked out or committed (owned by repo), "" before any. */
const char *gitrepo_head(const gitrepo *repo);

/* Commit files on top of the current head with author/committer name <email> and message, set
 * the local branch refs/heads/<branch> to it and check it out. id_out receives the hex id.
 * Each file's `before` must equal its content in the head commit (else the work tree changed
 * underneath the plan, and nothing is committed). */
int gitrepo_commit(gitrepo *repo, const gitrepo_file *files, size_t n, const char *message,
                   const char *author_name, const char *author_email, const char *branch,
                   char id_out[41], tp_err *err);

/* Push refs/heads/<branch> to origin, never forced. GITREPO_REJECTED when the remote branch has
 * commits we do not have; -1 on other errors (authentication: "credentials '<spec>' were
 * rejected"; the secret itself is never part of a message). */
int gitrepo_push(gitrepo *repo, const char *branch, tp_err *err);

/* A URL with "user:password@" removed; a new string. */
char *gitrepo_redact_url(const char *url);

#endif
