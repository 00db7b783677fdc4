//! What calls through the C ABI cost in memory: per async call in flight,
//! and over a million calls (the figure must stay flat).
//!
//! ```sh
//! make bench-build    # or: cargo build --release -p gitfleet -p gitfleet-emulator --bin gitfleet-emulator --example call_cost --example call_memory
//! target/release/examples/call_memory                      # both parts (64, 1000 in flight)
//! target/release/examples/call_memory --in-flight 1000     # the first part only
//! target/release/examples/call_memory --calls 1000000      # the second part only
//! ```
//!
//! 1. In flight: after one blocking and one async call (runtime started,
//!    one connection open), N async `gf_client_rate_limit_async` calls are started
//!    against an emulator that waits 2 s before each answer: 64 go on the
//!    wire (the runtime's limit), the rest wait in its queue. Resident size
//!    and live heap are read once they are all parked, then the calls are
//!    cancelled (each gets its one callback) and the figures read again once
//!    the requests on the wire have drained. With N = 64 every call is on
//!    the wire (a thread and a connection each); with N = 1,000 most wait
//!    in the queue, so the figure is mostly what a queued call costs.
//! 2. A million calls: async, 64 in flight, against an emulator that
//!    answers at once; resident size and live heap every 100,000 calls.
//!
//! Resident size comes from /proc/self/statm; live heap from a counting
//! wrapper around the system allocator (every Rust allocation of the
//! library and of ureq goes through it; thread stacks do not, they show in
//! the resident size). The emulator is a child process, out of both.

#[path = "support/mod.rs"]
mod support;

// The C functions come from this crate; nothing else names it.
extern crate gitfleet;

use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::{c_char, c_void};
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use support::{
    gf_client_rate_limit_async, gf_error, gf_request, gf_request_cancel, gf_request_free,
    rss_bytes, status_name, Body, CClient, EmulatorProcess, Flight, GF_STATUS_OK,
};

