//! Turns one HTTP request into GitHub's answer: identify the caller, ask the endpoint, apply
//! rate limits and conditional requests, and add GitHub's headers.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

use crate::api::{self, Answer, Call, DOCS_URL};
use crate::clock::Clock;
use crate::config::{Config, PrimaryStatus, TokenSpec};
use crate::faults::{self, Fault, Injector};
use crate::http::{Request, Response};
use crate::limits::{Attempt, Caller, Credential, Limits, Snapshot, Stats, Verdict};
use crate::paging::Query;
use crate::world::World;

const PRIMARY_DOCS_URL: &str =
    "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits";
const SECONDARY_DOCS_URL: &str = "https://docs.github.com/rest/overview/\
                                  rate-limits-for-the-rest-api#about-secondary-rate-limits";

/// Everything needed to answer requests; shared by all connection threads.
pub(crate) struct App {
    world: World,
    limits: Mutex<Limits>,
    clock: Clock,
    window: Duration,
    primary_status: PrimaryStatus,
    delay: Duration,
    request_ids: AtomicU64,
    injector: Injector,
}

impl App {
    pub(crate) fn new(config: &Config) -> App {
        let world = World::new(&config.owners);
        App {
            limits: Mutex::new(Limits::new(config, &world)),
            world,
            clock: Clock::new(config.clock_offset_secs),
            window: config.window,
            primary_status: config.primary_status,
            delay: config.delay,
            request_ids: AtomicU64::new(1),
            injector: Injector::new(&config.faults),
        }
    }

    /// The rate-limit state. A panic elsewhere does not stop the server from answering.
    pub(crate) fn limits(&self) -> MutexGuard<'_, Limits> {
        self.limits.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn add_token(&self, spec: TokenSpec) {
        self.limits().add_token(spec, &self.world);
    }

    pub(crate) fn stats(&self) -> Stats {
        let mut stats = self.limits().stats();
        (stats.received, stats.faults_injected) = self.injector.counts();
        stats
    }

    /// The fault rules and the arrival log.
    pub(crate) fn injector(&self) -> &Injector {
        &self.injector
    }

    /// Answers one request; `local` is the server's address, for URLs when `Host` is missing.
    /// A `fault` that changes the answer (a 5xx, a broken body or headers, a `Link` loop, a
    /// secondary limit) is applied here; the server applies those that break the connection.
    pub(crate) fn handle(
        &self,
        request: &Request,
        local: SocketAddr,
        fault: Option<&Fault>,
    ) -> Response {
        thread::sleep(self.delay);
        let request_id = self.next_request_id();
        let early = match fault {
            Some(Fault::Status(status)) => Some(faults::server_error(*status)),
            Some(Fault::EchoCredentials) => {
                Some(faults::echo_credentials(request.header("authorization")))
            }
            _ => None,
        };
        if let Some(mut response) = early {
            response.header("Date", self.clock.http_date(SystemTime::now()));
            response.header("X-GitHub-Request-Id", request_id);
            return response;
        }
        let credential = Credential::from_header(request.header("authorization"));
        let caller = self.limits().identify(&credential);
        let answer = self.endpoint_answer(request, &caller, &credential, local);
        let etag = (answer.status == 200).then(|| etag_of(&caller, &answer.body));
        let if_none_match = request.header("if-none-match");
        let attempt = Attempt {
            resource: api::resource_of(request.path()),
            status: answer.status,
            etag_matches: etag
                .as_deref()
                .is_some_and(|tag| matches_if_none_match(if_none_match, tag)),
            forced_secondary: match fault {
                Some(Fault::SecondaryLimit(retry_after)) => Some(*retry_after),
                _ => None,
            },
        };
        let verdict = self.limits().admit(&credential, attempt);
        let mut response = self.respond(verdict, answer, etag, &request_id, request.peer);
        response.header("X-GitHub-Request-Id", request_id);
        if let Some(fault) = fault {
            let list_page = |page: usize| {
                let base = base_url(request.header("host"), local);
                let query = Query::parse(request.query()).with_page(page);
                format!("{base}{}?{query}", request.path())
            };
            faults::spoil(fault, &mut response, list_page);
        }
        response
    }

