//! `/api/v1/projects/{project}/datasets`: datasets and their immutable versions.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use verity_policy::{Action, Sensitivity};
use verity_store::model::{Dataset, DatasetVersion};
use verity_store::{DataFormat, NewDatasetVersion, NewEvent, VersionSource};

use crate::auth::{Caller, Credential, Target};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::routes::clearance::{DataView, data_view};
use crate::routes::{download, is_json, masked_download, read_json_body, stage_body};
use crate::state::AppState;
use crate::wire::{ListResponse, PageQuery};

/// A dataset.
#[derive(Debug, Serialize, ToSchema)]
pub struct DatasetResponse {
    /// Project name.
    pub project: String,
    /// Name, unique in the project.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Number of versions.
    pub version_count: i64,
    /// `public`, `internal`, `confidential` or `restricted`.
    pub sensitivity: String,
    /// Who created it.
    pub created_by: String,
    /// When (ms since the Unix epoch).
    pub created_at: i64,
}

impl From<Dataset> for DatasetResponse {
    fn from(d: Dataset) -> Self {
        Self {
            project: d.project,
            name: d.name,
            description: d.description,
            version_count: d.version_count,
            sensitivity: d.sensitivity,
            created_by: d.created_by,
            created_at: d.created_at,
        }
    }
}

/// An immutable dataset version.
#[derive(Debug, Serialize, ToSchema)]
pub struct DatasetVersionResponse {
    /// Global id (the lineage node id).
    pub id: i64,
    /// Project name.
    pub project: String,
    /// Dataset name.
    pub dataset: String,
    /// Version number, from 1.
    pub version: i64,
    /// SHA-256 of the bytes, lower-case hex.
    pub content_hash: String,
    /// Size in bytes.
    pub byte_size: i64,
    /// `parquet` or `csv`.
    pub format: String,
    /// Arrow schema: `{"fields": [{"name", "data_type", "nullable"}]}`.
    #[schema(value_type = Object)]
    pub schema: serde_json::Value,
    /// Number of rows.
    pub row_count: i64,
    /// The object-store URL it was read from, when registered by URL.
    pub source_uri: Option<String>,
    /// The dataset version it derives from.
    pub derived_from_id: Option<i64>,
    /// Free text.
    pub description: String,
    /// Who created it.
    pub created_by: String,
    /// When (ms since the Unix epoch).
    pub created_at: i64,
}

impl From<DatasetVersion> for DatasetVersionResponse {
    fn from(v: DatasetVersion) -> Self {
        Self {
            id: v.id,
            project: v.project,
            dataset: v.dataset,
            version: v.version,
            content_hash: v.content_hash,
            byte_size: v.byte_size,
            format: v.format.as_str().to_string(),
            schema: v.schema,
            row_count: v.row_count,
            source_uri: v.source_uri,
            derived_from_id: v.derived_from_id,
            description: v.description,
            created_by: v.created_by,
            created_at: v.created_at,
        }
    }
}

/// Body of `POST .../datasets`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDataset {
    /// Name, unique in the project.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// `public`, `internal` (default), `confidential` or `restricted`: the clearance a user
    /// needs to read the raw rows.
    #[serde(default = "default_sensitivity")]
    pub sensitivity: String,
}

fn default_sensitivity() -> String {
    "internal".to_owned()
}

/// Body of `PATCH .../datasets/{dataset}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDataset {
    /// New description.
    pub description: Option<String>,
    /// New sensitivity.
    pub sensitivity: Option<String>,
}

/// JSON body of `POST .../versions` that registers an object-store URL instead of uploading.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterVersion {
    /// `s3://bucket/key.parquet` (or `gs://`, `az://` when built with them).
    pub source_uri: String,
    /// `parquet` or `csv`; guessed from the bytes when absent.
    pub format: Option<String>,
    /// Id of the dataset version this one derives from.
    pub derived_from: Option<i64>,
    /// Free text.
    #[serde(default)]
    pub description: String,
}

