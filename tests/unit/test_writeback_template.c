#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "writeback/template.h"

static const char *root_keys[] = {"AppName"};
static const char *root_values[] = {"web"};
static const char *item_keys[] = {"Image", "NewTag"};
static const char *item1[] = {"ghcr.io/a", "1.1"};
static const char *item2[] = {"ghcr.io/b", "2.0"};

Test(template, fields_ranges_and_trimming)
{
    static const struct {
        const char *tmpl, *want;
    } cases[] = {
        {"plain text", "plain text"},
        {"{{.AppName}}", "web"},
        {"{{ .AppName }}!", "web!"},
        {"a {{- .AppName -}} b", "awebb"},
        {"{{range .AppChanges}}{{.Image}}={{.NewTag}};{{end}}", "ghcr.io/a=1.1;ghcr.io/b=2.0;"},
        {"x\n{{ range .AppChanges -}}\n- {{.Image}} ({{.AppName}})\n{{ end -}}\ny",
         "x\n- ghcr.io/a (web)\n- ghcr.io/b (web)\ny"},
        {"{{range .AppChanges}}{{end}}", ""},
    };
    tmpl_vars root = {root_keys, root_values, 1};
    tmpl_vars items[] = {{item_keys, item1, 2}, {item_keys, item2, 2}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        strbuf out = {0};
        tp_err err = {{0}};
        cr_assert_eq(tmpl_render(cases[i].tmpl, &root, "AppChanges", items, 2, &out, &err), 0,
                     "case %zu: %s", i, err.msg);
        cr_assert_str_eq(out.data, cases[i].want, "case %zu", i);
        strbuf_free(&out);
    }
}

Test(template, errors_name_the_action)
{
    static const struct {
        const char *tmpl, *want;
    } cases[] = {
        {"{{.Nope}}", "unknown field '.Nope'"},
        {"{{if .AppName}}x{{end}}", "unsupported action '{{if .AppName}}'"},
        {"{{.AppName | upper}}", "unsupported action"},
        {"{{range .Other}}{{end}}", "cannot range over '.Other'"},
        {"{{range .AppChanges}}x", "without '{{end}}'"},
        {"{{end}}", "'{{end}}' without '{{range}}'"},
        {"{{.AppName", "'{{' without '}}'"},
    };
    tmpl_vars root = {root_keys, root_values, 1};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        strbuf out = {0};
        tp_err err = {{0}};
        cr_assert_eq(tmpl_render(cases[i].tmpl, &root, "AppChanges", NULL, 0, &out, &err), -1,
                     "case %zu rendered '%s'", i, out.data);
        cr_assert(strstr(err.msg, cases[i].want), "case %zu: %s", i, err.msg);
        strbuf_free(&out);
    }
}
