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

#include "imageref.h"
#include "strategy.h"
#include "annotations_values.h"
#include "util.h"

#define SHOWN_MAX 80 /* bytes of a value quoted in a message */

enum option_id {
    OPT_STRATEGY,
    OPT_ALLOW_TAGS,
    OPT_IGNORE_TAGS,
    OPT_PLATFORMS,
    OPT_FORCE_UPDATE,
    OPT_PULL_SECRET,
    OPT_HELM_NAME,
    OPT_HELM_TAG,
    OPT_HELM_SPEC,
    OPT_KUSTOMIZE_NAME,
    OPT_TAG_MATCH, /* deprecated spelling of allow-tags, per alias only */
    OPT_COUNT
};

static const struct option_def {
    const char *name; /* key suffix after "<alias>." or the prefix */
    bool app_wide;    /* also accepted without an alias */
} option_defs[OPT_COUNT] = {
    [OPT_STRATEGY] = {"update-strategy", true},
    [OPT_ALLOW_TAGS] = {"allow-tags", true},
    [OPT_IGNORE_TAGS] = {"ignore-tags", true},
    [OPT_PLATFORMS] = {"platforms", true},
    [OPT_FORCE_UPDATE] = {"force-update", true},
    [OPT_PULL_SECRET] = {"pull-secret", true},
    [OPT_HELM_NAME] = {"helm.image-name", false},
    [OPT_HELM_TAG] = {"helm.image-tag", false},
    [OPT_HELM_SPEC] = {"helm.image-spec", false},
    [OPT_KUSTOMIZE_NAME] = {"kustomize.image-name", false},
    [OPT_TAG_MATCH] = {"tag-match", false},
};

/* App-level keys after the prefix (besides the app-wide options above). */
static const char *const app_keys[] = {"image-list", "write-back-method", "write-back-target",
                                       "git-branch", "git-repository"};

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

static void add_msg(strvec *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add_msg(strvec *v, const char *fmt, ...)
{
    strbuf sb = {0};
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(&sb, fmt, ap);
    va_end(ap);
    strvec_push(v, sb.data ? sb.data : "");
    strbuf_free(&sb);
}

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

static bool utf8_valid(const unsigned char *s)
{
    while (*s) {
        size_t n = utf8_sequence_length(s);
        if (!n)
            return false;
        s += n;
    }
    return true;
}

/* A value as a message shows it: UTF-8 text kept, control bytes (and every byte >= 0x80 when the
 * value is not UTF-8) written \xNN, cut at SHOWN_MAX bytes. Returns buf. */
static const char *shown(const char *s, char *buf, size_t cap)
{
    bool utf8 = utf8_valid((const unsigned char *)s);
    size_t out = 0;
    for (size_t i = 0; s[i] && out + 8 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i == SHOWN_MAX) {
            memcpy(buf + out, "...", 3);
            out += 3;
            break;
        }
        if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8))
            out += (size_t)snprintf(buf + out, cap - out, "\\x%02x", c);
        else
            buf[out++] = (char)c;
    }
    buf[out] = '\0';
    return buf;
}

#define SHOWN_BUF (4 * SHOWN_MAX + 8)

