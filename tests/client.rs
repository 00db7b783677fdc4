//! The client against the emulator: rotation, exhaustion, invalid tokens,
//! pagination, waits and the rest of section 3 of the design.

use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use gitfleet::github::models::Repository;
use gitfleet::{CancelToken, Client, ClientOptions, Error, Provider, TokenManager, TokenStatus};
use gitfleet_emulator::{Config, Emulator, PrimaryStatus, TokenSpec};

fn start(tokens: Vec<TokenSpec>) -> Emulator {
    start_with(Config {
        tokens,
        ..Config::default()
    })
}

fn start_with(config: Config) -> Emulator {
    Emulator::start(config).expect("the emulator starts")
}

fn pool_of(secrets: &[&str]) -> TokenManager {
    let pool = TokenManager::new();
    for secret in secrets {
        pool.add_token(Provider::GitHub, secret, None, 0).unwrap();
    }
    pool
}

fn client(emulator: &Emulator, pool: &TokenManager) -> Client {
    client_with(emulator, pool, |_| {})
}

fn client_with(
    emulator: &Emulator,
    pool: &TokenManager,
    tweak: impl FnOnce(&mut ClientOptions),
) -> Client {
    let mut options = ClientOptions {
        base_url: emulator.base_url(),
        manager: Some(pool.clone()),
        ..ClientOptions::default()
    };
    tweak(&mut options);
    Client::new(options).unwrap()
}

fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn never() -> CancelToken {
    CancelToken::new()
}

fn status_of(pool: &TokenManager, secret: &str) -> TokenStatus {
    let fingerprint = gitfleet::pool::fingerprint(secret);
    pool.snapshot()
        .into_iter()
        .find(|t| t.fingerprint == fingerprint)
        .expect("the token is in the pool")
        .status
}

