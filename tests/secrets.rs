//! A token must never show up in anything the library produces. This test
//! registers recognisable fake tokens, turns logging up to its most verbose
//! level, drives every outcome against the emulator (200, 304, 401, primary
//! and secondary limits, network errors, timeouts, cancellation, shutdown,
//! bad input, the credential store), formats every public type with
//! `Debug`, and then looks for the tokens, their fragments and their hex
//! form in every log line, error message, JSON document and Debug string,
//! and in the stdout and stderr of the process that produced them.
//!
//! The scenario runs in a child process (this test binary run again on the
//! ignored test `scenario`), so that its whole output can be read. It runs
//! twice: once with the C log callback installed, once with a Rust logger
//! of the test's own that hears every `log` record of the process.
//!
//! A panic caught at the C boundary is driven by a unit test inside the
//! crate (`src/ffi/tests.rs`): only there can a pool be given a clock that
//! panics.

use std::collections::BTreeMap;
use std::ffi::{c_char, c_void, CStr, CString};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use gitfleet::github::models::User;
use gitfleet::pool::fingerprint;
use gitfleet::store::{CredentialStore, KdfParams};
use gitfleet::{
    CancelToken, Client, ClientOptions, Provider, Reserve, SecretToken, TokenManager, TokenStatus,
};
use gitfleet_emulator::{Config, Emulator, PrimaryStatus, TokenSpec};

/// The tokens the scenario hides. Fake, and built to be recognised; each
/// from two literals so that secret scanners do not take it for a leak.
const CANARY: &str = concat!("ghp_", "SECRETCANARY7f3Qx9LmZ2vB8nW4kR1tY6pD0sHj");
const REVOKED_CANARY: &str = concat!("ghp_", "SECRETCANARYrevoked5Tq8Wm3Zx1Lp7Nv2Kc9");
const STORED_CANARY: &str = concat!("ghp_", "SECRETCANARYstored2Hd6Jf0Ls4Xe8Rb3Wq7Z");
const CANARIES: [&str; 3] = [CANARY, REVOKED_CANARY, STORED_CANARY];

/// The environment variable that makes the ignored test run the scenario,
/// and says which logger to use.
const CHILD: &str = "GITFLEET_SECRETS_CHILD";

// ---- what a leak looks like ------------------------------------------------

/// Every form of a token we look for: the token, each run of 8 characters
/// of it after its `ghp_` prefix (a fragment split over log lines, or cut
/// by a length limit), and its hex encoding.
fn forbidden_patterns() -> Vec<String> {
    let mut patterns = Vec::new();
    for token in CANARIES {
        patterns.push(token.to_string());
        let body = &token[4..];
        for start in 0..=body.len() - 8 {
            patterns.push(body[start..start + 8].to_string());
        }
        let hex: String = token.bytes().map(|b| format!("{b:02x}")).collect();
        patterns.push(hex);
    }
    patterns
}

/// The index of the first forbidden pattern found in `text`. The index, not
/// the pattern: a report must not print the token either.
fn leak_in(text: &str, patterns: &[String]) -> Option<usize> {
    patterns.iter().position(|p| text.contains(p.as_str()))
}

#[test]
fn the_patterns_catch_a_token_and_its_fragments() {
    let patterns = forbidden_patterns();
    assert!(leak_in(&format!("Bearer {CANARY}"), &patterns).is_some());
    // A fragment of a hex dump row, the way ureq_proto prints request bytes.
    assert!(leak_in("4e41 5259 3766 3351 ARY7f3Qx9LmZ2vB8", &patterns).is_some());
    let hex: String = STORED_CANARY.bytes().map(|b| format!("{b:02x}")).collect();
    assert!(leak_in(&hex, &patterns).is_some());
    assert!(leak_in(&format!("token {}", fingerprint(CANARY)), &patterns).is_none());
    assert!(leak_in("GET http://127.0.0.1:1/users/octocat: 200", &patterns).is_none());
}

// ---- the parent: runs the scenario in a child and reads everything ---------

#[test]
fn no_token_in_logs_errors_json_debug_or_process_output_with_the_c_log_callback() {
    check_child("c-callback");
}

#[test]
fn no_token_in_anything_a_rust_logger_hears_from_the_library() {
    check_child("rust-logger");
}

