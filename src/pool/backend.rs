//! Where the pool's state lives. [`PoolBackend`] is the narrow interface the
//! rest of the crate uses; [`MemoryBackend`] keeps everything in this
//! process behind one mutex that is never held during I/O. A backend shared
//! between machines would implement the same trait.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::classify::Classification;
use crate::pool::secret::Secret;
use crate::pool::token::{Availability, TokenEntry};
use crate::pool::{Provider, Reserve, Strategy, TokenSnapshot};

/// A token handed out for one request.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub id: u64,
    pub secret: Arc<Secret>,
}

/// Why no token could be handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The pool has no token for the provider.
    Empty,
    /// Every token for the provider is invalid.
    AllInvalid,
    /// No token is free now, but leases in flight hold quota that may come
    /// back when they are reported.
    Busy,
    /// Every valid token is spent or cooling; the earliest is back at this
    /// local time (milliseconds).
    Exhausted { until_ms: u64 },
}

/// A new token, or new details for one already present.
pub(crate) struct NewToken {
    pub provider: Provider,
    pub secret: Secret,
    pub username: Option<String>,
    pub priority: i32,
}

/// The operations the token manager needs from its state.
pub(crate) trait PoolBackend: Send + Sync {
    /// Adds a token, or refreshes one with the same secret (which also makes
    /// an invalid token usable again). Returns true when it was new.
    fn add(&self, token: NewToken) -> bool;
    /// Removes the token with this digest; true when one was removed.
    fn remove(&self, digest: &[u8; 32]) -> bool;
    /// The id of the token with this digest.
    fn find(&self, digest: &[u8; 32]) -> Option<u64>;
    /// Changes the selection strategy.
    fn set_strategy(&self, strategy: Strategy);
    /// The selection strategy.
    fn strategy(&self) -> Strategy;
    /// Changes the reserve kept untouched on every token.
    fn set_reserve(&self, reserve: Reserve);
    /// The reserve.
    fn reserve(&self) -> Reserve;
    /// Picks a token for one request on `resource` and counts it in flight.
    fn acquire(&self, provider: Provider, resource: &str, now_ms: u64) -> Result<Grant, Refusal>;
    /// Ends a lease: records the verdict, if any, and takes the lease back.
    fn finish(&self, id: u64, resource: &str, verdict: Option<&Classification>, now_ms: u64);
    /// Records a verdict for a token outside any lease.
    fn record(&self, id: u64, resource: &str, verdict: &Classification, now_ms: u64) -> bool;
    /// Marks a token invalid.
    fn mark_invalid(&self, id: u64) -> bool;
    /// How many tokens could serve `resource` now.
    fn count_available(&self, provider: Provider, resource: &str, now_ms: u64) -> usize;
    /// The earliest time (local ms) a token now unusable for `resource`
    /// becomes usable again; invalid tokens never do.
    fn earliest_reset(&self, provider: Provider, resource: &str, now_ms: u64) -> Option<u64>;
    /// Every token for `provider` (all providers when `None`), in the order added.
    fn tokens(&self, provider: Option<Provider>) -> Vec<Grant>;
    /// A description of every token, secrets left out.
    fn snapshot(&self, now_ms: u64) -> Vec<TokenSnapshot>;
}

/// The in-process backend.
#[derive(Default)]
pub(crate) struct MemoryBackend {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    tokens: Vec<TokenEntry>,
    by_id: HashMap<u64, usize>,
    by_digest: HashMap<[u8; 32], usize>,
    next_id: u64,
    use_sequence: u64,
    round_robin_cursor: usize,
    strategy: Strategy,
    reserve: Reserve,
}

impl MemoryBackend {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves consistent data
        // (every update is a plain field store), so poisoning is ignored.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// How a token ranks for the next lease: priority, then headroom, then
/// the least recently used. Higher is better.
type Rank = (i32, u64, std::cmp::Reverse<u64>);

impl State {
    fn entry_mut(&mut self, id: u64) -> Option<&mut TokenEntry> {
        let index = *self.by_id.get(&id)?;
        self.tokens.get_mut(index)
    }

