/*
 * token_manager.c - GitFleet's token-manager workflow, in C.
 *
 * The same steps as the Python GitFleet example, on the gitfleet C ABI:
 *   1. read the tokens from GITHUB_TOKENS (comma separated) or GITHUB_TOKEN
 *      -- or, when GITFLEET_STORE names an encrypted credential store, from
 *      that store, opened with GITFLEET_STORE_PASSWORD -- and the API root
 *      from GITHUB_API_URL;
 *   2. pool them in a token manager;
 *   3. build a client that draws its tokens from the pool;
 *   4. show every token's rate limit (GET /rate_limit costs no quota);
 *   5. list the repositories of a few owners (the command-line arguments, or
 *      a default set), showing how many tokens are left after each;
 *   6. if some owners failed because every token was spent and the earliest
 *      reset is near (GITFLEET_MAX_WAIT seconds, default 60), wait for it and
 *      retry those owners once;
 *   7. print a summary and the final state of every token.
 *
 * Tokens are secrets: this program prints fingerprints only, never a token.
 * JSON documents from the library are read with json-c.
 *
 * Build (from the repository root, after `cargo build -p gitfleet`):
 *   gcc -std=c11 -Wall -Wextra -Wpedantic -Werror -Iinclude \
 *       examples/token_manager.c target/debug/libgitfleet.a \
 *       -ljson-c -lpthread -ldl -lm -o build/token_manager
 *
 * Exit status: 0 when the workflow ran (even if some owners could not be
 * listed), 1 when no token is configured, 2 on any other setup error.
 */

#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "gitfleet.h"

#define DEFAULT_API_URL "https://api.github.com"
#define DEFAULT_MAX_WAIT_S 60

enum exit_code { EXIT_RAN = 0, EXIT_NO_TOKENS = 1, EXIT_SETUP = 2 };

static const char *const DEFAULT_OWNERS[] = {
    "octocat", "torvalds", "gvanrossum", "kennethreitz", "yyx990803",
};

/* The tokens read from the environment. Secrets: wiped before freeing. */
struct token_list {
    char **items;
    size_t count;
};

/* What listing one owner's repositories gave. */
struct owner_result {
    const char *owner;
    gf_status status;
    size_t repositories;
    uint64_t reset; /* for GF_STATUS_RATE_LIMITED: earliest reset, Unix s */
};

/* ---- small helpers ------------------------------------------------------ */

/* Overwrites a string in a way the compiler may not drop. */
static void wipe(char *s)
{
    volatile char *p = s;
    while (*p != '\0') {
        *p++ = '\0';
    }
}

/* Formats Unix seconds as local time, "2024-05-01 12:34:56 CEST". */
static const char *local_time(uint64_t unix_s, char *buf, size_t len)
{
    time_t t = (time_t)unix_s;
    struct tm tm;
    if (localtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0) {
        snprintf(buf, len, "%" PRIu64 " (Unix time)", unix_s);
    }
    return buf;
}

static uint64_t now_unix(void)
{
    return (uint64_t)time(NULL);
}

/* Seconds from now until unix_s; 0 when it is past. */
static uint64_t seconds_until(uint64_t unix_s)
{
    uint64_t now = now_unix();
    return unix_s > now ? unix_s - now : 0;
}

static void sleep_seconds(uint64_t seconds)
{
    struct timespec left = {.tv_sec = (time_t)seconds, .tv_nsec = 0};
    while (nanosleep(&left, &left) != 0 && errno == EINTR) {
    }
}

/* Prints a library error after `what`, then frees it. */
static void report_error(const char *what, gf_status status, gf_error *err)
{
    fprintf(stderr, "%s: %s: %s\n", what, gf_status_name(status), gf_error_message(err));
    gf_error_free(err);
}

/* ---- step 1: configuration ---------------------------------------------- */

/* Copies s[0..len) without surrounding spaces; NULL when nothing is left. */
static char *trimmed_copy(const char *s, size_t len)
{
    while (len > 0 && isspace((unsigned char)s[0])) {
        s++;
        len--;
    }
    while (len > 0 && isspace((unsigned char)s[len - 1])) {
        len--;
    }
    if (len == 0) {
        return NULL;
    }
    char *copy = malloc(len + 1);
    if (copy != NULL) {
        memcpy(copy, s, len);
        copy[len] = '\0';
    }
    return copy;
}

