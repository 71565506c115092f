/* Hostile values through every place tagpilot writes YAML: an in-place edit (block, flow,
 * sequence, tagged and empty scalars, in each quote style), the .argocd-source files and the
 * kustomization insertions. Parsed back with libyaml (a YAML 1.1 parser, as Argo CD's and Helm's
 * are), the value must come back exactly and the document keep its shape: a tag holding a line
 * break libyaml knows (U+0085, U+2028, U+2029) once injected a key into a Deployment. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manifest/yamledit.h"
#include "source/repotree.h"
#include "writeback/argocd_source.h"
#include "writeback/writeback.h"
#include "yamldoc.h"

/* Filled once: fixed hostile values plus every C0 control, DEL and C1 control in a tag. */
static strvec hostile;

static void make_hostile(void)
{
    static const char *const fixed[] = {
        "v1\nprivileged: true",
        "v1\rprivileged: true",
        "v1\r\nprivileged: true",
        "v1\xc2\x85securityContext:\xc2\x85  privileged: true",
        "v1\xe2\x80\xa8securityContext:\xe2\x80\xa8  privileged: true",
        "v1\xe2\x80\xa9privileged: true",
        "\xc2\x85",
        "\xe2\x80\xa8",
        "v1\n",
        "\nv1",
        "\"",
        "\\",
        "a\"b\\c",
        "a: b",
        "a #b",
        "#",
        "x:",
        ":x",
        "true",
        "True",
        "no",
        "on",
        "~",
        "null",
        "0x1",
        "0o17",
        "1e3",
        ".inf",
        "-.inf",
        "1_000",
        "1:20",
        "+1",
        "2024-01-02",
        "",
        " ",
        " lead",
        "trail ",
        "\t",
        "a\tb",
        "=",
        "...",
        "---",
        "- x",
        "? x",
        "a,b",
        "[1]",
        "{a: 1}",
        "'",
        "''",
        "it's",
        "\xef\xbb\xbfv1",
        "v1\xe2\x80\xae",
        "\xe6\x97\xa5\xe6\x9c\xac",
        "v1.2.3",
        "registry.example.com:5000/app:1.0",
    };
    hostile = (strvec){0};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        strvec_push(&hostile, fixed[i]);
    /* Each leading indicator, alone and in front of text. */
    for (const char *p = "-?:,[]{}#&*!|>'\"%@`"; *p; p++) {
        char one[2] = {*p, '\0'}, lead[8];
        snprintf(lead, sizeof lead, "%cx", *p);
        strvec_push(&hostile, one);
        strvec_push(&hostile, lead);
    }
    /* Every C0 control but NUL, DEL, and every C1 control (as UTF-8) inside a tag. */
    for (unsigned c = 1; c < 0x20; c++) {
        char v[8];
        snprintf(v, sizeof v, "a%cb", (char)c);
        strvec_push(&hostile, v);
    }
    strvec_push(&hostile, "a\x7f"
                          "b");
    for (unsigned c = 0x80; c < 0xA0; c++) {
        char v[8];
        snprintf(v, sizeof v, "a%c%cb", (char)0xC2, (char)c);
        strvec_push(&hostile, v);
    }
}

static void free_hostile(void)
{
    strvec_free(&hostile);
}

TestSuite(yamledit_hostile, .init = make_hostile, .fini = free_hostile);

/* A printable rendering of v for failure messages. */
static char *show(const char *v)
{
    return str_printable(v);
}

/* The map's keys joined with ',' ("a,k,z"), or "(not a map)". */
static char *keys_of(const ynode *map)
{
    map = ynode_deref(map);
    if (!map || map->kind != YNODE_MAP)
        return xstrdup("(not a map)");
    strbuf sb = {0};
    for (size_t i = 0; i + 1 < map->n_children; i += 2)
        strbuf_printf(&sb, "%s%s", i ? "," : "", ynode_str(map->children[i]));
    return strbuf_take(&sb);
}

static void parse_ok(const char *text, size_t len, ydoc *doc, const char *value)
{
    tp_err err = {{0}};
    char *v = show(value);
    char *t = show(text);
    cr_assert_eq(yamldoc_parse(text, len, "t", doc, &err), 0, "'%s' gave unparsable %s: %s", v, t,
                 err.msg);
    cr_assert_eq(doc->n_roots, 1, "'%s' made %zu documents: %s", v, doc->n_roots, t);
    free(v);
    free(t);
}

