//! The response classifier: a response head and body, as text, through
//! `ResponseHead::from_pairs`, `ErrorBody::parse` and `classify`.
//!
//! Input: a first line `STATUS [NOW_MS]`, header lines `name: value` up to
//! an empty line, then the body (the seeds are the recorded GitHub
//! responses of tests/fixtures/github in this form). Checks, beyond "no
//! panic": figures stay within `MAX_HEADER_VALUE`; reading a head back
//! from its own canonical headers gives the same head; the outcome follows
//! the status; a limit never lasts longer than the server asked for (its
//! reset, measured on its own clock, or its retry-after) or the default.

#![no_main]

use gitfleet::classify::{
    classify, parse_count, ErrorBody, Outcome, ResponseHead, DEFAULT_PRIMARY_WAIT_S,
    DEFAULT_SECONDARY_COOLDOWN_S, MAX_HEADER_VALUE,
};
use libfuzzer_sys::fuzz_target;

/// 2023-11-14T22:13:20Z, when no time is given.
const DEFAULT_NOW_MS: u64 = 1_700_000_000_000;

struct Response<'a> {
    status: u16,
    now_ms: u64,
    headers: Vec<(&'a str, &'a [u8])>,
    body: &'a [u8],
}

fn parse(data: &[u8]) -> Option<Response<'_>> {
    let (first, mut rest) = split_line(data);
    let first = std::str::from_utf8(first).ok()?;
    let mut words = first.split_ascii_whitespace();
    let status = words.next()?.parse::<u16>().ok()?;
    let now_ms = match words.next() {
        Some(word) => word.parse::<u64>().ok()?,
        None => DEFAULT_NOW_MS,
    };
    let mut headers = Vec::new();
    while !rest.is_empty() {
        let (line, after) = split_line(rest);
        rest = after;
        if line.is_empty() {
            break;
        }
        let colon = line.iter().position(|&b| b == b':')?;
        let Ok(name) = std::str::from_utf8(&line[..colon]) else {
            continue; // the C ABI skips a name that is not UTF-8 too
        };
        headers.push((name.trim(), &line[colon + 1..]));
    }
    Some(Response {
        status,
        now_ms,
        headers,
        body: rest,
    })
}

fn split_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[]),
    }
}

/// The head written back as canonical headers.
fn canonical(head: &ResponseHead) -> Vec<(String, Vec<u8>)> {
    let mut headers = Vec::new();
    let mut number = |name: &str, value: Option<u64>| {
        if let Some(value) = value {
            headers.push((name.to_string(), value.to_string().into_bytes()));
        }
    };
    number("x-ratelimit-limit", head.limit);
    number("x-ratelimit-remaining", head.remaining);
    number("x-ratelimit-used", head.used);
    number("x-ratelimit-reset", head.reset_s);
    number("retry-after", head.retry_after_s);
    if let Some(resource) = &head.resource {
        headers.push(("x-ratelimit-resource".into(), resource.clone().into_bytes()));
    }
    if let Some(date) = head.date_s {
        let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(date);
        headers.push(("date".into(), httpdate::fmt_http_date(time).into_bytes()));
    }
    headers
}

fn check_head(head: &ResponseHead) {
    for value in [
        head.limit,
        head.remaining,
        head.used,
        head.reset_s,
        head.retry_after_s,
    ] {
        assert!(value.is_none_or(|v| v <= MAX_HEADER_VALUE), "{head:?}");
    }
    if let Some(resource) = &head.resource {
        assert!(!resource.is_empty() && resource.len() <= 64, "{head:?}");
        assert!(
            resource
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'),
            "{head:?}"
        );
    }

    let written = canonical(head);
    let again = ResponseHead::from_pairs(
        head.status,
        written.iter().map(|(n, v)| (n.as_str(), v.as_slice())),
    );
    assert_eq!(&again, head, "the head does not survive being written back");
}

/// Whether the body speaks of a rate limit at all (a looser test than the
/// classifier's own, so that it can only miss, never invent, a reason).
fn mentions_limit(body: &ErrorBody) -> bool {
    let hay = |s: &Option<String>| s.as_deref().unwrap_or("").to_ascii_lowercase();
    let (message, url) = (hay(&body.message), hay(&body.documentation_url));
    message.contains("rate limit") || url.contains("rate-limit")
}

