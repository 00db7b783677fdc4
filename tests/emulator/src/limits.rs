//! Rate-limit bookkeeping: per-token windows for each resource, secondary limits and the
//! request statistics. Everything here runs under the emulator's one lock.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::{Duration, SystemTime};

use crate::config::{Config, TokenSpec};
use crate::world::World;

/// Search quota of requests without a token, as on GitHub.
const ANONYMOUS_SEARCH_QUOTA: u32 = 10;

/// Request statistics of a running emulator. Tokens appear by login, never by secret.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Every request received.
    pub total_requests: u64,
    /// Per token login.
    pub per_token: BTreeMap<String, TokenStats>,
    /// Requests without an `Authorization` header.
    pub unauthenticated: u64,
    /// Requests whose token the emulator never knew (or whose header it could not read).
    pub unknown_token: u64,
    /// Every request read, including those a fault kept from the rate limiter (which
    /// `total_requests` counts).
    pub received: u64,
    /// Requests that were given a fault.
    pub faults_injected: u64,
}

/// What happened to the requests that carried one token.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenStats {
    /// Every request that carried the token.
    pub requests: u64,
    /// Answers 2xx or 304.
    pub successes: u64,
    /// Requests that arrived with the quota of their resource already spent (primary limit).
    pub on_spent: u64,
    /// 401 answers because the token was revoked.
    pub unauthorized: u64,
    /// Secondary rate-limit answers.
    pub secondary: u64,
}

/// A rate-limited resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Resource {
    /// Everything but search.
    Core,
    /// `/search/...`.
    Search,
}

impl Resource {
    /// The name GitHub uses in `x-ratelimit-resource` and `/rate_limit`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Resource::Core => "core",
            Resource::Search => "search",
        }
    }

    fn from_name(name: &str) -> Option<Resource> {
        match name {
            "core" => Some(Resource::Core),
            "search" => Some(Resource::Search),
            _ => None,
        }
    }
}

/// The credential a request carried. `Debug` never shows a secret.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Credential {
    /// No `Authorization` header.
    Anonymous,
    /// `Bearer X` or `token X`.
    Token(String),
    /// An `Authorization` header of another form.
    Malformed,
}

impl Credential {
    /// Reads an `Authorization` header value.
    pub(crate) fn from_header(value: Option<&str>) -> Credential {
        let Some(value) = value else {
            return Credential::Anonymous;
        };
        let (scheme, secret) = value.trim().split_once(' ').unwrap_or((value, ""));
        let secret = secret.trim();
        let known_scheme =
            scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token");
        if known_scheme && !secret.is_empty() {
            Credential::Token(secret.to_string())
        } else {
            Credential::Malformed
        }
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Anonymous => f.write_str("Anonymous"),
            Credential::Token(_) => f.write_str("Token(<redacted>)"),
            Credential::Malformed => f.write_str("Malformed"),
        }
    }
}

/// The state of one bucket as reported in headers and `/rate_limit`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Snapshot {
    pub(crate) limit: u32,
    pub(crate) used: u32,
    /// Real time at which the window ends (or would end if it started now).
    pub(crate) reset_at: SystemTime,
    pub(crate) resource: Resource,
}

impl Snapshot {
    pub(crate) fn remaining(&self) -> u32 {
        self.limit.saturating_sub(self.used)
    }
}

/// A quota per window. A window starts with the first counted request and ends `window`
/// later; the first request after that starts a new one.
#[derive(Clone, Debug)]
struct Bucket {
    limit: u32,
    used: u32,
    ends: Option<SystemTime>,
}

impl Bucket {
    fn new(limit: u32) -> Self {
        Bucket {
            limit,
            used: 0,
            ends: None,
        }
    }

    /// Forgets a window that has passed.
    fn expire(&mut self, now: SystemTime) {
        if self.ends.is_some_and(|end| now >= end) {
            self.ends = None;
            self.used = 0;
        }
    }

    fn view(&mut self, now: SystemTime, window: Duration, resource: Resource) -> Snapshot {
        self.expire(now);
        Snapshot {
            limit: self.limit,
            used: self.used,
            reset_at: self.ends.unwrap_or(now + window),
            resource,
        }
    }

    fn is_spent(&mut self, now: SystemTime) -> bool {
        self.expire(now);
        self.used >= self.limit
    }

    /// Counts one request, starting a window if none is running.
    fn take(&mut self, now: SystemTime, window: Duration) {
        self.expire(now);
        self.ends.get_or_insert(now + window);
        self.used = self.used.saturating_add(1);
    }

    fn restart(&mut self, now: SystemTime, window: Duration) {
        self.used = 0;
        self.ends = Some(now + window);
    }

    fn set_remaining(&mut self, now: SystemTime, window: Duration, remaining: u32) {
        self.expire(now);
        self.ends.get_or_insert(now + window);
        self.used = self.limit.saturating_sub(remaining);
    }
}

