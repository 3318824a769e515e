//! Physical planning: turns an optimized `LogicalPlan` into a tree of
//! operators, choosing join strategies and inserting exchanges where an
//! operator's required distribution is not met by its input's partitioning,
//! then wiring runtime filters from hash joins to the scans under their probe sides.

pub mod display;
pub mod enforce_distribution;
pub mod estimates;
pub mod join_selection;
pub mod partitioning;
pub mod planner;
pub mod planner_window;
pub mod runtime_filters;
pub mod selectivity;
pub mod statistics;

pub use partitioning::{Distribution, Partitioning};
pub use planner::PhysicalPlanner;
