//! The MLflow tracking REST protocol (`/api/2.0/mlflow/*`, and `/ajax-api/2.0/mlflow/*` as
//! MLflow's UI calls it), so that MLflow client code works unchanged against Verity: point
//! `MLFLOW_TRACKING_URI` at the server. Every call goes through Verity's authentication,
//! authorization and audit; the objects are Verity's own experiments and runs, in one project
//! (`--mlflow-project`, default `default`), visible through `/api/v1` too. Errors use MLflow's
//! envelope `{"error_code", "message"}` with its HTTP statuses. Run artifacts go through the
//! proxied routes `/api/2.0/mlflow-artifacts/artifacts/...`. See docs/mlflow.md.

mod artifacts;
mod error;
mod experiments;
mod filter;
mod history;
mod models;
mod multipart;
mod registry;
mod runs;
mod wire;

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use verity_policy::Action;

use crate::auth::{AuthMode, Caller, Target};
use crate::state::AppState;
pub use error::MlflowError;
pub use multipart::Uploads;

/// `axum::extract::Path` whose rejections (a segment that is not UTF-8, say) use MLflow's
/// envelope.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(MlflowError))]
pub struct Path<T>(pub T);

/// The name of the experiment MLflow clients address as id `"0"`.
pub const DEFAULT_EXPERIMENT: &str = "Default";

/// The routes, under both prefixes.
pub fn router() -> Router<AppState> {
    let routes = || {
        Router::new()
            .route("/experiments/create", post(experiments::create))
            .route("/experiments/get", get(experiments::get))
            .route("/experiments/get-by-name", get(experiments::get_by_name))
            .route(
                "/experiments/search",
                post(experiments::search).get(experiments::search_get),
            )
            .route("/experiments/update", post(experiments::update))
            .route("/experiments/delete", post(experiments::delete))
            .route("/experiments/restore", post(experiments::restore))
            .route(
                "/experiments/set-experiment-tag",
                post(experiments::set_tag),
            )
            .route(
                "/experiments/delete-experiment-tag",
                post(experiments::delete_tag),
            )
            .route("/runs/create", post(runs::create))
            .route("/runs/get", get(runs::get))
            .route("/runs/update", post(runs::update))
            .route("/runs/delete", post(runs::delete))
            .route("/runs/restore", post(runs::restore))
            .route("/runs/log-batch", post(runs::log_batch))
            .route("/runs/log-metric", post(runs::log_metric))
            .route("/runs/log-parameter", post(runs::log_parameter))
            .route("/runs/set-tag", post(runs::set_tag))
            .route("/runs/delete-tag", post(runs::delete_tag))
            .route("/runs/search", post(runs::search))
            .route("/metrics/get-history", get(runs::metric_history))
            .route(
                "/metrics/get-history-bulk-interval",
                get(history::bulk_interval),
            )
            .route("/runs/outputs", post(models::run_outputs))
            .route("/runs/log-inputs", post(runs::log_inputs))
            .route("/logged-models", post(models::create_logged))
            .route("/logged-models/search", post(models::search_logged))
            .route(
                "/logged-models/{model_id}",
                get(models::get_logged)
                    .patch(models::finalize)
                    .delete(models::delete_logged),
            )
            .route(
                "/logged-models/{model_id}/tags",
                patch(models::set_logged_tags),
            )
            .route(
                "/logged-models/{model_id}/tags/{key}",
                delete(models::delete_logged_tag),
            )
            .route(
                "/logged-models/{model_id}/params",
                post(models::log_logged_params),
            )
            .route("/registered-models/create", post(models::create_registered))
            .route("/registered-models/get", get(models::get_registered))
            .route(
                "/registered-models/search",
                get(models::search_registered).post(models::search_registered),
            )
            .route(
                "/registered-models/update",
                patch(models::update_registered),
            )
            .route(
                "/model-versions/search",
                get(models::search_versions).post(models::search_versions),
            )
            .route("/model-versions/update", patch(models::update_version))
            .route(
                "/registered-models/alias",
                post(models::set_alias)
                    .get(models::get_alias)
                    .delete(models::delete_alias),
            )
            .route("/model-versions/create", post(models::create_version))
            .route("/model-versions/get", get(models::get_version))
            .route(
                "/model-versions/get-download-uri",
                get(models::download_uri),
            )
            .route("/registered-models/set-tag", post(registry::set_model_tag))
            .route(
                "/registered-models/delete-tag",
                delete(registry::delete_model_tag),
            )
            .route("/model-versions/set-tag", post(registry::set_version_tag))
            .route(
                "/model-versions/delete-tag",
                delete(registry::delete_version_tag),
            )
            .route(
                "/registered-models/get-latest-versions",
                get(registry::latest_versions).post(registry::latest_versions),
            )
            .route("/registered-models/rename", post(registry::rename))
            .route("/registered-models/delete", delete(registry::delete))
            .route("/model-versions/delete", delete(registry::delete))
            .route(
                "/model-versions/transition-stage",
                post(registry::transition_stage),
            )
            .fallback(|| async { MlflowError::endpoint_not_found() })
            .method_not_allowed_fallback(|| async { MlflowError::method_not_allowed() })
    };
    let artifacts = Router::new()
        .route("/artifacts", get(artifacts::list))
        .route(
            "/artifacts/{*path}",
            get(artifacts::get)
                .put(artifacts::upload)
                .delete(artifacts::delete),
        )
        .route("/mpu/create/{*path}", post(multipart::create))
        .route("/mpu/complete/{*path}", post(multipart::complete))
        .route("/mpu/abort/{*path}", post(multipart::abort))
        .route(
            "/mpu/part/{upload_id}/{part_number}",
            axum::routing::put(multipart::put_part),
        )
        .fallback(|| async { MlflowError::endpoint_not_found() })
        .method_not_allowed_fallback(|| async { MlflowError::method_not_allowed() });
    Router::new()
        .nest("/api/2.0/mlflow", routes())
        .nest("/ajax-api/2.0/mlflow", routes())
        .nest("/api/2.0/mlflow-artifacts", artifacts)
}