/// Query of an upload to `POST .../versions`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// `parquet` or `csv`; else taken from Content-Type, else guessed from the bytes.
    pub format: Option<String>,
    /// Id of the dataset version this one derives from.
    pub derived_from: Option<i64>,
    /// Free text.
    pub description: Option<String>,
}

type DatasetPath = Path<(String, String)>;
type VersionPath = Path<(String, String, i64)>;

/// Creates a dataset.
#[utoipa::path(post, path = "/api/v1/projects/{project}/datasets", tag = "datasets", request_body = CreateDataset,
    params(("project" = String, Path)),
    responses((status = 201, body = DatasetResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_dataset(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
    Json(body): Json<CreateDataset>,
) -> ApiResult<(StatusCode, Json<DatasetResponse>)> {
    caller
        .authorize(&state, Action::DatasetCreate, &Target::project(&project))
        .await?;
    let dataset = state
        .create_dataset(
            &project,
            &body.name,
            &body.description,
            &body.sensitivity,
            &caller.actor,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(dataset.into())))
}

/// Lists a project's datasets.
#[utoipa::path(get, path = "/api/v1/projects/{project}/datasets", tag = "datasets",
    params(("project" = String, Path), PageQuery),
    responses((status = 200, body = ListResponse<DatasetResponse>), (status = 404, body = ErrorBody)))]
pub async fn list_datasets(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<ListResponse<DatasetResponse>>> {
    caller
        .authorize(&state, Action::DatasetRead, &Target::project(&project))
        .await?;
    let page = state.list_datasets(&project, &page.request()?).await?;
    Ok(Json(ListResponse::from_page(page, DatasetResponse::from)))
}

/// Reads a dataset.
#[utoipa::path(get, path = "/api/v1/projects/{project}/datasets/{dataset}", tag = "datasets",
    params(("project" = String, Path), ("dataset" = String, Path)),
    responses((status = 200, body = DatasetResponse), (status = 404, body = ErrorBody)))]
pub async fn get_dataset(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, dataset)): DatasetPath,
) -> ApiResult<Json<DatasetResponse>> {
    caller
        .authorize(&state, Action::DatasetRead, &Target::project(&project))
        .await?;
    Ok(Json(state.get_dataset(&project, &dataset).await?.into()))
}

/// Changes a dataset's description or sensitivity (project owners).
#[utoipa::path(patch, path = "/api/v1/projects/{project}/datasets/{dataset}", tag = "datasets", request_body = UpdateDataset,
    params(("project" = String, Path), ("dataset" = String, Path)),
    responses((status = 200, body = DatasetResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_dataset(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, dataset)): DatasetPath,
    Json(body): Json<UpdateDataset>,
) -> ApiResult<Json<DatasetResponse>> {
    // The project first: outside it, whether a dataset exists is not told.
    caller
        .authorize(&state, Action::DatasetRead, &Target::project(&project))
        .await?;
    let found = state.get_dataset(&project, &dataset).await?;
    let target = Target::dataset(&found);
    caller
        .authorize(&state, Action::DatasetUpdate, &target)
        .await?;
    // Reclassifying needs clearance for both levels: otherwise an owner could lower a dataset
    // to their own clearance and read it.
    if let Some(new) = body.sensitivity.as_deref()
        && let Ok(new) = new.parse::<Sensitivity>()
        && caller.credential != Credential::Anonymous
        && caller.clearance < target.sensitivity.max(new)
    {
        let reason = format!(
            "changing the sensitivity from {} to {} needs clearance {}",
            target.sensitivity,
            new,
            target.sensitivity.max(new)
        );
        return Err(caller
            .refuse(&state, Action::DatasetUpdate.as_str(), &target, &reason)
            .await);
    }
    let updated = state
        .update_dataset(
            &project,
            &dataset,
            body.description.as_deref(),
            body.sensitivity.as_deref(),
            &caller.actor,
        )
        .await?;
    Ok(Json(updated.into()))
}

