//! The token pool: which tokens exist, what each has left per rate-limit
//! resource, and which one the next request should use.
//!
//! Pure Rust with no I/O: callers hand in what responses said (through a
//! [`Lease`] or [`TokenManager::update_from_headers`]) and the pool decides.
//! Time comes from a [`Clock`], so tests can move it by hand.

mod backend;
mod clock;
mod index;
mod secret;
#[cfg(test)]
mod tests;
mod token;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::classify::{classify, Classification, ErrorBody, ResponseHead};
use crate::error::{Error, Result};
use backend::{Grant, MemoryBackend, NewToken, PoolBackend, Refusal};
use token::{ResourceState, TokenEntry};

pub use clock::{Clock, ManualClock, SystemClock};
pub(crate) use secret::Secret;
pub use secret::{check_secret, fingerprint, SecretToken};

/// The resource a request counts against when nothing else is said.
pub const DEFAULT_RESOURCE: &str = "core";

/// A Git hosting provider. Only GitHub has a client for now; tokens of the
/// others can be pooled and leased.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// github.com or GitHub Enterprise.
    GitHub,
    /// GitLab.
    GitLab,
    /// Bitbucket.
    Bitbucket,
}

/// How the pool picks a token among those available.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Most requests left for the request's resource; ties go to the token
    /// used least recently.
    #[default]
    RateAware,
    /// Each available token in turn, in the order they were added.
    RoundRobin,
    /// Highest priority first; rate-aware among equal priorities.
    Priority,
}

/// Requests kept untouched on every token, for other uses of the same
/// account. A token whose remaining quota is down to the reserve is treated
/// as spent.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reserve {
    /// No reserve.
    #[default]
    None,
    /// This many requests per window.
    Count(u64),
    /// This fraction (0.0 to 1.0) of the token's limit, rounded up.
    Fraction(f64),
}

impl Reserve {
    /// The number of requests reserved on a token with this `limit`.
    pub fn units(self, limit: u64) -> u64 {
        match self {
            Reserve::None => 0,
            Reserve::Count(count) => count,
            Reserve::Fraction(fraction) => (limit as f64 * fraction.clamp(0.0, 1.0)).ceil() as u64,
        }
    }
}

/// A token's state, as shown in snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenStatus {
    /// Usable.
    Available,
    /// Spent for a resource until its reset.
    RateLimited,
    /// Resting after a secondary limit.
    CoolingDown,
    /// Refused by the server (or marked so); out until added again.
    Invalid,
}

impl TokenStatus {
    /// The status as snapshots spell it: `available`, `rate_limited`,
    /// `cooling_down` or `invalid`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenStatus::Available => "available",
            TokenStatus::RateLimited => "rate_limited",
            TokenStatus::CoolingDown => "cooling_down",
            TokenStatus::Invalid => "invalid",
        }
    }
}

/// One resource of one token, as shown in snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceSnapshot {
    /// Requests allowed per window, if reported.
    pub limit: Option<u64>,
    /// Requests left, if reported for the current window.
    pub remaining: Option<u64>,
    /// Requests used, if reported.
    pub used: Option<u64>,
    /// When the window resets, Unix seconds on this machine's clock.
    pub reset: Option<u64>,
    /// `available` or `rate_limited`.
    pub status: TokenStatus,
    /// Leases of this resource not yet reported.
    pub in_flight: u32,
}

/// One token, as shown in snapshots: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenSnapshot {
    /// Short public name of the token (see [`fingerprint`]).
    pub fingerprint: String,
    /// Its provider.
    pub provider: Provider,
    /// The username given when it was added.
    pub username: Option<String>,
    /// Its priority (higher first under [`Strategy::Priority`]).
    pub priority: i32,
    /// Its overall state: invalid, cooling down, rate limited on any
    /// resource, or available.
    pub status: TokenStatus,
    /// When a cooling or limited token is usable again, Unix seconds.
    pub available_at: Option<u64>,
    /// Figures per rate-limit resource the server has reported on.
    pub resources: BTreeMap<String, ResourceSnapshot>,
}

