/* kube/lease: the Lease's policy (kube_lease_decide, pure) and its rounds against the API. */
#include "kube/lease.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const kube_resource *lease_resource(const kube_lease_spec *spec, kube_resource *r)
{
    *r = (kube_resource){"coordination.k8s.io", "v1", "leases", spec->namespace_};
    return r;
}

void kube_lease_record_free(kube_lease_record *r)
{
    free(r->holder);
    free(r->resource_version);
    *r = (kube_lease_record){0};
}

int kube_lease_parse(const cJSON *obj, kube_lease_record *out, tp_err *err)
{
    *out = (kube_lease_record){0};
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const cJSON *rv = cJSON_GetObjectItemCaseSensitive(meta, "resourceVersion");
    if (!cJSON_IsString(rv) || !*rv->valuestring)
        return tp_err_set(err, "lease: the Lease has no metadata.resourceVersion");
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
    if (spec && !cJSON_IsObject(spec) && !cJSON_IsNull(spec))
        return tp_err_set(err, "lease: the Lease's spec is not an object");
    const cJSON *holder = cJSON_GetObjectItemCaseSensitive(spec, "holderIdentity");
    const cJSON *duration = cJSON_GetObjectItemCaseSensitive(spec, "leaseDurationSeconds");
    const cJSON *transitions = cJSON_GetObjectItemCaseSensitive(spec, "leaseTransitions");
    const cJSON *renew = cJSON_GetObjectItemCaseSensitive(spec, "renewTime");
    if (!cJSON_IsString(renew) || !*renew->valuestring)
        renew = cJSON_GetObjectItemCaseSensitive(spec, "acquireTime");
    if ((holder && !cJSON_IsString(holder) && !cJSON_IsNull(holder)) ||
        (duration && !cJSON_IsNumber(duration) && !cJSON_IsNull(duration)) ||
        (renew && !cJSON_IsString(renew) && !cJSON_IsNull(renew)))
        return tp_err_set(err, "lease: a field of the Lease's spec has the wrong type");
    out->holder = xstrdup(cJSON_IsString(holder) ? holder->valuestring : "");
    out->resource_version = xstrdup(rv->valuestring);
    if (cJSON_IsNumber(duration) && duration->valuedouble > 0 && duration->valuedouble < INT_MAX)
        out->duration_s = (int)duration->valuedouble;
    if (cJSON_IsNumber(transitions) && transitions->valuedouble >= 0 &&
        transitions->valuedouble < INT_MAX)
        out->transitions = (int)transitions->valuedouble;
    if (cJSON_IsString(renew) &&
        timefmt_parse(renew->valuestring, strlen(renew->valuestring), &out->renew) == 0)
        out->has_renew = true;
    return 0;
}

kube_lease_action kube_lease_decide(tp_time now, const kube_lease_record *lease, const char *me)
{
    if (!lease)
        return LEASE_CREATE;
    if (str_eq(lease->holder, me))
        return LEASE_RENEW;
    if (!*lease->holder || !lease->has_renew || lease->duration_s <= 0)
        return LEASE_TAKE_OVER;
    tp_time expiry = {lease->renew.sec + lease->duration_s, lease->renew.nsec};
    return timefmt_compare(now, expiry) >= 0 ? LEASE_TAKE_OVER : LEASE_WAIT;
}

const char *kube_lease_action_name(kube_lease_action a)
{
    switch (a) {
    case LEASE_CREATE:
        return "create";
    case LEASE_RENEW:
        return "renew";
    case LEASE_TAKE_OVER:
        return "take over";
    case LEASE_WAIT:
        return "wait";
    }
    return "?";
}

/* MicroTime as the API writes it: six fraction digits, UTC. */
static void micro_time(tp_time t, char buf[40])
{
    tp_civil c;
    timefmt_to_civil(t, &c);
    snprintf(buf, 40, "%04lld-%02d-%02dT%02d:%02d:%02d.%06dZ", (long long)c.year, c.month, c.day,
             c.hour, c.minute, c.second, (int)(c.nsec / 1000));
}

static void set_field(cJSON *o, const char *key, cJSON *value)
{
    if (cJSON_GetObjectItemCaseSensitive(o, key))
        cJSON_ReplaceItemInObjectCaseSensitive(o, key, value);
    else
        cJSON_AddItemToObject(o, key, value);
}

