//! One object-store layer for every file flint reads or writes: local paths and `file://` go to
//! object_store's `LocalFileSystem`, `s3://bucket/...` to `AmazonS3` configured from the
//! environment, the session's `SET s3.*` settings and a table's options (`s3.rs`). The session
//! owns an [`ObjectStoreRegistry`] that parses locations (`location.rs`) and caches one store per
//! bucket and configuration; all requests run on the session's I/O runtime.

pub mod location;
pub mod s3;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use object_store::ObjectStore;
use object_store::local::LocalFileSystem;

use crate::error::Result;
use crate::runtime::io_runtime::IoRuntime;

pub use location::{Location, StoreKind, join_path};
pub use s3::S3Config;

/// A store together with the location it was resolved for.
#[derive(Debug, Clone)]
pub struct ResolvedLocation {
    /// The parsed location.
    pub location: Location,
    /// The store holding it.
    pub store: Arc<dyn ObjectStore>,
    /// The runtime its requests run on.
    pub io: Arc<IoRuntime>,
    /// For local files, the file system (to map paths to files read directly).
    pub local: Option<Arc<LocalFileSystem>>,
}

impl ResolvedLocation {
    /// The file system path of a local object (`None` for remote stores).
    pub fn local_file(&self, path: &object_store::path::Path) -> Option<std::path::PathBuf> {
        self.local.as_ref()?.path_to_filesystem(path).ok()
    }
}

/// Maps locations to stores; owned by a session.
#[derive(Debug)]
pub struct ObjectStoreRegistry {
    io: Arc<IoRuntime>,
    local: Arc<LocalFileSystem>,
    s3: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
}

impl Default for ObjectStoreRegistry {
    fn default() -> Self {
        Self::new(Arc::new(IoRuntime::new()))
    }
}

impl ObjectStoreRegistry {
    /// A registry whose stores run their I/O on `io`.
    pub fn new(io: Arc<IoRuntime>) -> Self {
        ObjectStoreRegistry {
            io,
            local: Arc::new(LocalFileSystem::new()),
            s3: Mutex::new(HashMap::new()),
        }
    }

    /// The I/O runtime.
    pub fn io(&self) -> &Arc<IoRuntime> {
        &self.io
    }

    /// The store for `kind`, built with `s3` settings for S3 buckets.
    pub fn store(&self, kind: &StoreKind, s3: &S3Config) -> Result<Arc<dyn ObjectStore>> {
        match kind {
            StoreKind::Local => Ok(self.local.clone() as Arc<dyn ObjectStore>),
            StoreKind::S3 { bucket } => {
                let key = s3.cache_key(bucket);
                let mut cache = self.s3.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(s) = cache.get(&key) {
                    return Ok(s.clone());
                }
                let store = s3.build(bucket)?;
                cache.insert(key, store.clone());
                Ok(store)
            }
        }
    }

    /// Parses `text` and finds its store.
    pub fn resolve(&self, text: &str, s3: &S3Config) -> Result<ResolvedLocation> {
        let location = Location::parse(text)?;
        let store = self.store(&location.kind, s3)?;
        let local = (location.kind == StoreKind::Local).then(|| self.local.clone());
        Ok(ResolvedLocation {
            location,
            store,
            io: self.io.clone(),
            local,
        })
    }
}
