/* wire: model snapshots to newline-delimited JSON and back (docs/protocol.md). */
#include "wire.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "select/tagset.h"
#include "timefmt.h"

static const char *const phase_names[] = {
    [ENGINE_STARTING] = "starting", [ENGINE_IDLE] = "idle",       [ENGINE_SCANNING] = "scanning",
    [ENGINE_PAUSED] = "paused",     [ENGINE_STOPPED] = "stopped",
};

/* ---- encoding (the server) ---- */

static void add_str(cJSON *o, const char *key, const char *s)
{
    if (!s)
        return; /* absent means NULL: rows stay small */
    char *clean = str_utf8_sanitize(s);
    cJSON_AddStringToObject(o, key, clean);
    free(clean);
}

static void add_ms(cJSON *o, const char *key, int64_t ns)
{
    if (ns) /* milliseconds: a JSON number holds them exactly, not nanoseconds */
        cJSON_AddNumberToObject(o, key, (double)(ns / 1000000));
}

static void tags_id(const tag_verdicts *v, char id[32])
{
    snprintf(id, 32, "%" PRIxPTR, (uintptr_t)v);
}

static void put_line(strbuf *out, cJSON *msg)
{
    char *text = cJSON_PrintUnformatted(msg);
    strbuf_puts(out, text);
    strbuf_putc(out, '\n');
    free(text);
    cJSON_Delete(msg);
}

static void encode_tags(const tag_verdicts *v, const char *id, strbuf *out)
{
    cJSON *msg = cJSON_CreateObject();
    cJSON_AddStringToObject(msg, "type", "tags");
    cJSON_AddStringToObject(msg, "id", id);
    cJSON_AddNumberToObject(msg, "candidate", (double)v->candidate);
    cJSON *details = cJSON_AddArrayToObject(msg, "details");
    for (size_t i = 0; i < v->n_details; i++) {
        char *clean = str_utf8_sanitize(v->details[i]);
        cJSON_AddItemToArray(details, cJSON_CreateString(clean));
        free(clean);
    }
    cJSON *tags = cJSON_AddArrayToObject(msg, "tags");
    for (size_t i = 0; i < v->table->list.count; i++) {
        const tag_info *t = &v->table->list.items[i];
        tag_verdict tv = tag_verdicts_get(v, i);
        cJSON *row = cJSON_CreateArray();
        char *clean = str_utf8_sanitize(t->name);
        cJSON_AddItemToArray(row, cJSON_CreateString(clean));
        free(clean);
        cJSON_AddItemToArray(row, t->digest ? cJSON_CreateString(t->digest) : cJSON_CreateNull());
        char when[64];
        if (t->has_created)
            timefmt_format(t->created, when);
        cJSON_AddItemToArray(row, t->has_created ? cJSON_CreateString(when) : cJSON_CreateNull());
        cJSON_AddItemToArray(row, cJSON_CreateNumber(tv.reason));
        cJSON_AddItemToArray(row, cJSON_CreateBool(tv.eligible));
        ptrdiff_t d = -1;
        for (size_t k = 0; tv.detail && k < v->n_details; k++)
            if (v->details[k] == tv.detail)
                d = (ptrdiff_t)k;
        cJSON_AddItemToArray(row, cJSON_CreateNumber((double)d));
        cJSON_AddItemToArray(tags, row);
    }
    put_line(out, msg);
}

static cJSON *encode_image(const model_image *m)
{
    cJSON *o = cJSON_CreateObject();
    add_str(o, "app", m->app);
    add_str(o, "alias", m->alias);
    add_str(o, "image", m->image);
    add_str(o, "strategy", m->strategy);
    add_str(o, "constraint", m->constraint);
    add_str(o, "policy", m->policy);
    add_str(o, "current", m->current);
    add_str(o, "live", m->live);
    add_str(o, "candidate", m->candidate);
    add_str(o, "candidate_digest", m->candidate_digest);
    add_str(o, "pin", m->pin);
    add_str(o, "previous", m->previous);
    cJSON_AddStringToObject(o, "state", model_state_name(m->state));
    add_str(o, "detail", m->detail);
    add_str(o, "warnings", m->warnings);
    add_ms(o, "last_check_ms", m->last_check_ns);
    add_str(o, "target", m->target);
    add_str(o, "diff", m->diff);
    if (m->tags) {
        char id[32];
        tags_id(m->tags, id);
        cJSON_AddStringToObject(o, "tags", id);
    }
    if (m->n_history) {
        cJSON *h = cJSON_AddArrayToObject(o, "history");
        for (size_t i = 0; i < m->n_history; i++) {
            const model_event *ev = &m->history[i];
            cJSON *e = cJSON_CreateObject();
            add_str(e, "time", ev->time);
            add_str(e, "user", ev->user);
            add_str(e, "action", ev->action);
            add_str(e, "from", ev->from);
            add_str(e, "to", ev->to);
            add_str(e, "commit", ev->commit);
            add_str(e, "result", ev->result);
            add_str(e, "detail", ev->detail);
            cJSON_AddItemToArray(h, e);
        }
    }
    return o;
}