impl TokenSnapshot {
    fn of<'a>(
        token: &TokenEntry,
        states: impl Iterator<Item = (&'a str, &'a ResourceState)>,
        reserve: Reserve,
        now_ms: u64,
    ) -> TokenSnapshot {
        let mut limited_until: Option<u64> = None;
        let resources: BTreeMap<String, ResourceSnapshot> = states
            .map(|(name, r)| {
                let current = r.reset_ms().is_some_and(|reset| reset > now_ms);
                let limited = r.is_limited(reserve, now_ms);
                if limited {
                    if let Some(reset) = r.reset_ms() {
                        limited_until = Some(limited_until.map_or(reset, |u| u.min(reset)));
                    }
                }
                let snapshot = ResourceSnapshot {
                    limit: r.limit(),
                    remaining: if current { r.remaining() } else { r.limit() },
                    used: if current {
                        r.used()
                    } else {
                        r.limit().map(|_| 0)
                    },
                    reset: r.reset_ms().filter(|_| current).map(ms_to_unix_s),
                    status: if limited {
                        TokenStatus::RateLimited
                    } else {
                        TokenStatus::Available
                    },
                    in_flight: r.in_flight,
                };
                (name.to_string(), snapshot)
            })
            .collect();

        let (status, available_at) = if token.invalid {
            (TokenStatus::Invalid, None)
        } else if token.cooling_until_ms > now_ms {
            (TokenStatus::CoolingDown, Some(token.cooling_until_ms))
        } else if let Some(until) = limited_until {
            (TokenStatus::RateLimited, Some(until))
        } else {
            (TokenStatus::Available, None)
        };

        TokenSnapshot {
            fingerprint: token.secret.fingerprint(),
            provider: token.provider,
            username: token.username.as_deref().map(str::to_string),
            priority: token.priority,
            status,
            available_at: available_at.map(ms_to_unix_s),
            resources,
        }
    }
}

/// Rounds local milliseconds up to whole Unix seconds, so that waiting until
/// the returned second never wakes too early.
pub(crate) fn ms_to_unix_s(ms: u64) -> u64 {
    ms.div_ceil(1000)
}

/// The result of adding a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Added {
    /// The token's fingerprint.
    pub fingerprint: String,
    /// False when the same secret was already in the pool (it was updated,
    /// and made valid again if it was invalid).
    pub is_new: bool,
}

/// A pool of tokens shared by any number of clients and threads.
///
/// Cloning is cheap and gives another handle on the same pool. All methods
/// take `&self` and are safe to call from many threads at once; no lock is
/// held while a request is in flight.
#[derive(Clone)]
pub struct TokenManager {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Box<dyn PoolBackend>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fingerprints: Vec<String> =
            self.snapshot().into_iter().map(|t| t.fingerprint).collect();
        f.debug_struct("TokenManager")
            .field("strategy", &self.strategy())
            .field("tokens", &fingerprints)
            .finish()
    }
}

impl Default for TokenManager {
    fn default() -> Self {
        TokenManager::new()
    }
}

impl TokenManager {
    /// An empty pool on the system clock, rate-aware, with no reserve.
    pub fn new() -> TokenManager {
        TokenManager::with_clock(Arc::new(SystemClock))
    }

    /// An empty pool on the given clock.
    pub fn with_clock(clock: Arc<dyn Clock>) -> TokenManager {
        TokenManager {
            inner: Arc::new(Inner {
                backend: Box::new(MemoryBackend::default()),
                clock,
            }),
        }
    }

    fn now_ms(&self) -> u64 {
        self.inner.clock.now_ms()
    }

    fn backend(&self) -> &dyn PoolBackend {
        &*self.inner.backend
    }

    /// The pool's clock, in milliseconds since the Unix epoch.
    pub fn clock_ms(&self) -> u64 {
        self.now_ms()
    }

    /// Adds a token. Adding a secret already present keeps one entry: its
    /// username (when given) and priority are updated, and an invalid token
    /// becomes usable again.
    pub fn add_token(
        &self,
        provider: Provider,
        secret: &str,
        username: Option<&str>,
        priority: i32,
    ) -> Result<Added> {
        check_secret(secret).map_err(|why| Error::InvalidArgument(why.into()))?;
        let secret = Secret::new(secret);
        let fingerprint = secret.fingerprint();
        let is_new = self.backend().add(
            NewToken {
                provider,
                secret,
                username: username.map(str::to_string),
                priority,
            },
            self.now_ms(),
        );
        log::debug!("token {fingerprint} added (new: {is_new})");
        Ok(Added {
            fingerprint,
            is_new,
        })
    }

    /// Removes a token; its secret is wiped from memory once no lease holds
    /// it. Returns false when the pool did not have it.
    pub fn remove_token(&self, secret: &str) -> bool {
        self.backend()
            .remove(&Secret::new(secret).digest(), self.now_ms())
    }

    /// Sets the selection strategy.
    pub fn set_strategy(&self, strategy: Strategy) {
        self.backend().set_strategy(strategy, self.now_ms());
    }

    /// The selection strategy.
    pub fn strategy(&self) -> Strategy {
        self.backend().strategy()
    }

