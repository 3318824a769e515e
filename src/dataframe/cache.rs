//! `cache()` / `persist()`: run the DataFrame once and keep its result, partition by partition,
//! as a stored [`MemTable`] (like Spark's `MEMORY_AND_DISK`): in memory, counted in the
//! session's memory pool, as far as stored tables' share of the limit allows, and in spill files
//! beyond that (see [`crate::catalog::stored`]). When the result was hash-partitioned (a
//! `repartition` by hash, or a join or aggregation on keys), the table remembers it, so its
//! scans report `Partitioning::Hash` and later joins and aggregations on those keys skip the
//! shuffle. The memory is released and the files removed when the last DataFrame reading the
//! result is dropped.

use std::collections::HashSet;
use std::sync::Arc;

use crate::catalog::MemTable;
use crate::catalog::stored::store_plan;
use crate::dataframe::DataFrame;
use crate::error::Result;
use crate::logical::LogicalPlanBuilder;
use crate::physical::Partitioning;
use crate::runtime::CancellationToken;

impl DataFrame {
    /// Computes this DataFrame now and returns a DataFrame reading the stored result. Each
    /// partition is kept as computed; a hash partitioning of the result is kept with it. Under
    /// a memory limit, what does not fit stored tables' share (half the limit) is written to
    /// disk and read back by scans.
    ///
    /// The result is named after the relation of its columns (or `cached` when they come from
    /// several), so qualified references like `col("t.a")` keep working when all columns come
    /// from `t`.
    ///
    /// ```
    /// use flint::prelude::*;
    /// let ctx = SessionContext::new();
    /// let df = ctx.sql("SELECT x % 10 AS k, x FROM generate_series(1, 1000) t(x)").unwrap();
    /// let cached = df.repartition(Partitioning::Hash(vec![col("k")], 4)).unwrap().cache().unwrap();
    /// let a = cached.alias("a").unwrap();
    /// let b = cached.alias("b").unwrap();
    /// let joined = a.join(&b, JoinType::Inner, &["a.k"], &["b.k"], None).unwrap();
    /// // both sides are already partitioned by k: no exchange before the join
    /// assert!(!joined.explain(false, false).unwrap().contains("ExchangeExec"));
    /// assert_eq!(joined.count().unwrap(), 100_000);
    /// ```
    pub fn cache(&self) -> Result<DataFrame> {
        let table = self.cache_table(&CancellationToken::new())?;
        let qualifiers: HashSet<Option<&str>> = self
            .plan
            .schema()
            .iter()
            .map(|(q, _)| q.map(|q| q.as_ref()))
            .collect();
        let name = match qualifiers.into_iter().collect::<Vec<_>>().as_slice() {
            [Some(q)] => q.to_string(),
            _ => "cached".to_string(),
        };
        let scan = LogicalPlanBuilder::scan(name, table)?;
        Ok(self.with_plan(scan))
    }

    /// Computes this DataFrame into a stored table (see [`cache`](Self::cache)).
    pub(crate) fn cache_table(&self, cancel: &CancellationToken) -> Result<Arc<MemTable>> {
        let optimized = self.session.optimize(&self.plan)?;
        let physical = self.session.create_physical_plan(&optimized)?;
        let ctx = self
            .session
            .task_context_with(self.session.config(), cancel.clone());
        let storage = self.session.table_storage("cached");
        let written = self
            .session
            .on_engine_thread(|| store_plan(&physical, &ctx, &storage, &self.schema()))?;
        let hash_keys = match physical.output_partitioning() {
            Partitioning::Hash(keys, n) if n == written.len() => keys
                .iter()
                .map(|k| k.column_index())
                .collect::<Option<Vec<usize>>>(),
            _ => None,
        };
        let table =
            MemTable::new_stored_partitioned(self.schema(), written.len(), hash_keys, storage)?;
        table.commit(written, true)?;
        let table = Arc::new(table);
        self.session.track_stored(&table);
        Ok(table)
    }

    /// The same as [`cache`](Self::cache): flint's one storage level is Spark's
    /// `MEMORY_AND_DISK`.
    ///
    /// ```
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT * FROM generate_series(1, 10) t(x)").unwrap();
    /// assert_eq!(df.persist().unwrap().count().unwrap(), 10);
    /// ```
    pub fn persist(&self) -> Result<DataFrame> {
        self.cache()
    }
}
