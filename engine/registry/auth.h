/* registry/auth: WWW-Authenticate challenges (RFC 7235: several challenges in one header,
 * quoted values with escapes and commas) and the bearer token cache, keyed by registry and scope.
 */
#ifndef TP_REGISTRY_AUTH_H
#define TP_REGISTRY_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

typedef enum auth_scheme {
    AUTH_NONE = 0, /* no challenge seen */
    AUTH_BASIC,
    AUTH_BEARER,
    AUTH_OTHER, /* a scheme tagpilot does not speak */
} auth_scheme;

typedef struct auth_challenge {
    auth_scheme scheme;
    char *realm;   /* owned; NULL when absent */
    char *service; /* owned */
    char *scope;   /* owned */
    char *error;   /* owned: `error="insufficient_scope"` and the like */
} auth_challenge;

/* Parse a WWW-Authenticate value (or several joined by ", "). Fills up to max challenges in
 * order; returns how many, or -1 on a malformed header. */
int auth_parse_challenges(const char *header, auth_challenge *out, size_t max);
void auth_challenge_free(auth_challenge *c);
/* The challenge to answer: Bearer first (with a realm), then Basic. NULL when none usable. */
const auth_challenge *auth_pick(const auth_challenge *list, size_t n);

/* Parse a token endpoint response: {"token"|"access_token", "expires_in", "issued_at"}.
 * *token is owned by the caller; *expires_in_s is between 60 and 86400 (a day). Returns 0 or
 * -1. */
int auth_parse_token_response(const char *body, size_t len, char **token, long *expires_in_s);

/* Cache of bearer tokens keyed by "registry|scope". */
typedef struct auth_token_cache auth_token_cache;
auth_token_cache *auth_cache_new(void);
void auth_cache_free(auth_token_cache *tc);
/* A token still valid at now_ms (with 5 s of margin), or NULL. Borrowed until the next put. */
const char *auth_cache_get(auth_token_cache *tc, const char *key, int64_t now_ms);
void auth_cache_put(auth_token_cache *tc, const char *key, const char *token,
                    int64_t expires_at_ms);
void auth_cache_drop(auth_token_cache *tc, const char *key);

#endif
