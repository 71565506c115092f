/* serve_auth: a peer's Unix user (SO_PEERCRED's uid) against serve.viewers and serve.operators,
 * which name users or groups. */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serve.h"

/* Whether list names the user or one of its groups. */
static bool listed(const strvec *list, const struct passwd *pw)
{
    for (size_t i = 0; i < list->count; i++)
        if (strcmp(list->items[i], pw->pw_name) == 0)
            return true;
    int n = 64;
    gid_t *groups = xmalloc((size_t)n * sizeof *groups);
    if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0) {
        groups = xrealloc(groups, (size_t)n * sizeof *groups);
        if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
            n = 0;
    }
    bool found = false;
    for (int g = 0; g < n && !found; g++) {
        struct group *gr = getgrgid(groups[g]);
        for (size_t i = 0; gr && i < list->count && !found; i++)
            found = strcmp(list->items[i], gr->gr_name) == 0;
    }
    free(groups);
    return found;
}

serve_role serve_role_of(const tp_config *cfg, unsigned uid, char *name, size_t len)
{
    struct passwd *pw = getpwuid((uid_t)uid);
    if (pw && pw->pw_name && *pw->pw_name)
        snprintf(name, len, "%s", pw->pw_name);
    else
        snprintf(name, len, "uid%u", uid);
    if (uid == (unsigned)geteuid())
        return ROLE_OPERATOR;
    if (!pw)
        return ROLE_NONE; /* no name: nothing in the lists can name it */
    if (listed(&cfg->serve_operators, pw))
        return ROLE_OPERATOR;
    if (listed(&cfg->serve_viewers, pw))
        return ROLE_VIEWER;
    return ROLE_NONE;
}

const char *serve_role_name(serve_role role)
{
    return role == ROLE_OPERATOR ? "operator" : role == ROLE_VIEWER ? "viewer" : "none";
}
