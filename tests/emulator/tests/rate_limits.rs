//! Rate limits, credentials and conditional requests, over real HTTP.

mod common;

use std::thread;
use std::time::Duration;

use common::{date_secs, now_secs, Client};
use gitfleet_emulator::{Config, Emulator, PrimaryStatus, TokenSpec};

const PRIMARY_DOCS: &str =
    "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits";

fn start(tokens: Vec<TokenSpec>) -> Emulator {
    Emulator::start(Config {
        tokens,
        ..Config::default()
    })
    .expect("emulator starts")
}

#[test]
fn quota_counts_down_in_the_headers_then_the_primary_limit_answers_403() {
    let emulator = start(vec![TokenSpec::new("tok_quota", 3).login("counter")]);
    let client = Client::new();
    let url = format!("{}/user", emulator.base_url());
    let mut resets = Vec::new();
    let mut user_id = None;
    for used in 1..=3 {
        let reply = client.get(&url, Some("tok_quota"));
        assert_eq!(reply.status, 200);
        assert_eq!(reply.quota(), (3, 3 - used, used));
        assert_eq!(reply.header("x-ratelimit-resource"), "core");
        assert_eq!(
            reply.header("content-type"),
            "application/json; charset=utf-8"
        );
        assert!(reply.header("etag").starts_with("W/\""));
        let reset = reply.number("x-ratelimit-reset");
        assert!(
            (now_secs() + 3595..=now_secs() + 3601).contains(&reset),
            "{reset}"
        );
        assert!(date_secs(&reply).abs_diff(now_secs()) <= 2);
        resets.push(reset);
        user_id = reply.json()["id"].as_u64();
    }
    assert!(
        resets.windows(2).all(|pair| pair[0] == pair[1]),
        "one window: {resets:?}"
    );

    let spent = client.get(&url, Some("tok_quota"));
    assert_eq!(spent.status, 403);
    assert_eq!(spent.quota(), (3, 0, 3));
    assert_eq!(spent.number("x-ratelimit-reset"), resets[0]);
    let body = spent.json();
    let user_id = user_id.expect("/user has an id");
    assert_eq!(
        body["message"],
        format!("API rate limit exceeded for user ID {user_id}.")
    );
    assert_eq!(body["documentation_url"], PRIMARY_DOCS);

    let stats = emulator.stats();
    let counter = &stats.per_token["counter"];
    assert_eq!(
        (counter.requests, counter.successes, counter.on_spent),
        (4, 3, 1)
    );
    assert_eq!(
        (
            stats.total_requests,
            stats.unauthenticated,
            stats.unknown_token
        ),
        (4, 0, 0)
    );
}

#[test]
fn the_primary_limit_can_answer_429() {
    let config = Config {
        tokens: vec![TokenSpec::new("tok_429", 1).login("limited")],
        primary_status: PrimaryStatus::TooMany429,
        ..Config::default()
    };
    let emulator = Emulator::start(config).expect("emulator starts");
    let client = Client::new();
    let url = format!("{}/repos/octocat/Hello-World", emulator.base_url());
    assert_eq!(client.get(&url, Some("tok_429")).status, 200);
    for _ in 0..2 {
        let reply = client.get(&url, Some("tok_429"));
        assert_eq!(reply.status, 429);
        assert_eq!(reply.quota(), (1, 0, 1));
    }
    assert_eq!(emulator.stats().per_token["limited"].on_spent, 2);
}

#[test]
fn requests_without_a_token_share_the_unauthenticated_bucket() {
    let config = Config {
        unauthenticated_quota: 2,
        ..Config::default()
    };
    let emulator = Emulator::start(config).expect("emulator starts");
    let client = Client::new();
    let url = format!("{}/users/torvalds", emulator.base_url());
    assert_eq!(client.get(&url, None).quota(), (2, 1, 1));
    assert_eq!(Client::new().get(&url, None).quota(), (2, 0, 2));
    let spent = client.get(&url, None);
    assert_eq!(spent.status, 403);
    let message = spent.json()["message"]
        .as_str()
        .expect("message")
        .to_string();
    assert!(
        message.starts_with("API rate limit exceeded for 127.0.0.1."),
        "{message}"
    );
    assert_eq!(emulator.stats().unauthenticated, 3);
}

