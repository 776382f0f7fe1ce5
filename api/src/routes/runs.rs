//! Runs: lifecycle, params, tags, metrics (with history and downsampling), inputs, outputs, search.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use futures::StreamExt as _;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use verity_store::model::{
    LogBatch, MetricBucket, MetricPoint, MetricValue, Run, RunDataset, RunDetail,
};
use verity_store::{HistoryChunk, NewRun, PageRequest, RunSearch, RunUpdate, now_ms};

use super::experiments::View;
use crate::error::{ApiResult, ErrorBody};
use verity_policy::Action;

use crate::auth::{Caller, Target};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;
use crate::wire::{Float, KeyValue, ListResponse};

/// A metric point. `value` is a number or `"NaN"`, `"Infinity"`, `"-Infinity"`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Metric {
    /// Metric key.
    pub key: String,
    /// Value.
    #[schema(value_type = f64)]
    pub value: Float,
    /// Step (default 0).
    #[serde(default)]
    pub step: i64,
    /// Client time in ms (default: now).
    pub timestamp: Option<i64>,
}

impl From<MetricPoint> for Metric {
    fn from(p: MetricPoint) -> Self {
        Self {
            key: p.key,
            value: Float(p.value),
            step: p.step,
            timestamp: Some(p.timestamp),
        }
    }
}

impl Metric {
    fn into_point(self, now: i64) -> MetricPoint {
        MetricPoint {
            key: self.key,
            value: self.value.0,
            step: self.step,
            timestamp: self.timestamp.unwrap_or(now),
        }
    }
}

/// A dataset version a run read or wrote.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunDatasetResponse {
    /// Dataset version id.
    pub dataset_version_id: i64,
    /// Project of the dataset.
    pub project: String,
    /// Dataset name.
    pub dataset: String,
    /// Version number.
    pub version: i64,
    /// SHA-256 of the bytes.
    pub content_hash: String,
    /// e.g. `training`, `evaluation` (empty for outputs).
    pub context: String,
}

impl From<RunDataset> for RunDatasetResponse {
    fn from(d: RunDataset) -> Self {
        Self {
            dataset_version_id: d.dataset_version_id,
            project: d.project,
            dataset: d.dataset,
            version: d.version,
            content_hash: d.content_hash,
            context: d.context,
        }
    }
}

/// A model version a run produced.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunModelResponse {
    /// Model version id.
    pub model_version_id: i64,
    /// Registered model name.
    pub model: String,
    /// Version number.
    pub version: i64,
}

/// What a run wrote.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunOutputs {
    /// Dataset versions.
    pub datasets: Vec<RunDatasetResponse>,
    /// Model versions.
    pub models: Vec<RunModelResponse>,
}

/// A run with everything logged to it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunResponse {
    /// 32 hex characters.
    pub run_id: String,
    /// Project name.
    pub project: String,
    /// Experiment id.
    pub experiment_id: i64,
    /// Display name.
    pub name: String,
    /// RUNNING, SCHEDULED, FINISHED, FAILED or KILLED.
    pub status: String,
    /// Start time (ms).
    pub start_time: i64,
    /// End time (ms), once ended.
    pub end_time: Option<i64>,
    /// Soft-deletion time, when deleted.
    pub deleted_at: Option<i64>,
    /// Who created it.
    pub created_by: String,
    /// When (ms).
    pub created_at: i64,
    /// Params, by key.
    pub params: Vec<KeyValue>,
    /// Tags, by key.
    pub tags: Vec<KeyValue>,
    /// Latest value of each metric, by key.
    pub metrics: Vec<Metric>,
    /// Dataset versions read.
    pub inputs: Vec<RunDatasetResponse>,
    /// What the run wrote.
    pub outputs: RunOutputs,
}

impl From<RunDetail> for RunResponse {
    fn from(d: RunDetail) -> Self {
        let RunDetail {
            run,
            params,
            tags,
            metrics,
            inputs,
            dataset_outputs,
            model_outputs,
        } = d;
        let Run {
            uuid,
            project,
            experiment_id,
            name,
            status,
            start_time,
            end_time,
            deleted_at,
            created_by,
            created_at,
            ..
        } = run;
        Self {
            run_id: uuid,
            project,
            experiment_id,
            name,
            status,
            start_time,
            end_time,
            deleted_at,
            created_by,
            created_at,
            params: params.into_iter().map(KeyValue::from).collect(),
            tags: tags.into_iter().map(KeyValue::from).collect(),
            metrics: metrics.into_iter().map(Metric::from).collect(),
            inputs: inputs.into_iter().map(RunDatasetResponse::from).collect(),
            outputs: RunOutputs {
                datasets: dataset_outputs
                    .into_iter()
                    .map(RunDatasetResponse::from)
                    .collect(),
                models: model_outputs
                    .into_iter()
                    .map(|m| RunModelResponse {
                        model_version_id: m.model_version_id,
                        model: m.model,
                        version: m.version,
                    })
                    .collect(),
            },
        }
    }
}

