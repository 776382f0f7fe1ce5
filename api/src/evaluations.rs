//! Evaluating registered model versions on dataset versions and recording the results: the
//! predictions as a new version of a predictions dataset, the figures as an `evaluation`
//! report, and challenger-versus-champion `comparison` reports. The API and the `verity eval`
//! command share this; it knows no HTTP.

use serde_json::{Value, json};
use verity_monitor::check::Progress;
use verity_monitor::model::{
    DeviceChoice, EvaluationConfig, EvaluationOutcome, Model, compare, evaluate_with_limits,
};
use verity_monitor::source::{Limits, Source};
use verity_policy::Sensitivity;
use verity_store::model::{Dataset, DatasetVersion, ModelVersion};
use verity_store::{
    Actor, DataFormat, ModelLinks, NewDatasetVersion, NewReport, Report, Store, VersionSource,
};

use crate::checks::CheckError;

/// The spec file of a Verity model version.
pub const SPEC_FILE: &str = "verity-model.json";
/// The weights file of a Verity model version.
pub const WEIGHTS_FILE: &str = "model.safetensors";

/// A model version named as on the command line: `NAME@ALIAS` or `NAME/VERSION`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSelector {
    /// The version an alias points to.
    Alias(String, String),
    /// A version number.
    Version(String, i64),
}

impl ModelSelector {
    /// Parses `NAME@ALIAS` or `NAME/VERSION`.
    ///
    /// # Errors
    /// A message saying which forms are accepted.
    pub fn parse(text: &str) -> Result<Self, String> {
        if let Some((name, alias)) = text.split_once('@')
            && !name.is_empty()
            && !alias.is_empty()
        {
            return Ok(Self::Alias(name.into(), alias.into()));
        }
        if let Some((name, version)) = text.rsplit_once('/')
            && !name.is_empty()
            && let Ok(version) = version.parse::<i64>()
        {
            return Ok(Self::Version(name.into(), version));
        }
        Err(format!(
            "'{text}' names no model version: write NAME@ALIAS or NAME/VERSION"
        ))
    }

    /// The version it names.
    pub async fn resolve(
        &self,
        store: &Store,
        project: &str,
    ) -> verity_store::Result<ModelVersion> {
        match self {
            Self::Alias(name, alias) => store.resolve_alias(project, name, alias, None).await,
            Self::Version(name, version) => store.get_model_version(project, name, *version).await,
        }
    }
}

/// What to evaluate and where to put the predictions.
#[derive(Debug, Clone)]
pub struct EvaluationRequest {
    /// The model version.
    pub model: ModelVersion,
    /// The dataset version.
    pub dataset: DatasetVersion,
    /// Label, sensitive columns, batch size, conditions.
    pub config: EvaluationConfig,
    /// Where the forward pass runs.
    pub device: DeviceChoice,
    /// The dataset the predictions become a version of (created when missing).
    pub predictions_dataset: String,
    /// What the evaluation may use (memory).
    pub limits: Limits,
}

impl EvaluationRequest {
    /// The default predictions dataset of a model: `<model>-predictions`.
    pub fn default_predictions_dataset(model: &str) -> String {
        format!("{model}-predictions")
    }
}

fn invalid(message: impl Into<String>) -> CheckError {
    CheckError::Monitor(verity_monitor::Error::invalid(message))
}

/// Reads a file of a model version, of at most `max` bytes.
async fn version_file(
    store: &Store,
    version: &ModelVersion,
    name: &str,
    max: u64,
) -> Result<Vec<u8>, CheckError> {
    let file = version
        .files
        .iter()
        .find(|f| f.path == name)
        .ok_or_else(|| {
            invalid(format!(
                "model {} version {} has no {name}: a Verity model is a {SPEC_FILE} and a \
                 {WEIGHTS_FILE} (see docs/models.md)",
                version.model, version.version
            ))
        })?;
    read_blob(store, &file.content_hash, name, max).await
}

/// Largest model spec (`verity-model.json`) read into memory.
const MAX_SPEC_BYTES: u64 = 1024 * 1024;

/// Reads the stored file `name`, of at most `max` bytes, into memory.
async fn read_blob(
    store: &Store,
    content_hash: &str,
    name: &str,
    max: u64,
) -> Result<Vec<u8>, CheckError> {
    use futures::StreamExt;
    let (size, mut stream) = store.blobs().get(content_hash).await?;
    if size > max {
        return Err(invalid(format!(
            "{name} has {size} bytes; this server reads at most {max} of it"
        )));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk?);
    }
    Ok(bytes)
}

