//! The credential store's file format, version 1.
//!
//! ```text
//! offset size  field
//!      0    8  magic "GFLTSTOR"
//!      8    1  format version (1)
//!      9    1  key source: 1 = Argon2id from a password, 2 = raw 32-byte key
//!     10    2  reserved, zero
//!     12    4  Argon2id memory in KiB (little endian; 0 with a raw key)
//!     16    4  Argon2id iterations     (0 with a raw key)
//!     20    4  Argon2id lanes          (0 with a raw key)
//!     24   16  salt                    (zero with a raw key)
//!     40   24  XChaCha20-Poly1305 nonce, fresh for every write
//!     64    …  ciphertext of the JSON document, then its 16-byte tag
//! ```
//!
//! The 64-byte header is the AEAD's associated data, so a change to any byte
//! of the file fails authentication. The plaintext is
//! `{"credentials": [{"provider", "token", "username", "host", "added_at"}]}`.

use crate::error::{Error, Result};

/// The first bytes of every store file.
pub const MAGIC: &[u8; 8] = b"GFLTSTOR";
/// The version this code writes and reads.
pub const VERSION: u8 = 1;
/// Length of the header, which is also the associated data.
pub const HEADER_LEN: usize = 64;
/// Length of the authentication tag after the ciphertext.
pub const TAG_LEN: usize = 16;
/// Length of the salt.
pub const SALT_LEN: usize = 16;
/// Length of the nonce.
pub const NONCE_LEN: usize = 24;

/// Bounds on the Argon2id parameters, checked when a store is created and
/// when a file is read. The upper ones keep a crafted file from making
/// opening it take all memory or minutes (at most ~2 s here); the lower
/// ones are OWASP's floor for Argon2id (19 MiB with 2 passes, or the same
/// product of memory and passes with at least 7 MiB).
const MAX_MEMORY_KIB: u32 = 256 * 1024;
const MAX_ITERATIONS: u32 = 10;
const MAX_LANES: u32 = 8;
const MIN_MEMORY_KIB: u32 = 7 * 1024;
const MIN_MEMORY_PASSES_KIB: u64 = 38 * 1024;

/// Where the encryption key comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// Argon2id over a password, with these parameters and salt.
    Password(KdfParams, [u8; SALT_LEN]),
    /// A raw 32-byte key given by the caller.
    RawKey,
}

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory, in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Degree of parallelism.
    pub lanes: u32,
}

impl Default for KdfParams {
    /// 64 MiB, 3 passes, 1 lane: RFC 9106's second recommended setting,
    /// above OWASP's minimum for Argon2id.
    fn default() -> Self {
        KdfParams {
            memory_kib: 64 * 1024,
            iterations: 3,
            lanes: 1,
        }
    }
}

impl KdfParams {
    /// Refuses parameters too weak to protect a password or too large to
    /// compute.
    pub fn check(self) -> Result<KdfParams> {
        let work = u64::from(self.memory_kib) * u64::from(self.iterations);
        let ok = (MIN_MEMORY_KIB.max(8 * self.lanes)..=MAX_MEMORY_KIB).contains(&self.memory_kib)
            && (1..=MAX_ITERATIONS).contains(&self.iterations)
            && (1..=MAX_LANES).contains(&self.lanes)
            && work >= MIN_MEMORY_PASSES_KIB;
        if ok {
            Ok(self)
        } else {
            Err(Error::InvalidArgument(format!(
                "Argon2id parameters out of range: {} KiB, {} iterations, {} lanes",
                self.memory_kib, self.iterations, self.lanes
            )))
        }
    }
}

/// A parsed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub source: KeySource,
    pub nonce: [u8; NONCE_LEN],
}

impl Header {
    /// The 64 header bytes.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut bytes = [0u8; HEADER_LEN];
        bytes[..8].copy_from_slice(MAGIC);
        bytes[8] = VERSION;
        match self.source {
            KeySource::Password(params, salt) => {
                bytes[9] = 1;
                bytes[12..16].copy_from_slice(&params.memory_kib.to_le_bytes());
                bytes[16..20].copy_from_slice(&params.iterations.to_le_bytes());
                bytes[20..24].copy_from_slice(&params.lanes.to_le_bytes());
                bytes[24..40].copy_from_slice(&salt);
            }
            KeySource::RawKey => bytes[9] = 2,
        }
        bytes[40..64].copy_from_slice(&self.nonce);
        bytes
    }

    /// Reads the header of a whole file, checking everything that can be
    /// checked before decryption.
    pub fn decode(file: &[u8]) -> Result<Header> {
        if file.len() < MAGIC.len() || &file[..MAGIC.len()] != MAGIC {
            return Err(Error::Format("not a gitfleet credential store".into()));
        }
        if file.len() < HEADER_LEN + TAG_LEN {
            return Err(Error::Format("the credential store is truncated".into()));
        }
        if file[8] != VERSION {
            return Err(Error::Format(format!(
                "credential store format version {} is not supported (this is version {VERSION})",
                file[8]
            )));
        }
        if file[10..12] != [0, 0] {
            return Err(Error::Format(
                "the credential store header is damaged".into(),
            ));
        }

        let word =
            |at: usize| u32::from_le_bytes([file[at], file[at + 1], file[at + 2], file[at + 3]]);
        let source = match file[9] {
            1 => {
                let params = KdfParams {
                    memory_kib: word(12),
                    iterations: word(16),
                    lanes: word(20),
                };
                let params = params.check().map_err(|_| {
                    Error::Format("the credential store asks for impossible key derivation".into())
                })?;
                let mut salt = [0u8; SALT_LEN];
                salt.copy_from_slice(&file[24..40]);
                KeySource::Password(params, salt)
            }
            2 if file[12..40].iter().all(|&b| b == 0) => KeySource::RawKey,
            _ => {
                return Err(Error::Format(
                    "the credential store header is damaged".into(),
                ))
            }
        };
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&file[40..64]);
        Ok(Header { source, nonce })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Header {
        Header {
            source: KeySource::Password(KdfParams::default(), [7; SALT_LEN]),
            nonce: [9; NONCE_LEN],
        }
    }

    #[test]
    fn header_round_trips() {
        let mut file = sample().encode().to_vec();
        file.extend_from_slice(&[0; TAG_LEN]);
        assert_eq!(Header::decode(&file).unwrap(), sample());
    }

    #[test]
    fn foreign_truncated_and_future_files_are_refused() {
        assert!(matches!(
            Header::decode(b"{\"json\": true}"),
            Err(Error::Format(_))
        ));
        assert!(matches!(
            Header::decode(&sample().encode()),
            Err(Error::Format(_))
        ));
        let mut future = sample().encode().to_vec();
        future.extend_from_slice(&[0; TAG_LEN]);
        future[8] = 2;
        match Header::decode(&future) {
            Err(Error::Format(message)) => assert!(message.contains("version 2")),
            other => panic!("expected a format error, got {other:?}"),
        }
    }

    #[test]
    fn absurd_kdf_parameters_are_refused() {
        let mut file = sample().encode().to_vec();
        file.extend_from_slice(&[0; TAG_LEN]);
        file[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(Header::decode(&file), Err(Error::Format(_))));
    }
}
