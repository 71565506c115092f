/* keys: bindings, help and the read-only filter, all generated from KEY_TABLE. */
#include "keys.h"

#include <curses.h>
#include <stdlib.h>

_Static_assert(KEYCODE_MIN == KEY_MIN && KEYCODE_DOWN == KEY_DOWN && KEYCODE_UP == KEY_UP &&
                   KEYCODE_HOME == KEY_HOME && KEYCODE_BACKSPACE == KEY_BACKSPACE &&
                   KEYCODE_NPAGE == KEY_NPAGE && KEYCODE_PPAGE == KEY_PPAGE &&
                   KEYCODE_ENTER == KEY_ENTER && KEYCODE_END == KEY_END,
               "keys.h key codes must match <curses.h>");

static const key_entry key_entries[] = {
    {ACT_NONE, KEYCODE_NONE, KEYCODE_NONE, "", "", "", false, false},
#define KEYS_ENTRY(action, key, alt, label, name, help, dangerous, hint)                           \
    {ACT_##action, key, alt, label, name, help, dangerous, hint},
    KEY_TABLE(KEYS_ENTRY)
#undef KEYS_ENTRY
};

_Static_assert(sizeof key_entries / sizeof *key_entries == ACT_COUNT,
               "one key_entries row per action");

const key_entry *keys_entry(key_action action)
{
    if (action <= ACT_NONE || action >= ACT_COUNT)
        return &key_entries[0];
    return &key_entries[action];
}

key_action keys_lookup(key_event ev, bool read_only)
{
    if (key_is(ev, '\r'))
        ev = key_char('\n');
    for (int a = ACT_NONE + 1; a < ACT_COUNT; a++) {
        const key_entry *e = &key_entries[a];
        if (!key_is(ev, e->key) && !key_is(ev, e->alt))
            continue;
        return read_only && e->dangerous ? ACT_NONE : e->action;
    }
    return ACT_NONE;
}

void keys_help_lines(bool read_only, strvec *lines)
{
    for (int a = ACT_NONE + 1; a < ACT_COUNT; a++) {
        const key_entry *e = &key_entries[a];
        char *line;
        if (read_only && e->dangerous)
            line = xasprintf("  %-11s %s  [locked: read-only]", e->label, e->help);
        else
            line =
                xasprintf("  %-11s %s%s", e->label, e->help, e->dangerous ? "  (asks first)" : "");
        strvec_push(lines, line);
        free(line);
    }
}

static char *keys_hint_build(bool read_only, const char *sep, int keep)
{
    strbuf sb = {0};
    int kept = 0;
    for (int a = ACT_NONE + 1; a < ACT_COUNT; a++) {
        const key_entry *e = &key_entries[a];
        if (!e->hint || (read_only && e->dangerous))
            continue;
        bool essential = e->action == ACT_HELP || e->action == ACT_BACK;
        if (!essential && kept >= keep)
            continue;
        if (!essential)
            kept++;
        const char *label = e->action == ACT_BACK ? "q" : e->label;
        strbuf_printf(&sb, "%s%s %s", sb.len ? sep : "", label, e->name);
    }
    return strbuf_take(&sb);
}

char *keys_hint_line(bool read_only, int width)
{
    char *line = keys_hint_build(read_only, "  ", ACT_COUNT);
    if ((int)strlen(line) <= width)
        return line;
    for (int keep = ACT_COUNT; keep >= 0; keep--) {
        free(line);
        line = keys_hint_build(read_only, " ", keep);
        if ((int)strlen(line) <= width)
            break;
    }
    return line;
}

void keys_print_markdown(FILE *out)
{
    fputs("| key | action | what it does | read-only |\n|---|---|---|---|\n", out);
    for (int a = ACT_NONE + 1; a < ACT_COUNT; a++) {
        const key_entry *e = &key_entries[a];
        fprintf(out, "| `%s` | %s | %s | %s |\n", e->label, e->name, e->help,
                e->dangerous ? "not bound (dangerous)" : "yes");
    }
}