fn check_child(logger: &str) {
    let started = Instant::now();
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "scenario",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, logger)
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("the test binary runs again");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);

    let patterns = forbidden_patterns();
    assert_eq!(
        leak_in(&stdout, &patterns),
        None,
        "a token (pattern index shown) is in the child's stdout"
    );
    assert_eq!(
        leak_in(&stderr, &patterns),
        None,
        "a token (pattern index shown) is in the child's stderr"
    );
    assert!(
        output.status.success(),
        "the scenario failed ({logger}):\n{stdout}\n{stderr}"
    );

    // The child says what it checked; a scenario that did nothing must fail.
    let summary = stdout
        .lines()
        .find_map(|line| Some(line.split_once("secrets scenario: ")?.1))
        .unwrap_or_else(|| panic!("no summary from the scenario:\n{stdout}\n{stderr}"));
    let counts: BTreeMap<&str, usize> = summary
        .split(", ")
        .filter_map(|part| {
            let (name, count) = part.split_once('=')?;
            Some((name, count.parse().ok()?))
        })
        .collect();
    assert_eq!(counts.get("leaks"), Some(&0), "{summary}");
    assert!(counts["texts"] >= 150, "too few texts checked: {summary}");
    assert!(counts["debug"] >= 20, "too few debug lines: {summary}");
    assert!(counts["info"] >= 1, "no info line (the wait): {summary}");
    println!(
        "{logger}: {summary}; child ran in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

// ---- the child: the scenario ----------------------------------------------

/// What the scenario produced, labelled by where it came from.
#[derive(Default)]
struct Produced {
    texts: Vec<(String, String)>,
}

impl Produced {
    fn add(&mut self, label: impl Into<String>, text: impl Into<String>) {
        self.texts.push((label.into(), text.into()));
    }
}

/// Log lines, from the C callback or the test's Rust logger.
static LOG_LINES: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

/// Results and errors handed to async callbacks.
static CALLBACK_TEXTS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

#[test]
#[ignore = "run in a child process by the tests above"]
fn scenario() {
    let Ok(logger) = std::env::var(CHILD) else {
        panic!("run by the other tests of this file, with {CHILD} set");
    };
    let rust_logger = match logger.as_str() {
        "rust-logger" => true,
        "c-callback" => false,
        other => panic!("unknown logger {other}"),
    };
    if rust_logger {
        log::set_logger(&RUST_LOGGER).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
        // The library's callback cannot replace another Rust logger.
        assert_eq!(
            unsafe { gf_log_set_callback(Some(on_log), null_mut(), 5) },
            1
        );
    } else {
        assert_eq!(
            unsafe { gf_log_set_callback(Some(on_log), null_mut(), 5) },
            0
        );
    }

    let mut produced = Produced::default();
    let emulator = Emulator::start(Config {
        tokens: vec![
            TokenSpec::new(CANARY, 1_000_000).login("canary-user"),
            TokenSpec::new(REVOKED_CANARY, 5000).revoked(),
            TokenSpec::new(STORED_CANARY, 5000),
        ],
        ..Config::default()
    })
    .unwrap();

    bad_input(&mut produced);
    successes(&emulator, &mut produced);
    not_modified(&emulator, &mut produced);
    refused(&emulator, &mut produced);
    limits(&emulator, &mut produced);
    wait_for_reset(&mut produced);
    network(&mut produced);
    async_outcomes(&emulator, &mut produced);
    leases(&mut produced);
    store(&mut produced);
    rust_api(&emulator, &mut produced);

    // Turn the callback off before the lines are read, so none comes late.
    if !rust_logger {
        assert_eq!(unsafe { gf_log_set_callback(None, null_mut(), 0) }, 0);
    }
    let log_lines = std::mem::take(&mut *LOG_LINES.lock().unwrap());
    let callback_texts = std::mem::take(&mut *CALLBACK_TEXTS.lock().unwrap());

    let patterns = forbidden_patterns();
    let mut leaks = Vec::new();
    let mut levels: BTreeMap<String, usize> = BTreeMap::new();
    for (label, text) in &log_lines {
        *levels.entry(label.clone()).or_default() += 1;
        // Limitation: ureq_proto dumps every request byte at trace level,
        // the Authorization header included, to whatever Rust logger the
        // process has. The C callback never forwards those lines; a Rust
        // host must keep `ureq_proto` below trace (README).
        if label == "trace ureq_proto" {
            continue;
        }
        if let Some(index) = leak_in(text, &patterns) {
            leaks.push(format!("log line ({label}), pattern {index}"));
        }
    }
    let texts = produced.texts.iter().chain(&callback_texts);
    let mut checked = 0;
    for (label, text) in texts {
        checked += 1;
        if let Some(index) = leak_in(text, &patterns) {
            leaks.push(format!("{label}, pattern {index}"));
        }
    }

    let count = |level: &str| -> usize {
        levels
            .iter()
            .filter(|(label, _)| label.starts_with(level) && label.contains("gitfleet"))
            .map(|(_, n)| n)
            .sum()
    };
    let foreign: usize = levels
        .iter()
        .filter(|(label, _)| !label.contains("gitfleet"))
        .map(|(_, n)| n)
        .sum();
    println!(
        "secrets scenario: texts={checked}, log={}, error={}, warn={}, info={}, debug={}, \
         trace={}, foreign={foreign}, leaks={}",
        log_lines.len(),
        count("error"),
        count("warn"),
        count("info"),
        count("debug"),
        count("trace"),
        leaks.len()
    );
    if !rust_logger {
        assert_eq!(foreign, 0, "the C callback forwarded another crate's lines");
    }
    assert!(leaks.is_empty(), "token found in: {leaks:#?}");
}

// ---- loggers ---------------------------------------------------------------

unsafe extern "C" fn on_log(_: *mut c_void, level: i32, message: *const c_char) {
    let level = ["off", "error", "warn", "info", "debug", "trace"]
        .get(level as usize)
        .copied()
        .unwrap_or("unknown");
    let text = CStr::from_ptr(message).to_string_lossy().into_owned();
    // The callback only ever receives the library's own lines.
    let label = format!("{level} gitfleet");
    LOG_LINES.lock().unwrap().push((label, text));
}

/// A Rust logger that keeps every record of the process, whatever its
/// crate, labelled with its level and crate.
struct CaptureEverything;

static RUST_LOGGER: CaptureEverything = CaptureEverything;

impl log::Log for CaptureEverything {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        let level = record.level().as_str().to_lowercase();
        let krate = record.target().split("::").next().unwrap_or("");
        let label = format!("{level} {krate}");
        let text = format!("{}", record.args());
        LOG_LINES.lock().unwrap().push((label, text));
    }

    fn flush(&self) {}
}

// ---- the C ABI -------------------------------------------------------------

#[allow(non_camel_case_types)]
enum gf_token_manager {}
#[allow(non_camel_case_types)]
enum gf_client_options {}
#[allow(non_camel_case_types)]
enum gf_client {}
#[allow(non_camel_case_types)]
enum gf_error {}
#[allow(non_camel_case_types)]
enum gf_lease {}
#[allow(non_camel_case_types)]
enum gf_request {}
#[allow(non_camel_case_types)]
enum gf_store {}

type LogCallback = unsafe extern "C" fn(*mut c_void, i32, *const c_char);
type Callback = unsafe extern "C" fn(*mut c_void, i32, *const c_char, *const gf_error);
type Err = *mut *mut gf_error;

