//! The session's catalog: table and view names (case-insensitive unless quoted) to their definitions.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::catalog::TableProvider;
use crate::error::{Error, Result, closest_name};

/// A named object.
#[derive(Debug, Clone)]
pub enum CatalogEntry {
    /// A table.
    Table(Arc<dyn TableProvider>),
    /// A view: its SQL query and optional column names.
    View {
        /// The query text.
        query: Box<sqlparser::ast::Query>,
        /// Column names given in `CREATE VIEW v(a, b)`.
        columns: Vec<String>,
    },
    /// A DataFrame registered as a view (a logical plan).
    Plan(Arc<crate::logical::LogicalPlan>),
}

/// Named tables and views.
#[derive(Debug, Default, Clone)]
pub struct Catalog {
    entries: BTreeMap<String, CatalogEntry>,
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self::default()
    }

    /// Looks up a name.
    pub fn get(&self, name: &str) -> Option<&CatalogEntry> {
        self.entries.get(name)
    }

    /// Whether a name is taken.
    pub fn contains(&self, name: &str) -> bool {
        self.entries.contains_key(name)
    }

    /// Adds an entry; fails if the name exists and `replace` is false.
    pub fn insert(&mut self, name: &str, entry: CatalogEntry, replace: bool) -> Result<()> {
        if !replace && self.entries.contains_key(name) {
            return Err(Error::plan(format!(
                "table or view \"{name}\" already exists"
            )));
        }
        self.entries.insert(name.to_string(), entry);
        Ok(())
    }

    /// Removes an entry.
    pub fn remove(&mut self, name: &str) -> Option<CatalogEntry> {
        self.entries.remove(name)
    }

    /// All names with their entries, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &CatalogEntry)> {
        self.entries.iter()
    }

    /// The "table not found" error, with a close name if there is one.
    pub fn not_found(&self, name: &str) -> Error {
        match closest_name(name, self.entries.keys().map(|s| s.as_str())) {
            Some(c) => Error::not_found(format!(
                "table \"{name}\" does not exist; did you mean \"{c}\"?"
            )),
            None => Error::not_found(format!("table \"{name}\" does not exist")),
        }
    }
}
