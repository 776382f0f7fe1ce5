//! `/api/v1/runs/{run_id}/artifacts`: immutable run files, streamed in and out.

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use verity_store::ArtifactEntry;
use verity_store::model::StoredFile;

use crate::error::{ApiResult, ErrorBody};
use verity_policy::Action;

use crate::auth::Caller;
use crate::extract::{Json, Path, Query};
use crate::routes::{download, stage_body};
use crate::state::AppState;

/// A stored file.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileResponse {
    /// Relative path.
    pub path: String,
    /// SHA-256 of the bytes.
    pub content_hash: String,
    /// Size in bytes.
    pub byte_size: i64,
    /// Who stored it.
    pub created_by: String,
    /// When (ms).
    pub created_at: i64,
}

impl From<StoredFile> for FileResponse {
    fn from(f: StoredFile) -> Self {
        Self {
            path: f.path,
            content_hash: f.content_hash,
            byte_size: f.byte_size,
            created_by: f.created_by,
            created_at: f.created_at,
        }
    }
}

/// One entry of an artifact listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArtifactEntryResponse {
    /// Path relative to the run's artifact root.
    pub path: String,
    /// True for a directory.
    pub is_dir: bool,
    /// Size of a file.
    pub byte_size: Option<i64>,
}

impl From<ArtifactEntry> for ArtifactEntryResponse {
    fn from(e: ArtifactEntry) -> Self {
        Self {
            path: e.path,
            is_dir: e.is_dir,
            byte_size: e.byte_size,
        }
    }
}

/// A listing of one directory level.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArtifactListResponse {
    /// The directory listed (empty for the root).
    pub root: String,
    /// Its files and directories.
    pub files: Vec<ArtifactEntryResponse>,
}

/// Query of an artifact listing.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListArtifactsQuery {
    /// Directory to list (default: the root).
    pub path: Option<String>,
}

/// Uploads an artifact (raw body, streamed). Paths are immutable: the same bytes again are a
/// no-op, other bytes are 409.
#[utoipa::path(put, path = "/api/v1/runs/{run_id}/artifacts/{*path}", tag = "artifacts",
    params(("run_id" = String, Path), ("path" = String, Path, description = "Relative path, e.g. model/weights.bin")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = FileResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn upload_artifact(
    State(state): State<AppState>,
    caller: Caller,
    Path((run_id, path)): Path<(String, String)>,
    body: Body,
) -> ApiResult<Json<FileResponse>> {
    let run = caller
        .authorize_run(&state, Action::RunWrite, &run_id)
        .await?;
    verity_store::validate::artifact_path(&path)?;
    let staged = stage_body(&state, &run.project, body).await?;
    Ok(Json(
        state
            .put_artifact(&run_id, &path, staged, &caller.actor)
            .await?
            .into(),
    ))
}

/// Lists one level of a run's artifacts.
#[utoipa::path(get, path = "/api/v1/runs/{run_id}/artifacts", tag = "artifacts",
    params(("run_id" = String, Path), ListArtifactsQuery),
    responses((status = 200, body = ArtifactListResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_artifacts(
    State(state): State<AppState>,
    caller: Caller,
    Path(run_id): Path<String>,
    Query(query): Query<ListArtifactsQuery>,
) -> ApiResult<Json<ArtifactListResponse>> {
    caller
        .authorize_run(&state, Action::RunRead, &run_id)
        .await?;
    let dir = query
        .path
        .as_deref()
        .map(|p| p.trim_end_matches('/'))
        .filter(|p| !p.is_empty());
    let files = state.list_artifacts(&run_id, dir).await?;
    Ok(Json(ArtifactListResponse {
        root: dir.unwrap_or("").to_string(),
        files: files.into_iter().map(Into::into).collect(),
    }))
}

/// Downloads an artifact (streamed).
#[utoipa::path(get, path = "/api/v1/runs/{run_id}/artifacts/{*path}", tag = "artifacts",
    params(("run_id" = String, Path), ("path" = String, Path)),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 404, body = ErrorBody)))]
pub async fn download_artifact(
    State(state): State<AppState>,
    caller: Caller,
    Path((run_id, path)): Path<(String, String)>,
) -> ApiResult<Response> {
    caller
        .authorize_run(&state, Action::RunRead, &run_id)
        .await?;
    let file = state.get_artifact(&run_id, &path).await?;
    let name = file
        .path
        .rsplit('/')
        .next()
        .unwrap_or("artifact")
        .to_string();
    download(
        &state,
        &file.content_hash,
        "application/octet-stream",
        &name,
    )
    .await
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_artifact, download_artifact))
        .routes(routes!(list_artifacts))
}
