//! Alerts: a monitor's failing or warning reports open one alert, later ones update it, a
//! passing report (or a person) resolves it. Every change of a monitor's alert locks the
//! monitor's row first (PostgreSQL), so at most one alert per monitor is ever unresolved (a
//! partial unique index backs this). Opening and resolving enqueue webhook deliveries in the
//! same transaction.

use serde_json::json;
use sqlx::AnyConnection;

use crate::audit::{Actor, NewEvent, append};
use crate::db::{LockTable, lock_row};
use crate::model::Page;
use crate::monitoring::{ALERT_STATES, Alert, AlertChange, REPORT_STATUSES, clip, one_of};
use crate::projects::project_id;
use crate::webhooks::enqueue_deliveries;
use crate::{Error, PageRequest, Result, Store, now_ms};

const SELECT: &str = "SELECT a.id, p.name AS project, a.monitor_id, m.name AS monitor, a.first_report_id, \
     a.last_report_id, a.state, a.severity, a.summary, a.occurrences, a.opened_at, a.acknowledged_by, \
     a.acknowledged_at, a.resolved_by, a.resolved_at, a.updated_at \
     FROM alerts a JOIN projects p ON p.id = a.project_id JOIN monitors m ON m.id = a.monitor_id";

/// Longest stored alert summary, in characters.
const MAX_SUMMARY_CHARS: usize = 4000;

/// Builds the body of a webhook delivery from its event and the alert.
pub type PayloadFn<'a> = &'a (dyn Fn(&str, &Alert) -> String + Sync);

