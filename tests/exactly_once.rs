//! Randomised trials of async calls through the C ABI: start, cancel, free
//! the request handle, free the client, in every order. Every accepted call
//! must get exactly one callback: none lost, none doubled.
//!
//! `GITFLEET_TRIALS` sets the number of calls (default 20,000; the long run
//! is `GITFLEET_TRIALS=100000 cargo test --release --test exactly_once`).

use std::ffi::{c_char, c_void, CString};
use std::ptr;
use std::sync::atomic::{AtomicU32, Ordering};
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
}

const OK: i32 = 0;
const CANCELLED: i32 = 30;
const SHUT_DOWN: i32 = 31;
const BATCH: usize = 100;

/// What one call's callbacks did.
#[derive(Default)]
struct Tally {
    calls: AtomicU32,
    status: AtomicU32,
}

unsafe extern "C" fn on_done(data: *mut c_void, status: i32, _: *const c_char, _: *const gf_error) {
    let tally = &*(data as *const Tally);
    tally.status.store(status as u32, Ordering::SeqCst);
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
    let mut outcomes = [0usize; 3]; // ok or error, cancelled, shut down

    for _ in 0..trials.div_ceil(BATCH) {
        let tallies: Vec<Tally> = (0..BATCH).map(|_| Tally::default()).collect();
        let client = new_client(&emulator.base_url());
        let mut pending: Vec<*mut gf_request> = Vec::new();

        // Start every call; right away, cancel some, free some handles.
        for tally in &tallies {
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
        let deadline = Instant::now() + Duration::from_secs(30);
        while tallies.iter().any(|t| t.calls.load(Ordering::SeqCst) == 0) {
            assert!(Instant::now() < deadline, "a callback was lost");
            std::thread::sleep(Duration::from_millis(1));
        }
        // A late second callback would land now.
        std::thread::sleep(Duration::from_millis(5));
        for tally in &tallies {
            assert_eq!(
                tally.calls.load(Ordering::SeqCst),
                1,
                "a callback came twice"
            );
            match tally.status.load(Ordering::SeqCst) as i32 {
                CANCELLED => outcomes[1] += 1,
                SHUT_DOWN => outcomes[2] += 1,
                _ => outcomes[0] += 1,
            }
        }
    }
    println!(
        "{trials} trials: {} completed, {} cancelled, {} shut down; 0 lost, 0 doubled",
        outcomes[0], outcomes[1], outcomes[2]
    );
}