static bool token_list_push(struct token_list *list, char *token)
{
    char **grown = realloc(list->items, (list->count + 1) * sizeof *grown);
    if (grown == NULL) {
        return false;
    }
    list->items = grown;
    list->items[list->count++] = token;
    return true;
}

static void token_list_free(struct token_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        wipe(list->items[i]);
        free(list->items[i]);
    }
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

/* Splits a comma-separated list into trimmed, non-empty tokens. */
static bool parse_tokens(const char *text, struct token_list *list)
{
    const char *start = text;
    for (;;) {
        const char *comma = strchr(start, ',');
        size_t len = comma != NULL ? (size_t)(comma - start) : strlen(start);
        char *token = trimmed_copy(start, len);
        if (token != NULL && !token_list_push(list, token)) {
            wipe(token);
            free(token);
            return false;
        }
        if (comma == NULL) {
            return true;
        }
        start = comma + 1;
    }
}

/* GITHUB_TOKENS if it names any token, else GITHUB_TOKEN. */
static bool read_tokens(struct token_list *list)
{
    const char *many = getenv("GITHUB_TOKENS");
    if (many != NULL && !parse_tokens(many, list)) {
        return false;
    }
    const char *one = getenv("GITHUB_TOKEN");
    if (list->count == 0 && one != NULL) {
        return parse_tokens(one, list);
    }
    return true;
}

static const char *api_url(void)
{
    const char *url = getenv("GITHUB_API_URL");
    return url != NULL && url[0] != '\0' ? url : DEFAULT_API_URL;
}

/* GITFLEET_MAX_WAIT in seconds, DEFAULT_MAX_WAIT_S when unset or unreadable. */
static uint64_t max_wait_seconds(void)
{
    const char *text = getenv("GITFLEET_MAX_WAIT");
    if (text == NULL || text[0] == '\0') {
        return DEFAULT_MAX_WAIT_S;
    }
    char *end = NULL;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0' || value < 0) {
        fprintf(stderr, "GITFLEET_MAX_WAIT=\"%s\" is not a number of seconds; using %d\n",
                text, DEFAULT_MAX_WAIT_S);
        return DEFAULT_MAX_WAIT_S;
    }
    return (uint64_t)value;
}

static bool running_against_emulator(void)
{
    const char *flag = getenv("GITFLEET_EMULATOR");
    return flag != NULL && strcmp(flag, "1") == 0;
}

static void print_no_token_help(void)
{
    fprintf(stderr,
            "No GitHub token found.\n"
            "Set GITHUB_TOKENS to a comma-separated list of tokens, or GITHUB_TOKEN to one\n"
            "token, e.g.  GITHUB_TOKENS=ghp_one,ghp_two build/token_manager\n"
            "Or run `make demo`, which starts the local GitHub API emulator with\n"
            "simulated tokens and runs this example against it.\n");
}

static void print_emulator_banner(void)
{
    printf("\n"
           "************************************************************************\n"
           "*  DEMO MODE: this run talks to the local GitHub API emulator, with    *\n"
           "*  simulated tokens. It does NOT talk to GitHub.                       *\n"
           "************************************************************************\n"
           "\n");
}

/* ---- steps 2 and 3: the pool and the client ----------------------------- */

static gf_token_manager *make_manager(const struct token_list *tokens)
{
    gf_token_manager *manager = gf_token_manager_new();
    for (size_t i = 0; i < tokens->count; i++) {
        gf_error *err = NULL;
        gf_status status = gf_token_manager_add_token(manager, GF_PROVIDER_GITHUB,
                                                      tokens->items[i], NULL, 0, &err);
        if (status != GF_STATUS_OK) {
            char what[64];
            snprintf(what, sizeof what, "Could not add token %zu", i + 1);
            report_error(what, status, err);
            gf_token_manager_free(manager);
            return NULL;
        }
    }
    return manager;
}

/* A pool filled from the encrypted credential store at `path`, opened with
 * the password in GITFLEET_STORE_PASSWORD; NULL (after a message) on error. */
