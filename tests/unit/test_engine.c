/* The engine itself refuses writes when it is read-only or a dry run: a command submitted
 * straight to it (as a hand-written client would), not only keys the console leaves unbound. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "core/engine.h"

static char state[] = "/tmp/tp-engine-XXXXXX";

static engine_result run_one(bool read_only, bool dry_run, engine_cmd_kind kind)
{
    cr_assert_not_null(mkdtemp(state));
    tp_config cfg;
    tp_err err = {{0}};
    char *text = xasprintf("state-dir: %s\n", state);
    cr_assert_eq(config_parse(text, strlen(text), "t.yaml", &cfg, &err), 0, "%s", err.msg);
    free(text);
    engine_options o = {.config = &cfg, .read_only = read_only, .dry_run = dry_run, .once = true};
    engine *e = engine_start(&o, &err);
    cr_assert_not_null(e, "%s", err.msg);
    engine_command cmd = {.kind = kind, .app = "bookstore", .tag = "v1.0.1", .policy = "auto"};
    uint64_t id = engine_submit(e, &cmd);
    engine_wait(e);
    engine_result r = {0};
    cr_assert_eq(engine_take_results(e, &r, 1), 1, "no result");
    cr_assert_eq(r.id, id);
    engine_stop(e);
    config_free(&cfg);
    char *journal = xasprintf("%s/journal.jsonl", state);
    cr_assert(access(journal, F_OK) != 0 || !read_only, "a read-only engine wrote %s", journal);
    free(journal);
    char *rm = xasprintf("rm -rf '%s'", state);
    cr_assert_eq(system(rm), 0);
    free(rm);
    memcpy(state + strlen(state) - 6, "XXXXXX", 6);
    return r;
}

Test(engine, read_only_refuses_every_write_command)
{
    const engine_cmd_kind writes[] = {CMD_APPROVE,  CMD_PIN,  CMD_UNPIN,
                                      CMD_ROLLBACK, CMD_SKIP, CMD_SET_POLICY};
    for (size_t i = 0; i < sizeof writes / sizeof *writes; i++) {
        engine_result r = run_one(true, false, writes[i]);
        cr_assert_not(r.ok, "%s accepted", engine_cmd_name(writes[i]));
        cr_assert(strstr(r.message, "refused: tagpilot is read-only"), "%s: %s",
                  engine_cmd_name(writes[i]), r.message);
        engine_result_clear(&r);
    }
    engine_result r = run_one(true, false, CMD_REFRESH);
    cr_assert(r.ok, "a refresh is not a write: %s", r.message);
    engine_result_clear(&r);
}

Test(engine, dry_run_refuses_writes)
{
    engine_result r = run_one(false, true, CMD_PIN);
    cr_assert_not(r.ok);
    cr_assert(strstr(r.message, "pin refused: dry run"), "%s", r.message);
    engine_result_clear(&r);
}
