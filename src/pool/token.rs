//! One token's state: who it is, whether it may be used, and its figures per
//! rate-limit resource. Pure bookkeeping; the clock is always passed in.

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

/// The figures of one resource of one token.
#[derive(Debug, Clone, Default)]
pub(crate) struct ResourceState {
    pub name: Box<str>,
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    pub used: Option<u64>,
    pub reset_ms: Option<u64>,
    /// The server's reset value naming the window the figures belong to.
    pub window: Option<u64>,
    /// Leases handed out and not yet reported: each counts as one use.
    pub in_flight: u32,
}

impl ResourceState {
    fn new(name: &str) -> Self {
        ResourceState {
            name: name.into(),
            ..ResourceState::default()
        }
    }

    /// Known figures that still describe the current window.
    fn current_remaining(&self, now_ms: u64) -> Option<u64> {
        match self.reset_ms {
            Some(reset) if reset > now_ms => self.remaining,
            _ => None,
        }
    }

    /// Requests left in the window: reported, or assumed full when the
    /// server has not reported or the window has reset since.
    pub fn remaining_at(&self, now_ms: u64) -> u64 {
        self.current_remaining(now_ms)
            .unwrap_or_else(|| self.limit.unwrap_or(ASSUMED_LIMIT))
    }

    /// True when the reported window is spent (down to the reserve) and has
    /// not reset yet. Leases in flight are not counted here.
    pub fn is_limited(&self, reserve: Reserve, now_ms: u64) -> bool {
        let floor = reserve.units(self.limit.unwrap_or(ASSUMED_LIMIT));
        self.current_remaining(now_ms)
            .is_some_and(|remaining| remaining <= floor)
    }

    /// Records reported figures. Responses of one window can come back out
    /// of order under concurrency, so within a window the lowest remaining
    /// wins; figures of an earlier window than the one known are stale.
    fn record(&mut self, figures: &Figures, now_ms: u64) {
        if let (Some(new), Some(known)) = (figures.window, self.window) {
            if new < known {
                return;
            }
            if new == known {
                self.remaining = min_known(self.remaining, figures.remaining);
                self.used = max_known(self.used, figures.used);
                self.limit = figures.limit.or(self.limit);
                return;
            }
        }

        if figures.limit.is_some() {
            self.limit = figures.limit;
        }
        if figures.used.is_some() {
            self.used = figures.used;
        }
        if figures.remaining.is_some() || figures.reset_ms.is_some() {
            self.remaining = figures.remaining.or(self.remaining);
            self.reset_ms = Some(
                figures
                    .reset_ms
                    .unwrap_or(now_ms.saturating_add(FIGURES_WITHOUT_RESET_MS)),
            );
            self.window = figures.window;
        }
    }
}

fn min_known(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        _ => a.or(b),
    }
}

fn max_known(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    a.max(b)
}

/// One token in the pool.
#[derive(Debug)]
pub(crate) struct TokenEntry {
    pub id: u64,
    pub provider: Provider,
    pub secret: Arc<Secret>,
    pub username: Option<String>,
    pub priority: i32,
    pub invalid: bool,
    pub cooling_until_ms: u64,
    pub secondary_strikes: u32,
    /// Sequence number of the last lease; lower means used longer ago.
    pub last_used: u64,
    pub resources: Vec<ResourceState>,
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
            cooling_until_ms: 0,
            secondary_strikes: 0,
            last_used: 0,
            resources: Vec::new(),
        }
    }

    pub fn resource(&self, name: &str) -> Option<&ResourceState> {
        self.resources.iter().find(|r| &*r.name == name)
    }

    pub fn resource_mut(&mut self, name: &str) -> &mut ResourceState {
        let index = match self.resources.iter().position(|r| &*r.name == name) {
            Some(index) => index,
            None => {
                self.resources.push(ResourceState::new(name));
                self.resources.len() - 1
            }
        };
        &mut self.resources[index]
    }

    /// Whether this token can serve a request on `resource` now, counting
    /// leases in flight as spent and keeping `reserve` untouched.
    pub fn availability(&self, resource: &str, reserve: Reserve, now_ms: u64) -> Availability {
        if self.invalid {
            return Availability::Invalid;
        }
        if self.cooling_until_ms > now_ms {
            return Availability::Until(self.cooling_until_ms);
        }

        let state = self.resource(resource);
        let limit = state.and_then(|s| s.limit).unwrap_or(ASSUMED_LIMIT);
        let remaining = state.map_or(limit, |s| s.remaining_at(now_ms));
        let in_flight = state.map_or(0, |s| u64::from(s.in_flight));
        let headroom = remaining
            .saturating_sub(in_flight)
            .saturating_sub(reserve.units(limit));
        if headroom > 0 {
            return Availability::Ready { headroom };
        }
        if in_flight > 0 && remaining > reserve.units(limit) {
            return Availability::Busy;
        }

        let reset = state
            .and_then(|s| s.reset_ms)
            .filter(|&reset| reset > now_ms)
            .unwrap_or(now_ms.saturating_add(1000));
        Availability::Until(reset)
    }

    /// Records what a response said about this token. `resource` is the
    /// bucket the request was made for; the response may name another.
    pub fn record(&mut self, resource: &str, verdict: &Classification, now_ms: u64) {
        if let Some(figures) = &verdict.figures {
            let name = figures.resource.as_deref().unwrap_or(resource);
            self.resource_mut(name).record(figures, now_ms);
        }

        match verdict.outcome {
            Outcome::Success | Outcome::NotModified => self.secondary_strikes = 0,
            Outcome::Invalid => self.invalid = true,
            Outcome::PrimaryLimit { reset_ms } => {
                let name = verdict
                    .figures
                    .as_ref()
                    .and_then(|f| f.resource.as_deref())
                    .unwrap_or(resource);
                let state = self.resource_mut(name);
                state.remaining = Some(0);
                state.reset_ms = Some(reset_ms);
            }
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
            Outcome::Forbidden | Outcome::NotFound | Outcome::ServerError | Outcome::OtherError => {
            }
        }
    }

    /// Takes back one lease of `resource` (reported or returned unused).
    pub fn end_lease(&mut self, resource: &str) {
        if let Some(state) = self.resources.iter_mut().find(|r| &*r.name == resource) {
            state.in_flight = state.in_flight.saturating_sub(1);
        }
    }
}
