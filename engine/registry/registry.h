/* registry: the OCI distribution client tagpilot's engine uses to ask registries for tags and
 * image metadata. Non-blocking on curl_multi: operations are submitted with a completion
 * callback and make progress only inside registry_client_perform(), which the engine thread
 * calls from its loop (or registry_client_run() for a blocking caller such as `tagpilot test`).
 *
 * What it does for the caller: bearer/basic auth from WWW-Authenticate challenges, token cache
 * per scope; tag lists with Link pagination, fetched once per repository per cycle; manifest
 * digests verified against the SHA-256 of the body; image metadata (created, platform) cached by
 * digest in memory and under the state dir; a token bucket and a concurrency cap per registry;
 * 429/5xx retries with Retry-After; connect, total and low-speed timeouts; bounded bodies.
 *
 * Errors name the registry, the repository and the cause, and never contain a secret:
 *   "registry 127.0.0.1:5000: 401 for team/app — check credentials 'env:GHCR_CREDS'".
 *
 * Threading: a client belongs to one thread. registry_client_wakeup() is the one call another
 * thread may make. */
#ifndef TP_REGISTRY_H
#define TP_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "select/imageref.h"
#include "registry/conf.h"
#include "registry/creds.h"
#include "timefmt.h"
#include "types.h"
#include "util.h"

typedef struct registry_client registry_client;

typedef struct registry_options {
    const char *state_dir;          /* NULL: metadata cached in memory only; borrowed */
    const registries_conf *conf;    /* NULL: every registry inferred; borrowed, must outlive */
    const char *credentials;        /* overrides conf/docker config for every registry
                                       (`test --credentials`); NULL: none; borrowed */
    long connect_timeout_ms;        /* 0: 10 000 */
    long total_timeout_ms;          /* per request; 0: 30 000 */
    long low_speed_bytes;           /* cut a transfer slower than this (bytes/s)... 0: 1024 */
    long low_speed_seconds;         /* ...for this long; 0: 10 */
    size_t max_body;                /* bytes per response; 0: 8 MiB */
    size_t max_tags;                /* per repository; 0: 100 000 */
    size_t max_list_bytes;          /* response bytes (and page URLs) over all pages of one tag
                                       listing; 0: 32 MiB */
    int max_per_registry;           /* requests in flight per registry; 0: 10 */
    int max_retries;                /* extra attempts on 429/5xx; 0: 2; -1: none */
    long max_retry_wait_ms;         /* a Retry-After longer than this is an error; 0: 10 000 */
    long tag_digest_ttl_ms;         /* how long tag -> digest answers are trusted; 0: for the
                                       current cycle only (see registry_client_begin_cycle) */
    long cycle_deadline_ms;         /* how long each registry has to answer everything asked of it
                                       in a cycle, from registry_client_begin_cycle (or the client's
                                       creation); then what it still owes fails with "registry X: no
                                       answer within N s this cycle". 0: $TAGPILOT_REGISTRY_DEADLINE_MS
                                       when set (tests), else 120 000; -1: none */
    registry_secret_reader secrets; /* pullsecret:/secret: credentials; {NULL}: none */
} registry_options;

/* Counters since the client was created, for tests, `make bench` and the console. */
typedef struct registry_stats {
    unsigned long requests;        /* HTTP requests sent, all kinds (retries included) */
    unsigned long pings;           /* GET /v2/ */
    unsigned long tag_pages;       /* GET tags/list pages */
    unsigned long manifest_heads;  /* HEAD manifests (tag -> digest) */
    unsigned long manifest_gets;   /* GET manifests */
    unsigned long blob_gets;       /* GET config blobs */
    unsigned long token_fetches;   /* GET token realm */
    unsigned long retries;         /* 429/5xx/401 re-sends */
    unsigned long meta_cache_hits; /* digest metadata answered from memory or disk */
    unsigned long tag_list_dedup;  /* tag list requests answered by a list already fetched or in
                                      flight this cycle */
    unsigned long connections;     /* TCP (+TLS) connections opened; the rest reused one */
    unsigned long http2_responses; /* responses that came over HTTP/2 */
    unsigned long failures;        /* operations that ended in an error (after retries) */
} registry_stats;

/* Create a client. opts may be NULL (all defaults); it is copied, its pointers borrowed.
 * Returns NULL with err set when curl cannot be initialised. Free with registry_client_free. */
registry_client *registry_client_new(const registry_options *opts, tp_err *err);
/* Cancels what is in flight (callbacks are not called) and frees everything. NULL is fine. */
void registry_client_free(registry_client *c);

/* Start a new cycle: tag lists and tag -> digest answers from the previous cycle are forgotten
 * (digest-keyed metadata is kept: it never changes), and every registry's cycle deadline starts
 * again. */
void registry_client_begin_cycle(registry_client *c);
/* Every question of the cycle has its answer: let go of the tag lists kept to share them within
 * the cycle (a listing still running stays) — at 200 repositories of 500 tags, 100,000 names
 * that would otherwise be held until the next cycle begins. A listing asked after this is asked
 * again. */
void registry_client_end_cycle(registry_client *c);
/* Which generation of tag lists the client hands out: it changes whenever lists it gave may
 * have been freed (begin_cycle, end_cycle), and no two clients ever share one. Within one epoch
 * a list pointer names one list, unchanged, so a caller may remember what it found in it. */
uint64_t registry_client_lists_epoch(const registry_client *c);

/* Drive the network: wait up to timeout_ms for sockets, timers, the extra fds (readable) or a
 * wakeup, then run completion callbacks. Returns the number of operations still outstanding,
 * or -1 on a curl failure (err set). */
