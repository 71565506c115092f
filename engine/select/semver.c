/* semver: Masterminds/semver v3.4.0 behaviour, written from its documented and tested
 * semantics. Versions are parsed by hand (no allocation); constraints are parsed once per image
 * and follow the library's regular-expression grammar closely enough to accept and refuse the
 * same strings, quirks included (see the comments at each operator). */
#include "semver.h"

#include <stdlib.h>
#include <string.h>

/* ---- character classes (ASCII only, as in Go's regexp classes) ---- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* [0-9A-Za-z-]: what pre-release and metadata identifiers are made of. */
static bool is_ident_char(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

/* Go's \s: [\t\n\f\r ] (no vertical tab). */
static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

/* A version segment inside a constraint: digits, the wildcards x X *, and (a quirk of the
 * library's character class [0-9|x|X|\*]) a literal '|'. */
static bool is_segment_char(char c)
{
    return is_digit(c) || c == 'x' || c == 'X' || c == '*' || c == '|';
}

static bool is_wildcard(const char *s, size_t n)
{
    return n == 1 && (s[0] == 'x' || s[0] == 'X' || s[0] == '*');
}

/* Like Go's strconv.ParseUint(s, 10, 64): digits only, no sign, must fit. */
static bool parse_u64(const char *s, size_t n, uint64_t *out)
{
    if (n == 0)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]))
            return false;
    return true;
}

/* Dot-separated identifiers I(\.I)* with I = [0-9A-Za-z-]+, greedy; returns the length matched
 * (0 when s does not start with an identifier). A trailing '.' is not consumed. */
static size_t scan_identifiers(const char *s)
{
    size_t n = 0;
    while (is_ident_char(s[n])) {
        while (is_ident_char(s[n]))
            n++;
        if (s[n] != '.' || !is_ident_char(s[n + 1]))
            break;
        n++;
    }
    return n;
}

/* Numeric pre-release identifiers must not have leading zeros ("01"); SemVer 2.0 §9. */
static bool prerelease_valid(const char *pre, size_t len)
{
    size_t start = 0;
    while (start < len) {
        size_t end = start;
        while (end < len && pre[end] != '.')
            end++;
        if (end - start > 1 && pre[start] == '0' && all_digits(pre + start, end - start))
            return false;
        start = end + 1;
    }
    return true;
}

static size_t scan_digits(const char *s)
{
    size_t n = 0;
    while (is_digit(s[n]))
        n++;
    return n;
}

int semver_parse(const char *s, semver_version *out)
{
    semver_version v = {0};
    const char *p = s;
    if (*p == 'v')
        p++;
    uint64_t *fields[3] = {&v.major, &v.minor, &v.patch};
    for (int i = 0; i < 3; i++) {
        if (i > 0) {
            if (*p != '.')
                break;
            p++;
        }
        size_t n = scan_digits(p);
        if (!parse_u64(p, n, fields[i]))
            return -1;
        p += n;
    }
    if (*p == '-') {
        size_t n = scan_identifiers(p + 1);
        if (n == 0)
            return -1;
        v.pre = p + 1;
        v.pre_len = n;
        p += 1 + n;
    }
    if (*p == '+') {
        size_t n = scan_identifiers(p + 1);
        if (n == 0)
            return -1;
        v.meta = p + 1;
        v.meta_len = n;
        p += 1 + n;
    }
    if (*p != '\0')
        return -1;
    if (v.pre && !prerelease_valid(v.pre, v.pre_len))
        return -1;
    *out = v;
    return 0;
}

/* ---- precedence ---- */

static int cmp_u64(uint64_t a, uint64_t b)
{
    return a < b ? -1 : a > b;
}

/* One identifier against another, as Masterminds does it: identifiers that parse as uint64 are
 * numbers and sort before any other; two others compare byte-wise; an absent identifier (n == 0)
 * sorts first. */
