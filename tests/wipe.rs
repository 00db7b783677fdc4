//! Tokens are wiped from memory before their memory is given back: when a
//! token is removed, when a pool, a lease, a client or a store is freed, and
//! when a secret handed to the caller is freed with `gf_secret_free`.
//!
//! This binary's global allocator looks into every block it frees (and,
//! since a reallocation here always moves, into every block a growing
//! buffer leaves behind) for the canary that every test token carries, and
//! counts the blocks that still hold it. The tests build their tokens on
//! the stack, so any heap copy is the library's.
//!
//! Only operations that send nothing are driven: the HTTP stack (ureq)
//! copies each request's `Authorization` header into buffers it frees
//! without wiping (a known limitation, in the README).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ffi::{c_char, CStr};
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use gitfleet::classify::{ErrorBody, ResponseHead};
use gitfleet::store::CredentialStore;
use gitfleet::{Client, ClientOptions, Provider, SecretToken, TokenManager};
use zeroize::Zeroizing;

/// What every test token carries, and what the allocator looks for.
const NEEDLE: &[u8] = b"WIPECANARY";

/// Three test tokens, NUL-terminated so that C functions can take them
/// straight from the stack. Each is built from two literals so that secret
/// scanners do not take it for a leaked token.
const TOKENS: [&[u8]; 3] = [
    concat!("ghp_", "WIPECANARYone0Qm7Zt3Lx8Vb2Nc5Rk9Wd4Hs", "\0").as_bytes(),
    concat!("ghp_", "WIPECANARYtwo6Jp1Yf5Ge9Ua3Oi7Tl2Xs8Cv", "\0").as_bytes(),
    concat!("ghp_", "WIPECANARYthree4Bn8Mq2Wz6Er0Ty5Ui9Op", "\0").as_bytes(),
];

// ---- the scanning allocator ------------------------------------------------

struct Scanning;

#[global_allocator]
static ALLOCATOR: Scanning = Scanning;

/// Blocks freed while still holding the needle.
static HITS: AtomicUsize = AtomicUsize::new(0);
/// Blocks freed in all, to show the scan ran.
static FREED: AtomicUsize = AtomicUsize::new(0);
/// Print a backtrace for every hit (GITFLEET_WIPE_BACKTRACE=1), to find
/// where an unwiped copy is freed.
static BACKTRACES: AtomicBool = AtomicBool::new(false);

thread_local! {
    static IN_REPORT: Cell<bool> = const { Cell::new(false) };
}

unsafe impl GlobalAlloc for Scanning {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        FREED.fetch_add(1, Ordering::Relaxed);
        let block = std::slice::from_raw_parts(ptr, layout.size());
        if contains_needle(block) {
            HITS.fetch_add(1, Ordering::SeqCst);
            report_hit(layout.size());
        }
        System.dealloc(ptr, layout)
    }

    // `realloc` is left to its default: allocate, copy, free the old block
    // through `dealloc` above. Every growth then moves, as it may in
    // production, and the block left behind is scanned.
}

fn contains_needle(block: &[u8]) -> bool {
    block.len() >= NEEDLE.len() && block.windows(NEEDLE.len()).any(|w| w == NEEDLE)
}

fn report_hit(size: usize) {
    if !BACKTRACES.load(Ordering::Relaxed) {
        return;
    }
    // Printing allocates; the flag keeps this from recursing.
    IN_REPORT.with(|busy| {
        if !busy.replace(true) {
            let trace = std::backtrace::Backtrace::force_capture();
            eprintln!("a freed block of {size} bytes still held a token:\n{trace}");
            busy.set(false);
        }
    });
}

/// Tests share the counters, so they run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// Runs `body` and returns how many freed blocks still held a token, and
/// how many blocks were freed in all.
fn unwiped_frees(body: impl FnOnce()) -> (usize, usize) {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    BACKTRACES.store(
        std::env::var_os("GITFLEET_WIPE_BACKTRACE").is_some(),
        Ordering::Relaxed,
    );
    let (hits, freed) = (HITS.load(Ordering::SeqCst), FREED.load(Ordering::SeqCst));
    body();
    (
        HITS.load(Ordering::SeqCst) - hits,
        FREED.load(Ordering::SeqCst) - freed,
    )
}

fn token_c(index: usize) -> &'static CStr {
    CStr::from_bytes_with_nul(TOKENS[index]).unwrap()
}

fn token(index: usize) -> &'static str {
    token_c(index).to_str().unwrap()
}

// ---- the scanner itself ----------------------------------------------------

