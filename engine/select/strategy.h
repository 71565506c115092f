/* strategy: pick the candidate tag for one image, and give every tag a verdict with a reason a
 * person can read. Strategies as argocd-image-updater: semver (default), newest-build,
 * alphabetical, digest; old names latest/name accepted with a deprecation warning. */
#ifndef TP_STRATEGY_H
#define TP_STRATEGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tagfilter.h"
#include "timefmt.h"
#include "util.h"

typedef enum strategy_kind {
    STRATEGY_SEMVER = 0,
    STRATEGY_NEWEST_BUILD,
    STRATEGY_ALPHABETICAL,
    STRATEGY_DIGEST,
} strategy_kind;

/* Resolve a strategy name, in any case as argocd-image-updater does ("Semver"). Unknown names
 * fall back to semver with a warning; "latest" and "name" map to newest-build / alphabetical
 * with a deprecation warning. *warning (may be NULL) is set to NULL or a per-thread buffer the
 * caller does not free, valid until the next call on that thread. Empty/NULL name means semver
 * without warning. */
strategy_kind strategy_from_name(const char *name, const char **warning);
/* Canonical name: "semver", "newest-build", "alphabetical", "digest". */
const char *strategy_name(strategy_kind kind);

/* What a strategy needs from the registry besides the tag list. */
typedef enum strategy_need {
    STRATEGY_NEEDS_TAGS,     /* the names alone: semver, alphabetical */
    STRATEGY_NEEDS_DIGEST,   /* the followed tag's verified digest: digest */
    STRATEGY_NEEDS_METADATA, /* each allowed tag's digest, created date and platforms:
                                newest-build */
} strategy_need;
strategy_need strategy_needs(strategy_kind kind);

/* One tag as the registry (or a tags file) knows it. */
typedef struct tag_info {
    char *name;      /* owned */
    char *digest;    /* "sha256:…" or NULL; owned */
    tp_time created; /* the image's build date, valid when has_created */
    bool has_created;
} tag_info;

typedef struct tag_list {
    tag_info *items; /* owned */
    size_t count;
    size_t cap;
} tag_list;

/* Append a copy of name/digest; created is NULL when unknown. */
tag_info *tag_list_add(tag_list *list, const char *name, const char *digest,
                       const tp_time *created);
void tag_list_free(tag_list *list);

/* Read a tags file ("-" for stdin) and append its tags to out: one tag a line; optional
 * tab-separated RFC 3339 created (timefmt_parse) and digest columns (either may be empty); blank
 * lines skipped; CRLF accepted; any bytes but NUL. Errors name the file and line; on error out is
 * left as it was (and freed when this call had made it). */
int tag_list_read(const char *path_or_dash, tag_list *out, tp_err *err);

/* Why a tag was or was not picked. */
typedef enum tag_reason {
    REASON_CANDIDATE = 0,     /* "candidate" */
    REASON_OLDER,             /* "older than the candidate" */
    REASON_NOT_SEMVER,        /* "not a semantic version" */
    REASON_PRERELEASE,        /* "pre-release excluded by '<constraint>'" */
    REASON_UNSATISFIED,       /* "does not satisfy '<constraint>'" */
    REASON_IGNORED,           /* "ignored by glob '<glob>'" */
    REASON_NOT_ALLOWED,       /* "rejected by allow-tags <spec>" */
    REASON_NO_CREATED,        /* "no build date known" (newest-build) */
    REASON_NOT_FOLLOWED,      /* "not the followed tag '<tag>'" (digest) */
    REASON_PLATFORM_MISMATCH, /* "no image for platform …" (newest-build; set by the registry) */
    REASON_INVALID_TAG,       /* "not a valid tag": outside distribution's tag grammar */
} tag_reason;

typedef struct tag_verdict {
    size_t index;  /* into the tag_list given to strategy_select */
    bool eligible; /* passed filters and constraint */
    tag_reason reason;
    const char *detail; /* constraint text, glob, allow spec or followed tag; borrowed */
} tag_verdict;

