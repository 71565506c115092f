/* yamldoc's flat form (what yamlcache keeps between runs): every document comes back node for
 * node, and bytes that are not a document yamldoc_parse could have made are refused. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yamldoc.h"

static bool same_node(const ynode *a, const ynode *b, char *why, size_t why_len)
{
    if (!a || !b) {
        snprintf(why, why_len, "one node missing");
        return a == b;
    }
    if (a->kind != b->kind || a->style != b->style || a->start != b->start || a->end != b->end ||
        a->line != b->line || a->column != b->column || a->n_children != b->n_children ||
        a->value_len != b->value_len || !a->value != !b->value || !a->anchor != !b->anchor ||
        !a->target != !b->target) {
        snprintf(why, why_len, "node at %zu:%zu differs", a->line, a->column);
        return false;
    }
    if ((a->value && memcmp(a->value, b->value, a->value_len + 1) != 0) ||
        (a->anchor && strcmp(a->anchor, b->anchor) != 0)) {
        snprintf(why, why_len, "text at %zu:%zu differs", a->line, a->column);
        return false;
    }
    if (a->target && (a->target->start != b->target->start || a->target->end != b->target->end ||
                      a->target->kind != b->target->kind)) {
        snprintf(why, why_len, "alias at %zu:%zu points elsewhere", a->line, a->column);
        return false;
    }
    for (size_t i = 0; i < a->n_children; i++)
        if (!same_node(a->children[i], b->children[i], why, why_len))
            return false;
    return true;
}

static void expect_round_trip(const char *text, size_t len)
{
    ydoc doc, back;
    tp_err err = {{0}};
    cr_assert_eq(yamldoc_parse(text, len, "t.yaml", &doc, &err), 0, "%s", err.msg);
    strbuf flat = {0};
    yamldoc_flatten(&doc, &flat);
    cr_assert_eq(yamldoc_unflatten(flat.data, flat.len, len, "t.yaml", &back), 0,
                 "refused its own flat form: %.60s", text);
    cr_assert_eq(back.n_roots, doc.n_roots, "%.60s", text);
    cr_assert_str_eq(back.name, "t.yaml");
    for (size_t r = 0; r < doc.n_roots; r++) {
        char why[128] = "";
        cr_assert(same_node(doc.roots[r], back.roots[r], why, sizeof why), "%s in: %.60s", why,
                  text);
    }
    strbuf_free(&flat);
    yamldoc_free(&doc);
    yamldoc_free(&back);
}

Test(yamldoc_flat, documents_come_back_node_for_node)
{
    static const char *texts[] = {
        "",
        "---\n",
        "kind: A\n---\n---\nkind: B\nx:\n  y: 1\n",
        "base: &b\n  tag: v1\n  pull: Always\nweb:\n  <<: *b\n  tag: v2\ncopy: *b\n",
        "a: &a {x: 1, <<: [*a, *a]}\n",
        "name: 'ünïcødé ✓'\nimage:\r\n  tag: '1.4.0'\r\n",
        "s: |\n  literal\n  text\nf: >\n  folded\n  text\nq: \"esc\\ttab\\u00e9\"\n",
        "list: [x, {y: [1, 2, ~]}, \"\", !!str 3]\n",
        "? complex key\n: value\n&anchor top: *anchor\n",
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
        expect_round_trip(texts[i], strlen(texts[i]));
    /* a NUL inside a value, and the deepest nesting the parser takes */
    expect_round_trip("v: \"a\\0b\"\n", 10);
    char deep[600];
    int n = sprintf(deep, "a: ");
    memset(deep + n, '[', 255);
    memset(deep + n + 255, ']', 255);
    expect_round_trip(deep, (size_t)n + 510);
}

/* The flat form of text, to damage. */
static strbuf flat_of(const char *text)
{
    ydoc doc;
    tp_err err = {{0}};
    cr_assert_eq(yamldoc_parse(text, strlen(text), "t.yaml", &doc, &err), 0, "%s", err.msg);
    strbuf flat = {0};
    yamldoc_flatten(&doc, &flat);
    yamldoc_free(&doc);
    return flat;
}

static uint32_t word(const strbuf *f, size_t i)
{
    uint32_t w;
    memcpy(&w, f->data + i * 4, 4);
    return w;
}

static void set_word(strbuf *f, size_t i, uint32_t w)
{
    memcpy(f->data + i * 4, &w, 4);
}

/* The header is 5 words, then the roots, then 13 words a node: kind, style, value, value length,
 * anchor, anchor length, target, start, end, line, column, first child, children. */
#define NODE(f, i, field) (5 + word(f, 2) + (size_t)(i)*13 + (field))

static void expect_refused(const strbuf *flat, size_t src_len, const char *what)
{
    ydoc back;
    cr_expect_eq(yamldoc_unflatten(flat->data, flat->len, src_len, "t.yaml", &back), -1,
                 "accepted: %s", what);
    cr_expect_null(back.roots, "%s: left a document", what);
}

