package gitfleet

import (
	"context"
	"errors"
	"testing"
	"time"
)

// newPool makes a pool of GitHub tokens, closed when the test ends.
func newPool(tb testing.TB, tokens ...string) *TokenManager {
	tb.Helper()
	pool, err := NewTokenManager(WithTokens(tokens...))
	if err != nil {
		tb.Fatalf("NewTokenManager: %v", err)
	}
	tb.Cleanup(func() { pool.Close() })
	return pool
}

// newClient makes a client on url drawing from pool, closed when the test
// ends.
func newClient(tb testing.TB, url string, pool *TokenManager, opts ...ClientOption) *Client {
	tb.Helper()
	opts = append([]ClientOption{WithBaseURL(url), WithTokenManager(pool)}, opts...)
	client, err := NewClient(opts...)
	if err != nil {
		tb.Fatalf("NewClient: %v", err)
	}
	tb.Cleanup(func() { client.Close() })
	return client
}

// testContext ends with the test, or after a minute at the latest.
func testContext(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	tb.Cleanup(cancel)
	return ctx
}

// wantStatus fails unless err is an *Error of status s matching the
// sentinel, and returns it.
func wantStatus(tb testing.TB, err error, s Status, sentinel error) *Error {
	tb.Helper()
	var gerr *Error
	if !errors.As(err, &gerr) {
		tb.Fatalf("got error %v (%T), want a *gitfleet.Error with %v", err, err, s)
	}
	if gerr.Status != s {
		tb.Fatalf("got status %v (%v), want %v", gerr.Status, gerr, s)
	}
	if !errors.Is(err, sentinel) {
		tb.Fatalf("errors.Is(%v, %v) is false", err, sentinel)
	}
	return gerr
}

// snapshotByFingerprint is the pool's snapshot keyed by fingerprint.
func snapshotByFingerprint(tb testing.TB, pool *TokenManager) map[string]TokenSnapshot {
	tb.Helper()
	snapshot, err := pool.Snapshot()
	if err != nil {
		tb.Fatalf("Snapshot: %v", err)
	}
	byFingerprint := make(map[string]TokenSnapshot, len(snapshot))
	for _, token := range snapshot {
		byFingerprint[token.Fingerprint] = token
	}
	return byFingerprint
}

// remaining is a token's reported core remaining, -1 when not reported.
func remaining(tb testing.TB, pool *TokenManager, token string) int64 {
	tb.Helper()
	snap, ok := snapshotByFingerprint(tb, pool)[Fingerprint(token)]
	if !ok {
		tb.Fatalf("token %s is not in the pool", Fingerprint(token))
	}
	core, ok := snap.Resources["core"]
	if !ok || core.Remaining == nil {
		return -1
	}
	return *core.Remaining
}
