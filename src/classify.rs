//! Classifying a GitHub response: the one place that reads GitHub's
//! rate-limit rules. The client and the lease/report API both go through
//! [`classify`], so a 403 means the same thing whoever sent the request.
//!
//! The rules, in order:
//! - 401 means the token is invalid, whatever else the response says.
//! - 403/429 naming a secondary limit (message or documentation URL, old
//!   "abuse" wording included) or carrying `retry-after`: a secondary limit.
//! - 403/429 with `x-ratelimit-remaining: 0`, or without a readable
//!   remaining and with GitHub's "API rate limit exceeded" message: the
//!   primary limit.
//! - Any other 403: a plain error that leaves the token alone.

use serde::Deserialize;

/// Seconds a token cools down after a secondary limit with no `retry-after`.
pub const DEFAULT_SECONDARY_COOLDOWN_S: u64 = 60;

/// Seconds a primary limit lasts when the response carries no reset time.
pub const DEFAULT_PRIMARY_WAIT_S: u64 = 60;

/// The rate-limit figures one response reported for one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figures {
    /// The bucket these figures belong to (`core`, `search`, ...), if named.
    pub resource: Option<String>,
    /// Requests allowed in the window.
    pub limit: Option<u64>,
    /// Requests left in the window.
    pub remaining: Option<u64>,
    /// Requests used in the window.
    pub used: Option<u64>,
    /// When the window resets, in milliseconds on the local clock (already
    /// corrected for the server's clock skew).
    pub reset_ms: Option<u64>,
    /// The server's own reset value (Unix seconds), which names the window:
    /// responses of one window share it, a later window has a larger one.
    pub window: Option<u64>,
}

impl Figures {
    /// True when the response carried at least one figure worth recording.
    pub fn is_empty(&self) -> bool {
        self.limit.is_none() && self.remaining.is_none() && self.reset_ms.is_none()
    }
}

/// The parts of a response head the classifier reads, extracted once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseHead {
    /// HTTP status code.
    pub status: u16,
    /// `x-ratelimit-limit`.
    pub limit: Option<u64>,
    /// `x-ratelimit-remaining`.
    pub remaining: Option<u64>,
    /// `x-ratelimit-used`.
    pub used: Option<u64>,
    /// `x-ratelimit-reset`, Unix seconds on the server's clock.
    pub reset_s: Option<u64>,
    /// `x-ratelimit-resource`.
    pub resource: Option<String>,
    /// `retry-after`, in seconds.
    pub retry_after_s: Option<u64>,
    /// `date`, Unix seconds on the server's clock.
    pub date_s: Option<u64>,
}

impl ResponseHead {
    /// Reads a response head from `(name, value)` pairs. Names match without
    /// regard to case; a value that does not parse is treated as absent, so
    /// bad headers never fail an otherwise good response. When a figure is
    /// repeated with different values (a proxy may add a stale copy), the
    /// reading safest for the quota wins, whatever the order: the smallest
    /// limit and remaining, the largest used, reset and retry-after. For
    /// the resource and the date, the first readable value wins.
    pub fn from_pairs<'a, I>(status: u16, headers: I) -> Self
    where
        I: IntoIterator<Item = (&'a str, &'a [u8])>,
    {
        let mut head = ResponseHead {
            status,
            ..ResponseHead::default()
        };
        for (name, raw) in headers {
            let Ok(value) = std::str::from_utf8(raw) else {
                continue;
            };
            let value = value.trim();
            let (slot, safest): (_, fn(u64, u64) -> u64) = match name.to_ascii_lowercase().as_str()
            {
                "x-ratelimit-limit" => (&mut head.limit, u64::min),
                "x-ratelimit-remaining" => (&mut head.remaining, u64::min),
                "x-ratelimit-used" => (&mut head.used, u64::max),
                "x-ratelimit-reset" => (&mut head.reset_s, u64::max),
                "retry-after" => (&mut head.retry_after_s, u64::max),
                "x-ratelimit-resource" => {
                    if head.resource.is_none() && is_resource_name(value) {
                        head.resource = Some(value.to_ascii_lowercase());
                    }
                    continue;
                }
                "date" => {
                    if head.date_s.is_none() {
                        head.date_s = parse_http_date(value);
                    }
                    continue;
                }
                _ => continue,
            };
            if let Some(read) = parse_count(value) {
                *slot = Some(slot.map_or(read, |earlier| safest(earlier, read)));
            }
        }
        head
    }
}

