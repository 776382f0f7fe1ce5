//! The durable job queue of monitor runs.
//!
//! A job is enqueued in the transaction of what triggers it (a new dataset version, a person, a
//! schedule tick), so no trigger is lost. Workers claim jobs with a lease: on PostgreSQL the
//! claim locks the row `FOR UPDATE SKIP LOCKED`, so concurrent claimers get distinct jobs; on
//! SQLite every write transaction is `BEGIN IMMEDIATE` on one connection, so claims are serial.
//! A running job whose lease ran out (its worker died) is claimed again, until `max_attempts`.

use serde_json::json;
use sqlx::{AnyConnection, Row as _};

use crate::audit::{Actor, NewEvent, append};
use crate::datasets::version_by_id;
use crate::model::Page;
use crate::monitoring::{DEFAULT_MAX_ATTEMPTS, Job, clip};
use crate::monitors::monitor_by_name;
use crate::projects::project_id;
use crate::{Backend, Error, PageRequest, Result, Store, now_ms};

const SELECT: &str = "SELECT j.id, p.name AS project, j.monitor_id, m.name AS monitor, j.dataset_version_id, \
     j.trigger, j.state, j.attempts, j.max_attempts, j.run_after, j.lease_owner, j.lease_until, j.report_id, \
     j.error, j.created_by, j.created_at, j.started_at, j.finished_at \
     FROM jobs j JOIN projects p ON p.id = j.project_id JOIN monitors m ON m.id = j.monitor_id";

/// The error of a job whose worker stopped during its last attempt.
pub const WORKER_STOPPED: &str = "the worker stopped during the last attempt";

/// Longest stored job error, in characters.
const MAX_ERROR_CHARS: usize = 8000;

