//! `/api/v1/projects/{project}/evaluations` and `.../comparisons`: evaluate a registered model
//! version on a dataset version, and compare a challenger with the version an alias points to.
//! Results are reports (kinds `evaluation` and `comparison`), read with the report routes.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use verity_monitor::check::NoProgress;
use verity_monitor::model::{DeviceChoice, EvaluationConfig};
use verity_policy::Action;

use super::checks::ReportResponse;
use crate::auth::{Caller, Target};
use crate::checks;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::evaluations::{EvaluationRequest, run_comparison, run_evaluation};
use crate::extract::{Json, Path};
use crate::state::AppState;

/// Body of `POST .../evaluations`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunEvaluation {
    /// The registered model.
    pub model: String,
    /// Its version (give this or `alias`).
    pub version: Option<i64>,
    /// An alias naming the version (give this or `version`).
    pub alias: Option<String>,
    /// The dataset to evaluate on.
    pub dataset: String,
    /// Its version; the latest when absent.
    pub dataset_version: Option<i64>,
    /// `{"label": ..., "sensitive": [...], "positive_label", "batch_size", "calibration_bins",
    /// "conditions"}` as in docs/models.md.
    #[schema(value_type = Object)]
    pub evaluation: serde_json::Value,
    /// `cpu` (default), `cuda` or `auto`.
    pub device: Option<String>,
    /// The dataset the predictions become a version of; `<model>-predictions` by default.
    pub predictions_dataset: Option<String>,
}

/// Body of `POST .../comparisons`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunComparison {
    /// The registered model.
    pub model: String,
    /// The challenger's version number.
    pub version: i64,
    /// The alias naming the version to beat; `champion` by default.
    pub alias: Option<String>,
    /// The dataset both are evaluated on.
    pub dataset: String,
    /// Its version; the latest when absent.
    pub dataset_version: Option<i64>,
    /// The evaluation options, as for `POST .../evaluations`.
    #[schema(value_type = Object)]
    pub evaluation: serde_json::Value,
    /// `cpu` (default), `cuda` or `auto`.
    pub device: Option<String>,
    /// The dataset the predictions become versions of; `<model>-predictions` by default.
    pub predictions_dataset: Option<String>,
}

/// A comparison and the two evaluations it compares.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComparisonResponse {
    /// The comparison report (its result holds the differences).
    pub comparison: ReportResponse,
    /// The challenger's evaluation report.
    pub challenger: ReportResponse,
    /// The champion's evaluation report.
    pub champion: ReportResponse,
}

/// The parts both bodies share.
struct Common<'a> {
    model: verity_store::model::ModelVersion,
    dataset: &'a str,
    dataset_version: Option<i64>,
    evaluation: &'a serde_json::Value,
    device: Option<&'a str>,
    predictions_dataset: Option<&'a str>,
}

/// Builds a request and authorizes its data (after [`authorize_run`]): clearance to read the
/// evaluated data, and `dataset.write` on the predictions dataset (`dataset.create` when it
/// does not exist yet).
async fn request(
    state: &AppState,
    caller: &Caller,
    project: &str,
    common: Common<'_>,
) -> ApiResult<EvaluationRequest> {
    let config: EvaluationConfig = serde_json::from_value(common.evaluation.clone())
        .map_err(|e| ApiError::bad_request(format!("evaluation: {e}")))?;
    config.validate()?;
    let device: DeviceChoice = common.device.unwrap_or("cpu").parse()?;
    let dataset = checks::version(state, project, common.dataset, common.dataset_version).await?;
    let found = state.get_dataset(project, &dataset.dataset).await?;
    caller
        .authorize(state, Action::DatasetReadData, &Target::dataset(&found))
        .await?;
    let predictions_dataset = common.predictions_dataset.map_or_else(
        || EvaluationRequest::default_predictions_dataset(&common.model.model),
        str::to_owned,
    );
    match state.get_dataset(project, &predictions_dataset).await {
        Ok(target) => {
            caller
                .authorize(state, Action::DatasetWrite, &Target::dataset(&target))
                .await?;
        }
        Err(e) if e.kind() == verity_store::ErrorKind::NotFound => {
            caller
                .authorize(state, Action::DatasetCreate, &Target::project(project))
                .await?;
        }
        Err(e) => return Err(e.into()),
    }
    Ok(EvaluationRequest {
        model: common.model,
        dataset,
        config,
        device,
        predictions_dataset,
        limits: state.check_limits.clone(),
    })
}

