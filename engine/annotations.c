/* annotations: argocd-image-updater's v0.x annotations as typed settings. Options come in two
 * layers, app-wide ("<prefix>update-strategy") and per alias ("<prefix><alias>.update-strategy");
 * each layer is parsed once, then every image takes the alias layer's value when it has one and
 * the app-wide value otherwise. A bad value is reported once in out->errors, naming key and
 * value, and every image it applies to carries that message in its `error`: the image stays
 * listed, but tagpilot never acts on settings it could not read. A bad write-back key puts its
 * message on every image, since tagpilot cannot know where it would write. */
#include "annotations.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "select/imageref.h"
#include "select/strategy.h"
#include "select/tagfilter.h"
#include "annotations_values.h"
#include "util.h"

typedef enum option_state { OPTION_UNSET = 0, OPTION_SET, OPTION_BAD } option_state;

/* One layer of options (app-wide, or one alias), parsed. Owned strings. */
typedef struct layer {
    option_state state[OPT_COUNT];
    char *text[OPT_COUNT]; /* trimmed value for the string-valued options */
    strategy_kind strategy;
    char *strategy_warning; /* copied from strategy_from_name's */
    strvec ignore;
    platform *platforms;
    size_t n_platforms;
    bool force;
    char *error[OPT_COUNT]; /* for an OPTION_BAD option: the messages it added to out->errors */
} layer;

/* The messages v got from index `from` on, joined with "; ", or NULL when there are none. */
static char *msgs_since(const strvec *v, size_t from)
{
    if (from >= v->count)
        return NULL;
    strbuf sb = {0};
    for (size_t i = from; i < v->count; i++)
        strbuf_printf(&sb, "%s%s", i > from ? "; " : "", v->items[i]);
    return strbuf_take(&sb);
}

/* Append msg to a "; "-separated list. */
static void join_msg(strbuf *sb, const char *msg)
{
    if (!msg)
        return;
    if (sb->len)
        strbuf_puts(sb, "; ");
    strbuf_puts(sb, msg);
}

/* The item for key, or NULL: the last one wins, as in a YAML mapping read in order. */
static const annotation *find_item(const annotation *items, size_t n, const char *key)
{
    const annotation *found = NULL;
    for (size_t i = 0; i < n; i++)
        if (items[i].key && str_eq(items[i].key, key))
            found = &items[i];
    return found;
}

static const char *item_value(const annotation *item)
{
    return item ? (item->value ? item->value : "") : NULL;
}

/* Trimmed copy, or NULL when the value is blank (a blank value means "not set", as in AIU). */
static char *trimmed_copy(const char *value)
{
    char *v = str_trim(xstrdup(value));
    if (!*v) {
        free(v);
        return NULL;
    }
    return v;
}

/* Values must be text: UTF-8 without control characters. */
static bool check_text(const char *key, size_t line, const char *value, app_settings *out)
{
    char buf[SHOWN_BUF];
    if (!annotations_utf8_valid((const unsigned char *)value)) {
        annotations_error(out, line, "%s: invalid value '%s' (not UTF-8)", key,
                          annotations_shown(value, buf, sizeof buf));
        return false;
    }
    for (const char *p = value; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            annotations_error(out, line, "%s: invalid value '%s' (control character)", key,
                              annotations_shown(value, buf, sizeof buf));
            return false;
        }
    }
    return true;
}

int annotations_parse_platforms(const char *value, platform **out, size_t *n, tp_err *err)
{
    *out = NULL;
    *n = 0;
    char *copy = xstrdup(value ? value : "");
    size_t cap = 0;
    char *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        if (!*str_trim(item))
            continue;
        char *whole = xstrdup(item), *part[4] = {item, NULL, NULL, NULL};
        size_t parts = 1;
        for (char *p = item; *p && parts < 4; p++)
            if (*p == '/') {
                *p = '\0';
                part[parts++] = p + 1;
            }
        bool ok = parts == 2 || parts == 3;
        for (size_t k = 0; ok && k < parts; k++)
            ok = annotations_platform_part_ok(part[k]);
        if (!ok) {
            char buf[SHOWN_BUF];
            tp_err_set(err, "invalid platform '%s' (want os/arch[/variant])",
                       annotations_shown(whole, buf, sizeof buf));
            free(whole);
            free(copy);
            platforms_free(*out, *n);
            *out = NULL;
            *n = 0;
            return -1;
        }
        free(whole);
        if (*n == cap) {
            cap = cap ? cap * 2 : 4;
            *out = xrealloc(*out, cap * sizeof **out);
        }
        (*out)[(*n)++] = (platform){xstrdup(part[0]), xstrdup(part[1]), xstrdup(part[2])};
    }
    free(copy);
    return 0;
}

