//! `CREATE TABLE t [(columns)] CLUSTERED BY (k) INTO n BUCKETS [AS query]`: an in-memory table
//! whose `n` partitions hold the rows placed by `hash(k) % n`, the placement every hash exchange
//! uses. The query's rows are shuffled once, by a hash exchange, and stored as they come out
//! (a stored table: counted in the memory pool, spilled when refused); later
//! rows (`INSERT`, `UPDATE`, `DELETE`) are placed by the same hash. Scans of the table report
//! `Partitioning::Hash(k, n)`, so joins and aggregations on `k` need no exchange.

use arrow::datatypes::SchemaRef;

use crate::catalog::MemTable;
use crate::error::{Error, Result};
use crate::logical::plan::LogicalPlan;
use crate::runtime::CancellationToken;
use crate::session::SessionContext;
use crate::session::statement::{check_unique_columns, nullable_schema};
use crate::sql::TableBucketing;

impl SessionContext {
    /// The table of a `CREATE TABLE ... CLUSTERED BY (cols) INTO n BUCKETS [AS query]`.
    pub(super) fn bucketed_table(
        &self,
        name: &str,
        schema: Option<SchemaRef>,
        source: Option<LogicalPlan>,
        bucketing: &TableBucketing,
        cancel: &CancellationToken,
    ) -> Result<MemTable> {
        let schema = match (&schema, &source) {
            (Some(s), _) => s.clone(),
            (None, Some(src)) => nullable_schema(src.schema().arrow_schema()),
            (None, None) => {
                return Err(Error::internal("CREATE TABLE without schema or query"));
            }
        };
        check_unique_columns(&schema)?;
        let keys = bucketing
            .columns
            .iter()
            .map(|c| {
                schema
                    .index_of(c)
                    .map_err(|_| Error::not_found(format!("CLUSTERED BY column \"{c}\" not found")))
            })
            .collect::<Result<Vec<usize>>>()?;
        let n = bucketing.buckets;
        let table =
            MemTable::new_stored_partitioned(schema, n, Some(keys), self.table_storage(name))?;
        if let Some(src) = source {
            // the source's columns are the table's, in order (CREATE TABLE conformed them); the
            // write shuffles them by a hash exchange on the keys
            self.write_stored(&table, src, false, cancel)?;
        }
        Ok(table)
    }
}
