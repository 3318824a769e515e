//! The command-line side: output formats (`format.rs`), the interactive REPL
//! and script runner (`repl.rs`), and the sqllogictest runner (`slt/`) with
//! flint as its database (`slt_engine.rs`), and the backup/restore commands (`backup.rs`).

pub mod backup;
pub mod format;
pub mod repl;
pub mod slt;
pub mod slt_engine;
