//! Memory accounting: operators reserve memory from a session-wide pool
//! before holding data, and get a "resources exhausted" error naming the
//! operator and sizes when the limit would be exceeded.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Result};

/// A pool of memory shared by all operators of a session.
#[derive(Debug)]
pub struct MemoryPool {
    limit: Option<usize>,
    used: AtomicUsize,
    peak: AtomicUsize,
}

impl MemoryPool {
    /// A pool with an optional limit in bytes.
    pub fn new(limit: Option<usize>) -> Arc<Self> {
        Arc::new(MemoryPool {
            limit,
            used: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        })
    }

    /// Bytes reserved now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Largest number of bytes reserved at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// The limit, if any.
    pub fn limit(&self) -> Option<usize> {
        self.limit
    }

    fn try_grow(&self, consumer: &str, bytes: usize) -> Result<()> {
        let mut cur = self.used.load(Ordering::Relaxed);
        loop {
            let new = cur + bytes;
            if let Some(limit) = self.limit
                && new > limit
            {
                return Err(Error::resources_exhausted(format!(
                    "{consumer} needs {} more but the memory limit is {} and {} are in use",
                    human_bytes(bytes),
                    human_bytes(limit),
                    human_bytes(cur)
                )));
            }
            match self
                .used
                .compare_exchange_weak(cur, new, Ordering::SeqCst, Ordering::Relaxed)
            {
                Ok(_) => {
                    self.peak.fetch_max(new, Ordering::Relaxed);
                    return Ok(());
                }
                Err(actual) => cur = actual,
            }
        }
    }

    fn shrink(&self, bytes: usize) {
        self.used.fetch_sub(bytes, Ordering::SeqCst);
    }

    /// A new reservation of zero bytes for `consumer` (an operator name).
    pub fn reserve(self: &Arc<Self>, consumer: impl Into<String>) -> MemoryReservation {
        MemoryReservation {
            pool: self.clone(),
            consumer: consumer.into(),
            size: 0,
        }
    }
}

/// Memory held by one operator; released when dropped.
#[derive(Debug)]
pub struct MemoryReservation {
    pool: Arc<MemoryPool>,
    consumer: String,
    size: usize,
}

impl MemoryReservation {
    /// Bytes held.
    pub fn size(&self) -> usize {
        self.size
    }
    /// Grows by `bytes` or fails when the pool's limit would be exceeded.
    pub fn try_grow(&mut self, bytes: usize) -> Result<()> {
        self.pool.try_grow(&self.consumer, bytes)?;
        self.size += bytes;
        Ok(())
    }
    /// Sets the held size to `bytes`, growing or shrinking.
    pub fn try_resize(&mut self, bytes: usize) -> Result<()> {
        if bytes > self.size {
            self.try_grow(bytes - self.size)
        } else {
            self.shrink(self.size - bytes);
            Ok(())
        }
    }
    /// Releases `bytes`.
    pub fn shrink(&mut self, bytes: usize) {
        let b = bytes.min(self.size);
        self.pool.shrink(b);
        self.size -= b;
    }
    /// Releases everything.
    pub fn free(&mut self) {
        self.shrink(self.size);
    }
}

impl Drop for MemoryReservation {
    fn drop(&mut self) {
        self.free();
    }
}

/// Formats a byte count as `12.3 MB`.
pub fn human_bytes(b: usize) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::MemoryPool;

    #[test]
    fn limit_is_enforced_and_released() {
        let pool = MemoryPool::new(Some(100));
        let mut r = pool.reserve("test");
        r.try_grow(60).unwrap();
        let err = r.try_grow(50).unwrap_err();
        assert!(err.to_string().contains("test needs"));
        drop(r);
        assert_eq!(pool.used(), 0);
        assert_eq!(pool.peak(), 60);
    }
}
