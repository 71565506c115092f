#include "source/gittree.h"

#include <stdlib.h>
#include <string.h>

typedef struct git_tree_impl {
    git_repository *repo; /* borrowed */
    git_tree *root;
} git_tree_impl;

static repotree_kind kind_of_mode(git_filemode_t mode)
{
    switch (mode) {
    case GIT_FILEMODE_BLOB:
    case GIT_FILEMODE_BLOB_EXECUTABLE:
        return REPOTREE_FILE;
    case GIT_FILEMODE_TREE:
        return REPOTREE_DIR;
    case GIT_FILEMODE_LINK:
        return REPOTREE_SYMLINK;
    default:
        return REPOTREE_OTHER; /* a submodule */
    }
}

/* Walk path one component at a time (git_tree_entry_bypath would report a link on the way only
 * as "not found"). Returns what is at path; *entry (when given) gets the last entry, owned by
 * the caller, or NULL for the root or when something on the way stopped the walk. */
static repotree_kind lookup(git_tree_impl *g, const char *path, git_tree_entry **entry)
{
    if (entry)
        *entry = NULL;
    if (!*path)
        return REPOTREE_DIR;
    git_tree *tree = g->root;
    git_tree *owned = NULL;
    repotree_kind kind = REPOTREE_MISSING;
    const char *p = path;
    for (;;) {
        const char *slash = strchr(p, '/');
        char *name = slash ? xstrndup(p, (size_t)(slash - p)) : xstrdup(p);
        const git_tree_entry *e = git_tree_entry_byname(tree, name);
        free(name);
        if (!e) {
            kind = REPOTREE_MISSING;
            break;
        }
        kind = kind_of_mode(git_tree_entry_filemode(e));
        if (!slash) {
            if (entry)
                git_tree_entry_dup(entry, e);
            break;
        }
        if (kind != REPOTREE_DIR)
            break; /* a link or a file on the way: the path is under it, not in a folder */
        git_tree *next = NULL;
        if (git_tree_lookup(&next, g->repo, git_tree_entry_id(e)) != 0) {
            kind = REPOTREE_OTHER;
            break;
        }
        git_tree_free(owned);
        owned = tree = next;
        p = slash + 1;
    }
    git_tree_free(owned);
    git_error_clear();
    return kind;
}

static repotree_kind gt_kind(void *impl, const char *path)
{
    return lookup(impl, path, NULL);
}

static int gt_read(void *impl, const char *path, strbuf *out, tp_err *err)
{
    git_tree_impl *g = impl;
    git_tree_entry *e = NULL;
    repotree_kind kind = lookup(g, path, &e);
    if (kind != REPOTREE_FILE || !e) {
        git_tree_entry_free(e);
        tp_err_set(err, "%s: %s", path,
                   kind == REPOTREE_MISSING ? "not found"
                   : kind == REPOTREE_DIR   ? "a folder, not a file"
                   : kind == REPOTREE_SYMLINK
                       ? "a symbolic link (or under one), which tagpilot does not follow in a "
                         "repository"
                       : "not a regular file");
        return kind == REPOTREE_MISSING ? REPOTREE_NOT_FOUND : -1;
    }
    git_blob *blob = NULL;
    int rc = 0;
    if (git_blob_lookup(&blob, g->repo, git_tree_entry_id(e)) != 0) {
        const git_error *ge = git_error_last();
        rc = tp_err_set(err, "%s: %s", path, ge && ge->message ? ge->message : "unreadable");
    } else if ((size_t)git_blob_rawsize(blob) > REPOTREE_MAX_FILE) {
        rc = tp_err_set(err, "%s: larger than %u MiB, not read", path, REPOTREE_MAX_FILE >> 20);
    } else {
        strbuf_append(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
    }
    git_blob_free(blob);
    git_tree_entry_free(e);
    git_error_clear();
    return rc;
}

static int gt_list(void *impl, const char *path, repotree_entry **out, size_t *n, tp_err *err)
{
    git_tree_impl *g = impl;
    *out = NULL;
    *n = 0;
    git_tree *tree = NULL;
    if (*path) {
        git_tree_entry *e = NULL;
        if (lookup(g, path, &e) != REPOTREE_DIR || !e ||
            git_tree_lookup(&tree, g->repo, git_tree_entry_id(e)) != 0) {
            git_tree_entry_free(e);
            git_error_clear();
            return tp_err_set(err, "%s: not a folder", path);
        }
        git_tree_entry_free(e);
    }
    const git_tree *t = tree ? tree : g->root;
    size_t count = git_tree_entrycount(t);
    *out = xcalloc(count ? count : 1, sizeof **out);
    for (size_t i = 0; i < count; i++) {
        const git_tree_entry *e = git_tree_entry_byindex(t, i);
        (*out)[(*n)++] = (repotree_entry){xstrdup(git_tree_entry_name(e)),
                                          kind_of_mode(git_tree_entry_filemode(e))};
    }
    git_tree_free(tree);
    return 0;
}

static void gt_free(void *impl)
{
    git_tree_impl *g = impl;
    git_tree_free(g->root);
    free(g);
}

static const repotree_ops git_ops = {gt_kind, gt_read, gt_list, gt_free};

int gittree_open(git_repository *repo, const git_oid *id, repotree **out, tp_err *err)
{
    *out = NULL;
    git_commit *commit = NULL;
    git_tree *root = NULL;
    if (git_commit_lookup(&commit, repo, id) != 0 || git_commit_tree(&root, commit) != 0) {
        const git_error *ge = git_error_last();
        char hex[GIT_OID_HEXSZ + 1];
        git_oid_tostr(hex, sizeof hex, id);
        tp_err_set(err, "commit %.12s: %s", hex, ge && ge->message ? ge->message : "unreadable");
        git_commit_free(commit);
        git_error_clear();
        return -1;
    }
    git_commit_free(commit);
    git_tree_impl *g = xcalloc(1, sizeof *g);
    g->repo = repo;
    g->root = root;
    *out = repotree_new(&git_ops, g);
    return 0;
}
