/*
 * test_threads.c - many threads on one token manager and one client.
 *
 * Written for ThreadSanitizer (make c-tsan), and run plain too. Several
 * threads share one manager and one client and, at once: lease tokens and
 * report responses, read snapshots and counts, make blocking calls, start
 * async calls and cancel half of them, while another thread adds and
 * removes tokens. Then async calls are left in flight on a slow server and
 * their client is freed from the main thread. Checks: every accepted async
 * call gets exactly one callback with consistent arguments, every blocking
 * call succeeds, no secret shows in any output.
 *
 * Usage: test_threads BASE_URL SLOW_BASE_URL (tests/c/run.sh passes both).
 * The last line is "N passed, M failed".
 */

#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "gitfleet.h"

#define WORKERS 4
#define ROUNDS 12
#define SLOW_CALLS 6

/* CHECK counts in globals: the workers record their findings in their own
 * struct and the main thread checks them after joining. */

/* ---- one async call's record ------------------------------------------- */

typedef struct {
    atomic_bool published;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int calls;
    gf_status status;
    bool consistent; /* json XOR error, matching the status */
    bool leaked;     /* a secret in the json or the message */
} record;

static void record_init(record *r)
{
    atomic_init(&r->published, false);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    r->calls = 0;
    r->status = GF_STATUS_INTERNAL;
    r->consistent = false;
    r->leaked = false;
    /* Publishes the record to the library thread that will run the
     * callback: this release store and the callback's acquire load make
     * the record's set-up happen before its use in a way ThreadSanitizer
     * can see. (The library hands the call over through its own queues,
     * which do order the two, but are not instrumented.) */
    atomic_store_explicit(&r->published, true, memory_order_release);
}

static void record_destroy(record *r)
{
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->cond);
}