static void encode_header(cJSON *msg, const model_snapshot *s, uint64_t log_seen)
{
    cJSON_AddNumberToObject(msg, "generation", (double)s->generation);
    cJSON_AddStringToObject(msg, "phase",
                            s->phase <= ENGINE_STOPPED ? phase_names[s->phase] : "idle");
    cJSON_AddNumberToObject(msg, "scan_done", (double)s->scan_done);
    cJSON_AddNumberToObject(msg, "scan_total", (double)s->scan_total);
    add_ms(msg, "last_cycle_ms", s->last_cycle_ns);
    add_ms(msg, "next_cycle_ms", s->next_cycle_ns);
    add_ms(msg, "last_run_ms", s->last_run_ns);
    cJSON_AddNumberToObject(msg, "n_last_run", (double)s->n_last_run);
    cJSON_AddNumberToObject(msg, "files_done", (double)s->files_done);
    cJSON_AddNumberToObject(msg, "files_total", (double)s->files_total);
    cJSON_AddBoolToObject(msg, "read_only", s->read_only);
    add_str(msg, "sources", s->sources);
    add_str(msg, "source_error", s->source_error);
    cJSON *rates = cJSON_AddArrayToObject(msg, "rates");
    for (size_t i = 0; i < s->n_rates; i++) {
        cJSON *r = cJSON_CreateObject();
        add_str(r, "registry", s->rates[i].registry);
        cJSON_AddNumberToObject(r, "remaining", (double)s->rates[i].remaining);
        cJSON_AddItemToArray(rates, r);
    }
    /* The log lines the client has not seen (all of them on the first snapshot). */
    uint64_t first = s->log_total - s->n_log; /* event number of log[0], minus one */
    cJSON *log = cJSON_AddArrayToObject(msg, "log");
    for (size_t i = 0; i < s->n_log; i++)
        if (first + i + 1 > log_seen) {
            char *clean = str_utf8_sanitize(s->log[i]);
            cJSON_AddItemToArray(log, cJSON_CreateString(clean));
            free(clean);
        }
    cJSON_AddNumberToObject(msg, "log_total", (double)s->log_total);
}

static int compare_key(const model_image *a, const model_image *b)
{
    int c = strcmp(a->app, b->app);
    return c ? c : strcmp(a->alias ? a->alias : "", b->alias ? b->alias : "");
}

static void drop_tags(const char *key, void *value, void *ctx)
{
    (void)key;
    (void)ctx;
    tag_verdicts_unref(value);
}

void wire_sent_free(wire_sent *w)
{
    strmap_each(&w->tags, drop_tags, NULL);
    strmap_free(&w->tags);
    model_snapshot_unref(w->last);
    *w = (wire_sent){0};
}

