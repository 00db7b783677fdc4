//! A panic inside the library, caught at the C boundary while a token is in
//! the pool, must leave no trace of the token: not in the error, not in a
//! log line, not in what the panic hook prints. Only from inside the crate
//! can a pool be given a clock that panics, hence this test lives here
//! (the rest of the secrets test is `tests/secrets.rs`).
//!
//! The scenario runs in a child process (this test binary again, on the
//! ignored test `panic_scenario`) so that its stderr, where Rust's panic
//! hook writes, can be read.

use std::ffi::{c_char, c_void, CStr, CString};
use std::process::Command;
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::client::{
    gf_client, gf_client_free, gf_client_new, gf_client_options_free, gf_client_options_new,
    gf_client_options_set_base_url, gf_client_options_set_token_manager, gf_client_user,
    gf_client_user_async,
};
use super::error::{gf_error, gf_error_free, gf_error_message};
use super::gf_status;
use super::lease::gf_lease_free;
use super::log::{gf_log_level, gf_log_set_callback};
use super::manager::{
    gf_token_manager, gf_token_manager_add_token, gf_token_manager_free, gf_token_manager_lease,
    gf_token_manager_snapshot_json,
};
use crate::pool::{Clock, SecretToken, SystemClock, TokenManager};

// Two literals, so that secret scanners do not take it for a leaked token.
const CANARY: &str = concat!("ghp_", "SECRETCANARYpanic4Rt7Yu1Io3Pa6Sd9Fg2Hj");
const CHILD: &str = "GITFLEET_PANIC_CHILD";

/// The token, each run of 8 characters after its prefix, and its hex form.
fn leaks(text: &str) -> bool {
    let hex: String = CANARY.bytes().map(|b| format!("{b:02x}")).collect();
    let body = &CANARY[4..];
    text.contains(CANARY)
        || text.contains(&hex)
        || (0..=body.len() - 8).any(|start| text.contains(&body[start..start + 8]))
}

#[test]
fn a_panic_caught_at_the_boundary_shows_no_token() {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "ffi::tests::panic_scenario",
            "--ignored",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .output()
        .expect("the test binary runs again");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert!(!leaks(&stdout), "the token is in the child's stdout");
    assert!(!leaks(&stderr), "the token is in the child's stderr");
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("panic scenario: internal=4, leaks=0"),
        "the scenario did not run in full:\n{stdout}"
    );
    // The panics really happened, and the hook printed them.
    assert_eq!(stderr.matches("the clock stopped").count(), 4, "{stderr}");
}

/// A clock that panics once when armed, naming the token it guards by its
/// `Debug` form (a fingerprint).
struct TrapClock {
    armed: AtomicBool,
    token: SecretToken,
}

impl Clock for TrapClock {
    fn now_ms(&self) -> u64 {
        if self.armed.swap(false, Ordering::SeqCst) {
            panic!("the clock stopped while {:?} was pooled", self.token);
        }
        SystemClock.now_ms()
    }
}

static LOG_LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());
static CALLBACK: Mutex<Option<(gf_status, String)>> = Mutex::new(None);

unsafe extern "C" fn on_log(_: *mut c_void, _: gf_log_level, message: *const c_char) {
    let line = CStr::from_ptr(message).to_string_lossy().into_owned();
    LOG_LINES.lock().unwrap().push(line);
}

unsafe extern "C" fn on_done(
    _: *mut c_void,
    status: gf_status,
    _: *const c_char,
    error: *const gf_error,
) {
    let message = CStr::from_ptr(gf_error_message(error))
        .to_string_lossy()
        .into_owned();
    *CALLBACK.lock().unwrap() = Some((status, message));
}

/// Takes an error's message and frees it.
unsafe fn message_of(error: *mut gf_error) -> String {
    let message = CStr::from_ptr(gf_error_message(error))
        .to_string_lossy()
        .into_owned();
    gf_error_free(error);
    message
}

