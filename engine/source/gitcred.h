/* gitcred: credentials for libgit2 remotes from tagpilot's specs — "env:VAR" and "file:PATH"
 * (user:token for http(s), or an SSH private key file), "ssh-agent" — chosen by the URL libgit2
 * is about to authenticate to (after any redirect): the git.credentials entry with the longest
 * matching prefix, and none when no entry matches, so a repository an Application names never
 * receives a token configured for another server. Asked once per connection, so a refused
 * secret ends in "credentials '<spec>' were rejected" instead of a loop. The secret never
 * leaves this module except to libgit2. */
#ifndef TP_GITCRED_H
#define TP_GITCRED_H

#include <git2.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* Credentials held in memory, read from the cluster: Argo CD's repository Secrets
 * (`git.credentials: argocd`; "repository" Secrets name one URL, "repo-creds" a URL prefix) and
 * an Application's `write-back-method: git:secret:NS/NAME`. Chosen by the longest URL prefix,
 * before git.credentials. Owned by whoever read them (wiped when freed). */
typedef struct gitcred_secret {
    char *url;      /* the repository URL or prefix it serves */
    char *username; /* NULL with an SSH key */
    char *password;
    char *ssh_key; /* PEM private key, or NULL */
    char *label;   /* "Secret argocd/config-repo", for messages */
} gitcred_secret;

void gitcred_secret_clear(gitcred_secret *s);

/* State shared by libgit2's remote callbacks (libgit2 gives them all one payload): what the
 * credential callback gave and why it could not, and a refused push's status. */
typedef struct gitcred {
    const config_git_cred *rules; /* borrowed from the caller's options */
    size_t n_rules;
    const gitcred_secret *secrets; /* borrowed: checked before the rules */
    size_t n_secrets;
    bool configured;  /* git.credentials was written at all (else ssh-agent may serve ssh) */
    const char *spec; /* the spec chosen for the last connection (in rules), or NULL */
    int attempts;
    bool rejected;
    char problem[400];     /* why no credentials could be given, or "" */
    char secret[256];      /* the token, to scrub from messages; never printed */
    char push_status[256]; /* the server's reason for refusing a pushed ref, or "" */
} gitcred;

/* libgit2's git_credential_acquire_cb; payload is a gitcred. */
int gitcred_callback(git_credential **out, const char *url, const char *user_from_url,
                     unsigned int allowed, void *payload);

/* The spec for url: the rule with the longest matching prefix, or NULL. */
const char *gitcred_spec_for(const config_git_cred *rules, size_t n, const char *url);

/* Forget what happened on the last connection (keeps rules and secret). */
void gitcred_reset(gitcred *c);

/* Remove anything secret from a message in place: credentials in URLs, and `secret`. */
void gitcred_scrub(char *msg, size_t size, const char *secret);

#endif
