#include "yamldoc.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
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

/* ---- the flat form ----
 * 32-bit words in the host's order, then the texts:
 *   FLAT_MAGIC, n_nodes, n_roots, n_refs, text_len,
 *   roots[n_roots]                  node index, or FLAT_NONE for an empty document
 *   nodes[n_nodes] × FLAT_WORDS     kind, style, value offset and length (FLAT_NONE: no value),
 *                                   anchor offset and length (FLAT_NONE: none), alias target,
 *                                   start, end, line, column, first child ref, children
 *   refs[n_refs]                    the children, by node index
 *   text[text_len]                  every value and anchor, each followed by a NUL
 * Nodes are numbered in document order (a parent before its children, a target before its
 * aliases), which is what unflatten checks. */
#define FLAT_MAGIC 0x31464459u /* "YDF1" */
#define FLAT_NONE  0xFFFFFFFFu
#define FLAT_HEAD  5
#define FLAT_WORDS 13

typedef struct flat_index {
    const ynode *node;
    uint32_t index;
} flat_index;

typedef struct flattener {
    const ynode **nodes; /* in document order */
    size_t n, cap;
} flattener;

static void flat_number(flattener *f, const ynode *n)
{
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 64;
        f->nodes = xrealloc(f->nodes, f->cap * sizeof *f->nodes);
    }
    f->nodes[f->n++] = n;
    for (size_t i = 0; i < n->n_children; i++)
        flat_number(f, n->children[i]); /* at most the parser's depth */
}

static int flat_index_cmp(const void *a, const void *b)
{
    const flat_index *x = a, *y = b;
    return x->node < y->node ? -1 : x->node > y->node;
}

static void put_word(strbuf *out, uint32_t w)
{
    strbuf_append(out, (const char *)&w, sizeof w);
}

void yamldoc_flatten(const ydoc *doc, strbuf *out)
{
    flattener f = {0};
    uint32_t *roots = xmalloc((doc->n_roots ? doc->n_roots : 1) * sizeof *roots);
    for (size_t r = 0; r < doc->n_roots; r++) {
        roots[r] = doc->roots[r] ? (uint32_t)f.n : FLAT_NONE;
        if (doc->roots[r])
            flat_number(&f, doc->roots[r]);
    }
    flat_index *by_node = xmalloc((f.n ? f.n : 1) * sizeof *by_node);
    for (size_t i = 0; i < f.n; i++)
        by_node[i] = (flat_index){f.nodes[i], (uint32_t)i};
    qsort(by_node, f.n, sizeof *by_node, flat_index_cmp);
    size_t n_refs = 0, text_len = 0;
    for (size_t i = 0; i < f.n; i++) {
        n_refs += f.nodes[i]->n_children;
        text_len += f.nodes[i]->value ? f.nodes[i]->value_len + 1 : 0;
        text_len += f.nodes[i]->anchor ? strlen(f.nodes[i]->anchor) + 1 : 0;
    }
    put_word(out, FLAT_MAGIC);
    put_word(out, (uint32_t)f.n);
    put_word(out, (uint32_t)doc->n_roots);
    put_word(out, (uint32_t)n_refs);
    put_word(out, (uint32_t)text_len);
    for (size_t r = 0; r < doc->n_roots; r++)
        put_word(out, roots[r]);
    uint32_t text_at = 0, ref_at = 0;
    for (size_t i = 0; i < f.n; i++) {
        const ynode *n = f.nodes[i];
        uint32_t target = FLAT_NONE;
        if (n->target) {
            flat_index key = {n->target, 0};
            const flat_index *hit = bsearch(&key, by_node, f.n, sizeof *by_node, flat_index_cmp);
            target = hit ? hit->index : FLAT_NONE;
        }
        size_t anchor_len = n->anchor ? strlen(n->anchor) : 0;
        uint32_t w[FLAT_WORDS] = {(uint32_t)n->kind,
                                  (uint32_t)n->style,
                                  n->value ? text_at : FLAT_NONE,
                                  n->value ? (uint32_t)n->value_len : 0,
                                  n->anchor ? text_at + (n->value ? (uint32_t)n->value_len + 1 : 0)
                                            : FLAT_NONE,
                                  (uint32_t)anchor_len,
                                  target,
                                  (uint32_t)n->start,
                                  (uint32_t)n->end,
                                  (uint32_t)n->line,
                                  (uint32_t)n->column,
                                  ref_at,
                                  (uint32_t)n->n_children};
        for (size_t k = 0; k < FLAT_WORDS; k++)
            put_word(out, w[k]);
        text_at += n->value ? (uint32_t)n->value_len + 1 : 0;
        text_at += n->anchor ? (uint32_t)anchor_len + 1 : 0;
        ref_at += (uint32_t)n->n_children;
    }
    for (size_t i = 0; i < f.n; i++)
        for (size_t c = 0; c < f.nodes[i]->n_children; c++) {
            flat_index key = {f.nodes[i]->children[c], 0};
            const flat_index *hit = bsearch(&key, by_node, f.n, sizeof *by_node, flat_index_cmp);
            put_word(out, hit ? hit->index : FLAT_NONE);
        }
    for (size_t i = 0; i < f.n; i++) {
        const ynode *n = f.nodes[i];
        if (n->value)
            strbuf_append(out, n->value, n->value_len + 1);
        if (n->anchor)
            strbuf_append(out, n->anchor, strlen(n->anchor) + 1);
    }
    free(roots);
    free(by_node);
    free(f.nodes);
}