static int compare_identifier(const char *a, size_t an, const char *b, size_t bn)
{
    if (an == bn && memcmp(a, b, an) == 0)
        return 0;
    if (an == 0)
        return -1;
    if (bn == 0)
        return 1;
    uint64_t na, nb;
    bool a_num = parse_u64(a, an, &na);
    bool b_num = parse_u64(b, bn, &nb);
    if (a_num && b_num)
        return na < nb ? -1 : 1;
    if (a_num)
        return -1;
    if (b_num)
        return 1;
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c != 0)
        return c < 0 ? -1 : 1;
    return an < bn ? -1 : 1;
}

/* Identifier by identifier; the shorter list sorts first when one is a prefix of the other. */
static int compare_prerelease(const char *a, size_t an, const char *b, size_t bn)
{
    size_t ia = 0, ib = 0;
    for (;;) {
        bool a_done = ia >= an, b_done = ib >= bn;
        if (a_done && b_done)
            return 0;
        size_t ea = ia, eb = ib;
        while (ea < an && a[ea] != '.')
            ea++;
        while (eb < bn && b[eb] != '.')
            eb++;
        int c = compare_identifier(a + ia, a_done ? 0 : ea - ia, b + ib, b_done ? 0 : eb - ib);
        if (c != 0)
            return c;
        ia = ea + 1;
        ib = eb + 1;
    }
}

int semver_compare(const semver_version *a, const semver_version *b)
{
    int c = cmp_u64(a->major, b->major);
    if (c == 0)
        c = cmp_u64(a->minor, b->minor);
    if (c == 0)
        c = cmp_u64(a->patch, b->patch);
    if (c != 0)
        return c;
    if (!a->pre && !b->pre)
        return 0;
    if (!a->pre)
        return 1;
    if (!b->pre)
        return -1;
    return compare_prerelease(a->pre, a->pre_len, b->pre, b->pre_len);
}

/* ---- constraints ---- */

typedef enum constraint_op {
    OP_TILDE_OR_EQUAL, /* "" and "=": '=' for a full version, '~' for a partial/wildcard one */
    OP_NOT_EQUAL,      /* != */
    OP_GREATER,        /* > */
    OP_LESS,           /* < */
    OP_GREATER_EQUAL,  /* >= => */
    OP_LESS_EQUAL,     /* <= =< */
    OP_TILDE,          /* ~ ~> */
    OP_CARET,          /* ^ */
} constraint_op;

/* One comparison. `dirty` means the version was partial or had a wildcard; minor_dirty that
 * the minor was missing or a wildcard ("1", "1.x"), patch_dirty the same for the patch. A
 * wildcard major ("*", "x.2") sets only `dirty`, exactly like the library. */
typedef struct constraint_term {
    constraint_op op;
    semver_version version; /* pre points into the constraint's own copy of the text */
    bool dirty, minor_dirty, patch_dirty;
} constraint_term;

/* An AND group; pre-releases are admitted by every term of a group when any term of it
 * carries a pre-release (Masterminds v3.4.0, #267). */
typedef struct constraint_group {
    size_t first, count; /* range in terms */
    bool has_prerelease;
} constraint_group;

struct semver_constraint {
    char *text;      /* as given ("*" for an empty constraint); owned */
    char *rewritten; /* after hyphen ranges became ">= a, <= b"; terms point into it; owned */
    constraint_term *terms;
    size_t n_terms, cap_terms;
    constraint_group *groups;
    size_t n_groups;
    bool has_prerelease;
};

/* A version as the constraint grammar matched it:
 * v?SEG(.SEG)?(.SEG)?(-IDENTS)?(+IDENTS)? with SEG = [0-9xX*|]+. */
typedef struct constraint_version {
    const char *start;
    size_t len;
    const char *seg[3];
    size_t seg_len[3];
    int n_seg;
    const char *pre;
    size_t pre_len;
} constraint_version;

