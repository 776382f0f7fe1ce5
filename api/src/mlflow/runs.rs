//! `runs/*` and `metrics/get-history`: runs with their params (immutable), tags (overwritten)
//! and metrics (appended), MLflow's batch limits, search in MLflow's grammar (Verity's OR and
//! parentheses as a superset), and metric history pages.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use serde::Deserialize;
use serde_json::{Value, json};
use verity_policy::Action;
use verity_store::model::LogBatch;
use verity_store::{MlflowDatasetInput, NewRun, PageRequest, RunSearch, RunUpdate};

use super::experiments::resolve;
use super::wire::{self, InMetric, InPair, Int};
use super::{MlflowError, project, project_for_write};
use crate::auth::{Caller, Target};
use crate::state::AppState;

type Reply = Result<Json<Value>, MlflowError>;

/// MLflow's `log_batch` limits (`mlflow/utils/validation.py`).
const MAX_METRICS_PER_BATCH: usize = 1000;
const MAX_PARAMS_TAGS_PER_BATCH: usize = 100;
const MAX_ENTITIES_PER_BATCH: usize = 1000;
/// MLflow's largest `max_results` for run search.
const SEARCH_MAX_RESULTS_THRESHOLD: i64 = 50_000;

/// The run id of a request: `run_id`, or the older `run_uuid`.
#[derive(Deserialize)]
struct RunRef {
    #[serde(default)]
    run_id: Option<String>,
    #[serde(default)]
    run_uuid: Option<String>,
}

impl RunRef {
    fn id(&self) -> Result<&str, MlflowError> {
        self.run_id
            .as_deref()
            .or(self.run_uuid.as_deref())
            .filter(|id| !id.is_empty())
            .ok_or_else(|| MlflowError::invalid("run_id is required"))
    }
}

/// Authorizes `action` on the run a request names and returns its id.
async fn authorize_run(
    state: &AppState,
    c: &Caller,
    action: Action,
    run: &RunRef,
) -> Result<String, MlflowError> {
    let id = run.id()?;
    super::authorize_run(state, c, action, id).await?;
    Ok(id.to_owned())
}

#[derive(Deserialize)]
pub(super) struct Create {
    #[serde(default)]
    experiment_id: Option<String>,
    #[serde(default)]
    run_name: Option<String>,
    #[serde(default)]
    start_time: Option<Int>,
    #[serde(default)]
    tags: Vec<InPair>,
}

/// `POST runs/create`. The run's user is the authenticated caller, whatever `user_id` says.
pub(super) async fn create(State(state): State<AppState>, c: Caller, body: Bytes) -> Reply {
    let project = project_for_write(&state, &c).await?;
    c.authorize(&state, Action::RunCreate, &Target::project(&project))
        .await?;
    let req: Create = wire::body(&body)?;
    let experiment = resolve(
        &state,
        &c,
        &project,
        req.experiment_id.as_deref().unwrap_or("0"),
        true,
    )
    .await?;
    if experiment.deleted_at.is_some() {
        return Err(MlflowError::invalid(format!(
            "The experiment {} must be in the 'active' state",
            experiment.id
        )));
    }
    let tag_name = req
        .tags
        .iter()
        .find(|t| t.key == "mlflow.runName")
        .map(|t| t.value.clone());
    let name = match (req.run_name.filter(|n| !n.is_empty()), tag_name) {
        (Some(a), Some(b)) if a != b => {
            return Err(MlflowError::invalid(format!(
                "run_name '{a}' and the mlflow.runName tag '{b}' differ"
            )));
        }
        (Some(a), _) => Some(a),
        (None, b) => b,
    };
    let new = NewRun {
        name,
        start_time: req.start_time.map(|t| t.0),
        tags: req.tags.into_iter().map(Into::into).collect(),
    };
    let created = state
        .create_run(&project, experiment.id, new, &c.actor)
        .await?;
    Ok(Json(json!({"run": wire::run(&created)})))
}