static gf_token_manager *manager_from_store(const char *path)
{
    const char *password = getenv("GITFLEET_STORE_PASSWORD");
    if (password == NULL || password[0] == '\0') {
        fprintf(stderr, "GITFLEET_STORE is set: put the store's password in "
                        "GITFLEET_STORE_PASSWORD\n");
        return NULL;
    }
    gf_store *store = NULL;
    gf_error *err = NULL;
    gf_status status = gf_store_open(path, password, &store, &err);
    if (status != GF_STATUS_OK) {
        report_error("Could not open the credential store", status, err);
        return NULL;
    }
    gf_token_manager *manager = gf_token_manager_new();
    size_t loaded = 0;
    status = gf_store_load_into(store, manager, &loaded, &err);
    gf_store_free(store);
    if (status != GF_STATUS_OK) {
        report_error("Could not load the credential store", status, err);
        gf_token_manager_free(manager);
        return NULL;
    }
    printf("Loaded %zu token(s) from the credential store %s\n", loaded, path);
    return manager;
}

static gf_client *make_client(const char *url, const char *default_token,
                              const gf_token_manager *manager)
{
    gf_client_options *options = gf_client_options_new();
    gf_client *client = NULL;
    gf_error *err = NULL;
    gf_status status = gf_client_options_set_base_url(options, url, &err);
    if (status == GF_STATUS_OK && default_token != NULL) {
        status = gf_client_options_set_token(options, default_token, &err);
    }
    if (status == GF_STATUS_OK) {
        status = gf_client_options_set_token_manager(options, manager, &err);
    }
    if (status == GF_STATUS_OK) {
        status = gf_client_new(options, &client, &err);
    }
    gf_client_options_free(options);
    if (status != GF_STATUS_OK) {
        report_error("Could not create the client", status, err);
        return NULL;
    }
    return client;
}

/* ---- reading snapshots -------------------------------------------------- */

/* The parsed snapshot of the pool (a JSON array), or NULL on error. */
static json_object *pool_snapshot(const gf_token_manager *manager)
{
    char *text = NULL;
    gf_error *err = NULL;
    gf_status status = gf_token_manager_snapshot_json(manager, &text, &err);
    if (status != GF_STATUS_OK) {
        report_error("Could not read the pool", status, err);
        return NULL;
    }
    json_object *snapshot = json_tokener_parse(text);
    gf_string_free(text);
    if (snapshot == NULL || !json_object_is_type(snapshot, json_type_array)) {
        fprintf(stderr, "The pool's snapshot is not a JSON array\n");
        json_object_put(snapshot);
        return NULL;
    }
    return snapshot;
}

static const char *string_field(json_object *object, const char *key, const char *fallback)
{
    json_object *value = NULL;
    if (json_object_object_get_ex(object, key, &value) &&
        json_object_is_type(value, json_type_string)) {
        return json_object_get_string(value);
    }
    return fallback;
}

/* A non-negative integer field; false when absent or null. */
static bool count_field(json_object *object, const char *key, uint64_t *out)
{
    json_object *value = NULL;
    if (!json_object_object_get_ex(object, key, &value) ||
        !json_object_is_type(value, json_type_int)) {
        return false;
    }
    int64_t number = json_object_get_int64(value);
    if (number < 0) {
        return false;
    }
    *out = (uint64_t)number;
    return true;
}

/* The "core" figures of one token in a snapshot, or NULL if none yet. */
static json_object *core_figures(json_object *token)
{
    json_object *resources = NULL;
    json_object *core = NULL;
    if (json_object_object_get_ex(token, "resources", &resources) &&
        json_object_object_get_ex(resources, "core", &core) &&
        json_object_is_type(core, json_type_object)) {
        return core;
    }
    return NULL;
}

/* The human form of a token's state ("Rate limited (resets at ...)"). */
static const char *describe_status(json_object *token, char *buf, size_t len)
{
    const char *status = string_field(token, "status", "unknown");
    uint64_t at = 0;
    bool has_time = count_field(token, "available_at", &at);
    char when[64];
    if (strcmp(status, "available") == 0) {
        snprintf(buf, len, "Available");
    } else if (strcmp(status, "rate_limited") == 0) {
        snprintf(buf, len, "Rate limited (resets at %s)",
                 has_time ? local_time(at, when, sizeof when) : "an unknown time");
    } else if (strcmp(status, "cooling_down") == 0) {
        snprintf(buf, len, "Cooling down until %s",
                 has_time ? local_time(at, when, sizeof when) : "an unknown time");
    } else if (strcmp(status, "invalid") == 0) {
        snprintf(buf, len, "Invalid");
    } else {
        snprintf(buf, len, "Unknown status \"%s\"", status);
    }
    return buf;
}

