//! `/api/v1/projects/{project}/models`: registered models, versions, aliases and alias history.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use verity_store::TagTarget;
use verity_store::model::{AliasEvent, ModelAlias, ModelVersion, RegisteredModel};
use verity_store::{ModelSource, NewModelVersion, VersionRef};

use super::artifacts::FileResponse;
use crate::error::{ApiError, ApiResult, ErrorBody};
use verity_policy::Action;

use crate::auth::{Caller, Target};
use crate::extract::{Json, Path, Query};
use crate::routes::promotion::guard_alias;
use crate::routes::{download, is_json, read_json_body, stage_body};
use crate::state::AppState;
use crate::wire::{KeyValue, ListResponse, PageQuery};

/// A current alias.
#[derive(Debug, Serialize, ToSchema)]
pub struct AliasResponse {
    /// Alias name.
    pub alias: String,
    /// Version it points to.
    pub version: i64,
    /// Who set it.
    pub set_by: String,
    /// When (ms).
    pub set_at: i64,
}

impl From<ModelAlias> for AliasResponse {
    fn from(a: ModelAlias) -> Self {
        Self {
            alias: a.alias,
            version: a.version,
            set_by: a.set_by,
            set_at: a.set_at,
        }
    }
}

/// A registered model.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelResponse {
    /// Project name.
    pub project: String,
    /// Name, unique in the project.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Highest version number (0 when none).
    pub latest_version: i64,
    /// Current aliases.
    pub aliases: Vec<AliasResponse>,
    /// Tags (mutable metadata).
    pub tags: Vec<KeyValue>,
    /// Who created it.
    pub created_by: String,
    /// When (ms).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
}

impl From<RegisteredModel> for ModelResponse {
    fn from(m: RegisteredModel) -> Self {
        Self {
            project: m.project,
            name: m.name,
            description: m.description,
            latest_version: m.latest_version,
            aliases: m.aliases.into_iter().map(Into::into).collect(),
            tags: m.tags.into_iter().map(Into::into).collect(),
            created_by: m.created_by,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A model version.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelVersionResponse {
    /// Global id (the lineage node id).
    pub id: i64,
    /// Project name.
    pub project: String,
    /// Registered model name.
    pub model: String,
    /// Version number, from 1.
    pub version: i64,
    /// Run that produced it.
    pub source_run_id: Option<String>,
    /// Artifact path in the source run.
    pub source_path: Option<String>,
    /// Free text.
    pub description: String,
    /// PENDING_REGISTRATION, FAILED_REGISTRATION or READY.
    pub status: String,
    /// Tags.
    pub tags: Vec<KeyValue>,
    /// Aliases pointing at it.
    pub aliases: Vec<String>,
    /// Its files.
    pub files: Vec<FileResponse>,
    /// Who created it.
    pub created_by: String,
    /// When (ms).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
    /// Why, by whom and when it was retired, if it was (it then takes no alias).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retired: Option<crate::routes::promotion::RetirementResponse>,
}

impl From<ModelVersion> for ModelVersionResponse {
    fn from(v: ModelVersion) -> Self {
        Self {
            id: v.id,
            project: v.project,
            model: v.model,
            version: v.version,
            source_run_id: v.source_run_id,
            source_path: v.source_path,
            description: v.description,
            status: v.status,
            tags: v.tags.into_iter().map(Into::into).collect(),
            aliases: v.aliases,
            files: v.files.into_iter().map(Into::into).collect(),
            created_by: v.created_by,
            created_at: v.created_at,
            updated_at: v.updated_at,
            retired: v.retired.map(Into::into),
        }
    }
}

/// One move of an alias.
#[derive(Debug, Serialize, ToSchema)]
pub struct AliasEventResponse {
    /// Sequence id.
    pub id: i64,
    /// Alias name.
    pub alias: String,
    /// Version before (absent when newly set).
    pub old_version: Option<i64>,
    /// Version after (absent when deleted).
    pub new_version: Option<i64>,
    /// Who moved it.
    pub actor: String,
    /// When (ms).
    pub at: i64,
    /// The gate's verdict the move relied on, when a gate guarded the alias.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub evidence: Option<serde_json::Value>,
}

impl From<AliasEvent> for AliasEventResponse {
    fn from(e: AliasEvent) -> Self {
        Self {
            id: e.id,
            alias: e.alias,
            old_version: e.old_version,
            new_version: e.new_version,
            actor: e.actor,
            at: e.at,
            evidence: e.evidence,
        }
    }
}

/// Body of `POST .../models`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateModel {
    /// Name, unique in the project.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
}

/// Body of `PATCH .../models/{model}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateModel {
    /// New description.
    pub description: Option<String>,
    /// Tags to set (overwrite).
    #[serde(default)]
    pub tags: Vec<KeyValue>,
}

/// JSON body of `POST .../versions`: a version from a run artifact (file or directory).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateVersionFromRun {
    /// The run that produced the model.
    pub run_id: String,
    /// Artifact path in the run (a file or a directory).
    pub artifact_path: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<KeyValue>,
}

