//! The C ABI: the only module with `extern "C"`, raw pointers and `unsafe`.
//!
//! One submodule per object the header exposes (error, token manager,
//! lease, client, request), plus this module's plumbing: the status codes,
//! the panic guard, and string conversion. The contract every function
//! follows is written once, at the top of `include/gitfleet.h` (from
//! `cbindgen.toml`).

#![allow(non_camel_case_types)]

pub mod client;
pub mod error;
pub mod lease;
pub mod log;
pub mod manager;
pub mod request;
pub mod store;
#[cfg(test)]
mod tests;

use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::Error;
use error::gf_error;

/// Status of every fallible function, and of every async completion.
/// The numbers are stable: grouped by tens, never reused.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum gf_status {
    /// Success.
    GF_STATUS_OK = 0,
    /// A NULL pointer, invalid UTF-8, or a value out of range.
    GF_STATUS_INVALID_ARGUMENT = 1,
    /// A bug inside the library (a caught panic); the message says where.
    GF_STATUS_INTERNAL = 2,
    /// The credentials were refused (401), or no usable token is left.
    GF_STATUS_AUTH = 10,
    /// Every token is spent; the error carries the earliest reset.
    GF_STATUS_RATE_LIMITED = 11,
    /// GitHub's secondary limit; the error carries retry-after.
    GF_STATUS_SECONDARY_LIMITED = 12,
    /// 404.
    GF_STATUS_NOT_FOUND = 13,
    /// A 403 that is not a rate limit.
    GF_STATUS_FORBIDDEN = 14,
    /// Another unexpected HTTP status; the error carries it.
    GF_STATUS_HTTP = 15,
    /// The connection failed or broke.
    GF_STATUS_NETWORK = 20,
    /// The request timed out.
    GF_STATUS_TIMEOUT = 21,
    /// A response could not be decoded.
    GF_STATUS_DECODE = 22,
    /// The caller cancelled the request.
    GF_STATUS_CANCELLED = 30,
    /// The client was freed, or the runtime shut down
    /// (`gf_runtime_shutdown`), while the call was in flight.
    GF_STATUS_SHUT_DOWN = 31,
    /// A file could not be read, written or locked.
    GF_STATUS_IO = 40,
    /// A credential store failed authentication: wrong password or key, or
    /// the file was changed.
    GF_STATUS_CRYPTO = 41,
    /// Not a credential store, truncated, or an unsupported version.
    GF_STATUS_FORMAT = 42,
}

impl gf_status {
    pub(crate) fn of(error: &Error) -> gf_status {
        match error {
            Error::InvalidArgument(_) => gf_status::GF_STATUS_INVALID_ARGUMENT,
            Error::Auth(_) => gf_status::GF_STATUS_AUTH,
            Error::RateLimited { .. } => gf_status::GF_STATUS_RATE_LIMITED,
            Error::SecondaryLimited { .. } => gf_status::GF_STATUS_SECONDARY_LIMITED,
            Error::NotFound(_) => gf_status::GF_STATUS_NOT_FOUND,
            Error::Forbidden { .. } => gf_status::GF_STATUS_FORBIDDEN,
            Error::Http { .. } => gf_status::GF_STATUS_HTTP,
            Error::Network(_) => gf_status::GF_STATUS_NETWORK,
            Error::Timeout(_) => gf_status::GF_STATUS_TIMEOUT,
            Error::Decode(_) => gf_status::GF_STATUS_DECODE,
            Error::Cancelled => gf_status::GF_STATUS_CANCELLED,
            Error::Io(_) => gf_status::GF_STATUS_IO,
            Error::Crypto(_) => gf_status::GF_STATUS_CRYPTO,
            Error::Format(_) => gf_status::GF_STATUS_FORMAT,
        }
    }
}

/// What went wrong inside an exported function: an error of the library,
/// or a status with a message of its own (a caught panic, a shutdown).
pub(crate) enum Failure {
    Error(Error),
    Status(gf_status, String),
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure::Error(error)
    }
}

pub(crate) type FfiResult<T = ()> = Result<T, Failure>;

