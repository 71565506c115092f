#include "state/hints.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HINTS_FILE "hints.json"

void hints_load(const char *state_dir, strmap *map)
{
    *map = (strmap){0};
    char *path = xasprintf("%s/%s", state_dir, HINTS_FILE);
    strbuf text = {0};
    if (file_read_all(path, NULL, &text, NULL) == 0) {
        cJSON *root = cJSON_ParseWithLength(text.data, text.len);
        const cJSON *item;
        cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(root, "images"))
        {
            const cJSON *tag = cJSON_GetObjectItemCaseSensitive(item, "tag");
            const cJSON *digest = cJSON_GetObjectItemCaseSensitive(item, "digest");
            if (!item->string || !cJSON_IsString(tag) || !cJSON_IsString(digest))
                continue;
            hint *h = xmalloc(sizeof *h);
            h->tag = xstrdup(tag->valuestring);
            h->digest = xstrdup(digest->valuestring);
            hint *old = strmap_put(map, item->string, h);
            if (old) {
                free(old->tag);
                free(old->digest);
                free(old);
            }
        }
        cJSON_Delete(root);
    }
    strbuf_free(&text);
    free(path);
}

int hints_save(const char *state_dir, const char *const *keys, const char *const *tags,
               const char *const *digests, size_t n, tp_err *err)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *images = cJSON_AddObjectToObject(root, "images");
    for (size_t i = 0; i < n; i++) {
        if (!tags[i] || !digests[i])
            continue;
        cJSON *item = cJSON_AddObjectToObject(images, keys[i]);
        cJSON_AddStringToObject(item, "tag", tags[i]);
        cJSON_AddStringToObject(item, "digest", digests[i]);
    }
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    char *path = xasprintf("%s/%s", state_dir, HINTS_FILE);
    char *tmp = xasprintf("%s.tmp", path);
    int rc = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    size_t len = strlen(text);
    if (fd < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) != 0 || rename(tmp, path) != 0)
        rc = tp_err_set(err, "cannot write %s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    if (rc < 0)
        unlink(tmp);
    cJSON_free(text);
    free(tmp);
    free(path);
    return rc;
}

static void free_hint(const char *key, void *value, void *ctx)
{
    (void)key, (void)ctx;
    hint *h = value;
    free(h->tag);
    free(h->digest);
    free(h);
}

void hints_free(strmap *map)
{
    strmap_each(map, free_hint, NULL);
    strmap_free(map);
}
