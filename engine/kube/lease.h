/* kube/lease: leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection
 * does it — one holder at a time, renewed every duration/3, taken over by another once its
 * renewTime is older than its leaseDurationSeconds, every write conditional on the
 * resourceVersion it was decided on (two candidates that decide at once: one gets a 409).
 * kube_lease_decide is the whole policy and does no I/O; kube_lease_step does one round of it
 * against the API. */
#ifndef TP_KUBE_LEASE_H
#define TP_KUBE_LEASE_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "kube/kube.h"
#include "timefmt.h"
#include "util.h"

/* What a Lease says (owned strings). */
typedef struct kube_lease_record {
    char *holder;           /* spec.holderIdentity; "" when none (released) */
    bool has_renew;         /* spec.renewTime (else acquireTime) was there and parsed */
    tp_time renew;          /* when the holder last renewed */
    int duration_s;         /* spec.leaseDurationSeconds; 0 when missing */
    int transitions;        /* spec.leaseTransitions */
    char *resource_version; /* metadata.resourceVersion */
} kube_lease_record;

/* Read a Lease object (untrusted: every field checked). -1 with err when it has no
 * metadata.resourceVersion or a field of the wrong type. */
int kube_lease_parse(const cJSON *obj, kube_lease_record *out, tp_err *err);
void kube_lease_record_free(kube_lease_record *r);

typedef enum kube_lease_action {
    LEASE_CREATE,    /* there is no Lease: create it, holding it */
    LEASE_RENEW,     /* it is ours: renew it */
    LEASE_TAKE_OVER, /* released, or its holder stopped renewing: update it to us */
    LEASE_WAIT,      /* another holds it and renews: follow */
} kube_lease_action;

/* The decision, given the time now, the Lease (NULL: none exists) and my identity. Another
 * holder's lease expires leaseDurationSeconds (its own, not mine) after its renewTime; one
 * without a renewTime or a duration has expired, an empty holder is free. Ours is renewed even
 * when it expired (the update's resourceVersion says whether anyone took it meanwhile). Clocks
 * are trusted to agree within a fraction of the duration, as client-go's are. */
kube_lease_action kube_lease_decide(tp_time now, const kube_lease_record *lease, const char *me);
const char *kube_lease_action_name(kube_lease_action a);

/* Which Lease, who I am, for how long. */
typedef struct kube_lease_spec {
    const char *namespace_;
    const char *name;
    const char *identity; /* holderIdentity: pod name + pid */
    int duration_s;
} kube_lease_spec;

/* One round: get the Lease, decide, create / renew / take over. KUBE_OK with *leader (whether
 * we hold it now) and *holder (a new string: who does, "" for nobody); a lost race (409: another
 * wrote first) is KUBE_OK with *leader false. Other errors as kube_status, err saying what. */
kube_status kube_lease_step(kube_client *c, const kube_lease_spec *spec, tp_time now, bool *leader,
                            char **holder, tp_err *err);

/* Give the Lease up if we hold it (holderIdentity cleared, leaseDurationSeconds 1), so another
 * takes over at its next round instead of after the duration. */
kube_status kube_lease_release(kube_client *c, const kube_lease_spec *spec, tp_time now,
                               tp_err *err);

#endif
