#include <criterion/criterion.h>
#include <stdlib.h>
#include "util.h"

Test(util, strbuf_grows)
{
    strbuf sb = {0};
    for (int i = 0; i < 1000; i++)
        strbuf_printf(&sb, "%d,", i);
    cr_assert_eq(sb.len, 3890);
    cr_assert(str_starts_with(sb.data, "0,1,2,"));
    char *s = strbuf_take(&sb);
    cr_assert_null(sb.data);
    free(s);
}

Test(util, trim_and_prefix)
{
    char buf[] = "  \t hello world \n";
    cr_assert_str_eq(str_trim(buf), "hello world");
    tp_err err;
    tp_err_set(&err, "401 for %s", "team/app");
    tp_err_prefix(&err, "registry %s", "ghcr.io");
    cr_assert_str_eq(err.msg, "registry ghcr.io: 401 for team/app");
}

Test(util, err_prefix_truncates_visibly)
{
    tp_err err;
    char longmsg[600];
    memset(longmsg, 'x', sizeof longmsg - 1);
    longmsg[sizeof longmsg - 1] = '\0';
    tp_err_set(&err, "%s", longmsg);
    tp_err_prefix(&err, "app");
    cr_assert(str_starts_with(err.msg, "app: xxx"));
    cr_assert(str_ends_with(err.msg, "..."));
}

Test(util, strvec_copies)
{
    strvec v = {0};
    char word[8] = "alpha";
    strvec_push(&v, word);
    word[0] = 'X';
    for (int i = 0; i < 20; i++)
        strvec_push(&v, "b");
    cr_assert_eq(v.count, 21);
    cr_assert_str_eq(v.items[0], "alpha");
    strvec_free(&v);
    cr_assert_eq(v.count, 0);
}
