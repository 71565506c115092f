/* image_check: what the registry says about one image, asynchronously — its tag list, then
 * what its strategy needs (strategy_needs): nothing more, the followed tag's verified digest,
 * or each allowed tag's digest, created date and platforms. The engine runs one per tracked
 * image on its client's loop; `tagpilot test` runs one on a client of its own
 * (registry_client_run). Both then select with strategy_select over the check's table, so the
 * test answers what the engine would choose with the engine's code.
 * Tags outside the tag grammar are never asked about: they would go into a URL, and no
 * strategy picks them. */
#ifndef TP_IMAGE_CHECK_H
#define TP_IMAGE_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "registry/registry.h"
#include "select/imageref.h"
#include "select/strategy.h"
#include "select/tagfilter.h"
#include "select/tagset.h"
#include "types.h"
#include "util.h"

typedef struct image_check image_check;

/* Borrowed until the check is done or freed. */
typedef struct image_check_params {
    const imageref *ref;
    strategy_kind strategy;
    const char *constraint;    /* digest: the tag to follow; else ignored */
    const tagfilter *filter;   /* newest-build: metadata only for allowed tags; may be NULL */
    const platform *platforms; /* newest-build; n == 0: the host's */
    size_t n_platforms;
    /* digest: digests already known to be good (git's, the last cycle's); a HEAD that finds one
     * spares the verifying GET. Both NULL: the GET alone. */
    const char *known_digest[2];
    /* The table a plain listing goes into (the engine shares one per repository); NULL: a table
     * of the check's own. A strategy that needs more than names always gets its own. */
    tag_table *(*table_for)(void *ctx, const char *repository, const strvec *names);
    void *table_ctx;
} image_check_params;

/* Called once, when every answer is in: c's tags (NULL when the listing failed) and
 * platform_mismatch are filled; image_check_error says whether something failed. The callback
 * may free c: nothing touches it afterwards. Not called when the client is freed first (free
 * the check then). */
typedef void (*image_check_done)(void *ud, image_check *c);

/* Start the check on client; done runs from the client's loop — or before this returns, when
 * the answers are already in (a tag list the engine asked ahead). */
image_check *image_check_start(registry_client *client, const image_check_params *p,
                               image_check_done done, void *ud);
/* The first failure ("registry …: …", a tag's named: "tag 'v1': …"), or NULL. */
const tp_err *image_check_error(const image_check *c);
/* The listing, with what the strategy needed filled in. The check keeps its reference. */
tag_table *image_check_tags(const image_check *c);
/* newest-build tags with no image for the platforms (the check keeps them). */
const strvec *image_check_platform_mismatch(const image_check *c);
void image_check_free(image_check *c);

#endif
