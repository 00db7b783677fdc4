package gitfleet

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// Errors the emulator does not produce, from a fake GitHub.

const secondaryMessage = `{"message":"You have exceeded a secondary rate limit. Please wait."}`

// fakeGitHub answers /users/{name} as its name says.
func fakeGitHub(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/users/forbidden":
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"message":"Must have admin rights to Repository."}`)
		case "/users/secondary":
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, secondaryMessage)
		case "/users/teapot":
			w.WriteHeader(http.StatusTeapot)
			fmt.Fprint(w, `{"message":"I'm a teapot"}`)
		case "/users/broken":
			fmt.Fprint(w, `{"login": 12`)
		default:
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestClientErrorKinds(t *testing.T) {
	url := fakeGitHub(t)
	client := newClient(t, url, newPool(t, "tok_a"), WithMaxRetries(0))
	ctx := testContext(t)

	_, err := client.User(ctx, "forbidden")
	if gerr := wantStatus(t, err, StatusForbidden, ErrForbidden); gerr.HTTPStatus != 403 {
		t.Errorf("forbidden: HTTP status %d", gerr.HTTPStatus)
	}
	_, err = client.User(ctx, "teapot")
	if gerr := wantStatus(t, err, StatusHTTP, ErrHTTP); gerr.HTTPStatus != 418 {
		t.Errorf("teapot: HTTP status %d", gerr.HTTPStatus)
	}
	_, err = client.User(ctx, "server-error")
	if gerr := wantStatus(t, err, StatusHTTP, ErrHTTP); gerr.HTTPStatus != 502 {
		t.Errorf("bad gateway: HTTP status %d", gerr.HTTPStatus)
	}
	_, err = client.User(ctx, "broken")
	wantStatus(t, err, StatusDecode, ErrDecode)
	_, err = client.User(ctx, "secondary")
	if gerr := wantStatus(t, err, StatusSecondaryLimited, ErrSecondaryLimited); gerr.RetryAfter !=
		120*time.Second {
		t.Errorf("secondary limit: retry after %v, want 2m0s", gerr.RetryAfter)
	}
}

// When secondary limits cool every token down, the pool is spent: the
// call fails with the earliest time a token is back.
func TestSecondaryLimitsSpendThePool(t *testing.T) {
	url := fakeGitHub(t)
	pool := newPool(t, "tok_a", "tok_b")
	client := newClient(t, url, pool, WithMaxRetries(3))
	began := time.Now()
	_, err := client.User(testContext(t), "secondary")
	gerr := wantStatus(t, err, StatusRateLimited, ErrRateLimited)
	if gerr.Reset.Before(began.Add(100*time.Second)) || gerr.Reset.After(began.Add(3*time.Minute)) {
		t.Errorf("reset %v, want about two minutes from %v", gerr.Reset, began)
	}
	for _, token := range []string{"tok_a", "tok_b"} {
		if s := snapshotByFingerprint(t, pool)[Fingerprint(token)]; s.Status != TokenCoolingDown {
			t.Errorf("%s is %v, want cooling_down", Fingerprint(token), s.Status)
		}
	}
}

func TestLeaseReportOfASecondaryLimit(t *testing.T) {
	pool := newPool(t, "tok_a")
	lease, err := pool.Lease(ProviderGitHub, "")
	if err != nil {
		t.Fatal(err)
	}
	defer lease.Close()
	header := http.Header{"Retry-After": {"30"}}
	began := time.Now()
	outcome, err := lease.Report(http.StatusForbidden, header, []byte(secondaryMessage))
	if err != nil || outcome != OutcomeSecondaryLimit || !outcome.RetryOnAnotherToken() {
		t.Fatalf("Report = %v, %v; want secondary_limit", outcome, err)
	}
	snap := snapshotByFingerprint(t, pool)[Fingerprint("tok_a")]
	if snap.Status != TokenCoolingDown || snap.AvailableTime().Before(began.Add(29*time.Second)) {
		t.Fatalf("after a secondary limit: %+v", snap)
	}
	_, err = pool.Lease(ProviderGitHub, "")
	wantStatus(t, err, StatusRateLimited, ErrRateLimited)
}

func TestErrorMatching(t *testing.T) {
	cancelled := &Error{Status: StatusCancelled}
	if !errors.Is(cancelled, context.Canceled) || errors.Is(cancelled, ErrClosed) {
		t.Error("a cancelled error does not match context.Canceled alone")
	}
	if got := cancelled.Error(); got != "gitfleet: GF_STATUS_CANCELLED" {
		t.Errorf("an error without a message reads %q", got)
	}
	wrapped := fmt.Errorf("listing: %w", &Error{Status: StatusNotFound, Message: "not found: x"})
	var gerr *Error
	if !errors.Is(wrapped, ErrNotFound) || !errors.As(wrapped, &gerr) ||
		gerr.Message != "not found: x" {
		t.Error("a wrapped error does not match")
	}
	if errors.Is(wrapped, ErrAuth) || !(&Error{Status: StatusTimeout}).Timeout() {
		t.Error("wrong matches")
	}
	for status, sentinel := range sentinels {
		if !errors.Is(&Error{Status: status}, sentinel) {
			t.Errorf("%v does not match its sentinel", status)
		}
	}
}
