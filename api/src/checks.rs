//! Running checks on dataset versions and recording their reports. The API's manual runs, the
//! monitor worker and the `verity check` command share this; it knows no HTTP.

use serde_json::{Value, json};
use verity_monitor::check::{CheckOutcome, CheckSpec, NoProgress, Progress, run_check};
use verity_monitor::source::{Limits, Session, Source};
use verity_store::model::DatasetVersion;
use verity_store::{Actor, NewReport, Report, Store};

/// Why a check could not produce a report.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The check or the data it was asked to judge is at fault (4xx; a monitor records it as
    /// an `error` report).
    #[error(transparent)]
    Monitor(#[from] verity_monitor::Error),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] verity_store::Error),
    /// A monitor's stored configuration cannot run (the message names no data).
    #[error("{0}")]
    Config(String),
}

impl CheckError {
    /// Whether running again later could succeed (a store or read failure), as opposed to a
    /// check that cannot judge this data.
    pub fn is_transient(&self) -> bool {
        match self {
            CheckError::Monitor(e) => e.kind() == verity_monitor::ErrorKind::Internal,
            CheckError::Store(e) => matches!(
                e.kind(),
                verity_store::ErrorKind::Unavailable | verity_store::ErrorKind::Internal
            ),
            CheckError::Config(_) => false,
        }
    }

    /// The error as a monitor job records it, where every project member reads it: store
    /// failures and configuration errors as they are (they name no data), a check's own
    /// failure only by its class, since its text can quote the data.
    pub fn job_error(&self) -> String {
        match self {
            CheckError::Monitor(_) => {
                "the check failed unexpectedly (the server log has the details)".to_owned()
            }
            other => other.to_string(),
        }
    }
}

/// The dataset versions a check judges.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// The version judged.
    pub current: DatasetVersion,
    /// The version compared with (drift).
    pub reference: Option<DatasetVersion>,
}

/// Who or what asked for a check, as its report records it.
#[derive(Debug, Clone)]
pub struct Origin {
    /// The monitor that ran it.
    pub monitor_id: Option<i64>,
    /// The job that ran it.
    pub job_id: Option<i64>,
    /// `manual`, `new_version` or `schedule`.
    pub trigger: String,
}

impl Origin {
    /// A check a person asked for.
    pub fn manual() -> Self {
        Self {
            monitor_id: None,
            job_id: None,
            trigger: "manual".into(),
        }
    }
}

/// Runs `spec` on `inputs` (reading the store's blobs, within `limits`) and returns the
/// outcome and how long it took in milliseconds.
pub async fn run(
    store: &Store,
    spec: &CheckSpec,
    inputs: &Inputs,
    limits: Limits,
    progress: &dyn Progress,
) -> Result<(CheckOutcome, i64), CheckError> {
    let started = std::time::Instant::now();
    let session = Session::new_with_limits(store.blobs().object_store(), limits)?;
    let current = Source::of_version(&inputs.current);
    let reference = inputs.reference.as_ref().map(Source::of_version);
    let outcome = run_check(&session, spec, &current, reference.as_ref(), progress).await?;
    Ok((outcome, started.elapsed().as_millis() as i64))
}

/// The report of a check that ran.
pub fn report_of(
    spec: &CheckSpec,
    inputs: &Inputs,
    origin: &Origin,
    outcome: &CheckOutcome,
    duration_ms: i64,
) -> NewReport {
    NewReport {
        project: inputs.current.project.clone(),
        kind: spec.kind().to_owned(),
        status: outcome.status().as_str().to_owned(),
        summary: outcome.summary(),
        config: serde_json::to_value(spec).unwrap_or(Value::Null),
        result: serde_json::to_value(outcome).unwrap_or(Value::Null),
        dataset_version_id: inputs.current.id,
        reference_version_id: inputs.reference.as_ref().map(|r| r.id),
        monitor_id: origin.monitor_id,
        job_id: origin.job_id,
        trigger: origin.trigger.clone(),
        duration_ms,
        models: Default::default(),
    }
}

/// The report of a check that could not judge the data (status `error`). The reason can quote
/// the data (a value that failed a cast, say), so it is kept in the report's result, which
/// only readers cleared for the data see; the summary, which alerts, webhooks and lists
/// repeat, only says where to look.
pub fn error_report(
    kind: &str,
    config: Value,
    inputs: &Inputs,
    origin: &Origin,
    reason: &str,
) -> NewReport {
    // Error texts quote configurations and data; keep the stored reason short.
    let reason: String = reason.chars().take(2000).collect();
    let summary = format!("the {kind} check could not run: the reason is in the report");
    failed_report(kind, config, inputs, origin, summary, &reason)
}

/// The report of a check that was not run because the monitor's owner may no longer read its
/// data (status `error`); `reason` names no data, so the summary carries it.
pub fn refused_report(
    kind: &str,
    config: Value,
    inputs: &Inputs,
    origin: &Origin,
    reason: &str,
) -> NewReport {
    let summary = format!("the {kind} check was not run: {reason}");
    failed_report(kind, config, inputs, origin, summary, reason)
}

fn failed_report(
    kind: &str,
    config: Value,
    inputs: &Inputs,
    origin: &Origin,
    summary: String,
    reason: &str,
) -> NewReport {
    NewReport {
        project: inputs.current.project.clone(),
        kind: kind.to_owned(),
        status: "error".into(),
        summary,
        config,
        result: json!({"error": reason}),
        dataset_version_id: inputs.current.id,
        reference_version_id: inputs.reference.as_ref().map(|r| r.id),
        monitor_id: origin.monitor_id,
        job_id: origin.job_id,
        trigger: origin.trigger.clone(),
        duration_ms: 0,
        models: Default::default(),
    }
}

/// Runs a check a person asked for and stores its report.
pub async fn run_manual(
    store: &Store,
    spec: &CheckSpec,
    inputs: &Inputs,
    limits: Limits,
    actor: &Actor,
) -> Result<Report, CheckError> {
    let (outcome, duration_ms) = run(store, spec, inputs, limits, &NoProgress).await?;
    let new = report_of(spec, inputs, &Origin::manual(), &outcome, duration_ms);
    Ok(store.add_report(&new, actor).await?)
}

/// A version of a dataset, or its latest version when `version` is None.
pub async fn version(
    store: &Store,
    project: &str,
    dataset: &str,
    version: Option<i64>,
) -> verity_store::Result<DatasetVersion> {
    if let Some(version) = version {
        return store.get_dataset_version(project, dataset, version).await;
    }
    let found = store.get_dataset(project, dataset).await?;
    if found.version_count == 0 {
        return Err(verity_store::Error::not_found(
            "dataset_version",
            format!("{project}/{dataset}@latest (the dataset has no versions)"),
        ));
    }
    store
        .get_dataset_version(project, dataset, found.version_count)
        .await
}