static void on_done(void *user_data, gf_status status, const char *json, const gf_error *error)
{
    record *r = user_data;
    if (!atomic_load_explicit(&r->published, memory_order_acquire)) {
        abort(); /* cannot happen: set before the call was started */
    }
    bool consistent = status == GF_STATUS_OK
                          ? json != NULL && error == NULL
                          : json == NULL && error != NULL && gf_error_status(error) == status;
    bool leaked = contains_secret(json) || contains_secret(gf_error_message(error));
    pthread_mutex_lock(&r->lock);
    r->calls++;
    r->status = status;
    r->consistent = consistent;
    r->leaked = leaked;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

static void record_wait(record *r)
{
    pthread_mutex_lock(&r->lock);
    while (r->calls == 0) {
        pthread_cond_wait(&r->cond, &r->lock);
    }
    pthread_mutex_unlock(&r->lock);
}

/* ---- the workers ------------------------------------------------------- */

typedef struct {
    int index;
    gf_token_manager *manager;
    gf_client *client;
    /* findings, read by the main thread after the join */
    int leases;
    int lease_failures;
    int blocking_ok;
    int blocking_failures;
    int async_accepted;
    int async_ok;
    int async_cancelled;
    int async_other;
    int bad_callbacks; /* not exactly one, or inconsistent arguments */
    int leaks;
} worker;

static void lease_and_report(worker *w, int round)
{
    gf_lease *lease = NULL;
    gf_status status = gf_token_manager_lease(w->manager, GF_PROVIDER_GITHUB, NULL, &lease, NULL);
    if (status != GF_STATUS_OK) {
        w->lease_failures++;
        return;
    }
    w->leases++;
    if (strlen(gf_lease_fingerprint(lease)) != 12 || strlen(gf_lease_token(lease)) == 0) {
        w->lease_failures++;
    }
    const char *names[] = {"etag", "content-type"};
    const char *values[] = {"\"abc\"", "application/json"};
    const char *body = "{\"message\":\"Not Found\"}";
    uint16_t http = round % 3 == 0 ? 404 : 200;
    gf_outcome outcome;
    status = gf_lease_report(lease, http, names, values, 2, (const uint8_t *)body, strlen(body),
                             &outcome, NULL);
    if (status != GF_STATUS_OK ||
        outcome != (http == 200 ? GF_OUTCOME_SUCCESS : GF_OUTCOME_NOT_FOUND)) {
        w->lease_failures++;
    }
    gf_lease_free(lease);
}

static void read_pool(worker *w)
{
    char *json = NULL;
    if (gf_token_manager_snapshot_json(w->manager, &json, NULL) == GF_STATUS_OK) {
        if (contains_secret(json)) {
            w->leaks++;
        }
        gf_string_free(json);
    }
    size_t count = 0;
    uint64_t reset = 0;
    (void)gf_token_manager_count_available(w->manager, GF_PROVIDER_GITHUB, "core", &count, NULL);
    (void)gf_token_manager_earliest_reset(w->manager, GF_PROVIDER_GITHUB, NULL, &reset, NULL);
}

static void blocking_call(worker *w)
{
    char *json = NULL;
    gf_error *err = NULL;
    if (gf_client_user(w->client, "octocat", &json, &err) == GF_STATUS_OK) {
        w->blocking_ok++;
        if (contains_secret(json)) {
            w->leaks++;
        }
        gf_string_free(json);
    } else {
        w->blocking_failures++;
        printf("blocking call failed: %s\n", gf_error_message(err));
        gf_error_free(err);
    }
}

static void async_call(worker *w, bool cancel)
{
    record r;
    record_init(&r);
    gf_request *request = NULL;
    if (gf_client_repository_async(w->client, "octocat", "Hello-World", on_done, &r, &request,
                                   NULL) != GF_STATUS_OK) {
        record_destroy(&r);
        return;
    }
    w->async_accepted++;
    if (cancel) {
        (void)gf_request_cancel(request);
    }
    record_wait(&r);
    if (!gf_request_is_done(request)) {
        w->bad_callbacks++;
    }
    gf_request_free(request);

    pthread_mutex_lock(&r.lock);
    if (r.calls != 1 || !r.consistent) {
        w->bad_callbacks++;
    }
    if (r.leaked) {
        w->leaks++;
    }
    if (r.status == GF_STATUS_OK) {
        w->async_ok++;
    } else if (r.status == GF_STATUS_CANCELLED) {
        w->async_cancelled++;
    } else {
        w->async_other++;
    }
    pthread_mutex_unlock(&r.lock);
    /* A second callback would write to r after this: give it a moment to
     * show (under TSan it would also be reported as a race). */
    struct timespec pause = {0, 2 * 1000 * 1000};
    nanosleep(&pause, NULL);
    pthread_mutex_lock(&r.lock);
    if (r.calls != 1) {
        w->bad_callbacks++;
    }
    pthread_mutex_unlock(&r.lock);
    record_destroy(&r);
}

static void *work(void *arg)
{
    worker *w = arg;
    for (int round = 0; round < ROUNDS; round++) {
        lease_and_report(w, round);
        read_pool(w);
        if (round % 2 == 0) {
            blocking_call(w);
        }
        async_call(w, (round + w->index) % 2 == 0);
    }
    return NULL;
}

/* Adds and removes tokens of another provider while the workers run: the
 * pool changes under them, the GitHub tokens they use stay. */
typedef struct {
    gf_token_manager *manager;
    int changes;
} churner;

static void *churn(void *arg)
{
    churner *c = arg;
    char secret[32];
    for (int i = 0; i < ROUNDS * 4; i++) {
        snprintf(secret, sizeof secret, "tsecret_churn_%d", i % 5);
        bool removed = false;
        if (gf_token_manager_add_token(c->manager, GF_PROVIDER_GITLAB, secret, "churn", i, NULL) ==
            GF_STATUS_OK) {
            c->changes++;
        }
        if (i % 2 == 1 &&
            gf_token_manager_remove_token(c->manager, secret, &removed, NULL) == GF_STATUS_OK) {
            c->changes++;
        }
    }
    return NULL;
}

static gf_client *client_on(const char *url, gf_token_manager *m)
{
    gf_client_options *options = gf_client_options_new();
    EXPECT_OK(gf_client_options_set_base_url(options, url, &err));
    EXPECT_OK(gf_client_options_set_token_manager(options, m, &err));
    gf_client *client = NULL;
    EXPECT_OK(gf_client_new(options, &client, &err));
    gf_client_options_free(options);
    return client;
}

static void test_workers_share_a_manager_and_a_client(const char *url)
{
    gf_token_manager *m = gf_token_manager_new();
    EXPECT_OK(gf_token_manager_add_token(m, GF_PROVIDER_GITHUB, "c_tok_d", NULL, 0, &err));
    EXPECT_OK(gf_token_manager_add_token(m, GF_PROVIDER_GITHUB, "c_tok_misc", NULL, 0, &err));
    EXPECT_OK(gf_token_manager_add_token(m, GF_PROVIDER_GITHUB, "c_tok_async", NULL, 0, &err));
    gf_client *client = client_on(url, m);

    worker workers[WORKERS];
    pthread_t threads[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        memset(&workers[i], 0, sizeof workers[i]);
        workers[i].index = i;
        workers[i].manager = m;
        workers[i].client = client;
        CHECK(pthread_create(&threads[i], NULL, work, &workers[i]) == 0);
    }
    churner c = {m, 0};
    pthread_t churn_thread;
    CHECK(pthread_create(&churn_thread, NULL, churn, &c) == 0);

    for (int i = 0; i < WORKERS; i++) {
        pthread_join(threads[i], NULL);
    }
    pthread_join(churn_thread, NULL);

    int accepted = 0, completed = 0;
    for (int i = 0; i < WORKERS; i++) {
        worker *w = &workers[i];
        CHECK(w->leases == ROUNDS);
        CHECK(w->lease_failures == 0);
        CHECK(w->blocking_ok == (ROUNDS + 1) / 2);
        CHECK(w->blocking_failures == 0);
        CHECK(w->async_accepted == ROUNDS);
        CHECK(w->async_other == 0);
        CHECK(w->bad_callbacks == 0);
        CHECK(w->leaks == 0);
        accepted += w->async_accepted;
        completed += w->async_ok + w->async_cancelled;
    }
    CHECK(accepted == completed);
    CHECK(c.changes == ROUNDS * 4 + ROUNDS * 2);

    gf_client_free(client);
    gf_token_manager_free(m);
}

/* Async calls on a slow server, their client freed from this thread while
 * they are in flight: each still gets exactly one callback, on a library
 * thread, with GF_STATUS_SHUT_DOWN. */
static void test_free_client_with_calls_in_flight(const char *slow_url)
{
    gf_token_manager *m = gf_token_manager_new();
    EXPECT_OK(gf_token_manager_add_token(m, GF_PROVIDER_GITHUB, "c_tok_slow", NULL, 0, &err));
    gf_client *client = client_on(slow_url, m);
    gf_token_manager_free(m); /* the client keeps the pool */

    record records[SLOW_CALLS];
    int accepted = 0;
    for (int i = 0; i < SLOW_CALLS; i++) {
        record_init(&records[i]);
        if (gf_client_user_async(client, "octocat", on_done, &records[i], NULL, NULL) ==
            GF_STATUS_OK) {
            accepted++;
        }
    }
    CHECK(accepted == SLOW_CALLS);
    gf_client_free(client);

    for (int i = 0; i < SLOW_CALLS; i++) {
        record_wait(&records[i]);
    }
    struct timespec pause = {0, 50 * 1000 * 1000};
    nanosleep(&pause, NULL);
    for (int i = 0; i < SLOW_CALLS; i++) {
        pthread_mutex_lock(&records[i].lock);
        CHECK(records[i].calls == 1);
        CHECK(records[i].status == GF_STATUS_SHUT_DOWN);
        CHECK(records[i].consistent);
        CHECK(!records[i].leaked);
        pthread_mutex_unlock(&records[i].lock);
        record_destroy(&records[i]);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s BASE_URL SLOW_BASE_URL\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    test_workers_share_a_manager_and_a_client(argv[1]);
    test_free_client_with_calls_in_flight(argv[2]);
    return print_summary();
}