#[test]
fn revoked_and_unknown_tokens_get_401_with_unauthenticated_headers() {
    let emulator = start(vec![
        TokenSpec::new("tok_live", 10).login("live"),
        TokenSpec::new("tok_dead", 10).login("dead").revoked(),
    ]);
    let client = Client::new();
    let url = format!("{}/user", emulator.base_url());
    assert_eq!(client.get(&url, Some("tok_live")).json()["login"], "live");
    for token in ["tok_dead", "tok_never_seen"] {
        let reply = client.get(&url, Some(token));
        assert_eq!(reply.status, 401);
        assert_eq!(
            reply.body,
            r#"{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}"#
        );
        assert_eq!(reply.quota(), (60, 60, 0));
    }
    emulator.revoke("tok_live");
    assert_eq!(client.get(&url, Some("tok_live")).status, 401);
    let anonymous = client.get(&url, None);
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.json()["message"], "Requires authentication");

    let stats = emulator.stats();
    assert_eq!(stats.per_token["dead"].unauthorized, 1);
    assert_eq!(stats.per_token["live"].unauthorized, 1);
    assert_eq!(stats.per_token["live"].successes, 1);
    assert_eq!(stats.unknown_token, 1);
}

#[test]
fn a_window_ends_and_the_next_request_starts_a_full_one() {
    let config = Config {
        tokens: vec![TokenSpec::new("tok_window", 2).login("windowed")],
        window: Duration::from_secs(1),
        ..Config::default()
    };
    let emulator = Emulator::start(config).expect("emulator starts");
    let client = Client::new();
    let url = format!("{}/users/gvanrossum", emulator.base_url());
    let first = client.get(&url, Some("tok_window"));
    assert_eq!(first.quota(), (2, 1, 1));
    assert_eq!(client.get(&url, Some("tok_window")).quota(), (2, 0, 2));
    assert_eq!(client.get(&url, Some("tok_window")).status, 403);
    let reset = first.number("x-ratelimit-reset");
    assert!(reset <= now_secs() + 2);

    thread::sleep(Duration::from_millis(1100));
    let renewed = client.get(&url, Some("tok_window"));
    assert_eq!(renewed.status, 200);
    assert_eq!(renewed.quota(), (2, 1, 1));
    assert!(renewed.number("x-ratelimit-reset") > reset);

    assert_eq!(client.get(&url, Some("tok_window")).quota(), (2, 0, 2));
    emulator.expire_window("tok_window");
    assert_eq!(client.get(&url, Some("tok_window")).quota(), (2, 1, 1));
}

#[test]
fn set_remaining_changes_the_current_window() {
    let emulator = start(vec![TokenSpec::new("tok_set", 100).login("setter")]);
    let client = Client::new();
    let url = format!("{}/users/octocat", emulator.base_url());
    emulator.set_remaining("tok_set", "core", 1);
    assert_eq!(client.get(&url, Some("tok_set")).quota(), (100, 0, 100));
    assert_eq!(client.get(&url, Some("tok_set")).status, 403);
    emulator.set_remaining("tok_set", "search", 0);
    let search = format!("{}/search/repositories?q=linguist", emulator.base_url());
    assert_eq!(client.get(&search, Some("tok_set")).status, 403);
    assert_eq!(emulator.stats().per_token["setter"].on_spent, 2);
}