static size_t pool_size(const gf_token_manager *manager)
{
    json_object *snapshot = pool_snapshot(manager);
    size_t size = snapshot != NULL ? json_object_array_length(snapshot) : 0;
    json_object_put(snapshot);
    return size;
}

/* ---- step 4: rate limits ------------------------------------------------ */

/* The error the refresh gave for one token ("authentication failed: ..."),
 * or NULL. `refreshed` is the object keyed by fingerprint it returned. */
static const char *refresh_error(json_object *refreshed, const char *fingerprint)
{
    json_object *entry = NULL;
    if (refreshed == NULL || !json_object_object_get_ex(refreshed, fingerprint, &entry)) {
        return NULL;
    }
    return string_field(entry, "error", NULL);
}

/* "remaining/limit, resets at TIME" from a token's core figures. */
static const char *describe_core(json_object *token, const char *error, char *buf, size_t len)
{
    json_object *core = core_figures(token);
    uint64_t remaining = 0;
    uint64_t limit = 0;
    uint64_t reset = 0;
    if (core == NULL || !count_field(core, "limit", &limit)) {
        snprintf(buf, len, "no figures (%s)", error != NULL ? error : "not reported yet");
        return buf;
    }
    char when[64];
    char left[32];
    if (count_field(core, "remaining", &remaining)) {
        snprintf(left, sizeof left, "%" PRIu64, remaining);
    } else {
        snprintf(left, sizeof left, "?");
    }
    snprintf(buf, len, "%s/%" PRIu64 ", resets at %s", left, limit,
             count_field(core, "reset", &reset) ? local_time(reset, when, sizeof when)
                                                : "an unknown time");
    return buf;
}

static void print_token_lines(json_object *snapshot, json_object *refreshed)
{
    size_t count = json_object_array_length(snapshot);
    for (size_t i = 0; i < count; i++) {
        json_object *token = json_object_array_get_idx(snapshot, i);
        const char *fingerprint = string_field(token, "fingerprint", "?");
        char figures[192];
        char status[128];
        printf("  Token %zu (%s): %s, %s\n", i + 1, fingerprint,
               describe_core(token, refresh_error(refreshed, fingerprint), figures,
                             sizeof figures),
               describe_status(token, status, sizeof status));
    }
}

static void show_rate_limits(const gf_client *client, const gf_token_manager *manager)
{
    printf("Rate limits (GET /rate_limit, no quota used):\n");
    char *text = NULL;
    gf_error *err = NULL;
    gf_status status = gf_client_refresh_rate_limits(client, &text, &err);
    json_object *refreshed = NULL;
    if (status == GF_STATUS_OK) {
        refreshed = json_tokener_parse(text);
        gf_string_free(text);
    } else {
        report_error("  Could not refresh the rate limits", status, err);
    }

    json_object *snapshot = pool_snapshot(manager);
    if (snapshot != NULL) {
        print_token_lines(snapshot, refreshed);
        json_object_put(snapshot);
    }
    json_object_put(refreshed);
    printf("\n");
}

/* ---- step 5: listing repositories --------------------------------------- */

static void print_available(const gf_token_manager *manager, size_t total)
{
    size_t available = 0;
    gf_error *err = NULL;
    gf_status status =
        gf_token_manager_count_available(manager, GF_PROVIDER_GITHUB, NULL, &available, &err);
    if (status != GF_STATUS_OK) {
        report_error("  Could not count the available tokens", status, err);
        return;
    }
    printf("  %zu/%zu tokens available\n", available, total);
}

/* One line showing what each token has left, so rotation is visible:
 * "  per token: 0a29b51f3386 invalid, b8482204807a 1/2 left, ...". */
static void print_pool_line(const gf_token_manager *manager)
{
    json_object *snapshot = pool_snapshot(manager);
    if (snapshot == NULL) {
        return;
    }
    printf("  per token:");
    size_t count = json_object_array_length(snapshot);
    for (size_t i = 0; i < count; i++) {
        json_object *token = json_object_array_get_idx(snapshot, i);
        json_object *core = core_figures(token);
        const char *status = string_field(token, "status", "unknown");
        uint64_t remaining = 0;
        uint64_t limit = 0;
        printf("%s %s ", i == 0 ? "" : ",", string_field(token, "fingerprint", "?"));
        if (strcmp(status, "available") != 0 && strcmp(status, "rate_limited") != 0) {
            printf("%s", strcmp(status, "cooling_down") == 0 ? "cooling down" : status);
        } else if (core != NULL && count_field(core, "remaining", &remaining) &&
                   count_field(core, "limit", &limit)) {
            printf("%" PRIu64 "/%" PRIu64 " left", remaining, limit);
        } else {
            printf("%s", status);
        }
    }
    printf("\n");
    json_object_put(snapshot);
}

