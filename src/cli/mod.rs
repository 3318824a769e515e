//! The command-line side: output formats (`format.rs`), the interactive REPL
//! (`repl.rs`) and running scripts.

pub mod format;
pub mod repl;
