//! The one error type of flint.
//!
//! Every failure a user can see is an [`Error`] with a [`ErrorKind`] (a stable
//! code such as `E_SQL_SYNTAX`) and, for SQL errors, the [`SqlSpan`] of the
//! offending text so that the CLI can print a caret under it.

use std::fmt;

use arrow::error::ArrowError;
use datafusion_common::DataFusionError;

/// A position range in SQL text (1-based lines and columns, inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SqlSpan {
    /// Line of the first character (1-based).
    pub line: u64,
    /// Column of the first character (1-based).
    pub column: u64,
    /// Line of the last character.
    pub end_line: u64,
    /// Column of the last character.
    pub end_column: u64,
}

impl SqlSpan {
    /// Builds a span from a sqlparser span; `None` for the empty span sqlparser uses when unknown.
    pub fn from_parser(span: sqlparser::tokenizer::Span) -> Option<SqlSpan> {
        if span.start.line == 0 {
            return None;
        }
        Some(SqlSpan {
            line: span.start.line,
            column: span.start.column,
            end_line: span.end.line,
            end_column: span.end.column,
        })
    }

    /// Renders the offending line of `sql` with a caret line under the span.
    pub fn render(&self, sql: &str) -> Option<String> {
        let line = sql.lines().nth(self.line.checked_sub(1)? as usize)?;
        let start = self.column.saturating_sub(1) as usize;
        let width = if self.end_line == self.line && self.end_column >= self.column {
            (self.end_column - self.column) as usize
        } else {
            1
        }
        .max(1);
        let pad: String = line
            .chars()
            .take(start)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        Some(format!("{line}\n{pad}{}", "^".repeat(width)))
    }
}

impl fmt::Display for SqlSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// What kind of failure an [`Error`] is; each kind has a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The SQL text does not parse.
    SqlSyntax,
    /// The SQL parses but cannot be planned: unknown names, wrong types, unsupported syntax.
    Plan,
    /// A named table, view or column does not exist.
    NotFound,
    /// Operand types do not fit an operator or function.
    TypeMismatch,
    /// A runtime failure while computing a result (overflow, division by zero, bad cast).
    Execution,
    /// A feature that flint does not have (yet).
    NotImplemented,
    /// Reading or writing files failed.
    Io,
    /// Arrow, Parquet or CSV data could not be decoded or encoded.
    Format,
    /// The memory or disk limit was reached.
    ResourcesExhausted,
    /// The query was cancelled.
    Cancelled,
    /// A bug: an invariant of flint itself was broken.
    Internal,
}

impl ErrorKind {
    /// The stable code of this kind, printed in front of messages.
    pub fn code(&self) -> &'static str {
        match self {
            ErrorKind::SqlSyntax => "E_SQL_SYNTAX",
            ErrorKind::Plan => "E_PLAN",
            ErrorKind::NotFound => "E_NOT_FOUND",
            ErrorKind::TypeMismatch => "E_TYPE",
            ErrorKind::Execution => "E_EXEC",
            ErrorKind::NotImplemented => "E_NOT_IMPLEMENTED",
            ErrorKind::Io => "E_IO",
            ErrorKind::Format => "E_FORMAT",
            ErrorKind::ResourcesExhausted => "E_RESOURCES",
            ErrorKind::Cancelled => "E_CANCELLED",
            ErrorKind::Internal => "E_INTERNAL",
        }
    }
}

/// The error type of every fallible flint API.
#[derive(Debug, Clone)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    span: Option<SqlSpan>,
}