// The exported C functions live in the gitfleet rlib; `use gitfleet` above
// links it in.
extern "C" {
    fn gf_log_set_callback(callback: Option<LogCallback>, data: *mut c_void, level: i32) -> i32;
    fn gf_status_name(status: i32) -> *const c_char;
    fn gf_string_free(s: *mut c_char);
    fn gf_error_message(error: *const gf_error) -> *const c_char;
    fn gf_error_resource(error: *const gf_error) -> *const c_char;
    fn gf_error_free(error: *mut gf_error);

    fn gf_token_manager_new() -> *mut gf_token_manager;
    fn gf_token_manager_free(manager: *mut gf_token_manager);
    fn gf_token_manager_add_token(
        m: *const gf_token_manager,
        provider: i32,
        secret: *const c_char,
        username: *const c_char,
        priority: i32,
        err: Err,
    ) -> i32;
    fn gf_token_manager_remove_token(
        m: *const gf_token_manager,
        secret: *const c_char,
        out_removed: *mut bool,
        err: Err,
    ) -> i32;
    fn gf_token_manager_mark_invalid(
        m: *const gf_token_manager,
        secret: *const c_char,
        out_found: *mut bool,
        err: Err,
    ) -> i32;
    fn gf_token_manager_update_from_headers(
        m: *const gf_token_manager,
        secret: *const c_char,
        names: *const *const c_char,
        values: *const *const c_char,
        count: usize,
        out_found: *mut bool,
        err: Err,
    ) -> i32;
    fn gf_token_manager_snapshot_json(
        m: *const gf_token_manager,
        out: *mut *mut c_char,
        err: Err,
    ) -> i32;
    fn gf_token_manager_lease(
        m: *const gf_token_manager,
        provider: i32,
        resource: *const c_char,
        out: *mut *mut gf_lease,
        err: Err,
    ) -> i32;
    fn gf_lease_token(lease: *const gf_lease) -> *const c_char;
    fn gf_lease_fingerprint(lease: *const gf_lease) -> *const c_char;
    fn gf_lease_report(
        lease: *mut gf_lease,
        status: u16,
        names: *const *const c_char,
        values: *const *const c_char,
        count: usize,
        body: *const u8,
        body_len: usize,
        out_outcome: *mut i32,
        err: Err,
    ) -> i32;
    fn gf_lease_free(lease: *mut gf_lease);

    fn gf_client_options_new() -> *mut gf_client_options;
    fn gf_client_options_free(options: *mut gf_client_options);
    fn gf_client_options_set_base_url(
        o: *mut gf_client_options,
        url: *const c_char,
        err: Err,
    ) -> i32;
    fn gf_client_options_set_token(
        o: *mut gf_client_options,
        token: *const c_char,
        err: Err,
    ) -> i32;
    fn gf_client_options_set_token_manager(
        o: *mut gf_client_options,
        m: *const gf_token_manager,
        err: Err,
    ) -> i32;
    fn gf_client_options_set_timeout_ms(o: *mut gf_client_options, ms: u64, err: Err) -> i32;
    fn gf_client_options_set_max_retries(o: *mut gf_client_options, n: u32, err: Err) -> i32;
    fn gf_client_options_set_max_wait_ms(o: *mut gf_client_options, ms: u64, err: Err) -> i32;
    fn gf_client_new(o: *const gf_client_options, out: *mut *mut gf_client, err: Err) -> i32;
    fn gf_client_free(client: *mut gf_client);
    fn gf_client_user(
        c: *const gf_client,
        login: *const c_char,
        out: *mut *mut c_char,
        err: Err,
    ) -> i32;
    fn gf_client_authenticated_user(c: *const gf_client, out: *mut *mut c_char, err: Err) -> i32;
    fn gf_client_owner_repositories(
        c: *const gf_client,
        owner: *const c_char,
        out: *mut *mut c_char,
        err: Err,
    ) -> i32;
    fn gf_client_contributors(
        c: *const gf_client,
        owner: *const c_char,
        repo: *const c_char,
        out: *mut *mut c_char,
        err: Err,
    ) -> i32;
    fn gf_client_rate_limit(c: *const gf_client, out: *mut *mut c_char, err: Err) -> i32;
    fn gf_client_refresh_rate_limits(c: *const gf_client, out: *mut *mut c_char, err: Err) -> i32;
    fn gf_client_validate_token(
        c: *const gf_client,
        token: *const c_char,
        out: *mut *mut c_char,
        err: Err,
    ) -> i32;
    fn gf_client_validate_pool(c: *const gf_client, out: *mut *mut c_char, err: Err) -> i32;
    fn gf_client_user_async(
        c: *const gf_client,
        login: *const c_char,
        callback: Option<Callback>,
        data: *mut c_void,
        out_request: *mut *mut gf_request,
        err: Err,
    ) -> i32;
    fn gf_client_validate_token_async(
        c: *const gf_client,
        token: *const c_char,
        callback: Option<Callback>,
        data: *mut c_void,
        out_request: *mut *mut gf_request,
        err: Err,
    ) -> i32;
    fn gf_request_cancel(request: *const gf_request) -> i32;
    fn gf_request_free(request: *mut gf_request);

    fn gf_store_create_with_key(
        path: *const c_char,
        key: *const u8,
        key_len: usize,
        out: *mut *mut gf_store,
        err: Err,
    ) -> i32;
    fn gf_store_open_with_key(
        path: *const c_char,
        key: *const u8,
        key_len: usize,
        out: *mut *mut gf_store,
        err: Err,
    ) -> i32;
    fn gf_store_free(store: *mut gf_store);
    fn gf_store_save(
        store: *const gf_store,
        provider: i32,
        token: *const c_char,
        username: *const c_char,
        host: *const c_char,
        err: Err,
    ) -> i32;
    fn gf_store_list_json(store: *const gf_store, out: *mut *mut c_char, err: Err) -> i32;
    fn gf_store_get_token(
        store: *const gf_store,
        fingerprint: *const c_char,
        out: *mut *mut c_char,
        err: Err,
    ) -> i32;
    fn gf_secret_free(secret: *mut c_char);
    fn gf_store_remove(
        store: *const gf_store,
        fingerprint: *const c_char,
        out_removed: *mut bool,
        err: Err,
    ) -> i32;
    fn gf_store_load_into(
        store: *const gf_store,
        m: *const gf_token_manager,
        out_count: *mut usize,
        err: Err,
    ) -> i32;
}

const GITHUB: i32 = 0;

fn c(text: &str) -> CString {
    CString::new(text).unwrap()
}

fn name_of(status: i32) -> String {
    // SAFETY: gf_status_name returns a static string for any number.
    unsafe { CStr::from_ptr(gf_status_name(status)) }
        .to_string_lossy()
        .into_owned()
}

/// Collects what one blocking call produced (its JSON or its error) and
/// frees it; returns the status's name.
fn collect(
    produced: &mut Produced,
    label: &str,
    status: i32,
    json: *mut c_char,
    error: *mut gf_error,
) -> String {
    // SAFETY: pointers the library just handed over, freed once here.
    unsafe {
        if !json.is_null() {
            produced.add(
                format!("{label}: JSON"),
                CStr::from_ptr(json).to_string_lossy(),
            );
            gf_string_free(json);
        }
        if !error.is_null() {
            produced.add(
                format!("{label}: error message"),
                CStr::from_ptr(gf_error_message(error)).to_string_lossy(),
            );
            produced.add(
                format!("{label}: error resource"),
                CStr::from_ptr(gf_error_resource(error)).to_string_lossy(),
            );
            gf_error_free(error);
        }
    }
    name_of(status)
}

/// Runs one call that may fail, collecting what it gave back.
fn call(produced: &mut Produced, label: &str, f: impl FnOnce(Err) -> i32) -> String {
    let mut error = null_mut();
    let status = f(&mut error);
    collect(produced, label, status, null_mut(), error)
}

/// Runs one call that returns a JSON document, collecting it or its error.
fn call_json(
    produced: &mut Produced,
    label: &str,
    f: impl FnOnce(*mut *mut c_char, Err) -> i32,
) -> String {
    let (mut json, mut error) = (null_mut(), null_mut());
    let status = f(&mut json, &mut error);
    collect(produced, label, status, json, error)
}