/* Match a constraint version at s, greedily; returns its length or 0. */
static size_t match_constraint_version(const char *s, constraint_version *cv)
{
    memset(cv, 0, sizeof *cv);
    const char *p = s;
    if (*p == 'v' && is_segment_char(p[1]))
        p++;
    while (cv->n_seg < 3) {
        if (cv->n_seg > 0) {
            if (p[0] != '.' || !is_segment_char(p[1]))
                break;
            p++;
        }
        const char *seg = p;
        while (is_segment_char(*p))
            p++;
        if (p == seg)
            return 0;
        cv->seg[cv->n_seg] = seg;
        cv->seg_len[cv->n_seg] = (size_t)(p - seg);
        cv->n_seg++;
    }
    if (p[0] == '-' && is_ident_char(p[1])) {
        cv->pre = p + 1;
        cv->pre_len = scan_identifiers(p + 1);
        p += 1 + cv->pre_len;
    }
    if (p[0] == '+' && is_ident_char(p[1]))
        p += 1 + scan_identifiers(p + 1);
    cv->start = s;
    cv->len = (size_t)(p - s);
    return cv->len;
}

static size_t skip_space(const char *s)
{
    size_t n = 0;
    while (is_space(s[n]))
        n++;
    return n;
}

/* A hyphen range `\s*A\s+-\s+B\s*` at s: its length, or 0. */
static size_t match_hyphen_range(const char *s, constraint_version *a, constraint_version *b)
{
    size_t n = skip_space(s);
    size_t la = match_constraint_version(s + n, a);
    if (la == 0)
        return 0;
    n += la;
    size_t sp = skip_space(s + n);
    if (sp == 0 || s[n + sp] != '-')
        return 0;
    n += sp + 1;
    sp = skip_space(s + n);
    if (sp == 0)
        return 0;
    n += sp;
    size_t lb = match_constraint_version(s + n, b);
    if (lb == 0)
        return 0;
    n += lb;
    return n + skip_space(s + n);
}

/* Rewrite every hyphen range "A - B" as ">= A, <= B " the way the library does: find the
 * matches in the original text, then replace the first occurrence of each matched text. The
 * surrounding blanks are part of the match, which is why ">=1 1.2 - 1.4" ends up invalid
 * (no separator is left) while ">=1, 1.2 - 1.4" is fine. */
static char *rewrite_ranges(const char *text)
{
    char *current = xstrdup(text);
    size_t len = strlen(text);
    for (size_t i = 0; i < len;) {
        constraint_version a, b;
        size_t n = match_hyphen_range(text + i, &a, &b);
        if (n == 0) {
            i++;
            continue;
        }
        char *needle = xstrndup(text + i, n);
        char *at = strstr(current, needle);
        if (at) {
            strbuf sb = {0};
            strbuf_append(&sb, current, (size_t)(at - current));
            strbuf_printf(&sb, ">= %.*s, <= %.*s ", (int)a.len, a.start, (int)b.len, b.start);
            strbuf_puts(&sb, at + n);
            free(current);
            current = strbuf_take(&sb);
        }
        free(needle);
        i += n;
    }
    return current;
}

/* The longest operator at s (the grammar only ever succeeds with the longest one, since a
 * version cannot start with an operator character). */
static size_t match_operator(const char *s, constraint_op *op)
{
    static const struct {
        const char *text;
        constraint_op op;
    } ops[] = {
        {"!=", OP_NOT_EQUAL},     {">=", OP_GREATER_EQUAL}, {"=>", OP_GREATER_EQUAL},
        {"<=", OP_LESS_EQUAL},    {"=<", OP_LESS_EQUAL},    {"~>", OP_TILDE},
        {"=", OP_TILDE_OR_EQUAL}, {">", OP_GREATER},        {"<", OP_LESS},
        {"~", OP_TILDE},          {"^", OP_CARET},
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t n = strlen(ops[i].text);
        if (strncmp(s, ops[i].text, n) == 0) {
            *op = ops[i].op;
            return n;
        }
    }
    *op = OP_TILDE_OR_EQUAL;
    return 0;
}

