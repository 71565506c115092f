/* template: the small subset of Go's text/template that argocd-image-updater's commit message
 * and git-branch templates use: {{.Field}}, one {{range .List}}...{{end}} level, and the {{- /
 * -}} white-space trimming markers. Anything else is an error naming the action. */
#ifndef TP_TEMPLATE_H
#define TP_TEMPLATE_H

#include <stddef.h>

#include "util.h"

/* Named values (borrowed). */
typedef struct tmpl_vars {
    const char *const *keys;
    const char *const *values;
    size_t n;
} tmpl_vars;

/* Render tmpl with root fields and one list named list_name (e.g. "AppChanges") whose items
 * each have their own fields (looked up first inside {{range}}). Output goes to *out. */
int tmpl_render(const char *tmpl, const tmpl_vars *root, const char *list_name,
                const tmpl_vars *items, size_t n_items, strbuf *out, tp_err *err);

#endif
