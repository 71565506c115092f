/* The key table: bindings, help and the hint line all come from it, and read-only mode unbinds
 * exactly the dangerous keys. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"

Test(keys, binds_the_design_keys)
{
    cr_assert_eq(keys_lookup(key_char('j'), false), ACT_DOWN);
    cr_assert_eq(keys_lookup(key_code(KEYCODE_DOWN), false), ACT_DOWN);
    cr_assert_eq(keys_lookup(key_char('k'), false), ACT_UP);
    cr_assert_eq(keys_lookup(key_char('g'), false), ACT_TOP);
    cr_assert_eq(keys_lookup(key_char('G'), false), ACT_BOTTOM);
    cr_assert_eq(keys_lookup(key_char('\n'), false), ACT_OPEN);
    cr_assert_eq(keys_lookup(key_char('\r'), false), ACT_OPEN);
    cr_assert_eq(keys_lookup(key_code(KEYCODE_ENTER), false), ACT_OPEN);
    cr_assert_eq(keys_lookup(key_char('/'), false), ACT_FILTER);
    cr_assert_eq(keys_lookup(key_char('s'), false), ACT_SORT);
    cr_assert_eq(keys_lookup(key_char('a'), false), ACT_APPROVE);
    cr_assert_eq(keys_lookup(key_char('p'), false), ACT_PIN);
    cr_assert_eq(keys_lookup(key_char('u'), false), ACT_UNPIN);
    cr_assert_eq(keys_lookup(key_char('r'), false), ACT_ROLLBACK);
    cr_assert_eq(keys_lookup(key_char('x'), false), ACT_SKIP);
    cr_assert_eq(keys_lookup(key_char('R'), false), ACT_REFRESH);
    cr_assert_eq(keys_lookup(key_char('l'), false), ACT_LOG);
    cr_assert_eq(keys_lookup(key_char('t'), false), ACT_THEME);
    cr_assert_eq(keys_lookup(key_char('?'), false), ACT_HELP);
    cr_assert_eq(keys_lookup(key_char('q'), false), ACT_BACK);
    cr_assert_eq(keys_lookup(key_char(KEYCODE_ESC), false), ACT_BACK);
    cr_assert_eq(keys_lookup(key_char('Z'), false), ACT_NONE);
    cr_assert_eq(keys_lookup(key_code(KEYCODE_NONE), false), ACT_NONE);
}

Test(keys, read_only_unbinds_exactly_the_dangerous_keys)
{
    const char *dangerous = "apurx";
    for (const char *k = dangerous; *k; k++) {
        cr_assert(keys_entry(keys_lookup(key_char(*k), false))->dangerous, "%c should be dangerous",
                  *k);
        cr_assert_eq(keys_lookup(key_char(*k), true), ACT_NONE, "%c bound in read-only", *k);
    }
    int dangerous_count = 0;
    for (int a = ACT_NONE + 1; a < ACT_COUNT; a++) {
        const key_entry *e = keys_entry((key_action)a);
        cr_assert_eq(e->action, a, "table row %d out of order", a);
        if (e->dangerous) {
            dangerous_count++;
            cr_assert_eq(
                keys_lookup(e->key >= KEYCODE_MIN ? key_code(e->key) : key_char(e->key), true),
                ACT_NONE);
        } else {
            cr_assert_eq(
                keys_lookup(e->key >= KEYCODE_MIN ? key_code(e->key) : key_char(e->key), true),
                e->action, "%s lost in read-only", e->name);
        }
    }
    cr_assert_eq(dangerous_count, 5);
    /* 'R' (refresh) reads only: it stays bound; 'y' confirms dialogs only and is no table key */
    cr_assert_eq(keys_lookup(key_char('R'), true), ACT_REFRESH);
    cr_assert_eq(keys_lookup(key_char('y'), true), ACT_NONE);
}

Test(keys, help_has_one_line_per_key_and_marks_locked_ones)
{
    strvec rw = {0}, ro = {0};
    keys_help_lines(false, &rw);
    keys_help_lines(true, &ro);
    cr_assert_eq(rw.count, ACT_COUNT - 1);
    cr_assert_eq(ro.count, ACT_COUNT - 1);
    int locked = 0;
    for (size_t i = 0; i < ro.count; i++)
        locked += strstr(ro.items[i], "[locked: read-only]") != NULL;
    cr_assert_eq(locked, 5);
    for (size_t i = 0; i < rw.count; i++)
        cr_assert_null(strstr(rw.items[i], "locked"));
    int found = 0;
    for (size_t i = 0; i < rw.count; i++)
        found += strstr(rw.items[i], "approve the candidate") && strstr(rw.items[i], "  a ");
    cr_assert_eq(found, 1);
    strvec_free(&rw);
    strvec_free(&ro);
}

Test(keys, hint_line_leaves_out_dangerous_keys_when_read_only)
{
    char *rw = keys_hint_line(false, 200);
    char *ro = keys_hint_line(true, 200);
    cr_assert_not_null(strstr(rw, "a approve"));
    cr_assert_not_null(strstr(rw, "/ filter"));
    cr_assert_not_null(strstr(rw, "q quit"));
    cr_assert_null(strstr(ro, "approve"));
    cr_assert_null(strstr(ro, "pin"));
    cr_assert_null(strstr(ro, "rollback"));
    cr_assert_not_null(strstr(ro, "/ filter"));
    free(rw);
    free(ro);
}

Test(keys, hint_line_fits_narrow_windows_and_keeps_help_and_quit)
{
    char *full = keys_hint_line(false, 1000);
    for (int width = 20; width < 120; width += 7) {
        char *line = keys_hint_line(false, width);
        cr_assert_leq((int)strlen(line), width < (int)strlen(full) ? width : (int)strlen(full),
                      "width %d: %s", width, line);
        cr_assert_not_null(strstr(line, "? help"), "width %d: %s", width, line);
        cr_assert_not_null(strstr(line, "q quit"), "width %d: %s", width, line);
        free(line);
    }
    char *at78 = keys_hint_line(false, 78);
    cr_assert_not_null(strstr(at78, "a approve"), "%s", at78);
    free(at78);
    free(full);
}

Test(keys, markdown_table_lists_every_key)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    keys_print_markdown(f);
    fclose(f);
    int rows = 0;
    for (char *p = buf; (p = strstr(p, "\n| `")); p++)
        rows++;
    cr_assert_eq(rows, ACT_COUNT - 1);
    cr_assert_not_null(strstr(buf, "| `a` | approve |"));
    cr_assert_not_null(strstr(buf, "not bound (dangerous)"));
    free(buf);
}
