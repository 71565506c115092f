#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state/journal.h"

static char dir[64];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void setup(void)
{
    strcpy(dir, "/tmp/tp-journal-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *state_path(const char *name)
{
    return xasprintf("%s/state/%s", dir, name);
}

static journal *open_rw(void)
{
    char *state = state_path("");
    journal *j;
    tp_err err = {{0}};
    cr_assert_eq(journal_open(state, JOURNAL_READ_WRITE, &j, &err), 0, "%s", err.msg);
    free(state);
    return j;
}

static void append(journal *j, const char *action, const char *to)
{
    journal_record rec = {.action = (char *)action,
                          .app = "bookstore",
                          .alias = "web",
                          .from = "v1.0.0",
                          .to = (char *)to,
                          .result = "ok"};
    tp_err err = {{0}};
    cr_assert_eq(journal_append(j, &rec, &err), 0, "%s", err.msg);
}

static void write_file(const char *name, const char *text)
{
    char *p = state_path(name);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    free(p);
}

static char *read_file(const char *name)
{
    char *p = state_path(name);
    FILE *f = fopen(p, "r");
    free(p);
    if (!f)
        return NULL;
    strbuf sb = {0};
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        strbuf_append(&sb, buf, n);
    fclose(f);
    return strbuf_take(&sb);
}

TestSuite(journal, .init = setup, .fini = teardown);

Test(journal, records_survive_reopen_with_who_and_when)
{
    setenv("SSH_CONNECTION", "10.0.0.9 52000 10.0.0.1 22", 1);
    journal *j = open_rw();
    append(j, "approve", "v1.0.1");
    append(j, "pin", "v1.0.0");
    journal_close(j);
    unsetenv("SSH_CONNECTION");

    j = open_rw();
    cr_assert_eq(journal_count(j), 2);
    const journal_record *r = journal_get(j, 1);
    cr_assert_str_eq(r->action, "pin");
    cr_assert_str_eq(r->to, "v1.0.0");
    cr_assert_str_eq(r->app, "bookstore");
    cr_assert_str_eq(r->ssh, "10.0.0.9 52000 10.0.0.1 22");
    cr_assert_not_null(r->user);
    cr_assert_not_null(r->host);
    cr_assert(strlen(r->time) == 24 && r->time[23] == 'Z', "time '%s'", r->time);
    cr_assert_eq(journal_warnings(j)->count, 0);
    cr_assert_null(journal_get(j, 2));
    journal_close(j);
}

Test(journal, modes_are_private)
{
    journal *j = open_rw();
    append(j, "approve", "v2");
    struct stat st;
    char *state = state_path("");
    cr_assert_eq(stat(state, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0700);
    cr_assert_eq(stat(journal_path(j), &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    free(state);
    journal_close(j);
}

Test(journal, torn_last_line_is_ignored_kept_and_cut)
{
    journal *j = open_rw();
    append(j, "approve", "v1");
    append(j, "approve", "v2");
    journal_close(j);
    /* A crash in the middle of the third write. */
    char *p = state_path("journal.jsonl");
    FILE *f = fopen(p, "a");
    fputs("{\"action\":\"appro", f);
    fclose(f);
    free(p);

    j = open_rw();
    cr_assert_eq(journal_count(j), 2, "no earlier record may be lost");
    cr_assert_eq(journal_warnings(j)->count, 1);
    cr_assert(strstr(journal_warnings(j)->items[0], "line 3 is incomplete") != NULL, "%s",
              journal_warnings(j)->items[0]);
    append(j, "approve", "v3");
    journal_close(j);

    char *corrupt = read_file("journal.corrupt");
    cr_assert_not_null(corrupt);
    cr_assert(strstr(corrupt, "{\"action\":\"appro") != NULL);
    free(corrupt);
    j = open_rw();
    cr_assert_eq(journal_count(j), 3, "the append after the repair starts on its own line");
    cr_assert_str_eq(journal_get(j, 2)->to, "v3");
    cr_assert_eq(journal_warnings(j)->count, 0);
    journal_close(j);
}

Test(journal, corrupt_line_in_the_middle_is_skipped_and_named)
{
    char *state = state_path("");
    mkdir(state, 0700);
    free(state);
    write_file("journal.jsonl", "{\"action\":\"approve\",\"to\":\"v1\"}\n"
                                "garbage here\n"
                                "[1,2]\n"
                                "\n"
                                "{\"action\":\"pin\",\"to\":\"v0\"}\n");
    journal *j = open_rw();
    cr_assert_eq(journal_count(j), 2);
    cr_assert_str_eq(journal_get(j, 1)->action, "pin");
    cr_assert_eq(journal_warnings(j)->count, 2);
    cr_assert(strstr(journal_warnings(j)->items[0], "line 2 is not a valid record") != NULL);
    cr_assert(strstr(journal_warnings(j)->items[1], "line 3 is not a valid record") != NULL);

    tp_err err = {{0}};
    cr_assert_eq(journal_compact(j, &err), 0, "%s", err.msg);
    append(j, "unpin", NULL);
    journal_close(j);
    char *text = read_file("journal.jsonl");
    cr_assert_null(strstr(text, "garbage"), "compaction leaves only valid records");
    free(text);
    char *corrupt = read_file("journal.corrupt");
    cr_assert(corrupt && strstr(corrupt, "garbage here") != NULL, "corrupt lines kept aside");
    free(corrupt);
    j = open_rw();
    cr_assert_eq(journal_count(j), 3, "the append after compaction went to the new file");
    cr_assert_eq(journal_warnings(j)->count, 0);
    journal_close(j);
}

Test(journal, second_writer_is_told_and_reader_still_reads)
{
    journal *j = open_rw();
    append(j, "approve", "v1");
    char *state = state_path("");
    journal *other = NULL;
    tp_err err = {{0}};
    cr_assert_eq(journal_open(state, JOURNAL_READ_WRITE, &other, &err), -1);
    cr_assert_null(other);
    cr_assert(strstr(err.msg, "in use by another tagpilot") != NULL, "%s", err.msg);
    char pid[32];
    snprintf(pid, sizeof pid, "pid %ld", (long)getpid());
    cr_assert(strstr(err.msg, pid) != NULL, "%s", err.msg);

    journal *reader;
    cr_assert_eq(journal_open(state, JOURNAL_READ_ONLY, &reader, &err), 0, "%s", err.msg);
    cr_assert_eq(journal_count(reader), 1);
    journal_record rec = {.action = "approve"};
    cr_assert_eq(journal_append(reader, &rec, &err), -1);
    cr_assert(strstr(err.msg, "read-only") != NULL);
    journal_close(reader);

    journal_close(j);
    cr_assert_eq(journal_open(state, JOURNAL_READ_WRITE, &other, &err), 0,
                 "the lock goes with its holder: %s", err.msg);
    journal_close(other);
    free(state);
}

Test(journal, unusable_state_dir_is_a_clear_error)
{
    char *file = xasprintf("%s/plainfile", dir);
    FILE *f = fopen(file, "w");
    fclose(f);
    char *state = xasprintf("%s/sub", file);
    journal *j = NULL;
    tp_err err = {{0}};
    cr_assert_eq(journal_open(state, JOURNAL_READ_WRITE, &j, &err), -1);
    cr_assert(strstr(err.msg, "cannot create state dir") != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, "plainfile") != NULL, "%s", err.msg);
    free(state);
    free(file);
}

Test(journal, json_round_trip_keeps_odd_text_on_one_line)
{
    journal_record rec = {
        .action = "approve", .detail = "line one\nline \"two\"\t\xff", .commit = "0123abc"};
    char *json = journal_record_to_json(&rec);
    cr_assert_null(strchr(json, '\n'));
    journal_record back;
    cr_assert_eq(journal_record_from_json(json, strlen(json), &back), 0);
    cr_assert_str_eq(back.detail, "line one\nline \"two\"\t\xef\xbf\xbd");
    cr_assert_str_eq(back.commit, "0123abc");
    cr_assert_null(back.app);
    journal_record_clear(&back);
    free(json);
    cr_assert_eq(journal_record_from_json("{\"app\":\"x\"}", 11, &back), -1, "needs an action");
}
