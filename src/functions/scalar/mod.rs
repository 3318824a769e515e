//! Built-in scalar functions (placeholder until the library lands).
use std::sync::Arc;
/// All built-in scalar functions.
pub fn builtins() -> Vec<Arc<dyn crate::functions::ScalarFunction>> { vec![] }
/// Other names of built-in scalar functions.
pub const ALIASES: &[(&str, &str)] = &[];
