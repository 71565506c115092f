/* repotree: the files of a repository at one commit, or of a local folder, read by paths that
 * can never leave it. Repository content comes from people tagpilot does not trust, so every
 * path is cleaned first (no "..", no absolute path, no control bytes) and no symbolic link is
 * ever followed — not as the file read, not as a folder on the way, not in a walk. A link where
 * a file or folder is expected is an error naming the path.
 *
 * Two backends behind one ops table: git objects (source/gitrepo.c: a commit's tree, with no
 * work tree at all) and a folder (here: openat with O_NOFOLLOW per component from the folder's
 * descriptor). */
#ifndef TP_REPOTREE_H
#define TP_REPOTREE_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

typedef struct repotree repotree;

typedef enum repotree_kind {
    REPOTREE_MISSING = 0, /* nothing there (and every folder on the way is a real folder) */
    REPOTREE_FILE,        /* a regular file */
    REPOTREE_DIR,         /* a folder */
    REPOTREE_SYMLINK,     /* a symbolic link: at the path, or a folder on the way is one */
    REPOTREE_OTHER,       /* anything else: a file on the way, a submodule, a device, ... */
} repotree_kind;

/* repotree_read's "no such file" (the message says so too). */
#define REPOTREE_NOT_FOUND (-2)

/* Largest file repotree_read returns: manifests are small, a hostile repository's are not. */
#define REPOTREE_MAX_FILE (16u << 20)

/* One entry of a folder, for a backend's list op. */
typedef struct repotree_entry {
    char *name; /* owned; one path component */
    repotree_kind kind;
} repotree_entry;

/* A backend. Paths given to it are clean (repopath_clean): "" is the root. */
typedef struct repotree_ops {
    repotree_kind (*kind)(void *impl, const char *path);
    /* A regular file's bytes appended to out; REPOTREE_NOT_FOUND, or -1 with err. */
    int (*read)(void *impl, const char *path, strbuf *out, tp_err *err);
    /* The entries of the folder at path (*out owned by the caller: repotree_entries_free). */
    int (*list)(void *impl, const char *path, repotree_entry **out, size_t *n, tp_err *err);
    void (*free)(void *impl);
} repotree_ops;

/* A tree over a backend (takes impl; ops->free releases it). */
repotree *repotree_new(const repotree_ops *ops, void *impl);
/* The folder `root` (absolute; the folder itself may be reached through links, it is the
 * user's own configuration). NULL with err when it cannot be opened. */
repotree *repotree_open_dir(const char *root, tp_err *err);
void repotree_free(repotree *t);

/* What is at path (cleaned first; an unclean path is REPOTREE_OTHER). */
repotree_kind repotree_kind_of(repotree *t, const char *path);
/* A regular file's bytes into out (reset first; NUL-terminated). REPOTREE_NOT_FOUND when there
 * is nothing at path, -1 for anything else, both with err naming path and the cause ("is a
 * symbolic link, which tagpilot does not follow in a repository"). */
int repotree_read(repotree *t, const char *path, strbuf *out, tp_err *err);
/* Every *.yaml / *.yml file under the folder at path, relative to the tree's root, sorted;
 * dot entries are skipped and links are not followed (each link met is described in
 * `links`, when given: "apps/x.yaml: a symbolic link, not followed"). At most 32 levels. */
int repotree_list_yaml(repotree *t, const char *path, strvec *out, strvec *links, tp_err *err);

void repotree_entries_free(repotree_entry *entries, size_t n);

/* ---- repository-relative paths ---- */

/* The canonical form of a path inside a repository: "./a//b/./c/" → "a/b/c", "" for the root.
 * Refused, with err naming the path and `what` it was ("source path", "helmvalues target"):
 * "..", an absolute path, a NUL or control byte, a component over 255 bytes. *out is new. */
int repopath_clean(const char *path, const char *what, char **out, tp_err *err);
/* dir + "/" + name, or name when dir is "" (a new string). */
char *repopath_join(const char *dir, const char *name);

#endif