/// Adds a version. Either the raw bytes as the body (Parquet or CSV, streamed; format from
/// `?format=`, the Content-Type or the bytes) or, with `Content-Type: application/json`, a
/// [`RegisterVersion`] naming an object-store URL that Verity reads and copies. Identical bytes
/// return the existing version with 200.
#[utoipa::path(post, path = "/api/v1/projects/{project}/datasets/{dataset}/versions", tag = "datasets",
    params(("project" = String, Path), ("dataset" = String, Path), UploadQuery),
    request_body(content(
        (Vec<u8> = "application/octet-stream"), (Vec<u8> = "text/csv"), (Vec<u8> = "application/vnd.apache.parquet"),
        (RegisterVersion = "application/json"))),
    responses((status = 201, body = DatasetVersionResponse), (status = 200, description = "identical bytes: the existing version", body = DatasetVersionResponse),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn create_dataset_version(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, dataset)): DatasetPath,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<DatasetVersionResponse>)> {
    // Fail before reading a large body when the dataset does not exist or the caller may not;
    // outside the project, whether it exists is not told.
    caller
        .authorize(&state, Action::DatasetRead, &Target::project(&project))
        .await?;
    let found = state.get_dataset(&project, &dataset).await?;
    let target = Target::dataset(&found);
    caller
        .authorize(&state, Action::DatasetWrite, &target)
        .await?;
    // Below the sensitivity, the masked copy of one's own version would pair chosen values with
    // their pseudonyms: a dictionary for every masked column. Writing needs clearance then.
    if !caller.can(&state, Action::DatasetReadData, &target)?
        && !state
            .dataset_masking(&project, &dataset)
            .await?
            .columns
            .is_empty()
    {
        let reason = format!(
            "adding a version to a dataset with masked columns needs clearance {}",
            target.sensitivity
        );
        return Err(caller
            .refuse(&state, Action::DatasetWrite.as_str(), &target, &reason)
            .await);
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let new = if is_json(content_type) {
        let register: RegisterVersion = read_json_body(&state, body).await?;
        NewDatasetVersion {
            source: VersionSource::Url(register.source_uri),
            format: register
                .format
                .as_deref()
                .map(DataFormat::parse)
                .transpose()?,
            derived_from_id: register.derived_from,
            description: register.description,
        }
    } else {
        let format = match &query.format {
            Some(f) => Some(DataFormat::parse(f)?),
            None => DataFormat::from_content_type(content_type),
        };
        let staged = stage_body(&state, &project, body).await?;
        NewDatasetVersion {
            source: VersionSource::Upload(staged),
            format,
            derived_from_id: query.derived_from,
            description: query.description.unwrap_or_default(),
        }
    };
    let added = state
        .add_dataset_version(&project, &dataset, new, &caller.actor)
        .await?;
    let status = if added.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(added.version.into())))
}

/// Lists a dataset's versions, oldest first.
#[utoipa::path(get, path = "/api/v1/projects/{project}/datasets/{dataset}/versions", tag = "datasets",
    params(("project" = String, Path), ("dataset" = String, Path), PageQuery),
    responses((status = 200, body = ListResponse<DatasetVersionResponse>), (status = 404, body = ErrorBody)))]
pub async fn list_dataset_versions(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, dataset)): DatasetPath,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<ListResponse<DatasetVersionResponse>>> {
    caller
        .authorize(&state, Action::DatasetRead, &Target::project(&project))
        .await?;
    let page = state
        .list_dataset_versions(&project, &dataset, &page.request()?)
        .await?;
    Ok(Json(ListResponse::from_page(
        page,
        DatasetVersionResponse::from,
    )))
}

/// Reads a dataset version.
#[utoipa::path(get, path = "/api/v1/projects/{project}/datasets/{dataset}/versions/{version}", tag = "datasets",
    params(("project" = String, Path), ("dataset" = String, Path), ("version" = i64, Path)),
    responses((status = 200, body = DatasetVersionResponse), (status = 404, body = ErrorBody)))]
