//! Progress reporting for long backup, verify and restore jobs: the library reports rows and
//! bytes to a [`Progress`]; the CLI shows them as a progress bar on stderr.

/// Receives progress of a job (called from several threads).
pub trait Progress: Sync {
    /// A step starts (`what`: e.g. "backup orders"), with its expected rows and bytes if known.
    fn begin(&self, what: &str, rows: Option<u64>, bytes: Option<u64>);
    /// Rows and bytes done since the last call.
    fn advance(&self, rows: u64, bytes: u64);
    /// The step is done.
    fn end(&self);
}

/// Reports nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn begin(&self, _what: &str, _rows: Option<u64>, _bytes: Option<u64>) {}
    fn advance(&self, _rows: u64, _bytes: u64) {}
    fn end(&self) {}
}
