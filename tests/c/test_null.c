/*
 * test_null.c - NULL in every pointer parameter of the header.
 *
 * test_abi.c and test_store.c try NULL where their stories need it; this
 * program fills in the rest so that every pointer parameter of every gf_
 * function is passed NULL by some C test (tests/c/null_coverage.py checks
 * that, reading the header). One NULL at a time, the other arguments valid:
 * a required pointer gives GF_STATUS_INVALID_ARGUMENT with an error, an
 * optional one (err, user_data, out_request, out_removed, username, host)
 * is accepted, and nothing is written through an output on failure.
 *
 * Client calls go to 127.0.0.1:1, where nothing listens, so a call whose
 * arguments are all accepted fails fast with GF_STATUS_NETWORK; no server
 * is needed. Usage: test_null. The last line is "N passed, M failed".
 */

#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "gitfleet.h"

#define DEAD_URL "http://127.0.0.1:1"

/* The cheapest Argon2id settings allowed. */
#define FAST_KIB (19u * 1024u)
#define FAST_PASSES 2u

static const uint8_t KEY[32] = {7, 7, 7};

/* ---- async completions -------------------------------------------------- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int completions;
static int completions_with_null_user_data;

static void on_done(void *user_data, gf_status status, const char *json, const gf_error *error)
{
    (void)status;
    (void)json;
    (void)error;
    pthread_mutex_lock(&lock);
    completions++;
    if (user_data == NULL) {
        completions_with_null_user_data++;
    }
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
}

/* Waits until `n` callbacks in all have come. */
static void wait_for_completions(int n)
{
    pthread_mutex_lock(&lock);
    while (completions < n) {
        pthread_cond_wait(&cond, &lock);
    }
    pthread_mutex_unlock(&lock);
}

static int completions_now(void)
{
    pthread_mutex_lock(&lock);
    int n = completions;
    pthread_mutex_unlock(&lock);
    return n;
}

static gf_client *dead_client(gf_token_manager *m)
{
    gf_client_options *options = gf_client_options_new();
    EXPECT_OK(gf_client_options_set_base_url(options, DEAD_URL, &err));
    EXPECT_OK(gf_client_options_set_max_retries(options, 0, &err));
    EXPECT_OK(gf_client_options_set_token_manager(options, m, &err));
    gf_client *client = NULL;
    EXPECT_OK(gf_client_new(options, &client, &err));
    gf_client_options_free(options);
    return client;
}

/* ---- gf_runtime_shutdown with err NULL ----------------------------------- */

/* Stopping the runtime with err NULL: OK once every call has completed, and
 * the next async call (err NULL too) runs on a fresh runtime. */
static void test_runtime_shutdown(gf_client *client)
{
    int before = completions_now();
    CHECK_STATUS(gf_runtime_shutdown(10000, NULL), GF_STATUS_OK);
    CHECK_STATUS(gf_client_rate_limit_async(client, on_done, NULL, NULL, NULL), GF_STATUS_OK);
    wait_for_completions(before + 1);
    CHECK_STATUS(gf_runtime_shutdown(10000, NULL), GF_STATUS_OK);
}

/* ---- err may be NULL in every fallible call ------------------------------ */

