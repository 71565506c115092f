/* annotations_keys: which keys argocd-image-updater's annotations have, and the warnings about
 * keys nobody reads — unknown or misspelt ones (with the closest known key when it is near
 * enough to be a typo), and per-alias keys of an alias the image-list does not have. */
#include <stdlib.h>
#include <string.h>

#include "annotations.h"
#include "annotations_values.h"
#include "select/imageref.h"
#include "util.h"

const struct annotation_option annotation_options[OPT_COUNT] = {
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

const char *const annotation_app_keys[ANNOTATION_N_APP_KEYS] = {
    "image-list", "write-back-method", "write-back-target", "git-branch", "git-repository"};

char *annotations_alias_key(const char *alias)
{
    char *key = xstrdup(alias);
    for (char *p = key; *p; p++)
        if (*p == '/')
            *p = '_';
    return key;
}

/* ---- keys nobody reads ---- */

static bool is_app_key(const char *rest)
{
    for (size_t i = 0; i < ANNOTATION_N_APP_KEYS; i++)
        if (strcmp(rest, annotation_app_keys[i]) == 0)
            return true;
    for (size_t i = 0; i < OPT_COUNT; i++)
        if (annotation_options[i].app_wide && strcmp(rest, annotation_options[i].name) == 0)
            return true;
    return false;
}

#define SUGGEST_ALIASES 64 /* aliases whose keys a typo is compared with */
#define SUGGEST_KEYS    32 /* keys per app that get a suggestion: bounds a hostile file's cost */

/* The key (after the prefix) closest to `rest` among those the app could mean — the app-level
 * keys, the app-wide options, and every option of every alias in the list — when it is close
 * enough to be a typo; NULL otherwise, or once *budget searches are spent. Owned by the
 * caller. */
static char *closest_key(const char *rest, const image_list *list, size_t *budget)
{
    if (*budget == 0)
        return NULL;
    --*budget;
    strvec known = {0};
    for (size_t i = 0; i < ANNOTATION_N_APP_KEYS; i++)
        strvec_push(&known, annotation_app_keys[i]);
    for (size_t o = 0; o < OPT_COUNT; o++)
        if (annotation_options[o].app_wide)
            strvec_push(&known, annotation_options[o].name);
    for (size_t i = 0; i < list->count && i < SUGGEST_ALIASES; i++) {
        if (!list->items[i].alias)
            continue;
        char *alias = annotations_alias_key(list->items[i].alias);
        for (size_t o = 0; o < OPT_COUNT; o++) {
            char *key = xasprintf("%s.%s", alias, annotation_options[o].name);
            strvec_push(&known, key);
            free(key);
        }
        free(alias);
    }
    const char *best = annotations_closest(rest, (const char *const *)known.items, known.count);
    char *found = xstrdup(best);
    strvec_free(&known);
    return found;
}

/* The alias of the list (in its key form) closest to alias_part, when near enough to be a typo
 * of it; NULL otherwise, or once *budget searches are spent. Owned by the caller. */
static char *closest_alias(const char *alias_part, const image_list *list, size_t *budget)
{
    if (*budget == 0)
        return NULL;
    --*budget;
    strvec aliases = {0};
    for (size_t i = 0; i < list->count && i < SUGGEST_ALIASES; i++) {
        if (!list->items[i].alias)
            continue;
        char *alias = annotations_alias_key(list->items[i].alias);
        strvec_push(&aliases, alias);
        free(alias);
    }
    const char *best =
        annotations_closest(alias_part, (const char *const *)aliases.items, aliases.count);
    char *found = xstrdup(best);
    strvec_free(&aliases);
    return found;
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
        char *alias = annotations_alias_key(str_trim(item));
        found = strcmp(alias, key_form) == 0;
        free(alias);
    }
    free(copy);
    return found;
}

