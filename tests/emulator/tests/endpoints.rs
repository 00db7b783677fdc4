//! Endpoints, pagination and the server's connection handling, over real HTTP.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use common::Client;
use gitfleet_emulator::{Config, Emulator, TokenSpec};
use serde_json::Value;

const OCTOCAT: &str = include_str!("../../fixtures/github/get-users-octocat.json");
const HELLO_WORLD: &str = include_str!("../../fixtures/github/get-repos-octocat-hello-world.json");

fn start() -> Emulator {
    let config = Config {
        tokens: vec![TokenSpec::new("tok_main", 5000)],
        ..Config::default()
    };
    Emulator::start(config).expect("emulator starts")
}

/// The recorded body of a fixture, with its URLs moved to `base`.
fn recorded_body(fixture: &str, base: &str) -> Value {
    let exchange: Value = serde_json::from_str(fixture).expect("fixture JSON");
    let text = exchange["response"]["body"]
        .to_string()
        .replace("https://api.github.com", base);
    serde_json::from_str(&text).expect("body JSON")
}

#[test]
fn recorded_bodies_are_served_with_local_urls() {
    let emulator = start();
    let client = Client::new();
    let base = emulator.base_url();
    let octocat = client.get(&format!("{base}/users/octocat"), Some("tok_main"));
    assert_eq!(octocat.json(), recorded_body(OCTOCAT, &base));
    let hello = client.get(&format!("{base}/repos/octocat/Hello-World"), None);
    assert_eq!(hello.json(), recorded_body(HELLO_WORLD, &base));
    assert_eq!(
        hello.json()["url"],
        format!("{base}/repos/octocat/Hello-World").as_str()
    );
}

#[test]
fn users_orgs_and_repositories_have_githubs_shape() {
    let emulator = start();
    let client = Client::new();
    let base = emulator.base_url();
    let org = client.get(&format!("{base}/users/bigorg"), None).json();
    assert_eq!(
        (org["type"].as_str(), org["public_repos"].as_u64()),
        (Some("Organization"), Some(250))
    );
    let repo = client
        .get(&format!("{base}/repos/torvalds/repo-003"), None)
        .json();
    assert_eq!(repo["full_name"], "torvalds/repo-003");
    assert_eq!(repo["owner"]["login"], "torvalds");
    assert_eq!(
        repo["contributors_url"],
        format!("{base}/repos/torvalds/repo-003/contributors").as_str()
    );
    let listed = client
        .get(&format!("{base}/users/torvalds/repos"), None)
        .json();
    let item = &listed.as_array().expect("list")[2];
    assert_eq!(
        (item["id"].as_u64(), item["name"].as_str()),
        (repo["id"].as_u64(), Some("repo-003"))
    );
    let mut recorded_keys: Vec<String> = recorded_body(HELLO_WORLD, &base)
        .as_object()
        .expect("object")
        .keys()
        .cloned()
        .collect();
    let mut keys: Vec<String> = repo.as_object().expect("object").keys().cloned().collect();
    recorded_keys.sort();
    keys.sort();
    assert_eq!(keys, recorded_keys);
    assert_eq!(
        client
            .get(&format!("{base}/users/emptyuser/repos"), None)
            .body,
        "[]"
    );
}

#[test]
fn bigorg_pages_follow_link_headers_without_duplicates() {
    let emulator = start();
    let client = Client::new();
    let base = emulator.base_url();
    let mut url = format!("{base}/orgs/bigorg/repos?type=all&per_page=100");
    let mut names = Vec::new();
    let mut pages = Vec::new();
    loop {
        let reply = client.get(&url, Some("tok_main"));
        assert_eq!(reply.status, 200);
        let items = reply.json();
        let items = items.as_array().expect("list");
        names.extend(
            items
                .iter()
                .map(|repo| repo["full_name"].as_str().expect("name").to_string()),
        );
        pages.push(items.len());
        let last = format!("{base}/orgs/bigorg/repos?type=all&per_page=100&page=3");
        match reply.link("next") {
            Some(next) => {
                assert_eq!(reply.link("last").as_deref(), Some(last.as_str()));
                url = next;
            }
            None => {
                assert_eq!(reply.link("last"), None);
                let prev = format!("{base}/orgs/bigorg/repos?type=all&per_page=100&page=2");
                assert_eq!(reply.link("prev").as_deref(), Some(prev.as_str()));
                let first = format!("{base}/orgs/bigorg/repos?type=all&per_page=100&page=1");
                assert_eq!(reply.link("first").as_deref(), Some(first.as_str()));
                break;
            }
        }
    }
    assert_eq!(pages, [100, 100, 50]);
    let unique: BTreeSet<&String> = names.iter().collect();
    assert_eq!(unique.len(), 250);
    let mut sorted = names.clone();
    sorted.sort_by_key(|name| name.to_lowercase());
    assert_eq!(names, sorted);

    let single = client.get(&format!("{base}/users/octocat/repos"), None);
    assert!(!single.headers.contains_key("link"));
    assert_eq!(single.json().as_array().map(Vec::len), Some(8));
    let default_page = client.get(&format!("{base}/orgs/bigorg/repos"), None);
    assert_eq!(default_page.json().as_array().map(Vec::len), Some(30));
    let last = format!("{base}/orgs/bigorg/repos?page=9");
    assert_eq!(default_page.link("last").as_deref(), Some(last.as_str()));
}