/// The project MLflow calls act in, which must exist (`RESOURCE_DOES_NOT_EXIST` saying who
/// creates it). Read routes use this; nothing is created on a read.
async fn project(state: &AppState, _caller: &Caller) -> Result<String, MlflowError> {
    let name = state.mlflow_project.to_string();
    match state.get_project(&name).await {
        Ok(_) => Ok(name),
        Err(e) if e.kind() == verity_store::ErrorKind::NotFound => {
            Err(MlflowError::not_found(format!(
                "Verity project '{name}', where MLflow clients log, does not exist yet: the first \
                 experiment or run created by someone allowed to create projects creates it, or \
                 an administrator does (POST /api/v1/projects)"
            )))
        }
        Err(e) => Err(e.into()),
    }
}

/// The project MLflow calls act in, created (with the `Default` experiment, MLflow's "0") when
/// missing if the caller may create projects (authorized and audited like
/// `POST /api/v1/projects`). Only creating routes use this.
async fn project_for_write(state: &AppState, caller: &Caller) -> Result<String, MlflowError> {
    let name = state.mlflow_project.to_string();
    match state.get_project(&name).await {
        Ok(_) => Ok(name),
        Err(e) if e.kind() == verity_store::ErrorKind::NotFound => {
            caller
                .authorize(state, Action::ProjectCreate, &Target::global("project"))
                .await?;
            match state
                .create_project(&name, "Experiments logged by MLflow clients", &caller.actor)
                .await
            {
                Ok(_) => {
                    // MLflow's experiment "0" exists from the start.
                    match state
                        .create_experiment(&name, DEFAULT_EXPERIMENT, "", &caller.actor)
                        .await
                    {
                        Ok(_) => Ok(name),
                        Err(e) if e.kind() == verity_store::ErrorKind::AlreadyExists => Ok(name),
                        Err(e) => Err(e.into()),
                    }
                }
                Err(e) if e.kind() == verity_store::ErrorKind::AlreadyExists => Ok(name),
                Err(e) => Err(e.into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// Authenticates an MLflow request before its handler reads the body, so that an
/// unauthenticated caller is refused without the server buffering what it sent; the handler
/// reuses the [`Caller`] found here. Part uploads of a multipart upload carry no credentials
/// (the upload id is the credential) and pass.
pub async fn authenticate_first(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if state.auth_mode == AuthMode::Disabled
        || request
            .uri()
            .path()
            .starts_with("/api/2.0/mlflow-artifacts/mpu/part/")
    {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    match Caller::from_request_parts(&mut parts, &state).await {
        Ok(caller) => {
            parts.extensions.insert(caller);
            next.run(Request::from_parts(parts, body)).await
        }
        Err(e) => MlflowError::from(e).into_response(),
    }
}

/// Authorizes `action` on the run `id` (in whichever project it is); an unknown run is
/// MLflow's `RESOURCE_DOES_NOT_EXIST`.
async fn authorize_run(
    state: &AppState,
    caller: &Caller,
    action: Action,
    id: &str,
) -> Result<verity_store::model::Run, MlflowError> {
    caller.authorize_run(state, action, id).await.map_err(|e| {
        if e.status().as_u16() == 404 {
            MlflowError::not_found(format!("Run with id={id} not found"))
        } else {
            e.into()
        }
    })
}
