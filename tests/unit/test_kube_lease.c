/* Leader election's decision without a server (engine/kube/lease.c): kube_lease_decide on a
 * Lease parsed from JSON as the API sends it, at chosen instants. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "kube/lease.h"

/* A Lease held by holder, renewed at renew ("" : none), for duration seconds. */
static kube_lease_record lease(const char *holder, const char *renew, int duration)
{
    char *json =
        xasprintf("{\"metadata\":{\"name\":\"tagpilot\",\"resourceVersion\":\"7\"},"
                  "\"spec\":{\"holderIdentity\":\"%s\",\"leaseDurationSeconds\":%d%s%s%s}}",
                  holder, duration, *renew ? ",\"renewTime\":\"" : "", renew, *renew ? "\"" : "");
    cJSON *o = cJSON_Parse(json);
    free(json);
    kube_lease_record r;
    tp_err err = {{0}};
    cr_assert_eq(kube_lease_parse(o, &r, &err), 0, "%s", err.msg);
    cJSON_Delete(o);
    return r;
}

static tp_time at(const char *when)
{
    tp_time t;
    cr_assert_eq(timefmt_parse(when, strlen(when), &t), 0);
    return t;
}

#define T0 "2025-03-01T10:00:00.000000Z"

Test(kube_lease, no_lease_is_created)
{
    cr_assert_eq(kube_lease_decide(at(T0), NULL, "me_1"), LEASE_CREATE);
}

Test(kube_lease, ours_is_renewed_live_or_expired)
{
    kube_lease_record r = lease("me_1", T0, 15);
    cr_assert_eq(kube_lease_decide(at("2025-03-01T10:00:05Z"), &r, "me_1"), LEASE_RENEW);
    cr_assert_eq(kube_lease_decide(at("2025-03-01T11:00:00Z"), &r, "me_1"), LEASE_RENEW);
    kube_lease_record_free(&r);
}

Test(kube_lease, another_live_holder_is_followed_until_its_duration_has_passed)
{
    kube_lease_record r = lease("other_2", T0, 15);
    cr_assert_eq(kube_lease_decide(at("2025-03-01T10:00:14.999999Z"), &r, "me_1"), LEASE_WAIT);
    cr_assert_eq(kube_lease_decide(at("2025-03-01T10:00:15Z"), &r, "me_1"), LEASE_TAKE_OVER);
    cr_assert_eq(kube_lease_decide(at("2025-03-01T10:05:00Z"), &r, "me_1"), LEASE_TAKE_OVER);
    /* the same pod name with another pid is another holder (a restarted process) */
    cr_assert_eq(kube_lease_decide(at("2025-03-01T10:00:01Z"), &r, "other_3"), LEASE_WAIT);
    kube_lease_record_free(&r);
}

Test(kube_lease, the_holders_duration_counts_not_mine)
{
    kube_lease_record r = lease("other_2", T0, 60);
    cr_assert_eq(kube_lease_decide(at("2025-03-01T10:00:30Z"), &r, "me_1"), LEASE_WAIT);
    kube_lease_record_free(&r);
}

Test(kube_lease, released_or_broken_leases_are_free)
{
    kube_lease_record r = lease("", T0, 15);
    cr_assert_eq(kube_lease_decide(at("2025-03-01T10:00:01Z"), &r, "me_1"), LEASE_TAKE_OVER);
    kube_lease_record_free(&r);
    r = lease("other_2", "", 15); /* no renewTime */
    cr_assert_eq(kube_lease_decide(at(T0), &r, "me_1"), LEASE_TAKE_OVER);
    kube_lease_record_free(&r);
    r = lease("other_2", "not a time", 15);
    cr_assert_eq(kube_lease_decide(at(T0), &r, "me_1"), LEASE_TAKE_OVER);
    kube_lease_record_free(&r);
    r = lease("other_2", T0, 0); /* no duration */
    cr_assert_eq(kube_lease_decide(at(T0), &r, "me_1"), LEASE_TAKE_OVER);
    kube_lease_record_free(&r);
}

Test(kube_lease, a_renew_in_the_future_is_not_expired)
{
    kube_lease_record r = lease("other_2", "2025-03-01T10:00:10Z", 15);
    cr_assert_eq(kube_lease_decide(at(T0), &r, "me_1"), LEASE_WAIT);
    kube_lease_record_free(&r);
}

Test(kube_lease, hostile_objects_are_refused_or_read_safely)
{
    const char *bad[] = {
        "{\"spec\":{\"holderIdentity\":\"x\"}}",                  /* no version */
        "{\"metadata\":{\"resourceVersion\":5}}",                 /* not a string */
        "{\"metadata\":{\"resourceVersion\":\"5\"},\"spec\":[]}", /* spec not a map */
        "{\"metadata\":{\"resourceVersion\":\"5\"},\"spec\":{\"holderIdentity\":7}}",
        "{\"metadata\":{\"resourceVersion\":\"5\"},\"spec\":{\"leaseDurationSeconds\":\"9\"}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cJSON *o = cJSON_Parse(bad[i]);
        kube_lease_record r;
        tp_err err = {{0}};
        cr_expect_eq(kube_lease_parse(o, &r, &err), -1, "%s", bad[i]);
        cr_expect_neq(err.msg[0], '\0');
        cJSON_Delete(o);
    }
    /* a huge duration is ignored (no overflow): the lease counts as expired */
    cJSON *o = cJSON_Parse("{\"metadata\":{\"resourceVersion\":\"5\"},\"spec\":{\"holderIdentity\":"
                           "\"x\",\"leaseDurationSeconds\":1e300,\"renewTime\":\"" T0 "\"}}");
    kube_lease_record r;
    tp_err err = {{0}};
    cr_assert_eq(kube_lease_parse(o, &r, &err), 0);
    cr_assert_eq(r.duration_s, 0);
    cr_assert_eq(kube_lease_decide(at(T0), &r, "me_1"), LEASE_TAKE_OVER);
    kube_lease_record_free(&r);
    cJSON_Delete(o);
}

Test(kube_lease, acquire_time_stands_in_for_a_missing_renew_time)
{
    cJSON *o = cJSON_Parse("{\"metadata\":{\"resourceVersion\":\"5\"},\"spec\":{\"holderIdentity\":"
                           "\"x\",\"leaseDurationSeconds\":15,\"acquireTime\":\"" T0 "\"}}");
    kube_lease_record r;
    tp_err err = {{0}};
    cr_assert_eq(kube_lease_parse(o, &r, &err), 0);
    cr_assert_eq(kube_lease_decide(at("2025-03-01T10:00:05Z"), &r, "me_1"), LEASE_WAIT);
    kube_lease_record_free(&r);
    cJSON_Delete(o);
}