/// `check.run` and `model.read` in the project.
async fn authorize_run(state: &AppState, caller: &Caller, project: &str) -> ApiResult<()> {
    for action in [Action::CheckRun, Action::ModelRead] {
        caller
            .authorize(state, action, &Target::project(project))
            .await?;
    }
    Ok(())
}

/// Evaluates a model version on a dataset version: writes the predictions as a new version of
/// the predictions dataset and stores an `evaluation` report (metrics overall, per group, and
/// fairness for binary models), linked in lineage to the model, the data and the predictions.
#[utoipa::path(post, path = "/api/v1/projects/{project}/evaluations", tag = "monitoring", request_body = RunEvaluation,
    params(("project" = String, Path)),
    responses((status = 201, body = ReportResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn run_evaluation_route(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
    Json(body): Json<RunEvaluation>,
) -> ApiResult<(StatusCode, Json<ReportResponse>)> {
    authorize_run(&state, &caller, &project).await?;
    let model = match (body.version, &body.alias) {
        (Some(version), None) => {
            state
                .get_model_version(&project, &body.model, version)
                .await?
        }
        (None, Some(alias)) => {
            state
                .resolve_alias(&project, &body.model, alias, None)
                .await?
        }
        _ => {
            return Err(ApiError::bad_request(
                "name the model version with either `version` or `alias`",
            ));
        }
    };
    let common = Common {
        model,
        dataset: &body.dataset,
        dataset_version: body.dataset_version,
        evaluation: &body.evaluation,
        device: body.device.as_deref(),
        predictions_dataset: body.predictions_dataset.as_deref(),
    };
    let request = request(&state, &caller, &project, common).await?;
    let (store, actor) = (state.clone(), caller.actor.clone());
    // In a task of its own: a client that disconnects does not cut the storing short.
    let evaluated =
        tokio::spawn(async move { run_evaluation(&store, &request, &actor, &NoProgress).await })
            .await
            .map_err(task_failed)??;
    Ok((
        StatusCode::CREATED,
        Json(ReportResponse::new(evaluated.report, true)),
    ))
}

/// Evaluates a challenger version and the version an alias points to on the same dataset
/// version, and stores both evaluations and a `comparison` report of their differences
/// (status `pass` when the challenger is at least as good on the primary figure, else `warn`).
#[utoipa::path(post, path = "/api/v1/projects/{project}/comparisons", tag = "monitoring", request_body = RunComparison,
    params(("project" = String, Path)),
    responses((status = 201, body = ComparisonResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn run_comparison_route(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
    Json(body): Json<RunComparison>,
) -> ApiResult<(StatusCode, Json<ComparisonResponse>)> {
    authorize_run(&state, &caller, &project).await?;
    let model = state
        .get_model_version(&project, &body.model, body.version)
        .await?;
    let alias = body.alias.as_deref().unwrap_or("champion");
    // The champion must exist before anything runs.
    state
        .resolve_alias(&project, &body.model, alias, None)
        .await?;
    let common = Common {
        model,
        dataset: &body.dataset,
        dataset_version: body.dataset_version,
        evaluation: &body.evaluation,
        device: body.device.as_deref(),
        predictions_dataset: body.predictions_dataset.as_deref(),
    };
    let request = request(&state, &caller, &project, common).await?;
    let (store, actor, alias) = (state.clone(), caller.actor.clone(), alias.to_owned());
    let compared =
        tokio::spawn(
            async move { run_comparison(&store, &request, &alias, &actor, &NoProgress).await },
        )
        .await
        .map_err(task_failed)??;
    Ok((
        StatusCode::CREATED,
        Json(ComparisonResponse {
            comparison: ReportResponse::new(compared.report, true),
            challenger: ReportResponse::new(compared.challenger, true),
            champion: ReportResponse::new(compared.champion, true),
        }),
    ))
}

fn task_failed(e: tokio::task::JoinError) -> ApiError {
    verity_monitor::Error::Internal(format!("the evaluation task failed: {e}")).into()
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(run_evaluation_route))
        .routes(routes!(run_comparison_route))
}