static void split_globs(const char *value, strvec *out)
{
    char *copy = xstrdup(value);
    char *save = NULL;
    for (char *glob = strtok_r(copy, ",", &save); glob; glob = strtok_r(NULL, ",", &save))
        if (*str_trim(glob))
            strvec_push(out, glob);
    free(copy);
}

/* Parse one option's trimmed, non-blank value into the layer. */
static option_state parse_option(layer *l, enum option_id id, const char *key, size_t line,
                                 char *value, app_settings *out)
{
    char buf[SHOWN_BUF];
    tp_err err;
    switch (id) {
    case OPT_STRATEGY: {
        const char *warning = NULL; /* may point into a per-thread buffer: copy it now */
        l->strategy = strategy_from_name(value, &warning);
        l->strategy_warning = xstrdup(warning);
        if (warning)
            annotations_warning(out, line, "%s: %s", key, warning);
        free(value);
        return OPTION_SET;
    }
    case OPT_IGNORE_TAGS:
        split_globs(value, &l->ignore);
        free(value);
        return l->ignore.count ? OPTION_SET : OPTION_UNSET;
    case OPT_PLATFORMS:
        if (annotations_parse_platforms(value, &l->platforms, &l->n_platforms, &err) < 0) {
            annotations_error(out, line, "%s: %s", key, err.msg);
            free(value);
            return OPTION_BAD;
        }
        free(value);
        return l->n_platforms ? OPTION_SET : OPTION_UNSET;
    case OPT_FORCE_UPDATE:
        if (annotations_parse_bool(value, &l->force) < 0) {
            annotations_error(out, line,
                              "%s: invalid boolean '%s' (want true/false, yes/no, on/off or 1/0)",
                              key, annotations_shown(value, buf, sizeof buf));
            free(value);
            return OPTION_BAD;
        }
        free(value);
        return OPTION_SET;
    case OPT_ALLOW_TAGS:
    case OPT_TAG_MATCH:
        l->text[id] = value;
        if (!annotations_match_spec_ok(value)) {
            annotations_error(out, line,
                              "%s: unknown match function in '%s' (want regexp:<pattern> or any)",
                              key, annotations_shown(value, buf, sizeof buf));
            return OPTION_BAD;
        }
        /* a pattern that does not compile matches nothing: said here, with the key's line,
         * rather than when the image is checked */
        {
            char *problem = tagfilter_spec_problem(value);
            if (problem) {
                annotations_error(out, line, "%s: %s", key, problem);
                free(problem);
                return OPTION_BAD;
            }
        }
        return OPTION_SET;
    case OPT_PULL_SECRET:
        l->text[id] = value;
        if (!annotations_credentials_ok(value)) {
            annotations_error(out, line,
                              "%s: invalid credential source '%s' (want pullsecret:<ns>/<name>, "
                              "secret:<ns>/<name>#<field>, env:<VAR> or ext:/<path>)",
                              key, annotations_shown(value, buf, sizeof buf));
            return OPTION_BAD;
        }
        return OPTION_SET;
    default: /* helm.*, kustomize.image-name: names, taken as written */
        l->text[id] = value;
        return OPTION_SET;
    }
}

/* Is key ANNOTATION_PREFIX "<form>.<name>" (form NULL: ANNOTATION_PREFIX "<name>")? Compared
 * in place: building each of the 17 keys an alias may have, for every image, was a tenth of
 * reading 1,000 Applications. */
static bool option_key_is(const char *key, const char *form, const char *name)
{
    size_t pl = sizeof ANNOTATION_PREFIX - 1;
    if (!key || strncmp(key, ANNOTATION_PREFIX, pl) != 0)
        return false;
    key += pl;
    if (form) {
        size_t fl = strlen(form);
        if (strncmp(key, form, fl) != 0 || key[fl] != '.')
            return false;
        key += fl + 1;
    }
    return strcmp(key, name) == 0;
}

/* The item setting an option (the last one written, as find_item), or NULL. */
static const annotation *find_option(const annotation *items, size_t n, const char *form,
                                     const char *name)
{
    const annotation *found = NULL;
    for (size_t i = 0; i < n; i++)
        if (option_key_is(items[i].key, form, name))
            found = &items[i];
    return found;
}

