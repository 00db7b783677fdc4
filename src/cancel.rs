//! Cancellation that also interrupts waits.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// A flag a caller can raise to stop a call. Clones share the flag.
///
/// A cancelled call stops at its next step: before sending a request, and
/// at once when it is waiting (a backoff or a wait for a rate-limit reset).
/// A request already on the wire runs to its timeout in the background.
// Limitation: ureq cannot abort an exchange in progress, hence the above.
#[derive(Debug, Clone, Default)]
pub struct CancelToken {
    inner: Arc<Flag>,
}

/// The flag, read without a lock at every step of a call, and the lock and
/// condition variable that wake a wait when it is raised.
#[derive(Debug, Default)]
struct Flag {
    raised: AtomicBool,
    lock: Mutex<()>,
    wake: Condvar,
}

impl CancelToken {
    /// A token not cancelled yet.
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    /// Raises the flag and wakes any wait.
    pub fn cancel(&self) {
        self.inner.raised.store(true, Ordering::SeqCst);
        // Taking the lock orders the store before a sleeper's check or
        // after its wait began, so the notification cannot be missed.
        let _guard = self.inner.lock.lock().unwrap_or_else(|p| p.into_inner());
        self.inner.wake.notify_all();
    }

    /// True once [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.inner.raised.load(Ordering::SeqCst)
    }

    /// `Err(Cancelled)` when cancelled.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::Cancelled)
        } else {
            Ok(())
        }
    }

    /// Sleeps for `duration`, or less when cancelled (then `Err(Cancelled)`).
    pub fn sleep(&self, duration: Duration) -> Result<()> {
        let deadline = Instant::now() + duration;
        let flag = &*self.inner;
        let mut guard = flag.lock.lock().unwrap_or_else(|p| p.into_inner());
        while !self.is_cancelled() {
            let now = Instant::now();
            if now >= deadline {
                return Ok(());
            }
            guard = flag
                .wake
                .wait_timeout(guard, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        Err(Error::Cancelled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancel_interrupts_a_sleep() {
        let token = CancelToken::new();
        let other = token.clone();
        let started = Instant::now();
        let sleeper = std::thread::spawn(move || other.sleep(Duration::from_secs(30)));
        std::thread::sleep(Duration::from_millis(20));
        token.cancel();
        assert_eq!(sleeper.join().unwrap(), Err(Error::Cancelled));
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(token.check(), Err(Error::Cancelled));
    }

    #[test]
    fn uncancelled_sleep_returns_ok() {
        assert_eq!(CancelToken::new().sleep(Duration::from_millis(1)), Ok(()));
    }
}
