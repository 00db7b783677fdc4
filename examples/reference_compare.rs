//! gitfleet beside the reference it replaces (the Python GitFleet 0.2.8), on
//! the same emulator and the same workloads, in one run.
//!
//! The reference is driven by `tests/bench/reference/driver.py`, run with the
//! Python of a throwaway virtualenv; `tests/bench/reference/run.sh` builds
//! that virtualenv and then runs this program:
//!
//! ```sh
//! make bench-reference                        # or, by hand:
//! cargo run --release --example reference_compare -- \
//!     --python /path/to/venv/bin/python [--seconds 5] [--tokens 5] [--quota 40]
//! ```
//!
//! Workloads (each on a fresh emulator, so counts are per workload):
//! - sequential: one caller, back-to-back `GET /rate_limit`, then
//!   back-to-back listings of `bigorg` (250 repositories, 3 pages), for
//!   `--seconds` each;
//! - pooled: `--tokens` tokens of quota `--quota`, 16 concurrent callers
//!   listing `octocat` until the first rate-limit error. The emulator counts
//!   the requests that arrived on a token whose quota was already spent.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use gitfleet::{CancelToken, Client, ClientOptions, Error, Strategy};
use serde_json::Value;

// The pooled workload, shared with tests/bench/pooled_quota.rs.
#[path = "../tests/bench/pooled.rs"]
mod pooled;
use pooled::{describe, emulator, our_pooled, secrets, PooledRow, CALLERS};

struct Settings {
    python: PathBuf,
    driver: PathBuf,
    seconds: f64,
    tokens: usize,
    quota: u32,
}

fn main() {
    let settings = match parse_args() {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("reference_compare: {message}");
            eprintln!(
                "usage: reference_compare --python PATH [--driver PATH] [--seconds S] \
                 [--tokens N] [--quota Q]"
            );
            std::process::exit(2);
        }
    };

    println!(
        "## Sequential calls, one caller, {} s each\n",
        settings.seconds
    );
    println!("| workload | library | calls/s | items per call | errors |");
    println!("|---|---|---:|---:|---:|");
    for (label, call, owner) in [
        ("rate limit", "rate_limit", ""),
        ("list bigorg (250)", "repositories", "bigorg"),
    ] {
        for implementation in ["python", "rust"] {
            let row = reference_sequential(&settings, call, owner, implementation);
            let name = format!("reference 0.2.8 ({implementation} client)");
            row.print(label, &name);
        }
        our_sequential(&settings, call, owner).print(label, "gitfleet (Rust API)");
    }

    let (tokens, quota) = (settings.tokens, settings.quota);
    println!(
        "\n## Pooled quota: {tokens} tokens × {quota} requests, {CALLERS} callers \
         listing octocat until the first rate-limit error\n"
    );
    println!(
        "| library | successes | of N×Q | requests on spent tokens | per-token successes \
         (min–max) | calls/s | ended by |"
    );
    println!("|---|---:|---:|---:|---|---:|---|");
    reference_pooled(&settings).print(tokens * quota as usize, "reference 0.2.8");
    our_pooled(tokens, quota, Strategy::default())
        .print(tokens * quota as usize, "gitfleet (Rust API)");
}

fn parse_args() -> Result<Settings, String> {
    let mut settings = Settings {
        python: PathBuf::new(),
        driver: PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/bench/reference/driver.py"
        )),
        seconds: 5.0,
        tokens: 5,
        quota: 40,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--python" => settings.python = PathBuf::from(value()?),
            "--driver" => settings.driver = PathBuf::from(value()?),
            "--seconds" => settings.seconds = number(&flag, &value()?)?,
            "--tokens" => settings.tokens = number(&flag, &value()?)?,
            "--quota" => settings.quota = number(&flag, &value()?)?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if settings.python.as_os_str().is_empty() {
        return Err("--python is required".into());
    }
    if settings.tokens == 0 || settings.quota == 0 {
        return Err("--tokens and --quota must be positive".into());
    }
    Ok(settings)
}

fn number<T: std::str::FromStr>(flag: &str, text: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("{flag}: not a number: {text}"))
}

