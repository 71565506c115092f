#include "strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

typedef struct strmap_slot {
    char *key; /* NULL: empty */
    void *value;
    bool deleted; /* tombstone: keeps probe chains intact */
} strmap_slot;

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return h;
}

static strmap_slot *find(const strmap *m, const char *key, bool for_insert)
{
    if (!m->cap)
        return NULL;
    size_t mask = m->cap - 1;
    strmap_slot *tomb = NULL;
    for (size_t i = hash(key) & mask;; i = (i + 1) & mask) {
        strmap_slot *s = &m->slots[i];
        if (!s->key) {
            if (s->deleted) {
                if (!tomb)
                    tomb = s;
                continue;
            }
            return for_insert ? (tomb ? tomb : s) : NULL;
        }
        if (strcmp(s->key, key) == 0)
            return s;
    }
}

static void grow(strmap *m)
{
    strmap old = *m;
    m->cap = old.cap ? old.cap * 2 : 16;
    m->slots = xcalloc(m->cap, sizeof *m->slots);
    m->count = 0;
    m->tombs = 0;
    for (size_t i = 0; i < old.cap; i++)
        if (old.slots[i].key) {
            strmap_slot *s = find(m, old.slots[i].key, true);
            s->key = old.slots[i].key;
            s->value = old.slots[i].value;
            m->count++;
        }
    free(old.slots);
}

void *strmap_put(strmap *m, const char *key, void *value)
{
    /* Keep at most half full, counting tombstones: they lengthen probes like live keys. */
    if ((m->count + m->tombs + 1) * 2 > m->cap)
        grow(m);
    strmap_slot *s = find(m, key, true);
    if (s->key) {
        void *old = s->value;
        s->value = value;
        return old;
    }
    if (s->deleted)
        m->tombs--;
    s->key = xstrdup(key);
    s->value = value;
    s->deleted = false;
    m->count++;
    return NULL;
}

void *strmap_get(const strmap *m, const char *key)
{
    strmap_slot *s = find(m, key, false);
    return s ? s->value : NULL;
}

void *strmap_remove(strmap *m, const char *key)
{
    strmap_slot *s = find(m, key, false);
    if (!s)
        return NULL;
    void *value = s->value;
    free(s->key);
    s->key = NULL;
    s->value = NULL;
    s->deleted = true;
    m->count--;
    m->tombs++;
    return value;
}

void strmap_each(const strmap *m, void (*fn)(const char *key, void *value, void *ctx), void *ctx)
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key)
            fn(m->slots[i].key, m->slots[i].value, ctx);
}

void strmap_free(strmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].key);
    free(m->slots);
    *m = (strmap){0};
}
