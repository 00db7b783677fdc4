//! A local emulator of the GitHub REST API with per-token rate limits, for testing gitfleet.
//!
//! [`Emulator::start`] runs an HTTP/1.1 server on `127.0.0.1` (keep-alive, one thread per
//! connection) that answers a few GitHub endpoints the way GitHub does, including the
//! `x-ratelimit-*` headers, primary (403 or 429) and secondary rate limits, 401 for revoked
//! tokens, ETags with `304 Not Modified`, and `Link` pagination:
//!
//! - `GET /rate_limit`, `GET /user`, `GET /users/{login}`
//! - `GET /users/{login}/repos`, `GET /orgs/{org}/repos`
//! - `GET /repos/{owner}/{repo}`, `.../contributors`, `.../branches`
//! - `GET /search/repositories?q=...` (counted against the `search` resource)
//!
//! ```
//! use gitfleet_emulator::{Config, Emulator, TokenSpec};
//!
//! let config = Config { tokens: vec![TokenSpec::new("ghp_test", 20)], ..Config::default() };
//! let emulator = Emulator::start(config)?;
//! assert!(emulator.base_url().starts_with("http://127.0.0.1:"));
//! emulator.stop(); // dropping it does the same
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! [`Config::faults`] (or [`Emulator::add_fault`]) makes chosen requests go wrong on purpose:
//! 5xx answers, connections cut mid-answer, slow answers, broken JSON, garbled or duplicated
//! rate-limit headers, `Link` loops, secondary limits ([`Fault`]); [`Emulator::arrivals`] then
//! tells when each request arrived and which fault it got.
//!
//! Response bodies are real GitHub responses, or generated from them, recorded by the test
//! suite of [hub4j/github-api](https://github.com/hub4j/github-api) (MIT licence). The files
//! are in the gitfleet repository's `tests/fixtures/github/`, whose README.md names each
//! file's source and licence.

#![warn(missing_docs)]

mod api;
mod clock;
mod config;
mod faults;
mod fixtures;
mod handler;
mod http;
mod limits;
mod paging;
mod server;
mod world;

pub use config::{Config, OwnerSpec, PrimaryStatus, TokenSpec, DEMO_TOKENS};
pub use faults::{Arrival, BadFaultRule, Fault, FaultRule, Faults, Trigger};
pub use limits::{Stats, TokenStats};
pub use server::Emulator;
