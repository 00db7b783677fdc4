//! Soak: many threads call through the C ABI, blocking and async, against
//! the emulator (in this process) with faults switched on, for a set time.
//! Every second it samples this process's resident memory and thread count.
//!
//! It fails (exit status 1) when a call does not return, an async call gets
//! no callback or two, a successful answer is not whole (a list missing or
//! repeating a repository), an error message names a token, or, from the first
//! quarter of the run after the warm-up to the last (medians of the
//! samples), resident memory grows by more than `--max-rss-growth-mib`
//! (default 32) or the thread count by more than `--max-thread-growth`
//! (default 24). The figures include the emulator's own memory and threads
//! (one per open connection).
//!
//! Run: `cargo run --release --example soak -- --seconds 180`
//! (`make soak`; `make soak-short` runs 20 seconds in a debug build).
//! Options: `--seconds N` (default 180), `--threads N` (default 32),
//! `--max-rss-growth-mib N`, `--max-thread-growth N`.

use std::collections::BTreeMap;
use std::ffi::{c_char, c_void, CStr, CString};
use std::process::ExitCode;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

// The exported C functions live in the gitfleet rlib; this links it in.
extern crate gitfleet;

use gitfleet_emulator::{Config, Emulator, FaultRule, Faults, TokenSpec};

#[allow(non_camel_case_types)]
enum gf_client {}
#[allow(non_camel_case_types)]
enum gf_client_options {}
#[allow(non_camel_case_types)]
enum gf_token_manager {}
#[allow(non_camel_case_types)]
enum gf_request {}
#[allow(non_camel_case_types)]
enum gf_error {}

type Callback = unsafe extern "C" fn(*mut c_void, i32, *const c_char, *const gf_error);
type Blocking = unsafe extern "C" fn(
    *const gf_client,
    *const c_char,
    *mut *mut c_char,
    *mut *mut gf_error,
) -> i32;
type Async = unsafe extern "C" fn(
    *const gf_client,
    *const c_char,
    Option<Callback>,
    *mut c_void,
    *mut *mut gf_request,
    *mut *mut gf_error,
) -> i32;

extern "C" {
    fn gf_token_manager_new() -> *mut gf_token_manager;
    fn gf_token_manager_free(manager: *mut gf_token_manager);
    fn gf_token_manager_add_token(
        manager: *const gf_token_manager,
        provider: i32,
        secret: *const c_char,
        username: *const c_char,
        priority: i32,
        err: *mut *mut gf_error,
    ) -> i32;
    fn gf_client_options_new() -> *mut gf_client_options;
    fn gf_client_options_free(options: *mut gf_client_options);
    fn gf_client_options_set_base_url(
        options: *mut gf_client_options,
        url: *const c_char,
        err: *mut *mut gf_error,
    ) -> i32;
    fn gf_client_options_set_token_manager(
        options: *mut gf_client_options,
        manager: *const gf_token_manager,
        err: *mut *mut gf_error,
    ) -> i32;
    fn gf_client_options_set_timeout_ms(
        options: *mut gf_client_options,
        timeout_ms: u64,
        err: *mut *mut gf_error,
    ) -> i32;
    fn gf_client_options_set_connect_timeout_ms(
        options: *mut gf_client_options,
        timeout_ms: u64,
        err: *mut *mut gf_error,
    ) -> i32;
    fn gf_client_options_set_max_retries(
        options: *mut gf_client_options,
        max_retries: u32,
        err: *mut *mut gf_error,
    ) -> i32;
    fn gf_client_options_set_max_wait_ms(
        options: *mut gf_client_options,
        max_wait_ms: u64,
        err: *mut *mut gf_error,
    ) -> i32;
    fn gf_client_new(
        options: *const gf_client_options,
        out: *mut *mut gf_client,
        err: *mut *mut gf_error,
    ) -> i32;
    fn gf_client_free(client: *mut gf_client);
    fn gf_client_user(
        client: *const gf_client,
        login: *const c_char,
        out: *mut *mut c_char,
        err: *mut *mut gf_error,
    ) -> i32;
    fn gf_client_user_async(
        client: *const gf_client,
        login: *const c_char,
        callback: Option<Callback>,
        user_data: *mut c_void,
        out_request: *mut *mut gf_request,
        err: *mut *mut gf_error,
    ) -> i32;
    fn gf_client_owner_repositories(
        client: *const gf_client,
        owner: *const c_char,
        out: *mut *mut c_char,
        err: *mut *mut gf_error,
    ) -> i32;
    fn gf_client_owner_repositories_async(
        client: *const gf_client,
        owner: *const c_char,
        callback: Option<Callback>,
        user_data: *mut c_void,
        out_request: *mut *mut gf_request,
        err: *mut *mut gf_error,
    ) -> i32;
    fn gf_request_cancel(request: *const gf_request) -> i32;
    fn gf_request_free(request: *mut gf_request);
    fn gf_error_message(error: *const gf_error) -> *const c_char;
    fn gf_error_free(error: *mut gf_error);
    fn gf_string_free(s: *mut c_char);
    fn gf_status_name(status: i32) -> *const c_char;
}

