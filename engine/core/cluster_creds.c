/* cluster_creds: git credentials the engine reads from the cluster each cycle, after the
 * sources — Argo CD's repository Secrets (`git.credentials: argocd`) and each Application's
 * `write-back-method: git:secret:NS/NAME` — held in memory (wiped when replaced), and the git
 * options every clone, fetch and push of the cycle uses (engine_git_opts). A Secret that cannot
 * be read is said once per cycle in the log, naming it, never its values. */
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "source/gitcred.h"

static void clear(engine *e)
{
    for (size_t i = 0; i < e->src.n_git_secrets; i++)
        gitcred_secret_clear(&e->src.git_secrets[i]);
    free(e->src.git_secrets);
    e->src.git_secrets = NULL;
    e->src.n_git_secrets = 0;
}

void engine_git_secrets_free(engine *e)
{
    clear(e);
}

static app_source *cluster_of(engine *e)
{
    for (size_t i = 0; i < e->src.n; i++)
        if (source_kube_client(e->src.list[i]))
            return e->src.list[i];
    return NULL;
}

void engine_read_git_secrets(engine *e)
{
    clear(e);
    /* git:repocreds asks for Argo CD's repository credentials as git.credentials: argocd does */
    bool repocreds = e->cfg->git_creds_argocd;
    bool wanted = repocreds;
    for (size_t l = 0; l < e->src.n_apps_lists; l++)
        for (size_t a = 0; a < e->src.apps[l].count; a++) {
            const app_settings *s = &e->src.apps[l].items[a].settings;
            repocreds |= s->writeback_repocreds;
            wanted |= s->writeback_repocreds || s->writeback_secret;
        }
    if (!wanted)
        return;
    app_source *src = cluster_of(e);
    if (!src) {
        engine_log(e, "warning: git credentials from Secrets need a kubernetes source that has "
                      "been read");
        return;
    }
    const char *argocd_ns = e->cfg->argocd_namespace ? e->cfg->argocd_namespace : "argocd";
    tp_err err = {{0}};
    if (repocreds && source_kube_git_secrets(src, argocd_ns, &e->src.git_secrets,
                                             &e->src.n_git_secrets, &err) < 0)
        engine_log(e,
                   "warning: Argo CD's repository credentials: cannot read the Secrets in "
                   "namespace %s: %s",
                   argocd_ns, err.msg);
    for (size_t l = 0; l < e->src.n_apps_lists; l++)
        for (size_t a = 0; a < e->src.apps[l].count; a++) {
            const argo_app *app = &e->src.apps[l].items[a];
            const char *ref = app->settings.writeback_secret;
            const char *url = app_repo_url(app);
            if (!ref || !url)
                continue;
            /* "ns/name", or "name" in Argo CD's namespace */
            const char *slash = strchr(ref, '/');
            char *ns = slash ? xstrndup(ref, (size_t)(slash - ref)) : xstrdup(argocd_ns);
            const char *name = slash ? slash + 1 : ref;
            gitcred_secret cred;
            if (source_kube_git_secret(src, ns, name, url, &cred, &err) < 0) {
                engine_log(e, "warning: app %s: write-back-method git:secret:%s: %s", app->name,
                           ref, err.msg);
            } else {
                e->src.git_secrets = xrealloc(e->src.git_secrets, (e->src.n_git_secrets + 1) *
                                                                      sizeof *e->src.git_secrets);
                e->src.git_secrets[e->src.n_git_secrets++] = cred;
            }
            free(ns);
        }
}

gitrepo_opts engine_git_opts(const engine *e)
{
    gitrepo_opts go = gitrepo_opts_from(e->cfg);
    go.secrets = e->src.git_secrets;
    go.n_secrets = e->src.n_git_secrets;
    if (go.n_secrets)
        go.creds_configured = true; /* no ssh-agent guess beside configured credentials */
    return go;
}
