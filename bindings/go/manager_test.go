package gitfleet

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The pool alone: no I/O, figures fed through UpdateFromHeaders.

// rateHeaders are the rate-limit headers of a response.
func rateHeaders(limit, remaining int, reset time.Time) http.Header {
	h := http.Header{}
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Used", strconv.Itoa(limit-remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
	return h
}

func TestManagerAddRemoveSnapshot(t *testing.T) {
	pool := newPool(t)
	if err := pool.AddToken("tok_one", WithUsername("alice"), WithPriority(5)); err != nil {
		t.Fatal(err)
	}
	if err := pool.AddToken("tok_two", WithProvider(ProviderGitLab)); err != nil {
		t.Fatal(err)
	}
	if err := pool.AddToken("tok_one", WithUsername("alice2")); err != nil {
		t.Fatal(err) // the same token again: one entry, updated
	}
	snapshot, err := pool.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if len(snapshot) != 2 {
		t.Fatalf("snapshot has %d tokens, want 2: %+v", len(snapshot), snapshot)
	}
	first, second := snapshot[0], snapshot[1]
	if first.Fingerprint != Fingerprint("tok_one") || second.Fingerprint != Fingerprint("tok_two") {
		t.Errorf("fingerprints %s, %s: not the tokens' in the order added",
			first.Fingerprint, second.Fingerprint)
	}
	if first.Username != "alice2" || first.Priority != 0 || first.Provider != ProviderGitHub {
		t.Errorf("first token: %+v", first)
	}
	if second.Provider != ProviderGitLab || second.Status != TokenAvailable {
		t.Errorf("second token: %+v", second)
	}

	removed, err := pool.RemoveToken("tok_two")
	if err != nil || !removed {
		t.Fatalf("RemoveToken = %v, %v; want true, nil", removed, err)
	}
	removed, err = pool.RemoveToken("tok_two")
	if err != nil || removed {
		t.Fatalf("second RemoveToken = %v, %v; want false, nil", removed, err)
	}
	if n, err := pool.CountAvailable(ProviderGitHub, ""); err != nil || n != 1 {
		t.Fatalf("CountAvailable = %d, %v; want 1", n, err)
	}
	if n, err := pool.CountAvailable(ProviderGitLab, ""); err != nil || n != 0 {
		t.Fatalf("CountAvailable(GitLab) = %d, %v; want 0", n, err)
	}
}

func TestManagerSnapshotJSONIsTheLibrarys(t *testing.T) {
	pool := newPool(t, "tok_json")
	doc, err := pool.SnapshotJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `"fingerprint":"` + Fingerprint("tok_json") + `"`
	if !strings.Contains(string(doc), want) ||
		!strings.Contains(string(doc), `"provider":"github"`) {
		t.Fatalf("snapshot JSON %s lacks %s", doc, want)
	}
}

// leaseOrder leases and closes n times, returning the fingerprints.
func leaseOrder(t *testing.T, pool *TokenManager, n int) []string {
	t.Helper()
	var order []string
	for range n {
		lease, err := pool.Lease(ProviderGitHub, "")
		if err != nil {
			t.Fatal(err)
		}
		order = append(order, lease.Fingerprint())
		lease.Close()
	}
	return order
}

func TestManagerStrategies(t *testing.T) {
	a, b, c := Fingerprint("tok_a"), Fingerprint("tok_b"), Fingerprint("tok_c")

	t.Run("round robin", func(t *testing.T) {
		pool, err := NewTokenManager(WithStrategy(StrategyRoundRobin),
			WithTokens("tok_a", "tok_b", "tok_c"))
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		got := leaseOrder(t, pool, 6)
		want := []string{a, b, c, a, b, c}
		if !slices.Equal(got, want) {
			t.Fatalf("round robin order %v, want %v", got, want)
		}
	})

	t.Run("rate aware takes the most remaining", func(t *testing.T) {
		pool := newPool(t, "tok_a", "tok_b", "tok_c")
		reset := time.Now().Add(time.Hour)
		for token, left := range map[string]int{"tok_a": 10, "tok_b": 90, "tok_c": 50} {
			found, err := pool.UpdateFromHeaders(token, rateHeaders(100, left, reset))
			if err != nil || !found {
				t.Fatalf("UpdateFromHeaders(%s) = %v, %v", Fingerprint(token), found, err)
			}
		}
		if got := leaseOrder(t, pool, 1); got[0] != b {
			t.Fatalf("rate aware picked %s, want %s (most remaining)", got[0], b)
		}
		found, err := pool.UpdateFromHeaders("tok_unknown", rateHeaders(100, 1, reset))
		if err != nil || found {
			t.Fatalf("UpdateFromHeaders of a token not pooled = %v, %v", found, err)
		}
	})

	t.Run("priority", func(t *testing.T) {
		pool := newPool(t)
		pool.AddToken("tok_a", WithPriority(1))
		pool.AddToken("tok_b", WithPriority(9))
		pool.AddToken("tok_c", WithPriority(3))
		if err := pool.SetStrategy(StrategyPriority); err != nil {
			t.Fatal(err)
		}
		got := leaseOrder(t, pool, 3)
		if !slices.Equal(got, []string{b, b, b}) {
			t.Fatalf("priority order %v, want the priority-9 token %s each time", got, b)
		}
	})
}

