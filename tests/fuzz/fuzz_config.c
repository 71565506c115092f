/* tagpilot.yaml (engine/config.c): a file either parses into settings whose every path is
 * absolute, or fails with a message naming the file. The input also goes through the duration
 * reader. */
#include "config.h"
#include "fuzz.h"

#define FILE_NAME "/fuzz/tagpilot.yaml"

static void absolute(const char *path, const char *what)
{
    fuzz_require(!path || path[0] == '/', "%s '%s' is not absolute", what, path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_exact(data, size);
    tp_config cfg;
    tp_err err;
    if (config_parse(text, size, FILE_NAME, &cfg, &err) == 0) {
        absolute(cfg.registries_conf, "registries-conf");
        absolute(cfg.state_dir, "state-dir");
        fuzz_require(cfg.interval_s > 0, "interval 0");
        for (size_t i = 0; i < cfg.n_sources; i++) {
            const config_source *s = &cfg.sources[i];
            fuzz_require(s->url && s->path, "source %zu: no url or path", i);
            if (s->kind == CONFIG_SOURCE_DIR)
                absolute(s->url, "dir");
            fuzz_require(!strstr(s->path, ".."), "source %zu: path '%s' climbs out", i, s->path);
            fuzz_require(s->path[0] != '/', "source %zu: path '%s' is absolute", i, s->path);
        }
        config_free(&cfg);
    } else {
        fuzz_require(strncmp(err.msg, FILE_NAME, strlen(FILE_NAME)) == 0,
                     "message does not name the file: %s", err.msg);
    }
    free(text);

    char *s = fuzz_cstr(data, size);
    unsigned secs;
    (void)config_parse_duration(s, &secs);
    free(s);
    return 0;
}