/* Turn a matched constraint version into the comparison version and its dirty flags, like the
 * library's parseConstraint + NewVersion: segments after the first wildcard are ignored,
 * metadata is dropped, numbers must fit in 64 bits, pre-release identifiers are validated. */
static int build_term(constraint_term *t, const constraint_version *cv, tp_err *err,
                      const char *text)
{
    uint64_t *fields[3] = {&t->version.major, &t->version.minor, &t->version.patch};
    int exact = 0; /* segments taken as numbers */
    if (is_wildcard(cv->seg[0], cv->seg_len[0])) {
        t->dirty = true;
    } else if (cv->n_seg < 2 || is_wildcard(cv->seg[1], cv->seg_len[1])) {
        t->dirty = t->minor_dirty = true;
        exact = 1;
    } else if (cv->n_seg < 3 || is_wildcard(cv->seg[2], cv->seg_len[2])) {
        t->dirty = t->patch_dirty = true;
        exact = 2;
    } else {
        exact = 3;
    }
    for (int i = 0; i < exact; i++)
        if (!parse_u64(cv->seg[i], cv->seg_len[i], fields[i]))
            return tp_err_set(err, "invalid semver constraint '%s': '%.*s' is not a version", text,
                              (int)cv->len, cv->start);
    if (cv->pre) {
        if (!prerelease_valid(cv->pre, cv->pre_len))
            return tp_err_set(err,
                              "invalid semver constraint '%s': '%.*s' has a numeric pre-release "
                              "identifier with a leading zero",
                              text, (int)cv->len, cv->start);
        t->version.pre = cv->pre;
        t->version.pre_len = cv->pre_len;
    }
    return 0;
}

static constraint_term *add_term(semver_constraint *c)
{
    if (c->n_terms == c->cap_terms) {
        c->cap_terms = c->cap_terms ? c->cap_terms * 2 : 4;
        c->terms = xrealloc(c->terms, c->cap_terms * sizeof *c->terms);
    }
    constraint_term *t = &c->terms[c->n_terms++];
    memset(t, 0, sizeof *t);
    return t;
}

/* One OR part: `\s*OP\s*V\s*` then any number of `(\s+|,\s*)OP\s*V\s*`, anchored at both ends.
 * Returns 0, or -1 when the part does not have that shape or a version in it is bad. */
static int parse_group(semver_constraint *c, const char *part, bool only_part, tp_err *err)
{
    size_t len = strlen(part);
    constraint_group *g = &c->groups[c->n_groups];
    g->first = c->n_terms;
    size_t i = skip_space(part);
    for (bool first = true;; first = false) {
        if (!first) {
            size_t sp = skip_space(part + i);
            i += sp;
            if (i >= len)
                break;
            if (part[i] == ',')
                i += 1 + skip_space(part + i + 1);
            else if (sp == 0)
                goto improper;
        }
        constraint_op op;
        i += match_operator(part + i, &op);
        i += skip_space(part + i);
        constraint_version cv;
        size_t n = match_constraint_version(part + i, &cv);
        if (n == 0)
            goto improper;
        i += n;
        constraint_term *t = add_term(c);
        t->op = op;
        if (build_term(t, &cv, err, c->text) < 0)
            return -1;
        if (t->version.pre)
            g->has_prerelease = true;
    }
    g->count = c->n_terms - g->first;
    c->has_prerelease = c->has_prerelease || g->has_prerelease;
    c->n_groups++;
    return 0;
improper:
    if (only_part)
        return tp_err_set(err, "invalid semver constraint '%s': improper constraint", c->text);
    return tp_err_set(err, "invalid semver constraint '%s': improper constraint '%.*s'", c->text,
                      (int)len, part);
}

static bool is_blank(const char *s)
{
    return s[skip_space(s)] == '\0';
}

/* Longer constraints are refused: the range rewrite is quadratic in the worst case, and no
 * real constraint comes near this. */
#define CONSTRAINT_MAX_LEN 4096

