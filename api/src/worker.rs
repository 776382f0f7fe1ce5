//! What `verity serve` does in the background: runs monitor jobs from the durable queue,
//! enqueues scheduled runs, and delivers webhooks with retries. Every loop works through the
//! store, so several `verity` processes can share one PostgreSQL database: the queue hands
//! each job and each delivery to one of them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use verity_monitor::check::{CheckSpec, NoProgress, Status};
use verity_monitor::source::Limits;
use verity_policy::{Action, Authorizer, Sensitivity};
use verity_store::model::DatasetVersion;
use verity_store::monitoring::CHECK_KINDS;
use verity_store::{Actor, Alert, AlertChange, Delivery, Job, Monitor, NewReport, Store, now_ms};

use crate::auth::{Target, user_may};
use crate::checks::{self, CheckError, Inputs, Origin};
use crate::{signature, webhook_target};

/// Settings of the background work.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// This process's name in leases (unique per process).
    pub worker_id: String,
    /// How long a claimed job or delivery stays leased without a heartbeat.
    pub lease: Duration,
    /// Pause when the queue is empty.
    pub poll: Duration,
    /// First retry delay of a failed job or delivery; doubles with every attempt.
    pub retry_base: Duration,
    /// Attempts a webhook delivery gets.
    pub delivery_attempts: i64,
    /// Time limit of one webhook request.
    pub delivery_timeout: Duration,
    /// Whether webhooks may target loopback, private and link-local addresses.
    pub allow_private_targets: bool,
    /// Whose access monitors' checks run with.
    pub owner_access: OwnerAccess,
    /// What one check may use (memory).
    pub check_limits: Limits,
}

/// How the worker decides whether a monitor's owner may still read the monitored data.
#[derive(Debug, Clone)]
pub enum OwnerAccess {
    /// Authentication is disabled: everybody acts with every right.
    Unchecked,
    /// The server's access rules (the same authorizer, reloaded as the rules change).
    Rules(Arc<Authorizer>),
}

impl WorkerConfig {
    /// The defaults: 60 s leases, 1 s polling, 5 s first retry, 6 delivery attempts.
    pub fn new(worker_id: String, owner_access: OwnerAccess) -> Self {
        Self {
            owner_access,
            check_limits: Limits::default(),
            worker_id,
            lease: Duration::from_secs(60),
            poll: Duration::from_secs(1),
            retry_base: Duration::from_secs(5),
            delivery_attempts: 6,
            delivery_timeout: Duration::from_secs(10),
            allow_private_targets: false,
        }
    }

    fn lease_ms(&self) -> i64 {
        self.lease.as_millis() as i64
    }

    /// A delivery's lease outlasts its request (deliveries have no heartbeat), so no other
    /// process takes it over mid-request.
    fn delivery_lease_ms(&self) -> i64 {
        self.lease_ms()
            .max((self.delivery_timeout.as_millis() as i64).saturating_add(5_000))
    }

    /// The delay before retry `attempt` (1-based): base × 2^(attempt − 1), at most an hour.
    fn backoff_ms(&self, attempt: i64) -> i64 {
        let factor = 1i64 << attempt.clamp(1, 20).saturating_sub(1);
        (self.retry_base.as_millis() as i64)
            .saturating_mul(factor)
            .min(3_600_000)
    }
}

/// The principal the worker records reports and alert changes as.
fn worker_actor() -> Actor {
    Actor::from("system:monitor")
}

/// Starts the job runner, the scheduler and the webhook sender.
pub fn spawn(store: Store, config: WorkerConfig) {
    let config = Arc::new(config);
    let (s, c) = (store.clone(), Arc::clone(&config));
    tokio::spawn(async move { job_loop(s, c).await });
    let (s, c) = (store.clone(), Arc::clone(&config));
    tokio::spawn(async move { schedule_loop(s, c).await });
    tokio::spawn(async move { delivery_loop(store, config).await });
}

async fn schedule_loop(store: Store, config: Arc<WorkerConfig>) {
    loop {
        match store.enqueue_due_monitors(now_ms(), &worker_actor()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(jobs = n, "enqueued scheduled monitor runs"),
            Err(e) => tracing::warn!(error = %e, "enqueuing scheduled monitor runs failed"),
        }
        tokio::time::sleep(config.poll.max(Duration::from_millis(200))).await;
    }
}

