//! The client against an emulator that misbehaves on purpose: 5xx answers,
//! connections cut mid-answer, answers too slow for the timeout, broken JSON,
//! broken or duplicated rate-limit headers, `Link` headers that loop, and
//! many callers waiting for the same reset.
//!
//! Every call must end in a clear error or a bounded retry: it runs on its
//! own thread under a deadline (never a hang), the emulator's log of
//! arrivals bounds the requests sent (never a retry storm), and no error
//! message carries a token. Retry budgets are small, and only the clients
//! that meet slow faults have a short timeout, so the whole file runs in
//! seconds without a loaded machine's slowness adding requests.

use std::collections::HashSet;
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use gitfleet::{CancelToken, Client, ClientOptions, Error, Provider, TokenManager, TokenStatus};
use gitfleet_emulator::{Arrival, Config, Emulator, Fault, FaultRule, Faults, TokenSpec};

const ALPHA: &str = "ghp_fault_alpha_0123456789";
const BRAVO: &str = "ghp_fault_bravo_0123456789";

/// Client timeout per phase: long enough that a loaded machine running a
/// debug build never times out a healthy answer (which would add requests
/// to the counts below).
const TIMEOUT: Duration = Duration::from_secs(2);

/// The timeout of clients that meet slow faults, and how slow those are.
const SHORT_TIMEOUT: Duration = Duration::from_secs(1);
const SLOW: Duration = Duration::from_secs(6);

/// The longest any single call below may take.
const DEADLINE: Duration = Duration::from_secs(10);

/// An emulator with `rules`, logging arrivals, that serves ALPHA and BRAVO
/// with the given quotas.
fn emulator_with(rules: Vec<FaultRule>, quotas: (u32, u32)) -> Emulator {
    Emulator::start(Config {
        tokens: vec![
            TokenSpec::new(ALPHA, quotas.0).login("alpha"),
            TokenSpec::new(BRAVO, quotas.1).login("bravo"),
        ],
        faults: Faults {
            rules,
            record_arrivals: true,
        },
        ..Config::default()
    })
    .expect("the emulator starts")
}

fn emulator(rules: Vec<FaultRule>) -> Emulator {
    emulator_with(rules, (5000, 5000))
}

fn pool_of(secrets: &[&str]) -> TokenManager {
    let pool = TokenManager::new();
    for secret in secrets {
        pool.add_token(Provider::GitHub, secret, None, 0).unwrap();
    }
    pool
}

/// A client with `max_retries`, on a pool of ALPHA and BRAVO.
fn client(emulator: &Emulator, max_retries: u32) -> Client {
    let pool = pool_of(&[ALPHA, BRAVO]);
    with_timeout(emulator, pool, max_retries, Duration::ZERO, TIMEOUT)
}

/// The same with the short timeout, for slow faults.
fn impatient_client(emulator: &Emulator, max_retries: u32) -> Client {
    let pool = pool_of(&[ALPHA, BRAVO]);
    with_timeout(emulator, pool, max_retries, Duration::ZERO, SHORT_TIMEOUT)
}

fn client_on(emulator: &Emulator, pool: TokenManager, max_retries: u32, wait: Duration) -> Client {
    with_timeout(emulator, pool, max_retries, wait, TIMEOUT)
}

fn with_timeout(
    emulator: &Emulator,
    pool: TokenManager,
    max_retries: u32,
    wait: Duration,
    timeout: Duration,
) -> Client {
    Client::new(ClientOptions {
        base_url: emulator.base_url(),
        manager: Some(pool),
        timeout,
        connect_timeout: timeout,
        max_retries,
        max_wait: wait,
        ..ClientOptions::default()
    })
    .unwrap()
}

/// Runs `call` on its own thread and fails the test if it has not returned
/// within `limit`: a hang is a failure, not a stuck test run.
fn within<T: Send + 'static>(limit: Duration, call: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, result) = mpsc::channel();
    thread::spawn(move || {
        let _ = done.send(call());
    });
    match result.recv_timeout(limit) {
        Ok(value) => value,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("the call did not return within {limit:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the call panicked"),
    }
}

/// The arrivals whose target contains `text`.
fn arrivals_at(emulator: &Emulator, text: &str) -> Vec<Arrival> {
    emulator
        .arrivals()
        .into_iter()
        .filter(|arrival| arrival.target.contains(text))
        .collect()
}

