//! Committing a write: every finished file becomes visible, then objects an overwrite replaces
//! are removed; if a file cannot be committed, those already committed are deleted and the rest
//! aborted. A failed write aborts every upload and removes the local folders it created.

use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::error::{Error, Result};
use crate::io::object_store::{ResolvedLocation, StoreKind};
use crate::io::write::file_writer::FinishedFile;
use crate::io::write::sink::{WriteTarget, WrittenFile};

/// Makes every finished file visible, then removes replaced objects. If a file cannot be
/// committed, the ones already committed are deleted and the rest aborted.
pub(crate) async fn commit(
    files: Vec<FinishedFile>,
    replaced: Vec<Path>,
    target: &WriteTarget,
) -> Result<Vec<WrittenFile>> {
    let mut pending: std::collections::VecDeque<FinishedFile> = files.into();
    let mut done: Vec<FinishedFile> = vec![];
    while let Some(mut f) = pending.pop_front() {
        if let Err(e) = f.upload.complete().await {
            for d in &done {
                let _ = d.upload.delete().await;
            }
            let _ = abort_all(pending.into()).await;
            return Err(e.context("committing the write"));
        }
        done.push(f);
    }
    let new: std::collections::HashSet<&Path> = done.iter().map(|f| f.upload.path()).collect();
    let store: &dyn ObjectStore = target.resolved.store.as_ref();
    for p in replaced.iter().filter(|p| !new.contains(p)) {
        match store.delete(p).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => {
                return Err(Error::from(e).context(format!(
                    "the new files are committed but the replaced {} could not be removed",
                    target.resolved.location.display(p)
                )));
            }
        }
    }
    if target.resolved.location.kind == StoreKind::Local && !replaced.is_empty() {
        remove_empty_local_dirs(target, &replaced, true);
    }
    let mut out: Vec<WrittenFile> = done
        .into_iter()
        .map(|f| WrittenFile {
            path: f.upload.path().clone(),
            display: f.upload.display().to_string(),
            rows: f.rows,
            bytes: f.upload.bytes(),
            sha256: f.upload.sha256_hex(),
            content_checksum: f.content_checksum,
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

pub(crate) async fn abort_all(files: Vec<FinishedFile>) -> Result<()> {
    let mut first_error = None;
    for mut f in files {
        if let Err(e) = f.upload.abort().await {
            first_error.get_or_insert(e);
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

pub(crate) fn local_path(r: &ResolvedLocation, p: &Path) -> Option<std::path::PathBuf> {
    (r.location.kind == StoreKind::Local).then(|| std::path::PathBuf::from(format!("/{p}")))
}

/// Removes folders a failed local write created (only empty ones).
pub(crate) fn cleanup_local_dirs(target: &WriteTarget, files: &[Path], root_existed: bool) {
    if target.resolved.location.kind != StoreKind::Local || target.single_file {
        return;
    }
    remove_empty_local_dirs(target, files, !root_existed);
}

fn remove_empty_local_dirs(target: &WriteTarget, files: &[Path], include_root: bool) {
    let r = &target.resolved;
    let Some(root) = local_path(r, &r.location.prefix) else {
        return;
    };
    if include_root {
        let _ = std::fs::remove_dir(&root);
    }
    for f in files {
        let Some(file) = local_path(r, f) else {
            continue;
        };
        let mut dir = file.parent().map(|d| d.to_path_buf());
        while let Some(d) = dir {
            if !d.starts_with(&root) || (d == root && !include_root) {
                break;
            }
            if std::fs::remove_dir(&d).is_err() {
                break;
            }
            dir = d.parent().map(|p| p.to_path_buf());
        }
    }
}