#[test]
fn links_use_the_host_the_client_asked_for() {
    let emulator = start();
    let port = emulator.addr().port();
    let mut stream = TcpStream::connect(emulator.addr()).expect("connect");
    let request = "GET /orgs/bigorg/repos HTTP/1.1\r\nHost: localhost:{port}\r\n\
                   Connection: close\r\n\r\n"
        .replace("{port}", &port.to_string());
    stream.write_all(request.as_bytes()).expect("write");
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("read");
    let expected = format!("<http://localhost:{port}/orgs/bigorg/repos?page=2>; rel=\"next\"");
    assert!(text.contains(&expected), "{text}");
    assert!(text.contains(&format!(
        "\"url\":\"http://localhost:{port}/repos/bigorg/repo-001\""
    )));
}

#[test]
fn contributors_are_paged_and_an_empty_repository_answers_204() {
    let emulator = start();
    let client = Client::new();
    let base = emulator.base_url();
    let empty = client.get(
        &format!("{base}/repos/octocat/empty/contributors"),
        Some("tok_main"),
    );
    assert_eq!(empty.status, 204);
    assert!(empty.body.is_empty());
    assert_eq!(empty.quota(), (5000, 4999, 1));

    let url = format!("{base}/repos/bigcontrib/many/contributors?per_page=100&page=3");
    let last = client.get(&url, None);
    let people = last.json();
    assert_eq!(people.as_array().map(Vec::len), Some(50));
    assert!(people[0]["contributions"].as_u64().is_some());
    assert_eq!(people[0]["type"], "User");
    assert!(last.link("next").is_none());

    let few = client
        .get(
            &format!("{base}/repos/octocat/Hello-World/contributors"),
            None,
        )
        .json();
    assert_eq!(few[0]["login"], "octocat");
    assert!((1..=4).contains(&few.as_array().map_or(0, Vec::len)));
}

#[test]
fn branches_have_names_and_commits() {
    let emulator = start();
    let client = Client::new();
    let base = emulator.base_url();
    let branches = client
        .get(&format!("{base}/repos/octocat/Hello-World/branches"), None)
        .json();
    let branches = branches.as_array().expect("list");
    assert!(branches.iter().any(|b| b["name"] == "master"));
    for branch in branches {
        let sha = branch["commit"]["sha"].as_str().expect("sha");
        assert_eq!(sha.len(), 40);
        let url = format!("{base}/repos/octocat/Hello-World/commits/{sha}");
        assert_eq!(branch["commit"]["url"], url.as_str());
        assert_eq!(branch["protected"], false);
    }
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let emulator = start();
    let mut stream = TcpStream::connect(emulator.addr()).expect("connect");
    let request = "GET /users/octocat HTTP/1.1\r\nHost: x\r\nAuthorization: token tok_main\r\n\r\n";
    stream
        .write_all(format!("{request}{request}").as_bytes())
        .expect("write");
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    for remaining in [4999, 4998] {
        let mut length = 0;
        let mut status = String::new();
        reader.read_line(&mut status).expect("status line");
        assert_eq!(status, "HTTP/1.1 200 OK\r\n");
        let mut saw_remaining = false;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).expect("header");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(": ").expect("header line");
            match name.to_lowercase().as_str() {
                "content-length" => length = value.parse().expect("length"),
                "x-ratelimit-remaining" => saw_remaining = value == remaining.to_string(),
                "connection" => panic!("unexpected Connection: {value}"),
                _ => {}
            }
        }
        assert!(saw_remaining);
        let mut body = vec![0; length];
        reader.read_exact(&mut body).expect("body");
        assert!(body.starts_with(b"{\"login\":\"octocat\""));
    }
    stream
        .write_all(b"GET /rate_limit HTTP/1.1\r\nConnection: close\r\n\r\n")
        .expect("write");
    let mut rest = String::new();
    reader.read_to_string(&mut rest).expect("read until close");
    assert!(rest.starts_with("HTTP/1.1 200 OK\r\n") && rest.contains("Connection: close\r\n"));
}

