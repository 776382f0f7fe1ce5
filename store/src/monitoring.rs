//! Domain types of monitoring (issue 4): check reports, monitors, the job queue, alerts and
//! webhooks. Times are milliseconds since the Unix epoch. The small enumerations (kind, status,
//! state, trigger) are strings, checked against the constants here on every write.

use serde_json::Value;

use crate::{Error, Result};

/// Kinds of data checks (what monitors run).
pub const CHECK_KINDS: [&str; 4] = ["profile", "quality", "drift", "fairness"];
/// Kinds of check reports: data checks, then model evaluations and their comparisons.
pub const REPORT_KINDS: [&str; 6] = [
    "profile",
    "quality",
    "drift",
    "fairness",
    "evaluation",
    "comparison",
];
/// Outcomes of a check.
pub const REPORT_STATUSES: [&str; 4] = ["pass", "warn", "fail", "error"];
/// What started a check: a person, a new dataset version, or the schedule.
pub const TRIGGERS: [&str; 3] = ["manual", "new_version", "schedule"];
/// States of a job.
pub const JOB_STATES: [&str; 4] = ["queued", "running", "succeeded", "failed"];
/// States of an alert.
pub const ALERT_STATES: [&str; 3] = ["open", "acknowledged", "resolved"];
/// States of a webhook delivery.
pub const DELIVERY_STATES: [&str; 3] = ["pending", "delivered", "failed"];
/// Events a webhook can subscribe to (`*` is every event).
pub const WEBHOOK_EVENTS: [&str; 3] = ["alert.opened", "alert.resolved", "*"];
/// Attempts a job gets before it fails for good.
pub const DEFAULT_MAX_ATTEMPTS: i64 = 3;
/// Shortest schedule interval of a monitor, in seconds.
pub const MIN_INTERVAL_SECONDS: i64 = 60;

/// Checks that `value` is one of `allowed`.
pub(crate) fn one_of(what: &str, value: &str, allowed: &[&str]) -> Result<()> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "{what} '{value}' is not one of {}",
            allowed.join(", ")
        )))
    }
}

/// Text as stored: at most `max` characters, NUL (which PostgreSQL text cannot hold) replaced.
pub(crate) fn clip(text: &str, max: usize) -> String {
    text.chars()
        .take(max)
        .map(|c| if c == '\0' { '\u{fffd}' } else { c })
        .collect()
}

/// Parses a stored JSON column.
pub(crate) fn parse_json(column: &str, text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| Error::Internal(format!("stored {column}: {e}")))
}

/// A check report to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReport {
    /// Project of the judged dataset version.
    pub project: String,
    /// One of [`REPORT_KINDS`].
    pub kind: String,
    /// One of [`REPORT_STATUSES`].
    pub status: String,
    /// One line for people.
    pub summary: String,
    /// The check's configuration (thresholds, columns...).
    pub config: Value,
    /// The check's figures.
    pub result: Value,
    /// The judged (current) dataset version.
    pub dataset_version_id: i64,
    /// The version it was compared with (drift), when any.
    pub reference_version_id: Option<i64>,
    /// The monitor that ran it, when one did.
    pub monitor_id: Option<i64>,
    /// The job that ran it, when one did.
    pub job_id: Option<i64>,
    /// One of [`TRIGGERS`].
    pub trigger: String,
    /// How long the check took.
    pub duration_ms: i64,
    /// The models an evaluation or comparison judged, and the predictions it wrote.
    pub models: ModelLinks,
}

/// What a model evaluation (kind `evaluation`) or comparison (kind `comparison`) links to,
/// beyond the dataset versions; all None for data checks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelLinks {
    /// The model version evaluated (the challenger of a comparison).
    pub model_version_id: Option<i64>,
    /// The model version a comparison measured it against.
    pub reference_model_version_id: Option<i64>,
    /// The predictions dataset version an evaluation wrote.
    pub output_version_id: Option<i64>,
}

