#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "imageref.h"
#include "registry/registry.h"

/* The client's life cycle without a registry: submitting, freeing mid-flight, waking up. Real
 * registries are in tests/integration/registry_*.sh. */

typedef struct answers {
    int tags, digests, metas, pings;
    char last_error[512];
} answers;

static void on_tags(void *ud, const strvec *tags, const tp_err *err)
{
    answers *a = ud;
    a->tags++;
    cr_assert(tags || err);
    if (err)
        snprintf(a->last_error, sizeof a->last_error, "%s", err->msg);
}

static void on_digest(void *ud, const char *digest, const tp_err *err)
{
    answers *a = ud;
    a->digests++;
    cr_assert(digest || err);
}

static void on_meta(void *ud, const registry_image_meta *m, const tp_err *err)
{
    answers *a = ud;
    a->metas++;
    cr_assert(m || err);
}

static void on_ping(void *ud, const tp_err *err)
{
    answers *a = ud;
    a->pings++;
    (void)err;
}

static registries_conf closed_port_conf(void)
{
    /* port 1 on loopback: nothing listens, the connection is refused at once */
    static const char text[] = "registries:\n- name: closed\n  prefix: 127.0.0.1:1\n"
                               "  api_url: http://127.0.0.1:1\n";
    registries_conf conf;
    tp_err err;
    cr_assert_eq(registries_conf_parse(text, strlen(text), "t.conf", &conf, &err), 0);
    return conf;
}

Test(registry_client, free_with_work_in_flight_leaks_nothing)
{
    registries_conf conf = closed_port_conf();
    registry_options opts = {.conf = &conf};
    tp_err err;
    registry_client *c = registry_client_new(&opts, &err);
    cr_assert_not_null(c);
    imageref ref;
    cr_assert_eq(imageref_parse("127.0.0.1:1/team/app", &ref, &err), 0);
    answers a = {0};
    registry_list_tags(c, &ref, on_tags, &a);
    registry_list_tags(c, &ref, on_tags, &a); /* joins the first */
    registry_tag_digest(c, &ref, "v1", on_digest, &a);
    registry_image_metadata(c, &ref, "v2", NULL, 0, on_meta, &a);
    registry_ping(c, &ref, on_ping, &a);
    cr_assert_eq(registry_client_outstanding(c), 5);
    registry_client_free(c); /* no callbacks, no leaks (LeakSanitizer checks) */
    cr_assert_eq(a.tags + a.digests + a.metas + a.pings, 0);
    imageref_free(&ref);
    registries_conf_free(&conf);
}

Test(registry_client, every_operation_answers_once_on_failure)
{
    registries_conf conf = closed_port_conf();
    registry_options opts = {.conf = &conf};
    tp_err err;
    registry_client *c = registry_client_new(&opts, &err);
    imageref ref;
    cr_assert_eq(imageref_parse("127.0.0.1:1/team/app", &ref, &err), 0);
    answers a = {0};
    registry_list_tags(c, &ref, on_tags, &a);
    registry_list_tags(c, &ref, on_tags, &a);
    registry_tag_digest(c, &ref, "v1", on_digest, &a);
    registry_image_metadata(c, &ref, "v2", NULL, 0, on_meta, &a);
    registry_ping(c, &ref, on_ping, &a);
    cr_assert_eq(registry_client_run(c, &err), 0);
    cr_assert_eq(registry_client_outstanding(c), 0);
    cr_assert_eq(a.tags, 2);
    cr_assert_eq(a.digests, 1);
    cr_assert_eq(a.metas, 1);
    cr_assert_eq(a.pings, 1);
    cr_assert(strstr(a.last_error, "registry 127.0.0.1:1: team/app: cannot connect"), "%s",
              a.last_error);
    /* the failed list is the answer for the rest of the cycle; a new cycle asks again */
    registry_list_tags(c, &ref, on_tags, &a);
    cr_assert_eq(a.tags, 3);
    registry_stats st;
    registry_client_stats(c, &st);
    cr_assert_eq(st.tag_pages, 1);
    cr_assert_eq(st.tag_list_dedup, 2);
    registry_client_begin_cycle(c);
    registry_list_tags(c, &ref, on_tags, &a);
    cr_assert_eq(registry_client_run(c, &err), 0);
    registry_client_stats(c, &st);
    cr_assert_eq(st.tag_pages, 2);
    registry_client_free(c);
    imageref_free(&ref);
    registries_conf_free(&conf);
}

static void *wake_later(void *arg)
{
    usleep(100 * 1000);
    registry_client_wakeup(arg);
    return NULL;
}

Test(registry_client, wakeup_ends_a_long_wait)
{
    tp_err err;
    registry_client *c = registry_client_new(NULL, &err);
    pthread_t th;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_create(&th, NULL, wake_later, c);
    cr_assert_eq(registry_client_perform(c, 10000, NULL, 0, &err), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_join(th, NULL);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    cr_assert_lt(s, 5.0, "perform slept %.1f s despite the wakeup", s);
    registry_client_free(c);
}

Test(registry_client, extra_fd_ends_a_long_wait)
{
    tp_err err;
    registry_client *c = registry_client_new(NULL, &err);
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    cr_assert_eq(write(fds[1], "x", 1), 1);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(registry_client_perform(c, 10000, &fds[0], 1, &err), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cr_assert_lt(t1.tv_sec - t0.tv_sec, 5);
    close(fds[0]);
    close(fds[1]);
    registry_client_free(c);
}

Test(registry_client, host_platform_is_go_spelling)
{
    const char *os, *arch, *variant;
    registry_host_platform(&os, &arch, &variant);
    cr_assert_str_eq(os, "linux");
#if defined(__x86_64__)
    cr_assert_str_eq(arch, "amd64");
    cr_assert_null(variant);
#endif
}
