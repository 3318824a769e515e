//! `Unnest`: turns each element of list columns into its own row (SQL `UNNEST`, the DataFrame's
//! `unnest_columns` / `explode` / `flat_map`). The other columns are repeated for every element.
//! Several list columns of one row are unnested side by side: the row yields as many rows as its
//! longest list, shorter lists padded with NULL (as in DuckDB and PostgreSQL).

use std::sync::Arc;

use arrow::datatypes::DataType;

use crate::error::{Error, Result};
use crate::logical::plan::LogicalPlan;
use crate::logical::schema::{Column, PlanSchema, PlanSchemaRef};
use crate::logical::types::sql_type_name;

/// Expands list columns into rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Unnest {
    /// Input.
    pub input: Arc<LogicalPlan>,
    /// The list columns to expand (columns of the input).
    pub columns: Vec<Column>,
    /// Keep rows whose lists are all NULL or empty, as one row with NULL elements
    /// (Spark's `explode_outer`); otherwise such rows disappear.
    pub preserve_nulls: bool,
    /// Output schema: the input's, with each list column replaced by its element type.
    pub schema: PlanSchemaRef,
}

/// The element type of a list type, or `None` when `t` is not a list.
pub fn list_element_type(t: &DataType) -> Option<&DataType> {
    match t {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            Some(f.data_type())
        }
        _ => None,
    }
}

impl Unnest {
    /// Builds the node, checking every column exists and is a list.
    pub fn try_new(
        input: Arc<LogicalPlan>,
        columns: Vec<Column>,
        preserve_nulls: bool,
    ) -> Result<Self> {
        if columns.is_empty() {
            return Err(Error::plan("unnest needs at least one column"));
        }
        let in_schema = input.schema();
        let mut indices = vec![];
        for c in &columns {
            let i = in_schema.index_of(c)?;
            if indices.contains(&i) {
                return Err(Error::plan(format!(
                    "column \"{}\" is unnested twice",
                    c.flat_name()
                )));
            }
            if list_element_type(in_schema.data_type(i)).is_none() {
                return Err(Error::type_mismatch(format!(
                    "unnest needs a list column, but \"{}\" is {}",
                    c.flat_name(),
                    sql_type_name(in_schema.data_type(i))
                )));
            }
            indices.push(i);
        }
        let fields = in_schema
            .iter()
            .enumerate()
            .map(|(i, (q, f))| {
                let f = match list_element_type(f.data_type()) {
                    Some(t) if indices.contains(&i) => Arc::new(
                        f.as_ref()
                            .clone()
                            .with_data_type(t.clone())
                            .with_nullable(true),
                    ),
                    _ => f.clone(),
                };
                (q.cloned(), f)
            })
            .collect();
        Ok(Unnest {
            input,
            columns,
            preserve_nulls,
            schema: Arc::new(PlanSchema::new(fields)),
        })
    }

    /// Positions of the unnested columns in the input (and output) schema.
    pub fn column_indices(&self) -> Result<Vec<usize>> {
        self.columns
            .iter()
            .map(|c| self.input.schema().index_of(c))
            .collect()
    }
}
