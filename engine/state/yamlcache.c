/* yamlcache: parsed manifests kept between --once runs (see yamlcache.h).
 *
 * The file, in the host's byte order (another order fails the byte-order word):
 *   "TPYAMLC1", u32 0x01020304, u32 build length, build (yamldoc_build: the parser that wrote
 *   it), u32 entries, then per entry u32 source length, u32 flat length, u64 hash of the source,
 *   u64 checksum of the flat form, the source's bytes, its document's flat form (yamldoc_flatten).
 * Every length is checked against what is left before it is used. Loading reads the headers
 * only; an entry's flat form is checked (its checksum, then yamldoc_unflatten) when a file asks
 * for it, so the scan's first request does not wait for 4 MB to be summed. */
#include "state/yamlcache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "statedir.h"

#define MAGIC           "TPYAMLC1"
#define BYTE_ORDER_WORD 0x01020304u

typedef struct entry {
    const char *src; /* into the loaded file, or own */
    size_t src_len;
    const char *flat; /* into the loaded file; NULL once this run wrote the file's form */
    size_t flat_len;
    uint64_t hash, flat_sum;
    char *own;  /* a copy of a new entry's source (its flat form went straight to the file) */
    bool used;  /* a loaded entry read this run: copied to the new file */
    bool saved; /* in the file as loaded */
} entry;

struct yamlcache {
    char *state_dir;
    bool writer; /* this run saves (the journal's writer): new forms go to a temp file as made */
    size_t max_bytes; /* YAMLCACHE_MAX_BYTES (smaller in a test) */
    struct {
        const char *data; /* the loaded file, mapped (read-only, private) */
        size_t len;
    } file;
    entry *entries;
    size_t n, cap;
    size_t *slots; /* open addressing over hash: entry index + 1, 0 empty */
    size_t n_slots;
    bool changed; /* an entry added or replaced */
    size_t hits, parses;
    struct { /* the new file, while it is written */
        statedir *sd;
        char *tmp;
        int fd;          /* -1: not begun */
        strbuf buf;      /* what waits for a write (flushed at 64 KiB) */
        size_t count_at; /* where the entry count goes, once known */
        uint32_t count;
        size_t bytes; /* written and waiting: the file's size so far */
        int error;    /* the first errno; no rename then */
    } out;
};

/* Eight bytes a step, four lanes at once: a source's hash (the table's key) and a flat form's
 * checksum. A damaged file is what the checksum catches, not an adversary (the state dir is the
 * user's own, and every flat form is checked again as it is read back). */
static uint64_t mix(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0x9e3779b97f4a7c15u;
    return h ^ (h >> 31);
}

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t lane[4] = {0x243f6a8885a308d3u ^ n, 0x13198a2e03707344u, 0xa4093822299f31d0u,
                        0x082efa98ec4e6c89u};
    size_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int k = 0; k < 4; k++) {
            uint64_t w;
            memcpy(&w, p + i + 8 * k, 8);
            lane[k] = mix(lane[k], w);
        }
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        lane[0] = mix(lane[0], w);
    }
    uint64_t tail = 0;
    memcpy(&tail, p + i, n - i);
    lane[1] = mix(lane[1], tail);
    return mix(mix(lane[0], lane[1]), mix(lane[2], lane[3]));
}

static void slots_insert(yamlcache *c, size_t index)
{
    size_t mask = c->n_slots - 1;
    for (size_t s = c->entries[index].hash & mask;; s = (s + 1) & mask)
        if (!c->slots[s]) {
            c->slots[s] = index + 1;
            return;
        }
}

static entry *add_entry(yamlcache *c, const entry *e)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 256;
        c->entries = xrealloc(c->entries, c->cap * sizeof *c->entries);
    }
    c->entries[c->n++] = *e;
    if (c->n * 2 > c->n_slots) { /* at most half full */
        free(c->slots);
        c->n_slots = c->n_slots ? c->n_slots * 2 : 512;
        while (c->n * 2 > c->n_slots)
            c->n_slots *= 2;
        c->slots = xcalloc(c->n_slots, sizeof *c->slots);
        for (size_t i = 0; i < c->n; i++)
            slots_insert(c, i);
    } else {
        slots_insert(c, c->n - 1);
    }
    return &c->entries[c->n - 1];
}

