/* gittree: the repotree backend over git objects — a commit's tree read straight from the
 * object database, with no work tree. A blob of mode 120000 is a symbolic link and is never
 * followed; a submodule (a commit in the tree) is REPOTREE_OTHER. Used by source/gitrepo.c. */
#ifndef TP_GITTREE_H
#define TP_GITTREE_H

#include <git2.h>

#include "source/repotree.h"
#include "util.h"

/* The files of commit `id` in repo (borrowed: repo must outlive the tree). */
int gittree_open(git_repository *repo, const git_oid *id, repotree **out, tp_err *err);

#endif
