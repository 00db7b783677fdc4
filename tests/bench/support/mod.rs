//! What the benchmark programs of this folder share: the emulator as a
//! child process, the C functions they call, a client made through them,
//! and the process's resident size.
//!
//! Each program uses part of it.
#![allow(dead_code)]

use std::ffi::{c_char, c_void, CStr, CString};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::ptr;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

/// The token every benchmark sends; the emulator gives it a quota no run
/// can spend.
pub const TOKEN: &str = "bench_token";

/// The user whose 100 repositories make one full page.
pub const PAGE_OWNER: &str = "hundred";

/// The GitHub API emulator, run as a child process so that its work and
/// its memory stay out of the figures of the process measured.
pub struct EmulatorProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl EmulatorProcess {
    /// Starts `gitfleet-emulator` with the benchmark's token and page owner,
    /// plus `extra` arguments (`--delay-ms 5000`, ...).
    pub fn start(extra: &[&str]) -> EmulatorProcess {
        let binary = emulator_binary();
        let token = format!("{TOKEN}:4000000000");
        let owner = format!("{PAGE_OWNER}:100");
        let mut child = Command::new(&binary)
            .args(["--token", &token, "--owner", &owner, "--window", "86400"])
            .args(["--lifetime", "3600", "--exit-on-stdin-eof"])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {} ({e}); build it with \
                     `cargo build --release -p gitfleet-emulator --bin gitfleet-emulator` or set GITFLEET_EMULATOR_BIN",
                    binary.display()
                )
            });
        let mut line = String::new();
        let stdout = child.stdout.take().expect("the emulator's stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the emulator announces its address");
        let url = line
            .trim()
            .strip_prefix("gitfleet-emulator listening on ")
            .unwrap_or_else(|| panic!("unexpected line from the emulator: {line:?}"))
            .to_string();
        EmulatorProcess { child, url }
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        drop(self.child.stdin.take()); // --exit-on-stdin-eof
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `$GITFLEET_EMULATOR_BIN`, else the release emulator beside this
/// program's directory (`target/release/examples/..`).
fn emulator_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("GITFLEET_EMULATOR_BIN") {
        return path.into();
    }
    let exe = std::env::current_exe().expect("this program's path");
    let release = exe
        .parent()
        .and_then(|examples| examples.parent())
        .expect("target/release/examples");
    release.join("gitfleet-emulator")
}

/// The emulator's URL: `$GITFLEET_BENCH_URL` when a parent process runs
/// one already, else a new one (kept alive by the returned guard).
pub fn emulator_url(extra: &[&str]) -> (String, Option<EmulatorProcess>) {
    match std::env::var("GITFLEET_BENCH_URL") {
        Ok(url) if !url.is_empty() => (url, None),
        _ => {
            let emulator = EmulatorProcess::start(extra);
            (emulator.url.clone(), Some(emulator))
        }
    }
}

/// Resident set size of this process, in bytes (`/proc/self/statm`).
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .expect("resident pages");
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * u64::try_from(page).unwrap_or(4096)
}

// ---- the C ABI, as include/gitfleet.h declares it ---------------------

#[allow(non_camel_case_types)]
pub enum gf_client {}
#[allow(non_camel_case_types)]
pub enum gf_client_options {}
#[allow(non_camel_case_types)]
pub enum gf_error {}
#[allow(non_camel_case_types)]
pub enum gf_request {}

/// `gf_callback`.
#[allow(non_camel_case_types)]
pub type gf_callback =
    Option<unsafe extern "C" fn(*mut c_void, i32, *const c_char, *const gf_error)>;

pub const GF_STATUS_OK: i32 = 0;

