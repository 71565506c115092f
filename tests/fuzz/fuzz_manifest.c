/* Manifests, indexes and config blobs (meta_parse_manifest / meta_parse_config in
 * engine/registry/meta.c), and the metadata cache's file for what they gave (cache.c): an
 * index keeps only children with a sha256 digest, an image names a valid config digest, a
 * config's created reads back, and a record written to disk is read back the same. */
#include <ftw.h>
#include <unistd.h>

#include "fuzz.h"
#include "registry/cache.h"
#include "registry/internal.h"

#define DIGEST "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

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
        snprintf(state_dir, sizeof state_dir, "/dev/shm/tp-fuzz-manifest.XXXXXX");
        if (!mkdtemp(state_dir)) {
            snprintf(state_dir, sizeof state_dir, "/tmp/tp-fuzz-manifest.XXXXXX");
            if (!mkdtemp(state_dir))
                abort();
        }
        atexit(remove_state_dir);
    }
    return state_dir;
}

static void same_record(const meta_record *a, const meta_record *b)
{
    fuzz_require(a->is_index == b->is_index, "kind changed on disk");
    fuzz_require(a->has_created == b->has_created, "created lost on disk");
    fuzz_require(!a->has_created || timefmt_compare(a->created, b->created) == 0,
                 "created changed on disk");
    fuzz_require(str_same(a->os, b->os) && str_same(a->arch, b->arch) &&
                     str_same(a->variant, b->variant),
                 "platform changed on disk");
    fuzz_require(a->n_children == b->n_children, "%zu children, %zu on disk", a->n_children,
                 b->n_children);
    for (size_t i = 0; i < a->n_children; i++) {
        const meta_child *x = &a->children[i], *y = &b->children[i];
        fuzz_require(str_same(x->digest, y->digest) && str_same(x->os, y->os) &&
                         str_same(x->arch, y->arch) && str_same(x->variant, y->variant),
                     "child %zu changed on disk", i);
    }
}

/* The record as a cache file and back, through a cache that has nothing in memory. */
static void disk_round_trip(const meta_record *rec)
{
    meta_cache *writer = meta_cache_new(the_state_dir());
    meta_cache_put(writer, DIGEST, rec);
    meta_cache_free(writer);
    meta_cache *reader = meta_cache_new(the_state_dir());
    const meta_record *back = meta_cache_get(reader, DIGEST);
    fuzz_require(back != NULL, "a record written to disk is not read back");
    same_record(rec, back);
    meta_cache_free(reader);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body = fuzz_exact(data, size);
    meta_record rec = {0};
    char config_digest[72] = "";
    manifest_kind kind = meta_parse_manifest(body, size, &rec, config_digest);
    if (kind == MANIFEST_INDEX) {
        fuzz_require(rec.is_index, "an index not marked as one");
        for (size_t i = 0; i < rec.n_children; i++)
            fuzz_require(registry_digest_valid(rec.children[i].digest), "child %zu digest", i);
        disk_round_trip(&rec);
    } else {
        fuzz_require(!rec.is_index && !rec.n_children, "not an index, yet children");
        fuzz_require(kind != MANIFEST_IMAGE || registry_digest_valid(config_digest),
                     "config digest '%s'", config_digest);
    }
    meta_record_free(&rec);

    meta_record cfg = {0};
    if (meta_parse_config(body, size, &cfg) == 0) {
        if (cfg.has_created) {
            char text[TIMEFMT_MAX];
            timefmt_format(cfg.created, text);
            tp_time back;
            fuzz_require(timefmt_parse(text, strlen(text), &back) == 0 &&
                             timefmt_compare(back, cfg.created) == 0,
                         "created '%s' does not read back", text);
        }
        disk_round_trip(&cfg);
    }
    meta_record_free(&cfg);
    free(body);
    return 0;
}