void wire_encode_snapshot(wire_sent *w, model_snapshot *s, strbuf *out)
{
    /* Verdict sets first: a row may only name one the client has. The client's set becomes
     * exactly the ones s uses (references held), so none it refers to can be freed and its id
     * reused for another. */
    strmap used = {0};
    for (size_t i = 0; i < s->n_images; i++) {
        tag_verdicts *v = (tag_verdicts *)s->images[i]->tags;
        if (!v)
            continue;
        char id[32];
        tags_id(v, id);
        if (strmap_get(&used, id))
            continue;
        if (!strmap_get(&w->tags, id))
            encode_tags(v, id, out);
        strmap_put(&used, id, tag_verdicts_ref(v));
    }
    strmap_each(&w->tags, drop_tags, NULL);
    strmap_free(&w->tags);
    w->tags = used;

    const model_snapshot *prev = w->have_last ? w->last : NULL;
    cJSON *msg = cJSON_CreateObject();
    cJSON_AddStringToObject(msg, "type", "snapshot");
    cJSON_AddBoolToObject(msg, "full", prev == NULL);
    encode_header(msg, s, prev ? prev->log_total : 0);
    cJSON *images = cJSON_AddArrayToObject(msg, "images");
    /* Both are sorted by app and alias: walk them together. An image whose row is the same
     * object as the last snapshot's (the engine shares unchanged blocks) is sent as its index
     * there, consecutive ones as one run [from, count]. */
    size_t j = 0;
    cJSON *run = NULL;
    size_t run_from = 0, run_count = 0;
    for (size_t i = 0; i < s->n_images; i++) {
        const model_image *m = s->images[i];
        while (prev && j < prev->n_images && compare_key(prev->images[j], m) < 0)
            j++;
        if (prev && j < prev->n_images && prev->images[j] == m) {
            if (run && run_from + run_count == j) {
                cJSON_SetNumberValue(cJSON_GetArrayItem(run, 1), (double)++run_count);
            } else {
                run = cJSON_CreateArray();
                run_from = j;
                run_count = 1;
                cJSON_AddItemToArray(run, cJSON_CreateNumber((double)run_from));
                cJSON_AddItemToArray(run, cJSON_CreateNumber(1));
                cJSON_AddItemToArray(images, run);
            }
            j++;
            continue;
        }
        run = NULL;
        cJSON_AddItemToArray(images, encode_image(m));
    }
    put_line(out, msg);
    model_snapshot_unref(w->last);
    w->last = model_snapshot_ref(s);
    w->have_last = true;
}

/* ---- decoding (the attached engine) ---- */

static const char *get_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double get_num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

void wire_model_free(wire_model *m)
{
    strmap_each(&m->tags, drop_tags, NULL);
    strmap_free(&m->tags);
    for (size_t i = 0; i < m->n_blocks; i++)
        model_block_unref(m->blocks[i]);
    free(m->blocks);
    for (size_t i = 0; i < m->n_log; i++)
        free(m->log[i]);
    free(m->log);
    *m = (wire_model){0};
}

int wire_decode_tags(wire_model *m, const cJSON *msg, tp_err *err)
{
    const char *id = get_str(msg, "id");
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(msg, "tags");
    const cJSON *details = cJSON_GetObjectItemCaseSensitive(msg, "details");
    if (!id || !cJSON_IsArray(tags) || !cJSON_IsArray(details))
        return tp_err_set(err, "a tags message without id, tags or details");
    int n = cJSON_GetArraySize(tags), n_details = cJSON_GetArraySize(details);
    tag_table *table = tag_table_new();
    strategy_result r = {xcalloc((size_t)(n ? n : 1), sizeof *r.verdicts), 0, -1};
    double cand = get_num(msg, "candidate");
    r.candidate = cand >= 0 && cand < n ? (ptrdiff_t)cand : -1;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        const cJSON *row = cJSON_GetArrayItem(tags, i);
        const cJSON *name = cJSON_GetArrayItem(row, 0), *digest = cJSON_GetArrayItem(row, 1),
                    *created = cJSON_GetArrayItem(row, 2), *reason = cJSON_GetArrayItem(row, 3),
                    *eligible = cJSON_GetArrayItem(row, 4), *detail = cJSON_GetArrayItem(row, 5);
        if (!cJSON_IsString(name) || !cJSON_IsNumber(reason) || !cJSON_IsNumber(detail)) {
            rc = tp_err_set(err, "tags %s: tag %d is malformed", id, i);
            break;
        }
        tp_time when;
        bool has_created =
            cJSON_IsString(created) &&
            timefmt_parse(created->valuestring, strlen(created->valuestring), &when) == 0;
        tag_list_add(&table->list, name->valuestring,
                     cJSON_IsString(digest) ? digest->valuestring : NULL,
                     has_created ? &when : NULL);
        int d = (int)detail->valuedouble;
        int why = (int)reason->valuedouble;
        r.verdicts[i] = (tag_verdict){
            .index = (size_t)i,
            .eligible = cJSON_IsTrue(eligible),
            .reason = why >= 0 && why <= REASON_INVALID_TAG ? (tag_reason)why : REASON_INVALID_TAG,
            .detail = d >= 0 && d < n_details && cJSON_IsString(cJSON_GetArrayItem(details, d))
                          ? cJSON_GetArrayItem(details, d)->valuestring
                          : NULL,
        };
        r.count++;
    }
    if (rc == 0) {
        tag_verdicts *v = tag_verdicts_new(table, &r);
        tag_verdicts_unref(strmap_put(&m->tags, id, v));
    }
    tag_table_unref(table);
    free(r.verdicts);
    return rc;
}