/// Query of an upload to `POST .../versions`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadVersionQuery {
    /// The file's name inside the version (default `model.bin`).
    pub file_name: Option<String>,
    /// The run that produced it.
    pub run_id: Option<String>,
    /// Free text.
    pub description: Option<String>,
}

/// Body of `PATCH .../versions/{version}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateVersion {
    /// New description.
    pub description: Option<String>,
    /// Tags to set (overwrite).
    #[serde(default)]
    pub tags: Vec<KeyValue>,
}

/// Body of `PUT .../aliases/{alias}`: exactly one of `version` or `model_version_id`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetAlias {
    /// A version number of this model.
    pub version: Option<i64>,
    /// A global model version id (must belong to this model).
    pub model_version_id: Option<i64>,
}

/// Query of alias resolution.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResolveQuery {
    /// A past time (ms): which version the alias pointed to then.
    pub at: Option<i64>,
}

/// Query of the alias history.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Only this alias.
    pub alias: Option<String>,
    /// Items per page (1..=1000, default 100).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

type ModelPath = Path<(String, String)>;
type VersionPath = Path<(String, String, i64)>;
type AliasPath = Path<(String, String, String)>;

/// Registers a model name.
#[utoipa::path(post, path = "/api/v1/projects/{project}/models", tag = "models", request_body = CreateModel,
    params(("project" = String, Path)),
    responses((status = 201, body = ModelResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_model(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
    Json(body): Json<CreateModel>,
) -> ApiResult<(StatusCode, Json<ModelResponse>)> {
    caller
        .authorize(&state, Action::ModelCreate, &Target::project(&project))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(
            state
                .create_model(&project, &body.name, &body.description, &caller.actor)
                .await?
                .into(),
        ),
    ))
}

/// Lists a project's registered models.
#[utoipa::path(get, path = "/api/v1/projects/{project}/models", tag = "models", params(("project" = String, Path), PageQuery),
    responses((status = 200, body = ListResponse<ModelResponse>), (status = 404, body = ErrorBody)))]
pub async fn list_models(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<ListResponse<ModelResponse>>> {
    caller
        .authorize(&state, Action::ModelRead, &Target::project(&project))
        .await?;
    let page = state.list_models(&project, &page.request()?).await?;
    Ok(Json(ListResponse::from_page(page, ModelResponse::from)))
}

/// Reads a registered model with its aliases.
#[utoipa::path(get, path = "/api/v1/projects/{project}/models/{model}", tag = "models",
    params(("project" = String, Path), ("model" = String, Path)),
    responses((status = 200, body = ModelResponse), (status = 404, body = ErrorBody)))]
pub async fn get_model(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, model)): ModelPath,
) -> ApiResult<Json<ModelResponse>> {
    caller
        .authorize(&state, Action::ModelRead, &Target::project(&project))
        .await?;
    Ok(Json(state.get_model(&project, &model).await?.into()))
}

/// Changes a model's description and/or sets tags.
#[utoipa::path(patch, path = "/api/v1/projects/{project}/models/{model}", tag = "models", request_body = UpdateModel,
    params(("project" = String, Path), ("model" = String, Path)),
    responses((status = 200, body = ModelResponse), (status = 404, body = ErrorBody)))]
pub async fn update_model(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, model)): ModelPath,
    Json(body): Json<UpdateModel>,
) -> ApiResult<Json<ModelResponse>> {
    caller
        .authorize(&state, Action::ModelUpdate, &Target::project(&project))
        .await?;
    // Checked first, so that a bad description does not leave the tags half-applied.
    if let Some(description) = &body.description {
        verity_store::validate::description(description)?;
    }
    if !body.tags.is_empty() {
        let tags: Vec<_> = body.tags.into_iter().map(Into::into).collect();
        let target = TagTarget::Model {
            project: &project,
            name: &model,
        };
        state.set_tags_of(target, &tags, &caller.actor).await?;
    }
    let updated = match body.description {
        Some(description) => {
            state
                .update_model(&project, &model, &description, &caller.actor)
                .await?
        }
        None => state.get_model(&project, &model).await?,
    };
    Ok(Json(updated.into()))
}

