//! The `gitfleet-emulator` command.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use common::Client;
use gitfleet_emulator::DEMO_TOKENS;

const BINARY: &str = env!("CARGO_BIN_EXE_gitfleet-emulator");

/// Starts the command and reads its one announced line.
fn spawn(args: &[&str]) -> (Child, BufReader<ChildStdout>, String) {
    let mut child = Command::new(BINARY)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the emulator command runs");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("announcement");
    let base = line
        .strip_prefix("gitfleet-emulator listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .trim_end()
        .to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    (child, stdout, base)
}

/// Waits for the process to exit on its own, killing it after `limit`.
fn wait_for_exit(child: &mut Child, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if child.try_wait().expect("wait").is_some() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    false
}

#[test]
fn demo_mode_serves_the_demo_tokens_and_exits_after_its_lifetime() {
    let (mut child, mut stdout, base) = spawn(&["--demo", "--lifetime", "3"]);
    let client = Client::new();
    let url = format!("{base}/users/octocat");
    assert_eq!(client.get(&url, Some(DEMO_TOKENS[0])).status, 401);
    for token in &DEMO_TOKENS[1..] {
        let statuses: Vec<u16> = (0..3)
            .map(|_| client.get(&url, Some(token)).status)
            .collect();
        assert_eq!(statuses, [200, 200, 403]);
    }
    let reply = client.get(&url, Some(DEMO_TOKENS[1]));
    let reset = reply.number("x-ratelimit-reset");
    assert!(reset <= common::now_secs() + 9, "8-second windows");

    assert!(
        wait_for_exit(&mut child, Duration::from_secs(10)),
        "exits after --lifetime"
    );
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).expect("stdout");
    assert_eq!(rest, "", "nothing else on stdout");
}

#[test]
fn tokens_and_options_from_the_command_line() {
    let args = [
        "--token",
        "cli_a:1",
        "--token",
        "cli_b",
        "--revoked",
        "cli_c",
    ];
    let (mut child, _stdout, base) = spawn(
        &[
            &args[..],
            &["--primary-status", "429", "--exit-on-stdin-eof"],
        ]
        .concat(),
    );
    let client = Client::new();
    let url = format!("{base}/rate_limit");
    assert_eq!(client.get(&url, Some("cli_a")).quota(), (1, 1, 0));
    assert_eq!(client.get(&url, Some("cli_b")).quota(), (5000, 5000, 0));
    assert_eq!(client.get(&url, Some("cli_c")).status, 401);
    let user = format!("{base}/users/octocat");
    assert_eq!(client.get(&user, Some("cli_a")).status, 200);
    assert_eq!(client.get(&user, Some("cli_a")).status, 429);

    drop(child.stdin.take());
    assert!(
        wait_for_exit(&mut child, Duration::from_secs(10)),
        "exits when stdin closes"
    );
}

#[test]
fn faults_from_the_command_line() {
    let (mut child, _stdout, base) = spawn(&[
        "--token",
        "cli_f",
        "--fault",
        "status-502,first=1,on=/users/octocat",
        "--fault",
        "secondary-9,every=2,on=/users/torvalds",
        "--exit-on-stdin-eof",
    ]);
    let client = Client::new();
    let octocat = format!("{base}/users/octocat");
    assert_eq!(client.get(&octocat, Some("cli_f")).status, 502);
    assert_eq!(client.get(&octocat, Some("cli_f")).status, 200);
    let torvalds = format!("{base}/users/torvalds");
    assert_eq!(client.get(&torvalds, Some("cli_f")).status, 200);
    let limited = client.get(&torvalds, Some("cli_f"));
    assert_eq!((limited.status, limited.header("retry-after")), (403, "9"));

    drop(child.stdin.take());
    assert!(wait_for_exit(&mut child, Duration::from_secs(10)));

    let bad = Command::new(BINARY)
        .args(["--fault", "status-503,sometimes"])
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("bad fault"));
}

#[test]
fn help_and_bad_arguments() {
    let help = Command::new(BINARY).arg("--help").output().expect("runs");
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).starts_with("usage: gitfleet-emulator"));

    let bad = Command::new(BINARY)
        .args(["--primary-status", "500"])
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(2));
    assert!(bad.stdout.is_empty());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("403 or 429"));
}