/* The value as the parser reads it: the text, never a null (a quoted "" or "~" is text). */
static void expect_value(const ynode *n, const char *value, const char *context)
{
    char *v = show(value);
    cr_assert_not_null(n, "%s: '%s' lost its node", context, v);
    n = ynode_deref(n);
    cr_assert_eq(n->kind, YNODE_SCALAR, "%s: '%s' is no longer a scalar", context, v);
    cr_assert(!ynode_is_null(n), "%s: '%s' reads as null", context, v);
    char *got = show(ynode_str(n));
    cr_assert_str_eq(ynode_str(n), value, "%s: wrote '%s', read back '%s'", context, v, got);
    free(got);
    free(v);
}

/* In-place edits: one key in a block map, in a flow map, an item of a flow sequence, a tagged
 * scalar and an empty one, each in plain, single- and double-quoted style. */
Test(yamledit_hostile, in_place_edits_read_back_and_keep_the_document)
{
    static const struct {
        const char *text, *path, *keys;
    } docs[] = {
        {"a: 1\nk: old\nz: 2\n", "k", "a,k,z"},
        {"a: 1\nk: 'old'\nz: 2\n", "k", "a,k,z"},
        {"a: 1\nk: \"old\"\nz: 2\n", "k", "a,k,z"},
        {"{a: 1, k: old, z: 2}\n", "k", "a,k,z"},
        {"{a: 1, k: 'old', z: 2}\n", "k", "a,k,z"},
        {"a: 1\nk: [x, old, y]\nz: 2\n", "k[1]", "a,k,z"},
        {"a: 1\nk: !!str old\nz: 2\n", "k", "a,k,z"},
        {"a: 1\nk: &anchor old # comment\nz: 2\n", "k", "a,k,z"},
        {"a: 1\nk:\nz: 2\n", "k", "a,k,z"},
        {"spec:\n  containers:\n  - name: web\n    image: old\n  - name: side\nz: 2\n",
         "spec.containers[0].image", "spec,z"},
    };
    for (size_t d = 0; d < sizeof docs / sizeof *docs; d++)
        for (size_t i = 0; i < hostile.count; i++) {
            const char *value = hostile.items[i];
            strbuf out = {0};
            tp_err err = {{0}};
            cr_assert_eq(yamledit_set_path(docs[d].text, strlen(docs[d].text), "t", 0, docs[d].path,
                                           value, &out, &err),
                         0, "doc %zu: %s", d, err.msg);
            ydoc doc;
            parse_ok(out.data, out.len, &doc, value);
            char context[64];
            snprintf(context, sizeof context, "doc %zu", d);
            char *keys = keys_of(doc.roots[0]);
            char *v = show(value);
            cr_assert_str_eq(keys, docs[d].keys, "%s: '%s' changed the keys to %s", context, v,
                             keys);
            expect_value(ynode_path(doc.roots[0], docs[d].path), value, context);
            /* The neighbours are untouched. */
            const ynode *z = ynode_get(doc.roots[0], "z");
            cr_assert_str_eq(ynode_str(z), "2", "%s: '%s' moved z", context, v);
            const ynode *k = ynode_deref(ynode_get(doc.roots[0], "k"));
            if (k && k->kind == YNODE_SEQ)
                cr_assert_eq(k->n_children, 3, "%s: '%s' changed the list", context, v);
            const ynode *containers = ynode_deref(ynode_path(doc.roots[0], "spec.containers"));
            if (containers) {
                cr_assert_eq(containers->n_children, 2, "%s: '%s' changed the list", context, v);
                char *ck = keys_of(containers->children[0]);
                cr_assert_str_eq(ck, "name,image", "%s: '%s' added %s", context, v, ck);
                free(ck);
            }
            free(v);
            free(keys);
            yamldoc_free(&doc);
            strbuf_free(&out);
        }
}

