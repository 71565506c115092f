/* statedir: the state directory is the user's. A dir that is a link, another uid's, or
 * group/other-writable is refused with the reason; no link inside it is followed, for reading or
 * writing; files are 0600 and folders 0700 whatever the umask; temporary files are new files
 * with unique names. Runs as root in CI (chown needs it), like the shell suites. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registry/cache.h"
#include "state/journal.h"
#include "state/lastrun.h"
#include "statedir.h"

static char top[64];
static char *secret; /* a root-only file outside the state dir: what a planted link aims at */

#define SECRET_TEXT "root-only secret\n"

static void make_top(void)
{
    snprintf(top, sizeof top, "/tmp/tp-statedir-XXXXXX");
    cr_assert_not_null(mkdtemp(top));
    secret = xasprintf("%s/secret", top);
    FILE *f = fopen(secret, "w");
    fputs(SECRET_TEXT, f);
    fclose(f);
    chmod(secret, 0600);
}

static void remove_top(void)
{
    char *cmd = xasprintf("rm -rf '%s'", top);
    cr_expect_eq(system(cmd), 0);
    free(cmd);
    free(secret);
}

TestSuite(statedir, .init = make_top, .fini = remove_top);

static char *at(const char *rel)
{
    return xasprintf("%s/%s", top, rel);
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    cr_assert_eq(lstat(path, &st), 0, "%s: %s", path, strerror(errno));
    return st.st_mode & 07777;
}

static void expect_secret_untouched(void)
{
    strbuf sb = {0};
    cr_assert_eq(file_read_all(secret, NULL, &sb, NULL), 0);
    cr_expect_str_eq(sb.data, SECRET_TEXT, "the file the link points at changed");
    strbuf_free(&sb);
    cr_expect_eq(mode_of(secret), 0600);
}

static statedir *open_ok(const char *path, statedir_mode mode)
{
    statedir *sd = NULL;
    tp_err err = {{0}};
    cr_assert_eq(statedir_open(path, mode, &sd, &err), 0, "%s", err.msg);
    return sd;
}

static void expect_refused(const char *path, statedir_mode mode, const char *why)
{
    statedir *sd = NULL;
    tp_err err = {{0}};
    cr_expect_eq(statedir_open(path, mode, &sd, &err), -1, "%s was accepted", path);
    cr_expect_null(sd);
    cr_expect(strstr(err.msg, why), "want '%s' in: %s", why, err.msg);
    char *named = xstrdup(path); /* trailing slashes are not part of the name */
    for (size_t n = strlen(named); n > 1 && named[n - 1] == '/'; n--)
        named[n - 1] = '\0';
    cr_expect(strstr(err.msg, named), "the message names the dir: %s", err.msg);
    free(named);
}

Test(statedir, created_0700_with_its_parents_whatever_the_umask)
{
    umask(0);
    char *path = at("a/b/state");
    statedir *sd = open_ok(path, STATEDIR_CREATE);
    cr_expect_eq(mode_of(path), 0700);
    char *parent = at("a/b");
    cr_expect_eq(mode_of(parent), 0700);
    tp_err err = {{0}};
    int fd = statedir_open_file(sd, "registry/meta/x.json", O_WRONLY | O_CREAT, &err);
    cr_assert_geq(fd, 0, "%s", err.msg);
    close(fd);
    char *file = at("a/b/state/registry/meta/x.json");
    char *sub = at("a/b/state/registry/meta");
    cr_expect_eq(mode_of(file), 0600);
    cr_expect_eq(mode_of(sub), 0700);
    statedir_close(sd);
    free(sub);
    free(file);
    free(parent);
    free(path);
}

Test(statedir, a_reader_creates_nothing)
{
    char *path = at("absent/state");
    statedir *sd = NULL;
    cr_assert_eq(statedir_open(path, STATEDIR_EXISTING, &sd, NULL), 0);
    cr_expect_null(sd);
    cr_expect_eq(access(path, F_OK), -1);
    char *parent = at("absent");
    cr_expect_eq(access(parent, F_OK), -1, "not even the parent");
    tp_err err = {{0}};
    strbuf sb = {0};
    cr_expect_eq(statedir_read_file(NULL, "journal.jsonl", 0, &sb, &err), -1);
    cr_expect_eq(errno, ENOENT);
    strbuf_free(&sb);
    /* A journal reader and a last-run load on it: empty, and still nothing made. */
    journal *j;
    cr_assert_eq(journal_open(path, JOURNAL_READ_ONLY, &j, &err), 0, "%s", err.msg);
    cr_expect_eq(journal_count(j), 0);
    journal_close(j);
    lastrun lr;
    lastrun_load(path, &lr);
    cr_expect_eq(lr.n, 0);
    lastrun_free(&lr);
    cr_expect_eq(access(parent, F_OK), -1);
    free(parent);
    free(path);
}

