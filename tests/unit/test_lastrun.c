/* lastrun: the last cycle's table survives a restart exactly, only its owner can read it, and a
 * damaged or foreign file is an empty table, never a crash or half a row. */
#include <criterion/criterion.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "state/lastrun.h"

static char dir[64];

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/tp-lastrun-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
    char *cmd = xasprintf("rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
    free(cmd);
}

static void write_file(const char *text)
{
    char *path = xasprintf("%s/last-run.json", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    free(path);
}

TestSuite(lastrun, .init = make_dir, .fini = remove_dir);

Test(lastrun, round_trip_keeps_every_field_and_the_order)
{
    lastrun_row rows[] = {
        {.key = "bookstore\x1f"
                "bookstore",
         .app = "bookstore",
         .alias = "bookstore",
         .image = "127.0.0.1:5000/amplication/bookstore-application",
         .strategy = "semver",
         .constraint = "~1.0",
         .policy = "manual",
         .current = "v1.0.0",
         .candidate = "v1.0.1",
         .candidate_digest = "sha256:0123",
         .state = STATE_UPDATE_AVAILABLE,
         .checked_ns = 1764100000123000000LL},
        {.key = "alpha\x1fweb",
         .app = "alpha",
         .alias = "web",
         .image = "nginx",
         .strategy = "digest",
         .policy = "auto",
         .detail = "registry 127.0.0.1:5000: \"quoted\" \\ \xc3\xa9 \xff error\nsecond\tline\x01",
         .hint_tag = "v2.1.0",
         .hint_digest = "sha256:4567",
         .state = STATE_ERROR},
    };
    tp_err err = {{0}};
    cr_assert_eq(lastrun_save(dir, rows, 2, 1764100001500000000LL, &err), 0, "%s", err.msg);
    char *path = xasprintf("%s/last-run.json", dir);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_expect_eq(st.st_mode & 0777, 0600, "mode %o", st.st_mode & 0777);
    /* Strict JSON for any reader: a control character inside a string is escaped (cJSON reads
     * it raw, jq and Python refuse the file). The only raw ones are the newlines between rows. */
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    int ch, newlines = 0;
    long at = 0;
    while ((ch = fgetc(f)) != EOF) {
        cr_expect(ch >= 0x20 || ch == '\n', "raw control byte 0x%02x at offset %ld", ch, at);
        newlines += ch == '\n';
        at++;
    }
    fclose(f);
    cr_expect_eq(newlines, 4, "one newline before each row and two at the end, got %d", newlines);
    free(path);

    lastrun lr;
    lastrun_load(dir, &lr);
    cr_assert_eq(lr.n, 2);
    cr_expect_eq(lr.saved_ns / 1000000, 1764100001500LL);
    const lastrun_row *b = &lr.rows[0];
    cr_expect_str_eq(b->app, "bookstore");
    cr_expect_str_eq(b->image, "127.0.0.1:5000/amplication/bookstore-application");
    cr_expect_str_eq(b->constraint, "~1.0");
    cr_expect_str_eq(b->current, "v1.0.0");
    cr_expect_str_eq(b->candidate, "v1.0.1");
    cr_expect_str_eq(b->candidate_digest, "sha256:0123");
    cr_expect_eq(b->state, STATE_UPDATE_AVAILABLE);
    cr_expect_eq(b->checked_ns / 1000000, 1764100000123LL, "ms precision kept");
    cr_expect_null(b->detail);
    cr_expect_null(b->hint_tag);
    cr_expect_null(b->hint_digest);
    const lastrun_row *a = lastrun_find(&lr, "alpha\x1fweb");
    cr_assert_not_null(a);
    cr_expect_eq(a, &lr.rows[1], "saved order kept, not re-sorted");
    cr_expect_str_eq(a->detail, rows[1].detail);
    cr_expect_eq(a->state, STATE_ERROR);
    cr_expect_str_eq(a->hint_tag, "v2.1.0", "an image in error keeps its last candidate");
    cr_expect_str_eq(a->hint_digest, "sha256:4567");
    cr_expect_null(a->constraint);
    cr_expect_null(a->current);
    cr_expect_eq(a->checked_ns, 0);
    cr_expect_null(lastrun_find(&lr, "nobody\x1f"));
    lastrun_free(&lr);
}

Test(lastrun, missing_damaged_or_foreign_files_are_empty)
{
    lastrun lr;
    lastrun_load(dir, &lr); /* no file */
    cr_expect_eq(lr.n, 0);
    cr_expect_eq(lr.saved_ns, 0);
    lastrun_free(&lr);
    const char *bad[] = {
        "",
        "{\"version\":1,\"saved\":17641000,\"images\":[{\"key\":\"a\x1f\",\"app\":\"a\",", /* torn
                                                                                            */
        "not json at all",
        "{\"version\":3,\"saved\":17641000,\"images\":[]}", /* a later format */
        /* the first format, seconds with decimals: read as nothing, not as wrong times */
        "{\"version\":1,\"saved\":1764100000.5,\"images\":[{\"key\":\"a\\u001f\",\"app\":\"a\","
        "\"image\":\"nginx\",\"state\":\"up-to-date\"}]}",
        /* a table with no rows: no last run to show (a first start shows its progress) */
        "{\"version\":2,\"saved\":1764100000000,\"images\":[]}",
        /* rows, but no time saved */
        "{\"version\":2,\"images\":[{\"key\":\"a\\u001f\",\"app\":\"a\",\"image\":\"nginx\","
        "\"state\":\"up-to-date\"}]}",
        "{\"images\":{\"a\x1f\":{\"tag\":\"v1\",\"digest\":\"sha256:00\"}}}", /* an old hints file
                                                                               */
        "[1,2,3]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        write_file(bad[i]);
        lastrun_load(dir, &lr);
        cr_expect_eq(lr.n, 0, "case %zu", i);
        cr_expect_eq(lr.saved_ns, 0, "case %zu", i);
        lastrun_free(&lr);
    }
}

Test(lastrun, rows_without_what_a_row_needs_are_skipped)
{
    write_file(
        "{\"version\":2,\"saved\":1764100000000,\"images\":["
        "{\"key\":\"ok\\u001f\",\"app\":\"ok\",\"image\":\"nginx\",\"state\":\"up-to-date\"},"
        "{\"app\":\"nokey\",\"image\":\"nginx\",\"state\":\"up-to-date\"},"
        "{\"key\":\"badstate\\u001f\",\"app\":\"b\",\"image\":\"nginx\",\"state\":\"on fire\"},"
        "{\"key\":\"ok\\u001f\",\"app\":\"twice\",\"image\":\"nginx\",\"state\":\"error\"},"
        "{\"key\":\"num\\u001f\",\"app\":7,\"image\":\"nginx\",\"state\":\"held\"},"
        "{\"key\":\"late\\u001f\",\"app\":\"late\",\"image\":\"redis\",\"state\":\"pinned\","
        "\"checked\":-5}"
        "]}");
    lastrun lr;
    lastrun_load(dir, &lr);
    cr_assert_eq(lr.n, 2);
    cr_expect_str_eq(lr.rows[0].app, "ok", "the first of a key twice is kept");
    cr_expect_str_eq(lr.rows[1].app, "late");
    cr_expect_eq(lr.rows[1].state, STATE_PINNED);
    cr_expect_eq(lr.rows[1].checked_ns, 0, "a nonsense time is no time");
    lastrun_free(&lr);
}

Test(lastrun, a_save_that_cannot_write_says_where_and_leaves_the_old_file)
{
    lastrun_row row = {.key = "a\x1f", .app = "a", .image = "nginx", .state = STATE_UP_TO_DATE};
    tp_err err = {{0}};
    cr_assert_eq(lastrun_save(dir, &row, 1, 1764100000000000000LL, &err), 0, "%s", err.msg);
    char *missing = xasprintf("%s/gone", dir);
    cr_expect_eq(lastrun_save(missing, &row, 1, 1764100000000000000LL, &err), -1);
    cr_expect(strstr(err.msg, "cannot write") && strstr(err.msg, "/gone/last-run.json") &&
                  strstr(err.msg, "No such file"),
              "%s", err.msg);
    free(missing);
    /* A write that fails half-way (a file size limit stands in for a full disk): the old table
     * stays whole and no temp file is left. Criterion runs each test in its own process. */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = {16, 16};
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    cr_expect_eq(lastrun_save(dir, &row, 1, 1764100009000000000LL, &err), -1);
    cr_expect(strstr(err.msg, "File too large"), "%s", err.msg);
    struct rlimit none = {RLIM_INFINITY, RLIM_INFINITY};
    setrlimit(RLIMIT_FSIZE, &none);
    char *ls = xasprintf("ls -A '%s'", dir);
    FILE *p = popen(ls, "r");
    char names[256] = "";
    size_t got = fread(names, 1, sizeof names - 1, p);
    names[got] = '\0';
    pclose(p);
    free(ls);
    cr_expect_str_eq(names, "last-run.json\n", "only the table, no temp file");
    lastrun lr;
    lastrun_load(dir, &lr);
    cr_expect_eq(lr.n, 1);
    cr_expect_eq(lr.saved_ns, 1764100000000000000LL, "the first save, untouched");
    lastrun_free(&lr);
}

/* The console runs under the operator's locale (setlocale(LC_ALL, "")): where the decimal point
 * is a comma, a time printed as "%.3f" would make the file invalid JSON and every restart blank.
 * A German locale is compiled into the test's folder so the check runs on any machine. */
Test(lastrun, a_decimal_comma_locale_saves_a_table_that_reads_back)
{
    /* -c: written even when localedef warns (it then exits 1); setlocale below is the check. */
    char *cmd = xasprintf("localedef -c -i de_DE -f UTF-8 '%s/de_DE.UTF-8' >/dev/null 2>&1", dir);
    int rc = system(cmd);
    free(cmd);
    cr_assert(WIFEXITED(rc) && WEXITSTATUS(rc) <= 1,
              "localedef (Debian package locales) could not build de_DE: %d", rc);
    setenv("LOCPATH", dir, 1);
    cr_assert_not_null(setlocale(LC_ALL, "de_DE.UTF-8"));
    cr_assert_str_eq(localeconv()->decimal_point, ",", "the locale has a decimal comma");

    lastrun_row row = {.key = "a\x1f",
                       .app = "a",
                       .image = "nginx",
                       .state = STATE_UP_TO_DATE,
                       .checked_ns = 1764100000123000000LL};
    tp_err err = {{0}};
    cr_assert_eq(lastrun_save(dir, &row, 1, 1764100001500000000LL, &err), 0, "%s", err.msg);
    lastrun lr;
    lastrun_load(dir, &lr);
    setlocale(LC_ALL, "C");
    cr_assert_eq(lr.n, 1, "the table saved under de_DE reads back");
    cr_expect_eq(lr.saved_ns, 1764100001500000000LL);
    cr_expect_eq(lr.rows[0].checked_ns, 1764100000123000000LL);
    lastrun_free(&lr);
}
