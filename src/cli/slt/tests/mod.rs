//! Unit tests of the sqllogictest runner, with an in-memory mock [`SltDb`].

mod compare_tests;
mod format_tests;
mod runner_tests;
mod script_tests;
mod values_tests;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow::array::{ArrayRef, Int64Array, StringArray};
use arrow::datatypes::{Field, Schema};
use arrow::record_batch::RecordBatch;

use super::{SltDb, SltOutput};

/// What the mock answers to one SQL text.
pub(super) type Response = Result<SltOutput, String>;

/// A fake database answering canned responses keyed by the exact SQL text.
pub(super) struct MockDb {
    /// Canned responses.
    pub responses: HashMap<String, Response>,
    /// Answer to SQL not in `responses`.
    pub default: Response,
    /// Every SQL text run, in order.
    pub log: Vec<String>,
    /// The engine name reported to skipif/onlyif.
    pub name: String,
}

impl MockDb {
    /// A mock that accepts every statement (`Ok(None)`) unless told otherwise.
    pub fn accepting() -> Self {
        MockDb {
            responses: HashMap::new(),
            default: Ok(None),
            log: Vec::new(),
            name: "flint".to_string(),
        }
    }

    /// A mock that fails every statement.
    pub fn failing() -> Self {
        MockDb {
            default: Err("mock failure".to_string()),
            ..MockDb::accepting()
        }
    }

    /// Adds a canned response.
    pub fn with(mut self, sql: &str, response: Response) -> Self {
        self.responses.insert(sql.to_string(), response);
        self
    }
}

impl SltDb for MockDb {
    fn run(&mut self, sql: &str) -> Result<SltOutput, String> {
        self.log.push(sql.to_string());
        if sql == "PANIC" {
            panic!("mock panic");
        }
        self.responses
            .get(sql)
            .cloned()
            .unwrap_or_else(|| self.default.clone())
    }

    fn engine_name(&self) -> &str {
        &self.name
    }
}

/// A query result made of the given columns (one batch).
pub(super) fn result(columns: Vec<(&str, ArrayRef)>) -> Response {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let arrays = columns.into_iter().map(|(_, a)| a).collect();
    let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| e.to_string())?;
    Ok(Some((schema, vec![batch])))
}

/// A one-column Int64 result.
pub(super) fn ints(values: &[Option<i64>]) -> Response {
    result(vec![("x", Arc::new(Int64Array::from(values.to_vec())))])
}

/// A one-column Utf8 result.
pub(super) fn texts(values: &[Option<&str>]) -> Response {
    result(vec![("x", Arc::new(StringArray::from(values.to_vec())))])
}

/// Writes `content` to a fresh temporary file named `name` and returns its path.
pub(super) fn temp_file(name: &str, content: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "flint_slt_test_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write temp file");
    path
}
