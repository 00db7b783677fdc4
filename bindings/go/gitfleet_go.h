/*
 * gitfleet_go.h - C helpers of the Go package (not part of the C API).
 *
 * cgo cannot call a C function pointer or pass a Go integer as a void *
 * without `go vet` rightly complaining, so the async calls start here:
 * gfgo_start takes the call's cgo.Handle as a uintptr_t and hands it to the
 * library as user_data, with gfgo_callback as the callback, which passes it
 * on to the Go trampoline gitfleetComplete (callback.go).
 */

#ifndef GITFLEET_GO_H
#define GITFLEET_GO_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gitfleet.h"

/* The client calls, one per _async function of the C API. */
enum gfgo_op {
    GFGO_RATE_LIMIT,
    GFGO_REFRESH_RATE_LIMITS,
    GFGO_AUTHENTICATED_USER,
    GFGO_USER,
    GFGO_OWNER_REPOSITORIES,
    GFGO_REPOSITORY,
    GFGO_CONTRIBUTORS,
    GFGO_BRANCHES,
    GFGO_VALIDATE_TOKEN,
    GFGO_VALIDATE_POOL,
};

/* The Go trampoline, exported by callback.go. */
extern void gitfleetComplete(uintptr_t call, gf_status status, char *json, gf_error *error);

/* The gf_callback of every call the Go package starts. */
static inline void gfgo_callback(void *user_data, gf_status status, const char *json,
                                 const gf_error *error)
{
    gitfleetComplete((uintptr_t)user_data, status, (char *)json, (gf_error *)error);
}

/* Starts client call `op` with arguments `a` and `b` (those it takes). */
static inline gf_status gfgo_start(const gf_client *client, int op, const char *a,
                                   const char *b, uintptr_t call, gf_request **out_request,
                                   gf_error **err)
{
    void *data = (void *)call;
    gf_callback cb = gfgo_callback;
    switch (op) {
    case GFGO_RATE_LIMIT:
        return gf_client_rate_limit_async(client, cb, data, out_request, err);
    case GFGO_REFRESH_RATE_LIMITS:
        return gf_client_refresh_rate_limits_async(client, cb, data, out_request, err);
    case GFGO_AUTHENTICATED_USER:
        return gf_client_authenticated_user_async(client, cb, data, out_request, err);
    case GFGO_USER:
        return gf_client_user_async(client, a, cb, data, out_request, err);
    case GFGO_OWNER_REPOSITORIES:
        return gf_client_owner_repositories_async(client, a, cb, data, out_request, err);
    case GFGO_REPOSITORY:
        return gf_client_repository_async(client, a, b, cb, data, out_request, err);
    case GFGO_CONTRIBUTORS:
        return gf_client_contributors_async(client, a, b, cb, data, out_request, err);
    case GFGO_BRANCHES:
        return gf_client_branches_async(client, a, b, cb, data, out_request, err);
    case GFGO_VALIDATE_TOKEN:
        return gf_client_validate_token_async(client, a, cb, data, out_request, err);
    case GFGO_VALIDATE_POOL:
        return gf_client_validate_pool_async(client, cb, data, out_request, err);
    default:
        return GF_STATUS_INVALID_ARGUMENT;
    }
}

/* Overwrites a C copy of a string (a token, maybe) before freeing it. */
static inline void gfgo_free_wiped(char *s)
{
    if (s != NULL) {
        volatile char *p = s;
        while (*p != '\0') {
            *p++ = '\0';
        }
        free(s);
    }
}

#endif /* GITFLEET_GO_H */