Test(yamldoc_flat, damaged_forms_are_refused)
{
    const char *text = "base: &b {tag: v1}\nweb: *b\nlist: [a, b]\n";
    size_t len = strlen(text);
    strbuf good = flat_of(text);
    /* nodes: 0 top map, 1 "base", 2 &b map, 3 "tag", 4 "v1", 5 "web", 6 *b, 7 "list", 8 seq … */
    cr_assert_eq(word(&good, NODE(&good, 6, 0)), YNODE_ALIAS, "the test's numbering");
    struct {
        const char *what;
        size_t at;   /* word index */
        uint32_t to; /* new value */
    } damage[] = {
        {"another magic", 0, 0x31464458u},
        {"more nodes than there are", 1, 100},
        {"a root past the nodes", 5, 50},
        {"a kind past the last", NODE(&good, 1, 0), 9},
        {"a style past the last", NODE(&good, 1, 1), 99},
        {"a value past the texts", NODE(&good, 1, 2), 100000},
        {"a value running into the next text", NODE(&good, 1, 3), 7},
        {"a map with a value", NODE(&good, 2, 2), 0},
        {"a scalar without one", NODE(&good, 1, 2), 0xFFFFFFFFu},
        {"an alias with no target", NODE(&good, 6, 6), 0xFFFFFFFFu},
        {"an alias before its target", NODE(&good, 6, 6), 7},
        {"an alias of itself", NODE(&good, 6, 6), 6},
        {"a map with a target", NODE(&good, 2, 6), 0},
        {"a span that ends before it starts", NODE(&good, 4, 8), 0},
        {"a span past the source", NODE(&good, 4, 8), 4096},
        {"line 0", NODE(&good, 1, 9), 0},
        {"children past the refs", NODE(&good, 0, 12), 1000},
        {"a scalar with children", NODE(&good, 1, 12), 1},
        {"a child before its parent", NODE(&good, 2, 11), 0},
    };
    for (size_t i = 0; i < sizeof damage / sizeof *damage; i++) {
        strbuf bad = {0};
        strbuf_append(&bad, good.data, good.len);
        set_word(&bad, damage[i].at, damage[i].to);
        expect_refused(&bad, len, damage[i].what);
        strbuf_free(&bad);
    }
    /* an alias aimed at another alias (the deref loop's end) */
    strbuf two = flat_of("a: &a x\nb: *a\nc: *a\n");
    set_word(&two, NODE(&two, 6, 6), 4);
    cr_assert_eq(word(&two, NODE(&two, 4, 0)), YNODE_ALIAS);
    expect_refused(&two, strlen("a: &a x\nb: *a\nc: *a\n"), "an alias of an alias");
    strbuf_free(&two);
    /* cut anywhere, or one byte more */
    for (size_t cut = 0; cut < good.len; cut += 3)
        expect_refused(&(strbuf){good.data, cut, cut}, len, "a cut form");
    strbuf longer = {0};
    strbuf_append(&longer, good.data, good.len);
    strbuf_putc(&longer, 'x');
    expect_refused(&longer, len, "a byte after the texts");
    strbuf_free(&longer);
    /* the source shorter than the spans say */
    expect_refused(&good, 10, "a shorter source");
    strbuf_free(&good);
}

/* A chain of n sequences, each the only child of the one before, ending in an empty scalar:
 * nesting n - 1 deep, made by hand. */
static strbuf chain(uint32_t n)
{
    strbuf f = {0};
    uint32_t head[] = {0x31464459u, n, 1, n - 1, 1, 0};
    strbuf_append(&f, (const char *)head, sizeof head);
    for (uint32_t i = 0; i < n; i++) {
        bool last = i == n - 1;
        uint32_t node[13] = {last ? YNODE_SCALAR : YNODE_SEQ,
                             last ? YSTYLE_PLAIN : YSTYLE_FLOW,
                             last ? 0 : 0xFFFFFFFFu,
                             0,
                             0xFFFFFFFFu,
                             0,
                             0xFFFFFFFFu,
                             0,
                             0,
                             1,
                             1,
                             i,
                             last ? 0 : 1};
        strbuf_append(&f, (const char *)node, sizeof node);
    }
    for (uint32_t i = 1; i < n; i++)
        strbuf_append(&f, (const char *)&i, sizeof i);
    strbuf_putc(&f, '\0');
    return f;
}

/* Children form a tree no deeper than the parser makes one (256 levels), even in a form made by
 * hand: the readers walk it recursively. */
Test(yamldoc_flat, nesting_past_the_parser_refused)
{
    strbuf ok = chain(257), deep = chain(258);
    ydoc back;
    cr_assert_eq(yamldoc_unflatten(ok.data, ok.len, 0, "t.yaml", &back), 0, "256 levels");
    cr_assert_eq(back.roots[0]->children[0]->kind, YNODE_SEQ);
    yamldoc_free(&back);
    expect_refused(&deep, 0, "257 levels");
    /* the innermost sequence made its own child: a loop through children */
    set_word(&ok, NODE(&ok, 255, 11), 254);
    expect_refused(&ok, 0, "a child that points back");
    strbuf_free(&ok);
    strbuf_free(&deep);
}
