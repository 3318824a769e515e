//! The backup manifest (`manifest.json` at the root of a backup): which tables, their exact Arrow
//! schemas (with metadata), and per file its rows, bytes, SHA-256 and content checksum. It is
//! written last, so a backup without a manifest is incomplete.

use arrow::datatypes::Schema;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Name of the manifest file.
pub const MANIFEST: &str = "manifest.json";

/// What identifies a flint backup.
pub const FORMAT: &str = "flint-backup";

/// Version of the manifest layout.
pub const VERSION: u32 = 1;

/// A backup's table of contents.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// Layout version.
    pub version: u32,
    /// The flint version that wrote it.
    pub flint_version: String,
    /// When it was written (RFC 3339, UTC).
    pub created_at: String,
    /// The `--where` predicate of an incremental backup.
    pub predicate: Option<String>,
    /// The tables.
    pub tables: Vec<TableEntry>,
}

/// One table in a backup.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TableEntry {
    /// Table name.
    pub name: String,
    /// The exact Arrow schema, metadata included.
    pub schema: Schema,
    /// Readable column list (`name TYPE [NOT NULL]`), for people reading the manifest.
    pub columns: Vec<String>,
    /// Rows in all files.
    pub rows: u64,
    /// Bytes of all files.
    pub bytes: u64,
    /// The files, relative to the backup root.
    pub files: Vec<FileEntry>,
}

/// One file of a table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileEntry {
    /// Path relative to the backup root, e.g. `orders/part-0-0-1a2b3c4d.parquet`.
    pub path: String,
    /// Rows.
    pub rows: u64,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
    /// Checksum of the values (survives re-encoding; see `io::checksum`).
    pub content_checksum: String,
}

impl Manifest {
    /// An empty manifest stamped now.
    pub fn new(predicate: Option<String>) -> Self {
        Manifest {
            format: FORMAT.to_string(),
            version: VERSION,
            flint_version: env!("CARGO_PKG_VERSION").to_string(),
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            predicate,
            tables: vec![],
        }
    }

    /// The manifest as pretty JSON.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self)
            .map_err(|e| Error::internal(format!("cannot encode the manifest: {e}")))
    }

    /// Parses and checks a manifest (`source` names it in errors).
    pub fn from_json(text: &str, source: &str) -> Result<Self> {
        let m: Manifest = serde_json::from_str(text).map_err(|e| {
            Error::new(
                crate::error::ErrorKind::Format,
                format!("{source} is not a valid flint backup manifest: {e}"),
            )
        })?;
        if m.format != FORMAT || m.version > VERSION {
            return Err(Error::new(
                crate::error::ErrorKind::Format,
                format!(
                    "{source}: unsupported backup format {} version {} (this flint reads {FORMAT} up to {VERSION})",
                    m.format, m.version
                ),
            ));
        }
        Ok(m)
    }

    /// The table called `name`.
    pub fn table(&self, name: &str) -> Option<&TableEntry> {
        self.tables.iter().find(|t| t.name == name)
    }
}

/// `name TYPE [NOT NULL]` per column.
pub fn column_list(schema: &Schema) -> Vec<String> {
    schema
        .fields()
        .iter()
        .map(|f| {
            format!(
                "{} {}{}",
                f.name(),
                f.data_type(),
                if f.is_nullable() { "" } else { " NOT NULL" }
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{FileEntry, Manifest, TableEntry, column_list};
    use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
    use std::collections::HashMap;

    #[test]
    fn round_trips_through_json() {
        let schema = Schema::new_with_metadata(
            vec![
                Field::new(
                    "ts",
                    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                    false,
                )
                .with_metadata(HashMap::from([("unit".to_string(), "s".to_string())])),
                Field::new("d", DataType::Decimal128(12, 3), true),
            ],
            HashMap::from([("owner".to_string(), "ops".to_string())]),
        );
        let mut m = Manifest::new(Some("ts >= '2024-01-01'".into()));
        m.tables.push(TableEntry {
            name: "t".into(),
            columns: column_list(&schema),
            schema,
            rows: 1,
            bytes: 10,
            files: vec![FileEntry {
                path: "t/a.parquet".into(),
                rows: 1,
                bytes: 10,
                sha256: "ab".into(),
                content_checksum: "cd".into(),
            }],
        });
        let back = Manifest::from_json(&m.to_json().unwrap(), "m").unwrap();
        assert_eq!(back, m);
        assert!(Manifest::from_json("{}", "m").is_err());
    }
}
