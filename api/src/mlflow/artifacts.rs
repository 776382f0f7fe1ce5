//! MLflow's proxied artifact routes (`/api/2.0/mlflow-artifacts/artifacts/...`), where the
//! client sends the files of runs whose `artifact_uri` is `mlflow-artifacts:/<experiment>/<run>/artifacts`.
//! They become the run's artifacts in Verity (immutable, content-addressed), readable through
//! `/api/v1/runs/{run}/artifacts` too.

use axum::Json;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use verity_policy::Action;

use super::wire;
use super::{MlflowError, Path};
use crate::auth::Caller;
use crate::routes::{download, stage_body};
use crate::state::AppState;

/// A proxied path: `<experiment>/<run>/artifacts[/<path in the run>]`.
pub(super) struct Location {
    pub(super) run_id: String,
    /// The path under the run's artifact root ("" for the root).
    pub(super) path: String,
}

pub(super) fn locate(path: &str) -> Result<Location, MlflowError> {
    if path.contains('\0') {
        return Err(MlflowError::invalid(
            "an artifact path must not contain NUL characters",
        ));
    }
    let path = path.trim_matches('/');
    let mut parts = path.splitn(4, '/');
    let (Some(experiment), Some(run_id), Some("artifacts")) =
        (parts.next(), parts.next(), parts.next())
    else {
        return Err(MlflowError::invalid(format!(
            "'{path}' is not a Verity artifact location: <experiment>/<run>/artifacts/<path>"
        )));
    };
    if experiment.parse::<i64>().is_err() {
        return Err(MlflowError::invalid(format!(
            "'{experiment}' is not an experiment id"
        )));
    }
    Ok(Location {
        run_id: run_id.to_owned(),
        path: parts.next().unwrap_or("").trim_matches('/').to_owned(),
    })
}

/// Authorizes `action` on the run of a location.
pub(super) async fn authorize(
    state: &AppState,
    c: &Caller,
    action: Action,
    at: &Location,
) -> Result<verity_store::model::Run, MlflowError> {
    super::authorize_run(state, c, action, &at.run_id).await
}

/// `PUT .../artifacts/<location>/<file>`: the body is the file.
pub(super) async fn upload(
    State(state): State<AppState>,
    c: Caller,
    Path(path): Path<String>,
    body: Body,
) -> Result<Json<Value>, MlflowError> {
    let at = locate(&path)?;
    let run = authorize(&state, &c, Action::RunWrite, &at).await?;
    verity_store::validate::artifact_path(&at.path)?;
    let staged = stage_body(&state, &run.project, body).await?;
    state
        .put_artifact(&at.run_id, &at.path, staged, &c.actor)
        .await?;
    Ok(Json(json!({})))
}

/// `GET .../artifacts/<location>/<file>`: the file's bytes.
pub(super) async fn get(
    State(state): State<AppState>,
    c: Caller,
    Path(path): Path<String>,
) -> Result<Response, MlflowError> {
    let at = locate(&path)?;
    authorize(&state, &c, Action::RunRead, &at).await?;
    let file = state.get_artifact(&at.run_id, &at.path).await?;
    let name = file
        .path
        .rsplit('/')
        .next()
        .unwrap_or("artifact")
        .to_owned();
    Ok(download(
        &state,
        &file.content_hash,
        "application/octet-stream",
        &name,
    )
    .await?)
}

/// `DELETE .../artifacts/<path>`: refused, Verity's artifacts are immutable.
pub(super) async fn delete(
    State(state): State<AppState>,
    c: Caller,
    Path(path): Path<String>,
) -> Result<Json<Value>, MlflowError> {
    let at = locate(&path)?;
    authorize(&state, &c, Action::RunRead, &at).await?;
    Err(MlflowError::invalid(
        "Verity keeps run artifacts immutable: they cannot be deleted",
    ))
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    path: Option<String>,
}

/// `GET .../artifacts?path=<location>[/<dir>]`: one level, names relative to the directory;
/// `{}` for a file or a missing directory, as MLflow answers.
pub(super) async fn list(
    State(state): State<AppState>,
    c: Caller,
    RawQuery(q): RawQuery,
) -> Result<Response, MlflowError> {
    let query: ListQuery = wire::query(q.as_deref())?;
    let at = locate(query.path.as_deref().unwrap_or(""))?;
    authorize(&state, &c, Action::RunRead, &at).await?;
    let dir = Some(at.path.as_str()).filter(|p| !p.is_empty());
    let entries = state.list_artifacts(&at.run_id, dir).await?;
    if entries.is_empty() {
        return Ok(Json(json!({})).into_response());
    }
    let files: Vec<Value> = entries
        .iter()
        .map(|e| {
            let name = e.path.rsplit('/').next().unwrap_or(&e.path);
            match e.byte_size {
                Some(size) if !e.is_dir => {
                    json!({"path": name, "is_dir": false, "file_size": size})
                }
                _ => json!({"path": name, "is_dir": true}),
            }
        })
        .collect();
    Ok(Json(json!({"files": files})).into_response())
}
