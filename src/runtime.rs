//! The internal runtime that runs blocking calls for the async C API.
//!
//! Started on first use. It has one worker thread for bookkeeping
//! (delivering cancellations) and a bounded pool of blocking threads for
//! the calls themselves; calls beyond the bound wait in a queue.
//!
//! [`shut_down`] stops it, for hosts that want no library thread left (to
//! unload the library, or before `fork`); the next call starts a fresh one.
//! Every thread the library starts is counted here, so that a shutdown can
//! wait until they are all gone.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, MutexGuard, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::runtime::{Builder, Runtime};

use crate::error::{Error, Result};

/// The most calls that run at the same time; the rest queue.
pub const MAX_BLOCKING_THREADS: usize = 64;

/// The running runtime, if any. Jobs are spawned under the read lock, so a
/// shutdown (which takes the runtime out under the write lock) sees every
/// job spawned on the runtime it stops.
static RUNTIME: RwLock<Option<Runtime>> = RwLock::new(None);

/// Shutdowns run one at a time.
static SHUTDOWN: Mutex<()> = Mutex::new(());

/// The library's threads that are alive, and a signal when one ends.
static CENSUS: Mutex<Census> = Mutex::new(Census {
    by_generation: BTreeMap::new(),
    current: None,
    next_generation: 0,
    helpers: 0,
});
static CENSUS_CHANGED: Condvar = Condvar::new();

/// Threads to join once the census says they have done their work: the
/// helpers, and the stoppers that join a stopped runtime's threads. A
/// thread that has run its last line of library code is still in the
/// process until joined; joining is what lets a host unload the library.
static UNJOINED: Mutex<Vec<JoinHandle<()>>> = Mutex::new(Vec::new());

fn unjoined() -> MutexGuard<'static, Vec<JoinHandle<()>>> {
    UNJOINED.lock().unwrap_or_else(|p| p.into_inner())
}

/// Keeps `thread` to be joined later, first joining those that are done,
/// so the list stays as short as the threads alive.
fn keep_to_join(thread: JoinHandle<()>) {
    let mut threads = unjoined();
    let (done, running): (Vec<_>, Vec<_>) = threads.drain(..).partition(|t| t.is_finished());
    *threads = running;
    threads.push(thread);
    drop(threads);
    for thread in done {
        let _ = thread.join();
    }
}

struct Census {
    /// Threads alive per runtime, keyed by the runtime's generation.
    by_generation: BTreeMap<u64, usize>,
    /// The generation of the runtime now running, if any.
    current: Option<u64>,
    next_generation: u64,
    /// Helper threads started by [`spawn_thread`] and still running.
    helpers: usize,
}

impl Census {
    /// Threads that a shutdown waits for: those of every runtime stopped
    /// (or being stopped), and the helpers.
    fn stopping(&self) -> usize {
        let retired: usize = self
            .by_generation
            .iter()
            .filter(|(generation, _)| Some(**generation) != self.current)
            .map(|(_, count)| count)
            .sum();
        retired + self.helpers
    }
}

fn census() -> MutexGuard<'static, Census> {
    CENSUS.lock().unwrap_or_else(|p| p.into_inner())
}

