package gitfleet

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// 64 goroutines make 2,000 calls in all on one client, some of them
// cancelled mid-flight: every call returns exactly once with its result or
// its context's error, every accepted C call gets exactly one callback,
// and no goroutine, cgo.Handle or C object is left over.
func TestStress64Goroutines2000Calls(t *testing.T) {
	const workers, calls = 64, 2000
	url := startEmulator(t, "--token", "tok_stress:100000000")
	pool := newPool(t, "tok_stress")
	client := newClient(t, url, pool)

	quiesce()
	goroutinesBefore, _ := goroutines()
	liveBefore := currentLiveCounts()
	startedBefore, callbacksBefore := counters.started.Load(), counters.callbacks.Load()
	straysBefore := counters.strays.Load()

	var returned [calls]atomic.Int32
	var next, succeeded, cancelled atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= calls {
					return
				}
				err := stressCall(client, i)
				returned[i].Add(1)
				switch {
				case err == nil:
					succeeded.Add(1)
				case err == context.Canceled || err == context.DeadlineExceeded:
					cancelled.Add(1)
				default:
					t.Errorf("call %d: %v", i, err)
				}
			}
		}()
	}
	waitOrFail(t, &wg, 2*time.Minute)

	for i := range returned {
		if n := returned[i].Load(); n != 1 {
			t.Fatalf("call %d returned %d times", i, n)
		}
	}
	if succeeded.Load()+cancelled.Load() != calls {
		t.Fatalf("%d succeeded + %d cancelled != %d", succeeded.Load(), cancelled.Load(), calls)
	}
	if succeeded.Load() < calls/2 {
		t.Fatalf("only %d of %d calls succeeded", succeeded.Load(), calls)
	}
	started := counters.started.Load() - startedBefore
	callbacks := counters.callbacks.Load() - callbacksBefore
	if started != callbacks || started < calls*3/4 {
		t.Fatalf("%d calls started in C, %d callbacks", started, callbacks)
	}
	if strays := counters.strays.Load() - straysBefore; strays != 0 {
		t.Fatalf("%d callbacks for unknown or finished calls", strays)
	}
	if live := currentLiveCounts(); live != liveBefore {
		t.Fatalf("live handles and C objects %+v after the calls, %+v before", live, liveBefore)
	}
	waitForGoroutines(t, goroutinesBefore)
	t.Logf("%d calls: %d succeeded, %d cancelled; %d started in C", calls, succeeded.Load(),
		cancelled.Load(), started)
}

// stressCall makes call i: one of the client's calls; every fourth call
// has its context cancelled or timed out after a few hundred microseconds.
func stressCall(client *Client, i int) error {
	ctx := context.Background()
	switch i % 8 {
	case 3:
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(i%5)*100*time.Microsecond)
		defer cancel()
	case 7:
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		time.AfterFunc(time.Duration(i%7)*100*time.Microsecond, cancel)
	}
	var err error
	switch i % 6 {
	case 0:
		_, err = client.RateLimit(ctx)
	case 1:
		_, err = client.User(ctx, "octocat")
	case 2:
		_, err = client.OwnerRepositories(ctx, "octocat")
	case 3:
		_, err = client.Repository(ctx, "octocat", "Hello-World")
	case 4:
		_, err = client.Branches(ctx, "octocat", "Hello-World")
	case 5:
		_, err = client.Contributors(ctx, "octocat", "Hello-World")
	}
	return err
}

// quiesce lets finished goroutines exit and cleanups run.
func quiesce() {
	for range 3 {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

func waitOrFail(t *testing.T, wg *sync.WaitGroup, limit time.Duration) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("the calls did not all return within %v", limit)
	}
}

// goroutines counts the goroutines of Go code. A library thread that has
// called back into Go keeps an extra M, shown as a goroutine "[syscall,
// locked to thread]" with nothing on its stack but runtime.goexit, for as
// long as the thread lives (the library's runtime keeps at most 65); those
// are not counted.
func goroutines() (int, string) {
	buf := make([]byte, 1<<20)
	dump := string(buf[:runtime.Stack(buf, true)])
	count := 0
	for _, g := range strings.Split(dump, "\n\n") {
		lines := strings.Split(strings.TrimSpace(g), "\n")
		cThread := strings.Contains(lines[0], "[syscall, locked to thread]") &&
			len(lines) == 3 && strings.HasPrefix(lines[1], "runtime.goexit")
		if !cThread {
			count++
		}
	}
	return count, dump
}

// waitForGoroutines fails unless the goroutine count comes back to want.
func waitForGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		quiesce()
		got, dump := goroutines()
		if got <= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines, %d before:\n%s", got, want, dump)
		}
	}
}
