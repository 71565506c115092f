/* plain: container `image:` values in plain Kubernetes manifests (Deployments, StatefulSets,
 * CronJobs, Pods, ...): every map key "image" with a scalar value, in documents that have kind
 * and apiVersion. Shared by the current-tag reader and plain-directory write-back. */
#ifndef TP_MANIFEST_PLAIN_H
#define TP_MANIFEST_PLAIN_H

#include <stddef.h>

#include "select/imageref.h"
#include "yamldoc.h"

/* Called for each `image:` scalar naming ref's repository; return non-zero to stop. */
typedef int (*plain_visit_fn)(const ynode *value, void *ctx);

/* Walk one document; returns what the callback returned to stop, else 0. */
int plain_walk(const ynode *root, const imageref *ref, plain_visit_fn fn, void *ctx);

#endif
