//! The `OptimizerRule` trait.

use datafusion_common::tree_node::Transformed;

use crate::config::SessionConfig;
use crate::error::Result;
use crate::logical::plan::LogicalPlan;

/// What rules may consult.
#[derive(Debug, Clone, Copy)]
pub struct OptimizerContext<'a> {
    /// Session settings.
    pub config: &'a SessionConfig,
}

/// A rewrite of logical plans that preserves their results and output schema.
pub trait OptimizerRule: std::fmt::Debug + Send + Sync {
    /// The rule's name (used to switch it off and in EXPLAIN VERBOSE).
    fn name(&self) -> &'static str;

    /// Rewrites the whole plan, saying whether anything changed.
    fn rewrite(
        &self,
        plan: LogicalPlan,
        ctx: &OptimizerContext,
    ) -> Result<Transformed<LogicalPlan>>;
}