extern "C" {
    pub fn gf_client_options_new() -> *mut gf_client_options;
    pub fn gf_client_options_free(options: *mut gf_client_options);
    pub fn gf_client_options_set_base_url(
        options: *mut gf_client_options,
        url: *const c_char,
        err: *mut *mut gf_error,
    ) -> i32;
    pub fn gf_client_options_set_token(
        options: *mut gf_client_options,
        token: *const c_char,
        err: *mut *mut gf_error,
    ) -> i32;
    pub fn gf_client_options_set_max_retries(
        options: *mut gf_client_options,
        max_retries: u32,
        err: *mut *mut gf_error,
    ) -> i32;
    pub fn gf_client_new(
        options: *const gf_client_options,
        out: *mut *mut gf_client,
        err: *mut *mut gf_error,
    ) -> i32;
    pub fn gf_client_free(client: *mut gf_client);
    pub fn gf_client_rate_limit(
        client: *const gf_client,
        out: *mut *mut c_char,
        err: *mut *mut gf_error,
    ) -> i32;
    pub fn gf_client_rate_limit_async(
        client: *const gf_client,
        callback: gf_callback,
        user_data: *mut c_void,
        out_request: *mut *mut gf_request,
        err: *mut *mut gf_error,
    ) -> i32;
    pub fn gf_client_owner_repositories(
        client: *const gf_client,
        owner: *const c_char,
        out: *mut *mut c_char,
        err: *mut *mut gf_error,
    ) -> i32;
    pub fn gf_client_owner_repositories_async(
        client: *const gf_client,
        owner: *const c_char,
        callback: gf_callback,
        user_data: *mut c_void,
        out_request: *mut *mut gf_request,
        err: *mut *mut gf_error,
    ) -> i32;
    pub fn gf_request_cancel(request: *const gf_request) -> i32;
    pub fn gf_request_free(request: *mut gf_request);
    pub fn gf_string_free(s: *mut c_char);
    pub fn gf_status_name(status: i32) -> *const c_char;
}

/// A status's name, for messages.
pub fn status_name(status: i32) -> String {
    // SAFETY: gf_status_name returns a static string for any number.
    unsafe { CStr::from_ptr(gf_status_name(status)) }
        .to_string_lossy()
        .into_owned()
}

/// A client made and called through the exported C functions. Shared by
/// threads as the header allows (`gf_client` is thread-safe).
pub struct CClient(pub *mut gf_client);

// SAFETY: gf_client is thread-safe (header contract).
unsafe impl Send for CClient {}
unsafe impl Sync for CClient {}

impl CClient {
    /// A client on `base` with the benchmark token in a private pool.
    pub fn new(base: &str) -> CClient {
        let url = CString::new(base).unwrap();
        let token = CString::new(TOKEN).unwrap();
        let mut client = ptr::null_mut();
        // SAFETY: every pointer is valid for the calls, as the header asks.
        unsafe {
            let options = gf_client_options_new();
            assert_eq!(
                gf_client_options_set_base_url(options, url.as_ptr(), ptr::null_mut()),
                GF_STATUS_OK
            );
            assert_eq!(
                gf_client_options_set_token(options, token.as_ptr(), ptr::null_mut()),
                GF_STATUS_OK
            );
            assert_eq!(
                gf_client_new(options, &mut client, ptr::null_mut()),
                GF_STATUS_OK
            );
            gf_client_options_free(options);
        }
        CClient(client)
    }

    /// `gf_client_rate_limit`; the document is looked at and freed.
    pub fn rate_limit(&self) {
        let mut json = ptr::null_mut();
        // SAFETY: as above.
        unsafe {
            let status = gf_client_rate_limit(self.0, &mut json, ptr::null_mut());
            assert_eq!(status, GF_STATUS_OK, "{}", status_name(status));
            std::hint::black_box(json);
            gf_string_free(json);
        }
    }

    /// `gf_client_owner_repositories`; the document is looked at and freed.
    pub fn owner_repositories(&self, owner: &CStr) {
        let mut json = ptr::null_mut();
        // SAFETY: as above.
        unsafe {
            let status =
                gf_client_owner_repositories(self.0, owner.as_ptr(), &mut json, ptr::null_mut());
            assert_eq!(status, GF_STATUS_OK, "{}", status_name(status));
            std::hint::black_box(json);
            gf_string_free(json);
        }
    }
}