thread_local! {
    /// True on the threads this module starts.
    static LIBRARY_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// True when the calling thread is one of the library's (a callback runs
/// on one).
pub(crate) fn on_library_thread() -> bool {
    LIBRARY_THREAD.with(Cell::get)
}

fn build(generation: u64) -> Result<Runtime> {
    Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .thread_name("gitfleet")
        .enable_time()
        .on_thread_start(move || {
            LIBRARY_THREAD.with(|flag| flag.set(true));
            *census().by_generation.entry(generation).or_default() += 1;
        })
        .on_thread_stop(move || {
            let mut census = census();
            if let Some(count) = census.by_generation.get_mut(&generation) {
                *count -= 1;
                if *count == 0 {
                    census.by_generation.remove(&generation);
                }
            }
            CENSUS_CHANGED.notify_all();
        })
        .build()
        .map_err(|error| Error::Network(format!("could not start the runtime: {error}")))
}

/// Runs `use_it` with `job` on the running runtime, starting one if none
/// runs. When no runtime can be started, `job` comes back with the error.
fn with_runtime<J, T>(
    job: J,
    use_it: impl FnOnce(&Runtime, J) -> T,
) -> std::result::Result<T, (Error, J)> {
    {
        let slot = RUNTIME.read().unwrap_or_else(|p| p.into_inner());
        if let Some(runtime) = slot.as_ref() {
            return Ok(use_it(runtime, job));
        }
    }
    let mut slot = RUNTIME.write().unwrap_or_else(|p| p.into_inner());
    if slot.is_none() {
        let generation = {
            let mut census = census();
            let generation = census.next_generation;
            census.next_generation += 1;
            census.current = Some(generation);
            generation
        };
        match build(generation) {
            Ok(runtime) => *slot = Some(runtime),
            Err(error) => {
                census().current = None;
                return Err((error, job));
            }
        }
    }
    match slot.as_ref() {
        Some(runtime) => Ok(use_it(runtime, job)),
        None => Err((Error::Network("the runtime is gone".into()), job)),
    }
}

/// Runs a blocking job on the runtime's thread pool. When no runtime can
/// be started, the job comes back with the error, not run.
pub(crate) fn spawn_blocking<F>(job: F) -> std::result::Result<(), (Error, F)>
where
    F: FnOnce() + Send + 'static,
{
    with_runtime(job, |runtime, job| {
        runtime.spawn_blocking(job);
    })
}

/// Runs a short job on the runtime's worker thread. A job that never runs
/// (no runtime could be started, or the runtime stopped first) is dropped:
/// whoever needs it to happen must see to it in its `Drop`.
pub(crate) fn spawn<F>(job: F)
where
    F: FnOnce() + Send + 'static,
{
    let _ = with_runtime(job, |runtime, job| {
        runtime.spawn(async move { job() });
    });
}

/// Runs `job` on a helper thread of the library's own, counted for
/// [`shut_down`]; on the calling thread if no thread can be started.
pub(crate) fn spawn_thread<F>(job: F)
where
    F: FnOnce() + Send + 'static,
{
    census().helpers += 1;
    let job = std::sync::Arc::new(Mutex::new(Some(job)));
    let for_thread = std::sync::Arc::clone(&job);
    let take = |job: &Mutex<Option<F>>| job.lock().unwrap_or_else(|p| p.into_inner()).take();
    let run = move || {
        LIBRARY_THREAD.with(|flag| flag.set(true));
        if let Some(job) = take(&for_thread) {
            job();
        }
        census().helpers -= 1;
        CENSUS_CHANGED.notify_all();
    };
    let spawned = std::thread::Builder::new()
        .name("gitfleet-callback".into())
        .spawn(run);
    match spawned {
        Ok(thread) => keep_to_join(thread),
        Err(_) => {
            if let Some(job) = take(&job) {
                job();
            }
            census().helpers -= 1;
            CENSUS_CHANGED.notify_all();
        }
    }
}

/// What a shutdown ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stopped {
    /// Every library thread has ended.
    All,
    /// This many threads were still running at the deadline (a request on
    /// the wire cannot be interrupted; they end with it).
    Not(usize),
}

/// Stops the runtime, if one runs: `before_stopping` runs first (it
/// completes the calls still pending), then the runtime's threads are
/// stopped, waiting up to `timeout` in all for them and for the helper
/// threads. A later job starts a fresh runtime.
///
/// Must not be called on a library thread.
pub(crate) fn shut_down(timeout: Duration, before_stopping: impl FnOnce()) -> Stopped {
    // A year is as good as forever, and cannot overflow an `Instant`.
    let deadline = Instant::now() + timeout.min(Duration::from_secs(365 * 24 * 3600));
    let _one_at_a_time = SHUTDOWN.lock().unwrap_or_else(|p| p.into_inner());

    let runtime = {
        let mut slot = RUNTIME.write().unwrap_or_else(|p| p.into_inner());
        let runtime = slot.take();
        census().current = None;
        runtime
    };
    before_stopping();

    // Limitation: a blocking thread in the middle of an HTTP exchange cannot
    // be interrupted (ureq has no abort); it ends with the exchange, by the
    // client's timeout at most, and is reported as still running until then.
    if let Some(runtime) = runtime {
        // A stopper thread waits for the runtime's threads however long
        // they take and joins them; this call waits for it only until the
        // deadline, and a later shutdown joins what is left. On a thread
        // of its own also because tokio refuses to wait for its threads
        // from inside an async context, which the caller's thread may be.
        let forever = Duration::from_secs(365 * 24 * 3600);
        let stopper = std::thread::Builder::new()
            .name("gitfleet-shutdown".into())
            .spawn(move || runtime.shutdown_timeout(forever));
        match stopper {
            Ok(stopper) => keep_to_join(stopper),
            Err(error) => log::error!("could not start a thread to stop the runtime: {error}"),
        }
    }

    let mut census = census();
    loop {
        let running = census.stopping();
        if running == 0 {
            break;
        }
        let now = Instant::now();
        if now >= deadline {
            return Stopped::Not(running);
        }
        census = CENSUS_CHANGED
            .wait_timeout(census, deadline - now)
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
    drop(census);
    // Every counted thread has done its work: what is left of each is its
    // exit, which these joins wait for.
    let threads = std::mem::take(&mut *unjoined());
    for thread in threads {
        let _ = thread.join();
    }
    Stopped::All
}
