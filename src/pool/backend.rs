//! Where the pool's state lives. [`PoolBackend`] is the narrow interface the
//! rest of the crate uses; [`MemoryBackend`] keeps everything in this
//! process behind one mutex that is never held during I/O, with a selection
//! index (`index.rs`) so that a lease or a report costs O(log n) in the
//! number of tokens. A backend shared between machines would implement the
//! same trait.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::classify::{Classification, Outcome};
use crate::pool::index::{provider_index, Context, Lane};
use crate::pool::secret::Secret;
use crate::pool::token::{Availability, ResourceState, TokenEntry};
use crate::pool::{Provider, Reserve, Strategy, TokenSnapshot};

/// A token handed out for one request.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub id: u64,
    pub secret: Arc<Secret>,
    /// Where the token was when leased, and the lane of the resource: a
    /// hint that saves a lookup when the lease ends.
    slot: u32,
    lane: u32,
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

/// The operations the token manager needs from its state. `now_ms` is the
/// pool's clock, for the operations that refile tokens.
pub(crate) trait PoolBackend: Send + Sync {
    /// Adds a token, or refreshes one with the same secret (which also makes
    /// an invalid token usable again). Returns true when it was new.
    fn add(&self, token: NewToken, now_ms: u64) -> bool;
    /// Removes the token with this digest; true when one was removed.
    fn remove(&self, digest: &[u8; 32], now_ms: u64) -> bool;
    /// The id of the token with this digest.
    fn find(&self, digest: &[u8; 32]) -> Option<u64>;
    /// Changes the selection strategy.
    fn set_strategy(&self, strategy: Strategy, now_ms: u64);
    /// The selection strategy.
    fn strategy(&self) -> Strategy;
    /// Changes the reserve kept untouched on every token.
    fn set_reserve(&self, reserve: Reserve, now_ms: u64);
    /// The reserve.
    fn reserve(&self) -> Reserve;
    /// Picks a token for one request on `resource` and counts it in flight.
    fn acquire(&self, provider: Provider, resource: &str, now_ms: u64) -> Result<Grant, Refusal>;
    /// Ends a lease: records the verdict, if any, and takes the lease back.
    fn finish(&self, grant: &Grant, verdict: Option<&Classification>, now_ms: u64);
    /// Records a verdict for a token outside any lease.
    fn record(&self, id: u64, resource: &str, verdict: &Classification, now_ms: u64) -> bool;
    /// Marks a token invalid.
    fn mark_invalid(&self, id: u64, now_ms: u64) -> bool;
    /// How many tokens could serve `resource` now.
    fn count_available(&self, provider: Provider, resource: &str, now_ms: u64) -> usize;
    /// The earliest time (local ms) a token now unusable for `resource`
    /// becomes usable again; invalid tokens never do.
    fn earliest_reset(&self, provider: Provider, resource: &str, now_ms: u64) -> Option<u64>;
    /// Every token for `provider` (all providers when `None`), in the order
    /// added, with its id.
    fn tokens(&self, provider: Option<Provider>) -> Vec<(u64, Arc<Secret>)>;
    /// A description of every token, secrets left out.
    fn snapshot(&self, now_ms: u64) -> Vec<TokenSnapshot>;
}

/// The in-process backend.
// Limitation: every lease and report takes the one mutex, so threads
// contend instead of scaling: on two cores, 8 threads lease and report
// about as fast as one in total, or up to a quarter slower (tests/bench/pool.rs).
#[derive(Default)]
pub(crate) struct MemoryBackend {
    state: Mutex<State>,
}

/// Tokens sit in `tokens` in the order added (their slot); each lane keeps
/// its figures and filing by the same slot.
// Limitation: about 200 bytes a token, plus about 65 per resource in use
// (tests/bench/pool_memory.rs, 40-character tokens): the secret's two heap
// blocks (~96), the entry (56), `by_digest` (~48, the digest is its key)
// and per lane the figures (48) and four slot positions (16).
#[derive(Default)]
struct State {
    tokens: Vec<TokenEntry>,
    lanes: Vec<Lane>,
    by_digest: HashMap<[u8; 32], u32>,
    /// Tokens per provider, and how many of them are invalid.
    members: [usize; 3],
    invalid: [usize; 3],
    next_id: u64,
    use_sequence: u64,
    round_robin_cursor: usize,
    strategy: Strategy,
    reserve: Reserve,
}

