//! The logical layer: `LogicalPlan` and `Expr`, the builder both SQL and the
//! DataFrame API go through, type coercion rules, and EXPLAIN rendering.

pub mod builder;
pub mod coercion;
pub mod display;
pub mod expr;
pub mod expr_coerce;
pub mod expr_display;
pub mod expr_fn;
pub mod expr_ops;
pub mod expr_schema;
pub mod join;
pub mod map_partitions;
pub mod plan;
pub mod recursive;
pub mod schema;
pub mod tree_node;
pub mod types;
pub mod unnest;
pub mod window;

pub use builder::LogicalPlanBuilder;
pub use expr::{BinaryOp, Expr, SortExpr};
pub use plan::{JoinType, LogicalPlan};
pub use schema::{Column, PlanSchema, PlanSchemaRef};
