//! `gf_runtime_shutdown`: pending calls complete once with
//! `GF_STATUS_SHUT_DOWN`, the library's threads end (or the call says which
//! are still on the wire), a later call starts a fresh runtime, and a
//! callback cannot shut down the runtime it runs on.
//!
//! The runtime is process-wide, so these tests run one at a time.

use std::ffi::{c_char, c_void, CStr, CString};
use std::io::Read;
use std::net::TcpListener;
use std::ptr::{null_mut, NonNull};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

// The exported C functions live in the gitfleet rlib; this links it in.
extern crate gitfleet;

use gitfleet_emulator::{Config, Emulator, TokenSpec};

#[allow(non_camel_case_types)]
enum gf_client {}
#[allow(non_camel_case_types)]
enum gf_client_options {}
#[allow(non_camel_case_types)]
enum gf_error {}

type Callback = unsafe extern "C" fn(*mut c_void, i32, *const c_char, *const gf_error);
type Err = *mut *mut gf_error;

extern "C" {
    fn gf_runtime_shutdown(timeout_ms: u64, err: Err) -> i32;
    fn gf_error_message(error: *const gf_error) -> *const c_char;
    fn gf_error_free(error: *mut gf_error);
    fn gf_client_options_new() -> *mut gf_client_options;
    fn gf_client_options_free(options: *mut gf_client_options);
    fn gf_client_options_set_base_url(
        o: *mut gf_client_options,
        url: *const c_char,
        err: Err,
    ) -> i32;
    fn gf_client_options_set_token(o: *mut gf_client_options, t: *const c_char, err: Err) -> i32;
    fn gf_client_options_set_timeout_ms(o: *mut gf_client_options, ms: u64, err: Err) -> i32;
    fn gf_client_options_set_max_retries(o: *mut gf_client_options, n: u32, err: Err) -> i32;
    fn gf_client_new(o: *const gf_client_options, out: *mut *mut gf_client, err: Err) -> i32;
    fn gf_client_free(client: *mut gf_client);
    fn gf_client_user_async(
        client: *const gf_client,
        login: *const c_char,
        callback: Option<Callback>,
        data: *mut c_void,
        out_request: *mut *mut c_void,
        err: Err,
    ) -> i32;
}

const OK: i32 = 0;
const INVALID_ARGUMENT: i32 = 1;
const TIMEOUT: i32 = 21;
const SHUT_DOWN: i32 = 31;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

/// Shuts the runtime down; returns the status and the error's message.
fn shutdown(timeout_ms: u64) -> (i32, String) {
    let mut error = null_mut();
    // SAFETY: a valid out-pointer; the error is freed once.
    unsafe {
        let status = gf_runtime_shutdown(timeout_ms, &mut error);
        let message = match NonNull::new(error) {
            Some(error) => {
                let text = CStr::from_ptr(gf_error_message(error.as_ptr()))
                    .to_string_lossy()
                    .into_owned();
                gf_error_free(error.as_ptr());
                text
            }
            None => String::new(),
        };
        (status, message)
    }
}

fn client(base_url: &str, timeout_ms: u64) -> *mut gf_client {
    let url = CString::new(base_url).unwrap();
    let mut client = null_mut();
    // SAFETY: valid pointers, as the header asks.
    unsafe {
        let options = gf_client_options_new();
        assert_eq!(
            gf_client_options_set_base_url(options, url.as_ptr(), null_mut()),
            OK
        );
        assert_eq!(
            gf_client_options_set_token(options, c"ghp_shutdown".as_ptr(), null_mut()),
            OK
        );
        assert_eq!(
            gf_client_options_set_timeout_ms(options, timeout_ms, null_mut()),
            OK
        );
        assert_eq!(
            gf_client_options_set_max_retries(options, 0, null_mut()),
            OK
        );
        assert_eq!(gf_client_new(options, &mut client, null_mut()), OK);
        gf_client_options_free(options);
    }
    client
}

/// One call's callbacks: how many, the last status, whether its message
/// named the runtime.
#[derive(Default)]
struct Tally {
    calls: AtomicU32,
    status: AtomicI32,
    by_runtime: AtomicBool,
}

unsafe extern "C" fn on_done(data: *mut c_void, status: i32, _: *const c_char, e: *const gf_error) {
    let tally = &*(data as *const Tally);
    if !e.is_null() {
        let message = CStr::from_ptr(gf_error_message(e)).to_string_lossy();
        tally
            .by_runtime
            .store(message.contains("runtime was shut down"), Ordering::SeqCst);
    }
    tally.status.store(status, Ordering::SeqCst);
    tally.calls.fetch_add(1, Ordering::SeqCst);
}

fn start(client: *const gf_client, tally: &Tally) {
    // SAFETY: the tally outlives the call (every test waits for it).
    let status = unsafe {
        gf_client_user_async(
            client,
            c"octocat".as_ptr(),
            Some(on_done),
            tally as *const Tally as *mut c_void,
            null_mut(),
            null_mut(),
        )
    };
    assert_eq!(status, OK);
}

