#include "state/journal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "statedir.h"

#define JOURNAL_FILE "journal.jsonl"
#define CORRUPT_FILE "journal.corrupt"
#define LOCK_FILE    "lock"

struct journal {
    statedir *sd; /* NULL: a reader found no state dir yet */
    char *path;   /* <state dir>/journal.jsonl, for messages */
    journal_mode mode;
    int fd;           /* O_APPEND, writers only; -1 otherwise */
    int lock_fd;      /* holds flock(LOCK_EX) while open, writers only */
    bool name_synced; /* the state dir fsync'd since this writer opened (or created) the file */
    journal_record *records;
    size_t count, cap;
    strvec warnings;
    strvec corrupt; /* raw text of lines that did not parse, for journal.corrupt */
};

/* The fields in the order they are written, so files read well and diff cleanly. */
#define JOURNAL_FIELDS(X)                                                                          \
    X(time)                                                                                        \
    X(user)                                                                                        \
    X(host)                                                                                        \
    X(ssh)                                                                                         \
    X(action)                                                                                      \
    X(app) X(alias) X(from) X(to) X(digest) X(commit) X(result) X(detail) X(op) X(repo) X(branch)

void journal_record_clear(journal_record *rec)
{
#define FREE_FIELD(name) free(rec->name);
    JOURNAL_FIELDS(FREE_FIELD)
#undef FREE_FIELD
    *rec = (journal_record){0};
}

static void record_copy(journal_record *dst, const journal_record *src)
{
#define COPY_FIELD(name) dst->name = xstrdup(src->name);
    JOURNAL_FIELDS(COPY_FIELD)
#undef COPY_FIELD
}

char *journal_record_to_json(const journal_record *rec)
{
    cJSON *obj = cJSON_CreateObject();
#define ADD_FIELD(name)                                                                            \
    if (rec->name) {                                                                               \
        char *clean = str_utf8_sanitize(rec->name);                                                \
        cJSON_AddStringToObject(obj, #name, clean);                                                \
        free(clean);                                                                               \
    }
    JOURNAL_FIELDS(ADD_FIELD)
#undef ADD_FIELD
    char *text = cJSON_PrintUnformatted(obj); /* escapes newlines: one record, one line */
    cJSON_Delete(obj);
    char *owned = xstrdup(text);
    cJSON_free(text);
    return owned;
}

int journal_record_from_json(const char *line, size_t len, journal_record *out)
{
    *out = (journal_record){0};
    cJSON *obj = cJSON_ParseWithLength(line, len);
    if (!cJSON_IsObject(obj)) {
        cJSON_Delete(obj);
        return -1;
    }
#define GET_FIELD(name)                                                                            \
    {                                                                                              \
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, #name);                             \
        if (cJSON_IsString(v))                                                                     \
            out->name = xstrdup(v->valuestring);                                                   \
    }
    JOURNAL_FIELDS(GET_FIELD)
#undef GET_FIELD
    cJSON_Delete(obj);
    if (!out->action) {
        journal_record_clear(out);
        return -1;
    }
    return 0;
}

char *journal_identity(void)
{
    const char *user = NULL;
    struct passwd *pw = getpwuid(geteuid());
    if (pw && pw->pw_name && *pw->pw_name)
        user = pw->pw_name;
    else if (getenv("USER"))
        user = getenv("USER");
    char host[256] = "localhost";
    if (gethostname(host, sizeof host - 1) != 0)
        strcpy(host, "localhost");
    host[sizeof host - 1] = '\0';
    if (user)
        return xasprintf("%s@%s", user, host);
    return xasprintf("uid%u@%s", (unsigned)geteuid(), host);
}

static void now_rfc3339(char *buf, size_t len)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%03dZ", (int)(ts.tv_nsec / 1000000) % 1000);
}

