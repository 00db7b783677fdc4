//! Pooled-quota use, per strategy and pool shape: N tokens of quota Q on the
//! emulator, 16 concurrent callers until the first error (see `pooled.rs`).
//! Prints a Markdown table: successes against N×Q, requests that reached the
//! emulator on a token already spent (counted by the emulator), and the
//! fewest and most successes of one token.
//!
//! ```sh
//! cargo bench -p gitfleet --bench pooled_quota               # 5x40 20x100 100x50
//! cargo bench -p gitfleet --bench pooled_quota -- 10x30 ...  # other shapes
//! ```

#[path = "pooled.rs"]
mod pooled;

use gitfleet::Strategy;

const STRATEGIES: [(&str, Strategy); 3] = [
    ("rate_aware", Strategy::RateAware),
    ("round_robin", Strategy::RoundRobin),
    ("priority", Strategy::Priority),
];

fn main() {
    // cargo bench passes `--bench`; anything shaped NxQ is a pool shape.
    let mut shapes: Vec<(usize, u32)> = std::env::args()
        .skip(1)
        .filter_map(|arg| {
            let (n, q) = arg.split_once('x')?;
            Some((n.parse().ok()?, q.parse().ok()?))
        })
        .collect();
    if shapes.is_empty() {
        shapes = vec![(5, 40), (20, 100), (100, 50)];
    }
    println!(
        "| N×Q | strategy | successes | of N×Q | requests on spent tokens | \
         per-token successes (min–max) | calls/s | ended by |"
    );
    println!("|---|---|---:|---:|---:|---|---:|---|");
    for (tokens, quota) in shapes {
        for (name, strategy) in STRATEGIES {
            let row = pooled::our_pooled(tokens, quota, strategy);
            row.print(
                tokens * quota as usize,
                &format!("{tokens}×{quota} | {name}"),
            );
        }
    }
}
