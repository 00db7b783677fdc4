//! The client's string inputs through the C ABI: options (base URL, user
//! agent, default token, timeouts) and the arguments of every call (login,
//! owner, repository name, a token to validate), blocking and async.
//!
//! Calls go only to a small HTTP server of this process on 127.0.0.1 that
//! records each request head and answers 404: a fuzzed base URL is given
//! to gf_client_new but never called, so no traffic leaves the machine.
//! Checks: the common ones (no caught panic, an error exactly on failure,
//! no secret in any message); a base URL is accepted only when it is an
//! http(s) URL; a call's path is exactly the expected one, each argument
//! one percent-encoded segment that decodes back to it, and a refused
//! argument sends nothing; the request carries the configured user agent
//! and only the expected headers (no header injection), and the token
//! only in `Authorization`; an async call calls back exactly once.

#![no_main]

mod common;

use std::ffi::{c_char, c_void, CStr, CString};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::ptr;
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use arbitrary::Arbitrary;
use common::{c_string, check, secret, take_string, unmarked, MARK};
use gitfleet::fuzzing::*;
use libfuzzer_sys::fuzz_target;

// ---- the recording server ------------------------------------------------

/// One request head as received: the request line and the header lines.
#[derive(Debug, Clone)]
struct Seen {
    line: String,
    headers: Vec<(String, String)>,
}

struct Server {
    url: String,
    seen: Mutex<Vec<Seen>>,
}

const ANSWER_BODY: &str = r#"{"message":"Not Found"}"#;

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        std::thread::spawn(move || serve(listener));
        Server {
            url,
            seen: Mutex::new(Vec::new()),
        }
    })
}

/// Answers every connection with one 404 and closes it. Runs as long as
/// the fuzzing process.
fn serve(listener: TcpListener) {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let mut reader = BufReader::new(&stream);
        let mut line = String::new();
        if reader.read_line(&mut line).is_err() {
            continue;
        }
        let mut headers = Vec::new();
        loop {
            let mut header = String::new();
            match reader.read_line(&mut header) {
                Ok(0) | Err(_) => break,
                Ok(_) if header == "\r\n" => break,
                Ok(_) => {
                    let header = header.trim_end_matches(['\r', '\n']);
                    let (name, value) = header.split_once(':').unwrap_or((header, ""));
                    headers.push((name.to_ascii_lowercase(), ows_trimmed(value).to_string()));
                }
            }
        }
        server().seen.lock().unwrap().push(Seen {
            line: line.trim_end().to_string(),
            headers,
        });
        let answer = format!(
            "HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n{ANSWER_BODY}",
            ANSWER_BODY.len()
        );
        let _ = (&stream).write_all(answer.as_bytes());
    }
}

/// A header value without the optional white space (SP, HTAB) around it,
/// which HTTP says is not part of the value.
fn ows_trimmed(value: &str) -> &str {
    value.trim_matches([' ', '\t'])
}

fn take_seen() -> Vec<Seen> {
    std::mem::take(&mut *server().seen.lock().unwrap())
}

// ---- the input -----------------------------------------------------------

#[derive(Arbitrary, Debug)]
struct Input {
    /// Tried on throw-away options: never called.
    base_url: Vec<u8>,
    user_agent: Option<Vec<u8>>,
    token: Option<Vec<u8>>,
    timeout_ms: u64,
    calls: Vec<(Call, bool)>,
}

#[derive(Arbitrary, Debug)]
enum Call {
    RateLimit,
    AuthenticatedUser,
    User(Vec<u8>),
    OwnerRepositories(Vec<u8>),
    Repository(Vec<u8>, Vec<u8>),
    Contributors(Vec<u8>, Vec<u8>),
    Branches(Vec<u8>, Vec<u8>),
    ValidateToken(Vec<u8>),
}

// ---- checks --------------------------------------------------------------

/// The segment the client must send for `arg`, or None when it must refuse it.
fn segment_of(arg: &CStr) -> Option<String> {
    segment(arg.to_str().ok()?).ok()
}