static entry *find(yamlcache *c, uint64_t hash, const char *src, size_t len)
{
    if (!c->n_slots)
        return NULL;
    size_t mask = c->n_slots - 1;
    for (size_t s = hash & mask; c->slots[s]; s = (s + 1) & mask) {
        entry *e = &c->entries[c->slots[s] - 1];
        if (e->hash == hash && e->src_len == len && memcmp(e->src, src, len) == 0)
            return e;
    }
    return NULL;
}

/* Reads n bytes at *at of the file into out, advancing; false past its end. */
static bool take(const yamlcache *c, size_t *at, size_t end, void *out, size_t n)
{
    if (end - *at < n)
        return false;
    memcpy(out, c->file.data + *at, n);
    *at += n;
    return true;
}

/* The loaded file's entries into the table; false (the cache then empty) at the first thing
 * that is not as it was written. */
static bool index_file(yamlcache *c)
{
    const char *d = c->file.data;
    size_t end = c->file.len;
    const char *build = yamldoc_build();
    if (end < strlen(MAGIC) || memcmp(d, MAGIC, strlen(MAGIC)) != 0)
        return false;
    size_t at = strlen(MAGIC);
    uint32_t order, build_len, n;
    if (!take(c, &at, end, &order, sizeof order) || order != BYTE_ORDER_WORD ||
        !take(c, &at, end, &build_len, sizeof build_len) || build_len != strlen(build) ||
        end - at < build_len || memcmp(d + at, build, build_len) != 0)
        return false;
    at += build_len;
    if (!take(c, &at, end, &n, sizeof n))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t src_len, flat_len;
        uint64_t hash, sum;
        if (!take(c, &at, end, &src_len, sizeof src_len) ||
            !take(c, &at, end, &flat_len, sizeof flat_len) ||
            !take(c, &at, end, &hash, sizeof hash) || !take(c, &at, end, &sum, sizeof sum) ||
            end - at < (size_t)src_len || end - at - src_len < (size_t)flat_len)
            return false;
        entry e = {.src = d + at,
                   .src_len = src_len,
                   .flat = d + at + src_len,
                   .flat_len = flat_len,
                   .hash = hash,
                   .flat_sum = sum,
                   .saved = true};
        add_entry(c, &e);
        at += (size_t)src_len + flat_len;
    }
    return at == end;
}

static void drop_entries(yamlcache *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->entries[i].own);
    free(c->entries);
    free(c->slots);
    c->entries = NULL;
    c->slots = NULL;
    c->n = c->cap = c->n_slots = 0;
}

static void unmap_file(yamlcache *c)
{
    if (c->file.data)
        munmap((void *)c->file.data, c->file.len);
    c->file.data = NULL;
    c->file.len = 0;
}

/* Mapped, not read: 4 MB for 1,000 manifests were 1,000 page faults and a copy. MAP_POPULATE
 * maps the pages the page cache holds in one call. */
static void map_file(yamlcache *c, statedir *sd)
{
    tp_err err = {{0}};
    int fd = statedir_open_file(sd, YAMLCACHE_FILE, O_RDONLY, &err);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size > 0 && (uintmax_t)st.st_size <= c->max_bytes) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        if (p != MAP_FAILED) {
            c->file.data = p;
            c->file.len = (size_t)st.st_size;
        }
    }
    if (fd >= 0)
        close(fd);
}