Test(statedir, group_or_other_writable_is_refused)
{
    char *path = at("state");
    cr_assert_eq(mkdir(path, 0700), 0);
    cr_assert_eq(chmod(path, 0770), 0);
    expect_refused(path, STATEDIR_CREATE, "writable by group or others (mode 0770)");
    expect_refused(path, STATEDIR_EXISTING, "refusing it");
    cr_assert_eq(chmod(path, 0757), 0);
    expect_refused(path, STATEDIR_CREATE, "writable by group or others (mode 0757)");
    cr_assert_eq(chmod(path, 0750), 0); /* readable by the group is the owner's choice */
    statedir_close(open_ok(path, STATEDIR_CREATE));
    free(path);
}

Test(statedir, another_uid_is_refused)
{
    cr_assert_eq(geteuid(), 0, "this test chowns a dir to another uid: run it as root (CI does)");
    char *path = at("state");
    cr_assert_eq(mkdir(path, 0700), 0);
    cr_assert_eq(chown(path, 1234, 1234), 0);
    expect_refused(path, STATEDIR_CREATE, "is owned by uid 1234, not you (0); refusing it");
    expect_refused(path, STATEDIR_EXISTING, "is owned by uid 1234");
    tp_err err = {{0}};
    journal *j = NULL;
    cr_expect_eq(journal_open(path, JOURNAL_READ_WRITE, &j, &err), -1);
    cr_expect(strstr(err.msg, "owned by uid 1234"), "%s", err.msg);
    cr_expect_eq(journal_open(path, JOURNAL_READ_ONLY, &j, &err), -1, "readers refuse it too");
    free(path);
}

Test(statedir, a_link_is_refused_even_with_a_trailing_slash)
{
    char *real = at("real"), *link = at("state"), *slashed = at("state/");
    cr_assert_eq(mkdir(real, 0700), 0);
    cr_assert_eq(symlink(real, link), 0);
    expect_refused(link, STATEDIR_CREATE, "is a symbolic link; refusing it");
    expect_refused(slashed, STATEDIR_EXISTING, "is a symbolic link");
    /* A dangling link is not "missing": it is refused, never created through. */
    char *dangling = at("dangling"), *nowhere = at("nowhere");
    cr_assert_eq(symlink(nowhere, dangling), 0);
    expect_refused(dangling, STATEDIR_CREATE, "is a symbolic link");
    cr_expect_eq(access(nowhere, F_OK), -1);
    free(nowhere);
    free(dangling);
    free(slashed);
    free(link);
    free(real);
}

Test(statedir, no_path_is_an_error)
{
    statedir *sd;
    tp_err err = {{0}};
    cr_expect_eq(statedir_open(NULL, STATEDIR_CREATE, &sd, &err), -1);
    cr_expect(strstr(err.msg, "state-dir:"), "%s", err.msg);
}

/* A link planted at a file's name is never followed: not to read, not to write, not to lock. */
Test(statedir, planted_links_are_never_followed)
{
    char *path = at("state");
    statedir *sd = open_ok(path, STATEDIR_CREATE);
    static const char *const names[] = {"journal.jsonl", "lock", "last-run.json",
                                        "journal.corrupt"};
    static const int flags[] = {O_RDONLY, O_WRONLY | O_APPEND | O_CREAT, O_RDWR | O_CREAT,
                                O_WRONLY | O_CREAT | O_TRUNC};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char *link = xasprintf("%s/%s", path, names[i]);
        cr_assert_eq(symlink(secret, link), 0);
        for (size_t f = 0; f < sizeof flags / sizeof *flags; f++) {
            tp_err err = {{0}};
            cr_expect_eq(statedir_open_file(sd, names[i], flags[f], &err), -1, "%s", names[i]);
            cr_expect(strstr(err.msg, "is a symbolic link; refusing to follow it"), "%s", err.msg);
        }
        strbuf sb = {0};
        cr_expect_eq(statedir_read_file(sd, names[i], 0, &sb, NULL), -1);
        cr_expect_eq(sb.len, 0, "nothing of the secret was read");
        strbuf_free(&sb);
        free(link);
    }
    expect_secret_untouched();
    statedir_close(sd);
    free(path);
}