/// Runs the body of an exported function: catches panics, turns failures
/// into a status, and hands the error object to the caller when asked.
pub(crate) fn guard<F>(err: *mut *mut gf_error, body: F) -> gf_status
where
    F: FnOnce() -> FfiResult,
{
    let failure = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => return gf_status::GF_STATUS_OK,
        Ok(Err(failure)) => failure,
        Err(panic) => Failure::Status(gf_status::GF_STATUS_INTERNAL, panic_message(&*panic)),
    };
    let error = gf_error::from_failure(failure);
    let status = error.status;
    if !err.is_null() {
        // SAFETY: the caller passed a writable `gf_error **` (header contract).
        unsafe { *err = Box::into_raw(Box::new(error)) };
    }
    status
}

/// The message of a caught panic. Panic messages in this crate never carry
/// a secret.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    format!("internal error (a bug in gitfleet, please report it): {detail}")
}

/// Borrows a required C string argument as UTF-8.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string valid for `'a`.
pub(crate) unsafe fn str_arg<'a>(ptr: *const c_char, what: &str) -> Result<&'a str, Error> {
    if ptr.is_null() {
        return Err(Error::InvalidArgument(format!("{what} is NULL")));
    }
    CStr::from_ptr(ptr)
        .to_str()
        .map_err(|_| Error::InvalidArgument(format!("{what} is not valid UTF-8")))
}

/// Like [`str_arg`], but NULL means "not given".
///
/// # Safety
/// As for [`str_arg`].
pub(crate) unsafe fn opt_str_arg<'a>(
    ptr: *const c_char,
    what: &str,
) -> Result<Option<&'a str>, Error> {
    if ptr.is_null() {
        Ok(None)
    } else {
        str_arg(ptr, what).map(Some)
    }
}

/// Checks a required output pointer.
pub(crate) fn out_arg<T>(ptr: *mut T, what: &str) -> Result<(), Error> {
    if ptr.is_null() {
        Err(Error::InvalidArgument(format!("{what} is NULL")))
    } else {
        Ok(())
    }
}

/// Borrows a handle, or fails on NULL.
///
/// # Safety
/// `ptr` is NULL or a live handle of this type.
pub(crate) unsafe fn handle<'a, T>(ptr: *const T, what: &str) -> Result<&'a T, Error> {
    ptr.as_ref()
        .ok_or_else(|| Error::InvalidArgument(format!("{what} is NULL")))
}

/// A string for the caller to own and free with `gf_string_free`.
pub(crate) fn owned_string(text: String) -> *mut c_char {
    // Our JSON and messages never contain NUL; replace one if it ever does.
    CString::new(text)
        .unwrap_or_else(|e| {
            let cleaned: Vec<u8> = e
                .into_vec()
                .into_iter()
                .map(|b| if b == 0 { b' ' } else { b })
                .collect();
            CString::new(cleaned).unwrap_or_default()
        })
        .into_raw()
}

/// Frees a string the library returned (JSON documents). NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gf_string_free(s: *mut c_char) {
    if !s.is_null() {
        drop(CString::from_raw(s));
    }
}

/// The library's version, e.g. "0.1.0". Static; do not free.
#[no_mangle]
pub extern "C" fn gf_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// A static, human-readable name for a status ("GF_STATUS_RATE_LIMITED");
/// "GF_STATUS_UNKNOWN" for a number that is not a status. Do not free.
#[no_mangle]
pub extern "C" fn gf_status_name(status: i32) -> *const c_char {
    let name: &'static str = match status {
        0 => "GF_STATUS_OK\0",
        1 => "GF_STATUS_INVALID_ARGUMENT\0",
        2 => "GF_STATUS_INTERNAL\0",
        10 => "GF_STATUS_AUTH\0",
        11 => "GF_STATUS_RATE_LIMITED\0",
        12 => "GF_STATUS_SECONDARY_LIMITED\0",
        13 => "GF_STATUS_NOT_FOUND\0",
        14 => "GF_STATUS_FORBIDDEN\0",
        15 => "GF_STATUS_HTTP\0",
        20 => "GF_STATUS_NETWORK\0",
        21 => "GF_STATUS_TIMEOUT\0",
        22 => "GF_STATUS_DECODE\0",
        30 => "GF_STATUS_CANCELLED\0",
        31 => "GF_STATUS_SHUT_DOWN\0",
        40 => "GF_STATUS_IO\0",
        41 => "GF_STATUS_CRYPTO\0",
        42 => "GF_STATUS_FORMAT\0",
        _ => "GF_STATUS_UNKNOWN\0",
    };
    name.as_ptr().cast()
}
