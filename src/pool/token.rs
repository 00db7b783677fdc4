//! One token's state: who it is, whether it may be used, and its figures per
//! rate-limit resource. Pure bookkeeping; the clock is always passed in.
//!
//! The token-wide part lives in [`TokenEntry`]; the figures of one resource
//! live in a [`ResourceState`] held by that resource's lane of the selection
//! index (`index.rs`), one per token.

use std::sync::Arc;

use crate::classify::{Classification, Figures, Outcome};
use crate::pool::secret::Secret;
use crate::pool::{Provider, Reserve};

/// The limit assumed for a token the server has not reported on yet, so that
/// a fresh token ranks as full rather than as empty.
pub(crate) const ASSUMED_LIMIT: u64 = 5000;

/// How long reported figures are trusted when the response gave no reset.
const FIGURES_WITHOUT_RESET_MS: u64 = 60_000;

/// Longest cool-down after repeated secondary limits.
const MAX_COOLDOWN_S: u64 = 3600;

/// What one token can do for one resource right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Availability {
    /// Usable, with this many requests to spare above the reserve.
    Ready { headroom: u64 },
    /// Quota is left, but leases in flight may take it all: usable again
    /// when one of them is reported or returned.
    Busy,
    /// Not usable before this local time (milliseconds).
    Until(u64),
    /// Invalid until added again.
    Invalid,
}

/// Where a token stands for one resource, as the selection index files it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Standing {
    /// Not filed yet.
    #[default]
    Unfiled,
    /// Invalid: out of every index.
    Invalid,
    /// Ready now.
    Ready,
    /// All its quota is held by leases in flight.
    Busy,
    /// Spent until its window resets.
    Spent,
    /// Cooling down after a secondary limit.
    Cooling,
    /// Spent with no reset in sight: the reserve takes its whole limit.
    Reserved,
}

/// A token's standing for one resource at one moment, and when it next
/// changes by itself (a window resets, a cool-down ends).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Assessment {
    pub availability: Availability,
    pub standing: Standing,
    pub wake_ms: Option<u64>,
    /// The reported window is over (or there is none): remaining is the limit.
    pub window_over: bool,
}

// The figures of a resource, each optional; kept as plain words with a
// bitmask of which are present, which halves their size against `Option`s.
const LIMIT: usize = 0;
const REMAINING: usize = 1;
const USED: usize = 2;
const RESET: usize = 3;
const WINDOW: usize = 4;

const TOUCHED: u8 = 1;
const WINDOW_OVER: u8 = 2;

/// The figures of one resource of one token.
#[derive(Debug, Clone, Default)]
pub(crate) struct ResourceState {
    values: [u64; 5],
    present: u8,
    flags: u8,
    /// Where the selection index has it filed.
    pub standing: Standing,
    /// Leases handed out and not yet reported: each counts as one use.
    pub in_flight: u32,
}

impl ResourceState {
    fn get(&self, field: usize) -> Option<u64> {
        (self.present & (1 << field) != 0).then_some(self.values[field])
    }

    fn set(&mut self, field: usize, value: Option<u64>) {
        match value {
            Some(value) => {
                self.values[field] = value;
                self.present |= 1 << field;
            }
            None => self.present &= !(1 << field),
        }
    }

    /// Requests allowed per window, if reported.
    pub fn limit(&self) -> Option<u64> {
        self.get(LIMIT)
    }

    /// Requests left, if reported.
    pub fn remaining(&self) -> Option<u64> {
        self.get(REMAINING)
    }

    /// Requests used, if reported.
    pub fn used(&self) -> Option<u64> {
        self.get(USED)
    }

    /// When the reported window resets, local milliseconds.
    pub fn reset_ms(&self) -> Option<u64> {
        self.get(RESET)
    }

    /// The server's reset value naming the window the figures belong to.
    fn window(&self) -> Option<u64> {
        self.get(WINDOW)
    }

    /// True once a lease or a report concerned this resource of this token:
    /// snapshots list only those.
    pub fn touched(&self) -> bool {
        self.flags & TOUCHED != 0
    }

    pub fn touch(&mut self) {
        self.flags |= TOUCHED;
    }

    /// Whether the window was over when the index last filed this entry.
    pub fn window_over(&self) -> bool {
        self.flags & WINDOW_OVER != 0
    }

    pub fn set_window_over(&mut self, over: bool) {
        if over {
            self.flags |= WINDOW_OVER;
        } else {
            self.flags &= !WINDOW_OVER;
        }
    }

    /// Known figures that still describe the current window.
    fn current_remaining(&self, now_ms: u64) -> Option<u64> {
        match self.reset_ms() {
            Some(reset) if reset > now_ms => self.remaining(),
            _ => None,
        }
    }

    /// Requests left in the window: reported, or assumed full when the
    /// server has not reported or the window has reset since.
    pub fn remaining_at(&self, now_ms: u64) -> u64 {
        self.current_remaining(now_ms)
            .unwrap_or_else(|| self.limit().unwrap_or(ASSUMED_LIMIT))
    }

    /// True when the reported window is spent (down to the reserve) and has
    /// not reset yet. Leases in flight are not counted here.
    pub fn is_limited(&self, reserve: Reserve, now_ms: u64) -> bool {
        let floor = reserve.units(self.limit().unwrap_or(ASSUMED_LIMIT));
        self.current_remaining(now_ms)
            .is_some_and(|remaining| remaining <= floor)
    }