fn expected_path(call: &Call, args: &[CString]) -> Option<String> {
    let seg = |i: usize| segment_of(&args[i]);
    Some(match call {
        Call::RateLimit => "/rate_limit".into(),
        Call::AuthenticatedUser | Call::ValidateToken(_) => "/user".into(),
        Call::User(_) => format!("/users/{}", seg(0)?),
        Call::OwnerRepositories(_) => format!("/users/{}/repos", seg(0)?),
        Call::Repository(..) => format!("/repos/{}/{}", seg(0)?, seg(1)?),
        Call::Contributors(..) => format!("/repos/{}/{}/contributors", seg(0)?, seg(1)?),
        Call::Branches(..) => format!("/repos/{}/{}/branches", seg(0)?, seg(1)?),
    })
}

const ALLOWED_HEADERS: &[&str] = &[
    "host",
    "user-agent",
    "accept",
    "accept-encoding",
    "x-github-api-version",
    "authorization",
];

fn check_request(seen: &Seen, path: &str, user_agent: &str, token: Option<&str>) {
    let target = seen.line.split(' ').nth(1).unwrap_or("");
    let target_path = target.split('?').next().unwrap_or("");
    assert_eq!(target_path, path, "{seen:?}");
    assert!(
        seen.line.starts_with("GET ") && seen.line.ends_with(" HTTP/1.1"),
        "{seen:?}"
    );
    for (name, value) in &seen.headers {
        assert!(
            ALLOWED_HEADERS.contains(&name.as_str()),
            "unexpected header: {seen:?}"
        );
        if name != "authorization" {
            assert!(
                !value.contains(MARK),
                "a token outside Authorization: {seen:?}"
            );
        }
    }
    let header = |name: &str| seen.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v);
    assert_eq!(
        header("user-agent").map(String::as_str),
        Some(ows_trimmed(user_agent)),
        "{seen:?}"
    );
    if let Some(token) = token {
        assert_eq!(
            header("authorization"),
            Some(&format!("Bearer {token}")),
            "{seen:?}"
        );
    }
}

// ---- calls ---------------------------------------------------------------

extern "C" fn on_done(
    user_data: *mut c_void,
    status: gf_status,
    json: *const c_char,
    error: *const gf_error,
) {
    // SAFETY: user_data is the boxed sender `run_async` gave this call,
    // owned by the callback from here (a second callback would be a double
    // free, which AddressSanitizer reports).
    let sender = unsafe { Box::from_raw(user_data as *mut mpsc::Sender<(gf_status, bool)>) };
    let consistent = if status == gf_status::GF_STATUS_OK {
        !json.is_null() && error.is_null()
    } else {
        json.is_null() && !error.is_null()
    };
    if !error.is_null() {
        // SAFETY: borrowed for the callback's duration.
        let message = unsafe { CStr::from_ptr(gf_error_message(error)) };
        assert!(!message.to_string_lossy().contains(MARK));
    }
    let _ = sender.send((status, consistent));
}

unsafe fn run_blocking(client: *const gf_client, call: &Call, args: &[CString]) -> gf_status {
    let mut json: *mut c_char = ptr::null_mut();
    let mut err: *mut gf_error = ptr::null_mut();
    let a = |i: usize| args[i].as_ptr();
    let status = match call {
        Call::RateLimit => gf_client_rate_limit(client, &mut json, &mut err),
        Call::AuthenticatedUser => gf_client_authenticated_user(client, &mut json, &mut err),
        Call::User(_) => gf_client_user(client, a(0), &mut json, &mut err),
        Call::OwnerRepositories(_) => {
            gf_client_owner_repositories(client, a(0), &mut json, &mut err)
        }
        Call::Repository(..) => gf_client_repository(client, a(0), a(1), &mut json, &mut err),
        Call::Contributors(..) => gf_client_contributors(client, a(0), a(1), &mut json, &mut err),
        Call::Branches(..) => gf_client_branches(client, a(0), a(1), &mut json, &mut err),
        Call::ValidateToken(_) => gf_client_validate_token(client, a(0), &mut json, &mut err),
    };
    if check(status, err, "client call") == gf_status::GF_STATUS_OK {
        take_string(json, "client result");
    }
    status
}

