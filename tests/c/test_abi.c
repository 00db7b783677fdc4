/*
 * test_abi.c - the C test of include/gitfleet.h.
 *
 * Checks the contract written at the top of the header from C: NULL and
 * invalid UTF-8 handling, the token manager, leases reported by hand, and
 * the client's blocking and async calls against the GitHub API emulator.
 *
 * Usage: test_abi BASE_URL [SLOW_BASE_URL]
 *   BASE_URL       an emulator started with tests/c/run.sh's tokens;
 *   SLOW_BASE_URL  an emulator answering after a delay (--delay-ms 500), for
 *                  the cancel and free-in-flight tests (skipped without it).
 *
 * No framework: CHECK records a failure with file:line and goes on. The last
 * line is "N passed, M failed"; the exit status is non-zero if any failed.
 *
 * Build (from the repository root):
 *   gcc -std=c11 -Wall -Wextra -Wpedantic -Werror -Iinclude tests/c/test_abi.c \
 *       target/debug/libgitfleet.a -lpthread -ldl -lm -o build/test_abi
 */

#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gitfleet.h"
#include "check.h"

/* How long to wait for async callbacks (generous: valgrind is slow). */
#define CALLBACK_TIMEOUT_MS 20000

/* ---- a tiny JSON reader, just enough for the library's documents -------- */

static const char *json_skip_value(const char *p);

static const char *json_skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
        p++;
    }
    return p;
}

/* p is at an opening quote; returns the position after the closing one. */
static const char *json_skip_string(const char *p)
{
    for (p++; *p != '"'; p++) {
        if (*p == '\0' || (*p == '\\' && *++p == '\0')) {
            return NULL;
        }
    }
    return p + 1;
}

/* p is at '{' or '['; returns the position after the matching close. */
static const char *json_skip_container(const char *p)
{
    bool object = *p == '{';
    char close = object ? '}' : ']';
    p = json_skip_ws(p + 1);
    if (*p == close) {
        return p + 1;
    }
    for (;;) {
        if (object) {
            if (*p != '"' || (p = json_skip_string(p)) == NULL) {
                return NULL;
            }
            p = json_skip_ws(p);
            if (*p++ != ':') {
                return NULL;
            }
        }
        if ((p = json_skip_value(p)) == NULL) {
            return NULL;
        }
        p = json_skip_ws(p);
        if (*p == close) {
            return p + 1;
        }
        if (*p != ',') {
            return NULL;
        }
        p = json_skip_ws(p + 1);
    }
}

/* Skips one value (string, container, number, true, false, null). */
static const char *json_skip_value(const char *p)
{
    p = json_skip_ws(p);
    if (*p == '"') {
        return json_skip_string(p);
    }
    if (*p == '{' || *p == '[') {
        return json_skip_container(p);
    }
    const char *start = p;
    while (*p != '\0' && (isalnum((unsigned char)*p) || strchr("+-.", *p) != NULL)) {
        p++;
    }
    return p > start ? p : NULL;
}

/* The start of element `index` of the array document `doc`, or NULL. */
static const char *json_array_element(const char *doc, size_t index)
{
    const char *p = json_skip_ws(doc);
    if (*p != '[') {
        return NULL;
    }
    p = json_skip_ws(p + 1);
    for (size_t i = 0; *p != ']'; i++) {
        if (i == index) {
            return p;
        }
        if ((p = json_skip_value(p)) == NULL) {
            return NULL;
        }
        p = json_skip_ws(p);
        if (*p == ',') {
            p = json_skip_ws(p + 1);
        }
    }
    return NULL;
}

/* The number of elements of an array document; -1 if it is not one. */
static long json_array_length(const char *doc)
{
    if (doc == NULL || *json_skip_ws(doc) != '[' || json_skip_value(doc) == NULL) {
        return -1;
    }
    long count = 0;
    while (json_array_element(doc, (size_t)count) != NULL) {
        count++;
    }
    return count;
}

/* Copies the string member `key` of the object at `object` (escapes kept)
 * into buf. False when absent, not a string, or too long. */
static bool json_member_string(const char *object, const char *key, char *buf, size_t len)
{
    const char *p = json_skip_ws(object);
    if (*p != '{') {
        return false;
    }
    p = json_skip_ws(p + 1);
    size_t key_len = strlen(key);
    while (*p == '"') {
        const char *name = p + 1;
        const char *after_name = json_skip_string(p);
        if (after_name == NULL) {
            return false;
        }
        bool match = (size_t)(after_name - 1 - name) == key_len && !strncmp(name, key, key_len);
        p = json_skip_ws(after_name);
        if (*p++ != ':') {
            return false;
        }
        p = json_skip_ws(p);
        if (match) {
            const char *end = *p == '"' ? json_skip_string(p) : NULL;
            size_t value_len = end != NULL ? (size_t)(end - p - 2) : 0;
            if (end == NULL || value_len >= len) {
                return false;
            }
            memcpy(buf, p + 1, value_len);
            buf[value_len] = '\0';
            return true;
        }
        if ((p = json_skip_value(p)) == NULL) {
            return false;
        }
        p = json_skip_ws(p);
        if (*p == ',') {
            p = json_skip_ws(p + 1);
        }
    }
    return false;
}

/* ---- helpers around the library ----------------------------------------- */

static uint64_t now_s(void)
{
    return (uint64_t)time(NULL);
}