/// Body of `POST .../experiments/{experiment}/runs`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRun {
    /// Display name (generated when absent).
    pub name: Option<String>,
    /// Start time in ms (default: now).
    pub start_time: Option<i64>,
    /// Initial tags.
    #[serde(default)]
    pub tags: Vec<KeyValue>,
}

/// Body of `PATCH /api/v1/runs/{run_id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRun {
    /// New name.
    pub name: Option<String>,
    /// RUNNING, SCHEDULED, FINISHED, FAILED or KILLED; a terminal status sets end_time when absent.
    pub status: Option<String>,
    /// End time in ms.
    pub end_time: Option<i64>,
}

/// Body of `POST /api/v1/runs/{run_id}/batch`: no per-kind caps, only the body size limit.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogBatchRequest {
    /// Params: immutable per key; the same pair again is a no-op, another value is 409.
    #[serde(default)]
    pub params: Vec<KeyValue>,
    /// Tags: overwrite.
    #[serde(default)]
    pub tags: Vec<KeyValue>,
    /// Metric points: appended.
    #[serde(default)]
    pub metrics: Vec<Metric>,
}

/// Body of `POST /api/v1/runs/{run_id}/inputs`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunInputRequest {
    /// Dataset version id.
    pub dataset_version_id: i64,
    /// e.g. `training` or `evaluation`.
    pub context: String,
}

/// Body of `POST /api/v1/runs/{run_id}/outputs`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunOutputRequest {
    /// Dataset version id the run wrote.
    pub dataset_version_id: i64,
}

/// Body of `POST /api/v1/projects/{project}/runs/search`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchRunsRequest {
    /// Experiment ids (default: all of the project's).
    #[serde(default)]
    pub experiment_ids: Vec<i64>,
    /// MLflow's filter grammar plus OR and parentheses, e.g.
    /// `metrics.acc > 0.9 and (params.lr = '0.1' or tags.team = 'a')`.
    pub filter: Option<String>,
    /// e.g. `["metrics.acc DESC", "attributes.start_time"]`.
    #[serde(default)]
    pub order_by: Vec<String>,
    /// `active_only` (default), `deleted_only` or `all`.
    #[serde(default)]
    pub view: View,
    /// Runs per page (1..=1000, default 100).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Query of the metric history routes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Metric key.
    pub key: String,
    /// Points per page (1..=100000, default 100000).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One point of a metric history.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryPoint {
    /// Value (number, or "NaN", "Infinity", "-Infinity").
    #[schema(value_type = f64)]
    pub value: Float,
    /// Step.
    pub step: i64,
    /// Client time (ms).
    pub timestamp: i64,
}

impl From<MetricValue> for HistoryPoint {
    fn from(v: MetricValue) -> Self {
        Self {
            value: Float(v.value),
            step: v.step,
            timestamp: v.timestamp,
        }
    }
}

/// Query of the downsampled metric view.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DownsampleQuery {
    /// Metric key.
    pub key: String,
    /// Most buckets to return (1..=10000, default 1000).
    pub buckets: Option<u32>,
    /// First step (default: the series' first).
    pub start_step: Option<i64>,
    /// Last step (default: the series' last).
    pub end_step: Option<i64>,
}

/// One bucket of a downsampled series: spikes survive in min and max.
#[derive(Debug, Serialize, ToSchema)]
pub struct BucketResponse {
    /// First step in the bucket.
    pub start_step: i64,
    /// Last step in the bucket.
    pub end_step: i64,
    /// Points in the bucket.
    pub count: i64,
    /// Smallest value (NaN ignored).
    #[schema(value_type = f64)]
    pub min: Float,
    /// Largest value (NaN ignored).
    #[schema(value_type = f64)]
    pub max: Float,
    /// Value of the first point.
    #[schema(value_type = f64)]
    pub first: Float,
    /// Value of the last point.
    #[schema(value_type = f64)]
    pub last: Float,
}

impl From<MetricBucket> for BucketResponse {
    fn from(b: MetricBucket) -> Self {
        Self {
            start_step: b.start_step,
            end_step: b.end_step,
            count: b.count,
            min: Float(b.min),
            max: Float(b.max),
            first: Float(b.first),
            last: Float(b.last),
        }
    }
}