impl MemoryBackend {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock could leave the index
        // half updated, so poisoning is ignored only after refiling every
        // token from its figures.
        self.state.lock().unwrap_or_else(|poisoned| {
            let mut state = poisoned.into_inner();
            state.refile_everything(0);
            self.state.clear_poison();
            state
        })
    }
}

impl State {
    fn context(&self) -> Context<'_> {
        Context {
            tokens: &self.tokens,
            reserve: self.reserve,
            strategy: self.strategy,
        }
    }

    /// The slot of token `id`, trying `hint` first.
    fn slot_of(&self, id: u64, hint: usize) -> Option<usize> {
        match self.tokens.get(hint) {
            Some(token) if token.id == id => Some(hint),
            _ => self.slot_by_id(id),
        }
    }

    /// The slot of token `id`. Ids grow in the order tokens are added and
    /// removals keep that order, so `tokens` is sorted by id: a binary
    /// search saves a map of ids (about 20 bytes a token).
    fn slot_by_id(&self, id: u64) -> Option<usize> {
        self.tokens.binary_search_by_key(&id, |token| token.id).ok()
    }

    /// The lane of `resource`, if it was ever leased or reported on.
    fn lane_of(&self, resource: &str) -> Option<usize> {
        // Resources are few (GitHub has about ten): a scan beats hashing.
        self.lanes.iter().position(|lane| &*lane.name == resource)
    }

    /// The lane of `resource`, made (and every token filed) if new.
    fn lane(&mut self, resource: &str, now_ms: u64) -> usize {
        if let Some(lane) = self.lane_of(resource) {
            return lane;
        }
        let mut lane = Lane::new(resource, self.tokens.len());
        let context = self.context();
        for slot in 0..self.tokens.len() {
            lane.refile(context, slot, now_ms);
        }
        self.lanes.push(lane);
        self.lanes.len() - 1
    }

    /// Refiles one token in every lane, after anything about it changed.
    fn refile_token(&mut self, slot: usize, now_ms: u64) {
        let context = Context {
            tokens: &self.tokens,
            reserve: self.reserve,
            strategy: self.strategy,
        };
        for lane in &mut self.lanes {
            lane.refile(context, slot, now_ms);
        }
    }

    /// Refiles every token in every lane (after a change of strategy,
    /// reserve or slots) and recounts the providers.
    fn refile_everything(&mut self, now_ms: u64) {
        self.members = [0; 3];
        self.invalid = [0; 3];
        for token in &self.tokens {
            self.members[provider_index(token.provider)] += 1;
            self.invalid[provider_index(token.provider)] += usize::from(token.invalid);
        }
        let context = Context {
            tokens: &self.tokens,
            reserve: self.reserve,
            strategy: self.strategy,
        };
        for lane in &mut self.lanes {
            lane.clear_filing();
            for slot in 0..context.tokens.len() {
                lane.refile(context, slot, now_ms);
            }
        }
    }

    fn set_invalid(&mut self, slot: usize, invalid: bool) {
        let token = &mut self.tokens[slot];
        if token.invalid != invalid {
            token.invalid = invalid;
            let counter = &mut self.invalid[provider_index(token.provider)];
            *counter = if invalid { *counter + 1 } else { *counter - 1 };
        }
    }

    /// Records a verdict on the token in `slot`; `lane` is the resource the
    /// request was made for (the response may name another).
    fn record(&mut self, slot: usize, lane: usize, verdict: &Classification, now_ms: u64) {
        let named = verdict
            .figures
            .as_ref()
            .and_then(|figures| figures.resource.as_deref());
        let lane = match named {
            Some(name) => self.lane(name, now_ms),
            None => lane,
        };
        if let Some(figures) = &verdict.figures {
            self.lanes[lane].entries[slot].record(figures, now_ms);
        }
        match verdict.outcome {
            Outcome::PrimaryLimit { reset_ms } => {
                self.lanes[lane].entries[slot].spend_until(reset_ms);
            }
            Outcome::Invalid => self.set_invalid(slot, true),
            _ => {}
        }
        self.tokens[slot].record_outcome(verdict, now_ms);
        self.refile_token(slot, now_ms);
    }

    /// Chooses the token for the next lease on `lane`.
    fn pick(&mut self, provider: Provider, lane: usize, now_ms: u64) -> Result<usize, Refusal> {
        let context = Context {
            tokens: &self.tokens,
            reserve: self.reserve,
            strategy: self.strategy,
        };
        let lane = &mut self.lanes[lane];
        lane.wake_due(context, provider, now_ms);
        if let Some(slot) = lane.best(provider, self.strategy, self.round_robin_cursor) {
            return Ok(slot);
        }

        let which = provider_index(provider);
        if self.members[which] == 0 {
            return Err(Refusal::Empty);
        }
        if self.invalid[which] == self.members[which] {
            return Err(Refusal::AllInvalid);
        }
        let shortage = lane.shortage(context, provider);
        if shortage.busy {
            return Err(Refusal::Busy);
        }
        let floating = shortage.reserved.then(|| now_ms.saturating_add(1000));
        let until = match (shortage.earliest_ms, floating) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Err(Refusal::Exhausted {
            until_ms: until.unwrap_or(now_ms.saturating_add(1000)),
        })
    }

    /// The choice [`State::pick`] must make, by a scan of every token as the
    /// pool made it before it had an index: tests check each pick against it.
    #[cfg(test)]
    fn pick_by_scan(&self, provider: Provider, lane: usize, now_ms: u64) -> Result<usize, Refusal> {
        let (mut seen_any, mut seen_valid, mut seen_busy) = (false, false, false);
        let mut earliest: Option<u64> = None;
        // The best slot so far and its rank: priority, headroom, least
        // recently used.
        type Rank = (i32, u64, std::cmp::Reverse<u64>);
        let mut best: Option<(usize, Rank)> = None;
        let count = self.tokens.len();
        let start = match self.strategy {
            Strategy::RoundRobin => self.round_robin_cursor % count.max(1),
            _ => 0,
        };
        for offset in 0..count {
            let slot = (start + offset) % count;
            let token = &self.tokens[slot];
            if token.provider != provider {
                continue;
            }
            seen_any = true;
            let state = &self.lanes[lane].entries[slot];
            let headroom = match token.assess(state, self.reserve, now_ms).availability {
                Availability::Invalid => continue,
                Availability::Busy => {
                    (seen_valid, seen_busy) = (true, true);
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
                return Ok(slot);
            }
            let priority = match self.strategy {
                Strategy::Priority => token.priority,
                _ => 0,
            };
            let rank = (priority, headroom, std::cmp::Reverse(token.last_used));
            if best.as_ref().is_none_or(|(_, best_rank)| rank > *best_rank) {
                best = Some((slot, rank));
            }
        }
        match (best, seen_any, seen_valid) {
            (Some((slot, _)), ..) => Ok(slot),
            (None, false, _) => Err(Refusal::Empty),
            (None, true, false) => Err(Refusal::AllInvalid),
            (None, true, true) if seen_busy => Err(Refusal::Busy),
            (None, true, true) => Err(Refusal::Exhausted {
                until_ms: earliest.unwrap_or(now_ms.saturating_add(1000)),
            }),
        }
    }

    /// The availability of every token of `provider` for `resource` now.
    fn availabilities<'a>(
        &'a self,
        provider: Provider,
        resource: &str,
        now_ms: u64,
    ) -> impl Iterator<Item = Availability> + 'a {
        let fresh = ResourceState::default();
        let lane = self.lane_of(resource).map(|lane| &self.lanes[lane]);
        let reserve = self.reserve;
        self.tokens
            .iter()
            .enumerate()
            .filter(move |(_, token)| token.provider == provider)
            .map(move |(slot, token)| {
                let state = lane.map_or(&fresh, |lane| &lane.entries[slot]);
                token.assess(state, reserve, now_ms).availability
            })
    }
}

