// Package gitfleet spreads a program's GitHub API traffic over a fleet of
// tokens. It is a thin layer over gitfleet's C library (include/gitfleet.h
// in this repository), linked statically through cgo.
//
// A [TokenManager] pools tokens and keeps each one's rate limits; a
// [Client] is a GitHub REST client that draws its tokens from a pool,
// sends a request again on another token when one is spent or revoked,
// follows lists to their last page, and reports the earliest reset when the
// whole pool is spent. Programs with their own net/http requests use the
// pool alone: [TokenManager.Lease] a token, send the request with it, and
// [Lease.Report] the response. A [Store] keeps tokens in an encrypted file,
// to fill a pool from later.
//
// # Closing
//
// [TokenManager], [Client], [Lease] and [Store] hold memory of the C
// library.
// Close them when done: Close is required, idempotent and safe to call at
// any time from any goroutine. A cleanup frees what a program forgets to
// close once the object is unreachable, but only as a backstop: it runs at
// the garbage collector's pace, and until then a forgotten lease counts as
// one use of its token. Closing a client completes its calls still in
// flight with an error that matches [ErrClosed]. Using a closed object
// returns an error that matches [ErrClosed].
//
// # Concurrency
//
// Every type of this package is safe for concurrent use by multiple
// goroutines: a client or a pool may serve any number of goroutines at
// once; a lease serialises its methods; errors and results are plain
// values, not changed after they are returned.
//
// # Contexts
//
// Every client call does I/O and takes a [context.Context]. When the
// context is cancelled or its deadline passes, the call is cancelled in
// the library (including a wait for a rate-limit reset) and returns
// ctx.Err(), that is [context.Canceled] or [context.DeadlineExceeded].
// A request already on the wire then finishes in the library's background
// (see the README's known limitations). The pool's own methods do no I/O
// and take no context; the store's work on a local file and cannot be
// cancelled (the C API has no async form for them).
//
// # Errors
//
// Failures are [*Error] values: a [Status] (the C API's gf_status), the
// library's message, and the details that apply (HTTP status, reset time,
// retry-after, resource). Match them with errors.Is against the sentinels
// ([ErrRateLimited], [ErrAuth], [ErrNotFound], ...), and read the details
// with errors.As:
//
//	var gerr *gitfleet.Error
//	if errors.As(err, &gerr) && gerr.Status == gitfleet.StatusRateLimited {
//		fmt.Println("pool spent until", gerr.Reset, "on", gerr.Resource)
//	}
//
// # Secrets
//
// Tokens are secrets: no error, result, snapshot or String/GoString form
// of a value of this package contains one; they are named by a
// 12-hex-digit [Fingerprint]. The library wipes its own copies, and this
// package wipes the C copies it makes; Go strings cannot be wiped, so the
// caller's own token strings (and the one [Lease.Token] returns) stay in
// Go memory until collected.
//
// # Building
//
// The package links target/release/libgitfleet.a of this repository
// (paths relative to the package directory), so build the Rust library
// first: `cargo build --release -p gitfleet` at the repository root. See
// README.md in this directory.
package gitfleet
