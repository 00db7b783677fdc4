/*
 * test_store.c - the C test of the credential store in include/gitfleet.h.
 *
 * Creates stores in a fresh temporary directory and checks, through the
 * header only: the round trip, a wrong password, a changed byte, a file
 * that is not a store, raw keys, owner-only permissions, a change of
 * password, loading into a token manager, and NULL everywhere.
 *
 * Usage: test_store (no server needed). The last line is
 * "N passed, M failed"; the exit status is non-zero if any failed.
 */

#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "gitfleet.h"

/* The cheapest Argon2id settings allowed: these tests are about the file. */
#define FAST_KIB (19u * 1024u)
#define FAST_PASSES 2u
#define FAST_LANES 1u

static char dir[256];

static void path_in_dir(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", dir, name);
}

static gf_store *create_fast(const char *path, const char *password)
{
    gf_store *store = NULL;
    EXPECT_OK(gf_store_create_with_params(path, password, FAST_KIB, FAST_PASSES, FAST_LANES,
                                          &store, &err));
    return store;
}

static size_t count_entries(const char *json)
{
    size_t count = 0;
    for (const char *p = json; (p = strstr(p, "\"fingerprint\"")) != NULL; p++) {
        count++;
    }
    return count;
}

static void test_round_trip(void)
{
    char path[512];
    path_in_dir(path, sizeof path, "round.gfs");
    gf_store *store = create_fast(path, "correct horse");
    if (!CHECK(store != NULL)) {
        return;
    }
    EXPECT_OK(gf_store_save(store, GF_PROVIDER_GITHUB, "tsecret_alpha", "alice", NULL, &err));
    EXPECT_OK(gf_store_save(store, GF_PROVIDER_GITLAB, "tsecret_bravo", NULL, "gl.example", &err));

    char *json = NULL;
    EXPECT_OK(gf_store_list_json(store, &json, &err));
    CHECK(json != NULL && count_entries(json) == 2);
    CHECK(!contains_secret(json));
    CHECK(json != NULL && strstr(json, "\"alice\"") != NULL);

    /* The fingerprint of the first entry opens its token. */
    char fingerprint[13] = {0};
    const char *at = json != NULL ? strstr(json, "\"fingerprint\":\"") : NULL;
    if (CHECK(at != NULL)) {
        memcpy(fingerprint, at + strlen("\"fingerprint\":\""), 12);
    }
    gf_string_free(json);
    gf_store_free(store);

    store = NULL;
    EXPECT_OK(gf_store_open(path, "correct horse", &store, &err));
    char *token = NULL;
    EXPECT_OK(gf_store_get_token(store, fingerprint, &token, &err));
    CHECK(token != NULL && strcmp(token, "tsecret_alpha") == 0);
    gf_secret_free(token);
    EXPECT_ERROR(GF_STATUS_NOT_FOUND, gf_store_get_token(store, "000000000000", &token, &err));

    gf_token_manager *manager = gf_token_manager_new();
    size_t loaded = 0;
    EXPECT_OK(gf_store_load_into(store, manager, &loaded, &err));
    CHECK(loaded == 2);
    size_t available = 0;
    EXPECT_OK(gf_token_manager_count_available(manager, GF_PROVIDER_GITHUB, NULL, &available,
                                               &err));
    CHECK(available == 1);

    bool removed = false;
    EXPECT_OK(gf_store_remove(store, fingerprint, &removed, &err));
    CHECK(removed);
    EXPECT_OK(gf_store_remove(store, fingerprint, &removed, &err));
    CHECK(!removed);
    EXPECT_OK(gf_store_clear(store, &err));
    json = NULL;
    EXPECT_OK(gf_store_list_json(store, &json, &err));
    CHECK(json != NULL && strcmp(json, "[]") == 0);
    gf_string_free(json);

    gf_token_manager_free(manager);
    gf_store_free(store);
}

