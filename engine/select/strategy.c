/* strategy: candidate selection as argocd-image-updater does it, with a reason for every tag.
 * One pass over the tags: each is filtered, parsed once (or taken from the table's facts) and
 * compared with the best so far, so selection is linear and allocates only the verdict array
 * (and, for semver, one array of parsed versions). */
#include "strategy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imageref.h"
#include "semver.h"

/* ---- names ---- */

static const char *const kind_names[] = {
    [STRATEGY_SEMVER] = "semver",
    [STRATEGY_NEWEST_BUILD] = "newest-build",
    [STRATEGY_ALPHABETICAL] = "alphabetical",
    [STRATEGY_DIGEST] = "digest",
};

strategy_need strategy_needs(strategy_kind kind)
{
    switch (kind) {
    case STRATEGY_NEWEST_BUILD:
        return STRATEGY_NEEDS_METADATA;
    case STRATEGY_DIGEST:
        return STRATEGY_NEEDS_DIGEST;
    default:
        return STRATEGY_NEEDS_TAGS;
    }
}

const char *strategy_name(strategy_kind kind)
{
    if ((size_t)kind < sizeof kind_names / sizeof kind_names[0])
        return kind_names[kind];
    return "semver";
}

strategy_kind strategy_from_name(const char *name, const char **warning)
{
    /* The warnings quote the name as written, so they need a buffer; one per thread keeps the
     * "static string" contract without a lock. Valid until the next call on this thread. */
    static _Thread_local char text[192];
    const char *warn = NULL;
    strategy_kind kind = STRATEGY_SEMVER;
    /* argocd-image-updater lower-cases the name first: "Semver", "NEWEST-BUILD" are fine. */
    if (!name || !*name) {
        kind = STRATEGY_SEMVER;
    } else if (strcasecmp(name, "latest") == 0) {
        kind = STRATEGY_NEWEST_BUILD;
        snprintf(text, sizeof text, "update strategy '%s' is deprecated, use 'newest-build'", name);
        warn = text;
    } else if (strcasecmp(name, "name") == 0) {
        kind = STRATEGY_ALPHABETICAL;
        snprintf(text, sizeof text, "update strategy '%s' is deprecated, use 'alphabetical'", name);
        warn = text;
    } else {
        bool known = false;
        for (size_t i = 0; i < sizeof kind_names / sizeof kind_names[0]; i++) {
            if (strcasecmp(name, kind_names[i]) == 0) {
                kind = (strategy_kind)i;
                known = true;
            }
        }
        if (!known) {
            snprintf(text, sizeof text, "unknown update strategy '%.120s', using semver", name);
            warn = text;
        }
    }
    if (warning)
        *warning = warn;
    return kind;
}

/* ---- the tag list ---- */

tag_info *tag_list_add(tag_list *list, const char *name, const char *digest, const tp_time *created)
{
    if (list->count == list->cap) {
        list->cap = list->cap ? list->cap * 2 : 16;
        list->items = xrealloc(list->items, list->cap * sizeof *list->items);
    }
    tag_info *t = &list->items[list->count++];
    t->name = xstrdup(name);
    t->digest = xstrdup(digest);
    t->has_created = created != NULL;
    t->created = created ? *created : (tp_time){0, 0};
    return t;
}

/* Drop the entries from index `keep` on. */
static void tag_list_truncate(tag_list *list, size_t keep)
{
    for (size_t i = keep; i < list->count; i++) {
        free(list->items[i].name);
        free(list->items[i].digest);
    }
    list->count = keep;
}

void tag_list_free(tag_list *list)
{
    tag_list_truncate(list, 0);
    free(list->items);
    list->items = NULL;
    list->count = list->cap = 0;
}

/* ---- tags files ---- */

static char *trim_blanks(char *s)
{
    while (*s == ' ')
        s++;
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == ' ')
        s[--n] = '\0';
    return s;
}

static bool is_blank_line(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t')
            return false;
    return true;
}

