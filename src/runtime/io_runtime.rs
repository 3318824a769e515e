//! `IoRuntime`: the small tokio runtime a session owns for object-store I/O.
//!
//! Compute runs on the rayon pool; every network or file request of a scan or a write is a
//! future that runs here. A rayon worker waits for such a future with [`IoRuntime::block_on`]
//! (fine: the future never needs a rayon worker to finish), or starts it with
//! [`IoRuntime::spawn`] and collects the result later (prefetch, multipart part uploads).
//! `block_on` is refused on a tokio worker thread, where it would stall the runtime. Query
//! operators wait with [`IoRuntime::block_on_cancellable`]: a request that hangs (a slow or
//! unreachable server) does not hold a cancelled query, which returns within
//! [`CANCEL_POLL`] and drops (aborts) the request.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::runtime::CancellationToken;

/// How often a cancellable wait looks at its query's cancellation flag.
pub const CANCEL_POLL: Duration = Duration::from_millis(10);

/// Worker threads of the I/O runtime: I/O waits, it does not compute, so two are plenty.
const IO_THREADS: usize = 2;

/// A lazily started multi-threaded tokio runtime for I/O.
#[derive(Debug, Default)]
pub struct IoRuntime {
    runtime: OnceLock<std::result::Result<tokio::runtime::Runtime, String>>,
}

impl IoRuntime {
    /// A runtime that starts its threads on first use.
    pub fn new() -> Self {
        Self::default()
    }

    fn runtime(&self) -> Result<&tokio::runtime::Runtime> {
        self.runtime
            .get_or_init(|| {
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(IO_THREADS)
                    .thread_name("flint-io")
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| Error::internal(format!("cannot start the I/O runtime: {e}")))
    }

    /// A handle to the runtime (to spawn tasks from futures running on it).
    pub fn handle(&self) -> Result<tokio::runtime::Handle> {
        Ok(self.runtime()?.handle().clone())
    }

    /// Runs `fut` to completion, blocking the calling thread (a rayon worker or the caller's
    /// thread). Spawned subtasks and connection handling run on the runtime's threads.
    pub fn block_on<F: Future>(&self, fut: F) -> Result<F::Output> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::internal(
                "block_on called from inside an async task; I/O must be awaited there instead",
            ));
        }
        Ok(self.runtime()?.block_on(fut))
    }

    /// Runs `fut` like [`block_on`](Self::block_on), but gives up with a "cancelled" error
    /// within [`CANCEL_POLL`] of `cancel` being set; the future is dropped, which aborts its
    /// requests.
    pub fn block_on_cancellable<F: Future>(
        &self,
        fut: F,
        cancel: &CancellationToken,
    ) -> Result<F::Output> {
        cancel.check()?;
        let flag = cancel.clone();
        let watch = async move {
            while !flag.is_cancelled() {
                tokio::time::sleep(CANCEL_POLL).await;
            }
        };
        let out = self.block_on(async move {
            tokio::select! {
                out = fut => Some(out),
                _ = watch => None,
            }
        })?;
        out.ok_or_else(Error::cancelled)
    }

    /// Waits for a spawned task like [`join`](Self::join), but aborts it and returns a
    /// "cancelled" error once `cancel` is set.
    pub fn join_cancellable<T>(
        &self,
        handle: tokio::task::JoinHandle<T>,
        cancel: &CancellationToken,
    ) -> Result<T> {
        let abort = handle.abort_handle();
        match self.block_on_cancellable(handle, cancel) {
            Ok(joined) => joined.map_err(|e| Error::internal(format!("I/O task failed: {e}"))),
            Err(e) => {
                abort.abort();
                Err(e)
            }
        }
    }

    /// Starts `fut` on the runtime; await or `block_on` the handle for its result.
    pub fn spawn<F>(&self, fut: F) -> Result<tokio::task::JoinHandle<F::Output>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Ok(self.runtime()?.spawn(fut))
    }

    /// Waits for a spawned task; a panic in it becomes an internal error.
    pub fn join<T>(&self, handle: tokio::task::JoinHandle<T>) -> Result<T> {
        self.block_on(handle)?
            .map_err(|e| Error::internal(format!("I/O task failed: {e}")))
    }
}

impl Drop for IoRuntime {
    fn drop(&mut self) {
        // dropping a runtime from inside another runtime's thread panics; shut down in the
        // background instead, abandoning whatever is still in flight
        if let Some(Ok(rt)) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::IoRuntime;
    use crate::ErrorKind;
    use crate::runtime::CancellationToken;

    #[test]
    fn a_cancel_ends_a_wait_for_a_request_that_never_answers() {
        let io = IoRuntime::new();
        let cancel = CancellationToken::new();
        let token = cancel.clone();
        let canceller = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            token.cancel();
        });
        let start = Instant::now();
        let err = io
            .block_on_cancellable(std::future::pending::<()>(), &cancel)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Cancelled);
        assert!(
            start.elapsed() < Duration::from_millis(500),
            "{:?}",
            start.elapsed()
        );
        canceller.join().unwrap();
        // a spawned task is aborted the same way
        let h = io.spawn(std::future::pending::<()>()).unwrap();
        let err = io.join_cancellable(h, &cancel).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Cancelled);
        // without a cancel the result comes through
        let fresh = CancellationToken::new();
        assert_eq!(io.block_on_cancellable(async { 7 }, &fresh).unwrap(), 7);
    }

    #[test]
    fn blocks_on_and_spawns() {
        let io = IoRuntime::new();
        assert_eq!(io.block_on(async { 1 + 1 }).unwrap(), 2);
        let h = io.spawn(async { 40 + 2 }).unwrap();
        assert_eq!(io.join(h).unwrap(), 42);
    }

    #[test]
    fn refuses_block_on_inside_the_runtime() {
        let io = std::sync::Arc::new(IoRuntime::new());
        let inner = io.clone();
        let h = io
            .spawn(async move { inner.block_on(async {}).is_err() })
            .unwrap();
        assert!(io.join(h).unwrap());
    }
}