/// A stored check report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Id (also the lineage node id).
    pub id: i64,
    /// Project name.
    pub project: String,
    /// One of [`REPORT_KINDS`].
    pub kind: String,
    /// One of [`REPORT_STATUSES`].
    pub status: String,
    /// One line for people.
    pub summary: String,
    /// The check's configuration.
    pub config: Value,
    /// The check's figures.
    pub result: Value,
    /// Name of the judged dataset.
    pub dataset: String,
    /// The judged dataset version.
    pub dataset_version_id: i64,
    /// Its version number.
    pub version: i64,
    /// The reference version, when any.
    pub reference_version_id: Option<i64>,
    /// Name of the monitor that ran it (None when run by hand or the monitor was deleted).
    pub monitor: Option<String>,
    /// Id of that monitor.
    pub monitor_id: Option<i64>,
    /// The job that ran it.
    pub job_id: Option<i64>,
    /// One of [`TRIGGERS`].
    pub trigger: String,
    /// Principal that recorded it.
    pub created_by: String,
    /// Creation time.
    pub created_at: i64,
    /// How long the check took.
    pub duration_ms: i64,
    /// Name of the evaluated model (evaluations and comparisons).
    pub model: Option<String>,
    /// Its version number.
    pub model_version: Option<i64>,
    /// The model versions and predictions it links to.
    pub models: ModelLinks,
}

/// Filters of [`crate::Store::list_reports`]; all optional, combined with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportFilter {
    /// Only this kind.
    pub kind: Option<String>,
    /// Only this status.
    pub status: Option<String>,
    /// Only reports on versions of this dataset (by name).
    pub dataset: Option<String>,
    /// Only reports of this monitor (by name).
    pub monitor: Option<String>,
    /// Only evaluations and comparisons of this registered model (by name).
    pub model: Option<String>,
    /// Only reports on this dataset version (by id).
    pub dataset_version_id: Option<i64>,
    /// Only evaluations and comparisons of this model version (by id).
    pub model_version_id: Option<i64>,
    /// Only reports a monitor made that still exists (not checks run by hand).
    pub monitor_made: bool,
}

/// A monitor to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMonitor {
    /// Project name.
    pub project: String,
    /// Name, unique in the project.
    pub name: String,
    /// The target dataset's name.
    pub dataset: String,
    /// A version of any dataset of the project to compare with.
    pub reference_version_id: Option<i64>,
    /// The checks to run (opaque to the store).
    pub checks: Value,
    /// Run on each new version of the target dataset.
    pub on_new_version: bool,
    /// Run every this many seconds (at least [`MIN_INTERVAL_SECONDS`]).
    pub interval_seconds: Option<i64>,
    /// Whether it runs at all (a disabled monitor can still be run by hand).
    pub enabled: bool,
}

/// A stored monitor.
#[derive(Debug, Clone, PartialEq)]
pub struct Monitor {
    /// Id.
    pub id: i64,
    /// Project name.
    pub project: String,
    /// Name, unique in the project.
    pub name: String,
    /// Target dataset name.
    pub dataset: String,
    /// Target dataset id.
    pub dataset_id: i64,
    /// Reference dataset version, when any.
    pub reference_version_id: Option<i64>,
    /// The checks (opaque to the store).
    pub checks: Value,
    /// Runs on each new version of the target.
    pub on_new_version: bool,
    /// Schedule interval in seconds.
    pub interval_seconds: Option<i64>,
    /// Whether it runs.
    pub enabled: bool,
    /// When the schedule next enqueues a run (None: not scheduled).
    pub next_run_at: Option<i64>,
    /// When an outcome was last recorded.
    pub last_run_at: Option<i64>,
    /// The user whose access the monitor's checks run with: whoever created it or last
    /// changed it. Its runs are refused while this user may not read the monitored data.
    pub owner: String,
    /// Principal that created it.
    pub created_by: String,
    /// Creation time.
    pub created_at: i64,
    /// Last change time.
    pub updated_at: i64,
}

/// Changes to a monitor; `None` leaves a field as it is (`Some(None)` clears an optional one).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MonitorUpdate {
    /// New reference version, or none.
    pub reference_version_id: Option<Option<i64>>,
    /// New checks.
    pub checks: Option<Value>,
    /// Run on each new version.
    pub on_new_version: Option<bool>,
    /// New schedule interval, or no schedule.
    pub interval_seconds: Option<Option<i64>>,
    /// Enable or disable.
    pub enabled: Option<bool>,
}

