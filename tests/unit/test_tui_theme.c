/* Theme files: the shipped ones parse, malformed ones name file and line, fallbacks. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "theme.h"

static int parse(const char *text, theme *t, tp_err *err)
{
    return theme_parse(text, strlen(text), "themes/t.yaml", t, err);
}

Test(theme, good_file)
{
    theme t;
    tp_err err = {{0}};
    int rc = parse("name: ocean\n"
                   "header: {fg: white, bg: 24, attrs: [bold, underline]}\n"
                   "state-error:\n  fg: bright-red\n  attrs: bold\n"
                   "selected: {fg: default, bg: cyan, attrs: \"reverse, dim\"}\n",
                   &t, &err);
    cr_assert_eq(rc, 0, "%s", err.msg);
    cr_assert_str_eq(t.name, "ocean");
    cr_assert_eq(t.style[ROLE_HEADER].fg, 7);
    cr_assert_eq(t.style[ROLE_HEADER].bg, 24);
    cr_assert_eq(t.style[ROLE_HEADER].attrs, THEME_BOLD | THEME_UNDERLINE);
    cr_assert_eq(t.style[ROLE_STATE_ERROR].fg, 9);
    cr_assert_eq(t.style[ROLE_STATE_ERROR].bg, -1);
    cr_assert_eq(t.style[ROLE_STATE_ERROR].attrs, THEME_BOLD);
    cr_assert_eq(t.style[ROLE_SELECTED].fg, -1);
    cr_assert_eq(t.style[ROLE_SELECTED].attrs, THEME_REVERSE | THEME_DIM);
    /* a role the file leaves out: terminal defaults */
    cr_assert_eq(t.style[ROLE_ROW].fg, -1);
    cr_assert_eq(t.style[ROLE_ROW].attrs, 0);
}

static void malformed(const char *text, const char *want)
{
    theme t;
    tp_err err = {{0}};
    cr_assert_lt(parse(text, &t, &err), 0, "accepted: %s", text);
    cr_assert(strstr(err.msg, want), "message '%s' lacks '%s'", err.msg, want);
}

Test(theme, malformed_files_name_file_and_line)
{
    malformed("name: x\nheader: {fg: blu}\n", "themes/t.yaml:2: unknown colour 'blu'");
    malformed("name: x\n\nbanner: {fg: red}\n", "themes/t.yaml:3: unknown role 'banner'");
    malformed("name: x\nrow: {fg: 256}\n", "themes/t.yaml:2: unknown colour '256'");
    malformed("name: x\nrow: {fg: red, shade: 3}\n", "themes/t.yaml:2: unknown key 'shade'");
    malformed("name: x\nrow:\n  attrs: [bold, sparkly]\n",
              "themes/t.yaml:3: unknown attribute 'sparkly'");
    malformed("name: x\nrow: red\n", "themes/t.yaml:2: expected a map");
    malformed("header: {fg: red}\n", "themes/t.yaml:1: the theme has no 'name:'");
    malformed("- a\n- b\n", "themes/t.yaml:1:");
    malformed("name: x\nrow: {fg: [\n", "themes/t.yaml:");
}

static char *project_themes(void)
{
    const char *root = getenv("TP_ROOT");
    return xasprintf("%s/themes", root ? root : ".");
}

Test(theme, shipped_themes_parse_and_cover_every_state)
{
    char *dir = project_themes();
    strvec dirs = {0}, names = {0};
    strvec_push(&dirs, dir);
    theme_list(&dirs, &names);
    const char *want[] = {"default", "high-contrast", "light", "monochrome"};
    for (size_t w = 0; w < 4; w++) {
        bool found = false;
        for (size_t i = 0; i < names.count; i++)
            found |= strcmp(names.items[i], want[w]) == 0;
        cr_assert(found, "themes/%s.yaml missing", want[w]);
    }
    for (size_t i = 0; i < names.count; i++) {
        theme t;
        tp_err err = {{0}};
        cr_assert_eq(theme_load(names.items[i], &dirs, &t, &err), 0, "%s", err.msg);
        cr_assert_str_eq(t.name, names.items[i]);
        /* monochrome tells states apart by attributes (and the console's symbols) */
        if (strcmp(t.name, "monochrome") == 0)
            for (int r = 0; r < ROLE_COUNT; r++)
                cr_assert(t.style[r].fg == -1 && t.style[r].bg == -1, "monochrome %s has colour",
                          theme_role_key((theme_role)r));
    }
    strvec_free(&names);
    strvec_free(&dirs);
    free(dir);
}

Test(theme, malformed_theme_falls_back_to_default)
{
    char path[] = "/tmp/tagpilot-theme-XXXXXX.yaml";
    int fd = mkstemps(path, 5);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs("name: broken\nheader:\n  fg: purple-ish\n", f);
    fclose(f);
    strvec dirs = {0};
    char *dir = project_themes();
    strvec_push(&dirs, dir);
    theme t;
    tp_err err = {{0}};
    cr_assert_lt(theme_load(path, &dirs, &t, &err), 0);
    char *want = xasprintf("%s:3: unknown colour 'purple-ish'", path);
    cr_assert(strstr(err.msg, want), "%s", err.msg);
    cr_assert_str_eq(t.name, "default");
    unlink(path);
    cr_assert_lt(theme_load("no-such-theme", &dirs, &t, &err), 0);
    cr_assert(strstr(err.msg, "theme 'no-such-theme' not found"), "%s", err.msg);
    cr_assert_str_eq(t.name, "default");
    free(want);
    free(dir);
    strvec_free(&dirs);
}

Test(theme, builtin_default_and_no_theme_folder)
{
    theme t;
    theme_builtin(&t);
    cr_assert_str_eq(t.name, "default");
    tp_err err = {{0}};
    strvec none = {0};
    cr_assert_eq(theme_load(NULL, &none, &t, &err), 0);
    cr_assert_str_eq(t.name, "default");
    cr_assert_str_eq(t.path, "");
}

Test(theme, colours_fit_the_terminal)
{
    cr_assert_eq(theme_color_fit(-1, 8), -1);
    cr_assert_eq(theme_color_fit(4, 8), 4);
    cr_assert_eq(theme_color_fit(200, 256), 200);
    cr_assert_eq(theme_color_fit(12, 8), 4);    /* bright-blue → blue */
    cr_assert_eq(theme_color_fit(196, 8), 1);   /* 256-colour red → red */
    cr_assert_eq(theme_color_fit(196, 16), 9);  /* → bright red */
    cr_assert_eq(theme_color_fit(21, 8), 4);    /* blue */
    cr_assert_eq(theme_color_fit(226, 16), 11); /* yellow */
    cr_assert_eq(theme_color_fit(232, 8), 0);   /* near-black grey */
    cr_assert_eq(theme_color_fit(255, 8), 7);   /* near-white grey */
    cr_assert_eq(theme_color_fit(255, 16), 15);
    cr_assert_eq(theme_color_fit(16, 16), 0);
    cr_assert_eq(theme_color_fit(7, 0), -1); /* no colour at all */
}
