//! `SampleExec`: keeps each row with probability `fraction` (a Bernoulli sample, like Spark's
//! `sample(false, fraction, seed)`). Each partition draws from its own generator seeded by the
//! seed and the partition index, so a sample is the same on every run over the same partitions,
//! and partitions sample in parallel without sharing state.

use std::any::Any;
use std::sync::Arc;

use arrow::array::BooleanArray;
use arrow::buffer::BooleanBuffer;
use arrow::compute::filter_record_batch;
use arrow::datatypes::SchemaRef;
use rand_pcg::Pcg64Mcg;
use rand_pcg::rand_core::{Rng, SeedableRng};

use crate::error::Result;
use crate::exec::{BatchIter, ExecutionPlan};
use crate::physical::Partitioning;
use crate::runtime::metrics::MeteredIter;
use crate::runtime::{Metrics, TaskContext};

/// Samples rows.
#[derive(Debug)]
pub struct SampleExec {
    input: Arc<dyn ExecutionPlan>,
    fraction: f64,
    seed: u64,
    metrics: Arc<Metrics>,
}

impl SampleExec {
    /// Keeps each row of `input` with probability `fraction` (in `[0, 1]`).
    pub fn new(input: Arc<dyn ExecutionPlan>, fraction: f64, seed: u64) -> Self {
        SampleExec {
            input,
            fraction,
            seed,
            metrics: Arc::new(Metrics::new()),
        }
    }
}

/// The generator of one partition: the seed mixed with the partition index (splitmix64's
/// increment), so neighbouring partitions get unrelated streams.
fn partition_rng(seed: u64, partition: usize) -> Pcg64Mcg {
    let mixed = seed ^ (partition as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    Pcg64Mcg::seed_from_u64(mixed)
}

/// A uniform number in `[0, 1)` from the top 53 bits of a random word.
#[inline]
fn unit(rng: &mut Pcg64Mcg) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

impl ExecutionPlan for SampleExec {
    fn name(&self) -> &'static str {
        "SampleExec"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn schema(&self) -> SchemaRef {
        self.input.schema()
    }
    fn output_partitioning(&self) -> Partitioning {
        // rows are only dropped, never moved
        self.input.output_partitioning()
    }
    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }
    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(SampleExec::new(
            children.remove(0),
            self.fraction,
            self.seed,
        )))
    }
    fn execute(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let mut rng = partition_rng(self.seed, partition);
        let fraction = self.fraction;
        let iter = self.input.execute(partition, ctx)?.map(move |b| {
            let b = b?;
            let keep = BooleanBuffer::collect_bool(b.num_rows(), |_| unit(&mut rng) < fraction);
            Ok(filter_record_batch(&b, &BooleanArray::new(keep, None))?)
        });
        Ok(Box::new(MeteredIter::new(
            Box::new(iter),
            self.metrics.clone(),
        )))
    }
    fn describe(&self) -> String {
        format!("fraction={}, seed={}", self.fraction, self.seed)
    }
    fn metrics(&self) -> Option<&Arc<Metrics>> {
        Some(&self.metrics)
    }
    fn estimated_rows(&self) -> Option<usize> {
        self.input
            .estimated_rows()
            .map(|n| (n as f64 * self.fraction).ceil() as usize)
    }
}