    /// Chooses the token for the next lease.
    // Limitation: a linear scan under the pool's lock; fine for thousands of
    // tokens, not tuned for a hundred thousand.
    fn pick(&mut self, provider: Provider, resource: &str, now_ms: u64) -> Result<usize, Refusal> {
        let reserve = self.reserve;
        let mut seen_valid = false;
        let mut seen_any = false;
        let mut seen_busy = false;
        let mut earliest: Option<u64> = None;
        let mut best: Option<(usize, Rank)> = None;

        let count = self.tokens.len();
        let start = match self.strategy {
            Strategy::RoundRobin => self.round_robin_cursor % count.max(1),
            _ => 0,
        };
        for offset in 0..count {
            let index = (start + offset) % count;
            let token = &self.tokens[index];
            if token.provider != provider {
                continue;
            }
            seen_any = true;
            let headroom = match token.availability(resource, reserve, now_ms) {
                Availability::Invalid => continue,
                Availability::Busy => {
                    seen_valid = true;
                    seen_busy = true;
                    continue;
                }
                Availability::Until(until) => {
                    seen_valid = true;
                    earliest = Some(earliest.map_or(until, |e| e.min(until)));
                    continue;
                }
                Availability::Ready { headroom } => headroom,
            };
            seen_valid = true;
            if self.strategy == Strategy::RoundRobin {
                self.round_robin_cursor = index + 1;
                return Ok(index);
            }
            let priority = match self.strategy {
                Strategy::Priority => token.priority,
                _ => 0,
            };
            let rank = (priority, headroom, std::cmp::Reverse(token.last_used));
            if best.as_ref().is_none_or(|(_, best_rank)| rank > *best_rank) {
                best = Some((index, rank));
            }
        }

        match (best, seen_any, seen_valid, earliest) {
            (Some((index, _)), ..) => Ok(index),
            (None, false, ..) => Err(Refusal::Empty),
            (None, true, false, _) => Err(Refusal::AllInvalid),
            (None, true, true, _) if seen_busy => Err(Refusal::Busy),
            (None, true, true, until) => Err(Refusal::Exhausted {
                until_ms: until.unwrap_or(now_ms.saturating_add(1000)),
            }),
        }
    }
}

impl PoolBackend for MemoryBackend {
    fn add(&self, token: NewToken) -> bool {
        let mut state = self.lock();
        let digest = *token.secret.digest();
        if let Some(&index) = state.by_digest.get(&digest) {
            let entry = &mut state.tokens[index];
            entry.provider = token.provider;
            entry.invalid = false;
            entry.priority = token.priority;
            if token.username.is_some() {
                entry.username = token.username;
            }
            return false;
        }

        state.next_id += 1;
        let id = state.next_id;
        let mut entry = TokenEntry::new(id, token.provider, Arc::new(token.secret));
        entry.username = token.username;
        entry.priority = token.priority;
        let index = state.tokens.len();
        state.tokens.push(entry);
        state.by_id.insert(id, index);
        state.by_digest.insert(digest, index);
        true
    }

    fn remove(&self, digest: &[u8; 32]) -> bool {
        let mut state = self.lock();
        let Some(index) = state.by_digest.remove(digest) else {
            return false;
        };
        // Keep the order of the others: round-robin and snapshots rely on it.
        let removed = state.tokens.remove(index);
        state.by_id.remove(&removed.id);
        if index < state.round_robin_cursor {
            state.round_robin_cursor -= 1;
        }
        for later in index..state.tokens.len() {
            let (id, digest) = (state.tokens[later].id, *state.tokens[later].secret.digest());
            state.by_id.insert(id, later);
            state.by_digest.insert(digest, later);
        }
        true
    }

    fn find(&self, digest: &[u8; 32]) -> Option<u64> {
        let state = self.lock();
        state
            .by_digest
            .get(digest)
            .map(|&index| state.tokens[index].id)
    }

    fn set_strategy(&self, strategy: Strategy) {
        self.lock().strategy = strategy;
    }

    fn strategy(&self) -> Strategy {
        self.lock().strategy
    }

    fn set_reserve(&self, reserve: Reserve) {
        self.lock().reserve = reserve;
    }

    fn reserve(&self) -> Reserve {
        self.lock().reserve
    }

    fn acquire(&self, provider: Provider, resource: &str, now_ms: u64) -> Result<Grant, Refusal> {
        let mut state = self.lock();
        let index = state.pick(provider, resource, now_ms)?;
        state.use_sequence += 1;
        let sequence = state.use_sequence;

        let token = &mut state.tokens[index];
        token.last_used = sequence;
        token.resource_mut(resource).in_flight += 1;
        Ok(Grant {
            id: token.id,
            secret: Arc::clone(&token.secret),
        })
    }

    fn finish(&self, id: u64, resource: &str, verdict: Option<&Classification>, now_ms: u64) {
        let mut state = self.lock();
        if let Some(token) = state.entry_mut(id) {
            token.end_lease(resource);
            if let Some(verdict) = verdict {
                token.record(resource, verdict, now_ms);
            }
        }
    }

    fn record(&self, id: u64, resource: &str, verdict: &Classification, now_ms: u64) -> bool {
        let mut state = self.lock();
        match state.entry_mut(id) {
            Some(token) => {
                token.record(resource, verdict, now_ms);
                true
            }
            None => false,
        }
    }

    fn mark_invalid(&self, id: u64) -> bool {
        let mut state = self.lock();
        match state.entry_mut(id) {
            Some(token) => {
                token.invalid = true;
                true
            }
            None => false,
        }
    }

    fn count_available(&self, provider: Provider, resource: &str, now_ms: u64) -> usize {
        let state = self.lock();
        state
            .tokens
            .iter()
            .filter(|t| t.provider == provider)
            .filter(|t| {
                matches!(
                    t.availability(resource, state.reserve, now_ms),
                    Availability::Ready { .. }
                )
            })
            .count()
    }

    fn earliest_reset(&self, provider: Provider, resource: &str, now_ms: u64) -> Option<u64> {
        let state = self.lock();
        state
            .tokens
            .iter()
            .filter(|t| t.provider == provider)
            .filter_map(|t| match t.availability(resource, state.reserve, now_ms) {
                Availability::Until(until) => Some(until),
                _ => None,
            })
            .min()
    }

    fn tokens(&self, provider: Option<Provider>) -> Vec<Grant> {
        self.lock()
            .tokens
            .iter()
            .filter(|t| provider.is_none_or(|p| t.provider == p))
            .map(|t| Grant {
                id: t.id,
                secret: Arc::clone(&t.secret),
            })
            .collect()
    }

    fn snapshot(&self, now_ms: u64) -> Vec<TokenSnapshot> {
        let state = self.lock();
        state
            .tokens
            .iter()
            .map(|t| TokenSnapshot::of(t, state.reserve, now_ms))
            .collect()
    }
}
