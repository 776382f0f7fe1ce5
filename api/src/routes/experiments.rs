//! `/api/v1/projects/{project}/experiments`: experiments, soft-deletable.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use verity_store::model::{Experiment, ViewType};

use crate::error::{ApiResult, ErrorBody};
use verity_policy::Action;

use crate::auth::{Caller, Target};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;
use crate::wire::{KeyValue, ListResponse};

/// An experiment.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExperimentResponse {
    /// Global id.
    pub id: i64,
    /// Project name.
    pub project: String,
    /// Name, unique in the project.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Soft-deletion time, when deleted.
    pub deleted_at: Option<i64>,
    /// Tags (set by MLflow clients; sorted by key).
    pub tags: Vec<KeyValue>,
    /// Who created it.
    pub created_by: String,
    /// When (ms since the Unix epoch).
    pub created_at: i64,
}

impl ExperimentResponse {
    fn new(e: Experiment, tags: Vec<verity_store::model::KeyValue>) -> Self {
        Self {
            id: e.id,
            project: e.project,
            name: e.name,
            description: e.description,
            deleted_at: e.deleted_at,
            tags: tags.into_iter().map(Into::into).collect(),
            created_by: e.created_by,
            created_at: e.created_at,
        }
    }
}

/// Experiments as answered, with their tags (one query for all of them).
async fn with_tags(state: &AppState, found: Vec<Experiment>) -> ApiResult<Vec<ExperimentResponse>> {
    let ids: Vec<i64> = found.iter().map(|e| e.id).collect();
    let mut tags = state.experiment_tags(&ids).await?;
    Ok(found
        .into_iter()
        .map(|e| {
            let t = tags.remove(&e.id).unwrap_or_default();
            ExperimentResponse::new(e, t)
        })
        .collect())
}

/// One experiment as answered.
async fn one(state: &AppState, found: Experiment) -> ApiResult<Json<ExperimentResponse>> {
    let tags = state
        .experiment_tags(&[found.id])
        .await?
        .remove(&found.id)
        .unwrap_or_default();
    Ok(Json(ExperimentResponse::new(found, tags)))
}

/// Which entities a listing includes.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum View {
    /// Not deleted (default).
    #[default]
    ActiveOnly,
    /// Deleted only.
    DeletedOnly,
    /// Everything.
    All,
}

impl From<View> for ViewType {
    fn from(v: View) -> Self {
        match v {
            View::ActiveOnly => ViewType::ActiveOnly,
            View::DeletedOnly => ViewType::DeletedOnly,
            View::All => ViewType::All,
        }
    }
}

/// Query of `GET .../experiments`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListExperimentsQuery {
    /// `active_only` (default), `deleted_only` or `all`.
    #[serde(default)]
    pub view: View,
    /// Items per page (1..=1000, default 100).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Body of `POST .../experiments`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateExperiment {
    /// Name, unique in the project.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
}

/// Body of `PATCH .../experiments/{experiment}`: rename and/or describe.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateExperiment {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
}

type ExperimentPath = Path<(String, i64)>;

/// Creates an experiment.
#[utoipa::path(post, path = "/api/v1/projects/{project}/experiments", tag = "experiments", request_body = CreateExperiment,
    params(("project" = String, Path)),
    responses((status = 201, body = ExperimentResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_experiment(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
    Json(body): Json<CreateExperiment>,
) -> ApiResult<(StatusCode, Json<ExperimentResponse>)> {
    caller
        .authorize(&state, Action::ExperimentCreate, &Target::project(&project))
        .await?;
    let experiment = state
        .create_experiment(&project, &body.name, &body.description, &caller.actor)
        .await?;
    Ok((StatusCode::CREATED, one(&state, experiment).await?))
}

/// Lists a project's experiments.
#[utoipa::path(get, path = "/api/v1/projects/{project}/experiments", tag = "experiments",
    params(("project" = String, Path), ListExperimentsQuery),
    responses((status = 200, body = ListResponse<ExperimentResponse>), (status = 404, body = ErrorBody)))]
pub async fn list_experiments(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
    Query(query): Query<ListExperimentsQuery>,
) -> ApiResult<Json<ListResponse<ExperimentResponse>>> {
    caller
        .authorize(&state, Action::ExperimentRead, &Target::project(&project))
        .await?;
    let page = verity_store::PageRequest::new(query.limit, query.cursor.as_deref())?;
    let page = state
        .list_experiments(&project, query.view.into(), &page)
        .await?;
    Ok(Json(ListResponse {
        items: with_tags(&state, page.items).await?,
        next_cursor: page.next_cursor,
    }))
}

/// Reads an experiment.
#[utoipa::path(get, path = "/api/v1/projects/{project}/experiments/{experiment}", tag = "experiments",
    params(("project" = String, Path), ("experiment" = i64, Path, description = "Experiment id")),
    responses((status = 200, body = ExperimentResponse), (status = 404, body = ErrorBody)))]
pub async fn get_experiment(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, id)): ExperimentPath,
) -> ApiResult<Json<ExperimentResponse>> {
    caller
        .authorize(&state, Action::ExperimentRead, &Target::project(&project))
        .await?;
    one(&state, state.get_experiment(&project, id).await?).await
}

/// Renames an experiment or changes its description.
#[utoipa::path(patch, path = "/api/v1/projects/{project}/experiments/{experiment}", tag = "experiments", request_body = UpdateExperiment,
    params(("project" = String, Path), ("experiment" = i64, Path)),
    responses((status = 200, body = ExperimentResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_experiment(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, id)): ExperimentPath,
    Json(body): Json<UpdateExperiment>,
) -> ApiResult<Json<ExperimentResponse>> {
    caller
        .authorize(&state, Action::ExperimentUpdate, &Target::project(&project))
        .await?;
    let experiment = state
        .update_experiment(
            &project,
            id,
            body.name.as_deref(),
            body.description.as_deref(),
            &caller.actor,
        )
        .await?;
    one(&state, experiment).await
}

/// Soft-deletes an experiment (restorable).
#[utoipa::path(delete, path = "/api/v1/projects/{project}/experiments/{experiment}", tag = "experiments",
    params(("project" = String, Path), ("experiment" = i64, Path)),
    responses((status = 200, body = ExperimentResponse), (status = 404, body = ErrorBody)))]
pub async fn delete_experiment(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, id)): ExperimentPath,
) -> ApiResult<Json<ExperimentResponse>> {
    caller
        .authorize(&state, Action::ExperimentDelete, &Target::project(&project))
        .await?;
    let experiment = state
        .set_experiment_deleted(&project, id, true, &caller.actor)
        .await?;
    one(&state, experiment).await
}

/// Restores a soft-deleted experiment.
#[utoipa::path(post, path = "/api/v1/projects/{project}/experiments/{experiment}/restore", tag = "experiments",
    params(("project" = String, Path), ("experiment" = i64, Path)),
    responses((status = 200, body = ExperimentResponse), (status = 404, body = ErrorBody)))]
pub async fn restore_experiment(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, id)): ExperimentPath,
) -> ApiResult<Json<ExperimentResponse>> {
    caller
        .authorize(&state, Action::ExperimentDelete, &Target::project(&project))
        .await?;
    let experiment = state
        .set_experiment_deleted(&project, id, false, &caller.actor)
        .await?;
    one(&state, experiment).await
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_experiment, list_experiments))
        .routes(routes!(
            get_experiment,
            update_experiment,
            delete_experiment
        ))
        .routes(routes!(restore_experiment))
}
