package gitfleet

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"sync"
	"testing"
	"time"
)

// The client against the emulator.

func TestClientCalls(t *testing.T) {
	url := startEmulator(t, "--token", "tok_calls:1000")
	pool := newPool(t, "tok_calls")
	client := newClient(t, url, pool)
	ctx := testContext(t)

	user, err := client.User(ctx, "octocat")
	if err != nil || user.Login != "octocat" || user.ID == 0 || user.CreatedAt.IsZero() {
		t.Fatalf("User = %+v, %v", user, err)
	}
	me, err := client.AuthenticatedUser(ctx)
	if err != nil || me.Login == "" {
		t.Fatalf("AuthenticatedUser = %+v, %v", me, err)
	}

	repos, err := client.OwnerRepositories(ctx, "octocat")
	if err != nil || len(repos) != 8 {
		t.Fatalf("OwnerRepositories(octocat) = %d repositories, %v; want 8", len(repos), err)
	}
	var hello *Repository
	for i := range repos {
		if repos[i].Name == "Hello-World" {
			hello = &repos[i]
		}
	}
	if hello == nil || hello.FullName != "octocat/Hello-World" || hello.Owner.Login != "octocat" {
		t.Fatalf("no octocat/Hello-World among %+v", repos)
	}

	details, err := client.Repository(ctx, "octocat", "Hello-World")
	if err != nil || details.ID != hello.ID || details.FullName != "octocat/Hello-World" ||
		details.SubscribersCount == 0 {
		t.Fatalf("Repository = %+v, %v", details, err)
	}
	contributors, err := client.Contributors(ctx, "octocat", "Hello-World")
	if err != nil || len(contributors) == 0 || contributors[0].Contributions == 0 {
		t.Fatalf("Contributors = %+v, %v", contributors, err)
	}
	none, err := client.Contributors(ctx, "octocat", "empty")
	if err != nil || none == nil || len(none) != 0 {
		t.Fatalf("Contributors of an empty repository = %#v, %v; want an empty list", none, err)
	}
	branches, err := client.Branches(ctx, "octocat", "Hello-World")
	if err != nil || len(branches) == 0 || branches[0].Commit.SHA == "" {
		t.Fatalf("Branches = %+v, %v", branches, err)
	}

	limits, err := client.RateLimit(ctx)
	if err != nil || limits.Resources["core"].Limit != 1000 || limits.Rate == nil {
		t.Fatalf("RateLimit = %+v, %v", limits, err)
	}
	refreshed, err := client.RefreshRateLimits(ctx)
	fp := Fingerprint("tok_calls")
	if err != nil || refreshed[fp].RateLimit == nil || refreshed[fp].Status != TokenAvailable {
		t.Fatalf("RefreshRateLimits = %+v, %v", refreshed, err)
	}
	validation, err := client.ValidateToken(ctx, "tok_calls")
	if err != nil || !validation.Valid || validation.Fingerprint != fp || validation.Login == "" {
		t.Fatalf("ValidateToken = %+v, %v", validation, err)
	}
	validations, err := client.ValidatePool(ctx)
	if err != nil || len(validations) != 1 || !validations[fp].Valid {
		t.Fatalf("ValidatePool = %+v, %v", validations, err)
	}

	_, err = client.User(ctx, "no-such-user-at-all")
	if gerr := wantStatus(t, err, StatusNotFound, ErrNotFound); gerr.HTTPStatus != 404 {
		t.Fatalf("not found error has HTTP status %d", gerr.HTTPStatus)
	}
	_, err = client.Repository(ctx, "octocat", "no-such-repository")
	wantStatus(t, err, StatusNotFound, ErrNotFound)
}

func TestRawClientGivesTheLibrarysDocuments(t *testing.T) {
	url := startEmulator(t, "--token", "tok_raw:1000")
	client := newClient(t, url, newPool(t, "tok_raw"))
	ctx := testContext(t)
	doc, err := client.Raw().OwnerRepositories(ctx, "torvalds")
	if err != nil {
		t.Fatal(err)
	}
	var repos []map[string]any
	if err := json.Unmarshal(doc, &repos); err != nil || len(repos) != 7 {
		t.Fatalf("raw document: %d repositories, %v; want 7", len(repos), err)
	}
	if _, ok := repos[0]["full_name"]; !ok {
		t.Fatalf("raw repository lacks full_name: %v", repos[0])
	}
	_, err = client.Raw().User(ctx, "no-such-user-at-all")
	wantStatus(t, err, StatusNotFound, ErrNotFound)
}