static void test_refusals(void)
{
    char path[512];
    path_in_dir(path, sizeof path, "refuse.gfs");
    gf_store *store = create_fast(path, "right");
    EXPECT_OK(gf_store_save(store, GF_PROVIDER_GITHUB, "tsecret_charlie", NULL, NULL, &err));
    gf_store_free(store);

    gf_store *opened = NULL;
    EXPECT_ERROR(GF_STATUS_CRYPTO, gf_store_open(path, "wrong", &opened, &err));
    CHECK(opened == NULL);
    EXPECT_ERROR(GF_STATUS_IO, gf_store_create(path, "again", &opened, &err));

    /* One changed byte in the middle of the ciphertext. */
    FILE *file = fopen(path, "r+b");
    if (CHECK(file != NULL)) {
        fseek(file, 70, SEEK_SET);
        int byte = fgetc(file);
        fseek(file, 70, SEEK_SET);
        fputc(byte ^ 0x01, file);
        fclose(file);
    }
    EXPECT_ERROR(GF_STATUS_CRYPTO, gf_store_open(path, "right", &opened, &err));

    char other[512];
    path_in_dir(other, sizeof other, "notes.txt");
    file = fopen(other, "wb");
    if (CHECK(file != NULL)) {
        fputs("these are notes, not a credential store; they are long enough though", file);
        fclose(file);
    }
    EXPECT_ERROR(GF_STATUS_FORMAT, gf_store_open(other, "right", &opened, &err));
    path_in_dir(other, sizeof other, "missing.gfs");
    EXPECT_ERROR(GF_STATUS_IO, gf_store_open(other, "right", &opened, &err));
}

static void test_raw_keys(void)
{
    char path[512];
    path_in_dir(path, sizeof path, "raw.gfs");
    uint8_t key[32];
    memset(key, 0x5a, sizeof key);
    gf_store *store = NULL;
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_store_create_with_key(path, key, 31, &store, &err));
    EXPECT_OK(gf_store_create_with_key(path, key, sizeof key, &store, &err));
    EXPECT_OK(gf_store_save(store, GF_PROVIDER_GITHUB, "tsecret_delta", NULL, NULL, &err));
    gf_store_free(store);

    store = NULL;
    EXPECT_OK(gf_store_open_with_key(path, key, sizeof key, &store, &err));
    gf_store_free(store);
    key[0] ^= 1;
    store = NULL;
    EXPECT_ERROR(GF_STATUS_CRYPTO, gf_store_open_with_key(path, key, sizeof key, &store, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_store_open(path, "a password", &store, &err));
}

static void test_permissions_and_password_change(void)
{
    char path[512];
    path_in_dir(path, sizeof path, "mode.gfs");
    gf_store *store = create_fast(path, "first");
    struct stat info;
    if (CHECK(stat(path, &info) == 0)) {
        CHECK((info.st_mode & 0777) == 0600);
    }
    EXPECT_OK(gf_store_save(store, GF_PROVIDER_GITHUB, "tsecret_echo", NULL, NULL, &err));
    EXPECT_OK(gf_store_change_password(store, "second", &err));
    gf_store_free(store);

    gf_store *opened = NULL;
    EXPECT_ERROR(GF_STATUS_CRYPTO, gf_store_open(path, "first", &opened, &err));
    EXPECT_OK(gf_store_open(path, "second", &opened, &err));
    char *json = NULL;
    EXPECT_OK(gf_store_list_json(opened, &json, &err));
    CHECK(json != NULL && count_entries(json) == 1);
    gf_string_free(json);
    gf_store_free(opened);
}

static void test_null_arguments(void)
{
    gf_store *store = NULL;
    char *out = NULL;
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_store_open(NULL, "pw", &store, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_store_open("/tmp/x", NULL, &store, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_store_open_with_key("/tmp/x", NULL, 32, &store,
                                                                    &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_store_save(NULL, 0, "t", NULL, NULL, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_store_list_json(NULL, &out, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_store_get_token(NULL, "x", &out, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_store_clear(NULL, &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_store_change_password(NULL, "x", &err));
    EXPECT_ERROR(GF_STATUS_INVALID_ARGUMENT, gf_store_load_into(NULL, NULL, NULL, &err));
    gf_store_free(NULL);
    gf_secret_free(NULL);
    CHECK(store == NULL && out == NULL);
}

int main(void)
{
    snprintf(dir, sizeof dir, "%s/gitfleet-c-store-XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 2;
    }

    test_round_trip();
    test_refusals();
    test_raw_keys();
    test_permissions_and_password_change();
    test_null_arguments();

    char command[512];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    if (system(command) != 0) {
        printf("could not remove %s\n", dir);
    }
    return print_summary();
}