const OK: i32 = 0;
const GF_PROVIDER_GITHUB: i32 = 0;

/// Longest a single call may take before the soak calls it hung. The worst
/// case allowed by the settings below (a few pages, each with 4 attempts of
/// up to three 1-second phases, backoff, a 3-second wait) is under a minute.
const CALL_DEADLINE: Duration = Duration::from_secs(120);

/// Tokens of the run: seven with a quota they will not spend, one that runs
/// dry every window, and one revoked.
const SECRETS: [&str; 9] = [
    "soak_token_1_0123456789",
    "soak_token_2_0123456789",
    "soak_token_3_0123456789",
    "soak_token_4_0123456789",
    "soak_token_5_0123456789",
    "soak_token_6_0123456789",
    "soak_token_7_0123456789",
    "soak_token_small_0123456789",
    "soak_token_revoked_0123456789",
];

/// The faults, mixed: every kind fires every so often, at prime periods so
/// they do not line up.
const FAULTS: &[&str] = &[
    "status-503,every=23",
    "cut-body,every=31",
    "truncated-json,every=37",
    "status-502,every=41",
    "garbage-ratelimit,every=43",
    "duplicate-ratelimit,every=47",
    "status-500,every=59",
    "cut-head,every=67",
    "drop,every=71",
    "malformed-json,every=89",
    "slow-1500,every=97",
    "stall-body-1500,every=113",
    "secondary-1,every=211",
    "echo-credentials,every=307",
    "link-loop-1,every=5,on=page=3",
];

/// Logins asked for: small lists, a 3-page list, and one that does not
/// exist; with how many repositories each has.
const LOGINS: [(&str, usize); 5] = [
    ("octocat", 8),
    ("torvalds", 7),
    ("kohsuke", 30),
    ("bigorg", 250),
    ("nobody-here", 0),
];

/// Whether a successful answer is whole: the user asked for, or every
/// repository of the owner exactly once.
fn answer_is_whole(asked: (usize, bool), json: &str) -> bool {
    let (login, count) = LOGINS[asked.0];
    let Ok(value) = serde_json::from_str::<serde_json::Value>(json) else {
        return false;
    };
    if !asked.1 {
        return value["login"].as_str() == Some(login);
    }
    let Some(repos) = value.as_array() else {
        return false;
    };
    let ids: std::collections::HashSet<u64> =
        repos.iter().filter_map(|r| r["id"].as_u64()).collect();
    repos.len() == count && ids.len() == count
}

struct Settings {
    seconds: u64,
    threads: usize,
    max_rss_growth_kib: u64,
    max_thread_growth: u64,
}

