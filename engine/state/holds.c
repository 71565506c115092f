#include "state/holds.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "annotations.h"
#include "select/imageref.h"
#include "yamldoc.h"

#define HOLDS_API_VERSION "tagpilot.io/v1"
#define HOLDS_KIND        "Holds"
#define HOLDS_MAX_FILE    (1u << 20)

/* ---- grammar ---- */

/* An Application name as Kubernetes has it (RFC 1123 subdomain). */
static bool app_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && c != '-' && c != '.')
            return false;
        if ((i == 0 || i == n - 1) && !alnum)
            return false;
    }
    return true;
}

/* Aliases are image short names ("web", "library/nginx") or the names an image-list gives. */
bool holds_alias_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == '/'))
            return false;
    }
    return true;
}

static bool policy_valid(const char *p)
{
    return str_eq(p, "auto") || str_eq(p, "manual");
}

/* ---- the model ---- */

static holds_app *find_app(const holds *h, const char *name)
{
    uintptr_t at = (uintptr_t)strmap_get(&h->index, name);
    return at ? &h->apps[at - 1] : NULL;
}

const holds_app *holds_find(const holds *h, const char *app)
{
    return h && app ? find_app(h, app) : NULL;
}

const holds_image *holds_app_image(const holds_app *a, const char *alias)
{
    for (size_t i = 0; a && alias && i < a->n_images; i++)
        if (strcmp(a->images[i].alias, alias) == 0)
            return &a->images[i];
    return NULL;
}

bool holds_app_skipped(const holds_app *a, const char *alias, const char *tag)
{
    const holds_image *img = holds_app_image(a, alias);
    for (size_t i = 0; img && tag && i < img->skips.count; i++)
        if (strcmp(img->skips.items[i], tag) == 0)
            return true;
    return false;
}

const char *holds_pin_conflict(const holds_app *a, const char *alias, const char *new_tag,
                               const hold_edit *hold)
{
    const holds_image *img = a && a->listed ? holds_app_image(a, alias) : NULL;
    if (!img || !img->pin || (hold && hold->op == HOLD_PIN && str_eq(hold->alias, alias)))
        return NULL;
    size_t len = strcspn(new_tag, "@");
    return strlen(img->pin) == len && strncmp(img->pin, new_tag, len) == 0 ? NULL : img->pin;
}

static holds_app *add_app(holds *h, const char *name)
{
    holds_app *a = find_app(h, name);
    if (a)
        return a;
    h->apps = xrealloc(h->apps, (h->n_apps + 1) * sizeof *h->apps);
    a = &h->apps[h->n_apps++];
    *a = (holds_app){.name = xstrdup(name)};
    strmap_put(&h->index, name, (void *)(uintptr_t)h->n_apps);
    return a;
}

static holds_image *add_image(holds_app *a, const char *alias)
{
    holds_image *img = (holds_image *)holds_app_image(a, alias);
    if (img)
        return img;
    a->images = xrealloc(a->images, (a->n_images + 1) * sizeof *a->images);
    img = &a->images[a->n_images++];
    *img = (holds_image){.alias = xstrdup(alias)};
    return img;
}

static void image_free(holds_image *img)
{
    free(img->alias);
    free(img->pin);
    strvec_free(&img->skips);
}

void holds_app_clear(holds_app *a)
{
    for (size_t i = 0; i < a->n_images; i++)
        image_free(&a->images[i]);
    free(a->images);
    free(a->name);
    free(a->policy);
    free(a->error);
    *a = (holds_app){0};
}

void holds_app_free(holds_app *a)
{
    if (!a)
        return;
    holds_app_clear(a);
    free(a);
}

void holds_free(holds *h)
{
    for (size_t i = 0; i < h->n_apps; i++)
        holds_app_clear(&h->apps[i]);
    free(h->apps);
    strmap_free(&h->index);
    *h = (holds){0};
}

holds_app *holds_app_dup(const holds_app *a)
{
    if (!a)
        return NULL;
    holds_app *c = xcalloc(1, sizeof *c);
    c->name = xstrdup(a->name);
    c->policy = a->policy ? xstrdup(a->policy) : NULL;
    c->error = a->error ? xstrdup(a->error) : NULL;
    c->listed = a->listed;
    c->images = xcalloc(a->n_images ? a->n_images : 1, sizeof *c->images);
    c->n_images = a->n_images;
    for (size_t i = 0; i < a->n_images; i++) {
        c->images[i].alias = xstrdup(a->images[i].alias);
        c->images[i].pin = a->images[i].pin ? xstrdup(a->images[i].pin) : NULL;
        for (size_t k = 0; k < a->images[i].skips.count; k++)
            strvec_push(&c->images[i].skips, a->images[i].skips.items[k]);
    }
    return c;
}

