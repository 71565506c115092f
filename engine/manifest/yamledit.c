#include "yamledit.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static bool is_ci(const char *a, const char *b)
{
    return strcasecmp(a, b) == 0;
}

/* Numbers in YAML 1.1 (what Helm's parser follows) and 1.2: ints in any base, floats, .inf. */
static bool looks_numeric(const char *v)
{
    const char *p = v;
    if (*p == '+' || *p == '-')
        p++;
    if (!*p)
        return false;
    if (is_ci(p, ".inf") || is_ci(p, ".nan"))
        return true;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'o' || p[1] == 'b') && p[2])
        return true;
    bool digit = false, other = false;
    for (const char *q = p; *q; q++) {
        if (isdigit((unsigned char)*q))
            digit = true;
        else if (*q != '_' && *q != '.' && *q != 'e' && *q != 'E' && *q != '+' && *q != '-' &&
                 *q != ':')
            other = true;
    }
    if (!digit || other)
        return false;
    /* "1.5.2" is text; "1.10", "1e3", "1_000", "1:20" are numbers. */
    char *clean = xstrdup(p);
    size_t w = 0;
    for (size_t r = 0; clean[r]; r++)
        if (clean[r] != '_')
            clean[w++] = clean[r];
    clean[w] = '\0';
    char *end;
    errno = 0;
    (void)strtod(clean, &end);
    bool whole = *end == '\0';
    if (!whole && strchr(clean, ':')) { /* sexagesimal 1:20:30 */
        whole = true;
        for (const char *q = clean; *q; q++)
            if (!isdigit((unsigned char)*q) && *q != ':' && *q != '.')
                whole = false;
    }
    free(clean);
    return whole;
}

