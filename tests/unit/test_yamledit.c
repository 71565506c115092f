#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest/yamledit.h"

static char *fixture(const char *name, size_t *len)
{
    const char *root = getenv("TP_ROOT");
    char *path = xasprintf("%s/tests/fixtures/writeback/%s", root ? root : ".", name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "fixture %s", path);
    strbuf sb = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        strbuf_append(&sb, chunk, n);
    fclose(f);
    free(path);
    *len = sb.len;
    return strbuf_take(&sb);
}

/* Lines of a that differ from b (same line count assumed; else a large number). */
static int changed_lines(const char *a, size_t alen, const char *b, size_t blen)
{
    int changed = 0;
    size_t i = 0, j = 0;
    while (i < alen || j < blen) {
        size_t ei = i, ej = j;
        while (ei < alen && a[ei] != '\n')
            ei++;
        while (ej < blen && b[ej] != '\n')
            ej++;
        if (ei - i != ej - j || memcmp(a + i, b + j, ei - i) != 0)
            changed++;
        if ((ei >= alen) != (ej >= blen))
            return 1000;
        i = ei + 1;
        j = ej + 1;
    }
    return changed;
}

/* Golden files: after the edit the file is byte-identical to the golden one, and exactly one
 * line differs from the original (comments, anchors, quoting, CRLF all kept). */
