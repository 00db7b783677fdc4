/*
 * check.h - the few checks the C tests share: CHECK records a failure with
 * file:line and goes on; EXPECT_OK / EXPECT_ERROR run a call that passes
 * `&err` and check its status, its error object, and that no secret leaks
 * into the message. Each test program ends with print_summary().
 */

#ifndef GITFLEET_TESTS_CHECK_H
#define GITFLEET_TESTS_CHECK_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "gitfleet.h"

/* Every secret used below contains one of these, so that any output of the
 * library can be checked for leaked tokens. */
#define LOCAL_SECRET_MARK "tsecret_"
#define EMULATOR_SECRET_MARK "c_tok_"

/* ---- checks ------------------------------------------------------------- */

static int passed;
static int failed;

static inline bool check_at(bool ok, const char *what, const char *file, int line)
{
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s:%d: %s\n", file, line, what);
    }
    return ok;
}

#define CHECK(cond) check_at((cond), #cond, __FILE__, __LINE__)

static inline bool check_status_at(gf_status got, gf_status want, const char *what,
                                   const char *file, int line)
{
    if (got == want) {
        passed++;
        return true;
    }
    failed++;
    printf("FAIL %s:%d: %s gave %s, expected %s\n", file, line, what, gf_status_name(got),
           gf_status_name(want));
    return false;
}

#define CHECK_STATUS(call, want) check_status_at((call), (want), #call, __FILE__, __LINE__)

static inline bool contains_secret(const char *text)
{
    return text != NULL &&
           (strstr(text, LOCAL_SECRET_MARK) != NULL || strstr(text, EMULATOR_SECRET_MARK) != NULL);
}

/* A failed call must give `want`, and an error carrying it and a message
 * (with no secret in it). */
static inline void check_error_at(gf_status got, gf_status want, const gf_error *err,
                                  const char *what, const char *file, int line)
{
    if (!check_status_at(got, want, what, file, line)) {
        return;
    }
    check_at(err != NULL, "*err was filled", file, line);
    check_at(gf_error_status(err) == want, "gf_error_status matches", file, line);
    check_at(gf_error_message(err)[0] != '\0', "the error has a message", file, line);
    check_at(!contains_secret(gf_error_message(err)), "no secret in the message", file, line);
}

/* Runs `call`, which must pass `&err`, and checks it fails with `want`. */
#define EXPECT_ERROR(want, call)                                                                \
    do {                                                                                        \
        gf_error *err = NULL;                                                                   \
        gf_status got_ = (call);                                                                \
        check_error_at(got_, (want), err, #call, __FILE__, __LINE__);                           \
        gf_error_free(err);                                                                     \
    } while (0)

/* Runs `call`, which must pass `&err`, and checks it succeeds; on failure
 * prints the library's message. Evaluates to true on success. */
static inline bool expect_ok_at(gf_status got, gf_error *err, const char *what,
                                const char *file, int line)
{
    bool ok = check_status_at(got, GF_STATUS_OK, what, file, line);
    if (!ok) {
        printf("     message: %s\n", gf_error_message(err));
    }
    check_at(ok || err != NULL, "a failure filled *err", file, line);
    gf_error_free(err);
    return ok;
}

#define EXPECT_OK(call)                                                                         \
    do {                                                                                        \
        gf_error *err = NULL;                                                                   \
        expect_ok_at((call), err, #call, __FILE__, __LINE__);                                   \
    } while (0)

/* Prints the closing "N passed, M failed" line; the exit status to return. */
static inline int print_summary(void)
{
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

#endif /* GITFLEET_TESTS_CHECK_H */