/* Add tag to the skips (once; the oldest goes when there are too many). 1 when added. */
static int add_skip(holds_image *img, const char *tag)
{
    for (size_t i = 0; i < img->skips.count; i++)
        if (strcmp(img->skips.items[i], tag) == 0)
            return 0;
    if (img->skips.count >= HOLDS_MAX_SKIPS) {
        free(img->skips.items[0]);
        memmove(img->skips.items, img->skips.items + 1,
                (img->skips.count - 1) * sizeof *img->skips.items);
        img->skips.count--;
    }
    strvec_push(&img->skips, tag);
    return 1;
}

/* Messages show what they refuse without its control bytes. */
static int refuse(tp_err *err, const char *fmt, const char *a, const char *b, const char *c)
{
    char *pa = str_printable(a ? a : ""), *pb = str_printable(b ? b : ""),
         *pc = str_printable(c ? c : "");
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    tp_err_set(err, fmt, pa, pb, pc);
#pragma GCC diagnostic pop
    free(pa);
    free(pb);
    free(pc);
    return -1;
}

static int check_edit(const hold_edit *e, tp_err *err)
{
    if (!app_valid(e->app))
        return refuse(err, "holds: '%s' is no Application name%s%s", e->app, "", "");
    if (e->op == HOLD_POLICY)
        return policy_valid(e->value) ? 0 : tp_err_set(err, "holds: policy must be auto or manual");
    if (!holds_alias_valid(e->alias))
        return refuse(err, "holds: app %s: '%s' is no image alias tagpilot can hold%s", e->app,
                      e->alias, "");
    if (e->op != HOLD_UNPIN && !imageref_tag_valid(e->value))
        return refuse(err, "holds: %s/%s: '%s' is no tag", e->app, e->alias, e->value);
    return 0;
}

int holds_app_apply(holds_app *a, const hold_edit *e, tp_err *err)
{
    if (check_edit(e, err) < 0)
        return -1;
    bool was_listed = a->listed;
    a->listed = true;
    int changed = !was_listed;
    if (e->op == HOLD_POLICY) {
        if (str_eq(a->policy, e->value))
            return changed;
        free(a->policy);
        a->policy = xstrdup(e->value);
        return 1;
    }
    holds_image *img = (holds_image *)holds_app_image(a, e->alias);
    if (!img && e->op == HOLD_UNPIN)
        return changed;
    if (!img && a->n_images >= HOLDS_MAX_IMAGES)
        return tp_err_set(err, "holds: app %s holds more than %d images", e->app, HOLDS_MAX_IMAGES);
    img = add_image(a, e->alias);
    if (e->op == HOLD_UNPIN) {
        if (!img->pin)
            return changed;
        free(img->pin);
        img->pin = NULL;
        return 1;
    }
    if (e->op == HOLD_SKIP)
        return add_skip(img, e->value) | changed;
    if (str_eq(img->pin, e->value))
        return changed;
    free(img->pin);
    img->pin = xstrdup(e->value);
    return 1;
}

int holds_apply(holds *h, const hold_edit *e, tp_err *err)
{
    if (check_edit(e, err) < 0)
        return -1;
    return holds_app_apply(add_app(h, e->app), e, err);
}

/* ---- the file ---- */

static int node_err(tp_err *err, const char *name, const ynode *n, const char *what)
{
    return tp_err_set(err, "%s:%zu:%zu: %s", name, n ? n->line : 0, n ? n->column : 0, what);
}

static const ynode *map_of(const ynode *n)
{
    n = ynode_deref(n);
    return n && n->kind == YNODE_MAP ? n : NULL;
}

/* A scalar's text, NULL for anything else and for text with a NUL inside (which C would cut). */
static const char *scalar(const ynode *n)
{
    const char *s = ynode_str(n);
    n = ynode_deref(n);
    return s && strlen(s) == n->value_len ? s : NULL;
}

