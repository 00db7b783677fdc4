//! An encrypted, file-backed store of credentials.
//!
//! Tokens are kept encrypted at rest with XChaCha20-Poly1305; the key is
//! derived from a password with Argon2id (parameters and salt in the file)
//! or given as 32 raw bytes. There is no unencrypted mode. The format is
//! described in [`format`].
//!
//! Every operation reads the file, changes it and writes it back under an
//! exclusive lock on a sidecar `.lock` file, so two processes saving at once
//! lose nothing. Writes go to a temporary file that is synced and renamed
//! over the old one: a crash leaves the old file or the new one, never a
//! torn one. New files are created owner-only (0600).

pub mod format;
#[cfg(test)]
mod tests;

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Error, Result};
use crate::pool::{check_secret, fingerprint, Provider, SecretToken, TokenManager};
pub use format::KdfParams;
use format::{Header, KeySource, HEADER_LEN, NONCE_LEN, SALT_LEN};

/// Length of a raw key.
pub const KEY_LEN: usize = 32;

/// One stored credential, secret included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// The provider the token is for.
    pub provider: Provider,
    /// The token.
    pub token: SecretToken,
    /// The account it belongs to, if known.
    pub username: Option<String>,
    /// The host, for GitHub Enterprise and the like (`None`: the public one).
    pub host: Option<String>,
    /// When it was first saved, Unix seconds.
    pub added_at: u64,
}

/// What `list` shows of a credential: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CredentialInfo {
    /// The token's fingerprint (see [`fingerprint`]).
    pub fingerprint: String,
    /// The provider.
    pub provider: Provider,
    /// The account, if known.
    pub username: Option<String>,
    /// The host, if not the public one.
    pub host: Option<String>,
    /// When it was first saved, Unix seconds.
    pub added_at: u64,
}

/// A credential as it is written inside the encrypted document. Its token
/// is wiped when it is dropped.
#[derive(Serialize, Deserialize)]
struct Stored {
    provider: Provider,
    token: String,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    host: Option<String>,
    added_at: u64,
}

impl Drop for Stored {
    fn drop(&mut self) {
        self.token.zeroize();
    }
}

#[derive(Serialize, Deserialize, Default)]
struct Document {
    credentials: Vec<Stored>,
}

/// An open credential store: its path and the key that opens it.
///
/// Each method reads and rewrites the file under a lock, so several
/// `CredentialStore`s (in one process or many) can share a file. A store
/// is `Send + Sync`; its methods take `&self` except
/// [`CredentialStore::change_password`].
pub struct CredentialStore {
    path: PathBuf,
    source: KeySource,
    key: Zeroizing<[u8; KEY_LEN]>,
}

impl fmt::Debug for CredentialStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl CredentialStore {
    /// Creates an empty store at `path`, encrypted with a key derived from
    /// `password` by Argon2id with `params` (use `KdfParams::default()`).
    /// Fails if the file exists.
    pub fn create(path: impl AsRef<Path>, password: &[u8], params: KdfParams) -> Result<Self> {
        check_path(path.as_ref())?;
        check_password(password)?;
        let params = params.check()?;
        let mut salt = [0u8; SALT_LEN];
        random(&mut salt)?;
        let source = KeySource::Password(params, salt);
        let key = derive_key(password, params, &salt)?;
        Self::create_with(path.as_ref(), source, key)
    }

    /// Creates an empty store at `path` encrypted with a raw 32-byte key.
    /// Fails if the file exists.
    pub fn create_with_key(path: impl AsRef<Path>, key: &[u8; KEY_LEN]) -> Result<Self> {
        check_path(path.as_ref())?;
        Self::create_with(path.as_ref(), KeySource::RawKey, Zeroizing::new(*key))
    }

    fn create_with(path: &Path, source: KeySource, key: Zeroizing<[u8; KEY_LEN]>) -> Result<Self> {
        let store = CredentialStore {
            path: resolve(path)?,
            source,
            key,
        };
        let path = store.path.as_path();
        let _lock = store.lock()?;
        if path.exists() {
            return Err(Error::Io(format!("{} already exists", path.display())));
        }
        store.write(&Document::default())?;
        Ok(store)
    }