/// Counts the bytes live on the heap.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed to the system allocator unchanged; only the
// counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        System.dealloc(p, layout);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let q = System.realloc(p, layout, new_size);
        if !q.is_null() {
            LIVE.fetch_add(new_size, Ordering::Relaxed);
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        q
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live_heap() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// The per-call target of issue 7.
const TARGET_PER_CALL: f64 = 16.0 * 1024.0;

/// How long the slow emulator waits before each answer.
const DELAY_MS: u64 = 2000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize| -> usize {
        args.get(i)
            .and_then(|a| a.replace('_', "").parse().ok())
            .unwrap_or_else(|| usage())
    };
    match args.first().map(String::as_str) {
        None => {
            in_flight(64);
            in_flight(1000);
            million(1_000_000);
        }
        Some("--in-flight") => in_flight(number(1)),
        Some("--calls") => million(number(1)),
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!("usage: call_memory [--in-flight N | --calls N]");
    std::process::exit(2);
}

// ---- part 1: calls parked in flight --------------------------------------

/// Counts the callbacks of the parked calls.
struct Parked {
    done: AtomicUsize,
    lock: Mutex<()>,
    wake: Condvar,
}

unsafe extern "C" fn parked_done(
    user_data: *mut c_void,
    status: i32,
    _json: *const c_char,
    _error: *const gf_error,
) {
    // SAFETY: user data is the Parked that outlives every call (main waits).
    let parked = unsafe { &*(user_data as *const Parked) };
    // Cancelled calls report CANCELLED; one that beat the cancel, OK.
    if status != GF_STATUS_OK && status != 30 {
        eprintln!("a parked call failed: {}", status_name(status));
        std::process::abort();
    }
    parked.done.fetch_add(1, Ordering::AcqRel);
    let _guard = parked.lock.lock().unwrap();
    parked.wake.notify_all();
}

fn in_flight(calls: usize) {
    let emulator = EmulatorProcess::start(&["--delay-ms", &DELAY_MS.to_string()]);
    let client = CClient::new(&emulator.url);
    // Idle: one blocking and one async call made (the runtime started, one
    // connection open).
    client.rate_limit();
    Flight::leak(&client, Body::Small).run(1, 1);
    let parked: &'static Parked = Box::leak(Box::new(Parked {
        done: AtomicUsize::new(0),
        lock: Mutex::new(()),
        wake: Condvar::new(),
    }));
    let idle = (rss_bytes(), live_heap());

    let mut requests: Vec<*mut gf_request> = Vec::with_capacity(calls);
    let user_data = parked as *const Parked as *mut c_void;
    for _ in 0..calls {
        let mut request = ptr::null_mut();
        // SAFETY: live client, static user data.
        let status = unsafe {
            gf_client_rate_limit_async(
                client.0,
                Some(parked_done),
                user_data,
                &mut request,
                ptr::null_mut(),
            )
        };
        assert_eq!(status, GF_STATUS_OK, "{}", status_name(status));
        requests.push(request);
    }
    // Let the runtime start its threads and put 64 requests on the wire.
    std::thread::sleep(Duration::from_millis(DELAY_MS / 2));
    // The bench's own vector of handles is not the library's.
    let handles = requests.capacity() * std::mem::size_of::<*mut gf_request>();
    let parked_at = (rss_bytes(), live_heap().saturating_sub(handles));
    assert_eq!(
        parked.done.load(Ordering::Acquire),
        0,
        "no call may have completed against the slow emulator yet"
    );

    for request in requests.drain(..) {
        // SAFETY: each handle is live and freed once.
        unsafe {
            gf_request_cancel(request);
            gf_request_free(request);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut guard = parked.lock.lock().unwrap();
    while parked.done.load(Ordering::Acquire) < calls {
        assert!(Instant::now() < deadline, "every callback comes");
        guard = parked
            .wake
            .wait_timeout(guard, Duration::from_millis(100))
            .unwrap()
            .0;
    }
    drop(guard);
    // The requests already on the wire end after the emulator's delay.
    std::thread::sleep(Duration::from_millis(DELAY_MS + 500));
    let after = (rss_bytes(), live_heap());

    println!(
        "Memory per call in flight: {calls} async calls parked against an emulator that waits \
         {DELAY_MS} ms (64 on the wire, the rest queued)"
    );
    println!(
        "{:<22} {:>12} {:>14} {:>16} {:>12}",
        "", "idle", "all parked", "per parked call", "after"
    );
    let row = |what: &str, idle: usize, parked: usize, after: usize| {
        let per_call = parked.saturating_sub(idle) as f64 / calls as f64;
        println!(
            "{what:<22} {:>9} KiB {:>11} KiB {:>12.0} B {:>9} KiB",
            idle / 1024,
            parked / 1024,
            per_call,
            after / 1024
        );
        per_call
    };
    let rss = row(
        "resident size",
        idle.0 as usize,
        parked_at.0 as usize,
        after.0 as usize,
    );
    let heap = row("live heap", idle.1, parked_at.1, after.1);
    let verdict = |bytes: f64| {
        if bytes <= TARGET_PER_CALL {
            "met"
        } else {
            "NOT met"
        }
    };
    println!(
        "target <= 16 KiB per call in flight: resident {} ({:.1} KiB), heap {} ({:.1} KiB)\n",
        verdict(rss),
        rss / 1024.0,
        verdict(heap),
        heap / 1024.0
    );
}

// ---- part 2: a million calls ---------------------------------------------

fn million(calls: usize) {
    const STEP: usize = 100_000;
    const IN_FLIGHT: usize = 64;
    let emulator = EmulatorProcess::start(&[]);
    let client = CClient::new(&emulator.url);
    let flight = Flight::leak(&client, Body::Small);
    flight.run(IN_FLIGHT, 1000); // warm-up: threads, connections, caches

    println!(
        "Memory over {calls} calls: async GET /rate_limit, {IN_FLIGHT} in flight, sampled every \
         {STEP}"
    );
    println!(
        "{:>10} {:>16} {:>16} {:>10}",
        "calls", "resident (KiB)", "live heap (KiB)", "seconds"
    );
    let start = Instant::now();
    let mut samples = Vec::new();
    let mut made = 0;
    while made < calls {
        let batch = STEP.min(calls - made);
        flight.run(IN_FLIGHT, batch);
        made += batch;
        let sample = (rss_bytes() as usize, live_heap());
        println!(
            "{made:>10} {:>16} {:>16} {:>10.1}",
            sample.0 / 1024,
            sample.1 / 1024,
            start.elapsed().as_secs_f64()
        );
        samples.push(sample);
    }
    if let (Some(first), Some(last)) = (samples.first(), samples.last()) {
        let grow = |a: usize, b: usize| b as i64 - a as i64;
        println!(
            "growth from the first sample to the last: resident {:+} KiB, live heap {:+} KiB",
            grow(first.0, last.0) / 1024,
            grow(first.1, last.1) / 1024
        );
        if let Some(middle) = samples.get(samples.len() / 2) {
            println!(
                "growth over the second half: resident {:+} KiB, live heap {:+} KiB",
                grow(middle.0, last.0) / 1024,
                grow(middle.1, last.1) / 1024
            );
        }
    }
}