/* The code point of the valid n-byte UTF-8 sequence at s. */
static uint32_t code_point(const unsigned char *s, size_t n)
{
    static const unsigned char lead_bits[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
    uint32_t cp = s[0] & lead_bits[n];
    for (size_t i = 1; i < n; i++)
        cp = (cp << 6) | (s[i] & 0x3F);
    return cp;
}

/* Does libyaml read this character, written as itself inside quotes, as itself? Not the C0 and
 * C1 controls or DEL (its reader refuses them), not NEL, LS and PS (line breaks: they fold to a
 * space), not the BOM or U+FFFE/U+FFFF. Those need an escape in double quotes. */
static bool yaml_literal(uint32_t cp)
{
    if (cp < 0x80)
        return cp >= 0x20 && cp != 0x7F;
    return cp >= 0xA0 && cp != 0x2028 && cp != 0x2029 && cp != 0xFEFF && cp != 0xFFFE &&
           cp != 0xFFFF;
}

/* Valid UTF-8 made of yaml_literal characters only. */
static bool all_literal(const char *v)
{
    for (const unsigned char *p = (const unsigned char *)v; *p;) {
        size_t n = utf8_sequence_length(p);
        if (!n || !yaml_literal(code_point(p, n)))
            return false;
        p += n;
    }
    return true;
}

static bool utf8_valid(const char *v)
{
    for (const unsigned char *p = (const unsigned char *)v; *p;) {
        size_t n = utf8_sequence_length(p);
        if (!n)
            return false;
        p += n;
    }
    return true;
}

/* Would a plain scalar end early or mean something else to the parser (not the type)? */
static bool plain_breaks_syntax(const char *v, bool in_flow)
{
    if (!*v)
        return true;
    if (strchr("-?:,[]{}#&*!|>'\"%@`", v[0]) || isspace((unsigned char)v[0]))
        return true;
    size_t n = strlen(v);
    if (isspace((unsigned char)v[n - 1]) || v[n - 1] == ':')
        return true;
    if (strstr(v, ": ") || strstr(v, " #") || strpbrk(v, "\n\r\t"))
        return true;
    /* in flow context libyaml also refuses ':' before '?' ("a:?b") */
    if (in_flow && (strpbrk(v, ",[]{}") || strstr(v, ":?")))
        return true;
    return !all_literal(v);
}

bool yamledit_needs_quotes(const char *v, bool in_flow)
{
    static const char *const words[] = {"null", "~",  "true", "false", "yes",
                                        "no",   "on", "off",  "y",     "n"};
    if (plain_breaks_syntax(v, in_flow))
        return true;
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (is_ci(v, words[i]))
            return true;
    return looks_numeric(v);
}

/* Double-quoted, with an escape for every character YAML would not read back as itself. A byte
 * that is not valid UTF-8 has no escape of its own: it is written as \xNN, which reads back as
 * U+00NN (yamledit_scalar refuses such values). */
static void render_double(strbuf *sb, const char *v)
{
    strbuf_putc(sb, '"');
    for (const unsigned char *p = (const unsigned char *)v; *p;) {
        size_t n = utf8_sequence_length(p);
        uint32_t c = n ? code_point(p, n) : *p;
        if (c == '"' || c == '\\') {
            strbuf_putc(sb, '\\');
            strbuf_putc(sb, (char)c);
        } else if (c == '\n') {
            strbuf_puts(sb, "\\n");
        } else if (c == '\t') {
            strbuf_puts(sb, "\\t");
        } else if (n && yaml_literal(c)) {
            strbuf_append(sb, (const char *)p, n);
        } else if (c <= 0xFF) {
            strbuf_printf(sb, "\\x%02x", (unsigned)c);
        } else {
            strbuf_printf(sb, "\\u%04x", (unsigned)c);
        }
        p += n ? n : 1;
    }
    strbuf_putc(sb, '"');
}

static char *render(const char *value, ynode_style style, bool in_flow)
{
    strbuf sb = {0};
    if (style == YSTYLE_SINGLE && all_literal(value)) {
        strbuf_putc(&sb, '\'');
        for (const char *p = value; *p; p++) {
            if (*p == '\'')
                strbuf_putc(&sb, '\'');
            strbuf_putc(&sb, *p);
        }
        strbuf_putc(&sb, '\'');
    } else if (style == YSTYLE_DOUBLE || yamledit_needs_quotes(value, in_flow)) {
        render_double(&sb, value);
    } else {
        strbuf_puts(&sb, value);
    }
    return strbuf_take(&sb);
}

/* An edit in place may sit inside a flow collection: quote as if it did. */
char *yamledit_render(const char *value, ynode_style style)
{
    return render(value, style, true);
}

char *yamledit_render_block(const char *value)
{
    return render(value, YSTYLE_PLAIN, false);
}

/* Skip the "&anchor" (the node's own, whose name ends it: "&a:x" is the anchor "a" and the text
 * ":x") and "!tag" (which a blank must end) properties written before a node's text. */
static size_t skip_properties(const char *buf, size_t pos, size_t end, const char *anchor)
{
    for (;;) {
        if (pos < end && buf[pos] == '&' && anchor) {
            size_t n = 1 + strlen(anchor);
            pos = n < end - pos ? pos + n : end;
            anchor = NULL;
        } else if (pos < end && buf[pos] == '!') {
            while (pos < end && !isspace((unsigned char)buf[pos]))
                pos++;
        } else {
            return pos;
        }
        while (pos < end && isspace((unsigned char)buf[pos]))
            pos++;
    }
}

/* Is the empty value at pos written after "key:" or a "-" item? An implicit one ("{a}",
 * "? a", "? a-") has no place for text: writing there would change the key. */
static bool after_indicator(const char *buf, size_t pos)
{
    while (pos > 0 && (buf[pos - 1] == ' ' || buf[pos - 1] == '\t'))
        pos--;
    if (pos > 0 && buf[pos - 1] == ':')
        return true;
    /* a '-' that starts an item, not one that ends a key */
    return pos > 0 && buf[pos - 1] == '-' && (pos == 1 || isspace((unsigned char)buf[pos - 2]));
}

/* Every node of a parse, pre-order, documents in order (an empty document as NULL). */
typedef struct node_list {
    const ynode **items;
    size_t count, cap;
} node_list;

static void node_list_add(node_list *l, const ynode *n)
{
    if (l->count == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->items = xrealloc(l->items, l->cap * sizeof *l->items);
    }
    l->items[l->count++] = n;
    for (size_t i = 0; n && i < n->n_children; i++)
        node_list_add(l, n->children[i]);
}

static void node_list_of(node_list *l, const ydoc *doc)
{
    for (size_t i = 0; i < doc->n_roots; i++)
        node_list_add(l, doc->roots[i]);
}

static bool same_node(const ynode *a, const ynode *b)
{
    if (!a || !b)
        return a == b;
    return a->kind == b->kind && a->style == b->style && a->n_children == b->n_children &&
           str_same(a->anchor, b->anchor) && a->value_len == b->value_len &&
           (!a->value_len || memcmp(a->value, b->value, a->value_len) == 0);
}

/* Does the text after the edit say what the text before said, but `value` at `node`? libyaml
 * reads some text differently around a quoted scalar than around a plain one (a tab opening a
 * later line is swallowed by a plain scalar, an error after a quoted one), and an empty value
 * can share its place with another ("? a:" ends a key and its value at one byte): rather than
 * write a file that parses otherwise, or not at all, the edit is refused. */
static int edit_verified(const char *buf, size_t len, const ynode *node, const char *value,
                         const yamledit_edit *e, tp_err *err)
{
    strbuf after = {0};
    strbuf_append(&after, buf, e->start);
    strbuf_puts(&after, e->text);
    strbuf_append(&after, buf + e->end, len - e->end);
    ydoc old_doc, new_doc;
    tp_err why;
    node_list old_nodes = {0}, new_nodes = {0};
    int rc = 0;
    if (yamldoc_parse(buf, len, "", &old_doc, &why) != 0) {
        strbuf_free(&after);
        return tp_err_set(err, "line %zu: the text does not parse (%s)", node->line,
                          why.msg[0] == ':' ? why.msg + 1 : why.msg);
    }
    node_list_of(&old_nodes, &old_doc);
    size_t at = 0, matches = 0;
    for (size_t i = 0; i < old_nodes.count; i++) {
        const ynode *n = old_nodes.items[i];
        if (n && n->kind == node->kind && n->start == node->start && n->end == node->end &&
            n->line == node->line && n->column == node->column) {
            at = i;
            matches++;
        }
    }
    if (matches != 1) {
        rc = tp_err_set(err,
                        "line %zu: this value cannot be told apart from another written at "
                        "the same place",
                        node->line);
    } else if (yamldoc_parse(after.data, after.len, "", &new_doc, &why) != 0) {
        /* why.msg starts with the empty name: ":LINE:COL: problem" */
        rc = tp_err_set(err, "line %zu: the file would not parse after this edit (%s)", node->line,
                        why.msg[0] == ':' ? why.msg + 1 : why.msg);
    } else {
        node_list_of(&new_nodes, &new_doc);
        bool same = new_nodes.count == old_nodes.count;
        for (size_t i = 0; same && i < old_nodes.count; i++) {
            const ynode *o = old_nodes.items[i], *n = new_nodes.items[i];
            if (i != at)
                same = same_node(o, n);
            else
                same = n && n->kind == YNODE_SCALAR && str_same(n->anchor, o->anchor) &&
                       n->value_len == strlen(value) && memcmp(n->value, value, n->value_len) == 0;
        }
        if (!same)
            rc = tp_err_set(err, "line %zu: the file would not read the same after this edit",
                            node->line);
        yamldoc_free(&new_doc);
    }
    free(new_nodes.items);
    free(old_nodes.items);
    yamldoc_free(&old_doc);
    strbuf_free(&after);
    return rc;
}

int yamledit_scalar(const char *buf, size_t len, const ynode *node, const char *value,
                    yamledit_edit *out, tp_err *err)
{
    *out = (yamledit_edit){0};
    if (!node)
        return tp_err_set(err, "no value to edit");
    if (node->end > len || node->start > node->end)
        return tp_err_set(err, "line %zu: node span outside the text", node->line);
    ynode_style style = YSTYLE_PLAIN;
    if (node->kind == YNODE_SCALAR) {
        if (node->style == YSTYLE_LITERAL || node->style == YSTYLE_FOLDED)
            return tp_err_set(err, "line %zu: a block scalar (| or >) cannot be edited in place",
                              node->line);
        style = node->style;
    } else if (node->kind != YNODE_ALIAS) {
        return tp_err_set(err, "line %zu: expected a single value, found a %s", node->line,
                          node->kind == YNODE_MAP ? "map" : "list");
    }
    if (!utf8_valid(value))
        return tp_err_set(err, "line %zu: the new value is not valid UTF-8, which YAML cannot hold",
                          node->line);
    size_t start = node->kind == YNODE_SCALAR
                       ? skip_properties(buf, node->start, node->end, node->anchor)
                       : node->start;
    if (start == node->end && start == node->start && !after_indicator(buf, start))
        return tp_err_set(err, "line %zu: a key without ':' has no value to replace", node->line);
    out->start = start;
    out->end = node->end;
    /* An explicit tag (!!str 1.0) fixes the type, so a plain value only needs to parse. */
    bool tagged = memchr(buf + node->start, '!', start - node->start) != NULL;
    if (tagged && style == YSTYLE_PLAIN && !plain_breaks_syntax(value, true))
        out->text = xstrdup(value);
    else
        out->text = yamledit_render(value, style);
    /* An empty value ("tag:", "tag: !!str") has an empty span right after the colon or the
     * property, and an anchor may touch its text ("&a:x"): keep them apart, or the value would
     * become part of them. */
    bool touching = start == node->end || start > node->start;
    if (touching && start > 0 && !isspace((unsigned char)buf[start - 1])) {
        char *spaced = xasprintf(" %s", out->text);
        free(out->text);
        out->text = spaced;
    }
    if (edit_verified(buf, len, node, value, out, err) < 0) {
        free(out->text);
        out->text = NULL;
        return -1;
    }
    return 0;
}

static int edit_cmp(const void *a, const void *b)
{
    const yamledit_edit *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

int yamledit_apply(const char *buf, size_t len, yamledit_edit *edits, size_t n, strbuf *out,
                   tp_err *err)
{
    strbuf_free(out);
    qsort(edits, n, sizeof *edits, edit_cmp);
    int rc = 0;
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        if (edits[i].start < pos || edits[i].end > len) {
            rc = tp_err_set(err, "overlapping edits at byte %zu", edits[i].start);
            break;
        }
        strbuf_append(out, buf + pos, edits[i].start - pos);
        strbuf_puts(out, edits[i].text);
        pos = edits[i].end;
    }
    if (rc == 0)
        strbuf_append(out, buf + pos, len - pos);
    for (size_t i = 0; i < n; i++) {
        free(edits[i].text);
        edits[i].text = NULL;
    }
    if (rc)
        strbuf_free(out);
    return rc;
}

int yamledit_set_path(const char *buf, size_t len, const char *name, size_t doc_index,
                      const char *path, const char *value, strbuf *out, tp_err *err)
{
    ydoc doc;
    if (yamldoc_parse(buf, len, name, &doc, err))
        return -1;
    int rc = 0;
    const ynode *n = doc_index < doc.n_roots ? ynode_path(doc.roots[doc_index], path) : NULL;
    yamledit_edit e;
    if (!n)
        rc = tp_err_set(err, "%s: no key '%s'", name, path);
    else if (yamledit_scalar(buf, len, n, value, &e, err)) {
        tp_err_prefix(err, "%s: %s", name, path);
        rc = -1;
    } else
        rc = yamledit_apply(buf, len, &e, 1, out, err);
    yamldoc_free(&doc);
    return rc;
}
