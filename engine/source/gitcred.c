#include "gitcred.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "giturl.h"
#include "source/gitrepo.h"
#include "util.h"

/* Remove anything secret from a message: credentials in URLs, and the token itself. */
void gitcred_scrub(char *msg, size_t size, const char *secret)
{
    char *redacted = gitrepo_redact_url(msg);
    snprintf(msg, size, "%s", redacted);
    free(redacted);
    if (!secret || !*secret)
        return;
    strbuf sb = {0};
    size_t n = strlen(secret);
    for (const char *p = msg; *p;) {
        if (strncmp(p, secret, n) == 0) {
            strbuf_puts(&sb, "***");
            p += n;
        } else {
            strbuf_putc(&sb, *p++);
        }
    }
    snprintf(msg, size, "%s", sb.data ? sb.data : "");
    strbuf_free(&sb);
}

const char *gitcred_spec_for(const config_git_cred *rules, size_t n, const char *url)
{
    if (!n)
        return NULL;
    const char **prefixes = xcalloc(n, sizeof *prefixes);
    for (size_t i = 0; i < n; i++)
        prefixes[i] = rules[i].url;
    long best = giturl_best_match(url, prefixes, n);
    free(prefixes);
    return best < 0 ? NULL : rules[best].spec;
}

void gitcred_secret_clear(gitcred_secret *s)
{
    char *fields[] = {s->username, s->password, s->ssh_key};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        if (fields[i]) {
            memset(fields[i], 0, strlen(fields[i]));
            free(fields[i]);
        }
    free(s->url);
    free(s->label);
    *s = (gitcred_secret){0};
}

/* The Secret for url: the longest matching prefix, or NULL. */
static const gitcred_secret *secret_for(const gitcred *st, const char *url)
{
    if (!st->n_secrets)
        return NULL;
    const char **prefixes = xcalloc(st->n_secrets, sizeof *prefixes);
    for (size_t i = 0; i < st->n_secrets; i++)
        prefixes[i] = st->secrets[i].url;
    long best = giturl_best_match(url, prefixes, st->n_secrets);
    free(prefixes);
    return best < 0 ? NULL : &st->secrets[best];
}

static int from_secret(git_credential **out, gitcred *st, const gitcred_secret *sec,
                       const char *user, unsigned int allowed)
{
    st->spec = sec->label;
    if (sec->ssh_key) {
        if (!(allowed & GIT_CREDENTIAL_SSH_KEY)) {
            snprintf(st->problem, sizeof st->problem,
                     "%s holds an SSH key, which only works for ssh:// URLs", sec->label);
            return GIT_PASSTHROUGH;
        }
        int rc = git_credential_ssh_key_memory_new(out, sec->username ? sec->username : user, NULL,
                                                   sec->ssh_key, NULL);
        if (rc < 0)
            snprintf(st->problem, sizeof st->problem, "%s: the SSH key cannot be used (%s)",
                     sec->label, git_error_last() ? git_error_last()->message : "libgit2");
        return rc;
    }
    if (!sec->username || !sec->password) {
        snprintf(st->problem, sizeof st->problem,
                 "%s has neither username and password nor "
                 "sshPrivateKey",
                 sec->label);
        git_error_set_str(GIT_ERROR_NET, "no usable credentials");
        return -1;
    }
    if (!(allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT)) {
        snprintf(st->problem, sizeof st->problem,
                 "%s holds a username and password, which only work for http(s) URLs", sec->label);
        return GIT_PASSTHROUGH;
    }
    snprintf(st->secret, sizeof st->secret, "%s", sec->password);
    return git_credential_userpass_plaintext_new(out, sec->username, sec->password);
}

void gitcred_reset(gitcred *c)
{
    c->spec = NULL;
    c->attempts = 0;
    c->rejected = false;
    c->problem[0] = '\0';
    c->push_status[0] = '\0';
}

static char *read_secret_file(const char *path, gitcred *st)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(st->problem, sizeof st->problem, "credentials file %s: %s", path, strerror(errno));
        return NULL;
    }
    strbuf sb = {0};
    char chunk[1024];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && sb.len < 65536)
        strbuf_append(&sb, chunk, n);
    fclose(f);
    return str_trim(strbuf_take(&sb));
}

