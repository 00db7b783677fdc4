//! Tests of the credential store on real files in a temporary directory.

use std::cell::Cell;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use super::*;

thread_local! {
    static CRASH_BEFORE_RENAME: Cell<bool> = const { Cell::new(false) };
}

/// Whether the next atomic write on this thread should stop where a crash
/// between the write and the rename would.
pub(super) fn crash_before_rename() -> bool {
    CRASH_BEFORE_RENAME.with(|crash| crash.replace(false))
}

/// The cheapest parameters allowed: the tests are about the file, not the
/// KDF's cost.
const FAST: KdfParams = KdfParams {
    memory_kib: 19 * 1024,
    iterations: 2,
    lanes: 1,
};

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let mut suffix = [0u8; 6];
        random(&mut suffix).unwrap();
        let suffix: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
        let dir = std::env::temp_dir().join(format!("gitfleet-store-{name}-{suffix}"));
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// How many credentials a fresh handle on `path` sees.
fn count_at(path: &Path, password: &[u8]) -> usize {
    CredentialStore::open(path, password)
        .unwrap()
        .list()
        .unwrap()
        .len()
}

fn filled(dir: &TempDir) -> (PathBuf, CredentialStore) {
    let path = dir.file("tokens.gfs");
    let store = CredentialStore::create(&path, b"correct horse", FAST).unwrap();
    store
        .save(Provider::GitHub, "ghp_storetokenAAAA", Some("alice"), None)
        .unwrap();
    store
        .save(
            Provider::GitLab,
            "glpat_storetokenBBBB",
            None,
            Some("gitlab.example.com"),
        )
        .unwrap();
    (path, store)
}

#[test]
fn round_trip() {
    let dir = TempDir::new("roundtrip");
    let (path, store) = filled(&dir);

    let listed = store.list().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].fingerprint, fingerprint("ghp_storetokenAAAA"));
    assert_eq!(listed[0].username.as_deref(), Some("alice"));
    assert_eq!(listed[1].host.as_deref(), Some("gitlab.example.com"));
    assert!(!format!("{listed:?}").contains("storetoken"));

    let reopened = CredentialStore::open(&path, b"correct horse").unwrap();
    let got = reopened
        .get(&fingerprint("glpat_storetokenBBBB"))
        .unwrap()
        .unwrap();
    assert_eq!(got.token.expose(), "glpat_storetokenBBBB");
    assert_eq!(got.provider, Provider::GitLab);
    assert!(reopened.get("000000000000").unwrap().is_none());

    let manager = TokenManager::new();
    assert_eq!(reopened.load_into(&manager).unwrap(), 2);
    assert_eq!(manager.snapshot().len(), 2);
    assert_eq!(manager.snapshot()[0].username.as_deref(), Some("alice"));
}

#[test]
fn the_file_holds_no_secret_in_the_clear() {
    let dir = TempDir::new("clear");
    let (path, _) = filled(&dir);
    let bytes = fs::read(&path).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains("storetoken") && !text.contains("alice"));
}

#[test]
fn saving_again_updates_and_remove_and_clear_work() {
    let dir = TempDir::new("update");
    let (path, store) = filled(&dir);
    store
        .save(Provider::GitHub, "ghp_storetokenAAAA", Some("alice2"), None)
        .unwrap();
    assert_eq!(store.list().unwrap().len(), 2);
    assert_eq!(store.list().unwrap()[0].username.as_deref(), Some("alice2"));

    assert!(store.remove(&fingerprint("ghp_storetokenAAAA")).unwrap());
    assert!(!store.remove(&fingerprint("ghp_storetokenAAAA")).unwrap());
    assert_eq!(count_at(&path, b"correct horse"), 1);

    store.clear().unwrap();
    assert!(store.list().unwrap().is_empty());
}

#[test]
fn a_wrong_password_is_refused() {
    let dir = TempDir::new("wrong");
    let (path, _) = filled(&dir);
    match CredentialStore::open(&path, b"Correct horse") {
        Err(Error::Crypto(message)) => assert!(message.contains("wrong password")),
        other => panic!("expected a crypto error, got {other:?}"),
    }
}