static const char *find_value(const annotation *items, size_t n, const char *key)
{
    const char *value = NULL; /* the last one wins, as in a YAML mapping read in order */
    for (size_t i = 0; i < n; i++)
        if (items[i].key && str_eq(items[i].key, key))
            value = items[i].value ? items[i].value : "";
    return value;
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
static bool check_text(const char *key, const char *value, strvec *errors)
{
    char buf[SHOWN_BUF];
    if (!utf8_valid((const unsigned char *)value)) {
        add_msg(errors, "%s: invalid value '%s' (not UTF-8)", key, shown(value, buf, sizeof buf));
        return false;
    }
    for (const char *p = value; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            add_msg(errors, "%s: invalid value '%s' (control character)", key,
                    shown(value, buf, sizeof buf));
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
                       shown(whole, buf, sizeof buf));
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
static option_state parse_option(layer *l, enum option_id id, const char *key, char *value,
                                 app_settings *out)
{
    char buf[SHOWN_BUF];
    tp_err err;
    switch (id) {
    case OPT_STRATEGY: {
        const char *warning = NULL; /* may point into a per-thread buffer: copy it now */
        l->strategy = strategy_from_name(value, &warning);
        l->strategy_warning = xstrdup(warning);
        if (warning)
            add_msg(&out->warnings, "%s: %s", key, warning);
        free(value);
        return OPTION_SET;
    }
    case OPT_IGNORE_TAGS:
        split_globs(value, &l->ignore);
        free(value);
        return l->ignore.count ? OPTION_SET : OPTION_UNSET;
    case OPT_PLATFORMS:
        if (annotations_parse_platforms(value, &l->platforms, &l->n_platforms, &err) < 0) {
            add_msg(&out->errors, "%s: %s", key, err.msg);
            free(value);
            return OPTION_BAD;
        }
        free(value);
        return l->n_platforms ? OPTION_SET : OPTION_UNSET;
    case OPT_FORCE_UPDATE:
        if (annotations_parse_bool(value, &l->force) < 0) {
            add_msg(&out->errors,
                    "%s: invalid boolean '%s' (want true/false, yes/no, on/off or 1/0)", key,
                    shown(value, buf, sizeof buf));
            free(value);
            return OPTION_BAD;
        }
        free(value);
        return OPTION_SET;
    case OPT_ALLOW_TAGS:
    case OPT_TAG_MATCH:
        l->text[id] = value;
        if (!annotations_match_spec_ok(value)) {
            add_msg(&out->errors,
                    "%s: unknown match function in '%s' (want regexp:<pattern> or any)", key,
                    shown(value, buf, sizeof buf));
            return OPTION_BAD;
        }
        return OPTION_SET;
    case OPT_PULL_SECRET:
        l->text[id] = value;
        if (!annotations_credentials_ok(value)) {
            add_msg(&out->errors,
                    "%s: invalid credential source '%s' (want pullsecret:<ns>/<name>, "
                    "secret:<ns>/<name>#<field>, env:<VAR> or ext:/<path>)",
                    key, shown(value, buf, sizeof buf));
            return OPTION_BAD;
        }
        return OPTION_SET;
    default: /* helm.*, kustomize.image-name: names, taken as written */
        l->text[id] = value;
        return OPTION_SET;
    }
}

/* Read one layer: app-wide when key_form is NULL, else the options of that alias. */
static void layer_load(layer *l, const annotation *items, size_t n, const char *key_form,
                       app_settings *out)
{
    *l = (layer){0};
    for (enum option_id id = 0; id < OPT_COUNT; id++) {
        if (!key_form && !option_defs[id].app_wide)
            continue;
        char *key = key_form ? xasprintf(ANNOTATION_PREFIX "%s.%s", key_form, option_defs[id].name)
                             : xasprintf(ANNOTATION_PREFIX "%s", option_defs[id].name);
        const char *raw = find_value(items, n, key);
        char *value = raw ? trimmed_copy(raw) : NULL;
        if (value && id == OPT_TAG_MATCH)
            add_msg(&out->warnings, "%s: deprecated, use %s.allow-tags", key, key_form);
        size_t errors_before = out->errors.count;
        if (value && !check_text(key, value, &out->errors)) {
            l->state[id] = OPTION_BAD;
            free(value);
        } else if (value) {
            l->state[id] = parse_option(l, id, key, value, out);
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
    if (option_defs[id].app_wide && app->state[id] != OPTION_UNSET)
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

static char *alias_key(const char *alias)
{
    char *key = xstrdup(alias);
    for (char *p = key; *p; p++)
        if (*p == '/')
            *p = '_';
    return key;
}

/* ---- app-level keys ---- */

/* The trimmed value of an app-level key, or NULL when absent or blank; *owned is freed by the
 * caller. */
static const char *app_value(const annotation *items, size_t n, const char *name, char **owned)
{
    char key[128];
    snprintf(key, sizeof key, ANNOTATION_PREFIX "%s", name);
    const char *raw = find_value(items, n, key);
    *owned = raw ? trimmed_copy(raw) : NULL;
    return *owned;
}

/* Returns false when the method is invalid. */
static bool parse_method(const char *key, const char *v, app_settings *out)
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
            add_msg(&out->errors, "%s: invalid secret '%s' in '%s' (want git:secret:[<ns>/]<name>)",
                    key, shown(name, buf, sizeof buf), v);
            return false;
        }
        add_msg(&out->errors,
                "%s: unknown credentials in '%s' (want git, git:repocreds or "
                "git:secret:[<ns>/]<name>)",
                key, shown(v, buf, sizeof buf));
        return false;
    }
    add_msg(&out->errors,
            "%s: unknown method '%s' (want argocd, git, git:repocreds or git:secret:[<ns>/]<name>)",
            key, shown(v, buf, sizeof buf));
    return false;
}

static bool parse_target(const char *key, const char *v, app_settings *out)
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
    add_msg(&out->errors,
            "%s: unknown target '%s' (want kustomization[:<path>] or helmvalues[:<file>])", key,
            shown(v, buf, sizeof buf));
    return false;
}

/* Write-back keys. Returns false when any is invalid. */
static bool parse_writeback(const annotation *items, size_t n, app_settings *out)
{
    bool ok = true;
    char *v;
    if (app_value(items, n, "write-back-method", &v)) {
        const char *key = ANNOTATION_PREFIX "write-back-method";
        ok = check_text(key, v, &out->errors) && parse_method(key, v, out);
        free(v);
    }
    bool method_ok = ok;
    static const char *const git_only[] = {"write-back-target", "git-branch", "git-repository"};
    for (size_t i = 0; i < sizeof git_only / sizeof git_only[0]; i++) {
        if (!app_value(items, n, git_only[i], &v))
            continue;
        char *key = xasprintf(ANNOTATION_PREFIX "%s", git_only[i]);
        if (!check_text(key, v, &out->errors)) {
            ok = false;
        } else if (i == 0) {
            ok = parse_target(key, v, out) && ok;
        } else if (i == 1) {
            const char *colon = strchr(v, ':');
            if (colon && strchr(colon + 1, ':')) {
                char buf[SHOWN_BUF];
                add_msg(&out->errors,
                        "%s: invalid branch '%s' (want <branch>, <base>:<target> or :<target>)",
                        key, shown(v, buf, sizeof buf));
                ok = false;
            } else {
                out->git_branch = xstrdup(v);
            }
        } else {
            out->git_repository = xstrdup(v);
        }
        if (method_ok && out->writeback == WRITEBACK_ARGOCD)
            add_msg(&out->warnings, "%s: has no effect with write-back-method argocd", key);
        free(key);
        free(v);
    }
    return ok;
}

static void parse_approval(const annotation *items, size_t n, app_settings *out)
{
    const char *raw = find_value(items, n, ANNOTATION_APPROVAL);
    char *v = raw ? trimmed_copy(raw) : NULL;
    if (!v)
        return;
    if (strcasecmp(v, "auto") == 0) {
        out->approval = APPROVAL_AUTO;
    } else if (strcasecmp(v, "manual") == 0) {
        out->approval = APPROVAL_MANUAL;
    } else {
        char buf[SHOWN_BUF];
        add_msg(&out->errors, "%s: unknown policy '%s' (want auto or manual; using manual)",
                ANNOTATION_APPROVAL, shown(v, buf, sizeof buf));
        out->approval = APPROVAL_MANUAL; /* a typo must not turn approvals off */
    }
    free(v);
}

/* ---- keys nobody reads ---- */

static bool is_app_key(const char *rest)
{
    for (size_t i = 0; i < sizeof app_keys / sizeof app_keys[0]; i++)
        if (strcmp(rest, app_keys[i]) == 0)
            return true;
    for (size_t i = 0; i < OPT_COUNT; i++)
        if (option_defs[i].app_wide && strcmp(rest, option_defs[i].name) == 0)
            return true;
    return false;
}

/* True when the raw image-list has an entry "<alias>=..." with this key form, good or bad. */
static bool alias_written(const char *list_value, const char *key_form)
{
    bool found = false;
    char *copy = xstrdup(list_value ? list_value : "");
    char *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item && !found;
         item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        if (!eq)
            continue;
        *eq = '\0';
        char *alias = alias_key(str_trim(item));
        found = strcmp(alias, key_form) == 0;
        free(alias);
    }
    free(copy);
    return found;
}

