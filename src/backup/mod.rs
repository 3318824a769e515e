//! Backup and restore jobs, as a library (the `flint backup` / `flint restore` commands only parse
//! flags and draw the progress bar).
//!
//! A backup is a folder or S3 prefix holding one folder of Parquet files per table and a
//! `manifest.json` ([`manifest`]): tables, exact Arrow schemas (metadata included), and per file
//! rows, bytes, SHA-256 and a content checksum that survives re-encoding. Backups can hold only
//! the rows matching a predicate (incremental backups). Restore verifies every file against the
//! manifest before the tables appear.
//!
//! ```
//! use flint::SessionContext;
//! use flint::backup::{BackupOptions, NoProgress, RestoreOptions, backup_tables, restore_backup};
//! let dir = std::env::temp_dir().join(format!("flint-backup-doc-{}", std::process::id()));
//! let dest = dir.display().to_string();
//! let ctx = SessionContext::new();
//! ctx.execute_sql("CREATE TABLE t AS SELECT i, 'row ' || i AS s FROM range(100) r(i)").unwrap();
//! let m = backup_tables(&ctx, &["t".into()], &dest, &BackupOptions::default(), &NoProgress).unwrap();
//! assert_eq!(m.tables[0].rows, 100);
//! let fresh = SessionContext::new();
//! restore_backup(&fresh, &dest, &RestoreOptions::default(), &NoProgress).unwrap();
//! assert_eq!(fresh.table("t").unwrap().count().unwrap(), 100);
//! std::fs::remove_dir_all(dir).unwrap();
//! ```

pub mod manifest;
pub mod progress;
pub mod read;
pub mod write;

pub use manifest::{FileEntry, Manifest, TableEntry};
pub use progress::{NoProgress, Progress};
pub use read::{BackupReport, RestoreOptions, read_manifest, restore_backup, verify_backup};
pub use write::{BackupOptions, backup_tables};
