//! Leaf operators that read tables: in-memory batches, Parquet files and CSV files.

pub mod csv;
pub mod memory;
pub mod parquet;

pub use memory::MemoryScanExec;
