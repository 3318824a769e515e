//! `ProjectionExec`: computes output columns from each input batch.

use std::any::Any;
use std::sync::Arc;

use arrow::datatypes::{Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;

use crate::error::Result;
use crate::exec::{BatchIter, ExecutionPlan};
use crate::physical::Partitioning;
use crate::physical::partitioning::{EquivalentKey, key_forms};
use crate::physical_expr::PhysicalExprRef;
use crate::physical_expr::column::ColumnExpr;
use crate::runtime::metrics::MeteredIter;
use crate::runtime::{Metrics, TaskContext};

/// Evaluates `(expr, name)` pairs over each batch.
#[derive(Debug)]
pub struct ProjectionExec {
    exprs: Vec<(PhysicalExprRef, String)>,
    input: Arc<dyn ExecutionPlan>,
    schema: SchemaRef,
    metrics: Arc<Metrics>,
}

impl ProjectionExec {
    /// A projection; `fields` gives the output fields (names, types, nullability).
    pub fn new(
        exprs: Vec<(PhysicalExprRef, String)>,
        fields: Vec<Field>,
        input: Arc<dyn ExecutionPlan>,
    ) -> Self {
        let schema = Arc::new(Schema::new(fields));
        ProjectionExec {
            exprs,
            input,
            schema,
            metrics: Arc::new(Metrics::new()),
        }
    }

    /// A projection deriving fields from the expressions.
    pub fn try_new_simple(
        exprs: Vec<(PhysicalExprRef, String)>,
        input: Arc<dyn ExecutionPlan>,
    ) -> Self {
        let fields = exprs
            .iter()
            .map(|(e, n)| Field::new(n, e.data_type().clone(), e.nullable()))
            .collect();
        Self::new(exprs, fields, input)
    }

    /// The expressions.
    pub fn exprs(&self) -> &[(PhysicalExprRef, String)] {
        &self.exprs
    }
}

/// Evaluates a projection on one batch.
pub fn project_batch(
    exprs: &[(PhysicalExprRef, String)],
    schema: &SchemaRef,
    batch: &RecordBatch,
) -> Result<RecordBatch> {
    let n = batch.num_rows();
    let cols = exprs
        .iter()
        .map(|(e, _)| e.evaluate(batch)?.into_array(n))
        .collect::<Result<Vec<_>>>()?;
    crate::exec::batch_with_schema(schema, cols, n)
}

impl ExecutionPlan for ProjectionExec {
    fn expressions(&self) -> Vec<&crate::physical_expr::PhysicalExprRef> {
        self.exprs.iter().map(|(e, _)| e).collect()
    }
    fn name(&self) -> &'static str {
        "ProjectionExec"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn output_partitioning(&self) -> Partitioning {
        // hash partitioning survives when its key columns are projected as plain columns
        match self.input.output_partitioning() {
            Partitioning::Hash(keys, n) => {
                let mut mapped = vec![];
                for k in &keys {
                    // any of the columns a key stands for that the projection passes on
                    let forms: Vec<PhysicalExprRef> = key_forms(k)
                        .iter()
                        .filter_map(|c| {
                            let idx = c.column_index()?;
                            let p = self
                                .exprs
                                .iter()
                                .position(|(e, _)| e.column_index() == Some(idx))?;
                            Some(Arc::new(ColumnExpr::of_field(p, self.schema.field(p)))
                                as PhysicalExprRef)
                        })
                        .collect();
                    match EquivalentKey::key(forms) {
                        Some(key) => mapped.push(key),
                        None => return Partitioning::Unknown(n),
                    }
                }
                Partitioning::Hash(mapped, n)
            }
            other => other,
        }
    }
    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }
    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let fields = self
            .schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        Ok(Arc::new(ProjectionExec::new(
            self.exprs.clone(),
            fields,
            children.remove(0),
        )))
    }
    fn execute(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let input = self.input.execute(partition, ctx)?;
        let exprs = self.exprs.clone();
        let schema = self.schema.clone();
        let iter = input.map(move |b| b.and_then(|b| project_batch(&exprs, &schema, &b)));
        Ok(Box::new(MeteredIter::new(iter, self.metrics.clone())))
    }
    fn describe(&self) -> String {
        self.exprs
            .iter()
            .map(|(e, n)| {
                let s = e.to_string();
                if s.split('@').next() == Some(n.as_str()) {
                    s
                } else {
                    format!("{s} AS {n}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
    fn metrics(&self) -> Option<&Arc<Metrics>> {
        Some(&self.metrics)
    }
}
