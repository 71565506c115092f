#include "state/lastrun.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "statedir.h"

#define LASTRUN_FILE    "last-run.json"
#define LASTRUN_VERSION 2 /* 1 wrote seconds as decimals, which a locale could comma */

/* The string fields of a row, with their names in the file. */
#define LASTRUN_STRINGS(X)                                                                         \
    X(key, "key")                                                                                  \
    X(app, "app")                                                                                  \
    X(alias, "alias")                                                                              \
    X(image, "image")                                                                              \
    X(strategy, "strategy")                                                                        \
    X(constraint, "constraint")                                                                    \
    X(policy, "policy")                                                                            \
    X(current, "current")                                                                          \
    X(candidate, "candidate")                                                                      \
    X(candidate_digest, "candidate_digest")                                                        \
    X(detail, "detail")                                                                            \
    X(hint_tag, "hint")                                                                            \
    X(hint_digest, "hint_digest")

/* Times are saved as whole milliseconds since the epoch: integers, so no locale's decimal
 * comma can reach the file, and exact in a JSON number (a double holds them to 2^53). */
#define MS_MAX 100000000000000LL /* year 5138: anything beyond is not a time we wrote */

static bool ms_read(const cJSON *v, int64_t *ns)
{
    if (!cJSON_IsNumber(v) || v->valuedouble <= 0 || v->valuedouble >= (double)MS_MAX)
        return false;
    *ns = (int64_t)v->valuedouble * 1000000LL;
    return true;
}

static char *json_str(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
}

static bool state_from_name(const char *name, image_state *out)
{
    for (int s = 0; name && s < STATE_COUNT; s++)
        if (strcmp(model_state_name((image_state)s), name) == 0) {
            *out = (image_state)s;
            return true;
        }
    return false;
}

static void row_free(lastrun_row *r)
{
#define FREE_FIELD(field, name) free(r->field);
    LASTRUN_STRINGS(FREE_FIELD)
#undef FREE_FIELD
}

/* One row from the file; false (and nothing kept) when it lacks what a row needs. */
static bool row_read(const cJSON *item, lastrun_row *r)
{
    *r = (lastrun_row){0};
#define READ_FIELD(field, name) r->field = json_str(item, name);
    LASTRUN_STRINGS(READ_FIELD)
#undef READ_FIELD
    if (!ms_read(cJSON_GetObjectItemCaseSensitive(item, "checked"), &r->checked_ns))
        r->checked_ns = 0;
    char *state = json_str(item, "state");
    bool ok = r->key && r->app && r->image && state_from_name(state, &r->state);
    free(state);
    if (!ok)
        row_free(r);
    return ok;
}

void lastrun_load(const char *state_dir, lastrun *out)
{
    *out = (lastrun){0};
    statedir *sd = NULL;
    strbuf text = {0};
    /* Read-only: a missing, refused or unreadable dir or file is an empty table. */
    if (statedir_open(state_dir, STATEDIR_EXISTING, &sd, NULL) == 0 &&
        statedir_read_file(sd, LASTRUN_FILE, 0, &text, NULL) == 0) {
        cJSON *root = cJSON_ParseWithLength(text.data, text.len);
        const cJSON *version = cJSON_GetObjectItemCaseSensitive(root, "version");
        const cJSON *saved = cJSON_GetObjectItemCaseSensitive(root, "saved");
        const cJSON *images = cJSON_GetObjectItemCaseSensitive(root, "images");
        int64_t saved_ns;
        if (cJSON_IsNumber(version) && version->valueint == LASTRUN_VERSION &&
            ms_read(saved, &saved_ns) && cJSON_IsArray(images)) {
            size_t n = (size_t)cJSON_GetArraySize(images);
            out->rows = xcalloc(n ? n : 1, sizeof *out->rows);
            const cJSON *item;
            cJSON_ArrayForEach(item, images)
            {
                lastrun_row *r = &out->rows[out->n];
                if (!row_read(item, r))
                    continue;
                if (strmap_get(&out->by_key, r->key)) { /* a key twice: keep the first */
                    row_free(r);
                    continue;
                }
                strmap_put(&out->by_key, r->key, r);
                out->n++;
            }
            out->saved_ns = out->n ? saved_ns : 0;
        }
        cJSON_Delete(root);
    }
    strbuf_free(&text);
    statedir_close(sd);
}

