//! What an emulator serves: its tokens, rate-limit settings and the owners of its fake world.

use std::fmt;
use std::time::Duration;

use crate::faults::Faults;
use crate::world::stable_hash;

/// Secrets of the tokens that [`Config::demo`] creates, the revoked one first.
pub const DEMO_TOKENS: &[&str] = &["demo_token_revoked", "demo_token_alpha", "demo_token_bravo"];

/// One API token the emulator accepts.
///
/// `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSpec {
    /// The token as clients send it after `Bearer ` or `token `.
    pub secret: String,
    /// The user the token belongs to; statistics are keyed by it.
    pub login: String,
    /// Requests per window for the `core` resource.
    pub quota: u32,
    /// A revoked token is answered with 401 Bad credentials.
    pub revoked: bool,
}

impl TokenSpec {
    /// A live token with `quota` core requests per window and a login derived from the secret
    /// (`user-<number>`, never containing the secret).
    pub fn new(secret: &str, quota: u32) -> Self {
        TokenSpec {
            secret: secret.to_string(),
            login: derived_login(secret),
            quota,
            revoked: false,
        }
    }

    /// The same token, belonging to `login`.
    pub fn login(mut self, login: &str) -> Self {
        self.login = login.to_string();
        self
    }

    /// The same token, revoked from the start.
    pub fn revoked(mut self) -> Self {
        self.revoked = true;
        self
    }
}

impl fmt::Debug for TokenSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSpec")
            .field("secret", &"<redacted>")
            .field("login", &self.login)
            .field("quota", &self.quota)
            .field("revoked", &self.revoked)
            .finish()
    }
}

/// A login made from a hash of the secret. Short secrets could appear inside any name, so
/// salted variants are tried until one does not contain the secret.
fn derived_login(secret: &str) -> String {
    let mut candidate = String::new();
    for salt in 0..64u8 {
        let number = stable_hash(&[&[salt], secret.as_bytes()]) % 1_000_000_000;
        for login in [format!("user-{number}"), format!("ID{number}")] {
            if secret.is_empty() || !login.contains(secret) {
                return login;
            }
            candidate = login;
        }
    }
    candidate
}

/// The status of a primary rate-limit answer: GitHub documents both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrimaryStatus {
    /// `403 Forbidden`, what GitHub usually sends.
    Forbidden403,
    /// `429 Too Many Requests`.
    TooMany429,
}

impl PrimaryStatus {
    /// The numeric HTTP status.
    pub fn code(self) -> u16 {
        match self {
            PrimaryStatus::Forbidden403 => 403,
            PrimaryStatus::TooMany429 => 429,
        }
    }
}

/// A user or organisation of the emulated world and how many repositories it owns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnerSpec {
    /// The account name, as in `/users/{login}`.
    pub login: String,
    /// How many repositories it owns.
    pub repos: usize,
    /// Organisations answer `/orgs/{login}/repos` and have type `Organization`.
    pub is_org: bool,
}

impl OwnerSpec {
    fn user(login: &str, repos: usize) -> Self {
        OwnerSpec {
            login: login.to_string(),
            repos,
            is_org: false,
        }
    }

    fn org(login: &str, repos: usize) -> Self {
        OwnerSpec {
            login: login.to_string(),
            repos,
            is_org: true,
        }
    }
}

/// Settings of an emulator; see [`Config::default`] for the defaults.
#[derive(Clone, Debug)]
pub struct Config {
    /// The tokens it accepts.
    pub tokens: Vec<TokenSpec>,
    /// Length of a rate-limit window, counted from the first counted request in it.
    pub window: Duration,
    /// Per-token quota of the `search` resource.
    pub search_quota: u32,
    /// Quota of the `core` resource shared by all requests without a token.
    pub unauthenticated_quota: u32,
    /// Status of primary rate-limit answers.
    pub primary_status: PrimaryStatus,
    /// Added before answering every request.
    pub delay: Duration,
    /// Server clock = real clock + this, for `Date` and reset values.
    pub clock_offset_secs: i64,
    /// The server stops by itself this long after it started.
    pub lifetime: Option<Duration>,
    /// The users and organisations it serves.
    pub owners: Vec<OwnerSpec>,
    /// Faults to inject, and whether to log arrivals; none by default.
    pub faults: Faults,
}

