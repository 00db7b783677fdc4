/*
 * store_tokens.c - saves GitHub tokens into an encrypted credential store,
 * once, so that programs can later read them from the store instead of the
 * environment (see examples/token_manager.c and GITFLEET_STORE).
 *
 * Usage: GITFLEET_STORE_PASSWORD=... GITHUB_TOKENS=tok1,tok2 store_tokens FILE
 *   FILE is created (owner-only) when it does not exist. The tokens come
 *   from GITHUB_TOKENS (comma separated) or GITHUB_TOKEN; the password from
 *   GITFLEET_STORE_PASSWORD. Prints what the store then holds, by
 *   fingerprint; never a token.
 *
 * Build (from the repository root, after `cargo build -p gitfleet`):
 *   gcc -std=c11 -Wall -Wextra -Wpedantic -Werror -Iinclude examples/store_tokens.c \
 *       target/debug/libgitfleet.a -lpthread -ldl -lm -o build/store_tokens
 */

#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gitfleet.h"

static int fail(const char *what, gf_status status, gf_error *err)
{
    fprintf(stderr, "%s: %s: %s\n", what, gf_status_name(status), gf_error_message(err));
    gf_error_free(err);
    return 1;
}

/* Opens FILE, or creates it when it does not exist yet. */
static gf_status open_or_create(const char *path, const char *password, gf_store **store,
                                gf_error **err)
{
    if (access(path, F_OK) == 0) {
        return gf_store_open(path, password, store, err);
    }
    printf("Creating %s\n", path);
    return gf_store_create(path, password, store, err);
}

/* Saves each comma-separated token of `list`; returns how many. */
static int save_tokens(gf_store *store, const char *list, gf_error **err, gf_status *status)
{
    char *copy = strdup(list);
    int saved = 0;
    char *rest = NULL;
    for (char *token = copy != NULL ? strtok_r(copy, ",", &rest) : NULL; token != NULL;
         token = strtok_r(NULL, ",", &rest)) {
        while (*token == ' ') {
            token++;
        }
        token[strcspn(token, " ")] = '\0';
        if (*token == '\0') {
            continue;
        }
        *status = gf_store_save(store, GF_PROVIDER_GITHUB, token, NULL, NULL, err);
        if (*status != GF_STATUS_OK) {
            break;
        }
        saved++;
    }
    if (copy != NULL) {
        memset(copy, 0, strlen(list));
        free(copy);
    }
    return saved;
}

int main(int argc, char **argv)
{
    const char *tokens = getenv("GITHUB_TOKENS");
    if (tokens == NULL || tokens[0] == '\0') {
        tokens = getenv("GITHUB_TOKEN");
    }
    const char *password = getenv("GITFLEET_STORE_PASSWORD");
    if (argc != 2 || tokens == NULL || tokens[0] == '\0' || password == NULL ||
        password[0] == '\0') {
        fprintf(stderr, "usage: GITFLEET_STORE_PASSWORD=... GITHUB_TOKENS=tok1,tok2 "
                        "store_tokens FILE\n");
        return 2;
    }

    gf_store *store = NULL;
    gf_error *err = NULL;
    gf_status status = open_or_create(argv[1], password, &store, &err);
    if (status != GF_STATUS_OK) {
        return fail("Could not open the store", status, err);
    }
    status = GF_STATUS_OK;
    int saved = save_tokens(store, tokens, &err, &status);
    if (status != GF_STATUS_OK) {
        gf_store_free(store);
        return fail("Could not save a token", status, err);
    }

    char *listed = NULL;
    status = gf_store_list_json(store, &listed, &err);
    gf_store_free(store);
    if (status != GF_STATUS_OK) {
        return fail("Could not list the store", status, err);
    }
    printf("Saved %d token(s). The store now holds: %s\n", saved, listed);
    gf_string_free(listed);
    return 0;
}