/// Before a run's artifact directory becomes a model version: when it holds a
/// `verity-model.json`, the spec must parse, a `model.safetensors` must sit beside it, the
/// tensors must match the spec and every weight must be finite. A run of another project, or a
/// deleted one, is left to the store to refuse (nothing of it is read here).
pub async fn check_run_artifact_model(
    store: &Store,
    project: &str,
    run_id: &str,
    path: &str,
) -> Result<(), CheckError> {
    if path == SPEC_FILE || path.ends_with(&format!("/{SPEC_FILE}")) {
        return Err(invalid(format!(
            "register the directory that holds {SPEC_FILE} and {WEIGHTS_FILE}, not the spec file"
        )));
    }
    let run = store.get_run(run_id).await?;
    if run.project != project || run.deleted_at.is_some() {
        return Ok(());
    }
    let files = store.list_artifact_files(run_id, Some(path)).await?;
    let find = |name: &str| {
        let full = format!("{path}/{name}");
        files
            .iter()
            .find(|f| f.path == full)
            .map(|f| f.content_hash.clone())
    };
    let Some(spec) = find(SPEC_FILE) else {
        return Ok(());
    };
    let spec = read_blob(store, &spec, SPEC_FILE, MAX_SPEC_BYTES).await?;
    let Some(weights) = find(WEIGHTS_FILE) else {
        return Err(invalid(format!(
            "{SPEC_FILE} needs a {WEIGHTS_FILE} beside it in the same artifact directory"
        )));
    };
    // The weights stream through the checker: never more than a chunk in memory, whatever
    // their size.
    let (size, mut stream) = store.blobs().get(&weights).await?;
    let mut checker = verity_monitor::model::ModelChecker::new(&spec, size)?;
    while let Some(chunk) = futures::StreamExt::next(&mut stream).await {
        checker.feed(&chunk?)?;
    }
    checker.finish()?;
    Ok(())
}

/// Loads a model version's spec and weights, checked against each other, onto `device`. The
/// weights are held in memory whole, so they may not pass the evaluation's memory limit.
pub async fn load_model(
    store: &Store,
    version: &ModelVersion,
    device: DeviceChoice,
    limits: &Limits,
) -> Result<Model, CheckError> {
    let spec = version_file(store, version, SPEC_FILE, MAX_SPEC_BYTES).await?;
    let max_weights = u64::try_from(limits.memory_bytes).unwrap_or(u64::MAX);
    let weights = version_file(store, version, WEIGHTS_FILE, max_weights).await?;
    Ok(Model::load(&spec, &weights, device)?)
}

fn internal(e: impl std::fmt::Display) -> CheckError {
    CheckError::Monitor(verity_monitor::Error::Internal(e.to_string()))
}

/// Refuses a predictions dataset less sensitive than the evaluated one: the predictions copy
/// its labels and sensitive columns.
fn check_sensitivity(target: &Dataset, input: &Dataset) -> Result<(), CheckError> {
    let rank = |s: &str| {
        s.parse::<Sensitivity>()
            .unwrap_or(Sensitivity::Restricted)
            .rank()
    };
    if rank(&target.sensitivity) < rank(&input.sensitivity) {
        return Err(invalid(format!(
            "the predictions dataset '{}' is {} but the evaluated dataset is {}: the predictions \
             copy its labels and sensitive columns, so choose another predictions dataset or \
             raise its sensitivity",
            target.name, target.sensitivity, input.sensitivity
        )));
    }
    Ok(())
}

