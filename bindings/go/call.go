package gitfleet

// How a blocking Go call runs over the C API's async form: the call's
// cgo.Handle travels as user_data, the trampoline (callback.go) sends the
// copied result on a buffered channel, and a cancelled context cancels
// the C request.

/*
#include "gitfleet_go.h"
*/
import "C"

import (
	"context"
	"runtime"
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

	p := &pending{done: make(chan completion, 1)}
	h := newHandle(p)
	request, err := c.start(o, cargs, C.uintptr_t(h))
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

// start makes the C call that starts o, under the read lock Close waits
// for. On success the library has accepted the call and will run its
// callback exactly once.
func (c *Client) start(o op, args [2]*C.char, h C.uintptr_t) (*C.gf_request, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.ptr == nil {
		return nil, closedError("the client")
	}
	var request *C.gf_request
	var cerr *C.gf_error
	status := C.gfgo_start(c.ptr, C.int(o), args[0], args[1], h, &request, &cerr)
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