impl Default for Config {
    /// No tokens, one-hour windows, search quota 30, unauthenticated quota 60, 403 primary
    /// limits, no delay, no clock offset, no lifetime, [`Config::default_owners`] and no
    /// faults.
    fn default() -> Self {
        Config {
            tokens: Vec::new(),
            window: Duration::from_secs(3600),
            search_quota: 30,
            unauthenticated_quota: 60,
            primary_status: PrimaryStatus::Forbidden403,
            delay: Duration::ZERO,
            clock_offset_secs: 0,
            lifetime: None,
            owners: Config::default_owners(),
            faults: Faults::default(),
        }
    }
}

impl Config {
    /// The standard world: `octocat` (8 repositories, among them `Hello-World` and `empty`),
    /// `torvalds` (7), `gvanrossum` (5), `kennethreitz` (12), `yyx990803` (9), `kohsuke` (30),
    /// the organisation `bigorg` (250), `emptyuser` (0) and `bigcontrib` (1 repository, `many`,
    /// with 250 contributors).
    pub fn default_owners() -> Vec<OwnerSpec> {
        vec![
            OwnerSpec::user("octocat", 8),
            OwnerSpec::user("torvalds", 7),
            OwnerSpec::user("gvanrossum", 5),
            OwnerSpec::user("kennethreitz", 12),
            OwnerSpec::user("yyx990803", 9),
            OwnerSpec::user("kohsuke", 30),
            OwnerSpec::org("bigorg", 250),
            OwnerSpec::user("emptyuser", 0),
            OwnerSpec::user("bigcontrib", 1),
        ]
    }

    /// The demo setup: tokens `demo_token_alpha` and `demo_token_bravo` with a quota of 2,
    /// `demo_token_revoked` revoked, and 8-second windows.
    pub fn demo() -> Config {
        Config {
            tokens: vec![
                TokenSpec::new("demo_token_alpha", 2).login("demo-alpha"),
                TokenSpec::new("demo_token_bravo", 2).login("demo-bravo"),
                TokenSpec::new("demo_token_revoked", 5000)
                    .login("demo-revoked")
                    .revoked(),
            ],
            window: Duration::from_secs(8),
            ..Config::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_logins_are_stable_and_hide_the_secret() {
        let spec = TokenSpec::new("ghp_secret_value", 10);
        assert_eq!(spec.login, TokenSpec::new("ghp_secret_value", 1).login);
        assert!(spec.login.starts_with("user-"));
        assert_ne!(spec.login, TokenSpec::new("ghp_other_value", 10).login);
        for short in ["1", "7", "u", "s", "-", "user", "I"] {
            assert!(!TokenSpec::new(short, 1).login.contains(short), "{short}");
        }
    }

    #[test]
    fn debug_redacts_the_secret() {
        let config = Config {
            tokens: vec![TokenSpec::new("ghp_hidden", 5)],
            ..Config::default()
        };
        let text = format!("{config:?}");
        assert!(!text.contains("ghp_hidden"));
        assert!(text.contains("<redacted>"));
    }

    #[test]
    fn demo_matches_the_demo_tokens() {
        let demo = Config::demo();
        let mut secrets: Vec<&str> = demo.tokens.iter().map(|t| t.secret.as_str()).collect();
        secrets.sort_unstable();
        let mut expected = DEMO_TOKENS.to_vec();
        expected.sort_unstable();
        assert_eq!(secrets, expected);
        let revoked: Vec<&str> = demo
            .tokens
            .iter()
            .filter(|t| t.revoked)
            .map(|t| t.secret.as_str())
            .collect();
        assert_eq!(revoked, [DEMO_TOKENS[0]]);
        assert_eq!(demo.window, Duration::from_secs(8));
    }
}
