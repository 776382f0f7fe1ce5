//! `/api/v1/projects/{project}/monitors` and `.../jobs`: monitors (checks run on every new
//! version of a dataset and/or on a schedule) and the queue of their runs.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use verity_monitor::check::CheckSpec;
use verity_policy::Action;
use verity_store::{Job, Monitor, MonitorUpdate, NewMonitor};

use crate::auth::{Caller, Target};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::routes::checks::{VersionSelector, resolve};
use crate::routes::clearance::{
    MonitorVisibility, authorize_datasets, authorize_monitor, may_see_all, monitor_datasets,
};
use crate::routes::read_optional_json_body;
use crate::state::AppState;
use crate::wire::{ListResponse, PageQuery};

/// A monitor.
#[derive(Debug, Serialize, ToSchema)]
pub struct MonitorResponse {
    /// Id.
    pub id: i64,
    /// Project name.
    pub project: String,
    /// Name, unique in the project.
    pub name: String,
    /// The dataset whose versions it checks.
    pub dataset: String,
    /// The dataset version drift checks compare with.
    pub reference_version_id: Option<i64>,
    /// The checks, each `{"kind": ..., options}`.
    #[schema(value_type = Vec<Object>)]
    pub checks: serde_json::Value,
    /// Runs on every new version of the dataset.
    pub on_new_version: bool,
    /// Runs every this many seconds.
    pub interval_seconds: Option<i64>,
    /// Whether it runs by itself (a disabled monitor can still be run by hand).
    pub enabled: bool,
    /// When the schedule next runs it.
    pub next_run_at: Option<i64>,
    /// When it last recorded an outcome.
    pub last_run_at: Option<i64>,
    /// Whose access its checks run with: whoever created it or last changed it; its runs are
    /// refused while this user may not read its data.
    pub owner: String,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

impl From<Monitor> for MonitorResponse {
    fn from(m: Monitor) -> Self {
        Self {
            id: m.id,
            project: m.project,
            name: m.name,
            dataset: m.dataset,
            reference_version_id: m.reference_version_id,
            checks: m.checks,
            on_new_version: m.on_new_version,
            interval_seconds: m.interval_seconds,
            enabled: m.enabled,
            next_run_at: m.next_run_at,
            last_run_at: m.last_run_at,
            owner: m.owner,
            created_by: m.created_by,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// Body of `POST .../monitors`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMonitor {
    /// Name, unique in the project.
    pub name: String,
    /// The dataset whose versions it checks.
    pub dataset: String,
    /// The version drift checks compare with (`dataset` defaults to the monitored one;
    /// `version` to its latest version now).
    pub reference: Option<VersionSelector>,
    /// One or more checks, each `{"kind": "profile" | "quality" | "drift" | "fairness", options}`.
    #[schema(value_type = Vec<Object>)]
    pub checks: Vec<serde_json::Value>,
    /// Run on every new version of the dataset (default true).
    #[serde(default = "yes")]
    pub on_new_version: bool,
    /// Also run every this many seconds (at least 60).
    pub interval_seconds: Option<i64>,
    /// Whether it runs by itself (default true).
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// Body of `PATCH .../monitors/{monitor}`; absent fields stay as they are, `null` clears the
/// reference or the schedule.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMonitor {
    /// New reference version, or `null` for none.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    #[schema(value_type = Option<VersionSelector>)]
    pub reference: Option<Option<VersionSelector>>,
    /// New checks.
    #[schema(value_type = Option<Vec<Object>>)]
    pub checks: Option<Vec<serde_json::Value>>,
    /// Run on every new version.
    pub on_new_version: Option<bool>,
    /// New interval, or `null` for no schedule.
    #[serde(default, deserialize_with = "crate::wire::double_option")]
    #[schema(value_type = Option<i64>)]
    pub interval_seconds: Option<Option<i64>>,
    /// Enable or disable.
    pub enabled: Option<bool>,
}

/// Checks every check of a monitor; drift needs a reference.
fn validate_checks(checks: &[serde_json::Value], has_reference: bool) -> ApiResult<()> {
    if checks.is_empty() {
        return Err(ApiError::bad_request("a monitor needs at least one check"));
    }
    for (i, raw) in checks.iter().enumerate() {
        let spec = CheckSpec::from_json(&format!("check {}", i + 1), raw)?;
        if spec.needs_reference() && !has_reference {
            return Err(ApiError::bad_request(format!(
                "check {} ({}) needs `reference`: the version to compare with",
                i + 1,
                spec.kind()
            )));
        }
    }
    Ok(())
}

type MonitorPath = Path<(String, String)>;

/// Creates a monitor (maintainers).
#[utoipa::path(post, path = "/api/v1/projects/{project}/monitors", tag = "monitoring", request_body = CreateMonitor,
    params(("project" = String, Path)),
    responses((status = 201, body = MonitorResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_monitor(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
    Json(body): Json<CreateMonitor>,
) -> ApiResult<(StatusCode, Json<MonitorResponse>)> {
    caller
        .authorize(&state, Action::MonitorManage, &Target::project(&project))
        .await?;
    validate_checks(&body.checks, body.reference.is_some())?;
    let mut datasets = vec![state.get_dataset(&project, &body.dataset).await?];
    let reference = match &body.reference {
        Some(selector) => {
            let version = resolve(&state, &project, &body.dataset, selector).await?;
            if version.dataset != body.dataset {
                datasets.push(state.get_dataset(&project, &version.dataset).await?);
            }
            Some(version.id)
        }
        None => None,
    };
    // The worker runs the checks with the creator's access: the creator must be able to read
    // the data themselves.
    authorize_datasets(&state, &caller, Action::DatasetReadData, &datasets).await?;
    let monitor = state
        .create_monitor(
            &NewMonitor {
                project: project.clone(),
                name: body.name,
                dataset: body.dataset,
                reference_version_id: reference,
                checks: serde_json::Value::Array(body.checks),
                on_new_version: body.on_new_version,
                interval_seconds: body.interval_seconds,
                enabled: body.enabled,
            },
            &caller.actor,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(monitor.into())))
}

/// Lists a project's monitors.
#[utoipa::path(get, path = "/api/v1/projects/{project}/monitors", tag = "monitoring",
    params(("project" = String, Path), PageQuery),
    responses((status = 200, body = ListResponse<MonitorResponse>), (status = 404, body = ErrorBody)))]
pub async fn list_monitors(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<ListResponse<MonitorResponse>>> {
    caller
        .authorize(&state, Action::MonitorRead, &Target::project(&project))
        .await?;
    let mut page = state.list_monitors(&project, &page.request()?).await?;
    let mut visible = Vec::with_capacity(page.items.len());
    for monitor in page.items.drain(..) {
        if may_see_all(&state, &caller, &monitor_datasets(&state, &monitor).await?)? {
            visible.push(monitor);
        }
    }
    page.items = visible;
    Ok(Json(ListResponse::from_page(page, MonitorResponse::from)))
}

/// Reads a monitor.
#[utoipa::path(get, path = "/api/v1/projects/{project}/monitors/{monitor}", tag = "monitoring",
    params(("project" = String, Path), ("monitor" = String, Path)),
    responses((status = 200, body = MonitorResponse), (status = 404, body = ErrorBody)))]
pub async fn get_monitor(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, name)): MonitorPath,
) -> ApiResult<Json<MonitorResponse>> {
    caller
        .authorize(&state, Action::MonitorRead, &Target::project(&project))
        .await?;
    let monitor = state.monitor(&project, &name).await?;
    authorize_monitor(&state, &caller, Action::ReportRead, &monitor).await?;
    Ok(Json(monitor.into()))
}

