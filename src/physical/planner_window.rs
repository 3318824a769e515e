//! Planning of `Window` nodes: sort by partition and order keys, then compute window functions.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::exec::ExecutionPlan;
use crate::logical::plan::Window;
use crate::physical::planner::PhysicalPlanner;

/// Plans a window node.
pub fn plan_window(_planner: &PhysicalPlanner, w: &Window) -> Result<Arc<dyn ExecutionPlan>> {
    Err(Error::not_implemented(format!(
        "window functions are not supported yet ({})",
        w.window_exprs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join(", ")
    )))
}
