//! Run artifacts: immutable files by relative path, bytes in the blob store.

use serde_json::json;

use crate::audit::{Actor, NewEvent, append};
use std::collections::BTreeMap;

use sqlx::AnyConnection;

use crate::db::{LockTable, lock_row};
use crate::model::StoredFile;
use crate::runs::{active_run, run_by_uuid};
use crate::{Error, Result, StagedBlob, Store, now_ms, validate};

/// One entry of an artifact listing: a file or a directory.
#[derive(Debug, Clone, PartialEq)]
pub struct ArtifactEntry {
    /// Path relative to the run's artifact root.
    pub path: String,
    /// True for a directory.
    pub is_dir: bool,
    /// Size of a file (None for a directory).
    pub byte_size: Option<i64>,
}

/// Every ancestor directory of a path: `a/b/c` gives `a`, `a/b`.
fn ancestors(path: &str) -> Vec<&str> {
    path.match_indices('/').map(|(i, _)| &path[..i]).collect()
}

/// Whether `path` can take a file with this hash: Some(existing) when those exact bytes are
/// there already, a conflict when other bytes are, or when a file or directory is in the way.
async fn check_path(
    conn: &mut AnyConnection,
    run_id: i64,
    path: &str,
    content_hash: &str,
) -> Result<Option<StoredFile>> {
    let existing: Option<StoredFile> = sqlx::query_as(
        "SELECT path, content_hash, byte_size, created_by, created_at FROM run_artifacts WHERE run_id = $1 AND path = $2",
    )
    .bind(run_id)
    .bind(path)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(file) = existing {
        if file.content_hash == content_hash {
            return Ok(Some(file));
        }
        return Err(Error::Conflict(format!(
            "artifact '{path}' exists with other content: artifacts are immutable"
        )));
    }
    for dir in ancestors(path) {
        let clash: Option<String> =
            sqlx::query_scalar("SELECT path FROM run_artifacts WHERE run_id = $1 AND path = $2")
                .bind(run_id)
                .bind(dir)
                .fetch_optional(&mut *conn)
                .await?;
        if clash.is_some() {
            return Err(Error::Conflict(format!(
                "artifact '{dir}' is a file, so '{path}' cannot be stored under it"
            )));
        }
    }
    let under: Option<String> = sqlx::query_scalar(
        "SELECT path FROM run_artifacts WHERE run_id = $1 AND substr(path, 1, length($2)) = $2 LIMIT 1",
    )
    .bind(run_id)
    .bind(format!("{path}/"))
    .fetch_optional(&mut *conn)
    .await?;
    if under.is_some() {
        return Err(Error::Conflict(format!("artifact '{path}' is a directory")));
    }
    Ok(None)
}

impl Store {
    /// Stores a staged upload as a run artifact. Paths are immutable: the same bytes again are a
    /// no-op, other bytes are a conflict, and a file cannot sit where a directory is (or under a file).
    pub async fn put_artifact(
        &self,
        uuid: &str,
        path: &str,
        staged: StagedBlob,
        actor: &Actor,
    ) -> Result<StoredFile> {
        let result = self.record_artifact(uuid, path, &staged, actor).await;
        if let Err(e) = self.inner.blobs.discard(&staged).await {
            tracing::warn!(error = %e, "discarding a staged artifact failed");
        }
        result
    }

