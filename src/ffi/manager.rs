//! `gf_token_manager`: the token pool, shared by clients and threads.

use std::ffi::c_char;

use super::error::gf_error;
use super::lease::{gf_lease, read_headers};
use super::live::{self, Kind};
use super::{gf_status, guard, handle, opt_str_arg, out_arg, owned_string, str_arg};
use crate::error::Error;
use crate::pool::{
    normalise_resource, Provider, Reserve, Strategy, TokenManager, DEFAULT_RESOURCE,
};

/// A pool of tokens. Thread-safe: every function may be called on the same
/// manager from many threads at once. Clients built with it share it; it
/// lives until `gf_token_manager_free` and every client using it are freed.
pub struct gf_token_manager {
    pub(crate) manager: TokenManager,
}

/// Git hosting providers (pass as `int` where a provider is asked for).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub enum gf_provider {
    /// github.com or GitHub Enterprise.
    GF_PROVIDER_GITHUB = 0,
    /// GitLab.
    GF_PROVIDER_GITLAB = 1,
    /// Bitbucket.
    GF_PROVIDER_BITBUCKET = 2,
}

/// Token selection strategies (pass as `int`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub enum gf_strategy {
    /// Most requests left for the resource; ties to the least recently used.
    GF_STRATEGY_RATE_AWARE = 0,
    /// Each available token in turn.
    GF_STRATEGY_ROUND_ROBIN = 1,
    /// Highest priority first, then rate-aware.
    GF_STRATEGY_PRIORITY = 2,
}

pub(crate) fn provider_arg(value: i32) -> Result<Provider, Error> {
    const GITHUB: i32 = gf_provider::GF_PROVIDER_GITHUB as i32;
    const GITLAB: i32 = gf_provider::GF_PROVIDER_GITLAB as i32;
    const BITBUCKET: i32 = gf_provider::GF_PROVIDER_BITBUCKET as i32;
    match value {
        GITHUB => Ok(Provider::GitHub),
        GITLAB => Ok(Provider::GitLab),
        BITBUCKET => Ok(Provider::Bitbucket),
        _ => Err(Error::InvalidArgument(format!(
            "{value} is not a gf_provider"
        ))),
    }
}

fn strategy_arg(value: i32) -> Result<Strategy, Error> {
    const RATE_AWARE: i32 = gf_strategy::GF_STRATEGY_RATE_AWARE as i32;
    const ROUND_ROBIN: i32 = gf_strategy::GF_STRATEGY_ROUND_ROBIN as i32;
    const PRIORITY: i32 = gf_strategy::GF_STRATEGY_PRIORITY as i32;
    match value {
        RATE_AWARE => Ok(Strategy::RateAware),
        ROUND_ROBIN => Ok(Strategy::RoundRobin),
        PRIORITY => Ok(Strategy::Priority),
        _ => Err(Error::InvalidArgument(format!(
            "{value} is not a gf_strategy"
        ))),
    }
}

/// The resource argument: NULL or "" means "core"; names are trimmed,
/// lowercased and checked as for a lease.
///
/// # Safety
/// As for `str_arg`.
pub(crate) unsafe fn resource_arg(resource: *const c_char) -> Result<String, Error> {
    let resource = opt_str_arg(resource, "resource")?.unwrap_or(DEFAULT_RESOURCE);
    normalise_resource(resource)
}

/// Creates an empty pool: rate-aware, no reserve. Never NULL.
#[no_mangle]
pub extern "C" fn gf_token_manager_new() -> *mut gf_token_manager {
    let manager = Box::into_raw(Box::new(gf_token_manager {
        manager: TokenManager::new(),
    }));
    live::handed_out(manager, Kind::TokenManager)
}

/// Frees the caller's handle. Clients built with the pool keep it alive
/// until they are freed. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gf_token_manager_free(manager: *mut gf_token_manager) {
    if !manager.is_null() && live::taken_back(manager, Kind::TokenManager, "gf_token_manager_free")
    {
        drop(Box::from_raw(manager));
    }
}

