//! `/api/v1/projects/{project}/checks` and `.../reports`: run a check on dataset versions and
//! read the stored reports.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use verity_monitor::check::CheckSpec;
use verity_monitor::masking::{ColumnMasks, Masker, mask_report};
use verity_policy::Action;
use verity_store::model::DatasetVersion;
use verity_store::{Report, ReportFilter};

use crate::auth::{Caller, Target};
use crate::checks::{self, Inputs};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::routes::clearance::{
    DataView, authorize_datasets, data_view, merge_masks, report_dataset_names, report_datasets,
    visible_masks,
};
use crate::state::AppState;
use crate::wire::{ListResponse, PageQuery};

/// A stored check report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportResponse {
    /// Id (also its lineage node id).
    pub id: i64,
    /// Project name.
    pub project: String,
    /// `profile`, `quality`, `drift`, `fairness`, `evaluation` or `comparison`.
    pub kind: String,
    /// `pass`, `warn`, `fail`, or `error` (a monitor's check that could not judge the data).
    pub status: String,
    /// One line for people.
    pub summary: String,
    /// The judged dataset.
    pub dataset: String,
    /// Its version number.
    pub version: i64,
    /// The judged dataset version's id.
    pub dataset_version_id: i64,
    /// The reference version's id (drift).
    pub reference_version_id: Option<i64>,
    /// The monitor that ran it.
    pub monitor: Option<String>,
    /// The job that ran it.
    pub job_id: Option<i64>,
    /// `manual`, `new_version` or `schedule`.
    pub trigger: String,
    /// Who recorded it (`system:monitor` for monitors).
    pub created_by: String,
    /// When (ms since the Unix epoch).
    pub created_at: i64,
    /// How long the check took, in milliseconds.
    pub duration_ms: i64,
    /// The evaluated model (evaluations and comparisons).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Its version number (the challenger's, for a comparison).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_version: Option<i64>,
    /// Its version's id (a lineage node).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_version_id: Option<i64>,
    /// The version a comparison measured it against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_model_version_id: Option<i64>,
    /// The predictions dataset version an evaluation wrote.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_version_id: Option<i64>,
    /// The check as run, `{"kind": ..., options}`.
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    /// The figures (absent in lists: read the report).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    /// Whether this is the masked view (the reader lacks clearance for a dataset whose owner
    /// masked or hid columns): their values appear as pseudonyms, or not at all.
    pub masked: bool,
}

impl ReportResponse {
    pub(crate) fn new(r: Report, with_result: bool) -> Self {
        Self {
            id: r.id,
            project: r.project,
            kind: r.kind,
            status: r.status,
            summary: r.summary,
            dataset: r.dataset,
            version: r.version,
            dataset_version_id: r.dataset_version_id,
            reference_version_id: r.reference_version_id,
            monitor: r.monitor,
            job_id: r.job_id,
            trigger: r.trigger,
            created_by: r.created_by,
            created_at: r.created_at,
            duration_ms: r.duration_ms,
            model: r.model,
            model_version: r.model_version,
            model_version_id: r.models.model_version_id,
            reference_model_version_id: r.models.reference_model_version_id,
            output_version_id: r.models.output_version_id,
            config: r.config,
            result: with_result.then_some(r.result),
            masked: false,
        }
    }

    /// The masked view of this report under `masker`; `None` for a kind without one.
    fn masked(mut self, masker: &Masker) -> Option<Self> {
        let mut result = self.result.take().unwrap_or(serde_json::Value::Null);
        mask_report(&self.kind, &mut self.config, &mut result, masker).ok()?;
        if !result.is_null() {
            self.result = Some(result);
        }
        self.masked = true;
        Some(self)
    }
}

/// A dataset version named by dataset and version number.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionSelector {
    /// Dataset name; for a reference, the checked dataset when absent.
    pub dataset: Option<String>,
    /// Version number; the latest when absent.
    pub version: Option<i64>,
}

/// Body of `POST .../checks`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunCheck {
    /// The check: `{"kind": "profile" | "quality" | "drift" | "fairness", options}` as in
    /// docs/monitoring.md.
    #[schema(value_type = Object)]
    pub check: serde_json::Value,
    /// The dataset to check.
    pub dataset: String,
    /// Its version; the latest when absent.
    pub version: Option<i64>,
    /// The version to compare with (drift only).
    pub reference: Option<VersionSelector>,
}

/// Resolves a selector to a version (`default_dataset` when it names none).
pub(crate) async fn resolve(
    state: &AppState,
    project: &str,
    default_dataset: &str,
    selector: &VersionSelector,
) -> ApiResult<DatasetVersion> {
    let dataset = selector.dataset.as_deref().unwrap_or(default_dataset);
    Ok(checks::version(state, project, dataset, selector.version).await?)
}

