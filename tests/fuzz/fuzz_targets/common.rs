//! What the FFI fuzz targets share: turning fuzz bytes into C strings, and
//! the checks every call's result must pass.

#![allow(dead_code)]

use std::ffi::{c_char, CStr, CString};

use gitfleet::fuzzing::{gf_error, gf_error_free, gf_error_message, gf_error_status, gf_status};

/// Every secret a target hands the library starts with this, and no other
/// input contains it, so that finding it in an output means a leak.
pub const MARK: &str = "fz_tok_";

/// A C string of `bytes`, NULs replaced (a C string cannot hold them).
pub fn c_string(bytes: &[u8]) -> CString {
    let cleaned: Vec<u8> = bytes
        .iter()
        .map(|&b| if b == 0 { b'0' } else { b })
        .collect();
    CString::new(cleaned).expect("no NUL left")
}

/// `bytes` with every occurrence of [`MARK`] broken, for inputs that are
/// not secrets.
pub fn unmarked(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let mark = MARK.as_bytes();
    let mut at = 0;
    while at + mark.len() <= out.len() {
        if &out[at..at + mark.len()] == mark {
            out[at + 2] = b'-';
        }
        at += 1;
    }
    out
}

/// A secret made of [`MARK`] and `suffix` (NULs replaced).
pub fn secret(suffix: &[u8]) -> CString {
    let mut bytes = MARK.as_bytes().to_vec();
    bytes.extend_from_slice(suffix);
    c_string(&bytes)
}

/// Panics if `text` shows a secret.
pub fn assert_no_secret(text: &str, what: &str) {
    assert!(
        !text.contains(MARK),
        "a secret leaked into {what}: {text:?}"
    );
}

/// Checks a call's status and error, then frees the error: no caught panic
/// (GF_STATUS_INTERNAL is a bug), an error exactly on failure, carrying the
/// same status and a non-empty UTF-8 message without a secret.
pub fn check(status: gf_status, err: *mut gf_error, what: &str) -> gf_status {
    assert_ne!(
        status,
        gf_status::GF_STATUS_INTERNAL,
        "{what} panicked inside"
    );
    if status == gf_status::GF_STATUS_OK {
        assert!(err.is_null(), "{what} succeeded but wrote an error");
        return status;
    }
    assert!(!err.is_null(), "{what} failed without an error");
    // SAFETY: a live error handed out by the call.
    unsafe {
        assert_eq!(
            gf_error_status(err),
            status,
            "{what}: error and status disagree"
        );
        let message = CStr::from_ptr(gf_error_message(err))
            .to_str()
            .unwrap_or_else(|_| panic!("{what}: the message is not UTF-8"));
        assert!(!message.is_empty(), "{what}: empty message");
        assert_no_secret(message, what);
        gf_error_free(err);
    }
    status
}

/// Takes a string the library returned, checks it is UTF-8 with no
/// secret, frees it and returns a copy.
///
/// # Safety
/// `ptr` is a string handed out by the library, not freed yet.
pub unsafe fn take_string(ptr: *mut c_char, what: &str) -> String {
    assert!(!ptr.is_null(), "{what}: OK without a string");
    let text = CStr::from_ptr(ptr)
        .to_str()
        .unwrap_or_else(|_| panic!("{what}: not UTF-8"))
        .to_owned();
    gitfleet::fuzzing::gf_string_free(ptr);
    assert_no_secret(&text, what);
    text
}
