#include "gitrepo.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <ftw.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "source/gitcred.h"
#include "source/gitnet.h"
#include "source/gittree.h"

struct gitrepo {
    git_repository *repo;
    char *url;
    char *display_url;
    char *gitdir; /* the bare clone: <state>/git/<slug>.git */
    char head[41];
    gitcred cred;
    int lock_fd; /* <gitdir>.lock, holding a write lock while open; -1 before */
};

gitrepo_opts gitrepo_opts_from(const tp_config *cfg)
{
    return (gitrepo_opts){.state_dir = cfg->state_dir,
                          .creds = cfg->git_creds,
                          .n_creds = cfg->n_git_creds,
                          .creds_configured = cfg->git_creds_configured,
                          .timeout_ms = (long)cfg->git_timeout_s * 1000,
                          .connect_timeout_ms = (long)cfg->git_connect_timeout_s * 1000};
}

char *gitrepo_redact_url(const char *url)
{
    const char *scheme = strstr(url, "://");
    if (!scheme)
        return xstrdup(url);
    const char *host = scheme + 3;
    const char *slash = strchr(host, '/');
    const char *at = NULL;
    for (const char *p = host; *p && (!slash || p < slash); p++)
        if (*p == '@')
            at = p;
    if (!at)
        return xstrdup(url);
    /* Keep a user name for ssh (it is not secret), drop "user:password" for http. */
    const char *colon = memchr(host, ':', (size_t)(at - host));
    if (!colon && !str_starts_with(url, "http"))
        return xstrdup(url);
    return xasprintf("%.*s%s", (int)(host - url), url, at + 1);
}

/* Fill err with "what URL: libgit2's message" plus what we know about the credentials. */
static int git_fail(gitrepo *r, tp_err *err, const char *what)
{
    const git_error *e = git_error_last();
    char cause[400];
    char ended[160];
    /* A transfer gitnet cut (no progress, a cancel) says so, whatever libgit2 made of it. */
    if (gitnet_reason(ended, sizeof ended) && !(e && e->message && strstr(e->message, ended)))
        snprintf(cause, sizeof cause, "%s (%s)", ended,
                 e && e->message ? e->message : "transfer ended");
    else
        snprintf(cause, sizeof cause, "%s", e && e->message ? e->message : "unknown error");
    /* libgit2 does not always say that a write failed for want of space. */
    struct statvfs vfs;
    if (statvfs(r->gitdir, &vfs) == 0 && vfs.f_bavail == 0 && !strstr(cause, strerror(ENOSPC))) {
        size_t n = strlen(cause);
        snprintf(cause + n, sizeof cause - n, " (%s in %s)", strerror(ENOSPC), r->gitdir);
    }
    gitcred_scrub(cause, sizeof cause, r->cred.secret);
    if (r->cred.rejected)
        return tp_err_set(err, "git %s %s: credentials '%s' were rejected (%s)", what,
                          r->display_url, r->cred.spec, cause);
    if (r->cred.problem[0])
        return tp_err_set(err, "git %s %s: %s (%s)", what, r->display_url, r->cred.problem, cause);
    return tp_err_set(err, "git %s %s: %s", what, r->display_url, cause);
}

/* libgit2's progress reports tell gitnet the transfer is alive (an ssh transfer has no other
 * sign: libssh2 reads the socket itself). */
static int on_sideband(const char *str, int len, void *payload)
{
    (void)str, (void)len, (void)payload;
    gitnet_progress();
    return 0;
}

static int on_transfer(const git_indexer_progress *stats, void *payload)
{
    (void)stats, (void)payload;
    gitnet_progress();
    return 0;
}

static int on_push_transfer(unsigned int current, unsigned int total, size_t bytes, void *payload)
{
    (void)current, (void)total, (void)bytes, (void)payload;
    gitnet_progress();
    return 0;
}