#[test]
fn concurrent_clients_are_all_answered() {
    let config = Config {
        tokens: (0..4)
            .map(|n| TokenSpec::new(&format!("tok_c{n}"), 1000))
            .collect(),
        delay: Duration::from_millis(20),
        ..Config::default()
    };
    let emulator = Emulator::start(config).expect("emulator starts");
    let base = emulator.base_url();
    let started = Instant::now();
    let workers: Vec<_> = (0..16)
        .map(|n| {
            let base = base.clone();
            thread::spawn(move || {
                let client = Client::new();
                let token = format!("tok_c{}", n % 4);
                (0..10)
                    .map(|i| {
                        let url = format!("{base}/orgs/bigorg/repos?page={}", i % 9 + 1);
                        client.get(&url, Some(&token)).status
                    })
                    .collect::<Vec<u16>>()
            })
        })
        .collect();
    for worker in workers {
        assert_eq!(worker.join().expect("worker"), vec![200; 10]);
    }
    // 160 requests with a 20 ms delay each: far less than 3.2 s when served concurrently.
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "{:?}",
        started.elapsed()
    );
    let stats = emulator.stats();
    assert_eq!(stats.total_requests, 160);
    assert!(stats.per_token.values().all(|token| token.successes == 40));
}

#[test]
fn dropping_the_emulator_closes_connections_and_frees_the_port() {
    let emulator = start();
    let addr = emulator.addr();
    let client = Client::new();
    let url = format!("{}/users/octocat", emulator.base_url());
    assert_eq!(client.get(&url, None).status, 200);
    let mut idle = TcpStream::connect(addr).expect("connect");
    idle.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");

    emulator.stop();
    let listener = TcpListener::bind(addr).expect("the port is free again");
    drop(listener);
    let mut buffer = [0; 16];
    assert_eq!(
        idle.read(&mut buffer).unwrap_or(0),
        0,
        "idle connections are closed"
    );
    assert!(
        client.get_with(&url, None, &[]).is_err(),
        "the pooled connection is gone"
    );
}

#[test]
fn the_lifetime_stops_the_server() {
    let config = Config {
        lifetime: Some(Duration::from_millis(300)),
        ..Config::default()
    };
    let emulator = Emulator::start(config).expect("emulator starts");
    let addr = emulator.addr();
    assert!(emulator.is_running());
    assert_eq!(
        Client::new()
            .get(&format!("{}/users/octocat", emulator.base_url()), None)
            .status,
        200
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while emulator.is_running() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    assert!(!emulator.is_running());
    let refused = (0..100).any(|_| {
        thread::sleep(Duration::from_millis(20));
        TcpStream::connect(addr).is_err()
    });
    assert!(refused, "nothing listens after the lifetime");
}

#[test]
fn malformed_requests_get_400() {
    let emulator = start();
    let mut stream = TcpStream::connect(emulator.addr()).expect("connect");
    stream.write_all(b"NONSENSE\r\n\r\n").expect("write");
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("read");
    assert!(text.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{text}");
}

#[test]
fn start_on_a_taken_port_fails() {
    let emulator = start();
    let error = Emulator::start_on(Config::default(), emulator.addr().port()).expect_err("taken");
    assert_eq!(error.kind(), std::io::ErrorKind::AddrInUse);
}

#[test]
fn the_emulator_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>(_: &T) {}
    let emulator = start();
    shareable(&emulator);
    thread::scope(|scope| {
        scope.spawn(|| emulator.trigger_secondary("tok_main", 1, Some(1)));
    });
    let reply = Client::new().get(&format!("{}/user", emulator.base_url()), Some("tok_main"));
    assert_eq!(reply.status, 403);
}
