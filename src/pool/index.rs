//! The selection index. For each rate-limit resource the pool has seen, a
//! [`Lane`] holds every token's figures for it and, per provider, the tokens
//! ready now in the order the strategy ranks them, plus the moments at which
//! a token's standing changes by itself (its window resets, its cool-down
//! ends). A lease or a report refiles one token in O(log n); the due moments
//! are taken in turn before each choice, so nothing is rescanned.
//!
//! Ranks are read from the figures as last filed (see
//! [`ResourceState::filed_headroom`]), never from the clock: between two
//! moments that the wake heap holds, no token's rank can change by itself.

use std::cmp::Reverse;
use std::collections::BTreeSet;

use crate::pool::token::{Assessment, ResourceState, Standing, TokenEntry};
use crate::pool::{Provider, Reserve, Strategy};

/// No position: the slot is not in that heap.
const ABSENT: u32 = u32::MAX;

/// What ranking reads besides a lane's own figures.
#[derive(Clone, Copy)]
pub(crate) struct Context<'a> {
    pub tokens: &'a [TokenEntry],
    pub reserve: Reserve,
    pub strategy: Strategy,
}

/// The index of a provider, for per-provider tables.
pub(crate) fn provider_index(provider: Provider) -> usize {
    match provider {
        Provider::GitHub => 0,
        Provider::GitLab => 1,
        Provider::Bitbucket => 2,
    }
}

/// A binary heap of token slots whose positions are kept in a table beside
/// it, so that a slot whose key changed can be moved, or taken out, in
/// O(log n). `before(a, b)` says that `a` belongs nearer the top.
#[derive(Default)]
struct SlotHeap(Vec<u32>);

impl SlotHeap {
    fn top(&self) -> Option<u32> {
        self.0.first().copied()
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    /// Puts `slot` in, or moves it to where its (changed) key belongs.
    fn place(&mut self, positions: &mut [u32], slot: u32, before: &impl Fn(u32, u32) -> bool) {
        let at = positions[slot as usize];
        if at == ABSENT {
            self.0.push(slot);
            let at = self.0.len() - 1;
            positions[slot as usize] = at as u32;
            self.sift_up(positions, at, before);
        } else {
            self.settle(positions, at as usize, before);
        }
    }

    fn take_out(&mut self, positions: &mut [u32], slot: u32, before: &impl Fn(u32, u32) -> bool) {
        let at = positions[slot as usize];
        if at == ABSENT {
            return;
        }
        positions[slot as usize] = ABSENT;
        let last = self.0.pop().expect("a slot with a position is in the heap");
        if (at as usize) < self.0.len() {
            self.0[at as usize] = last;
            positions[last as usize] = at;
            self.settle(positions, at as usize, before);
        }
    }

    fn settle(&mut self, positions: &mut [u32], at: usize, before: &impl Fn(u32, u32) -> bool) {
        if self.sift_up(positions, at, before) == at {
            self.sift_down(positions, at, before);
        }
    }

    fn swap(&mut self, positions: &mut [u32], a: usize, b: usize) {
        self.0.swap(a, b);
        positions[self.0[a] as usize] = a as u32;
        positions[self.0[b] as usize] = b as u32;
    }

    fn sift_up(
        &mut self,
        positions: &mut [u32],
        mut at: usize,
        before: &impl Fn(u32, u32) -> bool,
    ) -> usize {
        while at > 0 {
            let parent = (at - 1) / 2;
            if !before(self.0[at], self.0[parent]) {
                break;
            }
            self.swap(positions, at, parent);
            at = parent;
        }
        at
    }

    fn sift_down(
        &mut self,
        positions: &mut [u32],
        mut at: usize,
        before: &impl Fn(u32, u32) -> bool,
    ) {
        loop {
            let left = 2 * at + 1;
            if left >= self.0.len() {
                return;
            }
            let right = left + 1;
            let child = match right < self.0.len() && before(self.0[right], self.0[left]) {
                true => right,
                false => left,
            };
            if !before(self.0[child], self.0[at]) {
                return;
            }
            self.swap(positions, at, child);
            at = child;
        }
    }
}

/// One provider's tokens within a lane.
#[derive(Default)]
struct Selection {
    /// Ready tokens, best first (rate-aware and priority strategies).
    ranked: SlotHeap,
    /// Ready tokens in the order added (round-robin strategy).
    in_turn: BTreeSet<u32>,
    /// Tokens whose standing changes at a known time, earliest first.
    wakes: SlotHeap,
    busy: u32,
    reserved: u32,
}

/// Why a lane has no ready token for a provider, for the caller to tell
/// apart "busy" and "spent until".
pub(crate) struct Shortage {
    pub busy: bool,
    /// The earliest moment a spent or cooling token is back, if any.
    pub earliest_ms: Option<u64>,
    /// Some token is spent with no reset in sight (see [`Standing::Reserved`]).
    pub reserved: bool,
}

/// Everything the pool knows about one resource.
pub(crate) struct Lane {
    pub name: Box<str>,
    /// Figures per token, by slot.
    pub entries: Vec<ResourceState>,
    ranked_at: Vec<u32>,
    wake_at: Vec<u32>,
    selections: [Selection; 3],
}

impl Lane {
    /// A lane for `name` with `tokens` fresh entries, none filed yet.
    pub fn new(name: &str, tokens: usize) -> Lane {
        Lane {
            name: name.into(),
            entries: vec![ResourceState::default(); tokens],
            ranked_at: vec![ABSENT; tokens],
            wake_at: vec![ABSENT; tokens],
            selections: Default::default(),
        }
    }