static void sleep_ms(long ms)
{
    struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static bool is_fingerprint(const char *s)
{
    if (strlen(s) != 12) {
        return false;
    }
    for (const char *p = s; *p != '\0'; p++) {
        if (!isxdigit((unsigned char)*p) || isupper((unsigned char)*p)) {
            return false;
        }
    }
    return true;
}

static void add_token(const gf_token_manager *m, const char *secret)
{
    EXPECT_OK(gf_token_manager_add_token(m, GF_PROVIDER_GITHUB, secret, NULL, 0, &err));
}

/* A manager holding the given NULL-terminated list of secrets. */
static gf_token_manager *manager_with(const char *const *secrets)
{
    gf_token_manager *m = gf_token_manager_new();
    for (; *secrets != NULL; secrets++) {
        add_token(m, *secrets);
    }
    return m;
}

static size_t available(const gf_token_manager *m)
{
    size_t count = SIZE_MAX;
    EXPECT_OK(gf_token_manager_count_available(m, GF_PROVIDER_GITHUB, NULL, &count, &err));
    return count;
}

static uint64_t earliest_reset(const gf_token_manager *m)
{
    uint64_t reset = UINT64_MAX;
    EXPECT_OK(gf_token_manager_earliest_reset(m, GF_PROVIDER_GITHUB, NULL, &reset, &err));
    return reset;
}

/* The pool's snapshot (free with gf_string_free), or NULL. */
static char *snapshot(const gf_token_manager *m)
{
    char *json = NULL;
    EXPECT_OK(gf_token_manager_snapshot_json(m, &json, &err));
    CHECK(json == NULL || !contains_secret(json));
    return json;
}

static long snapshot_length(const gf_token_manager *m)
{
    char *json = snapshot(m);
    long length = json_array_length(json);
    gf_string_free(json);
    return length;
}

/* Whether token `index` of the pool has the status `want`. */
static bool token_status_is(const gf_token_manager *m, size_t index, const char *want)
{
    char *json = snapshot(m);
    const char *token = json != NULL ? json_array_element(json, index) : NULL;
    char status[32] = "";
    bool found = token != NULL && json_member_string(token, "status", status, sizeof status);
    gf_string_free(json);
    if (!found || strcmp(status, want) != 0) {
        printf("     token %zu has status \"%s\", expected \"%s\"\n", index, status, want);
        return false;
    }
    return true;
}

static gf_lease *lease(const gf_token_manager *m)
{
    gf_lease *l = NULL;
    EXPECT_OK(gf_token_manager_lease(m, GF_PROVIDER_GITHUB, NULL, &l, &err));
    return l;
}

/* Reports a response with `count` headers and a text body; returns the
 * outcome, or -1 when the report itself failed. */
static int report(gf_lease *l, uint16_t status, const char *const *names,
                  const char *const *values, size_t count, const char *body)
{
    gf_outcome outcome = GF_OUTCOME_OTHER_ERROR;
    gf_error *err = NULL;
    size_t body_len = body != NULL ? strlen(body) : 0;
    gf_status got = gf_lease_report(l, status, names, values, count, (const uint8_t *)body,
                                    body_len, &outcome, &err);
    bool ok = expect_ok_at(got, err, "gf_lease_report", __FILE__, __LINE__);
    return ok ? (int)outcome : -1;
}

static void format_u64(char *buf, size_t len, uint64_t value)
{
    snprintf(buf, len, "%" PRIu64, value);
}

/* Records rate-limit figures for `secret` as if a response had said them. */
static void set_figures(const gf_token_manager *m, const char *secret, uint64_t remaining,
                        uint64_t limit, uint64_t reset)
{
    char remaining_text[24], limit_text[24], reset_text[24];
    format_u64(remaining_text, sizeof remaining_text, remaining);
    format_u64(limit_text, sizeof limit_text, limit);
    format_u64(reset_text, sizeof reset_text, reset);
    const char *names[] = {"x-ratelimit-remaining", "x-ratelimit-limit", "x-ratelimit-reset"};
    const char *values[] = {remaining_text, limit_text, reset_text};
    bool found = false;
    EXPECT_OK(gf_token_manager_update_from_headers(m, secret, names, values, 3, &found, &err));
    CHECK(found);
}

/* A client on `url` drawing from `m` (or only `token` when m is NULL). */
static gf_client *client_for(const char *url, const gf_token_manager *m, const char *token)
{
    gf_client_options *options = gf_client_options_new();
    gf_client *client = NULL;
    EXPECT_OK(gf_client_options_set_base_url(options, url, &err));
    EXPECT_OK(gf_client_options_set_timeout_ms(options, 15000, &err));
    if (m != NULL) {
        EXPECT_OK(gf_client_options_set_token_manager(options, m, &err));
    }
    if (token != NULL) {
        EXPECT_OK(gf_client_options_set_token(options, token, &err));
    }
    EXPECT_OK(gf_client_new(options, &client, &err));
    gf_client_options_free(options);
    return client;
}

/* ---- async bookkeeping -------------------------------------------------- */

/* What the callbacks of one call saw. Written under `callbacks.lock`. */
struct call_record {
    int calls;
    gf_status status;
    bool on_caller_thread;
    bool arguments_consistent;
    bool secret_leaked;
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int completions;
} callbacks = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};

/* The thread making every initiating call. */
static pthread_t caller_thread;

/* Records are static: a callback arriving late (a bug) writes valid memory. */
#define MAX_RECORDS 32
static struct call_record records[MAX_RECORDS];

static void reset_records(void)
{
    pthread_mutex_lock(&callbacks.lock);
    memset(records, 0, sizeof records);
    callbacks.completions = 0;
    pthread_mutex_unlock(&callbacks.lock);
}

static void record_callback(void *user_data, gf_status status, const char *json,
                            const gf_error *error)
{
    struct call_record *record = user_data;
    bool consistent = status == GF_STATUS_OK
                          ? json != NULL && error == NULL
                          : json == NULL && error != NULL && gf_error_status(error) == status;
    bool leaked = contains_secret(json) || contains_secret(gf_error_message(error));
    bool on_caller = pthread_equal(pthread_self(), caller_thread) != 0;

    pthread_mutex_lock(&callbacks.lock);
    record->calls++;
    record->status = status;
    record->on_caller_thread = record->on_caller_thread || on_caller;
    record->arguments_consistent = consistent;
    record->secret_leaked = record->secret_leaked || leaked;
    callbacks.completions++;
    pthread_cond_broadcast(&callbacks.changed);
    pthread_mutex_unlock(&callbacks.lock);
}

static int completions(void)
{
    pthread_mutex_lock(&callbacks.lock);
    int count = callbacks.completions;
    pthread_mutex_unlock(&callbacks.lock);
    return count;
}

/* Waits until `target` callbacks have come since reset_records(). */
static bool wait_for_completions(int target, long timeout_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&callbacks.lock);
    int waited = 0;
    while (callbacks.completions < target && waited == 0) {
        waited = pthread_cond_timedwait(&callbacks.changed, &callbacks.lock, &deadline);
    }
    bool done = callbacks.completions >= target;
    pthread_mutex_unlock(&callbacks.lock);
    return done;
}

/* A snapshot of one record, read under the lock. */
static struct call_record record_of(size_t index)
{
    pthread_mutex_lock(&callbacks.lock);
    struct call_record copy = records[index];
    pthread_mutex_unlock(&callbacks.lock);
    return copy;
}

/* Checks records[0..count): one callback each, well-formed, off the
 * caller's thread, with status allowed_a or allowed_b. */
static void check_records(size_t count, gf_status allowed_a, gf_status allowed_b)
{
    for (size_t i = 0; i < count; i++) {
        struct call_record r = record_of(i);
        if (!CHECK(r.calls == 1)) {
            printf("     request %zu got %d callbacks\n", i, r.calls);
        }
        if (!CHECK(r.status == allowed_a || r.status == allowed_b)) {
            printf("     request %zu completed with %s\n", i, gf_status_name(r.status));
        }
        CHECK(!r.on_caller_thread);
        CHECK(r.arguments_consistent);
        CHECK(!r.secret_leaked);
    }
}

/* ---- version, names, frees ---------------------------------------------- */

