// Command callcost times one call through the Go package next to the same
// call through the C API, against one emulator, in one run.
//
// Cases: a small body (GET /rate_limit) and a page of 100 repositories
// (GET /users/hundred/repos), each
//   - blocking: one caller; C side gf_client_rate_limit /
//     gf_client_owner_repositories (the JSON text, freed), Go side
//     Client.RateLimit / Client.OwnerRepositories (the typed result), the
//     sides alternating call by call, the median of each;
//   - 16 and 256 in flight: C side the _async functions driven from C, each
//     callback starting the next call; Go side that many goroutines calling
//     the blocking Go method in a loop. Batches alternate; per-call time is
//     the median batch's wall time over its calls.
//
// The Go side is also timed through Client.Raw() (the JSON bytes, not
// decoded), which separates the wrapper's own cost (cgo, handle, channel,
// copy) from decoding. The Go package's methods run over the C API's async
// functions (so that a context or Close can end them); the blocking rows
// therefore also time a C async call waited for alone ("C async"), the
// part of the difference that is the library's own hand-over to its
// runtime rather than Go's. The Go calls use context.Background(), which
// waits in C; "Go ctx" is the typed call with a cancellable context, which
// waits for a callback into Go on a channel.
//
// Build and run from bindings/go (the release static library and emulator
// must be built: cargo build --release -p gitfleet -p gitfleet-emulator
// --bin gitfleet-emulator):
//
//	go build -o ../../build/go_callcost ./bench/callcost
//	GITFLEET_EMULATOR_BIN=../../target/release/gitfleet-emulator ../../build/go_callcost
//
// or against a running emulator (started with --token bench_token:4000000000
// --owner hundred:100): GITFLEET_BENCH_URL=http://127.0.0.1:PORT.
package main

/*
#cgo CFLAGS: -I${SRCDIR}/../../../../include -O2
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include "gitfleet.h"

static gf_client *bench_client(const char *url, const char *token)
{
    gf_client_options *options = gf_client_options_new();
    gf_client *client = NULL;
    if (gf_client_options_set_base_url(options, url, NULL) != GF_STATUS_OK ||
        gf_client_options_set_token(options, token, NULL) != GF_STATUS_OK ||
        gf_client_new(options, &client, NULL) != GF_STATUS_OK) {
        client = NULL;
    }
    gf_client_options_free(options);
    return client;
}

// One blocking call through the C API; the document is freed.
static gf_status bench_call(const gf_client *client, int page)
{
    char *json = NULL;
    gf_status status = page ? gf_client_owner_repositories(client, "hundred", &json, NULL)
                            : gf_client_rate_limit(client, &json, NULL);
    gf_string_free(json);
    return status;
}

// `calls` async calls, `in_flight` at a time, each callback starting the next.
typedef struct {
    const gf_client *client;
    int page;
    atomic_long to_start;
    atomic_long done;
    long total;
    atomic_int failed;
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    int finished;
} flight;

static void flight_start(flight *f);

static void flight_done(void *user_data, gf_status status, const char *json, const gf_error *err)
{
    (void)json;
    (void)err;
    flight *f = user_data;
    if (status != GF_STATUS_OK) {
        atomic_store(&f->failed, 1);
    }
    if (atomic_fetch_sub(&f->to_start, 1) > 0) {
        flight_start(f);
    }
    if (atomic_fetch_add(&f->done, 1) + 1 == f->total) {
        pthread_mutex_lock(&f->mutex);
        f->finished = 1;
        pthread_cond_signal(&f->cond);
        pthread_mutex_unlock(&f->mutex);
    }
}

static void flight_start(flight *f)
{
    gf_status status = f->page ? gf_client_owner_repositories_async(f->client, "hundred",
                                                                    flight_done, f, NULL, NULL)
                               : gf_client_rate_limit_async(f->client, flight_done, f, NULL, NULL);
    if (status != GF_STATUS_OK) {
        abort(); // the library refused an async call: nothing to measure
    }
}

// Returns 0 when every call succeeded.
static int bench_flight(const gf_client *client, int page, long in_flight, long calls)
{
    flight f = {.client = client, .page = page, .total = calls};
    long first = in_flight < calls ? in_flight : calls;
    atomic_init(&f.to_start, calls - first);
    atomic_init(&f.done, 0);
    atomic_init(&f.failed, 0);
    pthread_mutex_init(&f.mutex, NULL);
    pthread_cond_init(&f.cond, NULL);
    for (long i = 0; i < first; i++) {
        flight_start(&f);
    }
    pthread_mutex_lock(&f.mutex);
    while (!f.finished) {
        pthread_cond_wait(&f.cond, &f.mutex);
    }
    pthread_mutex_unlock(&f.mutex);
    pthread_mutex_destroy(&f.mutex);
    pthread_cond_destroy(&f.cond);
    return atomic_load(&f.failed);
}
*/
import "C"

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	gitfleet "github.com/gitfleet/gitfleet/bindings/go"
)

