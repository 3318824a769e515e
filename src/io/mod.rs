//! Reading files: finding them (`listing.rs`: a file, a folder or a glob),
//! Parquet metadata, pruning and readers (`parquet/`), CSV options and schema
//! inference (`csv.rs`).

pub mod csv;
pub mod listing;
pub mod parquet;
