//! A blocking GitHub REST client that draws its tokens from a
//! [`TokenManager`].
//!
//! Each request takes a lease on a token, sends on the client's one ureq
//! agent, and reports the response to the pool. A primary limit, a secondary
//! limit or a 401 sends the request again on another token within the retry
//! budget; 5xx and network errors are retried with backoff. Lists follow
//! `Link: rel="next"` to the end.

pub(crate) mod links;
pub mod models;
mod transport;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::cancel::CancelToken;
use crate::classify::{classify, Classification, ErrorBody, Figures, Outcome};
use crate::error::{Error, Result};
use crate::pool::{
    ms_to_unix_s, Lease, Member, Provider, SecretToken, TokenManager, TokenStatus, DEFAULT_RESOURCE,
};
use models::{
    Branch, Contributor, RateLimit, Repository, RepositoryDetails, TokenRateLimit, TokenValidation,
    User,
};
use transport::{RawResponse, Transport, TransportConfig};

/// GitHub's public API.
pub const DEFAULT_BASE_URL: &str = "https://api.github.com";

/// Items per page asked for on every list (GitHub's maximum).
const PER_PAGE: u32 = 100;

/// Longest pause between retries of a 5xx or a network error.
const MAX_BACKOFF: Duration = Duration::from_secs(8);

/// Longest random delay added to a wait for a rate-limit reset, so callers
/// waiting on the same reset do not all wake in the same millisecond.
const MAX_RESET_JITTER_MS: u64 = 1000;

/// Pause while every unit of quota left is held by requests in flight.
const SETTLE_WAIT: Duration = Duration::from_millis(5);

/// How many settle pauses one lease may take (a minute in all): requests in
/// flight end by their timeout long before.
const MAX_SETTLE_WAITS: u32 = 12_000;

/// How a [`Client`] is built.
#[derive(Clone)]
pub struct ClientOptions {
    /// API root: `https://api.github.com`, or `https://HOST/api/v3` for
    /// GitHub Enterprise.
    pub base_url: String,
    /// A token that joins the pool (once, even if already there).
    pub token: Option<SecretToken>,
    /// The pool to draw tokens from. Without one and without `token`, the
    /// client sends unauthenticated requests.
    pub manager: Option<TokenManager>,
    /// `User-Agent` header (GitHub refuses requests without one).
    pub user_agent: String,
    /// Limit on each phase of one request: sending it, waiting for the
    /// head of the answer, reading its body (so at most about three times
    /// this in all, plus the connection).
    pub timeout: Duration,
    /// Limit on opening a connection.
    pub connect_timeout: Duration,
    /// How many times one request may be sent again: on another token after
    /// a limit or a 401, or after a 5xx or a network error.
    pub max_retries: u32,
    /// How long one call may wait in all for a rate-limit reset when every
    /// token is spent. Zero (the default) returns the rate-limit error at once.
    pub max_wait: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            base_url: DEFAULT_BASE_URL.to_string(),
            token: None,
            manager: None,
            user_agent: concat!("gitfleet/", env!("CARGO_PKG_VERSION")).to_string(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_retries: 8,
            max_wait: Duration::ZERO,
        }
    }
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("base_url", &self.base_url)
            .field("token", &self.token)
            .field("manager", &self.manager)
            .field("user_agent", &self.user_agent)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_retries", &self.max_retries)
            .field("max_wait", &self.max_wait)
            .finish()
    }
}

/// A GitHub REST client. Cheap to clone (clones share the connection pool
/// and the token pool) and safe to use from many threads at once.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    base_url: String,
    origin: String,
    pool: Option<TokenManager>,
    /// The fingerprint of `ClientOptions::token`, for [`Client::rate_limit`].
    default_token: Option<[u8; 32]>,
    max_retries: u32,
    max_wait: Duration,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("pool", &self.inner.pool)
            .finish()
    }
}

/// What one call carries through its requests.
struct Call<'a> {
    cancel: &'a CancelToken,
    /// Milliseconds this call may still spend waiting for resets.
    wait_left_ms: u64,
}

/// One page of a response.
struct Page {
    status: u16,
    body: Vec<u8>,
    next: Option<String>,
}

