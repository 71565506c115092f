/* Commit message and branch names for a write-back, from argocd-image-updater's templates. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "writeback.h"
#include "writeback/template.h"

#define DEFAULT_MESSAGE                                                                            \
    "build: automatic update of {{ .AppName }}\n\n{{ range .AppChanges -}}\nupdates image "        \
    "{{ .Image }} tag '{{ .OldTag }}' to '{{ .NewTag }}'\n{{ end -}}\n"

#define ITEM_FIELDS 5

typedef struct item_table {
    const char *keys[ITEM_FIELDS];
    const char *values[ITEM_FIELDS];
} item_table;

/* Per-image fields, under both the message's names (Image) and the branch's (Name). */
static tmpl_vars *item_vars(const image_update *u, size_t n, item_table **tables)
{
    tmpl_vars *vars = xcalloc(n + 1, sizeof *vars);
    *tables = xcalloc(n + 1, sizeof **tables);
    for (size_t i = 0; i < n; i++) {
        item_table *t = &(*tables)[i];
        const char *keys[ITEM_FIELDS] = {"Image", "Name", "Alias", "OldTag", "NewTag"};
        const char *values[ITEM_FIELDS] = {u[i].image->ref.short_name, u[i].image->ref.short_name,
                                           u[i].image->alias, u[i].old_tag ? u[i].old_tag : "",
                                           u[i].new_tag};
        memcpy(t->keys, keys, sizeof keys);
        memcpy(t->values, values, sizeof values);
        vars[i] = (tmpl_vars){t->keys, t->values, ITEM_FIELDS};
    }
    return vars;
}

/* A value that goes into the message must stay on its line: a newline in a tag once forged an
 * "Approved-by:" trailer. Such a value is no valid tag, image or name, so it is refused. */
static int check_value(const argo_app *app, const char *what, const char *alias, const char *value,
                       tp_err *err)
{
    const char *problem = value ? str_line_problem(value) : NULL;
    if (!problem)
        return 0;
    char *shown = str_printable(value);
    char *app_name = str_printable(app->name ? app->name : "?");
    tp_err_set(err, "app %s: commit message: %s%s%s '%s' holds %s; refusing to write it", app_name,
               what, alias ? " of " : "", alias ? alias : "", shown, problem);
    free(app_name);
    free(shown);
    return -1;
}

static int check_values(const argo_app *app, const image_update *u, size_t n,
                        const writeback_opts *opts, tp_err *err)
{
    if (check_value(app, "the app name", NULL, app->name, err))
        return -1;
    for (size_t i = 0; i < n; i++) {
        char *alias = str_printable(u[i].image->alias ? u[i].image->alias : "?");
        int rc = check_value(app, "the alias", NULL, u[i].image->alias, err) ||
                 check_value(app, "the image", alias, u[i].image->ref.short_name, err) ||
                 check_value(app, "the current tag", alias, u[i].old_tag, err) ||
                 check_value(app, "the new tag", alias, u[i].new_tag, err);
        free(alias);
        if (rc)
            return -1;
    }
    for (size_t i = 0; opts && i < opts->n_trailers; i++)
        if (check_value(app, "the trailer", NULL, opts->trailers[i], err))
            return -1;
    return 0;
}

/* What a change to the holds says in the message (names and tags were checked against their
 * grammars by holds_apply, so each stays on its line). */
static void hold_line(const hold_edit *h, strbuf *sb)
{
    switch (h->op) {
    case HOLD_PIN:
        strbuf_printf(sb, "tagpilot: pin %s of %s at '%s'", h->alias, h->app, h->value);
        break;
    case HOLD_UNPIN:
        strbuf_printf(sb, "tagpilot: unpin %s of %s", h->alias, h->app);
        break;
    case HOLD_SKIP:
        strbuf_printf(sb, "tagpilot: skip '%s' for %s of %s", h->value, h->alias, h->app);
        break;
    case HOLD_POLICY:
        strbuf_printf(sb, "tagpilot: approval policy of %s is %s", h->app, h->value);
        break;
    }
    strbuf_printf(sb, " (shared holds)\n");
}

