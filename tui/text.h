/* text: measuring and fitting text into terminal columns (UTF-8, double-width aware). Strings
 * from registries and git are untrusted: control characters and invalid bytes never reach the
 * terminal. Needs setlocale(LC_CTYPE) to have chosen a UTF-8 locale for multibyte text. */
#ifndef TP_TEXT_H
#define TP_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Columns s takes on a terminal (control characters and bad bytes count as one '?'). */
int text_width(const char *s);
/* Copy s into out (size outsz) so that it takes at most `width` columns; when it does not fit it
 * is cut and ends with an ellipsis ("…", or "~" when ascii). Unprintable characters become '?'.
 * When pad is true the result is padded with spaces to exactly `width` columns.
 * Returns the columns used. */
int text_fit(const char *s, int width, bool ascii, bool pad, char *out, size_t outsz);
/* Like text_fit, but a cut keeps the end: "…amplication/bookstore-application" (the end of an
 * image name says more than its registry host). */
int text_fit_tail(const char *s, int width, bool ascii, bool pad, char *out, size_t outsz);
/* "42s", "5m", "3h", "12d" for an age in seconds; "-" when unknown (seconds < 0). */
void text_age(int64_t seconds, char *out, size_t outsz);

#endif
