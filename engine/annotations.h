/* annotations: argocd-image-updater v0.x annotations (prefix
 * "argocd-image-updater.argoproj.io/") and tagpilot's own ("tagpilot.io/approval") turned into
 * typed per-image settings. App-wide keys are defaults; "<alias>.<key>" overrides them. Every
 * bad key yields its own error naming the key and the value; an image a bad key applies to is
 * still listed, with that error in image_settings.error, and the other images still work. */
#ifndef TP_ANNOTATIONS_H
#define TP_ANNOTATIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "select/imageref.h"
#include "select/strategy.h"
#include "types.h"
#include "util.h"

#define ANNOTATION_PREFIX   "argocd-image-updater.argoproj.io/"
#define ANNOTATION_APPROVAL "tagpilot.io/approval"
/* tagpilot.io/<alias>.pin and tagpilot.io/<alias>.skip: shared holds (state/holds), which the
 * key check must not call unknown. */
bool annotations_is_hold_key(const char *key);

/* key/value pairs as found in metadata.annotations (borrowed). */
typedef struct annotation {
    const char *key;
    const char *value;
    size_t line; /* 1-based line of the key in its file, for messages; 0 when unknown */
} annotation;

typedef enum writeback_method {
    WRITEBACK_ARGOCD = 0, /* default */
    WRITEBACK_GIT,        /* "git", "git:repocreds", "git:secret:[ns/]name" */
} writeback_method;

typedef enum writeback_target_kind {
    TARGET_ARGOCD_SOURCE = 0, /* .argocd-source-<app>.yaml (default for git) */
    TARGET_KUSTOMIZATION,     /* "kustomization[:path]" */
    TARGET_HELMVALUES,        /* "helmvalues[:file]" */
} writeback_target_kind;

typedef enum approval_policy {
    APPROVAL_DEFAULT = 0, /* not set on the app: config or --approval decides */
    APPROVAL_MANUAL,
    APPROVAL_AUTO,
} approval_policy;

/* Settings for one tracked image (owned). */
typedef struct image_settings {
    char *alias;      /* the alias, or the image's short name when none was given */
    imageref ref;     /* without tag */
    char *constraint; /* from the image-list, or NULL */
    strategy_kind strategy;
    char *strategy_warning; /* deprecation / fallback warning, or NULL */
    char *allow_tags;       /* raw match spec or NULL */
    strvec ignore_tags;
    platform *platforms; /* empty: the host's own */
    size_t n_platforms;
    bool force_update;
    char *pull_secret;
    char *helm_image_name, *helm_image_tag, *helm_image_spec; /* NULL unless set */
    char *kustomize_image_name;                               /* NULL unless set */
    /* why this image cannot be updated (its annotations have errors), or NULL; owned */
    char *error;
} image_settings;

/* App-wide settings and all images (owned). */
typedef struct app_settings {
    image_settings *images;
    size_t n_images;
    writeback_method writeback;
    char *writeback_secret;   /* "ns/name" for git:secret:, NULL otherwise */
    bool writeback_repocreds; /* git:repocreds */
    writeback_target_kind target;
    char *target_path;    /* path after "kustomization:" / "helmvalues:", or NULL */
    char *git_branch;     /* raw "branch", "base:target" or ":target", or NULL */
    char *git_repository; /* overrides spec.source.repoURL, or NULL */
    approval_policy approval;
    strvec errors;   /* one message per bad key/value, naming both */
    strvec warnings; /* keys that do nothing or not what was meant: unknown or misspelt keys,
                        deprecated names, keys of an alias not in the image-list, git settings
                        with argocd write-back, an empty or missing image-list */
    /* The line (annotation.line) of the key each message is about, 0 when none: error_lines[i]
     * for errors.items[i], warning_lines[i] for warnings.items[i]; NULL while there are none. */
    size_t *error_lines, *warning_lines;
} app_settings;

/* Parse. Never fails as a whole: errors go into out->errors, one per bad key, warnings into
 * out->warnings; every message starts with the key it is about. Every image of the
 * image-list that parsed is in out->images; one that a bad key applies to (its own per-alias keys,
 * the app-wide keys it inherits, the write-back keys) has those messages, joined with "; ", in its
 * error and must not be updated (its other fields may hold the bad values). An app with no
 * image-list has n_images == 0. */
void annotations_parse(const annotation *items, size_t n, app_settings *out);
void app_settings_free(app_settings *s);

/* Credential sources argocd-image-updater accepts: pullsecret:ns/name, secret:ns/name#field,
 * env:VAR, ext:/absolute/path (the pull-secret annotation; `tagpilot test --credentials`). */
bool annotations_credentials_ok(const char *v);

/* Parse "os/arch[/variant]" list (comma-separated). Returns 0 or -1 with err. */
int annotations_parse_platforms(const char *value, platform **out, size_t *n, tp_err *err);
void platforms_free(platform *p, size_t n);

/* Parse YAML-style booleans as argocd-image-updater's examples use them: true/false, yes/no
 * (any case), on/off, 1/0. Returns 0 or -1. */
int annotations_parse_bool(const char *value, bool *out);

#endif
