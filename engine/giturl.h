/* giturl: git remote URLs taken apart, so that credentials are matched to where they belong.
 * Forms: scheme://[user@]host[:port]/path (http, https, ssh, git, file) and scp-like
 * [user@]host:path (ssh). A rule's URL matches a remote when scheme, host (case-insensitive) and
 * port (defaults filled in: 80, 443, 22, 9418) are the same and the rule's path is a prefix of
 * the remote's at a '/' boundary — as git's credential.<url> and Argo CD's repo-creds match.
 * No dependency beyond util. */
#ifndef TP_GITURL_H
#define TP_GITURL_H

#include <stddef.h>

#include "util.h"

typedef struct giturl {
    char *scheme; /* lower case: "https", "ssh", "file", ... */
    char *host;   /* lower case; "" for file */
    char *port;   /* explicit or the scheme's default; "" when none applies */
    char *path;   /* starts with '/' (or is ""), no query */
} giturl;

/* Take url apart. Returns -1 when it is not a URL git could reach (nothing is allocated). */
int giturl_parse(const char *url, giturl *out);
void giturl_free(giturl *u);

/* Of n prefixes, the index of the longest that matches url, or -1 when none does (or url cannot
 * be parsed). A prefix that cannot be parsed matches nothing. */
long giturl_best_match(const char *url, const char *const *prefixes, size_t n);

/* "scheme://host:port/" of url (a new string), the prefix that stands for "this server";
 * NULL when url cannot be parsed. */
char *giturl_server(const char *url);

#endif
