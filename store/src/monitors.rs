//! Monitors: which checks to run on which dataset, on each new version and/or on a schedule.

use serde_json::json;
use sqlx::{AnyConnection, Row as _};

use crate::audit::{Actor, NewEvent, append};
use crate::datasets::dataset_id;
use crate::error::map_unique;
use crate::model::Page;
use crate::monitoring::{MIN_INTERVAL_SECONDS, Monitor, MonitorUpdate, NewMonitor, parse_json};
use crate::projects::project_id;
use crate::reports::check_version_in_project;
use crate::{Error, PageRequest, Result, Store, now_ms, validate};

const SELECT: &str = "SELECT m.id, p.name AS project, m.name, d.name AS dataset, m.dataset_id, \
     m.reference_version_id, m.checks, m.on_new_version, m.interval_seconds, m.enabled, m.next_run_at, \
     m.last_run_at, m.owner, m.created_by, m.created_at, m.updated_at \
     FROM monitors m JOIN projects p ON p.id = m.project_id JOIN datasets d ON d.id = m.dataset_id";

fn monitor_from_row(row: &sqlx::any::AnyRow) -> Result<Monitor> {
    let checks: String = row.try_get("checks")?;
    Ok(Monitor {
        id: row.try_get("id")?,
        project: row.try_get("project")?,
        name: row.try_get("name")?,
        dataset: row.try_get("dataset")?,
        dataset_id: row.try_get("dataset_id")?,
        reference_version_id: row.try_get("reference_version_id")?,
        checks: parse_json("monitor checks", &checks)?,
        on_new_version: row.try_get::<i64, _>("on_new_version")? != 0,
        interval_seconds: row.try_get("interval_seconds")?,
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        next_run_at: row.try_get("next_run_at")?,
        last_run_at: row.try_get("last_run_at")?,
        owner: row.try_get("owner")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Reads a monitor by id, NotFound when there is none.
pub(crate) async fn monitor_by_id(conn: &mut AnyConnection, id: i64) -> Result<Monitor> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE m.id = $1")))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| Error::not_found("monitor", id))?;
    monitor_from_row(&row)
}

/// Reads a monitor of a project by name, NotFound when there is none.
pub(crate) async fn monitor_by_name(
    conn: &mut AnyConnection,
    project: &str,
    name: &str,
) -> Result<Monitor> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE p.name = $1 AND m.name = $2"
    )))
    .bind(project)
    .bind(name)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| Error::not_found("monitor", format!("{project}/{name}")))?;
    monitor_from_row(&row)
}

/// Checks a schedule interval: at least [`MIN_INTERVAL_SECONDS`], and small enough to add to a
/// time in milliseconds.
fn check_interval(interval_seconds: Option<i64>) -> Result<()> {
    match interval_seconds {
        Some(s) if s < MIN_INTERVAL_SECONDS => Err(Error::invalid(format!(
            "interval_seconds must be at least {MIN_INTERVAL_SECONDS}"
        ))),
        Some(s) if s > i64::from(u32::MAX) => Err(Error::invalid("interval_seconds is too large")),
        _ => Ok(()),
    }
}

/// The next scheduled run from `now`: None when the monitor is disabled or has no interval.
pub(crate) fn next_run(enabled: bool, interval_seconds: Option<i64>, now: i64) -> Option<i64> {
    match interval_seconds {
        Some(s) if enabled => Some(now.saturating_add(s.saturating_mul(1000))),
        _ => None,
    }
}

impl Store {
    /// Creates a monitor of a dataset, owned by the actor. Its first scheduled run is one
    /// interval from now.
    pub async fn create_monitor(&self, new: &NewMonitor, actor: &Actor) -> Result<Monitor> {
        validate::name("monitor name", &new.name)?;
        check_interval(new.interval_seconds)?;
        let project = new.project.as_str();
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let pid = project_id(&mut tx, project).await?;
        let did = dataset_id(&mut tx, project, &new.dataset).await?;
        if let Some(reference) = new.reference_version_id {
            check_version_in_project(&mut tx, reference, project).await?;
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO monitors (project_id, name, dataset_id, reference_version_id, checks, on_new_version, \
             interval_seconds, enabled, next_run_at, owner, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $11) RETURNING id",
        )
        .bind(pid)
        .bind(&new.name)
        .bind(did)
        .bind(new.reference_version_id)
        .bind(new.checks.to_string())
        .bind(i64::from(new.on_new_version))
        .bind(new.interval_seconds)
        .bind(i64::from(new.enabled))
        .bind(next_run(new.enabled, new.interval_seconds, now))
        .bind(&actor.principal)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_unique("monitor", &new.name))?;
        let monitor = monitor_by_id(&mut tx, id).await?;
        let event = NewEvent::success(
            "monitor.create",
            format!("project/{project}/monitor/{}", new.name),
            Some(project),
            json!({
                "dataset": new.dataset,
                "reference_version_id": new.reference_version_id,
                "on_new_version": new.on_new_version,
                "interval_seconds": new.interval_seconds,
                "enabled": new.enabled,
            }),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(monitor)
    }

