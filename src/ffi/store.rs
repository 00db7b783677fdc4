//! `gf_store`: the encrypted credential store.

use std::ffi::{c_char, CStr, CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::RwLock;

use zeroize::{Zeroize, Zeroizing};

use super::error::gf_error;
use super::live::{self, Kind};
use super::manager::{gf_token_manager, provider_arg};
use super::{gf_status, guard, handle, opt_str_arg, out_arg, owned_string, str_arg};
use crate::error::Error;
use crate::store::{CredentialStore, KdfParams, KEY_LEN};

/// An open credential store. Thread-safe: any number of threads may use one
/// store at once, and several stores (in one process or many) may share a
/// file; every change is made under a file lock. Free with `gf_store_free`.
pub struct gf_store {
    store: RwLock<CredentialStore>,
}

impl gf_store {
    fn boxed(store: CredentialStore) -> *mut gf_store {
        let made = Box::into_raw(Box::new(gf_store {
            store: RwLock::new(store),
        }));
        live::handed_out(made, Kind::Store)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, CredentialStore> {
        self.store.read().unwrap_or_else(|p| p.into_inner())
    }
}

/// A path argument: any bytes but NUL (paths need not be UTF-8).
unsafe fn path_arg<'a>(path: *const c_char) -> Result<&'a Path, Error> {
    if path.is_null() {
        return Err(Error::InvalidArgument("path is NULL".into()));
    }
    Ok(Path::new(OsStr::from_bytes(
        CStr::from_ptr(path).to_bytes(),
    )))
}

/// A password argument: any bytes but NUL, at least one.
unsafe fn password_arg<'a>(password: *const c_char) -> Result<&'a [u8], Error> {
    if password.is_null() {
        return Err(Error::InvalidArgument("password is NULL".into()));
    }
    Ok(CStr::from_ptr(password).to_bytes())
}

/// A raw key argument: exactly 32 bytes, copied into memory wiped on drop.
unsafe fn key_arg(key: *const u8, key_len: usize) -> Result<Zeroizing<[u8; KEY_LEN]>, Error> {
    if key.is_null() || key_len != KEY_LEN {
        return Err(Error::InvalidArgument(format!(
            "the key must be {KEY_LEN} bytes"
        )));
    }
    let mut copy = Zeroizing::new([0u8; KEY_LEN]);
    copy.copy_from_slice(std::slice::from_raw_parts(key, KEY_LEN));
    Ok(copy)
}

/// Writes a new store handle to `out`.
unsafe fn hand_over(
    out: *mut *mut gf_store,
    make: impl FnOnce() -> crate::Result<CredentialStore>,
) -> super::FfiResult {
    out_arg(out, "out_store")?;
    *out = gf_store::boxed(make()?);
    Ok(())
}

/// Creates an empty store at `path` (which must not exist), encrypted with
/// a key derived from `password` (NUL-terminated bytes) by Argon2id with
/// the default parameters (64 MiB, 3 passes, 1 lane).
#[no_mangle]
pub unsafe extern "C" fn gf_store_create(
    path: *const c_char,
    password: *const c_char,
    out_store: *mut *mut gf_store,
    err: *mut *mut gf_error,
) -> gf_status {
    guard(err, || {
        let (path, password) = (path_arg(path)?, password_arg(password)?);
        hand_over(out_store, || {
            CredentialStore::create(path, password, KdfParams::default())
        })
    })
}

/// Like `gf_store_create`, with explicit Argon2id parameters (memory in
/// KiB, passes, lanes). Refused below OWASP's floor (at least 7 MiB, and
/// memory x passes at least 19 MiB x 2) and above 256 MiB, 10 passes or 8
/// lanes.
#[no_mangle]
pub unsafe extern "C" fn gf_store_create_with_params(
    path: *const c_char,
    password: *const c_char,
    memory_kib: u32,
    iterations: u32,
    lanes: u32,
    out_store: *mut *mut gf_store,
    err: *mut *mut gf_error,
) -> gf_status {
    guard(err, || {
        let (path, password) = (path_arg(path)?, password_arg(password)?);
        let params = KdfParams {
            memory_kib,
            iterations,
            lanes,
        };
        hand_over(out_store, || {
            CredentialStore::create(path, password, params)
        })
    })
}

/// Creates an empty store at `path` (which must not exist), encrypted with
/// the raw key `key` (`key_len` must be 32).
#[no_mangle]
pub unsafe extern "C" fn gf_store_create_with_key(
    path: *const c_char,
    key: *const u8,
    key_len: usize,
    out_store: *mut *mut gf_store,
    err: *mut *mut gf_error,
) -> gf_status {
    guard(err, || {
        let path = path_arg(path)?;
        let key = key_arg(key, key_len)?;
        hand_over(out_store, || CredentialStore::create_with_key(path, &key))
    })
}

/// Opens the store at `path` (symbolic links followed) with its password.
/// A wrong password or any changed, added or removed byte gives
/// `GF_STATUS_CRYPTO`; a file that is not a store, too short to be one, or
/// of an unknown version gives `GF_STATUS_FORMAT`; a store made with a raw
/// key gives `GF_STATUS_INVALID_ARGUMENT`; a missing or unreadable file
/// gives `GF_STATUS_IO`.
#[no_mangle]
pub unsafe extern "C" fn gf_store_open(
    path: *const c_char,
    password: *const c_char,
    out_store: *mut *mut gf_store,
    err: *mut *mut gf_error,
) -> gf_status {
    guard(err, || {
        let (path, password) = (path_arg(path)?, password_arg(password)?);
        hand_over(out_store, || CredentialStore::open(path, password))
    })
}

/// Opens the store at `path` with its raw key (`key_len` must be 32).
#[no_mangle]
pub unsafe extern "C" fn gf_store_open_with_key(
    path: *const c_char,
    key: *const u8,
    key_len: usize,
    out_store: *mut *mut gf_store,
    err: *mut *mut gf_error,
) -> gf_status {
    guard(err, || {
        let path = path_arg(path)?;
        let key = key_arg(key, key_len)?;
        hand_over(out_store, || CredentialStore::open_with_key(path, &key))
    })
}

/// Frees a store handle (the file stays). Its key is wiped. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gf_store_free(store: *mut gf_store) {
    if !store.is_null() && live::taken_back(store, Kind::Store, "gf_store_free") {
        drop(Box::from_raw(store));
    }
}

/// Saves a credential (`username` and `host` may be NULL). Saving a token
/// already stored for the provider updates its username and host.
#[no_mangle]
pub unsafe extern "C" fn gf_store_save(
    store: *const gf_store,
    provider: i32,
    token: *const c_char,
    username: *const c_char,
    host: *const c_char,
    err: *mut *mut gf_error,
) -> gf_status {
    guard(err, || {
        let store = handle(store, "store")?;
        let provider = provider_arg(provider)?;
        let token = str_arg(token, "token")?;
        let username = opt_str_arg(username, "username")?;
        let host = opt_str_arg(host, "host")?;
        store.read().save(provider, token, username, host)?;
        Ok(())
    })
}

/// Every credential as a JSON array of `{fingerprint, provider, username,
/// host, added_at}`, never a token. Free with `gf_string_free`.
#[no_mangle]
pub unsafe extern "C" fn gf_store_list_json(
    store: *const gf_store,
    out_json: *mut *mut c_char,
    err: *mut *mut gf_error,
) -> gf_status {
    guard(err, || {
        let store = handle(store, "store")?;
        out_arg(out_json, "out_json")?;
        let listed = store.read().list()?;
        let json = serde_json::to_string(&listed).map_err(|e| Error::Decode(e.to_string()))?;
        *out_json = owned_string(json);
        Ok(())
    })
}

/// The token whose fingerprint is `fingerprint`, into `*out_token`: a
/// secret, to be freed with `gf_secret_free` (which wipes it).
/// `GF_STATUS_NOT_FOUND` when the store has no such token.
#[no_mangle]
pub unsafe extern "C" fn gf_store_get_token(
    store: *const gf_store,
    fingerprint: *const c_char,
    out_token: *mut *mut c_char,
    err: *mut *mut gf_error,
) -> gf_status {
    guard(err, || {
        let store = handle(store, "store")?;
        let fingerprint = str_arg(fingerprint, "fingerprint")?;
        out_arg(out_token, "out_token")?;
        let credential = store.read().get(fingerprint)?.ok_or_else(|| {
            Error::NotFound("the store has no token with that fingerprint".into())
        })?;
        // A stored token passed `check_secret`: printable ASCII, no NUL.
        let secret = CString::new(credential.token.expose())
            .unwrap_or_default()
            .into_raw();
        *out_token = live::handed_out(secret, Kind::Secret);
        Ok(())
    })
}

/// Wipes and frees a secret returned by the library. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gf_secret_free(secret: *mut c_char) {
    if !secret.is_null() && live::taken_back(secret, Kind::Secret, "gf_secret_free") {
        let mut bytes = CString::from_raw(secret).into_bytes();
        bytes.zeroize();
    }
}