func TestManagerReserve(t *testing.T) {
	reset := time.Now().Add(time.Hour)
	pool := newPool(t, "tok_a", "tok_b")
	pool.UpdateFromHeaders("tok_a", rateHeaders(100, 10, reset))
	pool.UpdateFromHeaders("tok_b", rateHeaders(100, 30, reset))
	count := func() int {
		n, err := pool.CountAvailable(ProviderGitHub, "core")
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 2 {
		t.Fatalf("%d available without a reserve, want 2", n)
	}
	if err := pool.SetReserveCount(10); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d available with a reserve of 10, want 1", n)
	}
	if err := pool.SetReserveFraction(0.5); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 0 {
		t.Fatalf("%d available with a reserve of half, want 0", n)
	}
	if err := pool.SetReserveCount(0); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Fatalf("%d available after removing the reserve, want 2", n)
	}
}

func TestManagerMarkInvalid(t *testing.T) {
	pool := newPool(t, "tok_a", "tok_b")
	found, err := pool.MarkInvalid("tok_a")
	if err != nil || !found {
		t.Fatalf("MarkInvalid = %v, %v", found, err)
	}
	if found, _ := pool.MarkInvalid("tok_unknown"); found {
		t.Fatal("MarkInvalid found a token never added")
	}
	if got := snapshotByFingerprint(t, pool)[Fingerprint("tok_a")].Status; got != TokenInvalid {
		t.Fatalf("status %q, want invalid", got)
	}
	if n, _ := pool.CountAvailable(ProviderGitHub, ""); n != 1 {
		t.Fatalf("%d available, want 1", n)
	}
	if got := leaseOrder(t, pool, 3); !slices.Equal(got, []string{Fingerprint("tok_b"),
		Fingerprint("tok_b"), Fingerprint("tok_b")}) {
		t.Fatalf("leases %v went to the invalid token", got)
	}
	pool.AddToken("tok_a") // added again: usable again
	if n, _ := pool.CountAvailable(ProviderGitHub, ""); n != 2 {
		t.Fatalf("%d available after adding the token again, want 2", n)
	}
	pool.MarkInvalid("tok_a")
	pool.MarkInvalid("tok_b")
	_, err = pool.Lease(ProviderGitHub, "")
	wantStatus(t, err, StatusAuth, ErrAuth)
}

func TestManagerExhaustionAndEarliestReset(t *testing.T) {
	pool := newPool(t, "tok_a", "tok_b")
	if at, err := pool.EarliestReset(ProviderGitHub, ""); err != nil || !at.IsZero() {
		t.Fatalf("EarliestReset of a fresh pool = %v, %v; want zero", at, err)
	}
	soon := time.Now().Add(100 * time.Second).Truncate(time.Second)
	later := soon.Add(time.Hour)
	pool.UpdateFromHeaders("tok_a", rateHeaders(60, 0, later))
	pool.UpdateFromHeaders("tok_b", rateHeaders(60, 0, soon))

	if n, _ := pool.CountAvailable(ProviderGitHub, ""); n != 0 {
		t.Fatalf("%d available, want 0", n)
	}
	at, err := pool.EarliestReset(ProviderGitHub, "core")
	if err != nil || !at.Equal(soon) {
		t.Fatalf("EarliestReset = %v, %v; want %v", at, err, soon)
	}
	_, err = pool.Lease(ProviderGitHub, "")
	gerr := wantStatus(t, err, StatusRateLimited, ErrRateLimited)
	if !gerr.Reset.Equal(soon) || gerr.Resource != "core" {
		t.Fatalf("rate limit error: reset %v resource %q, want %v core", gerr.Reset,
			gerr.Resource, soon)
	}
	snap := snapshotByFingerprint(t, pool)[Fingerprint("tok_b")]
	if snap.Status != TokenRateLimited || !snap.AvailableTime().Equal(soon) {
		t.Fatalf("spent token snapshot %+v", snap)
	}
	// Another resource is not spent.
	lease, err := pool.Lease(ProviderGitHub, "search")
	if err != nil {
		t.Fatalf("Lease(search): %v", err)
	}
	lease.Close()
}