fn parse_args() -> Result<Settings, String> {
    let mut settings = Settings {
        seconds: 180,
        threads: 32,
        max_rss_growth_kib: 32 * 1024,
        max_thread_growth: 24,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut number = || -> Result<u64, String> {
            args.next()
                .and_then(|v| v.parse().ok())
                .ok_or(format!("{flag} needs a number"))
        };
        match flag.as_str() {
            "--seconds" => settings.seconds = number()?.max(4),
            "--threads" => settings.threads = number()?.clamp(1, 1024) as usize,
            "--max-rss-growth-mib" => settings.max_rss_growth_kib = number()? * 1024,
            "--max-thread-growth" => settings.max_thread_growth = number()?,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(settings)
}

/// Everything the workers count.
#[derive(Default)]
struct Tally {
    started: AtomicU64,
    finished: AtomicU64,
    async_accepted: AtomicU64,
    callbacks: AtomicU64,
    refused: AtomicU64,
    leaks: AtomicU64,
    broken: AtomicU64,
    statuses: Mutex<BTreeMap<String, u64>>,
}

impl Tally {
    fn record_answer(&self, asked: (usize, bool), json: *const c_char) {
        // SAFETY: a NUL-terminated answer, borrowed for this call.
        let json = (!json.is_null()).then(|| unsafe { CStr::from_ptr(json) }.to_string_lossy());
        if !json.is_some_and(|json| answer_is_whole(asked, &json)) {
            self.broken.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn record(&self, status: i32, message: Option<&str>) {
        if let Some(message) = message {
            if SECRETS.iter().any(|secret| message.contains(secret)) {
                self.leaks.fetch_add(1, Ordering::SeqCst);
            }
        }
        // SAFETY: gf_status_name returns a static string for any number.
        let name = unsafe { CStr::from_ptr(gf_status_name(status)) }
            .to_string_lossy()
            .into_owned();
        *self.statuses.lock().unwrap().entry(name).or_default() += 1;
    }
}

/// One worker's async slot: the callback's status lands here.
struct Slot {
    tally: Arc<Tally>,
    /// What the call in flight asked for: a login (index) and whether its list.
    asked: Mutex<(usize, bool)>,
    callbacks: AtomicU64,
    done: Mutex<Option<i32>>,
    woken: Condvar,
}

unsafe extern "C" fn on_done(
    data: *mut c_void,
    status: i32,
    json: *const c_char,
    error: *const gf_error,
) {
    // SAFETY: `data` is a Slot kept alive by main until after the last
    // callback could arrive.
    let slot = unsafe { &*(data as *const Slot) };
    let message = (!error.is_null()).then(|| {
        // SAFETY: the error is borrowed for the duration of the callback.
        unsafe { CStr::from_ptr(gf_error_message(error)) }
            .to_string_lossy()
            .into_owned()
    });
    slot.tally.record(status, message.as_deref());
    if status == OK {
        slot.tally.record_answer(*slot.asked.lock().unwrap(), json);
    }
    slot.callbacks.fetch_add(1, Ordering::SeqCst);
    slot.tally.callbacks.fetch_add(1, Ordering::SeqCst);
    *slot.done.lock().unwrap() = Some(status);
    slot.woken.notify_all();
}

/// A raw pointer that may cross threads: the handles are thread-safe.
#[derive(Clone, Copy)]
struct Shared<T>(*mut T);
// SAFETY: gf_client and gf_token_manager are documented as thread-safe.
unsafe impl<T> Send for Shared<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for Shared<T> {}

fn new_client(base_url: &str, pool: *const gf_token_manager) -> *mut gf_client {
    let url = CString::new(base_url).unwrap();
    let mut client = ptr::null_mut();
    // SAFETY: valid pointers, as the header asks; each setter checked.
    unsafe {
        let options = gf_client_options_new();
        let err = ptr::null_mut();
        for status in [
            gf_client_options_set_base_url(options, url.as_ptr(), err),
            gf_client_options_set_token_manager(options, pool, err),
            gf_client_options_set_timeout_ms(options, 1000, err),
            gf_client_options_set_connect_timeout_ms(options, 1000, err),
            gf_client_options_set_max_retries(options, 3, err),
            gf_client_options_set_max_wait_ms(options, 3000, err),
            gf_client_new(options, &mut client, err),
        ] {
            assert_eq!(status, OK, "client setup");
        }
        gf_client_options_free(options);
    }
    client
}

/// What one worker needs.
struct Worker {
    index: usize,
    client: Shared<gf_client>,
    pool: Shared<gf_token_manager>,
    base_url: String,
    tally: Arc<Tally>,
    slot: Arc<Slot>,
    stop: Arc<AtomicBool>,
    /// Milliseconds since `epoch` at which the current call started; 0 idle.
    busy_since: Arc<AtomicU64>,
    epoch: Instant,
}

impl Worker {
    fn run(self) -> Result<(), String> {
        let logins: Vec<CString> = LOGINS
            .iter()
            .map(|(login, _)| CString::new(*login).unwrap())
            .collect();
        let mut round = self.index;
        while !self.stop.load(Ordering::SeqCst) {
            round += 1;
            let which = round % logins.len();
            let login = &logins[which];
            // Now and then a client of its own, made and freed around one call.
            let own = round
                .is_multiple_of(500)
                .then(|| new_client(&self.base_url, self.pool.0));
            let client = own.unwrap_or(self.client.0);
            let lists = round.is_multiple_of(3);
            let since = self.epoch.elapsed().as_millis() as u64;
            self.busy_since.store(since.max(1), Ordering::SeqCst);
            self.tally.started.fetch_add(1, Ordering::SeqCst);
            let outcome = match round % 4 {
                0 | 1 => {
                    self.blocking(client, login, (which, lists));
                    Ok(())
                }
                kind => {
                    let cancel = kind == 3 && round % 8 == 3;
                    self.asynchronous(client, login, (which, lists), cancel)
                }
            };
            self.tally.finished.fetch_add(1, Ordering::SeqCst);
            self.busy_since.store(0, Ordering::SeqCst);
            if let Some(own) = own {
                // SAFETY: this worker's own client, freed once.
                unsafe { gf_client_free(own) };
            }
            outcome?;
        }
        Ok(())
    }

    fn blocking(&self, client: *mut gf_client, login: &CStr, asked: (usize, bool)) {
        let call: Blocking = if asked.1 {
            gf_client_owner_repositories
        } else {
            gf_client_user
        };
        let mut json = ptr::null_mut();
        let mut err = ptr::null_mut();
        // SAFETY: live client, NUL-terminated login, valid out-pointers.
        let status = unsafe { call(client, login.as_ptr(), &mut json, &mut err) };
        self.tally.record(status, message_of(err).as_deref());
        if status == OK {
            self.tally.record_answer(asked, json);
        }
        // SAFETY: each freed once; NULL is a no-op.
        unsafe {
            gf_string_free(json);
            gf_error_free(err);
        }
    }

    fn asynchronous(
        &self,
        client: *mut gf_client,
        login: &CStr,
        asked: (usize, bool),
        cancel: bool,
    ) -> Result<(), String> {
        let call: Async = if asked.1 {
            gf_client_owner_repositories_async
        } else {
            gf_client_user_async
        };
        *self.slot.done.lock().unwrap() = None;
        *self.slot.asked.lock().unwrap() = asked;
        let data = Arc::as_ptr(&self.slot) as *mut c_void;
        let mut request = ptr::null_mut();
        let mut err = ptr::null_mut();
        // SAFETY: live client; the slot outlives every callback (main keeps
        // it until the end).
        let status = unsafe {
            call(
                client,
                login.as_ptr(),
                Some(on_done),
                data,
                &mut request,
                &mut err,
            )
        };
        if status != OK {
            self.tally.refused.fetch_add(1, Ordering::SeqCst);
            self.tally.record(status, message_of(err).as_deref());
            // SAFETY: freed once.
            unsafe { gf_error_free(err) };
            return Ok(());
        }
        self.tally.async_accepted.fetch_add(1, Ordering::SeqCst);
        if cancel {
            // SAFETY: a live request handle.
            unsafe { gf_request_cancel(request) };
        }
        let done = self.slot.done.lock().unwrap();
        let (done, waited) = self
            .slot
            .woken
            .wait_timeout_while(done, CALL_DEADLINE, |done| done.is_none())
            .unwrap();
        drop(done);
        // SAFETY: freed once, after the callback (or the deadline).
        unsafe { gf_request_free(request) };
        if waited.timed_out() {
            return Err(format!(
                "worker {}: no callback within {CALL_DEADLINE:?}",
                self.index
            ));
        }
        Ok(())
    }
}

fn message_of(err: *mut gf_error) -> Option<String> {
    // SAFETY: a live error or NULL; the message is borrowed while it lives.
    (!err.is_null()).then(|| {
        unsafe { CStr::from_ptr(gf_error_message(err)) }
            .to_string_lossy()
            .into_owned()
    })
}

/// The median resident memory and thread count of some samples.
fn medians(samples: &[(Duration, u64, u64)]) -> (u64, u64) {
    let median = |mut values: Vec<u64>| {
        values.sort_unstable();
        values.get(values.len() / 2).copied().unwrap_or(0)
    };
    (
        median(samples.iter().map(|s| s.1).collect()),
        median(samples.iter().map(|s| s.2).collect()),
    )
}

/// Resident memory (KiB) and thread count of this process.
fn sample() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("Threads:"))
}

fn emulator() -> Emulator {
    let mut tokens: Vec<TokenSpec> = SECRETS[..7]
        .iter()
        .map(|s| TokenSpec::new(s, u32::MAX))
        .collect();
    tokens.push(TokenSpec::new(SECRETS[7], 50));
    tokens.push(TokenSpec::new(SECRETS[8], 0).revoked());
    let rules = FAULTS
        .iter()
        .map(|rule| rule.parse::<FaultRule>().expect("a valid fault rule"))
        .collect();
    Emulator::start(Config {
        tokens,
        window: Duration::from_secs(10),
        faults: Faults {
            rules,
            record_arrivals: false,
        },
        ..Config::default()
    })
    .expect("the emulator starts")
}

fn main() -> ExitCode {
    let settings = match parse_args() {
        Ok(settings) => settings,
        Err(why) => {
            eprintln!("soak: {why}");
            return ExitCode::from(2);
        }
    };
    let warmup = Duration::from_secs((settings.seconds / 6).clamp(2, 20));
    let run = Duration::from_secs(settings.seconds);
    println!(
        "soak: {} threads for {} s ({} s warm-up), {} fault rules",
        settings.threads,
        settings.seconds,
        warmup.as_secs(),
        FAULTS.len()
    );

    let emulator = emulator();
    let base_url = emulator.base_url();
    // SAFETY: the pool is freed last, after every client.
    let pool = unsafe { gf_token_manager_new() };
    for secret in SECRETS {
        let secret = CString::new(secret).unwrap();
        // SAFETY: live pool, NUL-terminated secret.
        let status = unsafe {
            gf_token_manager_add_token(
                pool,
                GF_PROVIDER_GITHUB,
                secret.as_ptr(),
                ptr::null(),
                0,
                ptr::null_mut(),
            )
        };
        assert_eq!(status, OK);
    }
    let client = new_client(&base_url, pool);

    let epoch = Instant::now();
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut slots = Vec::new();
    let mut busy = Vec::new();
    let mut workers = Vec::new();
    for index in 0..settings.threads {
        let slot = Arc::new(Slot {
            tally: Arc::clone(&tally),
            asked: Mutex::new((0, false)),
            callbacks: AtomicU64::new(0),
            done: Mutex::new(None),
            woken: Condvar::new(),
        });
        let busy_since = Arc::new(AtomicU64::new(0));
        slots.push(Arc::clone(&slot));
        busy.push(Arc::clone(&busy_since));
        let worker = Worker {
            index,
            client: Shared(client),
            pool: Shared(pool),
            base_url: base_url.clone(),
            tally: Arc::clone(&tally),
            slot,
            stop: Arc::clone(&stop),
            busy_since,
            epoch,
        };
        workers.push(thread::spawn(move || worker.run()));
    }

    // Sample every second; note any call that has been running too long.
    let mut samples: Vec<(Duration, u64, u64)> = Vec::new();
    let mut hung = Vec::new();
    while epoch.elapsed() < run {
        thread::sleep(Duration::from_secs(1));
        let (rss, threads) = sample();
        samples.push((epoch.elapsed(), rss, threads));
        let now = epoch.elapsed().as_millis() as u64;
        for (index, since) in busy.iter().enumerate() {
            let since = since.load(Ordering::SeqCst);
            if since > 0 && now.saturating_sub(since) > CALL_DEADLINE.as_millis() as u64 {
                hung.push(index);
            }
        }
        if !hung.is_empty() {
            break;
        }
    }

    // Stop, and let every call in flight end.
    stop.store(true, Ordering::SeqCst);
    let mut failures: Vec<String> = hung
        .iter()
        .map(|index| format!("worker {index}: a call ran past {CALL_DEADLINE:?}"))
        .collect();
    let drain_deadline = Instant::now() + CALL_DEADLINE;
    while workers.iter().any(|w| !w.is_finished()) && Instant::now() < drain_deadline {
        thread::sleep(Duration::from_millis(50));
    }
    if workers.iter().any(|w| !w.is_finished()) {
        failures.push("calls still running after the drain deadline".to_string());
    } else {
        for worker in workers {
            match worker.join() {
                Ok(Ok(())) => {}
                Ok(Err(why)) => failures.push(why),
                Err(_) => failures.push("a worker panicked".to_string()),
            }
        }
    }
    // A late second callback would land now.
    thread::sleep(Duration::from_millis(500));

    let started = tally.started.load(Ordering::SeqCst);
    let finished = tally.finished.load(Ordering::SeqCst);
    let accepted = tally.async_accepted.load(Ordering::SeqCst);
    let callbacks = tally.callbacks.load(Ordering::SeqCst);
    let leaks = tally.leaks.load(Ordering::SeqCst);
    if started != finished {
        failures.push(format!("{started} calls started, {finished} returned"));
    }
    if callbacks != accepted {
        failures.push(format!(
            "{accepted} async calls accepted, {callbacks} callbacks"
        ));
    }
    if leaks > 0 {
        failures.push(format!("{leaks} error messages named a token"));
    }
    let broken = tally.broken.load(Ordering::SeqCst);
    if broken > 0 {
        failures.push(format!(
            "{broken} successful answers were not whole (an item dropped or doubled)"
        ));
    }

    // Growth is judged on medians of the first and last quarters after the
    // warm-up, so one busy second does not decide it.
    let steady: Vec<(Duration, u64, u64)> = samples
        .iter()
        .copied()
        .filter(|(at, _, _)| *at >= warmup)
        .collect();
    let quarter = (steady.len() / 4).max(1);
    let early = medians(&steady[..quarter.min(steady.len())]);
    let late = medians(&steady[steady.len().saturating_sub(quarter)..]);
    let max_rss = steady.iter().map(|s| s.1).max().unwrap_or(0);
    let max_threads = steady.iter().map(|s| s.2).max().unwrap_or(0);
    let rss_growth = late.0.saturating_sub(early.0);
    let thread_growth = late.1.saturating_sub(early.1);
    if steady.len() < 4 {
        failures.push("too few samples after the warm-up: run longer".to_string());
    }
    if rss_growth > settings.max_rss_growth_kib {
        failures.push(format!(
            "resident memory grew by {} KiB (bound {} KiB)",
            rss_growth, settings.max_rss_growth_kib
        ));
    }
    if thread_growth > settings.max_thread_growth {
        failures.push(format!(
            "thread count grew by {thread_growth} (bound {})",
            settings.max_thread_growth
        ));
    }

    let elapsed = epoch.elapsed().as_secs_f64();
    println!(
        "calls: {started} started, {finished} returned ({:.0} per second); async: {accepted} \
         accepted, {callbacks} callbacks, {} refused at start",
        finished as f64 / elapsed,
        tally.refused.load(Ordering::SeqCst)
    );
    println!("outcomes by status:");
    for (name, count) in tally.statuses.lock().unwrap().iter() {
        println!("  {name:<32} {count}");
    }
    let stats = emulator.stats();
    println!(
        "emulator: {} requests received, {} faults injected",
        stats.received, stats.faults_injected
    );
    println!(
        "memory (VmRSS, KiB): {} first quarter after warm-up, {} last quarter (medians), \
         {} max; growth {} (bound {})",
        early.0, late.0, max_rss, rss_growth, settings.max_rss_growth_kib
    );
    println!(
        "threads: {} first quarter, {} last quarter (medians), {} max; growth {} (bound {})",
        early.1, late.1, max_threads, thread_growth, settings.max_thread_growth
    );
    let step = (steady.len() / 10).max(1);
    let trend: Vec<String> = steady
        .iter()
        .step_by(step)
        .map(|(at, rss, threads)| format!("{}s:{}MiB/{}t", at.as_secs(), rss / 1024, threads))
        .collect();
    println!("trend: {}", trend.join(" "));

    if failures.is_empty() {
        // SAFETY: every worker is done; the client, then the pool, freed once.
        unsafe {
            gf_client_free(client);
            gf_token_manager_free(pool);
        }
        drop(slots);
        emulator.stop();
    }

    if failures.is_empty() {
        println!("soak: ok");
        ExitCode::SUCCESS
    } else {
        for failure in &failures {
            eprintln!("soak: FAILED: {failure}");
        }
        ExitCode::FAILURE
    }
}
