//! Resident memory of a token pool: bytes per token, from the process's
//! resident set size (`/proc/self/statm`, Linux) before and after filling a
//! pool with 40-character `ghp_` tokens, each leased and reported once on
//! `core` so that it has figures for one resource, as in use.
//!
//! ```sh
//! cargo bench -p gitfleet --bench pool_memory              # 100,000 tokens
//! cargo bench -p gitfleet --bench pool_memory -- 1000000   # another count
//! ```

#[path = "support/mod.rs"]
mod support;

use std::hint::black_box;

use gitfleet::classify::{ErrorBody, ResponseHead};
use gitfleet::{Provider, TokenManager};

/// A made-up classic personal access token: "ghp_" and 36 characters.
fn secret(index: usize) -> String {
    format!("ghp_{index:036}")
}

fn main() {
    let tokens: usize = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(100_000);
    let secrets: Vec<String> = (0..tokens).map(secret).collect();
    let head = ResponseHead {
        status: 200,
        limit: Some(5000),
        remaining: Some(4999),
        used: Some(1),
        reset_s: Some(4_000_000_000),
        resource: None,
        retry_after_s: None,
        date_s: Some(3_999_996_400),
    };

    let before = support::rss_bytes();
    let pool = TokenManager::new();
    for secret in &secrets {
        pool.add_token(Provider::GitHub, secret, None, 0)
            .expect("a valid token");
    }
    let added = support::rss_bytes();
    for _ in 0..tokens {
        let lease = pool.lease(Provider::GitHub, "core").expect("a token");
        lease.report(&head, &ErrorBody::default());
    }
    let used = support::rss_bytes();
    black_box(&pool);

    let per = |bytes: u64| bytes.saturating_sub(before) as f64 / tokens as f64;
    println!("| tokens | after adding | after one lease + report each |");
    println!("|---:|---:|---:|");
    println!(
        "| {tokens} | {:.0} B/token | {:.0} B/token |",
        per(added),
        per(used)
    );
}
