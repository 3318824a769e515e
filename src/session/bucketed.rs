//! `CREATE TABLE t [(columns)] CLUSTERED BY (k) INTO n BUCKETS [AS query]`: an in-memory table
//! whose `n` partitions hold the rows placed by `hash(k) % n`, the placement every hash exchange
//! uses. The query's rows are shuffled once, by a hash exchange, and kept as they come out; later
//! rows (`INSERT`, `UPDATE`, `DELETE`) are placed by the same hash. Scans of the table report
//! `Partitioning::Hash(k, n)`, so joins and aggregations on `k` need no exchange.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;

use crate::catalog::MemTable;
use crate::error::{Error, Result};
use crate::logical::expr::Expr;
use crate::logical::plan::{LogicalPlan, Repartition, RepartitionScheme};
use crate::runtime::{CancellationToken, scheduler};
use crate::session::SessionContext;
use crate::session::statement::{check_unique_columns, nullable_schema};
use crate::sql::TableBucketing;

impl SessionContext {
    /// The table of a `CREATE TABLE ... CLUSTERED BY (cols) INTO n BUCKETS [AS query]`.
    pub(super) fn bucketed_table(
        &self,
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
        let partitions = match source {
            None => vec![vec![]; n],
            Some(src) => {
                // the source's columns are the table's, in order (CREATE TABLE conformed them)
                let key_exprs: Vec<Expr> = keys
                    .iter()
                    .map(|i| Expr::Column(src.schema().column(*i)))
                    .collect();
                let shuffled = LogicalPlan::Repartition(Repartition {
                    input: Arc::new(src),
                    scheme: RepartitionScheme::Hash(key_exprs, n),
                });
                self.on_engine_thread(|| {
                    let optimized = self.optimize(&shuffled)?;
                    let physical = self.create_physical_plan(&optimized)?;
                    let ctx = self.task_context_with(self.config(), cancel.clone());
                    let parts = scheduler::collect_partitioned(&physical, &ctx)?;
                    if parts.len() != n {
                        return Err(Error::internal(format!(
                            "a hash exchange into {n} partitions produced {}",
                            parts.len()
                        )));
                    }
                    Ok(parts)
                })?
            }
        };
        MemTable::try_new_partitioned(schema, partitions, Some(keys))
    }
}