/* The .argocd-source files tagpilot writes whole: the Helm and the Kustomize form. */
Test(yamledit_hostile, argocd_source_files_read_back_and_keep_their_shape)
{
    for (size_t i = 0; i < hostile.count; i++) {
        const char *value = hostile.items[i];
        char *v = show(value);
        argocd_param params[] = {{"image.tag", value}, {value, "x"}};
        strbuf out = {0};
        tp_err err = {{0}};
        cr_assert_eq(argocd_source_helm(NULL, 0, "f", params, 2, &out, &err), 0, "%s", err.msg);
        ydoc doc;
        parse_ok(out.data, out.len, &doc, value);
        char *keys = keys_of(doc.roots[0]);
        cr_assert_str_eq(keys, "helm", "'%s' gave keys %s", v, keys);
        free(keys);
        const ynode *list = ynode_deref(ynode_path(doc.roots[0], "helm.parameters"));
        cr_assert(list && list->kind == YNODE_SEQ && list->n_children == 2, "'%s': %zu params", v,
                  list ? list->n_children : 0);
        bool found_tag = false, found_name = false;
        for (size_t p = 0; p < 2; p++) {
            const ynode *item = list->children[p];
            char *ik = keys_of(item);
            cr_assert_str_eq(ik, "name,value,forcestring", "'%s': an item holds %s", v, ik);
            free(ik);
            cr_assert_str_eq(ynode_str(ynode_get(item, "forcestring")), "true");
            if (str_eq(ynode_str(ynode_get(item, "name")), "image.tag") && !found_tag) {
                expect_value(ynode_get(item, "value"), value, "helm value");
                found_tag = true;
            } else {
                expect_value(ynode_get(item, "name"), value, "helm name");
                cr_assert_str_eq(ynode_str(ynode_get(item, "value")), "x");
                found_name = true;
            }
        }
        cr_assert(found_tag && found_name, "'%s'", v);
        yamldoc_free(&doc);

        char *entry = xasprintf("ghcr.io/acme/web:%s", value);
        const char *const images[] = {entry};
        cr_assert_eq(argocd_source_kustomize(NULL, 0, "f", images, 1, &out, &err), 0, "%s",
                     err.msg);
        parse_ok(out.data, out.len, &doc, value);
        keys = keys_of(doc.roots[0]);
        cr_assert_str_eq(keys, "kustomize", "'%s' gave keys %s", v, keys);
        free(keys);
        list = ynode_deref(ynode_path(doc.roots[0], "kustomize.images"));
        cr_assert(list && list->kind == YNODE_SEQ && list->n_children == 1, "'%s'", v);
        expect_value(list->children[0], entry, "kustomize image");
        yamldoc_free(&doc);
        free(entry);
        strbuf_free(&out);
        free(v);
    }
}

static argo_app kustomize_app(void)
{
    const char *text = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n"
                       "  name: t\n  annotations:\n"
                       "    argocd-image-updater.argoproj.io/image-list: a=ghcr.io/acme/a, "
                       "c=ghcr.io/acme/c\n"
                       "    argocd-image-updater.argoproj.io/write-back-target: kustomization\n"
                       "spec:\n  source:\n    repoURL: x\n    path: .\n";
    ydoc doc;
    tp_err err = {{0}};
    cr_assert_eq(yamldoc_parse(text, strlen(text), "t", &doc, &err), 0, "%s", err.msg);
    argo_app app;
    cr_assert_eq(app_from_node(doc.roots[0], "t", &app), 0);
    yamldoc_free(&doc);
    return app;
}

/* The lines plan.c adds to a kustomization: a newTag under an entry that has none, and a new
 * entry. ('@' splits a tag from its digest there, so values holding one are left out.) A tag
 * that would break a line is refused by the commit message before anything is committed, so
 * for those the plan must fail; the YAML they would make is checked by the tests above, which
 * go through the same yamledit_render. */
static char kust_dir[64];

/* A folder for the kustomization, removed even when the test fails (Criterion runs the
 * suite's init and fini around these). */
static void make_kust_dir(void)
{
    snprintf(kust_dir, sizeof kust_dir, "/tmp/tp-hostile-XXXXXX");
    cr_assert_not_null(mkdtemp(kust_dir));
}

static void remove_kust_dir(void)
{
    char *cmd = xasprintf("rm -rf '%s'", kust_dir);
    cr_expect_eq(system(cmd), 0);
    free(cmd);
}