pub async fn get_dataset_version(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, dataset, version)): VersionPath,
) -> ApiResult<Json<DatasetVersionResponse>> {
    caller
        .authorize(&state, Action::DatasetRead, &Target::project(&project))
        .await?;
    Ok(Json(
        state
            .get_dataset_version(&project, &dataset, version)
            .await?
            .into(),
    ))
}

/// The Arrow schema of a dataset version.
#[utoipa::path(get, path = "/api/v1/projects/{project}/datasets/{dataset}/versions/{version}/schema", tag = "datasets",
    params(("project" = String, Path), ("dataset" = String, Path), ("version" = i64, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn get_dataset_schema(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, dataset, version)): VersionPath,
) -> ApiResult<Json<serde_json::Value>> {
    caller
        .authorize(&state, Action::DatasetRead, &Target::project(&project))
        .await?;
    Ok(Json(
        state
            .get_dataset_version(&project, &dataset, version)
            .await?
            .schema,
    ))
}

/// Downloads the bytes of a dataset version (streamed). Needs a clearance at least the
/// dataset's sensitivity; reads of `confidential` and `restricted` data are audited.
#[utoipa::path(get, path = "/api/v1/projects/{project}/datasets/{dataset}/versions/{version}/content", tag = "datasets",
    params(("project" = String, Path), ("dataset" = String, Path), ("version" = i64, Path)),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 404, body = ErrorBody)))]
pub async fn download_dataset_version(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, dataset, version)): VersionPath,
) -> ApiResult<Response> {
    caller
        .authorize(&state, Action::DatasetRead, &Target::project(&project))
        .await?;
    let found = state.get_dataset(&project, &dataset).await?;
    let mut target = Target::dataset(&found);
    target.resource = format!("{}/version/{version}", target.resource);
    // Readers below the sensitivity get the masked copy when the owner has masked columns.
    let view = if caller.can(&state, Action::DatasetReadData, &target)? {
        DataView::Clear
    } else {
        data_view(&state, &caller, Action::DatasetReadData, &[found]).await?
    };
    let v = state
        .get_dataset_version(&project, &dataset, version)
        .await?;
    if target.sensitivity >= Sensitivity::Confidential {
        let event = NewEvent::success(
            Action::DatasetReadData.as_str(),
            target.resource.clone(),
            Some(&project),
            json!({"sensitivity": target.sensitivity.as_str(), "content_hash": v.content_hash,
                "byte_size": v.byte_size, "masked": view.is_masked()}),
        );
        state.record_event(&caller.actor, event).await?;
    }
    match view {
        DataView::Clear => {
            let file_name = format!("{}-v{}.{}", v.dataset, v.version, v.format.as_str());
            download(&state, &v.content_hash, v.format.content_type(), &file_name).await
        }
        DataView::Masked(masker) => {
            let file_name = format!("{}-v{}-masked.{}", v.dataset, v.version, v.format.as_str());
            masked_download(&state, &v, masker, &file_name).await
        }
    }
}

/// Reads a dataset version by its global id.
#[utoipa::path(get, path = "/api/v1/dataset-versions/{id}", tag = "datasets",
    params(("id" = i64, Path)),
    responses((status = 200, body = DatasetVersionResponse), (status = 404, body = ErrorBody)))]
pub async fn get_dataset_version_by_id(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<DatasetVersionResponse>> {
    let version = state.get_dataset_version_by_id(id).await?;
    caller
        .authorize_or_hide(
            &state,
            Action::DatasetRead,
            &Target::project(&version.project),
            || verity_store::Error::not_found("dataset_version", id).into(),
        )
        .await?;
    Ok(Json(version.into()))
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_dataset, list_datasets))
        .routes(routes!(get_dataset, update_dataset))
        .routes(routes!(create_dataset_version, list_dataset_versions))
        .routes(routes!(get_dataset_version))
        .routes(routes!(get_dataset_schema))
        .routes(routes!(download_dataset_version))
        .routes(routes!(get_dataset_version_by_id))
}