/// What a response means for the token that sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx: the request worked.
    Success,
    /// 304: the cached copy is current.
    NotModified,
    /// 401: the token is invalid or revoked.
    Invalid,
    /// The primary limit for the resource is spent until `reset_ms` (local clock).
    PrimaryLimit {
        /// When the limit lifts, local milliseconds.
        reset_ms: u64,
    },
    /// A secondary limit; `wait_s` is the server's advice (or the default).
    SecondaryLimit {
        /// Seconds to wait before this token is used again.
        wait_s: u64,
        /// Whether the server sent `retry-after` itself.
        from_retry_after: bool,
    },
    /// 403 that is not a limit: a permission error and the like.
    Forbidden,
    /// 404.
    NotFound,
    /// 5xx: worth retrying after a pause.
    ServerError,
    /// Any other status (3xx that was not followed, 4xx other than the above).
    OtherError,
}

impl Outcome {
    /// True when the outcome takes the token out of use for a while.
    pub fn sidelines_token(&self) -> bool {
        matches!(
            self,
            Outcome::Invalid | Outcome::PrimaryLimit { .. } | Outcome::SecondaryLimit { .. }
        )
    }
}

/// The classifier's verdict on one response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    /// What happened.
    pub outcome: Outcome,
    /// The rate-limit figures to record, or `None` when the response carried
    /// none (such a response changes nothing) or when they must not be
    /// recorded (a 401 reports the unauthenticated bucket, not the token's).
    pub figures: Option<Figures>,
}

/// The fields of a GitHub error body that the classifier reads.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct ErrorBody {
    /// `message`.
    #[serde(default)]
    pub message: Option<String>,
    /// `documentation_url`.
    #[serde(default)]
    pub documentation_url: Option<String>,
}

impl ErrorBody {
    /// Parses an error body; a body that is not a JSON object keeps its text
    /// (up to a bounded length) as the message.
    pub fn parse(body: &[u8]) -> ErrorBody {
        if body.is_empty() {
            return ErrorBody::default();
        }
        if let Ok(parsed) = serde_json::from_slice::<ErrorBody>(body) {
            return parsed;
        }
        let text = String::from_utf8_lossy(&body[..body.len().min(512)]);
        let text = text.trim();
        ErrorBody {
            message: (!text.is_empty()).then(|| text.to_string()),
            documentation_url: None,
        }
    }

    /// GitHub's primary-limit message ("API rate limit exceeded for ...") or
    /// documentation link.
    fn names_primary_limit(&self) -> bool {
        let hay = |s: &Option<String>| s.as_deref().unwrap_or("").to_ascii_lowercase();
        hay(&self.message).contains("api rate limit exceeded")
            || hay(&self.documentation_url).contains("primary-rate-limit")
    }

    fn names_secondary_limit(&self) -> bool {
        let hay = |s: &Option<String>| s.as_deref().unwrap_or("").to_ascii_lowercase();
        let message = hay(&self.message);
        let url = hay(&self.documentation_url);
        message.contains("secondary rate limit")
            || message.contains("abuse detection")
            || url.contains("secondary-rate-limit")
            || url.contains("abuse-rate-limit")
    }
}

/// Classifies one response. `now_ms` is the local wall clock; it and the
/// response's `Date` header correct reset times for clock skew.
pub fn classify(head: &ResponseHead, body: &ErrorBody, now_ms: u64) -> Classification {
    let figures = figures_of(head, now_ms);

    let outcome = match head.status {
        200..=299 => Outcome::Success,
        304 => Outcome::NotModified,
        401 => {
            return Classification {
                outcome: Outcome::Invalid,
                figures: None,
            }
        }
        403 | 429 => limit_or_forbidden(head, body, figures.as_ref(), now_ms),
        404 => Outcome::NotFound,
        500..=599 => Outcome::ServerError,
        _ => Outcome::OtherError,
    };

    Classification { outcome, figures }
}

