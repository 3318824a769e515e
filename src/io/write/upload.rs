//! `StagedUpload`: one output file written as a multipart upload to its final name, and made
//! visible only by [`StagedUpload::complete`] at commit time. Until then readers cannot see it:
//! on S3 an incomplete multipart upload is not an object, and object_store's local file system
//! writes to a `name#N` staging file that listings skip and `complete` renames. Parts of
//! [`PART_BYTES`] upload in the background (a few at a time) while the writer keeps encoding;
//! [`StagedUpload::abort`] removes everything written.

use std::sync::Arc;

use bytes::Bytes;
use futures::FutureExt;
use futures::future::BoxFuture;
use object_store::path::Path;
use object_store::{MultipartUpload, ObjectStore, ObjectStoreExt, PutPayload};
use parquet::arrow::async_writer::AsyncFileWriter;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Bytes per uploaded part (S3 needs at least 5 MiB for all but the last part).
pub const PART_BYTES: usize = 8 * 1024 * 1024;

/// Parts of one file uploading at the same time.
const MAX_INFLIGHT_PARTS: usize = 4;

/// One file being written.
pub struct StagedUpload {
    path: Path,
    display: String,
    upload: Option<Box<dyn MultipartUpload>>,
    buffer: Vec<u8>,
    inflight: std::collections::VecDeque<tokio::task::JoinHandle<object_store::Result<()>>>,
    parts: usize,
    bytes: u64,
    hasher: Option<Sha256>,
    store: Arc<dyn ObjectStore>,
}

impl std::fmt::Debug for StagedUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StagedUpload")
            .field("display", &self.display)
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl StagedUpload {
    /// Starts a multipart upload to `path` (must run on the I/O runtime); with `hash`, the
    /// file's SHA-256 is computed as it is written.
    pub async fn create(
        store: Arc<dyn ObjectStore>,
        path: Path,
        display: String,
        hash: bool,
    ) -> Result<Self> {
        let upload = store
            .put_multipart(&path)
            .await
            .map_err(|e| Error::from(e).context(format!("cannot start writing {display}")))?;
        Ok(StagedUpload {
            path,
            display,
            upload: Some(upload),
            buffer: Vec::with_capacity(PART_BYTES),
            inflight: Default::default(),
            parts: 0,
            bytes: 0,
            hasher: hash.then(Sha256::new),
            store,
        })
    }

    /// The object's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How users see it.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// Bytes written so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The SHA-256 (hex) of everything written, when hashing was asked for.
    pub fn sha256_hex(&self) -> Option<String> {
        self.hasher.as_ref().map(|h| hex(&h.clone().finalize()))
    }

    fn error(&self, e: object_store::Error) -> Error {
        Error::from(e).context(format!("writing {}", self.display))
    }

    /// Appends bytes; full parts start uploading.
    pub async fn write(&mut self, data: &[u8]) -> Result<()> {
        if let Some(h) = self.hasher.as_mut() {
            h.update(data);
        }
        self.bytes += data.len() as u64;
        self.buffer.extend_from_slice(data);
        while self.buffer.len() >= PART_BYTES {
            let rest = self.buffer.split_off(PART_BYTES);
            let part = std::mem::replace(&mut self.buffer, rest);
            self.put_part(part).await?;
        }
        Ok(())
    }

    async fn put_part(&mut self, part: Vec<u8>) -> Result<()> {
        while self.inflight.len() >= MAX_INFLIGHT_PARTS {
            self.wait_oldest().await?;
        }
        let upload = self
            .upload
            .as_mut()
            .ok_or_else(|| Error::internal(format!("{} was already finished", self.display)))?;
        let fut = upload.put_part(PutPayload::from(Bytes::from(part)));
        self.inflight.push_back(tokio::spawn(fut));
        self.parts += 1;
        Ok(())
    }

    async fn wait_oldest(&mut self) -> Result<()> {
        if let Some(h) = self.inflight.pop_front() {
            match h.await {
                Ok(r) => r.map_err(|e| self.error(e))?,
                Err(e) => return Err(Error::io(format!("writing {}: {e}", self.display))),
            }
        }
        Ok(())
    }

    /// Uploads what is buffered and waits for every part: the file is complete but not visible.
    pub async fn flush(&mut self) -> Result<()> {
        if !self.buffer.is_empty() || self.parts == 0 {
            let part = std::mem::take(&mut self.buffer);
            self.put_part(part).await?;
        }
        while !self.inflight.is_empty() {
            self.wait_oldest().await?;
        }
        Ok(())
    }

    /// Makes the file visible under its name (call after [`flush`](Self::flush)).
    pub async fn complete(&mut self) -> Result<()> {
        let mut upload = self
            .upload
            .take()
            .ok_or_else(|| Error::internal(format!("{} was already finished", self.display)))?;
        upload.complete().await.map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Abandons the upload: parts in flight are cancelled and the server discards the rest.
    pub async fn abort(&mut self) -> Result<()> {
        for h in self.inflight.drain(..) {
            h.abort();
        }
        if let Some(mut upload) = self.upload.take() {
            upload.abort().await.map_err(|e| {
                Error::from(e).context(format!("aborting the upload of {}", self.display))
            })?;
        }
        Ok(())
    }

    /// Deletes the file after it was completed (rolling back a commit).
    pub async fn delete(&self) -> Result<()> {
        self.store
            .delete(&self.path)
            .await
            .map_err(|e| Error::from(e).context(format!("removing {}", self.display)))
    }
}

impl AsyncFileWriter for StagedUpload {
    fn write(&mut self, bs: Bytes) -> BoxFuture<'_, parquet::errors::Result<()>> {
        async move {
            StagedUpload::write(self, &bs)
                .await
                .map_err(|e| parquet::errors::ParquetError::External(Box::new(e)))
        }
        .boxed()
    }

    /// Flushes only: completing (making the file visible) is the commit's job.
    fn complete(&mut self) -> BoxFuture<'_, parquet::errors::Result<()>> {
        async move {
            self.flush()
                .await
                .map_err(|e| parquet::errors::ParquetError::External(Box::new(e)))
        }
        .boxed()
    }
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