Test(yamledit_hostile, kustomization_insertions_read_back_and_keep_the_list, .init = make_kust_dir,
     .fini = remove_kust_dir)
{
    const char *dir = kust_dir;
    char *path = xasprintf("%s/kustomization.yaml", dir);
    FILE *f = fopen(path, "w");
    fputs("images:\n  - name: ghcr.io/acme/a\n    newName: ghcr.io/acme/a2\n# end\n", f);
    fclose(f);
    argo_app app = kustomize_app();
    repotree *tree = repotree_open_dir(dir, NULL);
    cr_assert_not_null(tree);
    for (size_t i = 0; i < hostile.count; i++) {
        const char *value = hostile.items[i];
        if (!*value || strchr(value, '@'))
            continue;
        char *v = show(value);
        image_update u[] = {{&app.settings.images[0], NULL, value},
                            {&app.settings.images[1], NULL, value}};
        writeback_change c;
        tp_err err = {{0}};
        if (str_line_problem(value)) {
            cr_assert_eq(writeback_plan_in(&app, tree, u, 2, NULL, &c, &err), -1, "'%s'", v);
            cr_assert(strstr(err.msg, "commit message"), "'%s': %s", v, err.msg);
            free(v);
            continue;
        }
        cr_assert_eq(writeback_plan_in(&app, tree, u, 2, NULL, &c, &err), 0, "'%s': %s", v,
                     err.msg);
        cr_assert_eq(c.n_files, 1);
        ydoc doc;
        parse_ok(c.files[0].after, c.files[0].after_len, &doc, value);
        char *keys = keys_of(doc.roots[0]);
        cr_assert_str_eq(keys, "images", "'%s' gave keys %s", v, keys);
        free(keys);
        const ynode *list = ynode_deref(ynode_get(doc.roots[0], "images"));
        cr_assert(list && list->kind == YNODE_SEQ && list->n_children == 2, "'%s'", v);
        char *k0 = keys_of(list->children[0]), *k1 = keys_of(list->children[1]);
        cr_assert_str_eq(k0, "name,newName,newTag", "'%s'", v);
        cr_assert_str_eq(k1, "name,newTag", "'%s'", v);
        free(k0);
        free(k1);
        expect_value(ynode_get(list->children[0], "newTag"), value, "added newTag");
        expect_value(ynode_get(list->children[1], "newTag"), value, "new entry");
        cr_assert_str_eq(ynode_str(ynode_get(list->children[1], "name")), "ghcr.io/acme/c");
        yamldoc_free(&doc);
        writeback_change_free(&c);
        free(v);
    }
    repotree_free(tree);
    app_free(&app);
    free(path);
}

/* A value that is not UTF-8 is not a tag anyone pushed: it is refused, never escaped into a
 * file. */
Test(yamledit_hostile, invalid_utf8_is_refused_everywhere)
{
    static const char *const bad[] = {"v1\xff", "\xc2", "v\xc0\xaf", "\xed\xa0\x80",
                                      "\xf4\x90\x80\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *out = NULL;
        tp_err err = {{0}};
        for (int style = YSTYLE_PLAIN; style <= YSTYLE_DOUBLE; style++) {
            cr_assert_eq(yamledit_render(bad[i], (ynode_style)style, &out, &err), -1, "case %zu",
                         i);
            cr_assert_null(out);
            cr_assert(strstr(err.msg, "not valid UTF-8"), "%s", err.msg);
        }
        strbuf sb = {0};
        cr_assert_eq(yamledit_set_path("k: v\n", 5, "v.yaml", 0, "k", bad[i], &sb, &err), -1);
        cr_assert(strstr(err.msg, "v.yaml: k: line 1: the value is not valid UTF-8"), "%s",
                  err.msg);
        argocd_param p = {"image.tag", bad[i]};
        cr_assert_eq(argocd_source_helm(NULL, 0, ".argocd-source-web.yaml", &p, 1, &sb, &err), -1);
        cr_assert(strstr(err.msg, ".argocd-source-web.yaml: image.tag: the value is not valid"),
                  "%s", err.msg);
        strbuf_free(&sb);
    }
}