/* Warn about a per-alias key whose alias part is not an alias of the list. */
static void check_alias_key(const annotation *item, const char *alias_part, const char *option,
                            const image_list *list, const char *list_value, size_t *budget,
                            app_settings *out)
{
    const char *key = item->key;
    char *normal = annotations_alias_key(alias_part);
    for (size_t i = 0; i < list->count; i++) {
        const image_entry *e = &list->items[i];
        if (e->alias) {
            char *k = annotations_alias_key(e->alias);
            bool same = strcmp(k, alias_part) == 0, slash_form = strcmp(k, normal) == 0;
            free(k);
            if (same)
                goto done;
            if (slash_form) {
                annotations_warning(out, item->line,
                                    "%s: ignored: write alias '%s' as '%s' in annotation keys", key,
                                    e->alias, normal);
                goto done;
            }
        } else if (strcmp(e->ref.short_name, alias_part) == 0) {
            annotations_warning(
                out, item->line,
                "%s: ignored: image '%s' has no alias in the image-list (write '%s=%s' to "
                "set options for it)",
                key, alias_part, alias_part, alias_part);
            goto done;
        }
    }
    /* an entry that failed to parse already has its error */
    if (!alias_written(list_value, alias_part)) {
        char buf[2][SHOWN_BUF];
        /* a misspelt alias: the alias is compared, not the whole key, so that a short alias
         * dropped from the list is not taken for another one */
        char *typo = closest_alias(alias_part, list, budget);
        if (typo)
            annotations_warning(
                out, item->line,
                "%s: ignored: alias '%s' is not in the image-list (did you mean %s.%s?)",
                annotations_shown(key, buf[0], sizeof buf[0]),
                annotations_shown(alias_part, buf[1], sizeof buf[1]), typo, option);
        else
            annotations_warning(out, item->line, "%s: ignored: alias '%s' is not in the image-list",
                                annotations_shown(key, buf[0], sizeof buf[0]),
                                annotations_shown(alias_part, buf[1], sizeof buf[1]));
        free(typo);
    }
done:
    free(normal);
}

static void warn_unknown(const annotation *item, const char *typo, app_settings *out)
{
    char buf[SHOWN_BUF];
    if (typo)
        annotations_warning(out, item->line, "%s: unknown annotation (did you mean %s?)",
                            annotations_shown(item->key, buf, sizeof buf), typo);
    else
        annotations_warning(out, item->line, "%s: unknown annotation (ignored)",
                            annotations_shown(item->key, buf, sizeof buf));
}

bool annotations_is_hold_key(const char *key)
{
    if (!str_starts_with(key, "tagpilot.io/"))
        return false;
    const char *dot = strrchr(key, '.');
    return dot && dot > key + strlen("tagpilot.io/") &&
           (strcmp(dot, ".pin") == 0 || strcmp(dot, ".skip") == 0);
}

void annotations_check_keys(const annotation *items, size_t n, const image_list *list,
                            const char *list_value, app_settings *out)
{
    size_t budget = SUGGEST_KEYS;
    for (size_t i = 0; i < n; i++) {
        const char *key = items[i].key;
        if (!key)
            continue;
        if (str_starts_with(key, "tagpilot.io/") && strcmp(key, ANNOTATION_APPROVAL) != 0 &&
            !annotations_is_hold_key(key)) {
            const char *ours[] = {ANNOTATION_APPROVAL};
            warn_unknown(&items[i], annotations_closest(key, ours, 1), out);
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
            size_t name_len = strlen(annotation_options[o].name);
            if (rest_len > name_len + 1 && rest[rest_len - name_len - 1] == '.' &&
                strcmp(rest + rest_len - name_len, annotation_options[o].name) == 0) {
                char *alias_part = xstrndup(rest, rest_len - name_len - 1);
                check_alias_key(&items[i], alias_part, rest + rest_len - name_len, list, list_value,
                                &budget, out);
                free(alias_part);
                matched = true;
            }
        }
        if (!matched) {
            char *typo = closest_key(rest, list, &budget);
            warn_unknown(&items[i], typo, out);
            free(typo);
        }
    }
}
