//! `/api/v1/projects`: the namespace for everything else.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use verity_store::model::Project;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Actor, Json, Path, Query};
use crate::state::AppState;
use crate::wire::{ListResponse, PageQuery};

/// A project.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectResponse {
    /// Unique name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Who created it.
    pub created_by: String,
    /// When (ms since the Unix epoch).
    pub created_at: i64,
}

impl From<Project> for ProjectResponse {
    fn from(p: Project) -> Self {
        Self {
            name: p.name,
            description: p.description,
            created_by: p.created_by,
            created_at: p.created_at,
        }
    }
}

/// Body of `POST /api/v1/projects`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProject {
    /// Unique name: 1 to 256 characters, no `/` or control characters.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
}

/// Body of `PATCH /api/v1/projects/{project}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProject {
    /// New description.
    pub description: String,
}

/// Creates a project.
#[utoipa::path(post, path = "/api/v1/projects", tag = "projects", request_body = CreateProject,
    responses((status = 201, body = ProjectResponse), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_project(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Json(body): Json<CreateProject>,
) -> ApiResult<(StatusCode, Json<ProjectResponse>)> {
    let project = state
        .create_project(&body.name, &body.description, &actor)
        .await?;
    Ok((StatusCode::CREATED, Json(project.into())))
}

/// Lists projects.
#[utoipa::path(get, path = "/api/v1/projects", tag = "projects", params(PageQuery),
    responses((status = 200, body = ListResponse<ProjectResponse>), (status = 400, body = ErrorBody)))]
pub async fn list_projects(
    State(state): State<AppState>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<ListResponse<ProjectResponse>>> {
    let page = state.list_projects(&page.request()?).await?;
    Ok(Json(ListResponse::from_page(page, ProjectResponse::from)))
}

/// Reads a project.
#[utoipa::path(get, path = "/api/v1/projects/{project}", tag = "projects",
    params(("project" = String, Path, description = "Project name")),
    responses((status = 200, body = ProjectResponse), (status = 404, body = ErrorBody)))]
pub async fn get_project(
    State(state): State<AppState>,
    Path(project): Path<String>,
) -> ApiResult<Json<ProjectResponse>> {
    Ok(Json(state.get_project(&project).await?.into()))
}

/// Changes a project's description.
#[utoipa::path(patch, path = "/api/v1/projects/{project}", tag = "projects", request_body = UpdateProject,
    params(("project" = String, Path, description = "Project name")),
    responses((status = 200, body = ProjectResponse), (status = 404, body = ErrorBody)))]
pub async fn update_project(
    State(state): State<AppState>,
    Path(project): Path<String>,
    Json(body): Json<UpdateProject>,
) -> ApiResult<Json<ProjectResponse>> {
    Ok(Json(
        state
            .update_project(&project, &body.description)
            .await?
            .into(),
    ))
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_project, list_projects))
        .routes(routes!(get_project, update_project))
}
