//! Tables and views: the `TableProvider` trait, in-memory tables
//! (`memory.rs`; the ones the session materializes are stored in memory and on disk under the
//! memory limit, `stored.rs`), tables over files (`listing.rs`), the TPC-H demo data
//! (`tpch.rs`) and the session's name → table map (`catalog.rs`).

pub mod listing;
pub mod memory;
pub mod names;
pub mod range;
pub mod statistics;
pub mod stored;
pub mod tpch;

use std::any::Any;
use std::fmt::Debug;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::config::SessionConfig;
use crate::error::{Error, Result};
use crate::exec::ExecutionPlan;
use crate::logical::expr::Expr;

pub use listing::ListingTable;
pub use memory::MemTable;
pub use names::{Catalog, CatalogEntry};

/// What kind of table a provider is (for `SHOW TABLES` and `DESCRIBE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableKind {
    /// Data held in memory.
    Memory,
    /// Files on disk or in an object store.
    External {
        /// Format name.
        format: String,
        /// Where the files are.
        location: String,
    },
}

/// What a scan is asked for.
#[derive(Debug, Clone, Copy)]
pub struct ScanArgs<'a> {
    /// Columns to read (indices into the table schema); `None` for all.
    pub projection: Option<&'a Vec<usize>>,
    /// Conjuncts the scan may use to skip data (they are still applied above the scan).
    pub filters: &'a [Expr],
    /// Rows needed at most (when no filter is pending above).
    pub fetch: Option<usize>,
    /// Session settings.
    pub config: &'a SessionConfig,
}

/// A table that can be scanned.
pub trait TableProvider: Debug + Send + Sync {
    /// For downcasting.
    fn as_any(&self) -> &dyn Any;

    /// The table's columns.
    fn schema(&self) -> SchemaRef;

    /// Memory or external.
    fn kind(&self) -> TableKind;

    /// A physical plan reading the table.
    fn scan(&self, args: ScanArgs<'_>) -> Result<Arc<dyn ExecutionPlan>>;

    /// Number of rows, when cheaply known.
    fn row_count(&self) -> Option<usize> {
        None
    }

    /// Row count and column statistics, when known.
    fn statistics(&self) -> Option<std::sync::Arc<statistics::TableStatistics>> {
        None
    }

    /// The `DEFAULT` value of column `i` (constant), used by INSERT for columns it does not name.
    fn column_default(&self, _i: usize) -> Option<datafusion_common::ScalarValue> {
        None
    }

    /// Appends rows (already of the table's schema); returns the number of rows added.
    fn insert(&self, _batches: Vec<RecordBatch>) -> Result<usize> {
        Err(Error::not_implemented("this table does not support INSERT"))
    }

    /// Replaces all rows (used by DELETE and UPDATE on in-memory tables).
    fn replace(&self, _batches: Vec<RecordBatch>) -> Result<()> {
        Err(Error::not_implemented(
            "this table does not support DELETE or UPDATE",
        ))
    }
}