    /// What the endpoint answers, before rate limits.
    fn endpoint_answer(
        &self,
        request: &Request,
        caller: &Caller,
        credential: &Credential,
        local: SocketAddr,
    ) -> Answer {
        let path = request.path();
        let readable = matches!(request.method.as_str(), "GET" | "HEAD");
        match caller {
            Caller::Rejected => bad_credentials(),
            _ if path == "/rate_limit" && readable => self.rate_limit_answer(credential),
            _ => {
                let base = base_url(request.header("host"), local);
                let query = Query::parse(request.query());
                let call = Call {
                    method: &request.method,
                    path,
                    query: &query,
                    base: &base,
                    caller,
                };
                api::answer(&self.world, &call)
            }
        }
    }

    /// The response the rate limiter's verdict calls for.
    fn respond(
        &self,
        verdict: Verdict,
        answer: Answer,
        etag: Option<String>,
        request_id: &str,
        peer: IpAddr,
    ) -> Response {
        match verdict {
            Verdict::BadCredentials(snapshot) => self.reply(bad_credentials(), snapshot),
            Verdict::Secondary {
                snapshot,
                retry_after,
            } => {
                let mut response = self.reply(secondary_limit(request_id), snapshot);
                if let Some(seconds) = retry_after {
                    response.header("retry-after", seconds);
                }
                response
            }
            Verdict::Primary { snapshot, user_id } => {
                self.reply(self.primary_limit(user_id, peer), snapshot)
            }
            Verdict::NotModified(snapshot) => {
                let empty = Answer {
                    status: 304,
                    body: String::new(),
                    link: None,
                };
                let mut response = self.reply(empty, snapshot);
                // GitHub's 304 repeats the ETag without the weak marker.
                let tag = etag.unwrap_or_default();
                response.header("ETag", tag.trim_start_matches("W/"));
                response
            }
            Verdict::Proceed(snapshot) => {
                let link = answer.link.clone();
                let mut response = self.reply(answer, snapshot);
                if let Some(tag) = etag {
                    response.header("ETag", tag);
                }
                if let Some(link) = link {
                    response.header("Link", link);
                }
                response
            }
        }
    }

    /// The primary rate-limit answer, naming the user or, without a token, the address.
    fn primary_limit(&self, user_id: Option<u64>, peer: IpAddr) -> Answer {
        let who = match user_id {
            Some(id) => format!("user ID {id}."),
            None => format!(
                "{peer}. (But here's the good news: Authenticated requests get a higher rate \
                 limit. Check out the documentation for more details.)"
            ),
        };
        let message = format!("API rate limit exceeded for {who}");
        Answer::error(self.primary_status.code(), &message, PRIMARY_DOCS_URL)
    }

    /// `/rate_limit`: every bucket of the caller, counting nothing.
    fn rate_limit_answer(&self, credential: &Credential) -> Answer {
        let Some([core, search]) = self.limits().view_all(credential) else {
            return bad_credentials();
        };
        let fresh_reset = self.clock.unix_ceil(SystemTime::now() + self.window);
        let entry = |snapshot: &Snapshot| self.rate_json(snapshot);
        let untouched = |limit: u32, resource: &str| {
            json!({ "limit": limit, "used": 0, "remaining": limit, "reset": fresh_reset,
                    "resource": resource })
        };
        let body = json!({
            "resources": {
                "core": entry(&core),
                "search": entry(&search),
                "graphql": untouched(5000, "graphql"),
                "code_search": untouched(10, "code_search"),
            },
            "rate": entry(&core),
        });
        Answer {
            status: 200,
            body: body.to_string(),
            link: None,
        }
    }

    fn rate_json(&self, snapshot: &Snapshot) -> Value {
        json!({
            "limit": snapshot.limit,
            "used": snapshot.used,
            "remaining": snapshot.remaining(),
            "reset": self.clock.unix_ceil(snapshot.reset_at),
            "resource": snapshot.resource.name(),
        })
    }