#[test]
fn secondary_limits_answer_403_with_retry_after_and_spend_nothing() {
    let emulator = start(vec![TokenSpec::new("tok_second", 10).login("second")]);
    let client = Client::new();
    let url = format!("{}/users/kennethreitz", emulator.base_url());
    emulator.trigger_secondary("tok_second", 2, Some(42));
    for _ in 0..2 {
        let reply = client.get(&url, Some("tok_second"));
        assert_eq!(reply.status, 403);
        assert_eq!(reply.header("retry-after"), "42");
        assert_eq!(reply.quota(), (10, 10, 0));
        let body = reply.json();
        let message = body["message"].as_str().expect("message");
        assert!(
            message.starts_with("You have exceeded a secondary rate limit."),
            "{message}"
        );
        assert!(body["documentation_url"]
            .as_str()
            .expect("url")
            .ends_with("secondary-rate-limits"));
    }
    assert_eq!(client.get(&url, Some("tok_second")).quota(), (10, 9, 1));

    emulator.trigger_secondary("tok_second", 1, None);
    let reply = client.get(&url, Some("tok_second"));
    assert_eq!(reply.status, 403);
    assert!(!reply.headers.contains_key("retry-after"));
    let stats = &emulator.stats().per_token["second"];
    assert_eq!(
        (stats.secondary, stats.successes, stats.on_spent),
        (3, 1, 0)
    );
}

#[test]
fn if_none_match_answers_304_without_spending_quota() {
    let emulator = start(vec![
        TokenSpec::new("tok_etag_a", 10).login("etag-a"),
        TokenSpec::new("tok_etag_b", 10).login("etag-b"),
    ]);
    let client = Client::new();
    let url = format!("{}/repos/octocat/Hello-World", emulator.base_url());
    let first = client.get(&url, Some("tok_etag_a"));
    let etag = first.header("etag").to_string();
    assert!(etag.starts_with("W/\""));
    assert_eq!(first.quota(), (10, 9, 1));

    let conditional = [("If-None-Match", etag.as_str())];
    let cached = client
        .get_with(&url, Some("tok_etag_a"), &conditional)
        .expect("304");
    assert_eq!(cached.status, 304);
    assert!(cached.body.is_empty());
    assert_eq!(cached.quota(), (10, 9, 1));
    assert_eq!(cached.header("etag"), etag.trim_start_matches("W/"));
    assert!(cached.headers.contains_key("x-ratelimit-reset"));

    let other = client.get(&url, Some("tok_etag_b"));
    assert_ne!(
        other.header("etag"),
        etag,
        "ETags differ between credentials"
    );
    let stale = client
        .get_with(&url, Some("tok_etag_b"), &conditional)
        .expect("200");
    assert_eq!(stale.status, 200);
    assert_eq!(stale.quota(), (10, 8, 2));
    assert_eq!(emulator.stats().per_token["etag-a"].successes, 2);
}

#[test]
fn rate_limit_reports_every_resource_and_spends_nothing() {
    let emulator = start(vec![TokenSpec::new("tok_rl", 50).login("rl")]);
    let client = Client::new();
    let base = emulator.base_url();
    client.get(&format!("{base}/users/octocat"), Some("tok_rl"));
    client.get(
        &format!("{base}/search/repositories?q=hello"),
        Some("tok_rl"),
    );
    for _ in 0..3 {
        let reply = client.get(&format!("{base}/rate_limit"), Some("tok_rl"));
        assert_eq!(reply.status, 200);
        assert_eq!(reply.quota(), (50, 49, 1));
        let body = reply.json();
        let core = &body["resources"]["core"];
        assert_eq!(
            (core["limit"].as_u64(), core["remaining"].as_u64()),
            (Some(50), Some(49))
        );
        assert_eq!(
            core["reset"].as_u64(),
            Some(reply.number("x-ratelimit-reset"))
        );
        assert_eq!(body["resources"]["search"]["used"], 1);
        assert_eq!(body["resources"]["search"]["limit"], 30);
        assert_eq!(body["resources"]["graphql"]["limit"], 5000);
        assert_eq!(body["resources"]["code_search"]["remaining"], 10);
        assert_eq!(body["rate"], *core);
    }
    assert_eq!(
        client
            .get(&format!("{base}/rate_limit"), Some("nope"))
            .status,
        401
    );
    assert_eq!(
        client.get(&format!("{base}/rate_limit"), None).quota(),
        (60, 60, 0)
    );
}