    /// Adds a fresh entry for a new token at the end.
    pub fn push_slot(&mut self) {
        self.entries.push(ResourceState::default());
        self.ranked_at.push(ABSENT);
        self.wake_at.push(ABSENT);
    }

    /// Drops the entry of a removed token; the caller refiles everything.
    pub fn remove_slot(&mut self, slot: usize) {
        self.entries.remove(slot);
        self.ranked_at.pop();
        self.wake_at.pop();
    }

    /// Forgets every filing, keeping the figures; `refile` puts them back.
    pub fn clear_filing(&mut self) {
        self.selections = Default::default();
        self.ranked_at.fill(ABSENT);
        self.wake_at.fill(ABSENT);
        for entry in &mut self.entries {
            entry.standing = Standing::Unfiled;
        }
    }

    /// Files `slot` where it stands now: among the ready, the busy, the
    /// spent, and in the wake heap if its standing will change by itself.
    pub fn refile(&mut self, context: Context<'_>, slot: usize, now_ms: u64) {
        let token = &context.tokens[slot];
        let entry = &mut self.entries[slot];
        let Assessment {
            standing,
            wake_ms,
            window_over,
            ..
        } = token.assess(entry, context.reserve, now_ms);
        let old = std::mem::replace(&mut entry.standing, standing);
        entry.set_window_over(window_over);

        let Lane {
            entries,
            ranked_at,
            wake_at,
            selections,
            ..
        } = self;
        let selection = &mut selections[provider_index(token.provider)];
        count(selection, old, false);
        count(selection, standing, true);

        let entries = &*entries;
        let ranks_before = |a, b| ranks_before(context, entries, a, b);
        let slot32 = slot as u32;
        match (standing, context.strategy) {
            // A token ready before is in the set already: skip the search.
            (Standing::Ready, Strategy::RoundRobin) if old != Standing::Ready => {
                selection.in_turn.insert(slot32);
            }
            (Standing::Ready, Strategy::RoundRobin) => {}
            (Standing::Ready, _) => selection.ranked.place(ranked_at, slot32, &ranks_before),
            _ => {
                selection.in_turn.remove(&slot32);
                selection.ranked.take_out(ranked_at, slot32, &ranks_before);
            }
        }

        let wakes_before = |a, b| wakes_before(context, entries, a, b);
        match wake_ms {
            Some(_) => selection.wakes.place(wake_at, slot32, &wakes_before),
            None => selection.wakes.take_out(wake_at, slot32, &wakes_before),
        }
    }