    /// The response for an answer, with the headers every GitHub answer has.
    fn reply(&self, answer: Answer, snapshot: Snapshot) -> Response {
        let mut response = Response::new(answer.status);
        response.header("Date", self.clock.http_date(SystemTime::now()));
        if !answer.body.is_empty() {
            response.header("Content-Type", "application/json; charset=utf-8");
        }
        if matches!(answer.status, 200 | 304) {
            response.header("Cache-Control", "private, max-age=60, s-maxage=60");
            response.header("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP");
        }
        response.header("X-GitHub-Media-Type", "github.v3; format=json");
        response.header("x-ratelimit-limit", snapshot.limit);
        response.header("x-ratelimit-remaining", snapshot.remaining());
        response.header("x-ratelimit-used", snapshot.used);
        response.header("x-ratelimit-reset", self.clock.unix_ceil(snapshot.reset_at));
        response.header("x-ratelimit-resource", snapshot.resource.name());
        response.header("Server", "gitfleet-emulator");
        response.body = answer.body.into_bytes();
        response
    }

    /// A GitHub-looking request id, unique per server.
    fn next_request_id(&self) -> String {
        let n = self.request_ids.fetch_add(1, Ordering::Relaxed);
        format!("EMU0:{n:08X}")
    }
}

fn bad_credentials() -> Answer {
    Answer::error(401, "Bad credentials", DOCS_URL)
}

fn secondary_limit(request_id: &str) -> Answer {
    let message = format!(
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try \
         again. If you reach out to GitHub Support for help, please include the request ID \
         {request_id}."
    );
    Answer::error(403, &message, SECONDARY_DOCS_URL)
}

/// `http://` plus the `Host` the client used, or the server address.
fn base_url(host: Option<&str>, local: SocketAddr) -> String {
    match host.map(str::trim) {
        Some(host) if !host.is_empty() && !host.contains(['/', ' ', '"', '<', '>']) => {
            format!("http://{host}")
        }
        _ => format!("http://{local}"),
    }
}

/// A weak ETag over the body and the caller's login: as on GitHub, tags differ between users.
/// Tags only need to be stable while the server runs, so std's fast hasher is enough (SHA-256
/// over a 100-item page takes tens of milliseconds in debug builds).
fn etag_of(caller: &Caller, body: &str) -> String {
    let login = match caller {
        Caller::User { login, .. } => login.as_str(),
        _ => "",
    };
    let half = |part: u8| {
        let mut hasher = DefaultHasher::new();
        (part, login, body).hash(&mut hasher);
        hasher.finish()
    };
    format!("W/\"{:016x}{:016x}\"", half(1), half(2))
}

/// Whether an `If-None-Match` value names `etag`, comparing weakly as RFC 9110 says.
fn matches_if_none_match(header: Option<&str>, etag: &str) -> bool {
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_string();
    let wanted = opaque(etag);
    header.is_some_and(|value| {
        value
            .split(',')
            .any(|tag| tag.trim() == "*" || opaque(tag) == wanted)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_depend_on_body_and_caller_and_match_weakly() {
        let alice = Caller::User {
            login: "alice".to_string(),
            user_id: 1,
        };
        let bob = Caller::User {
            login: "bob".to_string(),
            user_id: 2,
        };
        let tag = etag_of(&alice, "{}");
        assert!(tag.starts_with("W/\"") && tag.ends_with('"'));
        assert_ne!(tag, etag_of(&bob, "{}"));
        assert_ne!(tag, etag_of(&alice, "[]"));
        let strong = tag.trim_start_matches("W/");
        assert!(matches_if_none_match(Some(&tag), &tag));
        assert!(matches_if_none_match(Some(strong), &tag));
        assert!(matches_if_none_match(Some(&format!("\"x\", {tag}")), &tag));
        assert!(matches_if_none_match(Some("*"), &tag));
        assert!(!matches_if_none_match(Some("\"x\""), &tag));
        assert!(!matches_if_none_match(None, &tag));
    }

    #[test]
    fn base_urls_come_from_the_host_header() {
        let local: SocketAddr = "127.0.0.1:9".parse().expect("addr");
        assert_eq!(
            base_url(Some("localhost:8080"), local),
            "http://localhost:8080"
        );
        assert_eq!(base_url(None, local), "http://127.0.0.1:9");
        assert_eq!(base_url(Some("evil/x"), local), "http://127.0.0.1:9");
    }
}