func TestRotation(t *testing.T) {
	url := startEmulator(t, "--token", "tok_a:10", "--token", "tok_b:10")
	pool := newPool(t, "tok_a", "tok_b")
	client := newClient(t, url, pool)
	ctx := testContext(t)
	for range 4 {
		if _, err := client.User(ctx, "torvalds"); err != nil {
			t.Fatal(err)
		}
	}
	// Rate-aware: each request goes to the token with the most left, so
	// four requests spread two and two.
	if a, b := remaining(t, pool, "tok_a"), remaining(t, pool, "tok_b"); a != 8 || b != 8 {
		t.Fatalf("remaining after 4 calls: tok_a %d, tok_b %d; want 8 and 8", a, b)
	}

	if err := pool.SetStrategy(StrategyRoundRobin); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if _, err := client.User(ctx, "torvalds"); err != nil {
			t.Fatal(err)
		}
	}
	if a, b := remaining(t, pool, "tok_a"), remaining(t, pool, "tok_b"); a != 6 || b != 6 {
		t.Fatalf("remaining after 4 round-robin calls: tok_a %d, tok_b %d; want 6 and 6", a, b)
	}
}

func TestInvalidToken(t *testing.T) {
	url := startEmulator(t, "--token", "tok_good:10", "--revoked", "tok_revoked")
	pool := newPool(t, "tok_revoked", "tok_good")
	client := newClient(t, url, pool)
	ctx := testContext(t)

	refreshed, err := client.RefreshRateLimits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bad := refreshed[Fingerprint("tok_revoked")]
	if bad.Status != TokenInvalid || bad.RateLimit != nil || bad.Error == "" {
		t.Fatalf("refresh of the revoked token: %+v", bad)
	}
	for range 3 {
		if _, err := client.OwnerRepositories(ctx, "gvanrossum"); err != nil {
			t.Fatalf("a call failed although one token is good: %v", err)
		}
	}
	snap := snapshotByFingerprint(t, pool)
	if snap[Fingerprint("tok_revoked")].Status != TokenInvalid ||
		snap[Fingerprint("tok_good")].Status != TokenAvailable {
		t.Fatalf("snapshot: %+v", snap)
	}
	validation, err := client.ValidateToken(ctx, "tok_revoked")
	if err != nil || validation.Valid {
		t.Fatalf("ValidateToken(revoked) = %+v, %v; want not valid", validation, err)
	}

	// Only a revoked token: the call fails with an authentication error.
	only := newClient(t, url, newPool(t, "tok_revoked"))
	_, err = only.User(ctx, "octocat")
	wantStatus(t, err, StatusAuth, ErrAuth)
	// An empty pool: no valid token left.
	empty := newClient(t, url, newPool(t))
	_, err = empty.User(ctx, "octocat")
	wantStatus(t, err, StatusAuth, ErrAuth)
	// No pool and no token at all: unauthenticated requests.
	anonymous, err := NewClient(WithBaseURL(url))
	if err != nil {
		t.Fatal(err)
	}
	defer anonymous.Close()
	if user, err := anonymous.User(ctx, "octocat"); err != nil || user.Login != "octocat" {
		t.Fatalf("an unauthenticated call: %+v, %v", user, err)
	}
}

func TestExhaustionWithEarliestReset(t *testing.T) {
	url := startEmulator(t, "--token", "tok_a:1", "--token", "tok_b:1", "--window", "30")
	pool := newPool(t, "tok_a", "tok_b")
	client := newClient(t, url, pool)
	ctx := testContext(t)
	start := time.Now()
	for range 2 {
		if _, err := client.User(ctx, "kennethreitz"); err != nil {
			t.Fatal(err)
		}
	}
	_, err := client.User(ctx, "kennethreitz")
	gerr := wantStatus(t, err, StatusRateLimited, ErrRateLimited)
	if gerr.Resource != "core" {
		t.Errorf("resource %q, want core", gerr.Resource)
	}
	if gerr.Reset.Before(start) || gerr.Reset.After(start.Add(32*time.Second)) {
		t.Errorf("reset %v is not within the 30 s window from %v", gerr.Reset, start)
	}
	earliest, err := pool.EarliestReset(ProviderGitHub, "")
	if err != nil || !earliest.Equal(gerr.Reset) {
		t.Errorf("EarliestReset = %v, %v; the error said %v", earliest, err, gerr.Reset)
	}
	if n, _ := pool.CountAvailable(ProviderGitHub, ""); n != 0 {
		t.Errorf("%d tokens available, want 0", n)
	}
	// Spent: the pool refuses without sending anything, at once.
	began := time.Now()
	_, err = client.OwnerRepositories(ctx, "octocat")
	wantStatus(t, err, StatusRateLimited, ErrRateLimited)
	if took := time.Since(began); took > 2*time.Second {
		t.Errorf("a spent pool took %v to answer", took)
	}
}