/// Changes a monitor (maintainers).
#[utoipa::path(patch, path = "/api/v1/projects/{project}/monitors/{monitor}", tag = "monitoring", request_body = UpdateMonitor,
    params(("project" = String, Path), ("monitor" = String, Path)),
    responses((status = 200, body = MonitorResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_monitor(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, name)): MonitorPath,
    Json(body): Json<UpdateMonitor>,
) -> ApiResult<Json<MonitorResponse>> {
    caller
        .authorize(&state, Action::MonitorManage, &Target::project(&project))
        .await?;
    let current = state.monitor(&project, &name).await?;
    let reference = match &body.reference {
        None => None,
        Some(None) => Some(None),
        Some(Some(selector)) => Some(Some(
            resolve(&state, &project, &current.dataset, selector)
                .await?
                .id,
        )),
    };
    let has_reference = match reference {
        Some(r) => r.is_some(),
        None => current.reference_version_id.is_some(),
    };
    // The changed monitor runs with the caller's access: they must be able to read its data.
    let changed = Monitor {
        reference_version_id: reference.unwrap_or(current.reference_version_id),
        ..current.clone()
    };
    authorize_monitor(&state, &caller, Action::DatasetReadData, &changed).await?;
    let checks = match body.checks {
        Some(checks) => checks,
        None => current.checks.as_array().cloned().unwrap_or_default(),
    };
    validate_checks(&checks, has_reference)?;
    let update = MonitorUpdate {
        reference_version_id: reference,
        checks: Some(serde_json::Value::Array(checks)),
        on_new_version: body.on_new_version,
        interval_seconds: body.interval_seconds,
        enabled: body.enabled,
    };
    let monitor = state
        .update_monitor(&project, &name, &update, &caller.actor)
        .await?;
    Ok(Json(monitor.into()))
}

/// Deletes a monitor with its jobs and alerts; its reports stay (maintainers cleared for its
/// data, as for changing it).
#[utoipa::path(delete, path = "/api/v1/projects/{project}/monitors/{monitor}", tag = "monitoring",
    params(("project" = String, Path), ("monitor" = String, Path)),
    responses((status = 204, description = "deleted"), (status = 404, body = ErrorBody)))]
