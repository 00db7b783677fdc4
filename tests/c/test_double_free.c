/*
 * test_double_free.c - a debug build of the library catches a second free.
 *
 * The header says that freeing an error, a string or a handle twice is
 * undefined, but that a debug build (target/debug, which this test links)
 * reports the second free on stderr and to the log callback, and leaves the
 * memory alone. This test frees each kind of object twice (and a few by the
 * wrong function) and checks that every mistake is reported exactly once,
 * that the process goes on, and that the library still works afterwards.
 * Run it under ASan or valgrind too: they fail the run if the library
 * touched the freed memory.
 *
 * The stderr lines "gitfleet: gf_..._free(0x...) ignored: ..." that this
 * test prints are expected.
 *
 * Usage: test_double_free (no server needed). The last line is
 * "N passed, M failed"; the exit status is non-zero if any failed.
 */

#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "gitfleet.h"

/* ---- the log lines the library sends ------------------------------------ */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int reports;          /* lines saying a free was ignored */
static int warnings;         /* lines saying a free took the wrong kind */
static char last_report[512];

static void on_log(void *user_data, gf_log_level level, const char *message)
{
    (void)user_data;
    pthread_mutex_lock(&log_lock);
    if (level == GF_LOG_ERROR && strstr(message, "ignored") != NULL) {
        reports++;
        snprintf(last_report, sizeof last_report, "%s", message);
    } else if (level == GF_LOG_WARN && strstr(message, "not a") != NULL) {
        warnings++;
    }
    pthread_mutex_unlock(&log_lock);
}

static int report_count(void)
{
    pthread_mutex_lock(&log_lock);
    int n = reports;
    pthread_mutex_unlock(&log_lock);
    return n;
}

/* Checks that exactly one new report came, naming `function` and `words`. */
static void check_one_report_at(int before, const char *function, const char *words,
                                const char *file, int line)
{
    pthread_mutex_lock(&log_lock);
    check_at(reports == before + 1, "exactly one report", file, line);
    check_at(strstr(last_report, function) != NULL, "the report names the function", file,
             line);
    check_at(strstr(last_report, words) != NULL, "the report says why", file, line);
    pthread_mutex_unlock(&log_lock);
}

#define CHECK_ONE_REPORT(before, function, words)                                               \
    check_one_report_at((before), (function), (words), __FILE__, __LINE__)

/* ---- each kind, freed twice ---------------------------------------------- */

static void test_error_freed_twice(void)
{
    gf_error *err = NULL;
    CHECK_STATUS(gf_token_manager_add_token(NULL, GF_PROVIDER_GITHUB, "tsecret_x", NULL, 0, &err),
                 GF_STATUS_INVALID_ARGUMENT);
    CHECK(err != NULL);
    int before = report_count();
    gf_error_free(err);
    CHECK(report_count() == before);
    gf_error_free(err);
    CHECK_ONE_REPORT(before, "gf_error_free", "double free");
}

static void test_string_freed_twice(void)
{
    gf_token_manager *m = gf_token_manager_new();
    char *json = NULL;
    EXPECT_OK(gf_token_manager_snapshot_json(m, &json, &err));
    int before = report_count();
    gf_string_free(json);
    gf_string_free(json);
    CHECK_ONE_REPORT(before, "gf_string_free", "double free");

    /* A static string is not the library's to free either. */
    before = report_count();
    gf_string_free((char *)gf_version());
    CHECK_ONE_REPORT(before, "gf_string_free", "never handed out");
    CHECK(strlen(gf_version()) > 0);
    gf_token_manager_free(m);
}

static void test_handles_freed_twice(void)
{
    gf_token_manager *m = gf_token_manager_new();
    EXPECT_OK(gf_token_manager_add_token(m, GF_PROVIDER_GITHUB, "tsecret_a", NULL, 0, &err));
    gf_lease *lease = NULL;
    EXPECT_OK(gf_token_manager_lease(m, GF_PROVIDER_GITHUB, NULL, &lease, &err));
    int before = report_count();
    gf_lease_free(lease);
    gf_lease_free(lease);
    CHECK_ONE_REPORT(before, "gf_lease_free", "double free");

    gf_client_options *options = gf_client_options_new();
    EXPECT_OK(gf_client_options_set_token_manager(options, m, &err));
    gf_client *client = NULL;
    EXPECT_OK(gf_client_new(options, &client, &err));
    before = report_count();
    gf_client_options_free(options);
    gf_client_options_free(options);
    CHECK_ONE_REPORT(before, "gf_client_options_free", "double free");

    before = report_count();
    gf_client_free(client);
    gf_client_free(client);
    CHECK_ONE_REPORT(before, "gf_client_free", "double free");

    before = report_count();
    gf_token_manager_free(m);
    gf_token_manager_free(m);
    CHECK_ONE_REPORT(before, "gf_token_manager_free", "double free");
}

/* ---- async: the request handle, and the borrowed error of a callback ---- */

static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static int callbacks;

static void free_borrowed_error(void *user_data, gf_status status, const char *json,
                                const gf_error *error)
{
    (void)user_data;
    (void)status;
    (void)json;
    /* Wrong: the callback's error is borrowed. A debug build refuses it. */
    gf_error_free((gf_error *)error);
    pthread_mutex_lock(&done_lock);
    callbacks++;
    pthread_cond_signal(&done_cond);
    pthread_mutex_unlock(&done_lock);
}

