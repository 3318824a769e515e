//! Finding the files of a table through the object-store layer: a single file, every file of a
//! folder or prefix (recursively), or a glob (`data/*.parquet`, `s3://b/logs/**/*.csv`). Hidden
//! (`.`) and private (`_`) names below the location are skipped, so staging files and markers
//! never show up. Folders named `key=value` on the way to a file are its Hive partition values.

use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::error::{Error, Result};
use crate::io::object_store::ResolvedLocation;

/// File formats flint reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// Apache Parquet.
    Parquet,
    /// Comma-separated values.
    Csv,
}

impl FileFormat {
    /// The usual file extension.
    pub fn extension(&self) -> &'static str {
        match self {
            FileFormat::Parquet => "parquet",
            FileFormat::Csv => "csv",
        }
    }

    /// Guesses the format from a path's extension.
    pub fn from_path(path: &str) -> Option<FileFormat> {
        let lower = path.to_lowercase();
        let trimmed = lower.trim_end_matches('/');
        if trimmed.ends_with(".parquet") || trimmed.ends_with(".parq") {
            Some(FileFormat::Parquet)
        } else if trimmed.ends_with(".csv") || trimmed.ends_with(".tsv") {
            Some(FileFormat::Csv)
        } else {
            None
        }
    }

    /// Parses `PARQUET` / `CSV`.
    pub fn parse(name: &str) -> Result<FileFormat> {
        match name.to_lowercase().as_str() {
            "parquet" => Ok(FileFormat::Parquet),
            "csv" => Ok(FileFormat::Csv),
            other => Err(Error::plan(format!(
                "unsupported file format '{other}' (supported: PARQUET, CSV)"
            ))),
        }
    }

    /// The format's name in SQL.
    pub fn name(&self) -> &'static str {
        match self {
            FileFormat::Parquet => "PARQUET",
            FileFormat::Csv => "CSV",
        }
    }
}

/// One file of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedFile {
    /// Path in the store.
    pub path: Path,
    /// Size in bytes.
    pub size: u64,
    /// How users see it (`s3://bucket/key` or `/abs/path`).
    pub display: String,
    /// `key=value` folders between the location and the file, values decoded (`None` for
    /// Hive's `__HIVE_DEFAULT_PARTITION__`, i.e. NULL).
    pub partitions: Vec<(String, Option<String>)>,
}

/// Hive's folder name for a NULL partition value.
pub const HIVE_NULL: &str = "__HIVE_DEFAULT_PARTITION__";

/// Lists the files at a location, sorted by path. A folder or glob that matches nothing is an
/// error, as is a location that does not exist.
pub fn list_files(resolved: &ResolvedLocation, format: FileFormat) -> Result<Vec<ListedFile>> {
    let listing = list_files_or_none(resolved, format)?;
    if listing.files.is_empty() {
        return Err(listing.no_files_error(resolved, format));
    }
    Ok(listing.files)
}

/// The files found at a location (possibly none).
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// Matching files, sorted by path.
    pub files: Vec<ListedFile>,
    /// Whether other objects (of another format, or hidden) exist there.
    pub other_objects: bool,
}

impl Listing {
    /// The error for a location without matching files.
    pub fn no_files_error(&self, resolved: &ResolvedLocation, format: FileFormat) -> Error {
        let loc = &resolved.location;
        if loc.glob.is_some() {
            Error::io(format!("no files match '{}'", loc.text))
        } else if self.other_objects {
            Error::io(format!(
                "no .{} files found in folder {}",
                format.extension(),
                loc.root_display()
            ))
        } else {
            Error::io(format!("file or folder not found: {}", loc.root_display()))
        }
    }
}

