//! The credential store through the C ABI: hostile files, paths, keys,
//! fingerprints, tokens, usernames and hosts.
//!
//! Each input writes one file into a private temporary directory and opens
//! it with gf_store_open_with_key (a password would cost an Argon2id run
//! per input; gf_store_open is tried too, on files no password opens). The file is either arbitrary bytes, or a well-formed header
//! followed by a fuzzed document encrypted under the right key, so that
//! the document parser behind the AEAD is reached too. Then: list, get a
//! token by a fuzzed fingerprint, load into a pool, save and remove. The
//! header parser is also checked alone: what it accepts encodes back to
//! the same bytes. Paths are fuzzed inside the directory only. A store is
//! also created under a fuzzed key (gf_store_create_with_key).
//!
//! Limitation: gf_store_create, gf_store_create_with_params and
//! gf_store_change_password are not fuzzed: each runs Argon2id (tens of
//! milliseconds at the smallest parameters allowed) on every input.
//!
//! Checks: the common ones (no caught panic, an error exactly on failure,
//! no secret in a message); a file that is not a valid store fails with
//! FORMAT, CRYPTO, INVALID_ARGUMENT or IO, never opens; listings are JSON
//! arrays without a token; a token handed back is one the file holds; a
//! pool loaded from a store holds only well-formed tokens.

#![no_main]

mod common;

use std::ffi::{c_char, CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::ptr;
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use common::{c_string, check, secret, take_string, unmarked, MARK};
use gitfleet::fuzzing::*;
use gitfleet::store::format::{Header, KeySource, HEADER_LEN, NONCE_LEN};
use libfuzzer_sys::fuzz_target;

const KEY: [u8; 32] = [0x42; 32];

#[derive(Arbitrary, Debug)]
enum File {
    Raw(Vec<u8>),
    Sealed {
        nonce: [u8; NONCE_LEN],
        document: Document,
    },
}

#[derive(Arbitrary, Debug)]
enum Document {
    /// Any plaintext bytes.
    Bytes(Vec<u8>),
    /// The store's JSON shape with fuzzed values.
    Entries(Vec<Entry>),
}

#[derive(Arbitrary, Debug)]
struct Entry {
    provider: Provider,
    token: Vec<u8>,
    username: Option<String>,
    host: Option<String>,
    added_at: i64,
}

#[derive(Arbitrary, Debug)]
enum Provider {
    Named(u8),
    Other(String),
    Number(i64),
}

#[derive(Arbitrary, Debug)]
struct Input {
    file: File,
    name: Vec<u8>,
    key_len: u8,
    fingerprint: Vec<u8>,
    save: Option<Save>,
    /// Opens the file with a password too (gf_store_open).
    password: Option<Vec<u8>>,
    /// Creates a fresh store with this key (gf_store_create_with_key).
    new_key: Option<Vec<u8>>,
}

/// The arguments of one gf_store_save: provider, token suffix, username, host.
#[derive(Arbitrary, Debug)]
struct Save {
    provider: i8,
    token: Vec<u8>,
    username: Option<Vec<u8>>,
    host: Option<Vec<u8>>,
}

fn directory() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("gitfleet-fuzz-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        dir
    })
}

fn token_text(bytes: &[u8]) -> String {
    // Tokens in a document carry the mark so that a leak shows; the JSON
    // string needs valid UTF-8.
    format!("{MARK}{}", String::from_utf8_lossy(bytes))
}

fn plaintext(document: &Document) -> (Vec<u8>, Vec<String>) {
    match document {
        Document::Bytes(bytes) => (unmarked(bytes), Vec::new()),
        Document::Entries(entries) => {
            let clean = |s: &Option<String>| {
                s.as_ref()
                    .map(|s| String::from_utf8(unmarked(s.as_bytes())).expect("still UTF-8"))
            };
            let mut tokens = Vec::new();
            let credentials: Vec<serde_json::Value> = entries
                .iter()
                .map(|entry| {
                    let provider = match &entry.provider {
                        Provider::Named(n) => {
                            serde_json::json!(["github", "gitlab", "bitbucket"][*n as usize % 3])
                        }
                        Provider::Other(s) => serde_json::json!(s.replace(MARK, "")),
                        Provider::Number(n) => serde_json::json!(n),
                    };
                    let token = token_text(&entry.token);
                    tokens.push(token.clone());
                    serde_json::json!({
                        "provider": provider,
                        "token": token,
                        "username": clean(&entry.username),
                        "host": clean(&entry.host),
                        "added_at": entry.added_at,
                    })
                })
                .collect();
            let text = serde_json::json!({ "credentials": credentials }).to_string();
            (text.into_bytes(), tokens)
        }
    }
}