#[test]
fn the_scanner_sees_a_token_freed_unwiped_and_not_one_wiped() {
    let (hits, freed) = unwiped_frees(|| {
        let copy = token(0).to_string();
        drop(std::hint::black_box(copy));
    });
    assert_eq!(hits, 1, "a plain String freed with the token in it");
    assert!(freed >= 1);

    let (hits, _) = unwiped_frees(|| {
        let mut grown = String::with_capacity(8);
        grown.push_str(token(1));
        grown.push_str(&"-".repeat(64));
        drop(std::hint::black_box(grown));
    });
    assert_eq!(
        hits, 2,
        "the block left behind by growth, then the last one"
    );

    let (hits, _) = unwiped_frees(|| {
        let copy = Zeroizing::new(token(2).to_string());
        drop(std::hint::black_box(copy));
    });
    assert_eq!(hits, 0, "a wiped copy");
}

// ---- the pool, from Rust ---------------------------------------------------

#[test]
fn the_pool_wipes_tokens_removed_and_freed() {
    let (hits, freed) = unwiped_frees(|| {
        let pool = TokenManager::new();
        for index in 0..3 {
            pool.add_token(Provider::GitHub, token(index), Some("someone"), 0)
                .unwrap();
        }
        // The same secret again: one entry, the new copy dropped.
        pool.add_token(Provider::GitHub, token(0), None, 2).unwrap();
        assert!(pool.contains(token(1)));

        let lease = pool.lease(Provider::GitHub, "core").unwrap();
        assert!(lease.secret().contains("WIPECANARY"));
        let head = ResponseHead::from_pairs(
            200,
            [
                ("x-ratelimit-remaining", b"10".as_slice()),
                ("x-ratelimit-limit", b"5000".as_slice()),
            ],
        );
        lease.report(&head, &ErrorBody::default());
        pool.lease(Provider::GitHub, "search").unwrap().release();
        drop(pool.lease(Provider::GitHub, "core").unwrap());

        pool.update_from_headers(token(2), [("x-ratelimit-remaining", b"5".as_slice())]);
        assert!(pool.mark_invalid(token(2)));
        let _ = format!("{pool:?} {:?}", pool.snapshot());
        let _ = serde_json::to_string(&pool.snapshot()).unwrap();

        // Removed while a lease holds it: wiped when the lease ends.
        let held = pool.lease(Provider::GitHub, "core").unwrap();
        assert!(pool.remove_token(held.secret()));
        drop(held);
        assert!(pool.remove_token(token(1)) || pool.remove_token(token(0)));
        assert_eq!(pool.snapshot().len(), 1);

        // A client with its own token and a private pool, never used.
        let client = Client::new(ClientOptions {
            base_url: "http://127.0.0.1:9".into(),
            token: Some(SecretToken::from(token(0))),
            ..ClientOptions::default()
        })
        .unwrap();
        let options = ClientOptions {
            token: Some(SecretToken::from(token(1))),
            manager: Some(pool.clone()),
            ..ClientOptions::default()
        };
        let _ = format!("{client:?} {options:?}");
        drop(options.clone());
        drop((options, client, pool));
    });
    assert_eq!(hits, 0, "freed blocks still held a token");
    assert!(
        freed > 50,
        "too few frees ({freed}) for the scan to mean anything"
    );
}

// ---- the pool, through the C ABI -------------------------------------------

#[allow(non_camel_case_types)]
enum gf_token_manager {}
#[allow(non_camel_case_types)]
enum gf_lease {}
#[allow(non_camel_case_types)]
enum gf_error {}
#[allow(non_camel_case_types)]
enum gf_client_options {}
#[allow(non_camel_case_types)]
enum gf_client {}
#[allow(non_camel_case_types)]
enum gf_store {}

type Err = *mut *mut gf_error;