/// Creates the next version: with `Content-Type: application/json`, from a run artifact
/// ([`CreateVersionFromRun`]); otherwise the body is the model file itself (streamed).
#[utoipa::path(post, path = "/api/v1/projects/{project}/models/{model}/versions", tag = "models",
    params(("project" = String, Path), ("model" = String, Path), UploadVersionQuery),
    request_body(content((CreateVersionFromRun = "application/json"), (Vec<u8> = "application/octet-stream"))),
    responses((status = 201, body = ModelVersionResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_model_version(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, model)): ModelPath,
    Query(query): Query<UploadVersionQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<ModelVersionResponse>)> {
    caller
        .authorize(
            &state,
            Action::ModelVersionCreate,
            &Target::project(&project),
        )
        .await?;
    state.get_model(&project, &model).await?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let new = if is_json(content_type) {
        let req: CreateVersionFromRun = read_json_body(&state, body).await?;
        // A Verity model (docs/models.md) is checked before it is registered.
        crate::evaluations::check_run_artifact_model(
            &state,
            &project,
            &req.run_id,
            &req.artifact_path,
        )
        .await?;
        NewModelVersion {
            source: ModelSource::RunArtifact {
                run_id: req.run_id,
                path: req.artifact_path,
            },
            description: req.description,
            tags: req.tags.into_iter().map(Into::into).collect(),
        }
    } else {
        let file_name = query.file_name.unwrap_or_else(|| "model.bin".to_string());
        verity_store::validate::artifact_path(&file_name)?;
        if file_name == crate::evaluations::SPEC_FILE {
            return Err(ApiError::bad_request(format!(
                "a Verity model is two files: log {} and {} as artifacts of a run and \
                 register the run's artifact directory",
                crate::evaluations::SPEC_FILE,
                crate::evaluations::WEIGHTS_FILE
            )));
        }
        let staged = stage_body(&state, &project, body).await?;
        NewModelVersion {
            source: ModelSource::Upload {
                staged,
                file_name,
                run_id: query.run_id,
            },
            description: query.description.unwrap_or_default(),
            tags: vec![],
        }
    };
    let version = state
        .create_model_version(&project, &model, new, &caller.actor)
        .await?;
    Ok((StatusCode::CREATED, Json(version.into())))
}

/// Lists a model's versions, oldest first.
#[utoipa::path(get, path = "/api/v1/projects/{project}/models/{model}/versions", tag = "models",
    params(("project" = String, Path), ("model" = String, Path), PageQuery),
    responses((status = 200, body = ListResponse<ModelVersionResponse>), (status = 404, body = ErrorBody)))]
pub async fn list_model_versions(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, model)): ModelPath,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<ListResponse<ModelVersionResponse>>> {
    caller
        .authorize(&state, Action::ModelRead, &Target::project(&project))
        .await?;
    let page = state
        .list_model_versions(&project, &model, &page.request()?)
        .await?;
    Ok(Json(ListResponse::from_page(
        page,
        ModelVersionResponse::from,
    )))
}

/// Reads a model version.
#[utoipa::path(get, path = "/api/v1/projects/{project}/models/{model}/versions/{version}", tag = "models",
    params(("project" = String, Path), ("model" = String, Path), ("version" = i64, Path)),
    responses((status = 200, body = ModelVersionResponse), (status = 404, body = ErrorBody)))]
pub async fn get_model_version(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, model, version)): VersionPath,
) -> ApiResult<Json<ModelVersionResponse>> {
    caller
        .authorize(&state, Action::ModelRead, &Target::project(&project))
        .await?;
    Ok(Json(
        state
            .get_model_version(&project, &model, version)
            .await?
            .into(),
    ))
}

/// Changes a version's description and sets tags.
#[utoipa::path(patch, path = "/api/v1/projects/{project}/models/{model}/versions/{version}", tag = "models", request_body = UpdateVersion,
    params(("project" = String, Path), ("model" = String, Path), ("version" = i64, Path)),
    responses((status = 200, body = ModelVersionResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_model_version(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, model, version)): VersionPath,
    Json(body): Json<UpdateVersion>,
) -> ApiResult<Json<ModelVersionResponse>> {
    caller
        .authorize(
            &state,
            Action::ModelVersionUpdate,
            &Target::project(&project),
        )
        .await?;
    let tags: Vec<_> = body.tags.into_iter().map(Into::into).collect();
    Ok(Json(
        state
            .update_model_version(
                &project,
                &model,
                version,
                body.description.as_deref(),
                &tags,
                &caller.actor,
            )
            .await?
            .into(),
    ))
}

/// Downloads one file of a model version (streamed).
#[utoipa::path(get, path = "/api/v1/projects/{project}/models/{model}/versions/{version}/files/{*path}", tag = "models",
    params(("project" = String, Path), ("model" = String, Path), ("version" = i64, Path), ("path" = String, Path)),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 404, body = ErrorBody)))]
