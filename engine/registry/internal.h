/* registry/internal: what client.c (hosts, authenticated calls, politeness, the loop) shares
 * with ops.c (tags, digests, metadata) and fetch.c. Not for use outside engine/registry. */
#ifndef TP_REGISTRY_INTERNAL_H
#define TP_REGISTRY_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "registry/auth.h"
#include "registry/cache.h"
#include "registry/creds.h"
#include "net/http.h"
#include "registry/ratelimit.h"
#include "registry/registry.h"

#define ACCEPT_MANIFESTS                                                                           \
    "application/vnd.oci.image.index.v1+json, "                                                    \
    "application/vnd.docker.distribution.manifest.list.v2+json, "                                  \
    "application/vnd.oci.image.manifest.v1+json, "                                                 \
    "application/vnd.docker.distribution.manifest.v2+json"

typedef enum call_kind {
    CALL_PING,
    CALL_TAGS,
    CALL_HEAD,
    CALL_MANIFEST,
    CALL_BLOB,
} call_kind;

typedef struct reg_host reg_host;
typedef struct reg_call reg_call;

/* One registry endpoint (api_url), with its politeness and auth state. */
struct reg_host {
    char *key;  /* origin: "https://host:port" */
    char *name; /* for messages: the registry as the image names it ("ghcr.io") */
    const registry_conf_entry *conf; /* borrowed; NULL when inferred */
    const char *creds_spec;          /* borrowed from options or conf; NULL: docker config */
    ratelimit rl;
    reg_call *queue, *queue_tail; /* waiting to start */
    size_t n_delayed;             /* of them, queued with a not_before_ms (a retry's wait) */
    auth_scheme scheme;           /* from the last challenge */
    char *realm, *service;
    bool creds_loaded;
    registry_creds creds;
    int64_t creds_loaded_ms;
    char *creds_error; /* why credentials could not be read, or NULL */
    bool has_rate_remaining;
    long rate_remaining;
    bool pumping; /* pump_host is running: a nested call leaves the work to it */
    char *label;  /* host[:port] of key, for /metrics */
    /* registry_host_count's; the client's thread alone touches them, so no atomics */
    unsigned long requests, failed;
    reg_host *next;
};

/* Finished call: resp when a response arrived and was not an auth/retry case, else err. */
typedef void (*reg_call_fn)(reg_call *call, http_response *resp, const tp_err *err);

/* One authenticated, polite request to a registry. */
struct reg_call {
    registry_client *client;
    reg_host *host;
    char *repo; /* for scope and messages */
    char *url;
    const char *method; /* static */
    call_kind kind;
    int attempts;        /* 429/5xx retries so far */
    int auth_attempts;   /* 401 answers so far */
    bool sent_auth;      /* the last send carried an Authorization header */
    http_transfer *xfer; /* while in flight */
    int64_t not_before_ms;
    reg_call_fn done;
    void *ud;
    reg_call *next;          /* in a host queue */
    reg_call *iprev, *inext; /* in the client's in-flight list */
};

struct registry_client {
    registry_options opts; /* defaults filled in */
    http_driver *http;
    meta_cache *meta;
    auth_token_cache *tokens;
    reg_host *hosts;
    struct token_fetch *token_fetches;
    reg_call *inflight;       /* sent, waiting for the response */
    struct ops_state *ops;    /* ops.c */
    struct meta_state *metas; /* meta.c */
    unsigned long cycle;
    uint64_t lists_epoch;     /* registry_client_lists_epoch: ops_end_cycle takes a new one */
    int64_t cycle_started_ms; /* registry_now_ms() at the last begin_cycle (or creation) */
    size_t outstanding;       /* public operations not yet answered */
    registry_stats stats;
};

int64_t registry_now_ms(void);
/* A copy of a tag (or any registry text) fit for a message: at most 80 bytes, control
 * characters and invalid UTF-8 escaped. Caller frees. */
char *registry_shown(const char *text);
/* Put a call at the end of its host's queue, to start no earlier than not_before_ms. */
void registry_requeue(reg_call *call, int64_t not_before_ms);
/* Start every queued call of h that its politeness (and the cycle deadline) allows now. */
void registry_pump_host(registry_client *c, reg_host *h);
/* The host serving ref (created on first use) and its repository path (defaultns applied;
 * caller frees). */
reg_host *registry_host_for(registry_client *c, const imageref *ref, char **repo);
/* Queue a call; url is copied. done runs exactly once, from perform (or at once on a setup
 * failure such as unreadable credentials). */
void registry_call(registry_client *c, reg_host *h, const char *repo, call_kind kind,
                   const char *method, const char *url, reg_call_fn done, void *ud);