/// Adds a token. `username` may be NULL. Adding a secret already present
/// keeps one entry (username and priority updated; an invalid token becomes
/// usable again). The secret is copied.
#[no_mangle]
pub unsafe extern "C" fn gf_token_manager_add_token(
    manager: *const gf_token_manager,
    provider: i32,
    secret: *const c_char,
    username: *const c_char,
    priority: i32,
    err: *mut *mut gf_error,
) -> gf_status {
    guard(err, || {
        let manager = handle(manager, "manager")?;
        let provider = provider_arg(provider)?;
        let secret = str_arg(secret, "secret")?;
        let username = opt_str_arg(username, "username")?;
        manager
            .manager
            .add_token(provider, secret, username, priority)?;
        Ok(())
    })
}

/// Removes a token. `out_removed` (may be NULL) is set to whether the pool
/// had it.
#[no_mangle]
pub unsafe extern "C" fn gf_token_manager_remove_token(
    manager: *const gf_token_manager,
    secret: *const c_char,
    out_removed: *mut bool,
    err: *mut *mut gf_error,
) -> gf_status {
    guard(err, || {
        let manager = handle(manager, "manager")?;
        let removed = manager.manager.remove_token(str_arg(secret, "secret")?);
        if !out_removed.is_null() {
            *out_removed = removed;
        }
        Ok(())
    })
}

/// Sets the selection strategy (a `gf_strategy` value).
#[no_mangle]
pub unsafe extern "C" fn gf_token_manager_set_strategy(
    manager: *const gf_token_manager,
    strategy: i32,
    err: *mut *mut gf_error,
) -> gf_status {
    guard(err, || {
        let manager = handle(manager, "manager")?;
        manager.manager.set_strategy(strategy_arg(strategy)?);
        Ok(())
    })
}

/// Keeps `count` requests per window untouched on every token (0: none).
#[no_mangle]
pub unsafe extern "C" fn gf_token_manager_set_reserve_count(
    manager: *const gf_token_manager,
    count: u64,
    err: *mut *mut gf_error,
) -> gf_status {
    guard(err, || {
        let reserve = if count == 0 {
            Reserve::None
        } else {
            Reserve::Count(count)
        };
        handle(manager, "manager")?.manager.set_reserve(reserve)?;
        Ok(())
    })
}

/// Keeps `fraction` (0.0 to 1.0) of each token's limit untouched.
#[no_mangle]
pub unsafe extern "C" fn gf_token_manager_set_reserve_fraction(
    manager: *const gf_token_manager,
    fraction: f64,
    err: *mut *mut gf_error,
) -> gf_status {
    guard(err, || {
        handle(manager, "manager")?
            .manager
            .set_reserve(Reserve::Fraction(fraction))?;
        Ok(())
    })
}

/// Counts the tokens of `provider` that could serve a request on `resource`
/// (NULL or "": "core") now.
#[no_mangle]
pub unsafe extern "C" fn gf_token_manager_count_available(
    manager: *const gf_token_manager,
    provider: i32,
    resource: *const c_char,
    out_count: *mut usize,
    err: *mut *mut gf_error,
) -> gf_status {
    guard(err, || {
        let manager = handle(manager, "manager")?;
        let provider = provider_arg(provider)?;
        let resource = resource_arg(resource)?;
        out_arg(out_count, "out_count")?;
        *out_count = manager.manager.count_available(provider, &resource);
        Ok(())
    })
}

/// The earliest time (Unix seconds, this machine's clock) at which a token
/// of `provider` now spent or cooling down for `resource` (NULL or "":
/// "core") is usable again; 0 when no token is waiting for a reset.
#[no_mangle]
pub unsafe extern "C" fn gf_token_manager_earliest_reset(
    manager: *const gf_token_manager,
    provider: i32,
    resource: *const c_char,
    out_reset: *mut u64,
    err: *mut *mut gf_error,
) -> gf_status {
    guard(err, || {
        let manager = handle(manager, "manager")?;
        let provider = provider_arg(provider)?;
        let resource = resource_arg(resource)?;
        out_arg(out_reset, "out_reset")?;
        *out_reset = manager
            .manager
            .earliest_reset(provider, &resource)
            .unwrap_or(0);
        Ok(())
    })
}

