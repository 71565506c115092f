/* state/yamlcache: manifests parsed by one --once run and read back by the next. A hit gives
 * the document the parser gives; a changed, damaged or dropped file never gives a stale one. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state/yamlcache.h"

static char dir[64];

static void make_dir(void)
{
    strcpy(dir, "/tmp/tp-yamlcache-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(yamlcache, .init = make_dir, .fini = remove_dir);

static const char *A = "kind: Application\nmetadata:\n  name: a\nspec: {tag: v1.0.0}\n";
static const char *B = "kind: Application\nmetadata:\n  name: b\nspec: {tag: v1.0.0}\n";

/* Parse text through c and say which tag it holds; *hit: from the cache. */
static const char *tag_of(yamlcache *c, const char *text, bool *hit)
{
    static char tag[32];
    size_t hits0, parsed0, hits1, parsed1;
    yamlcache_counts(c, &hits0, &parsed0);
    ydoc doc;
    tp_err err = {{0}};
    cr_assert_eq(yamlcache_parse(c, text, strlen(text), "app.yaml", &doc, &err), 0, "%s", err.msg);
    cr_assert_str_eq(doc.name, "app.yaml");
    snprintf(tag, sizeof tag, "%s", ynode_str(ynode_path(doc.roots[0], "spec.tag")));
    yamldoc_free(&doc);
    yamlcache_counts(c, &hits1, &parsed1);
    cr_assert_eq(hits1 + parsed1, hits0 + parsed0 + (c != NULL));
    *hit = hits1 > hits0;
    return tag;
}

static void save(yamlcache *c)
{
    tp_err err = {{0}};
    cr_assert_eq(yamlcache_save(c, &err), 0, "%s", err.msg);
}

/* One writer's run that reads text and saves. */
static void run_reading(const char *text)
{
    bool hit;
    yamlcache *c = yamlcache_load(dir, true);
    tag_of(c, text, &hit);
    save(c);
    yamlcache_free(c);
}

static ino_t file_inode(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, YAMLCACHE_FILE);
    struct stat st;
    return stat(path, &st) == 0 ? st.st_ino : 0;
}

Test(yamlcache, the_next_run_reads_what_this_one_parsed)
{
    bool hit;
    yamlcache *c = yamlcache_load(dir, true);
    cr_expect_str_eq(tag_of(c, A, &hit), "v1.0.0");
    cr_expect_not(hit, "an empty cache");
    save(c);
    yamlcache_free(c);
    ino_t written = file_inode();
    cr_assert_neq(written, 0, "saved");
    c = yamlcache_load(dir, true);
    cr_expect_str_eq(tag_of(c, A, &hit), "v1.0.0");
    cr_expect(hit, "the same bytes again");
    /* as many bytes, one different: parsed, never the other's document */
    cr_expect_str_eq(tag_of(c, B, &hit), "v1.0.0");
    cr_expect_not(hit, "B is not A");
    save(c);
    yamlcache_free(c);
    /* a run that reads what was there, and nothing new, writes nothing */
    c = yamlcache_load(dir, true);
    written = file_inode();
    tag_of(c, A, &hit);
    cr_expect(hit);
    tag_of(c, B, &hit);
    cr_expect(hit);
    save(c);
    yamlcache_free(c);
    cr_expect_eq(file_inode(), written, "rewritten with nothing changed");
}

Test(yamlcache, a_changed_file_is_parsed_and_what_is_not_read_is_dropped)
{
    bool hit;
    run_reading(A);
    yamlcache *c = yamlcache_load(dir, true);
    char *changed = strdup(A);
    *strstr(changed, "v1.0.0") = 'w';
    cr_expect_str_eq(tag_of(c, changed, &hit), "w1.0.0");
    cr_expect_not(hit);
    save(c);
    yamlcache_free(c);
    /* A was not read by that run: the file no longer has it */
    c = yamlcache_load(dir, true);
    tag_of(c, A, &hit);
    cr_expect_not(hit, "A kept past a run that did not read it");
    tag_of(c, changed, &hit);
    cr_expect(hit);
    yamlcache_free(c);
    free(changed);
}