/// A downsampled series.
#[derive(Debug, Serialize, ToSchema)]
pub struct DownsampleResponse {
    /// Metric key.
    pub key: String,
    /// Buckets in step order.
    pub buckets: Vec<BucketResponse>,
}

/// Latest values of a run's metrics.
#[derive(Debug, Serialize, ToSchema)]
pub struct MetricsResponse {
    /// One point per key.
    pub metrics: Vec<Metric>,
}

type RunPath = Path<String>;

/// Starts a run in an experiment.
#[utoipa::path(post, path = "/api/v1/projects/{project}/experiments/{experiment}/runs", tag = "runs", request_body = CreateRun,
    params(("project" = String, Path), ("experiment" = i64, Path)),
    responses((status = 201, body = RunResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_run(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, experiment)): Path<(String, i64)>,
    Json(body): Json<CreateRun>,
) -> ApiResult<(StatusCode, Json<RunResponse>)> {
    caller
        .authorize(&state, Action::RunCreate, &Target::project(&project))
        .await?;
    let new = NewRun {
        name: body.name,
        start_time: body.start_time,
        tags: body.tags.into_iter().map(Into::into).collect(),
    };
    let run = state
        .create_run(&project, experiment, new, &caller.actor)
        .await?;
    Ok((StatusCode::CREATED, Json(run.into())))
}

/// Reads a run with its params, tags, latest metrics, inputs and outputs.
#[utoipa::path(get, path = "/api/v1/runs/{run_id}", tag = "runs", params(("run_id" = String, Path)),
    responses((status = 200, body = RunResponse), (status = 404, body = ErrorBody)))]
pub async fn get_run(
    State(state): State<AppState>,
    caller: Caller,
    Path(run_id): RunPath,
) -> ApiResult<Json<RunResponse>> {
    caller
        .authorize_run(&state, Action::RunRead, &run_id)
        .await?;
    Ok(Json(state.get_run_detail(&run_id).await?.into()))
}

/// Renames a run or changes its status and end time.
#[utoipa::path(patch, path = "/api/v1/runs/{run_id}", tag = "runs", request_body = UpdateRun, params(("run_id" = String, Path)),
    responses((status = 200, body = RunResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_run(
    State(state): State<AppState>,
    caller: Caller,
    Path(run_id): RunPath,
    Json(body): Json<UpdateRun>,
) -> ApiResult<Json<RunResponse>> {
    caller
        .authorize_run(&state, Action::RunWrite, &run_id)
        .await?;
    state
        .update_run(
            &run_id,
            RunUpdate {
                name: body.name,
                status: body.status,
                end_time: body.end_time,
            },
            &caller.actor,
        )
        .await?;
    Ok(Json(state.get_run_detail(&run_id).await?.into()))
}

/// Soft-deletes a run (restorable).
#[utoipa::path(delete, path = "/api/v1/runs/{run_id}", tag = "runs", params(("run_id" = String, Path)),
    responses((status = 200, body = RunResponse), (status = 404, body = ErrorBody)))]
pub async fn delete_run(
    State(state): State<AppState>,
    caller: Caller,
    Path(run_id): RunPath,
) -> ApiResult<Json<RunResponse>> {
    caller
        .authorize_run(&state, Action::RunDelete, &run_id)
        .await?;
    state.set_run_deleted(&run_id, true, &caller.actor).await?;
    Ok(Json(state.get_run_detail(&run_id).await?.into()))
}

/// Restores a soft-deleted run.
#[utoipa::path(post, path = "/api/v1/runs/{run_id}/restore", tag = "runs", params(("run_id" = String, Path)),
    responses((status = 200, body = RunResponse), (status = 404, body = ErrorBody)))]
pub async fn restore_run(
    State(state): State<AppState>,
    caller: Caller,
    Path(run_id): RunPath,
) -> ApiResult<Json<RunResponse>> {
    caller
        .authorize_run(&state, Action::RunDelete, &run_id)
        .await?;
    state.set_run_deleted(&run_id, false, &caller.actor).await?;
    Ok(Json(state.get_run_detail(&run_id).await?.into()))
}