static char build_id[128];
static pthread_once_t build_once = PTHREAD_ONCE_INIT;

static void make_build_id(void)
{
    snprintf(build_id, sizeof build_id, "yamldoc %s %s, libyaml %s", __DATE__, __TIME__,
             yaml_get_version_string());
}

const char *yamldoc_build(void)
{
    pthread_once(&build_once, make_build_id);
    return build_id;
}

static uint32_t get_word(const unsigned char *p, size_t i)
{
    uint32_t w;
    memcpy(&w, p + i * sizeof w, sizeof w);
    return w;
}

/* A text of len bytes at off in text[0..text_len), NUL after it; anchors have no NUL inside. */
static bool flat_text_ok(const char *text, size_t text_len, uint32_t off, uint32_t len,
                         bool c_string)
{
    if ((size_t)off > text_len || (size_t)len >= text_len - off || text[off + len] != '\0')
        return false;
    return !c_string || memchr(text + off, '\0', len) == NULL;
}

int yamldoc_unflatten(const void *flat, size_t len, size_t src_len, const char *name, ydoc *out)
{
    *out = (ydoc){0};
    const unsigned char *p = flat;
    size_t words = len / sizeof(uint32_t);
    if (words < FLAT_HEAD || get_word(p, 0) != FLAT_MAGIC)
        return -1;
    size_t n_nodes = get_word(p, 1), n_roots = get_word(p, 2), n_refs = get_word(p, 3),
           text_len = get_word(p, 4);
    /* every count is below 2^32, so these sums cannot wrap a 64-bit size_t */
    size_t nodes_at = FLAT_HEAD + n_roots, refs_at = nodes_at + n_nodes * FLAT_WORDS,
           text_at = (refs_at + n_refs) * sizeof(uint32_t);
    if (text_at > len || len - text_at != text_len)
        return -1;
    const char *text = (const char *)p + text_at;
    /* check everything before building anything */
    uint16_t *depth = xcalloc(n_nodes ? n_nodes : 1, sizeof *depth);
    bool ok = true;
    for (size_t r = 0; ok && r < n_roots; r++) {
        uint32_t root = get_word(p, FLAT_HEAD + r);
        ok = root == FLAT_NONE || root < n_nodes;
    }
    for (size_t i = 0; ok && i < n_nodes; i++) {
        const size_t w = nodes_at + i * FLAT_WORDS;
        uint32_t kind = get_word(p, w), style = get_word(p, w + 1), value = get_word(p, w + 2),
                 value_len = get_word(p, w + 3), anchor = get_word(p, w + 4),
                 anchor_len = get_word(p, w + 5), target = get_word(p, w + 6),
                 start = get_word(p, w + 7), end = get_word(p, w + 8), line = get_word(p, w + 9),
                 column = get_word(p, w + 10), first = get_word(p, w + 11),
                 n_children = get_word(p, w + 12);
        ok = kind <= YNODE_ALIAS && style <= YSTYLE_BLOCK && start <= end && end <= src_len &&
             line >= 1 && column >= 1 && (value != FLAT_NONE) == (kind == YNODE_SCALAR) &&
             (value == FLAT_NONE || flat_text_ok(text, text_len, value, value_len, false)) &&
             (anchor == FLAT_NONE || flat_text_ok(text, text_len, anchor, anchor_len, true)) &&
             (kind == YNODE_ALIAS
                  ? target < i && get_word(p, nodes_at + target * FLAT_WORDS) != YNODE_ALIAS
                  : target == FLAT_NONE) &&
             (n_children == 0 || kind == YNODE_MAP || kind == YNODE_SEQ) &&
             (size_t)first <= n_refs && (size_t)n_children <= n_refs - first;
        for (size_t c = 0; ok && c < n_children; c++) {
            uint32_t child = get_word(p, refs_at + first + c);
            ok = child > i && child < n_nodes && depth[i] < YAMLDOC_MAX_DEPTH;
            if (ok && depth[child] < depth[i] + 1)
                depth[child] = (uint16_t)(depth[i] + 1);
        }
    }
    free(depth);
    if (!ok)
        return -1;
    out->name = xstrdup(name ? name : "<yaml>");
    builder bd = {.doc = out};
    bd.first_block =
        n_nodes * sizeof(ynode) + n_refs * sizeof(ynode *) + text_len + 3 * _Alignof(max_align_t);
    ynode *nodes = n_nodes ? doc_alloc(&bd, n_nodes * sizeof *nodes) : NULL;
    ynode **refs = n_refs ? doc_alloc(&bd, n_refs * sizeof *refs) : NULL;
    char *texts = text_len ? doc_alloc(&bd, text_len) : NULL;
    if (text_len)
        memcpy(texts, text, text_len);
    for (size_t i = 0; i < n_refs; i++)
        refs[i] = &nodes[get_word(p, refs_at + i)];
    for (size_t i = 0; i < n_nodes; i++) {
        const size_t w = nodes_at + i * FLAT_WORDS;
        uint32_t value = get_word(p, w + 2), anchor = get_word(p, w + 4),
                 target = get_word(p, w + 6), n_children = get_word(p, w + 12);
        nodes[i] = (ynode){
            .kind = (ynode_kind)get_word(p, w),
            .style = (ynode_style)get_word(p, w + 1),
            .value = value == FLAT_NONE ? NULL : texts + value,
            .value_len = value == FLAT_NONE ? 0 : get_word(p, w + 3),
            .anchor = anchor == FLAT_NONE ? NULL : texts + anchor,
            .target = target == FLAT_NONE ? NULL : &nodes[target],
            .start = get_word(p, w + 7),
            .end = get_word(p, w + 8),
            .line = get_word(p, w + 9),
            .column = get_word(p, w + 10),
            .children = n_children ? refs + get_word(p, w + 11) : NULL,
            .n_children = n_children,
        };
    }
    out->n_roots = n_roots;
    out->roots = n_roots ? xmalloc(n_roots * sizeof *out->roots) : NULL;
    for (size_t r = 0; r < n_roots; r++) {
        uint32_t root = get_word(p, FLAT_HEAD + r);
        out->roots[r] = root == FLAT_NONE ? NULL : &nodes[root];
    }
    return 0;
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