/* One line without its end: TAG [TAB CREATED [TAB DIGEST]]. */
static int parse_tag_line(char *line, tag_list *out, tp_err *err)
{
    char *fields[3] = {line, NULL, NULL};
    int n_fields = 1;
    for (char *tab = strchr(line, '\t'); tab; tab = strchr(tab + 1, '\t')) {
        if (n_fields == 3)
            return tp_err_set(err, "more than three tab-separated columns (want: tag, created, "
                                   "digest)");
        *tab = '\0';
        fields[n_fields++] = tab + 1;
    }
    for (int i = 0; i < n_fields; i++)
        fields[i] = trim_blanks(fields[i]);
    if (!*fields[0])
        return tp_err_set(err, "no tag before the tab");
    bool has_created = n_fields > 1 && *fields[1];
    tp_time created = {0, 0};
    if (has_created && timefmt_parse(fields[1], strlen(fields[1]), &created) < 0)
        return tp_err_set(err, "created '%.64s' is not an RFC 3339 time like 2024-05-01T10:00:00Z",
                          fields[1]);
    const char *digest = n_fields > 2 && *fields[2] ? fields[2] : NULL;
    tag_list_add(out, fields[0], digest, has_created ? &created : NULL);
    return 0;
}

int tag_list_read(const char *path_or_dash, tag_list *out, tp_err *err)
{
    bool from_stdin = strcmp(path_or_dash, "-") == 0;
    const char *name = from_stdin ? "stdin" : path_or_dash;
    FILE *f = from_stdin ? stdin : fopen(path_or_dash, "rb");
    if (!f)
        return tp_err_set(err, "tags file '%s': %s", name, strerror(errno));
    size_t first_added = out->count;
    char *line = NULL;
    size_t cap = 0, line_no = 0;
    ssize_t got;
    int rc = 0;
    while ((got = getline(&line, &cap, f)) >= 0) {
        line_no++;
        size_t len = (size_t)got;
        if (len > 0 && line[len - 1] == '\n')
            len--;
        if (len > 0 && line[len - 1] == '\r')
            len--;
        if (memchr(line, '\0', len)) {
            rc = tp_err_set(err, "tags file '%s' line %zu: contains a NUL byte", name, line_no);
            break;
        }
        line[len] = '\0';
        if (is_blank_line(line))
            continue;
        if (parse_tag_line(line, out, err) < 0) {
            tp_err_prefix(err, "tags file '%s' line %zu", name, line_no);
            rc = -1;
            break;
        }
    }
    if (rc == 0 && ferror(f))
        rc = tp_err_set(err, "tags file '%s': %s", name, strerror(errno));
    free(line);
    if (!from_stdin)
        fclose(f);
    if (rc < 0) { /* leave the list as it was; free the array if this call made it */
        tag_list_truncate(out, first_added);
        if (out->count == 0)
            tag_list_free(out);
    }
    return rc;
}

/* ---- selection ---- */

/* The version in a fact, when it fits: numbers of 32 bits, a pre-release within 255 bytes. */
static bool fact_pack(const semver_version *v, const char *name, tag_fact *f)
{
    size_t off = v->pre ? (size_t)(v->pre - name) : 0;
    if (v->major > UINT32_MAX || v->minor > UINT32_MAX || v->patch > UINT32_MAX ||
        off > UINT8_MAX || v->pre_len > UINT8_MAX || (v->pre && off == 0))
        return false;
    *f = (tag_fact){(uint32_t)v->major, (uint32_t)v->minor, (uint32_t)v->patch,
                    TAG_FACT_SEMVER,    (uint8_t)off,       (uint8_t)v->pre_len};
    return true;
}

tag_fact *strategy_tag_facts(const tag_list *tags)
{
    if (!tags->count)
        return NULL;
    tag_fact *facts = xmalloc(tags->count * sizeof *facts);
    for (size_t i = 0; i < tags->count; i++) {
        const char *name = tags->items[i].name;
        tag_fact *f = &facts[i];
        *f = (tag_fact){.kind = TAG_FACT_INVALID};
        semver_version v;
        if (!imageref_tag_valid(name))
            continue;
        if (semver_parse(name, &v) < 0)
            f->kind = TAG_FACT_NOT_SEMVER;
        else if (!fact_pack(&v, name, f))
            f->kind = TAG_FACT_WIDE;
    }
    return facts;
}