/// Both buckets of one caller.
#[derive(Clone, Debug)]
struct Buckets {
    core: Bucket,
    search: Bucket,
}

impl Buckets {
    fn new(core: u32, search: u32) -> Self {
        Buckets {
            core: Bucket::new(core),
            search: Bucket::new(search),
        }
    }

    fn get(&mut self, resource: Resource) -> &mut Bucket {
        match resource {
            Resource::Core => &mut self.core,
            Resource::Search => &mut self.search,
        }
    }
}

/// Secondary-limit answers still owed to a token.
#[derive(Clone, Copy, Debug)]
struct Secondary {
    left: u32,
    retry_after: Option<u64>,
}

/// A known token. Kept in a map keyed by secret, which is never printed.
struct Account {
    login: String,
    user_id: u64,
    revoked: bool,
    buckets: Buckets,
    secondary: Option<Secondary>,
}

/// Who a request comes from, as far as building its answer is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Caller {
    Anonymous,
    User {
        login: String,
        user_id: u64,
    },
    /// Unknown, revoked or unreadable token: the answer is 401 whatever was asked.
    Rejected,
}

/// What the rate limiter decided about a request.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// 401 Bad credentials, with the unauthenticated bucket in the headers.
    BadCredentials(Snapshot),
    /// Secondary rate limit.
    Secondary {
        snapshot: Snapshot,
        retry_after: Option<u64>,
    },
    /// Primary rate limit; `user_id` is `None` for requests without a token.
    Primary {
        snapshot: Snapshot,
        user_id: Option<u64>,
    },
    /// 304: the client's copy is current. Not counted.
    NotModified(Snapshot),
    /// Answer as the endpoint said; the snapshot already includes this request.
    Proceed(Snapshot),
}

/// How a request looks to the rate limiter.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Attempt {
    /// `None` for `/rate_limit`, which counts against nothing.
    pub(crate) resource: Option<Resource>,
    /// The endpoint's status before rate limiting.
    pub(crate) status: u16,
    /// The client's `If-None-Match` matches the answer's ETag.
    pub(crate) etag_matches: bool,
    /// `Some(retry_after)` when a fault forces a secondary-limit answer.
    pub(crate) forced_secondary: Option<Option<u64>>,
}

/// All rate-limit state of one emulator. No `Debug`: its map is keyed by secrets.
pub(crate) struct Limits {
    window: Duration,
    search_quota: u32,
    accounts: HashMap<String, Account>,
    anonymous: Buckets,
    stats: Stats,
}

impl Limits {
    pub(crate) fn new(config: &Config, world: &World) -> Self {
        let mut limits = Limits {
            window: config.window,
            search_quota: config.search_quota,
            accounts: HashMap::new(),
            anonymous: Buckets::new(config.unauthenticated_quota, ANONYMOUS_SEARCH_QUOTA),
            stats: Stats::default(),
        };
        for spec in &config.tokens {
            limits.add_token(spec.clone(), world);
        }
        limits
    }

    /// Adds a token, or replaces the one with the same secret (its windows start afresh).
    pub(crate) fn add_token(&mut self, spec: TokenSpec, world: &World) {
        let user_id = world.user_id(&spec.login);
        self.stats.per_token.entry(spec.login.clone()).or_default();
        let account = Account {
            login: spec.login,
            user_id,
            revoked: spec.revoked,
            buckets: Buckets::new(spec.quota, self.search_quota),
            secondary: None,
        };
        self.accounts.insert(spec.secret, account);
    }

    pub(crate) fn revoke(&mut self, secret: &str) {
        if let Some(account) = self.accounts.get_mut(secret) {
            account.revoked = true;
        }
    }

    pub(crate) fn set_remaining(&mut self, secret: &str, resource: &str, remaining: u32) {
        let window = self.window;
        let (Some(account), Some(resource)) =
            (self.accounts.get_mut(secret), Resource::from_name(resource))
        else {
            return;
        };
        account
            .buckets
            .get(resource)
            .set_remaining(SystemTime::now(), window, remaining);
    }

    pub(crate) fn expire_window(&mut self, secret: &str) {
        let now = SystemTime::now();
        if let Some(account) = self.accounts.get_mut(secret) {
            account.buckets.core.restart(now, self.window);
            account.buckets.search.restart(now, self.window);
        }
    }

    pub(crate) fn trigger_secondary(&mut self, secret: &str, count: u32, retry_after: Option<u64>) {
        if let Some(account) = self.accounts.get_mut(secret) {
            account.secondary = (count > 0).then_some(Secondary {
                left: count,
                retry_after,
            });
        }
    }

    pub(crate) fn stats(&self) -> Stats {
        self.stats.clone()
    }