async fn job_loop(store: Store, config: Arc<WorkerConfig>) {
    loop {
        match store.claim_job(&config.worker_id, config.lease_ms()).await {
            Ok(Some(job)) => run_job(&store, &config, job).await,
            Ok(None) => tokio::time::sleep(config.poll).await,
            Err(e) => {
                tracing::warn!(error = %e, "claiming a monitor job failed");
                tokio::time::sleep(config.poll).await;
            }
        }
    }
}

/// Runs one claimed job while a heartbeat keeps its lease. The job runs in a task of its own,
/// so a panic in a check fails the job (and stops its heartbeat) instead of the loop.
async fn run_job(store: &Store, config: &Arc<WorkerConfig>, job: Job) {
    let lease_lost = Arc::new(AtomicBool::new(false));
    let heartbeat = {
        let (store, config, id, lost) = (
            store.clone(),
            Arc::clone(config),
            job.id,
            Arc::clone(&lease_lost),
        );
        tokio::spawn(async move {
            let every = (config.lease / 3).max(Duration::from_millis(50));
            loop {
                tokio::time::sleep(every).await;
                match store
                    .heartbeat_job(id, &config.worker_id, config.lease_ms())
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => {
                        lost.store(true, Ordering::Release);
                        break;
                    }
                    Err(e) => tracing::warn!(job = id, error = %e, "job heartbeat failed"),
                }
            }
        })
    };
    let started = Instant::now();
    let task = {
        let (store, config, job, lost) = (
            store.clone(),
            Arc::clone(config),
            job.clone(),
            Arc::clone(&lease_lost),
        );
        tokio::spawn(async move { execute(&store, &config, &job, &lost).await })
    };
    // (message, whether a retry could succeed); a panic would only repeat. What the job
    // records is read by every project member, so it never quotes the data; the log has the
    // whole error.
    let result = match task.await {
        Ok(result) => result.map_err(|e| {
            tracing::debug!(job = job.id, error = %e, "monitor run error");
            (e.job_error(), e.is_transient())
        }),
        Err(e) => {
            tracing::debug!(job = job.id, error = %e, "monitor run stopped");
            Err(("the check stopped unexpectedly".to_owned(), false))
        }
    };
    heartbeat.abort();
    match result {
        Ok(status) => tracing::info!(
            job = job.id, monitor = %job.monitor, %status,
            ms = started.elapsed().as_millis() as u64, "monitor run finished"
        ),
        Err(_) if lease_lost.load(Ordering::Acquire) => {
            tracing::warn!(job = job.id, "lost the job's lease: another worker runs it");
        }
        Err((e, transient)) => {
            tracing::warn!(job = job.id, monitor = %job.monitor, error = %e, transient, "monitor run failed");
            let retry = transient.then(|| config.backoff_ms(job.attempts));
            if let Err(e) = store.fail_job(job.id, &config.worker_id, &e, retry).await {
                tracing::warn!(job = job.id, error = %e, "recording a job failure failed");
            }
        }
    }
}