pub(crate) async fn job_by_id(conn: &mut AnyConnection, id: i64) -> Result<Option<Job>> {
    Ok(
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE j.id = $1")))
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

/// Enqueues a `new_version` job for every enabled monitor of `dataset_id` that runs on new
/// versions; called in the transaction that inserts the version. Returns how many.
pub(crate) async fn enqueue_for_new_version(
    conn: &mut AnyConnection,
    dataset_id: i64,
    version_id: i64,
    actor: &Actor,
) -> Result<u64> {
    let now = now_ms();
    let done = sqlx::query(
        "INSERT INTO jobs (project_id, monitor_id, dataset_version_id, trigger, state, attempts, max_attempts, \
         run_after, created_by, created_at) \
         SELECT project_id, id, $1, 'new_version', 'queued', 0, $2, $3, $4, $3 FROM monitors \
         WHERE dataset_id = $5 AND enabled = 1 AND on_new_version = 1 ORDER BY id",
    )
    .bind(version_id)
    .bind(DEFAULT_MAX_ATTEMPTS)
    .bind(now)
    .bind(&actor.principal)
    .bind(dataset_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Marks a job leased by `worker` succeeded; false when it is not (or no longer) so leased.
pub(crate) async fn complete(
    conn: &mut AnyConnection,
    id: i64,
    worker: &str,
    report_id: Option<i64>,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET state = 'succeeded', report_id = $1, finished_at = $2, lease_until = NULL, error = NULL \
         WHERE id = $3 AND state = 'running' AND lease_owner = $4",
    )
    .bind(report_id)
    .bind(now_ms())
    .bind(id)
    .bind(worker)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

fn check_lease(worker: &str, lease_ms: i64) -> Result<()> {
    if worker.is_empty() {
        return Err(Error::invalid("worker must not be empty"));
    }
    if lease_ms <= 0 {
        return Err(Error::invalid("lease_ms must be positive"));
    }
    Ok(())
}

impl Store {
    /// Enqueues a manual run of a monitor, of one version of its dataset or (None) of the
    /// latest version when the job runs. A disabled monitor can be run this way.
    pub async fn enqueue_monitor_run(
        &self,
        project: &str,
        monitor: &str,
        dataset_version_id: Option<i64>,
        actor: &Actor,
    ) -> Result<Job> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let pid = project_id(&mut tx, project).await?;
        let found = monitor_by_name(&mut tx, project, monitor).await?;
        if let Some(version_id) = dataset_version_id {
            let version = version_by_id(&mut tx, version_id).await?;
            if version.project != project || version.dataset != found.dataset {
                return Err(Error::invalid(format!(
                    "dataset version {version_id} is not a version of dataset '{}', the target of monitor '{monitor}'",
                    found.dataset
                )));
            }
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO jobs (project_id, monitor_id, dataset_version_id, trigger, state, attempts, max_attempts, \
             run_after, created_by, created_at) VALUES ($1, $2, $3, 'manual', 'queued', 0, $4, $5, $6, $5) RETURNING id",
        )
        .bind(pid)
        .bind(found.id)
        .bind(dataset_version_id)
        .bind(DEFAULT_MAX_ATTEMPTS)
        .bind(now)
        .bind(&actor.principal)
        .fetch_one(&mut *tx)
        .await?;
        let job = job_by_id(&mut tx, id)
            .await?
            .ok_or_else(|| Error::Internal(format!("job {id} vanished")))?;
        let event = NewEvent::success(
            "monitor.run",
            format!("project/{project}/monitor/{monitor}"),
            Some(project),
            json!({"job_id": id, "dataset_version_id": dataset_version_id}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(job)
    }

    /// Enqueues a `schedule` job (of the latest version, claimable at once) for every enabled
    /// monitor whose next run is due at `now`, and moves its next run to `now` + its interval, in one transaction.
    /// A monitor that still has a queued scheduled job gets no second one (the queued job
    /// judges the latest version anyway), but its next run moves all the same. On PostgreSQL
    /// the due monitors are locked `FOR UPDATE SKIP LOCKED`, so two schedulers never enqueue
    /// the same tick twice. Returns the number of jobs enqueued. Not audited: the schedule is
    /// not a person's change (the monitor's creation and updates are).
    pub async fn enqueue_due_monitors(&self, now: i64, actor: &Actor) -> Result<usize> {
        let lock = match self.inner.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        // Rows record when they were made; `now` only decides what is due.
        let created_at = now_ms();
        let mut tx = self.begin_write().await?;
        let due = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, project_id, interval_seconds FROM monitors WHERE enabled = 1 \
             AND interval_seconds IS NOT NULL AND next_run_at IS NOT NULL AND next_run_at <= $1 ORDER BY id{lock}"
        )))
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        let mut enqueued = 0;
        for row in due {
            let id: i64 = row.try_get("id")?;
            let pid: i64 = row.try_get("project_id")?;
            let interval: i64 = row.try_get("interval_seconds")?;
            let inserted = sqlx::query(
                "INSERT INTO jobs (project_id, monitor_id, trigger, state, attempts, max_attempts, \
                 run_after, created_by, created_at) \
                 SELECT $1, $2, 'schedule', 'queued', 0, $3, $4, $5, $4 WHERE NOT EXISTS \
                 (SELECT 1 FROM jobs WHERE monitor_id = $2 AND state = 'queued' AND trigger = 'schedule')",
            )
            .bind(pid)
            .bind(id)
            .bind(DEFAULT_MAX_ATTEMPTS)
            .bind(created_at)
            .bind(&actor.principal)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            enqueued += usize::try_from(inserted).unwrap_or(0);
            sqlx::query("UPDATE monitors SET next_run_at = $1 WHERE id = $2")
                .bind(crate::monitors::next_run(true, Some(interval), now))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(enqueued)
    }

    /// Claims the oldest job that is queued and due, or running with an expired lease (its
    /// worker stopped): it becomes running, leased by `worker` until now + `lease_ms`, with one
    /// more attempt. A job with an expired lease that used its last attempt fails instead
    /// (error [`WORKER_STOPPED`]). None when nothing is claimable.
    pub async fn claim_job(&self, worker: &str, lease_ms: i64) -> Result<Option<Job>> {
        check_lease(worker, lease_ms)?;
        let lock = match self.inner.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        loop {
            let candidate = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT id, state, attempts, max_attempts FROM jobs \
                 WHERE (state = 'queued' AND run_after <= $1) OR (state = 'running' AND lease_until < $1) \
                 ORDER BY id LIMIT 1{lock}"
            )))
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = candidate else {
                tx.commit().await?;
                return Ok(None);
            };
            let id: i64 = row.try_get("id")?;
            let state: String = row.try_get("state")?;
            let attempts: i64 = row.try_get("attempts")?;
            let max_attempts: i64 = row.try_get("max_attempts")?;
            if state == "running" && attempts >= max_attempts {
                sqlx::query(
                    "UPDATE jobs SET state = 'failed', error = $1, finished_at = $2, lease_until = NULL WHERE id = $3",
                )
                .bind(WORKER_STOPPED)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                continue;
            }
            sqlx::query(
                "UPDATE jobs SET state = 'running', lease_owner = $1, lease_until = $2, attempts = attempts + 1, \
                 started_at = $3 WHERE id = $4",
            )
            .bind(worker)
            .bind(now.saturating_add(lease_ms))
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            let job = job_by_id(&mut tx, id).await?;
            tx.commit().await?;
            return Ok(job);
        }
    }

    /// Extends the lease of a job `worker` is running; false when the lease is no longer its
    /// (another worker reclaimed the job, or it finished).
    pub async fn heartbeat_job(&self, id: i64, worker: &str, lease_ms: i64) -> Result<bool> {
        check_lease(worker, lease_ms)?;
        let done = sqlx::query(
            "UPDATE jobs SET lease_until = $1 WHERE id = $2 AND state = 'running' AND lease_owner = $3",
        )
        .bind(now_ms().saturating_add(lease_ms))
        .bind(id)
        .bind(worker)
        .execute(&self.inner.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks a job `worker` is running as succeeded, with the report it produced; false when
    /// the lease is no longer its.
    pub async fn complete_job(
        &self,
        id: i64,
        worker: &str,
        report_id: Option<i64>,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = complete(&mut tx, id, worker, report_id).await?;
        tx.commit().await?;
        Ok(done)
    }

    /// Records a failed attempt of a job `worker` is running: with `retry_after_ms`, queued
    /// again and due after it while attempts remain; failed for good otherwise, or at once
    /// when `retry_after_ms` is None (retrying cannot help). False when the lease is no longer
    /// the worker's.
    pub async fn fail_job(
        &self,
        id: i64,
        worker: &str,
        error: &str,
        retry_after_ms: Option<i64>,
    ) -> Result<bool> {
        let now = now_ms();
        // No retry: as if this were the last attempt.
        let retry = i64::from(retry_after_ms.is_some());
        let retry_after_ms = retry_after_ms.unwrap_or(0);
        let done = sqlx::query(
            "UPDATE jobs SET \
             state = CASE WHEN attempts < max_attempts AND $6 = 1 THEN 'queued' ELSE 'failed' END, \
             run_after = CASE WHEN attempts < max_attempts AND $6 = 1 THEN $1 ELSE run_after END, \
             finished_at = CASE WHEN attempts < max_attempts AND $6 = 1 THEN NULL ELSE $2 END, \
             lease_until = NULL, error = $3 \
             WHERE id = $4 AND state = 'running' AND lease_owner = $5",
        )
        .bind(now.saturating_add(retry_after_ms.max(0)))
        .bind(now)
        .bind(clip(error, MAX_ERROR_CHARS))
        .bind(id)
        .bind(worker)
        .bind(retry)
        .execute(&self.inner.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Reads a job of a project (NotFound when it belongs to another one).
    pub async fn job(&self, project: &str, id: i64) -> Result<Job> {
        let mut conn = self.inner.read.acquire().await?;
        project_id(&mut conn, project).await?;
        match job_by_id(&mut conn, id).await? {
            Some(job) if job.project == project => Ok(job),
            _ => Err(Error::not_found("job", id)),
        }
    }

    /// Lists a project's jobs, or one monitor's, newest first.
    pub async fn list_jobs(
        &self,
        project: &str,
        monitor: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Job>> {
        let mut conn = self.inner.read.acquire().await?;
        let pid = project_id(&mut conn, project).await?;
        let rows: Vec<Job> = match monitor {
            Some(name) => {
                let found = monitor_by_name(&mut conn, project, name).await?;
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "{SELECT} WHERE j.monitor_id = $1 AND j.id < $2 ORDER BY j.id DESC LIMIT $3"
                )))
                .bind(found.id)
                .bind(page.before_key())
                .bind(page.fetch())
                .fetch_all(&mut *conn)
                .await?
            }
            None => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "{SELECT} WHERE j.project_id = $1 AND j.id < $2 ORDER BY j.id DESC LIMIT $3"
                )))
                .bind(pid)
                .bind(page.before_key())
                .bind(page.fetch())
                .fetch_all(&mut *conn)
                .await?
            }
        };
        Ok(Page::from_rows(rows, page, |j| j.id))
    }
}
