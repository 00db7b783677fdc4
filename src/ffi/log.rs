//! `gf_log_set_callback`: the library's log lines, handed to the host.
//!
//! The library logs through the `log` crate; nothing is printed. A host
//! that wants the lines installs a callback. Lines name tokens by
//! fingerprint only.
//!
//! Only the library's own lines are forwarded. Its HTTP stack logs too,
//! and at trace level `ureq_proto` dumps every byte it writes, the
//! `Authorization` header included; those lines never reach the callback.

use std::ffi::{c_char, c_void, CString};
use std::sync::RwLock;

use super::gf_status;

/// How much the library says, from least to most.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum gf_log_level {
    /// Nothing.
    GF_LOG_OFF = 0,
    /// Failures the caller will also see as errors.
    GF_LOG_ERROR = 1,
    /// Something unexpected that the library worked around.
    GF_LOG_WARN = 2,
    /// Waits for a rate-limit reset and the like.
    GF_LOG_INFO = 3,
    /// Every request: its URL, the token's fingerprint, the status.
    GF_LOG_DEBUG = 4,
    /// Everything.
    GF_LOG_TRACE = 5,
}

/// Receives one log line: `level`, and `message` (UTF-8, borrowed for the
/// duration of the call). Called from any library thread, possibly from
/// several at once; it must not unwind and should return quickly.
pub type gf_log_callback = Option<
    unsafe extern "C" fn(user_data: *mut c_void, level: gf_log_level, message: *const c_char),
>;

struct Sink {
    callback: unsafe extern "C" fn(*mut c_void, gf_log_level, *const c_char),
    user_data: *mut c_void,
}

// SAFETY: the header contract makes the host responsible for `user_data`
// being usable from any thread while the callback is installed.
unsafe impl Send for Sink {}
unsafe impl Sync for Sink {}

struct CallbackLogger {
    sink: RwLock<Option<Sink>>,
}

static LOGGER: CallbackLogger = CallbackLogger {
    sink: RwLock::new(None),
};

/// True for the log targets of this crate (`gitfleet` and its modules).
fn is_ours(target: &str) -> bool {
    target
        .strip_prefix("gitfleet")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
}

impl log::Log for CallbackLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level() && is_ours(metadata.target())
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let sink = self.sink.read().unwrap_or_else(|p| p.into_inner());
        let Some(sink) = sink.as_ref() else {
            return;
        };
        let level = match record.level() {
            log::Level::Error => gf_log_level::GF_LOG_ERROR,
            log::Level::Warn => gf_log_level::GF_LOG_WARN,
            log::Level::Info => gf_log_level::GF_LOG_INFO,
            log::Level::Debug => gf_log_level::GF_LOG_DEBUG,
            log::Level::Trace => gf_log_level::GF_LOG_TRACE,
        };
        let text = format!("{}", record.args()).replace('\0', " ");
        let message = CString::new(text).unwrap_or_default();
        // SAFETY: installed by the host, valid until replaced (contract).
        unsafe { (sink.callback)(sink.user_data, level, message.as_ptr()) };
    }

    fn flush(&self) {}
}

/// Installs `callback` to receive the library's log lines up to
/// `max_level` (a `gf_log_level`), replacing any earlier one; NULL or
/// `GF_LOG_OFF` turns logging off. `user_data` is passed back untouched and
/// must stay valid until the callback is replaced or removed. Process-wide.
/// Lines never contain a token. Only the library's own lines come through,
/// not those of the HTTP stack inside it (which, at trace level, show the
/// raw bytes of each request, its token included).
///
/// If the host process installed another Rust logger first, that one
/// keeps the lines and this returns `GF_STATUS_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn gf_log_set_callback(
    callback: gf_log_callback,
    user_data: *mut c_void,
    max_level: i32,
) -> gf_status {
    let result = std::panic::catch_unwind(|| {
        let Some(filter) = level_filter(max_level) else {
            return gf_status::GF_STATUS_INVALID_ARGUMENT;
        };
        if log::set_logger(&LOGGER).is_err() && !logger_is_ours() {
            return gf_status::GF_STATUS_INVALID_ARGUMENT;
        }
        let sink = callback.map(|callback| Sink {
            callback,
            user_data,
        });
        let filter = if sink.is_some() {
            filter
        } else {
            log::LevelFilter::Off
        };
        *LOGGER.sink.write().unwrap_or_else(|p| p.into_inner()) = sink;
        log::set_max_level(filter);
        gf_status::GF_STATUS_OK
    });
    result.unwrap_or(gf_status::GF_STATUS_INTERNAL)
}

fn level_filter(level: i32) -> Option<log::LevelFilter> {
    const OFF: i32 = gf_log_level::GF_LOG_OFF as i32;
    const ERROR: i32 = gf_log_level::GF_LOG_ERROR as i32;
    const WARN: i32 = gf_log_level::GF_LOG_WARN as i32;
    const INFO: i32 = gf_log_level::GF_LOG_INFO as i32;
    const DEBUG: i32 = gf_log_level::GF_LOG_DEBUG as i32;
    const TRACE: i32 = gf_log_level::GF_LOG_TRACE as i32;
    Some(match level {
        OFF => log::LevelFilter::Off,
        ERROR => log::LevelFilter::Error,
        WARN => log::LevelFilter::Warn,
        INFO => log::LevelFilter::Info,
        DEBUG => log::LevelFilter::Debug,
        TRACE => log::LevelFilter::Trace,
        _ => return None,
    })
}

/// True when the process-wide logger is this module's.
fn logger_is_ours() -> bool {
    let current = log::logger() as *const dyn log::Log as *const ();
    std::ptr::eq(current, &LOGGER as *const CallbackLogger as *const ())
}

#[cfg(test)]
mod tests {
    use super::is_ours;

    #[test]
    fn only_this_crates_lines_are_forwarded() {
        assert!(is_ours("gitfleet"));
        assert!(is_ours("gitfleet::github"));
        assert!(!is_ours("ureq_proto::util"));
        assert!(!is_ours("ureq"));
        assert!(!is_ours("gitfleet_emulator::server"));
    }
}
