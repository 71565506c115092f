/* theme: theme files → theme structs; finding and listing theme files. */
#include "theme.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "yamldoc.h"

static const char *const role_keys[ROLE_COUNT] = {
#define THEME_KEY(role, key) key,
    THEME_ROLES(THEME_KEY)
#undef THEME_KEY
};

/* The same as themes/default.yaml, for a tagpilot whose theme files cannot be found. */
static const char builtin_default[] = "name: default\n"
                                      "header: {fg: white, bg: blue, attrs: [bold]}\n"
                                      "columns: {attrs: [bold, underline]}\n"
                                      "selected: {fg: black, bg: cyan}\n"
                                      "dim: {fg: bright-black}\n"
                                      "status: {fg: green}\n"
                                      "status-error: {fg: white, bg: red, attrs: [bold]}\n"
                                      "hint: {fg: white, bg: blue}\n"
                                      "lock: {fg: black, bg: yellow, attrs: [bold]}\n"
                                      "dialog: {fg: black, bg: white}\n"
                                      "button: {fg: black, bg: white}\n"
                                      "button-focus: {fg: white, bg: blue, attrs: [bold]}\n"
                                      "diff-add: {fg: green}\n"
                                      "diff-del: {fg: red}\n"
                                      "warning: {fg: yellow}\n"
                                      "state-checking: {fg: cyan}\n"
                                      "state-up-to-date: {fg: green}\n"
                                      "state-update-available: {fg: yellow, attrs: [bold]}\n"
                                      "state-approved: {fg: magenta, attrs: [bold]}\n"
                                      "state-writing: {fg: cyan, attrs: [bold]}\n"
                                      "state-written: {fg: green, attrs: [bold]}\n"
                                      "state-pinned: {fg: blue, attrs: [bold]}\n"
                                      "state-held: {fg: bright-black}\n"
                                      "state-error: {fg: red, attrs: [bold]}\n";

const char *theme_role_key(theme_role role)
{
    return role < ROLE_COUNT ? role_keys[role] : "";
}

static const char *const colour_names[16] = {
    "black",        "red",           "green",       "yellow",         "blue",
    "magenta",      "cyan",          "white",       "bright-black",   "bright-red",
    "bright-green", "bright-yellow", "bright-blue", "bright-magenta", "bright-cyan",
    "bright-white",
};

/* COLOUR → -1..255, or -2 when it is not one. */
static int theme_parse_colour(const char *s)
{
    if (!s || !*s)
        return -2;
    if (strcasecmp(s, "default") == 0 || strcasecmp(s, "none") == 0)
        return -1;
    if (strcasecmp(s, "grey") == 0 || strcasecmp(s, "gray") == 0)
        return 8;
    for (int i = 0; i < 16; i++)
        if (strcasecmp(s, colour_names[i]) == 0)
            return i;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < 0 || v > 255)
        return -2;
    return (int)v;
}

static unsigned theme_parse_attr(const char *s)
{
    static const struct {
        const char *name;
        unsigned bit;
    } attrs[] = {{"bold", THEME_BOLD},           {"dim", THEME_DIM},
                 {"underline", THEME_UNDERLINE}, {"reverse", THEME_REVERSE},
                 {"standout", THEME_STANDOUT},   {"italic", THEME_ITALIC},
                 {"blink", THEME_BLINK},         {"normal", 0}};
    for (size_t i = 0; i < sizeof attrs / sizeof *attrs; i++)
        if (s && strcasecmp(s, attrs[i].name) == 0)
            return attrs[i].bit ? attrs[i].bit : 1u << 31;
    return 0;
}

static int theme_style_attrs(const ynode *v, const char *file, unsigned *out, tp_err *err)
{
    v = ynode_deref(v);
    if (v->kind == YNODE_SCALAR) {
        /* "bold underline" or "bold, underline" */
        char *copy = xstrdup(ynode_str(v));
        int rc = 0;
        for (char *save, *w = strtok_r(copy, " ,", &save); w; w = strtok_r(NULL, " ,", &save)) {
            unsigned bit = theme_parse_attr(w);
            if (!bit) {
                rc = tp_err_set(err,
                                "%s:%zu: unknown attribute '%s' (use bold, dim, underline, "
                                "reverse, standout, italic, blink)",
                                file, v->line, w);
                break;
            }
            *out |= bit;
        }
        free(copy);
        return rc;
    }
    if (v->kind != YNODE_SEQ)
        return tp_err_set(err, "%s:%zu: attrs must be a list like [bold, underline]", file,
                          v->line);
    for (size_t i = 0; i < v->n_children; i++) {
        const ynode *a = ynode_deref(v->children[i]);
        unsigned bit = theme_parse_attr(ynode_str(a));
        if (!bit)
            return tp_err_set(err,
                              "%s:%zu: unknown attribute '%s' (use bold, dim, underline, "
                              "reverse, standout, italic, blink)",
                              file, a->line, ynode_str(a) ? ynode_str(a) : "?");
        *out |= bit;
    }
    return 0;
}

