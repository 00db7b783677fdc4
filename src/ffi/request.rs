//! Async calls: the callback type, the request handle, and the bookkeeping
//! that makes every accepted call complete exactly once.

use std::collections::BTreeMap;
use std::ffi::{c_char, c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::error::gf_error;
use super::{gf_status, guard, panic_message, Failure};
use crate::cancel::CancelToken;
use crate::runtime;

/// Completion callback of an async call. Called exactly once per accepted
/// call, on a library thread, never inside the initiating call.
///
/// - `user_data`: the pointer given to the call, untouched.
/// - `status`: `GF_STATUS_OK`, an error status, `GF_STATUS_CANCELLED` or
///   `GF_STATUS_SHUT_DOWN`.
/// - `json`: the result document on success, else NULL. Borrowed: valid
///   only during the callback; copy what you keep.
/// - `error`: the error on failure, else NULL. Borrowed likewise.
///
/// The callback must not unwind (no C++ exception may leave it) and should
/// return promptly; it may call any gitfleet function. It may run before
/// the initiating call has written `*out_request`, so it must not read the
/// request handle from where that call stores it.
pub type gf_callback = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        status: gf_status,
        json: *const c_char,
        error: *const gf_error,
    ),
>;

/// A pointer the caller promised may travel to another thread.
struct UserData(*mut c_void);

// SAFETY: the header contract requires `user_data` to be usable from the
// library thread that runs the callback.
unsafe impl Send for UserData {}
unsafe impl Sync for UserData {}

/// One accepted async call.
pub(crate) struct Pending {
    id: u64,
    /// The client that started it.
    client: u64,
    done: AtomicBool,
    pub(crate) cancel: CancelToken,
    callback: unsafe extern "C" fn(*mut c_void, gf_status, *const c_char, *const gf_error),
    user_data: UserData,
}

impl Pending {
    /// Claims the right to deliver the call's one result; true for the
    /// first caller only (the job's result, a cancel or a shutdown).
    fn claim(&self) -> bool {
        !self.done.swap(true, Ordering::AcqRel)
    }

    /// Calls the callback with `result`. Only the claimant may call this.
    fn invoke(&self, result: Result<String, Failure>) {
        let (status, json, error) = match result {
            Ok(json) => (gf_status::GF_STATUS_OK, Some(json), None),
            Err(failure) => {
                let error = gf_error::from_failure(failure);
                (error.status, None, Some(error))
            }
        };
        let json = json.map(|j| CString::new(j).unwrap_or_default());
        let json_ptr = json.as_ref().map_or(std::ptr::null(), |j| j.as_ptr());
        let error_ptr = error
            .as_ref()
            .map_or(std::ptr::null(), |e| e as *const gf_error);
        // SAFETY: the callback and user data come from the caller, who
        // promised they are valid until this one call.
        unsafe { (self.callback)(self.user_data.0, status, json_ptr, error_ptr) };
    }

    fn is_done(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }
}

/// Every async call accepted and not completed yet, of every client, by id.
/// A call is in it from before its job is spawned until the job ends, so a
/// runtime shutdown finds every call whose job it may drop.
static PENDING: Mutex<BTreeMap<u64, Arc<Pending>>> = Mutex::new(BTreeMap::new());

fn pending_calls() -> std::sync::MutexGuard<'static, BTreeMap<u64, Arc<Pending>>> {
    PENDING.lock().unwrap_or_else(|p| p.into_inner())
}

static NEXT_CALL: AtomicU64 = AtomicU64::new(0);
static NEXT_CLIENT: AtomicU64 = AtomicU64::new(0);

/// The async calls of one client: its name in the table of pending calls.
pub(crate) struct InFlight {
    client: u64,
}

impl Default for InFlight {
    fn default() -> Self {
        InFlight {
            client: NEXT_CLIENT.fetch_add(1, Ordering::Relaxed),
        }
    }
}

