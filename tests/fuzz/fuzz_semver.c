/* Semantic versions and constraints (engine/semver). Input: a constraint on the first line, a
 * version on each further line. Versions order totally (reflexive, antisymmetric, transitive);
 * a parsed version points into its own text; a constraint keeps its text. */
#include "fuzz.h"
#include "select/semver.h"
#include "util.h"

#define MAX_VERSIONS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *rest;
    size_t rest_len;
    char *constraint_text = fuzz_split(data, size, '\n', &rest, &rest_len);
    char *lines = fuzz_cstr(rest, rest_len);
    char *texts[MAX_VERSIONS];
    semver_version versions[MAX_VERSIONS];
    size_t n = 0;
    for (char *line = lines, *next; line && n < MAX_VERSIONS; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        semver_version v;
        if (semver_parse(line, &v) < 0)
            continue;
        size_t len = strlen(line);
        fuzz_require(!v.pre || (v.pre >= line && v.pre + v.pre_len <= line + len),
                     "'%s': pre-release outside the text", line);
        fuzz_require(!v.meta || (v.meta >= line && v.meta + v.meta_len <= line + len),
                     "'%s': metadata outside the text", line);
        texts[n] = line;
        versions[n++] = v;
    }
    for (size_t i = 0; i < n; i++) {
        fuzz_require(semver_compare(&versions[i], &versions[i]) == 0, "'%s' != itself", texts[i]);
        for (size_t j = 0; j < n; j++) {
            int ij = semver_compare(&versions[i], &versions[j]);
            int ji = semver_compare(&versions[j], &versions[i]);
            fuzz_require((ij > 0) == (ji < 0) && (ij == 0) == (ji == 0),
                         "'%s' vs '%s': not antisymmetric", texts[i], texts[j]);
            for (size_t k = 0; k < n; k++)
                if (ij <= 0 && semver_compare(&versions[j], &versions[k]) <= 0)
                    fuzz_require(semver_compare(&versions[i], &versions[k]) <= 0,
                                 "'%s' <= '%s' <= '%s' but not '%s' <= '%s'", texts[i], texts[j],
                                 texts[k], texts[i], texts[k]);
        }
    }

    tp_err err;
    semver_constraint *c = semver_constraint_parse(constraint_text, &err);
    if (c) {
        bool blank = strspn(constraint_text, " \t\n\r\f") == strlen(constraint_text);
        fuzz_require(strcmp(semver_constraint_text(c), blank ? "*" : constraint_text) == 0,
                     "constraint text '%s' became '%s'", constraint_text,
                     semver_constraint_text(c));
        (void)semver_constraint_has_prerelease(c);
        for (size_t i = 0; i < n; i++) {
            semver_check r = semver_constraint_check(c, &versions[i]);
            fuzz_require(r == SEMVER_SATISFIED || r == SEMVER_UNSATISFIED ||
                             r == SEMVER_PRERELEASE_EXCLUDED,
                         "check returned %d", (int)r);
            fuzz_require(r != SEMVER_PRERELEASE_EXCLUDED || versions[i].pre,
                         "'%s' is no pre-release, yet excluded as one by '%s'", texts[i],
                         constraint_text);
        }
        semver_constraint_free(c);
    } else {
        fuzz_require(err.msg[0] != '\0', "constraint '%s' refused without a message",
                     constraint_text);
    }
    free(lines);
    free(constraint_text);
    return 0;
}
