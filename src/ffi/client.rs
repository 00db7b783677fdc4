//! `gf_client_options` and `gf_client`: the GitHub client, every call in a
//! blocking and an async form.

use std::ffi::{c_char, c_void};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use zeroize::Zeroizing;

use super::error::gf_error;
use super::live::{self, Kind};
use super::manager::gf_token_manager;
use super::request::{gf_callback, gf_request, InFlight};
use super::{gf_status, guard, handle, out_arg, owned_string, str_arg, Failure, FfiResult};
use crate::cancel::CancelToken;
use crate::error::Error;
use crate::github::{Client, ClientOptions};

/// Options for `gf_client_new`. Not thread-safe; copy-in: the client keeps
/// its own copy, so the options may be freed or reused at once.
pub struct gf_client_options {
    options: ClientOptions,
}

/// A GitHub client. Thread-safe: any number of threads may make calls on
/// one client at once. Free it with `gf_client_free`; calls still in flight
/// then complete with `GF_STATUS_SHUT_DOWN`.
pub struct gf_client {
    client: Client,
    in_flight: Arc<InFlight>,
}

impl Drop for gf_client {
    fn drop(&mut self) {
        self.in_flight.shut_down();
    }
}

/// Creates options with the defaults: GitHub's public API, no token, user
/// agent "gitfleet/VERSION", 30 s request timeout, 10 s connect timeout,
/// 8 retries, no waiting for resets. Never NULL.
#[no_mangle]
pub extern "C" fn gf_client_options_new() -> *mut gf_client_options {
    let options = Box::into_raw(Box::new(gf_client_options {
        options: ClientOptions::default(),
    }));
    live::handed_out(options, Kind::ClientOptions)
}

/// Frees options. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gf_client_options_free(options: *mut gf_client_options) {
    if !options.is_null()
        && live::taken_back(options, Kind::ClientOptions, "gf_client_options_free")
    {
        drop(Box::from_raw(options));
    }
}

/// Runs a setter on live options.
unsafe fn with_options<F>(
    options: *mut gf_client_options,
    err: *mut *mut gf_error,
    f: F,
) -> gf_status
where
    F: FnOnce(&mut ClientOptions) -> FfiResult,
{
    guard(err, || match options.as_mut() {
        Some(options) => f(&mut options.options),
        None => Err(Error::InvalidArgument("options is NULL".into()).into()),
    })
}

/// Sets the API root, e.g. "https://api.github.com" (the default) or
/// "https://HOST/api/v3" for GitHub Enterprise. `gf_client_new` refuses one
/// that is not an http(s) URL with a host.
#[no_mangle]
pub unsafe extern "C" fn gf_client_options_set_base_url(
    options: *mut gf_client_options,
    base_url: *const c_char,
    err: *mut *mut gf_error,
) -> gf_status {
    with_options(options, err, |o| {
        o.base_url = str_arg(base_url, "base_url")?.to_string();
        Ok(())
    })
}

/// Sets a default token. It joins the client's pool (once, even if the
/// pool has it already); without a pool, the client gets a private one.
#[no_mangle]
pub unsafe extern "C" fn gf_client_options_set_token(
    options: *mut gf_client_options,
    token: *const c_char,
    err: *mut *mut gf_error,
) -> gf_status {
    with_options(options, err, |o| {
        let token = str_arg(token, "token")?;
        crate::pool::check_secret(token).map_err(|why| Error::InvalidArgument(why.into()))?;
        o.token = Some(token.into());
        Ok(())
    })
}

/// Makes the client draw its tokens from `manager`, shared: the caller may
/// free its manager handle at any time; the client keeps the pool alive.
#[no_mangle]
pub unsafe extern "C" fn gf_client_options_set_token_manager(
    options: *mut gf_client_options,
    manager: *const gf_token_manager,
    err: *mut *mut gf_error,
) -> gf_status {
    with_options(options, err, |o| {
        o.manager = Some(handle(manager, "manager")?.manager.clone());
        Ok(())
    })
}

