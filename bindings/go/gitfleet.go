package gitfleet

// The static library sits two directories up, where cargo builds it.

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo LDFLAGS: ${SRCDIR}/../../target/release/libgitfleet.a -lpthread -ldl -lm
#include "gitfleet_go.h"
*/
import "C"

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// Version is the version of the linked C library, e.g. "0.1.0".
func Version() string {
	return C.GoString(C.gf_version())
}

// ShutdownRuntime stops the C library's internal runtime
// (gf_runtime_shutdown), for a program that wants no library thread left,
// e.g. before forking. Calls in flight return an error matching ErrClosed;
// it then waits up to timeout for the library's threads to end, and
// returns an error matching ErrTimeout if some are still finishing a
// request on the wire (call it again to wait for them). Clients and pools
// stay usable: the next call starts a fresh runtime.
func ShutdownRuntime(timeout time.Duration) error {
	var cerr *C.gf_error
	status := C.gf_runtime_shutdown(C.uint64_t(timeout.Milliseconds()), &cerr)
	return takeError(status, cerr)
}

// Fingerprint is the public name the library gives a token: the first 12
// hex digits of its SHA-256. Snapshots, validations and messages name
// tokens by it; it reveals nothing of the token.
func Fingerprint(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:6])
}

// cString copies s into C memory for one call; free it with freeCString.
// Go strings may hold a NUL, which C strings cannot: what is names the
// argument in the error (never its value, which may be a token).
func cString(s, what string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, invalidArgument(what + " contains a NUL byte")
	}
	return C.CString(s), nil
}

// optionalCString is cString with "" meaning NULL (the library's default).
func optionalCString(s, what string) (*C.char, error) {
	if s == "" {
		return nil, nil
	}
	return cString(s, what)
}

// freeCString wipes and frees a string made by cString (a token, maybe).
// NULL is a no-op.
func freeCString(s *C.char) {
	C.gfgo_free_wiped(s)
}