    /// Sets the reserve kept on every token. A fraction outside 0..=1 or not
    /// finite is refused.
    pub fn set_reserve(&self, reserve: Reserve) -> Result<()> {
        if let Reserve::Fraction(fraction) = reserve {
            if !(0.0..=1.0).contains(&fraction) {
                return Err(Error::InvalidArgument(
                    "the reserve fraction must be between 0 and 1".into(),
                ));
            }
        }
        self.backend().set_reserve(reserve, self.now_ms());
        Ok(())
    }

    /// The reserve kept on every token.
    pub fn reserve(&self) -> Reserve {
        self.backend().reserve()
    }

    /// Takes a token for one request on `resource` (`"core"`, `"search"`,
    /// ...). The lease counts as one use until it is reported or dropped.
    ///
    /// Errors: [`Error::RateLimited`] with the earliest reset when every
    /// valid token is spent or cooling down (or, with a reset one second
    /// away, when the quota left is all held by leases in flight: try again
    /// shortly); [`Error::Auth`] when the pool has no token for `provider`
    /// or every one is invalid.
    pub fn lease(&self, provider: Provider, resource: &str) -> Result<Lease> {
        match self.try_lease(provider, resource)? {
            Some(lease) => Ok(lease),
            None => Err(Error::RateLimited {
                reset: ms_to_unix_s(self.now_ms() + 1000),
                resource: normalise_resource(resource)?,
            }),
        }
    }

    /// Like [`TokenManager::lease`], but `Ok(None)` when the only quota left
    /// is held by leases in flight, so the caller can wait for them.
    pub(crate) fn try_lease(&self, provider: Provider, resource: &str) -> Result<Option<Lease>> {
        let resource = resource_key(resource)?;
        let now = self.now_ms();
        match self.backend().acquire(provider, &resource, now) {
            Ok(grant) => Ok(Some(Lease {
                manager: self.clone(),
                grant,
                resource,
                open: true,
            })),
            Err(Refusal::Busy) => Ok(None),
            Err(refusal) => Err(self.refusal_error(refusal, provider, resource.into_owned())),
        }
    }

    fn refusal_error(&self, refusal: Refusal, provider: Provider, resource: String) -> Error {
        let provider = format!("{provider:?}").to_lowercase();
        match refusal {
            Refusal::Empty => Error::Auth(format!("the pool holds no {provider} token")),
            Refusal::AllInvalid => Error::Auth(format!("every {provider} token is invalid")),
            Refusal::Busy => Error::RateLimited {
                reset: ms_to_unix_s(self.now_ms() + 1000),
                resource,
            },
            Refusal::Exhausted { until_ms } => Error::RateLimited {
                reset: ms_to_unix_s(until_ms),
                resource,
            },
        }
    }

    /// How many tokens of `provider` could serve a request on `resource` now.
    /// A resource name that is not valid counts no token.
    pub fn count_available(&self, provider: Provider, resource: &str) -> usize {
        match normalise_resource(resource) {
            Ok(resource) => self
                .backend()
                .count_available(provider, &resource, self.now_ms()),
            Err(_) => 0,
        }
    }

    /// The earliest time (Unix seconds) at which a token of `provider` that
    /// is now spent or cooling down for `resource` becomes usable again;
    /// `None` when no such token exists.
    pub fn earliest_reset(&self, provider: Provider, resource: &str) -> Option<u64> {
        let resource = normalise_resource(resource).ok()?;
        self.backend()
            .earliest_reset(provider, &resource, self.now_ms())
            .map(ms_to_unix_s)
    }

    /// Every token, in the order added, without secrets.
    pub fn snapshot(&self) -> Vec<TokenSnapshot> {
        self.backend().snapshot(self.now_ms())
    }

    /// Marks a token invalid; it stays out until added again. Returns false
    /// when the pool does not have it.
    pub fn mark_invalid(&self, secret: &str) -> bool {
        match self.backend().find(&Secret::new(secret).digest()) {
            Some(id) => self.backend().mark_invalid(id, self.now_ms()),
            None => false,
        }
    }

    /// Records a response that was made with `secret` outside any lease:
    /// its figures, and what its status means for the token. Returns the
    /// verdict, or `None` when the pool does not have the token.
    pub fn update_from_response(
        &self,
        secret: &str,
        head: &ResponseHead,
        body: &ErrorBody,
    ) -> Option<Classification> {
        let id = self.backend().find(&Secret::new(secret).digest())?;
        let now = self.now_ms();
        let verdict = classify(head, body, now);
        self.backend()
            .record(id, DEFAULT_RESOURCE, &verdict, now)
            .then_some(verdict)
    }

