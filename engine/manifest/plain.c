#include "plain.h"

#include <string.h>

#include "manifest.h"

static int walk(const ynode *n, const imageref *ref, plain_visit_fn fn, void *ctx, int depth)
{
    /* Aliases are not followed: the bytes to edit are where the text is written. */
    if (!n || depth > 64 || n->kind == YNODE_ALIAS)
        return 0;
    if (n->kind == YNODE_MAP) {
        for (size_t i = 0; i + 1 < n->n_children; i += 2) {
            const ynode *k = n->children[i], *v = n->children[i + 1];
            if (k->kind == YNODE_SCALAR && strcmp(k->value, "image") == 0 &&
                v->kind == YNODE_SCALAR && manifest_image_matches(v->value, ref)) {
                int rc = fn(v, ctx);
                if (rc)
                    return rc;
            } else {
                int rc = walk(v, ref, fn, ctx, depth + 1);
                if (rc)
                    return rc;
            }
        }
    } else if (n->kind == YNODE_SEQ) {
        for (size_t i = 0; i < n->n_children; i++) {
            int rc = walk(n->children[i], ref, fn, ctx, depth + 1);
            if (rc)
                return rc;
        }
    }
    return 0;
}

int plain_walk(const ynode *root, const imageref *ref, plain_visit_fn fn, void *ctx)
{
    if (!root || !ynode_get(root, "kind") || !ynode_get(root, "apiVersion"))
        return 0;
    const char *kind = ynode_str(ynode_get(root, "kind"));
    if (str_eq(kind, "Application") || str_eq(kind, "Kustomization"))
        return 0;
    return walk(root, ref, fn, ctx, 0);
}
