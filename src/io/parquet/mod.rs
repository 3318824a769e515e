//! Parquet: reading file metadata and schemas (`read.rs`) and pruning row
//! groups by their min/max statistics (`pruning.rs`).

pub mod pruning;
pub mod read;

pub use read::{ParquetFile, RowGroupSlice};