impl InFlight {
    /// Starts `job` on the runtime. Returns the request once the job is
    /// accepted; if it cannot be, the callback will never be called.
    pub(crate) fn start<F>(
        &self,
        callback: gf_callback,
        user_data: *mut c_void,
        job: F,
    ) -> Result<Arc<Pending>, crate::error::Error>
    where
        F: FnOnce(&CancelToken) -> Result<String, Failure> + Send + 'static,
    {
        let callback = callback
            .ok_or_else(|| crate::error::Error::InvalidArgument("callback is NULL".into()))?;
        let pending = Arc::new(Pending {
            id: NEXT_CALL.fetch_add(1, Ordering::Relaxed),
            client: self.client,
            done: AtomicBool::new(false),
            cancel: CancelToken::new(),
            callback,
            user_data: UserData(user_data),
        });
        pending_calls().insert(pending.id, Arc::clone(&pending));

        let task = Arc::clone(&pending);
        let run = move || {
            let result =
                catch_unwind(AssertUnwindSafe(|| job(&task.cancel))).unwrap_or_else(|panic| {
                    Err(Failure::Status(
                        gf_status::GF_STATUS_INTERNAL,
                        panic_message(&*panic),
                    ))
                });
            deliver(&task, result);
            pending_calls().remove(&task.id);
        };
        let refused = match catch_unwind(AssertUnwindSafe(|| runtime::spawn_blocking(run))) {
            Ok(Ok(())) => None,
            Ok(Err((error, _job))) => Some(error),
            Err(panic) => Some(crate::error::Error::Network(panic_message(&*panic))),
        };
        if let Some(error) = refused {
            // Not accepted: no callback, ever.
            pending.claim();
            pending_calls().remove(&pending.id);
            return Err(error);
        }
        Ok(pending)
    }

    /// Completes every call of this client still in flight with
    /// `GF_STATUS_SHUT_DOWN`.
    pub(crate) fn shut_down(&self) {
        let calls: Vec<Arc<Pending>> = {
            let mut table = pending_calls();
            let ids: Vec<u64> = table
                .values()
                .filter(|p| p.client == self.client)
                .map(|p| p.id)
                .collect();
            ids.iter().filter_map(|id| table.remove(id)).collect()
        };
        for pending in calls {
            finish_early(
                pending,
                gf_status::GF_STATUS_SHUT_DOWN,
                "the client was freed while the call was in flight",
            );
        }
    }
}

/// Delivers a job's result, unless a cancel or a shutdown came first.
fn deliver(pending: &Pending, result: Result<String, Failure>) {
    if pending.claim() {
        invoke_guarded(pending, result);
    }
}

/// Runs the callback, containing a panic of ours around it.
fn invoke_guarded(pending: &Pending, result: Result<String, Failure>) {
    let _ = catch_unwind(AssertUnwindSafe(|| pending.invoke(result)));
}

/// A claimed call's early result (cancelled, shut down), on its way to the
/// callback. Whatever happens to the job carrying it, the callback runs:
/// dropped unrun (its runtime stopped first), it runs on a thread of its
/// own.
struct Early {
    pending: Option<Arc<Pending>>,
    status: gf_status,
    message: &'static str,
}

impl Early {
    fn deliver(mut self) {
        if let Some(pending) = self.pending.take() {
            let failure = Failure::Status(self.status, self.message.into());
            invoke_guarded(&pending, Err(failure));
        }
    }
}

impl Drop for Early {
    fn drop(&mut self) {
        if let Some(pending) = self.pending.take() {
            let early = Early {
                pending: Some(pending),
                status: self.status,
                message: self.message,
            };
            runtime::spawn_thread(move || early.deliver());
        }
    }
}

/// Completes a call early with `status` on a library thread, unless it has
/// completed already, and stops its job. The result is claimed before the
/// job is told to stop, so the job's own "cancelled" can never win.
fn finish_early(pending: Arc<Pending>, status: gf_status, message: &'static str) {
    if !pending.claim() {
        return;
    }
    pending.cancel.cancel();
    let early = Early {
        pending: Some(pending),
        status,
        message,
    };
    runtime::spawn(move || early.deliver());
}