    async fn record_artifact(
        &self,
        uuid: &str,
        path: &str,
        staged: &StagedBlob,
        actor: &Actor,
    ) -> Result<StoredFile> {
        validate::artifact_path(path)?;
        let size = i64::try_from(staged.byte_size).map_err(|_| Error::invalid("file too large"))?;
        // Check on a read connection first, so that the blob is moved (a server-side copy on
        // S3) outside the write transaction, and only for a file that will be recorded.
        {
            let mut conn = self.inner.read.acquire().await?;
            let run = active_run(&mut conn, uuid).await?;
            if let Some(file) = check_path(&mut conn, run.id, path, &staged.content_hash).await? {
                return Ok(file);
            }
            self.check_quota(&mut conn, &run.project, staged.byte_size, false)
                .await?;
        }
        self.inner.blobs.commit(staged).await?;
        let mut tx = self.begin_write().await?;
        let run = run_by_uuid(&mut tx, uuid).await?;
        // Lock first, then look: a concurrent delete of the run commits before or after us.
        lock_row(&mut tx, self.inner.backend, LockTable::Runs, run.id).await?;
        let run = active_run(&mut tx, uuid).await?;
        if let Some(file) = check_path(&mut tx, run.id, path, &staged.content_hash).await? {
            return Ok(file);
        }
        self.check_quota(&mut tx, &run.project, staged.byte_size, true)
            .await?;
        let file = sqlx::query_as(
            "INSERT INTO run_artifacts (run_id, path, content_hash, byte_size, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING path, content_hash, byte_size, created_by, created_at",
        )
        .bind(run.id)
        .bind(path)
        .bind(&staged.content_hash)
        .bind(size)
        .bind(&actor.principal)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        let event = NewEvent::success(
            "run.write",
            format!("run/{uuid}/artifact/{path}"),
            Some(&run.project),
            json!({"content_hash": staged.content_hash, "byte_size": size}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(file)
    }

    /// Every artifact of a run under a directory (all when `dir` is None), as stored files.
    pub async fn list_artifact_files(
        &self,
        uuid: &str,
        dir: Option<&str>,
    ) -> Result<Vec<StoredFile>> {
        if let Some(dir) = dir {
            validate::artifact_path(dir)?;
        }
        let mut conn = self.inner.read.acquire().await?;
        let run = run_by_uuid(&mut conn, uuid).await?;
        let prefix = dir.map(|d| format!("{d}/")).unwrap_or_default();
        let files = sqlx::query_as(
            "SELECT path, content_hash, byte_size, created_by, created_at FROM run_artifacts \
             WHERE run_id = $1 AND substr(path, 1, length($2)) = $2 ORDER BY path",
        )
        .bind(run.id)
        .bind(&prefix)
        .fetch_all(&mut *conn)
        .await?;
        Ok(files)
    }

    /// One level of a run's artifact tree under `dir` (the root when None).
    pub async fn list_artifacts(
        &self,
        uuid: &str,
        dir: Option<&str>,
    ) -> Result<Vec<ArtifactEntry>> {
        let files = self.list_artifact_files(uuid, dir).await?;
        let prefix = dir.map(|d| format!("{d}/")).unwrap_or_default();
        let mut entries: BTreeMap<String, ArtifactEntry> = BTreeMap::new();
        for file in files {
            let rest = file.path.get(prefix.len()..).unwrap_or_default();
            match rest.split_once('/') {
                Some((child, _)) => {
                    let path = format!("{prefix}{child}");
                    entries.entry(path.clone()).or_insert(ArtifactEntry {
                        path,
                        is_dir: true,
                        byte_size: None,
                    });
                }
                None => {
                    entries.insert(
                        file.path.clone(),
                        ArtifactEntry {
                            path: file.path,
                            is_dir: false,
                            byte_size: Some(file.byte_size),
                        },
                    );
                }
            }
        }
        Ok(entries.into_values().collect())
    }

    /// One artifact of a run.
    pub async fn get_artifact(&self, uuid: &str, path: &str) -> Result<StoredFile> {
        validate::artifact_path(path)?;
        let mut conn = self.inner.read.acquire().await?;
        let run = run_by_uuid(&mut conn, uuid).await?;
        sqlx::query_as("SELECT path, content_hash, byte_size, created_by, created_at FROM run_artifacts WHERE run_id = $1 AND path = $2")
            .bind(run.id)
            .bind(path)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| Error::not_found("artifact", path))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ancestors_of_a_path() {
        assert_eq!(super::ancestors("a/b/c.txt"), vec!["a", "a/b"]);
        assert!(super::ancestors("c.txt").is_empty());
    }
}
