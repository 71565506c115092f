/* registry/auth: WWW-Authenticate parsing and the bearer token cache. */
#include "registry/auth.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* RFC 7230 tchar */
static bool is_tchar(char c)
{
    return isalnum((unsigned char)c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static const char *skip_sep(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == ',')
        p++;
    return p;
}

/* Is p at "token OWS =" that is not the start of a token68 ("abc==")? */
static bool at_param(const char *p)
{
    const char *q = p;
    while (is_tchar(*q))
        q++;
    if (q == p)
        return false;
    q = skip_ows(q);
    return *q == '=' && q[1] != '=';
}

/* Read a quoted-string or token into a new string; advance *pp. NULL on error. */
static char *read_value(const char **pp)
{
    const char *p = *pp;
    strbuf sb = {0};
    if (*p == '"') {
        p++;
        while (*p && *p != '"') {
            if (*p == '\\' && p[1])
                p++;
            strbuf_putc(&sb, *p++);
        }
        if (*p != '"') {
            strbuf_free(&sb);
            return NULL;
        }
        p++;
    } else {
        while (is_tchar(*p) || *p == '/' || *p == ':' || *p == '=')
            strbuf_putc(&sb, *p++);
    }
    *pp = p;
    return strbuf_take(&sb);
}

void auth_challenge_free(auth_challenge *c)
{
    if (!c)
        return;
    free(c->realm);
    free(c->service);
    free(c->scope);
    free(c->error);
    memset(c, 0, sizeof *c);
}

int auth_parse_challenges(const char *header, auth_challenge *out, size_t max)
{
    size_t n = 0;
    const char *p = header ? header : "";
    for (size_t i = 0; i < max; i++)
        memset(&out[i], 0, sizeof out[i]);
    auth_challenge scratch;
    p = skip_sep(p);
    while (*p) {
        const char *start = p;
        while (is_tchar(*p))
            p++;
        if (p == start)
            goto bad;
        auth_challenge *c = n < max ? &out[n] : &scratch;
        memset(c, 0, sizeof *c);
        size_t slen = (size_t)(p - start);
        if (slen == 6 && strncasecmp(start, "bearer", 6) == 0)
            c->scheme = AUTH_BEARER;
        else if (slen == 5 && strncasecmp(start, "basic", 5) == 0)
            c->scheme = AUTH_BASIC;
        else
            c->scheme = AUTH_OTHER;
        p = skip_ows(p);
        /* token68 form: skip it */
        if (*p && *p != ',' && !at_param(p)) {
            while (*p && *p != ',')
                p++;
        }
        for (;;) {
            const char *q = skip_sep(p);
            if (!at_param(q)) {
                p = q;
                break;
            }
            const char *name = q;
            while (is_tchar(*q))
                q++;
            size_t nlen = (size_t)(q - name);
            q = skip_ows(q) + 1; /* '=' */
            q = skip_ows(q);
            char *value = read_value(&q);
            if (!value)
                goto bad_counted; /* frees what a challenge past max had read */
            char **slot = NULL;
            if (nlen == 5 && strncasecmp(name, "realm", 5) == 0)
                slot = &c->realm;
            else if (nlen == 7 && strncasecmp(name, "service", 7) == 0)
                slot = &c->service;
            else if (nlen == 5 && strncasecmp(name, "scope", 5) == 0)
                slot = &c->scope;
            else if (nlen == 5 && strncasecmp(name, "error", 5) == 0)
                slot = &c->error;
            if (slot) {
                free(*slot);
                *slot = value;
            } else {
                free(value);
            }
            p = skip_ows(q);
            if (*p && *p != ',')
                goto bad_counted;
            continue;
        bad_counted:
            if (c != &scratch)
                n++;
            else
                auth_challenge_free(c);
            goto bad;
        }
        if (c == &scratch)
            auth_challenge_free(c);
        else
            n++;
    }
    return (int)n;
bad:
    for (size_t i = 0; i < n && i < max; i++)
        auth_challenge_free(&out[i]);
    return -1;
}

const auth_challenge *auth_pick(const auth_challenge *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (list[i].scheme == AUTH_BEARER && list[i].realm && list[i].realm[0])
            return &list[i];
    for (size_t i = 0; i < n; i++)
        if (list[i].scheme == AUTH_BASIC)
            return &list[i];
    return NULL;
}

int auth_parse_token_response(const char *body, size_t len, char **token, long *expires_in_s)
{
    *token = NULL;
    cJSON *root = cJSON_ParseWithLength(body, len);
    if (!root)
        return -1;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "token");
    if (!cJSON_IsString(t) || !t->valuestring[0])
        t = cJSON_GetObjectItemCaseSensitive(root, "access_token");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(root, "expires_in");
    int rc = -1;
    if (cJSON_IsString(t) && t->valuestring[0]) {
        *token = xstrdup(t->valuestring);
        /* Clamped before the conversion: a hostile 1e300 would overflow the cast and the
         * expiry arithmetic after it; a day is longer than any real token lives. */
        double e = cJSON_IsNumber(exp) ? exp->valuedouble : 60;
        *expires_in_s = !(e > 60) ? 60 : e >= AUTH_TOKEN_MAX_S ? AUTH_TOKEN_MAX_S : (long)e;
        rc = 0;
    }
    cJSON_Delete(root);
    return rc;
}

typedef struct token_entry {
    char *key;
    char *token;
    int64_t expires_at_ms;
} token_entry;

struct auth_token_cache {
    token_entry *items;
    size_t count, cap;
};

auth_token_cache *auth_cache_new(void)
{
    return xcalloc(1, sizeof(auth_token_cache));
}

static void token_entry_clear(token_entry *e)
{
    free(e->key);
    if (e->token) {
        memset(e->token, 0, strlen(e->token));
        free(e->token);
    }
}

void auth_cache_free(auth_token_cache *tc)
{
    if (!tc)
        return;
    for (size_t i = 0; i < tc->count; i++)
        token_entry_clear(&tc->items[i]);
    free(tc->items);
    free(tc);
}

static token_entry *find(auth_token_cache *tc, const char *key)
{
    for (size_t i = 0; i < tc->count; i++)
        if (strcmp(tc->items[i].key, key) == 0)
            return &tc->items[i];
    return NULL;
}

const char *auth_cache_get(auth_token_cache *tc, const char *key, int64_t now_ms)
{
    token_entry *e = find(tc, key);
    if (!e || e->expires_at_ms - 5000 <= now_ms)
        return NULL;
    return e->token;
}

void auth_cache_put(auth_token_cache *tc, const char *key, const char *token, int64_t expires_at_ms)
{
    token_entry *e = find(tc, key);
    if (e) {
        token_entry_clear(e);
    } else {
        if (tc->count == tc->cap) {
            tc->cap = tc->cap ? tc->cap * 2 : 16;
            tc->items = xrealloc(tc->items, tc->cap * sizeof *tc->items);
        }
        e = &tc->items[tc->count++];
    }
    e->key = xstrdup(key);
    e->token = xstrdup(token);
    e->expires_at_ms = expires_at_ms;
}

void auth_cache_drop(auth_token_cache *tc, const char *key)
{
    token_entry *e = find(tc, key);
    if (!e)
        return;
    token_entry_clear(e);
    *e = tc->items[--tc->count];
}
