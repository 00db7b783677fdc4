//! Async calls: the callback type, the request handle, and the bookkeeping
//! that makes every accepted call complete exactly once.

use std::collections::HashMap;
use std::ffi::{c_char, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::error::gf_error;
use super::{gf_status, panic_message, Failure};
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
        // The document is serde_json's text, which escapes every control
        // character: it holds no NUL, and needs no scan for one. A NUL is
        // appended in place (no copy unless the buffer is full).
        let json = json.map(|j| {
            let mut bytes = j.into_bytes();
            bytes.push(0);
            bytes
        });
        let json_ptr = json
            .as_ref()
            .map_or(std::ptr::null(), |j| j.as_ptr().cast::<c_char>());
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

/// The async calls of one client that have not completed yet.
#[derive(Default)]
pub(crate) struct InFlight {
    calls: Mutex<HashMap<u64, Arc<Pending>>>,
    next_id: AtomicU64,
}

impl InFlight {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Pending>>> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts `job` on the runtime. Returns the request once the job is
    /// accepted; if it cannot be, the callback will never be called.
    pub(crate) fn start<F>(
        self: &Arc<Self>,
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
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            done: AtomicBool::new(false),
            cancel: CancelToken::new(),
            callback,
            user_data: UserData(user_data),
        });
        self.lock().insert(pending.id, Arc::clone(&pending));

        let in_flight = Arc::clone(self);
        let task = Arc::clone(&pending);
        let spawned = runtime::spawn_blocking(move || {
            let result =
                catch_unwind(AssertUnwindSafe(|| job(&task.cancel))).unwrap_or_else(|panic| {
                    Err(Failure::Status(
                        gf_status::GF_STATUS_INTERNAL,
                        panic_message(&*panic),
                    ))
                });
            deliver(&task, result);
            in_flight.lock().remove(&task.id);
        });
        if let Err(error) = spawned {
            self.lock().remove(&pending.id);
            return Err(error);
        }
        Ok(pending)
    }

    /// Completes every call still in flight with `GF_STATUS_SHUT_DOWN`.
    pub(crate) fn shut_down(&self) {
        let calls: Vec<Arc<Pending>> = self.lock().drain().map(|(_, p)| p).collect();
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

/// Completes a call early with `status` on a library thread, unless it has
/// completed already, and stops its job. The result is claimed before the
/// job is told to stop, so the job's own "cancelled" can never win.
fn finish_early(pending: Arc<Pending>, status: gf_status, message: &'static str) {
    if !pending.claim() {
        return;
    }
    pending.cancel.cancel();
    let task = Arc::clone(&pending);
    let complete = move || invoke_guarded(&task, Err(Failure::Status(status, message.into())));
    if runtime::spawn(complete).is_err() {
        // The runtime exists (the call was started on it); this cannot
        // happen, but the callback must not be lost if it ever does.
        std::thread::spawn(move || {
            invoke_guarded(&pending, Err(Failure::Status(status, message.into())))
        });
    }
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