/* No key twice in map: a reader seeing the first and a reviewer the second would disagree. */
static int unique_keys(const ynode *map, const char *name, tp_err *err)
{
    strmap seen = {0};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i + 1 < map->n_children; i += 2) {
        const char *key = scalar(map->children[i]);
        if (!key)
            rc = node_err(err, name, map->children[i], "a key must be plain text");
        else if (strmap_put(&seen, key, (void *)1))
            rc = node_err(err, name, map->children[i], "a key given twice");
    }
    strmap_free(&seen);
    return rc;
}

/* Every key of map must be one of allowed (NULL-terminated), each once. */
static int known_keys(const ynode *map, const char *const *allowed, const char *name, tp_err *err)
{
    if (unique_keys(map, name, err) < 0)
        return -1;
    for (size_t i = 0; i + 1 < map->n_children; i += 2) {
        const char *key = ynode_str(map->children[i]);
        bool ok = false;
        for (size_t k = 0; key && allowed[k]; k++)
            ok |= strcmp(key, allowed[k]) == 0;
        if (!ok) {
            char *shown = str_printable(key ? key : "?");
            char *what = xasprintf("unknown key '%s' (a typo here would drop a hold)", shown);
            node_err(err, name, map->children[i], what);
            free(what);
            free(shown);
            return -1;
        }
    }
    return 0;
}

static int parse_image(holds *h, const char *app, const ynode *key, const ynode *val,
                       const char *name, tp_err *err)
{
    static const char *const keys[] = {"pin", "skip", NULL};
    const char *alias = scalar(key);
    if (!holds_alias_valid(alias))
        return node_err(err, name, key, "not an image alias");
    const ynode *m = map_of(val);
    if (!m)
        return node_err(err, name, val, "an image's holds must be a map (pin, skip)");
    if (known_keys(m, keys, name, err) < 0)
        return -1;
    const ynode *pin = ynode_get(m, "pin");
    if (pin && !ynode_is_null(pin)) {
        hold_edit e = {HOLD_PIN, app, alias, scalar(pin)};
        if (holds_apply(h, &e, err) < 0)
            return tp_err_prefix(err, "%s:%zu", name, pin->line), -1;
    }
    const ynode *skip = ynode_deref(ynode_get(m, "skip"));
    if (skip && !ynode_is_null(skip) && skip->kind != YNODE_SEQ)
        return node_err(err, name, skip, "skip must be a list of tags");
    for (size_t i = 0; skip && skip->kind == YNODE_SEQ && i < skip->n_children; i++) {
        hold_edit e = {HOLD_SKIP, app, alias, scalar(skip->children[i])};
        if (holds_apply(h, &e, err) < 0)
            return tp_err_prefix(err, "%s:%zu", name, skip->children[i]->line), -1;
    }
    return 0;
}

static int parse_app(holds *h, const ynode *key, const ynode *val, const char *name, tp_err *err)
{
    static const char *const keys[] = {"policy", "images", NULL};
    const char *app = scalar(key);
    if (!app_valid(app))
        return node_err(err, name, key, "not an Application name");
    if (find_app(h, app))
        return node_err(err, name, key, "an application given twice");
    const ynode *m = map_of(val);
    if (!m)
        return node_err(err, name, val, "an application's holds must be a map (policy, images)");
    if (known_keys(m, keys, name, err) < 0)
        return -1;
    add_app(h, app)->listed = true;
    const ynode *policy = ynode_get(m, "policy");
    if (policy && !ynode_is_null(policy)) {
        hold_edit e = {HOLD_POLICY, app, NULL, scalar(policy)};
        if (holds_apply(h, &e, err) < 0)
            return node_err(err, name, policy, "policy must be auto or manual");
    }
    const ynode *images = ynode_get(m, "images");
    if (images && ynode_is_null(images))
        return 0;
    const ynode *im = images ? map_of(images) : NULL;
    if (images && !im)
        return node_err(err, name, images, "images must be a map of alias to holds");
    if (im && unique_keys(im, name, err) < 0)
        return -1;
    for (size_t i = 0; im && i + 1 < im->n_children; i += 2)
        if (parse_image(h, app, im->children[i], im->children[i + 1], name, err) < 0)
            return -1;
    return 0;
}