    /// Opens the store at `path` with its password. A wrong password gives
    /// [`Error::Crypto`], a file that is not a store [`Error::Format`].
    pub fn open(path: impl AsRef<Path>, password: &[u8]) -> Result<Self> {
        let path = &resolve(path.as_ref())?;
        let header = Header::decode(&read_file(path)?)?;
        let KeySource::Password(params, salt) = header.source else {
            return Err(Error::InvalidArgument(
                "this store was created with a raw key, not a password".into(),
            ));
        };
        let store = CredentialStore {
            path: path.to_path_buf(),
            source: header.source,
            key: derive_key(password, params, &salt)?,
        };
        store.read_locked()?;
        Ok(store)
    }

    /// Opens the store at `path` with its raw key.
    pub fn open_with_key(path: impl AsRef<Path>, key: &[u8; KEY_LEN]) -> Result<Self> {
        let path = &resolve(path.as_ref())?;
        let header = Header::decode(&read_file(path)?)?;
        if header.source != KeySource::RawKey {
            return Err(Error::InvalidArgument(
                "this store was created with a password, not a raw key".into(),
            ));
        }
        let store = CredentialStore {
            path: path.to_path_buf(),
            source: KeySource::RawKey,
            key: Zeroizing::new(*key),
        };
        store.read_locked()?;
        Ok(store)
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Saves a credential. Saving a token already stored for the same
    /// provider replaces its username and host and keeps its `added_at`.
    /// Returns the token's fingerprint.
    pub fn save(
        &self,
        provider: Provider,
        token: &str,
        username: Option<&str>,
        host: Option<&str>,
    ) -> Result<String> {
        check_secret(token).map_err(|why| Error::InvalidArgument(why.into()))?;
        self.update(|document| {
            let existing = document
                .credentials
                .iter_mut()
                .find(|c| c.provider == provider && c.token == token);
            match existing {
                Some(stored) => {
                    stored.username = username.map(str::to_string);
                    stored.host = host.map(str::to_string);
                }
                None => document.credentials.push(Stored {
                    provider,
                    token: token.to_string(),
                    username: username.map(str::to_string),
                    host: host.map(str::to_string),
                    added_at: unix_now(),
                }),
            }
            Ok(())
        })?;
        Ok(fingerprint(token))
    }

    /// Every credential, without secrets, in the order saved.
    pub fn list(&self) -> Result<Vec<CredentialInfo>> {
        let document = self.read_locked()?;
        Ok(document
            .credentials
            .iter()
            .map(|c| CredentialInfo {
                fingerprint: fingerprint(&c.token),
                provider: c.provider,
                username: c.username.clone(),
                host: c.host.clone(),
                added_at: c.added_at,
            })
            .collect())
    }

    /// The credential with this fingerprint, secret included.
    pub fn get(&self, fingerprint_of_token: &str) -> Result<Option<Credential>> {
        let document = self.read_locked()?;
        Ok(document
            .credentials
            .iter()
            .find(|c| fingerprint(&c.token) == fingerprint_of_token)
            .map(|c| Credential {
                provider: c.provider,
                token: SecretToken::from(c.token.as_str()),
                username: c.username.clone(),
                host: c.host.clone(),
                added_at: c.added_at,
            }))
    }

    /// Removes the credential with this fingerprint; false if none had it.
    pub fn remove(&self, fingerprint_of_token: &str) -> Result<bool> {
        let mut removed = false;
        self.update(|document| {
            let before = document.credentials.len();
            document
                .credentials
                .retain(|c| fingerprint(&c.token) != fingerprint_of_token);
            removed = document.credentials.len() != before;
            Ok(())
        })?;
        Ok(removed)
    }

    /// Removes every credential.
    pub fn clear(&self) -> Result<()> {
        self.update(|document| {
            document.credentials.clear();
            Ok(())
        })
    }

    /// Re-encrypts the store under a new password (a new salt, the default
    /// Argon2id parameters unless `params` says otherwise). Other handles on
    /// the same file must be opened again afterwards.
    pub fn change_password(&mut self, new_password: &[u8], params: KdfParams) -> Result<()> {
        check_password(new_password)?;
        let params = params.check()?;
        let _lock = self.lock()?;
        let document = self.read()?;

        let mut salt = [0u8; SALT_LEN];
        random(&mut salt)?;
        let key = derive_key(new_password, params, &salt)?;
        let mut changed = CredentialStore {
            path: self.path.clone(),
            source: KeySource::Password(params, salt),
            key,
        };
        changed.write(&document)?;
        std::mem::swap(self, &mut changed);
        Ok(())
    }

    /// Adds every stored token to `manager` (with its username); returns
    /// how many there were.
    pub fn load_into(&self, manager: &TokenManager) -> Result<usize> {
        let document = self.read_locked()?;
        for credential in &document.credentials {
            manager.add_token(
                credential.provider,
                &credential.token,
                credential.username.as_deref(),
                0,
            )?;
        }
        Ok(document.credentials.len())
    }

    // ---- file plumbing -------------------------------------------------

    /// Runs `change` on the current document and writes the result, all
    /// under the lock.
    fn update(&self, change: impl FnOnce(&mut Document) -> Result<()>) -> Result<()> {
        let _lock = self.lock()?;
        let mut document = self.read()?;
        change(&mut document)?;
        self.write(&document)
    }

    /// Reads under the lock. Where the lock file cannot be created (a
    /// read-only directory), reads without it: a reader sees the old file
    /// or the new one anyway, since writers rename.
    fn read_locked(&self) -> Result<Document> {
        match self.lock() {
            Ok(_lock) => self.read(),
            Err(_) if !sidecar(&self.path, ".lock").exists() => self.read(),
            Err(error) => Err(error),
        }
    }

    /// An exclusive lock on `<path>.lock`, held until the file is dropped.
    fn lock(&self) -> Result<File> {
        let lock_path = sidecar(&self.path, ".lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&lock_path)
            .map_err(|e| io_error("cannot open the lock file", &lock_path, e))?;
        file.lock()
            .map_err(|e| io_error("cannot lock", &lock_path, e))?;
        Ok(file)
    }

    fn read(&self) -> Result<Document> {
        let bytes = read_file(&self.path)?;
        let header = Header::decode(&bytes)?;
        if header.source != self.source {
            return Err(Error::Crypto(
                "the store was re-keyed by another handle; open it again".into(),
            ));
        }
        let cipher = XChaCha20Poly1305::new(self.key.as_ref().into());
        let plaintext = cipher
            .decrypt(
                XNonce::from_slice(&header.nonce),
                Payload {
                    msg: &bytes[HEADER_LEN..],
                    aad: &bytes[..HEADER_LEN],
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| {
                Error::Crypto(
                    "cannot decrypt the credential store: wrong password or key, \
                     or the file was changed"
                        .into(),
                )
            })?;
        // Limitation: a token with a `"` or a `\` in it (GitHub's never do)
        // is unescaped in serde_json's scratch buffer, freed without a wipe.
        serde_json::from_slice(&plaintext)
            .map_err(|_| Error::Format("the credential store's contents are not readable".into()))
    }

    fn write(&self, document: &Document) -> Result<()> {
        let mut nonce = [0u8; NONCE_LEN];
        random(&mut nonce)?;
        let header = Header {
            source: self.source,
            nonce,
        }
        .encode();
        let mut plaintext = WipingBuffer::default();
        serde_json::to_writer(&mut plaintext, document)
            .map_err(|e| Error::Format(e.to_string()))?;
        let plaintext = plaintext.0;
        let cipher = XChaCha20Poly1305::new(self.key.as_ref().into());
        let ciphertext = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &plaintext,
                    aad: &header,
                },
            )
            .map_err(|_| Error::Crypto("encryption failed".into()))?;

        let mut bytes = Vec::with_capacity(HEADER_LEN + ciphertext.len());
        bytes.extend_from_slice(&header);
        bytes.extend_from_slice(&ciphertext);
        write_atomically(&self.path, &bytes)
    }
}

/// A growing buffer for the plaintext document. `serde_json::to_vec` leaves
/// a copy of what it has written so far in every block it outgrows; this
/// wipes each block it leaves behind, and the last one when dropped.
#[derive(Default)]
struct WipingBuffer(Zeroizing<Vec<u8>>);

impl Write for WipingBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let needed = self.0.len() + bytes.len();
        if needed > self.0.capacity() {
            let mut grown = Vec::with_capacity(needed.max(2 * self.0.capacity()).max(512));
            grown.extend_from_slice(&self.0);
            // The old block is wiped as its `Zeroizing` is dropped here.
            self.0 = Zeroizing::new(grown);
        }
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes `bytes` to a fresh owner-only temporary file beside `path`, syncs
/// it, renames it over `path`, and syncs the directory.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut suffix = [0u8; 8];
    random(&mut suffix)?;
    let suffix: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    let temporary = sidecar(path, &format!(".tmp-{suffix}"));

    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(error) = written {
        let _ = fs::remove_file(&temporary);
        return Err(io_error("cannot write", &temporary, error));
    }
    keep_owner(path, &temporary);
    #[cfg(test)]
    if tests::crash_before_rename() {
        return Err(Error::Io("simulated crash before the rename".into()));
    }
    fs::rename(&temporary, path).map_err(|e| {
        let _ = fs::remove_file(&temporary);
        io_error("cannot replace", path, e)
    })?;
    let directory = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Ok(directory) = File::open(directory.unwrap_or(Path::new("."))) {
        let _ = directory.sync_all();
    }
    Ok(())
}