char *writeback_message(const argo_app *app, const image_update *updates, size_t n,
                        const writeback_opts *opts, tp_err *err)
{
    if (check_values(app, updates, n, opts, err))
        return NULL;
    const hold_edit *hold = opts ? opts->hold : NULL;
    if (hold && (check_value(app, "the held alias", NULL, hold->alias, err) ||
                 check_value(app, "the held value", NULL, hold->value, err)))
        return NULL;
    if (n == 0 && hold) {
        strbuf sb = {0};
        hold_line(hold, &sb);
        for (size_t i = 0; i < opts->n_trailers; i++)
            strbuf_printf(&sb, "%s%s\n", i ? "" : "\n", opts->trailers[i]);
        return strbuf_take(&sb);
    }
    const char *tmpl = opts && opts->message_template && *opts->message_template
                           ? opts->message_template
                           : DEFAULT_MESSAGE;
    const char *rkeys[] = {"AppName"};
    const char *rvalues[] = {app->name};
    tmpl_vars root = {rkeys, rvalues, 1};
    item_table *tables;
    tmpl_vars *items = item_vars(updates, n, &tables);
    strbuf sb = {0};
    int rc = tmpl_render(tmpl, &root, "AppChanges", items, n, &sb, err);
    free(items);
    free(tables);
    if (rc) {
        tp_err_prefix(err, "commit-message-template");
        strbuf_free(&sb);
        return NULL;
    }
    /* One trailing newline, then the trailers as their own paragraph. */
    while (sb.len && (sb.data[sb.len - 1] == '\n' || sb.data[sb.len - 1] == ' '))
        sb.data[--sb.len] = '\0';
    strbuf_putc(&sb, '\n');
    if (hold)
        hold_line(hold, &sb);
    if (opts && opts->n_trailers) {
        strbuf_putc(&sb, '\n');
        for (size_t i = 0; i < opts->n_trailers; i++)
            strbuf_printf(&sb, "%s\n", opts->trailers[i]);
    }
    return strbuf_take(&sb);
}

static bool branch_name_ok(const char *b)
{
    if (!*b || b[0] == '-' || b[0] == '/' || str_ends_with(b, "/") || str_ends_with(b, ".lock") ||
        strstr(b, "..") || strstr(b, "@{") || strstr(b, "//"))
        return false;
    for (const char *p = b; *p; p++)
        if ((unsigned char)*p <= ' ' || strchr("~^:?*[\\", *p) || *p == 0x7f)
            return false;
    return true;
}

/* Hex SHA-256 over the changes (name:new tag, old tag, new tag per image): a branch name that is
 * unique per change set and never too long. */
static void changes_sha256(const image_update *u, size_t n, char hex[65])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    for (size_t i = 0; i < n; i++) {
        char *part = xasprintf("%s:%s%s%s", u[i].image->ref.short_name, u[i].new_tag,
                               u[i].old_tag ? u[i].old_tag : "", u[i].new_tag);
        EVP_DigestUpdate(ctx, part, strlen(part));
        free(part);
    }
    EVP_DigestFinal_ex(ctx, md, &len);
    EVP_MD_CTX_free(ctx);
    for (unsigned int i = 0; i < len && i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    hex[64] = '\0';
}

int writeback_branches(const argo_app *app, const image_update *updates, size_t n, char **base,
                       char **push, tp_err *err)
{
    *base = *push = NULL;
    /* A chart from a Helm repository: targetRevision is the chart's version, not a branch. */
    const char *rev = !app->chart && app->target_revision && *app->target_revision &&
                              strcmp(app->target_revision, "HEAD") != 0
                          ? app->target_revision
                          : NULL;
    const char *spec = app->settings.git_branch;
    if (!spec || !*spec) {
        *base = xstrdup(rev);
        return 0;
    }
    const char *colon = strchr(spec, ':');
    char *b = colon ? xstrndup(spec, (size_t)(colon - spec)) : xstrdup(spec);
    *base = *str_trim(b) && strcmp(b, "HEAD") != 0 ? b : (free(b), xstrdup(rev));
    if (!colon)
        return 0;
    char sha[65];
    changes_sha256(updates, n, sha);
    const char *rkeys[] = {"SHA256"};
    const char *rvalues[] = {sha};
    tmpl_vars root = {rkeys, rvalues, 1};
    item_table *tables;
    tmpl_vars *items = item_vars(updates, n, &tables);
    strbuf sb = {0};
    int rc = tmpl_render(colon + 1, &root, "Images", items, n, &sb, err);
    free(items);
    free(tables);
    if (rc) {
        tp_err_prefix(err, "app %s: git-branch", app->name);
        strbuf_free(&sb);
        free(*base);
        *base = NULL;
        return -1;
    }
    char *target = str_trim(strbuf_take(&sb));
    if (strlen(target) > 255)
        target[255] = '\0';
    if (!*target || strcmp(target, "HEAD") == 0) {
        free(target);
        *push = NULL;
        return 0;
    }
    if (!branch_name_ok(target)) {
        tp_err_set(err, "app %s: git-branch target '%s' is not a valid branch name", app->name,
                   target);
        free(target);
        free(*base);
        *base = NULL;
        return -1;
    }
    *push = target;
    return 0;
}
