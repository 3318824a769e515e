//! `RecursiveQuery`: the plan of a recursive CTE,
//! `WITH RECURSIVE t AS (static term UNION [ALL] recursive term)`.
//!
//! The recursive term reads the CTE through a *work table* (a scan of an in-memory table that
//! holds the rows the previous iteration produced). Execution runs the static term, then the
//! recursive term again and again over the newest rows until an iteration adds none; with
//! `UNION` (not `ALL`) rows seen before are dropped, which also ends cycles.

use std::fmt;
use std::sync::Arc;

use crate::catalog::TableProvider;
use crate::error::{Error, Result};
use crate::logical::plan::LogicalPlan;
use crate::logical::schema::{PlanSchema, PlanSchemaRef};

/// A recursive CTE.
#[derive(Clone)]
pub struct RecursiveQuery {
    /// The CTE's name.
    pub name: String,
    /// The term that does not refer to the CTE (run once).
    pub static_term: Arc<LogicalPlan>,
    /// The term that refers to the CTE through `work_table` (run until it adds no rows).
    pub recursive_term: Arc<LogicalPlan>,
    /// The table the recursive term scans for the CTE's newest rows.
    pub work_table: Arc<dyn TableProvider>,
    /// `UNION` (drop rows already produced) rather than `UNION ALL`.
    pub distinct: bool,
    /// The static term's columns, all nullable (the recursive term may produce NULLs).
    pub schema: PlanSchemaRef,
}

impl RecursiveQuery {
    /// A recursive query; the terms must have the same column types.
    pub fn try_new(
        name: impl Into<String>,
        static_term: Arc<LogicalPlan>,
        recursive_term: Arc<LogicalPlan>,
        work_table: Arc<dyn TableProvider>,
        distinct: bool,
    ) -> Result<Self> {
        let name = name.into();
        let (s, r) = (static_term.schema(), recursive_term.schema());
        let same = s.len() == r.len() && (0..s.len()).all(|i| s.data_type(i) == r.data_type(i));
        if !same {
            return Err(Error::plan(format!(
                "the recursive term of \"{name}\" must produce the columns of its static term"
            )));
        }
        let schema = Arc::new(PlanSchema::new(
            s.iter()
                .map(|(q, f)| {
                    let f = Arc::new(f.as_ref().clone().with_nullable(true));
                    (q.cloned(), f)
                })
                .collect(),
        ));
        Ok(RecursiveQuery {
            name,
            static_term,
            recursive_term,
            work_table,
            distinct,
            schema,
        })
    }

    /// The output schema: the static term's columns, nullable.
    pub fn schema(&self) -> &PlanSchemaRef {
        &self.schema
    }
}

impl PartialEq for RecursiveQuery {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.static_term == other.static_term
            && self.recursive_term == other.recursive_term
            && Arc::ptr_eq(&self.work_table, &other.work_table)
            && self.distinct == other.distinct
    }
}

impl fmt::Debug for RecursiveQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecursiveQuery")
            .field("name", &self.name)
            .field("static_term", &self.static_term)
            .field("recursive_term", &self.recursive_term)
            .field("distinct", &self.distinct)
            .finish()
    }
}