    /// Who the credential belongs to.
    pub(crate) fn identify(&self, credential: &Credential) -> Caller {
        match credential {
            Credential::Anonymous => Caller::Anonymous,
            Credential::Malformed => Caller::Rejected,
            Credential::Token(secret) => match self.accounts.get(secret) {
                Some(account) if !account.revoked => Caller::User {
                    login: account.login.clone(),
                    user_id: account.user_id,
                },
                _ => Caller::Rejected,
            },
        }
    }

    /// Core and search buckets of the caller, without counting anything; `None` if rejected.
    pub(crate) fn view_all(&mut self, credential: &Credential) -> Option<[Snapshot; 2]> {
        let now = SystemTime::now();
        let window = self.window;
        let buckets = match credential {
            Credential::Anonymous => &mut self.anonymous,
            Credential::Malformed => return None,
            Credential::Token(secret) => match self.accounts.get_mut(secret) {
                Some(account) if !account.revoked => &mut account.buckets,
                _ => return None,
            },
        };
        Some([
            buckets.core.view(now, window, Resource::Core),
            buckets.search.view(now, window, Resource::Search),
        ])
    }

    /// Decides how to answer a request and records it in the statistics.
    pub(crate) fn admit(&mut self, credential: &Credential, attempt: Attempt) -> Verdict {
        let now = SystemTime::now();
        self.stats.total_requests += 1;
        let account = match credential {
            Credential::Token(secret) => self.accounts.get_mut(secret),
            Credential::Anonymous | Credential::Malformed => None,
        };
        let subject = match (credential, account) {
            (Credential::Anonymous, _) => {
                self.stats.unauthenticated += 1;
                Subject {
                    buckets: &mut self.anonymous,
                    secondary: None,
                    user_id: None,
                    stats: None,
                }
            }
            (_, Some(account)) => {
                let stats = self
                    .stats
                    .per_token
                    .entry(account.login.clone())
                    .or_default();
                stats.requests += 1;
                if account.revoked {
                    stats.unauthorized += 1;
                    let snapshot = self.anonymous.core.view(now, self.window, Resource::Core);
                    return Verdict::BadCredentials(snapshot);
                }
                Subject {
                    buckets: &mut account.buckets,
                    secondary: account.secondary.as_mut(),
                    user_id: Some(account.user_id),
                    stats: Some(stats),
                }
            }
            (_, None) => {
                self.stats.unknown_token += 1;
                let snapshot = self.anonymous.core.view(now, self.window, Resource::Core);
                return Verdict::BadCredentials(snapshot);
            }
        };
        subject.judge(attempt, now, self.window)
    }
}

/// The state a request with acceptable credentials is judged on.
struct Subject<'a> {
    buckets: &'a mut Buckets,
    secondary: Option<&'a mut Secondary>,
    /// `None` without a token.
    user_id: Option<u64>,
    /// `None` without a token: anonymous requests have no per-token statistics.
    stats: Option<&'a mut TokenStats>,
}

