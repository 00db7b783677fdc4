package gitfleet

/*
#include "gitfleet_go.h"
*/
import "C"

import (
	"net/http"
	"runtime"
	"sync"
	"unsafe"
)

// Lease is one token taken from a [TokenManager] for one request that the
// caller sends with its own HTTP stack:
//
//	lease, err := pool.Lease(gitfleet.ProviderGitHub, "")
//	if err != nil { ... }
//	defer lease.Close()
//	lease.Authorize(req)
//	resp, err := http.DefaultClient.Do(req)
//	... read the body ...
//	outcome, err := lease.Report(resp.StatusCode, resp.Header, body)
//
// Until it is reported or closed, it counts as one use of its token. It is
// safe for concurrent use (its methods run one at a time). Its String and
// GoString show the fingerprint, never the token.
type Lease struct {
	mu          sync.Mutex
	ptr         *C.gf_lease
	fingerprint string
	cleanup     runtime.Cleanup
}

func newLease(ptr *C.gf_lease) *Lease {
	l := &Lease{ptr: ptr, fingerprint: C.GoString(C.gf_lease_fingerprint(ptr))}
	counters.leases.Add(1)
	l.cleanup = runtime.AddCleanup(l, freeLease, ptr)
	return l
}

func freeLease(ptr *C.gf_lease) {
	C.gf_lease_free(ptr)
	counters.leases.Add(-1)
}

// Close ends the lease. One never reported gives its use back to the pool.
// Close is idempotent and always returns nil.
func (l *Lease) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ptr != nil {
		l.cleanup.Stop()
		freeLease(l.ptr)
		l.ptr = nil
	}
	return nil
}

// Fingerprint is the token's public name, safe to log.
func (l *Lease) Fingerprint() string { return l.fingerprint }

// String is "gitfleet.Lease(FINGERPRINT)".
func (l *Lease) String() string { return "gitfleet.Lease(" + l.fingerprint + ")" }

// GoString is String: %#v must not print the token either.
func (l *Lease) GoString() string { return l.String() }

// Token is the token to send, as "Authorization: Bearer TOKEN"; "" once
// the lease is closed. It is a secret: keep it out of logs. The returned
// Go string cannot be wiped; [Lease.Authorize] avoids keeping one around.
func (l *Lease) Token() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ptr == nil {
		return ""
	}
	token := C.GoString(C.gf_lease_token(l.ptr))
	runtime.KeepAlive(l)
	return token
}

// Authorize sets req's Authorization header to the leased token.
func (l *Lease) Authorize(req *http.Request) error {
	if req == nil {
		return invalidArgument("the request is nil")
	}
	token := l.Token()
	if token == "" {
		return closedError("the lease")
	}
	if req.Header == nil {
		req.Header = make(http.Header)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return nil
}

// Report tells the pool how the request went: its HTTP status, headers and
// body (only error bodies are read; nil is fine for a success). The pool
// records the rate-limit figures and classifies the response exactly as
// the library's own client does; the outcome says what it meant (see
// [Outcome.RetryOnAnotherToken]). A lease can be reported once; close it
// afterwards.
func (l *Lease) Report(status int, header http.Header, body []byte) (Outcome, error) {
	if status < 0 || status > 0xFFFF {
		return 0, invalidArgument("the HTTP status is out of range")
	}
	headers, err := newCHeaders(header)
	if err != nil {
		return 0, err
	}
	defer headers.free()
	var bodyPtr *C.uint8_t
	if len(body) > 0 {
		bodyPtr = (*C.uint8_t)(unsafe.Pointer(&body[0]))
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ptr == nil {
		return 0, closedError("the lease")
	}
	var outcome C.gf_outcome
	var cerr *C.gf_error
	st := C.gf_lease_report(l.ptr, C.uint16_t(status), headers.names(), headers.values(),
		headers.count(), bodyPtr, C.size_t(len(body)), &outcome, &cerr)
	runtime.KeepAlive(l)
	runtime.KeepAlive(body)
	if err := takeError(st, cerr); err != nil {
		return 0, err
	}
	return Outcome(outcome), nil
}

// cHeaders is an http.Header as the C API takes headers: parallel arrays
// of NUL-terminated names and values, one pair per value.
type cHeaders struct {
	namesC, valuesC []*C.char
}

func newCHeaders(header http.Header) (*cHeaders, error) {
	h := &cHeaders{}
	for name, values := range header {
		for _, value := range values {
			n, err := cString(name, "a header name")
			if err != nil {
				h.free()
				return nil, err
			}
			v, err := cString(value, "a header value")
			if err != nil {
				freeCString(n)
				h.free()
				return nil, err
			}
			h.namesC = append(h.namesC, n)
			h.valuesC = append(h.valuesC, v)
		}
	}
	return h, nil
}

func (h *cHeaders) names() **C.char {
	if len(h.namesC) == 0 {
		return nil
	}
	return &h.namesC[0]
}

func (h *cHeaders) values() **C.char {
	if len(h.valuesC) == 0 {
		return nil
	}
	return &h.valuesC[0]
}

func (h *cHeaders) count() C.size_t { return C.size_t(len(h.namesC)) }

func (h *cHeaders) free() {
	for i := range h.namesC {
		freeCString(h.namesC[i])
		freeCString(h.valuesC[i])
	}
	h.namesC, h.valuesC = nil, nil
}