#[test]
fn every_single_byte_change_is_detected() {
    let dir = TempDir::new("bytes");
    let (path, store) = filled(&dir);
    let original = fs::read(&path).unwrap();

    for index in 0..original.len() {
        let mut changed = original.clone();
        changed[index] ^= 0x01;
        fs::write(&path, &changed).unwrap();
        // Reading with the key already derived checks every byte; opening
        // anew also re-derives the key from the (changed) header, which is
        // slow, so it is done for the header's bytes only.
        let read = store.list();
        assert!(
            matches!(read, Err(Error::Crypto(_) | Error::Format(_))),
            "a change of byte {index} went unnoticed: {read:?}"
        );
        if index < format::HEADER_LEN {
            let opened = CredentialStore::open(&path, b"correct horse");
            assert!(
                matches!(
                    opened,
                    Err(Error::Crypto(_) | Error::Format(_) | Error::InvalidArgument(_))
                ),
                "a change of header byte {index} went unnoticed: {opened:?}"
            );
        }
    }
}

#[test]
fn every_truncation_is_detected() {
    let dir = TempDir::new("truncate");
    let key = [42u8; KEY_LEN];
    let path = dir.file("raw.gfs");
    let store = CredentialStore::create_with_key(&path, &key).unwrap();
    store
        .save(Provider::GitHub, "ghp_rawkeytoken", None, None)
        .unwrap();
    let original = fs::read(&path).unwrap();

    for length in 0..original.len() {
        fs::write(&path, &original[..length]).unwrap();
        let result = CredentialStore::open_with_key(&path, &key);
        assert!(
            matches!(result, Err(Error::Crypto(_) | Error::Format(_))),
            "a file cut to {length} bytes opened: {result:?}"
        );
    }
    fs::write(&path, &original).unwrap();
    assert_eq!(
        CredentialStore::open_with_key(&path, &key)
            .unwrap()
            .list()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_foreign_file_is_refused_clearly() {
    let dir = TempDir::new("foreign");
    let path = dir.file("notes.txt");
    fs::write(
        &path,
        "just some text that is long enough to be a header and a tag, surely",
    )
    .unwrap();
    match CredentialStore::open(&path, b"pw") {
        Err(Error::Format(message)) => assert!(message.contains("not a gitfleet credential store")),
        other => panic!("expected a format error, got {other:?}"),
    }
    assert!(matches!(
        CredentialStore::open(dir.file("missing"), b"pw"),
        Err(Error::Io(_))
    ));
}

#[test]
fn a_crash_between_write_and_rename_leaves_the_old_file() {
    let dir = TempDir::new("crash");
    let (path, store) = filled(&dir);
    let before = fs::read(&path).unwrap();

    CRASH_BEFORE_RENAME.with(|crash| crash.set(true));
    assert!(store
        .save(Provider::GitHub, "ghp_neverlands", None, None)
        .is_err());

    assert_eq!(
        fs::read(&path).unwrap(),
        before,
        "the old file is untouched"
    );
    let reopened = CredentialStore::open(&path, b"correct horse").unwrap();
    assert_eq!(reopened.list().unwrap().len(), 2);
    store
        .save(Provider::GitHub, "ghp_afterwards", None, None)
        .unwrap();
    assert_eq!(reopened.list().unwrap().len(), 3, "later writes go through");
}

#[test]
fn new_files_are_owner_only() {
    let dir = TempDir::new("mode");
    let (path, _) = filled(&dir);
    for file in [path.clone(), sidecar(&path, ".lock")] {
        let mode = fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", file.display());
    }
}

#[test]
fn creating_over_an_existing_file_is_refused() {
    let dir = TempDir::new("exists");
    let (path, _) = filled(&dir);
    assert!(matches!(
        CredentialStore::create(&path, b"other", FAST),
        Err(Error::Io(_))
    ));
    assert_eq!(count_at(&path, b"correct horse"), 2);
}

#[test]
fn change_of_password() {
    let dir = TempDir::new("rekey");
    let (path, mut store) = filled(&dir);
    let stale = CredentialStore::open(&path, b"correct horse").unwrap();

    store.change_password(b"battery staple", FAST).unwrap();
    assert!(matches!(
        CredentialStore::open(&path, b"correct horse"),
        Err(Error::Crypto(_))
    ));
    let reopened = CredentialStore::open(&path, b"battery staple").unwrap();
    assert_eq!(reopened.list().unwrap().len(), 2);
    store
        .save(Provider::GitHub, "ghp_afterrekey", None, None)
        .unwrap();
    assert_eq!(reopened.list().unwrap().len(), 3);
    assert!(
        matches!(stale.list(), Err(Error::Crypto(_))),
        "an old handle must reopen"
    );
}

#[test]
fn keys_and_passwords_are_not_interchangeable() {
    let dir = TempDir::new("kinds");
    let (path, _) = filled(&dir);
    assert!(matches!(
        CredentialStore::open_with_key(&path, &[0; KEY_LEN]),
        Err(Error::InvalidArgument(_))
    ));
    let raw = dir.file("raw.gfs");
    CredentialStore::create_with_key(&raw, &[1; KEY_LEN]).unwrap();
    assert!(matches!(
        CredentialStore::open(&raw, b"pw"),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        CredentialStore::open_with_key(&raw, &[2; KEY_LEN]),
        Err(Error::Crypto(_))
    ));
}

#[test]
fn weak_or_empty_inputs_are_refused() {
    let dir = TempDir::new("weak");
    let weak = KdfParams {
        memory_kib: 1,
        iterations: 0,
        lanes: 1,
    };
    assert!(matches!(
        CredentialStore::create(dir.file("a"), b"pw", weak),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        CredentialStore::create(dir.file("b"), b"", FAST),
        Err(Error::InvalidArgument(_))
    ));
    let store = CredentialStore::create(dir.file("c"), b"pw", FAST).unwrap();
    assert!(matches!(
        store.save(Provider::GitHub, "has space", None, None),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn parameters_below_the_floor_or_above_the_ceiling_are_refused() {
    let dir = TempDir::new("bounds");
    for (memory_kib, iterations, lanes) in [
        (8, 1, 1),
        (7 * 1024, 1, 1),
        (512 * 1024, 1, 1),
        (19 * 1024, 11, 1),
    ] {
        let params = KdfParams {
            memory_kib,
            iterations,
            lanes,
        };
        assert!(
            matches!(
                CredentialStore::create(dir.file("x"), b"pw", params),
                Err(Error::InvalidArgument(_))
            ),
            "{params:?}"
        );
    }
    // A header asking for more than the ceiling is refused before any work.
    let (path, _) = filled(&dir);
    let mut bytes = fs::read(&path).unwrap();
    bytes[12..16].copy_from_slice(&(1024u32 * 1024).to_le_bytes());
    fs::write(&path, &bytes).unwrap();
    assert!(matches!(
        CredentialStore::open(&path, b"correct horse"),
        Err(Error::Format(_))
    ));
}

#[test]
fn a_symlinked_store_is_written_through_the_link() {
    let dir = TempDir::new("symlink");
    let (path, store) = filled(&dir);
    let link = dir.file("link.gfs");
    std::os::unix::fs::symlink(&path, &link).unwrap();

    let through_link = CredentialStore::open(&link, b"correct horse").unwrap();
    through_link
        .save(Provider::GitHub, "ghp_vialink", None, None)
        .unwrap();
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(store.list().unwrap().len(), 3, "the target got the entry");
}

#[test]
fn errors_never_repeat_what_was_asked_for() {
    let dir = TempDir::new("echo");
    let (_, store) = filled(&dir);
    assert!(store.get("ghp_storetokenAAAA").unwrap().is_none());
    assert!(!store.remove("ghp_storetokenAAAA").unwrap());
    assert!(matches!(
        CredentialStore::create("", b"pw", FAST),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        CredentialStore::open("", b"pw"),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn the_default_parameters_work() {
    let dir = TempDir::new("defaults");
    let path = dir.file("default.gfs");
    CredentialStore::create(&path, b"pw", KdfParams::default()).unwrap();
    let header = Header::decode(&fs::read(&path).unwrap()).unwrap();
    assert!(matches!(header.source, KeySource::Password(p, _) if p == KdfParams::default()));
    CredentialStore::open(&path, b"pw").unwrap();
}
