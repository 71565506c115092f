/* imageref: Docker image references (distribution's reference grammar) and argocd-image-updater's
 * image-list syntax "[alias=]image[:constraint]", comma-separated, spaces allowed. */
#ifndef TP_IMAGEREF_H
#define TP_IMAGEREF_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

typedef struct imageref {
    char *registry; /* as written, or "docker.io" when none: "ghcr.io", "localhost:5000" */
    char
        *api_host; /* where to send requests: "registry-1.docker.io" for docker.io, else registry */
    char *
        repository; /* path in the registry, normalised: "library/nginx", "amplication/bookstore" */
    char *name;     /* full normalised name: "docker.io/library/nginx", "ghcr.io/a/b" */
    char *short_name; /* as argocd-image-updater shows it: "docker.io/" and "library/" dropped
                         unless written: "nginx", "ghcr.io/a/b" */
    char *tag;        /* or NULL */
    char *digest;     /* "sha256:<64 hex>" or NULL */
} imageref;

/* Parse a strict reference: name[:tag][@digest]. Errors are clear: "repository name must be
 * lowercase: 'Foo/bar'", "repository name longer than 255 characters", "invalid tag '…'",
 * "invalid digest '…'", "invalid reference format: '…'". Returns 0 or -1. */
int imageref_parse(const char *s, imageref *out, tp_err *err);
void imageref_free(imageref *ref);
/* Deep copy. */
void imageref_copy(imageref *dst, const imageref *src);
/* True when tag is one in distribution's grammar, [A-Za-z0-9_][A-Za-z0-9._-]{0,127}. Tags a
 * registry lists are checked with this before one is chosen or put into a URL. */
bool imageref_tag_valid(const char *tag);
/* True when the first path component names a registry host (has '.' or ':' or is "localhost"). */
bool imageref_is_host(const char *component, size_t len);

/* One entry of an image-list. */
typedef struct image_entry {
    char *alias;      /* NULL when not given */
    imageref ref;     /* the image, without the tag/constraint part (ref.tag is NULL) */
    char *constraint; /* the text after the image's ':' (a semver constraint, or for the digest
                         strategy the tag to follow); NULL when absent */
} image_entry;

typedef struct image_list {
    image_entry *items;
    size_t count;
} image_list;

/* Parse an image-list annotation value. Each bad entry yields its own error in *errors (one
 * message per entry, naming it) and is left out; good entries still parse. Returns the number
 * of bad entries (0 = all good). Duplicate aliases are an error for the second one. */
int imageref_parse_list(const char *value, image_list *out, strvec *errors);
void image_list_free(image_list *list);

#endif
