//! The running server: an accept thread, one thread per connection, and an optional timer
//! that stops everything when the configured lifetime is over.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, BufReader, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::config::{Config, TokenSpec};
use crate::faults::{Arrival, Fault, FaultRule};
use crate::handler::App;
use crate::http::{read_request, ReadError, Response};
use crate::limits::Stats;

/// A running GitHub API emulator on `127.0.0.1`.
///
/// Dropping it (or calling [`Emulator::stop`]) closes every connection, joins its threads and
/// frees the port.
pub struct Emulator {
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
    timer: Option<JoinHandle<()>>,
}

/// What the emulator's threads share.
struct Shared {
    app: App,
    addr: SocketAddr,
    running: AtomicBool,
    connections: Mutex<Connections>,
    /// Set when stopping; the lifetime timer waits on it.
    stopped: Mutex<bool>,
    stopped_changed: Condvar,
}

/// Open connections, so stopping can close them, and their threads, so it can join them.
#[derive(Default)]
struct Connections {
    next_id: u64,
    open: HashMap<u64, TcpStream>,
    threads: Vec<JoinHandle<()>>,
}

impl Emulator {
    /// Starts an emulator on a free port of 127.0.0.1.
    pub fn start(config: Config) -> io::Result<Emulator> {
        Emulator::start_on(config, 0)
    }

    /// Starts an emulator on `127.0.0.1:port` (0 picks a free port).
    pub fn start_on(config: Config, port: u16) -> io::Result<Emulator> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))?;
        let shared = Arc::new(Shared {
            app: App::new(&config),
            addr: listener.local_addr()?,
            running: AtomicBool::new(true),
            connections: Mutex::new(Connections::default()),
            stopped: Mutex::new(false),
            stopped_changed: Condvar::new(),
        });
        let acceptor = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name("emulator-accept".to_string())
                .spawn(move || shared.accept_loop(listener))?
        };
        let timer = match config.lifetime {
            Some(lifetime) => {
                let shared = Arc::clone(&shared);
                let spawned = thread::Builder::new()
                    .name("emulator-lifetime".to_string())
                    .spawn(move || shared.stop_after(lifetime));
                Some(spawned?)
            }
            None => None,
        };
        Ok(Emulator {
            shared,
            acceptor: Some(acceptor),
            timer,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// `http://127.0.0.1:PORT`, the API base URL.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.shared.addr)
    }

    /// False once stopped, or once its lifetime is over.
    pub fn is_running(&self) -> bool {
        self.shared.is_running()
    }

    /// Later requests with this token get 401 Bad credentials. Unknown secrets are ignored.
    pub fn revoke(&self, secret: &str) {
        self.shared.app.limits().revoke(secret);
    }

    /// Accepts another token, or replaces the one with the same secret.
    pub fn add_token(&self, spec: TokenSpec) {
        self.shared.app.add_token(spec);
    }

    /// Sets how many requests a token has left for `resource` (`"core"` or `"search"`) in its
    /// current window, starting a window if none is running. Unknown names are ignored.
    pub fn set_remaining(&self, secret: &str, resource: &str, remaining: u32) {
        self.shared
            .app
            .limits()
            .set_remaining(secret, resource, remaining);
    }

    /// Starts fresh windows for all resources of a token now, with full quotas.
    pub fn expire_window(&self, secret: &str) {
        self.shared.app.limits().expire_window(secret);
    }

    /// The next `count` requests with this token get a secondary-limit 403, with
    /// `retry-after: N` if given. They do not use quota.
    pub fn trigger_secondary(&self, secret: &str, count: u32, retry_after: Option<u64>) {
        self.shared
            .app
            .limits()
            .trigger_secondary(secret, count, retry_after);
    }

    /// Request statistics so far.
    pub fn stats(&self) -> Stats {
        self.shared.app.stats()
    }

    /// Adds a fault rule after the rules already in place.
    pub fn add_fault(&self, rule: FaultRule) {
        self.shared.app.injector().add(rule);
    }

    /// Removes every fault rule; requests are answered normally again.
    pub fn clear_faults(&self) {
        self.shared.app.injector().clear();
    }

    /// Every request received so far, in order of arrival, when
    /// [`Faults::record_arrivals`](crate::Faults::record_arrivals) is set; empty otherwise.
    pub fn arrivals(&self) -> Vec<Arrival> {
        self.shared.app.injector().arrivals()
    }

    /// Stops the server; the same as dropping it.
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shared.stop();
        for handle in [self.acceptor.take(), self.timer.take()]
            .into_iter()
            .flatten()
        {
            let _ = handle.join();
        }
        let threads = std::mem::take(&mut self.shared.connections().threads);
        for handle in threads {
            let _ = handle.join();
        }
    }
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.shared.addr)
            .field("running", &self.is_running())
            .finish()
    }
}