/// Stops the library's runtime: every async call still pending completes
/// with `GF_STATUS_SHUT_DOWN` (delivered on a helper thread), then the
/// runtime's threads are stopped.
fn shut_down_runtime(timeout: Duration) -> runtime::Stopped {
    runtime::shut_down(timeout, || {
        let calls = std::mem::take(&mut *pending_calls());
        let claimed: Vec<Early> = calls
            .into_values()
            .filter(|pending| pending.claim())
            .map(|pending| {
                pending.cancel.cancel();
                Early {
                    pending: Some(pending),
                    status: gf_status::GF_STATUS_SHUT_DOWN,
                    message: "the library's runtime was shut down while the call was in flight",
                }
            })
            .collect();
        if !claimed.is_empty() {
            runtime::spawn_thread(move || claimed.into_iter().for_each(Early::deliver));
        }
    })
}

/// An async call's handle, returned to the caller. Freeing it does not
/// cancel the call. It may be used from any thread, one at a time.
pub struct gf_request {
    pending: Arc<Pending>,
}

impl gf_request {
    pub(crate) fn boxed(pending: Arc<Pending>) -> *mut gf_request {
        Box::into_raw(Box::new(gf_request { pending }))
    }
}

/// Cancels the call: its callback comes with `GF_STATUS_CANCELLED`, on a
/// library thread, unless it has completed already (then nothing happens).
/// A request already on the wire finishes in the background, its result
/// dropped. Returns `GF_STATUS_INVALID_ARGUMENT` for NULL, else OK.
#[no_mangle]
pub unsafe extern "C" fn gf_request_cancel(request: *const gf_request) -> gf_status {
    let Some(request) = request.as_ref() else {
        return gf_status::GF_STATUS_INVALID_ARGUMENT;
    };
    let pending = Arc::clone(&request.pending);
    let cancelled = catch_unwind(AssertUnwindSafe(|| {
        finish_early(pending, gf_status::GF_STATUS_CANCELLED, "cancelled")
    }));
    match cancelled {
        Ok(()) => gf_status::GF_STATUS_OK,
        Err(_) => gf_status::GF_STATUS_INTERNAL,
    }
}

/// True once the call's outcome is settled: its callback has run, is
/// running, or is on its way (right after a cancel or a shutdown). False
/// for NULL.
#[no_mangle]
pub unsafe extern "C" fn gf_request_is_done(request: *const gf_request) -> bool {
    request.as_ref().is_some_and(|r| r.pending.is_done())
}

/// Frees a request handle; the call itself goes on and still completes
/// once. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gf_request_free(request: *mut gf_request) {
    if !request.is_null() {
        drop(Box::from_raw(request));
    }
}

/// Shuts the library's internal runtime down, for a host that wants no
/// library thread left: before unloading the library, or before `fork()`.
///
/// Every async call still pending gets its one callback now, with
/// `GF_STATUS_SHUT_DOWN`, on a library thread; then the runtime's threads
/// are stopped. Waits up to `timeout_ms` in all (0: do not wait) for every
/// library thread to end and every such callback to return. Returns
/// `GF_STATUS_OK` when none is left, `GF_STATUS_TIMEOUT` when some are
/// still running: a request already on the wire cannot be interrupted, so
/// its thread ends when the exchange does (by the client's timeout at
/// most), its result dropped; call again to wait for them. The library
/// must not be unloaded before this has returned `GF_STATUS_OK`.
///
/// Clients, pools and requests stay valid. The next async call starts a
/// fresh runtime; blocking calls never use it. Calling this while other
/// threads start async calls is safe: each call is either completed with
/// `GF_STATUS_SHUT_DOWN` or runs on the fresh runtime. Called from a
/// callback (a library thread), it does nothing and returns
/// `GF_STATUS_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn gf_runtime_shutdown(
    timeout_ms: u64,
    err: *mut *mut gf_error,
) -> gf_status {
    guard(err, || {
        if runtime::on_library_thread() {
            return Err(crate::error::Error::InvalidArgument(
                "gf_runtime_shutdown cannot be called from a callback or a library thread".into(),
            )
            .into());
        }
        match shut_down_runtime(Duration::from_millis(timeout_ms)) {
            runtime::Stopped::All => Ok(()),
            runtime::Stopped::Not(threads) => Err(Failure::Status(
                gf_status::GF_STATUS_TIMEOUT,
                format!(
                    "{threads} library thread(s) still running after {timeout_ms} ms: \
                     a request on the wire ends by itself, its result dropped"
                ),
            )),
        }
    })
}
