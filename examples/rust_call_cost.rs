//! The cost of one call from Rust, against an emulator that another
//! benchmark (the Go or C++ one) uses too, so the two can be set side by
//! side from one run.
//!
//! ```sh
//! target/debug/gitfleet-emulator --port 0 --token bench_token:4000000000 &  # prints URL
//! GITFLEET_BENCH_URL=URL cargo run --release --example rust_call_cost
//! ```

use std::time::{Duration, Instant};

use gitfleet::{CancelToken, Client, ClientOptions};

fn main() {
    let url = std::env::var("GITFLEET_BENCH_URL").expect("set GITFLEET_BENCH_URL");
    let token = std::env::var("GITFLEET_BENCH_TOKEN").unwrap_or_else(|_| "bench_token".into());
    let calls: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    let client = Client::new(ClientOptions {
        base_url: url,
        token: Some(token.into()),
        ..ClientOptions::default()
    })
    .expect("a client");
    let cancel = CancelToken::new();

    let rate_limit = per_call(calls, || {
        client.rate_limit(&cancel).expect("rate limit");
    });
    let page = per_call(calls, || {
        client
            .owner_repositories("octocat", &cancel)
            .expect("repositories");
    });
    println!(
        "Rust RateLimit                {:>9.0} ns/op",
        rate_limit.as_nanos()
    );
    println!(
        "Rust OwnerRepositories(8)     {:>9.0} ns/op",
        page.as_nanos()
    );
}

/// Mean time of one call over `calls` calls, after a warm-up.
fn per_call(calls: usize, mut call: impl FnMut()) -> Duration {
    for _ in 0..calls / 10 {
        call();
    }
    let start = Instant::now();
    for _ in 0..calls {
        call();
    }
    start.elapsed() / calls as u32
}
