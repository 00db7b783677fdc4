//! Token secrets: wiped on drop, never printed, named by a fingerprint.

use std::fmt;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// A token's secret. Its memory is wiped when the last copy is dropped, and
/// its `Debug` output shows only the fingerprint.
///
/// The digest is worked out when asked for rather than kept: the pool holds
/// every secret, and 32 bytes a token is a tenth of its memory per token.
pub struct Secret {
    value: Zeroizing<String>,
}

impl Secret {
    /// Wraps a secret.
    pub fn new(value: &str) -> Secret {
        Secret {
            value: Zeroizing::new(value.to_string()),
        }
    }

    /// The secret itself, for the `Authorization` header and nothing else.
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// SHA-256 of the secret: the pool's key for "the same token".
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.value.as_bytes()).into()
    }

    /// The short public name of this token.
    pub fn fingerprint(&self) -> String {
        fingerprint_of_digest(&self.digest())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.fingerprint())
    }
}

/// A token as a caller hands it over (for example in
/// [`ClientOptions`](crate::ClientOptions)): its memory is wiped when it is
/// dropped, and `Debug` shows only its fingerprint.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretToken(Zeroizing<String>);

impl SecretToken {
    /// The token itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for SecretToken {
    fn from(value: &str) -> Self {
        SecretToken(Zeroizing::new(value.to_string()))
    }
}

impl From<String> for SecretToken {
    fn from(value: String) -> Self {
        SecretToken(Zeroizing::new(value))
    }
}

impl fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretToken({})", fingerprint(&self.0))
    }
}

/// The fingerprint of a secret: the first 12 hex digits of its SHA-256.
/// Stable across runs and machines, and reveals nothing of the secret.
pub fn fingerprint(secret: &str) -> String {
    fingerprint_of_digest(&Sha256::digest(secret.as_bytes()).into())
}

fn fingerprint_of_digest(digest: &[u8; 32]) -> String {
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks that a secret can travel in an HTTP header: non-empty, printable
/// ASCII without spaces, at most 1024 bytes. The error never quotes the secret.
pub fn check_secret(value: &str) -> Result<(), &'static str> {
    if value.is_empty() {
        return Err("the token is empty");
    }
    if value.len() > 1024 {
        return Err("the token is longer than 1024 bytes");
    }
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("the token contains whitespace, control or non-ASCII characters");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_fingerprint_not_secret() {
        let secret = Secret::new("ghp_supersecretvalue123");
        let shown = format!("{secret:?}");
        assert!(!shown.contains("supersecret"));
        assert!(shown.contains(&fingerprint("ghp_supersecretvalue123")));
    }

    #[test]
    fn fingerprint_is_short_stable_and_distinct() {
        assert_eq!(fingerprint("a").len(), 12);
        assert_eq!(fingerprint("a"), fingerprint("a"));
        assert_ne!(fingerprint("a"), fingerprint("b"));
    }

    #[test]
    fn header_unsafe_secrets_are_refused() {
        assert!(check_secret("").is_err());
        assert!(check_secret("abc\r\nX-Evil: 1").is_err());
        assert!(check_secret("with space").is_err());
        assert!(check_secret("tökén").is_err());
        assert!(check_secret("ghp_ok").is_ok());
    }
}