/* Counts the elements of a JSON array document; false if it is not one. */
static bool count_array(const char *text, size_t *out)
{
    json_object *array = json_tokener_parse(text);
    bool ok = array != NULL && json_object_is_type(array, json_type_array);
    if (ok) {
        *out = json_object_array_length(array);
    }
    json_object_put(array);
    return ok;
}

static void print_owner_error(const struct owner_result *result, const gf_error *err)
{
    printf("  Could not list %s: %s: %s\n", result->owner, gf_status_name(result->status),
           gf_error_message(err));
    if (result->status == GF_STATUS_RATE_LIMITED) {
        char when[64];
        printf("  Every token is spent; the earliest reset is at %s (in %" PRIu64 " s)\n",
               local_time(result->reset, when, sizeof when), seconds_until(result->reset));
    }
}

static void list_owner(const gf_client *client, const gf_token_manager *manager,
                       size_t pool_total, struct owner_result *result)
{
    char *json = NULL;
    gf_error *err = NULL;
    result->status = gf_client_owner_repositories(client, result->owner, &json, &err);
    result->reset = 0;
    if (result->status == GF_STATUS_OK && !count_array(json, &result->repositories)) {
        printf("  Could not read the answer for %s (not a JSON array)\n", result->owner);
        result->status = GF_STATUS_DECODE;
    } else if (result->status == GF_STATUS_OK) {
        printf("Found %zu repositories for %s\n", result->repositories, result->owner);
    } else {
        result->reset = gf_error_reset(err);
        print_owner_error(result, err);
    }
    gf_string_free(json);
    gf_error_free(err);
    print_available(manager, pool_total);
    print_pool_line(manager);
}

/* ---- step 6: waiting for a reset ---------------------------------------- */

/* The earliest reset among owners that failed with a rate limit, or 0. */
static uint64_t earliest_failed_reset(const struct owner_result *results, size_t count)
{
    uint64_t earliest = 0;
    for (size_t i = 0; i < count; i++) {
        if (results[i].status == GF_STATUS_RATE_LIMITED && results[i].reset != 0 &&
            (earliest == 0 || results[i].reset < earliest)) {
            earliest = results[i].reset;
        }
    }
    return earliest;
}

static size_t count_rate_limited(const struct owner_result *results, size_t count)
{
    size_t limited = 0;
    for (size_t i = 0; i < count; i++) {
        limited += results[i].status == GF_STATUS_RATE_LIMITED;
    }
    return limited;
}

/* When the pool says a token is back: its own earliest reset, or failing
 * that (tokens already back) the one the failures carried. */
static uint64_t next_reset(const gf_token_manager *manager, uint64_t from_failures)
{
    uint64_t reset = 0;
    gf_error *err = NULL;
    gf_status status =
        gf_token_manager_earliest_reset(manager, GF_PROVIDER_GITHUB, NULL, &reset, &err);
    if (status != GF_STATUS_OK) {
        report_error("Could not read the earliest reset", status, err);
        return from_failures;
    }
    return reset != 0 ? reset : from_failures;
}

static void retry_rate_limited(const gf_client *client, const gf_token_manager *manager,
                               size_t pool_total, struct owner_result *results, size_t count)
{
    size_t limited = count_rate_limited(results, count);
    if (limited == 0) {
        return;
    }
    uint64_t max_wait = max_wait_seconds();
    uint64_t reset = next_reset(manager, earliest_failed_reset(results, count));
    uint64_t wait = seconds_until(reset);
    char when[64];
    printf("\n%zu owner(s) failed because every token was spent.\n", limited);
    if (reset == 0 || wait > max_wait) {
        printf("The earliest reset (%s) is more than %" PRIu64
               " s away (GITFLEET_MAX_WAIT); not waiting.\n",
               reset != 0 ? local_time(reset, when, sizeof when) : "unknown", max_wait);
        return;
    }
    printf("Waiting until the earliest reset at %s (%" PRIu64 " s, limit %" PRIu64
           " s), then retrying them once.\n",
           local_time(reset, when, sizeof when), wait + 1, max_wait);
    fflush(stdout);
    sleep_seconds(wait + 1);
    for (size_t i = 0; i < count; i++) {
        if (results[i].status == GF_STATUS_RATE_LIMITED) {
            list_owner(client, manager, pool_total, &results[i]);
        }
    }
}