fn snapshot(produced: &mut Produced, label: &str, manager: *const gf_token_manager) {
    let status = call_json(produced, &format!("snapshot {label}"), |out, err| unsafe {
        gf_token_manager_snapshot_json(manager, out, err)
    });
    assert_eq!(status, "GF_STATUS_OK");
}

fn manager_with(tokens: &[&str]) -> *mut gf_token_manager {
    let manager = unsafe { gf_token_manager_new() };
    for token in tokens {
        let token = c(token);
        let user = c("canary-user");
        let status = unsafe {
            gf_token_manager_add_token(
                manager,
                GITHUB,
                token.as_ptr(),
                user.as_ptr(),
                1,
                null_mut(),
            )
        };
        assert_eq!(status, 0);
    }
    manager
}

/// Options for the tests: a base URL, a pool, few retries, short timeouts.
struct ClientSetup<'a> {
    base_url: &'a str,
    manager: *const gf_token_manager,
    token: Option<&'a str>,
    timeout_ms: u64,
    max_retries: u32,
    max_wait_ms: u64,
}

impl<'a> ClientSetup<'a> {
    fn new(base_url: &'a str, manager: *const gf_token_manager) -> Self {
        ClientSetup {
            base_url,
            manager,
            token: None,
            timeout_ms: 5000,
            max_retries: 1,
            max_wait_ms: 0,
        }
    }

    fn build(&self) -> *mut gf_client {
        let url = c(self.base_url);
        let mut client = null_mut();
        // SAFETY: valid pointers throughout, as the header asks.
        unsafe {
            let options = gf_client_options_new();
            assert_eq!(
                gf_client_options_set_base_url(options, url.as_ptr(), null_mut()),
                0
            );
            if !self.manager.is_null() {
                let status = gf_client_options_set_token_manager(options, self.manager, null_mut());
                assert_eq!(status, 0);
            }
            if let Some(token) = self.token {
                let token = c(token);
                assert_eq!(
                    gf_client_options_set_token(options, token.as_ptr(), null_mut()),
                    0
                );
            }
            assert_eq!(
                gf_client_options_set_timeout_ms(options, self.timeout_ms, null_mut()),
                0
            );
            assert_eq!(
                gf_client_options_set_max_retries(options, self.max_retries, null_mut()),
                0
            );
            assert_eq!(
                gf_client_options_set_max_wait_ms(options, self.max_wait_ms, null_mut()),
                0
            );
            assert_eq!(gf_client_new(options, &mut client, null_mut()), 0);
            gf_client_options_free(options);
        }
        client
    }
}

fn user(produced: &mut Produced, label: &str, client: *const gf_client, login: &str) -> String {
    let login = c(login);
    call_json(produced, label, |out, err| unsafe {
        gf_client_user(client, login.as_ptr(), out, err)
    })
}

// ---- the steps -------------------------------------------------------------

/// Tokens that cannot be used are refused without being quoted.
fn bad_input(produced: &mut Produced) {
    let manager = unsafe { gf_token_manager_new() };
    let bad = [
        format!("{CANARY} with a space"),
        format!("{CANARY}\ttab"),
        format!("{CANARY}é"),
        CANARY.repeat(30),
    ];
    for (index, token) in bad.iter().enumerate() {
        let token = c(token);
        let label = format!("bad token {index}");
        let status = call(produced, &label, |err| unsafe {
            gf_token_manager_add_token(manager, GITHUB, token.as_ptr(), null(), 0, err)
        });
        assert_eq!(status, "GF_STATUS_INVALID_ARGUMENT", "{label}");

        let options = unsafe { gf_client_options_new() };
        let status = call(produced, &format!("{label} as option"), |err| unsafe {
            gf_client_options_set_token(options, token.as_ptr(), err)
        });
        assert_eq!(status, "GF_STATUS_INVALID_ARGUMENT", "{label}");
        unsafe { gf_client_options_free(options) };
    }
    // Invalid UTF-8 around a token.
    let mut bytes = CANARY.as_bytes().to_vec();
    bytes.push(0xff);
    let token = CString::new(bytes).unwrap();
    let status = call(produced, "non-UTF-8 token", |err| unsafe {
        gf_token_manager_add_token(manager, GITHUB, token.as_ptr(), null(), 0, err)
    });
    assert_eq!(status, "GF_STATUS_INVALID_ARGUMENT");

    // A lease from an empty pool, a removal of a token it does not have.
    let mut lease = null_mut();
    let status = call(produced, "lease from an empty pool", |err| unsafe {
        gf_token_manager_lease(manager, GITHUB, null(), &mut lease, err)
    });
    assert_eq!(status, "GF_STATUS_AUTH");
    let token = c(CANARY);
    let mut removed = true;
    let status = call(produced, "remove a token not there", |err| unsafe {
        gf_token_manager_remove_token(manager, token.as_ptr(), &mut removed, err)
    });
    assert_eq!(status, "GF_STATUS_OK");
    assert!(!removed);
    unsafe { gf_token_manager_free(manager) };
}

/// 200s on every call, pages followed, the pool refreshed and validated.
fn successes(emulator: &Emulator, produced: &mut Produced) {
    let manager = manager_with(&[CANARY, REVOKED_CANARY]);
    // Added again: one entry, updated.
    let again = c(CANARY);
    let status = call(produced, "add again", |err| unsafe {
        gf_token_manager_add_token(manager, GITHUB, again.as_ptr(), null(), 5, err)
    });
    assert_eq!(status, "GF_STATUS_OK");
    snapshot(produced, "fresh", manager);

    let base_url = emulator.base_url();
    let mut setup = ClientSetup::new(&base_url, manager);
    setup.token = Some(CANARY);
    let client = setup.build();

    assert_eq!(
        user(produced, "user 200", client, "octocat"),
        "GF_STATUS_OK"
    );
    let status = call_json(produced, "authenticated user", |out, err| unsafe {
        gf_client_authenticated_user(client, out, err)
    });
    assert_eq!(status, "GF_STATUS_OK");
    let owner = c("bigorg");
    let status = call_json(produced, "three pages of repositories", |out, err| unsafe {
        gf_client_owner_repositories(client, owner.as_ptr(), out, err)
    });
    assert_eq!(status, "GF_STATUS_OK");
    let (owner, repo) = (c("bigcontrib"), c("many"));
    let status = call_json(produced, "contributors", |out, err| unsafe {
        gf_client_contributors(client, owner.as_ptr(), repo.as_ptr(), out, err)
    });
    assert_eq!(status, "GF_STATUS_OK");
    let status = call_json(produced, "rate limit", |out, err| unsafe {
        gf_client_rate_limit(client, out, err)
    });
    assert_eq!(status, "GF_STATUS_OK");
    let status = call_json(produced, "refresh", |out, err| unsafe {
        gf_client_refresh_rate_limits(client, out, err)
    });
    assert_eq!(status, "GF_STATUS_OK");
    for token in [CANARY, REVOKED_CANARY, STORED_CANARY] {
        let token = c(token);
        let status = call_json(produced, "validate token", |out, err| unsafe {
            gf_client_validate_token(client, token.as_ptr(), out, err)
        });
        assert_eq!(status, "GF_STATUS_OK");
    }
    let status = call_json(produced, "validate pool", |out, err| unsafe {
        gf_client_validate_pool(client, out, err)
    });
    assert_eq!(status, "GF_STATUS_OK");
    let status = user(produced, "404", client, "nobody-here-at-all");
    assert_eq!(status, "GF_STATUS_NOT_FOUND");
    snapshot(produced, "after successes", manager);

    unsafe {
        gf_client_free(client);
        gf_token_manager_free(manager);
    }
}