/// Runs every check of the job's monitor, stores a report per check, and records the
/// outcome (alert, webhooks, job completion) in one transaction. A check that cannot judge
/// the data (a changed schema, say) is stored as an `error` report and counts as a failure;
/// other failures are returned: the job is retried when they are transient (the database or
/// the object store unavailable) and fails at once otherwise (no version to check, a stored
/// check of an unknown kind). Stops before storing
/// anything once the lease is lost (another worker then runs the job).
async fn execute(
    store: &Store,
    config: &WorkerConfig,
    job: &Job,
    lease_lost: &AtomicBool,
) -> Result<String, CheckError> {
    let monitor = store.monitor_by_id(job.monitor_id).await?;
    let current = match job.dataset_version_id {
        Some(id) => store.get_dataset_version_by_id(id).await?,
        None => checks::version(store, &monitor.project, &monitor.dataset, None).await?,
    };
    let reference = match monitor.reference_version_id {
        Some(id) => Some(store.get_dataset_version_by_id(id).await?),
        None => None,
    };
    let origin = Origin {
        monitor_id: Some(monitor.id),
        job_id: Some(job.id),
        trigger: job.trigger.clone(),
    };
    let specs = match monitor.checks.as_array() {
        Some(list) => list.clone(),
        None => vec![monitor.checks.clone()],
    };
    let refusal = owner_refusal(
        store,
        &config.owner_access,
        &monitor,
        &current,
        reference.as_ref(),
    )
    .await?;
    let actor = worker_actor();
    let mut worst: Option<(Status, i64)> = None;
    let mut summaries = Vec::new();
    for (i, raw) in specs.iter().enumerate() {
        let what = format!("check {}", i + 1);
        let kind = raw
            .get("kind")
            .and_then(|k| k.as_str())
            .filter(|k| CHECK_KINDS.contains(k))
            .ok_or_else(|| CheckError::Config(format!("{what} has no known kind")))?;
        // Only drift reads the reference; other reports do not link to it.
        let inputs = Inputs {
            current: current.clone(),
            reference: reference.clone().filter(|_| kind == "drift"),
        };
        let new = match (&refusal, CheckSpec::from_json(&what, raw)) {
            (Some(reason), _) => {
                checks::refused_report(kind, raw.clone(), &inputs, &origin, reason)
            }
            (None, Ok(spec)) => {
                match checks::run(
                    store,
                    &spec,
                    &inputs,
                    config.check_limits.clone(),
                    &NoProgress,
                )
                .await
                {
                    Ok((outcome, ms)) => checks::report_of(&spec, &inputs, &origin, &outcome, ms),
                    Err(e) if e.is_transient() => return Err(e),
                    Err(e) => {
                        checks::error_report(kind, raw.clone(), &inputs, &origin, &e.to_string())
                    }
                }
            }
            (None, Err(e)) => {
                checks::error_report(kind, raw.clone(), &inputs, &origin, &e.to_string())
            }
        };
        if lease_lost.load(Ordering::Acquire) {
            return Err(verity_store::Error::Conflict(format!(
                "job {} is no longer leased by this worker",
                job.id
            ))
            .into());
        }
        let status = status_for_alerts(&new);
        let report = store.add_report(&new, &actor).await?;
        summaries.push(format!("{}: {}", report.kind, report.summary));
        if worst.is_none_or(|(s, _)| status > s) {
            worst = Some((status, report.id));
        }
    }
    let Some((status, report_id)) = worst else {
        store.complete_job(job.id, &config.worker_id, None).await?;
        return Ok("no checks".into());
    };
    let summary = format!(
        "{} v{}: {}",
        current.dataset,
        current.version,
        summaries.join("; ")
    );
    let change = store
        .record_monitor_outcome(
            monitor.id,
            report_id,
            status.as_str(),
            &summary,
            Some((job.id, &config.worker_id)),
            &webhook_payload,
            &actor,
        )
        .await?;
    if let AlertChange::Opened(alert) = &change {
        tracing::warn!(alert = alert.id, monitor = %alert.monitor, "alert opened");
    }
    Ok(status.as_str().to_owned())
}

/// Why the monitor's owner may not have its checks run now (it no longer exists, is disabled,
/// or may not read the data of the monitored dataset or of the reference), or None. The
/// reason names the owner and the dataset, never the data.
async fn owner_refusal(
    store: &Store,
    access: &OwnerAccess,
    monitor: &Monitor,
    current: &DatasetVersion,
    reference: Option<&DatasetVersion>,
) -> Result<Option<String>, CheckError> {
    let OwnerAccess::Rules(authorizer) = access else {
        return Ok(None);
    };
    let owner = &monitor.owner;
    let user = match store.get_user(owner).await {
        Ok(user) => user,
        Err(e) if e.kind() == verity_store::ErrorKind::NotFound => {
            return Ok(Some(format!("its owner '{owner}' is not a user")));
        }
        Err(e) => return Err(e.into()),
    };
    if user.disabled_at.is_some() {
        return Ok(Some(format!("its owner '{owner}' is disabled")));
    }
    let clearance = user.clearance.parse().unwrap_or(Sensitivity::Public);
    for version in std::iter::once(current).chain(reference) {
        let dataset = store
            .get_dataset(&version.project, &version.dataset)
            .await?;
        let target = Target::dataset(&dataset);
        let may = user_may(
            authorizer,
            owner,
            clearance,
            Action::DatasetReadData,
            &target,
        )
        .map_err(|e| verity_monitor::Error::Internal(e.to_string()))?;
        if !may {
            return Ok(Some(format!(
                "its owner '{owner}' may not read the data of dataset '{}' (a user who may \
                 should change the monitor to take it over)",
                dataset.name
            )));
        }
    }
    Ok(None)
}

/// The status a report counts as for alerting: a check that could not run is a failure.
fn status_for_alerts(report: &NewReport) -> Status {
    match report.status.as_str() {
        "pass" => Status::Pass,
        "warn" => Status::Warn,
        _ => Status::Fail,
    }
}

