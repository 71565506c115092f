#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "select/imageref.h"
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
    /* /metrics: one registry, every request sent to it refused at connect, so every one failed */
    registry_host_count *hc = NULL;
    cr_assert_eq(registry_client_host_counts(c, &hc), 1);
    cr_expect_str_eq(hc[0].registry, "127.0.0.1:1");
    cr_expect_eq(hc[0].requests, st.requests);
    cr_expect_gt(hc[0].requests, 0);
    cr_expect_eq(hc[0].failed, hc[0].requests);
    free(hc);
    registry_client_free(c);
    imageref_free(&ref);
    registries_conf_free(&conf);
}

/* A listing asked ahead is one request that registry_client_step alone carries to its end; a
 * registry_list_tags in the same cycle takes its answer without asking again, a new cycle asks
 * anew, and a registry whose credentials are a cluster Secret is not asked ahead at all. */
Test(registry_client, a_listing_asked_ahead_is_shared_and_stepped_to_its_end)
{
    static const char text[] = "registries:\n- name: closed\n  prefix: 127.0.0.1:1\n"
                               "  api_url: http://127.0.0.1:1\n"
                               "- name: cluster\n  prefix: 127.0.0.1:2\n"
                               "  api_url: http://127.0.0.1:2\n"
                               "  credentials: pullsecret:argocd/regcred\n";
    registries_conf conf;
    tp_err err;
    cr_assert_eq(registries_conf_parse(text, strlen(text), "t.conf", &conf, &err), 0, "%s",
                 err.msg);
    registry_options opts = {.conf = &conf};
    registry_client *c = registry_client_new(&opts, &err);
    imageref ref, secret_ref;
    cr_assert_eq(imageref_parse("127.0.0.1:1/team/app", &ref, &err), 0);
    cr_assert_eq(imageref_parse("127.0.0.1:2/team/app", &secret_ref, &err), 0);
    registry_list_tags_ahead(c, &ref);
    registry_list_tags_ahead(c, &ref); /* already asked */
    registry_list_tags_ahead(c, &secret_ref);
    cr_assert_eq(registry_client_outstanding(c), 1);
    for (int i = 0; i < 5000 && registry_client_outstanding(c) > 0; i++) {
        cr_assert_geq(registry_client_step(c, &err), 0, "%s", err.msg);
        usleep(1000);
    }
    cr_assert_eq(registry_client_outstanding(c), 0, "steps alone did not finish the listing");
    answers a = {0};
    registry_list_tags(c, &ref, on_tags, &a);
    cr_expect_eq(a.tags, 1, "answered at once, from the listing asked ahead");
    cr_expect(strstr(a.last_error, "cannot connect"), "%s", a.last_error);
    registry_stats st;
    registry_client_stats(c, &st);
    cr_expect_eq(st.tag_pages, 1, "one request in all: %zu", (size_t)st.tag_pages);
    registry_client_begin_cycle(c);
    registry_list_tags_ahead(c, &ref);
    cr_assert_eq(registry_client_run(c, &err), 0, "%s", err.msg);
    registry_client_stats(c, &st);
    cr_expect_eq(st.tag_pages, 2, "a new cycle asks again");
    /* the cycle's end lets its lists go: asked after it, a listing is asked again */
    registry_client_end_cycle(c);
    registry_list_tags(c, &ref, on_tags, &a);
    cr_assert_eq(registry_client_run(c, &err), 0, "%s", err.msg);
    registry_client_stats(c, &st);
    cr_expect_eq(st.tag_pages, 3, "the list was let go at the cycle's end");
    cr_expect_eq(a.tags, 2);
    registry_client_free(c);
    imageref_free(&ref);
    imageref_free(&secret_ref);
    registries_conf_free(&conf);
}

/* The engine remembers which of the client's lists it found equal to its tables, by pointer,
 * for as long as the lists epoch says those pointers stand: every client starts a new epoch,
 * and a cycle's beginning or end (which free lists) each start another. */