unsafe fn run_async(client: *const gf_client, call: &Call, args: &[CString]) -> gf_status {
    let (sender, receiver) = mpsc::channel::<(gf_status, bool)>();
    // The callback owns its sender: one on this stack could be dropped
    // while the callback is still inside `send`, after `recv` returned.
    let user_data = Box::into_raw(Box::new(sender)) as *mut c_void;
    let cb = Some(
        on_done as unsafe extern "C" fn(*mut c_void, gf_status, *const c_char, *const gf_error),
    );
    let mut err: *mut gf_error = ptr::null_mut();
    let mut request: *mut gf_request = ptr::null_mut();
    let a = |i: usize| args[i].as_ptr();
    let r = &mut request;
    let e = &mut err;
    let status = match call {
        Call::RateLimit => gf_client_rate_limit_async(client, cb, user_data, r, e),
        Call::AuthenticatedUser => gf_client_authenticated_user_async(client, cb, user_data, r, e),
        Call::User(_) => gf_client_user_async(client, a(0), cb, user_data, r, e),
        Call::OwnerRepositories(_) => {
            gf_client_owner_repositories_async(client, a(0), cb, user_data, r, e)
        }
        Call::Repository(..) => gf_client_repository_async(client, a(0), a(1), cb, user_data, r, e),
        Call::Contributors(..) => {
            gf_client_contributors_async(client, a(0), a(1), cb, user_data, r, e)
        }
        Call::Branches(..) => gf_client_branches_async(client, a(0), a(1), cb, user_data, r, e),
        Call::ValidateToken(_) => gf_client_validate_token_async(client, a(0), cb, user_data, r, e),
    };
    if check(status, err, "async call") != gf_status::GF_STATUS_OK {
        assert!(request.is_null());
        assert!(receiver.try_recv().is_err(), "a refused call called back");
        // Not accepted, so never called back: the sender is still ours.
        drop(Box::from_raw(
            user_data as *mut mpsc::Sender<(gf_status, bool)>,
        ));
        return status;
    }
    let (completed, consistent) = receiver
        .recv_timeout(Duration::from_secs(30))
        .expect("an accepted async call never called back");
    assert!(consistent, "callback arguments disagree with {completed:?}");
    assert!(gf_request_is_done(request));
    gf_request_free(request);
    std::thread::sleep(Duration::from_micros(200));
    assert!(receiver.try_recv().is_err(), "a second callback");
    completed
}

// ---- one input -------------------------------------------------------------

unsafe fn try_options(input: &Input) {
    let options = gf_client_options_new();
    let mut err: *mut gf_error = ptr::null_mut();
    let url = c_string(&unmarked(&input.base_url));
    let set = check(
        gf_client_options_set_base_url(options, url.as_ptr(), &mut err),
        err,
        "base_url",
    );
    // Refused (not UTF-8): the options keep their default base URL.
    assert_eq!(
        set == gf_status::GF_STATUS_OK,
        url.to_str().is_ok(),
        "{url:?}"
    );
    let mut client: *mut gf_client = ptr::null_mut();
    let mut err: *mut gf_error = ptr::null_mut();
    let status = gf_client_new(options, &mut client, &mut err);
    if set != gf_status::GF_STATUS_OK {
        assert_eq!(
            status,
            gf_status::GF_STATUS_OK,
            "the default base URL refused"
        );
        gf_client_free(client);
    } else if check(status, err, "client_new") == gf_status::GF_STATUS_OK {
        let text = url.to_string_lossy().trim().to_ascii_lowercase();
        assert!(
            text.starts_with("http://") || text.starts_with("https://"),
            "{url:?} accepted as a base URL"
        );
        gf_client_free(client);
    }
    gf_client_options_free(options);
}

