#include "source/repotree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct repotree {
    const repotree_ops *ops;
    void *impl;
};

#define MAX_DEPTH 32

/* ---- paths ---- */

int repopath_clean(const char *path, const char *what, char **out, tp_err *err)
{
    *out = NULL;
    if (!path)
        path = "";
    if (path[0] == '/')
        return tp_err_set(err, "%s '%.200s': an absolute path, not one inside the repository", what,
                          path);
    for (const unsigned char *p = (const unsigned char *)path; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return tp_err_set(err, "%s '%.200s': holds a control character", what, path);
    strbuf sb = {0};
    strbuf_append(&sb, "", 0);
    const char *p = path;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            strbuf_free(&sb);
            return tp_err_set(err, "%s '%.200s': '..' would leave the repository", what, path);
        }
        if (n > 255) {
            strbuf_free(&sb);
            return tp_err_set(err, "%s '%.200s…': a name longer than 255 bytes", what, path);
        }
        if (n && !(n == 1 && p[0] == '.')) {
            if (sb.len)
                strbuf_putc(&sb, '/');
            strbuf_append(&sb, p, n);
        }
        p += n;
        while (*p == '/')
            p++;
    }
    *out = strbuf_take(&sb);
    return 0;
}

char *repopath_join(const char *dir, const char *name)
{
    if (!dir || !*dir)
        return xstrdup(name);
    if (!name || !*name)
        return xstrdup(dir);
    return xasprintf("%s/%s", dir, name);
}

/* ---- the tree ---- */

repotree *repotree_new(const repotree_ops *ops, void *impl)
{
    repotree *t = xcalloc(1, sizeof *t);
    t->ops = ops;
    t->impl = impl;
    return t;
}

void repotree_free(repotree *t)
{
    if (!t)
        return;
    t->ops->free(t->impl);
    free(t);
}

void repotree_entries_free(repotree_entry *entries, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(entries[i].name);
    free(entries);
}

repotree_kind repotree_kind_of(repotree *t, const char *path)
{
    char *clean;
    if (repopath_clean(path, "path", &clean, NULL) < 0)
        return REPOTREE_OTHER;
    repotree_kind k = t->ops->kind(t->impl, clean);
    free(clean);
    return k;
}

int repotree_read(repotree *t, const char *path, strbuf *out, tp_err *err)
{
    strbuf_free(out);
    char *clean;
    if (repopath_clean(path, "file", &clean, err) < 0)
        return -1;
    int rc = t->ops->read(t->impl, clean, out, err);
    free(clean);
    if (!out->data)
        strbuf_append(out, "", 0);
    return rc;
}

static bool is_yaml_name(const char *name)
{
    return str_ends_with(name, ".yaml") || str_ends_with(name, ".yml");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk(repotree *t, const char *dir, int depth, strvec *out, strvec *links)
{
    repotree_entry *entries = NULL;
    size_t n = 0;
    if (depth >= MAX_DEPTH || t->ops->list(t->impl, dir, &entries, &n, NULL) < 0)
        return;
    for (size_t i = 0; i < n; i++) {
        const repotree_entry *e = &entries[i];
        if (e->name[0] == '.')
            continue;
        char *child = repopath_join(dir, e->name);
        if (e->kind == REPOTREE_DIR) {
            walk(t, child, depth + 1, out, links);
        } else if (e->kind == REPOTREE_FILE && is_yaml_name(e->name)) {
            strvec_push(out, child);
        } else if (e->kind == REPOTREE_SYMLINK && links) {
            char *m = xasprintf("%s: a symbolic link, not followed", child);
            strvec_push(links, m);
            free(m);
        }
        free(child);
    }
    repotree_entries_free(entries, n);
}

int repotree_list_yaml(repotree *t, const char *path, strvec *out, strvec *links, tp_err *err)
{
    char *clean;
    if (repopath_clean(path, "folder", &clean, err) < 0)
        return -1;
    repotree_kind k = t->ops->kind(t->impl, clean);
    int rc = 0;
    if (k != REPOTREE_DIR)
        rc = tp_err_set(err, "%s: %s", *clean ? clean : ".",
                        k == REPOTREE_MISSING   ? "no such folder"
                        : k == REPOTREE_SYMLINK ? "a symbolic link, which tagpilot does not follow"
                                                : "not a folder");
    size_t first = out->count;
    if (rc == 0)
        walk(t, clean, 0, out, links);
    if (out->count > first) /* an empty folder: no array to sort (qsort(NULL) is undefined) */
        qsort(out->items + first, out->count - first, sizeof *out->items, cmp_str);
    free(clean);
    return rc;
}

/* ---- the folder backend: openat, never following a link ---- */

typedef struct dir_tree {
    int root_fd;
} dir_tree;

static repotree_kind kind_of_stat(const struct stat *st)
{
    if (S_ISREG(st->st_mode))
        return REPOTREE_FILE;
    if (S_ISDIR(st->st_mode))
        return REPOTREE_DIR;
    if (S_ISLNK(st->st_mode))
        return REPOTREE_SYMLINK;
    return REPOTREE_OTHER;
}

/* Open the folder holding the last component of path, one component at a time with O_NOFOLLOW,
 * and say what is at path. Returns the parent's descriptor or -1 when a component on the way is
 * not a real folder; *kind tells what was met. The caller closes the descriptor when *own: a
 * file at the root is read through the root's own (no dup and close a file: 2,000 syscalls at
 * 1,000 Applications). */
static int dir_walk(dir_tree *d, const char *path, const char **last, repotree_kind *kind,
                    bool *own)
{
    int fd = d->root_fd;
    *own = false;
    const char *p = path;
    for (;;) {
        const char *slash = strchr(p, '/');
        if (!slash)
            break;
        char *name = xstrndup(p, (size_t)(slash - p));
        int next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (next < 0) {
            if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
                *kind = errno == ENOENT ? REPOTREE_MISSING : REPOTREE_OTHER;
            else
                *kind = S_ISLNK(st.st_mode) ? REPOTREE_SYMLINK : REPOTREE_OTHER;
            free(name);
            if (*own)
                close(fd);
            return -1;
        }
        free(name);
        if (*own)
            close(fd);
        fd = next;
        *own = true;
        p = slash + 1;
    }
    *last = p;
    struct stat st;
    if (!*p)
        *kind = REPOTREE_DIR; /* the root itself */
    else if (fstatat(fd, p, &st, AT_SYMLINK_NOFOLLOW) != 0)
        *kind = errno == ENOENT ? REPOTREE_MISSING : REPOTREE_OTHER;
    else
        *kind = kind_of_stat(&st);
    return fd;
}

static repotree_kind dir_kind(void *impl, const char *path)
{
    const char *last;
    repotree_kind kind;
    bool own;
    int fd = dir_walk(impl, path, &last, &kind, &own);
    if (fd >= 0 && own)
        close(fd);
    return kind;
}

static const char *kind_problem(repotree_kind kind)
{
    switch (kind) {
    case REPOTREE_MISSING:
        return "not found";
    case REPOTREE_DIR:
        return "a folder, not a file";
    case REPOTREE_SYMLINK:
        return "a symbolic link (or under one), which tagpilot does not follow in a repository";
    default:
        return "not a regular file";
    }
}

/* Read the regular file fd to its end, refusing more than REPOTREE_MAX_FILE. A read of a
 * regular file that gives less than asked has met the end: no second read to hear it again. */
static int read_fd(int fd, const char *path, strbuf *out, tp_err *err)
{
    char chunk[16384];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return tp_err_set(err, "%s: read error: %s", path, strerror(errno));
        if (n == 0)
            return 0;
        if (out->len + (size_t)n > REPOTREE_MAX_FILE)
            return tp_err_set(err, "%s: larger than %u MiB, not read", path,
                              REPOTREE_MAX_FILE >> 20);
        strbuf_append(out, chunk, (size_t)n);
        if ((size_t)n < sizeof chunk)
            return 0;
    }
}