fn file_bytes(file: &File) -> (Vec<u8>, Vec<String>) {
    match file {
        File::Raw(bytes) => (unmarked(bytes), Vec::new()),
        File::Sealed { nonce, document } => {
            let header = Header {
                source: KeySource::RawKey,
                nonce: *nonce,
            }
            .encode();
            let (plain, tokens) = plaintext(document);
            let sealed = XChaCha20Poly1305::new((&KEY).into())
                .encrypt(
                    XNonce::from_slice(nonce),
                    Payload {
                        msg: &plain,
                        aad: &header,
                    },
                )
                .expect("encryption");
            let mut bytes = header.to_vec();
            bytes.extend_from_slice(&sealed);
            (bytes, tokens)
        }
    }
}

fn check_header_alone(bytes: &[u8]) {
    if let Ok(header) = Header::decode(bytes) {
        assert_eq!(
            &header.encode()[..],
            &bytes[..HEADER_LEN],
            "the header does not round-trip"
        );
    }
}

/// No file of this target can be opened with a password: raw bytes are not
/// a store, and sealed ones are under a raw key. The password itself is
/// fuzzed; Argon2id only runs when raw bytes happen to form a password
/// header with parameters in range, and then fails the tag.
unsafe fn open_with_password(path: &CStr, password: &[u8]) {
    let password = c_string(&unmarked(password));
    let mut store: *mut gf_store = ptr::null_mut();
    let mut err: *mut gf_error = ptr::null_mut();
    let status = gf_store_open(path.as_ptr(), password.as_ptr(), &mut store, &mut err);
    assert_ne!(
        status,
        gf_status::GF_STATUS_OK,
        "a store opened with a password"
    );
    assert!(store.is_null());
    check(status, err, "open with a password");
}

/// A new store under a fuzzed key, next to the file: only a 32-byte key is
/// taken, and the new store lists empty.
unsafe fn create_with_key(dir: &std::path::Path, name: &[u8], key: &[u8]) {
    let new_name = [name, b".new"].concat();
    let path = dir.join(std::ffi::OsStr::from_bytes(&new_name));
    let _ = std::fs::remove_file(&path);
    let c_path = CString::new(path.as_os_str().as_bytes()).expect("no NUL");
    let mut store: *mut gf_store = ptr::null_mut();
    let mut err: *mut gf_error = ptr::null_mut();
    let status = gf_store_create_with_key(
        c_path.as_ptr(),
        key.as_ptr(),
        key.len(),
        &mut store,
        &mut err,
    );
    if key.len() != KEY.len() {
        assert_eq!(status, gf_status::GF_STATUS_INVALID_ARGUMENT);
    }
    if check(status, err, "create_with_key") == gf_status::GF_STATUS_OK {
        let mut json: *mut c_char = ptr::null_mut();
        let mut err: *mut gf_error = ptr::null_mut();
        check(
            gf_store_list_json(store, &mut json, &mut err),
            err,
            "list new",
        );
        assert_eq!(take_string(json, "new store list"), "[]");
        gf_store_free(store);
    }
    let _ = std::fs::remove_file(&path);
    let lock = dir.join(std::ffi::OsStr::from_bytes(
        &[new_name.as_slice(), b".lock"].concat(),
    ));
    let _ = std::fs::remove_file(lock);
}

