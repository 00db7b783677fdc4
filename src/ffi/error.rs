//! `gf_error`: what went wrong, owned by the caller.

use std::ffi::{c_char, CString};

use super::live::{self, Kind};
use super::{gf_status, Failure};
use crate::error::Error;

/// An error: a status, a message, and the details that apply (HTTP status,
/// reset time, retry-after, resource). Created by the library, owned by the
/// caller, freed with `gf_error_free`. Not for concurrent use from several
/// threads while one of them frees it.
pub struct gf_error {
    pub(crate) status: gf_status,
    message: CString,
    http_status: u16,
    reset: u64,
    retry_after: u64,
    resource: CString,
}

impl gf_error {
    pub(crate) fn from_failure(failure: Failure) -> gf_error {
        match failure {
            Failure::Error(error) => gf_error::from_error(&error),
            Failure::Status(status, message) => gf_error::new(status, message),
        }
    }

    pub(crate) fn new(status: gf_status, message: String) -> gf_error {
        gf_error {
            status,
            message: c_string(message),
            http_status: 0,
            reset: 0,
            retry_after: 0,
            resource: CString::default(),
        }
    }

    pub(crate) fn from_error(error: &Error) -> gf_error {
        let mut made = gf_error::new(gf_status::of(error), error.to_string());
        match error {
            Error::RateLimited { reset, resource } => {
                made.reset = *reset;
                made.resource = c_string(resource.clone());
            }
            Error::SecondaryLimited { retry_after } => made.retry_after = *retry_after,
            Error::Http { status, .. } => made.http_status = *status,
            Error::NotFound(_) => made.http_status = 404,
            Error::Forbidden { .. } => made.http_status = 403,
            _ => {}
        }
        made
    }
}

fn c_string(text: String) -> CString {
    CString::new(text.replace('\0', " ")).unwrap_or_default()
}

/// Frees an error. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gf_error_free(error: *mut gf_error) {
    if !error.is_null() && live::taken_back(error, Kind::Error, "gf_error_free") {
        drop(Box::from_raw(error));
    }
}

/// The error's status; `GF_STATUS_INVALID_ARGUMENT` for NULL.
#[no_mangle]
pub unsafe extern "C" fn gf_error_status(error: *const gf_error) -> gf_status {
    error
        .as_ref()
        .map_or(gf_status::GF_STATUS_INVALID_ARGUMENT, |e| e.status)
}

/// The message, UTF-8, borrowed until the error is freed; "" for NULL.
/// Never contains a token.
#[no_mangle]
pub unsafe extern "C" fn gf_error_message(error: *const gf_error) -> *const c_char {
    match error.as_ref() {
        Some(e) => e.message.as_ptr(),
        None => c"".as_ptr(),
    }
}

/// The HTTP status behind the error: 404 for `GF_STATUS_NOT_FOUND`, 403 for
/// `GF_STATUS_FORBIDDEN`, the status for `GF_STATUS_HTTP`; 0 otherwise (a
/// rate limit may come as 403 or 429, or from the pool with no request
/// sent, and is described by the status code itself).
#[no_mangle]
pub unsafe extern "C" fn gf_error_http_status(error: *const gf_error) -> u16 {
    error.as_ref().map_or(0, |e| e.http_status)
}

/// For `GF_STATUS_RATE_LIMITED`: when the earliest token is usable again,
/// Unix seconds on this machine's clock; 0 otherwise.
#[no_mangle]
pub unsafe extern "C" fn gf_error_reset(error: *const gf_error) -> u64 {
    error.as_ref().map_or(0, |e| e.reset)
}

/// For `GF_STATUS_SECONDARY_LIMITED`: seconds to wait; 0 otherwise.
#[no_mangle]
pub unsafe extern "C" fn gf_error_retry_after(error: *const gf_error) -> u64 {
    error.as_ref().map_or(0, |e| e.retry_after)
}

/// For `GF_STATUS_RATE_LIMITED`: the spent resource ("core", "search", ...);
/// "" otherwise. Borrowed until the error is freed.
#[no_mangle]
pub unsafe extern "C" fn gf_error_resource(error: *const gf_error) -> *const c_char {
    match error.as_ref() {
        Some(e) => e.resource.as_ptr(),
        None => c"".as_ptr(),
    }
}
