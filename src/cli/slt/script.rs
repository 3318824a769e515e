//! Reading a test script: a line-preserving preprocessing pass, style detection, the
//! `sqllogictest` crate's parser, and conversion of its records into the runner's [`Item`]s.

use std::collections::HashMap;

use sqllogictest::{
    ColumnType, Condition, Control, ExpectedError, QueryExpect, Record, SortMode, StatementExpect,
};

use super::Style;

/// A column type letter of a `query` record; any character is accepted (SQLite uses `I`, `R`,
/// `T`; other suites use more letters, which are formatted like `T` in SQLite style).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TypeChar(pub char);

impl ColumnType for TypeChar {
    fn from_char(value: char) -> Option<Self> {
        Some(TypeChar(value))
    }

    fn to_char(&self) -> char {
        self.0
    }
}

/// Sort mode of a query result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sort {
    /// Keep the engine's order.
    None,
    /// Sort rows.
    Rows,
    /// Sort all values individually.
    Values,
}

impl From<SortMode> for Sort {
    fn from(mode: SortMode) -> Self {
        match mode {
            SortMode::NoSort => Sort::None,
            SortMode::RowSort => Sort::Rows,
            SortMode::ValueSort => Sort::Values,
        }
    }
}

/// What error a `statement error` / `query error` record expects.
#[derive(Debug, Clone)]
pub(crate) enum ErrorSpec {
    /// Any error.
    Any,
    /// The crate's parsed expectation (an inline regex, or an SQLSTATE which we cannot check).
    Crate(ExpectedError),
    /// A DuckDB-style message under `----` that must be contained in the error message.
    Contains(String),
}

impl ErrorSpec {
    /// Whether the error message `err` satisfies this expectation.
    pub(crate) fn matches(&self, err: &str) -> bool {
        match self {
            ErrorSpec::Any | ErrorSpec::Crate(ExpectedError::SqlState(_)) => true,
            ErrorSpec::Crate(expected) => expected.is_match(err, None),
            ErrorSpec::Contains(text) => err.contains(text.as_str()),
        }
    }

    /// Human-readable form for failure reports.
    pub(crate) fn describe(&self) -> String {
        match self {
            ErrorSpec::Any => "an error".to_string(),
            ErrorSpec::Crate(e) => format!("an error matching {e}"),
            ErrorSpec::Contains(text) => format!("an error containing {text:?}"),
        }
    }
}

/// One directive of a script, as the runner sees it.
#[derive(Debug, Clone)]
pub(crate) enum Item {
    /// `statement ok` (error = None) or `statement error` (error = Some).
    Statement {
        line: usize,
        sql: String,
        error: Option<ErrorSpec>,
    },
    /// `query ...` with expected result lines, or `query error`.
    Query {
        line: usize,
        sql: String,
        types: Vec<char>,
        sort: Option<Sort>,
        expected: Vec<String>,
        error: Option<ErrorSpec>,
    },
    /// `skipif LABEL` (skip_if = true) or `onlyif LABEL`.
    Condition { skip_if: bool, label: String },
    /// `halt`.
    Halt,
    /// `hash-threshold N`.
    HashThreshold(u64),
    /// `control sortmode M`.
    DefaultSort(Sort),
    /// `include FILE`.
    Include { line: usize, filename: String },
    /// A record this runner does not execute (`system`, `let`, ...); counted as a failure.
    Unsupported { line: usize, what: String },
}

/// A parsed script.
#[derive(Debug, Clone)]
pub(crate) struct Script {
    /// The detected style.
    pub style: Style,
    /// The directives in file order.
    pub items: Vec<Item>,
}

/// A script parse failure with the 1-based line it refers to (0 when unknown).
#[derive(Debug, Clone)]
pub(crate) struct ParseFailure {
    pub line: usize,
    pub message: String,
}

/// Result of [`prepare`]: the script text for the crate's parser and what was learned on the way.
#[derive(Debug, Default)]
pub(crate) struct Prepared {
    /// Script text with the same number of lines as the input.
    pub text: String,
    /// DuckDB-style error messages, keyed by the 1-based line of the record's header.
    pub error_messages: HashMap<usize, String>,
    /// A DuckDB header comment (`# name:`, `# group:`, `# description:`) was seen.
    pub duckdb_header: bool,
    /// A result line contains a TAB.
    pub tab_results: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Between,
    Sql { header: usize, error: bool },
    Results,
    ErrorMessage { header: usize },
}

