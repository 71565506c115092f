/* tagfilter: argocd-image-updater's allow-tags ("regexp:<re>" with PCRE2, unanchored like RE2's
 * Match, JIT-compiled once; or "any"; empty means any) and ignore-tags (comma-separated
 * fnmatch globs; "*" disables the image). */
#ifndef TP_TAGFILTER_H
#define TP_TAGFILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

typedef struct tagfilter tagfilter; /* opaque; owns its compiled pattern and globs */

/* Build a filter from the allow-tags match spec (may be NULL/empty; "any" and the "regexp:"
 * prefix in any case, the pattern as written) and the ignore globs (already split; may be
 * empty). Never fails: an invalid regexp or unknown function makes a
 * filter that matches nothing, and tagfilter_problem() says why (argocd-image-updater silently
 * matches nothing; tagpilot also explains). */
tagfilter *tagfilter_new(const char *allow_spec, const char *const *ignore, size_t n_ignore);
void tagfilter_free(tagfilter *f);

/* What tagfilter_problem() would say of a filter with this allow spec, without building one
 * for matching (no JIT): NULL when usable, else a new string. */
char *tagfilter_spec_problem(const char *allow_spec);

/* NULL when the allow spec is usable, else e.g.
 * "invalid allow-tags regexp '^v(': missing closing parenthesis at offset 3". */
const char *tagfilter_problem(const tagfilter *f);
/* True when an ignore glob is exactly "*": the image is not updated at all. */
bool tagfilter_disables_image(const tagfilter *f);
/* True when the filter lets every tag through (no allow-tags, no ignore-tags): a selection
 * then need not ask it about each tag. */
bool tagfilter_allows_all(const tagfilter *f);

typedef enum tagfilter_result {
    TAGFILTER_ALLOWED = 0,
    TAGFILTER_IGNORED, /* matched an ignore glob; *detail is the glob */
    TAGFILTER_REJECTED /* allow-tags did not match (or is invalid); *detail is the spec */
} tagfilter_result;

/* Check one tag (any bytes, not necessarily UTF-8). *detail (if detail != NULL) points into the
 * filter and lives as long as it. Thread-compatible: one filter per thread. */
tagfilter_result tagfilter_check(const tagfilter *f, const char *tag, const char **detail);

/* Split a comma-separated ignore-tags value into trimmed, non-empty globs. */
void tagfilter_split_globs(const char *value, strvec *out);

#endif
