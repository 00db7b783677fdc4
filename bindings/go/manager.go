package gitfleet

/*
#include "gitfleet_go.h"
*/
import "C"

import (
	"encoding/json"
	"math"
	"net/http"
	"runtime"
	"sync"
	"time"
)

// TokenManager is a pool of tokens: it keeps every token's rate limits per
// resource, knows which tokens are available, spent, cooling down or
// invalid, and picks the best one for each request. It is safe for
// concurrent use. Clients built with it share it; closing the manager
// leaves it alive for them. Its methods do no I/O.
type TokenManager struct {
	mu      sync.RWMutex // read-held by calls, write-held by Close
	ptr     *C.gf_token_manager
	cleanup runtime.Cleanup
}

// ManagerOption configures a [TokenManager] made by [NewTokenManager].
type ManagerOption func(*TokenManager) error

// WithStrategy sets how the pool picks a token (default
// [StrategyRateAware]).
func WithStrategy(s Strategy) ManagerOption {
	return func(m *TokenManager) error { return m.SetStrategy(s) }
}

// WithReserveCount keeps count requests per window untouched on every
// token.
func WithReserveCount(count uint64) ManagerOption {
	return func(m *TokenManager) error { return m.SetReserveCount(count) }
}

// WithReserveFraction keeps fraction (0 to 1) of each token's limit
// untouched.
func WithReserveFraction(fraction float64) ManagerOption {
	return func(m *TokenManager) error { return m.SetReserveFraction(fraction) }
}

// WithTokens adds GitHub tokens, with no username and priority 0.
func WithTokens(tokens ...string) ManagerOption {
	return func(m *TokenManager) error {
		for _, token := range tokens {
			if err := m.AddToken(token); err != nil {
				return err
			}
		}
		return nil
	}
}

// NewTokenManager makes an empty pool (rate-aware, no reserve) and applies
// opts. Close it when done.
func NewTokenManager(opts ...ManagerOption) (*TokenManager, error) {
	m := &TokenManager{ptr: C.gf_token_manager_new()}
	counters.managers.Add(1)
	m.cleanup = runtime.AddCleanup(m, freeManager, m.ptr)
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(m); err != nil {
			m.Close()
			return nil, err
		}
	}
	return m, nil
}

func freeManager(ptr *C.gf_token_manager) {
	C.gf_token_manager_free(ptr)
	counters.managers.Add(-1)
}

// Close releases the pool's C handle. Clients built with the pool keep
// using it. Close is idempotent; methods called afterwards return an error
// matching [ErrClosed]. It always returns nil.
func (m *TokenManager) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ptr != nil {
		m.cleanup.Stop()
		freeManager(m.ptr)
		m.ptr = nil
	}
	return nil
}

// String names the type; a pool has no secret to show.
func (m *TokenManager) String() string { return "gitfleet.TokenManager" }

// GoString is String.
func (m *TokenManager) GoString() string { return m.String() }

// do runs one C call on the live pool, under the read lock Close waits
// for, and turns its status into an error.
func (m *TokenManager) do(call func(*C.gf_token_manager, **C.gf_error) C.gf_status) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.ptr == nil {
		return closedError("the token manager")
	}
	var cerr *C.gf_error
	status := call(m.ptr, &cerr)
	runtime.KeepAlive(m)
	return takeError(status, cerr)
}

// TokenOption sets a detail of a token added with [TokenManager.AddToken].
type TokenOption func(*tokenSettings)

type tokenSettings struct {
	provider Provider
	username string
	priority int
}

// WithProvider sets the token's provider (default [ProviderGitHub]).
func WithProvider(p Provider) TokenOption {
	return func(s *tokenSettings) { s.provider = p }
}

// WithUsername records the account the token belongs to.
func WithUsername(username string) TokenOption {
	return func(s *tokenSettings) { s.username = username }
}

// WithPriority sets the token's priority: higher first under
// [StrategyPriority].
func WithPriority(priority int) TokenOption {
	return func(s *tokenSettings) { s.priority = priority }
}

// AddToken adds a token (a GitHub token unless [WithProvider] says
// otherwise). Adding a token already present keeps one entry, with the new
// username and priority; an invalid token becomes usable again. A token is
// non-empty printable ASCII without spaces, at most 1024 bytes.
func (m *TokenManager) AddToken(token string, opts ...TokenOption) error {
	settings := tokenSettings{provider: ProviderGitHub}
	for _, opt := range opts {
		if opt != nil {
			opt(&settings)
		}
	}
	if settings.priority < math.MinInt32 || settings.priority > math.MaxInt32 {
		return invalidArgument("the priority does not fit in 32 bits")
	}
	secret, err := cString(token, "the token")
	if err != nil {
		return err
	}
	defer freeCString(secret)
	username, err := optionalCString(settings.username, "the username")
	if err != nil {
		return err
	}
	defer freeCString(username)
	return m.do(func(p *C.gf_token_manager, cerr **C.gf_error) C.gf_status {
		return C.gf_token_manager_add_token(p, C.int32_t(settings.provider), secret, username,
			C.int32_t(settings.priority), cerr)
	})
}

// RemoveToken removes a token; removed says whether the pool had it.
func (m *TokenManager) RemoveToken(token string) (removed bool, err error) {
	secret, err := cString(token, "the token")
	if err != nil {
		return false, err
	}
	defer freeCString(secret)
	var out C.bool
	err = m.do(func(p *C.gf_token_manager, cerr **C.gf_error) C.gf_status {
		return C.gf_token_manager_remove_token(p, secret, &out, cerr)
	})
	return bool(out), err
}

