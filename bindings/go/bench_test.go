package gitfleet

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"testing"
)

// The cost of one call through Go: cgo, the handle, the callback and the
// channel, the library's own work, one loopback HTTP exchange with the
// emulator, and decoding. Run with
//
//	go test -run '^$' -bench . -benchtime 2000x
//
// They start an emulator of their own with one token of huge quota, or,
// to compare with another program against the same emulator, use the one
// at $GITFLEET_BENCH_URL with the token in $GITFLEET_BENCH_TOKEN (default
// tok_bench), e.g.
//
//	target/debug/gitfleet-emulator --port 0 --token tok_bench:1000000000 &
//	GITFLEET_BENCH_URL=http://127.0.0.1:PORT go test -run '^$' -bench . -benchtime 2000x

// benchClient is a client on the benchmark's emulator.
func benchClient(b *testing.B) *Client {
	client, _ := benchSetup(b)
	return client
}

// benchSetup also gives the emulator's URL.
func benchSetup(b *testing.B) (*Client, string) {
	url, token := os.Getenv("GITFLEET_BENCH_URL"), benchToken()
	if url == "" {
		url = startEmulator(b, "--token", token+":1000000000")
	}
	client := newClient(b, url, newPool(b, token))
	if _, err := client.RateLimit(context.Background()); err != nil {
		b.Fatal(err) // also opens the keep-alive connection
	}
	return client, url
}

// BenchmarkRateLimit: GET /rate_limit, a small object, no quota used.
func BenchmarkRateLimit(b *testing.B) {
	client := benchClient(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := client.RateLimit(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBareNetHTTPRateLimit is the baseline: the same request with
// net/http alone (keep-alive, no pool), decoded into the same struct.
func BenchmarkBareNetHTTPRateLimit(b *testing.B) {
	_, url := benchSetup(b)
	httpClient := &http.Client{}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		req, _ := http.NewRequest(http.MethodGet, url+"/rate_limit", nil)
		req.Header.Set("Authorization", "Bearer "+benchToken())
		resp, err := httpClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		var limits RateLimit
		if err != nil || json.Unmarshal(body, &limits) != nil {
			b.Fatal(err)
		}
	}
}

func benchToken() string {
	if token := os.Getenv("GITFLEET_BENCH_TOKEN"); token != "" {
		return token
	}
	return "tok_bench"
}

// BenchmarkOwnerRepositoriesPage: one page of 8 repositories (octocat).
func BenchmarkOwnerRepositoriesPage(b *testing.B) {
	client := benchClient(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		repos, err := client.OwnerRepositories(ctx, "octocat")
		if err != nil || len(repos) != 8 {
			b.Fatal(len(repos), err)
		}
	}
}

// BenchmarkOwnerRepositoriesPageRaw: the same call, JSON not decoded.
func BenchmarkOwnerRepositoriesPageRaw(b *testing.B) {
	client := benchClient(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := client.Raw().OwnerRepositories(ctx, "octocat"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCallWithoutIO: a call that fails in the library without any
// request (no valid token): the cost of the async machinery alone, that
// is the C call, a hand-over to a library thread, the callback into Go and
// the wake-up of the calling goroutine.
func BenchmarkCallWithoutIO(b *testing.B) {
	pool := newPool(b, "tok_a")
	pool.MarkInvalid("tok_a")
	client := newClient(b, "http://127.0.0.1:9", pool)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := client.User(ctx, "octocat"); !errors.Is(err, ErrAuth) {
			b.Fatal(err)
		}
	}
}

// BenchmarkCountAvailable: one pool call without I/O, for the cost of
// crossing cgo alone.
func BenchmarkCountAvailable(b *testing.B) {
	pool := newPool(b, "tok_a", "tok_b", "tok_c")
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := pool.CountAvailable(ProviderGitHub, ""); err != nil {
			b.Fatal(err)
		}
	}
}
