//! The pointers the library has handed to the caller and not yet taken
//! back, kept in debug builds only, so that a second `_free` of the same
//! error, string or handle is reported instead of freeing memory twice.
//!
//! Every function that gives the caller something to free passes it
//! through [`handed_out`]; every `_free` asks [`taken_back`] first and
//! leaves the pointer alone when the answer is no. In a release build both
//! are no-ops: a double free there is undefined behaviour, as the header
//! says.

use std::fmt;

/// What a pointer handed to the caller is, and so which `_free` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Error,
    String,
    Secret,
    TokenManager,
    ClientOptions,
    Client,
    Lease,
    Request,
    Store,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Error => "gf_error",
            Kind::String => "string (gf_string_free)",
            Kind::Secret => "secret (gf_secret_free)",
            Kind::TokenManager => "gf_token_manager",
            Kind::ClientOptions => "gf_client_options",
            Kind::Client => "gf_client",
            Kind::Lease => "gf_lease",
            Kind::Request => "gf_request",
            Kind::Store => "gf_store",
        })
    }
}

/// Records `ptr` as handed to the caller as a `kind`; returns it.
pub(crate) fn handed_out<T>(ptr: *mut T, kind: Kind) -> *mut T {
    #[cfg(debug_assertions)]
    if !ptr.is_null() {
        registry::insert(ptr as usize, kind);
    }
    #[cfg(not(debug_assertions))]
    let _ = kind;
    ptr
}

/// Whether `ptr` (not NULL) may be freed as a `kind` by `function`. True,
/// and the record gone, when the library handed it out as one and it was
/// not freed since. Otherwise (debug builds only) the mistake is reported
/// on stderr and to the log, and the caller must not touch `ptr`.
///
/// A JSON string given to `gf_secret_free` is freed (wiped, needlessly)
/// with a warning; a secret given to `gf_string_free` is refused, as it
/// would not be wiped.
pub(crate) fn taken_back<T>(ptr: *mut T, kind: Kind, function: &str) -> bool {
    #[cfg(debug_assertions)]
    {
        registry::take(ptr as usize, kind, function)
    }
    #[cfg(not(debug_assertions))]
    {
        let _ = (ptr, kind, function);
        true
    }
}

#[cfg(debug_assertions)]
mod registry {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use super::Kind;

    // Limitation: only addresses are kept. If the allocator gives a freed
    // address to a new object of the same kind before the second free, that
    // free looks legitimate and frees the new object; the check catches a
    // double free only while the address has not been reused.
    static LIVE: Mutex<BTreeMap<usize, Kind>> = Mutex::new(BTreeMap::new());

    fn live() -> std::sync::MutexGuard<'static, BTreeMap<usize, Kind>> {
        LIVE.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn insert(address: usize, kind: Kind) {
        live().insert(address, kind);
    }

    pub(super) fn take(address: usize, kind: Kind, function: &str) -> bool {
        let found = {
            let mut live = live();
            match live.get(&address).copied() {
                Some(found) if compatible(found, kind) => {
                    live.remove(&address);
                    Some(found)
                }
                other => {
                    drop(live);
                    report(address, kind, other, function);
                    return false;
                }
            }
        };
        if found != Some(kind) {
            // A string freed as a secret or the other way round: allowed,
            // but worth knowing.
            let message = format!(
                "gitfleet: {function}({address:#x}): this is a {}, not a {kind}",
                found.map_or("?".into(), |k| k.to_string())
            );
            log::warn!("{message}");
            to_stderr(&message);
        }
        true
    }

    fn compatible(found: Kind, wanted: Kind) -> bool {
        found == wanted || matches!((found, wanted), (Kind::String, Kind::Secret))
    }

    fn report(address: usize, kind: Kind, found: Option<Kind>, function: &str) {
        let why = match found {
            None => format!(
                "not a live {kind}: freed already (double free), or never handed out by gitfleet"
            ),
            Some(other) => format!("a live {other}, not a {kind}"),
        };
        let message = format!(
            "gitfleet: {function}({address:#x}) ignored: {why}. This check runs in debug builds \
             only; in a release build the call would be undefined behaviour."
        );
        log::error!("{message}");
        to_stderr(&message);
    }

    /// `eprintln!` panics when stderr is closed; a report must not.
    fn to_stderr(message: &str) {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "{message}");
    }
}

#[cfg(all(test, debug_assertions))]
mod tests {
    use super::*;

    #[test]
    fn a_second_take_is_refused_and_a_wrong_kind_too() {
        let ptr = Box::into_raw(Box::new(7u32));
        handed_out(ptr, Kind::Lease);
        assert!(!taken_back(ptr, Kind::Error, "gf_error_free"));
        assert!(taken_back(ptr, Kind::Lease, "gf_lease_free"));
        assert!(!taken_back(ptr, Kind::Lease, "gf_lease_free"));
        // SAFETY: made above and taken back exactly once.
        drop(unsafe { Box::from_raw(ptr) });
    }

    #[test]
    fn a_string_may_be_freed_as_a_secret_but_only_once() {
        let ptr = Box::into_raw(Box::new(1u8));
        handed_out(ptr, Kind::String);
        assert!(taken_back(ptr, Kind::Secret, "gf_secret_free"));
        assert!(!taken_back(ptr, Kind::String, "gf_string_free"));
        // SAFETY: made above and taken back exactly once.
        drop(unsafe { Box::from_raw(ptr) });
    }
}