static void set_callbacks(gitrepo *r, git_remote_callbacks *cb)
{
    cb->credentials = gitcred_callback;
    cb->sideband_progress = on_sideband;
    cb->transfer_progress = on_transfer;
    cb->push_transfer_progress = on_push_transfer;
    cb->payload = &r->cred;
}

static void reset_cred(gitrepo *r)
{
    gitcred_reset(&r->cred);
    gitnet_clear_reason();
}

static int mkdir_p(const char *path)
{
    char *copy = xstrdup(path);
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(copy, 0700) && errno != EEXIST) {
            free(copy);
            return -1;
        }
        *p = '/';
    }
    int rc = mkdir(copy, 0700) && errno != EEXIST ? -1 : 0;
    free(copy);
    return rc;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static char *cache_dir(const char *state_dir, const char *display)
{
    uint32_t h = 2166136261u;
    for (const char *p = display; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    const char *start = strstr(display, "://") ? strstr(display, "://") + 3 : display;
    strbuf sb = {0};
    for (const char *p = start; *p && sb.len < 60; p++)
        strbuf_putc(&sb, (isalnum((unsigned char)*p) || *p == '.' || *p == '-') ? *p : '_');
    char *slug = strbuf_take(&sb);
    char *dir = xasprintf("%s/git/%s-%08x.git", state_dir, slug, h);
    free(slug);
    return dir;
}

/* An in-memory remote for the URL. Named remotes and url.insteadOf would make libgit2 1.5 match
 * config entries with PCRE2 regexps, which leaks the match data on every miss; an anonymous
 * remote with explicit refspecs needs neither. */
static int remote_new(gitrepo *r, git_remote **out)
{
    git_remote_create_options o;
    git_remote_create_options_init(&o, GIT_REMOTE_CREATE_OPTIONS_VERSION);
    o.repository = r->repo;
    o.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
    return git_remote_create_with_opts(out, r->url, &o);
}

/* Remember the remote's default branch as refs/remotes/origin/HEAD, as git clone does. */
static void record_default_branch(gitrepo *r, git_remote *remote)
{
    git_buf buf = {0};
    if (git_remote_default_branch(&buf, remote) == 0 && str_starts_with(buf.ptr, "refs/heads/")) {
        char *target = xasprintf("refs/remotes/origin/%s", buf.ptr + strlen("refs/heads/"));
        git_reference *ref = NULL;
        git_reference_symbolic_create(&ref, r->repo, "refs/remotes/origin/HEAD", target, 1,
                                      "tagpilot: default branch");
        git_reference_free(ref);
        free(target);
    }
    git_buf_dispose(&buf);
    git_error_clear();
}

static int fetch_as(gitrepo *r, const char *what, tp_err *err)
{
    git_remote *remote = NULL;
    if (remote_new(r, &remote))
        return git_fail(r, err, what);
    git_fetch_options fo;
    git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
    set_callbacks(r, &fo.callbacks);
    fo.prune = GIT_FETCH_PRUNE;
    fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_ALL;
    char *specs[] = {"+refs/heads/*:refs/remotes/origin/*"};
    git_strarray refspecs = {specs, 1};
    reset_cred(r);
    int rc = git_remote_fetch(remote, &refspecs, &fo, "tagpilot: fetch");
    if (rc == 0)
        record_default_branch(r, remote);
    else
        git_fail(r, err, what);
    git_remote_free(remote);
    return rc ? -1 : 0;
}

int gitrepo_fetch(gitrepo *r, tp_err *err)
{
    return fetch_as(r, "fetch", err);
}

static int clone_fresh(gitrepo *r, tp_err *err)
{
    if (mkdir_p(r->gitdir))
        return tp_err_set(err, "git clone %s: cannot create %s: %s", r->display_url, r->gitdir,
                          strerror(errno));
    if (git_repository_init(&r->repo, r->gitdir, 1))
        return git_fail(r, err, "clone");
    if (fetch_as(r, "clone", err)) {
        git_repository_free(r->repo);
        r->repo = NULL;
        nftw(r->gitdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        return -1;
    }
    return 0;
}

/* Serialise processes that share the state dir on this clone. POSIX record locks belong to the
 * process, so a second handle in the same process never waits on the first. */
static int lock_cache(gitrepo *r, tp_err *err)
{
    char *path = xasprintf("%s.lock", r->gitdir);
    r->lock_fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    free(path);
    if (r->lock_fd < 0)
        return tp_err_set(err, "git %s: cannot lock the clone in %s: %s", r->display_url, r->gitdir,
                          strerror(errno));
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    for (int tries = 0; fcntl(r->lock_fd, F_SETLK, &fl) != 0; tries++) {
        if (gitnet_cancelled())
            return tp_err_set(err, "git %s: cancelled while waiting for the clone", r->display_url);
        if ((errno != EACCES && errno != EAGAIN) || tries >= 600)
            return tp_err_set(err,
                              "git %s: the clone in %s stayed busy for 60 s (another tagpilot "
                              "process using the same state-dir?)",
                              r->display_url, r->gitdir);
        nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
    }
    return 0;
}

static int rm_lock_file(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)ftw;
    if (flag == FTW_F && str_ends_with(path, ".lock"))
        unlink(path);
    return 0;
}

/* libgit2's own lock files (HEAD.lock, refs/…/x.lock) left by a tagpilot killed in the middle
 * of a fetch would block this clone for good. Called while holding the clone's lock, so no
 * other process is using them: they are stale. */
static void clear_stale_git_locks(const char *gitdir)
{
    static const char *const top[] = {"index.lock",       "HEAD.lock",       "config.lock",
                                      "packed-refs.lock", "FETCH_HEAD.lock", "ORIG_HEAD.lock"};
    for (size_t i = 0; i < sizeof top / sizeof *top; i++) {
        char *path = xasprintf("%s/%s", gitdir, top[i]);
        unlink(path);
        free(path);
    }
    char *refs = xasprintf("%s/refs", gitdir);
    nftw(refs, rm_lock_file, 16, FTW_PHYS);
    free(refs);
}

/* Before the clone cache was bare it held a work tree at <slug> (no ".git"): a repository's
 * files written out, which nothing reads any more. */
static void remove_old_work_tree(const char *gitdir)
{
    char *old = xstrndup(gitdir, strlen(gitdir) - strlen(".git"));
    struct stat st;
    if (lstat(old, &st) == 0 && S_ISDIR(st.st_mode))
        nftw(old, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(old);
}

int gitrepo_open(const char *url, const gitrepo_opts *opts, gitrepo **out, tp_err *err)
{
    *out = NULL;
    if (!opts || !opts->state_dir || !*opts->state_dir)
        return tp_err_set(err, "git %s: no state dir for the clone cache", url);
    git_libgit2_init();
    gitnet_install(opts->connect_timeout_ms, opts->timeout_ms);
    gitrepo *r = xcalloc(1, sizeof *r);
    r->lock_fd = -1;
    r->url = xstrdup(url);
    r->display_url = gitrepo_redact_url(url);
    r->cred.rules = opts->creds;
    r->cred.n_rules = opts->n_creds;
    r->cred.configured = opts->creds_configured;
    r->cred.secrets = opts->secrets;
    r->cred.n_secrets = opts->n_secrets;
    r->gitdir = cache_dir(opts->state_dir, r->display_url);
    char *parent = xasprintf("%s/git", opts->state_dir);
    int mk = mkdir_p(parent);
    free(parent);
    if (mk) {
        tp_err_set(err, "git %s: cannot create the cache folder under %s: %s", r->display_url,
                   opts->state_dir, strerror(errno));
        gitrepo_close(r);
        return -1;
    }
    if (lock_cache(r, err)) {
        gitrepo_close(r);
        return -1;
    }
    remove_old_work_tree(r->gitdir);
    char *head = xasprintf("%s/HEAD", r->gitdir);
    struct stat st;
    bool cached = stat(head, &st) == 0;
    free(head);
    int rc;
    if (cached)
        clear_stale_git_locks(r->gitdir);
    if (cached && git_repository_open_bare(&r->repo, r->gitdir) == 0) {
        rc = gitrepo_fetch(r, err);
    } else {
        if (cached)
            nftw(r->gitdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        rc = clone_fresh(r, err);
    }
    if (rc) {
        gitrepo_close(r);
        return -1;
    }
    *out = r;
    return 0;
}

void gitrepo_close(gitrepo *r)
{
    if (!r)
        return;
    git_repository_free(r->repo);
    free(r->url);
    free(r->display_url);
    free(r->gitdir);
    memset(r->cred.secret, 0, sizeof r->cred.secret);
    if (r->lock_fd >= 0)
        close(r->lock_fd);
    free(r);
    git_libgit2_shutdown();
}

const char *gitrepo_display_url(const gitrepo *r)
{
    return r->display_url;
}

const char *gitrepo_head(const gitrepo *r)
{
    return r->head;
}

static bool ref_exists(gitrepo *r, const char *name)
{
    git_reference *ref = NULL;
    bool ok = git_reference_lookup(&ref, r->repo, name) == 0;
    git_reference_free(ref);
    return ok;
}

bool gitrepo_has_branch(gitrepo *r, const char *name)
{
    char *ref = xasprintf("refs/remotes/origin/%s", name);
    bool ok = ref_exists(r, ref);
    free(ref);
    return ok;
}

char *gitrepo_default_branch(gitrepo *r)
{
    git_reference *head = NULL;
    if (git_reference_lookup(&head, r->repo, "refs/remotes/origin/HEAD") == 0 &&
        git_reference_type(head) == GIT_REFERENCE_SYMBOLIC) {
        const char *target = git_reference_symbolic_target(head);
        const char *prefix = "refs/remotes/origin/";
        if (str_starts_with(target, prefix)) {
            char *name = xstrdup(target + strlen(prefix));
            git_reference_free(head);
            return name;
        }
    }
    git_reference_free(head);
    if (gitrepo_has_branch(r, "main"))
        return xstrdup("main");
    if (gitrepo_has_branch(r, "master"))
        return xstrdup("master");
    return xstrdup("main");
}

int gitrepo_resolve(gitrepo *r, const char *branch, tp_err *err)
{
    char *name = branch && *branch && strcmp(branch, "HEAD") != 0 ? xstrdup(branch)
                                                                  : gitrepo_default_branch(r);
    char *remote_ref = xasprintf("refs/remotes/origin/%s", name);
    char *tag_ref = xasprintf("refs/tags/%s", name);
    git_object *obj = NULL;
    int rc = -1;
    if (ref_exists(r, remote_ref))
        rc = git_revparse_single(&obj, r->repo, remote_ref);
    else if (ref_exists(r, tag_ref))
        rc = git_revparse_single(&obj, r->repo, tag_ref);
    if (rc) {
        tp_err_set(err, "git %s: no branch or tag '%s'", r->display_url, name);
    } else {
        git_object *peeled = NULL;
        if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT))
            rc = git_fail(r, err, "resolve");
        else
            git_oid_tostr(r->head, sizeof r->head, git_object_id(peeled));
        git_object_free(peeled);
    }
    git_object_free(obj);
    free(remote_ref);
    free(tag_ref);
    free(name);
    return rc;
}

int gitrepo_tree(gitrepo *r, repotree **out, tp_err *err)
{
    *out = NULL;
    git_oid oid;
    if (!r->head[0] || git_oid_fromstr(&oid, r->head) != 0)
        return tp_err_set(err, "git %s: no revision chosen", r->display_url);
    if (gittree_open(r->repo, &oid, out, err) < 0) {
        tp_err_prefix(err, "git %s", r->display_url);
        return -1;
    }
    return 0;
}

bool gitrepo_branch_contains(gitrepo *r, const char *branch, const char *hex)
{
    char *ref = xasprintf("refs/remotes/origin/%s", branch);
    git_oid tip, id;
    bool yes = git_reference_name_to_id(&tip, r->repo, ref) == 0 &&
               git_oid_fromstr(&id, hex) == 0 &&
               (git_oid_equal(&tip, &id) || git_graph_descendant_of(r->repo, &tip, &id) == 1);
    free(ref);
    git_error_clear();
    return yes;
}

/* The plan read the head's tree; make sure each file was what it read (and may be written: not
 * at or under a link, a file or a submodule), so a commit never undoes someone else's change
 * nor writes through a link. */
static int check_file(repotree *tree, const gitrepo_file *f)
{
    char *msg = NULL;
    char *clean = NULL;
    tp_err perr;
    if (repopath_clean(f->path, "file", &clean, &perr) < 0 || !*clean ||
        strcmp(clean, f->path) != 0) {
        msg = xasprintf("%s: not a plain path inside the repository", f->path);
    } else {
        repotree_kind kind = repotree_kind_of(tree, f->path);
        if (kind != REPOTREE_FILE && kind != REPOTREE_MISSING) {
            msg = xasprintf("%s: %s; nothing was committed", f->path,
                            kind == REPOTREE_SYMLINK
                                ? "a symbolic link (or under one), which tagpilot never writes "
                                  "through"
                                : "not a regular file in the repository");
        } else {
            strbuf now = {0};
            bool present = kind == REPOTREE_FILE && repotree_read(tree, f->path, &now, NULL) == 0;
            bool same = present ? f->before && now.len == f->before_len &&
                                      memcmp(now.data, f->before, now.len) == 0
                                : f->before == NULL;
            strbuf_free(&now);
            if (!same)
                msg = xasprintf("%s changed in the repository while the edit was planned; "
                                "nothing was committed",
                                f->path);
        }
    }
    free(clean);
    if (!msg)
        return 0;
    git_error_set_str(GIT_ERROR_INVALID, msg);
    free(msg);
    return -1;
}

/* The head's tree with the files replaced, built in an in-memory index: no work tree. */
static int build_tree(gitrepo *r, git_commit *parent, const gitrepo_file *files, size_t n,
                      git_oid *tree_oid)
{
    repotree *view = NULL;
    tp_err terr;
    if (gittree_open(r->repo, git_commit_id(parent), &view, &terr) < 0) {
        git_error_set_str(GIT_ERROR_INVALID, terr.msg);
        return -1;
    }
    git_index *index = NULL;
    git_tree *tree = NULL;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = check_file(view, &files[i]);
    if (rc == 0)
        rc = git_index_new(&index);
    if (rc == 0)
        rc = git_commit_tree(&tree, parent);
    if (rc == 0)
        rc = git_index_read_tree(index, tree);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const git_index_entry *old = git_index_get_bypath(index, files[i].path, 0);
        git_index_entry entry = {0};
        entry.path = files[i].path;
        entry.mode = old ? old->mode : GIT_FILEMODE_BLOB;
        rc = git_blob_create_from_buffer(&entry.id, r->repo, files[i].data, files[i].len);
        if (rc == 0)
            rc = git_index_add(index, &entry);
    }
    if (rc == 0)
        rc = git_index_write_tree_to(tree_oid, index, r->repo);
    git_tree_free(tree);
    git_index_free(index);
    repotree_free(view);
    return rc;
}