static void test_version_and_names(void)
{
    char expected[32];
    snprintf(expected, sizeof expected, "%d.%d.%d", GF_VERSION_MAJOR, GF_VERSION_MINOR,
             GF_VERSION_PATCH);
    CHECK(strcmp(gf_version(), expected) == 0);

    CHECK(strcmp(gf_status_name(GF_STATUS_OK), "GF_STATUS_OK") == 0);
    CHECK(strcmp(gf_status_name(GF_STATUS_INVALID_ARGUMENT), "GF_STATUS_INVALID_ARGUMENT") == 0);
    CHECK(strcmp(gf_status_name(GF_STATUS_INTERNAL), "GF_STATUS_INTERNAL") == 0);
    CHECK(strcmp(gf_status_name(GF_STATUS_AUTH), "GF_STATUS_AUTH") == 0);
    CHECK(strcmp(gf_status_name(GF_STATUS_RATE_LIMITED), "GF_STATUS_RATE_LIMITED") == 0);
    CHECK(strcmp(gf_status_name(GF_STATUS_SECONDARY_LIMITED),
                 "GF_STATUS_SECONDARY_LIMITED") == 0);
    CHECK(strcmp(gf_status_name(GF_STATUS_NOT_FOUND), "GF_STATUS_NOT_FOUND") == 0);
    CHECK(strcmp(gf_status_name(GF_STATUS_FORBIDDEN), "GF_STATUS_FORBIDDEN") == 0);
    CHECK(strcmp(gf_status_name(GF_STATUS_HTTP), "GF_STATUS_HTTP") == 0);
    CHECK(strcmp(gf_status_name(GF_STATUS_NETWORK), "GF_STATUS_NETWORK") == 0);
    CHECK(strcmp(gf_status_name(GF_STATUS_TIMEOUT), "GF_STATUS_TIMEOUT") == 0);
    CHECK(strcmp(gf_status_name(GF_STATUS_DECODE), "GF_STATUS_DECODE") == 0);
    CHECK(strcmp(gf_status_name(GF_STATUS_CANCELLED), "GF_STATUS_CANCELLED") == 0);
    CHECK(strcmp(gf_status_name(GF_STATUS_SHUT_DOWN), "GF_STATUS_SHUT_DOWN") == 0);
    CHECK(strcmp(gf_status_name(3), "GF_STATUS_UNKNOWN") == 0);
    CHECK(strcmp(gf_status_name(-1), "GF_STATUS_UNKNOWN") == 0);
    CHECK(strcmp(gf_status_name(INT32_MAX), "GF_STATUS_UNKNOWN") == 0);
}

static void test_free_null_is_a_no_op(void)
{
    gf_string_free(NULL);
    gf_client_options_free(NULL);
    gf_client_free(NULL);
    gf_error_free(NULL);
    gf_lease_free(NULL);
    gf_token_manager_free(NULL);
    gf_request_free(NULL);
    CHECK(true); /* reaching this line is the test */
}

/* ---- NULL arguments ----------------------------------------------------- */