/// Runs the driver with the tokens on its standard input; its JSON answer.
fn run_driver(settings: &Settings, url: &str, secrets: &[String], args: &[&str]) -> Value {
    let mut child = Command::new(&settings.python)
        .arg(&settings.driver)
        .args(args)
        .args(["--url", url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", settings.python.display()));
    {
        let mut stdin = child.stdin.take().expect("a pipe");
        for secret in secrets {
            writeln!(stdin, "{secret}").expect("the driver reads its tokens");
        }
    }
    let output = child.wait_with_output().expect("the driver runs");
    assert!(output.status.success(), "the reference driver failed");
    serde_json::from_slice(&output.stdout).expect("the driver prints JSON")
}

struct SequentialRow {
    calls: u64,
    items: u64,
    errors: u64,
    elapsed: f64,
}

impl SequentialRow {
    fn print(&self, workload: &str, library: &str) {
        println!(
            "| {workload} | {library} | {:.1} | {:.0} | {} |",
            self.calls as f64 / self.elapsed,
            self.items as f64 / self.calls.max(1) as f64,
            self.errors
        );
    }
}

fn reference_sequential(
    settings: &Settings,
    call: &str,
    owner: &str,
    implementation: &str,
) -> SequentialRow {
    let secrets = secrets(1);
    let emulator = emulator(&secrets, u32::MAX);
    let seconds = settings.seconds.to_string();
    let mut args = vec!["sequential", "--call", call, "--impl", implementation];
    args.extend(["--seconds", &seconds]);
    if !owner.is_empty() {
        args.extend(["--owner", owner]);
    }
    let answer = run_driver(settings, &emulator.base_url(), &secrets, &args);
    SequentialRow {
        calls: answer["calls"].as_u64().unwrap_or(0),
        items: answer["items"].as_u64().unwrap_or(0),
        errors: answer["errors"].as_u64().unwrap_or(0),
        elapsed: answer["elapsed_s"].as_f64().unwrap_or(f64::NAN),
    }
}

fn our_sequential(settings: &Settings, call: &str, owner: &str) -> SequentialRow {
    let secrets = secrets(1);
    let emulator = emulator(&secrets, u32::MAX);
    let client = Client::new(ClientOptions {
        base_url: emulator.base_url(),
        token: Some(secrets[0].clone().into()),
        ..ClientOptions::default()
    })
    .expect("a client");
    let cancel = CancelToken::new();
    let one = || -> Result<u64, Error> {
        if call == "rate_limit" {
            client.rate_limit(&cancel).map(|_| 0)
        } else {
            client
                .owner_repositories(owner, &cancel)
                .map(|list| list.len() as u64)
        }
    };
    let _ = one(); // warm-up, as the driver does
    let (mut calls, mut items, mut errors) = (0, 0, 0);
    let started = Instant::now();
    while started.elapsed().as_secs_f64() < settings.seconds {
        match one() {
            Ok(count) => items += count,
            Err(_) => errors += 1,
        }
        calls += 1;
    }
    SequentialRow {
        calls,
        items,
        errors,
        elapsed: started.elapsed().as_secs_f64(),
    }
}

fn reference_pooled(settings: &Settings) -> PooledRow {
    let secrets = secrets(settings.tokens);
    let emulator = emulator(&secrets, settings.quota);
    let callers = CALLERS.to_string();
    let args = [
        "pooled",
        "--call",
        "repositories",
        "--owner",
        "octocat",
        "--callers",
        &callers,
    ];
    let answer = run_driver(settings, &emulator.base_url(), &secrets, &args);
    let errors: BTreeMap<String, u64> = answer["errors"]
        .as_object()
        .map(|kinds| {
            kinds
                .iter()
                .map(|(kind, n)| (kind.clone(), n.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default();
    PooledRow {
        successes: answer["successes"].as_u64().unwrap_or(0),
        ended_by: describe(&errors),
        elapsed: answer["elapsed_s"].as_f64().unwrap_or(f64::NAN),
        stats: emulator.stats(),
    }
}