#[test]
fn three_tokens_of_twenty_give_sixty_successes_then_the_earliest_reset() {
    let emulator = start(vec![
        TokenSpec::new("tok_one", 20),
        TokenSpec::new("tok_two", 20),
        TokenSpec::new("tok_three", 20),
    ]);
    let pool = pool_of(&["tok_one", "tok_two", "tok_three"]);
    let client = client(&emulator, &pool);

    let mut successes = 0;
    let mut first_error = None;
    for _ in 0..100 {
        match client.owner_repositories("octocat", &never()) {
            Ok(repos) => {
                assert_eq!(repos.len(), 8);
                successes += 1;
            }
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }

    assert_eq!(successes, 60);
    match first_error {
        Some(Error::RateLimited { reset, resource }) => {
            assert_eq!(resource, "core");
            assert!(reset > now_s(), "the reset {reset} is in the future");
            assert_eq!(Some(reset), pool.earliest_reset(Provider::GitHub, "core"));
        }
        other => panic!("expected a rate limit, got {other:?}"),
    }
    let stats = emulator.stats();
    assert_eq!(
        stats.total_requests, 60,
        "nothing is sent once every token is known spent"
    );
    assert!(
        stats.per_token.values().all(|t| t.on_spent == 0),
        "{stats:?}"
    );
    assert_eq!(pool.count_available(Provider::GitHub, "core"), 0);
    for secret in ["tok_one", "tok_two", "tok_three"] {
        assert_eq!(status_of(&pool, secret), TokenStatus::RateLimited);
    }
}

#[test]
fn a_revoked_first_token_is_skipped_and_shown_invalid() {
    let emulator = start(vec![
        TokenSpec::new("tok_revoked", 100).revoked(),
        TokenSpec::new("tok_good_a", 100),
        TokenSpec::new("tok_good_b", 100),
    ]);
    let pool = pool_of(&["tok_revoked", "tok_good_a", "tok_good_b"]);
    let client = client(&emulator, &pool);

    for _ in 0..20 {
        let repos = client.owner_repositories("torvalds", &never()).unwrap();
        assert_eq!(repos.len(), 7);
    }

    assert_eq!(status_of(&pool, "tok_revoked"), TokenStatus::Invalid);
    let unauthorized: u64 = emulator
        .stats()
        .per_token
        .values()
        .map(|t| t.unauthorized)
        .sum();
    assert!(
        unauthorized <= 1,
        "the revoked token is tried at most once, not {unauthorized}"
    );
}

#[test]
fn an_owner_with_250_repositories_gives_250() {
    let emulator = start(vec![TokenSpec::new("tok_pages", 100)]);
    let pool = pool_of(&["tok_pages"]);
    let repos = client(&emulator, &pool)
        .owner_repositories("bigorg", &never())
        .unwrap();

    assert_eq!(repos.len(), 250);
    let ids: HashSet<u64> = repos.iter().map(|r| r.id).collect();
    assert_eq!(ids.len(), 250, "no duplicates");
    assert_eq!(
        emulator.stats().total_requests,
        3,
        "per_page=100 makes three pages"
    );
}

#[test]
fn pagination_goes_on_across_token_changes() {
    let emulator = start(vec![
        TokenSpec::new("tok_p1", 1),
        TokenSpec::new("tok_p2", 1),
        TokenSpec::new("tok_p3", 1),
    ]);
    let pool = pool_of(&["tok_p1", "tok_p2", "tok_p3"]);
    let repos: Vec<Repository> = client(&emulator, &pool)
        .owner_repositories("bigorg", &never())
        .unwrap();

    assert_eq!(repos.len(), 250);
    let stats = emulator.stats();
    assert!(
        stats.per_token.values().all(|t| t.successes == 1),
        "{stats:?}"
    );
}

#[test]
fn empty_results_are_empty_not_errors() {
    let emulator = start(vec![TokenSpec::new("tok_empty", 100)]);
    let pool = pool_of(&["tok_empty"]);
    let client = client(&emulator, &pool);

    assert!(client
        .contributors("octocat", "empty", &never())
        .unwrap()
        .is_empty());
    assert!(client
        .owner_repositories("emptyuser", &never())
        .unwrap()
        .is_empty());
}

#[test]
fn single_resources_decode() {
    let emulator = start(vec![TokenSpec::new("tok_models", 100).login("model-user")]);
    let pool = pool_of(&["tok_models"]);
    let client = client(&emulator, &pool);

    assert_eq!(client.user("octocat", &never()).unwrap().login, "octocat");
    assert_eq!(
        client.authenticated_user(&never()).unwrap().login,
        "model-user"
    );
    let details = client
        .repository("octocat", "Hello-World", &never())
        .unwrap();
    assert_eq!(details.repository.full_name, "octocat/Hello-World");
    assert!(!client
        .branches("octocat", "Hello-World", &never())
        .unwrap()
        .is_empty());
    assert!(!client
        .contributors("octocat", "Hello-World", &never())
        .unwrap()
        .is_empty());
}

#[test]
fn not_found_is_reported_and_not_retried() {
    let emulator = start(vec![TokenSpec::new("tok_nf", 100)]);
    let pool = pool_of(&["tok_nf"]);
    let result = client(&emulator, &pool).owner_repositories("no-such-owner", &never());
    assert!(matches!(result, Err(Error::NotFound(_))), "{result:?}");
    assert_eq!(emulator.stats().total_requests, 1);
}

#[test]
fn a_secondary_limit_moves_the_request_to_another_token() {
    let emulator = start(vec![
        TokenSpec::new("tok_sec_a", 100),
        TokenSpec::new("tok_sec_b", 100),
    ]);
    let pool = pool_of(&["tok_sec_a", "tok_sec_b"]);
    pool.set_strategy(gitfleet::Strategy::RoundRobin);
    emulator.trigger_secondary("tok_sec_a", 1, Some(30));

    let repos = client(&emulator, &pool)
        .owner_repositories("octocat", &never())
        .unwrap();
    assert_eq!(repos.len(), 8);
    assert_eq!(status_of(&pool, "tok_sec_a"), TokenStatus::CoolingDown);
    let snapshot = pool.snapshot();
    let cooling = snapshot
        .iter()
        .find(|t| t.status == TokenStatus::CoolingDown)
        .unwrap();
    let until = cooling.available_at.unwrap();
    assert!(
        until >= now_s() + 28 && until <= now_s() + 31,
        "retry-after honoured: {until}"
    );
}

#[test]
fn a_primary_limit_as_429_moves_the_request_and_the_spent_token_is_not_used_again() {
    let emulator = start_with(Config {
        tokens: vec![
            TokenSpec::new("tok_429_a", 100),
            TokenSpec::new("tok_429_b", 100),
        ],
        primary_status: PrimaryStatus::TooMany429,
        ..Config::default()
    });
    let pool = pool_of(&["tok_429_a", "tok_429_b"]);
    pool.set_strategy(gitfleet::Strategy::RoundRobin);
    emulator.set_remaining("tok_429_a", "core", 0);
    let client = client(&emulator, &pool);

    for _ in 0..5 {
        client.owner_repositories("octocat", &never()).unwrap();
    }
    assert_eq!(status_of(&pool, "tok_429_a"), TokenStatus::RateLimited);
    let on_spent: u64 = emulator
        .stats()
        .per_token
        .values()
        .map(|t| t.on_spent)
        .sum();
    assert_eq!(
        on_spent, 1,
        "only the request that taught the pool hit the spent token"
    );
}

#[test]
fn a_call_waits_for_the_reset_when_allowed() {
    let emulator = start_with(Config {
        tokens: vec![TokenSpec::new("tok_wait", 1)],
        window: Duration::from_secs(2),
        ..Config::default()
    });
    let pool = pool_of(&["tok_wait"]);
    let client = client_with(&emulator, &pool, |o| o.max_wait = Duration::from_secs(20));

    client.owner_repositories("octocat", &never()).unwrap();
    let started = Instant::now();
    let repos = client.owner_repositories("octocat", &never()).unwrap();
    assert_eq!(repos.len(), 8);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "it waited for the reset"
    );
    assert_eq!(
        emulator
            .stats()
            .per_token
            .values()
            .map(|t| t.on_spent)
            .sum::<u64>(),
        0
    );
}

