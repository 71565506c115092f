#include "tagfilter.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <fnmatch.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct tagfilter {
    char *allow_spec;     /* as given, for reasons; NULL when everything is allowed */
    pcre2_code *re;       /* compiled regexp:, or NULL */
    pcre2_match_data *md; /* scratch for matching; makes a filter single-threaded */
    bool allow_nothing;   /* invalid regexp or unknown function */
    char *problem;        /* why allow_nothing, or NULL */
    strvec ignore;        /* globs */
    bool disables;        /* an ignore glob is "*" */
};

/* jit: compile for matching many tags; without, only to learn whether the spec is usable. */
static void compile_allow(tagfilter *f, const char *spec, bool jit)
{
    /* argocd-image-updater lower-cases the function name ("ANY", "Regexp:"), never the
     * pattern. */
    if (!spec || !*spec || strcasecmp(spec, "any") == 0)
        return;
    f->allow_spec = xstrdup(spec);
    if (strncasecmp(spec, "regexp:", strlen("regexp:")) != 0) {
        f->allow_nothing = true;
        f->problem = xasprintf("unknown allow-tags function '%s' (want regexp:<re> or any)", spec);
        return;
    }
    const char *pattern = spec + strlen("regexp:");
    int code;
    PCRE2_SIZE offset;
    /* RE2 reads UTF-8 and treats invalid bytes as U+FFFD rather than failing; MATCH_INVALID_UTF
     * gives the same tolerance for tags with arbitrary bytes. */
    f->re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                          PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &offset, NULL);
    if (!f->re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        f->allow_nothing = true;
        f->problem = xasprintf("invalid allow-tags regexp '%s': %s at offset %zu", pattern,
                               (const char *)msg, (size_t)offset);
        return;
    }
    /* JIT is an optimisation: when unavailable the interpreter gives the same answers. */
    if (jit)
        (void)pcre2_jit_compile(f->re, PCRE2_JIT_COMPLETE);
    f->md = pcre2_match_data_create_from_pattern(f->re, NULL);
}

tagfilter *tagfilter_new(const char *allow_spec, const char *const *ignore, size_t n_ignore)
{
    tagfilter *f = xcalloc(1, sizeof *f);
    compile_allow(f, allow_spec, true);
    for (size_t i = 0; i < n_ignore; i++) {
        strvec_push(&f->ignore, ignore[i]);
        if (strcmp(ignore[i], "*") == 0)
            f->disables = true;
    }
    return f;
}

char *tagfilter_spec_problem(const char *allow_spec)
{
    tagfilter f = {0};
    compile_allow(&f, allow_spec, false);
    char *problem = f.problem;
    f.problem = NULL;
    pcre2_match_data_free(f.md);
    pcre2_code_free(f.re);
    free(f.allow_spec);
    return problem;
}

void tagfilter_free(tagfilter *f)
{
    if (!f)
        return;
    pcre2_match_data_free(f->md);
    pcre2_code_free(f->re);
    free(f->allow_spec);
    free(f->problem);
    strvec_free(&f->ignore);
    free(f);
}

const char *tagfilter_problem(const tagfilter *f)
{
    return f->problem;
}

bool tagfilter_disables_image(const tagfilter *f)
{
    return f->disables;
}

bool tagfilter_allows_all(const tagfilter *f)
{
    return !f->ignore.count && !f->allow_nothing && !f->re;
}

tagfilter_result tagfilter_check(const tagfilter *f, const char *tag, const char **detail)
{
    const char *unused;
    if (!detail)
        detail = &unused;
    *detail = NULL;
    /* Ignore globs first: an ignored tag says which glob, whatever allow-tags would say. */
    for (size_t i = 0; i < f->ignore.count; i++) {
        if (fnmatch(f->ignore.items[i], tag, FNM_PATHNAME) == 0) {
            *detail = f->ignore.items[i];
            return TAGFILTER_IGNORED;
        }
    }
    if (f->allow_nothing) {
        *detail = f->allow_spec;
        return TAGFILTER_REJECTED;
    }
    if (f->re) {
        int rc = pcre2_match(f->re, (PCRE2_SPTR)tag, strlen(tag), 0, 0, f->md, NULL);
        if (rc < 0) {
            *detail = f->allow_spec;
            return TAGFILTER_REJECTED;
        }
    }
    return TAGFILTER_ALLOWED;
}

void tagfilter_split_globs(const char *value, strvec *out)
{
    if (!value)
        return;
    const char *p = value;
    for (;;) {
        size_t len = strcspn(p, ",");
        char *glob = str_trim(xstrndup(p, len));
        if (*glob)
            strvec_push(out, glob);
        free(glob);
        if (!p[len])
            break;
        p += len + 1;
    }
}
