//! Fault injection: rules that make chosen requests go wrong the way real servers and networks
//! do (5xx answers, connections cut mid-answer, slow answers, broken bodies and headers, `Link`
//! loops, secondary limits), and a log of when requests arrived.
//!
//! A rule names a fault, the requests it may touch (those whose target contains a text) and
//! when it fires, counted over the requests it matches: the first N, every Nth, or always.
//! Rules are tried in order; every matching rule counts the request, and the first that fires
//! decides the fault.

use std::fmt;
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::http::Response;

/// Seconds the made-up reset of [`Fault::DuplicateRateLimitHeaders`] lies after the real one.
const FAKE_RESET_LEAD_S: u64 = 3600;

/// What goes wrong with one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer this status (500, 502, 503, ...) with a short JSON error body and no rate-limit
    /// headers, as a proxy in front of GitHub does. The request uses no quota.
    Status(u16),
    /// Send the whole head, announcing the full `Content-Length`, and half the body, then
    /// close the connection.
    CutBody,
    /// Send half of the head (status line and some headers), then close the connection.
    CutHead,
    /// Close the connection without answering.
    Drop,
    /// Wait this long before answering (the connection stays open).
    Slow(Duration),
    /// Send the head, then wait this long before sending the body.
    StallBody(Duration),
    /// A 200 whose JSON body is cut in half; `Content-Length` matches what is sent, so only
    /// the JSON is broken.
    TruncatedJson,
    /// A 200 whose body is not JSON at all.
    MalformedJson,
    /// Every `x-ratelimit-*` value replaced by garbage (negative, non-numeric, empty).
    GarbageRateLimitHeaders,
    /// Every numeric `x-ratelimit-*` header sent twice: first a made-up healthy value (a full
    /// quota of 5000, a reset an hour after the real one), then the real value.
    DuplicateRateLimitHeaders,
    /// The `Link` header's `rel="next"` points back to this page of the same list.
    LinkLoop(usize),
    /// A secondary-limit 403, with `retry-after: N` when given. Uses no quota.
    SecondaryLimit(Option<u64>),
    /// A 400 whose error message quotes the request's `Authorization` header, as a careless
    /// proxy might. Uses no quota.
    EchoCredentials,
}

impl Fault {
    /// A short name for the fault, as the command line writes it.
    pub fn name(&self) -> String {
        match self {
            Fault::Status(code) => format!("status-{code}"),
            Fault::CutBody => "cut-body".to_string(),
            Fault::CutHead => "cut-head".to_string(),
            Fault::Drop => "drop".to_string(),
            Fault::Slow(pause) => format!("slow-{}", pause.as_millis()),
            Fault::StallBody(pause) => format!("stall-body-{}", pause.as_millis()),
            Fault::TruncatedJson => "truncated-json".to_string(),
            Fault::MalformedJson => "malformed-json".to_string(),
            Fault::GarbageRateLimitHeaders => "garbage-ratelimit".to_string(),
            Fault::DuplicateRateLimitHeaders => "duplicate-ratelimit".to_string(),
            Fault::LinkLoop(page) => format!("link-loop-{page}"),
            Fault::SecondaryLimit(None) => "secondary".to_string(),
            Fault::SecondaryLimit(Some(seconds)) => format!("secondary-{seconds}"),
            Fault::EchoCredentials => "echo-credentials".to_string(),
        }
    }
}

/// When a rule fires, counted over the requests it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// Every matching request.
    Always,
    /// The first N matching requests.
    First(u64),
    /// The Nth, 2Nth, 3Nth... matching request.
    EveryNth(u64),
}

/// One fault, the requests it applies to, and when it fires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultRule {
    /// What goes wrong.
    pub fault: Fault,
    /// The rule matches requests whose target (path and query) contains this text; an empty
    /// text matches every request.
    pub matching: String,
    /// When it fires.
    pub trigger: Trigger,
}

impl FaultRule {
    /// A rule that applies `fault` to every request.
    pub fn new(fault: Fault) -> FaultRule {
        FaultRule {
            fault,
            matching: String::new(),
            trigger: Trigger::Always,
        }
    }