static int theme_parse_style(const ynode *v, const char *file, theme_style *st, tp_err *err)
{
    v = ynode_deref(v);
    if (v->kind != YNODE_MAP)
        return tp_err_set(err, "%s:%zu: expected a map like {fg: white, bg: blue}", file, v->line);
    theme_style s = {-1, -1, 0};
    for (size_t i = 0; i + 1 < v->n_children; i += 2) {
        const ynode *k = ynode_deref(v->children[i]);
        const ynode *val = ynode_deref(v->children[i + 1]);
        const char *key = ynode_str(k) ? ynode_str(k) : "";
        if (strcmp(key, "fg") == 0 || strcmp(key, "bg") == 0) {
            int c = theme_parse_colour(ynode_str(val));
            if (c == -2)
                return tp_err_set(err,
                                  "%s:%zu: unknown colour '%s' for %s (use a name like "
                                  "'blue' or 'bright-blue', 'default', or a number 0-255)",
                                  file, val->line, ynode_str(val) ? ynode_str(val) : "?", key);
            if (key[0] == 'f')
                s.fg = (short)c;
            else
                s.bg = (short)c;
        } else if (strcmp(key, "attrs") == 0) {
            if (theme_style_attrs(val, file, &s.attrs, err) < 0)
                return -1;
        } else {
            return tp_err_set(err, "%s:%zu: unknown key '%s' (use fg, bg, attrs)", file, k->line,
                              key);
        }
    }
    s.attrs &= ~(1u << 31); /* "normal" */
    *st = s;
    return 0;
}

static void theme_blank(theme *t)
{
    memset(t, 0, sizeof *t);
    for (int r = 0; r < ROLE_COUNT; r++)
        t->style[r] = (theme_style){-1, -1, 0};
    t->style[ROLE_SELECTED].attrs = THEME_REVERSE;
}

int theme_parse(const char *buf, size_t len, const char *file, theme *out, tp_err *err)
{
    ydoc doc;
    if (yamldoc_parse(buf, len, file, &doc, err) < 0)
        return -1;
    theme t;
    theme_blank(&t);
    int rc = 0;
    const ynode *root = doc.n_roots ? doc.roots[0] : NULL;
    if (!root || ynode_deref(root)->kind != YNODE_MAP) {
        rc = tp_err_set(err, "%s:%zu: a theme is a map of roles (header: {fg: white, ...})", file,
                        root ? root->line : (size_t)1);
        goto done;
    }
    root = ynode_deref(root);
    for (size_t i = 0; i + 1 < root->n_children && rc == 0; i += 2) {
        const ynode *k = ynode_deref(root->children[i]);
        const ynode *v = root->children[i + 1];
        const char *key = ynode_str(k) ? ynode_str(k) : "";
        if (strcmp(key, "name") == 0) {
            const char *name = ynode_str(ynode_deref(v));
            if (!name || !*name) {
                rc = tp_err_set(err, "%s:%zu: name must be a word", file, k->line);
                break;
            }
            snprintf(t.name, sizeof t.name, "%s", name);
            continue;
        }
        if (strcmp(key, "description") == 0)
            continue;
        int role = -1;
        for (int r = 0; r < ROLE_COUNT; r++)
            if (strcmp(key, role_keys[r]) == 0)
                role = r;
        if (role < 0) {
            strbuf known = {0};
            for (int r = 0; r < ROLE_COUNT; r++)
                strbuf_printf(&known, "%s%s", r ? ", " : "", role_keys[r]);
            rc = tp_err_set(err, "%s:%zu: unknown role '%s' (known: name, description, %s)", file,
                            k->line, key, known.data);
            strbuf_free(&known);
            break;
        }
        rc = theme_parse_style(v, file, &t.style[role], err);
    }
    if (rc == 0 && !t.name[0])
        rc = tp_err_set(err, "%s:1: the theme has no 'name:'", file);
done:
    yamldoc_free(&doc);
    if (rc == 0)
        *out = t;
    return rc;
}

int theme_load_file(const char *path, theme *out, tp_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return tp_err_set(err, "theme %s: %s", path, strerror(errno));
    strbuf sb = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        strbuf_append(&sb, chunk, n);
    fclose(f);
    int rc = theme_parse(sb.data ? sb.data : "", sb.len, path, out, err);
    strbuf_free(&sb);
    if (rc == 0)
        snprintf(out->path, sizeof out->path, "%s", path);
    return rc;
}

void theme_builtin(theme *out)
{
    tp_err err;
    if (theme_parse(builtin_default, sizeof builtin_default - 1, "built-in", out, &err) < 0)
        abort(); /* the built-in text is checked by the unit tests */
}