impl PoolBackend for MemoryBackend {
    fn add(&self, token: NewToken, now_ms: u64) -> bool {
        let mut state = self.lock();
        let digest = token.secret.digest();
        if let Some(slot) = state.by_digest.get(&digest).map(|&slot| slot as usize) {
            if state.tokens[slot].provider != token.provider {
                let state = &mut *state;
                let context = Context {
                    tokens: &state.tokens,
                    reserve: state.reserve,
                    strategy: state.strategy,
                };
                for lane in &mut state.lanes {
                    lane.unfile(context, slot);
                }
                let (old, invalid) = (state.tokens[slot].provider, state.tokens[slot].invalid);
                state.members[provider_index(old)] -= 1;
                state.invalid[provider_index(old)] -= usize::from(invalid);
                state.members[provider_index(token.provider)] += 1;
                state.invalid[provider_index(token.provider)] += usize::from(invalid);
                state.tokens[slot].provider = token.provider;
            }
            state.set_invalid(slot, false);
            let entry = &mut state.tokens[slot];
            entry.priority = token.priority;
            if let Some(username) = token.username {
                entry.username = Some(username.into());
            }
            state.refile_token(slot, now_ms);
            return false;
        }

        state.next_id += 1;
        let id = state.next_id;
        let mut entry = TokenEntry::new(id, token.provider, Arc::new(token.secret));
        entry.username = token.username.map(Into::into);
        entry.priority = token.priority;
        let slot = state.tokens.len();
        state.members[provider_index(token.provider)] += 1;
        state.tokens.push(entry);
        state.by_digest.insert(digest, slot as u32);
        for lane in &mut state.lanes {
            lane.push_slot();
        }
        state.refile_token(slot, now_ms);
        true
    }

