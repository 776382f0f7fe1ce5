//! `.../datasets/{dataset}/masking`: the columns readers below a dataset's sensitivity see
//! only as pseudonyms (`masked`) or not at all (`hidden`). Members read it, so they know what
//! they see; owners with clearance for the dataset set it. The project's key never leaves the
//! server.

use std::collections::BTreeMap;

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use verity_policy::Action;
use verity_store::masking::{ColumnMasks, DatasetMasking, MaskMode};

use crate::auth::{Caller, Target};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::routes::privacy::authorize_dataset;
use crate::state::AppState;

type DatasetPath = Path<(String, String)>;

/// One masked or hidden column.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ColumnMask {
    /// The column's name, as in the dataset's latest version.
    pub column: String,
    /// `masked` (a keyed hash of each value: equal values stay equal, so joins still work) or
    /// `hidden` (left out).
    pub mode: String,
}

/// A dataset's masking.
#[derive(Debug, Serialize, ToSchema)]
pub struct MaskingResponse {
    /// The masked and hidden columns, by name; empty when readers below the dataset's
    /// sensitivity see nothing of its data.
    pub columns: Vec<ColumnMask>,
    /// Who last changed it.
    pub updated_by: Option<String>,
    /// When (ms).
    pub updated_at: Option<i64>,
}

impl From<DatasetMasking> for MaskingResponse {
    fn from(m: DatasetMasking) -> Self {
        Self {
            columns: m
                .columns
                .into_iter()
                .map(|(column, mode)| ColumnMask {
                    column,
                    mode: mode.as_str().to_owned(),
                })
                .collect(),
            updated_by: m.updated_by,
            updated_at: m.updated_at,
        }
    }
}

/// Body of `PUT .../masking`: the whole masking (it replaces the previous one).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetMasking {
    /// The masked and hidden columns; empty to unmask everything (and close the masked view).
    pub columns: Vec<ColumnMask>,
}

impl SetMasking {
    fn masks(self) -> ApiResult<ColumnMasks> {
        let mut masks = BTreeMap::new();
        for entry in self.columns {
            if entry.column.is_empty() {
                return Err(ApiError::bad_request("a masked column needs a name"));
            }
            let mode: MaskMode = entry.mode.parse()?;
            if masks.insert(entry.column.clone(), mode).is_some() {
                return Err(ApiError::bad_request(format!(
                    "column '{}' is named twice",
                    entry.column
                )));
            }
        }
        Ok(masks)
    }
}

/// A dataset's masked and hidden columns (every member may read it).
#[utoipa::path(get, path = "/api/v1/projects/{project}/datasets/{dataset}/masking", tag = "privacy",
    params(("project" = String, Path), ("dataset" = String, Path)),
    responses((status = 200, body = MaskingResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_masking(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, dataset)): DatasetPath,
) -> ApiResult<Json<MaskingResponse>> {
    authorize_dataset(&state, &caller, Action::DatasetRead, &project, &dataset).await?;
    Ok(Json(
        state.dataset_masking(&project, &dataset).await?.into(),
    ))
}

/// Replaces a dataset's masking (project owners with clearance for the dataset: masking opens
/// the masked view to readers below its sensitivity). Every column must be one of the latest
/// version's. Audited as `dataset.masking`.
#[utoipa::path(put, path = "/api/v1/projects/{project}/datasets/{dataset}/masking", tag = "privacy",
    request_body = SetMasking, params(("project" = String, Path), ("dataset" = String, Path)),
    responses((status = 200, body = MaskingResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_masking(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, dataset)): DatasetPath,
    Json(body): Json<SetMasking>,
) -> ApiResult<Json<MaskingResponse>> {
    authorize_dataset(&state, &caller, Action::PrivacyManage, &project, &dataset).await?;
    // Without clearance an owner could mask one column and read the rest through the view.
    let found = state.get_dataset(&project, &dataset).await?;
    caller
        .authorize(&state, Action::DatasetReadData, &Target::dataset(&found))
        .await?;
    let masks = body.masks()?;
    let masking = state
        .set_dataset_masking(&project, &dataset, &masks, &caller.actor)
        .await?;
    Ok(Json(masking.into()))
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_masking, set_masking))
}