#[test]
fn without_a_wait_budget_the_error_comes_at_once() {
    let emulator = start_with(Config {
        tokens: vec![TokenSpec::new("tok_nowait", 1)],
        window: Duration::from_secs(30),
        ..Config::default()
    });
    let pool = pool_of(&["tok_nowait"]);
    let client = client(&emulator, &pool);
    client.owner_repositories("octocat", &never()).unwrap();

    let started = Instant::now();
    let result = client.owner_repositories("octocat", &never());
    assert!(
        matches!(result, Err(Error::RateLimited { .. })),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn a_wait_is_cut_short_by_cancel() {
    let emulator = start_with(Config {
        tokens: vec![TokenSpec::new("tok_cancel", 1)],
        window: Duration::from_secs(60),
        ..Config::default()
    });
    let pool = pool_of(&["tok_cancel"]);
    let client = client_with(&emulator, &pool, |o| o.max_wait = Duration::from_secs(120));
    client.owner_repositories("octocat", &never()).unwrap();

    let cancel = CancelToken::new();
    let waiter = {
        let (client, cancel) = (client.clone(), cancel.clone());
        std::thread::spawn(move || client.owner_repositories("octocat", &cancel))
    };
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    cancel.cancel();
    assert_eq!(waiter.join().unwrap(), Err(Error::Cancelled));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn refresh_reads_every_resource_without_spending_quota() {
    let emulator = start(vec![
        TokenSpec::new("tok_rl_a", 20),
        TokenSpec::new("tok_rl_revoked", 20).revoked(),
    ]);
    let pool = pool_of(&["tok_rl_a", "tok_rl_revoked"]);
    let results = client(&emulator, &pool)
        .refresh_rate_limits(&never())
        .unwrap();

    let good = &results[&gitfleet::pool::fingerprint("tok_rl_a")];
    let figures = good.rate_limit.as_ref().unwrap();
    assert_eq!(figures.resources["core"].remaining, 20);
    assert!(figures.resources.contains_key("search"));
    let bad = &results[&gitfleet::pool::fingerprint("tok_rl_revoked")];
    assert!(bad.rate_limit.is_none() && bad.error.is_some());
    assert_eq!(bad.status, "invalid");

    let snapshot = pool.snapshot();
    let token = snapshot
        .iter()
        .find(|t| t.fingerprint == gitfleet::pool::fingerprint("tok_rl_a"))
        .unwrap();
    assert_eq!(token.resources["core"].remaining, Some(20));
    assert_eq!(token.resources["core"].limit, Some(20));
    assert!(token.resources.contains_key("search"));
}

#[test]
fn validate_pool_names_the_refused_token() {
    let emulator = start(vec![
        TokenSpec::new("tok_val_good", 20).login("good-user"),
        TokenSpec::new("tok_val_bad", 20).revoked(),
    ]);
    let pool = pool_of(&["tok_val_good", "tok_val_bad"]);
    let client = client(&emulator, &pool);
    let results = client.validate_pool(&never()).unwrap();

    let good = &results[&gitfleet::pool::fingerprint("tok_val_good")];
    assert!(good.valid);
    assert_eq!(good.login.as_deref(), Some("good-user"));
    assert!(!results[&gitfleet::pool::fingerprint("tok_val_bad")].valid);
    assert_eq!(status_of(&pool, "tok_val_bad"), TokenStatus::Invalid);

    let single = client
        .validate_token("tok_unknown_to_all", &never())
        .unwrap();
    assert!(!single.valid);
}

#[test]
fn a_default_token_already_in_the_pool_is_kept_once() {
    let emulator = start(vec![TokenSpec::new("tok_dup", 20)]);
    let pool = pool_of(&["tok_dup"]);
    let client = client_with(&emulator, &pool, |o| o.token = Some("tok_dup".into()));

    assert_eq!(pool.snapshot().len(), 1);
    client.owner_repositories("octocat", &never()).unwrap();
    assert_eq!(pool.snapshot()[0].resources["core"].remaining, Some(19));
    let rate = client.rate_limit(&never()).unwrap();
    assert_eq!(rate.resources["core"].remaining, 19);
}

#[test]
fn a_default_token_alone_gets_a_private_pool() {
    let emulator = start(vec![TokenSpec::new("tok_alone", 20)]);
    let client = Client::new(ClientOptions {
        base_url: emulator.base_url(),
        token: Some("tok_alone".into()),
        ..ClientOptions::default()
    })
    .unwrap();
    client.owner_repositories("octocat", &never()).unwrap();
    assert_eq!(client.manager().unwrap().snapshot().len(), 1);
}

#[test]
fn resets_are_corrected_for_the_server_clock() {
    let emulator = start_with(Config {
        tokens: vec![TokenSpec::new("tok_skew", 1)],
        window: Duration::from_secs(30),
        clock_offset_secs: 3600,
        ..Config::default()
    });
    let pool = pool_of(&["tok_skew"]);
    let client = client(&emulator, &pool);
    client.owner_repositories("octocat", &never()).unwrap();

    match client.owner_repositories("octocat", &never()) {
        Err(Error::RateLimited { reset, .. }) => {
            let now = now_s();
            assert!(
                reset > now && reset <= now + 32,
                "reset {reset} is ~30 s away on our clock"
            );
        }
        other => panic!("expected a rate limit, got {other:?}"),
    }
}

#[test]
fn an_unauthenticated_client_works() {
    let emulator = start(Vec::new());
    let client = Client::new(ClientOptions {
        base_url: emulator.base_url(),
        ..ClientOptions::default()
    })
    .unwrap();
    assert_eq!(client.user("octocat", &never()).unwrap().login, "octocat");
    assert_eq!(emulator.stats().unauthenticated, 1);
}

#[test]
fn a_dead_server_gives_a_network_error_after_bounded_retries() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let pool = pool_of(&["tok_dead"]);
    let client = Client::new(ClientOptions {
        base_url: format!("http://127.0.0.1:{port}"),
        manager: Some(pool.clone()),
        max_retries: 1,
        ..ClientOptions::default()
    })
    .unwrap();

    let result = client.user("octocat", &never());
    assert!(matches!(result, Err(Error::Network(_))), "{result:?}");
    assert!(!format!("{result:?}").contains("tok_dead"));
    assert_eq!(
        pool.snapshot()[0].resources["core"].in_flight,
        0,
        "the lease came back"
    );
}

#[test]
fn bad_options_and_arguments_are_refused() {
    let bad_url = Client::new(ClientOptions {
        base_url: "ftp://example".into(),
        ..ClientOptions::default()
    });
    assert!(matches!(bad_url, Err(Error::InvalidArgument(_))));

    let emulator = start(vec![TokenSpec::new("tok_args", 5)]);
    let client = client(&emulator, &pool_of(&["tok_args"]));
    assert!(matches!(
        client.repository("octocat", "..", &never()),
        Err(Error::InvalidArgument(_))
    ));
    assert_eq!(emulator.stats().total_requests, 0);
}

#[test]
fn concurrent_callers_drain_the_pool_evenly_without_touching_spent_tokens() {
    let secrets = ["tok_c1", "tok_c2", "tok_c3", "tok_c4"];
    let emulator = start(secrets.iter().map(|s| TokenSpec::new(s, 25)).collect());
    let pool = pool_of(&secrets);
    let client = client(&emulator, &pool);

    let successes: usize = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..16)
            .map(|_| {
                let client = client.clone();
                scope.spawn(move || {
                    (0..10)
                        .filter(|_| client.user("octocat", &never()).is_ok())
                        .count()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });

    assert_eq!(
        successes, 100,
        "every unit of pooled quota became a success"
    );
    let stats = emulator.stats();
    assert!(
        stats
            .per_token
            .values()
            .all(|t| t.on_spent == 0 && t.successes == 25),
        "{stats:?}"
    );
}

/// A one-shot HTTP server answering each connection with the next of
/// `answers` (then closing it); returns its base URL.
fn scripted_server(answers: Vec<&'static str>) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for answer in answers {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let mut request = Vec::new();
            let mut buffer = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buffer[..n]),
                }
            }
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    url
}

