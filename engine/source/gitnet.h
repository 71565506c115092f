/* gitnet: bounded waits for every git transfer. libgit2 1.5 has no network timeouts, so a
 * server that accepts the connection and never answers held the clone lock — and with it every
 * approval — for good. gitnet registers the socket stream libgit2 uses for http, https (the TLS
 * stream runs over it) and ssh (libssh2 reads its descriptor directly), and:
 *   - connects with a timeout;
 *   - watches each open socket from a small monitor thread: when nothing has moved for the
 *     stall timeout (data through the stream, or progress libgit2 reports), the socket is shut
 *     down, so the blocked read returns and the fetch or push fails with "no progress for N s";
 *   - gitnet_cancel() shuts every socket down at once, so `q` and SIGTERM end a transfer in
 *     flight at once (a push cut this way is reconciled from the journal's intent record).
 * Process-wide state, owned here; every call is thread-safe. */
#ifndef TP_GITNET_H
#define TP_GITNET_H

#include <stdbool.h>
#include <stddef.h>

/* Register the stream with libgit2 (once per process; later calls only change the timeouts).
 * connect_ms / stall_ms <= 0 keep the defaults (10 s, 30 s). Call after git_libgit2_init. */
void gitnet_install(long connect_ms, long stall_ms);

/* libgit2 reported progress (objects received, pack bytes sent, server messages): the transfers
 * in flight are alive. */
void gitnet_progress(void);

/* End every transfer in flight now, and refuse new connections until gitnet_resume. */
void gitnet_cancel(void);
void gitnet_resume(void);
bool gitnet_cancelled(void);

/* Why gitnet last ended a transfer ("no progress for 30 s", "cancelled", "connect timeout after
 * 10 s") into buf, since the last gitnet_clear_reason; false when it ended none. */
bool gitnet_reason(char *buf, size_t size);
void gitnet_clear_reason(void);

/* The stall timeout in force, in seconds (for messages and docs). */
long gitnet_stall_seconds(void);

#endif