/* Warn about a per-alias key whose alias part is not an alias of the list. */
static void check_alias_key(const char *key, const char *alias_part, const image_list *list,
                            const char *list_value, app_settings *out)
{
    char *normal = alias_key(alias_part);
    for (size_t i = 0; i < list->count; i++) {
        const image_entry *e = &list->items[i];
        if (e->alias) {
            char *k = alias_key(e->alias);
            bool same = strcmp(k, alias_part) == 0, slash_form = strcmp(k, normal) == 0;
            free(k);
            if (same)
                goto done;
            if (slash_form) {
                add_msg(&out->warnings, "%s: ignored: write alias '%s' as '%s' in annotation keys",
                        key, e->alias, normal);
                goto done;
            }
        } else if (strcmp(e->ref.short_name, alias_part) == 0) {
            add_msg(&out->warnings,
                    "%s: ignored: image '%s' has no alias in the image-list (write '%s=%s' to "
                    "set options for it)",
                    key, alias_part, alias_part, alias_part);
            goto done;
        }
    }
    /* an entry that failed to parse already has its error */
    if (!alias_written(list_value, alias_part)) {
        char buf[2][SHOWN_BUF];
        add_msg(&out->warnings, "%s: ignored: alias '%s' is not in the image-list",
                shown(key, buf[0], sizeof buf[0]), shown(alias_part, buf[1], sizeof buf[1]));
    }
done:
    free(normal);
}

