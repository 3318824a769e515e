//! `MapPartitions`: user code over the batches of each partition (the DataFrame's
//! `map_partitions` and `map_batches`), and `Sample`: a seeded Bernoulli sample of the rows.
//!
//! Both work partition by partition and are opaque to the optimizer: no filter moves through
//! them (that would change what the user code or the random choice sees).

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;

use crate::error::{Error, Result};
use crate::exec::BatchIter;
use crate::logical::plan::LogicalPlan;
use crate::logical::schema::{PlanSchema, PlanSchemaRef};

/// The closure of a `MapPartitions` node: given a partition index and that partition's input
/// batches, returns the output batches. It runs once per partition, in parallel across partitions.
pub type PartitionFn = dyn Fn(usize, BatchIter) -> Result<BatchIter> + Send + Sync;

/// Runs user code over each partition.
#[derive(Clone)]
pub struct MapPartitions {
    /// Input.
    pub input: Arc<LogicalPlan>,
    /// The user code.
    pub func: Arc<PartitionFn>,
    /// What the node is called in EXPLAIN (`map_partitions`, `map_batches`).
    pub name: String,
    /// Output schema (unqualified), as declared by the user.
    pub schema: PlanSchemaRef,
}

impl MapPartitions {
    /// A node producing rows of `output` from `input` with `func`.
    pub fn try_new(
        input: Arc<LogicalPlan>,
        func: Arc<PartitionFn>,
        name: impl Into<String>,
        output: SchemaRef,
    ) -> Result<Self> {
        if output.fields().is_empty() {
            return Err(Error::plan(
                "map_partitions needs an output schema with at least one column",
            ));
        }
        Ok(MapPartitions {
            input,
            func,
            name: name.into(),
            schema: Arc::new(PlanSchema::from_arrow(None, &output)),
        })
    }
}

impl PartialEq for MapPartitions {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.func, &other.func)
            && self.input == other.input
            && self.schema == other.schema
    }
}

impl fmt::Debug for MapPartitions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MapPartitions")
            .field("name", &self.name)
            .field("schema", &self.schema.to_string())
            .finish()
    }
}

/// Keeps each row with probability `fraction`, deciding with a random generator seeded by `seed`
/// and the partition index, so the same plan over the same partitions gives the same sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Input.
    pub input: Arc<LogicalPlan>,
    /// Probability of keeping a row, in `[0, 1]`.
    pub fraction: f64,
    /// Seed of the random choice.
    pub seed: u64,
}

impl Sample {
    /// Builds the node, checking the fraction.
    pub fn try_new(input: Arc<LogicalPlan>, fraction: f64, seed: u64) -> Result<Self> {
        if !(0.0..=1.0).contains(&fraction) {
            return Err(Error::plan(format!(
                "sample fraction must be between 0 and 1, got {fraction}"
            )));
        }
        Ok(Sample {
            input,
            fraction,
            seed,
        })
    }
}