/* A link in place of a folder on the way: refused, and nothing made where it points. */
Test(statedir, a_linked_folder_inside_is_refused)
{
    char *path = at("state"), *elsewhere = at("elsewhere");
    statedir *sd = open_ok(path, STATEDIR_CREATE);
    cr_assert_eq(mkdir(elsewhere, 0700), 0);
    char *link = xasprintf("%s/registry", path);
    cr_assert_eq(symlink(elsewhere, link), 0);
    tp_err err = {{0}};
    cr_expect_eq(statedir_open_file(sd, "registry/meta/x.json", O_WRONLY | O_CREAT, &err), -1);
    cr_expect(strstr(err.msg, "registry is not a directory (a link?)"), "%s", err.msg);
    char *tmp;
    cr_expect_eq(statedir_create_temp(sd, "registry/meta/x.json", &tmp, &err), -1);
    char *made = at("elsewhere/meta");
    cr_expect_eq(access(made, F_OK), -1, "nothing created through the link");
    free(made);
    free(link);
    free(elsewhere);
    statedir_close(sd);
    free(path);
}

/* Only regular files, and for writing only the caller's, with one name: a FIFO cannot hang a
 * read, another uid's file or a hard link to a file elsewhere is never written (nor truncated
 * before the refusal). */
Test(statedir, only_regular_files_of_ours_are_written)
{
    cr_assert_eq(geteuid(), 0, "this test chowns a file: run it as root (CI does)");
    char *path = at("state");
    statedir *sd = open_ok(path, STATEDIR_CREATE);
    char *fifo = xasprintf("%s/journal.jsonl", path);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    tp_err err = {{0}};
    strbuf sb = {0};
    cr_expect_eq(statedir_read_file(sd, "journal.jsonl", 0, &sb, &err), -1);
    cr_expect(strstr(err.msg, "is not a regular file"), "%s", err.msg);
    strbuf_free(&sb);

    char *hard = xasprintf("%s/last-run.json", path);
    cr_assert_eq(link(secret, hard), 0);
    cr_expect_eq(statedir_open_file(sd, "last-run.json", O_WRONLY | O_TRUNC, &err), -1);
    cr_expect(strstr(err.msg, "has 2 hard links; refusing to write it"), "%s", err.msg);
    expect_secret_untouched();

    char *theirs = xasprintf("%s/lock", path);
    FILE *f = fopen(theirs, "w");
    fputs("theirs\n", f);
    fclose(f);
    cr_assert_eq(chown(theirs, 1234, 1234), 0);
    cr_expect_eq(statedir_open_file(sd, "lock", O_RDWR | O_CREAT | O_TRUNC, &err), -1);
    cr_expect(strstr(err.msg, "is owned by uid 1234, not you (0)"), "%s", err.msg);
    cr_assert_eq(file_read_all(theirs, NULL, &sb, NULL), 0);
    cr_expect_str_eq(sb.data, "theirs\n", "not truncated before the refusal");
    strbuf_free(&sb);
    int fd = statedir_open_file(sd, "lock", O_RDONLY, &err);
    cr_expect_geq(fd, 0, "reading it is fine: %s", err.msg);
    close(fd);
    free(theirs);
    free(hard);
    free(fifo);
    statedir_close(sd);
    free(path);
}

Test(statedir, names_stay_inside)
{
    char *path = at("state");
    statedir *sd = open_ok(path, STATEDIR_CREATE);
    static const char *const bad[] = {"../secret", "/etc/passwd", "a/../../secret", "a//b", "./x",
                                      "",          "dir/"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        tp_err err = {{0}};
        cr_expect_eq(statedir_open_file(sd, bad[i], O_RDONLY, &err), -1, "'%s'", bad[i]);
        cr_expect_eq(errno, EINVAL, "'%s'", bad[i]);
    }
    expect_secret_untouched();
    statedir_close(sd);
    free(path);
}

Test(statedir, temp_files_are_new_unique_and_0600)
{
    umask(0);
    char *path = at("state");
    statedir *sd = open_ok(path, STATEDIR_CREATE);
    char *a, *b;
    tp_err err = {{0}};
    int fa = statedir_create_temp(sd, "last-run.json", &a, &err);
    int fb = statedir_create_temp(sd, "last-run.json", &b, &err);
    cr_assert(fa >= 0 && fb >= 0, "%s", err.msg);
    cr_expect_str_neq(a, b);
    cr_expect(str_starts_with(a, "last-run.json.") && str_ends_with(a, ".tmp"), "%s", a);
    char *full = xasprintf("%s/%s", path, a);
    cr_expect_eq(mode_of(full), 0600);
    cr_assert_eq(write(fa, "{}\n", 3), 3);
    close(fa);
    close(fb);
    /* A link at the final name is replaced by the rename, never written through. */
    char *target = xasprintf("%s/last-run.json", path);
    cr_assert_eq(symlink(secret, target), 0);
    cr_assert_eq(statedir_replace(sd, a, "last-run.json", &err), 0, "%s", err.msg);
    expect_secret_untouched();
    cr_expect_eq(mode_of(target), 0600, "a regular file now");
    /* A writer sweeps temp files a crash left; the file itself stays. */
    statedir_remove_stale_temps(sd, "last-run.json");
    char *left = xasprintf("%s/%s", path, b);
    cr_expect_eq(access(left, F_OK), -1);
    cr_expect_eq(access(target, F_OK), 0);
    free(left);
    free(target);
    free(full);
    free(a);
    free(b);
    statedir_close(sd);
    free(path);
}