/// The JSON body of a webhook delivery.
pub fn webhook_payload(event: &str, alert: &Alert) -> String {
    json!({
        "event": event,
        "project": alert.project,
        "monitor": alert.monitor,
        "alert": {
            "id": alert.id,
            "state": alert.state,
            "severity": alert.severity,
            "summary": alert.summary,
            "occurrences": alert.occurrences,
            "first_report_id": alert.first_report_id,
            "last_report_id": alert.last_report_id,
            "opened_at": alert.opened_at,
            "resolved_at": alert.resolved_at,
            "resolved_by": alert.resolved_by,
        },
        "report_path": format!("/api/v1/projects/{}/reports/{}", alert.project, alert.last_report_id),
    })
    .to_string()
}

async fn delivery_loop(store: Store, config: Arc<WorkerConfig>) {
    loop {
        match store
            .claim_delivery(&config.worker_id, config.delivery_lease_ms())
            .await
        {
            Ok(Some((delivery, secret))) => deliver(&store, &config, &delivery, &secret).await,
            Ok(None) => tokio::time::sleep(config.poll).await,
            Err(e) => {
                tracing::warn!(error = %e, "claiming a webhook delivery failed");
                tokio::time::sleep(config.poll).await;
            }
        }
    }
}

/// Makes one attempt of a delivery and records it: delivered on a 2xx, else pending again
/// after a backoff while attempts remain (failed at once when the target is refused).
async fn deliver(store: &Store, config: &WorkerConfig, delivery: &Delivery, secret: &str) {
    let started = Instant::now();
    let (status, error, permanent) =
        match webhook_target::resolve(&delivery.url, config.allow_private_targets).await {
            Err(refusal) => (None, Some(refusal.message), refusal.permanent),
            Ok((host, address)) => {
                let sent = match client_for(config, &host, address) {
                    Ok(client) => {
                        client
                            .post(&delivery.url)
                            .header(reqwest::header::CONTENT_TYPE, "application/json")
                            .header("X-Verity-Event", &delivery.event)
                            .header("X-Verity-Delivery", delivery.id.to_string())
                            .header(
                                signature::HEADER,
                                signature::sign(
                                    secret.as_bytes(),
                                    now_ms().div_euclid(1000),
                                    delivery.payload.as_bytes(),
                                ),
                            )
                            .body(delivery.payload.clone())
                            .send()
                            .await
                    }
                    Err(e) => Err(e),
                };
                match sent {
                    Ok(response) if response.status().is_success() => {
                        (Some(i64::from(response.status().as_u16())), None, false)
                    }
                    Ok(response) => (
                        Some(i64::from(response.status().as_u16())),
                        Some(format!("the receiver answered {}", response.status())),
                        false,
                    ),
                    Err(e) => (None, Some(request_error(&e)), false),
                }
            }
        };
    let duration_ms = started.elapsed().as_millis() as i64;
    let delivered = error.is_none();
    let next = (!delivered && !permanent && delivery.attempts < config.delivery_attempts)
        .then(|| now_ms().saturating_add(config.backoff_ms(delivery.attempts)));
    if let Err(e) = store
        .record_delivery_attempt(
            delivery.id,
            &config.worker_id,
            status,
            error.as_deref(),
            duration_ms,
            next,
            delivered,
        )
        .await
    {
        tracing::warn!(delivery = delivery.id, error = %e, "recording a delivery attempt failed");
    }
}

/// A client for one delivery, connecting to the checked address only.
fn client_for(
    config: &WorkerConfig,
    host: &str,
    address: std::net::SocketAddr,
) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        // Straight to the checked address: a proxy from the environment would connect
        // somewhere else.
        .no_proxy()
        .timeout(config.delivery_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("verity-webhook/", env!("CARGO_PKG_VERSION")))
        .resolve(host, address)
        .build()
}

/// A request failure in a few words (reqwest's messages nest their causes).
fn request_error(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut message = format!("{what}: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let mut config = WorkerConfig::new("w".into(), OwnerAccess::Unchecked);
        config.retry_base = Duration::from_secs(5);
        assert_eq!(config.backoff_ms(1), 5_000);
        assert_eq!(config.backoff_ms(2), 10_000);
        assert_eq!(config.backoff_ms(4), 40_000);
        assert_eq!(config.backoff_ms(100), 3_600_000);
        assert_eq!(config.backoff_ms(0), 5_000);
    }
}
