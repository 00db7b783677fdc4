//! The internal runtime that runs blocking calls for the async C API.
//!
//! Started on first use and kept for the life of the process. It has one
//! worker thread for bookkeeping (delivering cancellations) and a bounded
//! pool of blocking threads for the calls themselves; calls beyond the bound
//! wait in a queue.

use once_cell::sync::Lazy;
use tokio::runtime::{Builder, Runtime};

use crate::error::{Error, Result};

/// The most calls that run at the same time; the rest queue.
pub const MAX_BLOCKING_THREADS: usize = 64;

static RUNTIME: Lazy<std::result::Result<Runtime, String>> = Lazy::new(|| {
    Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .thread_name("gitfleet")
        .enable_time()
        .build()
        .map_err(|error| format!("could not start the runtime: {error}"))
});

fn runtime() -> Result<&'static Runtime> {
    RUNTIME
        .as_ref()
        .map_err(|message| Error::Network(message.clone()))
}

/// Runs a blocking job on the runtime's thread pool.
pub(crate) fn spawn_blocking<F>(job: F) -> Result<()>
where
    F: FnOnce() + Send + 'static,
{
    runtime()?.spawn_blocking(job);
    Ok(())
}

/// Runs a short job on the runtime's worker thread.
pub(crate) fn spawn<F>(job: F) -> Result<()>
where
    F: FnOnce() + Send + 'static,
{
    runtime()?.spawn(async move { job() });
    Ok(())
}