int gitrepo_commit(gitrepo *r, const gitrepo_file *files, size_t n, const char *message,
                   const char *author_name, const char *author_email, const char *branch,
                   char id_out[41], tp_err *err)
{
    git_oid head_oid, tree_oid, commit_oid;
    git_commit *parent = NULL;
    git_tree *tree = NULL;
    git_signature *sig = NULL;
    git_reference *ref = NULL;
    int rc = git_oid_fromstr(&head_oid, r->head);
    if (rc == 0)
        rc = git_commit_lookup(&parent, r->repo, &head_oid);
    if (rc == 0)
        rc = build_tree(r, parent, files, n, &tree_oid);
    if (rc == 0)
        rc = git_tree_lookup(&tree, r->repo, &tree_oid);
    if (rc == 0)
        rc = git_signature_now(&sig, author_name, author_email);
    if (rc == 0) {
        const git_commit *parents[] = {parent};
        rc = git_commit_create(&commit_oid, r->repo, NULL, sig, sig, NULL, message, tree, 1,
                               parents);
    }
    char *refname = xasprintf("refs/heads/%s", branch);
    if (rc == 0)
        rc = git_reference_create(&ref, r->repo, refname, &commit_oid, 1, "tagpilot: commit");
    free(refname);
    git_reference_free(ref);
    git_signature_free(sig);
    git_tree_free(tree);
    git_commit_free(parent);
    if (rc)
        return git_fail(r, err, "commit in");
    git_oid_tostr(id_out, 41, &commit_oid);
    memcpy(r->head, id_out, 41);
    return 0;
}

