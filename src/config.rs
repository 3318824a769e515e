//! `SessionConfig`: the knobs of a session (one knob per idea).

use std::path::PathBuf;

use crate::error::{Error, Result};

/// Settings of a session, readable and writable from SQL with `SET name = value`.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Number of partitions operators split work into (default: number of cores).
    pub target_partitions: usize,
    /// Target rows per batch.
    pub batch_size: usize,
    /// Memory limit in bytes for query execution (`None`: no limit). Default: 80% of the
    /// machine's (or container's) memory; `SET memory_limit = 'unlimited'` lifts it.
    pub memory_limit: Option<usize>,
    /// Directory for spill files: operators that run out of memory under `memory_limit` write
    /// Arrow IPC files here (removed when no longer needed).
    pub spill_dir: PathBuf,
    /// Most bytes of spill files one query may have on disk at once (`None`: no limit);
    /// DuckDB's `max_temp_directory_size`.
    pub max_spill_size: Option<usize>,
    /// A join side estimated below this many rows is broadcast instead of shuffled.
    pub broadcast_rows_threshold: usize,
    /// Optimizer rules switched off by name.
    pub disabled_rules: Vec<String>,
    /// Whether `flint slt` / tests print plans of failing queries.
    pub explain_on_error: bool,
    /// Where NULLs sort when ORDER BY does not say.
    pub default_null_order: NullOrder,
    /// Iterations after which a recursive CTE stops with an error (a runaway recursion would
    /// otherwise run until memory is exhausted). Spark's `cteRecursionLevelLimit`.
    pub recursion_limit: usize,
    /// S3 settings (`SET s3.endpoint = ...`) on top of the `AWS_*` environment variables.
    pub s3: crate::io::object_store::S3Config,
    /// Evaluate pushed-down filters inside the Parquet decoder (late materialization): `Some`
    /// forces it on or off; `None` (`auto`, the default) uses it for files on S3, where it saves
    /// bytes fetched, and not for local files, where parquet's row filter measured slower than
    /// decoding whole column chunks (TPC-H SF1: Q6, Q7, Q15, Q19 up to 40% more CPU).
    pub parquet_pushdown_filters: Option<bool>,
    /// Pass each hash join's build keys (range, and values of small build sides) to the scan
    /// under its probe side, which skips row groups and rows that cannot match (default on).
    pub runtime_filters: bool,
}

/// Where NULLs go in ORDER BY without NULLS FIRST/LAST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullOrder {
    /// NULLs compare larger than any value: last for ASC, first for DESC (PostgreSQL).
    NullsLargest,
    /// NULLs compare smaller than any value: first for ASC, last for DESC (SQLite).
    NullsSmallest,
    /// Always first.
    NullsFirst,
    /// Always last (DuckDB).
    NullsLast,
}

impl NullOrder {
    /// Whether NULLs come first for a sort in the given direction.
    pub fn nulls_first(&self, asc: bool) -> bool {
        match self {
            NullOrder::NullsLargest => !asc,
            NullOrder::NullsSmallest => asc,
            NullOrder::NullsFirst => true,
            NullOrder::NullsLast => false,
        }
    }

    /// Parses a setting value.
    pub fn parse(v: &str) -> Result<Self> {
        Ok(match v.to_lowercase().as_str() {
            "nulls_largest" | "postgres" | "nulls_last_on_asc_first_on_desc" => {
                NullOrder::NullsLargest
            }
            "nulls_smallest" | "sqlite" | "nulls_first_on_asc_last_on_desc" => {
                NullOrder::NullsSmallest
            }
            "nulls_first" => NullOrder::NullsFirst,
            "nulls_last" => NullOrder::NullsLast,
            other => {
                return Err(Error::plan(format!(
                    "unknown null order '{other}' (nulls_largest, nulls_smallest, nulls_first, nulls_last)"
                )));
            }
        })
    }

    /// The setting value.
    pub fn name(&self) -> &'static str {
        match self {
            NullOrder::NullsLargest => "nulls_largest",
            NullOrder::NullsSmallest => "nulls_smallest",
            NullOrder::NullsFirst => "nulls_first",
            NullOrder::NullsLast => "nulls_last",
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            target_partitions: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            batch_size: 8192,
            memory_limit: crate::runtime::system_memory::default_memory_limit(),
            spill_dir: std::env::temp_dir(),
            max_spill_size: None,
            broadcast_rows_threshold: 200_000,
            disabled_rules: vec![],
            explain_on_error: false,
            default_null_order: NullOrder::NullsLargest,
            recursion_limit: 100_000,
            s3: crate::io::object_store::S3Config::default(),
            parquet_pushdown_filters: None,
            runtime_filters: true,
        }
    }
}

impl SessionConfig {
    /// The default configuration.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the number of partitions.
    pub fn with_target_partitions(mut self, n: usize) -> Self {
        self.target_partitions = n.max(1);
        self
    }