fn limit_or_forbidden(
    head: &ResponseHead,
    body: &ErrorBody,
    figures: Option<&Figures>,
    now_ms: u64,
) -> Outcome {
    let reset_ms = figures.and_then(|f| f.reset_ms);
    if body.names_secondary_limit() || head.retry_after_s.is_some() {
        let (wait_s, from_retry_after) = match head.retry_after_s {
            Some(seconds) => (seconds, true),
            None if head.remaining == Some(0) => match reset_ms {
                Some(reset) => (reset.saturating_sub(now_ms).div_ceil(1000), false),
                None => (DEFAULT_SECONDARY_COOLDOWN_S, false),
            },
            None => (DEFAULT_SECONDARY_COOLDOWN_S, false),
        };
        return Outcome::SecondaryLimit {
            wait_s,
            from_retry_after,
        };
    }
    // Without a readable remaining (garbled or missing headers), GitHub's
    // own words still say the token is spent.
    if head.remaining == Some(0) || (head.remaining.is_none() && body.names_primary_limit()) {
        let reset_ms = reset_ms
            .filter(|&reset| reset > now_ms)
            .unwrap_or(now_ms.saturating_add(DEFAULT_PRIMARY_WAIT_S * 1000));
        return Outcome::PrimaryLimit { reset_ms };
    }
    if head.status == 429 {
        // A 429 is always a limit of some kind; without a marker, treat it
        // as a secondary limit with the default pause.
        return Outcome::SecondaryLimit {
            wait_s: DEFAULT_SECONDARY_COOLDOWN_S,
            from_retry_after: false,
        };
    }
    Outcome::Forbidden
}

/// The figures of a response head, the reset moved onto the local clock.
fn figures_of(head: &ResponseHead, now_ms: u64) -> Option<Figures> {
    let figures = Figures {
        resource: head.resource.clone(),
        limit: head.limit,
        remaining: head.remaining,
        used: head.used,
        reset_ms: head
            .reset_s
            .map(|reset| local_reset_ms(reset, head.date_s, now_ms)),
        window: head.reset_s,
    };
    (!figures.is_empty()).then_some(figures)
}

/// Moves a server reset time onto the local clock. With a `Date` header the
/// wait is measured on the server's own clock (`reset - date`), so a skewed
/// local clock does not matter; a reset already past means "now".
pub fn local_reset_ms(reset_s: u64, date_s: Option<u64>, now_ms: u64) -> u64 {
    match date_s {
        Some(date) => now_ms.saturating_add(reset_s.saturating_sub(date).saturating_mul(1000)),
        None => reset_s.saturating_mul(1000).max(now_ms),
    }
}

/// Largest value read from a rate-limit header: about the year 33,000 as a
/// Unix time. Anything larger is garbage, and refusing it keeps every sum of
/// times far from overflowing.
pub const MAX_HEADER_VALUE: u64 = 1_000_000_000_000;

/// Reads a count or a time in seconds: an integer, or a float such as
/// `"4999.0"` (truncated). Negative, non-finite, absurdly large or garbage
/// values are `None`.
pub fn parse_count(value: &str) -> Option<u64> {
    let value = value.trim();
    let parsed = match value.parse::<u64>() {
        Ok(n) => n,
        Err(_) => {
            let float = value.parse::<f64>().ok()?;
            if !(float.is_finite() && float >= 0.0 && float <= MAX_HEADER_VALUE as f64) {
                return None;
            }
            float as u64
        }
    };
    (parsed <= MAX_HEADER_VALUE).then_some(parsed)
}

fn parse_http_date(value: &str) -> Option<u64> {
    let time = httpdate::parse_http_date(value).ok()?;
    time.duration_since(std::time::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs())
}

