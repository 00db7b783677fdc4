//! Randomised trials of async calls through the C ABI: start, cancel, free
//! the request handle, free the client and drop the library's runtime
//! (`gf_runtime_shutdown`, from the test's thread or from one racing with
//! it), in every order. Every accepted call must get exactly one callback:
//! none lost, none doubled.
//!
//! `GITFLEET_TRIALS` sets the number of calls (default 20,000; the long run
//! is `GITFLEET_TRIALS=100000 cargo test --release --test exactly_once`).

use std::ffi::{c_char, c_void, CStr, CString};
use std::ptr;
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

// The exported C functions live in the gitfleet rlib; this links it in.
extern crate gitfleet;

use gitfleet_emulator::{Config, Emulator, TokenSpec};

#[allow(non_camel_case_types)]
enum gf_client {}
#[allow(non_camel_case_types)]
enum gf_client_options {}
#[allow(non_camel_case_types)]
enum gf_request {}
#[allow(non_camel_case_types)]
enum gf_error {}

type Callback = unsafe extern "C" fn(*mut c_void, i32, *const c_char, *const gf_error);

extern "C" {
    fn gf_client_options_new() -> *mut gf_client_options;
    fn gf_client_options_free(options: *mut gf_client_options);
    fn gf_client_options_set_base_url(
        options: *mut gf_client_options,
        url: *const c_char,
        err: *mut *mut gf_error,
    ) -> i32;
    fn gf_client_options_set_token(
        options: *mut gf_client_options,
        token: *const c_char,
        err: *mut *mut gf_error,
    ) -> i32;
    fn gf_client_new(
        options: *const gf_client_options,
        out: *mut *mut gf_client,
        err: *mut *mut gf_error,
    ) -> i32;
    fn gf_client_free(client: *mut gf_client);
    fn gf_client_user_async(
        client: *const gf_client,
        login: *const c_char,
        callback: Option<Callback>,
        user_data: *mut c_void,
        out_request: *mut *mut gf_request,
        err: *mut *mut gf_error,
    ) -> i32;
    fn gf_request_cancel(request: *const gf_request) -> i32;
    fn gf_request_free(request: *mut gf_request);
    fn gf_runtime_shutdown(timeout_ms: u64, err: *mut *mut gf_error) -> i32;
    fn gf_error_message(error: *const gf_error) -> *const c_char;
}

const OK: i32 = 0;
const CANCELLED: i32 = 30;
const SHUT_DOWN: i32 = 31;
/// What the tally records for a `GF_STATUS_SHUT_DOWN` that came from
/// `gf_runtime_shutdown` rather than from freeing the client.
const RUNTIME_SHUT_DOWN: i32 = 1031;
const BATCH: usize = 100;

/// What one call's callbacks did.
#[derive(Default)]
struct Tally {
    calls: AtomicU32,
    status: AtomicI32,
}

unsafe extern "C" fn on_done(data: *mut c_void, status: i32, _: *const c_char, e: *const gf_error) {
    let tally = &*(data as *const Tally);
    let by_runtime = status == SHUT_DOWN
        && CStr::from_ptr(gf_error_message(e))
            .to_bytes()
            .starts_with(b"the library's runtime");
    let recorded = if by_runtime {
        RUNTIME_SHUT_DOWN
    } else {
        status
    };
    tally.status.store(recorded, Ordering::SeqCst);
    tally.calls.fetch_add(1, Ordering::SeqCst);
}

fn new_client(base_url: &str) -> *mut gf_client {
    let url = CString::new(base_url).unwrap();
    let token = CString::new("trial_token").unwrap();
    let mut client = ptr::null_mut();
    // SAFETY: valid pointers, as the header asks.
    unsafe {
        let options = gf_client_options_new();
        assert_eq!(
            gf_client_options_set_base_url(options, url.as_ptr(), ptr::null_mut()),
            OK
        );
        assert_eq!(
            gf_client_options_set_token(options, token.as_ptr(), ptr::null_mut()),
            OK
        );
        assert_eq!(gf_client_new(options, &mut client, ptr::null_mut()), OK);
        gf_client_options_free(options);
    }
    client
}

/// Shuts the runtime down; every library thread must be gone within the
/// bound (the emulator answers at once, so no request stays on the wire).
fn shut_down_runtime() {
    let started = Instant::now();
    // SAFETY: no error object asked for.
    let status = unsafe { gf_runtime_shutdown(10_000, ptr::null_mut()) };
    assert_eq!(status, OK, "the runtime's threads did not stop");
    let micros = started.elapsed().as_micros() as u64;
    SHUTDOWN_MICROS.fetch_add(micros, Ordering::Relaxed);
    SHUTDOWN_MAX_MICROS.fetch_max(micros, Ordering::Relaxed);
}

/// Time spent in `gf_runtime_shutdown`, in all and at most.
static SHUTDOWN_MICROS: AtomicU64 = AtomicU64::new(0);
static SHUTDOWN_MAX_MICROS: AtomicU64 = AtomicU64::new(0);

/// When, in one batch, the runtime is shut down.
enum RuntimeDrop {
    /// Not in this batch.
    Never,
    /// By the test thread, before this step (starts count first, then the
    /// steps that free or cancel).
    AtStep(usize),
    /// By another thread, after a random pause, racing with the steps.
    Racing(Duration),
}

/// What became of every call.
#[derive(Default)]
struct Outcomes {
    completed: usize,
    cancelled: usize,
    client_freed: usize,
    runtime_shut_down: usize,
    lost: usize,
    doubled: usize,
    runtime_drops: usize,
}