impl Client {
    /// Builds a client. The token in `options`, if any, is added to the pool
    /// (a private pool when none is given).
    pub fn new(options: ClientOptions) -> Result<Client> {
        let base_url = options.base_url.trim().trim_end_matches('/').to_string();
        let origin = check_base_url(&base_url)?;
        if options.user_agent.is_empty() || options.user_agent.chars().any(char::is_control) {
            return Err(Error::InvalidArgument(
                "the user agent must be non-empty printable text".into(),
            ));
        }

        let mut pool = options.manager.clone();
        let mut default_token = None;
        if let Some(token) = options.token.as_ref().map(SecretToken::expose) {
            let pool = pool.get_or_insert_with(TokenManager::new);
            pool.add_token(Provider::GitHub, token, None, 0)?;
            default_token = Some(crate::pool::Secret::new(token).digest());
        }

        let transport = Transport::new(&TransportConfig {
            user_agent: &options.user_agent,
            timeout: options.timeout,
            connect_timeout: options.connect_timeout,
        });
        Ok(Client {
            inner: Arc::new(Inner {
                transport,
                base_url,
                origin,
                pool,
                default_token,
                max_retries: options.max_retries,
                max_wait: options.max_wait,
            }),
        })
    }

    /// The pool this client draws from, if it has one.
    pub fn manager(&self) -> Option<&TokenManager> {
        self.inner.pool.as_ref()
    }

    /// The API root in use.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    // ---- calls ---------------------------------------------------------

    /// The rate limits of one token: the client's default token, else the
    /// pool's first valid token; the caller's IP (unauthenticated) only when
    /// the client has neither a token nor a pool, as for every other call.
    /// The figures are recorded in the pool.
    /// `GET /rate_limit` costs no quota.
    pub fn rate_limit(&self, cancel: &CancelToken) -> Result<RateLimit> {
        let mut call = self.call(cancel);
        let member = self.rate_limit_member();
        if member.is_none() && self.inner.pool.is_some() {
            return Err(Error::Auth("the pool holds no valid github token".into()));
        }
        let response = self.send_once(&mut call, "/rate_limit", member.as_ref())?;
        self.apply_rate_limit(member.as_ref(), &response)
    }

    /// Refreshes every pooled token's figures, all resources, from
    /// `GET /rate_limit` (no quota used). Results are keyed by fingerprint;
    /// a token that could not be read carries its error instead.
    pub fn refresh_rate_limits(
        &self,
        cancel: &CancelToken,
    ) -> Result<BTreeMap<String, TokenRateLimit>> {
        let mut call = self.call(cancel);
        let mut results = BTreeMap::new();
        for member in self.members() {
            let fingerprint = member.fingerprint();
            let outcome = self
                .send_once(&mut call, "/rate_limit", Some(&member))
                .and_then(|response| self.apply_rate_limit(Some(&member), &response));
            if outcome == Err(Error::Cancelled) {
                return Err(Error::Cancelled);
            }
            let (rate_limit, error) = match outcome {
                Ok(rate_limit) => (Some(rate_limit), None),
                Err(error) => (None, Some(error.to_string())),
            };
            results.insert(
                fingerprint.clone(),
                TokenRateLimit {
                    fingerprint,
                    status: String::new(),
                    rate_limit,
                    error,
                },
            );
        }

        // One snapshot gives every token's status after the refresh.
        let snapshot = self.inner.pool.as_ref().map(TokenManager::snapshot);
        for token in snapshot.unwrap_or_default() {
            if let Some(result) = results.get_mut(&token.fingerprint) {
                result.status = token.status.as_str().to_string();
            }
        }
        Ok(results)
    }

    /// The account of the token used (`GET /user`).
    pub fn authenticated_user(&self, cancel: &CancelToken) -> Result<User> {
        self.get_json(&mut self.call(cancel), "/user")
    }

    /// A user or organisation by login (`GET /users/{login}`).
    pub fn user(&self, login: &str, cancel: &CancelToken) -> Result<User> {
        let path = format!("/users/{}", links::segment("login", login)?);
        self.get_json(&mut self.call(cancel), &path)
    }

    /// Every repository of a user or organisation, all pages
    /// (`GET /users/{owner}/repos`).
    pub fn owner_repositories(&self, owner: &str, cancel: &CancelToken) -> Result<Vec<Repository>> {
        let path = format!("/users/{}/repos", links::segment("owner", owner)?);
        self.get_list(&mut self.call(cancel), &path)
    }