static void check_keys(const annotation *items, size_t n, const image_list *list,
                       const char *list_value, app_settings *out)
{
    char buf[SHOWN_BUF];
    for (size_t i = 0; i < n; i++) {
        const char *key = items[i].key;
        if (!key)
            continue;
        if (str_starts_with(key, "tagpilot.io/") && strcmp(key, ANNOTATION_APPROVAL) != 0) {
            add_msg(&out->warnings, "unknown annotation '%s' (ignored)",
                    shown(key, buf, sizeof buf));
            continue;
        }
        if (!str_starts_with(key, ANNOTATION_PREFIX))
            continue;
        const char *rest = key + strlen(ANNOTATION_PREFIX);
        if (is_app_key(rest))
            continue;
        size_t rest_len = strlen(rest);
        bool matched = false;
        for (size_t o = 0; o < OPT_COUNT && !matched; o++) {
            size_t name_len = strlen(option_defs[o].name);
            if (rest_len > name_len + 1 && rest[rest_len - name_len - 1] == '.' &&
                strcmp(rest + rest_len - name_len, option_defs[o].name) == 0) {
                char *alias_part = xstrndup(rest, rest_len - name_len - 1);
                check_alias_key(key, alias_part, list, list_value, out);
                free(alias_part);
                matched = true;
            }
        }
        if (!matched)
            add_msg(&out->warnings, "unknown annotation '%s' (ignored)",
                    shown(key, buf, sizeof buf));
    }
}

void annotations_parse(const annotation *items, size_t n, app_settings *out)
{
    *out = (app_settings){0};
    image_list list = {0};
    const char *list_key = ANNOTATION_PREFIX "image-list";
    const char *list_value = find_value(items, n, list_key);
    if (list_value) {
        strvec list_errors = {0};
        imageref_parse_list(list_value, &list, &list_errors);
        for (size_t i = 0; i < list_errors.count; i++)
            add_msg(&out->errors, "%s: %s", list_key, list_errors.items[i]);
        if (list.count == 0 && list_errors.count == 0)
            add_msg(&out->warnings, "%s: empty, no image is tracked", list_key);
        strvec_free(&list_errors);
    }

    size_t errors_before = out->errors.count;
    char *writeback_error = NULL;
    if (!parse_writeback(items, n, out))
        writeback_error = msgs_since(&out->errors, errors_before);
    parse_approval(items, n, out);
    check_keys(items, n, &list, list_value, out);

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
        char *key = e->alias ? alias_key(e->alias) : NULL;
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
    *s = (app_settings){0};
}
