//! Measures what one call through the C ABI costs on top of a bare ureq
//! keep-alive loop doing the same request and the same decoding into the
//! same models, against the emulator on loopback, in one run.
//!
//! Run: `cargo run --release --example call_overhead [-- ROUNDS]` for wall
//! time, and for instructions (steady whatever the machine is doing):
//! `valgrind --tool=callgrind --callgrind-out-file=cg.out
//!  target/release/examples/call_overhead --fixed 200` then
//! `callgrind_annotate --inclusive=yes cg.out | grep -E '(bare|abi)_(small|page)'`.
//!
//! The two sides alternate call by call so that load on the shared machine
//! hits them alike; the figures are medians of the single-call times.

use std::ffi::{c_char, CStr, CString};
use std::ptr;
use std::time::{Duration, Instant};

use gitfleet::github::models::{RateLimit, Repository};
use gitfleet_emulator::{Config, Emulator, OwnerSpec, TokenSpec};

#[allow(non_camel_case_types)]
enum gf_client {}
#[allow(non_camel_case_types)]
enum gf_client_options {}
#[allow(non_camel_case_types)]
enum gf_error {}

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
    fn gf_client_rate_limit(
        client: *const gf_client,
        out: *mut *mut c_char,
        err: *mut *mut gf_error,
    ) -> i32;
    fn gf_client_owner_repositories(
        client: *const gf_client,
        owner: *const c_char,
        out: *mut *mut c_char,
        err: *mut *mut gf_error,
    ) -> i32;
    fn gf_string_free(s: *mut c_char);
}

const TOKEN: &str = "bench_token";
const CALLS_PER_ROUND: usize = 50;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let fixed = args.first().is_some_and(|a| a == "--fixed");
    let count: usize = args
        .get(usize::from(fixed))
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);

    let mut owners = Config::default_owners();
    owners.push(OwnerSpec {
        login: "hundred".into(),
        repos: 100,
        is_org: false,
    });
    let emulator = Emulator::start(Config {
        tokens: vec![TokenSpec::new(TOKEN, u32::MAX)],
        owners,
        ..Config::default()
    })
    .expect("the emulator starts");
    let base = emulator.base_url();
    let agent = bare_agent();
    let client = CClient::new(&base);

    if fixed {
        // For callgrind: `count` calls of each, in functions of their own.
        for _ in 0..count {
            bare_small(&agent, &base);
            abi_small(&client);
            bare_page(&agent, &base);
            abi_page(&client);
        }
        return;
    }

    let samples = count * CALLS_PER_ROUND;
    println!("gitfleet call overhead: {samples} calls per side, alternating");
    let small = compare(count, || bare_small(&agent, &base), || abi_small(&client));
    report("rate limit (small body)", small);
    let page = compare(count, || bare_page(&agent, &base), || abi_page(&client));
    report("100-repository page", page);
}

/// The same agent settings as the library's transport, so that the figures
/// compare the library's work and not two ureq configurations.
fn bare_agent() -> ureq::Agent {
    let timeout = Some(Duration::from_secs(30));
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .user_agent("gitfleet-bench")
        .timeout_connect(Some(Duration::from_secs(10)))
        .timeout_send_request(timeout)
        .timeout_recv_response(timeout)
        .timeout_recv_body(timeout)
        .build()
        .new_agent()
}

/// `GET /rate_limit` by hand: request, decode into the model, encode the
/// JSON the C caller would get.
#[inline(never)]
fn bare_small(agent: &ureq::Agent, base: &str) {
    let body = bare_get(agent, &format!("{base}/rate_limit"));
    let parsed: RateLimit = serde_json::from_slice(&body).expect("a rate limit");
    std::hint::black_box(serde_json::to_string(&parsed).unwrap());
}

/// The same through `gf_client_rate_limit`.
#[inline(never)]
fn abi_small(client: &CClient) {
    client.rate_limit();
}

