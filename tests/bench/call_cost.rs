//! What one call through the C ABI costs next to a bare ureq keep-alive
//! loop that sends the same request and does the same parsing into the same
//! models, against the emulator on loopback, in one run.
//!
//! Cases: a small body (`GET /rate_limit`) and a page of 100 repositories
//! (`GET /users/hundred/repos?per_page=100`), each
//! - blocking: one caller; C side `gf_client_rate_limit` /
//!   `gf_client_owner_repositories`; bare side the same request on one
//!   ureq agent, decoded into `RateLimit` / `Vec<Repository>` and encoded
//!   back to the JSON text the C caller gets;
//! - 16 and 256 in flight: C side the `_async` functions, each callback
//!   starting the next call so that N are always in flight (the library
//!   runs at most 64 at once and queues the rest); bare side N threads
//!   running the bare loop on one shared agent (N idle connections kept).
//!   Per-call time is wall time over calls.
//!
//! ```sh
//! make bench-build    # or: cargo build --release -p gitfleet -p gitfleet-emulator --bin gitfleet-emulator --example call_cost --example call_memory
//! target/release/examples/call_cost                 # wall time, medians, ratios
//! target/release/examples/call_cost --instructions  # instructions per call (callgrind)
//! ```
//!
//! Wall time: blocking calls alternate one by one between the sides and the
//! figure is the median; in-flight cases alternate batches and take the
//! median batch. Instructions: each case runs under callgrind twice, with K
//! and 2K calls after the same warm-up; the difference over K is the cost
//! of one call in every thread of the client process, steady whatever else
//! the machine does. The emulator runs as a child process (the release
//! build beside this program, or `$GITFLEET_EMULATOR_BIN`), out of both
//! figures.

#[path = "support/mod.rs"]
mod support;

use std::ffi::CString;
use std::process::Command;
use std::sync::{Arc, Barrier, Mutex, RwLock};
use std::time::{Duration, Instant};

use gitfleet::github::models::{RateLimit, Repository};
use support::{Body, CClient, EmulatorProcess, Flight, PAGE_OWNER, TOKEN};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Blocking,
    InFlight(usize),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Side {
    Bare,
    Abi,
}

const BODIES: [Body; 2] = [Body::Small, Body::Page];
const MODES: [Mode; 3] = [Mode::Blocking, Mode::InFlight(16), Mode::InFlight(256)];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("--rounds") => {
            let rounds = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(7);
            wall_time(rounds);
        }
        Some("--instructions") => instructions(args.get(1).map(String::as_str)),
        Some("--run") if args.len() == 6 => {
            let (body, mode, side) = parse_case(&args[1], &args[2], &args[3]);
            let warm_up = args[4].parse().expect("warm-up calls");
            let calls = args[5].parse().expect("calls");
            run_only(body, mode, side, warm_up, calls);
        }
        _ => {
            eprintln!(
                "usage: call_cost [--rounds N] | --instructions [small|page] \
                 | --run BODY MODE SIDE WARMUP CALLS"
            );
            std::process::exit(2);
        }
    }
}

// ---- one side of one case ------------------------------------------------

/// Everything both sides need, made once.
struct Bench {
    base: String,
    /// The bare side's agent for blocking calls.
    agent: ureq::Agent,
    client: CClient,
    owner: CString,
    /// Bare agents, one per in-flight level, made with enough idle slots.
    crews: Mutex<Vec<(usize, Arc<Crew>)>>,
    flights: Mutex<Vec<(Body, &'static Flight)>>,
}

impl Bench {
    fn new(base: String) -> Bench {
        let client = CClient::new(&base);
        Bench {
            base,
            agent: bare_agent(1),
            client,
            owner: CString::new(PAGE_OWNER).unwrap(),
            crews: Mutex::new(Vec::new()),
            flights: Mutex::new(Vec::new()),
        }
    }

    /// Makes `calls` calls of `body` in `mode` on `side`; the elapsed time.
    fn run(&self, body: Body, mode: Mode, side: Side, calls: usize) -> Duration {
        let start = Instant::now();
        match (mode, side) {
            (Mode::Blocking, Side::Bare) => {
                for _ in 0..calls {
                    bare_call(&self.agent, &self.base, body);
                }
            }
            (Mode::Blocking, Side::Abi) => {
                for _ in 0..calls {
                    self.abi_call(body);
                }
            }
            (Mode::InFlight(n), Side::Bare) => self.crew(n).run(body, calls),
            (Mode::InFlight(n), Side::Abi) => self.flight(body).run(n, calls),
        }
        start.elapsed()
    }

    fn abi_call(&self, body: Body) {
        match body {
            Body::Small => self.client.rate_limit(),
            Body::Page => self.client.owner_repositories(&self.owner),
        }
    }

    /// The bare threads for `n` in flight, started on first use.
    fn crew(&self, n: usize) -> Arc<Crew> {
        let mut crews = self.crews.lock().unwrap();
        if let Some((_, crew)) = crews.iter().find(|(size, _)| *size == n) {
            return Arc::clone(crew);
        }
        let crew = Crew::start(n, &self.base);
        crews.push((n, Arc::clone(&crew)));
        crew
    }