/* obj's spec for holder (NULL: released) at now; acquire: acquireTime too. */
static void fill_spec(cJSON *obj, const char *holder, int duration_s, int transitions, bool acquire,
                      tp_time now)
{
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
    if (!cJSON_IsObject(spec)) {
        spec = cJSON_CreateObject();
        set_field(obj, "spec", spec);
    }
    char when[40];
    micro_time(now, when);
    set_field(spec, "holderIdentity", holder ? cJSON_CreateString(holder) : cJSON_CreateNull());
    set_field(spec, "leaseDurationSeconds", cJSON_CreateNumber(duration_s));
    set_field(spec, "renewTime", cJSON_CreateString(when));
    if (acquire) {
        set_field(spec, "acquireTime", cJSON_CreateString(when));
        set_field(spec, "leaseTransitions", cJSON_CreateNumber(transitions));
    }
}

kube_status kube_lease_step(kube_client *c, const kube_lease_spec *spec, tp_time now, bool *leader,
                            char **holder, tp_err *err)
{
    *leader = false;
    *holder = NULL;
    kube_resource r;
    lease_resource(spec, &r);
    cJSON *obj = NULL;
    kube_status st = kube_get(c, &r, spec->name, &obj, err);
    if (st != KUBE_OK && st != KUBE_NOT_FOUND)
        return st;
    kube_lease_record rec = {0};
    if (obj && kube_lease_parse(obj, &rec, err) < 0) {
        cJSON_Delete(obj);
        return KUBE_ERROR;
    }
    kube_lease_action act = kube_lease_decide(now, obj ? &rec : NULL, spec->identity);
    if (act == LEASE_WAIT) {
        *holder = xstrdup(rec.holder);
        kube_lease_record_free(&rec);
        cJSON_Delete(obj);
        return KUBE_OK;
    }
    cJSON *result = NULL;
    if (act == LEASE_CREATE) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "apiVersion", "coordination.k8s.io/v1");
        cJSON_AddStringToObject(o, "kind", "Lease");
        cJSON *meta = cJSON_AddObjectToObject(o, "metadata");
        cJSON_AddStringToObject(meta, "name", spec->name);
        cJSON_AddStringToObject(meta, "namespace", spec->namespace_);
        fill_spec(o, spec->identity, spec->duration_s, 0, true, now);
        char *body = cJSON_PrintUnformatted(o);
        st = kube_create(c, &r, body, &result, err);
        free(body);
        cJSON_Delete(o);
    } else {
        /* The object as read, metadata.resourceVersion included: the update is conditional on
         * nobody having written it since we decided. */
        bool take = act == LEASE_TAKE_OVER;
        fill_spec(obj, spec->identity, spec->duration_s, rec.transitions + (take ? 1 : 0), take,
                  now);
        char *body = cJSON_PrintUnformatted(obj);
        st = kube_update(c, &r, spec->name, body, &result, err);
        free(body);
    }
    kube_lease_record_free(&rec);
    cJSON_Delete(obj);
    if (st == KUBE_CONFLICT) {
        /* Another candidate wrote first: it holds the lease (we learn who next round). */
        cJSON_Delete(result);
        *holder = xstrdup("");
        err->msg[0] = '\0';
        return KUBE_OK;
    }
    if (st != KUBE_OK) {
        cJSON_Delete(result);
        return st;
    }
    /* What the server stored decides, not what we sent. */
    kube_lease_record after = {0};
    if (!result || kube_lease_parse(result, &after, err) < 0) {
        cJSON_Delete(result);
        return result ? KUBE_ERROR : (tp_err_set(err, "lease: no object in the reply"), KUBE_ERROR);
    }
    *leader = str_eq(after.holder, spec->identity);
    *holder = xstrdup(after.holder);
    kube_lease_record_free(&after);
    cJSON_Delete(result);
    return KUBE_OK;
}

kube_status kube_lease_release(kube_client *c, const kube_lease_spec *spec, tp_time now,
                               tp_err *err)
{
    kube_resource r;
    lease_resource(spec, &r);
    cJSON *obj = NULL;
    kube_status st = kube_get(c, &r, spec->name, &obj, err);
    if (st != KUBE_OK)
        return st == KUBE_NOT_FOUND ? KUBE_OK : st;
    kube_lease_record rec = {0};
    if (kube_lease_parse(obj, &rec, err) < 0) {
        cJSON_Delete(obj);
        return KUBE_ERROR;
    }
    bool ours = str_eq(rec.holder, spec->identity);
    kube_lease_record_free(&rec);
    if (ours) {
        fill_spec(obj, NULL, 1, 0, false, now);
        char *body = cJSON_PrintUnformatted(obj);
        st = kube_update(c, &r, spec->name, body, NULL, err);
        free(body);
    }
    cJSON_Delete(obj);
    return st;
}
