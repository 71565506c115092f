/* filter: regex or substring over app, alias, image and state. */
#include "filter.h"

#include <ctype.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct filter_expr {
    char *pattern;    /* as typed, '!' included */
    const char *body; /* pattern without the '!' */
    bool invert;
    bool empty;
    bool literal; /* not a valid regex: substring */
    bool plain;   /* no regex syntax in it: a substring search gives the same answer, faster */
    regex_t re;
};

filter_expr *filter_new(const char *pattern)
{
    filter_expr *f = xcalloc(1, sizeof *f);
    f->pattern = xstrdup(pattern ? pattern : "");
    f->body = f->pattern;
    if (*f->body == '!') {
        f->invert = true;
        f->body++;
    }
    f->empty = *f->body == '\0';
    f->plain = strpbrk(f->body, ".[]()*+?{}|^$\\") == NULL;
    if (!f->empty && !f->plain &&
        regcomp(&f->re, f->body, REG_EXTENDED | REG_ICASE | REG_NOSUB) != 0)
        f->literal = true;
    return f;
}

void filter_free(filter_expr *f)
{
    if (!f)
        return;
    if (!f->empty && !f->plain && !f->literal)
        regfree(&f->re);
    free(f->pattern);
    free(f);
}

const char *filter_pattern(const filter_expr *f)
{
    return f->pattern;
}

bool filter_is_literal(const filter_expr *f)
{
    return f->literal;
}

/* Case-insensitive substring search (ASCII folding is enough for names and states). */
static bool filter_contains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; hay && *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return false;
}

static bool filter_field(const filter_expr *f, const char *field)
{
    if (!field)
        return false;
    if (f->literal || f->plain)
        return filter_contains(field, f->body);
    return regexec(&f->re, field, 0, NULL, 0) == 0;
}

bool filter_matches(const filter_expr *f, const model_image *img)
{
    if (f->empty)
        return true;
    const char *state = img->state < STATE_COUNT ? model_state_name(img->state) : "";
    bool hit = filter_field(f, img->app) || filter_field(f, img->alias) ||
               filter_field(f, img->image) || filter_field(f, state);
    return hit != f->invert;
}