#[test]
fn server_errors_are_retried_with_backoff_then_succeed() {
    let ok = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\
              Content-Length: 23\r\n\r\n{\"login\":\"x\",\"id\":1}   ";
    let unavailable = "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\
                       Content-Length: 0\r\n\r\n";
    let url = scripted_server(vec![unavailable, unavailable, ok]);
    let client = Client::new(ClientOptions {
        base_url: url,
        token: Some("tok_retry".into()),
        ..ClientOptions::default()
    })
    .unwrap();

    let user = client.user("x", &never()).unwrap();
    assert_eq!(user.login, "x");
}

#[test]
fn server_errors_beyond_the_budget_give_a_clear_error() {
    let bad_gateway = "HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
    let url = scripted_server(vec![bad_gateway, bad_gateway]);
    let client = Client::new(ClientOptions {
        base_url: url,
        token: Some("tok_retry".into()),
        max_retries: 1,
        ..ClientOptions::default()
    })
    .unwrap();

    match client.user("x", &never()) {
        Err(Error::Http { status: 502, .. }) => {}
        other => panic!("expected HTTP 502, got {other:?}"),
    }
}

#[test]
fn malformed_json_is_a_decode_error() {
    let garbage = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 9\r\n\r\n{\"login\":";
    let client = Client::new(ClientOptions {
        base_url: scripted_server(vec![garbage]),
        ..ClientOptions::default()
    })
    .unwrap();
    assert!(matches!(client.user("x", &never()), Err(Error::Decode(_))));
}

#[test]
fn rate_limit_with_only_invalid_tokens_is_an_auth_error_not_the_ip_bucket() {
    let emulator = start(vec![TokenSpec::new("tok_rl_dead", 5).revoked()]);
    let pool = pool_of(&["tok_rl_dead"]);
    pool.mark_invalid("tok_rl_dead");
    let result = client(&emulator, &pool).rate_limit(&never());
    assert!(matches!(result, Err(Error::Auth(_))), "{result:?}");
    assert_eq!(emulator.stats().unauthenticated, 0);
}

#[test]
fn base_urls_without_a_host_are_refused() {
    for url in [
        "http://[::1",
        "http://",
        "https:///api",
        "api.github.com",
        "http://h/x?q=1",
    ] {
        let result = Client::new(ClientOptions {
            base_url: url.into(),
            ..ClientOptions::default()
        });
        assert!(
            matches!(result, Err(Error::InvalidArgument(_))),
            "{url}: {result:?}"
        );
    }
    assert!(Client::new(ClientOptions {
        base_url: "https://ghe.example.com/api/v3/".into(),
        ..ClientOptions::default()
    })
    .is_ok());
}

#[test]
fn the_reset_jitter_never_takes_a_wait_past_its_budget() {
    let emulator = start_with(Config {
        tokens: vec![TokenSpec::new("tok_budget", 1)],
        window: Duration::from_secs(1),
        ..Config::default()
    });
    let pool = pool_of(&["tok_budget"]);
    // The wait is at most 3 s (a 1 s window, then whole-second rounding of
    // the Date header and of the reset); the budget leaves less than the
    // full second of jitter on top of that.
    let client = client_with(&emulator, &pool, |o| {
        o.max_wait = Duration::from_millis(3500)
    });
    for _ in 0..3 {
        client.owner_repositories("octocat", &never()).unwrap();
    }
}

#[test]
fn absurd_rate_limit_headers_do_not_fail_a_good_response() {
    let odd = "HTTP/1.1 200 OK\r\nConnection: close\r\nx-ratelimit-remaining: 5\r\n\
               x-ratelimit-reset: 18446744073709551615\r\nx-ratelimit-limit: 1e400\r\n\
               Content-Length: 20\r\n\r\n{\"login\":\"x\",\"id\":1}";
    let client = Client::new(ClientOptions {
        base_url: scripted_server(vec![odd]),
        token: Some("tok_odd".into()),
        ..ClientOptions::default()
    })
    .unwrap();
    assert_eq!(client.user("x", &never()).unwrap().login, "x");
}

#[test]
fn an_empty_pool_is_an_auth_error_for_every_call_and_sends_nothing() {
    let emulator = start(Vec::new());
    let client = client(&emulator, &TokenManager::new());
    assert!(matches!(client.rate_limit(&never()), Err(Error::Auth(_))));
    assert!(matches!(
        client.user("octocat", &never()),
        Err(Error::Auth(_))
    ));
    assert_eq!(emulator.stats().total_requests, 0);
}