/// A 304 for a caller with its own HTTP stack: the lease's token sent with
/// `If-None-Match`, the answer reported to the pool.
fn not_modified(emulator: &Emulator, produced: &mut Produced) {
    let manager = manager_with(&[CANARY]);
    let first = lease(produced, "lease for 200", manager);
    let token = lease_token(first);
    let (status, headers, body) = raw_get(emulator.addr(), "/users/octocat", &token, None);
    assert_eq!(status, 200);
    produced.add("the raw 200 body", String::from_utf8_lossy(&body));
    let etag = headers
        .iter()
        .find(|(name, _)| name == "etag")
        .map(|(_, value)| value.clone())
        .expect("the emulator sends an ETag");
    assert_eq!(
        report(produced, "report 200", first, status, &headers, &body),
        0
    );

    let second = lease(produced, "lease for 304", manager);
    let token = lease_token(second);
    let (status, headers, body) = raw_get(emulator.addr(), "/users/octocat", &token, Some(&etag));
    assert_eq!(status, 304);
    assert_eq!(
        report(produced, "report 304", second, status, &headers, &body),
        1
    );
    snapshot(produced, "after a 304", manager);
    unsafe { gf_token_manager_free(manager) };
}

fn lease(produced: &mut Produced, label: &str, manager: *const gf_token_manager) -> *mut gf_lease {
    let mut lease = null_mut();
    let status = call(produced, label, |err| unsafe {
        gf_token_manager_lease(manager, GITHUB, null(), &mut lease, err)
    });
    assert_eq!(status, "GF_STATUS_OK", "{label}");
    let fingerprint = unsafe { CStr::from_ptr(gf_lease_fingerprint(lease)) };
    produced.add(
        format!("{label}: fingerprint"),
        fingerprint.to_string_lossy(),
    );
    lease
}

/// The lease's token: the one thing meant to hand a token back.
fn lease_token(lease: *const gf_lease) -> String {
    let token = unsafe { CStr::from_ptr(gf_lease_token(lease)) };
    token.to_str().unwrap().to_string()
}