/// Sets the User-Agent header (non-empty, printable).
#[no_mangle]
pub unsafe extern "C" fn gf_client_options_set_user_agent(
    options: *mut gf_client_options,
    user_agent: *const c_char,
    err: *mut *mut gf_error,
) -> gf_status {
    with_options(options, err, |o| {
        let user_agent = str_arg(user_agent, "user_agent")?;
        if user_agent.is_empty() || user_agent.chars().any(char::is_control) {
            return Err(Error::InvalidArgument(
                "the user agent must be non-empty printable text".into(),
            )
            .into());
        }
        o.user_agent = user_agent.to_string();
        Ok(())
    })
}

/// Sets the limit on each phase of one request: sending it, waiting for
/// the head of the answer, reading its body (milliseconds, at least 1).
#[no_mangle]
pub unsafe extern "C" fn gf_client_options_set_timeout_ms(
    options: *mut gf_client_options,
    timeout_ms: u64,
    err: *mut *mut gf_error,
) -> gf_status {
    with_options(options, err, |o| {
        o.timeout = positive_ms(timeout_ms, "timeout_ms")?;
        Ok(())
    })
}

/// Sets the limit on opening a connection (milliseconds, at least 1).
#[no_mangle]
pub unsafe extern "C" fn gf_client_options_set_connect_timeout_ms(
    options: *mut gf_client_options,
    timeout_ms: u64,
    err: *mut *mut gf_error,
) -> gf_status {
    with_options(options, err, |o| {
        o.connect_timeout = positive_ms(timeout_ms, "timeout_ms")?;
        Ok(())
    })
}

/// Sets how many times one request may be sent again: on another token
/// after a limit or a 401, or after a 5xx or a network error.
#[no_mangle]
pub unsafe extern "C" fn gf_client_options_set_max_retries(
    options: *mut gf_client_options,
    max_retries: u32,
    err: *mut *mut gf_error,
) -> gf_status {
    with_options(options, err, |o| {
        o.max_retries = max_retries;
        Ok(())
    })
}

/// Sets how long one call may wait in all for a rate-limit reset when every
/// token is spent (milliseconds; 0, the default, fails at once with
/// `GF_STATUS_RATE_LIMITED`).
#[no_mangle]
pub unsafe extern "C" fn gf_client_options_set_max_wait_ms(
    options: *mut gf_client_options,
    max_wait_ms: u64,
    err: *mut *mut gf_error,
) -> gf_status {
    with_options(options, err, |o| {
        o.max_wait = Duration::from_millis(max_wait_ms);
        Ok(())
    })
}

fn positive_ms(ms: u64, what: &str) -> Result<Duration, Error> {
    if ms == 0 {
        return Err(Error::InvalidArgument(format!("{what} must be at least 1")));
    }
    Ok(Duration::from_millis(ms))
}

/// Creates a client from `options` (which stay the caller's). On success
/// `*out_client` is a client to free with `gf_client_free`.
#[no_mangle]
pub unsafe extern "C" fn gf_client_new(
    options: *const gf_client_options,
    out_client: *mut *mut gf_client,
    err: *mut *mut gf_error,
) -> gf_status {
    guard(err, || {
        let options = handle(options, "options")?;
        out_arg(out_client, "out_client")?;
        let client = Client::new(options.options.clone())?;
        let made = Box::into_raw(Box::new(gf_client {
            client,
            in_flight: Arc::default(),
        }));
        *out_client = live::handed_out(made, Kind::Client);
        Ok(())
    })
}

/// Frees a client. Calls still in flight complete with
/// `GF_STATUS_SHUT_DOWN` (each exactly once, on a library thread, possibly
/// after this returns). NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gf_client_free(client: *mut gf_client) {
    if !client.is_null() && live::taken_back(client, Kind::Client, "gf_client_free") {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            drop(Box::from_raw(client));
        }));
    }
}

/// One call of the client, its inputs copied.
enum Job {
    RateLimit,
    RefreshRateLimits,
    AuthenticatedUser,
    User(String),
    OwnerRepositories(String),
    Repository(String, String),
    Contributors(String, String),
    Branches(String, String),
    ValidateToken(Zeroizing<String>),
    ValidatePool,
}