static int dir_read(void *impl, const char *path, strbuf *out, tp_err *err)
{
    const char *last;
    repotree_kind kind;
    bool own;
    int parent = dir_walk(impl, path, &last, &kind, &own);
    if (kind != REPOTREE_FILE) {
        if (parent >= 0 && own)
            close(parent);
        tp_err_set(err, "%s: %s", path, kind_problem(kind));
        return kind == REPOTREE_MISSING ? REPOTREE_NOT_FOUND : -1;
    }
    /* O_NOFOLLOW again: the entry may have been swapped for a link since it was looked at. */
    int fd = openat(parent, last, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (own)
        close(parent);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return tp_err_set(err, "%s: %s", path,
                          fd < 0 && e == ELOOP ? kind_problem(REPOTREE_SYMLINK)
                          : fd < 0             ? strerror(e)
                                               : kind_problem(REPOTREE_OTHER));
    }
    int rc = read_fd(fd, path, out, err);
    close(fd);
    return rc;
}

static int dir_list(void *impl, const char *path, repotree_entry **out, size_t *n, tp_err *err)
{
    *out = NULL;
    *n = 0;
    const char *last;
    repotree_kind kind;
    bool own;
    int parent = dir_walk(impl, path, &last, &kind, &own);
    if (kind != REPOTREE_DIR) {
        if (parent >= 0 && own)
            close(parent);
        return tp_err_set(err, "%s: not a folder", path);
    }
    int fd =
        *last ? openat(parent, last, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : dup(parent);
    if (own)
        close(parent);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    if (!dir) {
        if (fd >= 0)
            close(fd);
        return tp_err_set(err, "%s: %s", path, strerror(errno));
    }
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        repotree_kind k;
        /* The type the file system reports spares a stat per file at 10,000 Applications. */
        if (e->d_type == DT_REG)
            k = REPOTREE_FILE;
        else if (e->d_type == DT_DIR)
            k = REPOTREE_DIR;
        else if (e->d_type == DT_LNK)
            k = REPOTREE_SYMLINK;
        else {
            struct stat st;
            k = fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? kind_of_stat(&st)
                                                                              : REPOTREE_OTHER;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 32;
            *out = xrealloc(*out, cap * sizeof **out);
        }
        (*out)[(*n)++] = (repotree_entry){xstrdup(e->d_name), k};
    }
    closedir(dir);
    return 0;
}

static void dir_free(void *impl)
{
    dir_tree *d = impl;
    if (d->root_fd >= 0)
        close(d->root_fd);
    free(d);
}

static const repotree_ops dir_ops = {dir_kind, dir_read, dir_list, dir_free};

repotree *repotree_open_dir(const char *root, tp_err *err)
{
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return tp_err_set(err, "%s: %s", root, strerror(errno)), NULL;
    dir_tree *d = xcalloc(1, sizeof *d);
    d->root_fd = fd;
    return repotree_new(&dir_ops, d);
}
