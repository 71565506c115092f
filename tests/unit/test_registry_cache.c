#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "registry/cache.h"
#include "registry/internal.h"

#define D_IMAGE "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D_INDEX "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D_CHILD "sha256:3333333333333333333333333333333333333333333333333333333333333333"

static char statedir[64];

static void make_tmp(void)
{
    snprintf(statedir, sizeof statedir, "/tmp/tp-cache.XXXXXX");
    cr_assert_not_null(mkdtemp(statedir));
}

static void remove_tmp(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", statedir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(registry_cache, .init = make_tmp, .fini = remove_tmp);

static void put_samples(meta_cache *mc)
{
    meta_record img = {.has_created = true,
                       .created = {1714557600, 123456789},
                       .os = "linux",
                       .arch = "arm",
                       .variant = "v7"};
    meta_cache_put(mc, D_IMAGE, &img);
    meta_child children[] = {
        {.digest = D_CHILD, .os = "linux", .arch = "amd64"},
        {.digest = D_IMAGE, .os = "linux", .arch = "arm", .variant = "v7"},
    };
    meta_record idx = {.is_index = true, .children = children, .n_children = 2};
    meta_cache_put(mc, D_INDEX, &idx);
}

static void check_samples(meta_cache *mc)
{
    const meta_record *r = meta_cache_get(mc, D_IMAGE);
    cr_assert_not_null(r);
    cr_assert(!r->is_index && r->has_created);
    cr_assert(r->created.sec == 1714557600 && r->created.nsec == 123456789);
    cr_assert_str_eq(r->os, "linux");
    cr_assert_str_eq(r->arch, "arm");
    cr_assert_str_eq(r->variant, "v7");
    r = meta_cache_get(mc, D_INDEX);
    cr_assert_not_null(r);
    cr_assert(r->is_index);
    cr_assert_eq(r->n_children, 2);
    cr_assert_str_eq(r->children[0].digest, D_CHILD);
    cr_assert_str_eq(r->children[0].arch, "amd64");
    cr_assert_null(r->children[0].variant);
    cr_assert_str_eq(r->children[1].variant, "v7");
    cr_assert_null(meta_cache_get(mc, D_CHILD));
}

Test(registry_cache, memory_round_trip)
{
    meta_cache *mc = meta_cache_new(NULL);
    put_samples(mc);
    check_samples(mc);
    cr_assert_eq(meta_cache_count(mc), 2);
    meta_cache_free(mc);
}

Test(registry_cache, disk_round_trip_survives_a_new_process)
{
    meta_cache *mc = meta_cache_new(statedir);
    put_samples(mc);
    meta_cache_free(mc);
    char *path = xasprintf("%s/registry/meta/sha256/%s.json", statedir, D_IMAGE + 7);
    cr_assert_eq(access(path, R_OK), 0, "%s should exist", path);
    free(path);
    mc = meta_cache_new(statedir); /* fresh memory: everything comes from disk */
    check_samples(mc);
    meta_cache_free(mc);
}

Test(registry_cache, corrupt_file_is_a_miss)
{
    meta_cache *mc = meta_cache_new(statedir);
    put_samples(mc);
    meta_cache_free(mc);
    char *path = xasprintf("%s/registry/meta/sha256/%s.json", statedir, D_IMAGE + 7);
    FILE *f = fopen(path, "w");
    fputs("{\"kind\": \"image\", \"created_ns\": \"12x\"}", f);
    fclose(f);
    free(path);
    mc = meta_cache_new(statedir);
    cr_assert_null(meta_cache_get(mc, D_IMAGE));
    cr_assert_not_null(meta_cache_get(mc, D_INDEX));
    meta_cache_free(mc);
}

Test(registry_cache, refuses_bad_digests)
{
    meta_cache *mc = meta_cache_new(statedir);
    meta_record img = {.os = "linux"};
    meta_cache_put(mc, "sha256:../../etc/passwd", &img);
    meta_cache_put(mc, "sha512:abcd", &img);
    cr_assert_eq(meta_cache_count(mc), 0);
    cr_assert_null(meta_cache_get(mc, "sha256:../../etc/passwd"));
    cr_assert(!registry_digest_valid("sha256:" /* short */));
    cr_assert(!registry_digest_valid(
        "sha256:AAAA111111111111111111111111111111111111111111111111111111111111"));
    cr_assert(registry_digest_valid(D_IMAGE));
    meta_cache_free(mc);
}

Test(registry_cache, many_entries_grow_the_table)
{
    meta_cache *mc = meta_cache_new(NULL);
    char digest[72];
    for (int i = 0; i < 5000; i++) {
        snprintf(digest, sizeof digest, "sha256:%064x", i);
        meta_record r = {.has_created = true, .created = {i, 0}};
        meta_cache_put(mc, digest, &r);
    }
    cr_assert_eq(meta_cache_count(mc), 5000);
    for (int i = 0; i < 5000; i += 97) {
        snprintf(digest, sizeof digest, "sha256:%064x", i);
        const meta_record *r = meta_cache_get(mc, digest);
        cr_assert_not_null(r);
        cr_assert_eq(r->created.sec, i);
    }
    meta_cache_free(mc);
}

/* Files on disk say `created` in RFC 3339 (any year, to the nanosecond) and, while it fits,
 * the old `created_ns` too; files from before `created` are still read. */
static void write_record(const char *digest, const char *json)
{
    char *dir = xasprintf("%s/registry/meta/sha256", statedir);
    char *cmd = xasprintf("mkdir -p '%s'", dir);
    cr_assert_eq(system(cmd), 0);
    char *path = xasprintf("%s/%s.json", dir, digest + 7);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(json, f);
    fclose(f);
    free(path);
    free(cmd);
    free(dir);
}

static char *read_record(const char *digest)
{
    char *path = xasprintf("%s/registry/meta/sha256/%s.json", statedir, digest + 7);
    strbuf sb = {0};
    tp_err err;
    cr_assert_eq(file_read_all(path, NULL, &sb, &err), 0, "%s", err.msg);
    free(path);
    return strbuf_take(&sb);
}

Test(registry_cache, created_on_disk_any_year)
{
    meta_cache *mc = meta_cache_new(statedir);
    meta_record zero = {.has_created = true, .created = {-62135596800, 0}, .os = "linux"};
    meta_record now = {.has_created = true, .created = {1714557600, 500000000}, .os = "linux"};
    meta_cache_put(mc, D_IMAGE, &zero);
    meta_cache_put(mc, D_CHILD, &now);
    meta_cache_free(mc);
    char *text = read_record(D_IMAGE);
    cr_expect_str_eq(text,
                     "{\"kind\":\"image\",\"created\":\"0001-01-01T00:00:00Z\",\"os\":\"linux\"}");
    free(text);
    text = read_record(D_CHILD);
    cr_expect_str_eq(text, "{\"kind\":\"image\",\"created\":\"2024-05-01T10:00:00.5Z\","
                           "\"created_ns\":\"1714557600500000000\",\"os\":\"linux\"}");
    free(text);
    mc = meta_cache_new(statedir);
    const meta_record *r = meta_cache_get(mc, D_IMAGE);
    cr_assert_not_null(r);
    cr_expect(r->has_created && r->created.sec == -62135596800 && r->created.nsec == 0);
    r = meta_cache_get(mc, D_CHILD);
    cr_assert_not_null(r);
    cr_expect(r->has_created && r->created.sec == 1714557600 && r->created.nsec == 500000000);
    meta_cache_free(mc);
}

Test(registry_cache, reads_the_old_created_ns)
{
    write_record(D_IMAGE, "{\"kind\":\"image\",\"created_ns\":\"-1500000000\",\"os\":\"linux\"}");
    write_record(D_CHILD, "{\"kind\":\"image\",\"created\":\"2024-02-30T00:00:00Z\"}");
    meta_cache *mc = meta_cache_new(statedir);
    const meta_record *r = meta_cache_get(mc, D_IMAGE);
    cr_assert_not_null(r);
    cr_expect(r->has_created && r->created.sec == -2 && r->created.nsec == 500000000, "%lld.%d",
              (long long)r->created.sec, (int)r->created.nsec);
    cr_expect_null(meta_cache_get(mc, D_CHILD), "an invalid date is a corrupt file: a miss");
    meta_cache_free(mc);
}

Test(registry_cache, sha256_hex)
{
    char out[72];
    registry_sha256("", 0, out);
    cr_assert_str_eq(out,
                     "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    registry_sha256("abc", 3, out);
    cr_assert_str_eq(out,
                     "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