impl Job {
    fn run(&self, client: &Client, cancel: &CancelToken) -> Result<String, Failure> {
        match self {
            Job::RateLimit => json(client.rate_limit(cancel)),
            Job::RefreshRateLimits => json(client.refresh_rate_limits(cancel)),
            Job::AuthenticatedUser => json(client.authenticated_user(cancel)),
            Job::User(login) => json(client.user(login, cancel)),
            Job::OwnerRepositories(owner) => json(client.owner_repositories(owner, cancel)),
            Job::Repository(owner, repo) => json(client.repository(owner, repo, cancel)),
            Job::Contributors(owner, repo) => json(client.contributors(owner, repo, cancel)),
            Job::Branches(owner, repo) => json(client.branches(owner, repo, cancel)),
            Job::ValidateToken(token) => json(client.validate_token(token, cancel)),
            Job::ValidatePool => json(client.validate_pool(cancel)),
        }
    }
}

fn json<T: Serialize>(result: crate::Result<T>) -> Result<String, Failure> {
    let value = result?;
    serde_json::to_string(&value).map_err(|e| Failure::Error(Error::Decode(e.to_string())))
}

/// Runs a job on the calling thread.
unsafe fn blocking(
    client: *const gf_client,
    job: impl FnOnce() -> Result<Job, Error>,
    out_json: *mut *mut c_char,
    err: *mut *mut gf_error,
) -> gf_status {
    guard(err, || {
        let client = handle(client, "client")?;
        let job = job()?;
        out_arg(out_json, "out_json")?;
        let text = job.run(&client.client, &CancelToken::new())?;
        *out_json = owned_string(text);
        Ok(())
    })
}

/// Starts a job on the runtime; the callback gets its result.
unsafe fn asynchronous(
    client: *const gf_client,
    job: impl FnOnce() -> Result<Job, Error>,
    callback: gf_callback,
    user_data: *mut c_void,
    out_request: *mut *mut gf_request,
    err: *mut *mut gf_error,
) -> gf_status {
    guard(err, || {
        let client = handle(client, "client")?;
        let job = job()?;
        let runner = client.client.clone();
        let pending = client
            .in_flight
            .start(callback, user_data, move |cancel| job.run(&runner, cancel))?;
        if !out_request.is_null() {
            *out_request = gf_request::boxed(pending);
        }
        Ok(())
    })
}

unsafe fn two(
    a: *const c_char,
    an: &str,
    b: *const c_char,
    bn: &str,
) -> Result<(String, String), Error> {
    Ok((str_arg(a, an)?.to_string(), str_arg(b, bn)?.to_string()))
}

/// The rate limits of one token (the default token, else the pool's first
/// valid one; `GF_STATUS_AUTH` when the pool has none; unauthenticated only
/// for a client with neither token nor pool) as a JSON `RateLimit`
/// document. Costs no quota.
#[no_mangle]
pub unsafe extern "C" fn gf_client_rate_limit(
    client: *const gf_client,
    out_json: *mut *mut c_char,
    err: *mut *mut gf_error,
) -> gf_status {
    blocking(client, || Ok(Job::RateLimit), out_json, err)
}

/// Async form of `gf_client_rate_limit`.
#[no_mangle]
pub unsafe extern "C" fn gf_client_rate_limit_async(
    client: *const gf_client,
    callback: gf_callback,
    user_data: *mut c_void,
    out_request: *mut *mut gf_request,
    err: *mut *mut gf_error,
) -> gf_status {
    asynchronous(
        client,
        || Ok(Job::RateLimit),
        callback,
        user_data,
        out_request,
        err,
    )
}

/// Refreshes every pooled token's figures (all resources) from
/// `GET /rate_limit`, no quota used. JSON: an object keyed by fingerprint
/// of `{fingerprint, status, rate_limit, error}`.
#[no_mangle]
pub unsafe extern "C" fn gf_client_refresh_rate_limits(
    client: *const gf_client,
    out_json: *mut *mut c_char,
    err: *mut *mut gf_error,
) -> gf_status {
    blocking(client, || Ok(Job::RefreshRateLimits), out_json, err)
}