/// Logs params, tags and metric points at once: all or nothing.
#[utoipa::path(post, path = "/api/v1/runs/{run_id}/batch", tag = "runs", request_body = LogBatchRequest, params(("run_id" = String, Path)),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn log_batch(
    State(state): State<AppState>,
    caller: Caller,
    Path(run_id): RunPath,
    Json(body): Json<LogBatchRequest>,
) -> ApiResult<StatusCode> {
    caller
        .authorize_run(&state, Action::RunWrite, &run_id)
        .await?;
    let now = now_ms();
    let batch = LogBatch {
        params: body.params.into_iter().map(Into::into).collect(),
        tags: body.tags.into_iter().map(Into::into).collect(),
        metrics: body
            .metrics
            .into_iter()
            .map(|m| m.into_point(now))
            .collect(),
    };
    state.log_batch(&run_id, &batch, &caller.actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Logs one param (immutable: another value for the key is 409).
#[utoipa::path(post, path = "/api/v1/runs/{run_id}/params", tag = "runs", request_body = KeyValue, params(("run_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn log_param(
    State(state): State<AppState>,
    caller: Caller,
    Path(run_id): RunPath,
    Json(body): Json<KeyValue>,
) -> ApiResult<StatusCode> {
    caller
        .authorize_run(&state, Action::RunWrite, &run_id)
        .await?;
    state
        .log_batch(
            &run_id,
            &LogBatch {
                params: vec![body.into()],
                ..LogBatch::default()
            },
            &caller.actor,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets one tag (overwrites).
#[utoipa::path(post, path = "/api/v1/runs/{run_id}/tags", tag = "runs", request_body = KeyValue, params(("run_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn set_tag(
    State(state): State<AppState>,
    caller: Caller,
    Path(run_id): RunPath,
    Json(body): Json<KeyValue>,
) -> ApiResult<StatusCode> {
    caller
        .authorize_run(&state, Action::RunWrite, &run_id)
        .await?;
    state
        .log_batch(
            &run_id,
            &LogBatch {
                tags: vec![body.into()],
                ..LogBatch::default()
            },
            &caller.actor,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes one tag.
#[utoipa::path(delete, path = "/api/v1/runs/{run_id}/tags/{key}", tag = "runs", params(("run_id" = String, Path), ("key" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_tag(
    State(state): State<AppState>,
    caller: Caller,
    Path((run_id, key)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    caller
        .authorize_run(&state, Action::RunWrite, &run_id)
        .await?;
    state.delete_tag(&run_id, &key, &caller.actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Logs one metric point.
#[utoipa::path(post, path = "/api/v1/runs/{run_id}/metrics", tag = "runs", request_body = Metric, params(("run_id" = String, Path)),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn log_metric(
    State(state): State<AppState>,
    caller: Caller,
    Path(run_id): RunPath,
    Json(body): Json<Metric>,
) -> ApiResult<StatusCode> {
    caller
        .authorize_run(&state, Action::RunWrite, &run_id)
        .await?;
    let batch = LogBatch {
        metrics: vec![body.into_point(now_ms())],
        ..LogBatch::default()
    };
    state.log_batch(&run_id, &batch, &caller.actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The latest value of each of a run's metrics.
#[utoipa::path(get, path = "/api/v1/runs/{run_id}/metrics", tag = "runs", params(("run_id" = String, Path)),
    responses((status = 200, body = MetricsResponse), (status = 404, body = ErrorBody)))]
pub async fn latest_metrics(
    State(state): State<AppState>,
    caller: Caller,
    Path(run_id): RunPath,
) -> ApiResult<Json<MetricsResponse>> {
    caller
        .authorize_run(&state, Action::RunRead, &run_id)
        .await?;
    let metrics = state.latest_metrics(&run_id).await?;
    Ok(Json(MetricsResponse {
        metrics: metrics.into_iter().map(Metric::from).collect(),
    }))
}

/// The full history of one metric, by step, paged.
#[utoipa::path(get, path = "/api/v1/runs/{run_id}/metric-history", tag = "runs", params(("run_id" = String, Path), HistoryQuery),
    responses((status = 200, body = ListResponse<HistoryPoint>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn metric_history(
    State(state): State<AppState>,
    caller: Caller,
    Path(run_id): RunPath,
    Query(query): Query<HistoryQuery>,
) -> ApiResult<Response> {
    caller
        .authorize_run(&state, Action::RunRead, &run_id)
        .await?;
    let chunks = state
        .metric_history_stream(&run_id, &query.key, query.limit, query.cursor.as_deref())
        .await?;
    // Written while the database reads: `{"items":[...]` chunk by chunk, then the cursor.
    let mut first = true;
    let body = chunks.map(move |chunk| -> Result<Bytes, std::io::Error> {
        match chunk {
            Ok(HistoryChunk::Points(points)) => {
                let mut buf = Vec::with_capacity(points.len() * 56 + 16);
                if first {
                    buf.extend_from_slice(b"{\"items\":[");
                }
                for point in points {
                    if !first {
                        buf.push(b',');
                    }
                    first = false;
                    serde_json::to_writer(&mut buf, &HistoryPoint::from(point))?;
                }
                Ok(buf.into())
            }
            Ok(HistoryChunk::End { next_cursor }) => {
                let head = if first { "{\"items\":[" } else { "" };
                let tail = match next_cursor {
                    Some(cursor) => format!(
                        "{head}],\"next_cursor\":{}}}",
                        serde_json::to_string(&cursor)?
                    ),
                    None => format!("{head}]}}"),
                };
                Ok(tail.into())
            }
            Err(err) => {
                tracing::error!(error = %err, "metric history stream failed");
                Err(std::io::Error::other("metric history read failed"))
            }
        }
    });
    let mut response = Response::new(Body::from_stream(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// At most N buckets over a step range with min/max/first/last each, so a chart keeps its spikes.
#[utoipa::path(get, path = "/api/v1/runs/{run_id}/metric-history/downsampled", tag = "runs", params(("run_id" = String, Path), DownsampleQuery),
    responses((status = 200, body = DownsampleResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn metric_downsampled(
    State(state): State<AppState>,
    caller: Caller,
    Path(run_id): RunPath,
    Query(query): Query<DownsampleQuery>,
) -> ApiResult<Json<DownsampleResponse>> {
    caller
        .authorize_run(&state, Action::RunRead, &run_id)
        .await?;
    let buckets = state
        .metric_downsample(
            &run_id,
            &query.key,
            query.buckets.unwrap_or(1000),
            query.start_step,
            query.end_step,
        )
        .await?;
    Ok(Json(DownsampleResponse {
        key: query.key,
        buckets: buckets.into_iter().map(BucketResponse::from).collect(),
    }))
}

/// Records that the run read a dataset version.
#[utoipa::path(post, path = "/api/v1/runs/{run_id}/inputs", tag = "runs", request_body = RunInputRequest, params(("run_id" = String, Path)),
    responses((status = 200, body = RunResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn add_input(
    State(state): State<AppState>,
    caller: Caller,
    Path(run_id): RunPath,
    Json(body): Json<RunInputRequest>,
) -> ApiResult<Json<RunResponse>> {
    caller
        .authorize_run(&state, Action::RunWrite, &run_id)
        .await?;
    Ok(Json(
        state
            .add_run_input(
                &run_id,
                body.dataset_version_id,
                &body.context,
                &caller.actor,
            )
            .await?
            .into(),
    ))
}

/// Records that the run wrote a dataset version.
#[utoipa::path(post, path = "/api/v1/runs/{run_id}/outputs", tag = "runs", request_body = RunOutputRequest, params(("run_id" = String, Path)),
    responses((status = 200, body = RunResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn add_output(
    State(state): State<AppState>,
    caller: Caller,
    Path(run_id): RunPath,
    Json(body): Json<RunOutputRequest>,
) -> ApiResult<Json<RunResponse>> {
    caller
        .authorize_run(&state, Action::RunWrite, &run_id)
        .await?;
    Ok(Json(
        state
            .add_run_output(&run_id, body.dataset_version_id, &caller.actor)
            .await?
            .into(),
    ))
}

/// Searches a project's runs: MLflow's filter grammar plus OR and parentheses.
#[utoipa::path(post, path = "/api/v1/projects/{project}/runs/search", tag = "runs", request_body = SearchRunsRequest,
    params(("project" = String, Path)),
    responses((status = 200, body = ListResponse<RunResponse>), (status = 400, description = "malformed filter: the message names the position", body = ErrorBody)))]
pub async fn search_runs(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
    Json(body): Json<SearchRunsRequest>,
) -> ApiResult<Json<ListResponse<RunResponse>>> {
    caller
        .authorize(&state, Action::RunRead, &Target::project(&project))
        .await?;
    state.get_project(&project).await?;
    let search = RunSearch {
        experiment_ids: body.experiment_ids,
        filter: body.filter,
        order_by: body.order_by,
        view: body.view.into(),
        page: PageRequest::new(body.limit, body.cursor.as_deref())?,
    };
    let page = state.search_runs(&project, &search).await?;
    Ok(Json(ListResponse::from_page(page, RunResponse::from)))
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_run))
        .routes(routes!(get_run, update_run, delete_run))
        .routes(routes!(restore_run))
        .routes(routes!(log_batch))
        .routes(routes!(log_param))
        .routes(routes!(set_tag))
        .routes(routes!(delete_tag))
        .routes(routes!(log_metric, latest_metrics))
        .routes(routes!(metric_history))
        .routes(routes!(metric_downsampled))
        .routes(routes!(add_input))
        .routes(routes!(add_output))
        .routes(routes!(search_runs))
}
