//! `SqlPlanner`: binds a parsed query to a `LogicalPlan` — names resolved
//! against the catalog and scopes, types coerced, subqueries kept as
//! expressions for the optimizer to decorrelate.
//!
//! The work is split by clause: `query.rs` (WITH, set operations, ORDER BY,
//! LIMIT), `select.rs` (SELECT, GROUP BY, HAVING, windows), `relation.rs`
//! (FROM and joins), `expr.rs` and `function.rs` (expressions).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use crate::catalog::{CatalogEntry, TableProvider};
use crate::config::SessionConfig;
use crate::error::Result;
use crate::functions::FunctionRegistry;
use crate::logical::plan::LogicalPlan;

/// What the SQL planner needs from the session.
pub trait PlannerContext {
    /// A table or view by (normalized) name.
    fn entry(&self, name: &str) -> Option<CatalogEntry>;
    /// The "table not found" error for `name` (with suggestions).
    fn table_not_found(&self, name: &str) -> crate::error::Error;
    /// Functions.
    fn functions(&self) -> &FunctionRegistry;
    /// Settings.
    fn config(&self) -> &SessionConfig;
    /// A table over a file path or URL (for `FROM 'x.parquet'` and `read_parquet`).
    fn file_table(
        &self,
        location: &str,
        format: Option<&str>,
        options: &[(String, String)],
    ) -> Result<Arc<dyn TableProvider>>;
}

/// Plans SQL queries.
pub struct SqlPlanner<'a> {
    pub(crate) ctx: &'a dyn PlannerContext,
    /// Visible CTEs, innermost last.
    pub(crate) ctes: RefCell<Vec<HashMap<String, Arc<LogicalPlan>>>>,
    /// Counter for generated names.
    pub(crate) next_id: RefCell<usize>,
    /// While set, bare identifiers that name a select-list alias mean the alias.
    pub(crate) aliases_first: std::cell::Cell<bool>,
    /// How deeply nested the expression being converted is (see [`MAX_EXPR_DEPTH`]).
    pub(crate) expr_depth: std::cell::Cell<usize>,
}

/// Expressions nested deeper than this are refused (as DuckDB does, with the same default):
/// every later pass walks expressions recursively, and a limit keeps them within the stack.
pub const MAX_EXPR_DEPTH: usize = 1000;

impl<'a> SqlPlanner<'a> {
    /// A planner over a session context.
    pub fn new(ctx: &'a dyn PlannerContext) -> Self {
        SqlPlanner {
            ctx,
            ctes: RefCell::new(vec![]),
            next_id: RefCell::new(0),
            aliases_first: std::cell::Cell::new(false),
            expr_depth: std::cell::Cell::new(0),
        }
    }

    /// A fresh internal name such as `__sq_3`.
    pub(crate) fn fresh_name(&self, prefix: &str) -> String {
        let mut n = self.next_id.borrow_mut();
        *n += 1;
        format!("__{prefix}_{}", *n)
    }

    /// A CTE by name, innermost first.
    pub(crate) fn cte(&self, name: &str) -> Option<Arc<LogicalPlan>> {
        self.ctes
            .borrow()
            .iter()
            .rev()
            .find_map(|m| m.get(name).cloned())
    }
}