static void test_null_manager_arguments(void)
{
    gf_token_manager *m = gf_token_manager_new();
    CHECK(m != NULL);
    size_t count = 7;
    uint64_t reset = 7;
    char *json = NULL;
    gf_lease *l = NULL;
    const char *names[] = {"x-ratelimit-remaining"};

    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_token_manager_add_token(NULL, 0, "tsecret_x", NULL, 0, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_token_manager_add_token(m, 0, NULL, NULL, 0, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_token_manager_remove_token(NULL, "tsecret_x", NULL, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_token_manager_remove_token(m, NULL, NULL, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_token_manager_set_strategy(NULL, 0, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_token_manager_set_reserve_count(NULL, 1, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_token_manager_set_reserve_fraction(NULL, 0.5, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_token_manager_count_available(NULL, 0, NULL, &count, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_token_manager_count_available(m, 0, NULL, NULL, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_token_manager_earliest_reset(NULL, 0, NULL, &reset, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_token_manager_earliest_reset(m, 0, NULL, NULL, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_token_manager_snapshot_json(NULL, &json, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_token_manager_snapshot_json(m, NULL, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_token_manager_mark_invalid(NULL, "tsecret_x", NULL, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_token_manager_mark_invalid(m, NULL, NULL, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_token_manager_update_from_headers(NULL, "tsecret_x", NULL, NULL, 0, NULL,
                                                      &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_token_manager_update_from_headers(m, NULL, NULL, NULL, 0, NULL, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_token_manager_update_from_headers(m, "tsecret_x", NULL, NULL, 1, NULL,
                                                      &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_token_manager_update_from_headers(m, "tsecret_x", names, NULL, 1, NULL,
                                                      &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_token_manager_lease(NULL, 0, NULL, &l, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_token_manager_lease(m, 0, NULL, NULL, &err));

    /* Outputs are written only on success. */
    CHECK(count == 7);
    CHECK(reset == 7);
    CHECK(json == NULL);
    CHECK(l == NULL);

    /* err itself may be NULL. */
    CHECK_STATUS(gf_token_manager_add_token(NULL, 0, "tsecret_x", NULL, 0, NULL),
                 GF_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(gf_token_manager_snapshot_json(m, NULL, NULL), GF_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(gf_token_manager_lease(m, 0, NULL, NULL, NULL), GF_STATUS_INVALID_ARGUMENT);

    /* A success leaves *err untouched, and optional outputs may be NULL. */
    gf_error *untouched = NULL;
    CHECK_STATUS(gf_token_manager_add_token(m, 0, "tsecret_x", NULL, 0, &untouched),
                 GF_STATUS_OK);
    CHECK_STATUS(gf_token_manager_remove_token(m, "tsecret_x", NULL, &untouched), GF_STATUS_OK);
    CHECK_STATUS(gf_token_manager_mark_invalid(m, "tsecret_x", NULL, &untouched), GF_STATUS_OK);
    CHECK(untouched == NULL);
    gf_token_manager_free(m);
}

static void test_null_options_and_client_arguments(const char *url)
{
    gf_client_options *options = gf_client_options_new();
    CHECK(options != NULL);
    gf_token_manager *m = gf_token_manager_new();
    gf_client *client = NULL;

    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_options_set_base_url(NULL, "http://localhost", &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_options_set_base_url(options, NULL, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_options_set_token(NULL, "tsecret_x", &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_options_set_token(options, NULL, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_options_set_token_manager(NULL, m, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_options_set_token_manager(options, NULL, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_options_set_user_agent(NULL, "a", &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_options_set_user_agent(options, NULL, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_options_set_timeout_ms(NULL, 1, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_options_set_timeout_ms(options, 0, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_options_set_connect_timeout_ms(NULL, 1, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_options_set_connect_timeout_ms(options, 0, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_options_set_max_retries(NULL, 1, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_options_set_max_wait_ms(NULL, 1, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_new(NULL, &client, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_new(options, NULL, &err));
    CHECK(client == NULL);

    /* gf_client_new checks the base URL; the setter checks the user agent. */
    EXPECT_OK(gf_client_options_set_base_url(options, "ftp://example.com", &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_new(options, &client, &err));
    EXPECT_OK(gf_client_options_set_base_url(options, "http://[::1", &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_new(options, &client, &err));
    CHECK(client == NULL);
    EXPECT_OK(gf_client_options_set_base_url(options, url, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_options_set_user_agent(options, "", &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_options_set_user_agent(options, "agent\r\nX-Evil: 1", &err));
    gf_client_options_free(options);

    client = client_for(url, m, NULL);
    char *json = NULL;
    gf_request *request = NULL;
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_rate_limit(NULL, &json, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_rate_limit(client, NULL, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_user(NULL, "octocat", &json, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_user(client, NULL, &json, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_user(client, "octocat", NULL, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_owner_repositories(client, NULL, &json, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_repository(client, "octocat", NULL, &json, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_contributors(client, NULL, "Hello-World", &json, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_branches(client, "octocat", NULL, &json, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_validate_token(client, NULL, &json, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_validate_pool(NULL, &json, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_user_async(NULL, "octocat", record_callback, &records[0], &request,
                                      &err));
    CHECK(json == NULL);
    CHECK(request == NULL);
    CHECK_STATUS(gf_client_user(client, NULL, &json, NULL), GF_STATUS_INVALID_ARGUMENT);

    gf_client_free(client);
    gf_token_manager_free(m);
}

static void test_null_error_lease_and_request(void)
{
    CHECK(gf_error_status(NULL) == GF_STATUS_INVALID_ARGUMENT);
    CHECK(strcmp(gf_error_message(NULL), "") == 0);
    CHECK(gf_error_http_status(NULL) == 0);
    CHECK(gf_error_reset(NULL) == 0);
    CHECK(gf_error_retry_after(NULL) == 0);
    CHECK(strcmp(gf_error_resource(NULL), "") == 0);

    CHECK(strcmp(gf_lease_token(NULL), "") == 0);
    CHECK(strcmp(gf_lease_fingerprint(NULL), "") == 0);
    gf_outcome outcome = GF_OUTCOME_NOT_FOUND;
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_lease_report(NULL, 200, NULL, NULL, 0, NULL, 0, &outcome, &err));
    CHECK(outcome == GF_OUTCOME_NOT_FOUND);

    CHECK_STATUS(gf_request_cancel(NULL), GF_STATUS_INVALID_ARGUMENT);
    CHECK(!gf_request_is_done(NULL));
}

/* ---- invalid UTF-8 and out-of-range enumerations ------------------------ */

static void test_invalid_utf8_and_enums(const char *url)
{
    const char *bad = "\xff\xfe";
    gf_token_manager *m = gf_token_manager_new();
    gf_client_options *options = gf_client_options_new();

    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_token_manager_add_token(m, GF_PROVIDER_GITHUB, bad, NULL, 0, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_token_manager_add_token(m, GF_PROVIDER_GITHUB, "tsecret_u", bad, 0, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_token_manager_remove_token(m, bad, NULL, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_token_manager_mark_invalid(m, bad, NULL, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_options_set_base_url(options, bad, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_options_set_token(options, bad, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_options_set_user_agent(options, bad, &err));
    CHECK(snapshot_length(m) == 0);

    /* Secrets that could not travel in a header are refused too. */
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_token_manager_add_token(m, GF_PROVIDER_GITHUB, "", NULL, 0, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_token_manager_add_token(m, GF_PROVIDER_GITHUB, "tsecret_a\r\nX: y", NULL, 0,
                                            &err));

    /* Enumerations are checked. */
    size_t count = 0;
    gf_lease *l = NULL;
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_token_manager_add_token(m, 3, "tsecret_u", NULL, 0, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_token_manager_add_token(m, -1, "tsecret_u", NULL, 0, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_token_manager_count_available(m, 99, NULL, &count, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_token_manager_lease(m, 42, NULL, &l, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_token_manager_set_strategy(m, 3, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_token_manager_set_strategy(m, -1, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_token_manager_count_available(m, GF_PROVIDER_GITHUB, bad, &count, &err));

    /* Owner and login strings reach the client checked. */
    gf_client *client = client_for(url, NULL, NULL);
    char *json = NULL;
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_owner_repositories(client, bad, &json, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_client_user(client, bad, &json, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_repository(client, "octocat", bad, &json, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_owner_repositories(client, "", &json, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_owner_repositories(client, "..", &json, &err));
    CHECK(json == NULL);

    gf_client_free(client);
    gf_client_options_free(options);
    gf_token_manager_free(m);
}

/* ---- the token manager -------------------------------------------------- */

static void test_manager_add_remove_invalid(void)
{
    gf_token_manager *m = gf_token_manager_new();
    CHECK(snapshot_length(m) == 0);
    CHECK(available(m) == 0);
    gf_lease *l = NULL;
    EXPECT_ERROR(GF_STATUS_AUTH, gf_token_manager_lease(m, GF_PROVIDER_GITHUB, NULL, &l, &err));

    add_token(m, "tsecret_one");
    add_token(m, "tsecret_one");
    CHECK(snapshot_length(m) == 1);
    EXPECT_OK(gf_token_manager_add_token(m, GF_PROVIDER_GITHUB, "tsecret_one", "alice", 3, &err));
    CHECK(snapshot_length(m) == 1);
    add_token(m, "tsecret_two");
    CHECK(snapshot_length(m) == 2);
    CHECK(available(m) == 2);

    bool removed = false;
    EXPECT_OK(gf_token_manager_remove_token(m, "tsecret_two", &removed, &err));
    CHECK(removed);
    EXPECT_OK(gf_token_manager_remove_token(m, "tsecret_two", &removed, &err));
    CHECK(!removed);
    CHECK(snapshot_length(m) == 1);

    bool found = false;
    EXPECT_OK(gf_token_manager_mark_invalid(m, "tsecret_one", &found, &err));
    CHECK(found);
    EXPECT_OK(gf_token_manager_mark_invalid(m, "tsecret_nobody", &found, &err));
    CHECK(!found);
    CHECK(available(m) == 0);
    CHECK(token_status_is(m, 0, "invalid"));
    EXPECT_ERROR(GF_STATUS_AUTH, gf_token_manager_lease(m, GF_PROVIDER_GITHUB, NULL, &l, &err));
    CHECK(earliest_reset(m) == 0);

    /* Adding it again makes it usable again. */
    add_token(m, "tsecret_one");
    CHECK(available(m) == 1);
    CHECK(token_status_is(m, 0, "available"));

    /* Other providers are counted apart. */
    size_t gitlab = 9;
    EXPECT_OK(gf_token_manager_add_token(m, GF_PROVIDER_GITLAB, "tsecret_lab", NULL, 0, &err));
    EXPECT_OK(gf_token_manager_count_available(m, GF_PROVIDER_GITLAB, NULL, &gitlab, &err));
    CHECK(gitlab == 1);
    CHECK(available(m) == 1);
    gf_token_manager_free(m);
}

static void test_snapshot_shows_fingerprints_not_secrets(void)
{
    const char *secrets[] = {"tsecret_snap_a", "tsecret_snap_b", NULL};
    gf_token_manager *m = manager_with(secrets);
    EXPECT_OK(gf_token_manager_add_token(m, GF_PROVIDER_GITHUB, "tsecret_snap_a", "alice", 0,
                                         &err));
    gf_lease *l = lease(m);
    char fingerprint[13] = "";
    if (l != NULL) {
        snprintf(fingerprint, sizeof fingerprint, "%s", gf_lease_fingerprint(l));
    }
    gf_lease_free(l);

    char *json = snapshot(m);
    CHECK(json != NULL && strstr(json, "\"fingerprint\"") != NULL);
    CHECK(json != NULL && is_fingerprint(fingerprint) && strstr(json, fingerprint) != NULL);
    CHECK(json != NULL && strstr(json, "tsecret_snap_a") == NULL);
    CHECK(json != NULL && strstr(json, "tsecret_snap_b") == NULL);
    CHECK(json != NULL && strstr(json, "\"username\":\"alice\"") != NULL);
    CHECK(json != NULL && strstr(json, "\"provider\":\"github\"") != NULL);
    char first[16] = "";
    CHECK(json != NULL && json_member_string(json_array_element(json, 0), "fingerprint", first,
                                             sizeof first) &&
          is_fingerprint(first));
    gf_string_free(json);
    gf_token_manager_free(m);
}

/* Leases (and frees at once) `count` tokens, checking they come in `want`. */
static void check_lease_order(const gf_token_manager *m, const char *const *want, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        gf_lease *l = lease(m);
        if (!CHECK(l != NULL && strcmp(gf_lease_token(l), want[i]) == 0)) {
            printf("     lease %zu was not the expected token\n", i);
        }
        gf_lease_free(l);
    }
}

static void test_strategies(void)
{
    const char *secrets[] = {"tsecret_rr_a", "tsecret_rr_b", "tsecret_rr_c", NULL};
    gf_token_manager *m = manager_with(secrets);

    EXPECT_OK(gf_token_manager_set_strategy(m, GF_STRATEGY_ROUND_ROBIN, &err));
    const char *round_robin[] = {"tsecret_rr_a", "tsecret_rr_b", "tsecret_rr_c",
                                 "tsecret_rr_a", "tsecret_rr_b", "tsecret_rr_c"};
    check_lease_order(m, round_robin, 6);

    /* Round robin skips a token that is out. */
    EXPECT_OK(gf_token_manager_mark_invalid(m, "tsecret_rr_b", NULL, &err));
    const char *skipping[] = {"tsecret_rr_a", "tsecret_rr_c", "tsecret_rr_a"};
    check_lease_order(m, skipping, 3);
    add_token(m, "tsecret_rr_b");

    /* Rate-aware: the token with the most left wins. */
    EXPECT_OK(gf_token_manager_set_strategy(m, GF_STRATEGY_RATE_AWARE, &err));
    uint64_t reset = now_s() + 600;
    set_figures(m, "tsecret_rr_a", 10, 100, reset);
    set_figures(m, "tsecret_rr_b", 90, 100, reset);
    set_figures(m, "tsecret_rr_c", 50, 100, reset);
    const char *rate_aware[] = {"tsecret_rr_b", "tsecret_rr_b"};
    check_lease_order(m, rate_aware, 2);

    /* Priority: the highest priority wins, whatever it has left. */
    EXPECT_OK(gf_token_manager_add_token(m, GF_PROVIDER_GITHUB, "tsecret_rr_a", NULL, 5, &err));
    EXPECT_OK(gf_token_manager_set_strategy(m, GF_STRATEGY_PRIORITY, &err));
    const char *priority[] = {"tsecret_rr_a", "tsecret_rr_a"};
    check_lease_order(m, priority, 2);

    /* Two leases held at once under rate-aware go to different tokens. */
    EXPECT_OK(gf_token_manager_set_strategy(m, GF_STRATEGY_RATE_AWARE, &err));
    set_figures(m, "tsecret_rr_a", 50, 100, reset);
    set_figures(m, "tsecret_rr_b", 50, 100, reset);
    set_figures(m, "tsecret_rr_c", 50, 100, reset);
    gf_lease *first = lease(m);
    gf_lease *second = lease(m);
    CHECK(first != NULL && second != NULL &&
          strcmp(gf_lease_token(first), gf_lease_token(second)) != 0);
    gf_lease_free(first);
    gf_lease_free(second);
    gf_token_manager_free(m);
}

static void test_reserve(void)
{
    const char *secrets[] = {"tsecret_reserve", NULL};
    gf_token_manager *m = manager_with(secrets);
    uint64_t reset = now_s() + 300;
    set_figures(m, "tsecret_reserve", 5, 20, reset);
    CHECK(available(m) == 1);
    CHECK(earliest_reset(m) == 0);

    EXPECT_OK(gf_token_manager_set_reserve_count(m, 5, &err));
    CHECK(available(m) == 0);
    uint64_t at = earliest_reset(m);
    CHECK(at >= reset - 1 && at <= reset + 2);
    gf_lease *l = NULL;
    EXPECT_ERROR(GF_STATUS_RATE_LIMITED,
                 gf_token_manager_lease(m, GF_PROVIDER_GITHUB, NULL, &l, &err));
    CHECK(l == NULL);

    EXPECT_OK(gf_token_manager_set_reserve_count(m, 4, &err));
    CHECK(available(m) == 1);
    EXPECT_OK(gf_token_manager_set_reserve_count(m, 0, &err));
    CHECK(available(m) == 1);

    EXPECT_OK(gf_token_manager_set_reserve_fraction(m, 0.5, &err)); /* 10 of 20 */
    CHECK(available(m) == 0);
    EXPECT_OK(gf_token_manager_set_reserve_fraction(m, 0.0, &err));
    CHECK(available(m) == 1);
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_token_manager_set_reserve_fraction(m, 1.5, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_token_manager_set_reserve_fraction(m, -0.1, &err));
    CHECK(available(m) == 1);

    /* update_from_headers for a token the pool does not have. */
    bool found = true;
    const char *names[] = {"x-ratelimit-remaining"};
    const char *values[] = {"0"};
    EXPECT_OK(gf_token_manager_update_from_headers(m, "tsecret_stranger", names, values, 1,
                                                   &found, &err));
    CHECK(!found);
    gf_token_manager_free(m);
}

/* ---- leases reported by hand -------------------------------------------- */

static void test_lease_success_then_spent(void)
{
    const char *secrets[] = {"tsecret_lease_a", "tsecret_lease_b", NULL};
    gf_token_manager *m = manager_with(secrets);
    EXPECT_OK(gf_token_manager_set_strategy(m, GF_STRATEGY_ROUND_ROBIN, &err));
    CHECK(available(m) == 2);

    gf_lease *l = lease(m);
    if (!CHECK(l != NULL)) {
        gf_token_manager_free(m);
        return;
    }
    CHECK(strcmp(gf_lease_token(l), "tsecret_lease_a") == 0);
    CHECK(is_fingerprint(gf_lease_fingerprint(l)));

    uint64_t reset = now_s() + 100;
    char reset_text[24];
    format_u64(reset_text, sizeof reset_text, reset);
    const char *names[] = {"x-ratelimit-remaining", "x-ratelimit-limit", "x-ratelimit-reset",
                           "x-ratelimit-resource"};
    const char *values[] = {"0", "20", reset_text, "core"};
    CHECK(report(l, 200, names, values, 4, "[]") == GF_OUTCOME_SUCCESS);
    CHECK(available(m) == 1);
    uint64_t at = earliest_reset(m);
    CHECK(at >= reset - 1 && at <= reset + 2);
    CHECK(token_status_is(m, 0, "rate_limited"));
    CHECK(token_status_is(m, 1, "available"));

    /* A lease is reported once. */
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_lease_report(l, 200, names, values, 4, NULL, 0, NULL, &err));
    gf_lease_free(l);

    /* The next lease is the other token; the spent one is skipped. */
    const char *next[] = {"tsecret_lease_b", "tsecret_lease_b"};
    check_lease_order(m, next, 2);
    gf_token_manager_free(m);
}

static void test_lease_invalid_token(void)
{
    const char *secrets[] = {"tsecret_401", "tsecret_401_other", NULL};
    gf_token_manager *m = manager_with(secrets);
    gf_lease *l = lease(m);
    const char *body = "{\"message\":\"Bad credentials\"}";
    CHECK(l != NULL && report(l, 401, NULL, NULL, 0, body) == GF_OUTCOME_INVALID_TOKEN);
    gf_lease_free(l);
    CHECK(available(m) == 1);
    CHECK(token_status_is(m, 0, "invalid"));
    gf_token_manager_free(m);
}

static void test_lease_secondary_limit(void)
{
    const char *secrets[] = {"tsecret_secondary", NULL};
    gf_token_manager *m = manager_with(secrets);
    gf_lease *l = lease(m);
    const char *names[] = {"retry-after"};
    const char *values[] = {"30"};
    const char *body = "{\"message\":\"You have exceeded a secondary rate limit\"}";
    uint64_t before = now_s();
    CHECK(l != NULL && report(l, 403, names, values, 1, body) == GF_OUTCOME_SECONDARY_LIMIT);
    gf_lease_free(l);
    CHECK(available(m) == 0);
    CHECK(token_status_is(m, 0, "cooling_down"));
    uint64_t at = earliest_reset(m);
    CHECK(at >= before + 29 && at <= now_s() + 32);
    gf_token_manager_free(m);
}

static void test_lease_forbidden_keeps_token(void)
{
    const char *secrets[] = {"tsecret_forbidden", NULL};
    gf_token_manager *m = manager_with(secrets);
    gf_lease *l = lease(m);
    char reset_text[24];
    format_u64(reset_text, sizeof reset_text, now_s() + 3000);
    const char *names[] = {"x-ratelimit-remaining", "x-ratelimit-limit", "x-ratelimit-reset"};
    const char *values[] = {"4927", "5000", reset_text};
    const char *body = "{\"message\":\"Must have push access to repository\"}";
    CHECK(l != NULL && report(l, 403, names, values, 3, body) == GF_OUTCOME_FORBIDDEN);
    gf_lease_free(l);
    CHECK(available(m) == 1);
    CHECK(token_status_is(m, 0, "available"));
    CHECK(earliest_reset(m) == 0);
    gf_token_manager_free(m);
}

static void test_lease_freed_unreported_gives_use_back(void)
{
    const char *secrets[] = {"tsecret_last_one", NULL};
    gf_token_manager *m = manager_with(secrets);
    set_figures(m, "tsecret_last_one", 1, 20, now_s() + 300);
    CHECK(available(m) == 1);

    gf_lease *l = lease(m);
    CHECK(l != NULL);
    CHECK(available(m) == 0); /* its one use is taken by the lease */
    gf_lease *second = NULL;
    EXPECT_ERROR(GF_STATUS_RATE_LIMITED,
                 gf_token_manager_lease(m, GF_PROVIDER_GITHUB, NULL, &second, &err));
    CHECK(second == NULL);

    gf_lease_free(l);
    CHECK(available(m) == 1);
    second = lease(m);
    CHECK(second != NULL);
    gf_lease_free(second);
    gf_token_manager_free(m);
}

static void test_lease_garbage_and_bad_reports(void)
{
    const char *secrets[] = {"tsecret_garbage", NULL};
    gf_token_manager *m = manager_with(secrets);
    gf_lease *l = lease(m);
    if (!CHECK(l != NULL)) {
        gf_token_manager_free(m);
        return;
    }

    /* Rejected reports leave the lease open for a proper one. */
    const char *names[] = {"x-ratelimit-remaining", "x-ratelimit-reset", "date", "\xff"};
    const char *values[] = {"abc", "-5", "not a date", "1"};
    const char *null_value[] = {"abc", NULL, "x", "y"};
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_lease_report(l, 42, names, values, 4, NULL, 0, NULL, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_lease_report(l, 200, names, null_value, 4, NULL, 0, NULL, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_lease_report(l, 200, names, values, 4, NULL, 5, NULL, &err));

    /* Garbage header values do not fail the report. */
    CHECK(report(l, 200, names, values, 4, NULL) == GF_OUTCOME_SUCCESS);
    gf_lease_free(l);
    CHECK(available(m) == 1);
    CHECK(token_status_is(m, 0, "available"));

    /* Other outcomes, with a body that is not JSON. */
    l = lease(m);
    CHECK(l != NULL && report(l, 404, NULL, NULL, 0, "<html>nope</html>") ==
                           GF_OUTCOME_NOT_FOUND);
    gf_lease_free(l);
    l = lease(m);
    CHECK(l != NULL && report(l, 502, NULL, NULL, 0, NULL) == GF_OUTCOME_SERVER_ERROR);
    gf_lease_free(l);
    l = lease(m);
    CHECK(l != NULL && report(l, 304, NULL, NULL, 0, NULL) == GF_OUTCOME_NOT_MODIFIED);
    gf_lease_free(l);
    l = lease(m);
    CHECK(l != NULL && report(l, 422, NULL, NULL, 0, NULL) == GF_OUTCOME_OTHER_ERROR);
    gf_lease_free(l);
    CHECK(available(m) == 1);
    gf_token_manager_free(m);
}

static void test_lease_primary_limit_403(void)
{
    const char *secrets[] = {"tsecret_primary", NULL};
    gf_token_manager *m = manager_with(secrets);
    gf_lease *l = lease(m);
    char reset_text[24];
    uint64_t reset = now_s() + 200;
    format_u64(reset_text, sizeof reset_text, reset);
    const char *names[] = {"X-RateLimit-Remaining", "X-RateLimit-Limit", "X-RateLimit-Reset"};
    const char *values[] = {"0", "5000", reset_text};
    const char *body = "{\"message\":\"API rate limit exceeded for user ID 1.\"}";
    CHECK(l != NULL && report(l, 403, names, values, 3, body) == GF_OUTCOME_PRIMARY_LIMIT);
    gf_lease_free(l);
    CHECK(available(m) == 0);
    uint64_t at = earliest_reset(m);
    CHECK(at >= reset - 1 && at <= reset + 2);

    gf_lease *none = NULL;
    gf_error *error = NULL;
    CHECK_STATUS(gf_token_manager_lease(m, GF_PROVIDER_GITHUB, NULL, &none, &error),
                 GF_STATUS_RATE_LIMITED);
    CHECK(gf_error_reset(error) >= reset - 1 && gf_error_reset(error) <= reset + 2);
    CHECK(strcmp(gf_error_resource(error), "core") == 0);
    gf_error_free(error);
    gf_token_manager_free(m);
}

/* ---- blocking calls against the emulator -------------------------------- */

static void test_quota_runs_out_after_sixty(const char *url)
{
    const char *secrets[] = {"c_tok_a", "c_tok_b", "c_tok_c", NULL};
    gf_token_manager *m = manager_with(secrets);
    gf_client *client = client_for(url, m, NULL);
    int successes = 0;
    int limited = 0;
    int other = 0;
    bool success_after_limit = false;
    bool wrong_count = false;
    for (int i = 0; i < 100; i++) {
        char *json = NULL;
        gf_error *err = NULL;
        gf_status status = gf_client_owner_repositories(client, "octocat", &json, &err);
        if (status == GF_STATUS_OK) {
            successes++;
            success_after_limit = success_after_limit || limited > 0;
            wrong_count = wrong_count || json_array_length(json) != 8;
        } else if (status == GF_STATUS_RATE_LIMITED) {
            if (limited++ == 0) {
                CHECK(gf_error_reset(err) > now_s());
                CHECK(strcmp(gf_error_resource(err), "core") == 0);
                CHECK(gf_error_status(err) == GF_STATUS_RATE_LIMITED);
                CHECK(!contains_secret(gf_error_message(err)));
            }
        } else {
            other++;
            printf("     call %d: %s: %s\n", i, gf_status_name(status), gf_error_message(err));
        }
        gf_string_free(json);
        gf_error_free(err);
    }
    if (!CHECK(successes == 60 && limited == 40)) {
        printf("     %d successes, %d rate limited, %d other\n", successes, limited, other);
    }
    CHECK(!success_after_limit);
    CHECK(!wrong_count);
    CHECK(available(m) == 0);
    CHECK(earliest_reset(m) > now_s());
    CHECK(token_status_is(m, 0, "rate_limited"));
    gf_client_free(client);
    gf_token_manager_free(m);
}

static void test_all_pages(const char *url)
{
    const char *secrets[] = {"c_tok_slow", NULL};
    gf_token_manager *m = manager_with(secrets);
    gf_client *client = client_for(url, m, NULL);
    gf_token_manager_free(m); /* the client keeps the pool alive */

    char *json = NULL;
    EXPECT_OK(gf_client_owner_repositories(client, "bigorg", &json, &err));
    if (!CHECK(json_array_length(json) == 250)) {
        printf("     bigorg gave %ld repositories\n", json_array_length(json));
    }
    gf_string_free(json);
    json = NULL;
    EXPECT_OK(gf_client_owner_repositories(client, "emptyuser", &json, &err));
    CHECK(json != NULL && strcmp(json, "[]") == 0);
    gf_string_free(json);
    gf_client_free(client);
}

static void test_revoked_token_is_skipped(const char *url)
{
    const char *secrets[] = {"c_tok_revoked", "c_tok_d", NULL};
    gf_token_manager *m = manager_with(secrets);
    gf_client *client = client_for(url, m, NULL);
    for (int i = 0; i < 3; i++) {
        char *json = NULL;
        EXPECT_OK(gf_client_owner_repositories(client, "torvalds", &json, &err));
        CHECK(json_array_length(json) == 7);
        gf_string_free(json);
    }
    CHECK(token_status_is(m, 0, "invalid"));
    CHECK(token_status_is(m, 1, "available"));
    CHECK(available(m) == 1);
    gf_client_free(client);
    gf_token_manager_free(m);
}

static void test_user_not_found_and_empty(const char *url)
{
    const char *secrets[] = {"c_tok_misc", NULL};
    gf_token_manager *m = manager_with(secrets);
    gf_client *client = client_for(url, m, NULL);
    char *json = NULL;

    EXPECT_OK(gf_client_user(client, "octocat", &json, &err));
    CHECK(json != NULL && strstr(json, "\"login\":\"octocat\"") != NULL);
    gf_string_free(json);
    json = NULL;

    gf_error *error = NULL;
    CHECK_STATUS(gf_client_owner_repositories(client, "no-such-owner-gf", &json, &error),
                 GF_STATUS_NOT_FOUND);
    CHECK(gf_error_http_status(error) == 404);
    CHECK(gf_error_reset(error) == 0);
    CHECK(strcmp(gf_error_resource(error), "") == 0);
    CHECK(json == NULL);
    gf_error_free(error);

    EXPECT_OK(gf_client_contributors(client, "octocat", "empty", &json, &err));
    CHECK(json != NULL && strcmp(json, "[]") == 0);
    gf_string_free(json);
    json = NULL;

    EXPECT_OK(gf_client_repository(client, "octocat", "Hello-World", &json, &err));
    CHECK(json != NULL && strstr(json, "\"name\":\"Hello-World\"") != NULL);
    gf_string_free(json);
    gf_client_free(client);
    gf_token_manager_free(m);
}

/* The default token joins the pool once, even when the pool has it. */
static void test_default_token_joins_once(const char *url)
{
    const char *secrets[] = {"c_tok_misc", "c_tok_d", NULL};
    gf_token_manager *m = manager_with(secrets);
    gf_client *client = client_for(url, m, "c_tok_misc");
    CHECK(snapshot_length(m) == 2);
    gf_client_free(client);

    gf_token_manager *other = gf_token_manager_new();
    client = client_for(url, other, "c_tok_misc");
    CHECK(snapshot_length(other) == 1);
    char *json = NULL;
    EXPECT_OK(gf_client_refresh_rate_limits(client, &json, &err));
    CHECK(json != NULL && !contains_secret(json) && strstr(json, "\"core\"") != NULL);
    gf_string_free(json);
    gf_client_free(client);
    gf_token_manager_free(other);
    gf_token_manager_free(m);
}

/* ---- async calls -------------------------------------------------------- */

static void test_async_calls_complete_once(const char *url)
{
    enum { CALLS = 20 };
    const char *secrets[] = {"c_tok_async", NULL};
    gf_token_manager *m = manager_with(secrets);
    gf_client *client = client_for(url, m, NULL);
    gf_request *requests[CALLS] = {NULL};
    int started = 0;
    reset_records();

    for (int i = 0; i < CALLS; i++) {
        gf_error *err = NULL;
        gf_status status =
            i % 2 == 0 ? gf_client_user_async(client, "octocat", record_callback, &records[i],
                                              &requests[i], &err)
                       : gf_client_owner_repositories_async(client, "gvanrossum",
                                                            record_callback, &records[i],
                                                            &requests[i], &err);
        started += expect_ok_at(status, err, "async call", __FILE__, __LINE__);
    }
    CHECK(started == CALLS);
    CHECK(wait_for_completions(started, CALLBACK_TIMEOUT_MS));
    sleep_ms(300); /* a second callback would show up here */
    check_records(CALLS, GF_STATUS_OK, GF_STATUS_OK);
    CHECK(completions() == started);

    for (int i = 0; i < CALLS; i++) {
        CHECK(gf_request_is_done(requests[i]));
    }
    /* Cancelling a finished call does nothing. */
    CHECK_STATUS(gf_request_cancel(requests[0]), GF_STATUS_OK);
    sleep_ms(300);
    CHECK(record_of(0).calls == 1 && record_of(0).status == GF_STATUS_OK);
    for (int i = 0; i < CALLS; i++) {
        gf_request_free(requests[i]);
    }
    gf_client_free(client);
    gf_token_manager_free(m);
}

static void test_async_refused_calls_never_call_back(const char *url)
{
    gf_client *client = client_for(url, NULL, "c_tok_misc");
    gf_request *request = NULL;
    reset_records();
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_user_async(client, "octocat", NULL, NULL, &request, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_user_async(client, NULL, record_callback, &records[0], &request,
                                      &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT,
                 gf_client_contributors_async(client, "octocat", "\xff", record_callback,
                                              &records[1], &request, &err));
    CHECK(request == NULL);
    sleep_ms(300);
    CHECK(completions() == 0);

    /* out_request may be NULL: the call still completes once. */
    EXPECT_OK(gf_client_contributors_async(client, "octocat", "empty", record_callback,
                                           &records[2], NULL, &err));
    CHECK(wait_for_completions(1, CALLBACK_TIMEOUT_MS));
    struct call_record r = record_of(2);
    CHECK(r.calls == 1 && r.status == GF_STATUS_OK && !r.on_caller_thread);
    gf_client_free(client);
}

/* Cancelling at once: exactly one callback, with GF_STATUS_CANCELLED. */
static void test_cancel(const char *slow_url)
{
    gf_client *client = client_for(slow_url, NULL, "c_tok_slow");
    gf_request *request = NULL;
    reset_records();
    EXPECT_OK(gf_client_user_async(client, "octocat", record_callback, &records[0], &request,
                                   &err));
    CHECK_STATUS(gf_request_cancel(request), GF_STATUS_OK);
    CHECK(wait_for_completions(1, CALLBACK_TIMEOUT_MS));
    sleep_ms(1200); /* the request on the wire ends; its result is dropped */
    check_records(1, GF_STATUS_CANCELLED, GF_STATUS_CANCELLED);
    CHECK(gf_request_is_done(request));
    CHECK_STATUS(gf_request_cancel(request), GF_STATUS_OK);
    sleep_ms(200);
    CHECK(completions() == 1);
    gf_request_free(request);
    gf_client_free(client);
}

/* Freeing the request handle does not cancel the call. */
static void test_request_freed_before_completion(const char *slow_url)
{
    gf_client *client = client_for(slow_url, NULL, "c_tok_slow");
    gf_request *request = NULL;
    reset_records();
    EXPECT_OK(gf_client_user_async(client, "octocat", record_callback, &records[0], &request,
                                   &err));
    gf_request_free(request);
    CHECK(wait_for_completions(1, CALLBACK_TIMEOUT_MS));
    check_records(1, GF_STATUS_OK, GF_STATUS_OK);
    gf_client_free(client);
}

/* Freeing a client with calls in flight: one callback each, none lost. */
static void test_free_client_in_flight(const char *slow_url)
{
    enum { CALLS = 10 };
    gf_client *client = client_for(slow_url, NULL, "c_tok_slow");
    gf_request *requests[CALLS] = {NULL};
    int started = 0;
    reset_records();
    for (int i = 0; i < CALLS; i++) {
        gf_error *err = NULL;
        gf_status status = gf_client_owner_repositories_async(
            client, "kennethreitz", record_callback, &records[i], &requests[i], &err);
        started += expect_ok_at(status, err, "async call", __FILE__, __LINE__);
    }
    gf_client_free(client);
    /* The header promises GF_STATUS_SHUT_DOWN, or the call's own result if
     * it came first; GF_STATUS_CANCELLED is for gf_request_cancel only. */
    if (!CHECK(wait_for_completions(started, CALLBACK_TIMEOUT_MS))) {
        printf("     %d of %d callbacks came\n", completions(), started);
    }
    sleep_ms(1200); /* requests still on the wire end; nothing more may come */
    CHECK(started == CALLS);
    check_records(CALLS, GF_STATUS_SHUT_DOWN, GF_STATUS_OK);
    CHECK(completions() == started);
    for (int i = 0; i < CALLS; i++) {
        CHECK(gf_request_is_done(requests[i]));
        gf_request_free(requests[i]);
    }
}

/* gf_runtime_shutdown completes every pending call (GF_STATUS_SHUT_DOWN, or
 * its own result if that came first) before it returns, waits for the
 * library's threads to end, and the next call starts a fresh runtime. */
static void test_runtime_shutdown(const char *slow_url)
{
    enum { CALLS = 10 };
    gf_client *client = client_for(slow_url, NULL, "c_tok_slow");
    gf_request *requests[CALLS] = {NULL};
    int started = 0;
    reset_records();
    for (int i = 0; i < CALLS; i++) {
        gf_error *err = NULL;
        gf_status status =
            gf_client_user_async(client, "octocat", record_callback, &records[i], &requests[i], &err);
        started += expect_ok_at(status, err, "async call", __FILE__, __LINE__);
    }
    EXPECT_OK(gf_runtime_shutdown(10000, &err));
    CHECK(started == CALLS);
    CHECK(completions() == started);
    check_records(CALLS, GF_STATUS_SHUT_DOWN, GF_STATUS_OK);
    for (int i = 0; i < CALLS; i++) {
        CHECK(gf_request_is_done(requests[i]));
        gf_request_free(requests[i]);
    }

    reset_records();
    gf_request *again = NULL;
    EXPECT_OK(gf_client_user_async(client, "octocat", record_callback, &records[0], &again, &err));
    CHECK(wait_for_completions(1, CALLBACK_TIMEOUT_MS));
    check_records(1, GF_STATUS_OK, GF_STATUS_OK);
    gf_request_free(again);
    gf_client_free(client);
    EXPECT_OK(gf_runtime_shutdown(10000, &err));
}

/* ---- main --------------------------------------------------------------- */

/* ---- the log callback ---------------------------------------------------- */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static size_t log_lines;
static size_t log_request_lines;
static bool log_leaked_secret;

static void on_log(void *user_data, gf_log_level level, const char *message)
{
    (void)user_data;
    pthread_mutex_lock(&log_lock);
    log_lines++;
    if (level == GF_LOG_DEBUG && strstr(message, "GET ") != NULL) {
        log_request_lines++;
    }
    if (contains_secret(message)) {
        log_leaked_secret = true;
    }
    pthread_mutex_unlock(&log_lock);
}

static size_t log_line_count(void)
{
    pthread_mutex_lock(&log_lock);
    size_t count = log_lines;
    pthread_mutex_unlock(&log_lock);
    return count;
}

/* Debug logging shows every request by fingerprint, never a token; turned
 * off, the callback hears nothing more. */
static void test_log_callback(const char *url)
{
    CHECK_STATUS(gf_log_set_callback(on_log, NULL, 99), GF_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(gf_log_set_callback(on_log, NULL, GF_LOG_DEBUG), GF_STATUS_OK);

    const char *secrets[] = {"c_tok_misc", "c_tok_revoked", NULL};
    gf_token_manager *m = manager_with(secrets);
    gf_client *client = client_for(url, m, NULL);
    for (int i = 0; i < 3; i++) {
        char *json = NULL;
        EXPECT_OK(gf_client_user(client, "octocat", &json, &err));
        gf_string_free(json);
    }
    pthread_mutex_lock(&log_lock);
    CHECK(log_request_lines >= 3);
    CHECK(!log_leaked_secret);
    pthread_mutex_unlock(&log_lock);

    CHECK_STATUS(gf_log_set_callback(NULL, NULL, GF_LOG_TRACE), GF_STATUS_OK);
    size_t before = log_line_count();
    char *json = NULL;
    EXPECT_OK(gf_client_user(client, "octocat", &json, &err));
    gf_string_free(json);
    CHECK(log_line_count() == before);

    gf_client_free(client);
    gf_token_manager_free(m);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s BASE_URL [SLOW_BASE_URL]\n", argv[0]);
        return 2;
    }
    const char *url = argv[1];
    const char *slow_url = argc > 2 ? argv[2] : NULL;
    caller_thread = pthread_self();
    setvbuf(stdout, NULL, _IOLBF, 0);

    test_version_and_names();
    test_free_null_is_a_no_op();
    test_null_manager_arguments();
    test_null_options_and_client_arguments(url);
    test_null_error_lease_and_request();
    test_invalid_utf8_and_enums(url);

    test_manager_add_remove_invalid();
    test_snapshot_shows_fingerprints_not_secrets();
    test_strategies();
    test_reserve();

    test_lease_success_then_spent();
    test_lease_invalid_token();
    test_lease_secondary_limit();
    test_lease_forbidden_keeps_token();
    test_lease_freed_unreported_gives_use_back();
    test_lease_garbage_and_bad_reports();
    test_lease_primary_limit_403();

    test_quota_runs_out_after_sixty(url);
    test_all_pages(url);
    test_revoked_token_is_skipped(url);
    test_user_not_found_and_empty(url);
    test_default_token_joins_once(url);
    test_log_callback(url);

    test_async_calls_complete_once(url);
    test_async_refused_calls_never_call_back(url);
    if (slow_url != NULL) {
        test_cancel(slow_url);
        test_request_freed_before_completion(slow_url);
        test_free_client_in_flight(slow_url);
        test_runtime_shutdown(slow_url);
    } else {
        printf("SKIP cancel and free-in-flight tests: no SLOW_BASE_URL given\n");
    }

    return print_summary();
}