/// A queued, running or finished run of a monitor.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Job {
    /// Id.
    pub id: i64,
    /// Project name.
    pub project: String,
    /// Monitor id.
    pub monitor_id: i64,
    /// Monitor name.
    pub monitor: String,
    /// The version to judge; None means the target's latest version when it runs.
    pub dataset_version_id: Option<i64>,
    /// One of [`TRIGGERS`].
    pub trigger: String,
    /// One of [`JOB_STATES`].
    pub state: String,
    /// Claims so far (the running attempt included).
    pub attempts: i64,
    /// Claims allowed.
    pub max_attempts: i64,
    /// Not claimed before this time.
    pub run_after: i64,
    /// The worker holding (or last holding) it.
    pub lease_owner: Option<String>,
    /// When the running worker's lease ends.
    pub lease_until: Option<i64>,
    /// The report it produced.
    pub report_id: Option<i64>,
    /// The last failure.
    pub error: Option<String>,
    /// Principal that enqueued it.
    pub created_by: String,
    /// Creation time.
    pub created_at: i64,
    /// When it was last claimed.
    pub started_at: Option<i64>,
    /// When it succeeded or failed for good.
    pub finished_at: Option<i64>,
}

/// An alert of a monitor.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Alert {
    /// Id.
    pub id: i64,
    /// Project name.
    pub project: String,
    /// Monitor id.
    pub monitor_id: i64,
    /// Monitor name.
    pub monitor: String,
    /// The report that opened it.
    pub first_report_id: i64,
    /// The last failing or warning report.
    pub last_report_id: i64,
    /// One of [`ALERT_STATES`].
    pub state: String,
    /// `warn` or `fail` (the worst seen while it was unresolved).
    pub severity: String,
    /// The last report's summary.
    pub summary: String,
    /// Failing or warning reports while it was unresolved.
    pub occurrences: i64,
    /// When it opened.
    pub opened_at: i64,
    /// Who acknowledged it.
    pub acknowledged_by: Option<String>,
    /// When.
    pub acknowledged_at: Option<i64>,
    /// Who resolved it (the worker's principal when a passing report did).
    pub resolved_by: Option<String>,
    /// When.
    pub resolved_at: Option<i64>,
    /// Last change time.
    pub updated_at: i64,
}

/// What recording a monitor's outcome did to its alert.
#[derive(Debug, Clone, PartialEq)]
pub enum AlertChange {
    /// A new alert opened (notified as `alert.opened`).
    Opened(Alert),
    /// The unresolved alert got one more occurrence (not notified).
    Updated(Alert),
    /// The unresolved alert was resolved (notified as `alert.resolved`).
    Resolved(Alert),
    /// Nothing changed.
    Unchanged,
}

/// A webhook (its secret is never part of it: see [`crate::Store::webhook_secret`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    /// Id.
    pub id: i64,
    /// Project name.
    pub project: String,
    /// Where deliveries are POSTed.
    pub url: String,
    /// Subscribed events (from [`WEBHOOK_EVENTS`]).
    pub events: Vec<String>,
    /// Whether deliveries are made.
    pub enabled: bool,
    /// The clearance its creator had: it receives alerts only of monitors whose data needs no
    /// more.
    pub clearance: String,
    /// Principal that created it.
    pub created_by: String,
    /// Creation time.
    pub created_at: i64,
}

/// One event to deliver to one webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// Id.
    pub id: i64,
    /// Webhook id.
    pub webhook_id: i64,
    /// Project name.
    pub project: String,
    /// The webhook's url.
    pub url: String,
    /// Event name, e.g. `alert.opened`.
    pub event: String,
    /// The body to POST.
    pub payload: String,
    /// The clearance the payload needs (the most sensitive data of the alert's monitor).
    pub sensitivity: String,
    /// One of [`DELIVERY_STATES`].
    pub state: String,
    /// Claims so far.
    pub attempts: i64,
    /// Not claimed before this time.
    pub next_attempt_at: i64,
    /// The last HTTP status, when an answer came.
    pub last_status: Option<i64>,
    /// The last error.
    pub last_error: Option<String>,
    /// Creation time.
    pub created_at: i64,
    /// When it was delivered.
    pub delivered_at: Option<i64>,
    /// Every recorded attempt, oldest first.
    pub attempts_log: Vec<DeliveryAttempt>,
}

/// One attempt of a delivery.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeliveryAttempt {
    /// Attempt number, from 1.
    pub attempt: i64,
    /// When it was made.
    pub at: i64,
    /// The HTTP status, when an answer came.
    pub status: Option<i64>,
    /// What went wrong, if anything.
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i64,
}