/// Lists the files at a location; an empty listing is not an error.
pub fn list_files_or_none(resolved: &ResolvedLocation, format: FileFormat) -> Result<Listing> {
    let loc = &resolved.location;
    let store = resolved.store.clone();
    let shown = loc.root_display();
    resolved.io.block_on(async {
        if loc.glob.is_none() && !loc.is_folder && !loc.prefix.as_ref().is_empty() {
            match store.head(&loc.prefix).await {
                Ok(meta) => {
                    return Ok(Listing {
                        files: vec![ListedFile {
                            display: loc.display(&meta.location),
                            path: meta.location,
                            size: meta.size,
                            partitions: vec![],
                        }],
                        other_objects: false,
                    });
                }
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(Error::from(e).context(format!("cannot read {shown}"))),
            }
        }
        let prefix = (!loc.prefix.as_ref().is_empty()).then_some(&loc.prefix);
        let metas: Vec<object_store::ObjectMeta> = store
            .list(prefix)
            .try_collect()
            .await
            .map_err(|e| Error::from(e).context(format!("cannot list {shown}")))?;
        let mut any = false;
        let mut files = vec![];
        for m in metas {
            any = true;
            if !loc.accepts(&m.location) {
                continue;
            }
            if loc.glob.is_none()
                && FileFormat::from_path(m.location.filename().unwrap_or("")) != Some(format)
            {
                continue;
            }
            let parts = loc.relative_parts(&m.location).unwrap_or_default();
            files.push(ListedFile {
                display: loc.display(&m.location),
                partitions: hive_pairs(&parts),
                path: m.location,
                size: m.size,
            });
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Listing {
            files,
            other_objects: any,
        })
    })?
}

/// Whether anything (not hidden) exists at a location: used by writers to refuse to overwrite.
pub fn location_exists(resolved: &ResolvedLocation) -> Result<bool> {
    let loc = &resolved.location;
    let store: &dyn ObjectStore = resolved.store.as_ref();
    let shown = loc.root_display();
    resolved.io.block_on(async {
        if !loc.prefix.as_ref().is_empty() {
            match store.head(&loc.prefix).await {
                Ok(_) => return Ok(true),
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(Error::from(e).context(format!("cannot read {shown}"))),
            }
        }
        let prefix = (!loc.prefix.as_ref().is_empty()).then_some(&loc.prefix);
        let mut stream = store.list(prefix);
        while let Some(m) = stream
            .try_next()
            .await
            .map_err(|e| Error::from(e).context(format!("cannot list {shown}")))?
        {
            if loc.accepts(&m.location) {
                return Ok(true);
            }
        }
        Ok(false)
    })?
}

/// The `key=value` folder names among `parts` (the last part is the file name).
fn hive_pairs(parts: &[String]) -> Vec<(String, Option<String>)> {
    let Some((_, dirs)) = parts.split_last() else {
        return vec![];
    };
    dirs.iter()
        .filter_map(|d| {
            let (k, v) = d.split_once('=')?;
            if k.is_empty() {
                return None;
            }
            let v = percent_decode(v);
            Some((percent_decode(k), (v != HIVE_NULL).then_some(v)))
        })
        .collect()
}

/// Decodes `%XX` escapes (as Hive and Spark write special characters in folder names).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Escapes characters that cannot appear in a folder name (`/`, `=`, `%`, control and a few
/// more), as Hive does.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        let special = ch.is_control()
            || matches!(
                ch,
                '/' | '\\'
                    | '='
                    | '%'
                    | ':'
                    | '#'
                    | '?'
                    | '*'
                    | '"'
                    | '\''
                    | '['
                    | ']'
                    | '{'
                    | '}'
                    | '^'
                    | '<'
                    | '>'
                    | '|'
            );
        if special {
            let mut buf = [0u8; 4];
            for b in ch.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(ch);
        }
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{hive_pairs, percent_decode, percent_encode};

    #[test]
    fn hive_folders_and_escapes() {
        let parts: Vec<String> = ["year=2024", "misc", "city=New%20York", "f.parquet"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            hive_pairs(&parts),
            vec![
                ("year".to_string(), Some("2024".to_string())),
                ("city".to_string(), Some("New York".to_string()))
            ]
        );
        let nulls: Vec<String> = vec!["k=__HIVE_DEFAULT_PARTITION__".into(), "f".into()];
        assert_eq!(hive_pairs(&nulls), vec![("k".to_string(), None)]);
        for s in ["a/b=c%d", "plain", "ü:x", ""] {
            assert_eq!(percent_decode(&percent_encode(s)), s);
        }
        assert_eq!(percent_encode("a/b"), "a%2Fb");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
