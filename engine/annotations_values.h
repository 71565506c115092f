/* annotations_values: what annotations.c shares with its helpers (internal to
 * annotations*.c): the keys there are (annotations_keys.c), checks on single values and the
 * messages that name them (annotations_values.c). `tagpilot test` checks --credentials with the
 * pull-secret rule. */
#ifndef TP_ANNOTATIONS_VALUES_H
#define TP_ANNOTATIONS_VALUES_H

#include <stdbool.h>
#include <stddef.h>

#include "annotations.h"
#include "select/imageref.h"

/* ---- keys (annotations_keys.c) ---- */

enum option_id {
    OPT_STRATEGY,
    OPT_ALLOW_TAGS,
    OPT_IGNORE_TAGS,
    OPT_PLATFORMS,
    OPT_FORCE_UPDATE,
    OPT_PULL_SECRET,
    OPT_HELM_NAME,
    OPT_HELM_TAG,
    OPT_HELM_SPEC,
    OPT_KUSTOMIZE_NAME,
    OPT_TAG_MATCH, /* deprecated spelling of allow-tags, per alias only */
    OPT_COUNT
};

struct annotation_option {
    const char *name; /* key suffix after "<alias>." or the prefix */
    bool app_wide;    /* also accepted without an alias */
};
extern const struct annotation_option annotation_options[OPT_COUNT];

/* App-level keys after the prefix (besides the app-wide options above). */
#define ANNOTATION_N_APP_KEYS 5
extern const char *const annotation_app_keys[ANNOTATION_N_APP_KEYS];

/* The form of an alias in annotation keys: '/' written '_' (a new string). */
char *annotations_alias_key(const char *alias);
/* Warnings about every key nobody reads: unknown ones under either prefix (with the closest
 * known key when near enough to be a typo), and per-alias keys of aliases not in the list
 * (list_value: the raw image-list, NULL when absent). */
void annotations_check_keys(const annotation *items, size_t n, const image_list *list,
                            const char *list_value, app_settings *out);

/* ---- messages (annotations_values.c) ---- */

#define SHOWN_MAX 80                  /* bytes of a value quoted in a message */
#define SHOWN_BUF (4 * SHOWN_MAX + 8) /* what annotations_shown may write */

/* A message about the key on `line` (0: none) into out->errors / out->warnings. */
void annotations_error(app_settings *out, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void annotations_warning(app_settings *out, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool annotations_utf8_valid(const unsigned char *s);
/* A value as a message shows it: UTF-8 text kept, control bytes (and every byte >= 0x80 when the
 * value is not UTF-8) written \xNN, cut at SHOWN_MAX bytes. Returns buf (cap >= SHOWN_BUF). */
const char *annotations_shown(const char *s, char *buf, size_t cap);

/* ---- values (annotations_values.c) ---- */

/* os, arch and variant are names like "linux", "arm64", "v8". */
bool annotations_platform_part_ok(const char *s);
/* Deep copy (NULL for n == 0). */
platform *annotations_platforms_copy(const platform *p, size_t n);
/* allow-tags as argocd-image-updater reads it: "any", or "regexp:<re>" (both names in any
 * case). */
bool annotations_match_spec_ok(const char *v);
/* "a/b": both parts non-empty, no further '/' (n bytes of s). */
bool annotations_ns_name_ok(const char *s, size_t n);
/* The candidate closest to word by edit distance (a byte inserted, deleted or replaced, or two
 * neighbours swapped), when it is close enough to be a typo of it: 1 edit for words of up to 4
 * bytes, 2 up to 12, 3 beyond. NULL when none is, or word is longer than 64 bytes (no key is).
 * The first of equally close ones; points into candidates. */
const char *annotations_closest(const char *word, const char *const *candidates, size_t n);

#endif
