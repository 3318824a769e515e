//! Estimated output rows of the operators of one physical plan, for `EXPLAIN`.
//!
//! The planner records, for the operators it makes from a logical node, that
//! node's estimate (`statistics::estimate_rows`); operators made for the same
//! node (a partial aggregate, the sort under a merge) share it, an exchange
//! inherits its input's, and an operator rebuilt over new inputs keeps the one
//! it had. Operators are keyed by address; the table holds a reference to each,
//! so no address is reused while the table lives.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::exec::ExecutionPlan;

/// An operator (kept alive so its address stays its own) and its estimate.
type Entry = (Arc<dyn ExecutionPlan>, Option<usize>);

/// Estimated rows per operator of a plan being built.
#[derive(Debug, Default)]
pub struct PlanEstimates {
    rows: Mutex<HashMap<usize, Entry>>,
}

fn key(plan: &Arc<dyn ExecutionPlan>) -> usize {
    Arc::as_ptr(plan) as *const () as usize
}

impl PlanEstimates {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// The estimate of `plan`, when one was recorded (or the operator knows its own).
    pub fn get(&self, plan: &Arc<dyn ExecutionPlan>) -> Option<usize> {
        let rows = self.rows.lock().unwrap_or_else(|e| e.into_inner());
        rows.get(&key(plan))
            .and_then(|(_, n)| *n)
            .or_else(|| plan.estimated_rows())
    }

    fn has(&self, plan: &Arc<dyn ExecutionPlan>) -> bool {
        let rows = self.rows.lock().unwrap_or_else(|e| e.into_inner());
        rows.contains_key(&key(plan))
    }

    fn set(&self, plan: &Arc<dyn ExecutionPlan>, n: Option<usize>) {
        let mut rows = self.rows.lock().unwrap_or_else(|e| e.into_inner());
        rows.entry(key(plan)).or_insert_with(|| (plan.clone(), n));
    }

    /// Records `n` rows (`None`: unknown) for `plan` and for the operators below it that were
    /// made along with it (down to those already recorded).
    pub fn record(&self, plan: &Arc<dyn ExecutionPlan>, n: Option<usize>) {
        if self.has(plan) {
            return;
        }
        self.set(plan, n);
        for c in plan.children() {
            self.record(c, n);
        }
    }

    /// `to` replaces `from` (the same operator over new inputs) or sits right over it (an
    /// exchange): it gets `from`'s estimate.
    pub fn inherit(&self, from: &Arc<dyn ExecutionPlan>, to: &Arc<dyn ExecutionPlan>) {
        let n = {
            let rows = self.rows.lock().unwrap_or_else(|e| e.into_inner());
            rows.get(&key(from)).map(|(_, n)| *n)
        };
        if let Some(n) = n {
            self.set(to, n);
        }
    }
}