#[test]
fn search_counts_against_its_own_resource() {
    let config = Config {
        tokens: vec![TokenSpec::new("tok_search", 100).login("searcher")],
        search_quota: 2,
        ..Config::default()
    };
    let emulator = Emulator::start(config).expect("emulator starts");
    let client = Client::new();
    let url = format!("{}/search/repositories?q=user:octocat", emulator.base_url());
    let reply = client.get(&url, Some("tok_search"));
    assert_eq!(reply.header("x-ratelimit-resource"), "search");
    assert_eq!(reply.quota(), (2, 1, 1));
    let body = reply.json();
    assert_eq!(
        (
            body["total_count"].as_u64(),
            body["incomplete_results"].as_bool()
        ),
        (Some(8), Some(false))
    );
    assert_eq!(body["items"][0]["owner"]["login"], "octocat");
    assert_eq!(client.get(&url, Some("tok_search")).status, 200);
    assert_eq!(client.get(&url, Some("tok_search")).status, 403);
    let core = client.get(
        &format!("{}/users/octocat", emulator.base_url()),
        Some("tok_search"),
    );
    assert_eq!(core.quota(), (100, 99, 1));
}

#[test]
fn the_clock_offset_moves_date_and_reset() {
    let config = Config {
        tokens: vec![TokenSpec::new("tok_clock", 5)],
        clock_offset_secs: -86_400,
        window: Duration::from_secs(600),
        ..Config::default()
    };
    let emulator = Emulator::start(config).expect("emulator starts");
    let reply = Client::new().get(
        &format!("{}/users/octocat", emulator.base_url()),
        Some("tok_clock"),
    );
    let server_now = now_secs() - 86_400;
    assert!(
        date_secs(&reply).abs_diff(server_now) <= 2,
        "{}",
        reply.header("date")
    );
    let reset = reply.number("x-ratelimit-reset");
    assert!(reset.abs_diff(server_now + 600) <= 2, "{reset}");
}

#[test]
fn not_found_answers_count_against_the_quota() {
    let emulator = start(vec![TokenSpec::new("tok_404", 10).login("finder")]);
    let client = Client::new();
    let base = emulator.base_url();
    let paths = [
        "/users/no-such-user",
        "/repos/octocat/no-such-repo",
        "/no/such/path",
        "/orgs/octocat/repos",
        "/repos/nobody/x/branches",
    ];
    for (used, path) in (1..).zip(paths) {
        let reply = client.get(&format!("{base}{path}"), Some("tok_404"));
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(
            reply.body,
            r#"{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}"#
        );
        assert_eq!(reply.quota(), (10, 10 - used, used));
    }
    let stats = &emulator.stats().per_token["finder"];
    assert_eq!((stats.requests, stats.successes), (5, 0));
}

#[test]
fn stats_and_debug_output_never_show_secrets() {
    let secret = "ghp_VerySecretValue123";
    let emulator = start(vec![TokenSpec::new(secret, 1)]);
    let client = Client::new();
    let url = format!("{}/users/octocat", emulator.base_url());
    for _ in 0..2 {
        client.get(&url, Some(secret));
    }
    emulator.revoke(secret);
    client.get(&url, Some(secret));
    emulator.add_token(TokenSpec::new("ghp_AnotherSecret", 5));
    client.get(&url, Some("ghp_AnotherSecret"));
    let stats = emulator.stats();
    assert_eq!(stats.per_token.len(), 2);
    let text = format!("{stats:?} {emulator:?} {:?}", TokenSpec::new(secret, 1));
    assert!(
        !text.contains(secret) && !text.contains("ghp_AnotherSecret"),
        "{text}"
    );
    let login = &TokenSpec::new(secret, 1).login;
    let token = &stats.per_token[login];
    assert_eq!(
        (
            token.requests,
            token.successes,
            token.on_spent,
            token.unauthorized
        ),
        (3, 1, 1, 1)
    );
}
