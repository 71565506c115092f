#include "statedir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct statedir {
    char *path; /* as given, trailing slashes removed (owned) */
    int fd;     /* O_DIRECTORY descriptor everything is opened relative to */
};

/* mkdir -p of path's parents with mode 0700 for those it creates. The parents may be links
 * (/home -> /usr/home); only the state dir itself must not be. */
static int make_parents(const char *path, tp_err *err)
{
    char *copy = xstrdup(path);
    int rc = 0;
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(copy, 0700) != 0 && errno != EEXIST) {
            rc = tp_err_set(err, "cannot create state dir %s: %s: %s", path, copy, strerror(errno));
            break;
        }
        *p = '/';
    }
    free(copy);
    return rc;
}

/* The checks that make a directory ours: not a link (the open used O_NOFOLLOW), a directory,
 * our uid, and no one else may add or swap files in it. */
static int check_dir(const char *path, int fd, tp_err *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return tp_err_set(err, "state dir %s: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return tp_err_set(err, "state dir %s is not a directory", path);
    if (st.st_uid != geteuid())
        return tp_err_set(err, "state dir %s is owned by uid %u, not you (%u); refusing it", path,
                          (unsigned)st.st_uid, (unsigned)geteuid());
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return tp_err_set(err,
                          "state dir %s is writable by group or others (mode %04o); refusing it "
                          "(chmod 700 it)",
                          path, (unsigned)(st.st_mode & 07777));
    return 0;
}

int statedir_open(const char *path, statedir_mode mode, statedir **out, tp_err *err)
{
    *out = NULL;
    if (!path || !*path)
        return tp_err_set(err, "no state dir: set state-dir: in tagpilot.yaml");
    char *clean = xstrdup(path);
    /* "state/" would follow a link named state: the slash asks for the directory behind it. */
    for (size_t n = strlen(clean); n > 1 && clean[n - 1] == '/'; n--)
        clean[n - 1] = '\0';
    struct stat st;
    int rc = 0;
    if (lstat(clean, &st) != 0) {
        if (errno != ENOENT) {
            rc = tp_err_set(err, "%s state dir %s: %s",
                            mode == STATEDIR_CREATE ? "cannot create" : "cannot read", clean,
                            strerror(errno));
        } else if (mode == STATEDIR_EXISTING) {
            free(clean); /* nothing to read yet, and a reader creates nothing */
            return 0;
        } else if (make_parents(clean, err) < 0) {
            rc = -1;
        } else if (mkdir(clean, 0700) != 0 && errno != EEXIST) {
            rc = tp_err_set(err, "cannot create state dir %s: %s", clean, strerror(errno));
        }
    } else if (S_ISLNK(st.st_mode)) {
        rc = tp_err_set(err,
                        "state dir %s is a symbolic link; refusing it (name the directory itself "
                        "in state-dir:)",
                        clean);
    }
    int fd = -1;
    if (rc == 0) {
        fd = open(clean, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ELOOP)
            rc = tp_err_set(err, "state dir %s is a symbolic link; refusing it", clean);
        else if (fd < 0)
            rc = tp_err_set(err, "state dir %s: %s", clean, strerror(errno));
        else
            rc = check_dir(clean, fd, err);
    }
    if (rc < 0) {
        if (fd >= 0)
            close(fd);
        free(clean);
        return -1;
    }
    statedir *sd = xcalloc(1, sizeof *sd);
    sd->path = clean;
    sd->fd = fd;
    *out = sd;
    return 0;
}

void statedir_close(statedir *sd)
{
    if (!sd)
        return;
    close(sd->fd);
    free(sd->path);
    free(sd);
}

const char *statedir_path(const statedir *sd)
{
    return sd ? sd->path : "(none)";
}

/* rel must name something inside: relative, no empty, "." or ".." parts. */
static bool rel_ok(const char *rel)
{
    if (!rel || !*rel || rel[0] == '/')
        return false;
    for (const char *p = rel; *p;) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        p += n + (end ? 1 : 0);
        if (end && !*p)
            return false;
    }
    return true;
}

/* A descriptor for the folder holding rel's last part (the caller closes it), and that part in
 * *base. Each folder is opened with O_NOFOLLOW; create makes missing ones 0700. */