fn wait_for(tallies: &[Tally]) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while tallies.iter().any(|t| t.calls.load(Ordering::SeqCst) == 0) {
        assert!(Instant::now() < deadline, "a callback never came");
        std::thread::sleep(Duration::from_millis(1));
    }
    // A second callback would come now.
    std::thread::sleep(Duration::from_millis(20));
    for tally in tallies {
        assert_eq!(
            tally.calls.load(Ordering::SeqCst),
            1,
            "a callback came twice"
        );
    }
}

/// The library's threads alive in this process, by name.
fn library_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("gitfleet"))
        .count()
}

/// A server that accepts connections and never answers, until dropped.
struct Silent {
    url: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Silent {
    fn start() -> Silent {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut held = Vec::new();
            while !flag.load(Ordering::SeqCst) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((mut stream, _)) => {
                        stream.set_nonblocking(true).unwrap();
                        let _ = stream.read(&mut [0u8; 1024]);
                        held.push(stream);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Silent {
            url,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Silent {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[test]
fn pending_calls_end_shut_down_and_stuck_threads_are_reported_then_awaited() {
    let _serial = serial();
    let silent = Silent::start();
    let stuck = client(&silent.url, 10_000);
    let tallies: Vec<Tally> = (0..8).map(|_| Tally::default()).collect();
    for tally in &tallies {
        start(stuck, tally);
    }
    // Let the requests reach the wire.
    std::thread::sleep(Duration::from_millis(200));

    let started = Instant::now();
    let (status, message) = shutdown(100);
    assert_eq!(status, TIMEOUT, "{message}");
    assert!(message.contains("still running"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(5));
    wait_for(&tallies);
    for tally in &tallies {
        assert_eq!(tally.status.load(Ordering::SeqCst), SHUT_DOWN);
        assert!(tally.by_runtime.load(Ordering::SeqCst));
    }

    // The server goes away, the exchanges end, the threads with them.
    drop(silent);
    let (status, message) = shutdown(10_000);
    assert_eq!(status, OK, "{message}");
    assert_eq!(library_threads(), 0);
    unsafe { gf_client_free(stuck) };
}

#[test]
fn the_next_call_starts_a_fresh_runtime_and_a_shutdown_leaves_no_thread() {
    let _serial = serial();
    let emulator = Emulator::start(Config {
        tokens: vec![TokenSpec::new("ghp_shutdown", u32::MAX)],
        ..Config::default()
    })
    .unwrap();
    let client = client(&emulator.base_url(), 10_000);

    for round in 0..3 {
        let tallies: Vec<Tally> = (0..4).map(|_| Tally::default()).collect();
        for tally in &tallies {
            start(client, tally);
        }
        wait_for(&tallies);
        for tally in &tallies {
            assert_eq!(tally.status.load(Ordering::SeqCst), OK, "round {round}");
        }
        assert!(library_threads() > 0);
        let (status, message) = shutdown(10_000);
        assert_eq!(status, OK, "{message}");
        assert_eq!(library_threads(), 0, "round {round}");
        // With nothing running, again: nothing to do, whatever the bound.
        assert_eq!(shutdown(0).0, OK);
        assert_eq!(shutdown(u64::MAX).0, OK);
    }
    unsafe { gf_client_free(client) };
}

/// What the callback below saw when it tried to shut the runtime down.
static FROM_CALLBACK: AtomicI32 = AtomicI32::new(-1);

unsafe extern "C" fn shut_down_from_here(
    data: *mut c_void,
    status: i32,
    json: *const c_char,
    error: *const gf_error,
) {
    FROM_CALLBACK.store(gf_runtime_shutdown(1000, null_mut()), Ordering::SeqCst);
    on_done(data, status, json, error);
}

#[test]
fn a_callback_cannot_shut_down_the_runtime_it_runs_on() {
    let _serial = serial();
    let emulator = Emulator::start(Config {
        tokens: vec![TokenSpec::new("ghp_shutdown", u32::MAX)],
        ..Config::default()
    })
    .unwrap();
    let client = client(&emulator.base_url(), 10_000);
    let tally = [Tally::default()];
    // SAFETY: the tally outlives the call.
    let status = unsafe {
        gf_client_user_async(
            client,
            c"octocat".as_ptr(),
            Some(shut_down_from_here),
            &tally[0] as *const Tally as *mut c_void,
            null_mut(),
            null_mut(),
        )
    };
    assert_eq!(status, OK);
    wait_for(&tally);
    assert_eq!(tally[0].status.load(Ordering::SeqCst), OK);
    assert_eq!(FROM_CALLBACK.load(Ordering::SeqCst), INVALID_ARGUMENT);
    unsafe { gf_client_free(client) };
    assert_eq!(shutdown(10_000).0, OK);
}