extern "C" {
    fn gf_token_manager_new() -> *mut gf_token_manager;
    fn gf_token_manager_free(m: *mut gf_token_manager);
    fn gf_token_manager_add_token(
        m: *const gf_token_manager,
        provider: i32,
        secret: *const c_char,
        username: *const c_char,
        priority: i32,
        err: Err,
    ) -> i32;
    fn gf_token_manager_remove_token(
        m: *const gf_token_manager,
        secret: *const c_char,
        out: *mut bool,
        err: Err,
    ) -> i32;
    fn gf_token_manager_mark_invalid(
        m: *const gf_token_manager,
        secret: *const c_char,
        out: *mut bool,
        err: Err,
    ) -> i32;
    fn gf_token_manager_update_from_headers(
        m: *const gf_token_manager,
        secret: *const c_char,
        names: *const *const c_char,
        values: *const *const c_char,
        count: usize,
        out: *mut bool,
        err: Err,
    ) -> i32;
    fn gf_token_manager_snapshot_json(
        m: *const gf_token_manager,
        out: *mut *mut c_char,
        err: Err,
    ) -> i32;
    fn gf_token_manager_lease(
        m: *const gf_token_manager,
        provider: i32,
        resource: *const c_char,
        out: *mut *mut gf_lease,
        err: Err,
    ) -> i32;
    fn gf_lease_token(lease: *const gf_lease) -> *const c_char;
    fn gf_lease_report(
        lease: *mut gf_lease,
        status: u16,
        names: *const *const c_char,
        values: *const *const c_char,
        count: usize,
        body: *const u8,
        body_len: usize,
        out: *mut i32,
        err: Err,
    ) -> i32;
    fn gf_lease_free(lease: *mut gf_lease);
    fn gf_string_free(s: *mut c_char);

    fn gf_client_options_new() -> *mut gf_client_options;
    fn gf_client_options_free(o: *mut gf_client_options);
    fn gf_client_options_set_token(o: *mut gf_client_options, t: *const c_char, err: Err) -> i32;
    fn gf_client_options_set_token_manager(
        o: *mut gf_client_options,
        m: *const gf_token_manager,
        err: Err,
    ) -> i32;
    fn gf_client_new(o: *const gf_client_options, out: *mut *mut gf_client, err: Err) -> i32;
    fn gf_client_free(c: *mut gf_client);

    fn gf_store_create_with_key(
        path: *const c_char,
        key: *const u8,
        key_len: usize,
        out: *mut *mut gf_store,
        err: Err,
    ) -> i32;
    fn gf_store_open_with_key(
        path: *const c_char,
        key: *const u8,
        key_len: usize,
        out: *mut *mut gf_store,
        err: Err,
    ) -> i32;
    fn gf_store_free(store: *mut gf_store);
    fn gf_store_save(
        store: *const gf_store,
        provider: i32,
        token: *const c_char,
        username: *const c_char,
        host: *const c_char,
        err: Err,
    ) -> i32;
    fn gf_store_list_json(store: *const gf_store, out: *mut *mut c_char, err: Err) -> i32;
    fn gf_store_get_token(
        store: *const gf_store,
        fingerprint: *const c_char,
        out: *mut *mut c_char,
        err: Err,
    ) -> i32;
    fn gf_secret_free(secret: *mut c_char);
    fn gf_store_remove(
        store: *const gf_store,
        fingerprint: *const c_char,
        out: *mut bool,
        err: Err,
    ) -> i32;
    fn gf_store_clear(store: *const gf_store, err: Err) -> i32;
    fn gf_store_load_into(
        store: *const gf_store,
        m: *const gf_token_manager,
        out: *mut usize,
        err: Err,
    ) -> i32;
}

const OK: i32 = 0;