#[test]
fn every_async_call_completes_exactly_once() {
    let trials: usize = std::env::var("GITFLEET_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let emulator = Emulator::start(Config {
        tokens: vec![TokenSpec::new("trial_token", u32::MAX)],
        ..Config::default()
    })
    .unwrap();
    let login = CString::new("octocat").unwrap();
    let mut outcomes = Outcomes::default();
    let started = Instant::now();

    for _ in 0..trials.div_ceil(BATCH) {
        let tallies: Vec<Tally> = (0..BATCH).map(|_| Tally::default()).collect();
        let client = new_client(&emulator.base_url());
        let mut pending: Vec<*mut gf_request> = Vec::new();

        // Half the batches drop the runtime: at a step of this thread, or
        // from a thread racing with the steps.
        let plan = match fastrand::u8(0..4) {
            0 => RuntimeDrop::AtStep(fastrand::usize(0..2 * BATCH)),
            1 => RuntimeDrop::Racing(Duration::from_micros(fastrand::u64(0..3000))),
            _ => RuntimeDrop::Never,
        };
        let mut step = 0;
        let at_step = |step: &mut usize| {
            if matches!(plan, RuntimeDrop::AtStep(at) if at == *step) {
                shut_down_runtime();
            }
            *step += 1;
        };
        let racer = match plan {
            RuntimeDrop::Racing(pause) => Some(std::thread::spawn(move || {
                std::thread::sleep(pause);
                shut_down_runtime();
            })),
            _ => None,
        };
        if !matches!(plan, RuntimeDrop::Never) {
            outcomes.runtime_drops += 1;
        }

        // Start every call; right away, cancel some, free some handles.
        for tally in &tallies {
            at_step(&mut step);
            let mut request = ptr::null_mut();
            let data = tally as *const Tally as *mut c_void;
            // SAFETY: the tally outlives the call (checked below).
            let status = unsafe {
                gf_client_user_async(
                    client,
                    login.as_ptr(),
                    Some(on_done),
                    data,
                    &mut request,
                    ptr::null_mut(),
                )
            };
            assert_eq!(status, OK);
            match fastrand::u8(0..4) {
                // SAFETY: live request handles, each freed once.
                0 => unsafe {
                    gf_request_cancel(request);
                    gf_request_free(request);
                },
                1 => unsafe { gf_request_free(request) },
                2 => unsafe {
                    gf_request_cancel(request);
                    pending.push(request);
                },
                _ => pending.push(request),
            }
            if fastrand::u8(0..8) == 0 {
                std::thread::yield_now();
            }
        }

        // Then, in a random order: free the client, cancel (again) or free
        // the remaining handles.
        fastrand::shuffle(&mut pending);
        let free_client_at = fastrand::usize(0..=pending.len());
        let mut client = Some(client);
        for (index, request) in pending.drain(..).enumerate() {
            at_step(&mut step);
            if index == free_client_at {
                // SAFETY: freed once; no call is started on it afterwards.
                unsafe { gf_client_free(client.take().unwrap()) };
            }
            // SAFETY: live handles, each freed once.
            unsafe {
                if fastrand::bool() {
                    gf_request_cancel(request);
                }
                gf_request_free(request);
            }
        }
        if let Some(client) = client {
            // SAFETY: freed once, with calls possibly still in flight.
            unsafe { gf_client_free(client) };
        }
        // A drop planned for a step past the last one happens now.
        while step < 2 * BATCH {
            at_step(&mut step);
        }
        if let Some(racer) = racer {
            racer.join().unwrap();
        }

        let deadline = Instant::now() + Duration::from_secs(30);
        while tallies.iter().any(|t| t.calls.load(Ordering::SeqCst) == 0)
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(1));
        }
        // A late second callback would land now.
        std::thread::sleep(Duration::from_millis(5));
        for tally in &tallies {
            match tally.calls.load(Ordering::SeqCst) {
                0 => outcomes.lost += 1,
                1 => {}
                _ => outcomes.doubled += 1,
            }
            match tally.status.load(Ordering::SeqCst) {
                CANCELLED => outcomes.cancelled += 1,
                SHUT_DOWN => outcomes.client_freed += 1,
                RUNTIME_SHUT_DOWN => outcomes.runtime_shut_down += 1,
                _ => outcomes.completed += 1,
            }
        }
        assert_eq!(
            (outcomes.lost, outcomes.doubled),
            (0, 0),
            "callbacks lost or doubled"
        );
    }
    shut_down_runtime();
    let drops = outcomes.runtime_drops as f64 + 1.0;
    println!(
        "{} trials in {:.1} s ({} runtime drops, {:.1} ms each on average, {:.1} ms at most): \
         {} completed, {} cancelled, {} shut down by freeing the client, \
         {} shut down by a runtime drop; {} lost, {} doubled",
        trials.div_ceil(BATCH) * BATCH,
        started.elapsed().as_secs_f64(),
        outcomes.runtime_drops,
        SHUTDOWN_MICROS.load(Ordering::Relaxed) as f64 / drops / 1000.0,
        SHUTDOWN_MAX_MICROS.load(Ordering::Relaxed) as f64 / 1000.0,
        outcomes.completed,
        outcomes.cancelled,
        outcomes.client_freed,
        outcomes.runtime_shut_down,
        outcomes.lost,
        outcomes.doubled
    );
}