int holds_parse(const char *text, size_t len, const char *name, holds *out, tp_err *err)
{
    *out = (holds){0};
    if (len > HOLDS_MAX_FILE)
        return tp_err_set(err, "%s: %zu bytes, more than a holds file may have (%u)", name, len,
                          HOLDS_MAX_FILE);
    ydoc doc;
    if (yamldoc_parse(text, len, name, &doc, err) < 0)
        return -1;
    int rc = 0;
    static const char *const keys[] = {"apiVersion", "kind", "applications", NULL};
    const ynode *root = doc.n_roots ? map_of(doc.roots[0]) : NULL;
    if (doc.n_roots > 1)
        rc = tp_err_set(err, "%s: one YAML document expected, found %zu", name, doc.n_roots);
    else if (doc.n_roots && doc.roots[0] && !ynode_is_null(doc.roots[0]) && !root)
        rc = node_err(err, name, doc.roots[0], "the holds must be a map");
    else if (root && known_keys(root, keys, name, err) < 0)
        rc = -1;
    else if (root && !str_eq(scalar(ynode_get(root, "apiVersion")), HOLDS_API_VERSION))
        rc = node_err(err, name, root, "apiVersion must be " HOLDS_API_VERSION);
    else if (root && !str_eq(ynode_str(ynode_get(root, "kind")), HOLDS_KIND))
        rc = node_err(err, name, root, "kind must be " HOLDS_KIND);
    const ynode *apps = root ? ynode_get(root, "applications") : NULL;
    const ynode *am = apps && !ynode_is_null(apps) ? map_of(apps) : NULL;
    if (rc == 0 && am && unique_keys(am, name, err) < 0)
        rc = -1;
    if (rc == 0 && apps && !ynode_is_null(apps) && !am)
        rc = node_err(err, name, apps, "applications must be a map of name to holds");
    for (size_t i = 0; rc == 0 && am && i + 1 < am->n_children; i += 2)
        rc = parse_app(out, am->children[i], am->children[i + 1], name, err);
    yamldoc_free(&doc);
    if (rc < 0)
        holds_free(out);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const holds_app *)a)->name, ((const holds_app *)b)->name);
}

static int by_alias(const void *a, const void *b)
{
    return strcmp(((const holds_image *)a)->alias, ((const holds_image *)b)->alias);
}

static bool image_empty(const holds_image *img)
{
    return !img->pin && img->skips.count == 0;
}

char *holds_render(const holds *h)
{
    /* Sorted copies of the order only: the file's order never depends on edit order. */
    holds_app *apps = xcalloc(h->n_apps ? h->n_apps : 1, sizeof *apps);
    if (h->n_apps)
        memcpy(apps, h->apps, h->n_apps * sizeof *apps);
    qsort(apps, h->n_apps, sizeof *apps, by_name);
    strbuf sb = {0};
    strbuf_puts(&sb, "# tagpilot's holds: pins, skipped tags and approval policies that every "
                     "tagpilot\n"
                     "# engine writing to this repository follows (docs/writeback.md, \"Shared "
                     "holds\").\n"
                     "# Written by tagpilot; review and revert it like any other change.\n");
    strbuf_puts(&sb, "apiVersion: " HOLDS_API_VERSION "\nkind: " HOLDS_KIND "\napplications:");
    size_t shown = 0;
    for (size_t i = 0; i < h->n_apps; i++) {
        const holds_app *a = &apps[i];
        holds_image *images = xcalloc(a->n_images ? a->n_images : 1, sizeof *images);
        size_t n = 0;
        for (size_t k = 0; k < a->n_images; k++)
            if (!image_empty(&a->images[k]))
                images[n++] = a->images[k];
        qsort(images, n, sizeof *images, by_alias);
        /* A listed app stays, even with nothing held: its holds are the shared ones. Names and
         * tags were checked against their grammars, so quoting cannot break; quoted, a name
         * such as "null" or "1" stays a name for every YAML reader. */
        if (a->listed || n || a->policy) {
            strbuf_printf(&sb, "\n  \"%s\":", a->name);
            if (!n && !a->policy)
                strbuf_puts(&sb, " {}");
            if (a->policy)
                strbuf_printf(&sb, "\n    policy: %s", a->policy);
            if (n)
                strbuf_puts(&sb, "\n    images:");
            for (size_t k = 0; k < n; k++) {
                strbuf_printf(&sb, "\n      \"%s\":", images[k].alias);
                if (images[k].pin)
                    strbuf_printf(&sb, "\n        pin: \"%s\"", images[k].pin);
                if (images[k].skips.count) {
                    strbuf_puts(&sb, "\n        skip:");
                    for (size_t s = 0; s < images[k].skips.count; s++)
                        strbuf_printf(&sb, "\n          - \"%s\"", images[k].skips.items[s]);
                }
            }
            shown++;
        }
        free(images);
    }
    strbuf_puts(&sb, shown ? "\n" : " {}\n");
    free(apps);
    return strbuf_take(&sb);
}