static bool is_blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r' && *s != '\f')
            return false;
    return true;
}

/* Filters first: true when the filter refused the tag (the verdict says why). */
/* The filter a selection asks about each tag: none when it lets every tag through (an open
 * filter is not asked 500 times a selection). */
static const tagfilter *filter_to_ask(const strategy_params *params)
{
    return params->filter && !tagfilter_allows_all(params->filter) ? params->filter : NULL;
}

static bool filtered_out(const tagfilter *filter, const char *tag, tag_verdict *v)
{
    if (!filter)
        return false;
    const char *detail = NULL;
    switch (tagfilter_check(filter, tag, &detail)) {
    case TAGFILTER_ALLOWED:
        return false;
    case TAGFILTER_IGNORED:
        v->reason = REASON_IGNORED;
        break;
    case TAGFILTER_REJECTED:
        v->reason = REASON_NOT_ALLOWED;
        break;
    }
    v->detail = detail;
    return true;
}

/* Ties go to the greater tag string (byte order); for equal strings the later entry. */
static bool name_wins(const tag_list *tags, size_t i, size_t best)
{
    return strcmp(tags->items[i].name, tags->items[best].name) >= 0;
}

static bool semver_wins(const tag_list *tags, const semver_version *versions, size_t i, size_t best)
{
    int c = semver_compare(&versions[i], &versions[best]);
    return c > 0 || (c == 0 && name_wins(tags, i, best));
}

static bool newest_wins(const tag_list *tags, size_t i, size_t best)
{
    int c = timefmt_compare(tags->items[i].created, tags->items[best].created);
    return c > 0 || (c == 0 && name_wins(tags, i, best));
}

/* The tag's version: from its fact when there is one, else parsed now. */
static bool version_of(const tag_fact *fact, const char *name, semver_version *out)
{
    if (fact && fact->kind == TAG_FACT_SEMVER) {
        *out = (semver_version){fact->major,
                                fact->minor,
                                fact->patch,
                                fact->pre_off ? name + fact->pre_off : NULL,
                                fact->pre_off ? fact->pre_len : 0,
                                NULL,
                                0};
        return true;
    }
    if (fact && fact->kind != TAG_FACT_WIDE)
        return false;
    return semver_parse(name, out) == 0;
}

/* The verdict of one tag that passed the filters; returns whether it is eligible. For semver,
 * versions[i] is filled. `detail` is the text reasons quote (constraint or followed tag). */
static bool judge(const strategy_params *params, const semver_constraint *constraint,
                  const char *detail, const tag_info *tag, const tag_fact *fact,
                  semver_version *version, tag_verdict *v)
{
    switch (params->kind) {
    case STRATEGY_SEMVER:
        if (!version_of(fact, tag->name, version)) {
            v->reason = REASON_NOT_SEMVER;
            return false;
        }
        switch (semver_constraint_check(constraint, version)) {
        case SEMVER_SATISFIED:
            return true;
        case SEMVER_PRERELEASE_EXCLUDED:
            v->reason = REASON_PRERELEASE;
            break;
        case SEMVER_UNSATISFIED:
            v->reason = REASON_UNSATISFIED;
            break;
        }
        v->detail = detail;
        return false;
    case STRATEGY_NEWEST_BUILD:
        /* the constraint is not used: AIU ignores it for newest-build as well */
        if (!tag->has_created) {
            v->reason = REASON_NO_CREATED;
            return false;
        }
        return true;
    case STRATEGY_ALPHABETICAL:
        return true;
    case STRATEGY_DIGEST:
        if (strcmp(tag->name, detail) != 0) {
            v->reason = REASON_NOT_FOLLOWED;
            v->detail = detail;
            return false;
        }
        return true;
    }
    return false;
}