fn is_resource_name(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000_000;

    fn head(status: u16, pairs: &[(&str, &str)]) -> ResponseHead {
        ResponseHead::from_pairs(status, pairs.iter().map(|(n, v)| (*n, v.as_bytes())))
    }

    fn body(message: &str, url: &str) -> ErrorBody {
        ErrorBody {
            message: Some(message.into()),
            documentation_url: Some(url.into()),
        }
    }

    #[test]
    fn reads_headers_case_insensitively_and_robustly() {
        let h = head(
            200,
            &[
                ("X-RateLimit-Limit", "5000"),
                ("x-ratelimit-remaining", " 4999.0 "),
                ("X-RATELIMIT-USED", "garbage"),
                ("x-ratelimit-used", "1"),
                ("x-ratelimit-reset", "-5"),
                ("X-RateLimit-Resource", "Search"),
            ],
        );
        assert_eq!(h.limit, Some(5000));
        assert_eq!(h.remaining, Some(4999));
        assert_eq!(
            h.used,
            Some(1),
            "garbage skipped, the readable duplicate used"
        );
        assert_eq!(h.reset_s, None, "negative reset ignored");
        assert_eq!(h.resource.as_deref(), Some("search"));
    }

    #[test]
    fn duplicated_figures_are_read_pessimistically_in_any_order() {
        let pairs = [
            ("x-ratelimit-limit", "5000"),
            ("x-ratelimit-limit", "60"),
            ("x-ratelimit-remaining", "4999"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-used", "1"),
            ("x-ratelimit-used", "60"),
            ("x-ratelimit-reset", "1700003600"),
            ("x-ratelimit-reset", "1700000100"),
            ("retry-after", "5"),
            ("retry-after", "30"),
        ];
        let mut reversed = pairs;
        reversed.reverse();
        for order in [&pairs, &reversed] {
            let h = head(403, order);
            assert_eq!(
                (h.limit, h.remaining, h.used, h.reset_s, h.retry_after_s),
                (Some(60), Some(0), Some(60), Some(1_700_003_600), Some(30))
            );
        }
    }

    #[test]
    fn primary_limit_is_recognised_by_its_message_when_remaining_is_unreadable() {
        let message = body("API rate limit exceeded for user ID 1.", "");
        let garbled = head(403, &[("x-ratelimit-remaining", "-1")]);
        assert_eq!(
            classify(&garbled, &message, NOW).outcome,
            Outcome::PrimaryLimit {
                reset_ms: NOW + DEFAULT_PRIMARY_WAIT_S * 1000
            }
        );
        let by_url = body(
            "x",
            "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api\
             #about-primary-rate-limits",
        );
        assert!(matches!(
            classify(&head(429, &[]), &by_url, NOW).outcome,
            Outcome::PrimaryLimit { .. }
        ));
        // A readable remaining above zero is believed over the words.
        let readable = head(403, &[("x-ratelimit-remaining", "12")]);
        assert_eq!(
            classify(&readable, &message, NOW).outcome,
            Outcome::Forbidden
        );
    }

    #[test]
    fn invalid_utf8_header_value_is_ignored() {
        let pairs: [(&str, &[u8]); 2] = [
            ("x-ratelimit-remaining", b"\xff\xfe"),
            ("x-ratelimit-limit", b"60"),
        ];
        let h = ResponseHead::from_pairs(200, pairs);
        assert_eq!(h.remaining, None);
        assert_eq!(h.limit, Some(60));
    }

    #[test]
    fn unauthorized_is_invalid_even_with_remaining_zero() {
        let h = head(
            401,
            &[("x-ratelimit-remaining", "0"), ("x-ratelimit-limit", "0")],
        );
        let c = classify(
            &h,
            &ErrorBody::parse(br#"{"message":"Bad credentials"}"#),
            NOW,
        );
        assert_eq!(c.outcome, Outcome::Invalid);
        assert_eq!(c.figures, None, "a 401's figures are not the token's");
    }

    #[test]
    fn primary_limit_on_403_and_429() {
        for status in [403, 429] {
            let h = head(
                status,
                &[
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", "1700000100"),
                    ("date", "Tue, 14 Nov 2023 22:13:20 GMT"), // 1700000000
                ],
            );
            let c = classify(&h, &body("API rate limit exceeded for user ID 1.", ""), NOW);
            assert_eq!(
                c.outcome,
                Outcome::PrimaryLimit {
                    reset_ms: NOW + 100_000
                }
            );
        }
    }

    #[test]
    fn secondary_limit_by_message_url_old_wording_or_retry_after() {
        let cases = [
            (
                body("You have exceeded a secondary rate limit.", ""),
                vec![],
            ),
            (
                body(
                    "x",
                    "https://docs.github.com/rest#about-secondary-rate-limits",
                ),
                vec![],
            ),
            (
                body(
                    "You have triggered an abuse detection mechanism.",
                    "https://developer.github.com/v3/#abuse-rate-limits",
                ),
                vec![],
            ),
            (ErrorBody::default(), vec![("retry-after", "30")]),
        ];
        for (b, pairs) in cases {
            let c = classify(&head(403, &pairs), &b, NOW);
            assert!(
                matches!(c.outcome, Outcome::SecondaryLimit { .. }),
                "{b:?} {pairs:?} gave {:?}",
                c.outcome
            );
        }
    }

    #[test]
    fn secondary_wait_prefers_retry_after_then_reset_then_default() {
        let msg = body("You have exceeded a secondary rate limit", "");
        let c = classify(&head(403, &[("retry-after", "42")]), &msg, NOW);
        assert_eq!(
            c.outcome,
            Outcome::SecondaryLimit {
                wait_s: 42,
                from_retry_after: true
            }
        );

        let h = head(
            403,
            &[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", "1700000090"),
                ("date", "Tue, 14 Nov 2023 22:13:20 GMT"),
            ],
        );
        let c = classify(&h, &msg, NOW);
        assert_eq!(
            c.outcome,
            Outcome::SecondaryLimit {
                wait_s: 90,
                from_retry_after: false
            }
        );

        let c = classify(&head(403, &[("x-ratelimit-remaining", "12")]), &msg, NOW);
        assert_eq!(
            c.outcome,
            Outcome::SecondaryLimit {
                wait_s: 60,
                from_retry_after: false
            }
        );
    }

    #[test]
    fn other_403_is_forbidden() {
        let h = head(403, &[("x-ratelimit-remaining", "4927")]);
        let c = classify(
            &h,
            &body(
                "Must have push access to view repository collaborators.",
                "",
            ),
            NOW,
        );
        assert_eq!(c.outcome, Outcome::Forbidden);
        assert_eq!(c.figures.unwrap().remaining, Some(4927));
    }

    #[test]
    fn response_without_headers_has_no_figures() {
        let c = classify(&head(200, &[]), &ErrorBody::default(), NOW);
        assert_eq!(c.outcome, Outcome::Success);
        assert_eq!(c.figures, None);
    }

    #[test]
    fn skew_is_corrected_with_the_date_header() {
        // The server's clock is an hour ahead of ours; its reset is 30 s after its own now.
        let server_now = NOW / 1000 + 3600;
        let reset = local_reset_ms(server_now + 30, Some(server_now), NOW);
        assert_eq!(reset, NOW + 30_000);
    }

    #[test]
    fn reset_in_the_past_is_now_not_negative() {
        assert_eq!(local_reset_ms(100, Some(200), NOW), NOW);
        assert_eq!(local_reset_ms(100, None, NOW), NOW);
    }

    #[test]
    fn primary_limit_without_reset_waits_the_default() {
        let h = head(
            403,
            &[("x-ratelimit-remaining", "0"), ("x-ratelimit-limit", "60")],
        );
        let c = classify(&h, &body("API Rate Limit Exceeded for 192.0.2.1", ""), NOW);
        assert_eq!(
            c.outcome,
            Outcome::PrimaryLimit {
                reset_ms: NOW + 60_000
            }
        );
    }

    #[test]
    fn absurd_header_values_are_ignored_not_overflowed() {
        let h = head(
            429,
            &[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", "18446744073709551615"),
                ("retry-after", "99999999999999999999"),
            ],
        );
        let c = classify(&h, &ErrorBody::default(), NOW);
        assert_eq!(
            c.outcome,
            Outcome::PrimaryLimit {
                reset_ms: NOW + 60_000
            }
        );
        assert_eq!(local_reset_ms(u64::MAX, Some(0), u64::MAX - 5), u64::MAX);
    }

    #[test]
    fn plain_429_is_a_limit_not_a_forbidden() {
        let c = classify(&head(429, &[]), &ErrorBody::default(), NOW);
        assert!(matches!(
            c.outcome,
            Outcome::SecondaryLimit { wait_s: 60, .. }
        ));
    }

    #[test]
    fn error_body_falls_back_to_text() {
        assert_eq!(ErrorBody::parse(b"oops").message.as_deref(), Some("oops"));
        assert_eq!(
            ErrorBody::parse(b"{\"message\": 3}").message.as_deref(),
            Some("{\"message\": 3}")
        );
        assert_eq!(ErrorBody::parse(b"").message, None);
    }

    #[test]
    fn parse_count_cases() {
        assert_eq!(parse_count("12"), Some(12));
        assert_eq!(parse_count("12.9"), Some(12));
        assert_eq!(parse_count("NaN"), None);
        assert_eq!(parse_count("inf"), None);
        assert_eq!(parse_count("-1"), None);
        assert_eq!(parse_count("18446744073709551615"), None);
        assert_eq!(parse_count("1e300"), None);
        assert_eq!(parse_count(""), None);
    }
}