/* ---- step 7: summary ---------------------------------------------------- */

static void print_summary(const struct owner_result *results, size_t count)
{
    size_t total = 0;
    printf("\nSummary\n");
    for (size_t i = 0; i < count; i++) {
        if (results[i].status == GF_STATUS_OK) {
            total += results[i].repositories;
            printf("  %-16s %zu repositories\n", results[i].owner, results[i].repositories);
        } else {
            printf("  %-16s failed (%s)\n", results[i].owner, gf_status_name(results[i].status));
        }
    }
    printf("  Total: %zu repositories\n", total);
}

static void print_final_token_states(const gf_token_manager *manager)
{
    json_object *snapshot = pool_snapshot(manager);
    if (snapshot == NULL) {
        return;
    }
    printf("\nFinal token status\n");
    size_t count = json_object_array_length(snapshot);
    for (size_t i = 0; i < count; i++) {
        json_object *token = json_object_array_get_idx(snapshot, i);
        char status[128];
        printf("  Token %zu (%s): %s\n", i + 1, string_field(token, "fingerprint", "?"),
               describe_status(token, status, sizeof status));
    }
    json_object_put(snapshot);
}

/* ---- the workflow ------------------------------------------------------- */

/* Runs steps 3 to 7 on a filled pool; takes ownership of `manager`.
 * `default_token` (may be NULL) joins the pool once, as in the reference. */
static int run_workflow(gf_token_manager *manager, const char *default_token, const char *url,
                        const char *const *owners, size_t owner_count)
{
    gf_client *client = make_client(url, default_token, manager);
    struct owner_result *results = calloc(owner_count, sizeof *results);
    if (client == NULL || results == NULL) {
        if (results == NULL) {
            fprintf(stderr, "Out of memory\n");
        }
        gf_client_free(client);
        gf_token_manager_free(manager);
        free(results);
        return EXIT_SETUP;
    }

    size_t total = pool_size(manager);
    printf("Pool: %zu distinct token(s)\n\n", total);
    show_rate_limits(client, manager);

    printf("Listing repositories\n");
    for (size_t i = 0; i < owner_count; i++) {
        results[i].owner = owners[i];
        list_owner(client, manager, total, &results[i]);
    }
    retry_rate_limited(client, manager, total, results, owner_count);
    print_summary(results, owner_count);
    print_final_token_states(manager);

    free(results);
    gf_client_free(client);
    gf_token_manager_free(manager);
    return EXIT_RAN;
}

int main(int argc, char **argv)
{
    const char *url = api_url();
    const char *const *owners = DEFAULT_OWNERS;
    size_t owner_count = sizeof DEFAULT_OWNERS / sizeof DEFAULT_OWNERS[0];
    if (argc > 1) {
        owners = (const char *const *)&argv[1];
        owner_count = (size_t)(argc - 1);
    }

    const char *store_path = getenv("GITFLEET_STORE");
    if (store_path != NULL && store_path[0] != '\0') {
        printf("gitfleet %s: token manager example\n", gf_version());
        if (running_against_emulator()) {
            print_emulator_banner();
        }
        gf_token_manager *manager = manager_from_store(store_path);
        if (manager == NULL) {
            return EXIT_SETUP;
        }
        printf("Using the stored GitHub token(s) against %s\n", url);
        return run_workflow(manager, NULL, url, owners, owner_count);
    }

    struct token_list tokens = {NULL, 0};
    if (!read_tokens(&tokens)) {
        fprintf(stderr, "Out of memory reading the tokens\n");
        token_list_free(&tokens);
        return EXIT_SETUP;
    }
    if (tokens.count == 0) {
        print_no_token_help();
        token_list_free(&tokens);
        return EXIT_NO_TOKENS;
    }

    printf("gitfleet %s: token manager example\n", gf_version());
    if (running_against_emulator()) {
        print_emulator_banner();
    }
    printf("Using %zu GitHub token(s) against %s\n", tokens.count, url);

    gf_token_manager *manager = make_manager(&tokens);
    int code = EXIT_SETUP;
    if (manager != NULL) {
        code = run_workflow(manager, tokens.items[0], url, owners, owner_count);
    }
    token_list_free(&tokens);
    return code;
}