yamlcache *yamlcache_load(const char *state_dir, bool writer)
{
    yamlcache *c = xcalloc(1, sizeof *c);
    c->state_dir = xstrdup(state_dir);
    c->writer = writer && state_dir;
    c->max_bytes = YAMLCACHE_MAX_BYTES;
    c->out.fd = -1;
    statedir *sd = NULL;
    tp_err err = {{0}};
    if (state_dir && statedir_open(state_dir, STATEDIR_EXISTING, &sd, &err) == 0 && sd)
        map_file(c, sd);
    if (c->file.data && !index_file(c)) {
        drop_entries(c);
        unmap_file(c);
    }
    statedir_close(sd);
    return c;
}

static void put_u32(strbuf *sb, uint32_t w)
{
    strbuf_append(sb, (const char *)&w, sizeof w);
}

/* What waits in the buffer, written once there is `at_least` of it (0: all of it). */
static void out_flush(yamlcache *c, size_t at_least)
{
    if (c->out.error)
        c->out.buf.len = 0; /* the file is lost already */
    else if (!strbuf_write_out(&c->out.buf, c->out.fd, at_least))
        c->out.error = errno ? errno : EIO;
}

/* The new file begun: a temp file beside the old one, its header written. False when there is
 * nowhere to write (no state dir: nothing is kept). */
static bool out_begin(yamlcache *c)
{
    if (c->out.fd >= 0 || c->out.error)
        return c->out.fd >= 0;
    tp_err err = {{0}};
    if (statedir_open(c->state_dir, STATEDIR_EXISTING, &c->out.sd, &err) < 0) {
        c->out.error = errno ? errno : EIO;
        return false;
    }
    if (!c->out.sd) { /* no state dir (yet): nothing to keep it in */
        c->writer = false;
        return false;
    }
    /* Only the writer saves (as last-run.json), so a temp file here is a dead run's. */
    statedir_remove_stale_temps(c->out.sd, YAMLCACHE_FILE);
    c->out.fd = statedir_create_temp(c->out.sd, YAMLCACHE_FILE, &c->out.tmp, &err);
    if (c->out.fd < 0) {
        c->out.error = errno ? errno : EIO;
        return false;
    }
    const char *build = yamldoc_build();
    strbuf_append(&c->out.buf, MAGIC, strlen(MAGIC));
    put_u32(&c->out.buf, BYTE_ORDER_WORD);
    put_u32(&c->out.buf, (uint32_t)strlen(build));
    strbuf_puts(&c->out.buf, build);
    c->out.count_at = c->out.buf.len;
    put_u32(&c->out.buf, 0); /* the count, written last */
    c->out.bytes = c->out.buf.len;
    return true;
}

static void out_entry(yamlcache *c, const char *src, size_t src_len, const char *flat,
                      size_t flat_len, uint64_t hash, uint64_t flat_sum)
{
    /* A file the next load would refuse is no use: past YAMLCACHE_MAX_BYTES, entries are left
     * out (those files are parsed every time). */
    size_t size = 2 * sizeof(uint32_t) + 2 * sizeof(uint64_t) + src_len + flat_len;
    if (size > c->max_bytes - c->out.bytes)
        return;
    c->out.bytes += size;
    strbuf *b = &c->out.buf;
    put_u32(b, (uint32_t)src_len);
    put_u32(b, (uint32_t)flat_len);
    strbuf_append(b, (const char *)&hash, sizeof hash);
    strbuf_append(b, (const char *)&flat_sum, sizeof flat_sum);
    strbuf_append(b, src, src_len);
    strbuf_append(b, flat, flat_len);
    c->out.count++;
    out_flush(c, 65536);
}

