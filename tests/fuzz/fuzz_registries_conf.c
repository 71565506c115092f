/* registries.conf (engine/registry/conf.c), argocd-image-updater's format: a file either parses
 * into entries with an origin-only api_url, or fails with a message naming the file; lookups
 * over what parsed stay inside it. The input also goes through the duration reader. */
#include "fuzz.h"
#include "registry/conf.h"

static const char *const refs[] = {"nginx", "ghcr.io/acme/web", "localhost:5000/a/b",
                                   "registry.example/team/app"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_exact(data, size);
    registries_conf conf = {0};
    tp_err err;
    if (registries_conf_parse(text, size, "registries.conf", &conf, &err) == 0) {
        for (size_t i = 0; i < conf.count; i++) {
            const registry_conf_entry *e = &conf.entries[i];
            fuzz_require(e->api_url && e->api_url[0], "entry %zu has no api_url", i);
            size_t n = strlen(e->api_url);
            fuzz_require(e->api_url[n - 1] != '/', "api_url '%s' ends in '/'", e->api_url);
            fuzz_require(e->limit >= 0 && e->credsexpire_s >= 0, "entry %zu: negative limit", i);
        }
        for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
            imageref ref;
            if (imageref_parse(refs[i], &ref, &err) != 0)
                abort();
            const registry_conf_entry *e = registries_conf_find(&conf, &ref);
            fuzz_require(!e || (e >= conf.entries && e < conf.entries + conf.count),
                         "find returned an entry outside the file");
            imageref_free(&ref);
        }
        registries_conf_free(&conf);
    } else {
        fuzz_require(strncmp(err.msg, "registries.conf", 15) == 0,
                     "message does not name the file: %s", err.msg);
    }
    free(text);

    char *s = fuzz_cstr(data, size);
    long secs;
    if (registries_conf_parse_duration(s, &secs) == 0)
        fuzz_require(secs >= 0, "duration '%s' is %ld s", s, secs);
    free(s);
    return 0;
}