/// Sends the start of an answer and closes the connection.
fn cut(writer: &mut TcpStream, start: &[u8]) -> io::Result<()> {
    let _ = writer.write_all(start).and_then(|()| writer.flush());
    let _ = writer.shutdown(Shutdown::Both);
    Err(io::ErrorKind::ConnectionAborted.into())
}

impl Shared {
    fn is_running(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }

    fn connections(&self) -> MutexGuard<'_, Connections> {
        self.connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Stops accepting, closes every connection and wakes the timer. Idempotent.
    fn stop(&self) {
        if !self.running.swap(false, Ordering::SeqCst) {
            return;
        }
        // The accept thread is blocked in accept(): a connection wakes it up to notice.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        for stream in self.connections().open.values() {
            let _ = stream.shutdown(Shutdown::Both);
        }
        *self.stopped.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.stopped_changed.notify_all();
    }

    /// Waits `pause`, or less if the server stops meanwhile; true if it is still running.
    fn pause(&self, pause: Duration) -> bool {
        let stopped = self.stopped.lock().unwrap_or_else(PoisonError::into_inner);
        let waited = self
            .stopped_changed
            .wait_timeout_while(stopped, pause, |stopped| !*stopped);
        drop(waited);
        self.is_running()
    }

    fn stop_after(&self, lifetime: Duration) {
        let stopped = self.stopped.lock().unwrap_or_else(PoisonError::into_inner);
        let waited = self
            .stopped_changed
            .wait_timeout_while(stopped, lifetime, |stopped| !*stopped);
        drop(waited);
        self.stop();
    }

    fn accept_loop(self: Arc<Self>, listener: TcpListener) {
        for stream in listener.incoming() {
            if !self.is_running() {
                break;
            }
            match stream {
                Ok(stream) => self.spawn_connection(stream),
                // Out of file descriptors or similar: give the system a moment.
                Err(_) => thread::sleep(Duration::from_millis(10)),
            }
        }
    }

    fn spawn_connection(self: &Arc<Self>, stream: TcpStream) {
        let mut connections = self.connections();
        // Checked under the lock, so `stop` cannot miss a connection registered now.
        if !self.is_running() {
            return;
        }
        let Ok(registered) = stream.try_clone() else {
            return;
        };
        connections.threads.retain(|handle| !handle.is_finished());
        let id = connections.next_id;
        connections.next_id += 1;
        let shared = Arc::clone(self);
        let spawned = thread::Builder::new()
            .name("emulator-conn".to_string())
            .spawn(move || {
                shared.serve_connection(stream);
                shared.connections().open.remove(&id);
            });
        if let Ok(handle) = spawned {
            connections.open.insert(id, registered);
            connections.threads.push(handle);
        }
    }

    /// Answers requests on one connection until the client closes it or the server stops.
    fn serve_connection(&self, stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let (Ok(peer), Ok(read_half)) = (stream.peer_addr(), stream.try_clone()) else {
            return;
        };
        let mut reader = BufReader::new(read_half);
        let mut writer = stream;
        while self.is_running() {
            let request = match read_request(&mut reader, peer.ip()) {
                Ok(request) => request,
                Err(ReadError::Closed) => return,
                Err(ReadError::Malformed(reason)) => {
                    let _ =
                        Response::bad_request(reason).write_to(&mut writer, false, false, false);
                    return;
                }
            };
            let keep_alive = request.keep_alive();
            let fault = self.app.injector().arrive(&request.target);
            match fault {
                Some(Fault::Drop) => return,
                Some(Fault::Slow(pause)) if !self.pause(pause) => return,
                _ => {}
            }
            let response = self.app.handle(&request, self.addr, fault.as_ref());
            let head_only = request.method == "HEAD";
            let (bytes, head_len) = response.encode(keep_alive, request.is_http10(), head_only);
            let written = match fault {
                Some(Fault::CutHead) => cut(&mut writer, &bytes[..head_len / 2]),
                Some(Fault::CutBody) => {
                    let body_len = bytes.len() - head_len;
                    cut(&mut writer, &bytes[..head_len + body_len / 2])
                }
                Some(Fault::StallBody(pause)) => {
                    let (head, body) = bytes.split_at(head_len);
                    match writer.write_all(head).and_then(|()| writer.flush()) {
                        Ok(()) if self.pause(pause) => writer.write_all(body),
                        _ => return,
                    }
                }
                _ => writer.write_all(&bytes),
            };
            if written.is_err() || !keep_alive {
                return;
            }
        }
    }
}