static int open_parent(statedir *sd, const char *rel, bool create, const char **base, tp_err *err)
{
    if (!sd) {
        errno = ENOENT;
        return tp_err_set(err, "no state dir yet");
    }
    if (!rel_ok(rel)) {
        errno = EINVAL;
        return tp_err_set(err, "state dir %s: bad file name '%s'", sd->path, rel ? rel : "");
    }
    int dirfd = dup(sd->fd);
    if (dirfd < 0)
        return tp_err_set(err, "state dir %s: %s", sd->path, strerror(errno));
    const char *p = rel;
    for (const char *slash; (slash = strchr(p, '/')) != NULL; p = slash + 1) {
        char *part = xstrndup(p, (size_t)(slash - p));
        int next = openat(dirfd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT && create &&
            (mkdirat(dirfd, part, 0700) == 0 || errno == EEXIST))
            next = openat(dirfd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int saved = errno;
        free(part);
        close(dirfd);
        if (next < 0) {
            int len = (int)(slash - rel);
            if (saved == ELOOP || saved == ENOTDIR)
                tp_err_set(err, "state dir %s: %.*s is not a directory (a link?); refusing it",
                           sd->path, len, rel);
            else
                tp_err_set(err, "state dir %s: %.*s: %s", sd->path, len, rel, strerror(saved));
            errno = saved;
            return -1;
        }
        dirfd = next;
    }
    *base = p;
    return dirfd;
}

static bool for_writing(int flags)
{
    return (flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC));
}

/* After the open: only a regular file, and one we may write through. A refusal closes fd. */
static int check_file(statedir *sd, const char *rel, int fd, int flags, tp_err *err)
{
    struct stat st;
    int cause = 0;
    if (fstat(fd, &st) != 0) {
        cause = errno;
        tp_err_set(err, "%s/%s: %s", sd->path, rel, strerror(cause));
    } else if (!S_ISREG(st.st_mode)) {
        cause = EINVAL;
        tp_err_set(err, "%s/%s is not a regular file; refusing it", sd->path, rel);
    } else if (for_writing(flags) && st.st_uid != geteuid()) {
        cause = EPERM;
        tp_err_set(err, "%s/%s is owned by uid %u, not you (%u); refusing to write it", sd->path,
                   rel, (unsigned)st.st_uid, (unsigned)geteuid());
    } else if (for_writing(flags) && st.st_nlink > 1) {
        cause = EPERM; /* a hard link to a file elsewhere: writing it writes that file */
        tp_err_set(err, "%s/%s has %lu hard links; refusing to write it", sd->path, rel,
                   (unsigned long)st.st_nlink);
    }
    if (!cause)
        return 0; /* O_NONBLOCK kept a FIFO from hanging the open; regular files ignore it */
    close(fd);
    errno = cause;
    return -1;
}

int statedir_open_file(statedir *sd, const char *rel, int flags, tp_err *err)
{
    const char *base;
    int dirfd = open_parent(sd, rel, (flags & O_CREAT) != 0, &base, err);
    if (dirfd < 0)
        return -1;
    /* O_TRUNC waits for the checks: truncating first would empty a file we then refuse. */
    bool truncate = (flags & O_TRUNC) != 0;
    int open_flags = (flags & ~O_TRUNC) | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
    int fd = openat(dirfd, base, open_flags, 0600);
    int saved = errno;
    close(dirfd);
    if (fd < 0) {
        if (saved == ELOOP)
            tp_err_set(err, "%s/%s is a symbolic link; refusing to follow it", sd->path, rel);
        else
            tp_err_set(err, "%s/%s: %s", sd->path, rel, strerror(saved));
        errno = saved;
        return -1;
    }
    if (check_file(sd, rel, fd, flags, err) < 0)
        return -1;
    if (truncate && ftruncate(fd, 0) != 0) {
        saved = errno;
        tp_err_set(err, "%s/%s: %s", sd->path, rel, strerror(saved));
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int statedir_read_file(statedir *sd, const char *rel, size_t max_bytes, strbuf *out, tp_err *err)
{
    int fd = statedir_open_file(sd, rel, O_RDONLY, err);
    if (fd < 0)
        return -1;
    char chunk[65536];
    size_t total = 0;
    ssize_t n;
    int rc = 0;
    while ((n = read(fd, chunk, sizeof chunk)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            rc = tp_err_set(err, "%s/%s: %s", sd->path, rel, strerror(saved));
            errno = saved;
            break;
        }
        total += (size_t)n;
        if (max_bytes && total > max_bytes) {
            rc = tp_err_set(err, "%s/%s is larger than %zu bytes", sd->path, rel, max_bytes);
            errno = EFBIG;
            break;
        }
        strbuf_append(out, chunk, (size_t)n);
    }
    close(fd);
    if (!out->data)
        strbuf_append(out, "", 0);
    return rc;
}

/* 64 bits no other process will pick: the kernel's randomness, or the clock when it fails. */
static uint64_t temp_suffix(void)
{
    uint64_t r;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) == (ssize_t)sizeof r)
        return r;
    struct timespec ts; /* O_EXCL and the retries settle the rare tie */
    clock_gettime(CLOCK_REALTIME, &ts);
    return ((uint64_t)ts.tv_nsec << 24) ^ (uint64_t)ts.tv_sec;
}

