/*
 * gitfleet_go.h - C helpers of the Go package (not part of the C API).
 *
 * cgo cannot call a C function pointer or pass a Go integer as a void *
 * without `go vet` rightly complaining, so the async calls start here:
 * gfgo_start takes the call's cgo.Handle as a uintptr_t and hands it to the
 * library as user_data, with gfgo_callback as the callback, which passes it
 * on to the Go trampoline gitfleetComplete (callback.go).
 *
 * A call that no context can end waits in C instead (gfgo_waiter): its
 * callback copies the result and signals a condition variable the calling
 * goroutine's thread waits on in gfgo_wait, so the library's thread never
 * enters Go and no goroutine has to be woken (call.go).
 */

#ifndef GITFLEET_GO_H
#define GITFLEET_GO_H

#include <pthread.h>
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
static inline gf_status gfgo_start_with(const gf_client *client, int op, const char *a,
                                        const char *b, gf_callback cb, void *data,
                                        gf_request **out_request, gf_error **err)
{
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

/* Starts `op` with the Go trampoline as its callback and `call` (a cgo.Handle) as user data. */
static inline gf_status gfgo_start(const gf_client *client, int op, const char *a,
                                   const char *b, uintptr_t call, gf_request **out_request,
                                   gf_error **err)
{
    return gfgo_start_with(client, op, a, b, gfgo_callback, (void *)call, out_request, err);
}

/* A call waited for in C: the outcome, copied out of the library's borrowed memory. */
typedef struct {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    int done;
    int out_of_memory; /* a copy could not be made */
    gf_status status;
    char *json; /* malloc'd copy of the document, or NULL */
    size_t json_len;
    int has_error; /* the fields below hold a copy of the gf_error */
    gf_status err_status;
    char *err_message;
    char *err_resource;
    uint16_t err_http_status;
    uint64_t err_reset;
    uint64_t err_retry_after;
} gfgo_waiter;

static inline gfgo_waiter *gfgo_waiter_new(void)
{
    gfgo_waiter *w = calloc(1, sizeof *w);
    if (w != NULL) {
        pthread_mutex_init(&w->mutex, NULL);
        pthread_cond_init(&w->cond, NULL);
    }
    return w;
}

static inline void gfgo_waiter_free(gfgo_waiter *w)
{
    if (w != NULL) {
        free(w->json);
        free(w->err_message);
        free(w->err_resource);
        pthread_mutex_destroy(&w->mutex);
        pthread_cond_destroy(&w->cond);
        free(w);
    }
}

/* A malloc'd copy of `s` (NULL for NULL); sets *oom when there is no memory. */
static inline char *gfgo_copy(const char *s, size_t len, int *oom)
{
    if (s == NULL) {
        return NULL;
    }
    char *copy = malloc(len + 1);
    if (copy == NULL) {
        *oom = 1;
        return NULL;
    }
    memcpy(copy, s, len + 1);
    return copy;
}

/* The gf_callback of a call waited for in C; runs on a library thread, never enters Go. */
static inline void gfgo_waiter_callback(void *user_data, gf_status status, const char *json,
                                        const gf_error *error)
{
    gfgo_waiter *w = user_data;
    int oom = 0;
    w->status = status;
    if (json != NULL) {
        w->json_len = strlen(json);
        w->json = gfgo_copy(json, w->json_len, &oom);
    }
    if (error != NULL) {
        const char *message = gf_error_message(error);
        const char *resource = gf_error_resource(error);
        w->has_error = 1;
        w->err_status = gf_error_status(error);
        w->err_message = gfgo_copy(message, message != NULL ? strlen(message) : 0, &oom);
        w->err_resource = gfgo_copy(resource, resource != NULL ? strlen(resource) : 0, &oom);
        w->err_http_status = gf_error_http_status(error);
        w->err_reset = gf_error_reset(error);
        w->err_retry_after = gf_error_retry_after(error);
    }
    pthread_mutex_lock(&w->mutex);
    w->out_of_memory = oom;
    w->done = 1;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->mutex);
}

/* Starts `op` to be waited for with gfgo_wait. */
static inline gf_status gfgo_start_waiting(const gf_client *client, int op, const char *a,
                                           const char *b, gfgo_waiter *w,
                                           gf_request **out_request, gf_error **err)
{
    return gfgo_start_with(client, op, a, b, gfgo_waiter_callback, w, out_request, err);
}

/* Blocks until the call's one callback has run. */
static inline void gfgo_wait(gfgo_waiter *w)
{
    pthread_mutex_lock(&w->mutex);
    while (!w->done) {
        pthread_cond_wait(&w->cond, &w->mutex);
    }
    pthread_mutex_unlock(&w->mutex);
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