static void test_null_err_on_failure(gf_token_manager *m)
{
    const char *names[] = {"x-ratelimit-remaining"};
    const char *values[] = {"5"};
    CHECK_STATUS(gf_token_manager_remove_token(NULL, "tsecret_n", NULL, NULL),
                 GF_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(gf_token_manager_set_strategy(m, 99, NULL), GF_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(gf_token_manager_set_reserve_count(NULL, 1, NULL), GF_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(gf_token_manager_set_reserve_fraction(m, 2.0, NULL), GF_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(gf_token_manager_count_available(m, 0, NULL, NULL, NULL),
                 GF_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(gf_token_manager_earliest_reset(m, 0, NULL, NULL, NULL),
                 GF_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(gf_token_manager_mark_invalid(m, NULL, NULL, NULL), GF_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(gf_token_manager_update_from_headers(m, "tsecret_n", names, values, 1, NULL, NULL),
                 GF_STATUS_OK);
    CHECK_STATUS(gf_token_manager_update_from_headers(m, NULL, names, values, 1, NULL, NULL),
                 GF_STATUS_INVALID_ARGUMENT);

    gf_client_options *options = gf_client_options_new();
    CHECK_STATUS(gf_client_options_set_base_url(options, NULL, NULL), GF_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(gf_client_options_set_token(options, NULL, NULL), GF_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(gf_client_options_set_token_manager(options, NULL, NULL),
                 GF_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(gf_client_options_set_user_agent(options, NULL, NULL),
                 GF_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(gf_client_options_set_timeout_ms(options, 0, NULL), GF_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(gf_client_options_set_connect_timeout_ms(options, 0, NULL),
                 GF_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(gf_client_options_set_max_retries(NULL, 1, NULL), GF_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(gf_client_options_set_max_wait_ms(NULL, 1, NULL), GF_STATUS_INVALID_ARGUMENT);
    gf_client *client = NULL;
    CHECK_STATUS(gf_client_options_set_base_url(options, "ftp://nowhere", NULL), GF_STATUS_OK);
    CHECK_STATUS(gf_client_new(options, &client, NULL), GF_STATUS_INVALID_ARGUMENT);
    CHECK(client == NULL);
    gf_client_options_free(options);

    gf_lease *lease = NULL;
    EXPECT_OK(gf_token_manager_lease(m, GF_PROVIDER_GITHUB, NULL, &lease, &err));
    CHECK_STATUS(gf_lease_report(lease, 99, NULL, NULL, 0, NULL, 0, NULL, NULL),
                 GF_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(gf_lease_report(lease, 200, NULL, NULL, 0, NULL, 0, NULL, NULL), GF_STATUS_OK);
    gf_lease_free(lease);
}

/* ---- blocking client calls ------------------------------------------------ */

static void test_blocking_client_calls(gf_client *client)
{
    char *json = NULL;

    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_rate_limit(NULL, &json, &err));
    CHECK_STATUS(gf_client_rate_limit(client, &json, NULL), GF_STATUS_NETWORK);

    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_refresh_rate_limits(NULL, &json, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_refresh_rate_limits(client, NULL, &err));
    CHECK_STATUS(gf_client_refresh_rate_limits(NULL, &json, NULL), GF_STATUS_INVALID_ARGUMENT);

    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_authenticated_user(NULL, &json, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_authenticated_user(client, NULL, &err));
    CHECK_STATUS(gf_client_authenticated_user(client, &json, NULL), GF_STATUS_NETWORK);

    CHECK_STATUS(gf_client_user(client, "octocat", &json, NULL), GF_STATUS_NETWORK);

    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_owner_repositories(NULL, "octocat", &json, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_owner_repositories(client, "octocat", NULL, &err));
    CHECK_STATUS(gf_client_owner_repositories(client, "octocat", &json, NULL),
                 GF_STATUS_NETWORK);

    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_repository(NULL, "o", "r", &json, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_repository(client, NULL, "r", &json, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_repository(client, "o", "r", NULL, &err));
    CHECK_STATUS(gf_client_repository(client, "o", "r", &json, NULL), GF_STATUS_NETWORK);

    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_contributors(NULL, "o", "r", &json, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_contributors(client, "o", NULL, &json, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_contributors(client, "o", "r", NULL, &err));
    CHECK_STATUS(gf_client_contributors(client, "o", "r", &json, NULL), GF_STATUS_NETWORK);

    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_branches(NULL, "o", "r", &json, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_branches(client, NULL, "r", &json, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_branches(client, "o", "r", NULL, &err));
    CHECK_STATUS(gf_client_branches(client, "o", "r", &json, NULL), GF_STATUS_NETWORK);

    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_validate_token(NULL, "tsecret_v", &json, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_validate_token(client, "tsecret_v", NULL, &err));
    CHECK_STATUS(gf_client_validate_token(client, "tsecret_v", &json, NULL), GF_STATUS_NETWORK);

    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_validate_pool(client, NULL, &err));
    CHECK_STATUS(gf_client_validate_pool(NULL, &json, NULL), GF_STATUS_INVALID_ARGUMENT);

    CHECK(json == NULL);
}

/* ---- async client calls ------------------------------------------------- */

/* Every async call: NULL client, NULL string arguments and NULL callback
 * are refused with no callback; NULL user_data and NULL out_request are
 * accepted, and the call completes once; err may be NULL. */
static void test_async_client_calls(gf_client *client)
{
    gf_request *request = NULL;
    int u = 0; /* some user data */
    int before = completions_now();
    int accepted = 0;

    /* rate_limit */
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_rate_limit_async(NULL, on_done, &u, &request, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_rate_limit_async(client, NULL, &u, &request, &err));
    CHECK_STATUS(gf_client_rate_limit_async(client, on_done, NULL, NULL, NULL), GF_STATUS_OK);
    accepted++;

    /* refresh_rate_limits */
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_refresh_rate_limits_async(NULL, on_done, &u, &request, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_refresh_rate_limits_async(client, NULL, &u, &request, &err));
    CHECK_STATUS(gf_client_refresh_rate_limits_async(client, on_done, NULL, NULL, NULL),
                 GF_STATUS_OK);
    accepted++;

    /* authenticated_user */
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_authenticated_user_async(NULL, on_done, &u, &request, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_authenticated_user_async(client, NULL, &u, &request, &err));
    CHECK_STATUS(gf_client_authenticated_user_async(client, on_done, NULL, NULL, NULL),
                 GF_STATUS_OK);
    accepted++;

    /* user */
    CHECK_STATUS(gf_client_user_async(client, "octocat", on_done, &u, NULL, NULL), GF_STATUS_OK);
    accepted++;

    /* owner_repositories */
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_owner_repositories_async(NULL, "o", on_done, &u, &request, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_owner_repositories_async(client, NULL, on_done, &u, &request, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_owner_repositories_async(client, "o", NULL, &u, &request, &err));
    CHECK_STATUS(gf_client_owner_repositories_async(client, "o", on_done, NULL, NULL, NULL),
                 GF_STATUS_OK);
    accepted++;

    /* repository */
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_repository_async(NULL, "o", "r", on_done, &u, &request, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_repository_async(client, NULL, "r", on_done, &u, &request, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_repository_async(client, "o", NULL, on_done, &u, &request, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_repository_async(client, "o", "r", NULL, &u, &request, &err));
    CHECK_STATUS(gf_client_repository_async(client, "o", "r", on_done, NULL, NULL, NULL),
                 GF_STATUS_OK);
    accepted++;

    /* contributors */
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_contributors_async(NULL, "o", "r", on_done, &u, &request, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_contributors_async(client, NULL, "r", on_done, &u, &request, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_contributors_async(client, "o", NULL, on_done, &u, &request, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_contributors_async(client, "o", "r", NULL, &u, &request, &err));
    CHECK_STATUS(gf_client_contributors_async(client, "o", "r", on_done, NULL, NULL, NULL),
                 GF_STATUS_OK);
    accepted++;

    /* branches */
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_branches_async(NULL, "o", "r", on_done, &u, &request, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_branches_async(client, NULL, "r", on_done, &u, &request, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_branches_async(client, "o", NULL, on_done, &u, &request, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_branches_async(client, "o", "r", NULL, &u, &request, &err));
    CHECK_STATUS(gf_client_branches_async(client, "o", "r", on_done, NULL, NULL, NULL),
                 GF_STATUS_OK);
    accepted++;

    /* validate_token */
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_validate_token_async(NULL, "tsecret_v", on_done, &u, &request, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_validate_token_async(client, NULL, on_done, &u, &request, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_validate_token_async(client, "tsecret_v", NULL, &u, &request, &err));
    CHECK_STATUS(gf_client_validate_token_async(client, "tsecret_v", on_done, NULL, NULL, NULL),
                 GF_STATUS_OK);
    accepted++;

    /* validate_pool */
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_validate_pool_async(NULL, on_done, &u, &request, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_validate_pool_async(client, NULL, &u, &request, &err));
    CHECK_STATUS(gf_client_validate_pool_async(client, on_done, NULL, NULL, NULL), GF_STATUS_OK);
    accepted++;

    /* A refused call with err NULL: refused all the same, nothing written. */
    CHECK_STATUS(gf_client_user_async(client, NULL, on_done, &u, &request, NULL),
                 GF_STATUS_INVALID_ARGUMENT);
    CHECK(request == NULL);

    wait_for_completions(before + accepted);
    pthread_mutex_lock(&lock);
    CHECK(completions == before + accepted); /* the refused calls never called back */
    CHECK(completions_with_null_user_data == accepted - 1); /* all but the user call's */
    pthread_mutex_unlock(&lock);
}

/* ---- the credential store ------------------------------------------------ */

static char dir[256];

static void test_store(gf_token_manager *m)
{
    char path[512], missing[512];
    snprintf(path, sizeof path, "%s/null.gfs", dir);
    snprintf(missing, sizeof missing, "%s/never.gfs", dir);
    gf_store *store = NULL;
    struct stat st;

    /* Creating: nothing is written when an argument is NULL. */
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_store_create(NULL, "pw", &store, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_store_create(missing, NULL, &store, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_store_create(missing, "pw", NULL, &err));
    CHECK_STATUS(gf_store_create(NULL, "pw", &store, NULL), GF_STATUS_INVALID_ARGUMENT);
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_store_create_with_params(NULL, "pw", FAST_KIB, FAST_PASSES, 1, &store, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_store_create_with_params(
                                                 missing, NULL, FAST_KIB, FAST_PASSES, 1, &store,
                                                 &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_store_create_with_params(
                                                 missing, "pw", FAST_KIB, FAST_PASSES, 1, NULL,
                                                 &err));
    CHECK_STATUS(gf_store_create_with_params(missing, "pw", FAST_KIB, FAST_PASSES, 1, NULL, NULL),
                 GF_STATUS_INVALID_ARGUMENT);
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_store_create_with_key(NULL, KEY, sizeof KEY, &store, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_store_create_with_key(missing, NULL, sizeof KEY, &store, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_store_create_with_key(missing, KEY, sizeof KEY, NULL, &err));
    CHECK_STATUS(gf_store_create_with_key(missing, NULL, sizeof KEY, &store, NULL),
                 GF_STATUS_INVALID_ARGUMENT);
    CHECK(store == NULL);
    CHECK(stat(missing, &st) != 0); /* no file was made */

    EXPECT_OK(gf_store_create_with_key(path, KEY, sizeof KEY, &store, &err));
    if (!CHECK(store != NULL)) {
        return;
    }
    gf_store_free(store);

    /* Opening. */
    store = NULL;
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_store_open(path, "pw", NULL, &err));
    CHECK_STATUS(gf_store_open(path, NULL, &store, NULL), GF_STATUS_INVALID_ARGUMENT);
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_store_open_with_key(NULL, KEY, sizeof KEY, &store, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_store_open_with_key(path, KEY, sizeof KEY, NULL,
                                                                    &err));
    CHECK_STATUS(gf_store_open_with_key(NULL, KEY, sizeof KEY, &store, NULL),
                 GF_STATUS_INVALID_ARGUMENT);
    CHECK(store == NULL);
    EXPECT_OK(gf_store_open_with_key(path, KEY, sizeof KEY, &store, &err));
    if (!CHECK(store != NULL)) {
        return;
    }

    /* Saving: username and host may be NULL; the token may not. */
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_store_save(store, GF_PROVIDER_GITHUB, NULL, "u", "h", &err));
    CHECK_STATUS(gf_store_save(store, GF_PROVIDER_GITHUB, NULL, NULL, NULL, NULL),
                 GF_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(gf_store_save(store, GF_PROVIDER_GITHUB, "tsecret_s", NULL, NULL, NULL),
                 GF_STATUS_OK);

    /* Listing. */
    char *json = NULL;
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_store_list_json(store, NULL, &err));
    CHECK_STATUS(gf_store_list_json(NULL, &json, NULL), GF_STATUS_INVALID_ARGUMENT);
    CHECK(json == NULL);
    EXPECT_OK(gf_store_list_json(store, &json, &err));
    char fingerprint[13] = {0};
    const char *at = json != NULL ? strstr(json, "\"fingerprint\":\"") : NULL;
    if (CHECK(at != NULL)) {
        memcpy(fingerprint, at + strlen("\"fingerprint\":\""), 12);
    }
    gf_string_free(json);

    /* Getting a token. */
    char *token = NULL;
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_store_get_token(store, NULL, &token, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_store_get_token(store, fingerprint, NULL, &err));
    CHECK_STATUS(gf_store_get_token(store, NULL, &token, NULL), GF_STATUS_INVALID_ARGUMENT);
    CHECK(token == NULL);

    /* Loading into a manager. */
    size_t count = 99;
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_store_load_into(store, NULL, &count, &err));
    CHECK_STATUS(gf_store_load_into(store, m, NULL, NULL), GF_STATUS_OK);
    CHECK(count == 99);

    /* Removing: out_removed may be NULL. */
    bool removed = false;
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_store_remove(NULL, fingerprint, &removed, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_store_remove(store, NULL, &removed, &err));
    CHECK_STATUS(gf_store_remove(store, NULL, &removed, NULL), GF_STATUS_INVALID_ARGUMENT);
    CHECK(!removed);
    EXPECT_OK(gf_store_remove(store, fingerprint, NULL, &err));
    EXPECT_OK(gf_store_remove(store, fingerprint, &removed, &err));
    CHECK(!removed); /* the NULL-out call did remove it */

    /* Clearing and changing the password. */
    CHECK_STATUS(gf_store_clear(NULL, NULL), GF_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(gf_store_clear(store, NULL), GF_STATUS_OK);
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_store_change_password(store, NULL, &err));
    CHECK_STATUS(gf_store_change_password(store, NULL, NULL), GF_STATUS_INVALID_ARGUMENT);

    gf_store_free(store);
    unlink(path);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    snprintf(dir, sizeof dir, "%s/gitfleet-null-XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 2;
    }

    gf_token_manager *m = gf_token_manager_new();
    EXPECT_OK(gf_token_manager_add_token(m, GF_PROVIDER_GITHUB, "tsecret_n", NULL, 0, &err));
    gf_client *client = dead_client(m);

    test_null_err_on_failure(m);
    test_blocking_client_calls(client);
    test_async_client_calls(client);
    test_store(m);
    test_runtime_shutdown(client);

    gf_client_free(client);
    gf_token_manager_free(m);
    rmdir(dir);
    return print_summary();
}