/* Read one layer: app-wide when key_form is NULL, else the options of that alias. */
static void layer_load(layer *l, const annotation *items, size_t n, const char *key_form,
                       app_settings *out)
{
    *l = (layer){0};
    for (enum option_id id = 0; id < OPT_COUNT; id++) {
        if (!key_form && !annotation_options[id].app_wide)
            continue;
        const annotation *item = find_option(items, n, key_form, annotation_options[id].name);
        if (!item)
            continue; /* unset */
        char *key =
            key_form ? xasprintf(ANNOTATION_PREFIX "%s.%s", key_form, annotation_options[id].name)
                     : xasprintf(ANNOTATION_PREFIX "%s", annotation_options[id].name);
        size_t line = item->line;
        char *value = trimmed_copy(item_value(item));
        if (value && id == OPT_TAG_MATCH)
            annotations_warning(out, line, "%s: deprecated, use %s.allow-tags", key, key_form);
        size_t errors_before = out->errors.count;
        if (value && !check_text(key, line, value, out)) {
            l->state[id] = OPTION_BAD;
            free(value);
        } else if (value) {
            l->state[id] = parse_option(l, id, key, line, value, out);
        }
        if (l->state[id] == OPTION_BAD)
            l->error[id] = msgs_since(&out->errors, errors_before);
        free(key);
    }
}

static void layer_free(layer *l)
{
    for (size_t i = 0; i < OPT_COUNT; i++) {
        free(l->text[i]);
        free(l->error[i]);
    }
    free(l->strategy_warning);
    strvec_free(&l->ignore);
    platforms_free(l->platforms, l->n_platforms);
}

static void image_settings_free(image_settings *s)
{
    free(s->alias);
    imageref_free(&s->ref);
    free(s->constraint);
    free(s->strategy_warning);
    free(s->allow_tags);
    strvec_free(&s->ignore_tags);
    platforms_free(s->platforms, s->n_platforms);
    free(s->pull_secret);
    free(s->helm_image_name);
    free(s->helm_image_tag);
    free(s->helm_image_spec);
    free(s->kustomize_image_name);
    free(s->error);
}

/* The layer an option comes from for one image: its alias's, else the app-wide one. */
static const layer *pick(const layer *alias_layer, const layer *app, enum option_id id)
{
    if (alias_layer && alias_layer->state[id] != OPTION_UNSET)
        return alias_layer;
    if (annotation_options[id].app_wide && app->state[id] != OPTION_UNSET)
        return app;
    return NULL;
}

/* Fill s from the layers. s->error gets writeback_error (the write-back keys' messages, or NULL)
 * and the messages of the bad options that apply to this image, in the order out->errors has
 * them: write-back, app-wide, then the alias's own; it stays NULL when there are none. */
static void settle_image(image_settings *s, const layer *own, const layer *app,
                         const char *writeback_error)
{
    strbuf errors = {0};
    join_msg(&errors, writeback_error);
    const layer *const layers[] = {app, own};
    for (size_t k = 0; k < sizeof layers / sizeof layers[0]; k++) {
        for (enum option_id id = 0; id < OPT_COUNT; id++) {
            if (id == OPT_TAG_MATCH && pick(own, app, OPT_ALLOW_TAGS))
                continue; /* tag-match is read only when no allow-tags applies */
            const layer *from = pick(own, app, id);
            if (from && from == layers[k] && from->state[id] == OPTION_BAD)
                join_msg(&errors, from->error[id]);
        }
    }
    s->error = errors.len ? strbuf_take(&errors) : NULL;
    strbuf_free(&errors);

    const layer *from = pick(own, app, OPT_STRATEGY);
    s->strategy = from ? from->strategy : STRATEGY_SEMVER;
    s->strategy_warning = from ? xstrdup(from->strategy_warning) : NULL;

    from = pick(own, app, OPT_ALLOW_TAGS);
    if (!from && own && own->state[OPT_TAG_MATCH] != OPTION_UNSET) {
        s->allow_tags = xstrdup(own->text[OPT_TAG_MATCH]);
    } else if (from) {
        s->allow_tags = xstrdup(from->text[OPT_ALLOW_TAGS]);
    }
    if ((from = pick(own, app, OPT_IGNORE_TAGS)))
        for (size_t i = 0; i < from->ignore.count; i++)
            strvec_push(&s->ignore_tags, from->ignore.items[i]);
    if ((from = pick(own, app, OPT_PLATFORMS))) {
        s->platforms = annotations_platforms_copy(from->platforms, from->n_platforms);
        s->n_platforms = from->n_platforms;
    }
    from = pick(own, app, OPT_FORCE_UPDATE);
    s->force_update = from && from->force;
    if ((from = pick(own, app, OPT_PULL_SECRET)))
        s->pull_secret = xstrdup(from->text[OPT_PULL_SECRET]);
    if (own) {
        s->helm_image_name = xstrdup(own->text[OPT_HELM_NAME]);
        s->helm_image_tag = xstrdup(own->text[OPT_HELM_TAG]);
        s->helm_image_spec = xstrdup(own->text[OPT_HELM_SPEC]);
        s->kustomize_image_name = xstrdup(own->text[OPT_KUSTOMIZE_NAME]);
    }
}

