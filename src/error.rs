//! The crate's error type. Messages name tokens by fingerprint at most and
//! never contain a secret.

use std::time::Duration;

/// Everything that can go wrong in the pool or the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// An argument was rejected before anything was sent.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// The credentials were refused (401), or no usable token is left.
    #[error("authentication failed: {0}")]
    Auth(String),

    /// Every token is spent for `resource` until `reset` (Unix seconds).
    #[error("rate limited on {resource} until {reset} (unix time)")]
    RateLimited {
        /// The earliest time a token becomes usable again, Unix seconds.
        reset: u64,
        /// The rate-limit resource that is spent (`core`, `search`, ...).
        resource: String,
    },

    /// GitHub's secondary limit, with its advice on how long to wait.
    #[error("secondary rate limit: retry after {retry_after} s")]
    SecondaryLimited {
        /// Seconds to wait.
        retry_after: u64,
    },

    /// 404.
    #[error("not found: {0}")]
    NotFound(String),

    /// A 403 that is not a rate limit (no permission, list too large, ...).
    #[error("forbidden: {message}")]
    Forbidden {
        /// GitHub's message.
        message: String,
    },

    /// Any other unexpected HTTP status.
    #[error("HTTP {status}: {message}")]
    Http {
        /// The status code.
        status: u16,
        /// GitHub's message, or a description.
        message: String,
    },

    /// The connection failed or broke.
    #[error("network error: {0}")]
    Network(String),

    /// A body could not be decoded into the expected model.
    #[error("could not decode the response: {0}")]
    Decode(String),

    /// The request took longer than the configured timeout.
    #[error("timed out: {0}")]
    Timeout(String),

    /// The caller cancelled the call.
    #[error("cancelled")]
    Cancelled,

    /// A file could not be read, written or locked.
    #[error("file error: {0}")]
    Io(String),

    /// A credential store failed authentication: a wrong password or key,
    /// or a file changed since it was written.
    #[error("{0}")]
    Crypto(String),

    /// A file is not a credential store, is truncated, or has a version
    /// this library cannot read.
    #[error("{0}")]
    Format(String),
}

impl Error {
    /// How long the error suggests waiting before trying again, if it says.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::SecondaryLimited { retry_after } => Some(Duration::from_secs(*retry_after)),
            _ => None,
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