static int userpass(git_credential **out, gitcred *st, const char *pair, const char *origin,
                    unsigned int allowed)
{
    if (!(allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT)) {
        snprintf(st->problem, sizeof st->problem,
                 "credentials '%s' hold user:token, which only works for http(s) URLs (use "
                 "file:KEY or ssh-agent for ssh)",
                 origin);
        git_error_set_str(GIT_ERROR_NET, "no usable credentials");
        return -1;
    }
    const char *colon = strchr(pair, ':');
    if (!colon || colon == pair || !colon[1]) {
        snprintf(st->problem, sizeof st->problem, "%s must hold user:token", origin);
        git_error_set_str(GIT_ERROR_NET, "no usable credentials");
        return -1;
    }
    char *user = xstrndup(pair, (size_t)(colon - pair));
    snprintf(st->secret, sizeof st->secret, "%s", colon + 1);
    int rc = git_credential_userpass_plaintext_new(out, user, colon + 1);
    free(user);
    return rc;
}

int gitcred_callback(git_credential **out, const char *url, const char *user_from_url,
                     unsigned int allowed, void *payload)
{
    gitcred *st = payload;
    if (++st->attempts > 1) {
        /* The server refused what we gave: stop instead of asking forever. */
        st->rejected = true;
        git_error_set_str(GIT_ERROR_NET, "authentication failed");
        return GIT_EAUTH;
    }
    const char *user = user_from_url && *user_from_url ? user_from_url : "git";
    /* Chosen for the URL being authenticated now, which a redirect may have changed. */
    const gitcred_secret *sec = secret_for(st, url ? url : "");
    if (sec)
        return from_secret(out, st, sec, user, allowed);
    const char *spec = st->spec = gitcred_spec_for(st->rules, st->n_rules, url ? url : "");
    if (!spec || !*spec) {
        if (!st->configured && (allowed & GIT_CREDENTIAL_SSH_KEY) && getenv("SSH_AUTH_SOCK"))
            return git_credential_ssh_key_from_agent(out, user);
        char *shown = gitrepo_redact_url(url ? url : "?");
        if (st->configured)
            snprintf(st->problem, sizeof st->problem,
                     "the server asks for credentials and no git.credentials entry matches "
                     "%.150s (a single spec serves only the configured git sources' servers; "
                     "add {url, credentials} for this one)",
                     shown);
        else
            snprintf(st->problem, sizeof st->problem,
                     "the server asks for credentials and none are configured (git.credentials)");
        free(shown);
        return GIT_PASSTHROUGH;
    }
    if (strcmp(spec, "ssh-agent") == 0) {
        if (!(allowed & GIT_CREDENTIAL_SSH_KEY)) {
            snprintf(st->problem, sizeof st->problem,
                     "credentials 'ssh-agent' only work for ssh:// URLs");
            return GIT_PASSTHROUGH;
        }
        return git_credential_ssh_key_from_agent(out, user);
    }
    if (str_starts_with(spec, "env:")) {
        const char *v = getenv(spec + 4);
        if (!v || !*v) {
            snprintf(st->problem, sizeof st->problem,
                     "credentials '%s': environment variable %s is not set", spec, spec + 4);
            git_error_set_str(GIT_ERROR_NET, "no usable credentials");
            return -1;
        }
        return userpass(out, st, v, spec, allowed);
    }
    if (str_starts_with(spec, "file:")) {
        const char *path = spec + 5;
        char *content = read_secret_file(path, st);
        if (!content) {
            git_error_set_str(GIT_ERROR_NET, "no usable credentials");
            return -1;
        }
        int rc;
        if (str_starts_with(content, "-----BEGIN")) {
            rc = (allowed & GIT_CREDENTIAL_SSH_KEY)
                     ? git_credential_ssh_key_new(out, user, NULL, path, NULL)
                     : GIT_PASSTHROUGH;
            if (rc == GIT_PASSTHROUGH)
                snprintf(st->problem, sizeof st->problem,
                         "credentials '%s' hold an SSH key, which only works for ssh:// URLs",
                         spec);
        } else {
            rc = userpass(out, st, content, spec, allowed);
        }
        memset(content, 0, strlen(content));
        free(content);
        return rc;
    }
    snprintf(st->problem, sizeof st->problem, "unknown credentials '%s'", spec);
    return GIT_PASSTHROUGH;
}