    /// Sets the batch size.
    pub fn with_batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }

    /// Sets the memory limit in bytes.
    pub fn with_memory_limit(mut self, bytes: usize) -> Self {
        self.memory_limit = Some(bytes);
        self
    }

    /// Sets the directory for spill files.
    pub fn with_spill_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.spill_dir = dir.into();
        self
    }

    /// Sets a setting by its SQL name (`SET target_partitions = 4`).
    pub fn set(&mut self, name: &str, value: &str) -> Result<()> {
        let v = value.trim().trim_matches('\'');
        match name.to_lowercase().as_str() {
            "target_partitions" | "threads" => {
                self.target_partitions = parse_usize(name, v)?.max(1)
            }
            "batch_size" => self.batch_size = parse_usize(name, v)?.max(1),
            "memory_limit" if v.eq_ignore_ascii_case("default") => {
                self.memory_limit = crate::runtime::system_memory::default_memory_limit()
            }
            "memory_limit" => self.memory_limit = parse_bytes(v)?,
            "spill_dir" | "temp_directory" => self.spill_dir = PathBuf::from(v),
            "max_spill_size" | "max_temp_directory_size" => self.max_spill_size = parse_bytes(v)?,
            "broadcast_rows_threshold" => self.broadcast_rows_threshold = parse_usize(name, v)?,
            "default_null_order" => self.default_null_order = NullOrder::parse(v)?,
            "recursion_limit" => self.recursion_limit = parse_usize(name, v)?,
            "parquet.pushdown_filters" | "parquet_pushdown_filters" => {
                self.parquet_pushdown_filters = if v.eq_ignore_ascii_case("auto") {
                    None
                } else {
                    Some(parse_bool(name, v)?)
                }
            }
            "runtime_filters" => self.runtime_filters = parse_bool(name, v)?,
            s3 if crate::io::object_store::S3Config::is_s3_key(s3) => self.s3.set(s3, v)?,
            "disabled_rules" => {
                self.disabled_rules = v
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            }
            other => {
                return Err(Error::plan(format!(
                    "unknown setting \"{other}\" (settings: target_partitions, batch_size, memory_limit, spill_dir, max_spill_size, broadcast_rows_threshold, disabled_rules, default_null_order, recursion_limit, parquet.pushdown_filters, runtime_filters, s3.*)"
                )));
            }
        }
        Ok(())
    }

    /// All settings as `(name, value)` pairs, for `SHOW ALL`.
    pub fn entries(&self) -> Vec<(String, String)> {
        vec![
            (
                "target_partitions".into(),
                self.target_partitions.to_string(),
            ),
            ("batch_size".into(), self.batch_size.to_string()),
            (
                "memory_limit".into(),
                self.memory_limit
                    .map(crate::runtime::memory_pool::human_bytes)
                    .unwrap_or_else(|| "unlimited".into()),
            ),
            ("spill_dir".into(), self.spill_dir.display().to_string()),
            (
                "max_spill_size".into(),
                self.max_spill_size
                    .map(|b| b.to_string())
                    .unwrap_or_else(|| "unlimited".into()),
            ),
            (
                "broadcast_rows_threshold".into(),
                self.broadcast_rows_threshold.to_string(),
            ),
            ("disabled_rules".into(), self.disabled_rules.join(",")),
            (
                "default_null_order".into(),
                self.default_null_order.name().into(),
            ),
            ("recursion_limit".into(), self.recursion_limit.to_string()),
            (
                "parquet.pushdown_filters".into(),
                self.parquet_pushdown_filters
                    .map(|b| b.to_string())
                    .unwrap_or_else(|| "auto".into()),
            ),
            ("runtime_filters".into(), self.runtime_filters.to_string()),
        ]
        .into_iter()
        .chain(self.s3.entries())
        .collect()
    }
}

fn parse_bool(name: &str, v: &str) -> Result<bool> {
    match v.to_lowercase().as_str() {
        "true" | "on" | "1" | "yes" => Ok(true),
        "false" | "off" | "0" | "no" => Ok(false),
        _ => Err(Error::plan(format!(
            "setting {name} needs true or false, got '{v}'"
        ))),
    }
}

fn parse_usize(name: &str, v: &str) -> Result<usize> {
    v.parse::<usize>().map_err(|_| {
        Error::plan(format!(
            "setting {name} needs a non-negative integer, got '{v}'"
        ))
    })
}

/// Parses sizes such as `512MB`, `2GB`, `1024`; `unlimited`/`none` give `None`.
pub fn parse_bytes(v: &str) -> Result<Option<usize>> {
    let s = v.trim().to_lowercase();
    if s == "unlimited" || s == "none" || s.is_empty() {
        return Ok(None);
    }
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| Error::plan(format!("cannot parse size '{v}' (examples: 512MB, 2GB)")))?;
    let mult: f64 = match unit.trim() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        other => return Err(Error::plan(format!("unknown size unit '{other}' in '{v}'"))),
    };
    Ok(Some((n * mult) as usize))
}

#[cfg(test)]
mod tests {
    use super::parse_bytes;

    #[test]
    fn sizes() {
        assert_eq!(parse_bytes("512MB").unwrap(), Some(512 * 1024 * 1024));
        assert_eq!(parse_bytes("2gb").unwrap(), Some(2 * 1024 * 1024 * 1024));
        assert_eq!(parse_bytes("unlimited").unwrap(), None);
        assert!(parse_bytes("12XB").is_err());
    }
}