unsafe fn run(input: &Input) {
    try_options(input);

    let options = gf_client_options_new();
    let mut err: *mut gf_error = ptr::null_mut();
    let url = CString::new(server().url.as_str()).expect("no NUL");
    check(
        gf_client_options_set_base_url(options, url.as_ptr(), &mut err),
        err,
        "base_url",
    );
    let mut err: *mut gf_error = ptr::null_mut();
    check(
        gf_client_options_set_max_retries(options, 0, &mut err),
        err,
        "max_retries",
    );
    let mut err: *mut gf_error = ptr::null_mut();
    let timeout = input.timeout_ms.clamp(1000, 30_000);
    check(
        gf_client_options_set_timeout_ms(options, timeout, &mut err),
        err,
        "timeout",
    );

    let mut user_agent = format!(
        "gitfleet/{}",
        CStr::from_ptr(gf_version()).to_str().unwrap()
    );
    if let Some(bytes) = &input.user_agent {
        let candidate = c_string(&unmarked(bytes));
        let mut err: *mut gf_error = ptr::null_mut();
        let status = gf_client_options_set_user_agent(options, candidate.as_ptr(), &mut err);
        if check(status, err, "user_agent") == gf_status::GF_STATUS_OK {
            user_agent = candidate.to_str().expect("accepted, so UTF-8").to_string();
        }
    }
    let mut default_token = None;
    if let Some(bytes) = &input.token {
        let token = secret(bytes);
        let mut err: *mut gf_error = ptr::null_mut();
        let status = gf_client_options_set_token(options, token.as_ptr(), &mut err);
        if check(status, err, "set_token") == gf_status::GF_STATUS_OK {
            default_token = Some(token.to_str().expect("accepted, so ASCII").to_string());
        }
    }
    let mut client: *mut gf_client = ptr::null_mut();
    let mut err: *mut gf_error = ptr::null_mut();
    let status = gf_client_new(options, &mut client, &mut err);
    gf_client_options_free(options);
    if check(status, err, "client_new") != gf_status::GF_STATUS_OK {
        // Only a user agent ureq cannot send is refused here.
        return;
    }

    take_seen();
    for (call, asynchronous) in input.calls.iter().take(8) {
        let args: Vec<CString> = match call {
            Call::User(a) | Call::OwnerRepositories(a) => vec![c_string(&unmarked(a))],
            Call::ValidateToken(t) => vec![secret(t)],
            Call::Repository(a, b) | Call::Contributors(a, b) | Call::Branches(a, b) => {
                vec![c_string(&unmarked(a)), c_string(&unmarked(b))]
            }
            Call::RateLimit | Call::AuthenticatedUser => Vec::new(),
        };
        let status = if *asynchronous {
            run_async(client, call, &args)
        } else {
            run_blocking(client, call, &args)
        };
        let seen = take_seen();
        let validated = match call {
            Call::ValidateToken(_) => args[0].to_str().ok().map(str::to_string),
            _ => None,
        };
        let valid_token = validated
            .as_deref()
            .is_some_and(|t| gitfleet::pool::check_secret(t).is_ok());
        let expected = expected_path(call, &args)
            .filter(|_| !matches!(call, Call::ValidateToken(_)) || valid_token);
        match expected {
            None => {
                assert_eq!(status, gf_status::GF_STATUS_INVALID_ARGUMENT, "{call:?}");
                assert!(seen.is_empty(), "a refused argument was sent: {seen:?}");
            }
            Some(path) => {
                // Without any token the client sends unauthenticated.
                let token = validated.as_deref().or(default_token.as_deref());
                if default_token.is_some() || matches!(call, Call::ValidateToken(_)) {
                    assert!(!seen.is_empty(), "{call:?} sent nothing: {status:?}");
                }
                for request in &seen {
                    check_request(request, &path, &user_agent, token);
                }
            }
        }
    }
    gf_client_free(client);
}

fuzz_target!(|input: Input| {
    // SAFETY: every pointer passed is valid for its call; handles are freed once.
    unsafe { run(&input) };
});