// MarkInvalid takes a token out of use until it is added again; found
// says whether the pool had it.
func (m *TokenManager) MarkInvalid(token string) (found bool, err error) {
	secret, err := cString(token, "the token")
	if err != nil {
		return false, err
	}
	defer freeCString(secret)
	var out C.bool
	err = m.do(func(p *C.gf_token_manager, cerr **C.gf_error) C.gf_status {
		return C.gf_token_manager_mark_invalid(p, secret, &out, cerr)
	})
	return bool(out), err
}

// SetStrategy sets how the pool picks a token.
func (m *TokenManager) SetStrategy(s Strategy) error {
	return m.do(func(p *C.gf_token_manager, cerr **C.gf_error) C.gf_status {
		return C.gf_token_manager_set_strategy(p, C.int32_t(s), cerr)
	})
}

// SetReserveCount keeps count requests per window untouched on every
// token (0: none).
func (m *TokenManager) SetReserveCount(count uint64) error {
	return m.do(func(p *C.gf_token_manager, cerr **C.gf_error) C.gf_status {
		return C.gf_token_manager_set_reserve_count(p, C.uint64_t(count), cerr)
	})
}

// SetReserveFraction keeps fraction (0 to 1) of each token's limit
// untouched.
func (m *TokenManager) SetReserveFraction(fraction float64) error {
	return m.do(func(p *C.gf_token_manager, cerr **C.gf_error) C.gf_status {
		return C.gf_token_manager_set_reserve_fraction(p, C.double(fraction), cerr)
	})
}

// CountAvailable counts the tokens of provider that could serve a request
// on resource ("" means "core") now.
func (m *TokenManager) CountAvailable(provider Provider, resource string) (int, error) {
	res, err := optionalCString(resource, "the resource")
	if err != nil {
		return 0, err
	}
	defer freeCString(res)
	var out C.size_t
	err = m.do(func(p *C.gf_token_manager, cerr **C.gf_error) C.gf_status {
		return C.gf_token_manager_count_available(p, C.int32_t(provider), res, &out, cerr)
	})
	return int(out), err
}

// EarliestReset is when the first token of provider now spent or cooling
// down for resource ("" means "core") is usable again, on this machine's
// clock; the zero Time when no token is waiting for a reset.
func (m *TokenManager) EarliestReset(provider Provider, resource string) (time.Time, error) {
	res, err := optionalCString(resource, "the resource")
	if err != nil {
		return time.Time{}, err
	}
	defer freeCString(res)
	var out C.uint64_t
	err = m.do(func(p *C.gf_token_manager, cerr **C.gf_error) C.gf_status {
		return C.gf_token_manager_earliest_reset(p, C.int32_t(provider), res, &out, cerr)
	})
	if err != nil || out == 0 {
		return time.Time{}, err
	}
	return time.Unix(int64(out), 0), nil
}

// SnapshotJSON is the pool as the library's JSON document: an array of
// tokens in the order added (see [TokenSnapshot]). Never a secret.
func (m *TokenManager) SnapshotJSON() ([]byte, error) {
	var out *C.char
	err := m.do(func(p *C.gf_token_manager, cerr **C.gf_error) C.gf_status {
		return C.gf_token_manager_snapshot_json(p, &out, cerr)
	})
	if err != nil {
		return nil, err
	}
	defer C.gf_string_free(out)
	return []byte(C.GoString(out)), nil
}

// Snapshot is every token in the order added: fingerprint, state and
// figures per resource. Never a secret.
func (m *TokenManager) Snapshot() ([]TokenSnapshot, error) {
	doc, err := m.SnapshotJSON()
	if err != nil {
		return nil, err
	}
	var tokens []TokenSnapshot
	if err := json.Unmarshal(doc, &tokens); err != nil {
		return nil, decodeError(err)
	}
	return tokens, nil
}

// UpdateFromHeaders records the rate-limit headers of a successful
// response made with token outside any lease. A response without them
// changes nothing; found says whether the pool had the token.
func (m *TokenManager) UpdateFromHeaders(token string, header http.Header) (found bool, err error) {
	secret, err := cString(token, "the token")
	if err != nil {
		return false, err
	}
	defer freeCString(secret)
	headers, err := newCHeaders(header)
	if err != nil {
		return false, err
	}
	defer headers.free()
	var out C.bool
	err = m.do(func(p *C.gf_token_manager, cerr **C.gf_error) C.gf_status {
		return C.gf_token_manager_update_from_headers(p, secret, headers.names(),
			headers.values(), headers.count(), &out, cerr)
	})
	return bool(out), err
}

// Lease takes a token of provider for one request on resource ("" means
// "core"). Close the lease when done, after [Lease.Report] when a response
// came back. It fails with an error matching [ErrRateLimited] (carrying
// the earliest reset) when every valid token is spent, or with a reset one
// second away when the only quota left is held by leases not yet
// reported; with [ErrAuth] when no valid token is left.
func (m *TokenManager) Lease(provider Provider, resource string) (*Lease, error) {
	res, err := optionalCString(resource, "the resource")
	if err != nil {
		return nil, err
	}
	defer freeCString(res)
	var out *C.gf_lease
	err = m.do(func(p *C.gf_token_manager, cerr **C.gf_error) C.gf_status {
		return C.gf_token_manager_lease(p, C.int32_t(provider), res, &out, cerr)
	})
	if err != nil {
		return nil, err
	}
	return newLease(out), nil
}