/* ---- app-level keys ---- */

/* The trimmed value of an app-level key, or NULL when absent or blank; *owned is freed by the
 * caller, *line is the key's. */
static const char *app_value(const annotation *items, size_t n, const char *name, char **owned,
                             size_t *line)
{
    char key[128];
    snprintf(key, sizeof key, ANNOTATION_PREFIX "%s", name);
    const annotation *item = find_item(items, n, key);
    *owned = item ? trimmed_copy(item_value(item)) : NULL;
    *line = item ? item->line : 0;
    return *owned;
}

/* Returns false when the method is invalid. */
static bool parse_method(const char *key, size_t line, const char *v, app_settings *out)
{
    char buf[SHOWN_BUF];
    if (strcmp(v, "argocd") == 0)
        return true;
    if (strcmp(v, "git") == 0) {
        out->writeback = WRITEBACK_GIT;
        return true;
    }
    if (str_starts_with(v, "git:")) {
        const char *creds = v + 4;
        if (strcmp(creds, "repocreds") == 0) {
            out->writeback = WRITEBACK_GIT;
            out->writeback_repocreds = true;
            return true;
        }
        if (str_starts_with(creds, "secret:")) {
            const char *name = creds + 7;
            size_t len = strlen(name);
            bool ok = len > 0 && (!strchr(name, '/') || annotations_ns_name_ok(name, len));
            if (ok) {
                out->writeback = WRITEBACK_GIT;
                out->writeback_secret = xstrdup(name);
                return true;
            }
            annotations_error(out, line,
                              "%s: invalid secret '%s' in '%s' (want git:secret:[<ns>/]<name>)",
                              key, annotations_shown(name, buf, sizeof buf), v);
            return false;
        }
        annotations_error(out, line,
                          "%s: unknown credentials in '%s' (want git, git:repocreds or "
                          "git:secret:[<ns>/]<name>)",
                          key, annotations_shown(v, buf, sizeof buf));
        return false;
    }
    annotations_error(out, line,
                      "%s: unknown method '%s' (want argocd, git, git:repocreds or "
                      "git:secret:[<ns>/]<name>)",
                      key, annotations_shown(v, buf, sizeof buf));
    return false;
}

static bool parse_target(const char *key, size_t line, const char *v, app_settings *out)
{
    static const struct {
        const char *word;
        writeback_target_kind kind;
    } targets[] = {{"kustomization", TARGET_KUSTOMIZATION}, {"helmvalues", TARGET_HELMVALUES}};
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        size_t len = strlen(targets[i].word);
        if (strncmp(v, targets[i].word, len) == 0 && (v[len] == '\0' || v[len] == ':')) {
            out->target = targets[i].kind;
            if (v[len] == ':' && v[len + 1])
                out->target_path = xstrdup(v + len + 1);
            return true;
        }
    }
    char buf[SHOWN_BUF];
    annotations_error(
        out, line, "%s: unknown target '%s' (want kustomization[:<path>] or helmvalues[:<file>])",
        key, annotations_shown(v, buf, sizeof buf));
    return false;
}

/* Write-back keys. Returns false when any is invalid. */
static bool parse_writeback(const annotation *items, size_t n, app_settings *out)
{
    bool ok = true;
    char *v;
    size_t line;
    if (app_value(items, n, "write-back-method", &v, &line)) {
        const char *key = ANNOTATION_PREFIX "write-back-method";
        ok = check_text(key, line, v, out) && parse_method(key, line, v, out);
        free(v);
    }
    bool method_ok = ok;
    static const char *const git_only[] = {"write-back-target", "git-branch", "git-repository"};
    for (size_t i = 0; i < sizeof git_only / sizeof git_only[0]; i++) {
        if (!app_value(items, n, git_only[i], &v, &line))
            continue;
        char *key = xasprintf(ANNOTATION_PREFIX "%s", git_only[i]);
        if (!check_text(key, line, v, out)) {
            ok = false;
        } else if (i == 0) {
            ok = parse_target(key, line, v, out) && ok;
        } else if (i == 1) {
            const char *colon = strchr(v, ':');
            if (colon && strchr(colon + 1, ':')) {
                char buf[SHOWN_BUF];
                annotations_error(
                    out, line,
                    "%s: invalid branch '%s' (want <branch>, <base>:<target> or :<target>)", key,
                    annotations_shown(v, buf, sizeof buf));
                ok = false;
            } else {
                out->git_branch = xstrdup(v);
            }
        } else {
            out->git_repository = xstrdup(v);
        }
        if (method_ok && out->writeback == WRITEBACK_ARGOCD)
            annotations_warning(out, line, "%s: has no effect with write-back-method argocd", key);
        free(key);
        free(v);
    }
    return ok;
}