/* s as a JSON string: quotes, backslashes and control characters escaped; any other byte as it
 * is (cJSON reads it back unchanged, and the console sanitises what it draws). */
static void json_quote(strbuf *sb, const char *s)
{
    strbuf_putc(sb, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t run = 0; /* what needs no escape, a run at a time */
        while (p[run] >= 0x20 && p[run] != '"' && p[run] != '\\')
            run++;
        if (run) {
            strbuf_append(sb, (const char *)p, run);
            p += run;
        } else if (*p == '"' || *p == '\\') {
            strbuf_printf(sb, "\\%c", *p++);
        } else {
            strbuf_printf(sb, "\\u%04x", *p++);
        }
    }
    strbuf_putc(sb, '"');
}

#define FLUSH_AT 65536

/* Written straight to the file through a small buffer, not through a cJSON tree or one string:
 * at 10,000 rows those would take megabytes at the end of every cycle. */
int lastrun_save(const char *state_dir, const lastrun_row *rows, size_t n, int64_t saved_ns,
                 tp_err *err)
{
    /* The writer's journal made the dir; a save never creates it. */
    statedir *sd;
    if (statedir_open(state_dir, STATEDIR_EXISTING, &sd, err) < 0)
        return -1;
    if (!sd)
        return tp_err_set(err, "cannot write %s/%s: %s", state_dir, LASTRUN_FILE, strerror(ENOENT));
    /* Only the writer (it holds the journal's lock) saves, so any temp file here is stale. */
    statedir_remove_stale_temps(sd, LASTRUN_FILE);
    char *tmp = NULL;
    tp_err why = {{0}};
    int fd = statedir_create_temp(sd, LASTRUN_FILE, &tmp, &why);
    int failed = fd < 0 ? errno : 0; /* the errno of the first failure */
    strbuf sb = {0};
    strbuf_printf(&sb, "{\"version\":%d,\"saved\":%lld,\"images\":[", LASTRUN_VERSION,
                  (long long)(saved_ns / 1000000));
    for (size_t i = 0; !failed && i < n; i++) {
        const lastrun_row *r = &rows[i];
        strbuf_puts(&sb, i ? ",\n{" : "\n{");
#define WRITE_FIELD(field, name)                                                                   \
    if (r->field) {                                                                                \
        strbuf_puts(&sb, "\"" name "\":");                                                         \
        json_quote(&sb, r->field);                                                                 \
        strbuf_putc(&sb, ',');                                                                     \
    }
        LASTRUN_STRINGS(WRITE_FIELD)
#undef WRITE_FIELD
        if (r->checked_ns)
            strbuf_printf(&sb, "\"checked\":%lld,", (long long)(r->checked_ns / 1000000));
        strbuf_printf(&sb, "\"state\":\"%s\"}", model_state_name(r->state));
        if (!strbuf_write_out(&sb, fd, FLUSH_AT))
            failed = errno ? errno : EIO;
    }
    strbuf_puts(&sb, "\n]}\n");
    if (!failed && (!strbuf_write_out(&sb, fd, 0) || fsync(fd) != 0))
        failed = errno ? errno : EIO;
    if (fd >= 0 && close(fd) != 0 && !failed)
        failed = errno;
    /* The content is fsync'd (a full disk shows there, not after the rename put a short file
     * in the old one's place); the folder is not: a power cut that loses the rename leaves the
     * last table but one, and this is a table the next cycle writes again (the journal, the
     * record of what was done, does sync its folder). */
    if (!failed && statedir_replace(sd, tmp, LASTRUN_FILE, &why) < 0)
        failed = errno;
    int rc = 0;
    if (failed) {
        if (why.msg[0])
            rc = tp_err_set(err, "cannot write last run: %s", why.msg);
        else
            rc = tp_err_set(err, "cannot write %s/%s: %s", statedir_path(sd), LASTRUN_FILE,
                            strerror(failed));
        if (tmp)
            statedir_remove(sd, tmp);
    }
    strbuf_free(&sb);
    free(tmp);
    statedir_close(sd);
    return rc;
}

const lastrun_row *lastrun_find(const lastrun *lr, const char *key)
{
    return strmap_get(&lr->by_key, key);
}

void lastrun_free(lastrun *lr)
{
    for (size_t i = 0; i < lr->n; i++)
        row_free(&lr->rows[i]);
    free(lr->rows);
    strmap_free(&lr->by_key);
    *lr = (lastrun){0};
}