    /// One repository in full (`GET /repos/{owner}/{repo}`).
    pub fn repository(
        &self,
        owner: &str,
        repo: &str,
        cancel: &CancelToken,
    ) -> Result<RepositoryDetails> {
        let path = repo_path(owner, repo, "")?;
        self.get_json(&mut self.call(cancel), &path)
    }

    /// Every contributor of a repository, all pages; an empty repository
    /// (GitHub's 204) gives an empty list.
    pub fn contributors(
        &self,
        owner: &str,
        repo: &str,
        cancel: &CancelToken,
    ) -> Result<Vec<Contributor>> {
        let path = repo_path(owner, repo, "/contributors")?;
        self.get_list(&mut self.call(cancel), &path)
    }

    /// Every branch of a repository, all pages.
    pub fn branches(&self, owner: &str, repo: &str, cancel: &CancelToken) -> Result<Vec<Branch>> {
        let path = repo_path(owner, repo, "/branches")?;
        self.get_list(&mut self.call(cancel), &path)
    }

    /// Checks one token against `GET /user` (one unit of its quota). A token
    /// in the pool is also updated there (marked invalid on a 401). Only a
    /// 401 makes a token invalid; a rate-limited token is valid.
    pub fn validate_token(&self, token: &str, cancel: &CancelToken) -> Result<TokenValidation> {
        crate::pool::check_secret(token).map_err(|why| Error::InvalidArgument(why.into()))?;
        let mut call = self.call(cancel);
        let member = self
            .members()
            .into_iter()
            .find(|m| m.secret.expose() == token);
        let fingerprint = crate::pool::fingerprint(token);
        match &member {
            Some(member) => self.check_member(&mut call, member),
            None => {
                let response = self.send_raw(&mut call, "/user", Some(token))?;
                let verdict = classify(&response.head, &error_body(&response), self.now_ms());
                self.validation(fingerprint, &verdict, &response)
            }
        }
    }

    /// Checks every pooled token against `GET /user`; results keyed by
    /// fingerprint. Refused tokens are marked invalid in the pool; a token
    /// that could not be checked (network error) carries the error.
    pub fn validate_pool(&self, cancel: &CancelToken) -> Result<BTreeMap<String, TokenValidation>> {
        let mut call = self.call(cancel);
        let mut results = BTreeMap::new();
        for member in self.members() {
            let fingerprint = member.fingerprint();
            let result = match self.check_member(&mut call, &member) {
                Ok(result) => result,
                Err(Error::Cancelled) => return Err(Error::Cancelled),
                Err(error) => TokenValidation {
                    fingerprint: fingerprint.clone(),
                    valid: self.status_of(&fingerprint) != Some(TokenStatus::Invalid),
                    login: None,
                    error: Some(format!("not checked: {error}")),
                },
            };
            results.insert(fingerprint, result);
        }
        Ok(results)
    }

    fn check_member(&self, call: &mut Call<'_>, member: &Member) -> Result<TokenValidation> {
        let (response, verdict) = self.send_recorded(call, "/user", Some(member))?;
        self.validation(member.fingerprint(), &verdict, &response)
    }

    fn validation(
        &self,
        fingerprint: String,
        verdict: &Classification,
        response: &RawResponse,
    ) -> Result<TokenValidation> {
        let (valid, error) = match &verdict.outcome {
            Outcome::Success => (true, None),
            Outcome::Invalid => (
                false,
                Some("the credentials were refused (401)".to_string()),
            ),
            Outcome::PrimaryLimit { .. } | Outcome::SecondaryLimit { .. } => (
                true,
                Some("rate limited; the login could not be read".to_string()),
            ),
            _ => {
                let body = error_body(response);
                return Err(self.error_for(verdict, response, &body, DEFAULT_RESOURCE));
            }
        };
        let login = (verdict.outcome == Outcome::Success)
            .then(|| serde_json::from_slice::<User>(&response.body).ok())
            .flatten()
            .map(|user| user.login);
        Ok(TokenValidation {
            fingerprint,
            valid,
            login,
            error,
        })
    }

    // ---- requests ------------------------------------------------------