static image_state state_of(const char *name)
{
    for (int s = 0; name && s < STATE_COUNT; s++)
        if (strcmp(model_state_name((image_state)s), name) == 0)
            return (image_state)s;
    return STATE_ERROR;
}

static model_block *decode_image(wire_model *m, const cJSON *o)
{
    if (!get_str(o, "app"))
        return NULL;
    model_block *b = model_block_new();
    model_image *img = model_block_image(b);
    static const struct {
        const char *key;
        size_t offset;
    } fields[] = {
        {"app", offsetof(model_image, app)},
        {"alias", offsetof(model_image, alias)},
        {"image", offsetof(model_image, image)},
        {"strategy", offsetof(model_image, strategy)},
        {"constraint", offsetof(model_image, constraint)},
        {"policy", offsetof(model_image, policy)},
        {"current", offsetof(model_image, current)},
        {"live", offsetof(model_image, live)},
        {"candidate", offsetof(model_image, candidate)},
        {"candidate_digest", offsetof(model_image, candidate_digest)},
        {"pin", offsetof(model_image, pin)},
        {"previous", offsetof(model_image, previous)},
        {"detail", offsetof(model_image, detail)},
        {"target", offsetof(model_image, target)},
        {"diff", offsetof(model_image, diff)},
    };
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        *(const char **)((char *)img + fields[i].offset) =
            model_block_str(b, get_str(o, fields[i].key));
    img->state = state_of(get_str(o, "state"));
    img->last_check_ns = (int64_t)get_num(o, "last_check_ms") * 1000000;
    if (get_str(o, "warnings")) {
        model_text *t = model_text_new(get_str(o, "warnings"));
        model_block_set_warnings(b, t);
        model_text_unref(t);
    }
    const char *tags = get_str(o, "tags");
    if (tags)
        model_block_set_tags(b, strmap_get(&m->tags, tags));
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "history");
    int n = cJSON_IsArray(h) ? cJSON_GetArraySize(h) : 0;
    model_event *ev = model_block_history(b, (size_t)n);
    for (int i = 0; i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(h, i);
        ev[i].time = model_block_str(b, get_str(e, "time"));
        ev[i].user = model_block_str(b, get_str(e, "user"));
        ev[i].action = model_block_str(b, get_str(e, "action") ? get_str(e, "action") : "?");
        ev[i].from = model_block_str(b, get_str(e, "from"));
        ev[i].to = model_block_str(b, get_str(e, "to"));
        ev[i].commit = model_block_str(b, get_str(e, "commit"));
        ev[i].result = model_block_str(b, get_str(e, "result"));
        ev[i].detail = model_block_str(b, get_str(e, "detail"));
    }
    return b;
}

static model_snapshot *assemble(wire_model *m, model_header *h)
{
    h->log = (const char *const *)m->log;
    h->n_log = m->n_log;
    h->log_total = m->log_total;
    return model_snapshot_new(h, m->blocks, m->n_blocks);
}