/// Reports a response on a lease and frees it; returns the outcome.
fn report(
    produced: &mut Produced,
    label: &str,
    lease: *mut gf_lease,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> i32 {
    let names: Vec<CString> = headers.iter().map(|(n, _)| c(n)).collect();
    let values: Vec<CString> = headers.iter().map(|(_, v)| c(v)).collect();
    let name_ptrs: Vec<*const c_char> = names.iter().map(|n| n.as_ptr()).collect();
    let value_ptrs: Vec<*const c_char> = values.iter().map(|v| v.as_ptr()).collect();
    let mut outcome = -1;
    let result = call(produced, label, |err| unsafe {
        gf_lease_report(
            lease,
            status,
            name_ptrs.as_ptr(),
            value_ptrs.as_ptr(),
            headers.len(),
            body.as_ptr(),
            body.len(),
            &mut outcome,
            err,
        )
    });
    assert_eq!(result, "GF_STATUS_OK", "{label}");
    // A second report of the same lease is refused.
    let again = call(produced, &format!("{label} again"), |err| unsafe {
        gf_lease_report(lease, status, null(), null(), 0, null(), 0, null_mut(), err)
    });
    assert_eq!(again, "GF_STATUS_INVALID_ARGUMENT");
    unsafe { gf_lease_free(lease) };
    outcome
}

/// One GET over a fresh connection, as a caller's own HTTP stack would send
/// it; returns the status, the headers (names lowercased) and the body.
fn raw_get(
    addr: SocketAddr,
    path: &str,
    token: &str,
    if_none_match: Option<&str>,
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: secrets-test\r\n\
         Authorization: Bearer {token}\r\nConnection: close\r\n"
    );
    if let Some(tag) = if_none_match {
        request.push_str(&format!("If-None-Match: {tag}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();

    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let body = answer[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, body)
}

/// 401: a revoked token, alone in its pool; then a token revoked while in use.
fn refused(emulator: &Emulator, produced: &mut Produced) {
    let manager = manager_with(&[REVOKED_CANARY]);
    let base_url = emulator.base_url();
    let client = ClientSetup::new(&base_url, manager).build();
    assert_eq!(user(produced, "401", client, "octocat"), "GF_STATUS_AUTH");
    assert_eq!(
        user(produced, "401 then none left", client, "octocat"),
        "GF_STATUS_AUTH"
    );
    snapshot(produced, "after a 401", manager);
    unsafe {
        gf_client_free(client);
        gf_token_manager_free(manager);
    }
}

/// Primary limits (403 and 429) and a secondary limit.
fn limits(emulator: &Emulator, produced: &mut Produced) {
    let base_url = emulator.base_url();

    let no_retry = |url: &str, manager| {
        let mut setup = ClientSetup::new(url, manager);
        setup.max_retries = 0;
        setup.build()
    };
    let manager = manager_with(&[STORED_CANARY]);
    let client = no_retry(&base_url, manager);
    emulator.trigger_secondary(STORED_CANARY, 5, Some(30));
    let status = user(produced, "secondary limit", client, "octocat");
    assert_eq!(status, "GF_STATUS_SECONDARY_LIMITED");
    assert_eq!(
        user(produced, "cooling down", client, "octocat"),
        "GF_STATUS_RATE_LIMITED"
    );
    snapshot(produced, "after a secondary limit", manager);
    unsafe {
        gf_client_free(client);
        gf_token_manager_free(manager);
    }
    emulator.trigger_secondary(STORED_CANARY, 0, None);

    let manager = manager_with(&[STORED_CANARY]);
    let client = no_retry(&base_url, manager);
    emulator.set_remaining(STORED_CANARY, "core", 0);
    let status = user(produced, "primary limit 403", client, "octocat");
    assert_eq!(status, "GF_STATUS_RATE_LIMITED");
    let status = user(produced, "pool spent", client, "octocat");
    assert_eq!(status, "GF_STATUS_RATE_LIMITED");
    snapshot(produced, "after a primary limit", manager);
    unsafe {
        gf_client_free(client);
        gf_token_manager_free(manager);
    }
    emulator.expire_window(STORED_CANARY);

    let too_many = Emulator::start(Config {
        tokens: vec![TokenSpec::new(CANARY, 1)],
        primary_status: PrimaryStatus::TooMany429,
        ..Config::default()
    })
    .unwrap();
    let manager = manager_with(&[CANARY]);
    let client = no_retry(&too_many.base_url(), manager);
    assert_eq!(
        user(produced, "the last unit", client, "octocat"),
        "GF_STATUS_OK"
    );
    // The pool does not know the token is spent until the server says so.
    let forget = [("x-ratelimit-remaining", "1")];
    update_from_headers(produced, manager, CANARY, &forget);
    let status = user(produced, "primary limit 429", client, "octocat");
    assert_eq!(status, "GF_STATUS_RATE_LIMITED");
    snapshot(produced, "after a 429", manager);
    unsafe {
        gf_client_free(client);
        gf_token_manager_free(manager);
    }
}

fn update_from_headers(
    produced: &mut Produced,
    manager: *const gf_token_manager,
    token: &str,
    headers: &[(&str, &str)],
) {
    let token = c(token);
    let names: Vec<CString> = headers.iter().map(|(n, _)| c(n)).collect();
    let values: Vec<CString> = headers.iter().map(|(_, v)| c(v)).collect();
    let name_ptrs: Vec<*const c_char> = names.iter().map(|n| n.as_ptr()).collect();
    let value_ptrs: Vec<*const c_char> = values.iter().map(|v| v.as_ptr()).collect();
    let mut found = false;
    let status = call(produced, "update from headers", |err| unsafe {
        gf_token_manager_update_from_headers(
            manager,
            token.as_ptr(),
            name_ptrs.as_ptr(),
            value_ptrs.as_ptr(),
            headers.len(),
            &mut found,
            err,
        )
    });
    assert_eq!(status, "GF_STATUS_OK");
    assert!(found);
}

/// A pool spent until a reset a second away, with a wait allowed: the
/// client waits (and says so at info level), then goes on.
fn wait_for_reset(produced: &mut Produced) {
    let emulator = Emulator::start(Config {
        tokens: vec![TokenSpec::new(CANARY, 1)],
        window: Duration::from_secs(1),
        ..Config::default()
    })
    .unwrap();
    let manager = manager_with(&[CANARY]);
    let base_url = emulator.base_url();
    let mut setup = ClientSetup::new(&base_url, manager);
    setup.max_wait_ms = 5000;
    let client = setup.build();
    assert_eq!(
        user(produced, "before the wait", client, "octocat"),
        "GF_STATUS_OK"
    );
    assert_eq!(
        user(produced, "after the wait", client, "octocat"),
        "GF_STATUS_OK"
    );
    unsafe {
        gf_client_free(client);
        gf_token_manager_free(manager);
    }
}

/// A port nobody listens on, a server that hangs up, one that never answers.
fn network(produced: &mut Produced) {
    let manager = manager_with(&[CANARY]);

    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let url = format!("http://{closed}");
    let client = ClientSetup::new(&url, manager).build();
    assert_eq!(
        user(produced, "closed port", client, "octocat"),
        "GF_STATUS_NETWORK"
    );
    unsafe { gf_client_free(client) };

    let hangup = Misbehaving::start(false);
    let url = format!("http://{}", hangup.addr);
    let client = ClientSetup::new(&url, manager).build();
    assert_eq!(
        user(produced, "dropped connection", client, "octocat"),
        "GF_STATUS_NETWORK"
    );
    unsafe { gf_client_free(client) };

    let silent = Misbehaving::start(true);
    let url = format!("http://{}", silent.addr);
    let mut setup = ClientSetup::new(&url, manager);
    setup.timeout_ms = 200;
    setup.max_retries = 0;
    let client = setup.build();
    assert_eq!(
        user(produced, "timeout", client, "octocat"),
        "GF_STATUS_TIMEOUT"
    );
    unsafe { gf_client_free(client) };

    snapshot(produced, "after network errors", manager);
    unsafe { gf_token_manager_free(manager) };
}

/// A local server that misbehaves: it hangs up on every connection after
/// reading the request, or holds connections without answering. It stops
/// when dropped, and after 60 s in any case.
struct Misbehaving {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Misbehaving {
    fn start(silent: bool) -> Misbehaving {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut held = Vec::new();
            while !flag.load(Ordering::SeqCst) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((mut stream, _)) => {
                        stream.set_nonblocking(false).unwrap();
                        if silent {
                            held.push(stream);
                        } else {
                            stream
                                .set_read_timeout(Some(Duration::from_secs(1)))
                                .unwrap();
                            let _ = stream.read(&mut [0u8; 4096]);
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Misbehaving {
            addr,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Misbehaving {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What async callbacks receive: results, errors, cancellation, shutdown.
fn async_outcomes(emulator: &Emulator, produced: &mut Produced) {
    let manager = manager_with(&[CANARY, REVOKED_CANARY]);
    let base_url = emulator.base_url();
    let client = ClientSetup::new(&base_url, manager).build();
    let silent = Misbehaving::start(true);
    let silent_url = format!("http://{}", silent.addr);
    let mut setup = ClientSetup::new(&silent_url, manager);
    setup.timeout_ms = 10_000;
    let stuck = setup.build();

    let login = c("octocat");
    let missing = c("nobody-here-at-all");
    let token = c(REVOKED_CANARY);
    let done = Arc::new(Mutex::new(Vec::<i32>::new()));
    let mut requests = Vec::new();
    // SAFETY: the callback's data is a leaked Arc, reclaimed in the callback.
    unsafe {
        for (client, what) in [
            (client as *const gf_client, &login),
            (client, &missing),
            (stuck, &login),
            (stuck, &login),
        ] {
            let data = Arc::into_raw(Arc::clone(&done)) as *mut c_void;
            let mut request = null_mut();
            let status = gf_client_user_async(
                client,
                what.as_ptr(),
                Some(on_done),
                data,
                &mut request,
                null_mut(),
            );
            assert_eq!(status, 0);
            requests.push(request);
        }
        let data = Arc::into_raw(Arc::clone(&done)) as *mut c_void;
        let status = gf_client_validate_token_async(
            client,
            token.as_ptr(),
            Some(on_done),
            data,
            null_mut(),
            null_mut(),
        );
        assert_eq!(status, 0);
        // One stuck call cancelled, the other ended by freeing its client.
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(gf_request_cancel(requests[2]), 0);
        gf_client_free(stuck);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while done.lock().unwrap().len() < 5 {
        assert!(Instant::now() < deadline, "an async callback never came");
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut statuses: Vec<String> = done.lock().unwrap().iter().map(|s| name_of(*s)).collect();
    statuses.sort();
    assert_eq!(
        statuses,
        [
            "GF_STATUS_CANCELLED",
            "GF_STATUS_NOT_FOUND",
            "GF_STATUS_OK",
            "GF_STATUS_OK",
            "GF_STATUS_SHUT_DOWN"
        ]
    );
    unsafe {
        for request in requests {
            gf_request_free(request);
        }
        gf_client_free(client);
        gf_token_manager_free(manager);
    }
    produced.add("async statuses", statuses.join(","));
}

unsafe extern "C" fn on_done(
    data: *mut c_void,
    status: i32,
    json: *const c_char,
    error: *const gf_error,
) {
    let done = Arc::from_raw(data as *const Mutex<Vec<i32>>);
    let mut texts = CALLBACK_TEXTS.lock().unwrap();
    if !json.is_null() {
        let text = CStr::from_ptr(json).to_string_lossy().into_owned();
        texts.push(("async JSON".into(), text));
    }
    if !error.is_null() {
        let text = CStr::from_ptr(gf_error_message(error))
            .to_string_lossy()
            .into_owned();
        texts.push(("async error message".into(), text));
    }
    done.lock().unwrap().push(status);
}

/// The pool alone: leases reported with each kind of answer, marks,
/// removals, and the errors a spent or empty pool gives.
fn leases(produced: &mut Produced) {
    let manager = manager_with(&[CANARY, REVOKED_CANARY]);
    let limited = [
        ("x-ratelimit-limit", "5000"),
        ("x-ratelimit-remaining", "0"),
        ("x-ratelimit-reset", "4102444800"),
        ("x-ratelimit-resource", "core"),
    ];
    let secondary = [("retry-after", "60")];
    let own = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    };
    let body = br#"{"message":"You have exceeded a secondary rate limit"}"#;
    let first = lease(produced, "l1", manager);
    assert_eq!(report(produced, "report 401", first, 401, &[], b"{}"), 2);
    let second = lease(produced, "l2", manager);
    let outcome = report(
        produced,
        "report primary",
        second,
        403,
        &own(&limited),
        b"{}",
    );
    assert_eq!(outcome, 3);
    let mut no_lease = null_mut();
    let status = call(produced, "lease from a spent pool", |err| unsafe {
        gf_token_manager_lease(manager, GITHUB, null(), &mut no_lease, err)
    });
    assert_eq!(status, "GF_STATUS_RATE_LIMITED");
    snapshot(produced, "leases spent", manager);

    let manager2 = manager_with(&[CANARY]);
    let third = lease(produced, "l3", manager2);
    let outcome = report(
        produced,
        "report secondary",
        third,
        403,
        &own(&secondary),
        body,
    );
    assert_eq!(outcome, 4);
    snapshot(produced, "cooling", manager2);

    for token in [CANARY, STORED_CANARY] {
        let token = c(token);
        let mut found = false;
        let status = call(produced, "mark invalid", |err| unsafe {
            gf_token_manager_mark_invalid(manager, token.as_ptr(), &mut found, err)
        });
        assert_eq!(status, "GF_STATUS_OK");
        let mut removed = false;
        let status = call(produced, "remove", |err| unsafe {
            gf_token_manager_remove_token(manager, token.as_ptr(), &mut removed, err)
        });
        assert_eq!(status, "GF_STATUS_OK");
    }
    snapshot(produced, "after removals", manager);
    unsafe {
        gf_token_manager_free(manager);
        gf_token_manager_free(manager2);
    }
}

/// The credential store through the C ABI: its file, its listing, its
/// errors. The token it hands back on request is the one expected output.
fn store(produced: &mut Produced) {
    let dir = std::env::temp_dir().join(format!("gitfleet-secrets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tokens.gfs");
    let _ = std::fs::remove_file(&path);
    let path_c = c(path.to_str().unwrap());
    let key = [7u8; 32];
    let wrong_key = [8u8; 32];

    let mut store = null_mut();
    let status = call(produced, "store create", |err| unsafe {
        gf_store_create_with_key(path_c.as_ptr(), key.as_ptr(), key.len(), &mut store, err)
    });
    assert_eq!(status, "GF_STATUS_OK");
    for token in CANARIES {
        let token = c(token);
        let (user, host) = (c("canary-user"), c("ghe.example.com"));
        let status = call(produced, "store save", |err| unsafe {
            gf_store_save(
                store,
                GITHUB,
                token.as_ptr(),
                user.as_ptr(),
                host.as_ptr(),
                err,
            )
        });
        assert_eq!(status, "GF_STATUS_OK");
    }
    let bad = c(&format!("{STORED_CANARY} x"));
    let status = call(produced, "store save bad", |err| unsafe {
        gf_store_save(store, GITHUB, bad.as_ptr(), null(), null(), err)
    });
    assert_eq!(status, "GF_STATUS_INVALID_ARGUMENT");
    let status = call_json(produced, "store list", |out, err| unsafe {
        gf_store_list_json(store, out, err)
    });
    assert_eq!(status, "GF_STATUS_OK");

    let wanted = c(&fingerprint(STORED_CANARY));
    let mut secret = null_mut();
    let status = call(produced, "store get", |err| unsafe {
        gf_store_get_token(store, wanted.as_ptr(), &mut secret, err)
    });
    assert_eq!(status, "GF_STATUS_OK");
    let handed_back = unsafe { CStr::from_ptr(secret) }.to_bytes() == STORED_CANARY.as_bytes();
    unsafe { gf_secret_free(secret) };
    assert!(handed_back, "the store handed back another token");
    let unknown = c("000000000000");
    let status = call(produced, "store get unknown", |err| unsafe {
        gf_store_get_token(store, unknown.as_ptr(), &mut secret, err)
    });
    assert_eq!(status, "GF_STATUS_NOT_FOUND");

    let manager = unsafe { gf_token_manager_new() };
    let mut count = 0;
    let status = call(produced, "store load", |err| unsafe {
        gf_store_load_into(store, manager, &mut count, err)
    });
    assert_eq!(status, "GF_STATUS_OK");
    assert_eq!(count, 3);
    snapshot(produced, "loaded from the store", manager);
    let mut removed = false;
    let status = call(produced, "store remove", |err| unsafe {
        gf_store_remove(store, wanted.as_ptr(), &mut removed, err)
    });
    assert_eq!(status, "GF_STATUS_OK");
    assert!(removed);

    let mut other = null_mut();
    let status = call(produced, "store wrong key", |err| unsafe {
        gf_store_open_with_key(path_c.as_ptr(), wrong_key.as_ptr(), 32, &mut other, err)
    });
    assert_eq!(status, "GF_STATUS_CRYPTO");
    std::fs::write(dir.join("not-a-store"), b"plain text, no store").unwrap();
    let not_store = c(dir.join("not-a-store").to_str().unwrap());
    let status = call(produced, "store not a store", |err| unsafe {
        gf_store_open_with_key(not_store.as_ptr(), key.as_ptr(), 32, &mut other, err)
    });
    assert_eq!(status, "GF_STATUS_FORMAT");

    // The file holds ciphertext only.
    let bytes = std::fs::read(&path).unwrap();
    produced.add("the store file", String::from_utf8_lossy(&bytes));
    let as_hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    produced.add("the store file in hex", as_hex);

    unsafe {
        gf_store_free(store);
        gf_token_manager_free(manager);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The Rust API: `Debug` and `Display` of every public type the scenario
/// meets, its snapshots as JSON, and the errors of each outcome.
fn rust_api(emulator: &Emulator, produced: &mut Produced) {
    let pool = TokenManager::new();
    let added = pool
        .add_token(Provider::GitHub, CANARY, Some("canary-user"), 3)
        .unwrap();
    pool.add_token(Provider::GitLab, STORED_CANARY, None, 0)
        .unwrap();
    pool.set_reserve(Reserve::Count(1)).unwrap();
    debug(produced, "Added", &added);
    debug(produced, "TokenManager", &pool);
    debug(produced, "SecretToken", &SecretToken::from(CANARY));
    let lease = pool.lease(Provider::GitHub, "core").unwrap();
    debug(produced, "Lease", &lease);

    // A lease reported by hand: the classification, then the snapshots.
    let head =
        gitfleet::classify::ResponseHead::from_pairs(403, [("retry-after", b"10".as_slice())]);
    let body = gitfleet::classify::ErrorBody::parse(br#"{"message":"secondary rate limit"}"#);
    debug(produced, "ResponseHead", &head);
    debug(produced, "ErrorBody", &body);
    let verdict = lease.report(&head, &body);
    debug(produced, "Classification", &verdict);
    let snapshot = pool.snapshot();
    assert!(snapshot
        .iter()
        .any(|t| t.status == TokenStatus::CoolingDown));
    debug(produced, "snapshot", &snapshot);
    produced.add("snapshot JSON", serde_json::to_string(&snapshot).unwrap());

    let client_pool = TokenManager::new();
    let options = ClientOptions {
        base_url: emulator.base_url(),
        token: Some(SecretToken::from(CANARY)),
        manager: Some(client_pool.clone()),
        max_retries: 0,
        ..ClientOptions::default()
    };
    debug(produced, "ClientOptions", &options);
    let client = Client::new(options).unwrap();
    debug(produced, "Client", &client);

    let never = CancelToken::new();
    let user: User = client.user("octocat", &never).unwrap();
    debug(produced, "User", &user);
    debug(produced, "RateLimit", &client.rate_limit(&never).unwrap());
    let refreshed = client.refresh_rate_limits(&never).unwrap();
    debug(produced, "TokenRateLimit map", &refreshed);
    debug(
        produced,
        "TokenValidation map",
        &client.validate_pool(&never).unwrap(),
    );
    let outsider = client.validate_token(REVOKED_CANARY, &never).unwrap();
    assert!(!outsider.valid);
    debug(produced, "TokenValidation", &outsider);
    let repositories = client.owner_repositories("octocat", &never).unwrap();
    debug(produced, "repositories", &repositories);
    let details = client.repository("octocat", "Hello-World", &never).unwrap();
    debug(produced, "RepositoryDetails", &details);
    let branches = client.branches("octocat", "Hello-World", &never).unwrap();
    debug(produced, "branches", &branches);

    // Every kind of error, shown both ways.
    let mut errors = Vec::new();
    errors.push(client.user("nobody-here-at-all", &never).unwrap_err());
    errors.push(
        pool.add_token(Provider::GitHub, &format!("{CANARY} "), None, 0)
            .unwrap_err(),
    );
    errors.push(pool.lease(Provider::Bitbucket, "core").unwrap_err());
    let cancelled = CancelToken::new();
    cancelled.cancel();
    errors.push(client.user("octocat", &cancelled).unwrap_err());
    emulator.trigger_secondary(CANARY, 5, Some(30));
    errors.push(client.user("octocat", &never).unwrap_err());
    emulator.trigger_secondary(CANARY, 0, None);
    emulator.set_remaining(CANARY, "core", 0);
    errors.push(client.user("octocat", &never).unwrap_err());
    emulator.expire_window(CANARY);
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let unreachable = Client::new(ClientOptions {
        base_url: format!("http://{closed}"),
        token: Some(SecretToken::from(CANARY)),
        max_retries: 0,
        ..ClientOptions::default()
    })
    .unwrap();
    errors.push(unreachable.user("octocat", &never).unwrap_err());
    debug(produced, "unreachable Client", &unreachable);
    for error in &errors {
        debug(produced, "Error", error);
        produced.add("Display of Error", error.to_string());
    }
    let kinds: Vec<String> = errors
        .iter()
        .map(|e| {
            format!("{e:?}")
                .split(['(', ' ', '{'])
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "NotFound",
            "InvalidArgument",
            "Auth",
            "Cancelled",
            "SecondaryLimited",
            "RateLimited",
            "Network"
        ]
    );

    // The store through the Rust API.
    let dir = std::env::temp_dir().join(format!("gitfleet-secrets-rs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tokens.gfs");
    let _ = std::fs::remove_file(&path);
    let store = CredentialStore::create_with_key(&path, &[9u8; 32]).unwrap();
    store
        .save(Provider::GitHub, CANARY, Some("canary-user"), None)
        .unwrap();
    debug(produced, "CredentialStore", &store);
    let listed = store.list().unwrap();
    debug(produced, "CredentialInfo", &listed);
    produced.add(
        "CredentialInfo JSON",
        serde_json::to_string(&listed).unwrap(),
    );
    let credential = store.get(&fingerprint(CANARY)).unwrap().unwrap();
    debug(produced, "Credential", &credential);
    debug(produced, "KdfParams", &KdfParams::default());
    let wrong = CredentialStore::open_with_key(&path, &[1u8; 32]).unwrap_err();
    debug(produced, "a store error", &wrong);
    produced.add("Display of a store error", wrong.to_string());
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn debug(produced: &mut Produced, label: &str, value: &dyn std::fmt::Debug) {
    produced.add(format!("Debug of {label}"), format!("{value:?}"));
    produced.add(format!("pretty Debug of {label}"), format!("{value:#?}"));
}
