/* argocd-image-updater annotations (engine/annotations). Input: one `key=value` a line (keys
 * never hold '='). Whatever the pairs, parsing never fails as a whole, every image has its
 * alias and reference, and every problem is a non-empty message. The values also go through
 * the platform and boolean readers. */
#include "annotations.h"
#include "fuzz.h"
#include "util.h"

#define MAX_PAIRS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    annotation pairs[MAX_PAIRS];
    size_t n = 0;
    for (char *line = text, *next; line && n < MAX_PAIRS; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        pairs[n] = (annotation){line, eq + 1, n + 1};
        n++;
    }
    app_settings s;
    annotations_parse(pairs, n, &s);
    for (size_t i = 0; i < s.n_images; i++) {
        const image_settings *img = &s.images[i];
        fuzz_require(img->alias && img->alias[0], "image %zu has no alias", i);
        fuzz_require(img->ref.name && !img->ref.tag, "image %zu: no name, or a tag kept", i);
        fuzz_require(!img->error || img->error[0], "image %zu: an empty error", i);
        fuzz_require(img->strategy <= STRATEGY_DIGEST, "image %zu: strategy %d", i,
                     (int)img->strategy);
        fuzz_require(img->n_platforms == 0 || img->platforms, "image %zu: platforms", i);
    }
    for (size_t i = 0; i < s.errors.count; i++)
        fuzz_require(s.errors.items[i][0] != '\0', "an empty error");
    app_settings_free(&s);

    for (size_t i = 0; i < n; i++) {
        platform *platforms = NULL;
        size_t n_platforms = 0;
        tp_err err;
        if (annotations_parse_platforms(pairs[i].value, &platforms, &n_platforms, &err) == 0) {
            for (size_t j = 0; j < n_platforms; j++)
                fuzz_require(platforms[j].os && platforms[j].arch, "platform without os/arch");
            platforms_free(platforms, n_platforms);
        }
        bool b;
        (void)annotations_parse_bool(pairs[i].value, &b);
    }
    free(text);
    return 0;
}
