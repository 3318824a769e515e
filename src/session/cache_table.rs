//! `CACHE TABLE` / `UNCACHE TABLE` (Spark SQL). `CACHE TABLE name AS query` registers the
//! query's rows as a stored table; `CACHE TABLE name` stores the rows of an existing table or
//! view in its place, keeping the original definition, which `UNCACHE TABLE name` restores
//! (for the `AS query` form it drops the table). The stored copy of an existing table is a
//! snapshot: it refuses INSERT, DELETE and UPDATE (they would be lost at UNCACHE), as
//! the rows it was made from may since have changed.

use std::sync::Arc;

use crate::catalog::{CatalogEntry, TableProvider};
use crate::error::{Error, Result};
use crate::logical::plan::LogicalPlan;
use crate::runtime::CancellationToken;
use crate::session::{SessionContext, StatementResult};

/// A table `CACHE TABLE` made.
#[derive(Debug)]
pub(crate) struct CachedTable {
    /// The stored copy registered under the name.
    table: Arc<dyn TableProvider>,
    /// What the name meant before (`CACHE TABLE name`); `None` for `CACHE TABLE name AS query`.
    original: Option<CatalogEntry>,
}

/// Whether two providers are the same object.
fn same_table(a: &Arc<dyn TableProvider>, b: &Arc<dyn TableProvider>) -> bool {
    std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b))
}

impl SessionContext {
    /// Runs `CACHE TABLE name [AS query]`.
    pub(super) fn cache_table(
        &self,
        name: &str,
        source: Option<LogicalPlan>,
        cancel: &CancellationToken,
    ) -> Result<StatementResult> {
        let current = self.catalog_entry(name);
        let (plan, original) = match source {
            Some(q) => {
                if current.is_some() {
                    return Err(Error::plan(format!(
                        "table \"{name}\" already exists; use CACHE TABLE {name} to store it, \
                         or choose another name"
                    )));
                }
                (q, None)
            }
            None => {
                let Some(entry) = current else {
                    return Err(self
                        .shared
                        .catalog
                        .read()
                        .unwrap_or_else(|e| e.into_inner())
                        .not_found(name));
                };
                if self.cached_copy(name).is_some() {
                    return Ok(StatementResult::Done(format!(
                        "table {name} is already cached"
                    )));
                }
                (self.table(name)?.logical_plan().clone(), Some(entry))
            }
        };
        let df = crate::dataframe::DataFrame::new(self.clone(), plan);
        let table: Arc<dyn TableProvider> = df.cache_table(cancel)?;
        self.shared
            .catalog
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name, CatalogEntry::Table(table.clone()), true)?;
        self.shared
            .cached
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_string(), CachedTable { table, original });
        Ok(StatementResult::Done(format!("cached table {name}")))
    }

    /// Runs `UNCACHE TABLE [IF EXISTS] name`.
    pub(super) fn uncache_table(&self, name: &str, if_exists: bool) -> Result<StatementResult> {
        let cached = self.cached_copy(name);
        let mut catalog = self
            .shared
            .catalog
            .write()
            .unwrap_or_else(|e| e.into_inner());
        if !catalog.contains(name) {
            return if if_exists {
                Ok(StatementResult::Done(format!(
                    "table {name} does not exist"
                )))
            } else {
                Err(catalog.not_found(name))
            };
        }
        let Some(original) = cached else {
            return Ok(StatementResult::Done(format!(
                "table {name} was not cached"
            )));
        };
        self.forget_cached(name);
        match original {
            Some(original) => catalog.insert(name, original, true)?,
            None => {
                catalog.remove(name);
            }
        }
        Ok(StatementResult::Done(format!("uncached table {name}")))
    }

    /// The catalog entry of `name`.
    fn catalog_entry(&self, name: &str) -> Option<CatalogEntry> {
        self.shared
            .catalog
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
    }

    /// When `name` is a table `CACHE TABLE` made (and still registered): the original entry it
    /// replaced, if any.
    fn cached_copy(&self, name: &str) -> Option<Option<CatalogEntry>> {
        let current = match self.catalog_entry(name) {
            Some(CatalogEntry::Table(t)) => t,
            _ => return None,
        };
        let cached = self.shared.cached.lock().unwrap_or_else(|e| e.into_inner());
        let c = cached.get(name)?;
        same_table(&c.table, &current).then(|| c.original.clone())
    }

    /// Forgets that `CACHE TABLE` made `name` (it was dropped or replaced).
    pub(super) fn forget_cached(&self, name: &str) {
        self.shared
            .cached
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(name);
    }

    /// The table an INSERT, DELETE or UPDATE changes; not the stored copy of an existing
    /// table made by `CACHE TABLE` (its changes would be lost at `UNCACHE TABLE`).
    pub(super) fn dml_target(&self, name: &str) -> Result<Arc<dyn TableProvider>> {
        if let Some(Some(_)) = self.cached_copy(name) {
            return Err(Error::plan(format!(
                "table \"{name}\" is a cached copy (CACHE TABLE {name}); run UNCACHE TABLE {name} \
                 before changing it"
            )));
        }
        self.table_provider(name)
    }
}
