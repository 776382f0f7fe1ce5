//! MLflow 3 logged models (`logged-models*`, `runs/outputs`) and the model registry
//! (`registered-models/*`, `model-versions/*`, aliases) over Verity's registry.
//!
//! A logged model's `artifact_uri` is `mlflow-artifacts:/<exp>/<run>/artifacts/models/<id>`:
//! its files become the source run's artifacts under `models/<id>/`, and a model version made
//! from it (`source: models:/<id>`) is a Verity model version from that run artifact directory,
//! with the run → version lineage and the version's files.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use serde::Deserialize;
use serde_json::{Value, json};
use verity_policy::Action;
use verity_store::model::{KeyValue, ModelVersion, RegisteredModel};
use verity_store::{
    LoggedModel, ModelSource, NewLoggedModel, NewModelVersion, TagTarget, VersionRef,
};

use super::experiments::resolve;
use super::filter::{self, Entity, Kind};
use super::wire::{self, InPair, Int};
use super::{MlflowError, Path, project};
use crate::auth::{Caller, Target};
use crate::error::ApiError;
use crate::state::AppState;

type Reply = Result<Json<Value>, MlflowError>;

/// The project, after authorizing `action` in it.
pub(super) async fn authorized(
    state: &AppState,
    c: &Caller,
    action: Action,
) -> Result<String, MlflowError> {
    let project = project(state, c).await?;
    c.authorize(state, action, &Target::project(&project))
        .await?;
    Ok(project)
}

/// MLflow's name of a logged model status.
fn status_name(status: &str) -> &'static str {
    match status {
        "READY" => "LOGGED_MODEL_READY",
        "FAILED" => "LOGGED_MODEL_UPLOAD_FAILED",
        _ => "LOGGED_MODEL_PENDING",
    }
}

/// Verity's status from MLflow's name or number.
fn status_of(value: &Value) -> Result<&'static str, MlflowError> {
    match (value.as_str(), value.as_i64()) {
        (Some("LOGGED_MODEL_PENDING"), _) | (_, Some(1)) => Ok("PENDING"),
        (Some("LOGGED_MODEL_READY"), _) | (_, Some(2)) => Ok("READY"),
        (Some("LOGGED_MODEL_UPLOAD_FAILED"), _) | (_, Some(3)) => Ok("FAILED"),
        _ => Err(MlflowError::invalid(format!(
            "status {value} is not one of LOGGED_MODEL_PENDING, LOGGED_MODEL_READY, \
             LOGGED_MODEL_UPLOAD_FAILED"
        ))),
    }
}

/// A logged model as MLflow writes it.
async fn logged_model_json(state: &AppState, m: &LoggedModel) -> Result<Value, MlflowError> {
    let run = state.get_run(&m.source_run_id).await?;
    let mut info = json!({
        "model_id": m.model_id,
        "experiment_id": m.experiment_id.to_string(),
        "name": m.name,
        "creation_timestamp_ms": m.created_at,
        "last_updated_timestamp_ms": m.updated_at,
        "artifact_uri": format!(
            "mlflow-artifacts:/{}/{}/artifacts/{}",
            run.experiment_id, run.uuid, m.artifact_dir()
        ),
        "status": status_name(&m.status),
        "model_type": m.model_type,
        "source_run_id": m.source_run_id,
    });
    if !m.tags.is_empty() {
        info["tags"] = m.tags.iter().map(wire::pair).collect();
    }
    let mut data = json!({});
    if !m.params.is_empty() {
        data["params"] = m.params.iter().map(wire::pair).collect();
    }
    Ok(json!({"info": info, "data": data}))
}

