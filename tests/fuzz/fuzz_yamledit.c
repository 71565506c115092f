/* yamldoc + yamledit (engine/yamldoc.c, engine/manifest/yamledit.c): the byte-precise edit
 * write-back relies on. Input: one byte choosing the value to edit, the new value up to the
 * first newline, then the YAML. Property: parse, edit that one scalar (a map value, a list item
 * or an alias — what write-back edits; keys are never edited), parse the result again: it
 * parses, the edited node reads back as the new value, and every other node is unchanged
 * (kind, style, anchor, value). yamledit may refuse an edit with a message; it may not produce
 * text that says something else. A valid UTF-8 value, rendered in every style into new text,
 * reads back as itself. The new value also goes to ynode_path as a path. */
#include "fuzz.h"
#include "manifest/yamledit.h"
#include "util.h"
#include "yamldoc.h"

typedef struct walk {
    const ynode **nodes; /* every node, pre-order over all documents */
    bool *editable;
    size_t count, cap;
} walk;

static void walk_add(walk *w, const ynode *n, bool editable)
{
    if (w->count == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 64;
        w->nodes = xrealloc(w->nodes, w->cap * sizeof *w->nodes);
        w->editable = xrealloc(w->editable, w->cap * sizeof *w->editable);
    }
    w->nodes[w->count] = n;
    w->editable[w->count++] = editable;
}

static void walk_node(walk *w, const ynode *n, bool is_key)
{
    if (!n)
        return;
    walk_add(w, n, !is_key && (n->kind == YNODE_SCALAR || n->kind == YNODE_ALIAS));
    for (size_t i = 0; i < n->n_children; i++)
        walk_node(w, n->children[i], n->kind == YNODE_MAP && i % 2 == 0);
}

static void walk_doc(walk *w, const ydoc *doc)
{
    for (size_t i = 0; i < doc->n_roots; i++) {
        if (!doc->roots[i])
            walk_add(w, NULL, false);
        walk_node(w, doc->roots[i], false);
    }
}

static void walk_free(walk *w)
{
    free(w->nodes);
    free(w->editable);
}

static void same_node(const ynode *a, const ynode *b, size_t i)
{
    fuzz_require((a == NULL) == (b == NULL), "node %zu: an empty document changed", i);
    if (!a)
        return;
    fuzz_require(a->kind == b->kind, "node %zu (line %zu): kind %d became %d", i, a->line,
                 (int)a->kind, (int)b->kind);
    fuzz_require(a->style == b->style, "node %zu (line %zu): style changed", i, a->line);
    fuzz_require(a->n_children == b->n_children, "node %zu (line %zu): %zu children became %zu", i,
                 a->line, a->n_children, b->n_children);
    fuzz_require(str_same(a->anchor, b->anchor), "node %zu (line %zu): anchor changed", i, a->line);
    fuzz_require(a->value_len == b->value_len &&
                     (!a->value_len || memcmp(a->value, b->value, a->value_len) == 0),
                 "node %zu (line %zu): value '%s' became '%s'", i, a->line,
                 a->value ? a->value : "", b->value ? b->value : "");
}

/* What write-back writes (yamledit_render, the one function for every scalar, in each style)
 * reads back as the value, in block and in flow context; a value it refuses (not UTF-8) is
 * never written. */
static void rendered_reads_back(const char *value)
{
    static const ynode_style styles[] = {YSTYLE_PLAIN, YSTYLE_SINGLE, YSTYLE_DOUBLE};
    for (size_t i = 0; i < 3; i++) {
        char *r = NULL;
        tp_err rerr;
        if (yamledit_render(value, styles[i], &r, &rerr) < 0)
            continue;
        for (int flow = 0; flow <= 1; flow++) {
            char *text = xasprintf(flow ? "k: [%s]\n" : "k: %s\n", r);
            ydoc doc;
            tp_err err;
            fuzz_require(yamldoc_parse(text, strlen(text), "new.yaml", &doc, &err) == 0,
                         "'%s' rendered as %s does not parse: %s", value, r, err.msg);
            const ynode *n = ynode_get(doc.roots[0], "k");
            if (flow)
                n = n && n->kind == YNODE_SEQ && n->n_children == 1 ? n->children[0] : NULL;
            fuzz_require(n && n->kind == YNODE_SCALAR && n->value_len == strlen(value) &&
                             memcmp(n->value, value, n->value_len) == 0,
                         "'%s' rendered as %s reads back otherwise", value, r);
            yamldoc_free(&doc);
            free(text);
        }
        free(r);
    }
}

static bool valid_utf8(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = utf8_sequence_length(p);
        if (!n)
            return false;
        p += n;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned choice = data[0];
    const uint8_t *yaml;
    size_t yaml_len;
    char *value = fuzz_split(data + 1, size - 1, '\n', &yaml, &yaml_len);
    if (valid_utf8(value))
        rendered_reads_back(value);
    char *buf = fuzz_exact(yaml, yaml_len);
    ydoc doc;
    tp_err err;
    if (yamldoc_parse(buf, yaml_len, "values.yaml", &doc, &err) != 0)
        goto done;
    for (size_t i = 0; i < doc.n_roots; i++)
        (void)ynode_path(doc.roots[i], value);
    walk before = {0};
    walk_doc(&before, &doc);
    size_t n_editable = 0;
    for (size_t i = 0; i < before.count; i++)
        n_editable += before.editable[i];
    if (n_editable == 0)
        goto walked;
    size_t target = 0;
    for (size_t k = choice % n_editable;; target++)
        if (before.editable[target] && k-- == 0)
            break;
    yamledit_edit edit;
    if (yamledit_scalar(buf, yaml_len, before.nodes[target], value, &edit, &err) != 0) {
        fuzz_require(err.msg[0], "edit refused without a message");
        goto walked;
    }
    strbuf out = {0};
    fuzz_require(yamledit_apply(buf, yaml_len, &edit, 1, &out, &err) == 0, "apply: %s", err.msg);
    ydoc after_doc;
    fuzz_require(yamldoc_parse(out.data, out.len, "values.yaml", &after_doc, &err) == 0,
                 "setting node %zu (line %zu) to '%s' broke the YAML: %s", target,
                 before.nodes[target]->line, value, err.msg);
    walk after = {0};
    walk_doc(&after, &after_doc);
    fuzz_require(after.count == before.count, "%zu nodes became %zu", before.count, after.count);
    for (size_t i = 0; i < before.count; i++) {
        if (i != target) {
            same_node(before.nodes[i], after.nodes[i], i);
            continue;
        }
        const ynode *n = after.nodes[i];
        fuzz_require(n && n->kind == YNODE_SCALAR, "the edited node is no scalar");
        fuzz_require(n->value_len == strlen(value) && memcmp(n->value, value, n->value_len) == 0,
                     "set to '%s', reads back as '%s'", value, n->value);
        fuzz_require(str_same(n->anchor, before.nodes[i]->anchor), "the edit lost its anchor");
    }
    walk_free(&after);
    yamldoc_free(&after_doc);
    strbuf_free(&out);
walked:
    walk_free(&before);
    yamldoc_free(&doc);
done:
    free(buf);
    free(value);
    return 0;
}