/* The modules on top: the journal (its lock, its file, journal.corrupt), last-run.json and the
 * metadata cache refuse links planted at their names, and leave 0600 files. */
Test(statedir, journal_lastrun_and_cache_refuse_planted_links)
{
    char *path = at("state");
    statedir_close(open_ok(path, STATEDIR_CREATE));
    tp_err err = {{0}};
    journal *j = NULL;
    static const char *const journal_files[] = {"journal.jsonl", "lock"};
    for (size_t i = 0; i < 2; i++) {
        char *link = xasprintf("%s/%s", path, journal_files[i]);
        unlink(link); /* the lock a refused open before took */
        cr_assert_eq(symlink(secret, link), 0);
        cr_expect_eq(journal_open(path, JOURNAL_READ_WRITE, &j, &err), -1, "%s", journal_files[i]);
        cr_expect(strstr(err.msg, "is a symbolic link"), "%s", err.msg);
        cr_expect_eq(journal_open(path, JOURNAL_READ_ONLY, &j, &err), i == 0 ? -1 : 0,
                     "a reader reads no journal through a link: %s", err.msg);
        journal_close(j);
        j = NULL;
        unlink(link);
        free(link);
    }
    /* A torn journal is repaired into journal.corrupt: a link there is not written through. */
    char *jpath = xasprintf("%s/journal.jsonl", path);
    FILE *f = fopen(jpath, "w");
    fputs("{\"action\":\"pin\"}\nnot json\n{\"action\":", f);
    fclose(f);
    char *corrupt = xasprintf("%s/journal.corrupt", path);
    cr_assert_eq(symlink(secret, corrupt), 0);
    cr_expect_eq(journal_open(path, JOURNAL_READ_WRITE, &j, &err), -1);
    cr_expect(strstr(err.msg, "cannot repair journal"), "%s", err.msg);
    expect_secret_untouched();
    unlink(corrupt);
    cr_assert_eq(journal_open(path, JOURNAL_READ_WRITE, &j, &err), 0, "%s", err.msg);
    cr_expect_eq(journal_compact(j, &err), 0, "%s", err.msg);
    journal_close(j);
    cr_expect_eq(mode_of(jpath), 0600);
    cr_expect_eq(mode_of(corrupt), 0600);
    char *lock = xasprintf("%s/lock", path);
    cr_expect_eq(mode_of(lock), 0600);

    /* last-run.json: the load reads nothing through a link, the save replaces the link. */
    char *lr_path = xasprintf("%s/last-run.json", path);
    cr_assert_eq(symlink(secret, lr_path), 0);
    lastrun lr;
    lastrun_load(path, &lr);
    cr_expect_eq(lr.n, 0);
    lastrun_free(&lr);
    lastrun_row row = {.key = "a\x1f", .app = "a", .image = "nginx", .state = STATE_UP_TO_DATE};
    cr_expect_eq(lastrun_save(path, &row, 1, 1764100000000000000LL, &err), 0, "%s", err.msg);
    expect_secret_untouched();
    cr_expect_eq(mode_of(lr_path), 0600);

    /* The metadata cache: a planted link is a miss, and the store replaces it. */
    const char *digest = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    char *meta_dir = xasprintf("%s/registry/meta/sha256", path);
    char *cmd = xasprintf("mkdir -p '%s'", meta_dir);
    cr_assert_eq(system(cmd), 0);
    char *cached = xasprintf("%s/%s.json", meta_dir, digest + 7);
    cr_assert_eq(symlink(secret, cached), 0);
    meta_cache *mc = meta_cache_new(path);
    cr_expect_null(meta_cache_get(mc, digest));
    meta_record rec = {.os = "linux", .arch = "amd64"};
    meta_cache_put(mc, digest, &rec);
    meta_cache_free(mc);
    expect_secret_untouched();
    cr_expect_eq(mode_of(cached), 0600, "the link replaced by a 0600 file");
    mc = meta_cache_new(path);
    const meta_record *back = meta_cache_get(mc, digest);
    cr_expect(back && str_eq(back->os, "linux"));
    meta_cache_free(mc);
    free(cached);
    free(cmd);
    free(meta_dir);
    free(lr_path);
    free(lock);
    free(corrupt);
    free(jpath);
    free(path);
}
