/* strmap: a string-keyed hash map (open addressing) for the engine's per-image tables, which
 * must stay fast at 10,000 images. Keys are copied; values are borrowed pointers. */
#ifndef TP_STRMAP_H
#define TP_STRMAP_H

#include <stddef.h>

typedef struct strmap {
    struct strmap_slot *slots;
    size_t cap; /* power of two, 0 when empty */
    size_t count;
    size_t tombs; /* removed slots still on probe chains */
} strmap;

/* Set key to value (replacing and returning the old value, else NULL). */
void *strmap_put(strmap *m, const char *key, void *value);
void *strmap_get(const strmap *m, const char *key);
/* Remove key; returns its value or NULL. */
void *strmap_remove(strmap *m, const char *key);
/* Visit every entry (order unspecified). */
void strmap_each(const strmap *m, void (*fn)(const char *key, void *value, void *ctx), void *ctx);
/* Free the table and the key copies (not the values). */
void strmap_free(strmap *m);

#endif
