//! `FunctionRegistry`: scalar and aggregate functions by name (built-ins plus UDFs).

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{Error, Result, closest_name};
use crate::functions::{AggregateFunction, ScalarFunction, aggregate, scalar};

/// Functions known to a session.
#[derive(Debug, Clone)]
pub struct FunctionRegistry {
    scalars: HashMap<String, Arc<dyn ScalarFunction>>,
    aggregates: HashMap<String, Arc<dyn AggregateFunction>>,
}

/// Other names of built-in aggregates.
const AGGREGATE_ALIASES: &[(&str, &str)] = &[
    ("mean", "avg"),
    ("first", "any_value"),
    ("arbitrary", "any_value"),
    ("every", "bool_and"),
    ("group_concat", "string_agg"),
    ("listagg", "string_agg"),
];

impl Default for FunctionRegistry {
    fn default() -> Self {
        Self::with_builtins()
    }
}

impl FunctionRegistry {
    /// A registry with every built-in function.
    pub fn with_builtins() -> Self {
        let mut r = FunctionRegistry {
            scalars: HashMap::new(),
            aggregates: HashMap::new(),
        };
        for f in scalar::builtins() {
            r.register_scalar(f);
        }
        for (alias, target) in scalar::ALIASES {
            if let Some(f) = r.scalars.get(*target).cloned() {
                r.scalars.insert(alias.to_string(), f);
            }
        }
        for f in aggregate::builtins() {
            r.register_aggregate(f);
        }
        for (alias, target) in AGGREGATE_ALIASES {
            if let Some(f) = r.aggregates.get(*target).cloned() {
                r.aggregates.insert(alias.to_string(), f);
            }
        }
        r
    }

    /// Adds or replaces a scalar function.
    pub fn register_scalar(&mut self, f: Arc<dyn ScalarFunction>) {
        self.scalars.insert(f.name().to_lowercase(), f);
    }

    /// Adds or replaces an aggregate function.
    pub fn register_aggregate(&mut self, f: Arc<dyn AggregateFunction>) {
        self.aggregates.insert(f.name().to_lowercase(), f);
    }

    /// A scalar function by name.
    pub fn scalar(&self, name: &str) -> Option<Arc<dyn ScalarFunction>> {
        self.scalars.get(&name.to_lowercase()).cloned()
    }

    /// An aggregate function by name.
    pub fn aggregate(&self, name: &str) -> Option<Arc<dyn AggregateFunction>> {
        self.aggregates.get(&name.to_lowercase()).cloned()
    }

    /// The "unknown function" error, with a close name if there is one.
    pub fn unknown(&self, name: &str) -> Error {
        let names = self
            .scalars
            .keys()
            .chain(self.aggregates.keys())
            .map(|s| s.as_str());
        match closest_name(name, names) {
            Some(c) => Error::not_found(format!(
                "function {name}() does not exist; did you mean {c}()?"
            )),
            None => Error::not_found(format!("function {name}() does not exist")),
        }
    }

    /// Names of all functions, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .scalars
            .keys()
            .chain(self.aggregates.keys())
            .cloned()
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// Looks up a scalar function or fails with a helpful error.
    pub fn scalar_or_err(&self, name: &str) -> Result<Arc<dyn ScalarFunction>> {
        self.scalar(name).ok_or_else(|| self.unknown(name))
    }
}