/// Neither the message nor the debug form of an error names a token.
fn assert_no_secret(error: &Error) {
    let shown = format!("{error} {error:?}");
    for secret in [ALPHA, BRAVO] {
        assert!(!shown.contains(secret), "a token leaked into {shown:?}");
    }
}

fn user(client: &Client, login: &'static str) -> Result<String, Error> {
    let client = client.clone();
    within(DEADLINE, move || {
        client
            .user(login, &CancelToken::new())
            .map(|user| user.login)
    })
}

fn repository_names(client: &Client, owner: &'static str) -> Result<Vec<String>, Error> {
    let client = client.clone();
    within(DEADLINE, move || {
        client
            .owner_repositories(owner, &CancelToken::new())
            .map(|repos| repos.into_iter().map(|r| r.full_name).collect())
    })
}

fn status_of(pool: &TokenManager, secret: &str) -> TokenStatus {
    let fingerprint = gitfleet::pool::fingerprint(secret);
    pool.snapshot()
        .into_iter()
        .find(|t| t.fingerprint == fingerprint)
        .expect("the token is in the pool")
        .status
}

// ---- 5xx ---------------------------------------------------------------

#[test]
fn server_errors_are_retried_within_the_budget_then_succeed() {
    for status in [500, 502, 503] {
        let emulator = emulator(vec![FaultRule::new(Fault::Status(status))
            .on("/users/octocat")
            .first(2)]);
        let client = client(&emulator, 3);

        assert_eq!(user(&client, "octocat").unwrap(), "octocat");

        let arrivals = arrivals_at(&emulator, "/users/octocat");
        let faults: Vec<Option<Fault>> = arrivals.into_iter().map(|a| a.fault).collect();
        assert_eq!(
            faults,
            [
                Some(Fault::Status(status)),
                Some(Fault::Status(status)),
                None
            ],
            "two {status}s, then one good answer"
        );
    }
}

#[test]
fn persistent_server_errors_give_the_status_after_the_retry_budget() {
    for status in [500, 502, 503] {
        let emulator = emulator(vec![FaultRule::new(Fault::Status(status))]);
        let client = client(&emulator, 2);

        match user(&client, "octocat") {
            Err(error @ Error::Http { .. }) => {
                assert_no_secret(&error);
                assert!(
                    matches!(error, Error::Http { status: got, .. } if got == status),
                    "{error:?}"
                );
            }
            other => panic!("expected HTTP {status}, got {other:?}"),
        }
        assert_eq!(emulator.arrivals().len(), 3, "one try and two retries");
    }
}

#[test]
fn rate_limit_reads_retry_server_errors_within_the_budget() {
    let emulator = emulator(vec![FaultRule::new(Fault::Status(502)).on("/rate_limit")]);
    let client = client(&emulator, 1);
    let reader = client.clone();

    let result = within(DEADLINE, move || reader.rate_limit(&CancelToken::new()));

    assert!(
        matches!(result, Err(Error::Http { status: 502, .. })),
        "{result:?}"
    );
    assert_eq!(arrivals_at(&emulator, "/rate_limit").len(), 2);

    // Refreshing reads every token once; each carries the error, the call
    // itself succeeds, and nothing is retried past the budget.
    let refresher = client.clone();
    let results = within(DEADLINE, move || {
        refresher.refresh_rate_limits(&CancelToken::new())
    })
    .unwrap();
    assert_eq!(results.len(), 2);
    for result in results.values() {
        let error = result
            .error
            .as_deref()
            .expect("each token carries the error");
        assert!(error.contains("502"), "{error}");
        assert!(!error.contains(ALPHA) && !error.contains(BRAVO));
    }
    assert_eq!(arrivals_at(&emulator, "/rate_limit").len(), 2 + 2 * 2);
}

#[test]
fn a_server_that_quotes_the_credentials_does_not_put_them_in_the_error() {
    let emulator = emulator(vec![FaultRule::new(Fault::EchoCredentials)]);
    let client = client(&emulator, 2);

    match user(&client, "octocat") {
        Err(error @ Error::Http { status: 400, .. }) => {
            assert!(
                error.to_string().contains("Authorization: Bearer ***"),
                "{error}"
            );
            assert_no_secret(&error);
        }
        other => panic!("expected HTTP 400, got {other:?}"),
    }
    assert_eq!(emulator.arrivals().len(), 1, "a 400 is not sent again");
}

