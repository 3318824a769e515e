//! `Location`: what a user wrote as a table's place (`s3://bucket/prefix/`, `file:///abs`,
//! `relative/dir`, `data/*.parquet`), parsed into a store kind, a fixed path prefix inside the
//! store and an optional glob over the paths below it.

use object_store::path::Path;

use crate::error::{Error, Result};

/// Which store a location lives in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StoreKind {
    /// The local file system (paths are absolute from `/`).
    Local,
    /// An S3 bucket.
    S3 {
        /// Bucket name.
        bucket: String,
    },
}

/// A parsed location.
#[derive(Debug, Clone)]
pub struct Location {
    /// The store.
    pub kind: StoreKind,
    /// The path up to the first segment with a glob character.
    pub prefix: Path,
    /// A glob the paths below `prefix` must match (`*` stays within a folder, `**` crosses).
    pub glob: Option<glob::Pattern>,
    /// The user wrote a trailing `/`: a folder, not a file.
    pub is_folder: bool,
    /// The text as given.
    pub text: String,
}

fn has_glob(segment: &str) -> bool {
    segment.contains(['*', '?', '['])
}

/// Joins a relative `a/b` path onto `prefix` without re-encoding its characters.
pub fn join_path(prefix: &Path, relative: &str) -> Result<Path> {
    let rel = relative.trim_matches('/');
    let joined = match (prefix.as_ref().is_empty(), rel.is_empty()) {
        (true, _) => rel.to_string(),
        (false, true) => prefix.as_ref().to_string(),
        (false, false) => format!("{prefix}/{rel}"),
    };
    Path::parse(&joined).map_err(|e| Error::io(format!("invalid path '{joined}': {e}")))
}

impl Location {
    /// Parses a location; relative local paths are taken from the current directory.
    pub fn parse(text: &str) -> Result<Location> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(Error::plan("empty file location"));
        }
        let is_folder = trimmed.ends_with('/');
        if let Some(rest) = trimmed
            .strip_prefix("s3://")
            .or_else(|| trimmed.strip_prefix("s3a://"))
        {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(Error::plan(format!("no bucket in '{text}'")));
            }
            let (fixed, glob) = split_glob(key)?;
            let prefix = if fixed.is_empty() {
                Path::ROOT
            } else {
                Path::parse(&fixed)
                    .map_err(|e| Error::plan(format!("invalid S3 key in '{text}': {e}")))?
            };
            return Ok(Location {
                kind: StoreKind::S3 {
                    bucket: bucket.to_string(),
                },
                prefix,
                glob,
                is_folder,
                text: text.to_string(),
            });
        }
        if let Some((scheme, _)) = trimmed.split_once("://")
            && scheme != "file"
        {
            return Err(Error::plan(format!(
                "unsupported location '{text}' (supported: local paths, file://, s3://)"
            )));
        }
        let local = trimmed.strip_prefix("file://").unwrap_or(trimmed);
        let (fixed, glob) = split_glob(local)?;
        let absolute = absolute_path(if fixed.is_empty() { "." } else { &fixed })?;
        let prefix = if absolute == std::path::Path::new("/") {
            Path::ROOT
        } else {
            Path::from_absolute_path(&absolute)
                .map_err(|e| Error::plan(format!("invalid path '{text}': {e}")))?
        };
        Ok(Location {
            kind: StoreKind::Local,
            prefix,
            glob,
            is_folder,
            text: text.to_string(),
        })
    }

    /// How a path of this store is shown to users: `s3://bucket/key` or `/abs/path`.
    pub fn display(&self, path: &Path) -> String {
        match &self.kind {
            StoreKind::Local => format!("/{path}"),
            StoreKind::S3 { bucket } => format!("s3://{bucket}/{path}"),
        }
    }

    /// The prefix as shown to users.
    pub fn root_display(&self) -> String {
        self.display(&self.prefix)
    }

    /// The segments of `path` below the prefix (`None` if it is not below it).
    pub fn relative_parts(&self, path: &Path) -> Option<Vec<String>> {
        let parts = path.prefix_match(&self.prefix)?;
        Some(parts.map(|p| p.as_ref().to_string()).collect())
    }

    /// Whether a listed `path` belongs to this location: below the prefix, matching the glob,
    /// and without hidden (`.`) or private (`_`) segments below the prefix (Spark's and Hive's
    /// rule: staging files, `_SUCCESS` markers, `.crc` files are not data).
    pub fn accepts(&self, path: &Path) -> bool {
        let Some(parts) = self.relative_parts(path) else {
            return false;
        };
        if parts
            .iter()
            .any(|p| p.starts_with('.') || p.starts_with('_'))
        {
            return false;
        }
        match &self.glob {
            None => true,
            Some(g) => {
                let rel = parts.join("/");
                g.matches_with(
                    &rel,
                    glob::MatchOptions {
                        case_sensitive: true,
                        require_literal_separator: true,
                        require_literal_leading_dot: true,
                    },
                )
            }
        }
    }
}