const (
	token     = "bench_token"
	pageOwner = "hundred"
	target    = 1.05
)

type body int

const (
	small body = iota
	page
)

func (b body) String() string { return [...]string{"small", "page"}[b] }

// side is one way of making a call: blocking, or n goroutines/callers at once.
type side func(b body)

func main() {
	rounds := flag.Int("rounds", 7,
		"batches per in-flight case (blocking: x200 small, x20 page calls)")
	flag.Parse()

	url, stop := emulatorURL()
	defer stop()

	curl, ctoken := C.CString(url), C.CString(token)
	defer C.free(unsafe.Pointer(curl))
	defer C.free(unsafe.Pointer(ctoken))
	cclient := C.bench_client(curl, ctoken)
	if cclient == nil {
		fail("the C client could not be made")
	}
	defer C.gf_client_free(cclient)

	pool, err := gitfleet.NewTokenManager(gitfleet.WithTokens(token))
	check(err)
	defer pool.Close()
	client, err := gitfleet.NewClient(gitfleet.WithBaseURL(url), gitfleet.WithTokenManager(pool))
	check(err)
	defer client.Close()
	ctx := context.Background()

	cCall := func(b body) {
		if status := C.bench_call(cclient, C.int(b)); status != C.GF_STATUS_OK {
			fail(fmt.Sprintf("C call: status %d", int(status)))
		}
	}
	goCall := func(b body) {
		var err error // per call: goroutines share these closures
		if b == small {
			_, err = client.RateLimit(ctx)
		} else {
			var repos []gitfleet.Repository
			repos, err = client.OwnerRepositories(ctx, pageOwner)
			if err == nil && len(repos) != 100 {
				err = fmt.Errorf("%d repositories, not 100", len(repos))
			}
		}
		check(err)
	}
	rawCall := func(b body) {
		var err error // per call: goroutines share these closures
		if b == small {
			_, err = client.Raw().RateLimit(ctx)
		} else {
			_, err = client.Raw().OwnerRepositories(ctx, pageOwner)
		}
		check(err)
	}

	fmt.Printf("gitfleet Go call cost: Go package vs C API, wall time per call, %d cores, %s\n",
		runtime.NumCPU(), runtime.Version())
	fmt.Printf("%-6s %-14s %10s %10s %7s %12s %7s %13s %7s %12s %7s  target (typed Go <= %.2fx C)\n",
		"body", "mode", "C (us)", "Go (us)", "Go/C", "Go raw (us)", "raw/C", "C async (us)",
		"async/C", "Go ctx (us)", "ctx/C", target)
	cancellable, cancel := context.WithCancel(context.Background())
	defer cancel()
	goCtxCall := func(b body) {
		var err error // per call: goroutines share these closures
		if b == small {
			_, err = client.RateLimit(cancellable)
		} else {
			_, err = client.OwnerRepositories(cancellable, pageOwner)
		}
		check(err)
	}
	for _, b := range []body{small, page} {
		samples := *rounds * 200
		if b == page {
			samples = *rounds * 20
		}
		cAsync := func(b body) {
			if C.bench_flight(cclient, C.int(b), 1, 1) != 0 {
				fail("an async C call failed")
			}
		}
		t := alternate(b, samples, cCall, goCall, rawCall, cAsync, goCtxCall)
		row(b, "blocking", t...)
		for _, n := range []int{16, 256} {
			calls := 20 * max(n, 100)
			if b == page {
				calls = 2 * max(n, 100)
			}
			cFlight := func(b body, calls int) {
				if C.bench_flight(cclient, C.int(b), C.long(n), C.long(calls)) != 0 {
					fail("an async C call failed")
				}
			}
			goFlight := func(call side) func(body, int) {
				return func(b body, calls int) { goroutines(n, calls, b, call) }
			}
			t := batches(b, *rounds, calls, cFlight, goFlight(goCall), goFlight(rawCall),
				goFlight(goCtxCall))
			// No C async column: the C side is async already.
			row(b, fmt.Sprintf("%d in flight", n), t[0], t[1], t[2], math.NaN(), t[3])
		}
	}
}