/* The server refused the ref (a status such as "non-fast-forward" or "fetch first"). */
static int push_ref_cb(const char *refname, const char *status, void *data)
{
    gitcred *st = data;
    if (status)
        snprintf(st->push_status, sizeof st->push_status, "%s: %s", refname, status);
    return 0;
}

int gitrepo_push(gitrepo *r, const char *branch, tp_err *err)
{
    git_remote *remote = NULL;
    if (remote_new(r, &remote))
        return git_fail(r, err, "push to");
    char *spec = xasprintf("refs/heads/%s:refs/heads/%s", branch, branch);
    char *specs[] = {spec};
    git_strarray arr = {specs, 1};
    git_push_options po;
    git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
    set_callbacks(r, &po.callbacks);
    po.callbacks.push_update_reference = push_ref_cb;
    reset_cred(r);
    int rc = git_remote_push(remote, &arr, &po);
    free(spec);
    git_remote_free(remote);
    const char *refused = r->cred.push_status;
    if (rc == 0 && !refused[0]) {
        /* As git does: origin/<branch> now points at what we pushed. */
        char *local = xasprintf("refs/heads/%s", branch);
        char *tracking = xasprintf("refs/remotes/origin/%s", branch);
        git_oid oid;
        git_reference *ref = NULL;
        if (git_reference_name_to_id(&oid, r->repo, local) == 0)
            git_reference_create(&ref, r->repo, tracking, &oid, 1, "tagpilot: push");
        git_reference_free(ref);
        git_error_clear();
        free(local);
        free(tracking);
        return 0;
    }
    if (rc == 0) {
        tp_err_set(err, "git push to %s: refused: %s", r->display_url, refused);
        /* "failed to update ref": the server lost a race with another push to the branch. */
        bool moved = strstr(refused, "fast-forward") || strstr(refused, "fetch first") ||
                     strstr(refused, "stale") || strstr(refused, "failed to update ref") ||
                     strstr(refused, "failed to lock");
        return moved ? GITREPO_REJECTED : -1;
    }
    const git_error *e = git_error_last();
    const char *m = e && e->message ? e->message : "";
    bool moved = rc == GIT_ENONFASTFORWARD || strstr(m, "fastforward") ||
                 strstr(m, "fast-forward") || strstr(m, "not present locally");
    /* Refused before anything was sent (credentials, no connection): it cannot have landed.
     * Anything else broke off mid-transfer, and only the remote knows. */
    bool before_sending = r->cred.rejected || r->cred.problem[0] ||
                          strstr(m, "failed to connect") || strstr(m, "failed to resolve") ||
                          strstr(m, "before connecting") || strstr(m, "connecting to");
    git_fail(r, err, "push to");
    if (moved)
        return GITREPO_REJECTED;
    return before_sending ? -1 : GITREPO_UNKNOWN;
}