int registry_client_perform(registry_client *c, int timeout_ms, const int *extra_fds,
                            size_t n_extra, tp_err *err);
/* Make a perform() sleeping in another thread return early. Thread-safe. */
void registry_client_wakeup(registry_client *c);
/* Without waiting: send what may be sent, take in what has arrived and run the callbacks it
 * completes — between two pieces of other work on the client's thread (the engine reading its
 * sources while the listings it asked ahead come in). Returns as registry_client_perform. */
int registry_client_step(registry_client *c, tp_err *err);
/* Blocking convenience: perform until nothing is outstanding. Returns 0 or -1 (err). */
int registry_client_run(registry_client *c, tp_err *err);
/* Operations submitted and not yet completed. */
size_t registry_client_outstanding(const registry_client *c);
void registry_client_stats(const registry_client *c, registry_stats *out);
/* Requests per registry since the client was created, for /metrics. */
typedef struct registry_host_count {
    const char *registry;   /* host[:port] of the API URL requests go to ("registry-1.docker.io",
                               "127.0.0.1:5000"); borrowed from the client, as the image or
                               registries.conf spelled it, so hostile text is possible */
    unsigned long requests; /* HTTP requests sent for this registry: its own, and its token
                               fetches (to the realm its challenge named) */
    unsigned long failed;   /* of those: no reply (connect, TLS, timeout, body too big) or a
                               status >= 400, except the 401 challenge to a request sent without
                               credentials (the first step of authenticating) */
} registry_host_count;
/* One entry per registry the client has talked to, into *out (a new array, caller frees; its
 * strings valid until the client is freed). Returns the count. */
size_t registry_client_host_counts(const registry_client *c, registry_host_count **out);
/* Docker Hub style RateLimit-Remaining last seen from a registry host ("registry-1.docker.io");
 * returns false when never seen. */
bool registry_client_rate_remaining(const registry_client *c, const char *host, long *remaining);

/* ---- operations: each calls its callback exactly once, possibly before returning (when the
 * answer is already known). Pointers given to a callback are valid only during the call. ---- */

/* GET /v2/: reachable and authenticated. err is NULL on success. */
typedef void (*registry_ping_cb)(void *ud, const tp_err *err);
void registry_ping(registry_client *c, const imageref *ref, registry_ping_cb cb, void *ud);

/* All tags of ref's repository, following Link pagination; once per repository per cycle.
 * Tags are as listed, so some may be outside the tag grammar (strategy_select never picks those;
 * the caller must not ask about them): a tag longer than 255 bytes is cut there and marked with
 * "…", so that it shows but cannot pass for a real one. A listing fails (naming the registry and
 * repository) past max_tags or max_list_bytes, on a page URL seen before ("pagination loops back
 * to page N"), and on a next page on another origin than the registry's (credentials never
 * leave it). */
typedef void (*registry_tags_cb)(void *ud, const strvec *tags, const tp_err *err);
void registry_list_tags(registry_client *c, const imageref *ref, registry_tags_cb cb, void *ud);
/* Start listing ref's repository now, before anyone waits for it: a registry_list_tags later in
 * the same cycle shares the answer (or the failure) instead of asking again, so the registry
 * works while the caller does something else (the engine: while it reads the Applications).
 * Counted as outstanding until the answer is in. Nothing is asked when this cycle's listing
 * already is, nor for a registry whose credentials come from a cluster Secret (the engine can
 * read those only once its sources are). */
void registry_list_tags_ahead(registry_client *c, const imageref *ref);

/* The digest a tag points at now, verified: GET the manifest, its SHA-256 is the digest, and a
 * Docker-Content-Digest that says otherwise is an error naming both. For a digest that will be
 * written to git or bound to an approval. Once per tag per cycle. A tag outside the grammar is
 * an error, without a request. */
typedef void (*registry_digest_cb)(void *ud, const char *digest, const tp_err *err);
void registry_tag_digest(registry_client *c, const imageref *ref, const char *tag,
                         registry_digest_cb cb, void *ud);
/* The digest the registry says a tag points at (HEAD, Docker-Content-Digest; a GET and its
 * SHA-256 when the header is missing). Cheap — no body, not a pull on Docker Hub — but only the
 * registry's word: for "did it change" checks and for showing, never for writing. */
void registry_tag_digest_head(registry_client *c, const imageref *ref, const char *tag,
                              registry_digest_cb cb, void *ud);

/* What newest-build needs to know about one tag. */
typedef struct registry_image_meta {
    const char *digest;              /* the tag's manifest or index digest */
    bool platform_match;             /* false: no image for the wanted platforms (tag ignored) */
    bool has_created;                /* a `created` was found in the chosen image's config */
    tp_time created;                 /* for an index: the newest matching child */
    const char *os, *arch, *variant; /* of the chosen image; variant may be NULL */
} registry_image_meta;

typedef void (*registry_meta_cb)(void *ud, const registry_image_meta *meta, const tp_err *err);
/* Resolve tag -> digest (HEAD), then the digest's metadata from cache or manifest + config blob;
 * for an index the children matching platforms (n_platforms == 0: the host's own) and the newest
 * `created` among them. platforms are borrowed until the callback runs. */
void registry_image_metadata(registry_client *c, const imageref *ref, const char *tag,
                             const platform *platforms, size_t n_platforms, registry_meta_cb cb,
                             void *ud);

/* The host's platform as Go spells it: "linux", "amd64" (variant "v7"/"v8" or NULL). Static. */
void registry_host_platform(const char **os, const char **arch, const char **variant);

#endif