/// Async form of `gf_client_refresh_rate_limits`.
#[no_mangle]
pub unsafe extern "C" fn gf_client_refresh_rate_limits_async(
    client: *const gf_client,
    callback: gf_callback,
    user_data: *mut c_void,
    out_request: *mut *mut gf_request,
    err: *mut *mut gf_error,
) -> gf_status {
    asynchronous(
        client,
        || Ok(Job::RefreshRateLimits),
        callback,
        user_data,
        out_request,
        err,
    )
}

/// The account of the token used (`GET /user`), as a JSON `User`.
#[no_mangle]
pub unsafe extern "C" fn gf_client_authenticated_user(
    client: *const gf_client,
    out_json: *mut *mut c_char,
    err: *mut *mut gf_error,
) -> gf_status {
    blocking(client, || Ok(Job::AuthenticatedUser), out_json, err)
}

/// Async form of `gf_client_authenticated_user`.
#[no_mangle]
pub unsafe extern "C" fn gf_client_authenticated_user_async(
    client: *const gf_client,
    callback: gf_callback,
    user_data: *mut c_void,
    out_request: *mut *mut gf_request,
    err: *mut *mut gf_error,
) -> gf_status {
    asynchronous(
        client,
        || Ok(Job::AuthenticatedUser),
        callback,
        user_data,
        out_request,
        err,
    )
}

/// A user or organisation by login (`GET /users/{login}`), as a JSON `User`.
#[no_mangle]
pub unsafe extern "C" fn gf_client_user(
    client: *const gf_client,
    login: *const c_char,
    out_json: *mut *mut c_char,
    err: *mut *mut gf_error,
) -> gf_status {
    blocking(
        client,
        || Ok(Job::User(str_arg(login, "login")?.into())),
        out_json,
        err,
    )
}

/// Async form of `gf_client_user`.
#[no_mangle]
pub unsafe extern "C" fn gf_client_user_async(
    client: *const gf_client,
    login: *const c_char,
    callback: gf_callback,
    user_data: *mut c_void,
    out_request: *mut *mut gf_request,
    err: *mut *mut gf_error,
) -> gf_status {
    let job = || Ok(Job::User(str_arg(login, "login")?.into()));
    asynchronous(client, job, callback, user_data, out_request, err)
}

/// Every repository of a user or organisation, all pages, as a JSON array
/// of `Repository`.
#[no_mangle]
pub unsafe extern "C" fn gf_client_owner_repositories(
    client: *const gf_client,
    owner: *const c_char,
    out_json: *mut *mut c_char,
    err: *mut *mut gf_error,
) -> gf_status {
    let job = || Ok(Job::OwnerRepositories(str_arg(owner, "owner")?.into()));
    blocking(client, job, out_json, err)
}

/// Async form of `gf_client_owner_repositories`.
#[no_mangle]
pub unsafe extern "C" fn gf_client_owner_repositories_async(
    client: *const gf_client,
    owner: *const c_char,
    callback: gf_callback,
    user_data: *mut c_void,
    out_request: *mut *mut gf_request,
    err: *mut *mut gf_error,
) -> gf_status {
    let job = || Ok(Job::OwnerRepositories(str_arg(owner, "owner")?.into()));
    asynchronous(client, job, callback, user_data, out_request, err)
}

/// One repository in full, as a JSON `RepositoryDetails`.
#[no_mangle]
pub unsafe extern "C" fn gf_client_repository(
    client: *const gf_client,
    owner: *const c_char,
    repo: *const c_char,
    out_json: *mut *mut c_char,
    err: *mut *mut gf_error,
) -> gf_status {
    let job = || two(owner, "owner", repo, "repo").map(|(o, r)| Job::Repository(o, r));
    blocking(client, job, out_json, err)
}

/// Async form of `gf_client_repository`.
#[no_mangle]
pub unsafe extern "C" fn gf_client_repository_async(
    client: *const gf_client,
    owner: *const c_char,
    repo: *const c_char,
    callback: gf_callback,
    user_data: *mut c_void,
    out_request: *mut *mut gf_request,
    err: *mut *mut gf_error,
) -> gf_status {
    let job = || two(owner, "owner", repo, "repo").map(|(o, r)| Job::Repository(o, r));
    asynchronous(client, job, callback, user_data, out_request, err)
}