pub async fn delete_monitor(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, name)): MonitorPath,
) -> ApiResult<StatusCode> {
    caller
        .authorize(&state, Action::MonitorManage, &Target::project(&project))
        .await?;
    let monitor = state.monitor(&project, &name).await?;
    authorize_monitor(&state, &caller, Action::DatasetReadData, &monitor).await?;
    state.delete_monitor(&project, &name, &caller.actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Body of `POST .../monitors/{monitor}/runs`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunMonitor {
    /// The version of the monitored dataset to check; the latest when the job runs if absent.
    pub version: Option<i64>,
}

/// Queues a run of a monitor now (maintainers); a worker runs it and records its reports.
/// The body is optional.
#[utoipa::path(post, path = "/api/v1/projects/{project}/monitors/{monitor}/runs", tag = "monitoring", request_body = RunMonitor,
    params(("project" = String, Path), ("monitor" = String, Path)),
    responses((status = 202, body = JobResponse), (status = 404, body = ErrorBody)))]
pub async fn run_monitor(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, name)): MonitorPath,
    body: axum::body::Body,
) -> ApiResult<(StatusCode, Json<JobResponse>)> {
    caller
        .authorize(&state, Action::MonitorManage, &Target::project(&project))
        .await?;
    let body: RunMonitor = read_optional_json_body(&state, body).await?;
    let monitor = state.monitor(&project, &name).await?;
    authorize_monitor(&state, &caller, Action::DatasetReadData, &monitor).await?;
    let version = match body.version {
        Some(v) => Some(
            state
                .get_dataset_version(&project, &monitor.dataset, v)
                .await?
                .id,
        ),
        None => None,
    };
    let job = state
        .enqueue_monitor_run(&project, &name, version, &caller.actor)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(job.into())))
}

/// A run of a monitor in the queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobResponse {
    /// Id.
    pub id: i64,
    /// Project name.
    pub project: String,
    /// Monitor name.
    pub monitor: String,
    /// The dataset version to check (absent: the latest when it runs).
    pub dataset_version_id: Option<i64>,
    /// `manual`, `new_version` or `schedule`.
    pub trigger: String,
    /// `queued`, `running`, `succeeded` or `failed`.
    pub state: String,
    /// Attempts so far.
    pub attempts: i64,
    /// Attempts allowed.
    pub max_attempts: i64,
    /// Not run before this time.
    pub run_after: i64,
    /// The worker running it (or that last ran it).
    pub worker: Option<String>,
    /// The report that decided its outcome.
    pub report_id: Option<i64>,
    /// The last failure.
    pub error: Option<String>,
    /// Who queued it.
    pub created_by: String,
    /// When.
    pub created_at: i64,
    /// When it was last started.
    pub started_at: Option<i64>,
    /// When it finished.
    pub finished_at: Option<i64>,
}

impl From<Job> for JobResponse {
    fn from(j: Job) -> Self {
        Self {
            id: j.id,
            project: j.project,
            monitor: j.monitor,
            dataset_version_id: j.dataset_version_id,
            trigger: j.trigger,
            state: j.state,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            run_after: j.run_after,
            worker: j.lease_owner,
            report_id: j.report_id,
            error: j.error,
            created_by: j.created_by,
            created_at: j.created_at,
            started_at: j.started_at,
            finished_at: j.finished_at,
        }
    }
}

/// `?monitor=` and paging of the job list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobQuery {
    /// Only this monitor's jobs.
    pub monitor: Option<String>,
    /// Items per page (1..=1000, default 100).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Lists a project's monitor jobs, newest first.
#[utoipa::path(get, path = "/api/v1/projects/{project}/jobs", tag = "monitoring",
    params(("project" = String, Path), JobQuery),
    responses((status = 200, body = ListResponse<JobResponse>), (status = 404, body = ErrorBody)))]
pub async fn list_jobs(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
    Query(query): Query<JobQuery>,
) -> ApiResult<Json<ListResponse<JobResponse>>> {
    caller
        .authorize(&state, Action::MonitorRead, &Target::project(&project))
        .await?;
    let page = PageQuery::request_of(query.limit, query.cursor)?;
    let mut jobs = state
        .list_jobs(&project, query.monitor.as_deref(), &page)
        .await?;
    let items = std::mem::take(&mut jobs.items);
    jobs.items = MonitorVisibility::default()
        .retain(&state, &caller, &project, items, |j| &j.monitor)
        .await?;
    Ok(Json(ListResponse::from_page(jobs, JobResponse::from)))
}

/// Reads a job.
#[utoipa::path(get, path = "/api/v1/projects/{project}/jobs/{id}", tag = "monitoring",
    params(("project" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = JobResponse), (status = 404, body = ErrorBody)))]
pub async fn get_job(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, id)): Path<(String, i64)>,
) -> ApiResult<Json<JobResponse>> {
    caller
        .authorize(&state, Action::MonitorRead, &Target::project(&project))
        .await?;
    let job = state.job(&project, id).await?;
    let monitor = state.monitor(&project, &job.monitor).await?;
    authorize_monitor(&state, &caller, Action::ReportRead, &monitor).await?;
    Ok(Json(job.into()))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_monitor, list_monitors))
        .routes(routes!(get_monitor, update_monitor, delete_monitor))
        .routes(routes!(run_monitor))
        .routes(routes!(list_jobs))
        .routes(routes!(get_job))
}
