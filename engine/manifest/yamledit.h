/* yamledit: byte-precise edits of YAML text. Only the bytes of one scalar change; comments,
 * order, quoting, indentation, anchors, CRLF line ends and blank lines stay byte-identical. The
 * scalar is located by a yamldoc parse of the same bytes (libyaml marks turned into byte spans). */
#ifndef TP_YAMLEDIT_H
#define TP_YAMLEDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"
#include "yamldoc.h"

/* One splice: replace buf[start, end) by text (owned). */
typedef struct yamledit_edit {
    size_t start, end;
    char *text;
} yamledit_edit;

/* True when `value` may not be written as a plain scalar: empty, any byte outside
 * [A-Za-z0-9._/@:+=-], a leading indicator, a trailing ':', or text YAML 1.1 or 1.2 reads as
 * a number, boolean, null or timestamp. */
bool yamledit_needs_quotes(const char *value);

/* Every scalar tagpilot writes into YAML goes through here. `value` as YAML text in `style`:
 * plain only when yamledit_needs_quotes says it may be (else double-quoted); single-quoted only
 * for printable ASCII (else double-quoted); double-quoted with an escape for every control
 * character, DEL, C1 control, U+0085/U+2028/U+2029 (\N \L \P), BOM and bidirectional
 * override. A value that is not valid UTF-8 is refused (-1 with err). *out is a new string. */
int yamledit_render(const char *value, ynode_style style, char **out, tp_err *err);

/* The edit that makes the scalar `node` (parsed from buf) read `value`, keeping its quote style
 * and any &anchor or !tag in front of it. An alias (*name) is replaced by the value itself, so
 * only this key changes. Block scalars (| and >), collections, a value that is not valid UTF-8
 * (YAML text cannot hold it) and an edit after which the text would not parse are refused with
 * a message. */
int yamledit_scalar(const char *buf, size_t len, const ynode *node, const char *value,
                    yamledit_edit *out, tp_err *err);

/* Apply edits (any order, not overlapping) to buf into *out (reset first). Frees the edits'
 * texts. Returns 0, or -1 when two edits overlap. */
int yamledit_apply(const char *buf, size_t len, yamledit_edit *edits, size_t n, strbuf *out,
                   tp_err *err);

/* Convenience: parse buf, set the scalar at `path` (ynode_path syntax, in document doc_index) to
 * value, and write the new text into *out. Missing path → error naming file and path. */
int yamledit_set_path(const char *buf, size_t len, const char *name, size_t doc_index,
                      const char *path, const char *value, strbuf *out, tp_err *err);

#endif