/// Splits `a/b/*.parquet` into the fixed `a/b` and a glob over the rest.
fn split_glob(path: &str) -> Result<(String, Option<glob::Pattern>)> {
    let segments: Vec<&str> = path.split('/').collect();
    let Some(first) = segments.iter().position(|s| has_glob(s)) else {
        return Ok((path.trim_end_matches('/').to_string(), None));
    };
    let fixed = segments[..first].join("/");
    let pattern = segments[first..].join("/");
    let glob = glob::Pattern::new(&pattern)
        .map_err(|e| Error::plan(format!("bad glob pattern '{path}': {e}")))?;
    // keep a leading '/' of absolute local paths
    let fixed = if fixed.is_empty() && path.starts_with('/') {
        "/".to_string()
    } else {
        fixed
    };
    Ok((fixed, Some(glob)))
}

/// An absolute, `..`-free form of a local path (which need not exist).
fn absolute_path(p: &str) -> Result<std::path::PathBuf> {
    let abs = std::path::absolute(p).map_err(|e| Error::io(format!("bad path '{p}': {e}")))?;
    let mut out = std::path::PathBuf::new();
    for c in abs.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{Location, StoreKind, join_path};
    use object_store::path::Path;

    #[test]
    fn parses_s3_local_and_globs() {
        let l = Location::parse("s3://bkt/data/year=2024/").unwrap();
        assert_eq!(
            l.kind,
            StoreKind::S3 {
                bucket: "bkt".into()
            }
        );
        assert_eq!(l.prefix.as_ref(), "data/year=2024");
        assert!(l.is_folder);
        let g = Location::parse("s3://bkt/data/*.parquet").unwrap();
        assert_eq!(g.prefix.as_ref(), "data");
        assert!(g.accepts(&Path::parse("data/a.parquet").unwrap()));
        assert!(!g.accepts(&Path::parse("data/sub/a.parquet").unwrap()));
        assert!(!g.accepts(&Path::parse("data/_tmp.parquet").unwrap()));
        let l = Location::parse("/tmp/x/../y/f.parquet").unwrap();
        assert_eq!(l.kind, StoreKind::Local);
        assert_eq!(l.prefix.as_ref(), "tmp/y/f.parquet");
        assert_eq!(l.display(&l.prefix), "/tmp/y/f.parquet");
        let f = Location::parse("file:///tmp/a b/c.csv").unwrap();
        assert_eq!(f.prefix.as_ref(), "tmp/a b/c.csv");
        assert!(Location::parse("gs://x/y").is_err());
        assert!(Location::parse("s3:///nobucket").is_err());
    }

    #[test]
    fn joins_without_reencoding() {
        let p = join_path(&Path::parse("out").unwrap(), "k=a%2Fb/part-0.parquet").unwrap();
        assert_eq!(p.as_ref(), "out/k=a%2Fb/part-0.parquet");
        assert_eq!(join_path(&Path::ROOT, "x").unwrap().as_ref(), "x");
    }
}