    // Limitation: removing a token shifts the later ones and refiles every
    // token, O(n log n): fine for occasional removals, slow for removing
    // most of a pool of a hundred thousand one by one.
    fn remove(&self, digest: &[u8; 32], now_ms: u64) -> bool {
        let mut state = self.lock();
        let Some(slot) = state.by_digest.remove(digest).map(|slot| slot as usize) else {
            return false;
        };
        // Keep the order of the others: round-robin and snapshots rely on it.
        state.tokens.remove(slot);
        if slot < state.round_robin_cursor {
            state.round_robin_cursor -= 1;
        }
        for later in state.by_digest.values_mut() {
            if *later as usize > slot {
                *later -= 1;
            }
        }
        for lane in &mut state.lanes {
            lane.remove_slot(slot);
        }
        state.refile_everything(now_ms);
        true
    }

    fn find(&self, digest: &[u8; 32]) -> Option<u64> {
        let state = self.lock();
        state
            .by_digest
            .get(digest)
            .map(|&slot| state.tokens[slot as usize].id)
    }

    fn set_strategy(&self, strategy: Strategy, now_ms: u64) {
        let mut state = self.lock();
        if state.strategy != strategy {
            state.strategy = strategy;
            state.refile_everything(now_ms);
        }
    }

    fn strategy(&self) -> Strategy {
        self.lock().strategy
    }

    fn set_reserve(&self, reserve: Reserve, now_ms: u64) {
        let mut state = self.lock();
        if state.reserve != reserve {
            state.reserve = reserve;
            state.refile_everything(now_ms);
        }
    }

    fn reserve(&self) -> Reserve {
        self.lock().reserve
    }