#[test]
fn the_c_pool_wipes_tokens_removed_and_freed_and_its_leases() {
    let names = [
        c"x-ratelimit-remaining".as_ptr(),
        c"x-ratelimit-limit".as_ptr(),
    ];
    let values = [c"7".as_ptr(), c"5000".as_ptr()];
    let (hits, freed) = unwiped_frees(|| unsafe {
        let manager = gf_token_manager_new();
        for index in 0..3 {
            let status = gf_token_manager_add_token(
                manager,
                0,
                token_c(index).as_ptr(),
                c"someone".as_ptr(),
                0,
                null_mut(),
            );
            assert_eq!(status, OK);
        }
        let again =
            gf_token_manager_add_token(manager, 0, token_c(1).as_ptr(), null(), 1, null_mut());
        assert_eq!(again, OK);

        let mut lease = null_mut();
        assert_eq!(
            gf_token_manager_lease(manager, 0, null(), &mut lease, null_mut()),
            OK
        );
        assert!(CStr::from_ptr(gf_lease_token(lease))
            .to_bytes()
            .starts_with(b"ghp_WIPE"));
        let mut outcome = -1;
        let status = gf_lease_report(
            lease,
            200,
            names.as_ptr(),
            values.as_ptr(),
            2,
            null(),
            0,
            &mut outcome,
            null_mut(),
        );
        assert_eq!(status, OK);
        gf_lease_free(lease);
        let mut unreported = null_mut();
        assert_eq!(
            gf_token_manager_lease(manager, 0, null(), &mut unreported, null_mut()),
            OK
        );
        gf_lease_free(unreported);

        let mut found = false;
        let status = gf_token_manager_update_from_headers(
            manager,
            token_c(2).as_ptr(),
            names.as_ptr(),
            values.as_ptr(),
            2,
            &mut found,
            null_mut(),
        );
        assert_eq!(status, OK);
        assert!(found);
        let status =
            gf_token_manager_mark_invalid(manager, token_c(2).as_ptr(), &mut found, null_mut());
        assert_eq!(status, OK);
        let mut json = null_mut();
        assert_eq!(
            gf_token_manager_snapshot_json(manager, &mut json, null_mut()),
            OK
        );
        gf_string_free(json);

        let mut removed = false;
        let status =
            gf_token_manager_remove_token(manager, token_c(0).as_ptr(), &mut removed, null_mut());
        assert_eq!(status, OK);
        assert!(removed);

        // A client with a token of its own, sharing the pool; never used.
        let options = gf_client_options_new();
        assert_eq!(
            gf_client_options_set_token(options, token_c(0).as_ptr(), null_mut()),
            OK
        );
        assert_eq!(
            gf_client_options_set_token_manager(options, manager, null_mut()),
            OK
        );
        let mut client = null_mut();
        assert_eq!(gf_client_new(options, &mut client, null_mut()), OK);
        gf_client_options_free(options);
        gf_token_manager_free(manager);
        gf_client_free(client);
    });
    assert_eq!(hits, 0, "freed blocks still held a token");
    assert!(
        freed > 20,
        "too few frees ({freed}) for the scan to mean anything"
    );
}

// ---- the credential store --------------------------------------------------

#[test]
fn the_store_wipes_tokens_it_reads_writes_hands_out_and_removes() {
    let dir = std::env::temp_dir().join(format!("gitfleet-wipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tokens.gfs");
    let _ = std::fs::remove_file(&path);
    let path_c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    let key = [5u8; 32];

    let (hits, freed) = unwiped_frees(|| unsafe {
        let mut store = null_mut();
        let status =
            gf_store_create_with_key(path_c.as_ptr(), key.as_ptr(), 32, &mut store, null_mut());
        assert_eq!(status, OK);
        for index in 0..3 {
            let status = gf_store_save(
                store,
                0,
                token_c(index).as_ptr(),
                c"someone".as_ptr(),
                c"ghe.example.com".as_ptr(),
                null_mut(),
            );
            assert_eq!(status, OK);
        }
        // Saved again: updated in place.
        let status = gf_store_save(store, 0, token_c(1).as_ptr(), null(), null(), null_mut());
        assert_eq!(status, OK);
        let mut json = null_mut();
        assert_eq!(gf_store_list_json(store, &mut json, null_mut()), OK);
        gf_string_free(json);

        let fingerprint = std::ffi::CString::new(gitfleet::pool::fingerprint(token(2))).unwrap();
        let mut secret = null_mut();
        let status = gf_store_get_token(store, fingerprint.as_ptr(), &mut secret, null_mut());
        assert_eq!(status, OK);
        assert_eq!(CStr::from_ptr(secret), token_c(2));
        gf_secret_free(secret);

        let manager = gf_token_manager_new();
        let mut count = 0;
        assert_eq!(
            gf_store_load_into(store, manager, &mut count, null_mut()),
            OK
        );
        assert_eq!(count, 3);
        gf_token_manager_free(manager);

        let mut other = null_mut();
        let status =
            gf_store_open_with_key(path_c.as_ptr(), key.as_ptr(), 32, &mut other, null_mut());
        assert_eq!(status, OK);
        let mut removed = false;
        assert_eq!(
            gf_store_remove(other, fingerprint.as_ptr(), &mut removed, null_mut()),
            OK
        );
        assert!(removed);
        gf_store_free(other);

        // The Rust API on the same file.
        let rust_store = CredentialStore::open_with_key(&path, &key).unwrap();
        let credential = rust_store
            .get(&gitfleet::pool::fingerprint(token(0)))
            .unwrap()
            .unwrap();
        drop(credential.clone());
        drop(credential);
        assert_eq!(rust_store.list().unwrap().len(), 2);
        drop(rust_store);

        assert_eq!(gf_store_clear(store, null_mut()), OK);
        gf_store_free(store);
    });
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(hits, 0, "freed blocks still held a token");
    assert!(
        freed > 50,
        "too few frees ({freed}) for the scan to mean anything"
    );
}
