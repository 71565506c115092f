/* statedir: the one way into the state directory. The directory is the user's: created 0700, and
 * an existing one that is a symbolic link, belongs to another uid, or is writable by group or
 * others is refused with the reason. Every file in it is opened relative to the directory's
 * descriptor, each folder on the way and the file itself with O_NOFOLLOW, so a link planted in
 * the directory is never followed; files are created 0600 and must be regular files; temporary
 * files get unique names and O_EXCL. */
#ifndef TP_STATEDIR_H
#define TP_STATEDIR_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

typedef struct statedir statedir;

typedef enum statedir_mode {
    STATEDIR_EXISTING, /* check an existing dir; a missing one is no dir (*out NULL), never made */
    STATEDIR_CREATE,   /* create it 0700 (missing parents too) when absent */
} statedir_mode;

/* Open the state dir at path (absolute or relative; trailing slashes ignored). Returns 0 with
 * *out set, or -1 with err naming the dir and the cause ("state dir /x is owned by uid 1001,
 * not you (0); refusing it"). In STATEDIR_EXISTING mode a dir that does not exist gives 0 and
 * *out NULL; every function below takes that NULL as an empty dir. path NULL is an error. */
int statedir_open(const char *path, statedir_mode mode, statedir **out, tp_err *err);
void statedir_close(statedir *sd);
/* The path as given (trailing slashes removed), for messages. Owned by sd. */
const char *statedir_path(const statedir *sd);

/* Open the file rel ("journal.jsonl", "registry/meta/sha256/ab.json": relative, no "." or ".."
 * parts) with flags (O_RDONLY, O_WRONLY | O_APPEND | O_CREAT, ...); O_NOFOLLOW, O_CLOEXEC and
 * O_NONBLOCK (a FIFO cannot hang us) are added, a new file gets mode 0600, and O_CREAT makes the
 * missing folders on the way (0700). A symbolic link, anything but a regular file, or a file
 * opened for writing that is not the caller's is refused. Returns the descriptor, or -1 with err
 * and errno (ENOENT when the file or sd is missing). */
int statedir_open_file(statedir *sd, const char *rel, int flags, tp_err *err);
/* Read the whole regular file rel into out (appended). -1 with err and errno on failure (ENOENT
 * when it does not exist); more than max_bytes (0: no limit) is an error with errno EFBIG. */
int statedir_read_file(statedir *sd, const char *rel, size_t max_bytes, strbuf *out, tp_err *err);
/* Create a new empty file beside rel for writing, named "<rel>.<pid>.<random>.tmp" (O_EXCL,
 * 0600); *tmp_rel (caller frees) is its name for statedir_replace or statedir_remove. */
int statedir_create_temp(statedir *sd, const char *rel, char **tmp_rel, tp_err *err);
/* Rename tmp_rel over rel (same folder). A link at rel is replaced, never followed. For a
 * durable name, fsync the file before and the folder after (statedir_sync for the top one). */
int statedir_replace(statedir *sd, const char *tmp_rel, const char *rel, tp_err *err);
/* Remove the file rel; missing is fine. */
void statedir_remove(statedir *sd, const char *rel);
/* Remove temporary files left beside rel by a process that died mid-write. Only for files
 * one writer owns (it holds the lock), so no temp file in use is touched. */
void statedir_remove_stale_temps(statedir *sd, const char *rel);
/* fsync the state dir itself (a new name in it made durable). */
int statedir_sync(statedir *sd);

#endif