/// Every contributor of a repository, all pages, as a JSON array of
/// `Contributor` (empty for an empty repository).
#[no_mangle]
pub unsafe extern "C" fn gf_client_contributors(
    client: *const gf_client,
    owner: *const c_char,
    repo: *const c_char,
    out_json: *mut *mut c_char,
    err: *mut *mut gf_error,
) -> gf_status {
    let job = || two(owner, "owner", repo, "repo").map(|(o, r)| Job::Contributors(o, r));
    blocking(client, job, out_json, err)
}

/// Async form of `gf_client_contributors`.
#[no_mangle]
pub unsafe extern "C" fn gf_client_contributors_async(
    client: *const gf_client,
    owner: *const c_char,
    repo: *const c_char,
    callback: gf_callback,
    user_data: *mut c_void,
    out_request: *mut *mut gf_request,
    err: *mut *mut gf_error,
) -> gf_status {
    let job = || two(owner, "owner", repo, "repo").map(|(o, r)| Job::Contributors(o, r));
    asynchronous(client, job, callback, user_data, out_request, err)
}

/// Every branch of a repository, all pages, as a JSON array of `Branch`.
#[no_mangle]
pub unsafe extern "C" fn gf_client_branches(
    client: *const gf_client,
    owner: *const c_char,
    repo: *const c_char,
    out_json: *mut *mut c_char,
    err: *mut *mut gf_error,
) -> gf_status {
    let job = || two(owner, "owner", repo, "repo").map(|(o, r)| Job::Branches(o, r));
    blocking(client, job, out_json, err)
}

/// Async form of `gf_client_branches`.
#[no_mangle]
pub unsafe extern "C" fn gf_client_branches_async(
    client: *const gf_client,
    owner: *const c_char,
    repo: *const c_char,
    callback: gf_callback,
    user_data: *mut c_void,
    out_request: *mut *mut gf_request,
    err: *mut *mut gf_error,
) -> gf_status {
    let job = || two(owner, "owner", repo, "repo").map(|(o, r)| Job::Branches(o, r));
    asynchronous(client, job, callback, user_data, out_request, err)
}

/// Checks one token against `GET /user`: a JSON `TokenValidation`
/// (`{fingerprint, valid, login, error}`). Only a 401 makes it invalid.
#[no_mangle]
pub unsafe extern "C" fn gf_client_validate_token(
    client: *const gf_client,
    token: *const c_char,
    out_json: *mut *mut c_char,
    err: *mut *mut gf_error,
) -> gf_status {
    let job = || {
        Ok(Job::ValidateToken(Zeroizing::new(
            str_arg(token, "token")?.into(),
        )))
    };
    blocking(client, job, out_json, err)
}

/// Async form of `gf_client_validate_token`.
#[no_mangle]
pub unsafe extern "C" fn gf_client_validate_token_async(
    client: *const gf_client,
    token: *const c_char,
    callback: gf_callback,
    user_data: *mut c_void,
    out_request: *mut *mut gf_request,
    err: *mut *mut gf_error,
) -> gf_status {
    let job = || {
        Ok(Job::ValidateToken(Zeroizing::new(
            str_arg(token, "token")?.into(),
        )))
    };
    asynchronous(client, job, callback, user_data, out_request, err)
}

/// Checks every pooled token: a JSON object keyed by fingerprint of
/// `TokenValidation`. Refused tokens are marked invalid in the pool.
#[no_mangle]
pub unsafe extern "C" fn gf_client_validate_pool(
    client: *const gf_client,
    out_json: *mut *mut c_char,
    err: *mut *mut gf_error,
) -> gf_status {
    blocking(client, || Ok(Job::ValidatePool), out_json, err)
}

/// Async form of `gf_client_validate_pool`.
#[no_mangle]
pub unsafe extern "C" fn gf_client_validate_pool_async(
    client: *const gf_client,
    callback: gf_callback,
    user_data: *mut c_void,
    out_request: *mut *mut gf_request,
    err: *mut *mut gf_error,
) -> gf_status {
    asynchronous(
        client,
        || Ok(Job::ValidatePool),
        callback,
        user_data,
        out_request,
        err,
    )
}
