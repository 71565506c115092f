/* yamldoc's flat form (engine/yamldoc.c, what state/yamlcache keeps between runs). The input
 * twice: as YAML, whose parse must come back node for node through flatten and unflatten; and as
 * a flat form itself (a damaged or hand-made cache entry), which unflatten refuses or turns into
 * a document every reader can walk — no loop, no read out of bounds. */
#include "fuzz.h"
#include "yamldoc.h"

static bool same(const ynode *a, const ynode *b)
{
    if (!a || !b)
        return a == b;
    if (a->kind != b->kind || a->style != b->style || a->start != b->start || a->end != b->end ||
        a->line != b->line || a->column != b->column || a->n_children != b->n_children ||
        a->value_len != b->value_len || !a->value != !b->value || !a->anchor != !b->anchor ||
        !a->target != !b->target)
        return false;
    if (a->value && memcmp(a->value, b->value, a->value_len + 1) != 0)
        return false;
    if (a->anchor && strcmp(a->anchor, b->anchor) != 0)
        return false;
    if (a->target && (a->target->start != b->target->start || a->target->kind != b->target->kind))
        return false;
    for (size_t i = 0; i < a->n_children; i++)
        if (!same(a->children[i], b->children[i]))
            return false;
    return true;
}

/* What readers do at every node of the tree (its children, not through aliases: an alias may
 * name an ancestor in what the parser makes too): paths, keys with merges, scalars. */
static size_t walk(const ynode *n)
{
    size_t seen = 1;
    if (!n)
        return seen;
    (void)ynode_get(n, "a");
    (void)ynode_path(n, "a.b[1].c");
    (void)ynode_key(n, "<<");
    const ynode *d = ynode_deref(n);
    if (d && ynode_str(d))
        seen += strlen(ynode_str(d)) > d->value_len;
    for (size_t i = 0; i < n->n_children; i++)
        seen += walk(n->children[i]);
    return seen;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_exact(data, size);
    ydoc doc, back;
    tp_err err;
    if (yamldoc_parse(text, size, "f.yaml", &doc, &err) == 0) {
        strbuf flat = {0};
        yamldoc_flatten(&doc, &flat);
        fuzz_require(yamldoc_unflatten(flat.data, flat.len, size, "f.yaml", &back) == 0,
                     "its own flat form refused");
        fuzz_require(back.n_roots == doc.n_roots, "%zu roots back of %zu", back.n_roots,
                     doc.n_roots);
        for (size_t r = 0; r < doc.n_roots; r++)
            fuzz_require(same(doc.roots[r], back.roots[r]), "document %zu differs", r);
        yamldoc_free(&back);
        strbuf_free(&flat);
        yamldoc_free(&doc);
    }
    if (yamldoc_unflatten(text, size, 4096, "f.yaml", &back) == 0) {
        for (size_t r = 0; r < back.n_roots; r++)
            (void)walk(back.roots[r]);
        yamldoc_free(&back);
    }
    free(text);
    return 0;
}