/// Checks the predictions dataset before any work: a valid name, not the evaluated dataset,
/// and (when it exists) at least as sensitive as the evaluated dataset.
async fn check_target(store: &Store, request: &EvaluationRequest) -> Result<(), CheckError> {
    let name = &request.predictions_dataset;
    verity_store::validate::name("predictions dataset name", name)?;
    if *name == request.dataset.dataset {
        return Err(invalid(format!(
            "the predictions cannot become a version of the evaluated dataset '{name}'"
        )));
    }
    let project = &request.dataset.project;
    let input = store.get_dataset(project, &request.dataset.dataset).await?;
    match store.get_dataset(project, name).await {
        Ok(target) => check_sensitivity(&target, &input),
        Err(e) if e.kind() == verity_store::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// An evaluation that ran: its outcome and how long it took.
#[derive(Debug)]
pub struct Evaluated {
    /// The figures.
    pub outcome: EvaluationOutcome,
    /// The stored report.
    pub report: Report,
}

/// Evaluates, stores the predictions and the report. Everything that can be refused (the
/// predictions dataset, the model files, the data) is checked before anything is stored.
pub async fn run_evaluation(
    store: &Store,
    request: &EvaluationRequest,
    actor: &Actor,
    progress: &dyn Progress,
) -> Result<Evaluated, CheckError> {
    check_target(store, request).await?;
    let model = load_model(store, &request.model, request.device, &request.limits).await?;
    evaluate_loaded(store, request, &model, actor, progress).await
}

/// A report summary as stored: short, without NUL (column names appear in it).
fn stored_summary(summary: &str) -> String {
    summary
        .chars()
        .take(2000)
        .map(|c| if c == '\0' { '\u{fffd}' } else { c })
        .collect()
}

async fn evaluate_loaded(
    store: &Store,
    request: &EvaluationRequest,
    model: &Model,
    actor: &Actor,
    progress: &dyn Progress,
) -> Result<Evaluated, CheckError> {
    let started = std::time::Instant::now();
    let project = request.dataset.project.clone();
    let file = tempfile::NamedTempFile::new().map_err(internal)?;
    let sink = file.reopen().map_err(internal)?;
    let outcome = evaluate_with_limits(
        store.blobs().object_store(),
        request.limits.clone(),
        &Source::of_version(&request.dataset),
        model,
        &request.config,
        Some(Box::new(std::io::BufWriter::new(sink))),
        progress,
    )
    .await?;
    let output = store_predictions(store, request, file.path(), actor).await?;
    let new = NewReport {
        project,
        kind: "evaluation".into(),
        status: outcome.status.as_str().to_owned(),
        summary: stored_summary(&outcome.summary),
        config: evaluation_config(request),
        result: serde_json::to_value(&outcome).map_err(internal)?,
        dataset_version_id: request.dataset.id,
        reference_version_id: None,
        monitor_id: None,
        job_id: None,
        trigger: "manual".into(),
        duration_ms: started.elapsed().as_millis() as i64,
        models: ModelLinks {
            model_version_id: Some(request.model.id),
            reference_model_version_id: None,
            output_version_id: Some(output.id),
        },
    };
    let report = store.add_report(&new, actor).await?;
    Ok(Evaluated { outcome, report })
}

fn evaluation_config(request: &EvaluationRequest) -> Value {
    json!({
        "model": request.model.model,
        "model_version": request.model.version,
        "dataset": request.dataset.dataset,
        "version": request.dataset.version,
        "device": format!("{:?}", request.device).to_lowercase(),
        "predictions_dataset": request.predictions_dataset,
        "evaluation": request.config,
    })
}

/// Adds the predictions file as a version of the predictions dataset (created with the
/// evaluated dataset's sensitivity when missing; refused when it exists with a lower one).
async fn store_predictions(
    store: &Store,
    request: &EvaluationRequest,
    path: &std::path::Path,
    actor: &Actor,
) -> Result<DatasetVersion, CheckError> {
    let project = &request.dataset.project;
    let input = store.get_dataset(project, &request.dataset.dataset).await?;
    let name = &request.predictions_dataset;
    let target = match store.get_dataset(project, name).await {
        Ok(found) => found,
        Err(e) if e.kind() == verity_store::ErrorKind::NotFound => {
            let description = format!(
                "Predictions of model {} written by Verity's evaluations",
                request.model.model
            );
            match store
                .create_dataset(project, name, &description, &input.sensitivity, actor)
                .await
            {
                Ok(created) => created,
                // Another evaluation created it meanwhile.
                Err(e) if e.kind() == verity_store::ErrorKind::AlreadyExists => {
                    store.get_dataset(project, name).await?
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(e) => return Err(e.into()),
    };
    check_sensitivity(&target, &input)?;
    // Before the version exists, so it is never readable in clear through a masked view.
    inherit_masks(store, request, actor).await?;
    let file = tokio::fs::File::open(path).await.map_err(internal)?;
    let staged = store
        .blobs()
        .stage(tokio_util::io::ReaderStream::new(file))
        .await?;
    let added = store
        .add_dataset_version(
            project,
            name,
            NewDatasetVersion {
                source: VersionSource::Upload(staged),
                format: Some(DataFormat::Parquet),
                derived_from_id: Some(request.dataset.id),
                description: format!(
                    "predictions of {}/{} on {}@v{}",
                    request.model.model,
                    request.model.version,
                    request.dataset.dataset,
                    request.dataset.version
                ),
            },
            actor,
        )
        .await?;
    Ok(added.version)
}

/// Gives the predictions dataset the evaluated dataset's masks on what it copies: the
/// sensitive columns under their names, and the label as `label`, with `predicted` and
/// `residual`, which follow its values.
async fn inherit_masks(
    store: &Store,
    request: &EvaluationRequest,
    actor: &Actor,
) -> Result<(), CheckError> {
    let label = request.config.label.as_str();
    let mut copies: Vec<(&str, &str)> = request
        .config
        .sensitive
        .iter()
        .map(|c| (c.as_str(), c.as_str()))
        .collect();
    copies.extend([(label, "label"), (label, "predicted"), (label, "residual")]);
    store
        .inherit_masking(
            &request.dataset.project,
            &request.dataset.dataset,
            &request.predictions_dataset,
            &copies,
            actor,
        )
        .await?;
    Ok(())
}

/// A comparison that ran: both evaluations and the comparison report.
#[derive(Debug)]
pub struct Compared {
    /// The challenger's evaluation report.
    pub challenger: Report,
    /// The champion's evaluation report.
    pub champion: Report,
    /// The comparison report (its result holds the differences).
    pub report: Report,
}

/// Evaluates `challenger` and the version `alias` points to on the same dataset version and
/// stores both evaluations and their comparison.
pub async fn run_comparison(
    store: &Store,
    challenger: &EvaluationRequest,
    alias: &str,
    actor: &Actor,
    progress: &dyn Progress,
) -> Result<Compared, CheckError> {
    let started = std::time::Instant::now();
    let project = challenger.dataset.project.clone();
    check_target(store, challenger).await?;
    let champion_version = store
        .resolve_alias(&project, &challenger.model.model, alias, None)
        .await?;
    let champion_request = EvaluationRequest {
        model: champion_version,
        ..challenger.clone()
    };
    // Both models load and fit each other before anything is stored.
    let challenger_model = load_model(
        store,
        &challenger.model,
        challenger.device,
        &challenger.limits,
    )
    .await?;
    let champion_model = load_model(
        store,
        &champion_request.model,
        challenger.device,
        &challenger.limits,
    )
    .await?;
    let (task, other) = (
        challenger_model.spec().output.task(),
        champion_model.spec().output.task(),
    );
    if task != other {
        return Err(invalid(format!(
            "cannot compare a {task} model with a {other} model (@{alias})"
        )));
    }
    let mine = evaluate_loaded(store, challenger, &challenger_model, actor, progress).await?;
    let theirs =
        evaluate_loaded(store, &champion_request, &champion_model, actor, progress).await?;
    let comparison = compare(&mine.outcome, &theirs.outcome)?;
    let verdict = match comparison.verdict {
        Some(verity_monitor::model::Better::Challenger) => "better than",
        Some(verity_monitor::model::Better::Champion) => "worse than",
        Some(verity_monitor::model::Better::Tie) => "tied with",
        None => "not comparable with",
    };
    let summary = format!(
        "{}/{} is {verdict} @{alias} ({}/{}) on {} of {}@v{}",
        challenger.model.model,
        challenger.model.version,
        champion_request.model.model,
        champion_request.model.version,
        comparison.primary_metric,
        challenger.dataset.dataset,
        challenger.dataset.version
    );
    let status = match comparison.verdict {
        Some(verity_monitor::model::Better::Champion) | None => "warn",
        _ => "pass",
    };
    let new = NewReport {
        project,
        kind: "comparison".into(),
        status: status.into(),
        summary: stored_summary(&summary),
        config: json!({
            "model": challenger.model.model,
            "model_version": challenger.model.version,
            "alias": alias,
            "reference_model_version": champion_request.model.version,
            "dataset": challenger.dataset.dataset,
            "version": challenger.dataset.version,
            "evaluation": challenger.config,
        }),
        result: json!({
            "challenger_report_id": mine.report.id,
            "champion_report_id": theirs.report.id,
            "comparison": comparison,
        }),
        dataset_version_id: challenger.dataset.id,
        reference_version_id: None,
        monitor_id: None,
        job_id: None,
        trigger: "manual".into(),
        duration_ms: started.elapsed().as_millis() as i64,
        models: ModelLinks {
            model_version_id: Some(challenger.model.id),
            reference_model_version_id: Some(champion_request.model.id),
            output_version_id: None,
        },
    };
    let report = store.add_report(&new, actor).await?;
    Ok(Compared {
        challenger: mine.report,
        champion: theirs.report,
        report,
    })
}
