//! `gf_lease`: one token taken for one request made by the caller's own
//! HTTP stack.

use std::ffi::{c_char, CStr, CString};

use super::error::gf_error;
use super::live::{self, Kind};
use super::{gf_status, guard, handle, out_arg};
use crate::classify::{ErrorBody, Outcome, ResponseHead};
use crate::error::Error;
use crate::pool::Lease;

/// A token leased for one request. Use it from one thread at a time. Free
/// it with `gf_lease_free`; until then it counts as one use of its token.
pub struct gf_lease {
    lease: Option<Lease>,
    secret: CString,
    fingerprint: CString,
}

impl gf_lease {
    pub(crate) fn boxed(lease: Lease) -> *mut gf_lease {
        // A secret passed `check_secret` (printable ASCII), so it has no NUL.
        let secret = CString::new(lease.secret()).unwrap_or_default();
        let fingerprint = CString::new(lease.fingerprint()).unwrap_or_default();
        let made = Box::into_raw(Box::new(gf_lease {
            lease: Some(lease),
            secret,
            fingerprint,
        }));
        live::handed_out(made, Kind::Lease)
    }
}

impl Drop for gf_lease {
    fn drop(&mut self) {
        // The CString holding the secret is wiped before its memory is freed.
        let bytes = std::mem::take(&mut self.secret).into_bytes();
        drop(zeroize::Zeroizing::new(bytes));
    }
}

/// What a reported response meant for the token.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum gf_outcome {
    /// 2xx.
    GF_OUTCOME_SUCCESS = 0,
    /// 304.
    GF_OUTCOME_NOT_MODIFIED = 1,
    /// 401: the token is now marked invalid. Lease another and retry.
    GF_OUTCOME_INVALID_TOKEN = 2,
    /// The token is spent for the resource. Lease another and retry.
    GF_OUTCOME_PRIMARY_LIMIT = 3,
    /// Secondary limit: the token cools down. Lease another and retry.
    GF_OUTCOME_SECONDARY_LIMIT = 4,
    /// A 403 that is not a limit: do not retry.
    GF_OUTCOME_FORBIDDEN = 5,
    /// 404.
    GF_OUTCOME_NOT_FOUND = 6,
    /// 5xx: retry later.
    GF_OUTCOME_SERVER_ERROR = 7,
    /// Any other status.
    GF_OUTCOME_OTHER_ERROR = 8,
}

impl From<&Outcome> for gf_outcome {
    fn from(outcome: &Outcome) -> Self {
        match outcome {
            Outcome::Success => gf_outcome::GF_OUTCOME_SUCCESS,
            Outcome::NotModified => gf_outcome::GF_OUTCOME_NOT_MODIFIED,
            Outcome::Invalid => gf_outcome::GF_OUTCOME_INVALID_TOKEN,
            Outcome::PrimaryLimit { .. } => gf_outcome::GF_OUTCOME_PRIMARY_LIMIT,
            Outcome::SecondaryLimit { .. } => gf_outcome::GF_OUTCOME_SECONDARY_LIMIT,
            Outcome::Forbidden => gf_outcome::GF_OUTCOME_FORBIDDEN,
            Outcome::NotFound => gf_outcome::GF_OUTCOME_NOT_FOUND,
            Outcome::ServerError => gf_outcome::GF_OUTCOME_SERVER_ERROR,
            Outcome::OtherError => gf_outcome::GF_OUTCOME_OTHER_ERROR,
        }
    }
}

/// Reads `count` parallel header names and values.
///
/// # Safety
/// When `count > 0`, `names` and `values` point to `count` pointers each,
/// every one a NUL-terminated string.
pub(crate) unsafe fn read_headers<'a>(
    names: *const *const c_char,
    values: *const *const c_char,
    count: usize,
) -> Result<Vec<(&'a str, &'a [u8])>, Error> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if names.is_null() || values.is_null() {
        return Err(Error::InvalidArgument("names or values is NULL".into()));
    }
    let mut headers = Vec::with_capacity(count);
    for index in 0..count {
        let (name, value) = (*names.add(index), *values.add(index));
        if name.is_null() || value.is_null() {
            return Err(Error::InvalidArgument(format!("header {index} is NULL")));
        }
        // A header name that is not UTF-8 cannot be one the pool reads.
        if let Ok(name) = CStr::from_ptr(name).to_str() {
            headers.push((name, CStr::from_ptr(value).to_bytes()));
        }
    }
    Ok(headers)
}

/// The token to send, as `Authorization: Bearer <token>`. Borrowed until
/// the lease is freed. Keep it out of logs. "" for NULL.
#[no_mangle]
pub unsafe extern "C" fn gf_lease_token(lease: *const gf_lease) -> *const c_char {
    match lease.as_ref() {
        Some(lease) => lease.secret.as_ptr(),
        None => c"".as_ptr(),
    }
}

/// The token's fingerprint, safe to log. Borrowed until the lease is freed.
/// "" for NULL.
#[no_mangle]
pub unsafe extern "C" fn gf_lease_fingerprint(lease: *const gf_lease) -> *const c_char {
    match lease.as_ref() {
        Some(lease) => lease.fingerprint.as_ptr(),
        None => c"".as_ptr(),
    }
}

/// Reports the response to the pool: its HTTP `status`, its headers
/// (`count` parallel `names` / `values`), and its body (`body_len` bytes,
/// may be NULL when 0; only error bodies are read). The pool records the
/// figures and classifies the response; `*out_outcome` (may be NULL) says
/// what it meant. A lease can be reported once; free it afterwards.
#[no_mangle]
pub unsafe extern "C" fn gf_lease_report(
    lease: *mut gf_lease,
    status: u16,
    names: *const *const c_char,
    values: *const *const c_char,
    count: usize,
    body: *const u8,
    body_len: usize,
    out_outcome: *mut gf_outcome,
    err: *mut *mut gf_error,
) -> gf_status {
    guard(err, || {
        handle(lease, "lease")?;
        let lease = &mut *lease;
        if body.is_null() && body_len > 0 {
            out_arg(body as *mut u8, "body")?;
        }
        if !(100..=599).contains(&status) {
            return Err(Error::InvalidArgument(format!("{status} is not an HTTP status")).into());
        }
        let headers = read_headers(names, values, count)?;
        let body = if body_len == 0 {
            &[][..]
        } else {
            std::slice::from_raw_parts(body, body_len)
        };
        let taken = lease
            .lease
            .take()
            .ok_or_else(|| Error::InvalidArgument("the lease was already reported".into()))?;

        let head = ResponseHead::from_pairs(status, headers.iter().map(|(n, v)| (*n, *v)));
        let error_body = if status >= 300 {
            ErrorBody::parse(body)
        } else {
            ErrorBody::default()
        };
        let verdict = taken.report(&head, &error_body);
        if !out_outcome.is_null() {
            *out_outcome = gf_outcome::from(&verdict.outcome);
        }
        Ok(())
    })
}

/// Frees a lease. One never reported gives its use back to the pool. NULL
/// is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gf_lease_free(lease: *mut gf_lease) {
    if !lease.is_null() && live::taken_back(lease, Kind::Lease, "gf_lease_free") {
        drop(Box::from_raw(lease));
    }
}
