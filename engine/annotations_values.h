/* annotations_values: checks on single annotation values (annotations.c; `tagpilot test`
 * checks --credentials with the pull-secret rule). */
#ifndef TP_ANNOTATIONS_VALUES_H
#define TP_ANNOTATIONS_VALUES_H

#include <stdbool.h>
#include <stddef.h>

#include "annotations.h"

/* os, arch and variant are names like "linux", "arm64", "v8". */
bool annotations_platform_part_ok(const char *s);
/* Deep copy (NULL for n == 0). */
platform *annotations_platforms_copy(const platform *p, size_t n);
/* allow-tags as argocd-image-updater reads it: "any", or "regexp:<re>". */
bool annotations_match_spec_ok(const char *v);
/* "a/b": both parts non-empty, no further '/' (n bytes of s). */
bool annotations_ns_name_ok(const char *s, size_t n);
/* Credential sources argocd-image-updater accepts: pullsecret:ns/name, secret:ns/name#field,
 * env:VAR, ext:/absolute/path. */
bool annotations_credentials_ok(const char *v);

#endif
