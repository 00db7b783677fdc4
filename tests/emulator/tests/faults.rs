//! Fault injection as seen on the wire: what each fault sends, and that the
//! rules fire as counted.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::Client;
use gitfleet_emulator::{Config, Emulator, Fault, FaultRule, Faults, TokenSpec};

const TOKEN: &str = "fault_wire_token";

fn start(rules: Vec<FaultRule>) -> Emulator {
    Emulator::start(Config {
        tokens: vec![TokenSpec::new(TOKEN, 100).login("wire")],
        faults: Faults {
            rules,
            record_arrivals: true,
        },
        ..Config::default()
    })
    .expect("the emulator starts")
}

/// Sends one GET on a fresh connection (asking the server to close it after
/// the answer) and reads until the server closes: the raw answer.
fn raw_get(emulator: &Emulator, target: &str) -> String {
    let mut stream = TcpStream::connect(emulator.addr()).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {TOKEN}\r\n\
         Connection: close\r\n\r\n",
        emulator.addr()
    );
    stream.write_all(request.as_bytes()).expect("sends");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("reads to the end");
    String::from_utf8(answer).expect("text")
}

/// The head and body of a raw answer, and the announced Content-Length.
fn split(answer: &str) -> (&str, &str, usize) {
    let (head, body) = answer.split_once("\r\n\r\n").expect("a whole head");
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("Content-Length: "))
        .expect("a Content-Length")
        .parse()
        .expect("a number");
    (head, body, length)
}

#[test]
fn cut_body_announces_the_whole_length_and_sends_half() {
    let emulator = start(vec![FaultRule::new(Fault::CutBody)]);
    let answer = raw_get(&emulator, "/users/octocat");
    let (head, body, length) = split(&answer);
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert_eq!(body.len(), length / 2);
}

#[test]
fn cut_head_and_drop_send_no_whole_head() {
    let emulator = start(vec![FaultRule::new(Fault::CutHead).first(1)]);
    let answer = raw_get(&emulator, "/users/octocat");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(!answer.contains("\r\n\r\n"), "{answer}");

    emulator.add_fault(FaultRule::new(Fault::Drop));
    assert_eq!(raw_get(&emulator, "/users/octocat"), "");
    let stats = emulator.stats();
    assert_eq!((stats.received, stats.faults_injected), (2, 2));
    assert_eq!(
        stats.total_requests, 1,
        "a dropped request is never processed"
    );
}

#[test]
fn slow_and_stalled_answers_wait_then_arrive_whole() {
    let pause = Duration::from_millis(300);
    for fault in [Fault::Slow(pause), Fault::StallBody(pause)] {
        let emulator = start(vec![FaultRule::new(fault.clone())]);
        let started = Instant::now();
        let answer = raw_get(&emulator, "/users/octocat");
        assert!(started.elapsed() >= pause, "{fault:?}");
        let (_, body, length) = split(&answer);
        assert_eq!(body.len(), length, "{fault:?}");
    }
}

#[test]
fn stopping_interrupts_a_long_pause() {
    let emulator = start(vec![FaultRule::new(Fault::Slow(Duration::from_secs(60)))]);
    let addr = emulator.addr();
    let waiting = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(addr).expect("connects");
        stream
            .write_all(b"GET /users/octocat HTTP/1.1\r\nHost: x\r\n\r\n")
            .expect("sends");
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
    });
    while emulator.arrivals().is_empty() {
        std::thread::sleep(Duration::from_millis(5));
    }
    let started = Instant::now();
    emulator.stop();
    assert!(started.elapsed() < Duration::from_secs(5));
    waiting.join().expect("the client saw the connection close");
}

#[test]
fn status_faults_answer_without_rate_limit_headers_or_quota() {
    let emulator = start(vec![FaultRule::new(Fault::Status(503))
        .on("/users/")
        .every(2)]);
    let client = Client::new();
    let url = format!("{}/users/octocat", emulator.base_url());
    let statuses: Vec<u16> = (0..4)
        .map(|_| client.get(&url, Some(TOKEN)).status)
        .collect();
    assert_eq!(statuses, [200, 503, 200, 503]);
    assert_eq!(client.get(&url, Some(TOKEN)).status, 200);
    let reply = client.get(&url, Some(TOKEN));
    assert_eq!(reply.status, 503);
    assert!(!reply.headers.contains_key("x-ratelimit-remaining"));
    assert_eq!(reply.json()["message"], "Service Unavailable");
    assert_eq!(emulator.stats().per_token["wire"].requests, 3);
}

#[test]
fn broken_bodies_and_headers() {
    let emulator = start(Vec::new());
    let client = Client::new();
    let base = emulator.base_url();
    let get = |fault: Fault, target: &str| {
        emulator.clear_faults();
        emulator.add_fault(FaultRule::new(fault));
        client.get(&format!("{base}{target}"), Some(TOKEN))
    };

    let truncated = get(Fault::TruncatedJson, "/users/octocat");
    assert_eq!(truncated.status, 200);
    assert!(serde_json::from_str::<serde_json::Value>(&truncated.body).is_err());
    assert!(truncated.body.starts_with("{\"login\":\"octocat\""));

    let malformed = get(Fault::MalformedJson, "/users/octocat");
    assert!(serde_json::from_str::<serde_json::Value>(&malformed.body).is_err());

    let garbled = get(Fault::GarbageRateLimitHeaders, "/users/octocat");
    assert_eq!(garbled.header("x-ratelimit-remaining"), "-1");
    assert_eq!(garbled.header("x-ratelimit-reset"), "tomorrow");

    // ureq joins repeated headers' values only when asked; read them raw.
    emulator.clear_faults();
    emulator.add_fault(FaultRule::new(Fault::DuplicateRateLimitHeaders));
    let answer = raw_get(&emulator, "/users/octocat");
    let remaining: Vec<&str> = answer
        .lines()
        .filter_map(|line| line.strip_prefix("x-ratelimit-remaining: "))
        .collect();
    assert_eq!(remaining.len(), 2);
    assert_eq!(remaining[0], "4999");
    assert_ne!(remaining[1], "4999");

    let looped = get(Fault::LinkLoop(1), "/orgs/bigorg/repos?per_page=100&page=3");
    assert_eq!(
        looped.link("next"),
        Some(format!("{base}/orgs/bigorg/repos?per_page=100&page=1"))
    );

    let echoed = get(Fault::EchoCredentials, "/users/octocat");
    assert_eq!(echoed.status, 400);
    assert!(echoed.body.contains(TOKEN), "the fault quotes the header");

    let secondary = get(Fault::SecondaryLimit(Some(7)), "/users/octocat");
    assert_eq!(secondary.status, 403);
    assert_eq!(secondary.header("retry-after"), "7");
    assert_eq!(emulator.stats().per_token["wire"].secondary, 1);
}
