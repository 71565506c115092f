#include "yamledit.h"

#include <ctype.h>
#include <errno.h>
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

/* The bytes a plain scalar may hold: what image names, tags and digests are made of, and the
 * '=' of kustomize's "orig=new:tag". Anything else is quoted, so a character some YAML parser
 * reads as a break or an indicator (U+0085, U+2028, "#", ",", "[", a tab, ...) never stands
 * unquoted, in block or flow context. */
static bool plain_safe_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '/' || c == '@' || c == ':' || c == '+' || c == '-' || c == '=';
}

/* Would a plain scalar hold a byte outside the safe set, or start or end in a way that means
 * something else (an indicator, a document marker, a key's colon)? */
static bool plain_breaks_syntax(const char *v)
{
    if (!*v)
        return true;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (!plain_safe_byte(*p))
            return true;
    /* '=' alone is YAML 1.1's "value" key; "..." and "---" mark documents. */
    if (strchr("-?:,[]{}#&*!|>'\"%@`=", v[0]) || str_starts_with(v, "..."))
        return true;
    return v[strlen(v) - 1] == ':';
}

/* A YAML 1.1 timestamp ("2024-01-02", "2024-1-2T..."): yaml.v2 would hand Helm a time. */
static bool looks_like_date(const char *v)
{
    size_t i = 0;
    while (isdigit((unsigned char)v[i]))
        i++;
    if (i != 4 || v[i] != '-' || !isdigit((unsigned char)v[i + 1]))
        return false;
    i++;
    while (isdigit((unsigned char)v[i]))
        i++;
    return v[i] == '-' && isdigit((unsigned char)v[i + 1]);
}

/* typed: an explicit tag (!!str) fixes the type, so only the syntax and nulls (which
 * tagpilot's own reader takes as "no value" whatever the tag) need quotes. */
static bool needs_quotes(const char *v, bool typed)
{
    static const char *const nulls[] = {"null", "~"};
    static const char *const words[] = {"true", "false", "yes", "no", "on", "off", "y", "n"};
    if (plain_breaks_syntax(v))
        return true;
    for (size_t i = 0; i < sizeof nulls / sizeof *nulls; i++)
        if (is_ci(v, nulls[i]))
            return true;
    if (typed)
        return false;
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (is_ci(v, words[i]))
            return true;
    return looks_numeric(v) || looks_like_date(v);
}

bool yamledit_needs_quotes(const char *v)
{
    return needs_quotes(v, false);
}

/* The code point of a valid UTF-8 sequence of n bytes. */
static unsigned utf8_code_point(const unsigned char *p, size_t n)
{
    if (n == 1)
        return p[0];
    unsigned cp = p[0] & (0xFF >> (n + 1));
    for (size_t i = 1; i < n; i++)
        cp = (cp << 6) | (p[i] & 0x3F);
    return cp;
}

/* Double-quoted with an escape for everything that is not plainly printable text in every
 * YAML 1.1 and 1.2 parser: C0 controls, DEL, C1 controls, the line and paragraph separators,
 * the byte-order mark and non-characters, and bidirectional overrides (they reorder what a
 * reviewer sees). The value is valid UTF-8 (render checked). */
static void render_double(strbuf *sb, const char *v)
{
    strbuf_putc(sb, '"');
    const unsigned char *p = (const unsigned char *)v;
    while (*p) {
        size_t n = utf8_sequence_length(p);
        unsigned cp = utf8_code_point(p, n);
        if (cp == '"' || cp == '\\')
            strbuf_printf(sb, "\\%c", (char)cp);
        else if (cp == '\n')
            strbuf_puts(sb, "\\n");
        else if (cp == '\r')
            strbuf_puts(sb, "\\r");
        else if (cp == '\t')
            strbuf_puts(sb, "\\t");
        else if (cp == 0x85)
            strbuf_puts(sb, "\\N");
        else if (cp == 0x2028)
            strbuf_puts(sb, "\\L");
        else if (cp == 0x2029)
            strbuf_puts(sb, "\\P");
        else if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0))
            strbuf_printf(sb, "\\x%02x", cp);
        else if (cp == 0xFEFF || cp == 0xFFFE || cp == 0xFFFF || (cp >= 0x202A && cp <= 0x202E) ||
                 (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E || cp == 0x200F)
            strbuf_printf(sb, "\\u%04X", cp);
        else
            strbuf_append(sb, (const char *)p, n);
        p += n;
    }
    strbuf_putc(sb, '"');
}

/* Single quotes escape nothing but '': only printable ASCII may go in them. */
static bool single_quote_safe(const char *v)
{
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < 0x20 || *p > 0x7E)
            return false;
    return true;
}

/* The one place a value becomes YAML text (typed: see needs_quotes). */
static int render(const char *value, ynode_style style, bool typed, char **out, tp_err *err)
{
    *out = NULL;
    for (const unsigned char *p = (const unsigned char *)value; *p;) {
        size_t n = utf8_sequence_length(p);
        if (!n)
            return tp_err_set(err,
                              "the value is not valid UTF-8 (byte 0x%02x at offset %zu); YAML "
                              "text must be, so it is not written",
                              *p, (size_t)(p - (const unsigned char *)value));
        p += n;
    }
    strbuf sb = {0};
    if (style == YSTYLE_SINGLE && single_quote_safe(value)) {
        strbuf_putc(&sb, '\'');
        for (const char *p = value; *p; p++) {
            if (*p == '\'')
                strbuf_putc(&sb, '\'');
            strbuf_putc(&sb, *p);
        }
        strbuf_putc(&sb, '\'');
    } else if (style == YSTYLE_PLAIN && !needs_quotes(value, typed)) {
        strbuf_puts(&sb, value);
    } else {
        render_double(&sb, value);
    }
    *out = strbuf_take(&sb);
    return 0;
}

int yamledit_render(const char *value, ynode_style style, char **out, tp_err *err)
{
    return render(value, style, false, out, err);
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
    size_t start = node->kind == YNODE_SCALAR
                       ? skip_properties(buf, node->start, node->end, node->anchor)
                       : node->start;
    if (start == node->end && start == node->start && !after_indicator(buf, start))
        return tp_err_set(err, "line %zu: a key without ':' has no value to replace", node->line);
    out->start = start;
    out->end = node->end;
    /* An explicit tag (!!str 1.0) fixes the type, so a plain value only needs to parse. */
    bool tagged = memchr(buf + node->start, '!', start - node->start) != NULL;
    if (render(value, style, tagged, &out->text, err) < 0) {
        tp_err_prefix(err, "line %zu", node->line);
        return -1;
    }
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