/* ---- annotations ---- */

static bool annotation_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && c != '-' && c != '_' && c != '.')
            return false;
        if ((i == 0 || i == n - 1) && !alnum)
            return false;
    }
    return true;
}

char *holds_annotation_key(const char *alias, const char *what, tp_err *err)
{
    char *name = xasprintf("%s.%s", alias ? alias : "", what);
    if (!holds_alias_valid(alias) || !annotation_name_ok(name)) {
        free(name);
        tp_err_set(err,
                   "the alias '%s' cannot name an annotation (%s<alias>.%s: at most 63 "
                   "characters of A-Z a-z 0-9 - _ .)",
                   alias ? alias : "", HOLDS_ANNOTATION_PREFIX, what);
        return NULL;
    }
    char *key = xasprintf("%s%s", HOLDS_ANNOTATION_PREFIX, name);
    free(name);
    return key;
}

char *holds_skips_joined(const holds_image *img)
{
    strbuf sb = {0};
    strbuf_append(&sb, "", 0);
    for (size_t i = 0; img && i < img->skips.count; i++)
        strbuf_printf(&sb, "%s%s", i ? "," : "", img->skips.items[i]);
    return strbuf_take(&sb);
}

/* One tagpilot.io/ annotation into a (the app's holds). */
static int from_annotation(holds_app *a, const char *key, const char *value, tp_err *err)
{
    if (str_eq(key, HOLDS_ANNOTATION_POLICY)) {
        /* The approval annotation was there before holds were shared: it alone does not make
         * the app's pins the annotations' (those recorded in a journal would be dropped). */
        bool listed = a->listed;
        hold_edit e = {HOLD_POLICY, a->name, NULL, value};
        int rc = holds_app_apply(a, &e, err);
        a->listed = listed;
        return rc;
    }
    if (!annotations_is_hold_key(key)) {
        char *shown = str_printable(key);
        tp_err_set(err, "unknown annotation %s (tagpilot's: approval, <alias>.pin, <alias>.skip)",
                   shown);
        free(shown);
        return -1;
    }
    const char *name = key + strlen(HOLDS_ANNOTATION_PREFIX);
    const char *dot = strrchr(name, '.');
    char *alias = xstrndup(name, (size_t)(dot - name));
    int rc = 0;
    a->listed = true;
    if (str_eq(dot, ".pin") && *value) {
        hold_edit e = {HOLD_PIN, a->name, alias, value};
        rc = holds_app_apply(a, &e, err);
    } else if (str_eq(dot, ".pin")) { /* "": unpinned, and the app's holds still shared */
        hold_edit e = {HOLD_UNPIN, a->name, alias, NULL};
        rc = holds_app_apply(a, &e, err);
    } else {
        char *copy = xstrdup(value);
        for (char *save, *t = strtok_r(copy, ",", &save); rc >= 0 && t;
             t = strtok_r(NULL, ",", &save)) {
            hold_edit e = {HOLD_SKIP, a->name, alias, t};
            rc = holds_app_apply(a, &e, err);
        }
        free(copy);
    }
    free(alias);
    return rc;
}

int holds_from_annotations(const char *app, const char *const *keys, const char *const *values,
                           size_t n, holds_app *out, tp_err *err)
{
    *out = (holds_app){.name = xstrdup(app ? app : "")};
    for (size_t i = 0; i < n; i++) {
        if (!str_starts_with(keys[i], HOLDS_ANNOTATION_PREFIX))
            continue;
        if (from_annotation(out, keys[i], values[i], err) < 0) {
            char *shown = str_printable(app ? app : "?");
            tp_err_prefix(err, "app %s", shown);
            free(shown);
            holds_app_clear(out);
            return -1;
        }
    }
    return 0;
}
