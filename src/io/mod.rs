//! Reading and writing files through one object-store layer (`object_store/`: local paths,
//! `file://`, `s3://`): listing a table's files and Hive partitions (`listing.rs`, `hive.rs`),
//! ranged reads with request and byte counters (`fetch.rs`), Parquet metadata, pruning and
//! schema merging (`parquet/`), CSV options and inference (`csv.rs`), the predicates a scan
//! evaluates itself (`predicate.rs`), writes (`write/`), bucketed Parquet's spec (`bucketing.rs`)
//! and content checksums (`checksum.rs`).

pub mod bucketing;
pub mod checksum;
pub mod csv;
pub mod fetch;
pub mod hive;
pub mod listing;
pub mod object_store;
pub mod parquet;
pub mod predicate;
pub mod write;
