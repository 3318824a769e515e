//! The tables a session materializes — `CREATE TABLE [.. AS query]`, `INSERT INTO`,
//! `DELETE`/`UPDATE` of them, `CACHE TABLE`, `DataFrame::cache()` — are stored tables
//! ([`crate::catalog::stored`]): their memory is counted in the session's pool, what the pool
//! refuses goes to disk, and a write streams the query's partitions into the table and commits
//! them all at once (a failing query leaves the table unchanged).

use std::sync::{Arc, Mutex, Weak};

use arrow::array::{ArrayRef, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;

use crate::catalog::stored::{TableStorage, store_plan};
use crate::catalog::{CatalogEntry, MemTable, TableKind};
use crate::error::{Error, Result};
use crate::logical::expr::Expr;
use crate::logical::plan::{LogicalPlan, Repartition, RepartitionScheme};
use crate::runtime::memory_pool::{StorageReclaimer, human_bytes};
use crate::runtime::{CancellationToken, MemoryPool};
use crate::session::{SessionContext, StatementResult};

/// The session's stored tables (weakly: a table goes when its last user drops it).
#[derive(Debug, Default)]
pub(crate) struct StoredTables {
    tables: Mutex<Vec<Weak<MemTable>>>,
}

impl StoredTables {
    /// Adds a table.
    fn add(&self, table: &Arc<MemTable>) {
        let mut tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        tables.retain(|t| t.strong_count() > 0);
        tables.push(Arc::downgrade(table));
    }

    /// The tables alive now.
    fn live(&self) -> Vec<Arc<MemTable>> {
        self.tables
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter_map(Weak::upgrade)
            .collect()
    }

    /// Moves tables to disk, one at a time, until `bytes` are freed or none is left in memory;
    /// returns the bytes freed. A table that cannot be written (a full disk) stays in memory.
    fn free(&self, bytes: usize) -> usize {
        let mut freed = 0;
        for t in self.live() {
            if freed >= bytes {
                break;
            }
            freed += t.move_to_disk().unwrap_or(0);
        }
        freed
    }

    /// What the memory pool calls to take memory back from the tables (holds them weakly).
    pub(crate) fn reclaimer(self: &Arc<Self>) -> Arc<StorageReclaimer> {
        let tables = Arc::downgrade(self);
        Arc::new(move |bytes| tables.upgrade().map_or(0, |t| t.free(bytes)))
    }
}

impl SessionContext {
    /// The session's memory pool (its used bytes include stored tables).
    pub fn memory_pool(&self) -> Arc<MemoryPool> {
        self.shared
            .memory
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Storage for a new stored table named `name`, counted in this session's pool.
    pub(crate) fn table_storage(&self, name: &str) -> Arc<TableStorage> {
        TableStorage::new(name, &self.memory_pool(), &self.config())
    }

    /// Registers a stored table, so a lower memory limit, or a query operator that cannot
    /// spill, can move its memory to disk.
    pub(crate) fn track_stored(&self, table: &Arc<MemTable>) {
        self.shared.stored.add(table);
    }

    /// Moves stored tables' memory to disk until they fit their share of the memory limit
    /// again (after `SET memory_limit` lowered it).
    pub(crate) fn fit_stored_tables(&self) -> Result<()> {
        let pool = self.memory_pool();
        let Some(max) = pool.storage_limit() else {
            return Ok(());
        };
        for t in self.shared.stored.live() {
            if pool.storage_used() <= max {
                break;
            }
            t.move_to_disk()?;
        }
        Ok(())
    }

    /// Runs `source` (columns of the table's types, in order) and adds its rows to the stored
    /// `table`, or puts them in place of its rows with `replace`; returns the rows written.
    /// A hash-partitioned table gets the rows through a hash exchange on its keys.
    pub(crate) fn write_stored(
        &self,
        table: &MemTable,
        source: LogicalPlan,
        replace: bool,
        cancel: &CancellationToken,
    ) -> Result<usize> {
        let Some(storage) = table.storage() else {
            return Err(Error::internal("write to a table that is not stored"));
        };
        let source = match table.hash_keys() {
            Some(keys) => {
                let key_exprs = keys
                    .iter()
                    .map(|i| Expr::Column(source.schema().column(*i)))
                    .collect();
                LogicalPlan::Repartition(Repartition {
                    input: Arc::new(source),
                    scheme: RepartitionScheme::Hash(key_exprs, table.partition_count()),
                })
            }
            None => source,
        };
        let schema: SchemaRef = table.schema_ref();
        let written = self.on_engine_thread(|| {
            let optimized = self.optimize(&source)?;
            let physical = self.create_physical_plan(&optimized)?;
            let ctx = self.task_context_with(self.config(), cancel.clone());
            store_plan(&physical, &ctx, storage, &schema)
        })?;
        let rows = written
            .iter()
            .flat_map(|w| &w.chunks)
            .map(|c| c.rows())
            .sum();
        table.commit(written, replace)?;
        Ok(rows)
    }

    /// The rows of `SHOW TABLES` (name, kind); `with_storage` adds how much of each stored
    /// table is in memory and on disk (`in_memory`, `on_disk`; NULL for other tables and
    /// views), as the shell's `.tables` shows it.
    pub fn tables_result(&self, with_storage: bool) -> Result<StatementResult> {
        let c = self
            .shared
            .catalog
            .read()
            .unwrap_or_else(|e| e.into_inner());
        let mut names = vec![];
        let mut kinds = vec![];
        let mut memory: Vec<Option<String>> = vec![];
        let mut disk: Vec<Option<String>> = vec![];
        for (n, e) in c.iter() {
            names.push(n.clone());
            let stored = match e {
                CatalogEntry::Table(t) => t
                    .as_any()
                    .downcast_ref::<MemTable>()
                    .filter(|m| m.is_stored())
                    .map(|m| m.storage_size()),
                _ => None,
            };
            memory.push(stored.map(|s| human_bytes(s.memory_bytes)));
            disk.push(
                stored
                    .map(|s| format!("{} ({} batches)", human_bytes(s.disk_bytes), s.disk_batches)),
            );
            kinds.push(match e {
                CatalogEntry::Table(t) => match t.kind() {
                    TableKind::Memory => "table".to_string(),
                    TableKind::External { format, .. } => {
                        format!("external ({})", format.to_lowercase())
                    }
                },
                CatalogEntry::View { .. } | CatalogEntry::Plan(_) => "view".to_string(),
            });
        }
        let mut fields = vec![
            Field::new("name", DataType::Utf8, false),
            Field::new("kind", DataType::Utf8, false),
        ];
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(names)),
            Arc::new(StringArray::from(kinds)),
        ];
        if with_storage {
            fields.push(Field::new("in_memory", DataType::Utf8, true));
            fields.push(Field::new("on_disk", DataType::Utf8, true));
            columns.push(Arc::new(StringArray::from(memory)));
            columns.push(Arc::new(StringArray::from(disk)));
        }
        let schema = Arc::new(Schema::new(fields));
        let batch = RecordBatch::try_new(schema.clone(), columns)?;
        Ok(StatementResult::Rows {
            schema,
            batches: vec![batch],
        })
    }
}
