/* Tag-list bodies (registry_parse_tags in engine/registry/tags.c): a page appends to what earlier
 * pages gave, never past max_tags, and a refusal says why; packed (registry_parse_tags_packed),
 * the same names. */
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
    /* packed, the same names (and no byte written past the page's block) */
    strvec packed = {0}, blocks = {0};
    strvec_push(&blocks, "from-an-earlier-page");
    strvec_push_ref(&packed, blocks.items[0]);
    tp_err packed_err;
    int packed_rc = registry_parse_tags_packed(body, size, MAX_TAGS, "registry.example", "team/app",
                                               &packed, &blocks, &packed_err);
    fuzz_require(packed_rc == rc, "packed answered %d, not %d", packed_rc, rc);
    fuzz_require(packed.count == tags.count, "packed kept %zu tags, not %zu", packed.count,
                 tags.count);
    for (size_t i = 0; i < tags.count && i < packed.count; i++)
        fuzz_require(strcmp(packed.items[i], tags.items[i]) == 0, "packed tag %zu differs", i);
    free(packed.items);
    strvec_free(&blocks);
    strvec_free(&tags);
    free(body);
    return 0;
}
