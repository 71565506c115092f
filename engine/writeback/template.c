#include "template.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef enum tok_kind { TOK_TEXT, TOK_FIELD, TOK_RANGE, TOK_END } tok_kind;

typedef struct tok {
    tok_kind kind;
    char *text; /* TEXT: the text; FIELD / RANGE: the name without the dot */
} tok;

typedef struct toks {
    tok *items;
    size_t n;
} toks;

static void toks_push(toks *t, tok_kind kind, char *text)
{
    t->items = xrealloc(t->items, (t->n + 1) * sizeof *t->items);
    t->items[t->n++] = (tok){kind, text};
}

static void toks_free(toks *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->items[i].text);
    free(t->items);
}

static void rtrim(char *s)
{
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
}

static int tokenize(const char *tmpl, toks *out, tp_err *err)
{
    const char *p = tmpl;
    bool trim_next = false;
    while (*p) {
        const char *open = strstr(p, "{{");
        const char *text_end = open ? open : p + strlen(p);
        if (trim_next)
            while (p < text_end && isspace((unsigned char)*p))
                p++;
        char *text = xstrndup(p, (size_t)(text_end - p));
        if (!open) {
            toks_push(out, TOK_TEXT, text);
            break;
        }
        const char *close = strstr(open + 2, "}}");
        if (!close) {
            free(text);
            return tp_err_set(err, "template: '{{' without '}}'");
        }
        const char *a = open + 2, *b = close;
        if (*a == '-' && isspace((unsigned char)a[1])) {
            rtrim(text);
            a++;
        }
        trim_next = b > a && b[-1] == '-' && isspace((unsigned char)b[-2]);
        if (trim_next)
            b--;
        toks_push(out, TOK_TEXT, text);
        char *action = str_trim(xstrndup(a, (size_t)(b - a)));
        if (str_starts_with(action, "range ") && str_trim(action + 6)[0] == '.') {
            toks_push(out, TOK_RANGE, xstrdup(str_trim(action + 6) + 1));
            free(action);
        } else if (strcmp(action, "end") == 0) {
            toks_push(out, TOK_END, NULL);
            free(action);
        } else if (action[0] == '.' && action[1] && !strpbrk(action, " |()")) {
            toks_push(out, TOK_FIELD, xstrdup(action + 1));
            free(action);
        } else {
            int rc = tp_err_set(err, "template: unsupported action '{{%s}}'", action);
            free(action);
            return rc;
        }
        p = close + 2;
    }
    return 0;
}

static const char *lookup(const tmpl_vars *v, const char *key)
{
    for (size_t i = 0; v && i < v->n; i++)
        if (strcmp(v->keys[i], key) == 0)
            return v->values[i] ? v->values[i] : "";
    return NULL;
}

int tmpl_render(const char *tmpl, const tmpl_vars *root, const char *list_name,
                const tmpl_vars *items, size_t n_items, strbuf *out, tp_err *err)
{
    toks t = {0};
    int rc = tokenize(tmpl, &t, err);
    if (rc == 0)
        strbuf_append(out, "", 0);
    for (size_t i = 0; rc == 0 && i < t.n; i++) {
        tok *k = &t.items[i];
        if (k->kind == TOK_TEXT) {
            strbuf_puts(out, k->text);
        } else if (k->kind == TOK_FIELD) {
            const char *v = lookup(root, k->text);
            if (!v)
                rc = tp_err_set(err, "template: unknown field '.%s'", k->text);
            else
                strbuf_puts(out, v);
        } else if (k->kind == TOK_END) {
            rc = tp_err_set(err, "template: '{{end}}' without '{{range}}'");
        } else {
            if (!str_eq(k->text, list_name)) {
                rc = tp_err_set(err, "template: cannot range over '.%s' (use .%s)", k->text,
                                list_name);
                break;
            }
            size_t end = i + 1;
            while (end < t.n && t.items[end].kind != TOK_END) {
                if (t.items[end].kind == TOK_RANGE)
                    break;
                end++;
            }
            if (end >= t.n || t.items[end].kind != TOK_END) {
                rc = tp_err_set(err, "template: '{{range}}' without '{{end}}' (or nested)");
                break;
            }
            for (size_t it = 0; rc == 0 && it < n_items; it++)
                for (size_t j = i + 1; rc == 0 && j < end; j++) {
                    tok *b = &t.items[j];
                    if (b->kind == TOK_TEXT) {
                        strbuf_puts(out, b->text);
                        continue;
                    }
                    const char *v = lookup(&items[it], b->text);
                    if (!v)
                        v = lookup(root, b->text);
                    if (!v)
                        rc = tp_err_set(err, "template: unknown field '.%s'", b->text);
                    else
                        strbuf_puts(out, v);
                }
            i = end;
        }
    }
    toks_free(&t);
    return rc;
}