/// Preprocesses a script (see the module documentation of `cli::slt`), keeping line numbers.
pub(crate) fn prepare(script: &str) -> Prepared {
    let mut prepared = Prepared::default();
    let mut out: Vec<String> = Vec::new();
    let mut state = State::Between;
    for (idx, line) in script.lines().enumerate() {
        let num = idx + 1;
        let mut emitted = line.to_string();
        state = match state {
            State::Between => {
                if let Some(comment) = line.strip_prefix('#') {
                    let comment = comment.trim_start();
                    if ["name:", "group:", "description:"]
                        .iter()
                        .any(|p| comment.starts_with(p))
                    {
                        prepared.duckdb_header = true;
                    }
                    State::Between
                } else {
                    let first = line.split_whitespace().next().unwrap_or("");
                    let second = line.split_whitespace().nth(1).unwrap_or("");
                    match first {
                        "skipif" | "onlyif" | "halt" | "hash-threshold" => {
                            if let Some(pos) = line.find('#') {
                                emitted = line[..pos].trim_end().to_string();
                            }
                            State::Between
                        }
                        "statement" | "query" => State::Sql {
                            header: num,
                            error: second == "error",
                        },
                        "system" | "let" => State::Sql {
                            header: num,
                            error: false,
                        },
                        _ => State::Between,
                    }
                }
            }
            State::Sql { header, error } => {
                if line.is_empty() {
                    State::Between
                } else if line == "----" {
                    if error {
                        prepared.error_messages.insert(header, String::new());
                        emitted = String::new();
                        State::ErrorMessage { header }
                    } else {
                        State::Results
                    }
                } else {
                    state
                }
            }
            State::Results => {
                if line.is_empty() {
                    State::Between
                } else {
                    if line.contains('\t') {
                        prepared.tab_results = true;
                    }
                    State::Results
                }
            }
            State::ErrorMessage { header } => {
                if line.is_empty() {
                    State::Between
                } else {
                    let message = prepared.error_messages.entry(header).or_default();
                    if !message.is_empty() {
                        message.push('\n');
                    }
                    message.push_str(line);
                    emitted = format!("#{line}");
                    state
                }
            }
        };
        out.push(emitted);
    }
    prepared.text = out.join("\n");
    prepared.text.push('\n');
    prepared
}

/// Detects the style of a prepared script (see the module documentation of `cli::slt`).
pub(crate) fn detect_style(prepared: &Prepared) -> Style {
    if prepared.duckdb_header || prepared.tab_results {
        Style::DuckDb
    } else {
        Style::Sqlite
    }
}

/// Parses script text. `name` is used in messages; `style` overrides detection when given.
pub(crate) fn parse_script(
    text: &str,
    name: &str,
    style: Option<Style>,
) -> Result<Script, ParseFailure> {
    let prepared = prepare(text);
    let style = style.unwrap_or_else(|| detect_style(&prepared));
    let records = sqllogictest::parse_with_name::<TypeChar>(&prepared.text, name).map_err(|e| {
        ParseFailure {
            line: e.location().line() as usize,
            message: e.to_string(),
        }
    })?;
    let mut items = Vec::new();
    for record in records {
        if let Some(item) = convert(record, &prepared.error_messages) {
            items.push(item);
        }
    }
    Ok(Script { style, items })
}

fn error_spec(
    expected: ExpectedError,
    line: usize,
    messages: &HashMap<usize, String>,
) -> ErrorSpec {
    match expected {
        ExpectedError::Empty => match messages.get(&line) {
            Some(text) if !text.trim().is_empty() => ErrorSpec::Contains(text.trim().to_string()),
            _ => ErrorSpec::Any,
        },
        other => ErrorSpec::Crate(other),
    }
}

fn convert(record: Record<TypeChar>, messages: &HashMap<usize, String>) -> Option<Item> {
    let item = match record {
        Record::Statement {
            loc, sql, expected, ..
        } => {
            let line = loc.line() as usize;
            let error = match expected {
                StatementExpect::Error(e) => Some(error_spec(e, line, messages)),
                _ => None,
            };
            Item::Statement { line, sql, error }
        }
        Record::Query {
            loc, sql, expected, ..
        } => {
            let line = loc.line() as usize;
            match expected {
                QueryExpect::Results {
                    types,
                    sort_mode,
                    results,
                    ..
                } => Item::Query {
                    line,
                    sql,
                    types: types.iter().map(|t| t.0).collect(),
                    sort: sort_mode.map(Sort::from),
                    expected: results,
                    error: None,
                },
                QueryExpect::Error(e) => Item::Query {
                    line,
                    sql,
                    types: Vec::new(),
                    sort: None,
                    expected: Vec::new(),
                    error: Some(error_spec(e, line, messages)),
                },
            }
        }
        Record::Condition(Condition::SkipIf { label }) => Item::Condition {
            skip_if: true,
            label,
        },
        Record::Condition(Condition::OnlyIf { label }) => Item::Condition {
            skip_if: false,
            label,
        },
        Record::Halt { .. } => Item::Halt,
        Record::HashThreshold { threshold, .. } => Item::HashThreshold(threshold),
        Record::Control(Control::SortMode(mode)) => Item::DefaultSort(mode.into()),
        Record::Include { loc, filename } => Item::Include {
            line: loc.line() as usize,
            filename,
        },
        Record::System { loc, command, .. } => Item::Unsupported {
            line: loc.line() as usize,
            what: format!("system {command}"),
        },
        Record::Let { loc, sql, .. } => Item::Unsupported {
            line: loc.line() as usize,
            what: format!("let: {sql}"),
        },
        _ => return None,
    };
    Some(item)
}
