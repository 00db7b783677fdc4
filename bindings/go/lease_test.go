package gitfleet

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// The lease/report API around the caller's own net/http requests.

// getWithLease sends GET url+path with a leased token, reports the
// response, and returns the outcome and the body.
func getWithLease(t *testing.T, pool *TokenManager, url, path string) (Outcome, []byte, string) {
	t.Helper()
	lease, err := pool.Lease(ProviderGitHub, "")
	if err != nil {
		t.Fatalf("Lease: %v", err)
	}
	defer lease.Close()
	req, err := http.NewRequestWithContext(testContext(t), http.MethodGet, url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := lease.Authorize(req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	outcome, err := lease.Report(resp.StatusCode, resp.Header, body)
	if err != nil {
		t.Fatalf("Report: %v", err)
	}
	return outcome, body, lease.Fingerprint()
}

func TestLeaseReportAroundNetHTTP(t *testing.T) {
	url := startEmulator(t, "--token", "tok_good:5", "--revoked", "tok_revoked")
	pool, err := NewTokenManager(WithStrategy(StrategyRoundRobin),
		WithTokens("tok_revoked", "tok_good"))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	// Round robin offers the revoked token first: 401, lease another.
	outcome, _, fp := getWithLease(t, pool, url, "/users/octocat")
	if outcome != OutcomeInvalidToken || !outcome.RetryOnAnotherToken() ||
		fp != Fingerprint("tok_revoked") {
		t.Fatalf("first request: outcome %v on %s, want invalid_token on the revoked token",
			outcome, fp)
	}
	outcome, body, fp := getWithLease(t, pool, url, "/users/octocat")
	if outcome != OutcomeSuccess || fp != Fingerprint("tok_good") {
		t.Fatalf("second request: outcome %v on %s", outcome, fp)
	}
	var user User
	if err := json.Unmarshal(body, &user); err != nil || user.Login != "octocat" {
		t.Fatalf("the body is not octocat: %v", err)
	}

	snap := snapshotByFingerprint(t, pool)
	if snap[Fingerprint("tok_revoked")].Status != TokenInvalid {
		t.Fatalf("the revoked token is %v, want invalid", snap[Fingerprint("tok_revoked")].Status)
	}
	core := snap[Fingerprint("tok_good")].Resources["core"]
	if core.Limit == nil || *core.Limit != 5 || core.Remaining == nil || *core.Remaining != 4 ||
		core.InFlight != 0 {
		t.Fatalf("the good token's reported figures: %+v", core)
	}

	outcome, _, _ = getWithLease(t, pool, url, "/users/no-such-user-at-all")
	if outcome != OutcomeNotFound || outcome.RetryOnAnotherToken() {
		t.Fatalf("a 404: outcome %v", outcome)
	}
}

func TestLeasePrimaryLimitAndExhaustion(t *testing.T) {
	url := startEmulator(t, "--token", "tok_one:1", "--window", "60")
	pool := newPool(t, "tok_one")
	if outcome, _, _ := getWithLease(t, pool, url, "/users/octocat"); outcome != OutcomeSuccess {
		t.Fatalf("first request: %v", outcome)
	}
	// The pool knows the token is spent: no lease, the earliest reset.
	_, err := pool.Lease(ProviderGitHub, "")
	gerr := wantStatus(t, err, StatusRateLimited, ErrRateLimited)
	if gerr.Reset.IsZero() || gerr.Resource != "core" {
		t.Fatalf("rate limit error without its reset or resource: %+v", gerr)
	}

	// A token the pool thought fresh, refused by the server: primary limit.
	other := newPool(t, "tok_one")
	if outcome, _, _ := getWithLease(t, other, url, "/users/octocat"); outcome !=
		OutcomePrimaryLimit {
		t.Fatalf("a request on a spent token: outcome %v, want primary_limit", outcome)
	}
	if n, _ := other.CountAvailable(ProviderGitHub, ""); n != 0 {
		t.Fatalf("%d available after a primary limit, want 0", n)
	}
}

func TestLeaseLifecycle(t *testing.T) {
	pool := newPool(t, "tok_life")
	before := currentLiveCounts()
	lease, err := pool.Lease(ProviderGitHub, "")
	if err != nil {
		t.Fatal(err)
	}
	if lease.Token() != "tok_life" || lease.Fingerprint() != Fingerprint("tok_life") {
		t.Fatal("the lease does not carry its token")
	}
	core := snapshotByFingerprint(t, pool)[lease.Fingerprint()].Resources["core"]
	if core.InFlight != 1 {
		t.Fatalf("a lease not reported: in flight %d, want 1", core.InFlight)
	}
	if _, err := lease.Report(200, nil, nil); err != nil {
		t.Fatal(err)
	}
	_, err = lease.Report(200, nil, nil)
	wantStatus(t, err, StatusInvalidArgument, ErrInvalidArgument) // reported once only
	_, err = lease.Report(70000, nil, nil)
	wantStatus(t, err, StatusInvalidArgument, ErrInvalidArgument)
	lease.Close()
	lease.Close()
	if lease.Token() != "" {
		t.Fatal("a closed lease still gives its token")
	}
	_, err = lease.Report(200, nil, nil)
	wantStatus(t, err, StatusShutDown, ErrClosed)
	req, _ := http.NewRequest(http.MethodGet, "http://example.invalid/", nil)
	wantStatus(t, lease.Authorize(req), StatusShutDown, ErrClosed)
	if after := currentLiveCounts(); after != before {
		t.Fatalf("live counts %+v, want %+v", after, before)
	}

	// A lease closed without a report gives its use back.
	unreported, _ := pool.Lease(ProviderGitHub, "")
	unreported.Close()
	core = snapshotByFingerprint(t, pool)[Fingerprint("tok_life")].Resources["core"]
	if core.InFlight != 0 {
		t.Fatalf("in flight %d after closing the lease, want 0", core.InFlight)
	}
}