impl Subject<'_> {
    /// In order: a pending secondary limit, a spent quota, a matching ETag, else the answer
    /// stands and counts against the quota (unless it is a 401 or `/rate_limit`).
    fn judge(self, attempt: Attempt, now: SystemTime, window: Duration) -> Verdict {
        let resource = attempt.resource.unwrap_or(Resource::Core);
        let bucket = self.buckets.get(resource);
        let mut anonymous_stats = TokenStats::default();
        let stats = self.stats.unwrap_or(&mut anonymous_stats);

        if let Some(retry_after) = attempt.forced_secondary {
            stats.secondary += 1;
            let snapshot = bucket.view(now, window, resource);
            return Verdict::Secondary {
                snapshot,
                retry_after,
            };
        }
        if let Some(pending) = self.secondary.filter(|pending| pending.left > 0) {
            pending.left -= 1;
            stats.secondary += 1;
            let snapshot = bucket.view(now, window, resource);
            return Verdict::Secondary {
                snapshot,
                retry_after: pending.retry_after,
            };
        }
        if attempt.resource.is_some() && bucket.is_spent(now) {
            stats.on_spent += 1;
            let snapshot = bucket.view(now, window, resource);
            return Verdict::Primary {
                snapshot,
                user_id: self.user_id,
            };
        }
        if attempt.etag_matches {
            stats.successes += 1;
            return Verdict::NotModified(bucket.view(now, window, resource));
        }
        if attempt.resource.is_some() && attempt.status != 401 {
            bucket.take(now, window);
        }
        if (200..300).contains(&attempt.status) {
            stats.successes += 1;
        }
        Verdict::Proceed(bucket.view(now, window, resource))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(resource: Option<Resource>) -> Attempt {
        Attempt {
            resource,
            status: 200,
            etag_matches: false,
            forced_secondary: None,
        }
    }

    fn limits_with(spec: TokenSpec) -> Limits {
        let config = Config {
            tokens: vec![spec],
            ..Config::default()
        };
        Limits::new(&config, &World::new(&config.owners))
    }

    fn token(secret: &str) -> Credential {
        Credential::Token(secret.to_string())
    }

    #[test]
    fn reads_authorization_headers() {
        assert_eq!(Credential::from_header(None), Credential::Anonymous);
        assert_eq!(Credential::from_header(Some("Bearer abc")), token("abc"));
        assert_eq!(Credential::from_header(Some("token abc")), token("abc"));
        assert_eq!(Credential::from_header(Some("BEARER  abc ")), token("abc"));
        assert_eq!(
            Credential::from_header(Some("Basic abc")),
            Credential::Malformed
        );
        assert_eq!(
            Credential::from_header(Some("Bearer")),
            Credential::Malformed
        );
        assert_eq!(format!("{:?}", token("abc")), "Token(<redacted>)");
    }

    #[test]
    fn counts_down_then_answers_primary() {
        let mut limits = limits_with(TokenSpec::new("s", 2).login("me"));
        for left in [1, 0] {
            match limits.admit(&token("s"), attempt(Some(Resource::Core))) {
                Verdict::Proceed(snapshot) => assert_eq!(snapshot.remaining(), left),
                other => panic!("{other:?}"),
            }
        }
        let verdict = limits.admit(&token("s"), attempt(Some(Resource::Core)));
        assert!(
            matches!(
                verdict,
                Verdict::Primary {
                    user_id: Some(_),
                    ..
                }
            ),
            "{verdict:?}"
        );
        let search = limits.admit(&token("s"), attempt(Some(Resource::Search)));
        assert!(matches!(search, Verdict::Proceed(s) if s.remaining() == 29));
        let stats = &limits.stats().per_token["me"];
        assert_eq!((stats.requests, stats.successes, stats.on_spent), (4, 3, 1));
    }

    #[test]
    fn not_modified_and_rate_limit_do_not_count() {
        let mut limits = limits_with(TokenSpec::new("s", 5).login("me"));
        let conditional = Attempt {
            etag_matches: true,
            ..attempt(Some(Resource::Core))
        };
        assert!(
            matches!(limits.admit(&token("s"), conditional), Verdict::NotModified(s)
            if s.remaining() == 5)
        );
        assert!(
            matches!(limits.admit(&token("s"), attempt(None)), Verdict::Proceed(s)
            if s.remaining() == 5)
        );
    }

    #[test]
    fn secondary_is_owed_count_times_without_spending_quota() {
        let mut limits = limits_with(TokenSpec::new("s", 5).login("me"));
        limits.trigger_secondary("s", 2, Some(7));
        for _ in 0..2 {
            let verdict = limits.admit(&token("s"), attempt(Some(Resource::Core)));
            assert!(
                matches!(verdict, Verdict::Secondary { retry_after: Some(7), snapshot }
                if snapshot.remaining() == 5)
            );
        }
        assert!(matches!(
            limits.admit(&token("s"), attempt(Some(Resource::Core))),
            Verdict::Proceed(_)
        ));
        assert_eq!(limits.stats().per_token["me"].secondary, 2);
    }

    #[test]
    fn window_expiry_refills() {
        let mut bucket = Bucket::new(2);
        let start = SystemTime::now();
        let window = Duration::from_secs(10);
        bucket.take(start, window);
        bucket.take(start + Duration::from_secs(1), window);
        assert!(bucket.is_spent(start + Duration::from_secs(9)));
        let view = bucket.view(start + Duration::from_secs(9), window, Resource::Core);
        assert_eq!(view.reset_at, start + window);
        assert!(!bucket.is_spent(start + window));
        bucket.take(start + Duration::from_secs(12), window);
        let view = bucket.view(start + Duration::from_secs(12), window, Resource::Core);
        assert_eq!(
            (view.used, view.reset_at),
            (1, start + Duration::from_secs(22))
        );
    }

    #[test]
    fn revoked_and_unknown_tokens_are_rejected() {
        let mut limits = limits_with(TokenSpec::new("s", 5).login("me"));
        assert!(matches!(limits.identify(&token("s")), Caller::User { .. }));
        limits.revoke("s");
        assert_eq!(limits.identify(&token("s")), Caller::Rejected);
        assert!(matches!(
            limits.admit(&token("s"), attempt(Some(Resource::Core))),
            Verdict::BadCredentials(s) if s.limit == 60
        ));
        limits.admit(&token("nope"), attempt(Some(Resource::Core)));
        let stats = limits.stats();
        assert_eq!(
            (stats.per_token["me"].unauthorized, stats.unknown_token),
            (1, 1)
        );
    }
}