Test(yamledit, golden_one_line_edits)
{
    static const struct {
        const char *file, *path, *value, *golden;
    } cases[] = {
        {"values.yaml", "image.tag", "v1.5.0", "values.image-tag.golden"},
        {"values.yaml", "sidecar.tag", "v0.10.0", "values.sidecar-tag.golden"},
        {"values.yaml", "api.images[0].tag", "2.2.0", "values.worker-tag.golden"},
        {"values.yaml", "api.images[1].tag", "3.1.0", "values.cron-anchor.golden"},
        {"values.yaml", "other.tag", "3.0.1", "values.alias.golden"},
        {"values.yaml", "api.images[0].tag", "1.10", "values.numeric.golden"},
        {"values-crlf.yaml", "image.tag", "v1.5.0", "values-crlf.golden"},
        {"values-crlf.yaml", "second.tag", "y", "values-crlf.second.golden"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t len, glen;
        char *text = fixture(cases[i].file, &len);
        char *golden = fixture(cases[i].golden, &glen);
        strbuf out = {0};
        tp_err err = {{0}};
        cr_assert_eq(yamledit_set_path(text, len, cases[i].file, 0, cases[i].path, cases[i].value,
                                       &out, &err),
                     0, "case %zu: %s", i, err.msg);
        cr_assert_eq(out.len, glen, "case %zu: length %zu, golden %zu:\n%s", i, out.len, glen,
                     out.data);
        cr_assert(memcmp(out.data, golden, glen) == 0, "case %zu differs:\n%s", i, out.data);
        cr_assert_eq(changed_lines(text, len, out.data, out.len), 1, "case %zu", i);
        strbuf_free(&out);
        free(text);
        free(golden);
    }
}

Test(yamledit, quoting)
{
    static const struct {
        const char *value;
        ynode_style style;
        const char *want;
    } cases[] = {
        {"v1.2.3", YSTYLE_PLAIN, "v1.2.3"},
        {"1.2.3", YSTYLE_PLAIN, "1.2.3"},
        {"1.10", YSTYLE_PLAIN, "\"1.10\""},
        {"123", YSTYLE_PLAIN, "\"123\""},
        {"1e3", YSTYLE_PLAIN, "\"1e3\""},
        {"0x1F", YSTYLE_PLAIN, "\"0x1F\""},
        {"yes", YSTYLE_PLAIN, "\"yes\""},
        {"Off", YSTYLE_PLAIN, "\"Off\""},
        {"null", YSTYLE_PLAIN, "\"null\""},
        {"", YSTYLE_PLAIN, "\"\""},
        {"a: b", YSTYLE_PLAIN, "\"a: b\""},
        {"a #b", YSTYLE_PLAIN, "\"a #b\""},
        {"-dev", YSTYLE_PLAIN, "\"-dev\""},
        {"*", YSTYLE_PLAIN, "\"*\""},
        {"1.0@sha256:ab", YSTYLE_PLAIN, "1.0@sha256:ab"},
        {"main-2024.01.02", YSTYLE_PLAIN, "main-2024.01.02"},
        {"v1", YSTYLE_DOUBLE, "\"v1\""},
        {"a\"b\\c", YSTYLE_DOUBLE, "\"a\\\"b\\\\c\""},
        {"v1", YSTYLE_SINGLE, "'v1'"},
        {"it's", YSTYLE_SINGLE, "'it''s'"},
        {"1.10", YSTYLE_SINGLE, "'1.10'"},
        /* Plain only from [A-Za-z0-9._/@:+=-]; every YAML line break escaped by name. */
        {"nginx-base=nginx:1.25", YSTYLE_PLAIN, "nginx-base=nginx:1.25"},
        {"=x", YSTYLE_PLAIN, "\"=x\""},
        {"2024-01-02", YSTYLE_PLAIN, "\"2024-01-02\""},
        {"v1 x", YSTYLE_PLAIN, "\"v1 x\""},
        {"v1\xc2\x85x", YSTYLE_PLAIN, "\"v1\\Nx\""},
        {"v1\xe2\x80\xa8x", YSTYLE_PLAIN, "\"v1\\Lx\""},
        {"v1\xe2\x80\xa9x", YSTYLE_SINGLE, "\"v1\\Px\""},
        {"a\nb\rc\td\x1b", YSTYLE_SINGLE, "\"a\\nb\\rc\\td\\x1b\""},
        {"a\x7f\xc2\x9b", YSTYLE_PLAIN, "\"a\\x7f\\x9b\""},
        {"\xef\xbb\xbfv\xe2\x80\xae", YSTYLE_PLAIN, "\"\\uFEFFv\\u202E\""},
        {"caf\xc3\xa9", YSTYLE_PLAIN, "\"caf\xc3\xa9\""},
        {"caf\xc3\xa9", YSTYLE_SINGLE, "\"caf\xc3\xa9\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *got;
        cr_assert_eq(yamledit_render(cases[i].value, cases[i].style, &got, NULL), 0);
        cr_assert_str_eq(got, cases[i].want, "case %zu '%s'", i, cases[i].value);
        free(got);
    }
}

Test(yamledit, rendered_values_read_back)
{
    static const char *values[] = {"1.10", "yes", "a: b", "it's", "x\"y", "", "~", "-1"};
    static const ynode_style styles[] = {YSTYLE_PLAIN, YSTYLE_SINGLE, YSTYLE_DOUBLE};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++)
        for (size_t s = 0; s < 3; s++) {
            char *r;
            cr_assert_eq(yamledit_render(values[i], styles[s], &r, NULL), 0);
            char *text = xasprintf("k: %s\n", r);
            ydoc doc;
            tp_err err = {{0}};
            cr_assert_eq(yamldoc_parse(text, strlen(text), "t", &doc, &err), 0, "%s", err.msg);
            const ynode *n = ynode_get(doc.roots[0], "k");
            cr_assert_str_eq(ynode_str(n), values[i], "'%s' rendered %s", values[i], r);
            cr_assert(n->style != YSTYLE_PLAIN || !ynode_is_null(n));
            yamldoc_free(&doc);
            free(text);
            free(r);
        }
}

Test(yamledit, refusals_and_errors)
{
    const char *text = "a: |\n  block\nm:\n  x: 1\n";
    strbuf out = {0};
    tp_err err = {{0}};
    cr_assert_eq(yamledit_set_path(text, strlen(text), "v.yaml", 0, "a", "x", &out, &err), -1);
    cr_assert(strstr(err.msg, "block scalar"), "%s", err.msg);
    cr_assert_eq(yamledit_set_path(text, strlen(text), "v.yaml", 0, "m", "x", &out, &err), -1);
    cr_assert(strstr(err.msg, "map"), "%s", err.msg);
    cr_assert_eq(yamledit_set_path(text, strlen(text), "v.yaml", 0, "nope.tag", "x", &out, &err),
                 -1);
    cr_assert(strstr(err.msg, "v.yaml: no key 'nope.tag'"), "%s", err.msg);
    const char *bad = "a: [1,\n";
    cr_assert_eq(yamledit_set_path(bad, strlen(bad), "bad.yaml", 0, "a", "x", &out, &err), -1);
    cr_assert(strncmp(err.msg, "bad.yaml:", 9) == 0, "%s", err.msg);
    strbuf_free(&out);
}

Test(yamledit, several_edits_in_one_file)
{
    const char *text = "a: 1.0.0 # x\nb: 'q'\nc: \"d\"\n";
    ydoc doc;
    cr_assert_eq(yamldoc_parse(text, strlen(text), "t", &doc, NULL), 0);
    yamledit_edit e[3];
    cr_assert_eq(
        yamledit_scalar(text, strlen(text), ynode_get(doc.roots[0], "c"), "D", &e[0], NULL), 0);
    cr_assert_eq(
        yamledit_scalar(text, strlen(text), ynode_get(doc.roots[0], "a"), "2.0.0", &e[1], NULL), 0);
    cr_assert_eq(
        yamledit_scalar(text, strlen(text), ynode_get(doc.roots[0], "b"), "Q", &e[2], NULL), 0);
    strbuf out = {0};
    cr_assert_eq(yamledit_apply(text, strlen(text), e, 3, &out, NULL), 0);
    cr_assert_str_eq(out.data, "a: 2.0.0 # x\nb: 'Q'\nc: \"D\"\n");
    strbuf_free(&out);
    yamldoc_free(&doc);
}

/* Two edits of the same bytes (one image listed twice, say) are refused, never spliced into
 * each other; nothing is produced and both edits' texts are freed. */
Test(yamledit, overlapping_edits_refused)
{
    const char *text = "a: 1.0.0\nb: x\n";
    ydoc doc;
    cr_assert_eq(yamldoc_parse(text, strlen(text), "t", &doc, NULL), 0);
    const ynode *a = ynode_get(doc.roots[0], "a");
    yamledit_edit e[2];
    cr_assert_eq(yamledit_scalar(text, strlen(text), a, "2.0.0", &e[0], NULL), 0);
    cr_assert_eq(yamledit_scalar(text, strlen(text), a, "3.0.0", &e[1], NULL), 0);
    strbuf out = {0};
    tp_err err = {{0}};
    cr_assert_eq(yamledit_apply(text, strlen(text), e, 2, &out, &err), -1);
    cr_assert_str_eq(err.msg, "overlapping edits at byte 3");
    cr_assert_null(out.data);
    cr_assert_null(e[0].text);
    cr_assert_null(e[1].text);
    yamldoc_free(&doc);
}

/* Properties in front of the value stay; only the value's bytes change. */
Test(yamledit, tags_and_anchors_kept)
{
    static const struct {
        const char *text, *path, *value, *want;
    } cases[] = {
        {"tag: !!str 1.0\n", "tag", "1.1", "tag: !!str 1.1\n"},
        {"tag: &t !!str '1.0' # c\n", "tag", "1.1", "tag: &t !!str '1.1' # c\n"},
        {"a: {tag: x}\n", "a.tag", "y,z", "a: {tag: \"y,z\"}\n"},
        {"l: [v1, v2]\n", "l[1]", "v3", "l: [v1, v3]\n"},
        {"tag: \"\"\n", "tag", "v1", "tag: \"v1\"\n"},
        {"tag:\n", "tag", "v1", "tag: v1\n"},
        {"a:\n  tag:\n  b: 2\n", "a.tag", "v1", "a:\n  tag: v1\n  b: 2\n"},
        {"tag: # c\n", "tag", "v1", "tag: v1 # c\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        strbuf out = {0};
        tp_err err = {{0}};
        cr_assert_eq(yamledit_set_path(cases[i].text, strlen(cases[i].text), "t", 0, cases[i].path,
                                       cases[i].value, &out, &err),
                     0, "case %zu: %s", i, err.msg);
        cr_assert_str_eq(out.data, cases[i].want, "case %zu", i);
        strbuf_free(&out);
    }
}
