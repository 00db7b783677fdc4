//! The pooled-quota workload, shared by `examples/reference_compare.rs`
//! (gitfleet beside the Python reference) and `tests/bench/pooled_quota.rs`
//! (gitfleet alone, per strategy and pool shape): N tokens of quota Q on a
//! fresh emulator, 16 concurrent callers listing `octocat` until the first
//! error. The emulator counts, per token, the successes and the requests
//! that arrived once the token's quota was already spent.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Instant;

use gitfleet::{CancelToken, Client, ClientOptions, Error, Provider, Strategy, TokenManager};
use gitfleet_emulator::{Config, Emulator, Stats, TokenSpec};

/// Concurrent callers of the pooled workload.
pub const CALLERS: usize = 16;

/// `count` made-up tokens the emulator is told about.
pub fn secrets(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("bench_token_{i:03}")).collect()
}

/// An emulator knowing `secrets`, each with `quota` requests.
pub fn emulator(secrets: &[String], quota: u32) -> Emulator {
    Emulator::start(Config {
        tokens: secrets.iter().map(|s| TokenSpec::new(s, quota)).collect(),
        ..Config::default()
    })
    .expect("the emulator starts")
}

/// What one pooled run did, as the caller and the emulator saw it.
pub struct PooledRow {
    pub successes: u64,
    pub ended_by: String,
    pub elapsed: f64,
    pub stats: Stats,
}

impl PooledRow {
    /// Requests that reached the emulator on a token already spent.
    pub fn on_spent(&self) -> u64 {
        self.stats.per_token.values().map(|t| t.on_spent).sum()
    }

    /// The fewest and the most successes of one token.
    pub fn spread(&self) -> (u64, u64) {
        let per_token = self.stats.per_token.values().map(|t| t.successes);
        let min = per_token.clone().min().unwrap_or(0);
        (min, per_token.max().unwrap_or(0))
    }

    /// One Markdown row: `label` (one or more cells), then successes, their
    /// share of `pooled` (N×Q), requests on spent tokens, per-token
    /// successes, calls per second and what ended the run.
    pub fn print(&self, pooled: usize, label: &str) {
        let (min, max) = self.spread();
        println!(
            "| {label} | {} | {:.1} % | {} | {min}–{max} | {:.1} | {} |",
            self.successes,
            100.0 * self.successes as f64 / pooled as f64,
            self.on_spent(),
            self.successes as f64 / self.elapsed,
            self.ended_by
        );
    }
}

/// gitfleet's run: `tokens` tokens of `quota` in one pool under `strategy`,
/// one client shared by the callers.
pub fn our_pooled(tokens: usize, quota: u32, strategy: Strategy) -> PooledRow {
    let secrets = secrets(tokens);
    let emulator = emulator(&secrets, quota);
    let manager = TokenManager::new();
    manager.set_strategy(strategy);
    for secret in &secrets {
        manager
            .add_token(Provider::GitHub, secret, None, 0)
            .expect("a token");
    }
    let client = Arc::new(
        Client::new(ClientOptions {
            base_url: emulator.base_url(),
            manager: Some(manager),
            ..ClientOptions::default()
        })
        .expect("a client"),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let successes = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(Mutex::new(BTreeMap::<String, u64>::new()));
    let started = Instant::now();
    let callers: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (client, stop) = (client.clone(), stop.clone());
            let (successes, errors) = (successes.clone(), errors.clone());
            thread::spawn(move || {
                let cancel = CancelToken::new();
                while !stop.load(Ordering::SeqCst) {
                    match client.owner_repositories("octocat", &cancel) {
                        Ok(_) => {
                            successes.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(error) => {
                            let kind = error_kind(&error);
                            *errors.lock().unwrap().entry(kind).or_default() += 1;
                            stop.store(true, Ordering::SeqCst);
                        }
                    }
                }
            })
        })
        .collect();
    for caller in callers {
        caller.join().expect("a caller thread");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let errors = errors.lock().unwrap().clone();
    PooledRow {
        successes: successes.load(Ordering::SeqCst),
        ended_by: describe(&errors),
        elapsed,
        stats: emulator.stats(),
    }
}

/// The name of an error's kind, without its details.
fn error_kind(error: &Error) -> String {
    match error {
        Error::RateLimited { .. } => "RateLimited".into(),
        other => {
            let text = format!("{other:?}");
            text.split(['(', ' ', '{'])
                .next()
                .unwrap_or("error")
                .to_string()
        }
    }
}

/// "Kind ×count, ..." or "nothing".
pub fn describe(errors: &BTreeMap<String, u64>) -> String {
    if errors.is_empty() {
        return "nothing".into();
    }
    errors
        .iter()
        .map(|(kind, count)| format!("{kind} ×{count}"))
        .collect::<Vec<_>>()
        .join(", ")
}
