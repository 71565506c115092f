#include <criterion/criterion.h>
#include <stdio.h>

#include "strmap.h"

Test(strmap, put_get_replace_remove)
{
    strmap m = {0};
    int a = 1, b = 2;
    cr_assert_null(strmap_get(&m, "x"));
    cr_assert_null(strmap_put(&m, "bookstore/web", &a));
    cr_assert_eq(strmap_get(&m, "bookstore/web"), &a);
    cr_assert_eq(strmap_put(&m, "bookstore/web", &b), &a, "replacing returns the old value");
    cr_assert_eq(m.count, 1);
    cr_assert_eq(strmap_remove(&m, "bookstore/web"), &b);
    cr_assert_null(strmap_get(&m, "bookstore/web"));
    cr_assert_null(strmap_remove(&m, "bookstore/web"));
    strmap_free(&m);
}

static void count_cb(const char *key, void *value, void *ctx)
{
    (void)key;
    *(long *)ctx += *(int *)value;
}

Test(strmap, many_keys_and_churn)
{
    strmap m = {0};
    static int values[20000];
    char key[32];
    for (int i = 0; i < 20000; i++) {
        values[i] = 1;
        snprintf(key, sizeof key, "app-%d/alias", i);
        strmap_put(&m, key, &values[i]);
    }
    cr_assert_eq(m.count, 20000);
    /* Remove and re-add many times: tombstones must not fill the table or lose keys. */
    for (int round = 0; round < 5; round++)
        for (int i = 0; i < 20000; i += 2) {
            snprintf(key, sizeof key, "app-%d/alias", i);
            cr_assert_not_null(strmap_remove(&m, key));
            strmap_put(&m, key, &values[i]);
        }
    long total = 0;
    strmap_each(&m, count_cb, &total);
    cr_assert_eq(total, 20000);
    snprintf(key, sizeof key, "app-%d/alias", 19999);
    cr_assert_eq(strmap_get(&m, key), &values[19999]);
    strmap_free(&m);
}

/* Replacing a key must find it behind tombstones: an insert that stopped at the first
 * tombstone of its probe chain would store the key a second time. */
Test(strmap, replace_behind_tombstones_keeps_one_entry)
{
    strmap m = {0};
    static int old_values[1000], new_values[1000];
    char key[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "team-%d/web", i);
        strmap_put(&m, key, &old_values[i]);
    }
    for (int i = 0; i < 1000; i += 2) {
        snprintf(key, sizeof key, "team-%d/web", i);
        strmap_remove(&m, key);
    }
    for (int i = 1; i < 1000; i += 2) {
        snprintf(key, sizeof key, "team-%d/web", i);
        cr_assert_eq(strmap_put(&m, key, &new_values[i]), &old_values[i],
                     "%s: replacing returns the old value", key);
    }
    cr_assert_eq(m.count, 500, "each key once (count %zu)", m.count);
    for (int i = 1; i < 1000; i += 2) {
        snprintf(key, sizeof key, "team-%d/web", i);
        cr_assert_eq(strmap_remove(&m, key), &new_values[i], "%s", key);
        cr_assert_null(strmap_get(&m, key), "%s: gone after its removal", key);
    }
    cr_assert_eq(m.count, 0);
    strmap_free(&m);
}