semver_constraint *semver_constraint_parse(const char *s, tp_err *err)
{
    if (s && strlen(s) > CONSTRAINT_MAX_LEN) {
        tp_err_set(err, "invalid semver constraint '%.40s…': longer than %d characters", s,
                   CONSTRAINT_MAX_LEN);
        return NULL;
    }
    semver_constraint *c = xcalloc(1, sizeof *c);
    bool blank = !s || is_blank(s);
    c->text = xstrdup(blank ? "*" : s);
    c->rewritten = rewrite_ranges(c->text);
    /* Split on "||" before anything else looks at the text (a lone '|' stays, and is an
     * error later); each part is cut in place so terms can point into it. */
    size_t n_parts = 1;
    for (char *bar = c->rewritten; (bar = strstr(bar, "||")); bar += 2) {
        bar[0] = bar[1] = '\0';
        n_parts++;
    }
    c->groups = xcalloc(n_parts, sizeof *c->groups);
    const char *part = c->rewritten;
    for (size_t i = 0; i < n_parts; i++) {
        size_t len = strlen(part);
        if (parse_group(c, part, n_parts == 1, err) < 0) {
            semver_constraint_free(c);
            return NULL;
        }
        part += len + 2;
    }
    return c;
}

void semver_constraint_free(semver_constraint *c)
{
    if (!c)
        return;
    free(c->text);
    free(c->rewritten);
    free(c->terms);
    free(c->groups);
    free(c);
}

const char *semver_constraint_text(const semver_constraint *c)
{
    return c->text;
}

bool semver_constraint_has_prerelease(const semver_constraint *c)
{
    return c->has_prerelease;
}

/* ---- the operators, each as Masterminds v3.4.0 evaluates it ---- */

static bool check_tilde(const constraint_term *t, const semver_version *v)
{
    const semver_version *con = &t->version;
    if (semver_compare(v, con) < 0)
        return false;
    /* "~*", "~0.0.0": anything at or above 0.0.0 (but "~0.0" and "~0" keep their ranges) */
    if (con->major == 0 && con->minor == 0 && con->patch == 0 && !t->minor_dirty && !t->patch_dirty)
        return true;
    if (v->major != con->major)
        return false;
    return v->minor == con->minor || t->minor_dirty;
}

/* ^1.2.3 >=1.2.3 <2; ^0.2.3 >=0.2.3 <0.3; ^0.0.3 =0.0.3; ^0.0 <0.1; ^0 <1. A wildcard major
 * sets no minor/patch flag, so "^*" ends up matching 0.0.0 only (library quirk, kept). */
static bool check_caret(const constraint_term *t, const semver_version *v)
{
    const semver_version *con = &t->version;
    if (semver_compare(v, con) < 0)
        return false;
    if (con->major > 0 || t->minor_dirty)
        return v->major == con->major;
    if (v->major > 0)
        return false;
    if (con->minor > 0 || t->patch_dirty)
        return v->minor == con->minor;
    if (v->minor > 0)
        return false;
    return v->patch == con->patch;
}

static bool check_not_equal(const constraint_term *t, const semver_version *v)
{
    const semver_version *con = &t->version;
    if (t->dirty) {
        if (con->major != v->major)
            return true;
        if (con->minor != v->minor && !t->minor_dirty)
            return true;
        if (t->minor_dirty)
            return false;
        if (con->patch != v->patch && !t->patch_dirty)
            return true;
        if (t->patch_dirty) {
            if (v->pre || con->pre)
                return compare_prerelease(v->pre ? v->pre : "", v->pre_len,
                                          con->pre ? con->pre : "", con->pre_len) != 0;
            return false;
        }
        /* a wildcard major ("!=*") falls through to plain inequality with 0.0.0 */
    }
    return semver_compare(v, con) != 0;
}

static bool check_greater(const constraint_term *t, const semver_version *v)
{
    const semver_version *con = &t->version;
    if (!t->dirty)
        return semver_compare(v, con) > 0;
    if (v->major != con->major)
        return v->major > con->major;
    if (t->minor_dirty) /* >1: 1.x is not greater */
        return false;
    if (t->patch_dirty) /* >1.2: 1.2.x is not greater */
        return v->minor > con->minor;
    return semver_compare(v, con) > 0;
}