static void parse_approval(const annotation *items, size_t n, app_settings *out)
{
    const annotation *item = find_item(items, n, ANNOTATION_APPROVAL);
    char *v = item ? trimmed_copy(item_value(item)) : NULL;
    if (!v)
        return;
    if (strcasecmp(v, "auto") == 0) {
        out->approval = APPROVAL_AUTO;
    } else if (strcasecmp(v, "manual") == 0) {
        out->approval = APPROVAL_MANUAL;
    } else {
        char buf[SHOWN_BUF];
        annotations_error(out, item->line,
                          "%s: unknown policy '%s' (want auto or manual; using manual)",
                          ANNOTATION_APPROVAL, annotations_shown(v, buf, sizeof buf));
        out->approval = APPROVAL_MANUAL; /* a typo must not turn approvals off */
    }
    free(v);
}

/* The first key under the prefix, for an app that has such keys but no image-list. */
static const annotation *first_prefixed(const annotation *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (items[i].key && str_starts_with(items[i].key, ANNOTATION_PREFIX))
            return &items[i];
    return NULL;
}

void annotations_parse(const annotation *items, size_t n, app_settings *out)
{
    *out = (app_settings){0};
    image_list list = {0};
    const char *list_key = ANNOTATION_PREFIX "image-list";
    const annotation *list_item = find_item(items, n, list_key);
    const char *list_value = item_value(list_item);
    if (list_item) {
        strvec list_errors = {0};
        imageref_parse_list(list_value, &list, &list_errors);
        for (size_t i = 0; i < list_errors.count; i++)
            annotations_error(out, list_item->line, "%s: %s", list_key, list_errors.items[i]);
        if (list.count == 0 && list_errors.count == 0)
            annotations_warning(out, list_item->line, "%s: empty, no image is tracked", list_key);
        strvec_free(&list_errors);
    } else if (first_prefixed(items, n)) {
        const annotation *first = first_prefixed(items, n);
        char buf[SHOWN_BUF];
        annotations_warning(out, first->line,
                            "%s: ignored: the Application has no %s, no image is tracked",
                            annotations_shown(first->key, buf, sizeof buf), list_key);
    }

    size_t errors_before = out->errors.count;
    char *writeback_error = NULL;
    if (!parse_writeback(items, n, out))
        writeback_error = msgs_since(&out->errors, errors_before);
    parse_approval(items, n, out);
    annotations_check_keys(items, n, &list, list_value, out);

    layer app;
    layer_load(&app, items, n, NULL, out);
    out->images = list.count ? xcalloc(list.count, sizeof *out->images) : NULL;
    for (size_t i = 0; i < list.count; i++) {
        const image_entry *e = &list.items[i];
        image_settings *s = &out->images[out->n_images++];
        *s = (image_settings){0};
        s->alias = xstrdup(e->alias ? e->alias : e->ref.short_name);
        imageref_copy(&s->ref, &e->ref);
        s->constraint = xstrdup(e->constraint);
        layer own;
        char *key = e->alias ? annotations_alias_key(e->alias) : NULL;
        if (key)
            layer_load(&own, items, n, key, out);
        settle_image(s, key ? &own : NULL, &app, writeback_error);
        if (key)
            layer_free(&own);
        free(key);
    }
    free(writeback_error);
    layer_free(&app);
    image_list_free(&list);
}

void app_settings_free(app_settings *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_images; i++)
        image_settings_free(&s->images[i]);
    free(s->images);
    free(s->writeback_secret);
    free(s->target_path);
    free(s->git_branch);
    free(s->git_repository);
    strvec_free(&s->errors);
    strvec_free(&s->warnings);
    free(s->error_lines);
    free(s->warning_lines);
    *s = (app_settings){0};
}