func TestWaitForResetWithMaxWait(t *testing.T) {
	url := startEmulator(t, "--token", "tok_a:1", "--window", "2")
	pool := newPool(t, "tok_a")
	client := newClient(t, url, pool, WithMaxWait(20*time.Second))
	ctx := testContext(t)
	if _, err := client.User(ctx, "octocat"); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if _, err := client.User(ctx, "octocat"); err != nil {
		t.Fatalf("the call did not wait for the reset: %v", err)
	}
	if took := time.Since(began); took < 500*time.Millisecond {
		t.Fatalf("the second call took %v: it cannot have waited for a reset", took)
	}
}

func TestWaitCancelledByContext(t *testing.T) {
	url := startEmulator(t, "--token", "tok_a:1", "--window", "120")
	pool := newPool(t, "tok_a")
	client := newClient(t, url, pool, WithMaxWait(5*time.Minute))
	if _, err := client.User(testContext(t), "octocat"); err != nil {
		t.Fatal(err)
	}
	before := currentLiveCounts()

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := client.User(ctx, "octocat")
	took := time.Since(began)
	if err != context.DeadlineExceeded {
		t.Fatalf("got %v, want context.DeadlineExceeded itself", err)
	}
	if took < 250*time.Millisecond || took > 5*time.Second {
		t.Fatalf("the cancelled wait took %v, want about 300 ms", took)
	}

	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	_, err = client.OwnerRepositories(ctx, "octocat")
	if err != context.Canceled {
		t.Fatalf("got %v, want context.Canceled itself", err)
	}
	if after := currentLiveCounts(); after != before {
		t.Fatalf("live handles %+v after the cancelled calls, want %+v", after, before)
	}

	// A context already done starts nothing.
	_, err = client.User(ctx, "octocat")
	if err != context.Canceled {
		t.Fatalf("with a done context: %v", err)
	}
}

func TestPaginationOf250Repositories(t *testing.T) {
	url := startEmulator(t, "--token", "tok_a:100")
	pool := newPool(t, "tok_a")
	client := newClient(t, url, pool)
	repos, err := client.OwnerRepositories(testContext(t), "bigorg")
	if err != nil {
		t.Fatal(err)
	}
	if len(repos) != 250 {
		t.Fatalf("%d repositories, want 250", len(repos))
	}
	ids := map[int64]bool{}
	names := map[string]bool{}
	for _, repo := range repos {
		if repo.Owner.Login != "bigorg" {
			t.Fatalf("repository %s of %s", repo.FullName, repo.Owner.Login)
		}
		ids[repo.ID], names[repo.Name] = true, true
	}
	if len(ids) != 250 || len(names) != 250 {
		t.Fatalf("%d distinct ids and %d distinct names, want 250: pages overlap",
			len(ids), len(names))
	}
	// The pages each cost one request (100 per page: three).
	if left := remaining(t, pool, "tok_a"); left != 97 {
		t.Fatalf("%d left after listing 250 repositories, want 97 (three pages)", left)
	}
	empty, err := client.OwnerRepositories(testContext(t), "emptyuser")
	if err != nil || empty == nil || len(empty) != 0 {
		t.Fatalf("emptyuser: %#v, %v; want an empty list", empty, err)
	}
}