/* Fill err for an unexpected HTTP status of a call ("registry H: 401 for R — check …"). */
void registry_status_error(const reg_call *call, long status, const char *what, tp_err *err);

/* call.c */
/* Send a call that holds a politeness slot, with the Authorization its host's scheme needs
 * (fetching a token first when none is cached). */
void call_send(reg_call *call);
/* Finish a call with err: its callback runs, then it is freed. */
void call_fail(reg_call *call, const tp_err *err);
void call_free(reg_call *call);
/* Token fetches: free all (no callbacks); whether h has one running; fail h's first one and
 * the calls waiting for it (false when it has none). */
void call_tokens_free(registry_client *c);
bool call_tokens_busy(const registry_client *c, const reg_host *h);
bool call_tokens_expire(registry_client *c, const reg_host *h, const tp_err *err);

/* ops.c */
void ops_init(registry_client *c);
void ops_free(registry_client *c);
void ops_begin_cycle(registry_client *c);
void ops_end_cycle(registry_client *c);
/* registry_tag_digest (verified) or registry_tag_digest_head; counted false for lookups on
 * behalf of another operation. */
void ops_tag_digest(registry_client *c, const imageref *ref, const char *tag, bool verified,
                    registry_digest_cb cb, void *ud, bool counted);
/* Whether this client has learnt the tag's digest before (any cycle): then a HEAD says whether
 * it moved; else one GET of the manifest gives digest and content at once (meta.c). */
bool ops_digest_known(registry_client *c, const reg_host *h, const char *repo, const char *tag);
void ops_digest_learnt(registry_client *c, const reg_host *h, const char *repo, const char *tag);
/* tags.c */
/* One page of a tags list: append the body's tags to *tags, failing once it would pass
 * max_tags or when the body is not a tags/list object. Messages name registry and repo. The body
 * is len bytes, not NUL-terminated. */
int registry_parse_tags(const char *body, size_t len, size_t max_tags, const char *registry,
                        const char *repo, strvec *tags, tp_err *err);
/* The same, the page's names packed in one block appended to *blocks (what frees them): the
 * names appended to *tags point into it, so *tags is freed by its items array alone. */
int registry_parse_tags_packed(const char *body, size_t len, size_t max_tags, const char *registry,
                               const char *repo, strvec *tags, strvec *blocks, tp_err *err);
/* What registry_parse_tags_fast answers for a body it leaves to registry_parse_tags_json; it has
 * then touched neither *tags nor *err. */
#define REGISTRY_TAGS_NOT_HANDLED 1
/* The two halves of registry_parse_tags, apart for the tests that compare them: _fast takes only
 * the plain shape {"name":"…","tags":["…",…]} (strings without escapes or control bytes, tags
 * null or absent, each member at most once, nothing after), _json every body through cJSON. */
int registry_parse_tags_fast(const char *body, size_t len, size_t max_tags, const char *registry,
                             const char *repo, strvec *tags, tp_err *err);
int registry_parse_tags_json(const char *body, size_t len, size_t max_tags, const char *registry,
                             const char *repo, strvec *tags, tp_err *err);
/* The page after url from its Link header into *next (a new string; NULL on the last page).
 * -1 when it would not advance, or when it is on another origin (scheme, host and port) than
 * url: the request would carry this registry's credentials there. */
int registry_next_page(const char *link, const char *url, const char *registry, const char *repo,
                       char **next, tp_err *err);
/* meta.c */
typedef enum manifest_kind {
    MANIFEST_INDEX,    /* an index or manifest list: rec->children filled */
    MANIFEST_IMAGE,    /* an image manifest: its config blob's digest in config_digest */
    MANIFEST_SCHEMA1,  /* Docker schema 1, which tagpilot does not read */
    MANIFEST_UNKNOWN,  /* JSON, but neither */
    MANIFEST_INVALID,  /* not JSON */
    MANIFEST_TOO_MANY, /* an index listing more children than tagpilot follows */
} manifest_kind;
/* What a (verified) manifest body says. Index children without a sha256 digest are left out.
 * rec is filled, never reset: start from a zeroed record and free it with meta_record_free. */
manifest_kind meta_parse_manifest(const char *body, size_t len, meta_record *rec,
                                  char config_digest[72]);
/* A config blob's created (timefmt_parse; left unset when it does not parse), os, architecture
 * and variant into rec (zeroed before). -1 when the body is not a JSON object. */
int meta_parse_config(const char *body, size_t len, meta_record *rec);
void meta_ops_init(registry_client *c);
void meta_ops_free(registry_client *c);

/* sha256 of data as "sha256:<hex>" into out[72]. */
void registry_sha256(const void *data, size_t len, char out[72]);

#endif
