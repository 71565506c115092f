/* cluster_fixture: the Applications of tests/fixtures/cluster, read once per test (Criterion
 * .init/.fini), for the suites that read or write that fixture. Header-only: each test binary
 * includes it once. */
#ifndef TP_TEST_CLUSTER_FIXTURE_H
#define TP_TEST_CLUSTER_FIXTURE_H

#include <criterion/criterion.h>
#include <stdlib.h>

#include "source/app.h"
#include "source/repotree.h"

static char *cluster;
static repotree *cluster_tree; /* the fixture's folder, as the engine reads a repository */
static app_list apps;

/* The fixture's folder (caller frees). */
static char *cluster_fixture_dir(void)
{
    const char *root = getenv("TP_ROOT");
    return xasprintf("%s/tests/fixtures/cluster", root ? root : ".");
}

static void setup(void)
{
    cluster = cluster_fixture_dir();
    tp_err err = {{0}};
    cluster_tree = repotree_open_dir(cluster, &err);
    cr_assert_not_null(cluster_tree, "%s", err.msg);
    cr_assert_eq(app_list_read_tree(cluster_tree, "apps", &apps, &err), 0, "%s", err.msg);
}

static void teardown(void)
{
    app_list_free(&apps);
    repotree_free(cluster_tree);
    free(cluster);
}

/* A folder as a tree (caller frees with repotree_free). */
static repotree *folder_tree(const char *dir)
{
    tp_err err = {{0}};
    repotree *t = repotree_open_dir(dir, &err);
    cr_assert_not_null(t, "%s", err.msg);
    return t;
}

static const argo_app *app_named(const char *name)
{
    for (size_t i = 0; i < apps.count; i++)
        if (str_eq(apps.items[i].name, name))
            return &apps.items[i];
    cr_assert_fail("no app %s", name);
    return NULL;
}

#endif
