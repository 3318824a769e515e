//! Finding the files of a table: a single file, every matching file in a
//! folder (recursively), or a glob pattern (`data/*.parquet`).

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

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
        } else if trimmed.ends_with(".csv")
            || trimmed.ends_with(".tsv")
            || trimmed.ends_with(".csv.gz")
        {
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
}

/// Lists the files at `location` (a file, a folder, or a glob), sorted by path.
/// In a folder, only files with the format's extension are taken (hidden files and `_`-prefixed
/// files such as `_SUCCESS` are skipped).
pub fn list_files(location: &str, format: FileFormat) -> Result<Vec<PathBuf>> {
    let location = location.strip_prefix("file://").unwrap_or(location);
    let mut files = vec![];
    if location.contains(['*', '?', '[']) {
        let paths = glob::glob(location)
            .map_err(|e| Error::plan(format!("bad glob pattern '{location}': {e}")))?;
        for p in paths {
            let p = p.map_err(|e| Error::io(format!("listing {location}: {e}")))?;
            if p.is_file() {
                files.push(p);
            }
        }
        if files.is_empty() {
            return Err(Error::io(format!("no files match '{location}'")));
        }
    } else {
        let path = Path::new(location);
        if !path.exists() {
            return Err(Error::io(format!("file or folder not found: {location}")));
        }
        if path.is_file() {
            files.push(path.to_path_buf());
        } else {
            walk(path, format, &mut files)?;
            if files.is_empty() {
                return Err(Error::io(format!(
                    "no .{} files found in folder {location}",
                    format.extension()
                )));
            }
        }
    }
    files.sort();
    Ok(files)
}

fn walk(dir: &Path, format: FileFormat, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::io(format!("cannot list {}: {e}", dir.display())))?;
    for entry in entries {
        let entry = entry?;
        let p = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with('.') || name.starts_with('_') {
            continue;
        }
        if p.is_dir() {
            walk(&p, format, out)?;
        } else if FileFormat::from_path(&name) == Some(format) {
            out.push(p);
        }
    }
    Ok(())
}
