/* Tag-list bodies (registry_parse_tags in engine/registry/tags.c): a page appends to what earlier
 * pages gave, never past max_tags, and a refusal says why. */
#include "fuzz.h"
#include "registry/internal.h"

#define MAX_TAGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body = fuzz_exact(data, size);
    strvec tags = {0};
    strvec_push(&tags, "from-an-earlier-page");
    tp_err err;
    int rc = registry_parse_tags(body, size, MAX_TAGS, "registry.example", "team/app", &tags, &err);
    fuzz_require(tags.count <= MAX_TAGS, "%zu tags past the cap", tags.count);
    fuzz_require(strcmp(tags.items[0], "from-an-earlier-page") == 0, "an earlier tag lost");
    fuzz_require(rc == 0 || err.msg[0], "refused without a message");
    strvec_free(&tags);
    free(body);
    return 0;
}
