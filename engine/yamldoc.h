/* yamldoc: a small read-only tree over libyaml, with each node's byte span in the source so that
 * an edit can splice exactly the bytes of one scalar (see manifest/yamledit). Used for
 * tagpilot.yaml, registries.conf, Application manifests, charts, kustomizations and themes. */
#ifndef TP_YAMLDOC_H
#define TP_YAMLDOC_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

typedef enum ynode_kind {
    YNODE_SCALAR,
    YNODE_MAP, /* children alternate key, value */
    YNODE_SEQ,
    YNODE_ALIAS /* *name: target points at the anchored node */
} ynode_kind;

typedef enum ynode_style {
    YSTYLE_PLAIN,
    YSTYLE_SINGLE,
    YSTYLE_DOUBLE,
    YSTYLE_LITERAL,
    YSTYLE_FOLDED,
    YSTYLE_FLOW,  /* flow collection: [a, b] or {a: b} */
    YSTYLE_BLOCK, /* block collection */
} ynode_style;

typedef struct ynode ynode;
struct ynode {
    ynode_kind kind;
    ynode_style style;
    char *value;         /* scalar text after unquoting; NULL for collections */
    size_t value_len;    /* bytes in value (may contain NUL) */
    char *anchor;        /* &name, or NULL */
    const ynode *target; /* for YNODE_ALIAS; not owned */
    size_t start, end;   /* byte span in the source, end exclusive (quotes included) */
    size_t line, column; /* 1-based position of start */
    ynode **children;
    size_t n_children;
};

/* All documents of one file (multi-document YAML). Its nodes, their texts and child arrays live
 * in the document's own blocks (a thousand Applications were 200,000 mallocs and frees), all
 * freed by yamldoc_free. */
typedef struct ydoc {
    ynode **roots; /* one per document; NULL for an empty document */
    size_t n_roots;
    char *name; /* file name for messages (owned) */
    struct ydoc_block *blocks;
} ydoc;

/* Parse buf (UTF-8). On a syntax error returns -1 with "FILE:LINE:COL: <problem>" in err. */
int yamldoc_parse(const char *buf, size_t len, const char *name, ydoc *out, tp_err *err);
/* Read and parse a file. */
int yamldoc_load(const char *path, ydoc *out, tp_err *err);
void yamldoc_free(ydoc *doc);

/* A parsed document as flat bytes, and back: how yamlcache keeps documents between runs.
 * yamldoc_flatten appends doc's flat form to out. yamldoc_unflatten builds *out (named name)
 * from len bytes of flat form, for a source of src_len bytes; it checks everything it reads (a
 * cache file is not to be trusted further than that) and returns -1, *out empty, for bytes that
 * are not a document yamldoc_parse could have made: a node kind or span out of range, a child
 * before its parent or an alias after its target (no loop through children), nesting past the
 * parser's depth. */
void yamldoc_flatten(const ydoc *doc, strbuf *out);
/* The parser build a flat form is good for: libyaml's version and when yamldoc.c was compiled
 * (any rebuild may change what it makes). A flat form is only read back by the build that wrote
 * it. */
const char *yamldoc_build(void);
int yamldoc_unflatten(const void *flat, size_t len, size_t src_len, const char *name, ydoc *out);

/* Follow aliases. */
const ynode *ynode_deref(const ynode *n);
/* Value for key in a map (following aliases and "<<" merge keys), or NULL. */
const ynode *ynode_get(const ynode *map, const char *key);
/* Scalar text, or NULL when n is not a scalar. */
const char *ynode_str(const ynode *n);
/* True for a plain null scalar ("", "~", "null"). */
bool ynode_is_null(const ynode *n);
/* Walk a dotted path with indexes: "spec.source.helm.parameters", "api.images[1].tag".
 * Returns NULL when any step is missing. */
const ynode *ynode_path(const ynode *root, const char *path);
/* The key node of `key` in a map (for messages that name a line), or NULL. */
const ynode *ynode_key(const ynode *map, const char *key);

#endif