    /// The async driver for `body`; it lives as long as the program, so a
    /// callback finishing late can never touch freed memory.
    fn flight(&self, body: Body) -> &'static Flight {
        let mut flights = self.flights.lock().unwrap();
        if let Some((_, flight)) = flights.iter().find(|(b, _)| *b == body) {
            return flight;
        }
        let flight = Flight::leak(&self.client, body);
        flights.push((body, flight));
        flight
    }
}

/// The same agent settings as the library's transport (timeouts, user
/// agent, status codes as answers), with room for `idle` kept connections.
fn bare_agent(idle: usize) -> ureq::Agent {
    let timeout = Some(Duration::from_secs(30));
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .user_agent("gitfleet-bench")
        .timeout_connect(Some(Duration::from_secs(10)))
        .timeout_send_request(timeout)
        .timeout_recv_response(timeout)
        .timeout_recv_body(timeout)
        .max_idle_connections(idle.max(3))
        .max_idle_connections_per_host(idle.max(3))
        .build()
        .new_agent()
}

/// One bare call: the request, the body read in full, decoded into the
/// model and encoded to the JSON text the C caller would get.
#[inline(never)]
fn bare_call(agent: &ureq::Agent, base: &str, body: Body) {
    match body {
        Body::Small => {
            let bytes = bare_get(agent, &format!("{base}/rate_limit"));
            let parsed: RateLimit = serde_json::from_slice(&bytes).expect("a rate limit");
            std::hint::black_box(serde_json::to_string(&parsed).unwrap());
        }
        Body::Page => {
            let url = format!("{base}/users/{PAGE_OWNER}/repos?per_page=100");
            let bytes = bare_get(agent, &url);
            let parsed: Vec<Repository> = serde_json::from_slice(&bytes).expect("repositories");
            assert_eq!(parsed.len(), 100);
            std::hint::black_box(serde_json::to_string(&parsed).unwrap());
        }
    }
}

/// One GET on a keep-alive agent with the headers the library sends.
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

// ---- the bare side with N in flight: N threads ---------------------------

/// N threads that run the bare loop on one shared agent, batch by batch.
struct Crew {
    size: usize,
    start: Barrier,
    end: Barrier,
    /// The batch: its body and how many calls in all.
    batch: RwLock<(Body, usize)>,
}

impl Crew {
    fn start(size: usize, base: &str) -> Arc<Crew> {
        let crew = Arc::new(Crew {
            size,
            start: Barrier::new(size + 1),
            end: Barrier::new(size + 1),
            batch: RwLock::new((Body::Small, 0)),
        });
        let agent = bare_agent(size);
        for index in 0..size {
            let crew = Arc::clone(&crew);
            let agent = agent.clone();
            let base = base.to_string();
            // The threads live as long as the program.
            std::thread::spawn(move || loop {
                crew.start.wait();
                let (body, calls) = *crew.batch.read().unwrap();
                // An even share: thread i makes one more when it does not divide.
                let share = calls / crew.size + usize::from(index < calls % crew.size);
                for _ in 0..share {
                    bare_call(&agent, &base, body);
                }
                crew.end.wait();
            });
        }
        crew
    }

    fn run(&self, body: Body, calls: usize) {
        *self.batch.write().unwrap() = (body, calls);
        self.start.wait();
        self.end.wait();
    }
}

// ---- wall time -----------------------------------------------------------

fn wall_time(rounds: usize) {
    let emulator = EmulatorProcess::start(&[]);
    let bench = Bench::new(emulator.url.clone());
    println!(
        "gitfleet call cost: C ABI vs bare ureq, wall time per call, {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "{:<8} {:<15} {:>12} {:>12} {:>7}  target",
        "body", "mode", "bare (us)", "C ABI (us)", "ratio"
    );
    for body in BODIES {
        for mode in MODES {
            let (bare, abi) = match mode {
                Mode::Blocking => alternate_calls(&bench, body, rounds),
                Mode::InFlight(n) => alternate_batches(&bench, body, n, rounds),
            };
            print_row(body, mode, bare * 1e6, abi * 1e6, "");
        }
    }
}

/// Blocking: single calls, the sides alternating (and which goes first),
/// median of each side.
fn alternate_calls(bench: &Bench, body: Body, rounds: usize) -> (f64, f64) {
    let samples = rounds * if body == Body::Small { 200 } else { 20 };
    let time = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        f();
        start.elapsed().as_secs_f64()
    };
    let mut bare = || bare_call(&bench.agent, &bench.base, body);
    let mut abi = || bench.abi_call(body);
    for _ in 0..samples / 10 + 5 {
        bare();
        abi();
    }
    let (mut bare_times, mut abi_times) = (Vec::new(), Vec::new());
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