Test(registry_client, lists_epoch_changes_whenever_lists_may_go)
{
    registries_conf conf = closed_port_conf();
    registry_options opts = {.conf = &conf};
    tp_err err;
    registry_client *c = registry_client_new(&opts, &err);
    registry_client *other = registry_client_new(&opts, &err);
    cr_assert(c && other);
    uint64_t first = registry_client_lists_epoch(c);
    cr_expect_neq(first, registry_client_lists_epoch(other), "two clients share no epoch");
    imageref ref;
    cr_assert_eq(imageref_parse("127.0.0.1:1/team/app", &ref, &err), 0);
    answers a = {0};
    registry_list_tags(c, &ref, on_tags, &a);
    cr_assert_eq(registry_client_run(c, &err), 0, "%s", err.msg);
    cr_expect_eq(registry_client_lists_epoch(c), first, "a listing keeps the epoch");
    registry_client_end_cycle(c);
    uint64_t ended = registry_client_lists_epoch(c);
    cr_expect_neq(ended, first, "a cycle's end starts a new epoch");
    registry_client_begin_cycle(c);
    cr_expect_neq(registry_client_lists_epoch(c), ended, "so does a new cycle");
    cr_expect_neq(registry_client_lists_epoch(c), first);
    registry_client_free(other);
    registry_client_free(c);
    imageref_free(&ref);
    registries_conf_free(&conf);
}

/* A registry that accepts connections and never answers: a listening socket nobody reads. */
static int silent_listener(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    cr_assert_eq(listen(fd, 64), 0);
    socklen_t len = sizeof addr;
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    *port = ntohs(addr.sin_port);
    return fd;
}

typedef struct deadline_answers {
    int answered;
    char error[512];
} deadline_answers;

static void on_deadline_tags(void *ud, const strvec *tags, const tp_err *err)
{
    deadline_answers *a = ud;
    a->answered++;
    snprintf(a->error, sizeof a->error, "%s", err ? err->msg : tags ? "ok" : "?");
}

static void on_deadline_digest(void *ud, const char *digest, const tp_err *err)
{
    deadline_answers *a = ud;
    a->answered++;
    snprintf(a->error, sizeof a->error, "%s", err ? err->msg : digest);
}

/* One registry that never answers must not hold the cycle past the deadline, and its failure
 * is its own: another registry's answer (here a refused connection) stands as it was. */
Test(registry_client, cycle_deadline_fails_only_the_silent_registry)
{
    int port;
    int listener = silent_listener(&port);
    char *text = xasprintf("registries:\n- name: silent\n  prefix: 127.0.0.1:%d\n"
                           "  api_url: http://127.0.0.1:%d\n"
                           "- name: closed\n  prefix: 127.0.0.1:1\n"
                           "  api_url: http://127.0.0.1:1\n",
                           port, port);
    registries_conf conf;
    tp_err err;
    cr_assert_eq(registries_conf_parse(text, strlen(text), "t.conf", &conf, &err), 0, "%s",
                 err.msg);
    registry_options opts = {.conf = &conf, .cycle_deadline_ms = 700};
    registry_client *c = registry_client_new(&opts, &err);
    char *silent_name = xasprintf("127.0.0.1:%d/team/app", port);
    imageref silent, closed;
    cr_assert_eq(imageref_parse(silent_name, &silent, &err), 0);
    cr_assert_eq(imageref_parse("127.0.0.1:1/team/app", &closed, &err), 0);
    deadline_answers tags = {0}, digest = {0}, other = {0};
    registry_list_tags(c, &silent, on_deadline_tags, &tags);
    registry_tag_digest(c, &silent, "v1", on_deadline_digest, &digest);
    registry_list_tags(c, &closed, on_deadline_tags, &other);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(registry_client_run(c, &err), 0, "%s", err.msg);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cr_assert_lt(t1.tv_sec - t0.tv_sec, 8, "the deadline (0.7 s) did not end the wait");
    char *want = xasprintf("registry 127.0.0.1:%d: no answer within 0.7 s this cycle", port);
    cr_expect_eq(tags.answered, 1);
    cr_expect_str_eq(tags.error, want);
    cr_expect_eq(digest.answered, 1);
    cr_expect_str_eq(digest.error, want);
    cr_expect_eq(other.answered, 1);
    cr_expect(strstr(other.error, "registry 127.0.0.1:1: team/app: cannot connect"), "%s",
              other.error);
    /* a new cycle gives the registry a new deadline: the next question is sent */
    registry_stats before, after;
    registry_client_stats(c, &before);
    registry_client_begin_cycle(c);
    deadline_answers again = {0};
    registry_tag_digest(c, &silent, "v2", on_deadline_digest, &again);
    cr_assert_eq(registry_client_run(c, &err), 0, "%s", err.msg);
    registry_client_stats(c, &after);
    cr_expect_eq(after.requests, before.requests + 1);
    cr_expect_str_eq(again.error, want);
    registry_client_free(c);
    imageref_free(&silent);
    imageref_free(&closed);
    registries_conf_free(&conf);
    free(want);
    free(silent_name);
    free(text);
    close(listener);
}