    /// The same rule, only for targets that contain `text` (e.g. `/users/octocat/repos` or
    /// `page=2`).
    pub fn on(mut self, text: &str) -> FaultRule {
        self.matching = text.to_string();
        self
    }

    /// The same rule, firing on the first `count` matching requests only.
    pub fn first(mut self, count: u64) -> FaultRule {
        self.trigger = Trigger::First(count);
        self
    }

    /// The same rule, firing on every `n`th matching request (`n` of 0 is taken as 1).
    pub fn every(mut self, n: u64) -> FaultRule {
        self.trigger = Trigger::EveryNth(n.max(1));
        self
    }

    fn matches(&self, target: &str) -> bool {
        target.contains(self.matching.as_str())
    }

    /// Whether the rule fires for the `seen`th matching request (1-based).
    fn fires(&self, seen: u64) -> bool {
        match self.trigger {
            Trigger::Always => true,
            Trigger::First(count) => seen <= count,
            Trigger::EveryNth(n) => seen.is_multiple_of(n.max(1)),
        }
    }
}

/// Why a fault rule could not be read from text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadFaultRule(String);

impl fmt::Display for BadFaultRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadFaultRule {}

impl FromStr for FaultRule {
    type Err = BadFaultRule;

    /// Reads `KIND[,first=N|,every=N][,on=TEXT]`, where KIND is one of `status-CODE`,
    /// `cut-body`, `cut-head`, `drop`, `slow-MS`, `stall-body-MS`, `truncated-json`,
    /// `malformed-json`, `garbage-ratelimit`, `duplicate-ratelimit`, `link-loop-PAGE`,
    /// `secondary`, `secondary-SECONDS` or `echo-credentials`.
    fn from_str(text: &str) -> Result<FaultRule, BadFaultRule> {
        let bad = |why: &str| BadFaultRule(format!("bad fault {text:?}: {why}"));
        let mut parts = text.split(',');
        let kind = parts.next().unwrap_or("").trim();
        let number = |digits: &str| digits.parse::<u64>().map_err(|_| bad("not a number"));
        let fault = if let Some(code) = kind.strip_prefix("status-") {
            match number(code)? {
                code @ 100..=599 => Fault::Status(code as u16),
                _ => return Err(bad("the status must be 100 to 599")),
            }
        } else if let Some(ms) = kind.strip_prefix("stall-body-") {
            Fault::StallBody(Duration::from_millis(number(ms)?))
        } else if let Some(ms) = kind.strip_prefix("slow-") {
            Fault::Slow(Duration::from_millis(number(ms)?))
        } else if let Some(page) = kind.strip_prefix("link-loop-") {
            match number(page)? {
                0 => return Err(bad("pages start at 1")),
                page => Fault::LinkLoop(page as usize),
            }
        } else if let Some(seconds) = kind.strip_prefix("secondary-") {
            Fault::SecondaryLimit(Some(number(seconds)?))
        } else {
            match kind {
                "cut-body" => Fault::CutBody,
                "cut-head" => Fault::CutHead,
                "drop" => Fault::Drop,
                "truncated-json" => Fault::TruncatedJson,
                "malformed-json" => Fault::MalformedJson,
                "garbage-ratelimit" => Fault::GarbageRateLimitHeaders,
                "duplicate-ratelimit" => Fault::DuplicateRateLimitHeaders,
                "secondary" => Fault::SecondaryLimit(None),
                "echo-credentials" => Fault::EchoCredentials,
                _ => return Err(bad("unknown kind")),
            }
        };
        let mut rule = FaultRule::new(fault);
        for part in parts {
            match part.split_once('=') {
                Some(("first", n)) => rule = rule.first(number(n)?),
                Some(("every", n)) if number(n)? > 0 => rule = rule.every(number(n)?),
                Some(("on", matching)) => rule = rule.on(matching),
                _ => return Err(bad("expected first=N, every=N (N > 0) or on=TEXT")),
            }
        }
        Ok(rule)
    }
}