/// Gives the replacement the owner of the file it replaces, so that root
/// saving into a user's store (sudo) leaves it the user's. Only root can
/// change owners; for anyone else the new file is already theirs.
fn keep_owner(path: &Path, replacement: &Path) {
    use std::os::unix::fs::MetadataExt;
    if let Ok(old) = fs::metadata(path) {
        let _ = std::os::unix::fs::chown(replacement, Some(old.uid()), Some(old.gid()));
    }
}

fn check_path(path: &Path) -> Result<()> {
    if path.as_os_str().is_empty() {
        return Err(Error::InvalidArgument("the path is empty".into()));
    }
    Ok(())
}

/// The real location of a store: symbolic links followed, so that a save
/// through a link replaces the target (and shares its lock) rather than
/// the link. A file that does not exist yet resolves through its directory.
fn resolve(path: &Path) -> Result<PathBuf> {
    check_path(path)?;
    if let Ok(real) = fs::canonicalize(path) {
        return Ok(real);
    }
    let name = path
        .file_name()
        .ok_or_else(|| Error::InvalidArgument("the path names no file".into()))?;
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let directory =
        fs::canonicalize(directory).map_err(|e| io_error("cannot find", directory, e))?;
    Ok(directory.join(name))
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|e| io_error("cannot read", path, e))
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn io_error(what: &str, path: &Path, error: std::io::Error) -> Error {
    Error::Io(format!("{what} {}: {error}", path.display()))
}

fn check_password(password: &[u8]) -> Result<()> {
    if password.is_empty() {
        return Err(Error::InvalidArgument("the password is empty".into()));
    }
    Ok(())
}

fn derive_key(
    password: &[u8],
    params: KdfParams,
    salt: &[u8; SALT_LEN],
) -> Result<Zeroizing<[u8; KEY_LEN]>> {
    let params = Params::new(
        params.memory_kib,
        params.iterations,
        params.lanes,
        Some(KEY_LEN),
    )
    .map_err(|e| Error::InvalidArgument(format!("Argon2id parameters: {e}")))?;
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(password, salt, key.as_mut())
        .map_err(|e| Error::Crypto(format!("key derivation failed: {e}")))?;
    Ok(key)
}

fn random(buffer: &mut [u8]) -> Result<()> {
    getrandom::getrandom(buffer)
        .map_err(|e| Error::Io(format!("the system random source failed: {e}")))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