/* What a selection needs before its first tag: the text its reasons quote (borrowed from params,
 * or a literal, so it outlives the call) and, for semver, the parsed constraint (the caller
 * frees it). Fails on a bad constraint, or a digest strategy without a tag to follow. */
static int selection_begin(const strategy_params *params, const char **detail,
                           semver_constraint **constraint, tp_err *err)
{
    bool no_constraint = !params->constraint || is_blank(params->constraint);
    *detail = no_constraint ? "*" : params->constraint;
    *constraint = NULL;
    if (params->kind == STRATEGY_DIGEST && no_constraint)
        return tp_err_set(err, "digest strategy needs a tag to follow: write image:<tag>");
    if (params->kind == STRATEGY_SEMVER) {
        *constraint = semver_constraint_parse(params->constraint, err);
        if (!*constraint)
            return -1;
    }
    return 0;
}

int strategy_select(const strategy_params *params, const tag_list *tags, strategy_result *out,
                    tp_err *err)
{
    memset(out, 0, sizeof *out);
    out->candidate = -1;
    const char *detail;
    semver_constraint *constraint;
    if (selection_begin(params, &detail, &constraint, err) < 0)
        return -1;
    size_t n = tags->count;
    out->verdicts = xcalloc(n, sizeof *out->verdicts);
    out->count = n;
    semver_version *versions = NULL;
    if (params->kind == STRATEGY_SEMVER)
        versions = xmalloc(n * sizeof *versions);

    const tagfilter *filter = filter_to_ask(params);
    ptrdiff_t best = -1;
    for (size_t i = 0; i < n; i++) {
        tag_verdict *v = &out->verdicts[i];
        v->index = i;
        const tag_fact *fact = params->facts ? &params->facts[i] : NULL;
        if (fact ? fact->kind == TAG_FACT_INVALID : !imageref_tag_valid(tags->items[i].name)) {
            v->reason = REASON_INVALID_TAG;
            continue;
        }
        if (filtered_out(filter, tags->items[i].name, v))
            continue;
        if (!judge(params, constraint, detail, &tags->items[i], fact,
                   versions ? &versions[i] : NULL, v))
            continue;
        v->eligible = true;
        v->reason = REASON_OLDER;
        bool wins = best < 0;
        if (!wins) {
            size_t b = (size_t)best;
            switch (params->kind) {
            case STRATEGY_SEMVER:
                wins = semver_wins(tags, versions, i, b);
                break;
            case STRATEGY_NEWEST_BUILD:
                wins = newest_wins(tags, i, b);
                break;
            case STRATEGY_ALPHABETICAL:
            case STRATEGY_DIGEST:
                wins = name_wins(tags, i, b);
                break;
            }
        }
        if (wins)
            best = (ptrdiff_t)i;
    }
    if (best >= 0)
        out->verdicts[best].reason = REASON_CANDIDATE;
    out->candidate = best;
    free(versions);
    semver_constraint_free(constraint);
    return 0;
}

/* Whether tag i goes before tag best in the order strategy_select keeps (the greatest wins): by
 * version or build date, then by name (byte order), then the later entry. vi and vb: their
 * versions, for semver. */
static bool ranks_above(const strategy_params *params, const tag_list *tags,
                        const semver_version *vi, const semver_version *vb, size_t i, size_t best)
{
    int c = 0;
    if (params->kind == STRATEGY_SEMVER)
        c = semver_compare(vi, vb);
    else if (params->kind == STRATEGY_NEWEST_BUILD)
        c = timefmt_compare(tags->items[i].created, tags->items[best].created);
    if (c)
        return c > 0;
    int n = strcmp(tags->items[i].name, tags->items[best].name);
    return n ? n > 0 : i > best;
}

