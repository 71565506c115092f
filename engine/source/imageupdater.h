/* imageupdater: argocd-image-updater v1 `ImageUpdater` resources
 * (argocd-image-updater.argoproj.io/v1alpha1) as settings for the Applications they select. An
 * ImageUpdater selects Applications in its spec.namespace (else its own) by
 * applicationRefs[].namePattern (a glob) and labelSelectors (matchLabels, matchExpressions In,
 * NotIn, Exists, DoesNotExist); the first ref that matches configures the app. Its images and
 * settings are turned into the v0 annotations they stand for — image-list, update-strategy,
 * force-update, allow-tags, ignore-tags, pull-secret, platforms, helm.image-name/-tag/-spec,
 * kustomize.image-name, write-back-method, git-repository, git-branch, write-back-target — with
 * v1's precedence (image over applicationRef over spec), and replace the app's own annotations
 * unless the ref says useAnnotations: true; one parser (annotations) then reads both forms the
 * same. Applications no ImageUpdater selects keep their annotations. Pure: JSON in, JSON out. */
#ifndef TP_IMAGEUPDATER_H
#define TP_IMAGEUPDATER_H

#include <cJSON.h>

#include "util.h"

/* Apply the first of updaters (a JSON array of ImageUpdater objects, in order) that selects app
 * (an Application object, changed in place: metadata.annotations). Returns 1 when one did
 * (*by set to "NS/NAME" of the ImageUpdater, a new string), 0 when none did, -1 with err when
 * the one that selects it is malformed (its message names the ImageUpdater). */
int imageupdater_apply(const cJSON *updaters, cJSON *app, char **by, tp_err *err);

/* A label selector (metav1.LabelSelector as JSON; NULL matches everything) against labels (a
 * JSON object of strings, may be NULL). -1 when the selector is malformed. */
int imageupdater_labels_match(const cJSON *selector, const cJSON *labels);

#endif