int statedir_create_temp(statedir *sd, const char *rel, char **tmp_rel, tp_err *err)
{
    *tmp_rel = NULL;
    const char *base;
    int dirfd = open_parent(sd, rel, true, &base, err);
    if (dirfd < 0)
        return -1;
    size_t dir_len = (size_t)(base - rel);
    int fd = -1, saved = 0;
    for (int attempt = 0; fd < 0 && attempt < 16; attempt++) {
        char *name = xasprintf("%s.%ld.%016llx.tmp", base, (long)getpid(),
                               (unsigned long long)temp_suffix());
        fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        saved = errno;
        if (fd >= 0)
            *tmp_rel = xasprintf("%.*s%s", (int)dir_len, rel, name);
        free(name);
        if (fd < 0 && saved != EEXIST)
            break;
    }
    close(dirfd);
    if (fd < 0) {
        tp_err_set(err, "cannot create a temporary file for %s/%s: %s", sd->path, rel,
                   strerror(saved));
        errno = saved;
        return -1;
    }
    return fd;
}

int statedir_replace(statedir *sd, const char *tmp_rel, const char *rel, tp_err *err)
{
    const char *base, *tmp_slash = strrchr(tmp_rel, '/'), *slash = strrchr(rel, '/');
    size_t tmp_dir = tmp_slash ? (size_t)(tmp_slash - tmp_rel) + 1 : 0;
    size_t dir = slash ? (size_t)(slash - rel) + 1 : 0;
    const char *tmp_base = tmp_rel + tmp_dir;
    if (tmp_dir != dir || strncmp(tmp_rel, rel, dir) != 0) {
        errno = EXDEV;
        return tp_err_set(err, "state dir %s: %s and %s are not in one folder", statedir_path(sd),
                          tmp_rel, rel);
    }
    int dirfd = open_parent(sd, rel, false, &base, err);
    if (dirfd < 0)
        return -1;
    int rc = 0;
    if (renameat(dirfd, tmp_base, dirfd, base) != 0) {
        int saved = errno;
        rc = tp_err_set(err, "cannot replace %s/%s: %s", sd->path, rel, strerror(saved));
        errno = saved;
    }
    close(dirfd);
    return rc;
}

void statedir_remove(statedir *sd, const char *rel)
{
    const char *base;
    int dirfd = open_parent(sd, rel, false, &base, NULL);
    if (dirfd < 0)
        return;
    unlinkat(dirfd, base, 0);
    close(dirfd);
}

void statedir_remove_stale_temps(statedir *sd, const char *rel)
{
    const char *base;
    int dirfd = open_parent(sd, rel, false, &base, NULL);
    if (dirfd < 0)
        return;
    DIR *d = fdopendir(dirfd);
    if (!d) {
        close(dirfd);
        return;
    }
    size_t n = strlen(base);
    for (struct dirent *de; (de = readdir(d)) != NULL;)
        if (strncmp(de->d_name, base, n) == 0 && de->d_name[n] == '.' &&
            str_ends_with(de->d_name + n, ".tmp"))
            unlinkat(dirfd, de->d_name, 0); /* removes a link itself, never its target */
    closedir(d);                            /* closes dirfd */
}

int statedir_sync(statedir *sd)
{
    return sd ? fsync(sd->fd) : 0;
}