int strategy_candidate(const strategy_params *params, const tag_list *tags, ptrdiff_t *candidate,
                       tp_err *err)
{
    *candidate = -1;
    const char *detail;
    semver_constraint *constraint;
    if (selection_begin(params, &detail, &constraint, err) < 0)
        return -1;
    const tagfilter *filter = filter_to_ask(params);
    /* ^1.0 over a table of 1.x to 5.x: the 2.x to 5.x are passed over by their major alone */
    uint64_t major_bound = constraint ? semver_constraint_major_bound(constraint) : UINT64_MAX;
    ptrdiff_t best = -1;
    semver_version best_version = {0};
    /* From the end: registries list in byte order, so a newer version tends to come later, and
     * once one is eligible the older ones are passed over without their constraint checked. */
    for (size_t k = tags->count; k-- > 0;) {
        const tag_fact *fact = params->facts ? &params->facts[k] : NULL;
        if (fact ? fact->kind == TAG_FACT_INVALID : !imageref_tag_valid(tags->items[k].name))
            continue;
        semver_version version = {0};
        if (params->kind == STRATEGY_SEMVER && !version_of(fact, tags->items[k].name, &version))
            continue; /* not a version: never eligible */
        if (version.major > major_bound)
            continue; /* no version of that major satisfies the constraint */
        if (best >= 0 && !ranks_above(params, tags, &version, &best_version, k, (size_t)best))
            continue; /* whatever its verdict, it is not the candidate */
        tag_verdict scratch = {0};
        if (filtered_out(filter, tags->items[k].name, &scratch) ||
            !judge(params, constraint, detail, &tags->items[k], fact, &version, &scratch))
            continue;
        best = (ptrdiff_t)k;
        best_version = version;
    }
    *candidate = best;
    semver_constraint_free(constraint);
    return 0;
}

void strategy_result_free(strategy_result *r)
{
    free(r->verdicts);
    r->verdicts = NULL;
    r->count = 0;
    r->candidate = -1;
}

const char *strategy_reason_text(const tag_verdict *v, char *buf, size_t len)
{
    const char *d = v->detail ? v->detail : "";
    switch (v->reason) {
    case REASON_CANDIDATE:
        snprintf(buf, len, "candidate");
        break;
    case REASON_OLDER:
        snprintf(buf, len, "older than the candidate");
        break;
    case REASON_NOT_SEMVER:
        snprintf(buf, len, "not a semantic version");
        break;
    case REASON_PRERELEASE:
        snprintf(buf, len, "pre-release excluded by '%s'", v->detail ? d : "*");
        break;
    case REASON_UNSATISFIED:
        snprintf(buf, len, "does not satisfy '%s'", v->detail ? d : "*");
        break;
    case REASON_IGNORED:
        snprintf(buf, len, "ignored by glob '%s'", d);
        break;
    case REASON_NOT_ALLOWED:
        snprintf(buf, len, "rejected by allow-tags %s", d);
        break;
    case REASON_NO_CREATED:
        snprintf(buf, len, "no build date known");
        break;
    case REASON_NOT_FOLLOWED:
        snprintf(buf, len, "not the followed tag '%s'", d);
        break;
    case REASON_PLATFORM_MISMATCH:
        if (v->detail)
            snprintf(buf, len, "no image for platform %s", d);
        else
            snprintf(buf, len, "no image for the wanted platform");
        break;
    case REASON_INVALID_TAG:
        snprintf(buf, len, "not a valid tag");
        break;
    default:
        snprintf(buf, len, "unknown reason");
        break;
    }
    return buf;
}

void strategy_mark_platform_mismatch(strategy_result *r, const tag_list *tags,
                                     const strvec *mismatched)
{
    if (!mismatched || !mismatched->count)
        return;
    for (size_t i = 0; i < r->count; i++) {
        tag_verdict *v = &r->verdicts[i];
        if (v->reason != REASON_NO_CREATED)
            continue;
        for (size_t k = 0; k < mismatched->count; k++)
            if (strcmp(tags->items[v->index].name, mismatched->items[k]) == 0) {
                v->reason = REASON_PLATFORM_MISMATCH;
                v->detail = NULL;
                break;
            }
    }
}
