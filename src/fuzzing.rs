//! What the fuzz targets in `tests/fuzz` call: the C ABI as Rust sees it,
//! and the private parsers worth fuzzing on their own. Compiled only with
//! `--cfg fuzzing` (which `cargo fuzz` sets); not part of the API.

pub use crate::ffi::client::*;
pub use crate::ffi::error::*;
pub use crate::ffi::lease::*;
pub use crate::ffi::log::*;
pub use crate::ffi::manager::*;
pub use crate::ffi::request::*;
pub use crate::ffi::store::*;
pub use crate::ffi::{gf_status, gf_status_name, gf_string_free, gf_version};

/// The `rel="next"` target of `Link` header values, as the client reads it.
pub fn next_link(values: &[&str]) -> Option<String> {
    crate::github::links::next_link(values.iter().copied())
}

/// One URL path segment from caller input, percent-encoded, or an error.
pub fn segment(value: &str) -> crate::Result<String> {
    crate::github::links::segment("segment", value)
}

/// `scheme://host[:port]` of a URL, lowercased.
pub fn origin(url: &str) -> Option<String> {
    crate::github::links::origin(url)
}