impl Drop for CClient {
    fn drop(&mut self) {
        // SAFETY: the client came from gf_client_new and is freed once.
        unsafe { gf_client_free(self.0) };
    }
}

// ---- the two calls, and async calls kept in flight -------------------

/// What a benchmark asks for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Body {
    /// `GET /rate_limit`, about 600 bytes.
    Small,
    /// `GET /users/hundred/repos?per_page=100`, about 150 kB.
    Page,
}

/// Keeps N async calls of one body in flight, batch after batch: each
/// callback starts the next call until the batch is done. It lives as long
/// as the program (see [`Flight::leak`]), so a callback finishing late can
/// never touch freed memory.
pub struct Flight {
    client: *mut gf_client,
    body: Body,
    owner: CString,
    /// Calls of the batch still to start.
    to_start: AtomicIsize,
    done: AtomicUsize,
    total: AtomicUsize,
    finished: Mutex<bool>,
    wake: Condvar,
}

// SAFETY: the client is thread-safe (header contract); the rest is atomics
// and locks.
unsafe impl Sync for Flight {}
unsafe impl Send for Flight {}

impl Flight {
    /// A driver for `body` on `client`, which must outlive every batch.
    pub fn leak(client: &CClient, body: Body) -> &'static Flight {
        Box::leak(Box::new(Flight {
            client: client.0,
            body,
            owner: CString::new(PAGE_OWNER).unwrap(),
            to_start: AtomicIsize::new(0),
            done: AtomicUsize::new(0),
            total: AtomicUsize::new(0),
            finished: Mutex::new(true),
            wake: Condvar::new(),
        }))
    }

    /// Makes `calls` calls, `in_flight` at a time, and returns when all
    /// have completed.
    pub fn run(&'static self, in_flight: usize, calls: usize) {
        let first = in_flight.min(calls);
        *self.finished.lock().unwrap() = calls == 0;
        self.total.store(calls, Ordering::SeqCst);
        self.done.store(0, Ordering::SeqCst);
        self.to_start
            .store((calls - first) as isize, Ordering::SeqCst);
        for _ in 0..first {
            self.start_one();
        }
        let mut finished = self.finished.lock().unwrap();
        while !*finished {
            finished = self.wake.wait(finished).unwrap();
        }
    }

    fn start_one(&'static self) {
        let user_data = self as *const Flight as *mut c_void;
        // SAFETY: live client, static user data, callback of the right type.
        let status = unsafe {
            match self.body {
                Body::Small => gf_client_rate_limit_async(
                    self.client,
                    Some(on_done),
                    user_data,
                    ptr::null_mut(),
                    ptr::null_mut(),
                ),
                Body::Page => gf_client_owner_repositories_async(
                    self.client,
                    self.owner.as_ptr(),
                    Some(on_done),
                    user_data,
                    ptr::null_mut(),
                    ptr::null_mut(),
                ),
            }
        };
        assert_eq!(status, GF_STATUS_OK, "{}", status_name(status));
    }
}

/// The callback of a [`Flight`]'s calls: checks the outcome, starts the
/// next call of the batch, and wakes the runner after the last one.
unsafe extern "C" fn on_done(
    user_data: *mut c_void,
    status: i32,
    json: *const c_char,
    _error: *const gf_error,
) {
    // SAFETY: user data is the static Flight that started the call.
    let flight = unsafe { &*(user_data as *const Flight) };
    if status != GF_STATUS_OK || json.is_null() {
        eprintln!("an async call failed: {}", status_name(status));
        std::process::abort();
    }
    std::hint::black_box(json);
    if flight.to_start.fetch_sub(1, Ordering::AcqRel) > 0 {
        flight.start_one();
    }
    if flight.done.fetch_add(1, Ordering::AcqRel) + 1 == flight.total.load(Ordering::Acquire) {
        let mut finished = flight.finished.lock().unwrap();
        *finished = true;
        flight.wake.notify_all();
    }
}
