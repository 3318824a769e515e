//! Parquet: reading footers through the object-store layer (`read.rs`), merging file schemas
//! (`schema_merge.rs`), pruning row groups by statistics (`pruning.rs`) and bloom filters
//! (`bloom.rs`), pages by the page index (`page_index.rs`), and late materialization with a row
//! filter (`row_filter.rs`), and planning statistics and partitions (`plan.rs`).

pub mod bloom;
pub mod interval;
pub mod page_index;
pub mod plan;
pub mod pruning;
pub mod read;
pub mod row_filter;
pub mod schema_merge;

pub use read::{ParquetFile, RowGroupSlice};
