//! The token manager through the C ABI: a sequence of calls with fuzzed
//! strings and buffers (secrets, usernames, resources, header names and
//! values for gf_token_manager_update_from_headers and gf_lease_report,
//! response bodies) on one pool.
//!
//! Checks after every call (common.rs): no caught panic, an error exactly
//! on failure with its status and a message, no secret in any message or
//! JSON. Also: a lease hands back a token that was added and its
//! fingerprint; a report's outcome is what the classifier says for the
//! same response; snapshots are JSON arrays of fingerprints; counts and
//! resets stay within what was added and reported.

#![no_main]

mod common;

use std::collections::HashSet;
use std::ffi::{c_char, CStr, CString};
use std::ptr;

use arbitrary::Arbitrary;
use common::{c_string, check, secret, take_string, unmarked, MARK};
use gitfleet::classify::{classify, ErrorBody, Outcome, ResponseHead, MAX_HEADER_VALUE};
use gitfleet::fuzzing::*;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Secret {
    /// One of a few well-formed secrets, so that calls meet again.
    Known(u8),
    /// Anything after the mark: control characters, non-UTF-8, long.
    Raw(Vec<u8>),
}

impl Secret {
    fn c(&self) -> CString {
        match self {
            Secret::Known(n) => secret(format!("known{}", n % 6).as_bytes()),
            Secret::Raw(bytes) => secret(bytes),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Name {
    Limit,
    Remaining,
    Used,
    Reset,
    Resource,
    RetryAfter,
    Date,
    Other(Vec<u8>),
}

impl Name {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Name::Limit => b"X-RateLimit-Limit".to_vec(),
            Name::Remaining => b"x-ratelimit-remaining".to_vec(),
            Name::Used => b"x-ratelimit-used".to_vec(),
            Name::Reset => b"x-ratelimit-reset".to_vec(),
            Name::Resource => b"x-ratelimit-resource".to_vec(),
            Name::RetryAfter => b"Retry-After".to_vec(),
            Name::Date => b"date".to_vec(),
            Name::Other(bytes) => unmarked(bytes),
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Response {
    status: u16,
    headers: Vec<(Name, Vec<u8>)>,
    body: Vec<u8>,
}

#[derive(Arbitrary, Debug)]
enum Op {
    Add {
        provider: i8,
        secret: Secret,
        username: Option<Vec<u8>>,
        priority: i32,
    },
    Remove(Secret),
    MarkInvalid(Secret),
    Strategy(i32),
    ReserveCount(u64),
    ReserveFraction(f64),
    Count {
        provider: i8,
        resource: Option<Vec<u8>>,
    },
    EarliestReset {
        provider: i8,
        resource: Option<Vec<u8>>,
    },
    Snapshot,
    Update {
        secret: Secret,
        headers: Vec<(Name, Vec<u8>)>,
    },
    Lease {
        provider: i8,
        resource: Option<Vec<u8>>,
        response: Option<Response>,
    },
    StatusName(i32),
}

/// C arrays of header names and values, kept alive with their pointers.
struct Headers {
    names: Vec<CString>,
    values: Vec<CString>,
    name_ptrs: Vec<*const c_char>,
    value_ptrs: Vec<*const c_char>,
}

impl Headers {
    fn new(pairs: &[(Name, Vec<u8>)]) -> Headers {
        let names: Vec<CString> = pairs.iter().map(|(n, _)| c_string(&n.bytes())).collect();
        let values: Vec<CString> = pairs.iter().map(|(_, v)| c_string(&unmarked(v))).collect();
        let name_ptrs = names.iter().map(|n| n.as_ptr()).collect();
        let value_ptrs = values.iter().map(|v| v.as_ptr()).collect();
        Headers {
            names,
            values,
            name_ptrs,
            value_ptrs,
        }
    }

    /// The pairs as the library reads them (a name that is not UTF-8 is skipped).
    fn pairs(&self) -> Vec<(&str, &[u8])> {
        self.names
            .iter()
            .zip(&self.values)
            .filter_map(|(n, v)| Some((n.to_str().ok()?, v.to_bytes())))
            .collect()
    }
}

fn optional(bytes: &Option<Vec<u8>>) -> Option<CString> {
    bytes.as_ref().map(|b| c_string(&unmarked(b)))
}

fn ptr_of(value: &Option<CString>) -> *const c_char {
    value.as_ref().map_or(ptr::null(), |v| v.as_ptr())
}

fn expected_outcome(outcome: &Outcome) -> gf_outcome {
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

struct Run {
    manager: *mut gf_token_manager,
    added: HashSet<Vec<u8>>,
}

impl Run {
    unsafe fn step(&mut self, op: &Op) {
        let m = self.manager;
        let mut err: *mut gf_error = ptr::null_mut();
        match op {
            Op::Add {
                provider,
                secret,
                username,
                priority,
            } => {
                let secret = secret.c();
                let username = optional(username);
                let status = gf_token_manager_add_token(
                    m,
                    i32::from(*provider),
                    secret.as_ptr(),
                    ptr_of(&username),
                    *priority,
                    &mut err,
                );
                let well_formed = gitfleet::pool::check_secret(secret.to_str().unwrap_or("\n"));
                if status == gf_status::GF_STATUS_OK {
                    assert!(well_formed.is_ok(), "a malformed secret was accepted");
                    self.added.insert(secret.to_bytes().to_vec());
                } else if (0..=2).contains(provider) && username.is_none() && well_formed.is_ok() {
                    panic!("a well-formed secret was refused: {status:?}");
                }
                check(status, err, "add_token");
            }
            Op::Remove(secret) => {
                let mut removed = false;
                let status =
                    gf_token_manager_remove_token(m, secret.c().as_ptr(), &mut removed, &mut err);
                if removed {
                    assert!(self.added.contains(secret.c().to_bytes()));
                }
                check(status, err, "remove_token");
            }
            Op::MarkInvalid(secret) => {
                let mut found = false;
                let status =
                    gf_token_manager_mark_invalid(m, secret.c().as_ptr(), &mut found, &mut err);
                if found {
                    assert!(self.added.contains(secret.c().to_bytes()));
                }
                check(status, err, "mark_invalid");
            }
            Op::Strategy(strategy) => {
                let status = gf_token_manager_set_strategy(m, *strategy, &mut err);
                assert_eq!(
                    status == gf_status::GF_STATUS_OK,
                    (0..=2).contains(strategy)
                );
                check(status, err, "set_strategy");
            }
            Op::ReserveCount(count) => {
                check(
                    gf_token_manager_set_reserve_count(m, *count, &mut err),
                    err,
                    "reserve",
                );
            }
            Op::ReserveFraction(fraction) => {
                let status = gf_token_manager_set_reserve_fraction(m, *fraction, &mut err);
                if status == gf_status::GF_STATUS_OK {
                    assert!(
                        (0.0..=1.0).contains(fraction),
                        "fraction {fraction} accepted"
                    );
                }
                check(status, err, "reserve_fraction");
            }
            Op::Count { provider, resource } => {
                let resource = optional(resource);
                let mut count = usize::MAX;
                let status = gf_token_manager_count_available(
                    m,
                    i32::from(*provider),
                    ptr_of(&resource),
                    &mut count,
                    &mut err,
                );
                if check(status, err, "count_available") == gf_status::GF_STATUS_OK {
                    assert!(count <= self.added.len());
                }
            }
            Op::EarliestReset { provider, resource } => {
                let resource = optional(resource);
                let mut reset = u64::MAX;
                let status = gf_token_manager_earliest_reset(
                    m,
                    i32::from(*provider),
                    ptr_of(&resource),
                    &mut reset,
                    &mut err,
                );
                if check(status, err, "earliest_reset") == gf_status::GF_STATUS_OK {
                    let now_s = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .expect("after 1970")
                        .as_secs();
                    // Nothing reported can push a reset further than the
                    // largest header value read, from now.
                    assert!(reset <= now_s + MAX_HEADER_VALUE + 2, "reset {reset}");
                }
            }
            Op::Snapshot => self.snapshot(),
            Op::Update { secret, headers } => {
                let headers = Headers::new(headers);
                let mut found = false;
                let status = gf_token_manager_update_from_headers(
                    m,
                    secret.c().as_ptr(),
                    headers.name_ptrs.as_ptr(),
                    headers.value_ptrs.as_ptr(),
                    headers.name_ptrs.len(),
                    &mut found,
                    &mut err,
                );
                if found {
                    assert!(self.added.contains(secret.c().to_bytes()));
                }
                check(status, err, "update_from_headers");
            }
            Op::Lease {
                provider,
                resource,
                response,
            } => self.lease(*provider, resource, response.as_ref()),
            Op::StatusName(status) => {
                let name = CStr::from_ptr(gf_status_name(*status))
                    .to_str()
                    .expect("ASCII");
                assert!(name.starts_with("GF_STATUS_"));
            }
        }
    }

    unsafe fn snapshot(&self) {
        let mut json: *mut c_char = ptr::null_mut();
        let mut err: *mut gf_error = ptr::null_mut();
        let status = gf_token_manager_snapshot_json(self.manager, &mut json, &mut err);
        if check(status, err, "snapshot_json") != gf_status::GF_STATUS_OK {
            return;
        }
        let text = take_string(json, "snapshot");
        let value: serde_json::Value = serde_json::from_str(&text).expect("snapshot is JSON");
        let tokens = value.as_array().expect("snapshot is an array");
        assert!(tokens.len() <= self.added.len());
        for token in tokens {
            let fingerprint = token["fingerprint"].as_str().expect("a fingerprint");
            assert_eq!(fingerprint.len(), 12);
            assert!(fingerprint.bytes().all(|b| b.is_ascii_hexdigit()));
        }
    }

    unsafe fn lease(&self, provider: i8, resource: &Option<Vec<u8>>, response: Option<&Response>) {
        let resource = optional(resource);
        let mut lease: *mut gf_lease = ptr::null_mut();
        let mut err: *mut gf_error = ptr::null_mut();
        let status = gf_token_manager_lease(
            self.manager,
            i32::from(provider),
            ptr_of(&resource),
            &mut lease,
            &mut err,
        );
        if check(status, err, "lease") != gf_status::GF_STATUS_OK {
            assert!(lease.is_null());
            return;
        }
        let token = CStr::from_ptr(gf_lease_token(lease));
        assert!(
            self.added.contains(token.to_bytes()),
            "leased a token never added"
        );
        let fingerprint = CStr::from_ptr(gf_lease_fingerprint(lease))
            .to_str()
            .expect("ASCII");
        assert_eq!(
            fingerprint,
            gitfleet::pool::fingerprint(token.to_str().expect("ASCII"))
        );
        assert!(!fingerprint.contains(MARK));

        if let Some(response) = response {
            let headers = Headers::new(&response.headers);
            let body = unmarked(&response.body);
            let mut outcome = gf_outcome::GF_OUTCOME_OTHER_ERROR;
            let mut err: *mut gf_error = ptr::null_mut();
            let status = gf_lease_report(
                lease,
                response.status,
                headers.name_ptrs.as_ptr(),
                headers.value_ptrs.as_ptr(),
                headers.name_ptrs.len(),
                if body.is_empty() {
                    ptr::null()
                } else {
                    body.as_ptr()
                },
                body.len(),
                &mut outcome,
                &mut err,
            );
            let valid_status = (100..=599).contains(&response.status);
            assert_eq!(
                status == gf_status::GF_STATUS_OK,
                valid_status,
                "{status:?}"
            );
            if check(status, err, "lease_report") == gf_status::GF_STATUS_OK {
                let head = ResponseHead::from_pairs(response.status, headers.pairs());
                let body = if response.status >= 300 {
                    ErrorBody::parse(&body)
                } else {
                    ErrorBody::default()
                };
                let verdict = classify(&head, &body, 1_700_000_000_000);
                assert_eq!(outcome, expected_outcome(&verdict.outcome));
            }
        }
        gf_lease_free(lease);
    }
}

fuzz_target!(|ops: Vec<Op>| {
    let mut run = Run {
        manager: gf_token_manager_new(),
        added: HashSet::new(),
    };
    for op in ops.iter().take(64) {
        // SAFETY: the manager is live, every pointer passed is valid for its call.
        unsafe { run.step(op) };
    }
    // SAFETY: made above, freed once.
    unsafe { gf_token_manager_free(run.manager) };
});