// ---- connections cut -----------------------------------------------------

#[test]
fn a_connection_cut_once_is_retried_and_the_call_succeeds() {
    for fault in [Fault::CutBody, Fault::CutHead, Fault::Drop] {
        let emulator = emulator(vec![FaultRule::new(fault.clone()).first(1)]);
        let client = client(&emulator, 2);

        assert_eq!(
            user(&client, "octocat").unwrap(),
            "octocat",
            "after {fault:?}"
        );
        assert_eq!(emulator.arrivals().len(), 2, "after {fault:?}");
    }
}

#[test]
fn a_connection_cut_every_time_is_a_network_error_after_the_budget() {
    for fault in [Fault::CutBody, Fault::CutHead, Fault::Drop] {
        let emulator = emulator(vec![FaultRule::new(fault.clone())]);
        let client = client(&emulator, 2);

        match user(&client, "octocat") {
            Err(error @ Error::Network(_)) => assert_no_secret(&error),
            other => panic!("{fault:?}: expected a network error, got {other:?}"),
        }
        assert_eq!(
            emulator.arrivals().len(),
            3,
            "{fault:?}: one try, two retries"
        );
        // The leases of the failed attempts were given back.
        let pool = client.manager().unwrap();
        assert_eq!(pool.count_available(Provider::GitHub, "core"), 2);
    }
}

// ---- slow answers --------------------------------------------------------

#[test]
fn an_answer_slower_than_the_timeout_is_a_timeout_after_the_budget() {
    for fault in [Fault::Slow(SLOW), Fault::StallBody(SLOW)] {
        let emulator = emulator(vec![FaultRule::new(fault.clone())]);
        let client = impatient_client(&emulator, 1);

        let started = Instant::now();
        match user(&client, "octocat") {
            Err(error @ Error::Timeout(_)) => assert_no_secret(&error),
            other => panic!("{fault:?}: expected a timeout, got {other:?}"),
        }
        assert!(
            started.elapsed() < SLOW,
            "{fault:?}: the client gave up on its own timeout, not the server's pace"
        );
        assert_eq!(
            emulator.arrivals().len(),
            2,
            "{fault:?}: one try, one retry"
        );
    }
}

#[test]
fn one_slow_answer_is_retried_and_the_call_succeeds() {
    let emulator = emulator(vec![FaultRule::new(Fault::Slow(SLOW)).first(1)]);
    let client = impatient_client(&emulator, 1);

    assert_eq!(user(&client, "octocat").unwrap(), "octocat");
    assert_eq!(emulator.arrivals().len(), 2);
}

// ---- broken bodies -------------------------------------------------------

#[test]
fn truncated_or_malformed_json_is_a_decode_error_sent_once() {
    for fault in [Fault::TruncatedJson, Fault::MalformedJson] {
        let emulator = emulator(vec![
            FaultRule::new(fault.clone()).on("/users/octocat"),
            FaultRule::new(fault.clone()).on("page=2"),
        ]);
        let client = client(&emulator, 3);

        match user(&client, "octocat") {
            Err(error @ Error::Decode(_)) => assert_no_secret(&error),
            other => panic!("{fault:?}: expected a decode error, got {other:?}"),
        }
        assert_eq!(emulator.arrivals().len(), 1, "{fault:?}: not sent again");

        // A list whose second page is broken fails whole: no partial list.
        match repository_names(&client, "bigorg") {
            Err(Error::Decode(_)) => {}
            other => panic!("{fault:?}: expected a decode error, got {other:?}"),
        }
        assert_eq!(
            emulator.arrivals().len(),
            3,
            "{fault:?}: pages 1 and 2, once each"
        );
    }
}

// ---- faults in the middle of a list ---------------------------------------

