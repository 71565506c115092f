/* The journal (engine/state/journal.c). One record: a line that parses serialises to one line
 * that parses to the same record (invalid UTF-8 replaced), and serialising is then stable. The
 * whole input as journal.jsonl: a reader loads one record per valid line and one warning per bad
 * or torn one; a writer's open cuts a torn tail, after which a reader sees the same records and
 * nothing torn. */
#include <fcntl.h>
#include <ftw.h>
#include <unistd.h>

#include "fuzz.h"
#include "state/journal.h"
#include "util.h"

static char state_dir[64];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void remove_state_dir(void)
{
    nftw(state_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *the_state_dir(void)
{
    if (!state_dir[0]) {
        snprintf(state_dir, sizeof state_dir, "/dev/shm/tp-fuzz-journal.XXXXXX");
        if (!mkdtemp(state_dir)) {
            snprintf(state_dir, sizeof state_dir, "/tmp/tp-fuzz-journal.XXXXXX");
            if (!mkdtemp(state_dir))
                abort();
        }
        atexit(remove_state_dir);
    }
    return state_dir;
}

#define CHECK_FIELD(name)                                                                          \
    {                                                                                              \
        char *want = a->name ? str_utf8_sanitize(a->name) : NULL;                                  \
        fuzz_require(str_same(want, b->name), "field " #name " changed: '%s' -> '%s'",             \
                     want ? want : "(null)", b->name ? b->name : "(null)");                        \
        free(want);                                                                                \
    }

/* b is a, as written and read back. */
static void same_record(const journal_record *a, const journal_record *b)
{
    CHECK_FIELD(time)
    CHECK_FIELD(user)
    CHECK_FIELD(host)
    CHECK_FIELD(ssh)
    CHECK_FIELD(action)
    CHECK_FIELD(app)
    CHECK_FIELD(alias)
    CHECK_FIELD(from)
    CHECK_FIELD(to)
    CHECK_FIELD(digest)
    CHECK_FIELD(commit)
    CHECK_FIELD(result)
    CHECK_FIELD(detail)
}

static void one_record(const uint8_t *data, size_t size)
{
    char *line = fuzz_exact(data, size);
    journal_record rec;
    if (journal_record_from_json(line, size, &rec) == 0) {
        char *once = journal_record_to_json(&rec);
        fuzz_require(!strchr(once, '\n'), "a record written over two lines: %s", once);
        journal_record back;
        fuzz_require(journal_record_from_json(once, strlen(once), &back) == 0,
                     "a written record does not read back: %s", once);
        same_record(&rec, &back);
        char *twice = journal_record_to_json(&back);
        fuzz_require(strcmp(once, twice) == 0, "written twice differently: %s / %s", once, twice);
        free(twice);
        journal_record_clear(&back);
        free(once);
        journal_record_clear(&rec);
    }
    free(line);
}

static void write_file(const char *path, const uint8_t *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size) || close(fd) != 0)
        abort();
}

/* What a reader should see: records, bad complete lines, and whether the last line is torn. */
static void expect_counts(const uint8_t *data, size_t size, size_t *records, size_t *bad,
                          bool *torn)
{
    *records = *bad = 0;
    *torn = false;
    size_t pos = 0;
    while (pos < size) {
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        if (!nl) {
            *torn = true;
            return;
        }
        size_t len = (size_t)(nl - (data + pos));
        journal_record rec;
        if (len && journal_record_from_json((const char *)data + pos, len, &rec) == 0) {
            (*records)++;
            journal_record_clear(&rec);
        } else if (len) {
            (*bad)++;
        }
        pos += len + 1;
    }
}

static size_t count_torn_warnings(const journal *j)
{
    const strvec *w = journal_warnings(j);
    size_t n = 0;
    for (size_t i = 0; i < w->count; i++)
        n += strstr(w->items[i], "is incomplete") != NULL;
    return n;
}

static void whole_file(const uint8_t *data, size_t size)
{
    const char *dir = the_state_dir();
    char *path = xasprintf("%s/journal.jsonl", dir);
    char *corrupt = xasprintf("%s/journal.corrupt", dir);
    unlink(corrupt);
    write_file(path, data, size);
    size_t records, bad;
    bool torn;
    expect_counts(data, size, &records, &bad, &torn);

    journal *j;
    tp_err err;
    fuzz_require(journal_open(dir, JOURNAL_READ_ONLY, &j, &err) == 0, "reader: %s", err.msg);
    fuzz_require(journal_count(j) == records, "%zu records loaded, %zu valid lines",
                 journal_count(j), records);
    fuzz_require(journal_warnings(j)->count == bad + torn, "%zu warnings for %zu bad lines%s",
                 journal_warnings(j)->count, bad, torn ? " and a torn one" : "");
    journal_close(j);

    fuzz_require(journal_open(dir, JOURNAL_READ_WRITE, &j, &err) == 0, "writer: %s", err.msg);
    fuzz_require(journal_count(j) == records, "writer loaded %zu records, not %zu",
                 journal_count(j), records);
    journal_close(j);
    fuzz_require(journal_open(dir, JOURNAL_READ_ONLY, &j, &err) == 0, "reader after repair: %s",
                 err.msg);
    fuzz_require(journal_count(j) == records, "after repair %zu records, not %zu", journal_count(j),
                 records);
    fuzz_require(count_torn_warnings(j) == 0, "still torn after a writer's repair");
    journal_close(j);
    unlink(path);
    free(corrupt);
    free(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one_record(data, size);
    whole_file(data, size);
    return 0;
}