static bool theme_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void theme_push_dir(strvec *dirs, const char *path)
{
    char real[PATH_MAX];
    if (!theme_is_dir(path) || !realpath(path, real))
        return;
    for (size_t i = 0; i < dirs->count; i++)
        if (strcmp(dirs->items[i], real) == 0)
            return;
    strvec_push(dirs, real);
}

void theme_dirs(strvec *dirs)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/themes", exe);
        theme_push_dir(dirs, path);
        snprintf(path, sizeof path, "%s/../themes", exe);
        theme_push_dir(dirs, path);
        snprintf(path, sizeof path, "%s/../../themes", exe);
        theme_push_dir(dirs, path);
        snprintf(path, sizeof path, "%s/../../../themes", exe);
        theme_push_dir(dirs, path);
        snprintf(path, sizeof path, "%s/../share/tagpilot/themes", exe);
        theme_push_dir(dirs, path);
    }
    theme_push_dir(dirs, "/usr/local/share/tagpilot/themes");
    theme_push_dir(dirs, "/usr/share/tagpilot/themes");
}

static bool theme_is_path(const char *spec)
{
    return strchr(spec, '/') || str_ends_with(spec, ".yaml") || str_ends_with(spec, ".yml");
}

/* dirs[i]/NAME.yaml that exists, as a new string, or NULL. */
static char *theme_find(const char *name, const strvec *dirs)
{
    for (size_t i = 0; dirs && i < dirs->count; i++) {
        char *path = xasprintf("%s/%s.yaml", dirs->items[i], name);
        if (access(path, R_OK) == 0)
            return path;
        free(path);
    }
    return NULL;
}

static void theme_default(const strvec *dirs, theme *out)
{
    char *path = theme_find("default", dirs);
    tp_err ignored;
    if (!path || theme_load_file(path, out, &ignored) < 0)
        theme_builtin(out);
    free(path);
}

int theme_load(const char *spec, const strvec *dirs, theme *out, tp_err *err)
{
    if (!spec || !*spec)
        spec = "default";
    char *path = theme_is_path(spec) ? xstrdup(spec) : theme_find(spec, dirs);
    int rc;
    if (!path) {
        strbuf where = {0};
        for (size_t i = 0; dirs && i < dirs->count; i++)
            strbuf_printf(&where, "%s%s", i ? ", " : "", dirs->items[i]);
        rc = tp_err_set(err, "theme '%s' not found (looked in %s)", spec,
                        where.len ? where.data : "no theme folder");
        strbuf_free(&where);
        if (strcmp(spec, "default") == 0) {
            theme_builtin(out);
            return 0; /* no files at all: the built-in default is the default */
        }
    } else {
        rc = theme_load_file(path, out, err);
    }
    free(path);
    if (rc < 0)
        theme_default(dirs, out);
    return rc;
}

static int theme_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void theme_list(const strvec *dirs, strvec *names)
{
    for (size_t i = 0; dirs && i < dirs->count; i++) {
        DIR *d = opendir(dirs->items[i]);
        if (!d)
            continue;
        struct dirent *de;
        while ((de = readdir(d))) {
            if (de->d_name[0] == '.' || !str_ends_with(de->d_name, ".yaml"))
                continue;
            char *name = xstrndup(de->d_name, strlen(de->d_name) - 5);
            bool seen = false;
            for (size_t j = 0; j < names->count && !seen; j++)
                seen = strcmp(names->items[j], name) == 0;
            if (!seen)
                strvec_push(names, name);
            free(name);
        }
        closedir(d);
    }
    if (names->count > 1)
        qsort(names->items, names->count, sizeof *names->items, theme_cmp);
}

short theme_color_fit(short color, int colors)
{
    if (color < 0 || color < colors)
        return color;
    if (colors < 8)
        return -1;
    bool bright_ok = colors >= 16;
    if (color < 16) /* bright-X on an 8-colour terminal: X */
        return (short)(color - 8);
    if (color >= 232) { /* grey ramp, dark to light */
        int level = color - 232;
        if (level < 6)
            return 0;
        if (level < 14)
            return bright_ok ? 8 : 0;
        if (level < 20)
            return 7;
        return bright_ok ? 15 : 7;
    }
    int c = color - 16; /* 6x6x6 cube */
    int r = c / 36, g = (c / 6) % 6, b = c % 6;
    int max = r > g ? (r > b ? r : b) : (g > b ? g : b);
    if (max < 2)
        return 0;
    /* a component counts when it is near the brightest one */
    int bits = (r >= max - 1 && r >= 2 ? 1 : 0) | (g >= max - 1 && g >= 2 ? 2 : 0) |
               (b >= max - 1 && b >= 2 ? 4 : 0);
    if (bits == 0)
        return bright_ok ? 8 : 0;
    return (short)(bits + (bright_ok && max >= 5 ? 8 : 0));
}
