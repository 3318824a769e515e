//! Inserts exchanges where an operator's required input distribution is not
//! met by its input's partitioning. This one pass is what makes a
//! pre-partitioned join or aggregation skip its shuffle: when the input is
//! already hash-partitioned on the keys, nothing is inserted.

use std::sync::Arc;

use crate::config::SessionConfig;
use crate::error::Result;
use crate::exec::ExecutionPlan;
use crate::exec::exchange::{ExchangeExec, ExchangeMode};
use crate::physical::partitioning::co_partitioned;
use crate::physical::{Distribution, Partitioning};
use crate::physical_expr::PhysicalExprRef;

/// Rewrites `plan` bottom-up so every operator's input distribution requirements hold.
pub fn enforce_distribution(
    plan: Arc<dyn ExecutionPlan>,
    config: &SessionConfig,
) -> Result<Arc<dyn ExecutionPlan>> {
    enforce_distribution_with(plan, config, &mut |_, _| {})
}

/// Called with `(old, new)` for each operator rebuilt over new inputs and with
/// `(input, exchange)` for each exchange inserted.
pub type OnNewOperator<'a> = dyn FnMut(&Arc<dyn ExecutionPlan>, &Arc<dyn ExecutionPlan>) + 'a;

/// [`enforce_distribution`], telling `on_new` about the operators it makes.
pub fn enforce_distribution_with(
    plan: Arc<dyn ExecutionPlan>,
    config: &SessionConfig,
    on_new: &mut OnNewOperator<'_>,
) -> Result<Arc<dyn ExecutionPlan>> {
    let children: Vec<Arc<dyn ExecutionPlan>> = plan.children().into_iter().cloned().collect();
    if children.is_empty() {
        return Ok(plan);
    }
    let children = children
        .into_iter()
        .map(|c| enforce_distribution_with(c, config, on_new))
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
        // co-partitioned inputs (joins): hashed on their keys at the same positions, into the
        // same number of partitions
        let keys_of = |i: usize| match &required[i] {
            Distribution::HashPartitioned(keys) => keys.clone(),
            _ => vec![],
        };
        let inputs: Vec<(Partitioning, Vec<PhysicalExprRef>)> = hash_children
            .iter()
            .map(|i| (children[*i].output_partitioning(), keys_of(*i)))
            .collect();
        let views: Vec<(Partitioning, &[PhysicalExprRef])> = inputs
            .iter()
            .map(|(p, k)| (p.clone(), k.as_slice()))
            .collect();
        let all_single = views.iter().all(|(p, _)| p.partition_count() == 1);
        if !all_single && !co_partitioned(&views) {
            // keep a side already hash-partitioned on some of its keys (with more than one
            // partition); shuffle the others by their keys at the same positions to match
            let keep = hash_children
                .iter()
                .zip(&inputs)
                .find_map(|(i, (p, keys))| {
                    match (p.hash_key_positions(keys), p.partition_count()) {
                        (Some(pos), n) if n > 1 => Some((*i, pos, n)),
                        _ => None,
                    }
                });
            for (i, (_, keys)) in hash_children.iter().zip(&inputs) {
                let (exprs, n) = match &keep {
                    Some((k, _, _)) if k == i => continue,
                    Some((_, pos, n)) => (pos.iter().map(|p| keys[*p].clone()).collect(), *n),
                    None => (keys.clone(), config.target_partitions),
                };
                new_children[*i] = Arc::new(ExchangeExec::new(
                    children[*i].clone(),
                    ExchangeMode::Hash(exprs, n),
                ));
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
    for (new, old) in new_children.iter().zip(&children) {
        if !Arc::ptr_eq(new, old) {
            on_new(old, new);
        }
    }
    let changed = new_children
        .iter()
        .zip(plan.children())
        .any(|(a, b)| !Arc::ptr_eq(a, b));
    if changed {
        let rebuilt = plan.clone().with_new_children(new_children)?;
        on_new(&plan, &rebuilt);
        Ok(rebuilt)
    } else {
        Ok(plan)
    }
}