/* A run that reads fewer files, and nothing new, still drops the others from the file. */
Test(yamlcache, files_no_longer_read_are_dropped)
{
    bool hit;
    yamlcache *c = yamlcache_load(dir, true);
    tag_of(c, A, &hit);
    tag_of(c, B, &hit);
    save(c);
    yamlcache_free(c);
    c = yamlcache_load(dir, true);
    tag_of(c, B, &hit);
    cr_expect(hit);
    save(c);
    yamlcache_free(c);
    c = yamlcache_load(dir, true);
    tag_of(c, A, &hit);
    cr_expect_not(hit, "A kept past a run that did not read it");
    yamlcache_free(c);
}

/* Every byte of the file, flipped in turn (a stride of them): the cache is empty then, or
 * whole — never a document with another text in it. */
Test(yamlcache, a_damaged_file_is_an_empty_cache)
{
    bool hit;
    run_reading(A);
    yamlcache *c;
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, YAMLCACHE_FILE);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    char kept[65536];
    size_t len = fread(kept, 1, sizeof kept, f);
    fclose(f);
    cr_assert_gt(len, strlen(A));
    for (size_t at = 0; at <= len; at += 7) {
        f = fopen(path, "wb");
        if (at < len) { /* one byte flipped */
            kept[at] ^= 0x04;
            fwrite(kept, 1, len, f);
            kept[at] ^= 0x04;
        } else { /* cut short */
            fwrite(kept, 1, len / 2, f);
        }
        fclose(f);
        c = yamlcache_load(dir, true);
        cr_expect_str_eq(tag_of(c, A, &hit), "v1.0.0", "byte %zu", at);
        cr_expect_not(hit, "byte %zu: a damaged file read", at);
        yamlcache_free(c);
    }
}

/* A reader (a read-only or dry run) reads the cache and writes nothing, not even a temp file. */
Test(yamlcache, a_reader_writes_nothing)
{
    bool hit;
    run_reading(A);
    ino_t written = file_inode();
    yamlcache *c = yamlcache_load(dir, false);
    tag_of(c, A, &hit);
    cr_expect(hit, "a reader reads it");
    tag_of(c, B, &hit);
    cr_expect_not(hit);
    save(c);
    yamlcache_free(c);
    cr_expect_eq(file_inode(), written, "a reader rewrote the cache");
    char cmd[160];
    snprintf(cmd, sizeof cmd, "test $(ls '%s' | wc -l) -eq 1", dir);
    cr_expect_eq(system(cmd), 0, "a reader left a file beside the cache");
    c = yamlcache_load(dir, true);
    tag_of(c, B, &hit);
    cr_expect_not(hit, "B kept by a reader");
    yamlcache_free(c); /* never saved: its temp file goes with it */
    cr_expect_eq(system(cmd), 0, "an unsaved writer left its temp file");
}

/* A file would grow past the largest one a load takes: the entries that do not fit are left
 * out, and what is kept is read back. */
Test(yamlcache, a_file_never_grows_past_what_a_load_takes)
{
    bool hit;
    yamlcache *c = yamlcache_load(dir, true);
    yamlcache_set_max_bytes(c, 1500); /* the header and one entry, not two */
    tag_of(c, A, &hit);
    tag_of(c, B, &hit);
    save(c);
    yamlcache_free(c);
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, YAMLCACHE_FILE);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_expect_leq(st.st_size, 1500);
    c = yamlcache_load(dir, true);
    yamlcache_set_max_bytes(c, 1500);
    size_t hits = 0;
    tag_of(c, A, &hit);
    hits += hit;
    tag_of(c, B, &hit);
    hits += hit;
    cr_expect_eq(hits, 1, "what fitted is read back, the rest parsed");
    yamlcache_free(c);
}

/* Without a state dir (or a file in it) nothing is kept, and parsing works. */
Test(yamlcache, no_state_dir)
{
    bool hit;
    yamlcache *c = yamlcache_load(NULL, true);
    cr_expect_str_eq(tag_of(c, A, &hit), "v1.0.0");
    save(c);
    yamlcache_free(c);
    cr_expect_str_eq(tag_of(NULL, A, &hit), "v1.0.0");
    char missing[128];
    snprintf(missing, sizeof missing, "%s/none", dir);
    c = yamlcache_load(missing, true);
    tag_of(c, A, &hit);
    save(c);
    yamlcache_free(c);
    struct stat st;
    cr_expect_neq(stat(missing, &st), 0, "a state dir made by the cache");
}