static void test_request_and_borrowed_error(void)
{
    gf_client_options *options = gf_client_options_new();
    /* Nothing listens on port 1: the call fails at once, without retries. */
    EXPECT_OK(gf_client_options_set_base_url(options, "http://127.0.0.1:1", &err));
    EXPECT_OK(gf_client_options_set_max_retries(options, 0, &err));
    gf_client *client = NULL;
    EXPECT_OK(gf_client_new(options, &client, &err));
    gf_client_options_free(options);

    int before = report_count();
    gf_request *request = NULL;
    EXPECT_OK(gf_client_user_async(client, "octocat", free_borrowed_error, NULL, &request, &err));
    pthread_mutex_lock(&done_lock);
    while (callbacks == 0) {
        pthread_cond_wait(&done_cond, &done_lock);
    }
    pthread_mutex_unlock(&done_lock);
    CHECK_ONE_REPORT(before, "gf_error_free", "never handed out");

    before = report_count();
    gf_request_free(request);
    gf_request_free(request);
    CHECK_ONE_REPORT(before, "gf_request_free", "double free");
    gf_client_free(client);
}

/* ---- the store's handle and secrets ------------------------------------- */

static void test_store_and_secret_freed_twice(void)
{
    char dir[] = "/tmp/gitfleet-double-free-XXXXXX";
    if (!CHECK(mkdtemp(dir) != NULL)) {
        return;
    }
    char path[256];
    snprintf(path, sizeof path, "%s/s.gfs", dir);
    const uint8_t key[32] = {1, 2, 3};
    gf_store *store = NULL;
    EXPECT_OK(gf_store_create_with_key(path, key, sizeof key, &store, &err));
    EXPECT_OK(gf_store_save(store, GF_PROVIDER_GITHUB, "tsecret_stored", NULL, NULL, &err));

    char *json = NULL;
    EXPECT_OK(gf_store_list_json(store, &json, &err));
    char fingerprint[13] = {0};
    const char *at = json != NULL ? strstr(json, "\"fingerprint\":\"") : NULL;
    if (CHECK(at != NULL)) {
        memcpy(fingerprint, at + strlen("\"fingerprint\":\""), 12);
    }
    /* A JSON string freed as a secret is allowed (wiped needlessly), with a warning. */
    pthread_mutex_lock(&log_lock);
    int warned = warnings;
    pthread_mutex_unlock(&log_lock);
    gf_secret_free(json);
    pthread_mutex_lock(&log_lock);
    CHECK(warnings == warned + 1);
    pthread_mutex_unlock(&log_lock);

    char *token = NULL;
    EXPECT_OK(gf_store_get_token(store, fingerprint, &token, &err));
    CHECK(token != NULL && strcmp(token, "tsecret_stored") == 0);
    /* A secret freed as a plain string would not be wiped: refused. */
    int before = report_count();
    gf_string_free(token);
    CHECK_ONE_REPORT(before, "gf_string_free", "not a string");
    CHECK(token != NULL && strcmp(token, "tsecret_stored") == 0);
    before = report_count();
    gf_secret_free(token);
    CHECK(report_count() == before);
    gf_secret_free(token);
    CHECK_ONE_REPORT(before, "gf_secret_free", "double free");

    before = report_count();
    gf_store_free(store);
    gf_store_free(store);
    CHECK_ONE_REPORT(before, "gf_store_free", "double free");
    unlink(path);
    rmdir(dir);
}

/* ---- the wrong free, and the library afterwards --------------------------- */

static void test_wrong_free_leaves_the_object_alone(void)
{
    gf_token_manager *m = gf_token_manager_new();
    EXPECT_OK(gf_token_manager_add_token(m, GF_PROVIDER_GITHUB, "tsecret_b", NULL, 0, &err));
    gf_lease *lease = NULL;
    EXPECT_OK(gf_token_manager_lease(m, GF_PROVIDER_GITHUB, NULL, &lease, &err));

    int before = report_count();
    gf_error_free((gf_error *)lease);
    CHECK_ONE_REPORT(before, "gf_error_free", "a live gf_lease");
    /* The lease is untouched and still works. */
    CHECK(strlen(gf_lease_fingerprint(lease)) == 12);
    CHECK(strcmp(gf_lease_token(lease), "tsecret_b") == 0);
    before = report_count();
    gf_lease_free(lease);
    CHECK(report_count() == before);

    /* Nothing was reported for the correct frees of a whole session. */
    before = report_count();
    size_t count = 0;
    EXPECT_OK(gf_token_manager_count_available(m, GF_PROVIDER_GITHUB, NULL, &count, &err));
    CHECK(count == 1);
    gf_token_manager_free(m);
    CHECK(report_count() == before);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    CHECK_STATUS(gf_log_set_callback(on_log, NULL, GF_LOG_WARN), GF_STATUS_OK);

    test_error_freed_twice();
    test_string_freed_twice();
    test_handles_freed_twice();
    test_request_and_borrowed_error();
    test_store_and_secret_freed_twice();
    test_wrong_free_leaves_the_object_alone();

    CHECK_STATUS(gf_log_set_callback(NULL, NULL, GF_LOG_OFF), GF_STATUS_OK);
    return print_summary();
}