/// `Result` with flint's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            span: None,
        }
    }
    /// A planning error.
    pub fn plan(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Plan, message)
    }
    /// A not-found error (tables, columns, functions).
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
    /// A type mismatch.
    pub fn type_mismatch(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::TypeMismatch, message)
    }
    /// A runtime error.
    pub fn execution(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Execution, message)
    }
    /// A feature flint does not support.
    pub fn not_implemented(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotImplemented, message)
    }
    /// An internal invariant failed.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
    /// An I/O error.
    pub fn io(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Io, message)
    }
    /// A resources-exhausted error.
    pub fn resources_exhausted(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ResourcesExhausted, message)
    }
    /// The query was cancelled.
    pub fn cancelled() -> Self {
        Self::new(ErrorKind::Cancelled, "query cancelled")
    }

    /// Attaches a SQL span unless the error already has one.
    pub fn with_span(mut self, span: Option<SqlSpan>) -> Self {
        if self.span.is_none() {
            self.span = span;
        }
        self
    }

    /// Prefixes the message with context, e.g. the file being read.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    /// The message without code or position.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// Where in the SQL text the problem is, if known.
    pub fn span(&self) -> Option<SqlSpan> {
        self.span
    }

    /// The same error with the offending SQL line and a caret folded into its message.
    pub fn rendered(self, sql: &str) -> Error {
        match self.span.and_then(|s| s.render(sql).map(|c| (s, c))) {
            Some((span, caret)) => Error {
                kind: self.kind,
                message: format!("{} (at {span})\n{caret}", self.message),
                span: None,
            },
            None => self,
        }
    }

    /// The full message with the offending SQL line and a caret under the span.
    pub fn render(&self, sql: &str) -> String {
        match self.span.and_then(|s| s.render(sql)) {
            Some(caret) => format!("{self}\n{caret}"),
            None => self.to_string(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.code(), self.message)?;
        if let Some(span) = self.span {
            write!(f, " (at {span})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

impl From<ArrowError> for Error {
    fn from(e: ArrowError) -> Self {
        match e {
            ArrowError::ExternalError(inner) => match inner.downcast::<Error>() {
                Ok(ours) => *ours,
                Err(other) => Error::execution(other.to_string()),
            },
            ArrowError::DivideByZero => Error::execution("division by zero"),
            ArrowError::ArithmeticOverflow(m) => Error::execution(format!("numeric overflow: {m}")),
            ArrowError::CastError(m) => Error::execution(format!("cast failed: {m}")),
            ArrowError::ParseError(m) => Error::execution(format!("cannot parse value: {m}")),
            ArrowError::IoError(m, _) => Error::io(m),
            ArrowError::CsvError(m) | ArrowError::JsonError(m) => Error::new(ErrorKind::Format, m),
            ArrowError::MemoryError(m) => Error::resources_exhausted(m),
            other => Error::execution(other.to_string()),
        }
    }
}

impl From<parquet::errors::ParquetError> for Error {
    fn from(e: parquet::errors::ParquetError) -> Self {
        match e {
            parquet::errors::ParquetError::ArrowError(m) => Error::new(ErrorKind::Format, m),
            parquet::errors::ParquetError::External(inner) => match inner.downcast::<Error>() {
                Ok(ours) => *ours,
                Err(other) => Error::new(ErrorKind::Format, other.to_string()),
            },
            other => Error::new(ErrorKind::Format, format!("parquet: {other}")),
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::io(e.to_string())
    }
}

impl From<object_store::Error> for Error {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { path, .. } => {
                Error::new(ErrorKind::Io, format!("object not found: {path}"))
            }
            other => Error::io(other.to_string()),
        }
    }
}

impl From<sqlparser::parser::ParserError> for Error {
    fn from(e: sqlparser::parser::ParserError) -> Self {
        let text = match &e {
            sqlparser::parser::ParserError::TokenizerError(m)
            | sqlparser::parser::ParserError::ParserError(m) => m.clone(),
            sqlparser::parser::ParserError::RecursionLimitExceeded => {
                "statement nested too deeply".to_string()
            }
        };
        let (message, span) = split_parser_location(&text);
        Error::new(ErrorKind::SqlSyntax, format!("syntax error: {message}")).with_span(span)
    }
}

/// sqlparser appends " at Line: L, Column: C" to its messages; turn that into a span.
fn split_parser_location(text: &str) -> (String, Option<SqlSpan>) {
    if let Some(pos) = text.rfind(" at Line: ") {
        let rest = &text[pos + " at Line: ".len()..];
        let mut parts = rest.split(", Column: ");
        let line = parts.next().and_then(|l| l.trim().parse::<u64>().ok());
        let column = parts.next().and_then(|c| {
            c.trim()
                .trim_end_matches(|ch: char| !ch.is_ascii_digit())
                .parse::<u64>()
                .ok()
        });
        if let (Some(line), Some(column)) = (line, column) {
            let span = SqlSpan {
                line,
                column,
                end_line: line,
                end_column: column,
            };
            return (text[..pos].to_string(), Some(span));
        }
    }
    (text.to_string(), None)
}

impl From<DataFusionError> for Error {
    fn from(e: DataFusionError) -> Self {
        match e {
            DataFusionError::External(inner) => match inner.downcast::<Error>() {
                Ok(ours) => *ours,
                Err(other) => Error::execution(other.to_string()),
            },
            DataFusionError::ArrowError(a, _) => Error::from(*a),
            DataFusionError::Context(ctx, inner) => Error::from(*inner).context(ctx),
            DataFusionError::NotImplemented(m) => Error::not_implemented(m),
            DataFusionError::ResourcesExhausted(m) => Error::resources_exhausted(m),
            DataFusionError::Internal(m) => Error::internal(m),
            other => Error::execution(other.strip_backtrace()),
        }
    }
}

impl From<Error> for DataFusionError {
    fn from(e: Error) -> Self {
        DataFusionError::External(Box::new(e))
    }
}

impl From<Error> for ArrowError {
    fn from(e: Error) -> Self {
        ArrowError::ExternalError(Box::new(e))
    }
}

/// Returns early with a planning error built like `format!`.
#[macro_export]
macro_rules! plan_err {
    ($($arg:tt)*) => { return Err($crate::error::Error::plan(format!($($arg)*))) };
}

/// Returns early with an execution error built like `format!`.
#[macro_export]
macro_rules! exec_err {
    ($($arg:tt)*) => { return Err($crate::error::Error::execution(format!($($arg)*))) };
}

/// Returns early with an internal error built like `format!`.
#[macro_export]
macro_rules! internal_err {
    ($($arg:tt)*) => { return Err($crate::error::Error::internal(format!($($arg)*))) };
}

/// Returns early with a not-implemented error built like `format!`.
#[macro_export]
macro_rules! not_impl_err {
    ($($arg:tt)*) => { return Err($crate::error::Error::not_implemented(format!($($arg)*))) };
}

/// The names in `candidates` closest to `name` (edit distance), for "did you mean" hints.
pub fn closest_name<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let name_l = name.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = edit_distance(&name_l, &c.to_lowercase());
        let limit = (name_l.len().max(c.len()) / 3).max(2);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c.to_string())
}

/// Levenshtein distance between two strings (by chars).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::{closest_name, split_parser_location};

    #[test]
    fn parser_location_becomes_span() {
        let (m, span) =
            split_parser_location("Expected: an expression, found: FROM at Line: 2, Column: 8");
        assert_eq!(m, "Expected: an expression, found: FROM");
        let span = span.unwrap();
        assert_eq!((span.line, span.column), (2, 8));
    }

    #[test]
    fn suggests_close_names() {
        assert_eq!(
            closest_name("lineitm", ["orders", "lineitem"]),
            Some("lineitem".into())
        );
        assert_eq!(closest_name("zzz", ["orders", "lineitem"]), None);
    }
}
