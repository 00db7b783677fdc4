//! `gitfleet-emulator`: runs the GitHub API emulator from the command line.

use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use gitfleet_emulator::{Config, Emulator, FaultRule, PrimaryStatus, TokenSpec};

const USAGE: &str = "\
usage: gitfleet-emulator [--port N] [--token SECRET[:QUOTA]]... [--revoked SECRET]...
                         [--window SECS] [--search-quota N] [--primary-status 403|429]
                         [--delay-ms N] [--clock-offset SECS] [--lifetime SECS] [--demo]
                         [--fault RULE]... [--exit-on-stdin-eof]

Serves a few GitHub REST API endpoints with per-token rate limits on 127.0.0.1.

  --port N               port to listen on (default 0: any free port)
  --token SECRET[:QUOTA] accept this token, with QUOTA core requests per window (default 5000)
  --revoked SECRET       a token that is answered with 401 Bad credentials
  --window SECS          rate-limit window length (default 3600)
  --search-quota N       search requests per token and window (default 30)
  --primary-status CODE  status of primary rate-limit answers, 403 or 429 (default 403)
  --delay-ms N           wait this long before answering each request (default 0)
  --clock-offset SECS    shift the server clock, may be negative (default 0)
  --lifetime SECS        exit after this long; 0 never (default 600)
  --fault RULE           inject a fault: KIND[,first=N|,every=N][,on=TEXT], where KIND is
                         status-CODE, cut-body, cut-head, drop, slow-MS, stall-body-MS,
                         truncated-json, malformed-json, garbage-ratelimit,
                         duplicate-ratelimit, link-loop-PAGE, secondary[-SECS],
                         echo-credentials; it fires on
                         every request whose path and query contain TEXT (default: all),
                         or only on the first N or every Nth of them
  --demo                 tokens demo_token_alpha and demo_token_bravo (quota 2),
                         demo_token_revoked (revoked), 8-second windows
  --exit-on-stdin-eof    also exit when standard input is closed
  --help                 show this help

Prints `gitfleet-emulator listening on http://127.0.0.1:PORT` once started.";

/// Command-line settings.
struct Options {
    config: Config,
    port: u16,
    exit_on_stdin_eof: bool,
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(Some(options)) => options,
        Ok(None) => {
            // A closed pipe (`--help | head`) is not an error worth a panic.
            let _ = writeln!(io::stdout(), "{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("gitfleet-emulator: {error}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let emulator = match Emulator::start_on(options.config, options.port) {
        Ok(emulator) => emulator,
        Err(error) => {
            eprintln!(
                "gitfleet-emulator: cannot listen on 127.0.0.1:{}: {error}",
                options.port
            );
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = io::stdout();
    let announced = writeln!(
        stdout,
        "gitfleet-emulator listening on {}",
        emulator.base_url()
    )
    .and_then(|()| stdout.flush());
    if announced.is_err() {
        return ExitCode::FAILURE;
    }

    let stdin_closed = Arc::new(AtomicBool::new(false));
    if options.exit_on_stdin_eof {
        let stdin_closed = Arc::clone(&stdin_closed);
        thread::spawn(move || {
            let _ = io::copy(&mut io::stdin().lock(), &mut io::sink());
            stdin_closed.store(true, Ordering::SeqCst);
        });
    }
    // The emulator stops by itself when its lifetime is over.
    while emulator.is_running() && !stdin_closed.load(Ordering::SeqCst) {
        thread::sleep(Duration::from_millis(50));
    }
    emulator.stop();
    ExitCode::SUCCESS
}

/// A `--token` or `--revoked` value: printable ASCII without spaces, as a
/// real token is (and as the library requires).
fn checked_secret(value: std::ffi::OsString) -> Result<String, lexopt::Error> {
    let value = value.into_string().map_err(|_| "a token must be ASCII")?;
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("a token must be printable ASCII without spaces".into());
    }
    Ok(value)
}

/// The options, or `None` when help was asked for.
fn parse_args() -> Result<Option<Options>, lexopt::Error> {
    use lexopt::prelude::*;

    let mut demo = false;
    let mut port = 0;
    let mut tokens = Vec::new();
    let mut window = None;
    let mut search_quota = None;
    let mut primary_status = None;
    let mut delay = None;
    let mut clock_offset = None;
    let mut lifetime = 600;
    let mut exit_on_stdin_eof = false;
    let mut faults = Vec::new();

    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        match arg {
            Long("help") | Short('h') => return Ok(None),
            Long("demo") => demo = true,
            Long("exit-on-stdin-eof") => exit_on_stdin_eof = true,
            Long("port") => port = parser.value()?.parse()?,
            Long("token") => tokens.push(token_spec(&checked_secret(parser.value()?)?)),
            Long("revoked") => {
                tokens.push(TokenSpec::new(&checked_secret(parser.value()?)?, 0).revoked())
            }
            Long("window") => {
                let seconds: u64 = parser.value()?.parse()?;
                if seconds == 0 {
                    return Err("--window must be at least 1 second".into());
                }
                window = Some(Duration::from_secs(seconds));
            }
            Long("search-quota") => search_quota = Some(parser.value()?.parse()?),
            Long("primary-status") => {
                primary_status = Some(match parser.value()?.parse::<u16>()? {
                    403 => PrimaryStatus::Forbidden403,
                    429 => PrimaryStatus::TooMany429,
                    _ => return Err("--primary-status must be 403 or 429".into()),
                });
            }
            Long("delay-ms") => delay = Some(Duration::from_millis(parser.value()?.parse()?)),
            Long("clock-offset") => clock_offset = Some(parser.value()?.parse()?),
            Long("lifetime") => lifetime = parser.value()?.parse()?,
            Long("fault") => faults.push(parser.value()?.parse::<FaultRule>()?),
            _ => return Err(arg.unexpected()),
        }
    }

    let mut config = if demo {
        Config::demo()
    } else {
        Config::default()
    };
    config.tokens.extend(tokens);
    config.window = window.unwrap_or(config.window);
    config.search_quota = search_quota.unwrap_or(config.search_quota);
    config.primary_status = primary_status.unwrap_or(config.primary_status);
    config.delay = delay.unwrap_or(config.delay);
    config.clock_offset_secs = clock_offset.unwrap_or(config.clock_offset_secs);
    config.lifetime = (lifetime > 0).then(|| Duration::from_secs(lifetime));
    config.faults.rules = faults;
    Ok(Some(Options {
        config,
        port,
        exit_on_stdin_eof,
    }))
}

/// `SECRET` or `SECRET:QUOTA`; the quota defaults to GitHub's 5000.
fn token_spec(value: &str) -> TokenSpec {
    match value
        .rsplit_once(':')
        .map(|(secret, quota)| (secret, quota.parse::<u32>()))
    {
        Some((secret, Ok(quota))) => TokenSpec::new(secret, quota),
        _ => TokenSpec::new(value, 5000),
    }
}