/* registries.conf `connections`: no more requests in flight (so connections, over HTTP/1.1) to
 * that registry than it says; the rest wait their turn. Seen from the registry's side too: a
 * silent listener counts the connections it was offered. */
Test(registry_client, connections_caps_what_is_in_flight)
{
    int port;
    int listener = silent_listener(&port);
    char *text = xasprintf("registries:\n- name: silent\n  prefix: 127.0.0.1:%d\n"
                           "  api_url: http://127.0.0.1:%d\n  connections: 2\n",
                           port, port);
    registries_conf conf;
    tp_err err;
    cr_assert_eq(registries_conf_parse(text, strlen(text), "t.conf", &conf, &err), 0, "%s",
                 err.msg);
    registry_options opts = {.conf = &conf, .cycle_deadline_ms = 600};
    registry_client *c = registry_client_new(&opts, &err);
    deadline_answers got[4] = {{0}};
    imageref refs[4];
    for (int i = 0; i < 4; i++) {
        char *name = xasprintf("127.0.0.1:%d/team/app%d", port, i);
        cr_assert_eq(imageref_parse(name, &refs[i], &err), 0);
        registry_list_tags(c, &refs[i], on_deadline_tags, &got[i]);
        free(name);
    }
    for (int i = 0; i < 5; i++)
        cr_assert_geq(registry_client_perform(c, 20, NULL, 0, &err), 0, "%s", err.msg);
    registry_stats st;
    registry_client_stats(c, &st);
    cr_expect_eq(st.requests, 2, "in flight: %lu, want 2", st.requests);
    int accepted = 0; /* the connections offered (the kernel queues them for accept) */
    for (struct pollfd p = {listener, POLLIN, 0}; poll(&p, 1, 200) == 1 && accepted < 8;) {
        int fd = accept(listener, NULL, NULL);
        cr_assert_geq(fd, 0);
        close(fd);
        accepted++;
    }
    cr_expect_eq(accepted, 2, "connections offered: %d", accepted);
    cr_assert_eq(registry_client_run(c, &err), 0, "%s", err.msg); /* the deadline ends it */
    for (int i = 0; i < 4; i++) {
        cr_expect_eq(got[i].answered, 1, "listing %d", i);
        imageref_free(&refs[i]);
    }
    registry_client_free(c);
    registries_conf_free(&conf);
    free(text);
    close(listener);
}

/* A tag outside the grammar goes into no URL: the answer is an error and nothing is sent. */
Test(registry_client, invalid_tags_are_not_asked)
{
    registries_conf conf = closed_port_conf();
    registry_options opts = {.conf = &conf};
    tp_err err;
    registry_client *c = registry_client_new(&opts, &err);
    imageref ref;
    cr_assert_eq(imageref_parse("127.0.0.1:1/team/app", &ref, &err), 0);
    static const char *const bad[] = {"../../v2", "v1\n", "v 1", "v1+x", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        deadline_answers d = {0}, h = {0};
        registry_tag_digest(c, &ref, bad[i], on_deadline_digest, &d);
        registry_tag_digest_head(c, &ref, bad[i], on_deadline_digest, &h);
        answers m = {0};
        registry_image_metadata(c, &ref, bad[i], NULL, 0, on_meta, &m);
        cr_assert_eq(registry_client_run(c, &err), 0);
        cr_expect_eq(d.answered + h.answered + m.metas, 3, "case %zu", i);
        cr_expect(strstr(d.error, "is not a valid tag — not asked"), "case %zu: %s", i, d.error);
        cr_expect(strstr(h.error, "is not a valid tag — not asked"), "case %zu: %s", i, h.error);
    }
    registry_stats st;
    registry_client_stats(c, &st);
    cr_expect_eq(st.requests, 0);
    cr_expect_eq(registry_client_outstanding(c), 0);
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