    /// Reads a monitor by name.
    pub async fn monitor(&self, project: &str, name: &str) -> Result<Monitor> {
        let mut conn = self.inner.read.acquire().await?;
        project_id(&mut conn, project).await?;
        monitor_by_name(&mut conn, project, name).await
    }

    /// Reads a monitor by id, in any project (for workers).
    pub async fn monitor_by_id(&self, id: i64) -> Result<Monitor> {
        let mut conn = self.inner.read.acquire().await?;
        monitor_by_id(&mut conn, id).await
    }

    /// Lists a project's monitors by id.
    pub async fn list_monitors(&self, project: &str, page: &PageRequest) -> Result<Page<Monitor>> {
        let mut conn = self.inner.read.acquire().await?;
        let pid = project_id(&mut conn, project).await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE m.project_id = $1 AND m.id > $2 ORDER BY m.id LIMIT $3"
        )))
        .bind(pid)
        .bind(page.after_key())
        .bind(page.fetch())
        .fetch_all(&mut *conn)
        .await?;
        let monitors = rows
            .iter()
            .map(monitor_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(monitors, page, |m| m.id))
    }

    /// Changes a monitor; the actor becomes its owner (see [`Monitor::owner`]). The next
    /// scheduled run is one interval from now when the interval changes or the monitor is
    /// enabled again; it is cleared when the monitor is disabled or loses its interval; other
    /// changes keep it.
    pub async fn update_monitor(
        &self,
        project: &str,
        name: &str,
        update: &MonitorUpdate,
        actor: &Actor,
    ) -> Result<Monitor> {
        if let Some(interval) = update.interval_seconds {
            check_interval(interval)?;
        }
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        project_id(&mut tx, project).await?;
        let current = monitor_by_name(&mut tx, project, name).await?;
        if let Some(Some(reference)) = update.reference_version_id {
            check_version_in_project(&mut tx, reference, project).await?;
        }
        let enabled = update.enabled.unwrap_or(current.enabled);
        let interval = update.interval_seconds.unwrap_or(current.interval_seconds);
        let next_run_at = match next_run(enabled, interval, now) {
            None => None,
            Some(_)
                if enabled == current.enabled
                    && interval == current.interval_seconds
                    && current.next_run_at.is_some() =>
            {
                current.next_run_at
            }
            fresh => fresh,
        };
        let checks = update.checks.as_ref().unwrap_or(&current.checks);
        sqlx::query(
            "UPDATE monitors SET reference_version_id = $1, checks = $2, on_new_version = $3, \
             interval_seconds = $4, enabled = $5, next_run_at = $6, updated_at = $7, owner = $8 \
             WHERE id = $9",
        )
        .bind(
            update
                .reference_version_id
                .unwrap_or(current.reference_version_id),
        )
        .bind(checks.to_string())
        .bind(i64::from(
            update.on_new_version.unwrap_or(current.on_new_version),
        ))
        .bind(interval)
        .bind(i64::from(enabled))
        .bind(next_run_at)
        .bind(now)
        .bind(&actor.principal)
        .bind(current.id)
        .execute(&mut *tx)
        .await?;
        let monitor = monitor_by_id(&mut tx, current.id).await?;
        let event = NewEvent::success(
            "monitor.update",
            format!("project/{project}/monitor/{name}"),
            Some(project),
            json!({
                "reference_version_id": update.reference_version_id,
                "checks_changed": update.checks.is_some(),
                "on_new_version": update.on_new_version,
                "interval_seconds": update.interval_seconds,
                "enabled": update.enabled,
            }),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(monitor)
    }

    /// Deletes a monitor with its jobs and alerts; its reports stay (without the monitor).
    pub async fn delete_monitor(&self, project: &str, name: &str, actor: &Actor) -> Result<()> {
        let mut tx = self.begin_write().await?;
        project_id(&mut tx, project).await?;
        let monitor = monitor_by_name(&mut tx, project, name).await?;
        sqlx::query("DELETE FROM monitors WHERE id = $1")
            .bind(monitor.id)
            .execute(&mut *tx)
            .await?;
        let event = NewEvent::success(
            "monitor.delete",
            format!("project/{project}/monitor/{name}"),
            Some(project),
            json!({"id": monitor.id, "dataset": monitor.dataset}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(())
    }
}