/// One page of 100 repositories by hand, decoded and encoded likewise.
#[inline(never)]
fn bare_page(agent: &ureq::Agent, base: &str) {
    let body = bare_get(agent, &format!("{base}/users/hundred/repos?per_page=100"));
    let parsed: Vec<Repository> = serde_json::from_slice(&body).expect("repositories");
    assert_eq!(parsed.len(), 100);
    std::hint::black_box(serde_json::to_string(&parsed).unwrap());
}

/// The same through `gf_client_owner_repositories`.
#[inline(never)]
fn abi_page(client: &CClient) {
    client.owner_repositories("hundred");
}

/// The baseline: one GET on a keep-alive agent, body read in full.
fn bare_get(agent: &ureq::Agent, url: &str) -> Vec<u8> {
    let mut response = agent
        .get(url)
        .header("Authorization", format!("Bearer {TOKEN}"))
        .header("Accept", "application/vnd.github+json")
        .header("X-GitHub-Api-Version", "2022-11-28")
        .call()
        .expect("the emulator answers");
    assert_eq!(response.status().as_u16(), 200);
    response
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_vec()
        .unwrap()
}

/// Median per-call time of each side. Calls alternate one by one (which
/// side goes first alternates too), so that whatever the shared machine or
/// the scheduler does falls on both sides alike.
fn compare(rounds: usize, mut bare: impl FnMut(), mut abi: impl FnMut()) -> (Duration, Duration) {
    for _ in 0..CALLS_PER_ROUND {
        bare();
        abi();
    }
    let samples = rounds * CALLS_PER_ROUND;
    let mut bare_times = Vec::with_capacity(samples);
    let mut abi_times = Vec::with_capacity(samples);
    let time = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        f();
        start.elapsed()
    };
    for sample in 0..samples {
        if sample % 2 == 0 {
            bare_times.push(time(&mut bare));
            abi_times.push(time(&mut abi));
        } else {
            abi_times.push(time(&mut abi));
            bare_times.push(time(&mut bare));
        }
    }
    (median(bare_times), median(abi_times))
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn report(what: &str, (bare, abi): (Duration, Duration)) {
    let ratio = abi.as_secs_f64() / bare.as_secs_f64();
    println!(
        "{what:<26} bare ureq {:>8.1} us   C ABI {:>8.1} us   ratio {ratio:.3}",
        bare.as_secs_f64() * 1e6,
        abi.as_secs_f64() * 1e6
    );
}

/// A client made and called through the exported C functions.
struct CClient(*mut gf_client);

impl CClient {
    fn new(base: &str) -> CClient {
        let url = CString::new(base).unwrap();
        let token = CString::new(TOKEN).unwrap();
        let mut client = ptr::null_mut();
        // SAFETY: every pointer is valid for the calls, as the header asks.
        unsafe {
            let options = gf_client_options_new();
            assert_eq!(
                gf_client_options_set_base_url(options, url.as_ptr(), ptr::null_mut()),
                0
            );
            assert_eq!(
                gf_client_options_set_token(options, token.as_ptr(), ptr::null_mut()),
                0
            );
            assert_eq!(gf_client_new(options, &mut client, ptr::null_mut()), 0);
            gf_client_options_free(options);
        }
        CClient(client)
    }

    fn rate_limit(&self) {
        let mut json = ptr::null_mut();
        // SAFETY: as above.
        unsafe {
            assert_eq!(gf_client_rate_limit(self.0, &mut json, ptr::null_mut()), 0);
            std::hint::black_box(CStr::from_ptr(json));
            gf_string_free(json);
        }
    }

    fn owner_repositories(&self, owner: &str) {
        let owner = CString::new(owner).unwrap();
        let mut json = ptr::null_mut();
        // SAFETY: as above.
        unsafe {
            let status =
                gf_client_owner_repositories(self.0, owner.as_ptr(), &mut json, ptr::null_mut());
            assert_eq!(status, 0);
            std::hint::black_box(CStr::from_ptr(json));
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