#[test]
fn a_fault_on_page_two_then_recovery_gives_every_repository_exactly_once() {
    let expected: HashSet<String> = (1..=250).map(|n| format!("bigorg/repo-{n:03}")).collect();
    for fault in [
        Fault::Status(503),
        Fault::Status(500),
        Fault::CutBody,
        Fault::CutHead,
        Fault::Drop,
        Fault::Slow(SLOW),
        Fault::SecondaryLimit(Some(60)),
        Fault::GarbageRateLimitHeaders,
        Fault::DuplicateRateLimitHeaders,
    ] {
        let emulator = emulator(vec![FaultRule::new(fault.clone()).on("page=2").first(1)]);
        let client = impatient_client(&emulator, 2);

        let names = repository_names(&client, "bigorg").unwrap();

        assert_eq!(names.len(), 250, "{fault:?}: nothing dropped or doubled");
        let unique: HashSet<String> = names.into_iter().collect();
        assert_eq!(unique, expected, "{fault:?}");
        let sent_again = usize::from(!matches!(
            fault,
            Fault::GarbageRateLimitHeaders | Fault::DuplicateRateLimitHeaders
        ));
        assert_eq!(
            arrivals_at(&emulator, "page=2").len(),
            1 + sent_again,
            "{fault:?}"
        );
        assert_eq!(emulator.arrivals().len(), 3 + sent_again, "{fault:?}");
    }
}

// ---- rate-limit headers --------------------------------------------------

#[test]
fn garbage_rate_limit_headers_neither_fail_calls_nor_hide_a_primary_limit() {
    // Two tokens of 2 requests, every answer's rate-limit headers garbled:
    // 4 calls work; then each token meets its limit once (403 "API rate
    // limit exceeded" without readable figures), is benched, and the calls
    // end in a rate-limit error, not a forbidden one.
    let emulator = emulator_with(vec![FaultRule::new(Fault::GarbageRateLimitHeaders)], (2, 2));
    let client = client(&emulator, 3);

    let results: Vec<Result<String, Error>> = (0..6).map(|_| user(&client, "octocat")).collect();

    let successes = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(successes, 4, "{results:?}");
    for error in results.iter().filter_map(|r| r.as_ref().err()) {
        assert!(
            matches!(error, Error::RateLimited { .. }),
            "a spent token with garbled headers is a limit, not {error:?}"
        );
        assert_no_secret(error);
    }
    let stats = emulator.stats();
    for login in ["alpha", "bravo"] {
        assert_eq!(
            stats.per_token[login].on_spent, 1,
            "{login} is sent nothing more once its limit is seen: {stats:?}"
        );
    }
    let pool = client.manager().unwrap();
    assert_eq!(status_of(pool, ALPHA), TokenStatus::RateLimited);
    assert_eq!(status_of(pool, BRAVO), TokenStatus::RateLimited);
}

#[test]
fn duplicated_rate_limit_headers_are_read_pessimistically() {
    // Every rate-limit header comes twice, a made-up full quota first and
    // the real figure second. Trusting the first would keep sending on spent
    // tokens; the pool must take the lower remaining and the later reset.
    let emulator = emulator_with(
        vec![FaultRule::new(Fault::DuplicateRateLimitHeaders)],
        (3, 3),
    );
    let client = client(&emulator, 3);

    assert_eq!(user(&client, "octocat").unwrap(), "octocat");
    let pool = client.manager().unwrap();
    let remaining: Vec<Option<u64>> = pool
        .snapshot()
        .iter()
        .filter_map(|t| t.resources.get("core").map(|r| r.remaining))
        .collect();
    assert_eq!(
        remaining,
        [Some(2)],
        "the real figure, not the made-up 4999"
    );

    let results: Vec<Result<String, Error>> = (0..6).map(|_| user(&client, "octocat")).collect();

    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        5,
        "{results:?}"
    );
    assert!(
        matches!(results.last(), Some(Err(Error::RateLimited { .. }))),
        "{results:?}"
    );
    let stats = emulator.stats();
    assert_eq!(stats.total_requests, 6, "nothing sent on a spent token");
    assert!(
        stats.per_token.values().all(|t| t.on_spent == 0),
        "{stats:?}"
    );
}

// ---- Link loops ----------------------------------------------------------