/// Runs a check on a dataset version (and a reference version, for drift) and stores the
/// report. Needs `check.run` and clearance to read the data of every input.
#[utoipa::path(post, path = "/api/v1/projects/{project}/checks", tag = "monitoring", request_body = RunCheck,
    params(("project" = String, Path)),
    responses((status = 201, body = ReportResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn run_check(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
    Json(body): Json<RunCheck>,
) -> ApiResult<(StatusCode, Json<ReportResponse>)> {
    caller
        .authorize(&state, Action::CheckRun, &Target::project(&project))
        .await?;
    let spec = CheckSpec::from_json("check", &body.check)?;
    if body.reference.is_some() && !spec.needs_reference() {
        return Err(crate::error::ApiError::bad_request(format!(
            "a {} check takes no reference",
            spec.kind()
        )));
    }
    let current = checks::version(&state, &project, &body.dataset, body.version).await?;
    let reference = match &body.reference {
        Some(selector) => Some(resolve(&state, &project, &body.dataset, selector).await?),
        None if spec.needs_reference() => {
            return Err(crate::error::ApiError::bad_request(
                "a drift check needs `reference`: the version to compare with",
            ));
        }
        None => None,
    };
    for version in std::iter::once(&current).chain(reference.as_ref()) {
        let dataset = state.get_dataset(&project, &version.dataset).await?;
        caller
            .authorize(&state, Action::DatasetReadData, &Target::dataset(&dataset))
            .await?;
    }
    let inputs = Inputs { current, reference };
    let report = checks::run_manual(
        &state,
        &spec,
        &inputs,
        state.check_limits.clone(),
        &caller.actor,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(ReportResponse::new(report, true))))
}

/// Filters of the report list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// Only this kind.
    pub kind: Option<String>,
    /// Only this status.
    pub status: Option<String>,
    /// Only reports on this dataset.
    pub dataset: Option<String>,
    /// Only reports of this monitor.
    pub monitor: Option<String>,
    /// Only evaluations and comparisons of this registered model.
    pub model: Option<String>,
    /// Items per page (1..=1000, default 100).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Lists a project's reports, newest first, without their figures. Reports on datasets (or
/// against references) above the caller's clearance are left out (a page may then hold fewer
/// items than `limit`).
#[utoipa::path(get, path = "/api/v1/projects/{project}/reports", tag = "monitoring",
    params(("project" = String, Path), ReportQuery),
    responses((status = 200, body = ListResponse<ReportResponse>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_reports(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
    Query(query): Query<ReportQuery>,
) -> ApiResult<Json<ListResponse<ReportResponse>>> {
    caller
        .authorize(&state, Action::MonitorRead, &Target::project(&project))
        .await?;
    let page = PageQuery::request_of(query.limit, query.cursor)?;
    let filter = ReportFilter {
        kind: query.kind,
        status: query.status,
        dataset: query.dataset,
        monitor: query.monitor,
        model: query.model,
        ..ReportFilter::default()
    };
    let mut found = state.list_reports(&project, &filter, &page).await?;
    // Per dataset: in clear (no masks), through its masks, or not at all (`None`).
    let mut visible: HashMap<String, Option<ColumnMasks>> = HashMap::new();
    let mut key = None;
    let mut items = Vec::with_capacity(found.items.len());
    'reports: for report in found.items.drain(..) {
        let mut union = ColumnMasks::new();
        for name in report_dataset_names(&state, &report).await? {
            if !visible.contains_key(&name) {
                let dataset = state.get_dataset(&project, &name).await?;
                let masks = visible_masks(&state, &caller, Action::ReportRead, &dataset).await?;
                visible.insert(name.clone(), masks);
            }
            match visible.get(&name).cloned().flatten() {
                Some(masks) => merge_masks(&mut union, masks),
                None => continue 'reports,
            }
        }
        let response = ReportResponse::new(report, false);
        if union.is_empty() {
            items.push(response);
            continue;
        }
        let key = match key {
            Some(key) => key,
            None => *key.insert(state.mask_key(&project).await?),
        };
        items.extend(response.masked(&Masker::new(key, union)));
    }
    Ok(Json(ListResponse {
        items,
        next_cursor: found.next_cursor,
    }))
}

/// Reads a report with its figures (needs clearance for the judged dataset, and for the
/// reference's dataset when it differs).
#[utoipa::path(get, path = "/api/v1/projects/{project}/reports/{id}", tag = "monitoring",
    params(("project" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = ReportResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_report(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, id)): Path<(String, i64)>,
) -> ApiResult<Json<ReportResponse>> {
    // The project first: whether a report exists is nobody's business outside it.
    caller
        .authorize(&state, Action::MonitorRead, &Target::project(&project))
        .await?;
    let report = state.report(&project, id).await?;
    let datasets = report_datasets(&state, &report).await?;
    let kind = report.kind.clone();
    match data_view(&state, &caller, Action::ReportRead, &datasets).await? {
        DataView::Clear => Ok(Json(ReportResponse::new(report, true))),
        DataView::Masked(masker) => match ReportResponse::new(report, true).masked(&masker) {
            Some(masked) => Ok(Json(masked)),
            // A kind without a masked view is not shown: the refusal is recorded.
            None => {
                authorize_datasets(&state, &caller, Action::ReportRead, &datasets).await?;
                Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    format!("reports of kind '{kind}' have no masked view"),
                ))
            }
        },
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(run_check))
        .routes(routes!(list_reports))
        .routes(routes!(get_report))
}