/// N in flight: batches of calls, the sides alternating batch by batch;
/// per-call time of the median batch.
fn alternate_batches(bench: &Bench, body: Body, n: usize, rounds: usize) -> (f64, f64) {
    let calls = match body {
        Body::Small => 20 * n.max(100),
        Body::Page => 2 * n.max(100),
    };
    let mode = Mode::InFlight(n);
    bench.run(body, mode, Side::Bare, n.max(calls / 4));
    bench.run(body, mode, Side::Abi, n.max(calls / 4));
    let (mut bare, mut abi) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let order = if round % 2 == 0 {
            [Side::Bare, Side::Abi]
        } else {
            [Side::Abi, Side::Bare]
        };
        for side in order {
            let per_call = bench.run(body, mode, side, calls).as_secs_f64() / calls as f64;
            match side {
                Side::Bare => bare.push(per_call),
                Side::Abi => abi.push(per_call),
            }
        }
    }
    (median(bare), median(abi))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn print_row(body: Body, mode: Mode, bare: f64, abi: f64, unit: &str) {
    let target = match body {
        Body::Small => 1.10,
        Body::Page => 1.25,
    };
    let ratio = abi / bare;
    let verdict = if ratio <= target { "met" } else { "NOT met" };
    let mode = match mode {
        Mode::Blocking => "blocking".to_string(),
        Mode::InFlight(n) => format!("{n} in flight"),
    };
    let body = match body {
        Body::Small => "small",
        Body::Page => "page",
    };
    println!(
        "{body:<8} {mode:<15} {bare:>12.1}{unit} {abi:>12.1}{unit} {ratio:>7.3}  <= {target:.2} {verdict}"
    );
}

// ---- instructions (callgrind) --------------------------------------------

/// Runs every case (or those of one body) under callgrind and prints the
/// instructions per call of each side.
fn instructions(only: Option<&str>) {
    let emulator = EmulatorProcess::start(&[]);
    let exe = std::env::current_exe().expect("this program's path");
    println!("gitfleet call cost: C ABI vs bare ureq, instructions per call (callgrind)");
    println!(
        "{:<8} {:<15} {:>12} {:>12} {:>7}  target",
        "body", "mode", "bare (kI)", "C ABI (kI)", "ratio"
    );
    for body in BODIES {
        let name = body_name(body);
        if only.is_some_and(|o| o != name) {
            continue;
        }
        for mode in MODES {
            // Enough calls that a connection more or less opened by the
            // scheduler's whim (ureq zeroes 256 KiB for each) stays noise.
            let calls = match body {
                Body::Small => 1000,
                Body::Page => 32,
            };
            let warm_up = match mode {
                Mode::Blocking => 4,
                Mode::InFlight(n) => 4 * n,
            };
            let per_call = |side| {
                let count = |k| callgrind_total(&exe, &emulator.url, body, mode, side, warm_up, k);
                let (once, twice) = (count(calls), count(2 * calls));
                twice.saturating_sub(once) as f64 / calls as f64
            };
            let (bare, abi) = (per_call(Side::Bare), per_call(Side::Abi));
            print_row(body, mode, bare / 1e3, abi / 1e3, "k");
        }
    }
}

/// Instructions of a whole `--run` under callgrind.
fn callgrind_total(
    exe: &std::path::Path,
    url: &str,
    body: Body,
    mode: Mode,
    side: Side,
    warm_up: usize,
    calls: usize,
) -> u64 {
    let mode = match mode {
        Mode::Blocking => "blocking".to_string(),
        Mode::InFlight(n) => n.to_string(),
    };
    let side = match side {
        Side::Bare => "bare",
        Side::Abi => "abi",
    };
    let output = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(exe)
        .args(["--run", body_name(body), &mode, side])
        .args([warm_up.to_string(), calls.to_string()])
        .env("GITFLEET_BENCH_URL", url)
        .output()
        .expect("valgrind runs (apt-get install valgrind)");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the run under callgrind failed:\n{stderr}"
    );
    stderr
        .lines()
        .find_map(|line| line.split("Collected : ").nth(1))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no instruction count in callgrind's output:\n{stderr}"))
}

fn body_name(body: Body) -> &'static str {
    match body {
        Body::Small => "small",
        Body::Page => "page",
    }
}

fn parse_case(body: &str, mode: &str, side: &str) -> (Body, Mode, Side) {
    let body = match body {
        "small" => Body::Small,
        "page" => Body::Page,
        other => panic!("unknown body {other}"),
    };
    let mode = match mode {
        "blocking" => Mode::Blocking,
        n => Mode::InFlight(n.parse().expect("blocking or a number in flight")),
    };
    let side = match side {
        "bare" => Side::Bare,
        "abi" => Side::Abi,
        other => panic!("unknown side {other}"),
    };
    (body, mode, side)
}

/// One case alone, for callgrind: a warm-up, then the calls.
fn run_only(body: Body, mode: Mode, side: Side, warm_up: usize, calls: usize) {
    let (url, _emulator) = support::emulator_url(&[]);
    let bench = Bench::new(url);
    bench.run(body, mode, side, warm_up);
    bench.run(body, mode, side, calls);
}
