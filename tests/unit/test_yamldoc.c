#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yamldoc.h"

static ydoc parse_ok(const char *text)
{
    ydoc doc;
    tp_err err = {{0}};
    cr_assert_eq(yamldoc_parse(text, strlen(text), "t.yaml", &doc, &err), 0, "%s", err.msg);
    return doc;
}

/* The byte span of a scalar covers exactly its text (with quotes), even after multi-byte
 * characters and CRLF line ends: write-back splices these bytes. */
Test(yamldoc, spans_are_bytes)
{
    static const struct {
        const char *text, *path, *want_span, *want_value;
    } cases[] = {
        {"image:\n  tag: v1.0.0\n", "image.tag", "v1.0.0", "v1.0.0"},
        {"image:\n  tag: \"v1.0.0\"  # quoted\n", "image.tag", "\"v1.0.0\"", "v1.0.0"},
        {"name: 'ünïcødé ✓'\nimage:\r\n  tag: '1.4.0'\r\n", "image.tag", "'1.4.0'", "1.4.0"},
        {"# héllo wörld\nimage: {repository: x, tag: 2.0}\n", "image.tag", "2.0", "2.0"},
        {"api:\n  images:\n  - {tag: a}\n  - tag: b\n", "api.images[1].tag", "b", "b"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ydoc doc = parse_ok(cases[i].text);
        const ynode *n = ynode_path(doc.roots[0], cases[i].path);
        cr_assert_not_null(n, "case %zu", i);
        cr_assert_str_eq(ynode_str(n), cases[i].want_value);
        size_t len = n->end - n->start;
        cr_assert_eq(len, strlen(cases[i].want_span), "case %zu: span %zu..%zu", i, n->start,
                     n->end);
        cr_assert(memcmp(cases[i].text + n->start, cases[i].want_span, len) == 0, "case %zu", i);
        yamldoc_free(&doc);
    }
}

Test(yamldoc, anchors_aliases_and_merge)
{
    ydoc doc = parse_ok("base: &b\n  tag: v1\n  pull: Always\n"
                        "web:\n  <<: *b\n  tag: v2\n"
                        "copy: *b\n");
    cr_assert_str_eq(ynode_str(ynode_path(doc.roots[0], "web.tag")), "v2");
    cr_assert_str_eq(ynode_str(ynode_path(doc.roots[0], "web.pull")), "Always");
    cr_assert_str_eq(ynode_str(ynode_path(doc.roots[0], "copy.tag")), "v1");
    cr_assert_null(ynode_path(doc.roots[0], "web.missing"));
    yamldoc_free(&doc);
}

/* "<<: [*a, *b]": for a key both define, the earlier map wins (YAML's merge key spec); keys
 * of the map itself win over both. */
Test(yamldoc, merge_list_earlier_map_wins)
{
    ydoc doc = parse_ok("a: &a\n  tag: from-a\n  pull: IfNotPresent\n"
                        "b: &b\n  tag: from-b\n  pull: Always\n  repo: from-b\n"
                        "web:\n  <<: [*a, *b]\n  pull: Never\n");
    cr_assert_str_eq(ynode_str(ynode_path(doc.roots[0], "web.tag")), "from-a");
    cr_assert_str_eq(ynode_str(ynode_path(doc.roots[0], "web.repo")), "from-b");
    cr_assert_str_eq(ynode_str(ynode_path(doc.roots[0], "web.pull")), "Never");
    yamldoc_free(&doc);
}

Test(yamldoc, multi_document_and_lines)
{
    ydoc doc = parse_ok("kind: A\n---\n---\nkind: B\nx:\n  y: 1\n");
    cr_assert_eq(doc.n_roots, 3);
    cr_assert_str_eq(ynode_str(ynode_get(doc.roots[0], "kind")), "A");
    cr_assert(doc.roots[1] == NULL || ynode_is_null(doc.roots[1]));
    const ynode *y = ynode_path(doc.roots[2], "x.y");
    cr_assert_eq(y->line, 6);
    cr_assert_eq(y->column, 6);
    const ynode *k = ynode_key(doc.roots[2], "x");
    cr_assert_eq(k->line, 5);
    yamldoc_free(&doc);
}

Test(yamldoc, errors_name_file_and_line)
{
    static const char *bad[] = {
        "a: [1, 2\n",
        "a: b\n c: d\n  - e\n",
        "a: *nowhere\n",
        "key: \"unterminated\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ydoc doc;
        tp_err err = {{0}};
        cr_assert_eq(yamldoc_parse(bad[i], strlen(bad[i]), "bad.yaml", &doc, &err), -1,
                     "case %zu parsed", i);
        cr_assert(strncmp(err.msg, "bad.yaml:", 9) == 0, "case %zu: %s", i, err.msg);
    }
}

Test(yamldoc, nulls_and_paths)
{
    ydoc doc = parse_ok("a: ~\nb: \"\"\nc:\nd: null\nlist: [x, y]\n");
    cr_assert(ynode_is_null(ynode_get(doc.roots[0], "a")));
    cr_assert_not(ynode_is_null(ynode_get(doc.roots[0], "b")), "a quoted empty string is text");
    cr_assert(ynode_is_null(ynode_get(doc.roots[0], "c")));
    cr_assert(ynode_is_null(ynode_get(doc.roots[0], "d")));
    cr_assert_str_eq(ynode_str(ynode_path(doc.roots[0], "list[1]")), "y");
    cr_assert_null(ynode_path(doc.roots[0], "list[2]"));
    cr_assert_null(ynode_path(doc.roots[0], "list[x]"));
    cr_assert_null(ynode_path(doc.roots[0], "a.b"));
    yamldoc_free(&doc);
}

/* A file of a few hundred kilobytes of '[' overflowed the stack when its tree was freed: nesting
 * past 256 levels is refused. */
Test(yamldoc, deep_nesting_refused)
{
    size_t levels = 200000;
    char *text = malloc(2 * levels + 8);
    size_t n = 0;
    n += (size_t)sprintf(text, "a: ");
    memset(text + n, '[', levels);
    memset(text + n + levels, ']', levels);
    n += 2 * levels;
    ydoc doc;
    tp_err err = {{0}};
    cr_assert_eq(yamldoc_parse(text, n, "deep.yaml", &doc, &err), -1);
    free(text);
    /* the 256th level is the 255th '[' under the top map */
    cr_assert_str_eq(err.msg, "deep.yaml:1:259: nested deeper than 256 levels");
    text = malloc(600);
    n = (size_t)sprintf(text, "a: ");
    memset(text + n, '[', 255);
    memset(text + n + 255, ']', 255);
    n += 510;
    cr_assert_eq(yamldoc_parse(text, n, "deep.yaml", &doc, &err), 0, "%s", err.msg);
    yamldoc_free(&doc);
    free(text);
}

/* Merge keys that name their own map several times: a lookup visits a bounded number of maps
 * instead of exponentially many (this one took hours before). */
Test(yamldoc, merge_cycles_end, .timeout = 10)
{
    ydoc doc = parse_ok("a: &a {x: 1, <<: [*a, *a, *a, *a, *a, *a, *a, *a]}\n");
    const ynode *a = ynode_get(doc.roots[0], "a");
    cr_assert_str_eq(ynode_str(ynode_get(a, "x")), "1");
    cr_assert_null(ynode_get(a, "missing"));
    cr_assert_null(ynode_path(doc.roots[0], "a.missing.deeper"));
    yamldoc_free(&doc);
}

/* A document's nodes, texts and child arrays share its blocks: a scalar bigger than any block,
 * a map that outgrows its child array many times over, and texts with NUL bytes must all come
 * back whole (ASan sees any write past a block). */
Test(yamldoc, big_scalars_and_wide_maps_come_back_whole)
{
    size_t big = 200 * 1024, keys = 5000;
    strbuf sb = {0};
    strbuf_puts(&sb, "big: \"");
    for (size_t i = 0; i < big; i++)
        strbuf_putc(&sb, (char)('a' + i % 26));
    strbuf_puts(&sb, "\"\nnul: \"a\\0b\"\nwide:\n");
    for (size_t i = 0; i < keys; i++)
        strbuf_printf(&sb, "  k%zu: &a%zu v%zu\n", i, i, i);
    strbuf_puts(&sb, "last: *a4999\n");
    ydoc doc = parse_ok(sb.data);
    const ynode *root = doc.roots[0];
    const ynode *b = ynode_get(root, "big");
    cr_assert_not_null(b);
    cr_assert_eq(b->value_len, big);
    for (size_t i = 0; i < big; i++)
        cr_assert_eq(b->value[i], (char)('a' + i % 26), "byte %zu", i);
    cr_assert_eq(b->value[big], '\0');
    const ynode *nul = ynode_get(root, "nul");
    cr_assert_eq(nul->value_len, 3);
    cr_assert_eq(memcmp(nul->value, "a\0b", 3), 0);
    const ynode *wide = ynode_get(root, "wide");
    cr_assert_eq(wide->n_children, 2 * keys);
    for (size_t i = 0; i < keys; i++) {
        char k[32], v[32];
        snprintf(k, sizeof k, "k%zu", i);
        snprintf(v, sizeof v, "v%zu", i);
        cr_assert_str_eq(wide->children[2 * i]->value, k);
        cr_assert_str_eq(ynode_str(ynode_get(wide, k)), v);
    }
    cr_assert_str_eq(ynode_str(ynode_get(root, "last")), "v4999");
    cr_assert_str_eq(ynode_deref(ynode_get(root, "last"))->anchor, "a4999");
    yamldoc_free(&doc);
    cr_assert_null(doc.blocks);
    strbuf_free(&sb);
}
