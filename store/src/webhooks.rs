//! Webhooks and their deliveries. A delivery is enqueued in the transaction of the alert change
//! it reports, and claimed by a sender with a lease like a job; every attempt is recorded.
//! The signing secret is stored (it must be used in clear) but only [`Store::webhook_secret`]
//! and [`Store::claim_delivery`] return it, and it never reaches the audit trail.

use std::collections::HashMap;

use serde_json::json;
use sqlx::{AnyConnection, Row as _};

use crate::audit::{Actor, NewEvent, append};
use crate::model::Page;
use crate::monitoring::{Alert, Delivery, DeliveryAttempt, WEBHOOK_EVENTS, Webhook, clip, one_of};
use crate::projects::project_id;
use crate::{Backend, Error, PageRequest, Result, Store, now_ms, validate};

const SELECT_WEBHOOK: &str = "SELECT w.id, p.name AS project, w.url, w.events, w.enabled, w.clearance, \
     w.created_by, w.created_at FROM webhooks w JOIN projects p ON p.id = w.project_id";

const SELECT_DELIVERY: &str = "SELECT d.id, d.webhook_id, p.name AS project, w.url, d.event, d.payload, d.sensitivity, \
     d.state, d.attempts, d.next_attempt_at, d.last_status, d.last_error, d.created_at, d.delivered_at \
     FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id JOIN projects p ON p.id = w.project_id";

/// Longest webhook url.
const MAX_URL_LEN: usize = 2048;
/// Longest webhook secret.
const MAX_SECRET_LEN: usize = 1024;
/// Longest stored delivery error, in characters.
const MAX_ERROR_CHARS: usize = 4000;

fn parse_events(text: &str) -> Result<Vec<String>> {
    serde_json::from_str(text).map_err(|e| Error::Internal(format!("stored webhook events: {e}")))
}

fn webhook_from_row(row: &sqlx::any::AnyRow) -> Result<Webhook> {
    let events: String = row.try_get("events")?;
    Ok(Webhook {
        id: row.try_get("id")?,
        project: row.try_get("project")?,
        url: row.try_get("url")?,
        events: parse_events(&events)?,
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        clearance: row.try_get("clearance")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
    })
}

fn delivery_from_row(row: &sqlx::any::AnyRow) -> Result<Delivery> {
    Ok(Delivery {
        id: row.try_get("id")?,
        webhook_id: row.try_get("webhook_id")?,
        project: row.try_get("project")?,
        url: row.try_get("url")?,
        event: row.try_get("event")?,
        payload: row.try_get("payload")?,
        sensitivity: row.try_get("sensitivity")?,
        state: row.try_get("state")?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        last_status: row.try_get("last_status")?,
        last_error: row.try_get("last_error")?,
        created_at: row.try_get("created_at")?,
        delivered_at: row.try_get("delivered_at")?,
        attempts_log: Vec::new(),
    })
}

/// Fills in the attempts of deliveries.
async fn with_attempts(conn: &mut AnyConnection, deliveries: &mut [Delivery]) -> Result<()> {
    if deliveries.is_empty() {
        return Ok(());
    }
    // Integer ids read from the database: safe to splice.
    let ids = deliveries
        .iter()
        .map(|d| d.id.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT delivery_id, attempt, at, status, error, duration_ms FROM webhook_attempts \
         WHERE delivery_id IN ({ids}) ORDER BY delivery_id, attempt, id"
    )))
    .fetch_all(conn)
    .await?;
    let mut by_delivery: HashMap<i64, Vec<DeliveryAttempt>> = HashMap::new();
    for row in rows {
        by_delivery
            .entry(row.try_get("delivery_id")?)
            .or_default()
            .push(DeliveryAttempt {
                attempt: row.try_get("attempt")?,
                at: row.try_get("at")?,
                status: row.try_get("status")?,
                error: row.try_get("error")?,
                duration_ms: row.try_get("duration_ms")?,
            });
    }
    for delivery in deliveries {
        delivery.attempts_log = by_delivery.remove(&delivery.id).unwrap_or_default();
    }
    Ok(())
}

