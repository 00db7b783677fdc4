//! Times opening a credential store with the default Argon2id parameters,
//! which is almost all key derivation.
//!
//! Run: `cargo run --release --example store_kdf_cost [-- RUNS]`

use std::time::{Duration, Instant};

use gitfleet::store::{CredentialStore, KdfParams};

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(7);
    let dir = std::env::temp_dir().join(format!("gitfleet-kdf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let path = dir.join("cost.gfs");
    let params = KdfParams::default();
    CredentialStore::create(&path, b"a password", params).expect("the store is created");

    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            CredentialStore::open(&path, b"a password").expect("the store opens");
            start.elapsed()
        })
        .collect();
    times.sort();
    let _ = std::fs::remove_dir_all(&dir);

    println!(
        "Argon2id {} KiB, {} passes, {} lane(s): open takes {:.0} ms (median of {runs}; \
         fastest {:.0} ms, slowest {:.0} ms)",
        params.memory_kib,
        params.iterations,
        params.lanes,
        times[runs / 2].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[runs - 1].as_secs_f64() * 1e3,
    );
}