async fn alert_by_id(conn: &mut AnyConnection, id: i64) -> Result<Option<Alert>> {
    Ok(
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE a.id = $1")))
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

async fn load(conn: &mut AnyConnection, id: i64) -> Result<Alert> {
    alert_by_id(conn, id)
        .await?
        .ok_or_else(|| Error::Internal(format!("alert {id} vanished")))
}

/// Reads an alert of `project` and locks its monitor (PostgreSQL), then reads it again: the
/// second read sees every change committed before the lock.
async fn locked_alert(
    store: &Store,
    conn: &mut AnyConnection,
    project: &str,
    id: i64,
) -> Result<Alert> {
    project_id(conn, project).await?;
    let alert = match alert_by_id(conn, id).await? {
        Some(alert) if alert.project == project => alert,
        _ => return Err(Error::not_found("alert", id)),
    };
    lock_row(
        conn,
        store.inner.backend,
        LockTable::Monitors,
        alert.monitor_id,
    )
    .await?;
    load(conn, id).await
}

async fn resolve(conn: &mut AnyConnection, id: i64, by: &str, now: i64) -> Result<Alert> {
    sqlx::query(
        "UPDATE alerts SET state = 'resolved', resolved_by = $1, resolved_at = $2, updated_at = $2 WHERE id = $3",
    )
    .bind(by)
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    load(conn, id).await
}

fn alert_event(action: &str, alert: &Alert, report_id: Option<i64>) -> NewEvent {
    NewEvent::success(
        action,
        format!("project/{}/alert/{}", alert.project, alert.id),
        Some(&alert.project),
        json!({
            "monitor": alert.monitor,
            "severity": alert.severity,
            "occurrences": alert.occurrences,
            "report_id": report_id,
        }),
    )
}

impl Store {
    /// Records the outcome of a monitor's run, in one transaction: `fail` or `warn` opens the
    /// monitor's alert or updates its unresolved one (one more occurrence, the report, the
    /// summary; `fail` severity wins); `pass` resolves the unresolved alert; `error` changes no
    /// alert. The monitor's `last_run_at` becomes now. With `job` (id, worker), that job is
    /// marked succeeded with the report, only if the worker still holds its lease (otherwise
    /// nothing is stored and the error is Conflict). Opening and resolving enqueue a delivery
    /// (body: `payload(event, &alert)`) to each enabled webhook of the project subscribed to
    /// `alert.opened` / `alert.resolved`. Audited as `alert.open`, `alert.update` or
    /// `alert.resolve`.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_monitor_outcome(
        &self,
        monitor_id: i64,
        report_id: i64,
        status: &str,
        summary: &str,
        job: Option<(i64, &str)>,
        payload: PayloadFn<'_>,
        actor: &Actor,
    ) -> Result<AlertChange> {
        one_of("report status", status, &REPORT_STATUSES)?;
        let summary = clip(summary, MAX_SUMMARY_CHARS);
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        lock_row(&mut tx, self.inner.backend, LockTable::Monitors, monitor_id).await?;
        let monitor = crate::monitors::monitor_by_id(&mut tx, monitor_id).await?;
        match crate::reports::report_by_id(&mut tx, report_id).await? {
            Some(report) if report.project == monitor.project => {}
            _ => return Err(Error::not_found("report", report_id)),
        }
        if let Some((job_id, worker)) = job {
            let job_monitor: Option<i64> =
                sqlx::query_scalar("SELECT monitor_id FROM jobs WHERE id = $1")
                    .bind(job_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            match job_monitor {
                None => return Err(Error::not_found("job", job_id)),
                Some(m) if m != monitor_id => {
                    return Err(Error::invalid(format!(
                        "job {job_id} is not a job of monitor {monitor_id}"
                    )));
                }
                Some(_) => {}
            }
            if !crate::jobs::complete(&mut tx, job_id, worker, Some(report_id)).await? {
                return Err(Error::Conflict(format!(
                    "job {job_id} is no longer leased by worker '{worker}'"
                )));
            }
        }
        sqlx::query("UPDATE monitors SET last_run_at = $1 WHERE id = $2")
            .bind(now)
            .bind(monitor_id)
            .execute(&mut *tx)
            .await?;
        let unresolved: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM alerts WHERE monitor_id = $1 AND state <> 'resolved'",
        )
        .bind(monitor_id)
        .fetch_optional(&mut *tx)
        .await?;
        let change = match (status, unresolved) {
            ("fail" | "warn", Some(id)) => {
                let current = load(&mut tx, id).await?;
                let severity = if current.severity == "fail" || status == "fail" {
                    "fail"
                } else {
                    "warn"
                };
                sqlx::query(
                    "UPDATE alerts SET occurrences = occurrences + 1, last_report_id = $1, summary = $2, \
                     severity = $3, updated_at = $4 WHERE id = $5",
                )
                .bind(report_id)
                .bind(&summary)
                .bind(severity)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                AlertChange::Updated(load(&mut tx, id).await?)
            }
            ("fail" | "warn", None) => {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO alerts (project_id, monitor_id, first_report_id, last_report_id, state, severity, \
                     summary, occurrences, opened_at, updated_at) \
                     SELECT project_id, id, $1, $1, 'open', $2, $3, 1, $4, $4 FROM monitors WHERE id = $5 RETURNING id",
                )
                .bind(report_id)
                .bind(status)
                .bind(&summary)
                .bind(now)
                .bind(monitor_id)
                .fetch_one(&mut *tx)
                .await?;
                AlertChange::Opened(load(&mut tx, id).await?)
            }
            ("pass", Some(id)) => {
                AlertChange::Resolved(resolve(&mut tx, id, &actor.principal, now).await?)
            }
            _ => AlertChange::Unchanged,
        };
        let (action, alert, notify) = match &change {
            AlertChange::Opened(alert) => ("alert.open", alert, Some("alert.opened")),
            AlertChange::Updated(alert) => ("alert.update", alert, None),
            AlertChange::Resolved(alert) => ("alert.resolve", alert, Some("alert.resolved")),
            AlertChange::Unchanged => {
                tx.commit().await?;
                return Ok(change);
            }
        };
        if let Some(event) = notify {
            enqueue_deliveries(&mut tx, alert, event, payload).await?;
        }
        let event = alert_event(action, alert, Some(report_id));
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(change)
    }

    /// Reads an alert of a project (NotFound when it belongs to another one).
    pub async fn alert(&self, project: &str, id: i64) -> Result<Alert> {
        let mut conn = self.inner.read.acquire().await?;
        project_id(&mut conn, project).await?;
        match alert_by_id(&mut conn, id).await? {
            Some(alert) if alert.project == project => Ok(alert),
            _ => Err(Error::not_found("alert", id)),
        }
    }

    /// Lists a project's alerts, newest first, optionally only those in one state.
    pub async fn list_alerts(
        &self,
        project: &str,
        state: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Alert>> {
        if let Some(state) = state {
            one_of("alert state", state, &ALERT_STATES)?;
        }
        let mut conn = self.inner.read.acquire().await?;
        let pid = project_id(&mut conn, project).await?;
        let rows: Vec<Alert> = match state {
            Some(state) => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "{SELECT} WHERE a.project_id = $1 AND a.state = $2 AND a.id < $3 ORDER BY a.id DESC LIMIT $4"
                )))
                .bind(pid)
                .bind(state)
                .bind(page.before_key())
                .bind(page.fetch())
                .fetch_all(&mut *conn)
                .await?
            }
            None => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "{SELECT} WHERE a.project_id = $1 AND a.id < $2 ORDER BY a.id DESC LIMIT $3"
                )))
                .bind(pid)
                .bind(page.before_key())
                .bind(page.fetch())
                .fetch_all(&mut *conn)
                .await?
            }
        };
        Ok(Page::from_rows(rows, page, |a| a.id))
    }

    /// Acknowledges an open alert. Acknowledging it again changes nothing and returns it; a
    /// resolved alert cannot be acknowledged (Conflict). Audited as `alert.acknowledge`.
    pub async fn acknowledge_alert(&self, project: &str, id: i64, actor: &Actor) -> Result<Alert> {
        let mut tx = self.begin_write().await?;
        let alert = locked_alert(self, &mut tx, project, id).await?;
        match alert.state.as_str() {
            "acknowledged" => return Ok(alert),
            "resolved" => {
                return Err(Error::Conflict(format!(
                    "alert {id} is resolved: it cannot be acknowledged"
                )));
            }
            _ => {}
        }
        let now = now_ms();
        sqlx::query(
            "UPDATE alerts SET state = 'acknowledged', acknowledged_by = $1, acknowledged_at = $2, updated_at = $2 \
             WHERE id = $3",
        )
        .bind(&actor.principal)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let alert = load(&mut tx, id).await?;
        append(
            &mut tx,
            self.inner.backend,
            actor,
            alert_event("alert.acknowledge", &alert, None),
        )
        .await?;
        tx.commit().await?;
        Ok(alert)
    }

    /// Resolves an open or acknowledged alert by hand and enqueues its `alert.resolved`
    /// deliveries. Resolving a resolved alert changes nothing and returns it. Audited as
    /// `alert.resolve`.
    pub async fn resolve_alert(
        &self,
        project: &str,
        id: i64,
        actor: &Actor,
        payload: PayloadFn<'_>,
    ) -> Result<Alert> {
        let mut tx = self.begin_write().await?;
        let alert = locked_alert(self, &mut tx, project, id).await?;
        if alert.state == "resolved" {
            return Ok(alert);
        }
        let alert = resolve(&mut tx, id, &actor.principal, now_ms()).await?;
        enqueue_deliveries(&mut tx, &alert, "alert.resolved", payload).await?;
        append(
            &mut tx,
            self.inner.backend,
            actor,
            alert_event("alert.resolve", &alert, None),
        )
        .await?;
        tx.commit().await?;
        Ok(alert)
    }
}