#[test]
fn a_link_header_that_loops_back_is_an_error_not_a_hang() {
    // bigorg has 3 pages of 100. Page 3's next link points back to page 2
    // (a URL already read), to page 3 itself, or to page 1 spelled with
    // `page=1` (read once more, then its link to page 2 closes the loop).
    for (back_to, requests) in [(2, 3), (3, 3), (1, 4)] {
        let emulator = emulator(vec![FaultRule::new(Fault::LinkLoop(back_to)).on("page=3")]);
        let client = client(&emulator, 2);

        match repository_names(&client, "bigorg") {
            Err(error @ Error::Decode(_)) => {
                assert!(error.to_string().contains("Link"), "{error}");
                assert_no_secret(&error);
            }
            other => panic!("loop to page {back_to}: expected a decode error, got {other:?}"),
        }
        assert_eq!(
            emulator.arrivals().len(),
            requests,
            "loop to page {back_to}"
        );
    }

    // A one-page list whose every answer links to itself.
    let emulator = emulator(vec![FaultRule::new(Fault::LinkLoop(1))]);
    let client = client(&emulator, 2);
    assert!(matches!(
        repository_names(&client, "octocat"),
        Err(Error::Decode(_))
    ));
    assert_eq!(emulator.arrivals().len(), 2);
}

// ---- many callers waiting for the same moment ------------------------------

const WAITERS: usize = 16;

/// Starts `WAITERS` calls at once on one client that may wait 10 s for a
/// reset; each must return within the deadline.
fn wake_all(client: &Client) -> Vec<Result<String, Error>> {
    let barrier = Arc::new(Barrier::new(WAITERS));
    let calls: Vec<_> = (0..WAITERS)
        .map(|_| {
            let client = client.clone();
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                barrier.wait();
                client.user("octocat", &CancelToken::new()).map(|u| u.login)
            })
        })
        .collect();
    within(DEADLINE, move || {
        calls
            .into_iter()
            .map(|call| call.join().expect("no panic"))
            .collect()
    })
}

/// How far apart the first and the last of these arrivals are.
fn spread(arrivals: &[Arrival]) -> Duration {
    let first = arrivals.iter().map(|a| a.at).min().unwrap();
    let last = arrivals.iter().map(|a| a.at).max().unwrap();
    last - first
}

#[test]
fn callers_waiting_out_the_same_secondary_limit_wake_spread_out() {
    // One token; its first answer is a secondary limit with retry-after 1.
    let emulator = emulator(vec![FaultRule::new(Fault::SecondaryLimit(Some(1))).first(1)]);
    let pool = pool_of(&[ALPHA]);
    let probe = client_on(&emulator, pool.clone(), 0, Duration::ZERO);
    assert!(matches!(
        user(&probe, "octocat"),
        Err(Error::SecondaryLimited { retry_after: 1 })
    ));
    assert_eq!(status_of(&pool, ALPHA), TokenStatus::CoolingDown);

    let waiting = client_on(&emulator, pool, 2, Duration::from_secs(10));
    let results = wake_all(&waiting);

    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    let woken = &emulator.arrivals()[1..];
    assert_eq!(woken.len(), WAITERS, "one request per caller, no storm");
    // The jitter window is 1 s; 16 callers drawn from it are spread over
    // far more than 300 ms unless they all wake at once.
    assert!(
        spread(woken) > Duration::from_millis(300),
        "callers woke within {:?} of each other",
        spread(woken)
    );
}

#[test]
fn callers_waiting_for_the_same_primary_reset_wake_spread_out() {
    let emulator = Emulator::start(Config {
        tokens: vec![TokenSpec::new(ALPHA, 100).login("alpha")],
        window: Duration::from_secs(1),
        faults: Faults {
            rules: Vec::new(),
            record_arrivals: true,
        },
        ..Config::default()
    })
    .unwrap();
    emulator.set_remaining(ALPHA, "core", 0);
    let pool = pool_of(&[ALPHA]);
    let probe = client_on(&emulator, pool.clone(), 0, Duration::ZERO);
    assert!(matches!(
        user(&probe, "octocat"),
        Err(Error::RateLimited { .. })
    ));
    assert_eq!(status_of(&pool, ALPHA), TokenStatus::RateLimited);

    let waiting = client_on(&emulator, pool, 2, Duration::from_secs(10));
    let results = wake_all(&waiting);

    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    let woken = &emulator.arrivals()[1..];
    assert_eq!(woken.len(), WAITERS, "one request per caller, no storm");
    assert!(
        spread(woken) > Duration::from_millis(300),
        "callers woke within {:?} of each other",
        spread(woken)
    );
    assert_eq!(emulator.stats().per_token["alpha"].on_spent, 1);
}