pub async fn download_model_file(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, model, version, path)): Path<(String, String, i64, String)>,
) -> ApiResult<Response> {
    caller
        .authorize(&state, Action::ModelRead, &Target::project(&project))
        .await?;
    let v = state.get_model_version(&project, &model, version).await?;
    let file = v
        .files
        .into_iter()
        .find(|f| f.path == path)
        .ok_or_else(|| verity_store::Error::not_found("model_file", &path))?;
    let name = file
        .path
        .rsplit('/')
        .next()
        .unwrap_or("model.bin")
        .to_string();
    download(
        &state,
        &file.content_hash,
        "application/octet-stream",
        &name,
    )
    .await
}

/// The version an alias points to now, or at a past time with `?at=`.
#[utoipa::path(get, path = "/api/v1/projects/{project}/models/{model}/aliases/{alias}", tag = "models",
    params(("project" = String, Path), ("model" = String, Path), ("alias" = String, Path), ResolveQuery),
    responses((status = 200, body = ModelVersionResponse), (status = 404, body = ErrorBody)))]
pub async fn resolve_alias(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, model, alias)): AliasPath,
    Query(query): Query<ResolveQuery>,
) -> ApiResult<Json<ModelVersionResponse>> {
    caller
        .authorize(&state, Action::ModelRead, &Target::project(&project))
        .await?;
    Ok(Json(
        state
            .resolve_alias(&project, &model, &alias, query.at)
            .await?
            .into(),
    ))
}

/// Points an alias at a version of this model (recorded in the alias history).
#[utoipa::path(put, path = "/api/v1/projects/{project}/models/{model}/aliases/{alias}", tag = "models", request_body = SetAlias,
    params(("project" = String, Path), ("model" = String, Path), ("alias" = String, Path)),
    responses((status = 200, body = ModelVersionResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "the version belongs to another model or is retired, or the alias's gate is not met (`gate_unmet`)", body = ErrorBody)))]
pub async fn set_alias(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, model, alias)): AliasPath,
    Json(body): Json<SetAlias>,
) -> ApiResult<Json<ModelVersionResponse>> {
    caller
        .authorize(&state, Action::AliasWrite, &Target::project(&project))
        .await?;
    let target = match (body.version, body.model_version_id) {
        (Some(n), None) => VersionRef::Number(n),
        (None, Some(id)) => VersionRef::Id(id),
        _ => {
            return Err(ApiError::bad_request(
                "give exactly one of version or model_version_id",
            ));
        }
    };
    // A gated alias moves only on met requirements; the verdict is kept with the move.
    let evidence = guard_alias(&state, &project, &model, &alias, &target).await?;
    Ok(Json(
        state
            .set_alias_with_evidence(
                &project,
                &model,
                &alias,
                target,
                evidence.as_ref(),
                &caller.actor,
            )
            .await?
            .into(),
    ))
}

/// Removes an alias (recorded in the alias history).
#[utoipa::path(delete, path = "/api/v1/projects/{project}/models/{model}/aliases/{alias}", tag = "models",
    params(("project" = String, Path), ("model" = String, Path), ("alias" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_alias(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, model, alias)): AliasPath,
) -> ApiResult<StatusCode> {
    caller
        .authorize(&state, Action::AliasWrite, &Target::project(&project))
        .await?;
    state
        .delete_alias(&project, &model, &alias, &caller.actor)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every move of the model's aliases, oldest first: who, when, from which version to which.
#[utoipa::path(get, path = "/api/v1/projects/{project}/models/{model}/alias-history", tag = "models",
    params(("project" = String, Path), ("model" = String, Path), HistoryQuery),
    responses((status = 200, body = ListResponse<AliasEventResponse>), (status = 404, body = ErrorBody)))]
pub async fn alias_history(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, model)): ModelPath,
    Query(query): Query<HistoryQuery>,
) -> ApiResult<Json<ListResponse<AliasEventResponse>>> {
    caller
        .authorize(&state, Action::ModelRead, &Target::project(&project))
        .await?;
    let page = verity_store::PageRequest::new(query.limit, query.cursor.as_deref())?;
    let events = state
        .alias_history(&project, &model, query.alias.as_deref(), &page)
        .await?;
    Ok(Json(ListResponse::from_page(
        events,
        AliasEventResponse::from,
    )))
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_model, list_models))
        .routes(routes!(get_model, update_model))
        .routes(routes!(create_model_version, list_model_versions))
        .routes(routes!(get_model_version, update_model_version))
        .routes(routes!(download_model_file))
        .routes(routes!(resolve_alias, set_alias, delete_alias))
        .routes(routes!(alias_history))
}