// alternate times single calls of the sides in turn (rotating which goes
// first) and gives each side's median, in microseconds.
func alternate(b body, samples int, sides ...side) []float64 {
	for i := 0; i < samples/10+5; i++ {
		for _, s := range sides {
			s(b)
		}
	}
	times := make([][]float64, len(sides))
	for i := 0; i < samples; i++ {
		for k := range sides {
			j := (i + k) % len(sides)
			start := time.Now()
			sides[j](b)
			times[j] = append(times[j], float64(time.Since(start).Nanoseconds())/1e3)
		}
	}
	return medians(times)
}

// batches times batches of `calls` calls of the sides in turn and gives
// each side's median per-call time, in microseconds.
func batches(b body, rounds, calls int, sides ...func(body, int)) []float64 {
	for _, s := range sides {
		s(b, calls/4) // warm-up: threads, connections
	}
	times := make([][]float64, len(sides))
	for i := 0; i < rounds; i++ {
		for k := range sides {
			j := (i + k) % len(sides)
			start := time.Now()
			sides[j](b, calls)
			times[j] = append(times[j], float64(time.Since(start).Nanoseconds())/1e3/float64(calls))
		}
	}
	return medians(times)
}

func medians(times [][]float64) []float64 {
	out := make([]float64, len(times))
	for i, t := range times {
		out[i] = median(t)
	}
	return out
}

// goroutines makes `calls` calls with n goroutines calling in a loop.
func goroutines(n, calls int, b body, call side) {
	var left atomic.Int64
	left.Store(int64(calls))
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				call(b)
			}
		}()
	}
	wg.Wait()
}

// row prints C, Go, Go raw, C async (NaN: none) and Go ctx.
func row(b body, mode string, t ...float64) {
	c, g, r := t[0], t[1], t[2]
	verdict := "met"
	if g/c > target {
		verdict = "NOT met"
	}
	async := fmt.Sprintf("%13s %7s %12s %7s", "", "", "", "")
	if len(t) > 4 {
		async = fmt.Sprintf("%13.1f %7.3f %12.1f %7.3f", t[3], t[3]/c, t[4], t[4]/c)
		async = strings.ReplaceAll(async, "NaN", "-")
	}
	fmt.Printf("%-6s %-14s %10.1f %10.1f %7.3f %12.1f %7.3f %s  %s\n", b, mode, c, g, g/c, r, r/c,
		async, verdict)
}

func median(v []float64) float64 {
	sort.Float64s(v)
	return v[len(v)/2]
}

// emulatorURL is $GITFLEET_BENCH_URL, or a new emulator's
// ($GITFLEET_EMULATOR_BIN), which exits when this program does.
func emulatorURL() (string, func()) {
	if url := os.Getenv("GITFLEET_BENCH_URL"); url != "" {
		return url, func() {}
	}
	bin := os.Getenv("GITFLEET_EMULATOR_BIN")
	if bin == "" {
		fail("set GITFLEET_BENCH_URL, or GITFLEET_EMULATOR_BIN to the (release) emulator")
	}
	cmd := exec.Command(bin, "--token", token+":4000000000", "--owner", pageOwner+":100",
		"--window", "86400", "--lifetime", "3600", "--exit-on-stdin-eof")
	stdin, err := cmd.StdinPipe()
	check(err)
	stdout, err := cmd.StdoutPipe()
	check(err)
	check(cmd.Start())
	line, err := bufio.NewReader(stdout).ReadString('\n')
	check(err)
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "gitfleet-emulator listening on ")
	if !ok {
		fail("unexpected line from the emulator: " + line)
	}
	return url, func() {
		stdin.Close()
		_ = cmd.Wait()
	}
}

func check(err error) {
	if err != nil {
		fail(err.Error())
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "callcost:", msg)
	os.Exit(1)
}