/// Every token as a JSON array, in the order added (see the README for the
/// shape): fingerprint, provider, username, priority, status
/// ("available", "rate_limited", "cooling_down", "invalid"), available_at,
/// and figures per resource. Never a secret. Free with `gf_string_free`.
#[no_mangle]
pub unsafe extern "C" fn gf_token_manager_snapshot_json(
    manager: *const gf_token_manager,
    out_json: *mut *mut c_char,
    err: *mut *mut gf_error,
) -> gf_status {
    guard(err, || {
        let manager = handle(manager, "manager")?;
        out_arg(out_json, "out_json")?;
        let json = serde_json::to_string(&manager.manager.snapshot())
            .map_err(|e| Error::Decode(e.to_string()))?;
        *out_json = owned_string(json);
        Ok(())
    })
}

/// Marks a token invalid; it stays out until added again. `out_found` (may
/// be NULL) is set to whether the pool had it.
#[no_mangle]
pub unsafe extern "C" fn gf_token_manager_mark_invalid(
    manager: *const gf_token_manager,
    secret: *const c_char,
    out_found: *mut bool,
    err: *mut *mut gf_error,
) -> gf_status {
    guard(err, || {
        let manager = handle(manager, "manager")?;
        let found = manager.manager.mark_invalid(str_arg(secret, "secret")?);
        if !out_found.is_null() {
            *out_found = found;
        }
        Ok(())
    })
}

/// Records the rate-limit headers of a successful response made with
/// `secret` outside any lease. `names` and `values` are `count` parallel
/// NUL-terminated strings; a value that does not parse is ignored. A
/// response without rate-limit headers changes nothing. `out_found` (may be
/// NULL) is set to whether the pool had the token.
#[no_mangle]
pub unsafe extern "C" fn gf_token_manager_update_from_headers(
    manager: *const gf_token_manager,
    secret: *const c_char,
    names: *const *const c_char,
    values: *const *const c_char,
    count: usize,
    out_found: *mut bool,
    err: *mut *mut gf_error,
) -> gf_status {
    guard(err, || {
        let manager = handle(manager, "manager")?;
        let secret = str_arg(secret, "secret")?;
        let headers = read_headers(names, values, count)?;
        let found = manager
            .manager
            .update_from_headers(secret, headers.iter().map(|(n, v)| (*n, *v)));
        if !out_found.is_null() {
            *out_found = found;
        }
        Ok(())
    })
}

/// Takes a token of `provider` for one request on `resource` (NULL or
/// "": "core"). On success `*out_lease` is a lease the caller must free with
/// `gf_lease_free`, after `gf_lease_report` when a response came back.
/// Fails with `GF_STATUS_RATE_LIMITED` (the error carries the earliest
/// reset) when every valid token is spent, or with a reset one second away
/// when the only quota left is held by leases not yet reported (try again
/// shortly); `GF_STATUS_AUTH` when there is no valid token.
#[no_mangle]
pub unsafe extern "C" fn gf_token_manager_lease(
    manager: *const gf_token_manager,
    provider: i32,
    resource: *const c_char,
    out_lease: *mut *mut gf_lease,
    err: *mut *mut gf_error,
) -> gf_status {
    guard(err, || {
        let manager = handle(manager, "manager")?;
        let provider = provider_arg(provider)?;
        let resource = resource_arg(resource)?;
        out_arg(out_lease, "out_lease")?;
        let lease = manager.manager.lease(provider, &resource)?;
        *out_lease = gf_lease::boxed(lease);
        Ok(())
    })
}