/// Reads a logged model after authorizing `action` on its source run.
async fn logged_model(
    state: &AppState,
    c: &Caller,
    action: Action,
    model_id: &str,
) -> Result<LoggedModel, MlflowError> {
    if model_id.contains('\0') {
        return Err(MlflowError::not_found(format!(
            "Logged model with ID '{}' not found",
            model_id.escape_default()
        )));
    }
    let found = state.get_logged_model(model_id).await.map_err(|e| {
        if e.kind() == verity_store::ErrorKind::NotFound {
            MlflowError::not_found(format!("Logged model with ID '{model_id}' not found"))
        } else {
            e.into()
        }
    })?;
    c.authorize_run(state, action, &found.source_run_id).await?;
    Ok(found)
}

#[derive(Deserialize)]
pub(super) struct CreateLogged {
    experiment_id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    model_type: Option<String>,
    #[serde(default)]
    source_run_id: Option<String>,
    #[serde(default)]
    params: Vec<InPair>,
    #[serde(default)]
    tags: Vec<InPair>,
}

/// `POST logged-models`: a model logged from a run (`run.write` on it).
pub(super) async fn create_logged(State(state): State<AppState>, c: Caller, body: Bytes) -> Reply {
    let req: CreateLogged = wire::body(&body)?;
    let run = req.source_run_id.filter(|r| !r.is_empty()).ok_or_else(|| {
        MlflowError::invalid(
            "Verity logs models from runs: give source_run_id (log the model inside a run)",
        )
    })?;
    let source = c.authorize_run(&state, Action::RunWrite, &run).await?;
    let project = project(&state, &c).await?;
    if source.project != project {
        return Err(MlflowError::invalid(format!(
            "run {run} belongs to Verity project '{}'; MLflow clients log models in '{project}'",
            source.project
        )));
    }
    let experiment = resolve(&state, &c, &project, &req.experiment_id, false).await?;
    let name = req
        .name
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "model".to_owned());
    let new = NewLoggedModel {
        experiment_id: experiment.id,
        name,
        source_run_id: run,
        model_type: req.model_type.unwrap_or_default(),
        params: req.params.into_iter().map(Into::into).collect(),
        tags: req.tags.into_iter().map(Into::into).collect(),
    };
    let created = state.create_logged_model(&project, &new, &c.actor).await?;
    Ok(Json(
        json!({"model": logged_model_json(&state, &created).await?}),
    ))
}