    /// The requests to spare as the index last filed this entry (see
    /// [`ResourceState::window_over`]): the same as the headroom of
    /// [`assess`] at that moment, and unchanged until the entry is filed
    /// again, so the index can rank by it without a clock.
    pub fn filed_headroom(&self, reserve: Reserve) -> u64 {
        let limit = self.limit().unwrap_or(ASSUMED_LIMIT);
        let remaining = match self.window_over() {
            true => limit,
            false => self.remaining().unwrap_or(limit),
        };
        remaining
            .saturating_sub(u64::from(self.in_flight))
            .saturating_sub(reserve.units(limit))
    }

    /// Records reported figures. Responses of one window can come back out
    /// of order under concurrency, so within a window the lowest remaining
    /// wins; figures of an earlier window than the one known are stale.
    pub fn record(&mut self, figures: &Figures, now_ms: u64) {
        self.touch();
        if let (Some(new), Some(known)) = (figures.window, self.window()) {
            if new < known {
                return;
            }
            if new == known {
                self.set(REMAINING, min_known(self.remaining(), figures.remaining));
                self.set(USED, self.used().max(figures.used));
                self.set(LIMIT, figures.limit.or(self.limit()));
                return;
            }
        }

        if figures.limit.is_some() {
            self.set(LIMIT, figures.limit);
        }
        if figures.used.is_some() {
            self.set(USED, figures.used);
        }
        if figures.remaining.is_some() || figures.reset_ms.is_some() {
            self.set(REMAINING, figures.remaining.or(self.remaining()));
            self.set(
                RESET,
                Some(
                    figures
                        .reset_ms
                        .unwrap_or(now_ms.saturating_add(FIGURES_WITHOUT_RESET_MS)),
                ),
            );
            self.set(WINDOW, figures.window);
        }
    }

    /// A primary limit: nothing left until `reset_ms`.
    pub fn spend_until(&mut self, reset_ms: u64) {
        self.touch();
        self.set(REMAINING, Some(0));
        self.set(RESET, Some(reset_ms));
    }
}

fn min_known(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        _ => a.or(b),
    }
}

/// One token in the pool: everything but its per-resource figures.
#[derive(Debug)]
pub(crate) struct TokenEntry {
    pub id: u64,
    pub provider: Provider,
    pub secret: Arc<Secret>,
    pub username: Option<Box<str>>,
    pub priority: i32,
    pub invalid: bool,
    pub secondary_strikes: u8,
    pub cooling_until_ms: u64,
    /// Sequence number of the last lease; lower means used longer ago.
    pub last_used: u64,
}

impl TokenEntry {
    pub fn new(id: u64, provider: Provider, secret: Arc<Secret>) -> Self {
        TokenEntry {
            id,
            provider,
            secret,
            username: None,
            priority: 0,
            invalid: false,
            secondary_strikes: 0,
            cooling_until_ms: 0,
            last_used: 0,
        }
    }

    /// Whether this token can serve a request on the resource whose figures
    /// are `state` now, counting leases in flight as spent and keeping
    /// `reserve` untouched; and when that changes by itself.
    pub fn assess(&self, state: &ResourceState, reserve: Reserve, now_ms: u64) -> Assessment {
        let window_current = state.reset_ms().is_some_and(|reset| reset > now_ms);
        let assessment = |availability, standing, wake_ms| Assessment {
            availability,
            standing,
            wake_ms,
            window_over: !window_current,
        };
        if self.invalid {
            return assessment(Availability::Invalid, Standing::Invalid, None);
        }
        if self.cooling_until_ms > now_ms {
            let until = self.cooling_until_ms;
            return assessment(Availability::Until(until), Standing::Cooling, Some(until));
        }

        // Within a window the figures hold until its reset, when the
        // remaining goes back to the limit.
        let reset = state.reset_ms().filter(|_| window_current);
        let limit = state.limit().unwrap_or(ASSUMED_LIMIT);
        let remaining = state.remaining_at(now_ms);
        let in_flight = u64::from(state.in_flight);
        let floor = reserve.units(limit);
        let headroom = remaining.saturating_sub(in_flight).saturating_sub(floor);
        if headroom > 0 {
            return assessment(Availability::Ready { headroom }, Standing::Ready, reset);
        }
        if in_flight > 0 && remaining > floor {
            return assessment(Availability::Busy, Standing::Busy, reset);
        }
        match reset {
            Some(reset) => assessment(Availability::Until(reset), Standing::Spent, Some(reset)),
            None => assessment(
                Availability::Until(now_ms.saturating_add(1000)),
                Standing::Reserved,
                None,
            ),
        }
    }

    /// Records what a response said about the token as a whole (validity,
    /// cool-downs); the figures are recorded by the caller, per resource.
    pub fn record_outcome(&mut self, verdict: &Classification, now_ms: u64) {
        match verdict.outcome {
            Outcome::Success | Outcome::NotModified => self.secondary_strikes = 0,
            Outcome::Invalid => self.invalid = true,
            Outcome::SecondaryLimit { wait_s, .. } => {
                // Repeats double the pause: GitHub may ban clients that keep
                // knocking while limited.
                let factor = 1u64 << self.secondary_strikes.min(6);
                let wait_s = wait_s
                    .saturating_mul(factor)
                    .min(MAX_COOLDOWN_S)
                    .max(wait_s);
                let until = now_ms.saturating_add(wait_s.saturating_mul(1000));
                self.cooling_until_ms = self.cooling_until_ms.max(until);
                self.secondary_strikes = self.secondary_strikes.saturating_add(1);
            }
            Outcome::PrimaryLimit { .. }
            | Outcome::Forbidden
            | Outcome::NotFound
            | Outcome::ServerError
            | Outcome::OtherError => {}
        }
    }
}