int yamlcache_parse(yamlcache *c, const char *buf, size_t len, const char *name, ydoc *out,
                    tp_err *err)
{
    if (!c || len > YAMLCACHE_MAX_SOURCE)
        return yamldoc_parse(buf, len, name, out, err);
    uint64_t hash = hash_bytes(buf, len);
    entry *e = find(c, hash, buf, len);
    if (e && e->flat && hash_bytes(e->flat, e->flat_len) == e->flat_sum &&
        yamldoc_unflatten(e->flat, e->flat_len, len, name, out) == 0) {
        e->used = true;
        c->hits++;
        return 0;
    }
    c->parses++;
    if (yamldoc_parse(buf, len, name, out, err) != 0)
        return -1; /* errors are not kept: they are rare, and their messages name the file */
    if (e && !e->flat)
        return 0; /* the same bytes again this run: in the new file already */
    c->changed = true;
    if (!c->writer || !out_begin(c))
        return 0;
    /* Straight to the new file: a run that parses 50,000 manifests does not hold 200 MB of
     * their forms until it saves. */
    strbuf flat = {0};
    yamldoc_flatten(out, &flat);
    out_entry(c, buf, len, flat.data, flat.len, hash, hash_bytes(flat.data, flat.len));
    strbuf_free(&flat);
    if (e) { /* a kept form that failed its checks: the file now has this one instead */
        e->flat = NULL;
        e->used = false;
        return 0;
    }
    char *own = xmalloc(len ? len : 1);
    memcpy(own, buf, len);
    entry fresh = {.src = own, .src_len = len, .hash = hash, .own = own};
    add_entry(c, &fresh);
    return 0;
}

int yamlcache_save(yamlcache *c, tp_err *err)
{
    if (!c || !c->writer)
        return 0;
    bool same = !c->changed;
    for (size_t i = 0; same && i < c->n; i++)
        same = !c->entries[i].saved || c->entries[i].used;
    if (same && c->out.fd < 0)
        return 0;
    if (!out_begin(c) && !c->out.error)
        return 0; /* nowhere to write */
    /* the loaded entries this run read, after the new ones */
    for (size_t i = 0; c->out.fd >= 0 && i < c->n; i++) {
        const entry *e = &c->entries[i];
        if (e->saved && e->used && e->flat)
            out_entry(c, e->src, e->src_len, e->flat, e->flat_len, e->hash, e->flat_sum);
    }
    int rc = 0;
    if (c->out.fd >= 0) {
        out_flush(c, 0);
        /* fsync'd before the rename, so a power cut leaves the old file or this one, whole */
        if (!c->out.error && (pwrite(c->out.fd, &c->out.count, sizeof c->out.count,
                                     (off_t)c->out.count_at) != (ssize_t)sizeof c->out.count ||
                              fsync(c->out.fd) != 0))
            c->out.error = errno ? errno : EIO;
        if (close(c->out.fd) != 0 && !c->out.error)
            c->out.error = errno;
        c->out.fd = -1;
        if (!c->out.error && statedir_replace(c->out.sd, c->out.tmp, YAMLCACHE_FILE, err) < 0)
            rc = -1;
    }
    if (c->out.error)
        rc = tp_err_set(err, "cannot write %s/%s: %s", c->state_dir, YAMLCACHE_FILE,
                        strerror(c->out.error));
    if (rc < 0 && c->out.tmp && c->out.sd)
        statedir_remove(c->out.sd, c->out.tmp);
    free(c->out.tmp);
    c->out.tmp = NULL;
    statedir_close(c->out.sd);
    c->out.sd = NULL;
    strbuf_free(&c->out.buf);
    return rc;
}

void yamlcache_set_max_bytes(yamlcache *c, size_t max_bytes)
{
    c->max_bytes = max_bytes;
}

void yamlcache_counts(const yamlcache *c, size_t *from_cache, size_t *parsed)
{
    *from_cache = c ? c->hits : 0;
    *parsed = c ? c->parses : 0;
}

void yamlcache_free(yamlcache *c)
{
    if (!c)
        return;
    if (c->out.fd >= 0) { /* begun and never saved: the temp file goes */
        close(c->out.fd);
        statedir_remove(c->out.sd, c->out.tmp);
    }
    free(c->out.tmp);
    statedir_close(c->out.sd);
    strbuf_free(&c->out.buf);
    drop_entries(c);
    unmap_file(c);
    free(c->state_dir);
    free(c);
}