func TestShutdownRuntimeEndsCallsInFlightAndTheNextCallWorks(t *testing.T) {
	url := startEmulator(t, "--token", "tok_a:1000", "--delay-ms", "300")
	client := newClient(t, url, newPool(t, "tok_a"))

	const calls = 8
	errs := make(chan error, calls)
	for range calls {
		go func() {
			_, err := client.User(context.Background(), "octocat")
			errs <- err
		}()
	}
	time.Sleep(100 * time.Millisecond) // the calls are in flight (300 ms each)
	if err := ShutdownRuntime(10 * time.Second); err != nil {
		t.Fatalf("ShutdownRuntime: %v", err)
	}
	closed := 0
	for range calls {
		select {
		case err := <-errs:
			if err != nil {
				wantStatus(t, err, StatusShutDown, ErrClosed)
				closed++
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a call in flight did not return after ShutdownRuntime")
		}
	}
	if closed == 0 {
		t.Fatal("no call was in flight when the runtime stopped")
	}
	if _, err := client.User(testContext(t), "octocat"); err != nil {
		t.Fatalf("a call after ShutdownRuntime: %v", err)
	}
	if err := ShutdownRuntime(10 * time.Second); err != nil {
		t.Fatalf("ShutdownRuntime with nothing in flight: %v", err)
	}
}

func TestClientCloseCompletesCallsInFlight(t *testing.T) {
	url := startEmulator(t, "--token", "tok_a:1000", "--delay-ms", "300")
	client := newClient(t, url, newPool(t, "tok_a"))
	before := currentLiveCounts()

	const calls = 32
	errs := make(chan error, calls)
	var started sync.WaitGroup
	for range calls {
		started.Add(1)
		go func() {
			started.Done()
			_, err := client.User(context.Background(), "octocat")
			errs <- err
		}()
	}
	started.Wait()
	time.Sleep(100 * time.Millisecond) // the calls are in flight (300 ms each)
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	for range calls {
		select {
		case err := <-errs:
			if err != nil && !errors.Is(err, ErrClosed) {
				t.Errorf("a call in flight at Close returned %v", err)
			}
		case <-deadline:
			t.Fatal("calls in flight did not return after Close")
		}
	}
	_, err := client.User(context.Background(), "octocat")
	wantStatus(t, err, StatusShutDown, ErrClosed)
	after := currentLiveCounts()
	if after.Handles != before.Handles || after.Requests != before.Requests ||
		after.Clients != before.Clients-1 {
		t.Fatalf("live counts %+v after Close, from %+v", after, before)
	}
}

func TestClientOptions(t *testing.T) {
	url := startEmulator(t, "--token", "tok_a:1000", "--delay-ms", "1500")
	pool := newPool(t, "tok_a")

	bad := map[string][]ClientOption{
		"not a URL":         {WithBaseURL("not a url")},
		"zero timeout":      {WithTimeout(0)},
		"negative connect":  {WithConnectTimeout(-time.Second)},
		"negative retries":  {WithMaxRetries(-1)},
		"negative wait":     {WithMaxWait(-time.Second)},
		"empty user agent":  {WithUserAgent("")},
		"control in agent":  {WithUserAgent("a\nb")},
		"token with spaces": {WithToken("zz secret")},
		"NUL in URL":        {WithBaseURL("http://x\x00y")},
	}
	for name, opts := range bad {
		client, err := NewClient(opts...)
		if err == nil {
			client.Close()
			t.Errorf("%s: NewClient accepted it", name)
			continue
		}
		wantStatus(t, err, StatusInvalidArgument, ErrInvalidArgument)
	}

	// A timeout shorter than the server's delay.
	client := newClient(t, url, pool, WithTimeout(200*time.Millisecond), WithMaxRetries(0),
		WithUserAgent("gitfleet-go-test/1"), WithConnectTimeout(time.Second))
	_, err := client.User(testContext(t), "octocat")
	if gerr := wantStatus(t, err, StatusTimeout, ErrTimeout); !gerr.Timeout() {
		t.Fatal("Timeout() is false for a timeout")
	}

	// Nothing listens: a network error.
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + listener.Addr().String()
	listener.Close()
	dead := newClient(t, deadURL, pool, WithMaxRetries(0))
	_, err = dead.RateLimit(testContext(t))
	wantStatus(t, err, StatusNetwork, ErrNetwork)
}

func TestNilContextIsRefused(t *testing.T) {
	client, err := NewClient(WithToken("tok_a"))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	//lint:ignore SA1012 the nil context is the point of the test
	_, err = client.User(nil, "octocat") //nolint:staticcheck
	wantStatus(t, err, StatusInvalidArgument, ErrInvalidArgument)
}