#[test]
#[ignore = "run in a child process by a_panic_caught_at_the_boundary_shows_no_token"]
fn panic_scenario() {
    assert!(std::env::var(CHILD).is_ok(), "run by the test above");
    let internal = gf_status::GF_STATUS_INTERNAL;
    let trace = gf_log_level::GF_LOG_TRACE as i32;
    // SAFETY: every pointer below is valid as the header asks.
    unsafe {
        assert_eq!(
            gf_log_set_callback(Some(on_log), null_mut(), trace),
            gf_status::GF_STATUS_OK
        );
        let clock = Arc::new(TrapClock {
            armed: AtomicBool::new(false),
            token: SecretToken::from(CANARY),
        });
        let manager = Box::into_raw(Box::new(gf_token_manager {
            manager: TokenManager::with_clock(clock.clone()),
        }));
        let token = CString::new(CANARY).unwrap();
        let status = gf_token_manager_add_token(manager, 0, token.as_ptr(), null(), 0, null_mut());
        assert_eq!(status, gf_status::GF_STATUS_OK);
        let mut messages = Vec::new();

        clock.armed.store(true, Ordering::SeqCst);
        let (mut lease, mut error) = (null_mut(), null_mut());
        let status = gf_token_manager_lease(manager, 0, null(), &mut lease, &mut error);
        assert_eq!(status, internal);
        assert!(lease.is_null());
        messages.push(message_of(error));

        clock.armed.store(true, Ordering::SeqCst);
        let (mut json, mut error) = (null_mut(), null_mut());
        let status = gf_token_manager_snapshot_json(manager, &mut json, &mut error);
        assert_eq!(status, internal);
        messages.push(message_of(error));

        // The client's calls: nothing is sent, the lease panics first.
        let options = gf_client_options_new();
        let url = CString::new("http://127.0.0.1:9").unwrap();
        gf_client_options_set_base_url(options, url.as_ptr(), null_mut());
        gf_client_options_set_token_manager(options, manager, null_mut());
        let mut client: *mut gf_client = null_mut();
        assert_eq!(
            gf_client_new(options, &mut client, null_mut()),
            gf_status::GF_STATUS_OK
        );
        gf_client_options_free(options);
        let login = CString::new("octocat").unwrap();

        clock.armed.store(true, Ordering::SeqCst);
        let status = gf_client_user(client, login.as_ptr(), &mut json, &mut error);
        assert_eq!(status, internal);
        messages.push(message_of(error));

        clock.armed.store(true, Ordering::SeqCst);
        let status = gf_client_user_async(
            client,
            login.as_ptr(),
            Some(on_done),
            null_mut(),
            null_mut(),
            null_mut(),
        );
        assert_eq!(status, gf_status::GF_STATUS_OK);
        let deadline = Instant::now() + Duration::from_secs(10);
        let (status, message) = loop {
            if let Some(done) = CALLBACK.lock().unwrap().take() {
                break done;
            }
            assert!(Instant::now() < deadline, "the async callback never came");
            std::thread::sleep(Duration::from_millis(1));
        };
        assert_eq!(status, internal);
        messages.push(message);

        // The pool is still usable after the panics.
        let mut lease = null_mut();
        let status = gf_token_manager_lease(manager, 0, null(), &mut lease, null_mut());
        assert_eq!(status, gf_status::GF_STATUS_OK);
        gf_lease_free(lease);
        gf_client_free(client);
        gf_token_manager_free(manager);
        gf_log_set_callback(None, null_mut(), 0);

        for message in &messages {
            assert!(message.starts_with("internal error"), "{message}");
            assert!(message.contains("the clock stopped"), "{message}");
        }
        let lines = LOG_LINES.lock().unwrap();
        let leaked = messages
            .iter()
            .chain(lines.iter())
            .filter(|t| leaks(t))
            .count();
        println!(
            "panic scenario: internal={}, leaks={leaked}",
            messages.len()
        );
        assert_eq!(leaked, 0, "the token is in a message or a log line");
    }
}
