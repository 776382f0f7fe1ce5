//! Per-project storage quotas (off unless the server sets one): the bytes a project's dataset
//! versions, run artifacts, uploaded model files (not those registered from a run's
//! artifacts, counted already) and compliance reports record may not pass the quota. Identical
//! bytes are stored once, but count for every row that records them, so a project's usage
//! does not depend on what other projects hold.

use std::sync::atomic::Ordering;

use sqlx::AnyConnection;

use crate::db::{Backend, LockTable, lock_row};
use crate::{Error, Result, Store};

/// The bytes recorded in a project, as its quota counts them.
const USAGE_SQL: &str = "SELECT CAST(\
     (SELECT COALESCE(SUM(dv.byte_size), 0) FROM dataset_versions dv \
        JOIN datasets d ON d.id = dv.dataset_id WHERE d.project_id = $1) \
   + (SELECT COALESCE(SUM(a.byte_size), 0) FROM run_artifacts a JOIN runs r ON r.id = a.run_id \
        JOIN experiments e ON e.id = r.experiment_id WHERE e.project_id = $1) \
   + (SELECT COALESCE(SUM(f.byte_size), 0) FROM model_version_files f \
        JOIN model_versions mv ON mv.id = f.model_version_id \
        JOIN registered_models m ON m.id = mv.model_id \
        WHERE m.project_id = $1 AND mv.source_path IS NULL) \
   + (SELECT COALESCE(SUM(f.byte_size), 0) FROM compliance_report_files f \
        JOIN compliance_reports c ON c.id = f.report_id WHERE c.project_id = $1) AS BIGINT)";

/// The bytes recorded in the project with this id.
pub(crate) async fn usage(conn: &mut AnyConnection, project_id: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(USAGE_SQL)
        .bind(project_id)
        .fetch_one(conn)
        .await?)
}

impl Store {
    /// Sets the storage quota of every project in bytes (None: no quota, the default).
    pub fn set_project_quota(&self, bytes: Option<u64>) {
        let value = bytes.map_or(0, |b| b.max(1));
        self.inner.project_quota.store(value, Ordering::Relaxed);
    }

    /// The storage quota of every project in bytes, if any.
    pub fn project_quota(&self) -> Option<u64> {
        match self.inner.project_quota.load(Ordering::Relaxed) {
            0 => None,
            bytes => Some(bytes),
        }
    }

    /// The bytes the project may still record under the quota (None: no quota).
    pub async fn quota_room(&self, project: &str) -> Result<Option<u64>> {
        let Some(quota) = self.project_quota() else {
            return Ok(None);
        };
        let used = u64::try_from(self.project_usage(project).await?).unwrap_or(0);
        Ok(Some(quota.saturating_sub(used)))
    }

    /// The bytes recorded in a project (what its quota counts).
    pub async fn project_usage(&self, project: &str) -> Result<i64> {
        let mut conn = self.inner.read.acquire().await?;
        let id = crate::projects::project_id(&mut conn, project).await?;
        usage(&mut conn, id).await
    }

    /// Refuses to record `adding` more bytes in the project when that would pass the quota.
    /// Inside a write transaction it first locks the project (PostgreSQL), so concurrent
    /// uploads to one project are counted one after the other.
    pub(crate) async fn check_quota(
        &self,
        conn: &mut AnyConnection,
        project: &str,
        adding: u64,
        in_transaction: bool,
    ) -> Result<()> {
        let Some(quota) = self.project_quota() else {
            return Ok(());
        };
        let id = crate::projects::project_id(conn, project).await?;
        if in_transaction && self.inner.backend == Backend::Postgres {
            lock_row(conn, self.inner.backend, LockTable::Projects, id).await?;
        }
        let used = u64::try_from(usage(conn, id).await?).unwrap_or(0);
        if used.saturating_add(adding) > quota {
            return Err(Error::QuotaExceeded {
                project: project.to_owned(),
                used,
                adding,
                quota,
            });
        }
        Ok(())
    }
}