/// The fault settings of an emulator.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// The rules, tried in order.
    pub rules: Vec<FaultRule>,
    /// Keep a log of every request's arrival ([`crate::Emulator::arrivals`]). Off by default:
    /// the log grows with every request.
    pub record_arrivals: bool,
}

/// One request as it arrived, before any fault or delay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arrival {
    /// When its head had been read.
    pub at: Instant,
    /// Its target: path and query.
    pub target: String,
    /// The fault it was given, if any.
    pub fault: Option<Fault>,
}

/// The live state of the rules: each with its count of matching requests, and the log.
#[derive(Debug, Default)]
pub(crate) struct Injector {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    rules: Vec<(FaultRule, u64)>,
    record_arrivals: bool,
    arrivals: Vec<Arrival>,
    received: u64,
    injected: u64,
}

impl Injector {
    pub(crate) fn new(faults: &Faults) -> Injector {
        let state = State {
            rules: faults.rules.iter().map(|rule| (rule.clone(), 0)).collect(),
            record_arrivals: faults.record_arrivals,
            ..State::default()
        };
        Injector {
            state: Mutex::new(state),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a request that has just arrived, logs it if asked to, and picks its fault.
    pub(crate) fn arrive(&self, target: &str) -> Option<Fault> {
        let at = Instant::now();
        let mut state = self.state();
        state.received += 1;
        let mut chosen = None;
        for (rule, seen) in state
            .rules
            .iter_mut()
            .filter(|(rule, _)| rule.matches(target))
        {
            *seen += 1;
            if chosen.is_none() && rule.fires(*seen) {
                chosen = Some(rule.fault.clone());
            }
        }
        if chosen.is_some() {
            state.injected += 1;
        }
        if state.record_arrivals {
            state.arrivals.push(Arrival {
                at,
                target: target.to_string(),
                fault: chosen.clone(),
            });
        }
        chosen
    }

    pub(crate) fn add(&self, rule: FaultRule) {
        self.state().rules.push((rule, 0));
    }

    pub(crate) fn clear(&self) {
        self.state().rules.clear();
    }

    pub(crate) fn arrivals(&self) -> Vec<Arrival> {
        self.state().arrivals.clone()
    }

    /// Requests received, and faults injected.
    pub(crate) fn counts(&self) -> (u64, u64) {
        let state = self.state();
        (state.received, state.injected)
    }
}

/// The answer of [`Fault::Status`]: what a proxy in front of the API sends, without
/// rate-limit headers.
pub(crate) fn server_error(status: u16) -> Response {
    let message = match status {
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Server Error",
    };
    let mut response = Response::new(status);
    response.header("Content-Type", "application/json; charset=utf-8");
    response.body = format!("{{\"message\":\"{message}\"}}").into_bytes();
    response
}

/// The answer of [`Fault::EchoCredentials`].
pub(crate) fn echo_credentials(authorization: Option<&str>) -> Response {
    let message = format!(
        "Problems parsing the request headers: Authorization: {}",
        authorization.unwrap_or("")
    );
    let mut response = Response::new(400);
    response.header("Content-Type", "application/json; charset=utf-8");
    response.body = serde_json::json!({ "message": message })
        .to_string()
        .into_bytes();
    response
}

/// Applies the faults that change an answer's body or headers. `list_page(n)` is the URL of
/// page `n` of the list that was asked for.
pub(crate) fn spoil(fault: &Fault, response: &mut Response, list_page: impl Fn(usize) -> String) {
    let ok = response.status == 200;
    match fault {
        Fault::TruncatedJson if ok => {
            let half = response.body.len() / 2;
            response.body.truncate(half);
        }
        Fault::MalformedJson if ok => {
            set_header(response, "Content-Type", "text/html; charset=utf-8");
            response.body = b"<!DOCTYPE html><html><body><p>Not JSON at all, {\"oops\": </p>\
                              </body></html>"
                .to_vec();
        }
        Fault::GarbageRateLimitHeaders => {
            for (name, value) in &mut response.headers {
                let garbage = match name.to_ascii_lowercase().as_str() {
                    "x-ratelimit-limit" => "lots",
                    "x-ratelimit-remaining" => "-1",
                    "x-ratelimit-used" => "NaN",
                    "x-ratelimit-reset" => "tomorrow",
                    "x-ratelimit-resource" => "c o r e",
                    _ => continue,
                };
                *value = garbage.to_string();
            }
        }
        Fault::DuplicateRateLimitHeaders => {
            let mut headers = Vec::with_capacity(response.headers.len() + 4);
            for (name, value) in response.headers.drain(..) {
                let fake = match name.to_ascii_lowercase().as_str() {
                    "x-ratelimit-limit" => Some("5000".to_string()),
                    "x-ratelimit-remaining" => Some("4999".to_string()),
                    "x-ratelimit-used" => Some("1".to_string()),
                    "x-ratelimit-reset" => value
                        .parse::<u64>()
                        .ok()
                        .map(|reset| (reset + FAKE_RESET_LEAD_S).to_string()),
                    _ => None,
                };
                if let Some(fake) = fake {
                    headers.push((name.clone(), fake));
                }
                headers.push((name, value));
            }
            response.headers = headers;
        }
        Fault::LinkLoop(page) if ok => {
            let link = format!("<{}>; rel=\"next\"", list_page(*page));
            set_header(response, "Link", &link);
        }
        _ => {}
    }
}

/// Replaces every value of a header by one.
fn set_header(response: &mut Response, name: &str, value: &str) {
    response
        .headers
        .retain(|(existing, _)| !existing.eq_ignore_ascii_case(name));
    response.header(name, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rules_from_text() {
        let rule: FaultRule = "status-503,first=2,on=/users/octocat".parse().unwrap();
        assert_eq!(
            rule,
            FaultRule::new(Fault::Status(503))
                .first(2)
                .on("/users/octocat")
        );
        let rule: FaultRule = "slow-1500,every=7".parse().unwrap();
        assert_eq!(
            rule,
            FaultRule::new(Fault::Slow(Duration::from_millis(1500))).every(7)
        );
        for (text, fault) in [
            ("cut-body", Fault::CutBody),
            ("stall-body-20", Fault::StallBody(Duration::from_millis(20))),
            ("link-loop-1", Fault::LinkLoop(1)),
            ("secondary", Fault::SecondaryLimit(None)),
            ("secondary-3", Fault::SecondaryLimit(Some(3))),
            ("duplicate-ratelimit", Fault::DuplicateRateLimitHeaders),
            ("echo-credentials", Fault::EchoCredentials),
        ] {
            let rule: FaultRule = text.parse().unwrap();
            assert_eq!(rule.fault, fault);
            assert_eq!(rule.fault.name(), text);
        }
        for bad in [
            "",
            "status-5000",
            "nonsense",
            "drop,every=0",
            "drop,twice",
            "link-loop-0",
            "slow-x",
        ] {
            assert!(bad.parse::<FaultRule>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn rules_fire_as_counted_and_the_first_firing_rule_wins() {
        let injector = Injector::new(&Faults {
            rules: vec![
                FaultRule::new(Fault::Status(500)).on("page=2").first(1),
                FaultRule::new(Fault::Drop).every(3),
            ],
            record_arrivals: true,
        });
        let faults: Vec<Option<Fault>> = ["/a", "/a?page=2", "/a?page=2", "/b", "/b", "/b"]
            .iter()
            .map(|target| injector.arrive(target))
            .collect();
        assert_eq!(
            faults,
            [
                None,
                Some(Fault::Status(500)),
                Some(Fault::Drop),
                None,
                None,
                Some(Fault::Drop)
            ]
        );
        assert_eq!(injector.counts(), (6, 3));
        let arrivals = injector.arrivals();
        assert_eq!(arrivals.len(), 6);
        assert_eq!(arrivals[1].target, "/a?page=2");
        assert!(arrivals.windows(2).all(|pair| pair[0].at <= pair[1].at));
        injector.clear();
        assert_eq!(injector.arrive("/b"), None);
    }
}
