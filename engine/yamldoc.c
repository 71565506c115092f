#include "yamldoc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* libyaml marks count characters (a CRLF counts two), not bytes; this cursor turns a
 * character index into a byte offset by walking the UTF-8 source, mostly forward. */
typedef struct mark_cursor {
    const unsigned char *buf;
    size_t len;
    size_t chars; /* character index at byte `bytes` */
    size_t bytes;
    bool ascii; /* every byte below 0x80: a character index is a byte offset */
} mark_cursor;

static bool utf8_continuation(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

static bool all_ascii(const unsigned char *buf, size_t len)
{
    unsigned char any = 0;
    for (size_t i = 0; i < len; i++)
        any |= buf[i];
    return any < 0x80;
}

static size_t mark_to_byte(mark_cursor *cur, size_t index)
{
    if (cur->ascii) /* most manifests: no walk (it was a tenth of parsing one) */
        return index < cur->len ? index : cur->len;
    while (cur->chars < index && cur->bytes < cur->len) {
        cur->bytes++;
        while (cur->bytes < cur->len && utf8_continuation(cur->buf[cur->bytes]))
            cur->bytes++;
        cur->chars++;
    }
    while (cur->chars > index && cur->bytes > 0) {
        cur->bytes--;
        while (cur->bytes > 0 && utf8_continuation(cur->buf[cur->bytes]))
            cur->bytes--;
        cur->chars--;
    }
    return cur->bytes;
}

typedef struct anchor_entry {
    const char *name;
    const ynode *node;
} anchor_entry;

/* Deeper nesting is refused: the tree is walked by its readers recursively, and a
 * hostile file of a few hundred kilobytes of '[' would otherwise overflow the stack. */
#define YAMLDOC_MAX_DEPTH 256

/* The document's memory: blocks that only grow, freed together. */
struct ydoc_block {
    struct ydoc_block *next;
    size_t used, cap;
    _Alignas(max_align_t) unsigned char data[];
};

typedef struct builder {
    ydoc *doc;
    size_t first_block; /* the first block's size, from the source's: most files need one */
    mark_cursor cursor;
    ynode **stack; /* open collections */
    size_t depth, stack_cap;
    anchor_entry *anchors;
    size_t n_anchors, anchors_cap;
} builder;

#define YDOC_BLOCK_MIN 1024
#define YDOC_BLOCK_MAX (64 * 1024)

static void *doc_alloc(builder *bd, size_t n)
{
    n = (n + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1);
    ydoc *doc = bd->doc;
    struct ydoc_block *b = doc->blocks;
    if (!b || b->cap - b->used < n) {
        /* the first as sized, then each twice the last (up to 64 KiB), or what one item needs */
        size_t cap = !b ? bd->first_block : b->cap < YDOC_BLOCK_MAX ? b->cap * 2 : YDOC_BLOCK_MAX;
        if (cap > YDOC_BLOCK_MAX)
            cap = YDOC_BLOCK_MAX;
        if (cap < n)
            cap = n;
        struct ydoc_block *fresh = xmalloc(sizeof *fresh + cap);
        *fresh = (struct ydoc_block){.next = b, .used = 0, .cap = cap};
        doc->blocks = b = fresh;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

static char *doc_strndup(builder *bd, const char *s, size_t n)
{
    char *p = doc_alloc(bd, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static ynode *node_new(builder *b, ynode_kind kind, yaml_mark_t start, yaml_mark_t end,
                       const yaml_char_t *anchor)
{
    ynode *n = doc_alloc(b, sizeof *n);
    *n = (ynode){0};
    n->kind = kind;
    n->start = mark_to_byte(&b->cursor, start.index);
    n->end = mark_to_byte(&b->cursor, end.index);
    n->line = start.line + 1;
    n->column = start.column + 1;
    if (anchor) {
        n->anchor = doc_strndup(b, (const char *)anchor, strlen((const char *)anchor));
        if (b->n_anchors == b->anchors_cap) {
            b->anchors_cap = b->anchors_cap ? b->anchors_cap * 2 : 8;
            b->anchors = xrealloc(b->anchors, b->anchors_cap * sizeof *b->anchors);
        }
        /* Later anchors with the same name shadow earlier ones, as YAML says. */
        b->anchors[b->n_anchors++] = (anchor_entry){n->anchor, n};
    }
    return n;
}

static void node_add_child(builder *b, ynode *parent, ynode *child)
{
    size_t n = parent->n_children;
    if (n >= 4 && (n & (n - 1)) == 0) { /* full at 4, 8, 16 …: a new array twice the size */
        ynode **grown = doc_alloc(b, n * 2 * sizeof *grown);
        memcpy(grown, parent->children, n * sizeof *grown);
        parent->children = grown;
    } else if (n == 0) {
        parent->children = doc_alloc(b, 4 * sizeof *parent->children);
    }
    parent->children[parent->n_children++] = child;
}

static const ynode *anchor_find(const builder *b, const char *name)
{
    for (size_t i = b->n_anchors; i-- > 0;)
        if (strcmp(b->anchors[i].name, name) == 0)
            return b->anchors[i].node;
    return NULL;
}

static void push_open(builder *b, ynode *n)
{
    if (b->depth == b->stack_cap) {
        b->stack_cap = b->stack_cap ? b->stack_cap * 2 : 16;
        b->stack = xrealloc(b->stack, b->stack_cap * sizeof *b->stack);
    }
    b->stack[b->depth++] = n;
}

static ynode_style scalar_style(yaml_scalar_style_t s)
{
    switch (s) {
    case YAML_SINGLE_QUOTED_SCALAR_STYLE:
        return YSTYLE_SINGLE;
    case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
        return YSTYLE_DOUBLE;
    case YAML_LITERAL_SCALAR_STYLE:
        return YSTYLE_LITERAL;
    case YAML_FOLDED_SCALAR_STYLE:
        return YSTYLE_FOLDED;
    default:
        return YSTYLE_PLAIN;
    }
}

/* Attach a finished node to the open collection, or make it the document root. */
static void attach(builder *b, ydoc *doc, ynode *n)
{
    if (b->depth)
        node_add_child(b, b->stack[b->depth - 1], n);
    else
        doc->roots[doc->n_roots - 1] = n;
}

static int handle_event(builder *b, ydoc *doc, yaml_event_t *ev, tp_err *err)
{
    ynode *n;
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        doc->roots = xrealloc(doc->roots, (doc->n_roots + 1) * sizeof *doc->roots);
        doc->roots[doc->n_roots++] = NULL;
        b->n_anchors = 0; /* anchors do not cross documents */
        break;
    case YAML_SCALAR_EVENT:
        n = node_new(b, YNODE_SCALAR, ev->start_mark, ev->end_mark, ev->data.scalar.anchor);
        n->style = scalar_style(ev->data.scalar.style);
        n->value = doc_strndup(b, (const char *)ev->data.scalar.value, ev->data.scalar.length);
        n->value_len = ev->data.scalar.length;
        attach(b, doc, n);
        break;
    case YAML_ALIAS_EVENT:
        n = node_new(b, YNODE_ALIAS, ev->start_mark, ev->end_mark, NULL);
        n->target = anchor_find(b, (const char *)ev->data.alias.anchor);
        if (!n->target) {
            int line = (int)n->line, col = (int)n->column;
            return tp_err_set(err, "%s:%d:%d: unknown alias '*%s'", doc->name, line, col,
                              (const char *)ev->data.alias.anchor);
        }
        attach(b, doc, n);
        break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        bool seq = ev->type == YAML_SEQUENCE_START_EVENT;
        if (b->depth >= YAMLDOC_MAX_DEPTH)
            return tp_err_set(err, "%s:%zu:%zu: nested deeper than %d levels", doc->name,
                              ev->start_mark.line + 1, ev->start_mark.column + 1,
                              YAMLDOC_MAX_DEPTH);
        const yaml_char_t *anchor =
            seq ? ev->data.sequence_start.anchor : ev->data.mapping_start.anchor;
        n = node_new(b, seq ? YNODE_SEQ : YNODE_MAP, ev->start_mark, ev->end_mark, anchor);
        bool flow = seq ? ev->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE
                        : ev->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE;
        n->style = flow ? YSTYLE_FLOW : YSTYLE_BLOCK;
        attach(b, doc, n);
        push_open(b, n);
        break;
    }
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        n = b->stack[--b->depth];
        n->end = mark_to_byte(&b->cursor, ev->end_mark.index);
        break;
    default:
        break;
    }
    return 0;
}

int yamldoc_parse(const char *buf, size_t len, const char *name, ydoc *out, tp_err *err)
{
    *out = (ydoc){0};
    out->name = xstrdup(name ? name : "<yaml>");
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return tp_err_set(err, "%s: cannot start the YAML parser", out->name);
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
    /* An Application of 700 bytes becomes ~6.4 KB of nodes, texts and child arrays */
    size_t first = len < YDOC_BLOCK_MAX / 12 ? len * 12 : YDOC_BLOCK_MAX;
    builder b = {.doc = out,
                 .first_block = first < YDOC_BLOCK_MIN ? YDOC_BLOCK_MIN : first,
                 .cursor = {(const unsigned char *)buf, len, 0, 0,
                            all_ascii((const unsigned char *)buf, len)}};
    int rc = 0;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            rc = tp_err_set(err, "%s:%zu:%zu: %s%s%s", out->name, parser.problem_mark.line + 1,
                            parser.problem_mark.column + 1,
                            parser.problem ? parser.problem : "invalid YAML",
                            parser.context ? " " : "", parser.context ? parser.context : "");
            break;
        }
        bool done = ev.type == YAML_STREAM_END_EVENT;
        rc = handle_event(&b, out, &ev, err);
        yaml_event_delete(&ev);
        if (done || rc)
            break;
    }
    yaml_parser_delete(&parser);
    /* On error, nodes still open are already attached to their parents or a root. */
    free(b.stack);
    free(b.anchors);
    if (rc)
        yamldoc_free(out);
    return rc;
}

int yamldoc_load(const char *path, ydoc *out, tp_err *err)
{
    *out = (ydoc){0};
    strbuf sb = {0};
    int rc = file_read_all(path, NULL, &sb, err);
    if (rc == 0)
        rc = yamldoc_parse(sb.data, sb.len, path, out, err);
    strbuf_free(&sb);
    return rc;
}

void yamldoc_free(ydoc *doc)
{
    while (doc->blocks) {
        struct ydoc_block *next = doc->blocks->next;
        free(doc->blocks);
        doc->blocks = next;
    }
    free(doc->roots);
    free(doc->name);
    *doc = (ydoc){0};
}

const ynode *ynode_deref(const ynode *n)
{
    /* An alias always points at a node that was complete before it, so this ends. */
    while (n && n->kind == YNODE_ALIAS)
        n = n->target;
    return n;
}

const ynode *ynode_key(const ynode *map, const char *key)
{
    map = ynode_deref(map);
    if (!map || map->kind != YNODE_MAP)
        return NULL;
    for (size_t i = 0; i + 1 < map->n_children; i += 2) {
        const ynode *k = ynode_deref(map->children[i]);
        if (k && k->kind == YNODE_SCALAR && strcmp(k->value, key) == 0)
            return map->children[i];
    }
    return NULL;
}

/* budget: maps a lookup may still visit. Merge keys can name the map they are in, several times
 * ("&a {<<: [*a, *a, *a]}"): without a bound on the visits, not just the depth, one lookup would
 * take exponential time. */
static const ynode *map_get(const ynode *map, const char *key, int depth, unsigned *budget)
{
    map = ynode_deref(map);
    if (!map || map->kind != YNODE_MAP || depth > 16 || *budget == 0)
        return NULL;
    (*budget)--;
    const ynode *merge = NULL;
    for (size_t i = 0; i + 1 < map->n_children; i += 2) {
        const ynode *k = ynode_deref(map->children[i]);
        if (!k || k->kind != YNODE_SCALAR)
            continue;
        if (strcmp(k->value, key) == 0)
            return map->children[i + 1];
        if (k->style == YSTYLE_PLAIN && strcmp(k->value, "<<") == 0)
            merge = ynode_deref(map->children[i + 1]);
    }
    /* "<<: *base" merge keys: a map or a list of maps, earlier ones win. */
    if (merge && merge->kind == YNODE_MAP)
        return map_get(merge, key, depth + 1, budget);
    if (merge && merge->kind == YNODE_SEQ)
        for (size_t i = 0; i < merge->n_children; i++) {
            const ynode *v = map_get(merge->children[i], key, depth + 1, budget);
            if (v)
                return v;
        }
    return NULL;
}

const ynode *ynode_get(const ynode *map, const char *key)
{
    unsigned budget = 1024;
    return map_get(map, key, 0, &budget);
}

const char *ynode_str(const ynode *n)
{
    n = ynode_deref(n);
    return n && n->kind == YNODE_SCALAR ? n->value : NULL;
}

bool ynode_is_null(const ynode *n)
{
    n = ynode_deref(n);
    if (!n || n->kind != YNODE_SCALAR || n->style != YSTYLE_PLAIN)
        return false;
    return n->value[0] == '\0' || strcmp(n->value, "~") == 0 || strcmp(n->value, "null") == 0 ||
           strcmp(n->value, "Null") == 0 || strcmp(n->value, "NULL") == 0;
}

const ynode *ynode_path(const ynode *root, const char *path)
{
    const ynode *n = root;
    const char *p = path;
    char key[256];
    while (n && *p) {
        if (*p == '[') {
            char *endp;
            unsigned long idx = strtoul(p + 1, &endp, 10);
            if (endp == p + 1 || *endp != ']')
                return NULL;
            n = ynode_deref(n);
            if (!n || n->kind != YNODE_SEQ || idx >= n->n_children)
                return NULL;
            n = n->children[idx];
            p = endp + 1;
            if (*p == '.')
                p++;
            continue;
        }
        size_t len = strcspn(p, ".[");
        if (len == 0 || len >= sizeof key)
            return NULL;
        memcpy(key, p, len);
        key[len] = '\0';
        n = ynode_get(n, key);
        p += len;
        if (*p == '.')
            p++;
    }
    return n;
}