    /// Takes `slot` out of every heap and count, before its provider changes.
    pub fn unfile(&mut self, context: Context<'_>, slot: usize) {
        let token = &context.tokens[slot];
        let Lane {
            entries,
            ranked_at,
            wake_at,
            selections,
            ..
        } = self;
        let selection = &mut selections[provider_index(token.provider)];
        let old = std::mem::take(&mut entries[slot].standing);
        count(selection, old, false);
        let entries = &*entries;
        let slot32 = slot as u32;
        selection.in_turn.remove(&slot32);
        selection.ranked.take_out(ranked_at, slot32, &|a, b| {
            ranks_before(context, entries, a, b)
        });
        selection.wakes.take_out(wake_at, slot32, &|a, b| {
            wakes_before(context, entries, a, b)
        });
    }

    /// Refiles, for `provider`, every token whose moment has come.
    pub fn wake_due(&mut self, context: Context<'_>, provider: Provider, now_ms: u64) {
        let selection = provider_index(provider);
        while let Some(slot) = self.selections[selection].wakes.top() {
            if wake_ms(context, &self.entries, slot) > now_ms {
                break;
            }
            self.refile(context, slot as usize, now_ms);
        }
    }

    /// The best ready token of `provider` (after [`Lane::wake_due`]); for
    /// round-robin, the first ready one from `cursor` on, wrapping around.
    pub fn best(&self, provider: Provider, strategy: Strategy, cursor: usize) -> Option<usize> {
        let selection = &self.selections[provider_index(provider)];
        let slot = match strategy {
            Strategy::RoundRobin => selection
                .in_turn
                .range(cursor as u32..)
                .next()
                .or_else(|| selection.in_turn.first())
                .copied(),
            _ => selection.ranked.top(),
        };
        slot.map(|slot| slot as usize)
    }

    /// How many tokens of `provider` are ready (after [`Lane::wake_due`]).
    pub fn ready(&self, provider: Provider, strategy: Strategy) -> usize {
        let selection = &self.selections[provider_index(provider)];
        match strategy {
            Strategy::RoundRobin => selection.in_turn.len(),
            _ => selection.ranked.len(),
        }
    }

    /// Why nothing is ready for `provider` (meaningful only when nothing is).
    pub fn shortage(&self, context: Context<'_>, provider: Provider) -> Shortage {
        let selection = &self.selections[provider_index(provider)];
        // With no token ready or busy, every wake belongs to a spent or a
        // cooling token.
        Shortage {
            busy: selection.busy > 0,
            earliest_ms: selection
                .wakes
                .top()
                .map(|slot| wake_ms(context, &self.entries, slot)),
            reserved: selection.reserved > 0,
        }
    }
}

fn count(selection: &mut Selection, standing: Standing, add: bool) {
    let counter = match standing {
        Standing::Busy => &mut selection.busy,
        Standing::Reserved => &mut selection.reserved,
        _ => return,
    };
    *counter = if add { *counter + 1 } else { *counter - 1 };
}

/// Higher priority (under that strategy), then more requests to spare, then
/// the least recently used, then the first added.
fn ranks_before(context: Context<'_>, entries: &[ResourceState], a: u32, b: u32) -> bool {
    let rank = |slot: u32| {
        let token = &context.tokens[slot as usize];
        let priority = match context.strategy {
            Strategy::Priority => token.priority,
            _ => 0,
        };
        (
            priority,
            entries[slot as usize].filed_headroom(context.reserve),
            Reverse(token.last_used),
            Reverse(slot),
        )
    };
    rank(a) > rank(b)
}

fn wakes_before(context: Context<'_>, entries: &[ResourceState], a: u32, b: u32) -> bool {
    (wake_ms(context, entries, a), a) < (wake_ms(context, entries, b), b)
}

/// When a filed token's standing changes by itself: the end of its
/// cool-down, else its window's reset.
fn wake_ms(context: Context<'_>, entries: &[ResourceState], slot: u32) -> u64 {
    let entry = &entries[slot as usize];
    match entry.standing {
        Standing::Cooling => context.tokens[slot as usize].cooling_until_ms,
        _ => entry.reset_ms().unwrap_or(u64::MAX),
    }
}