/// Removes the credential with this fingerprint. `out_removed` (may be
/// NULL) says whether there was one.
#[no_mangle]
pub unsafe extern "C" fn gf_store_remove(
    store: *const gf_store,
    fingerprint: *const c_char,
    out_removed: *mut bool,
    err: *mut *mut gf_error,
) -> gf_status {
    guard(err, || {
        let store = handle(store, "store")?;
        let removed = store.read().remove(str_arg(fingerprint, "fingerprint")?)?;
        if !out_removed.is_null() {
            *out_removed = removed;
        }
        Ok(())
    })
}

/// Removes every credential.
#[no_mangle]
pub unsafe extern "C" fn gf_store_clear(
    store: *const gf_store,
    err: *mut *mut gf_error,
) -> gf_status {
    guard(err, || {
        handle(store, "store")?.read().clear()?;
        Ok(())
    })
}

/// Re-encrypts the store under `new_password` (a new salt, the default
/// Argon2id parameters). Other handles on the same file must be opened
/// again afterwards (they get `GF_STATUS_CRYPTO` until then).
#[no_mangle]
pub unsafe extern "C" fn gf_store_change_password(
    store: *const gf_store,
    new_password: *const c_char,
    err: *mut *mut gf_error,
) -> gf_status {
    guard(err, || {
        let store = handle(store, "store")?;
        let password = password_arg(new_password)?;
        let mut inner = store.store.write().unwrap_or_else(|p| p.into_inner());
        inner.change_password(password, KdfParams::default())?;
        Ok(())
    })
}

/// Adds every stored token to `manager`; `out_count` (may be NULL) gets how
/// many there were.
#[no_mangle]
pub unsafe extern "C" fn gf_store_load_into(
    store: *const gf_store,
    manager: *const gf_token_manager,
    out_count: *mut usize,
    err: *mut *mut gf_error,
) -> gf_status {
    guard(err, || {
        let store = handle(store, "store")?;
        let manager = handle(manager, "manager")?;
        let count = store.read().load_into(&manager.manager)?;
        if !out_count.is_null() {
            *out_count = count;
        }
        Ok(())
    })
}