unsafe fn run(input: &Input) {
    let dir = directory();
    let (bytes, tokens) = file_bytes(&input.file);
    check_header_alone(&bytes);

    // A fuzzed file name, kept inside the directory: no '/', no dot names.
    let mut name: Vec<u8> = unmarked(&input.name)
        .into_iter()
        .map(|b| if b == b'/' || b == 0 { b'_' } else { b })
        .take(200)
        .collect();
    if name.is_empty() || name == b"." || name == b".." {
        name = b"store".to_vec();
    }
    let path = dir.join(std::ffi::OsStr::from_bytes(&name));
    if std::fs::write(&path, &bytes).is_err() {
        return;
    }
    let c_path = CString::new(path.as_os_str().as_bytes()).expect("no NUL");
    if let Some(password) = &input.password {
        open_with_password(&c_path, password);
    }
    if let Some(key) = &input.new_key {
        create_with_key(dir, &name, key);
    }

    let key_len = if input.key_len.is_multiple_of(4) {
        usize::from(input.key_len)
    } else {
        KEY.len()
    };
    let mut store: *mut gf_store = ptr::null_mut();
    let mut err: *mut gf_error = ptr::null_mut();
    let status =
        gf_store_open_with_key(c_path.as_ptr(), KEY.as_ptr(), key_len, &mut store, &mut err);
    let raw = matches!(input.file, File::Raw(_));
    if key_len != KEY.len() {
        assert_eq!(status, gf_status::GF_STATUS_INVALID_ARGUMENT);
    }
    if raw && status == gf_status::GF_STATUS_OK {
        panic!("random bytes opened as a store");
    }
    if status != gf_status::GF_STATUS_OK {
        assert!(
            matches!(
                status,
                gf_status::GF_STATUS_FORMAT
                    | gf_status::GF_STATUS_CRYPTO
                    | gf_status::GF_STATUS_INVALID_ARGUMENT
                    | gf_status::GF_STATUS_IO
            ),
            "{status:?}"
        );
        check(status, err, "open_with_key");
        let _ = std::fs::remove_file(&path);
        return;
    }
    assert!(err.is_null());

    // Listing: JSON, fingerprints, no token.
    let mut json: *mut c_char = ptr::null_mut();
    let mut err: *mut gf_error = ptr::null_mut();
    if check(gf_store_list_json(store, &mut json, &mut err), err, "list") == gf_status::GF_STATUS_OK
    {
        let text = take_string(json, "store list");
        let listed: serde_json::Value = serde_json::from_str(&text).expect("a JSON list");
        assert!(listed.as_array().expect("an array").len() <= tokens.len());
    }

    // A token by a fuzzed fingerprint: only one the file holds.
    let fingerprint = c_string(&unmarked(&input.fingerprint));
    let mut token: *mut c_char = ptr::null_mut();
    let mut err: *mut gf_error = ptr::null_mut();
    let status = gf_store_get_token(store, fingerprint.as_ptr(), &mut token, &mut err);
    if check(status, err, "get_token") == gf_status::GF_STATUS_OK {
        let text = CStr::from_ptr(token).to_str().expect("ASCII").to_string();
        gf_secret_free(token);
        assert!(tokens.contains(&text), "a token the file does not hold");
    }

    // Loading into a pool: only well-formed tokens get in.
    let manager = gf_token_manager_new();
    let mut count = 0usize;
    let mut err: *mut gf_error = ptr::null_mut();
    check(
        gf_store_load_into(store, manager, &mut count, &mut err),
        err,
        "load_into",
    );
    let mut json: *mut c_char = ptr::null_mut();
    let mut err: *mut gf_error = ptr::null_mut();
    check(
        gf_token_manager_snapshot_json(manager, &mut json, &mut err),
        err,
        "snapshot",
    );
    take_string(json, "snapshot after load");
    gf_token_manager_free(manager);

    // Saving fuzzed values, then removing by the fuzzed fingerprint.
    if let Some(save) = &input.save {
        let token = secret(&save.token);
        let username = save.username.as_ref().map(|u| c_string(&unmarked(u)));
        let host = save.host.as_ref().map(|h| c_string(&unmarked(h)));
        let mut err: *mut gf_error = ptr::null_mut();
        let status = gf_store_save(
            store,
            i32::from(save.provider),
            token.as_ptr(),
            username.as_ref().map_or(ptr::null(), |u| u.as_ptr()),
            host.as_ref().map_or(ptr::null(), |h| h.as_ptr()),
            &mut err,
        );
        if status == gf_status::GF_STATUS_OK {
            assert!(gitfleet::pool::check_secret(token.to_str().unwrap()).is_ok());
        }
        check(status, err, "save");
    }
    let mut removed = false;
    let mut err: *mut gf_error = ptr::null_mut();
    check(
        gf_store_remove(store, fingerprint.as_ptr(), &mut removed, &mut err),
        err,
        "remove",
    );

    gf_store_free(store);
    let _ = std::fs::remove_file(&path);
    let lock = dir.join(std::ffi::OsStr::from_bytes(
        &[name.as_slice(), b".lock"].concat(),
    ));
    let _ = std::fs::remove_file(lock);
}

fuzz_target!(|input: Input| {
    // SAFETY: every pointer passed is valid for its call; handles are freed once.
    unsafe { run(&input) };
});