    fn acquire(&self, provider: Provider, resource: &str, now_ms: u64) -> Result<Grant, Refusal> {
        let mut state = self.lock();
        let lane = state.lane(resource, now_ms);
        #[cfg(test)]
        let by_scan = state.pick_by_scan(provider, lane, now_ms);
        let picked = state.pick(provider, lane, now_ms);
        #[cfg(test)]
        assert_eq!(picked, by_scan, "the index and a full scan disagree");
        let slot = picked?;
        state.use_sequence += 1;
        state.tokens[slot].last_used = state.use_sequence;
        if state.strategy == Strategy::RoundRobin {
            state.round_robin_cursor = slot + 1;
        }
        let entry = &mut state.lanes[lane].entries[slot];
        entry.in_flight += 1;
        entry.touch();
        state.refile_token(slot, now_ms);

        let token = &state.tokens[slot];
        Ok(Grant {
            id: token.id,
            secret: Arc::clone(&token.secret),
            slot: slot as u32,
            lane: lane as u32,
        })
    }

    fn finish(&self, grant: &Grant, verdict: Option<&Classification>, now_ms: u64) {
        let mut state = self.lock();
        let Some(slot) = state.slot_of(grant.id, grant.slot as usize) else {
            return;
        };
        let lane = grant.lane as usize;
        let entry = &mut state.lanes[lane].entries[slot];
        entry.in_flight = entry.in_flight.saturating_sub(1);
        match verdict {
            Some(verdict) => state.record(slot, lane, verdict, now_ms),
            None => state.refile_token(slot, now_ms),
        }
    }

    fn record(&self, id: u64, resource: &str, verdict: &Classification, now_ms: u64) -> bool {
        let mut state = self.lock();
        let Some(slot) = state.slot_by_id(id) else {
            return false;
        };
        let lane = state.lane(resource, now_ms);
        state.record(slot, lane, verdict, now_ms);
        true
    }

    fn mark_invalid(&self, id: u64, now_ms: u64) -> bool {
        let mut state = self.lock();
        let Some(slot) = state.slot_by_id(id) else {
            return false;
        };
        state.set_invalid(slot, true);
        state.refile_token(slot, now_ms);
        true
    }

    fn count_available(&self, provider: Provider, resource: &str, now_ms: u64) -> usize {
        let mut guard = self.lock();
        let state = &mut *guard;
        match state.lane_of(resource) {
            Some(lane) => {
                let context = Context {
                    tokens: &state.tokens,
                    reserve: state.reserve,
                    strategy: state.strategy,
                };
                let lane = &mut state.lanes[lane];
                lane.wake_due(context, provider, now_ms);
                let ready = lane.ready(provider, context.strategy);
                #[cfg(test)]
                assert_eq!(
                    ready,
                    state
                        .availabilities(provider, resource, now_ms)
                        .filter(|a| matches!(a, Availability::Ready { .. }))
                        .count(),
                    "the index and a full scan disagree"
                );
                ready
            }
            None => state
                .availabilities(provider, resource, now_ms)
                .filter(|a| matches!(a, Availability::Ready { .. }))
                .count(),
        }
    }

    fn earliest_reset(&self, provider: Provider, resource: &str, now_ms: u64) -> Option<u64> {
        let state = self.lock();
        state
            .availabilities(provider, resource, now_ms)
            .filter_map(|availability| match availability {
                Availability::Until(until) => Some(until),
                _ => None,
            })
            .min()
    }

    fn tokens(&self, provider: Option<Provider>) -> Vec<(u64, Arc<Secret>)> {
        self.lock()
            .tokens
            .iter()
            .filter(|t| provider.is_none_or(|p| t.provider == p))
            .map(|t| (t.id, Arc::clone(&t.secret)))
            .collect()
    }

    fn snapshot(&self, now_ms: u64) -> Vec<TokenSnapshot> {
        let state = self.lock();
        state
            .tokens
            .iter()
            .enumerate()
            .map(|(slot, token)| {
                let resources = state
                    .lanes
                    .iter()
                    .map(|lane| (&*lane.name, &lane.entries[slot]))
                    .filter(|(_, entry)| entry.touched());
                TokenSnapshot::of(token, resources, state.reserve, now_ms)
            })
            .collect()
    }
}