fn check_outcome(head: &ResponseHead, body: &ErrorBody, now_ms: u64) {
    let verdict = classify(head, body, now_ms);
    let status = head.status;
    match status {
        200..=299 => assert_eq!(verdict.outcome, Outcome::Success),
        304 => assert_eq!(verdict.outcome, Outcome::NotModified),
        401 => {
            assert_eq!(verdict.outcome, Outcome::Invalid);
            assert_eq!(verdict.figures, None, "a 401's figures are not the token's");
        }
        404 => assert_eq!(verdict.outcome, Outcome::NotFound),
        500..=599 => assert_eq!(verdict.outcome, Outcome::ServerError),
        403 | 429 => {}
        _ => assert_eq!(verdict.outcome, Outcome::OtherError),
    }
    if verdict.outcome.sidelines_token() || verdict.outcome == Outcome::Forbidden {
        assert!(
            matches!(status, 401 | 403 | 429),
            "{status} gave {:?}",
            verdict.outcome
        );
    }

    // How long the server itself said the limit lasts, in ms from now.
    let server_wait_ms = head.reset_s.map(|reset| match head.date_s {
        Some(date) => reset.saturating_sub(date).saturating_mul(1000),
        None => reset.saturating_mul(1000).saturating_sub(now_ms),
    });
    match verdict.outcome {
        Outcome::PrimaryLimit { reset_ms } => {
            // remaining: 0, or no readable remaining and GitHub's words.
            assert!(
                head.remaining == Some(0) || (head.remaining.is_none() && mentions_limit(body)),
                "a primary limit needs remaining: 0 or the words: {head:?} {body:?}"
            );
            assert!(
                reset_ms > now_ms || now_ms == u64::MAX,
                "a limit that already ended"
            );
            let wait = reset_ms - now_ms;
            let allowed = server_wait_ms
                .unwrap_or(0)
                .max(DEFAULT_PRIMARY_WAIT_S * 1000);
            assert!(
                wait <= allowed,
                "waits {wait} ms, the server said {server_wait_ms:?}"
            );
        }
        Outcome::SecondaryLimit {
            wait_s,
            from_retry_after,
        } => {
            assert_eq!(from_retry_after, head.retry_after_s.is_some());
            match head.retry_after_s {
                Some(retry_after) => assert_eq!(wait_s, retry_after),
                None => {
                    let allowed = server_wait_ms
                        .map_or(0, |ms| ms.div_ceil(1000))
                        .max(DEFAULT_SECONDARY_COOLDOWN_S);
                    assert!(wait_s <= allowed, "cools {wait_s} s, the server said less");
                }
            }
        }
        _ => {}
    }
    if let Some(figures) = &verdict.figures {
        assert!(!figures.is_empty());
        assert_eq!(figures.remaining, head.remaining);
        assert_eq!(figures.window, head.reset_s);
        if let (Some(reset_ms), Some(wait)) = (figures.reset_ms, server_wait_ms) {
            assert!(reset_ms.saturating_sub(now_ms) <= wait, "reset moved later");
        }
    }
}

fn check_body(raw: &[u8]) -> ErrorBody {
    let body = ErrorBody::parse(raw);
    // Read as serde reads the body: an unknown field's string is skipped
    // without checking its UTF-8, so "JSON" here is looser than a Value.
    if serde_json::from_slice::<serde::de::IgnoredAny>(raw).is_err() {
        // Text kept as the message is bounded: 512 bytes read, each at most
        // one replacement character (3 bytes) when not UTF-8.
        assert!(body.message.as_ref().is_none_or(|m| m.len() <= 512 * 3));
        assert_eq!(body.documentation_url, None);
    }
    body
}

fuzz_target!(|data: &[u8]| {
    let Some(response) = parse(data) else {
        return;
    };
    let head = ResponseHead::from_pairs(response.status, response.headers.iter().copied());
    check_head(&head);
    let body = check_body(response.body);
    check_outcome(&head, &body, response.now_ms);

    // parse_count alone: a value it accepts is bounded and reads back.
    for (_, value) in &response.headers {
        if let Ok(text) = std::str::from_utf8(value) {
            if let Some(count) = parse_count(text) {
                assert!(count <= MAX_HEADER_VALUE);
                assert_eq!(parse_count(&count.to_string()), Some(count));
            }
        }
    }
});
