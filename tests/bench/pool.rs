//! Token selection: lease + report pairs per second through the public
//! `TokenManager` API, for each strategy, with 10, 1,000 and 100,000 tokens,
//! on 1, 2 and 8 threads sharing one pool.
//!
//! ```sh
//! cargo bench -p gitfleet --bench pool                 # criterion
//! cargo bench -p gitfleet --bench pool -- --table      # a Markdown table of pairs/s
//! cargo bench -p gitfleet --bench pool -- --table 3    # ... measuring 3 s per cell
//! ```
//!
//! Each pair leases a token for `core`, then reports a 200 whose
//! `x-ratelimit-remaining` counts the token's uses down from a large limit, as
//! a server would: under the rate-aware strategy every report moves the token
//! in the ranking, so the index does real work on every call.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use criterion::{BenchmarkId, Criterion, Throughput};
use gitfleet::classify::{ErrorBody, ResponseHead};
use gitfleet::{Provider, Strategy, TokenManager};

const STRATEGIES: [(&str, Strategy); 3] = [
    ("rate_aware", Strategy::RateAware),
    ("round_robin", Strategy::RoundRobin),
    ("priority", Strategy::Priority),
];
const POOL_SIZES: [usize; 3] = [10, 1_000, 100_000];
const THREADS: [usize; 3] = [1, 2, 8];

/// Large enough that no token runs out during a run.
const LIMIT: u64 = 1_000_000_000_000;

/// A pool and the server-side use count of each of its tokens.
struct Workload {
    pool: TokenManager,
    uses: Vec<AtomicU64>,
    date_s: u64,
    reset_s: u64,
}

/// A fake token of the length of a classic personal access token (40
/// bytes), whose last eight digits give its index.
fn secret(index: usize) -> String {
    format!("ghp_{}{index:08}", "x".repeat(28))
}

fn index_of(secret: &str) -> usize {
    secret.as_bytes()[secret.len() - 8..]
        .iter()
        .fold(0, |n, digit| n * 10 + usize::from(digit - b'0'))
}

impl Workload {
    fn new(tokens: usize, strategy: Strategy) -> Workload {
        let pool = TokenManager::new();
        pool.set_strategy(strategy);
        for index in 0..tokens {
            // Four priority levels, so the priority strategy has a choice to make.
            let priority = (index % 4) as i32;
            pool.add_token(Provider::GitHub, &secret(index), None, priority)
                .expect("a valid token");
        }
        let date_s = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("a clock after 1970")
            .as_secs();
        Workload {
            pool,
            uses: (0..tokens).map(|_| AtomicU64::new(0)).collect(),
            date_s,
            reset_s: date_s + 3600,
        }
    }

    /// One lease and its report.
    fn pair(&self) {
        let lease = self
            .pool
            .lease(Provider::GitHub, "core")
            .expect("a token is free");
        let used = self.uses[index_of(lease.secret())].fetch_add(1, Ordering::Relaxed) + 1;
        let head = ResponseHead {
            status: 200,
            limit: Some(LIMIT),
            remaining: Some(LIMIT - used),
            used: Some(used),
            reset_s: Some(self.reset_s),
            resource: None,
            retry_after_s: None,
            date_s: Some(self.date_s),
        };
        black_box(lease.report(&head, &ErrorBody::default()));
    }

    /// Runs `pairs` pairs split over `threads` threads; the wall time from
    /// the common start to the last thread's end.
    fn run(&self, threads: usize, pairs: u64) -> Duration {
        let start = Barrier::new(threads + 1);
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads as u64)
                .map(|t| {
                    let share = pairs / threads as u64 + u64::from(t < pairs % threads as u64);
                    let start = &start;
                    scope.spawn(move || {
                        start.wait();
                        for _ in 0..share {
                            self.pair();
                        }
                    })
                })
                .collect();
            start.wait();
            let began = Instant::now();
            for worker in workers {
                worker.join().expect("a bench thread");
            }
            began.elapsed()
        })
    }

    /// Pairs per second over about `span`, on `threads` threads.
    fn rate(&self, threads: usize, span: Duration) -> f64 {
        let stop = AtomicBool::new(false);
        let done = AtomicU64::new(0);
        let start = Barrier::new(threads + 1);
        let elapsed = std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    start.wait();
                    let mut mine = 0;
                    while !stop.load(Ordering::Relaxed) {
                        for _ in 0..256 {
                            self.pair();
                        }
                        mine += 256;
                    }
                    done.fetch_add(mine, Ordering::Relaxed);
                });
            }
            start.wait();
            let began = Instant::now();
            std::thread::sleep(span);
            stop.store(true, Ordering::Relaxed);
            began
        })
        .elapsed();
        done.load(Ordering::Relaxed) as f64 / elapsed.as_secs_f64()
    }
}

fn criterion_benches(c: &mut Criterion) {
    for (name, strategy) in STRATEGIES {
        let mut group = c.benchmark_group(format!("pool/{name}"));
        group.throughput(Throughput::Elements(1));
        group.warm_up_time(Duration::from_millis(500));
        group.measurement_time(Duration::from_secs(2));
        group.sample_size(20);
        for tokens in POOL_SIZES {
            let workload = Arc::new(Workload::new(tokens, strategy));
            for threads in THREADS {
                let id = BenchmarkId::new(format!("{tokens}_tokens"), format!("{threads}_threads"));
                group.bench_with_input(id, &threads, |b, &threads| {
                    b.iter_custom(|pairs| workload.run(threads, pairs))
                });
            }
        }
        group.finish();
    }
}

/// Prints one Markdown row per strategy and pool size: pairs per second on
/// each thread count, and the 8-thread total against the 1-thread one.
fn table(seconds: f64) {
    let span = Duration::from_secs_f64(seconds);
    println!("| strategy | tokens | 1 thread | 2 threads | 8 threads | 8 / 1 |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, strategy) in STRATEGIES {
        for tokens in POOL_SIZES {
            let workload = Workload::new(tokens, strategy);
            workload.rate(1, span / 5);
            let rates: Vec<f64> = THREADS.iter().map(|&t| workload.rate(t, span)).collect();
            println!(
                "| {name} | {tokens} | {} | {} | {} | {:.2} |",
                millions(rates[0]),
                millions(rates[1]),
                millions(rates[2]),
                rates[2] / rates[0]
            );
        }
    }
}

fn millions(rate: f64) -> String {
    format!("{:.2} M/s", rate / 1e6)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--table") {
        let seconds = args.get(at + 1).and_then(|s| s.parse().ok()).unwrap_or(1.0);
        table(seconds);
        return;
    }
    let mut criterion = Criterion::default().configure_from_args();
    criterion_benches(&mut criterion);
    criterion.final_summary();
}
