/* The tag-list fast path (registry_parse_tags_fast in engine/registry/tags.c) against cJSON
 * (registry_parse_tags_json) on the same body: whenever the fast path takes a body, both must
 * answer the same rc, keep the same tags in the same order and say the same error; when it leaves
 * a body to cJSON, it must have touched nothing. Each body is tried under a cap it passes at
 * once (4) and one it does not (100,000), after a tag from an earlier page. */
#include "fuzz.h"
#include "registry/internal.h"

static void compare(const char *body, size_t size, size_t max_tags)
{
    strvec fast = {0}, json = {0};
    strvec_push(&fast, "from-an-earlier-page");
    strvec_push(&json, "from-an-earlier-page");
    tp_err fast_err = {{0}}, json_err = {{0}};
    int fast_rc = registry_parse_tags_fast(body, size, max_tags, "registry.example", "team/app",
                                           &fast, &fast_err);
    if (fast_rc == REGISTRY_TAGS_NOT_HANDLED) {
        fuzz_require(fast.count == 1 && !fast_err.msg[0], "left to cJSON but touched the tags");
    } else {
        int json_rc = registry_parse_tags_json(body, size, max_tags, "registry.example", "team/app",
                                               &json, &json_err);
        fuzz_require(fast_rc == json_rc, "rc %d, cJSON %d", fast_rc, json_rc);
        fuzz_require(strcmp(fast_err.msg, json_err.msg) == 0, "error '%s', cJSON '%s'",
                     fast_err.msg, json_err.msg);
        fuzz_require(fast.count == json.count, "%zu tags, cJSON %zu", fast.count, json.count);
        for (size_t i = 0; i < fast.count; i++)
            fuzz_require(strcmp(fast.items[i], json.items[i]) == 0, "tag %zu '%s', cJSON '%s'", i,
                         fast.items[i], json.items[i]);
    }
    strvec_free(&fast);
    strvec_free(&json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body = fuzz_exact(data, size);
    compare(body, size, 4);
    compare(body, size, 100000);
    free(body);
    return 0;
}