async fn delivery_by_id(conn: &mut AnyConnection, id: i64) -> Result<Delivery> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT_DELIVERY} WHERE d.id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| Error::not_found("delivery", id))?;
    let mut deliveries = [delivery_from_row(&row)?];
    with_attempts(conn, &mut deliveries).await?;
    let [delivery] = deliveries;
    Ok(delivery)
}

async fn webhook_in_project(conn: &mut AnyConnection, project: &str, id: i64) -> Result<Webhook> {
    project_id(conn, project).await?;
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT_WEBHOOK} WHERE w.id = $1 AND p.name = $2"
    )))
    .bind(id)
    .bind(project)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| Error::not_found("webhook", id))?;
    webhook_from_row(&row)
}

/// The most sensitive class of the data a monitor reads: its dataset's and its reference
/// version's dataset's.
async fn monitor_sensitivity(
    conn: &mut AnyConnection,
    project: &str,
    monitor: &str,
) -> Result<String> {
    let classes: Vec<String> = sqlx::query_scalar(
        "SELECT d.sensitivity FROM monitors m JOIN projects p ON p.id = m.project_id \
         JOIN datasets d ON d.id = m.dataset_id WHERE p.name = $1 AND m.name = $2 \
         UNION ALL \
         SELECT rd.sensitivity FROM monitors m JOIN projects p ON p.id = m.project_id \
         JOIN dataset_versions rv ON rv.id = m.reference_version_id \
         JOIN datasets rd ON rd.id = rv.dataset_id WHERE p.name = $1 AND m.name = $2",
    )
    .bind(project)
    .bind(monitor)
    .fetch_all(&mut *conn)
    .await?;
    Ok(classes
        .into_iter()
        .max_by_key(|c| validate::sensitivity_rank(c))
        .unwrap_or_else(|| "restricted".to_owned()))
}

/// Enqueues one pending delivery of `event` about `alert` to each enabled webhook of the
/// alert's project subscribed to it (or to `*`) whose clearance covers the monitor's data. The
/// payload is built once, only when needed.
pub(crate) async fn enqueue_deliveries(
    conn: &mut AnyConnection,
    alert: &Alert,
    event: &str,
    payload: &(dyn Fn(&str, &Alert) -> String + Sync),
) -> Result<usize> {
    let sensitivity = monitor_sensitivity(conn, &alert.project, &alert.monitor).await?;
    let needed = validate::sensitivity_rank(&sensitivity);
    let hooks = sqlx::query(
        "SELECT w.id, w.events, w.clearance FROM webhooks w JOIN projects p ON p.id = w.project_id \
         WHERE p.name = $1 AND w.enabled = 1 ORDER BY w.id",
    )
    .bind(&alert.project)
    .fetch_all(&mut *conn)
    .await?;
    let mut subscribed = Vec::new();
    for row in hooks {
        let events = parse_events(&row.try_get::<String, _>("events")?)?;
        let cleared = validate::sensitivity_rank(&row.try_get::<String, _>("clearance")?) >= needed;
        if cleared && events.iter().any(|e| e == event || e == "*") {
            subscribed.push(row.try_get::<i64, _>("id")?);
        }
    }
    if subscribed.is_empty() {
        return Ok(0);
    }
    let body = payload(event, alert);
    let now = now_ms();
    for webhook_id in &subscribed {
        sqlx::query(
            "INSERT INTO webhook_deliveries (webhook_id, event, payload, sensitivity, state, attempts, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5)",
        )
        .bind(webhook_id)
        .bind(event)
        .bind(&body)
        .bind(&sensitivity)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(subscribed.len())
}

/// Checks a webhook url (http or https, with a host) and returns its host.
fn check_url(url: &str) -> Result<String> {
    if url.len() > MAX_URL_LEN {
        return Err(Error::invalid(format!(
            "url is longer than {MAX_URL_LEN} bytes"
        )));
    }
    if url != url.trim() {
        return Err(Error::invalid("url must not have surrounding whitespace"));
    }
    let parsed =
        url::Url::parse(url).map_err(|e| Error::invalid(format!("url is not valid: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Error::invalid(format!(
            "url scheme must be http or https, not '{}'",
            parsed.scheme()
        )));
    }
    match parsed.host_str() {
        Some(host) if !host.is_empty() => Ok(host.to_owned()),
        _ => Err(Error::invalid("url must name a host")),
    }
}

