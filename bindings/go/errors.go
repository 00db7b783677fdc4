package gitfleet

/*
#include "gitfleet_go.h"
*/
import "C"

import (
	"context"
	"errors"
	"time"
)

// Error is a failure of the library or of this package. It is a plain
// value: safe to read from many goroutines. Its text never contains a
// token.
type Error struct {
	// Status says what kind of failure it is.
	Status Status
	// Message is the library's description, e.g. "rate limited on core
	// until 1714563296 (unix time)".
	Message string
	// HTTPStatus is the HTTP status behind the error: 404 for
	// StatusNotFound, 403 for StatusForbidden, the status for StatusHTTP;
	// 0 otherwise (a rate limit may come as 403 or 429, or from the pool
	// with no request sent).
	HTTPStatus int
	// Reset is, for StatusRateLimited, when the earliest token is usable
	// again (this machine's clock); the zero Time otherwise.
	Reset time.Time
	// RetryAfter is, for StatusSecondaryLimited, how long to wait; 0
	// otherwise.
	RetryAfter time.Duration
	// Resource is, for StatusRateLimited, the spent rate-limit resource
	// ("core", "search", ...); "" otherwise.
	Resource string
}

// Sentinel errors, one per kind of failure. An [*Error] matches the one of
// its Status with errors.Is:
//
//	if errors.Is(err, gitfleet.ErrRateLimited) { ... }
var (
	// ErrInvalidArgument matches StatusInvalidArgument.
	ErrInvalidArgument = errors.New("gitfleet: invalid argument")
	// ErrInternal matches StatusInternal.
	ErrInternal = errors.New("gitfleet: internal error")
	// ErrAuth matches StatusAuth.
	ErrAuth = errors.New("gitfleet: authentication failed")
	// ErrRateLimited matches StatusRateLimited.
	ErrRateLimited = errors.New("gitfleet: rate limited")
	// ErrSecondaryLimited matches StatusSecondaryLimited.
	ErrSecondaryLimited = errors.New("gitfleet: secondary rate limit")
	// ErrNotFound matches StatusNotFound.
	ErrNotFound = errors.New("gitfleet: not found")
	// ErrForbidden matches StatusForbidden.
	ErrForbidden = errors.New("gitfleet: forbidden")
	// ErrHTTP matches StatusHTTP.
	ErrHTTP = errors.New("gitfleet: unexpected HTTP status")
	// ErrNetwork matches StatusNetwork.
	ErrNetwork = errors.New("gitfleet: network error")
	// ErrTimeout matches StatusTimeout.
	ErrTimeout = errors.New("gitfleet: timed out")
	// ErrDecode matches StatusDecode.
	ErrDecode = errors.New("gitfleet: could not decode the response")
	// ErrClosed matches StatusShutDown: the client was closed while the
	// call was in flight, or an object was used after Close.
	ErrClosed = errors.New("gitfleet: closed")
	// ErrIO matches StatusIO.
	ErrIO = errors.New("gitfleet: file error")
	// ErrCrypto matches StatusCrypto: a wrong password or key, or a
	// changed file.
	ErrCrypto = errors.New("gitfleet: credential store authentication failed")
	// ErrFormat matches StatusFormat.
	ErrFormat = errors.New("gitfleet: not a credential store")
)

var sentinels = map[Status]error{
	StatusInvalidArgument:  ErrInvalidArgument,
	StatusInternal:         ErrInternal,
	StatusAuth:             ErrAuth,
	StatusRateLimited:      ErrRateLimited,
	StatusSecondaryLimited: ErrSecondaryLimited,
	StatusNotFound:         ErrNotFound,
	StatusForbidden:        ErrForbidden,
	StatusHTTP:             ErrHTTP,
	StatusNetwork:          ErrNetwork,
	StatusTimeout:          ErrTimeout,
	StatusDecode:           ErrDecode,
	StatusCancelled:        context.Canceled,
	StatusShutDown:         ErrClosed,
	StatusIO:               ErrIO,
	StatusCrypto:           ErrCrypto,
	StatusFormat:           ErrFormat,
}

// Error is "gitfleet: " and the message (or the status when there is no
// message).
func (e *Error) Error() string {
	if e.Message == "" {
		return "gitfleet: " + e.Status.String()
	}
	return "gitfleet: " + e.Message
}

// Is reports whether target is the sentinel error of e's Status (for
// StatusCancelled, context.Canceled).
func (e *Error) Is(target error) bool {
	sentinel, ok := sentinels[e.Status]
	return ok && target == sentinel
}

// Timeout reports whether the request timed out (StatusTimeout), as
// net.Error does.
func (e *Error) Timeout() bool {
	return e.Status == StatusTimeout
}

// invalidArgument is an argument refused by this package itself. The
// message names the argument, never its value.
func invalidArgument(message string) *Error {
	return &Error{Status: StatusInvalidArgument, Message: "invalid argument: " + message}
}

// closedError is the error of a method called after Close.
func closedError(what string) *Error {
	return &Error{Status: StatusShutDown, Message: what + " is closed"}
}

// copyError makes an *Error from a borrowed gf_error (status alone when it
// is NULL), copying everything: the gf_error may be freed afterwards.
func copyError(status C.gf_status, cerr *C.gf_error) *Error {
	if cerr == nil {
		return &Error{Status: Status(status)}
	}
	err := &Error{
		Status:     Status(C.gf_error_status(cerr)),
		Message:    C.GoString(C.gf_error_message(cerr)),
		HTTPStatus: int(C.gf_error_http_status(cerr)),
		RetryAfter: time.Duration(C.gf_error_retry_after(cerr)) * time.Second,
		Resource:   C.GoString(C.gf_error_resource(cerr)),
	}
	if reset := uint64(C.gf_error_reset(cerr)); reset != 0 {
		err.Reset = time.Unix(int64(reset), 0)
	}
	return err
}

// takeError turns the outcome of a blocking C call into a Go error: nil
// for GF_STATUS_OK, else the copied error, freeing the gf_error.
func takeError(status C.gf_status, cerr *C.gf_error) error {
	if status == C.GF_STATUS_OK {
		return nil
	}
	defer C.gf_error_free(cerr)
	return copyError(status, cerr)
}
