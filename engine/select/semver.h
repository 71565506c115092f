/* semver: versions and constraints with the semantics of Masterminds/semver v3.4 (what
 * argocd-image-updater uses): loose parsing, the constraint operators = != > < >= <= ~ ^,
 * x, X and * wildcards, hyphen ranges, AND by comma or space, OR by "||", and the pre-release rule
 * (a pre-release version satisfies an AND group only when that group carries a pre-release). */
#ifndef TP_SEMVER_H
#define TP_SEMVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* A parsed version. It does not own memory: pre/meta point into the string given to
 * semver_parse, which must outlive it. Parsing allocates nothing (selection runs over 100k tags).
 */
typedef struct semver_version {
    uint64_t major, minor, patch;
    const char *pre; /* pre-release identifiers without the '-', or NULL */
    size_t pre_len;
    const char *meta; /* build metadata without the '+', or NULL; ignored for order */
    size_t meta_len;
} semver_version;

/* Loose parse like Masterminds NewVersion: optional leading 'v', "1" and "1.2" coerced to
 * "1.0.0"/"1.2.0", leading zeros in numbers allowed, pre-release and metadata validated.
 * Returns 0, or -1 when s is not a semantic version (the tag's verdict is then "not a semantic
 * version"). */
int semver_parse(const char *s, semver_version *out);

/* <0, 0, >0 by semver precedence (metadata ignored). */
int semver_compare(const semver_version *a, const semver_version *b);

/* A parsed constraint set (OR of AND groups). Opaque; owns its memory. */
typedef struct semver_constraint semver_constraint;

/* Parse a constraint string. Returns NULL and fills err naming the constraint when invalid,
 * e.g. "invalid semver constraint 'latest': improper constraint". An empty or all-blank
 * string means "*". */
semver_constraint *semver_constraint_parse(const char *s, tp_err *err);
void semver_constraint_free(semver_constraint *c);
/* The text the constraint was parsed from (for reasons). */
const char *semver_constraint_text(const semver_constraint *c);
/* True when the constraint itself carries a pre-release anywhere. */
bool semver_constraint_has_prerelease(const semver_constraint *c);

typedef enum semver_check {
    SEMVER_SATISFIED = 0,
    SEMVER_UNSATISFIED,         /* "does not satisfy '<constraint>'" */
    SEMVER_PRERELEASE_EXCLUDED, /* "pre-release excluded by '<constraint>'" */
} semver_check;

/* Does v satisfy c? When it does not, says whether the pre-release rule refused it: as in
 * Masterminds v3.4.0 the rule is per AND group (a group admits pre-releases when any of its
 * terms carries one), and a group that does not admit them refuses a pre-release before looking
 * at its range; SEMVER_PRERELEASE_EXCLUDED when v is a pre-release and no group admits them. */
semver_check semver_constraint_check(const semver_constraint *c, const semver_version *v);

/* The highest major version c can be satisfied by (UINT64_MAX: no such bound): every version
 * with a greater major fails semver_constraint_check. A selection passes those over unchecked. */
uint64_t semver_constraint_major_bound(const semver_constraint *c);

#endif
