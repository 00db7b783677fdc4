package gitfleet

// How a blocking Go call runs over the C API's async form: the call's
// cgo.Handle travels as user_data, the trampoline (callback.go) sends the
// copied result on a buffered channel, and a cancelled context cancels
// the C request.
//
// A call whose context can never end (context.Background, context.TODO)
// waits in C instead (gfgo_waiter in gitfleet_go.h): the library's thread
// copies the result and signals a condition variable, never entering Go,
// and the calling goroutine's thread sleeps in gfgo_wait. That is cheaper
// than a callback into Go plus a goroutine wake-up. Close and
// ShutdownRuntime still end it: the library completes the call, which
// signals the waiter.

/*
#include "gitfleet_go.h"
*/
import "C"

import (
	"context"
	"runtime"
	"time"
	"unsafe"
)

// op is one client call of the C API (gfgo_start in gitfleet_go.h).
type op C.int

const (
	opRateLimit         op = C.GFGO_RATE_LIMIT
	opRefreshRateLimits op = C.GFGO_REFRESH_RATE_LIMITS
	opAuthenticatedUser op = C.GFGO_AUTHENTICATED_USER
	opUser              op = C.GFGO_USER
	opOwnerRepositories op = C.GFGO_OWNER_REPOSITORIES
	opRepository        op = C.GFGO_REPOSITORY
	opContributors      op = C.GFGO_CONTRIBUTORS
	opBranches          op = C.GFGO_BRANCHES
	opValidateToken     op = C.GFGO_VALIDATE_TOKEN
	opValidatePool      op = C.GFGO_VALIDATE_POOL
)

// argNames name the string arguments of the calls, for errors.
var argNames = map[op][]string{
	opUser:              {"the login"},
	opOwnerRepositories: {"the owner"},
	opRepository:        {"the owner", "the repository"},
	opContributors:      {"the owner", "the repository"},
	opBranches:          {"the owner", "the repository"},
	opValidateToken:     {"the token"},
}

// completion is the outcome of one call: the JSON document, or the error.
type completion struct {
	json []byte
	err  error
}

// pending is an accepted call waiting for its one callback.
type pending struct {
	done chan completion // buffered: the callback never blocks
}

// call runs client call o with its string arguments and waits for its
// result document, or for ctx to end (then it cancels the C request,
// waits for the callback that confirms it, and returns ctx.Err()).
func (c *Client) call(ctx context.Context, o op, args ...string) ([]byte, error) {
	if ctx == nil {
		return nil, invalidArgument("the context is nil")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var cargs [2]*C.char
	defer func() {
		for _, arg := range cargs {
			freeCString(arg) // the library copied them; tokens are wiped
		}
	}()
	for i, arg := range args {
		var err error
		if cargs[i], err = cString(arg, argNames[o][i]); err != nil {
			return nil, err
		}
	}

	if ctx.Done() == nil {
		return c.callWaiting(o, cargs)
	}

	p := &pending{done: make(chan completion, 1)}
	h := newHandle(p)
	request, err := c.start(func(ptr *C.gf_client, out **C.gf_request, cerr **C.gf_error) C.gf_status {
		return C.gfgo_start(ptr, C.int(o), cargs[0], cargs[1], C.uintptr_t(h), out, cerr)
	})
	if err != nil {
		deleteHandle(h) // not accepted: the callback will never run
		return nil, err
	}
	defer freeRequest(request)

	var result completion
	select {
	case result = <-p.done:
	case <-ctx.Done():
		C.gf_request_cancel(request)
		<-p.done // exactly one callback comes, with the result or CANCELLED
		result = completion{err: ctx.Err()}
	}
	// The client must outlive the call: its cleanup would complete the
	// call with GF_STATUS_SHUT_DOWN.
	runtime.KeepAlive(c)
	return result.json, result.err
}

// callWaiting runs o waiting in C for its one callback (no context can
// end it).
//
// Limitation: the calling goroutine holds its OS thread while it waits
// (a blocked cgo call), so many such calls at once mean as many threads;
// a cancellable context makes a call wait on a channel instead.
func (c *Client) callWaiting(o op, cargs [2]*C.char) ([]byte, error) {
	w := C.gfgo_waiter_new()
	if w == nil {
		return nil, &Error{Status: StatusInternal, Message: "out of memory"}
	}
	defer C.gfgo_waiter_free(w)
	request, err := c.start(func(ptr *C.gf_client, out **C.gf_request, cerr **C.gf_error) C.gf_status {
		return C.gfgo_start_waiting(ptr, C.int(o), cargs[0], cargs[1], w, out, cerr)
	})
	if err != nil {
		return nil, err // not accepted: the callback will never run
	}
	defer freeRequest(request)
	C.gfgo_wait(w)
	counters.callbacks.Add(1)
	runtime.KeepAlive(c)
	return waited(w)
}

// waited turns the outcome a gfgo_waiter copied into a result.
func waited(w *C.gfgo_waiter) ([]byte, error) {
	if w.status != C.GF_STATUS_OK {
		if w.has_error == 0 {
			return nil, &Error{Status: Status(w.status)}
		}
		err := &Error{
			Status:     Status(w.err_status),
			Message:    C.GoString(w.err_message),
			HTTPStatus: int(w.err_http_status),
			RetryAfter: time.Duration(w.err_retry_after) * time.Second,
			Resource:   C.GoString(w.err_resource),
		}
		if w.err_reset != 0 {
			err.Reset = time.Unix(int64(w.err_reset), 0)
		}
		return nil, err
	}
	if w.out_of_memory != 0 || w.json == nil {
		return nil, &Error{Status: StatusInternal, Message: "no result document (out of memory?)"}
	}
	return C.GoBytes(unsafe.Pointer(w.json), C.int(w.json_len)), nil
}

// starter is the C call that starts a client call, given the client; it
// stores the request handle or an error through its last two arguments.
type starter func(*C.gf_client, **C.gf_request, **C.gf_error) C.gf_status

// start makes the C call that starts a client call (begin), under the
// read lock Close waits for. On success the library has accepted the call
// and will run its callback exactly once.
func (c *Client) start(begin starter) (*C.gf_request, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.ptr == nil {
		return nil, closedError("the client")
	}
	var request *C.gf_request
	var cerr *C.gf_error
	status := begin(c.ptr, &request, &cerr)
	runtime.KeepAlive(c)
	if err := takeError(status, cerr); err != nil {
		return nil, err
	}
	counters.started.Add(1)
	counters.requests.Add(1)
	return request, nil
}

func freeRequest(request *C.gf_request) {
	C.gf_request_free(request)
	counters.requests.Add(-1)
}