/// `GET runs/get`.
pub(super) async fn get(State(state): State<AppState>, c: Caller, RawQuery(q): RawQuery) -> Reply {
    let run: RunRef = wire::query(q.as_deref())?;
    let id = authorize_run(&state, &c, Action::RunRead, &run).await?;
    let detail = state.get_run_detail(&id).await?;
    let mut out = wire::run(&detail);
    // The models logged from the run are its outputs.
    let all = PageRequest::new(Some(1000), None)?;
    let logged = state
        .search_logged_models(&detail.run.project, &[], None, Some(&id), &all)
        .await?;
    let inputs = state.mlflow_inputs(&id).await?;
    if !inputs.is_empty() {
        let datasets: Vec<Value> = inputs
            .iter()
            .map(|i| {
                json!({
                    "tags": i.tags.iter().map(wire::pair).collect::<Vec<_>>(),
                    "dataset": {"name": i.name, "digest": i.digest, "source_type": i.source_type,
                                "source": i.source, "schema": i.schema, "profile": i.profile},
                })
            })
            .collect();
        out["inputs"] = json!({ "dataset_inputs": datasets });
    }
    if !logged.items.is_empty() {
        let outputs: Vec<Value> = logged
            .items
            .iter()
            .map(|m| json!({"model_id": m.model_id, "step": 0}))
            .collect();
        out["outputs"] = json!({ "model_outputs": outputs });
    }
    Ok(Json(json!({ "run": out })))
}

#[derive(Deserialize)]
pub(super) struct Update {
    #[serde(flatten)]
    run: RunRef,
    #[serde(default)]
    status: Option<Value>,
    #[serde(default)]
    end_time: Option<Int>,
    #[serde(default)]
    run_name: Option<String>,
}

/// The status name of an MLflow `RunStatus` (a name or its number 1–5).
fn status(value: Option<Value>) -> Result<Option<String>, MlflowError> {
    const NAMES: [&str; 5] = ["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"];
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if NAMES.contains(&s.as_str()) => Ok(Some(s)),
        Some(v) => match v
            .as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        {
            Some(n @ 1..=5) => Ok(Some(NAMES[(n - 1) as usize].to_owned())),
            _ => Err(MlflowError::invalid(format!(
                "status {v} is not one of {}",
                NAMES.join(", ")
            ))),
        },
    }
}

/// `POST runs/update`.
pub(super) async fn update(State(state): State<AppState>, c: Caller, body: Bytes) -> Reply {
    let req: Update = wire::body(&body)?;
    let id = authorize_run(&state, &c, Action::RunWrite, &req.run).await?;
    let update = RunUpdate {
        name: req.run_name.filter(|n| !n.is_empty()),
        status: status(req.status)?,
        end_time: req.end_time.map(|t| t.0),
    };
    let run = state.update_run(&id, update, &c.actor).await?;
    Ok(Json(json!({"run_info": wire::run_info(&run)})))
}

async fn set_deleted(state: AppState, c: Caller, body: Bytes, deleted: bool) -> Reply {
    let run: RunRef = wire::body(&body)?;
    let id = authorize_run(&state, &c, Action::RunDelete, &run).await?;
    state.set_run_deleted(&id, deleted, &c.actor).await?;
    Ok(Json(json!({})))
}

/// `POST runs/delete`.
pub(super) async fn delete(State(state): State<AppState>, c: Caller, body: Bytes) -> Reply {
    set_deleted(state, c, body, true).await
}

/// `POST runs/restore`.
pub(super) async fn restore(State(state): State<AppState>, c: Caller, body: Bytes) -> Reply {
    set_deleted(state, c, body, false).await
}