model_snapshot *wire_decode_snapshot(wire_model *m, const cJSON *msg, const char *attached,
                                     tp_err *err)
{
    const cJSON *images = cJSON_GetObjectItemCaseSensitive(msg, "images");
    if (!cJSON_IsArray(images))
        return tp_err_set(err, "a snapshot without images"), NULL;
    bool full = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(msg, "full"));
    model_block **prev = full ? NULL : m->blocks;
    size_t n_prev = full ? 0 : m->n_blocks;
    size_t cap = 16, n = 0;
    model_block **blocks = xmalloc(cap * sizeof *blocks);
    const cJSON *item;
    int rc = 0;
    cJSON_ArrayForEach(item, images)
    {
        size_t from = 0, count = 1;
        if (cJSON_IsArray(item)) {
            const cJSON *a = cJSON_GetArrayItem(item, 0), *c = cJSON_GetArrayItem(item, 1);
            double f = cJSON_IsNumber(a) ? a->valuedouble : -1;
            double k = cJSON_IsNumber(c) ? c->valuedouble : -1;
            if (f < 0 || k < 1 || f + k > (double)n_prev) {
                rc = tp_err_set(err, "a snapshot refers to images it never sent");
                break;
            }
            from = (size_t)f;
            count = (size_t)k;
        }
        while (n + count > cap)
            cap *= 2;
        blocks = xrealloc(blocks, cap * sizeof *blocks);
        if (cJSON_IsArray(item)) {
            for (size_t i = 0; i < count; i++)
                blocks[n++] = model_block_ref(prev[from + i]);
        } else {
            model_block *b = decode_image(m, item);
            if (!b) {
                rc = tp_err_set(err, "a snapshot row without app");
                break;
            }
            blocks[n++] = b;
        }
    }
    if (rc < 0) {
        for (size_t i = 0; i < n; i++)
            model_block_unref(blocks[i]);
        free(blocks);
        return NULL;
    }
    for (size_t i = 0; i < m->n_blocks; i++)
        model_block_unref(m->blocks[i]);
    free(m->blocks);
    m->blocks = blocks;
    m->n_blocks = n;

    /* New log lines join the kept ones (at most ENGINE_LOG_KEEP). */
    const cJSON *log = cJSON_GetObjectItemCaseSensitive(msg, "log");
    cJSON_ArrayForEach(item, log)
    {
        if (!cJSON_IsString(item))
            continue;
        if (m->n_log == ENGINE_LOG_KEEP) {
            free(m->log[0]);
            memmove(m->log, m->log + 1, (m->n_log - 1) * sizeof *m->log);
            m->n_log--;
        }
        m->log = xrealloc(m->log, (m->n_log + 1) * sizeof *m->log);
        m->log[m->n_log++] = xstrdup(item->valuestring);
    }
    m->log_total = (uint64_t)get_num(msg, "log_total");

    const char *phase = get_str(msg, "phase");
    model_header h = {
        .generation = (uint64_t)get_num(msg, "generation"),
        .phase = ENGINE_IDLE,
        .scan_done = (size_t)get_num(msg, "scan_done"),
        .scan_total = (size_t)get_num(msg, "scan_total"),
        .last_cycle_ns = (int64_t)get_num(msg, "last_cycle_ms") * 1000000,
        .next_cycle_ns = (int64_t)get_num(msg, "next_cycle_ms") * 1000000,
        .last_run_ns = (int64_t)get_num(msg, "last_run_ms") * 1000000,
        .n_last_run = (size_t)get_num(msg, "n_last_run"),
        .files_done = (size_t)get_num(msg, "files_done"),
        .files_total = (size_t)get_num(msg, "files_total"),
        .read_only = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(msg, "read_only")),
        .sources = get_str(msg, "sources"),
        .source_error = get_str(msg, "source_error"),
        .attached = attached,
    };
    for (int p = 0; phase && p <= ENGINE_STOPPED; p++)
        if (strcmp(phase_names[p], phase) == 0)
            h.phase = (engine_phase)p;
    model_rate rates[16];
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(msg, "rates");
    cJSON_ArrayForEach(item, rs)
    {
        if (h.n_rates == 16 || !get_str(item, "registry"))
            break;
        rates[h.n_rates++] =
            (model_rate){get_str(item, "registry"), (long)get_num(item, "remaining")};
    }
    h.rates = rates;
    return assemble(m, &h);
}

model_snapshot *wire_relabel(wire_model *m, const model_snapshot *s, const char *attached,
                             const char *link_error)
{
    model_header h = {
        .generation = s ? s->generation + 1 : 1,
        .phase = s ? s->phase : ENGINE_STARTING,
        .last_cycle_ns = s ? s->last_cycle_ns : 0,
        .read_only = s && s->read_only,
        .sources = s ? s->sources : NULL,
        .source_error = s ? s->source_error : NULL,
        .attached = attached,
        .link_error = link_error,
    };
    if (!s)
        return assemble(m, &h);
    h.scan_done = s->scan_done;
    h.scan_total = s->scan_total;
    h.next_cycle_ns = s->next_cycle_ns;
    h.rates = s->rates;
    h.n_rates = s->n_rates;
    return assemble(m, &h);
}