    fn call<'a>(&self, cancel: &'a CancelToken) -> Call<'a> {
        Call {
            cancel,
            wait_left_ms: self.inner.max_wait.as_millis().min(u128::from(u64::MAX)) as u64,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.inner.base_url, path)
    }

    fn members(&self) -> Vec<Member> {
        self.inner
            .pool
            .as_ref()
            .map(|pool| pool.members(Provider::GitHub))
            .unwrap_or_default()
    }

    fn status_of(&self, fingerprint: &str) -> Option<TokenStatus> {
        let snapshot = self.inner.pool.as_ref().map(TokenManager::snapshot);
        snapshot
            .unwrap_or_default()
            .into_iter()
            .find(|t| t.fingerprint == fingerprint)
            .map(|t| t.status)
    }

    fn rate_limit_member(&self) -> Option<Member> {
        let pool = self.inner.pool.as_ref()?;
        let mut members = self.members();
        // By id: hashing every member's secret to find the default one cost
        // a SHA-256 per token on every call.
        if let Some(id) = self.inner.default_token.as_ref().and_then(|d| pool.find(d)) {
            if let Some(index) = members.iter().position(|m| m.id == id) {
                return Some(members.swap_remove(index));
            }
        }
        let snapshot = pool.snapshot();
        members.into_iter().find(|m| {
            snapshot
                .iter()
                .any(|t| t.fingerprint == m.fingerprint() && t.status != TokenStatus::Invalid)
        })
    }

    /// Decodes a `/rate_limit` answer and records every resource's figures
    /// for the member that asked.
    fn apply_rate_limit(
        &self,
        member: Option<&Member>,
        response: &RawResponse,
    ) -> Result<RateLimit> {
        let rate_limit: RateLimit = decode(&response.body)?;
        if let (Some(member), Some(pool)) = (member, &self.inner.pool) {
            let date_s = response.head.date_s;
            let now_ms = pool.clock_ms();
            for (name, figures) in &rate_limit.resources {
                // The resource is named by `record_for`'s argument.
                let verdict = Classification {
                    outcome: Outcome::Success,
                    figures: Some(Figures {
                        resource: None,
                        limit: Some(figures.limit),
                        remaining: Some(figures.remaining),
                        used: Some(figures.used),
                        reset_ms: Some(crate::classify::local_reset_ms(
                            figures.reset,
                            date_s,
                            now_ms,
                        )),
                        window: Some(figures.reset),
                    }),
                };
                pool.record_for(member.id, name, &verdict);
            }
        }
        Ok(rate_limit)
    }

    /// Sends one request with a given member's token (or none) and turns
    /// failures into errors. No retry on another token: the caller asked
    /// about this one.
    fn send_once(
        &self,
        call: &mut Call<'_>,
        path: &str,
        member: Option<&Member>,
    ) -> Result<RawResponse> {
        let (response, verdict) = self.send_recorded(call, path, member)?;
        match verdict.outcome {
            Outcome::Success | Outcome::NotModified => Ok(response),
            _ => {
                let body = error_body(&response);
                Err(self.error_for(&verdict, &response, &body, DEFAULT_RESOURCE))
            }
        }
    }

    /// Sends one request with a given member's token (or none), classifies
    /// the response and records the verdict for that member.
    fn send_recorded(
        &self,
        call: &mut Call<'_>,
        path: &str,
        member: Option<&Member>,
    ) -> Result<(RawResponse, Classification)> {
        let response = self.send_raw(call, path, member.map(|m| m.secret.expose()))?;
        let verdict = classify(&response.head, &error_body(&response), self.now_ms());
        if let (Some(member), Some(pool)) = (member, &self.inner.pool) {
            pool.record_for(member.id, DEFAULT_RESOURCE, &verdict);
        }
        Ok((response, verdict))
    }

    /// Sends one request, retrying 5xx and network errors with backoff.
    fn send_raw(
        &self,
        call: &mut Call<'_>,
        path: &str,
        token: Option<&str>,
    ) -> Result<RawResponse> {
        let url = self.url(path);
        let mut attempt = 0;
        loop {
            call.cancel.check()?;
            let result = self.inner.transport.get(&url, token);
            let retry = match &result {
                Ok(response) => response.status >= 500,
                Err(error) => is_transient(error),
            };
            if !retry || attempt >= self.inner.max_retries {
                return result;
            }
            attempt += 1;
            call.cancel.sleep(backoff(attempt))?;
        }
    }

    fn now_ms(&self) -> u64 {
        match &self.inner.pool {
            Some(pool) => pool.clock_ms(),
            None => crate::pool::Clock::now_ms(&crate::pool::SystemClock),
        }
    }

    fn get_json<T: DeserializeOwned>(&self, call: &mut Call<'_>, path: &str) -> Result<T> {
        let page = self.get(call, &self.url(path), DEFAULT_RESOURCE)?;
        decode(&page.body)
    }

    /// Reads every page of a list, following `Link: rel="next"`.
    // Limitation: a link back to a URL already read ends the call with an
    // error, but a server that links to ever-new URLs is followed until the
    // caller cancels; there is no cap on the number of pages.
    fn get_list<T: DeserializeOwned>(&self, call: &mut Call<'_>, path: &str) -> Result<Vec<T>> {
        let mut url = format!("{}?per_page={PER_PAGE}", self.url(path));
        let mut visited = HashSet::new();
        let mut items = Vec::new();
        loop {
            if !visited.insert(url.clone()) {
                return Err(Error::Decode(
                    "the Link header leads back to a page already read".into(),
                ));
            }
            let page = self.get(call, &url, DEFAULT_RESOURCE)?;
            if page.status == 204 {
                return Ok(items);
            }
            items.extend(decode::<Vec<T>>(&page.body)?);
            match page.next {
                None => return Ok(items),
                Some(next) if links::origin(&next).as_deref() == Some(&self.inner.origin) => {
                    url = next;
                }
                Some(_) => {
                    return Err(Error::Decode(
                        "the Link header points to another host; not following it".into(),
                    ))
                }
            }
        }
    }

    /// Sends one GET through the pool: a fresh lease per attempt, another
    /// token after a limit or a 401, backoff after a 5xx or a network error.
    // Limitation: no ETag cache yet, so unchanged resources are fetched in
    // full and cost quota; GitHub's ETags are per credential, so such a cache
    // must be keyed by token.
    fn get(&self, call: &mut Call<'_>, url: &str, resource: &str) -> Result<Page> {
        let mut retries = 0;
        let mut transient = 0;
        loop {
            call.cancel.check()?;
            let lease = self.lease(call, resource)?;
            let token = lease.as_ref().map(Lease::secret);

            let response = match self.inner.transport.get(url, token) {
                Ok(response) => response,
                Err(error) => {
                    drop(lease);
                    if !is_transient(&error) || retries >= self.inner.max_retries {
                        return Err(error);
                    }
                    retries += 1;
                    transient += 1;
                    log::debug!("GET {url}: {error}; retrying");
                    call.cancel.sleep(backoff(transient))?;
                    continue;
                }
            };

            let body = error_body(&response);
            let verdict = match lease {
                Some(lease) => {
                    if log::log_enabled!(log::Level::Debug) {
                        let fingerprint = lease.fingerprint();
                        log::debug!("GET {url} with token {fingerprint}: {}", response.status);
                    }
                    lease.report(&response.head, &body)
                }
                None => classify(&response.head, &body, self.now_ms()),
            };

            match verdict.outcome {
                Outcome::Success | Outcome::NotModified => {
                    return Ok(Page {
                        status: response.status,
                        body: response.body,
                        next: response.next,
                    });
                }
                Outcome::Invalid
                | Outcome::PrimaryLimit { .. }
                | Outcome::SecondaryLimit { .. }
                    if self.inner.pool.is_some() && retries < self.inner.max_retries =>
                {
                    retries += 1;
                }
                Outcome::ServerError if retries < self.inner.max_retries => {
                    retries += 1;
                    transient += 1;
                    call.cancel.sleep(backoff(transient))?;
                }
                _ => return Err(self.error_for(&verdict, &response, &body, resource)),
            }
        }
    }

    /// A lease on a token for `resource`, waiting for a reset when every
    /// token is spent and the call's wait budget allows. `None` when the
    /// client has no pool (unauthenticated).
    fn lease(&self, call: &mut Call<'_>, resource: &str) -> Result<Option<Lease>> {
        let Some(pool) = &self.inner.pool else {
            return Ok(None);
        };
        let mut settle_waits = 0u32;
        loop {
            match pool.try_lease(Provider::GitHub, resource) {
                Ok(Some(lease)) => return Ok(Some(lease)),
                Ok(None) if settle_waits < MAX_SETTLE_WAITS => {
                    // The quota left is held by requests in flight; one of
                    // them will report soon and may give a unit back.
                    settle_waits += 1;
                    call.cancel.sleep(SETTLE_WAIT)?;
                }
                Ok(None) => {
                    return Err(Error::RateLimited {
                        reset: ms_to_unix_s(pool.clock_ms() + 1000),
                        resource: resource.to_string(),
                    })
                }
                Err(Error::RateLimited { reset, resource }) => {
                    let wait_ms = reset.saturating_mul(1000).saturating_sub(pool.clock_ms());
                    if wait_ms > call.wait_left_ms {
                        return Err(Error::RateLimited { reset, resource });
                    }
                    // The jitter spreads callers that wake on the same reset;
                    // it never takes the wait past the call's budget.
                    let spare_ms = call.wait_left_ms - wait_ms;
                    let jitter_ms = fastrand::u64(0..=MAX_RESET_JITTER_MS.min(spare_ms));
                    log::info!("every token is spent for {resource}; waiting {wait_ms} ms");
                    call.wait_left_ms -= wait_ms + jitter_ms;
                    call.cancel
                        .sleep(Duration::from_millis(wait_ms + jitter_ms))?;
                }
                Err(other) => return Err(other),
            }
        }
    }

    /// The error for a response that was not a success.
    fn error_for(
        &self,
        verdict: &Classification,
        response: &RawResponse,
        body: &ErrorBody,
        resource: &str,
    ) -> Error {
        let message = body
            .message
            .clone()
            .unwrap_or_else(|| format!("HTTP status {}", response.status));
        match verdict.outcome {
            Outcome::Invalid => Error::Auth(message),
            Outcome::PrimaryLimit { reset_ms } => {
                let pool_reset = self
                    .inner
                    .pool
                    .as_ref()
                    .and_then(|pool| pool.earliest_reset(Provider::GitHub, resource));
                Error::RateLimited {
                    reset: pool_reset.unwrap_or_else(|| ms_to_unix_s(reset_ms)),
                    resource: verdict
                        .figures
                        .as_ref()
                        .and_then(|f| f.resource.clone())
                        .unwrap_or_else(|| resource.to_string()),
                }
            }
            Outcome::SecondaryLimit { wait_s, .. } => Error::SecondaryLimited {
                retry_after: wait_s,
            },
            Outcome::Forbidden => Error::Forbidden { message },
            Outcome::NotFound => Error::NotFound(message),
            _ => Error::Http {
                status: response.status,
                message,
            },
        }
    }
}