/// Checks the events (non-empty, each known) and drops repeats, keeping the order.
fn check_events(events: &[String]) -> Result<Vec<String>> {
    if events.is_empty() {
        return Err(Error::invalid("events must not be empty"));
    }
    let mut out: Vec<String> = Vec::with_capacity(events.len());
    for event in events {
        one_of("webhook event", event, &WEBHOOK_EVENTS)?;
        if !out.contains(event) {
            out.push(event.clone());
        }
    }
    Ok(out)
}

impl Store {
    /// Creates a webhook of a project: deliveries of `events` (from
    /// [`crate::monitoring::WEBHOOK_EVENTS`]) are POSTed to `url` (http or https), signed with
    /// `secret`. It receives alerts only of monitors whose data needs at most `clearance` (its
    /// creator's). Audited as `webhook.create` with the url's host only (a url path or query
    /// can hold a token).
    pub async fn create_webhook(
        &self,
        project: &str,
        url: &str,
        events: &[String],
        secret: &str,
        clearance: &str,
        actor: &Actor,
    ) -> Result<Webhook> {
        validate::sensitivity(clearance)?;
        let host = check_url(url)?;
        let events = check_events(events)?;
        if secret.is_empty() || secret.len() > MAX_SECRET_LEN {
            return Err(Error::invalid(format!(
                "secret must have 1 to {MAX_SECRET_LEN} bytes"
            )));
        }
        if secret.contains('\0') {
            return Err(Error::invalid("secret must not contain NUL"));
        }
        let events_json = serde_json::to_string(&events)
            .map_err(|e| Error::Internal(format!("encoding events: {e}")))?;
        let mut tx = self.begin_write().await?;
        let pid = project_id(&mut tx, project).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO webhooks (project_id, url, secret, events, enabled, clearance, created_by, created_at) \
             VALUES ($1, $2, $3, $4, 1, $5, $6, $7) RETURNING id",
        )
        .bind(pid)
        .bind(url)
        .bind(secret)
        .bind(&events_json)
        .bind(clearance)
        .bind(&actor.principal)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        let webhook = webhook_in_project(&mut tx, project, id).await?;
        let event = NewEvent::success(
            "webhook.create",
            format!("project/{project}/webhook/{id}"),
            Some(project),
            json!({"host": host, "events": events}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(webhook)
    }

    /// Reads a webhook of a project (without its secret).
    pub async fn webhook(&self, project: &str, id: i64) -> Result<Webhook> {
        let mut conn = self.inner.read.acquire().await?;
        webhook_in_project(&mut conn, project, id).await
    }

    /// Lists a project's webhooks by id (without their secrets).
    pub async fn list_webhooks(&self, project: &str) -> Result<Vec<Webhook>> {
        let mut conn = self.inner.read.acquire().await?;
        let pid = project_id(&mut conn, project).await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT_WEBHOOK} WHERE w.project_id = $1 ORDER BY w.id"
        )))
        .bind(pid)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter().map(webhook_from_row).collect()
    }

    /// Deletes a webhook with its deliveries. Audited as `webhook.delete`.
    pub async fn delete_webhook(&self, project: &str, id: i64, actor: &Actor) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let webhook = webhook_in_project(&mut tx, project, id).await?;
        sqlx::query("DELETE FROM webhooks WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let host = url::Url::parse(&webhook.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned));
        let event = NewEvent::success(
            "webhook.delete",
            format!("project/{project}/webhook/{id}"),
            Some(project),
            json!({"host": host, "events": webhook.events}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The signing secret of a webhook (for the sender; never shown to people).
    pub async fn webhook_secret(&self, id: i64) -> Result<String> {
        sqlx::query_scalar("SELECT secret FROM webhooks WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.inner.read)
            .await?
            .ok_or_else(|| Error::not_found("webhook", id))
    }

    /// Claims the oldest pending delivery that is due and not leased (or whose lease ran out)
    /// of an enabled webhook: leased by `worker` until now + `lease_ms`, with one more attempt.
    /// Returns it with the webhook's secret. On PostgreSQL the row is locked `FOR UPDATE SKIP
    /// LOCKED`, so concurrent senders get distinct deliveries.
    pub async fn claim_delivery(
        &self,
        worker: &str,
        lease_ms: i64,
    ) -> Result<Option<(Delivery, String)>> {
        if worker.is_empty() || lease_ms <= 0 {
            return Err(Error::invalid(
                "worker must not be empty and lease_ms must be positive",
            ));
        }
        let lock = match self.inner.backend {
            Backend::Postgres => " FOR UPDATE OF d SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let candidate: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
             WHERE d.state = 'pending' AND d.next_attempt_at <= $1 \
             AND (d.lease_until IS NULL OR d.lease_until < $1) AND w.enabled = 1 \
             ORDER BY d.id LIMIT 1{lock}"
        )))
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = candidate else {
            tx.commit().await?;
            return Ok(None);
        };
        sqlx::query(
            "UPDATE webhook_deliveries SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 \
             WHERE id = $3",
        )
        .bind(worker)
        .bind(now.saturating_add(lease_ms))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let delivery = delivery_by_id(&mut tx, id).await?;
        let secret: String = sqlx::query_scalar("SELECT secret FROM webhooks WHERE id = $1")
            .bind(delivery.webhook_id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some((delivery, secret)))
    }

    /// Records the attempt of a delivery `worker` holds and ends its lease: `delivered`, or
    /// pending again at `next_attempt_at`, or (None) failed for good. Conflict when the worker
    /// does not hold the delivery.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_delivery_attempt(
        &self,
        id: i64,
        worker: &str,
        status: Option<i64>,
        error: Option<&str>,
        duration_ms: i64,
        next_attempt_at: Option<i64>,
        delivered: bool,
    ) -> Result<()> {
        let now = now_ms();
        let state = match (delivered, next_attempt_at) {
            (true, _) => "delivered",
            (false, Some(_)) => "pending",
            (false, None) => "failed",
        };
        let error = error.map(|e| clip(e, MAX_ERROR_CHARS));
        let mut tx = self.begin_write().await?;
        let attempt: Option<i64> = sqlx::query_scalar(
            "UPDATE webhook_deliveries SET state = $1, next_attempt_at = COALESCE($2, next_attempt_at), \
             lease_owner = NULL, lease_until = NULL, last_status = $3, last_error = $4, delivered_at = $5 \
             WHERE id = $6 AND state = 'pending' AND lease_owner = $7 RETURNING attempts",
        )
        .bind(state)
        .bind(next_attempt_at.filter(|_| !delivered))
        .bind(status)
        .bind(&error)
        .bind(delivered.then_some(now))
        .bind(id)
        .bind(worker)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(attempt) = attempt else {
            return Err(Error::Conflict(format!(
                "delivery {id} is not held by worker '{worker}'"
            )));
        };
        sqlx::query(
            "INSERT INTO webhook_attempts (delivery_id, attempt, at, status, error, duration_ms) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(attempt)
        .bind(now)
        .bind(status)
        .bind(&error)
        .bind(duration_ms.max(0))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Lists the deliveries of a webhook of a project, newest first, with their attempts.
    pub async fn list_deliveries(
        &self,
        project: &str,
        webhook_id: i64,
        page: &PageRequest,
    ) -> Result<Page<Delivery>> {
        let mut conn = self.inner.read.acquire().await?;
        webhook_in_project(&mut conn, project, webhook_id).await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT_DELIVERY} WHERE d.webhook_id = $1 AND d.id < $2 ORDER BY d.id DESC LIMIT $3"
        )))
        .bind(webhook_id)
        .bind(page.before_key())
        .bind(page.fetch())
        .fetch_all(&mut *conn)
        .await?;
        let mut deliveries = rows
            .iter()
            .map(delivery_from_row)
            .collect::<Result<Vec<_>>>()?;
        with_attempts(&mut conn, &mut deliveries).await?;
        Ok(Page::from_rows(deliveries, page, |d| d.id))
    }
}