static int take_lock(journal *j, tp_err *err)
{
    j->lock_fd = statedir_open_file(j->sd, LOCK_FILE, O_RDWR | O_CREAT, err);
    if (j->lock_fd < 0)
        return -1;
    /* flock is released by the kernel when the process dies, so kill -9 leaves no stale lock. */
    if (flock(j->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        char holder[64] = "";
        ssize_t n = pread(j->lock_fd, holder, sizeof holder - 1, 0);
        holder[n > 0 ? n : 0] = '\0';
        str_trim(holder);
        tp_err_set(err,
                   "state dir %s is in use by another tagpilot%s%s%s; open it read-only "
                   "(--read-only) to watch",
                   statedir_path(j->sd), *holder ? " (pid " : "", holder, *holder ? ")" : "");
        return -1;
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(j->lock_fd, 0) != 0 || pwrite(j->lock_fd, pid, (size_t)len, 0) != len) {
        /* The pid is only a courtesy for the message above; the flock is what counts. */
    }
    return 0;
}

static void add_record(journal *j, journal_record *rec)
{
    if (j->count == j->cap) {
        j->cap = j->cap ? j->cap * 2 : 64;
        j->records = xrealloc(j->records, j->cap * sizeof *j->records);
    }
    j->records[j->count++] = *rec;
}

static int read_all(journal *j, strbuf *out, tp_err *err)
{
    tp_err why = {{0}};
    if (statedir_read_file(j->sd, JOURNAL_FILE, 0, out, &why) == 0 || errno == ENOENT)
        return 0;
    return tp_err_set(err, "cannot read journal: %s", why.msg);
}

/* Append text to journal.corrupt (0600) so nothing a human might want is thrown away. */
static int keep_corrupt(journal *j, const char *text, size_t len)
{
    int fd = statedir_open_file(j->sd, CORRUPT_FILE, O_WRONLY | O_APPEND | O_CREAT, NULL);
    if (fd < 0)
        return -1;
    int rc = (write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1 && fsync(fd) == 0)
                 ? 0
                 : -1;
    close(fd);
    return rc;
}

/* Parse the file's records; returns the byte offset where a torn last line starts (or the
 * length when there is none). */
static size_t load_records(journal *j, const strbuf *text)
{
    size_t pos = 0, line_no = 0;
    while (pos < text->len) {
        line_no++;
        const char *start = text->data + pos;
        const char *nl = memchr(start, '\n', text->len - pos);
        if (!nl) {
            /* Only a writer repairs (and keeps the tail in journal.corrupt); a reader, maybe
             * watching a write in progress, just leaves the line alone. */
            char *msg =
                xasprintf("journal %s: line %zu is incomplete (a crash during a write?); "
                          "ignored%s%s",
                          j->path, line_no, j->mode == JOURNAL_READ_WRITE ? ", and kept in " : "",
                          j->mode == JOURNAL_READ_WRITE ? CORRUPT_FILE : "");
            strvec_push(&j->warnings, msg);
            free(msg);
            return pos;
        }
        size_t len = (size_t)(nl - start);
        journal_record rec;
        if (len == 0) {
            /* blank line: harmless */
        } else if (journal_record_from_json(start, len, &rec) == 0) {
            add_record(j, &rec);
        } else {
            char *msg =
                xasprintf("journal %s: line %zu is not a valid record; skipped", j->path, line_no);
            strvec_push(&j->warnings, msg);
            free(msg);
            char *raw = xstrndup(start, len);
            strvec_push(&j->corrupt, raw);
            free(raw);
        }
        pos += len + 1;
    }
    return pos;
}

int journal_open(const char *state_dir, journal_mode mode, journal **out, tp_err *err)
{
    journal *j = xcalloc(1, sizeof *j);
    j->mode = mode;
    j->fd = -1;
    j->lock_fd = -1;
    *out = NULL;
    /* A reader creates nothing: no state dir yet is an empty history. */
    if (statedir_open(state_dir, mode == JOURNAL_READ_WRITE ? STATEDIR_CREATE : STATEDIR_EXISTING,
                      &j->sd, err) < 0) {
        journal_close(j);
        return -1;
    }
    j->path = xasprintf("%s/%s", statedir_path(j->sd), JOURNAL_FILE);
    if (mode == JOURNAL_READ_WRITE) {
        if (take_lock(j, err) < 0) {
            journal_close(j);
            return -1;
        }
        statedir_remove_stale_temps(j->sd, JOURNAL_FILE); /* a compaction cut short */
    }
    strbuf text = {0};
    if (read_all(j, &text, err) < 0) {
        journal_close(j);
        return -1;
    }
    size_t valid_end = load_records(j, &text);
    if (mode == JOURNAL_READ_WRITE) {
        j->fd = statedir_open_file(j->sd, JOURNAL_FILE, O_WRONLY | O_APPEND | O_CREAT, err);
        if (j->fd < 0) {
            tp_err_prefix(err, "cannot write journal");
            strbuf_free(&text);
            journal_close(j);
            return -1;
        }
        /* The file's name is made durable (its folder fsync'd) with the first record this
         * writer appends, not here: a scan that records nothing, most of them, never waits for
         * it, and a file without records has nothing to lose. */
        if (valid_end < text.len) {
            /* Cut the torn tail so the next record starts on a line of its own; it was never
             * acknowledged, and a copy goes to journal.corrupt first. */
            if (keep_corrupt(j, text.data + valid_end, text.len - valid_end) < 0 ||
                ftruncate(j->fd, (off_t)valid_end) != 0 || fsync(j->fd) != 0) {
                tp_err_set(err, "cannot repair journal %s: %s", j->path, strerror(errno));
                strbuf_free(&text);
                journal_close(j);
                return -1;
            }
        }
    }
    strbuf_free(&text);
    *out = j;
    return 0;
}

void journal_close(journal *j)
{
    if (!j)
        return;
    if (j->fd >= 0)
        close(j->fd);
    if (j->lock_fd >= 0)
        close(j->lock_fd); /* releases the flock */
    for (size_t i = 0; i < j->count; i++)
        journal_record_clear(&j->records[i]);
    free(j->records);
    strvec_free(&j->warnings);
    strvec_free(&j->corrupt);
    statedir_close(j->sd);
    free(j->path);
    free(j);
}

int journal_append(journal *j, const journal_record *rec, tp_err *err)
{
    if (j->mode != JOURNAL_READ_WRITE)
        return tp_err_set(err, "journal %s is open read-only: action not recorded", j->path);
    journal_record full;
    record_copy(&full, rec);
    if (!full.time) {
        char when[40];
        now_rfc3339(when, sizeof when);
        full.time = xstrdup(when);
    }
    if (!full.user || !full.host) {
        char *id = journal_identity();
        char *at = strrchr(id, '@');
        if (!full.user)
            full.user = xstrndup(id, (size_t)(at - id));
        if (!full.host)
            full.host = xstrdup(at + 1);
        free(id);
    }
    if (!full.ssh && getenv("SSH_CONNECTION") && *getenv("SSH_CONNECTION"))
        full.ssh = xstrdup(getenv("SSH_CONNECTION"));

    char *json = journal_record_to_json(&full);
    size_t len = strlen(json);
    json = xrealloc(json, len + 2);
    json[len++] = '\n';
    json[len] = '\0';
    off_t before = lseek(j->fd, 0, SEEK_END);
    int rc = 0;
    if (!fd_write_all(j->fd, json, len) || fsync(j->fd) != 0) {
        int saved = errno;
        /* Take back a partial line so the journal stays whole. */
        if (before >= 0 && ftruncate(j->fd, before) == 0)
            fsync(j->fd);
        rc = tp_err_set(err, "cannot write journal %s: %s", j->path, strerror(saved));
    }
    free(json);
    /* Acknowledged once the name is durable too (a journal created by an earlier process that
     * recorded nothing may not be). As at open before, a folder that cannot be synced is not
     * an error: the record itself is on disk. */
    if (rc == 0 && !j->name_synced) {
        statedir_sync(j->sd);
        j->name_synced = true;
    }
    if (rc < 0) {
        journal_record_clear(&full);
        return rc;
    }
    add_record(j, &full);
    return 0;
}

size_t journal_count(const journal *j)
{
    return j->count;
}

const journal_record *journal_get(const journal *j, size_t i)
{
    return i < j->count ? &j->records[i] : NULL;
}

const strvec *journal_warnings(const journal *j)
{
    return &j->warnings;
}

const char *journal_path(const journal *j)
{
    return j->path;
}

int journal_compact(journal *j, tp_err *err)
{
    if (j->mode != JOURNAL_READ_WRITE)
        return tp_err_set(err, "journal %s is open read-only: cannot compact", j->path);
    for (size_t i = 0; i < j->corrupt.count; i++)
        if (keep_corrupt(j, j->corrupt.items[i], strlen(j->corrupt.items[i])) < 0)
            return tp_err_set(err, "cannot keep corrupt lines aside in %s/%s: %s",
                              statedir_path(j->sd), CORRUPT_FILE, strerror(errno));
    char *tmp;
    int fd = statedir_create_temp(j->sd, JOURNAL_FILE, &tmp, err);
    if (fd < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < j->count && rc == 0; i++) {
        char *json = journal_record_to_json(&j->records[i]);
        if (!fd_write_all(fd, json, strlen(json)) || !fd_write_all(fd, "\n", 1))
            rc = -1;
        free(json);
    }
    if (rc == 0 && fsync(fd) != 0)
        rc = -1;
    if (rc < 0)
        tp_err_set(err, "cannot compact journal %s: %s", j->path, strerror(errno));
    close(fd);
    if (rc == 0 && statedir_replace(j->sd, tmp, JOURNAL_FILE, err) < 0) {
        tp_err_prefix(err, "cannot compact journal");
        rc = -1;
    }
    if (rc < 0) {
        statedir_remove(j->sd, tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    statedir_sync(j->sd);
    /* The append descriptor still points at the old inode: reopen on the new file. */
    tp_err why = {{0}};
    int nfd = statedir_open_file(j->sd, JOURNAL_FILE, O_WRONLY | O_APPEND, &why);
    if (nfd < 0) {
        /* The old descriptor points at the unlinked file: appends there would vanish. */
        close(j->fd);
        j->fd = -1;
        j->mode = JOURNAL_READ_ONLY;
        return tp_err_set(err, "cannot reopen journal: %s; no more actions are recorded", why.msg);
    }
    close(j->fd);
    j->fd = nfd;
    strvec_free(&j->corrupt);
    return 0;
}