/* What a selection learns of a tag before any image's constraint or filter: whether it is a tag
 * at all, and its version. A table's facts are made once (strategy_tag_facts) and serve every
 * selection over it: 1,000 images over 200 repositories select five times a table. */
typedef enum tag_fact_kind {
    TAG_FACT_INVALID = 0, /* outside the tag grammar (imageref_tag_valid) */
    TAG_FACT_NOT_SEMVER,  /* a tag, not a semantic version */
    TAG_FACT_SEMVER,      /* version holds it */
    TAG_FACT_WIDE,        /* a version too wide to pack: semver_parse it when needed */
} tag_fact_kind;

/* 16 bytes a tag: the version's numbers when they fit in 32 bits, its pre-release as an offset
 * into the tag (valid tags are at most 128 bytes); metadata is not kept, nothing orders by it. */
typedef struct tag_fact {
    uint32_t major, minor, patch; /* when kind is TAG_FACT_SEMVER */
    uint8_t kind;                 /* tag_fact_kind */
    uint8_t pre_off, pre_len;     /* pre_off 0: no pre-release (a version never starts with one) */
} tag_fact;

/* The facts of every tag of tags, in its order: a new array (NULL for no tags). */
tag_fact *strategy_tag_facts(const tag_list *tags);

/* What the selection needs to know about one image. Borrowed pointers. */
typedef struct strategy_params {
    strategy_kind kind;
    const char *constraint;  /* image-list constraint / --semver-constraint; may be NULL */
    const tagfilter *filter; /* may be NULL: everything allowed */
    const tag_fact *facts;   /* strategy_tag_facts of the tags selected over, or NULL */
} strategy_params;

typedef struct strategy_result {
    tag_verdict *verdicts; /* one per tag, in the order of the input list; owned */
    size_t count;
    ptrdiff_t candidate; /* index into the tag list, or -1 when none */
} strategy_result;

/* Select a candidate. Fails only on a bad constraint ("invalid semver constraint '…': …") or a
 * digest strategy without a tag to follow ("digest strategy needs a tag to follow …").
 * A tag outside distribution's grammar (imageref_tag_valid: a newline, a space, non-ASCII, more
 * than 128 bytes — what a hostile registry may list) is never eligible, under any strategy;
 * that comes before the filters. semver: the highest satisfying version, equal versions by the
 * greater tag string; a NULL/blank constraint is "*". newest-build: the latest created, ties by tag
 * string; alphabetical: the greatest tag string; both ignore the constraint, as AIU does. digest:
 * the constraint names the tag to follow; the candidate is that tag when present (its digest is the
 * tag's digest). Verdict details borrow from params->constraint and params->filter.
 * Runs in O(n log n) over the tags without per-tag allocation beyond the verdict array. */
int strategy_select(const strategy_params *params, const tag_list *tags, strategy_result *out,
                    tp_err *err);
void strategy_result_free(strategy_result *r);

/* The candidate strategy_select would choose (its index into tags, or -1), without a verdict for
 * every tag: a tag that cannot outrank the best eligible one found so far is passed over unjudged.
 * For a caller that shows no evidence (`run --once`'s report); fails as strategy_select does. */
int strategy_candidate(const strategy_params *params, const tag_list *tags, ptrdiff_t *candidate,
                       tp_err *err);

/* newest-build: tags the registry had no image for on the wanted platforms got "no build date
 * known" from strategy_select; say the real reason instead (names from the registry client). */
void strategy_mark_platform_mismatch(strategy_result *r, const tag_list *tags,
                                     const strvec *mismatched);

/* Human text for a verdict, e.g. "does not satisfy '^1.0'". Writes into buf. */
const char *strategy_reason_text(const tag_verdict *v, char *buf, size_t len);

#endif