/// `GET logged-models/{id}`.
pub(super) async fn get_logged(
    State(state): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> Reply {
    let found = logged_model(&state, &c, Action::RunRead, &id).await?;
    Ok(Json(
        json!({"model": logged_model_json(&state, &found).await?}),
    ))
}

#[derive(Deserialize)]
pub(super) struct Finalize {
    status: Value,
}

/// `PATCH logged-models/{id}`: the status after the upload.
pub(super) async fn finalize(
    State(state): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Reply {
    let req: Finalize = wire::body(&body)?;
    let status = status_of(&req.status)?;
    logged_model(&state, &c, Action::RunWrite, &id).await?;
    let updated = state
        .update_logged_model(&id, Some(status), &[], &[], &c.actor)
        .await?;
    Ok(Json(
        json!({"model": logged_model_json(&state, &updated).await?}),
    ))
}

#[derive(Deserialize)]
pub(super) struct Tags {
    #[serde(default)]
    tags: Vec<InPair>,
}

/// `PATCH logged-models/{id}/tags`.
pub(super) async fn set_logged_tags(
    State(state): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Reply {
    let req: Tags = wire::body(&body)?;
    logged_model(&state, &c, Action::RunWrite, &id).await?;
    let tags: Vec<_> = req.tags.into_iter().map(Into::into).collect();
    state
        .update_logged_model(&id, None, &tags, &[], &c.actor)
        .await?;
    Ok(Json(json!({})))
}

/// `DELETE logged-models/{id}/tags/{key}`.
pub(super) async fn delete_logged_tag(
    State(state): State<AppState>,
    c: Caller,
    Path((id, key)): Path<(String, String)>,
) -> Reply {
    logged_model(&state, &c, Action::RunWrite, &id).await?;
    state.delete_logged_model_tag(&id, &key, &c.actor).await?;
    Ok(Json(json!({})))
}

/// `DELETE logged-models/{id}`: the model is no longer found or listed; its files (its run's
/// artifacts) and the versions registered from it stay.
pub(super) async fn delete_logged(
    State(state): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> Reply {
    logged_model(&state, &c, Action::RunWrite, &id).await?;
    state.delete_logged_model(&id, &c.actor).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
pub(super) struct Params {
    #[serde(default)]
    params: Vec<InPair>,
}

/// `POST logged-models/{id}/params`.
pub(super) async fn log_logged_params(
    State(state): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Reply {
    let req: Params = wire::body(&body)?;
    logged_model(&state, &c, Action::RunWrite, &id).await?;
    let params: Vec<_> = req.params.into_iter().map(Into::into).collect();
    state
        .update_logged_model(&id, None, &[], &params, &c.actor)
        .await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
pub(super) struct SearchLogged {
    #[serde(default)]
    experiment_ids: Vec<String>,
    #[serde(default)]
    filter: Option<String>,
    #[serde(default)]
    order_by: Vec<LoggedOrder>,
    #[serde(default)]
    max_results: Option<Int>,
    #[serde(default)]
    page_token: Option<String>,
}

/// One `order_by` entry of a logged-model search.
#[derive(Deserialize)]
pub(super) struct LoggedOrder {
    field_name: String,
    #[serde(default)]
    ascending: Option<bool>,
}

/// `POST logged-models/search`.
pub(super) async fn search_logged(State(state): State<AppState>, c: Caller, body: Bytes) -> Reply {
    let project = authorized(&state, &c, Action::RunRead).await?;
    let req: SearchLogged = wire::body(&body)?;
    let filter = filter::parse_filter(req.filter.as_deref(), Kind::LoggedModels)?;
    let order: Vec<Value> = req
        .order_by
        .iter()
        .map(|o| {
            let direction = if o.ascending.unwrap_or(true) {
                "ASC"
            } else {
                "DESC"
            };
            Value::String(format!("{} {direction}", o.field_name))
        })
        .collect();
    let order = filter::parse_order(Some(&Value::Array(order)), Kind::LoggedModels)?;
    let max = wire::result_count(req.max_results, 100, 1000)?;
    let mut experiments = Vec::with_capacity(req.experiment_ids.len());
    for id in &req.experiment_ids {
        experiments.push(resolve(&state, &c, &project, id, false).await?.id);
    }
    // An exact name is looked up by the store; the rest of the filter applies here.
    let (store, project, experiments, name) = (
        &state,
        project.as_str(),
        experiments.as_slice(),
        filter.exact_name(),
    );
    let all = filter::read_all(|page| async move {
        store
            .search_logged_models(project, experiments, name, None, &page)
            .await
    })
    .await?;
    let selected = filter::select(all, &filter, &order, |m| Entity {
        id: 0,
        name: &m.name,
        created: m.created_at,
        updated: m.updated_at,
        tags: &m.tags,
    });
    let (page, next) = filter::offset_page(selected, max, req.page_token.as_deref())?;
    let mut models = Vec::with_capacity(page.len());
    for m in &page {
        models.push(logged_model_json(&state, m).await?);
    }
    Ok(Json(wire::paged("models", models, next)))
}

#[derive(Deserialize)]
pub(super) struct OutputModel {
    model_id: String,
}

#[derive(Deserialize)]
pub(super) struct Outputs {
    run_id: String,
    #[serde(default)]
    models: Vec<OutputModel>,
}

/// `POST runs/outputs`: the models a run produced; each must have been logged from it (the
/// link is the logged model's source run).
pub(super) async fn run_outputs(State(state): State<AppState>, c: Caller, body: Bytes) -> Reply {
    let req: Outputs = wire::body(&body)?;
    c.authorize_run(&state, Action::RunWrite, &req.run_id)
        .await?;
    for model in &req.models {
        let found = logged_model(&state, &c, Action::RunRead, &model.model_id).await?;
        if found.source_run_id != req.run_id {
            return Err(MlflowError::invalid(format!(
                "model {} was logged from run {}, not {}",
                found.model_id, found.source_run_id, req.run_id
            )));
        }
    }
    Ok(Json(json!({})))
}

/// A registered model as MLflow writes it.
pub(super) fn registered_model_json(m: &RegisteredModel) -> Value {
    let mut out = json!({
        "name": m.name,
        "creation_timestamp": m.created_at,
        "last_updated_timestamp": m.updated_at,
        "description": m.description,
        "user_id": m.created_by,
    });
    if !m.aliases.is_empty() {
        out["aliases"] = m
            .aliases
            .iter()
            .map(|a| json!({"alias": a.alias, "version": a.version.to_string()}))
            .collect();
    }
    if !m.tags.is_empty() {
        out["tags"] = m.tags.iter().map(wire::pair).collect();
    }
    out
}

/// The MLflow `source` of a version, and its logged model when it came from one.
fn source_of(v: &ModelVersion) -> (String, Option<String>) {
    match (&v.source_run_id, &v.source_path) {
        (Some(_), Some(path)) if path.starts_with("models/m-") => {
            let id = path.trim_start_matches("models/").to_owned();
            (format!("models:/{id}"), Some(id))
        }
        (Some(run), Some(path)) => (format!("runs:/{run}/{path}"), None),
        _ => (String::new(), None),
    }
}

/// A model version as MLflow writes it (always READY: Verity registers synchronously).
pub(super) fn model_version_json(v: &ModelVersion) -> Value {
    let (source, model_id) = source_of(v);
    let mut out = json!({
        "name": v.model,
        "version": v.version.to_string(),
        "creation_timestamp": v.created_at,
        "last_updated_timestamp": v.updated_at,
        "user_id": v.created_by,
        "current_stage": "None",
        "description": v.description,
        "source": source,
        "run_id": v.source_run_id.clone().unwrap_or_default(),
        "status": "READY",
        "run_link": "",
    });
    if !v.aliases.is_empty() {
        out["aliases"] = json!(v.aliases);
    }
    if !v.tags.is_empty() {
        out["tags"] = v.tags.iter().map(wire::pair).collect();
    }
    if let Some(id) = model_id {
        out["model_id"] = json!(id);
    }
    out
}

/// A name in a body or, for GET and DELETE, the query.
pub(super) fn fields<T: serde::de::DeserializeOwned>(
    body: &Bytes,
    query: Option<&str>,
) -> Result<T, MlflowError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        wire::query(query)
    } else {
        wire::body(body)
    }
}

#[derive(Deserialize)]
pub(super) struct CreateRegistered {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    tags: Vec<InPair>,
}

/// `POST registered-models/create`.
pub(super) async fn create_registered(
    State(state): State<AppState>,
    c: Caller,
    body: Bytes,
) -> Reply {
    let project = authorized(&state, &c, Action::ModelCreate).await?;
    let req: CreateRegistered = wire::body(&body)?;
    let tags: Vec<KeyValue> = req.tags.into_iter().map(Into::into).collect();
    for tag in &tags {
        verity_store::validate::key("tag key", &tag.key)?;
        verity_store::validate::value("tag value", &tag.value)?;
    }
    let created = state
        .create_model(
            &project,
            &req.name,
            req.description.as_deref().unwrap_or(""),
            &c.actor,
        )
        .await?;
    let created = if tags.is_empty() {
        created
    } else {
        let target = TagTarget::Model {
            project: &project,
            name: &req.name,
        };
        state.set_tags_of(target, &tags, &c.actor).await?;
        state.get_model(&project, &req.name).await?
    };
    Ok(Json(
        json!({"registered_model": registered_model_json(&created)}),
    ))
}

#[derive(Deserialize)]
pub(super) struct ByName {
    name: String,
}

/// `GET registered-models/get`.
pub(super) async fn get_registered(
    State(state): State<AppState>,
    c: Caller,
    RawQuery(q): RawQuery,
) -> Reply {
    let project = authorized(&state, &c, Action::ModelRead).await?;
    let req: ByName = wire::query(q.as_deref())?;
    let found = state.get_model(&project, &req.name).await?;
    Ok(Json(
        json!({"registered_model": registered_model_json(&found)}),
    ))
}

#[derive(Deserialize)]
pub(super) struct CreateVersion {
    name: String,
    source: String,
    #[serde(default)]
    run_id: Option<String>,
    #[serde(default)]
    model_id: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    tags: Vec<InPair>,
}

/// The run artifact directory a version's `source` names: `models:/<logged model>`,
/// `runs:/<run>/<path>`, or `mlflow-artifacts:/<exp>/<run>/artifacts/<path>`.
async fn source_dir(
    state: &AppState,
    c: &Caller,
    req: &CreateVersion,
) -> Result<(String, String), MlflowError> {
    let logged = req
        .model_id
        .clone()
        .filter(|m| !m.is_empty())
        .or_else(|| req.source.strip_prefix("models:/").map(str::to_owned));
    if let Some(id) = logged {
        let found = logged_model(state, c, Action::RunRead, &id).await?;
        let dir = found.artifact_dir();
        return Ok((found.source_run_id, dir));
    }
    let run_path = req
        .source
        .strip_prefix("runs:/")
        .map(str::to_owned)
        .or_else(|| {
            let rest = req.source.strip_prefix("mlflow-artifacts:/")?;
            let mut parts = rest.splitn(4, '/');
            let (_, run, artifacts, path) =
                (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
            (artifacts == "artifacts").then(|| format!("{run}/{path}"))
        });
    match run_path.as_deref().and_then(|rp| rp.split_once('/')) {
        Some((run, path)) if !path.is_empty() => {
            if req
                .run_id
                .as_deref()
                .is_some_and(|r| !r.is_empty() && r != run)
            {
                return Err(MlflowError::invalid(format!(
                    "source '{}' names run {run}, not run_id {}",
                    req.source,
                    req.run_id.as_deref().unwrap_or_default()
                )));
            }
            Ok((run.to_owned(), path.trim_matches('/').to_owned()))
        }
        _ => Err(MlflowError::invalid(format!(
            "source '{}' is not a model Verity holds: use models:/<model id>, runs:/<run>/<path> \
             or the run's mlflow-artifacts:/ location",
            req.source
        ))),
    }
}

/// `POST model-versions/create`: a Verity model version from the run artifact directory.
pub(super) async fn create_version(State(state): State<AppState>, c: Caller, body: Bytes) -> Reply {
    let project = authorized(&state, &c, Action::ModelVersionCreate).await?;
    let req: CreateVersion = wire::body(&body)?;
    let (run_id, path) = source_dir(&state, &c, &req).await?;
    c.authorize_run(&state, Action::RunRead, &run_id).await?;
    // A Verity model directory is checked against its tensors, as /api/v1 does.
    crate::evaluations::check_run_artifact_model(&state, &project, &run_id, &path)
        .await
        .map_err(|e| MlflowError::from(ApiError::from(e)))?;
    let new = NewModelVersion {
        source: ModelSource::RunArtifact { run_id, path },
        description: req.description.clone().unwrap_or_default(),
        tags: req.tags.iter().cloned().map(Into::into).collect(),
    };
    let version = state
        .create_model_version(&project, &req.name, new, &c.actor)
        .await?;
    Ok(Json(json!({"model_version": model_version_json(&version)})))
}

#[derive(Deserialize)]
pub(super) struct ByVersion {
    name: String,
    version: String,
}

pub(super) fn version_number(text: &str) -> Result<i64, MlflowError> {
    text.parse()
        .map_err(|_| MlflowError::invalid(format!("version '{text}' is not a number")))
}

/// `GET model-versions/get`.
pub(super) async fn get_version(
    State(state): State<AppState>,
    c: Caller,
    RawQuery(q): RawQuery,
) -> Reply {
    let project = authorized(&state, &c, Action::ModelRead).await?;
    let req: ByVersion = wire::query(q.as_deref())?;
    let found = state
        .get_model_version(&project, &req.name, version_number(&req.version)?)
        .await?;
    Ok(Json(json!({"model_version": model_version_json(&found)})))
}

/// `GET model-versions/get-download-uri`: where the version's files are (the source run's
/// artifacts).
pub(super) async fn download_uri(
    State(state): State<AppState>,
    c: Caller,
    RawQuery(q): RawQuery,
) -> Reply {
    let project = authorized(&state, &c, Action::ModelRead).await?;
    let req: ByVersion = wire::query(q.as_deref())?;
    let found = state
        .get_model_version(&project, &req.name, version_number(&req.version)?)
        .await?;
    let (Some(run), Some(path)) = (&found.source_run_id, &found.source_path) else {
        return Err(MlflowError::invalid(format!(
            "version {} of {} was uploaded as one file; download it with GET \
             /api/v1/projects/{project}/models/{}/versions/{}/files/<name>",
            found.version, found.model, found.model, found.version
        )));
    };
    let run = c.authorize_run(&state, Action::RunRead, run).await?;
    Ok(Json(json!({"artifact_uri": format!(
        "mlflow-artifacts:/{}/{}/artifacts/{path}",
        run.experiment_id, run.uuid
    )})))
}

#[derive(Deserialize)]
pub(super) struct Alias {
    name: String,
    alias: String,
    #[serde(default)]
    version: Option<String>,
}

/// `POST registered-models/alias`.
pub(super) async fn set_alias(State(state): State<AppState>, c: Caller, body: Bytes) -> Reply {
    let project = authorized(&state, &c, Action::AliasWrite).await?;
    let req: Alias = wire::body(&body)?;
    let version = version_number(req.version.as_deref().unwrap_or_default())?;
    let target = VersionRef::Number(version);
    let evidence =
        crate::routes::promotion::guard_alias(&state, &project, &req.name, &req.alias, &target)
            .await?;
    state
        .set_alias_with_evidence(
            &project,
            &req.name,
            &req.alias,
            target,
            evidence.as_ref(),
            &c.actor,
        )
        .await?;
    Ok(Json(json!({})))
}

/// `GET registered-models/alias`: the version an alias points to.
pub(super) async fn get_alias(
    State(state): State<AppState>,
    c: Caller,
    RawQuery(q): RawQuery,
) -> Reply {
    let project = authorized(&state, &c, Action::ModelRead).await?;
    let req: Alias = wire::query(q.as_deref())?;
    let found = state
        .resolve_alias(&project, &req.name, &req.alias, None)
        .await?;
    Ok(Json(json!({"model_version": model_version_json(&found)})))
}

/// `DELETE registered-models/alias`.
pub(super) async fn delete_alias(
    State(state): State<AppState>,
    c: Caller,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Reply {
    let project = authorized(&state, &c, Action::AliasWrite).await?;
    let req: Alias = fields(&body, q.as_deref())?;
    state
        .delete_alias(&project, &req.name, &req.alias, &c.actor)
        .await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
pub(super) struct SearchRegistered {
    #[serde(default)]
    filter: Option<String>,
    #[serde(default)]
    order_by: Option<Value>,
    #[serde(default)]
    max_results: Option<Int>,
    #[serde(default)]
    page_token: Option<String>,
}

/// `GET registered-models/search` (also POST): filtered, ordered pages of registered models.
pub(super) async fn search_registered(
    State(state): State<AppState>,
    c: Caller,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Reply {
    let project = authorized(&state, &c, Action::ModelRead).await?;
    let req: SearchRegistered = fields(&body, q.as_deref())?;
    let filter = filter::parse_filter(req.filter.as_deref(), Kind::RegisteredModels)?;
    let order = filter::parse_order(req.order_by.as_ref(), Kind::RegisteredModels)?;
    let max = wire::result_count(req.max_results, 100, 1000)?;
    let (store, project) = (&state, project.as_str());
    let all =
        filter::read_all(|page| async move { store.list_models(project, &page).await }).await?;
    let selected = filter::select(all, &filter, &order, |m| Entity {
        id: m.id,
        name: &m.name,
        created: m.created_at,
        updated: m.updated_at,
        tags: &m.tags,
    });
    let (page, next) = filter::offset_page(selected, max, req.page_token.as_deref())?;
    let models = page.iter().map(registered_model_json).collect();
    Ok(Json(wire::paged("registered_models", models, next)))
}

#[derive(Deserialize)]
pub(super) struct UpdateRegistered {
    name: String,
    #[serde(default)]
    description: Option<String>,
}

/// `PATCH registered-models/update` (the description).
pub(super) async fn update_registered(
    State(state): State<AppState>,
    c: Caller,
    body: Bytes,
) -> Reply {
    let project = authorized(&state, &c, Action::ModelUpdate).await?;
    let req: UpdateRegistered = wire::body(&body)?;
    let updated = state
        .update_model(
            &project,
            &req.name,
            req.description.as_deref().unwrap_or(""),
            &c.actor,
        )
        .await?;
    Ok(Json(
        json!({"registered_model": registered_model_json(&updated)}),
    ))
}

#[derive(Deserialize)]
pub(super) struct SearchVersions {
    #[serde(default)]
    filter: Option<String>,
    #[serde(default)]
    max_results: Option<Int>,
    #[serde(default)]
    page_token: Option<String>,
}

/// `GET model-versions/search`: the versions of one model, `filter` `name = '<model>'`.
pub(super) async fn search_versions(
    State(state): State<AppState>,
    c: Caller,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Reply {
    let project = authorized(&state, &c, Action::ModelRead).await?;
    let req: SearchVersions = fields(&body, q.as_deref())?;
    let filter = filter::parse_filter(req.filter.as_deref(), Kind::ModelVersions)?;
    let Some(name) = filter.exact_name() else {
        return Err(MlflowError::invalid(
            "search model versions of one model: filter \"name = '<model>'\"",
        ));
    };
    // MLflow's limit for version searches is 200,000. Other clauses (tags) apply to each
    // page: a page may hold fewer matches than `max_results` while `next_page_token` leads on.
    let page = wire::page(req.max_results, 1000, 200_000, req.page_token.as_deref())?;
    let found = state.list_model_versions(&project, name, &page).await?;
    let versions = found
        .items
        .iter()
        .filter(|v| {
            filter.matches(&Entity {
                id: v.id,
                name: &v.model,
                created: v.created_at,
                updated: v.updated_at,
                tags: &v.tags,
            })
        })
        .map(model_version_json)
        .collect();
    Ok(Json(wire::paged(
        "model_versions",
        versions,
        found.next_cursor,
    )))
}

#[derive(Deserialize)]
pub(super) struct UpdateVersion {
    name: String,
    version: String,
    #[serde(default)]
    description: Option<String>,
}

/// `PATCH model-versions/update` (the description).
pub(super) async fn update_version(State(state): State<AppState>, c: Caller, body: Bytes) -> Reply {
    let project = authorized(&state, &c, Action::ModelVersionUpdate).await?;
    let req: UpdateVersion = wire::body(&body)?;
    let updated = state
        .update_model_version(
            &project,
            &req.name,
            version_number(&req.version)?,
            req.description.as_deref(),
            &[],
            &c.actor,
        )
        .await?;
    Ok(Json(json!({"model_version": model_version_json(&updated)})))
}