/// Checks that the base URL is an absolute http(s) URL with a host, and
/// returns its origin.
fn check_base_url(base_url: &str) -> Result<String> {
    let refuse = || {
        Error::InvalidArgument("the base URL must be an http:// or https:// URL with a host".into())
    };
    let uri: ureq::http::Uri = base_url.parse().map_err(|_| refuse())?;
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    let host_ok = uri.host().is_some_and(|host| !host.is_empty());
    if !scheme_ok || !host_ok || uri.query().is_some() {
        return Err(refuse());
    }
    links::origin(base_url).ok_or_else(refuse)
}

fn repo_path(owner: &str, repo: &str, rest: &str) -> Result<String> {
    Ok(format!(
        "/repos/{}/{}{}",
        links::segment("owner", owner)?,
        links::segment("repository name", repo)?,
        rest
    ))
}

/// The error body of a failed response; nothing for a success, whose body
/// is not an error.
fn error_body(response: &RawResponse) -> ErrorBody {
    if response.status < 300 {
        ErrorBody::default()
    } else {
        ErrorBody::parse(&response.body)
    }
}

fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    serde_json::from_slice(body).map_err(|error| Error::Decode(error.to_string()))
}

fn is_transient(error: &Error) -> bool {
    matches!(error, Error::Network(_) | Error::Timeout(_))
}

/// Exponential backoff with jitter: about 250 ms, 500 ms, 1 s, ... capped.
fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(250).saturating_mul(1 << attempt.min(8).saturating_sub(1));
    let base = base.min(MAX_BACKOFF);
    let half = base / 2;
    half + Duration::from_millis(fastrand::u64(0..=half.as_millis() as u64))
}
