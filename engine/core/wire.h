/* wire: the model on `tagpilot serve`'s socket (docs/protocol.md) — snapshots as newline-
 * delimited JSON, the first whole, then per-image changes against the last one a client got;
 * tag lists and verdicts as their own messages, each sent once per client and referenced by id.
 * The server (engine/serve) encodes, the attached engine (engine_remote.c) decodes. */
#ifndef TP_WIRE_H
#define TP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "model_build.h"
#include "strmap.h"
#include "util.h"

struct cJSON;

#define WIRE_PROTOCOL 1
/* The longest line either side accepts: a tag list of 10,000 tags fits. */
#define WIRE_MAX_LINE (16u << 20)

/* What one client has been sent: the verdict sets it holds (id -> tag_verdicts*, a reference
 * each, so an id is never reused while the client may still refer to it) and the last
 * snapshot (a reference). */
typedef struct wire_sent {
    strmap tags;
    model_snapshot *last;
    bool have_last;
} wire_sent;

void wire_sent_free(wire_sent *w);

/* Append to out the messages that bring a client from w->last to s: tag messages for verdict
 * sets it has not got, then one "snapshot" message (its images: rows that changed, runs of
 * unchanged ones by their index in the last snapshot; the log lines after w->last's). w then
 * holds s. */
void wire_encode_snapshot(wire_sent *w, model_snapshot *s, strbuf *out);

/* The client's side: the last snapshot it built and the verdict sets by id. */
typedef struct wire_model {
    strmap tags;          /* id -> tag_verdicts* (a reference) */
    model_block **blocks; /* of the last snapshot, a reference each */
    size_t n_blocks;
    char **log; /* the last ENGINE_LOG_KEEP-ish lines, oldest first */
    size_t n_log;
    uint64_t log_total;
} wire_model;

void wire_model_free(wire_model *m);
/* Take a "tags" message. Returns 0 or -1 with err. */
int wire_decode_tags(wire_model *m, const struct cJSON *msg, tp_err *err);
/* Build the snapshot a "snapshot" message describes (one reference for the caller), with the
 * attached/link_error fields given. NULL with err when it is malformed. */
model_snapshot *wire_decode_snapshot(wire_model *m, const struct cJSON *msg, const char *attached,
                                     tp_err *err);
/* A copy of s with other attached/link_error (the images shared). */
model_snapshot *wire_relabel(wire_model *m, const model_snapshot *s, const char *attached,
                             const char *link_error);

#endif