    /// Records the rate-limit headers of a successful response made with
    /// `secret`. A response without rate-limit headers changes nothing.
    pub fn update_from_headers<'a, I>(&self, secret: &str, headers: I) -> bool
    where
        I: IntoIterator<Item = (&'a str, &'a [u8])>,
    {
        let head = ResponseHead::from_pairs(200, headers);
        self.update_from_response(secret, &head, &ErrorBody::default())
            .is_some()
    }

    /// Every token of `provider` with its id, for calls that must visit each
    /// one (refreshing rate limits, validating).
    pub(crate) fn members(&self, provider: Provider) -> Vec<Member> {
        self.backend()
            .tokens(Some(provider))
            .into_iter()
            .map(|(id, secret)| Member { id, secret })
            .collect()
    }

    /// The id of the token whose secret has this digest.
    pub(crate) fn find(&self, digest: &[u8; 32]) -> Option<u64> {
        self.backend().find(digest)
    }

    /// Records a verdict for a member outside any lease.
    pub(crate) fn record_for(&self, id: u64, resource: &str, verdict: &Classification) {
        self.backend().record(id, resource, verdict, self.now_ms());
    }

    /// True when `secret` is in the pool.
    pub fn contains(&self, secret: &str) -> bool {
        self.backend().find(&Secret::new(secret).digest()).is_some()
    }
}

/// A token of the pool, named by id, for internal visits.
pub(crate) struct Member {
    pub id: u64,
    pub secret: Arc<Secret>,
}

impl Member {
    pub fn fingerprint(&self) -> String {
        self.secret.fingerprint()
    }
}

/// A resource name as the pool keys it: trimmed, lowercased, "core" when
/// empty; names other than letters, digits, '_' and '-' are refused.
pub(crate) fn normalise_resource(resource: &str) -> Result<String> {
    resource_key(resource).map(Cow::into_owned)
}

/// GitHub's rate-limit resources: a lease on one of these names keeps a
/// static string rather than a copy.
const KNOWN_RESOURCES: [&str; 12] = [
    "core",
    "search",
    "graphql",
    "code_search",
    "integration_manifest",
    "source_import",
    "code_scanning_upload",
    "code_scanning_autofix",
    "actions_runner_registration",
    "scim",
    "dependency_snapshots",
    "audit_log",
];

/// [`normalise_resource`] without a copy for the usual names.
fn resource_key(resource: &str) -> Result<Cow<'static, str>> {
    if let Some(known) = KNOWN_RESOURCES.iter().find(|known| **known == resource) {
        return Ok(Cow::Borrowed(known));
    }
    let resource = resource.trim();
    if resource.is_empty() {
        return Ok(Cow::Borrowed(DEFAULT_RESOURCE));
    }
    let valid = resource.len() <= 64
        && resource
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !valid {
        return Err(Error::InvalidArgument(
            "a resource name is letters, digits, '_' or '-' (at most 64)".into(),
        ));
    }
    let resource = resource.to_ascii_lowercase();
    match KNOWN_RESOURCES.iter().find(|known| **known == resource) {
        Some(known) => Ok(Cow::Borrowed(known)),
        None => Ok(Cow::Owned(resource)),
    }
}

/// One token taken for one request. It counts as one use of the resource's
/// quota until [`Lease::report`] gives the real figures; dropping it
/// unreported gives the use back.
pub struct Lease {
    manager: TokenManager,
    grant: Grant,
    resource: Cow<'static, str>,
    open: bool,
}

impl fmt::Debug for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lease")
            .field("token", &self.fingerprint())
            .field("resource", &self.resource)
            .finish()
    }
}

impl Lease {
    /// The secret to send, as `Authorization: Bearer <secret>`.
    pub fn secret(&self) -> &str {
        self.grant.secret.expose()
    }

    /// The token's fingerprint.
    pub fn fingerprint(&self) -> String {
        self.grant.secret.fingerprint()
    }

    /// The resource this lease counts against.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// Reports the response: the pool records its figures and what its
    /// status means for the token, and the verdict is returned.
    pub fn report(mut self, head: &ResponseHead, body: &ErrorBody) -> Classification {
        let now = self.manager.now_ms();
        let verdict = classify(head, body, now);
        self.close(Some(&verdict), now);
        verdict
    }

    /// Gives the lease back without a response (the request was never made,
    /// or the connection failed before any answer).
    pub fn release(mut self) {
        let now = self.manager.now_ms();
        self.close(None, now);
    }

    fn close(&mut self, verdict: Option<&Classification>, now_ms: u64) {
        if std::mem::take(&mut self.open) {
            self.manager.backend().finish(&self.grant, verdict, now_ms);
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if self.open {
            let now = self.manager.now_ms();
            self.close(None, now);
        }
    }
}
