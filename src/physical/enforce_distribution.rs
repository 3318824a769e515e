//! Inserts exchanges where an operator's required input distribution is not
//! met by its input's partitioning. This one pass is what makes a
//! pre-partitioned join or aggregation skip its shuffle: when the input is
//! already hash-partitioned on the keys, nothing is inserted.

use std::sync::Arc;

use crate::config::SessionConfig;
use crate::error::Result;
use crate::exec::ExecutionPlan;
use crate::exec::exchange::{ExchangeExec, ExchangeMode};
use crate::physical::{Distribution, Partitioning};

/// Rewrites `plan` bottom-up so every operator's input distribution requirements hold.
pub fn enforce_distribution(
    plan: Arc<dyn ExecutionPlan>,
    config: &SessionConfig,
) -> Result<Arc<dyn ExecutionPlan>> {
    let children: Vec<Arc<dyn ExecutionPlan>> = plan.children().into_iter().cloned().collect();
    if children.is_empty() {
        return Ok(plan);
    }
    let children = children
        .into_iter()
        .map(|c| enforce_distribution(c, config))
        .collect::<Result<Vec<_>>>()?;
    let required = plan.required_input_distribution();
    let hash_children: Vec<usize> = required
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(r, Distribution::HashPartitioned(_)))
        .map(|(i, _)| i)
        .collect();
    let mut new_children = children.clone();
    if hash_children.len() >= 2 {
        // co-partitioned inputs (joins): same keys order and the same partition count on all sides
        let satisfied: Vec<bool> = hash_children
            .iter()
            .map(|i| children[*i].output_partitioning().satisfies(&required[*i]))
            .collect();
        let counts: Vec<usize> = hash_children
            .iter()
            .map(|i| children[*i].output_partitioning().partition_count())
            .collect();
        let all_ok = satisfied.iter().all(|s| *s) && counts.iter().all(|c| *c == counts[0]);
        if !all_ok {
            // keep a side that is already hash-partitioned (with more than one partition), shuffle the others to match
            let keep = hash_children
                .iter()
                .zip(satisfied.iter())
                .find(|(i, s)| **s && matches!(children[**i].output_partitioning(), Partitioning::Hash(_, n) if n > 1))
                .map(|(i, _)| *i);
            let n = match keep {
                Some(k) => children[k].output_partitioning().partition_count(),
                None => config.target_partitions,
            };
            for i in &hash_children {
                if Some(*i) == keep {
                    continue;
                }
                if let Distribution::HashPartitioned(keys) = &required[*i] {
                    new_children[*i] = Arc::new(ExchangeExec::new(
                        children[*i].clone(),
                        ExchangeMode::Hash(keys.clone(), n),
                    ));
                }
            }
        }
    }
    for (i, req) in required.iter().enumerate() {
        if hash_children.len() >= 2 && hash_children.contains(&i) {
            continue;
        }
        let child = &new_children[i];
        if child.output_partitioning().satisfies(req) {
            continue;
        }
        new_children[i] = match req {
            Distribution::Unspecified => continue,
            Distribution::SinglePartition => {
                Arc::new(ExchangeExec::new(child.clone(), ExchangeMode::Coalesce))
            }
            Distribution::HashPartitioned(keys) => Arc::new(ExchangeExec::new(
                child.clone(),
                ExchangeMode::Hash(keys.clone(), config.target_partitions),
            )),
        };
    }
    let changed = new_children
        .iter()
        .zip(plan.children())
        .any(|(a, b)| !Arc::ptr_eq(a, b));
    if changed {
        plan.with_new_children(new_children)
    } else {
        Ok(plan)
    }
}