static bool check_less_equal(const constraint_term *t, const semver_version *v)
{
    const semver_version *con = &t->version;
    if (!t->dirty)
        return semver_compare(v, con) <= 0;
    if (v->major > con->major)
        return false;
    if (v->major == con->major && v->minor > con->minor && !t->minor_dirty)
        return false;
    return true;
}

static bool term_check(const constraint_term *t, const semver_version *v, bool include_pre)
{
    if (v->pre && !include_pre)
        return false;
    switch (t->op) {
    case OP_TILDE_OR_EQUAL:
        return t->dirty ? check_tilde(t, v) : semver_compare(v, &t->version) == 0;
    case OP_NOT_EQUAL:
        return check_not_equal(t, v);
    case OP_GREATER:
        return check_greater(t, v);
    case OP_LESS:
        return semver_compare(v, &t->version) < 0;
    case OP_GREATER_EQUAL:
        return semver_compare(v, &t->version) >= 0;
    case OP_LESS_EQUAL:
        return check_less_equal(t, v);
    case OP_TILDE:
        return check_tilde(t, v);
    case OP_CARET:
        return check_caret(t, v);
    }
    return false;
}

static bool group_check(const semver_constraint *c, const constraint_group *g,
                        const semver_version *v, bool include_pre)
{
    for (size_t i = 0; i < g->count; i++)
        if (!term_check(&c->terms[g->first + i], v, include_pre))
            return false;
    return true;
}

/* The highest major a term lets through (each check below returns false above it), or
 * UINT64_MAX when it has none. */
static uint64_t term_major_bound(const constraint_term *t)
{
    const semver_version *con = &t->version;
    switch (t->op) {
    case OP_CARET: /* v.major == con.major, or 0 when con.major is 0 */
    case OP_LESS:
    case OP_LESS_EQUAL: /* dirty or not: no higher major */
        return con->major;
    case OP_TILDE_OR_EQUAL: /* equal; a dirty one is a tilde */
    case OP_TILDE:          /* "~*", "~0.0.0": anything at or above 0.0.0 */
        if ((t->op == OP_TILDE || t->dirty) && con->major == 0 && con->minor == 0 &&
            con->patch == 0 && !t->minor_dirty && !t->patch_dirty)
            return UINT64_MAX;
        return con->major;
    case OP_NOT_EQUAL:
    case OP_GREATER:
    case OP_GREATER_EQUAL:
        return UINT64_MAX;
    }
    return UINT64_MAX;
}

uint64_t semver_constraint_major_bound(const semver_constraint *c)
{
    uint64_t bound = 0;
    for (size_t i = 0; i < c->n_groups; i++) {
        const constraint_group *g = &c->groups[i];
        uint64_t group = UINT64_MAX; /* an AND: the lowest of its terms' */
        for (size_t k = 0; k < g->count; k++) {
            uint64_t b = term_major_bound(&c->terms[g->first + k]);
            group = b < group ? b : group;
        }
        bound = group > bound ? group : bound; /* an OR: the highest of its groups' */
    }
    return bound;
}

semver_check semver_constraint_check(const semver_constraint *c, const semver_version *v)
{
    bool any_group_takes_pre = false;
    for (size_t i = 0; i < c->n_groups; i++) {
        const constraint_group *g = &c->groups[i];
        if (group_check(c, g, v, g->has_prerelease))
            return SEMVER_SATISFIED;
        any_group_takes_pre = any_group_takes_pre || g->has_prerelease;
    }
    /* Masterminds refuses a pre-release in a group without one before looking at the range,
     * and says so; when no group admits pre-releases that is the whole story. */
    if (v->pre && !any_group_takes_pre)
        return SEMVER_PRERELEASE_EXCLUDED;
    return SEMVER_UNSATISFIED;
}