/// Logs a batch after checking MLflow's limits.
async fn log(state: &AppState, c: &Caller, id: &str, batch: LogBatch) -> Reply {
    if batch.metrics.len() > MAX_METRICS_PER_BATCH {
        return Err(MlflowError::invalid(format!(
            "A batch logging request can contain at most {MAX_METRICS_PER_BATCH} metrics. Got \
             {} metrics.",
            batch.metrics.len()
        )));
    }
    for (what, n) in [("params", batch.params.len()), ("tags", batch.tags.len())] {
        if n > MAX_PARAMS_TAGS_PER_BATCH {
            return Err(MlflowError::invalid(format!(
                "A batch logging request can contain at most {MAX_PARAMS_TAGS_PER_BATCH} {what}. \
                 Got {n} {what}."
            )));
        }
    }
    let total = batch.metrics.len() + batch.params.len() + batch.tags.len();
    if total > MAX_ENTITIES_PER_BATCH {
        return Err(MlflowError::invalid(format!(
            "A batch logging request can contain at most {MAX_ENTITIES_PER_BATCH} metrics, \
             params and tags in total. Got {total}."
        )));
    }
    state.log_batch(id, &batch, &c.actor).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
pub(super) struct Batch {
    #[serde(flatten)]
    run: RunRef,
    #[serde(default)]
    metrics: Vec<InMetric>,
    #[serde(default)]
    params: Vec<InPair>,
    #[serde(default)]
    tags: Vec<InPair>,
}

/// `POST runs/log-batch`.
pub(super) async fn log_batch(State(state): State<AppState>, c: Caller, body: Bytes) -> Reply {
    let req: Batch = wire::body(&body)?;
    let id = authorize_run(&state, &c, Action::RunWrite, &req.run).await?;
    let batch = LogBatch {
        params: req.params.into_iter().map(Into::into).collect(),
        tags: req.tags.into_iter().map(Into::into).collect(),
        metrics: req.metrics.into_iter().map(InMetric::point).collect(),
    };
    log(&state, &c, &id, batch).await
}

#[derive(Deserialize)]
pub(super) struct OneMetric {
    #[serde(flatten)]
    run: RunRef,
    #[serde(flatten)]
    metric: InMetric,
}

/// `POST runs/log-metric`.
pub(super) async fn log_metric(State(state): State<AppState>, c: Caller, body: Bytes) -> Reply {
    let req: OneMetric = wire::body(&body)?;
    let id = authorize_run(&state, &c, Action::RunWrite, &req.run).await?;
    let batch = LogBatch {
        metrics: vec![req.metric.point()],
        ..LogBatch::default()
    };
    log(&state, &c, &id, batch).await
}

#[derive(Deserialize)]
pub(super) struct OnePair {
    #[serde(flatten)]
    run: RunRef,
    #[serde(flatten)]
    pair: InPair,
}

/// `POST runs/log-parameter`.
pub(super) async fn log_parameter(State(state): State<AppState>, c: Caller, body: Bytes) -> Reply {
    let req: OnePair = wire::body(&body)?;
    let id = authorize_run(&state, &c, Action::RunWrite, &req.run).await?;
    let batch = LogBatch {
        params: vec![req.pair.into()],
        ..LogBatch::default()
    };
    log(&state, &c, &id, batch).await
}

/// `POST runs/set-tag`.
pub(super) async fn set_tag(State(state): State<AppState>, c: Caller, body: Bytes) -> Reply {
    let req: OnePair = wire::body(&body)?;
    let id = authorize_run(&state, &c, Action::RunWrite, &req.run).await?;
    let batch = LogBatch {
        tags: vec![req.pair.into()],
        ..LogBatch::default()
    };
    log(&state, &c, &id, batch).await
}

#[derive(Deserialize)]
pub(super) struct DeleteTag {
    #[serde(flatten)]
    run: RunRef,
    key: String,
}

/// `POST runs/delete-tag`.
pub(super) async fn delete_tag(State(state): State<AppState>, c: Caller, body: Bytes) -> Reply {
    let req: DeleteTag = wire::body(&body)?;
    let id = authorize_run(&state, &c, Action::RunWrite, &req.run).await?;
    state.delete_tag(&id, &req.key, &c.actor).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
pub(super) struct Search {
    #[serde(default)]
    experiment_ids: Vec<String>,
    #[serde(default)]
    filter: Option<String>,
    #[serde(default)]
    run_view_type: Option<Value>,
    #[serde(default)]
    max_results: Option<Int>,
    #[serde(default)]
    order_by: Vec<String>,
    #[serde(default)]
    page_token: Option<String>,
}

/// `POST runs/search`: pages of at most 1000 runs (the client follows `next_page_token`).
pub(super) async fn search(State(state): State<AppState>, c: Caller, body: Bytes) -> Reply {
    let project = project(&state, &c).await?;
    c.authorize(&state, Action::RunRead, &Target::project(&project))
        .await?;
    let req: Search = wire::body(&body)?;
    let page = wire::page(
        req.max_results,
        1000,
        SEARCH_MAX_RESULTS_THRESHOLD,
        req.page_token.as_deref(),
    )?;
    let mut experiment_ids = Vec::with_capacity(req.experiment_ids.len());
    for id in &req.experiment_ids {
        experiment_ids.push(resolve(&state, &c, &project, id, false).await?.id);
    }
    let search = RunSearch {
        experiment_ids,
        filter: req.filter.filter(|f| !f.trim().is_empty()),
        order_by: req.order_by,
        view: wire::view_type(req.run_view_type.as_ref())?,
        page,
    };
    let found = state.search_runs(&project, &search).await?;
    let runs = found.items.iter().map(wire::run).collect();
    Ok(Json(wire::paged("runs", runs, found.next_cursor)))
}

#[derive(Deserialize)]
pub(super) struct History {
    #[serde(flatten)]
    run: RunRef,
    metric_key: String,
    #[serde(default)]
    max_results: Option<Int>,
    #[serde(default)]
    page_token: Option<String>,
}

/// `GET metrics/get-history`: every point of one metric, in pages of up to 100,000.
pub(super) async fn metric_history(
    State(state): State<AppState>,
    c: Caller,
    RawQuery(q): RawQuery,
) -> Reply {
    let req: History = wire::query(q.as_deref())?;
    let id = authorize_run(&state, &c, Action::RunRead, &req.run).await?;
    let max = req.max_results.map_or(0, |m| m.0);
    if max < 0 {
        return Err(MlflowError::invalid("max_results must not be negative"));
    }
    let limit = if max == 0 {
        verity_store::MAX_HISTORY_PAGE
    } else {
        u32::try_from(max)
            .unwrap_or(u32::MAX)
            .min(verity_store::MAX_HISTORY_PAGE)
    };
    let token = req.page_token.as_deref().filter(|t| !t.is_empty());
    let page = state
        .metric_history(&id, &req.metric_key, Some(limit), token)
        .await?;
    let metrics: Vec<Value> = page
        .items
        .iter()
        .map(|v| {
            json!({"key": req.metric_key, "value": wire::double(v.value),
                   "timestamp": v.timestamp, "step": v.step})
        })
        .collect();
    Ok(Json(wire::paged("metrics", metrics, page.next_cursor)))
}

#[derive(Deserialize)]
struct InDataset {
    name: String,
    digest: String,
    #[serde(default)]
    source_type: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    schema: String,
    #[serde(default)]
    profile: String,
}

#[derive(Deserialize)]
struct InDatasetInput {
    #[serde(default)]
    tags: Vec<InPair>,
    dataset: InDataset,
}

#[derive(Deserialize)]
pub(super) struct Inputs {
    #[serde(flatten)]
    run: RunRef,
    #[serde(default)]
    datasets: Vec<InDatasetInput>,
    #[serde(default)]
    models: Vec<Value>,
}

/// `POST runs/log-inputs`: the datasets' descriptions as the client sends them.
pub(super) async fn log_inputs(State(state): State<AppState>, c: Caller, body: Bytes) -> Reply {
    let req: Inputs = wire::body(&body)?;
    let id = authorize_run(&state, &c, Action::RunWrite, &req.run).await?;
    if !req.models.is_empty() {
        return Err(MlflowError::invalid(
            "model inputs are not recorded by Verity's MLflow API; log datasets only",
        ));
    }
    let inputs: Vec<MlflowDatasetInput> = req
        .datasets
        .into_iter()
        .map(|d| MlflowDatasetInput {
            name: d.dataset.name,
            digest: d.dataset.digest,
            source_type: d.dataset.source_type,
            source: d.dataset.source,
            schema: d.dataset.schema,
            profile: d.dataset.profile,
            tags: d.tags.into_iter().map(Into::into).collect(),
        })
        .collect();
    state.add_mlflow_inputs(&id, &inputs, &c.actor).await?;
    Ok(Json(json!({})))
}
