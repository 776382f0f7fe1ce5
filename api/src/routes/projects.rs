//! `/api/v1/projects`: the namespace for everything else.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use verity_store::model::Project;

use verity_policy::Action;

use crate::auth::{Caller, Target};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
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
    caller: Caller,
    Json(body): Json<CreateProject>,
) -> ApiResult<(StatusCode, Json<ProjectResponse>)> {
    caller
        .authorize(&state, Action::ProjectCreate, &Target::global("project"))
        .await?;
    let project = state
        .create_project(&body.name, &body.description, &caller.actor)
        .await?;
    Ok((StatusCode::CREATED, Json(project.into())))
}

/// Lists the projects the caller may read (all of them for administrators).
#[utoipa::path(get, path = "/api/v1/projects", tag = "projects", params(PageQuery),
    responses((status = 200, body = ListResponse<ProjectResponse>), (status = 400, body = ErrorBody)))]
pub async fn list_projects(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<ListResponse<ProjectResponse>>> {
    // Listing is open to every authenticated caller; each project is shown only to those
    // who may read it (a page can hold fewer items than the limit).
    caller.authorize_self();
    let mut page = state.list_projects(&page.request()?).await?;
    let mut visible = Vec::with_capacity(page.items.len());
    for project in page.items {
        if caller.can(&state, Action::ProjectRead, &Target::project(&project.name))? {
            visible.push(project);
        }
    }
    page.items = visible;
    Ok(Json(ListResponse::from_page(page, ProjectResponse::from)))
}

/// Reads a project.
#[utoipa::path(get, path = "/api/v1/projects/{project}", tag = "projects",
    params(("project" = String, Path, description = "Project name")),
    responses((status = 200, body = ProjectResponse), (status = 404, body = ErrorBody)))]
pub async fn get_project(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
) -> ApiResult<Json<ProjectResponse>> {
    caller
        .authorize(&state, Action::ProjectRead, &Target::project(&project))
        .await?;
    Ok(Json(state.get_project(&project).await?.into()))
}

/// Changes a project's description.
#[utoipa::path(patch, path = "/api/v1/projects/{project}", tag = "projects", request_body = UpdateProject,
    params(("project" = String, Path, description = "Project name")),
    responses((status = 200, body = ProjectResponse), (status = 404, body = ErrorBody)))]
pub async fn update_project(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
    Json(body): Json<UpdateProject>,
) -> ApiResult<Json<ProjectResponse>> {
    caller
        .authorize(&state, Action::ProjectUpdate, &Target::project(&project))
        .await?;
    Ok(Json(
        state
            .update_project(&project, &body.description, &caller.actor)
            .await?
            .into(),
    ))
}

/// What the caller may do in a project, so that a client offers only those actions (the
/// server still decides every request).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectAccess {
    /// Project name.
    pub project: String,
    /// The caller's roles here (project roles and global ones such as `admin`).
    pub roles: Vec<String>,
    /// Actions allowed on anything in the project (of public sensitivity; raw data also
    /// needs clearance for the dataset's sensitivity).
    pub actions: Vec<String>,
    /// Further actions allowed on what the caller owns (e.g. `run.write` on their own runs).
    pub own_actions: Vec<String>,
}

/// The caller's roles and allowed actions in a project.
#[utoipa::path(get, path = "/api/v1/projects/{project}/access", tag = "projects",
    params(("project" = String, Path, description = "Project name")),
    responses((status = 200, body = ProjectAccess), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_access(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
) -> ApiResult<Json<ProjectAccess>> {
    caller
        .authorize(&state, Action::ProjectRead, &Target::project(&project))
        .await?;
    state.get_project(&project).await?;
    let anything = Target::project(&project);
    let owned = Target {
        owner: Some(caller.name.clone()),
        ..Target::project(&project)
    };
    let (mut actions, mut own_actions) = (Vec::new(), Vec::new());
    for action in Action::ALL.iter().filter(|a| !a.is_global()) {
        if caller.can(&state, *action, &anything)? {
            actions.push(action.as_str().to_owned());
        } else if caller.can(&state, *action, &owned)? {
            own_actions.push(action.as_str().to_owned());
        }
    }
    let mut roles: Vec<String> = state
        .authorizer
        .roles(&caller.name, &project)
        .into_iter()
        .chain(state.authorizer.roles(&caller.name, "*"))
        .map(|role| role.as_str().to_owned())
        .collect();
    roles.sort();
    roles.dedup();
    Ok(Json(ProjectAccess {
        project,
        roles,
        actions,
        own_actions,
    }))
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_project, list_projects))
        .routes(routes!(get_project, update_project))
        .routes(routes!(get_access))
}