func TestManagerInvalidArguments(t *testing.T) {
	pool := newPool(t, "tok_a")
	cases := map[string]error{
		"empty token":       pool.AddToken(""),
		"token with space":  pool.AddToken("zzsecret with space"),
		"token with NUL":    pool.AddToken("zzsecret\x00nul"),
		"unknown provider":  pool.AddToken("tok_b", WithProvider(Provider(7))),
		"unknown strategy":  pool.SetStrategy(Strategy(9)),
		"fraction above 1":  pool.SetReserveFraction(1.5),
		"priority overflow": pool.AddToken("tok_b", WithPriority(1<<40)),
	}
	_, cases["bad resource"] = pool.CountAvailable(ProviderGitHub, "co re")
	_, cases["bad resource lease"] = pool.Lease(ProviderGitHub, "../core")
	for name, err := range cases {
		wantStatus(t, err, StatusInvalidArgument, ErrInvalidArgument)
		if strings.Contains(err.Error(), "zzsecret") {
			t.Errorf("%s: the error %q shows the token", name, err)
		}
	}
}

func TestManagerCloseIsIdempotentAndFinal(t *testing.T) {
	before := currentLiveCounts()
	pool, err := NewTokenManager(WithTokens("tok_a"))
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.Close(); err != nil {
		t.Fatal(err)
	}
	if err := pool.Close(); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, pool.AddToken("tok_b"), StatusShutDown, ErrClosed)
	_, err = pool.Snapshot()
	wantStatus(t, err, StatusShutDown, ErrClosed)
	_, err = pool.Lease(ProviderGitHub, "")
	wantStatus(t, err, StatusShutDown, ErrClosed)
	_, err = NewClient(WithTokenManager(pool))
	wantStatus(t, err, StatusShutDown, ErrClosed)
	if after := currentLiveCounts(); after != before {
		t.Fatalf("live C objects %+v after Close, want %+v", after, before)
	}
}

func TestManagerConcurrentUseAndClose(t *testing.T) {
	pool := newPool(t, "tok_a", "tok_b", "tok_c")
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				lease, err := pool.Lease(ProviderGitHub, "")
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("Lease: %v", err)
					return
				}
				if i%2 == 0 {
					lease.Report(200, rateHeaders(5000, 4000-g, time.Now().Add(time.Hour)), nil)
				}
				lease.Close()
				if _, err := pool.Snapshot(); err != nil && !errors.Is(err, ErrClosed) {
					t.Errorf("Snapshot: %v", err)
				}
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	pool.Close() // while the goroutines run: they see ErrClosed, never a crash
	wg.Wait()
}

func TestFingerprintIsTheLibrarys(t *testing.T) {
	for _, token := range []string{"ghp_x", "demo_token_alpha", "a"} {
		pool := newPool(t, token)
		snapshot, _ := pool.Snapshot()
		if len(snapshot) != 1 || snapshot[0].Fingerprint != Fingerprint(token) {
			t.Fatalf("Fingerprint = %s, snapshot %+v", Fingerprint(token), snapshot)
		}
	}
	if got := Fingerprint("demo_token_revoked"); got != "0a29b51f3386" {
		t.Fatalf("Fingerprint(demo_token_revoked) = %s, want 0a29b51f3386 (the C demo's)", got)
	}
}

func TestStatusNamesAreTheLibrarys(t *testing.T) {
	for n := Status(-2); n < 100; n++ {
		if got, want := n.String(), cStatusName(n); got != want {
			t.Errorf("Status(%d).String() = %s, the library says %s", n, got, want)
		}
	}
	for n := Status(-2); n < 100; n++ {
		if _, named := statusNames[n]; !named && cStatusName(n) != "GF_STATUS_UNKNOWN" {
			t.Errorf("the library has status %d (%s), this package has no constant for it",
				n, cStatusName(n))
		}
	}
	for s := range statusNames {
		if s != StatusOK && sentinels[s] == nil {
			t.Errorf("%v has no sentinel error", s)
		}
	}
}

func TestVersion(t *testing.T) {
	if v := Version(); v == "" || !strings.Contains(v, ".") {
		t.Fatalf("Version() = %q", v)
	}
}
