//! The rest of MLflow's registry over Verity's: tags on registered models and versions,
//! renaming, `get-latest-versions`, and the requests Verity refuses by design: deleting registered
//! models or versions (they are the evidence approvals, evaluations and lineage point at) and
//! stage transitions (Verity uses aliases, MLflow's own replacement for stages).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use serde::Deserialize;
use serde_json::{Value, json};
use verity_policy::Action;
use verity_store::TagTarget;
use verity_store::model::KeyValue;

use super::MlflowError;
use super::models::{
    authorized, fields, model_version_json, registered_model_json, version_number,
};
use super::wire::{self, InPair};
use crate::auth::{Caller, Target};
use crate::state::AppState;

type Reply = Result<Json<Value>, MlflowError>;

/// MLflow's stages; a Verity version is always in `None`.
const STAGES: [&str; 4] = ["None", "Staging", "Production", "Archived"];

#[derive(Deserialize)]
pub(super) struct ModelTag {
    name: String,
    #[serde(default)]
    version: Option<String>,
    key: String,
    #[serde(default, deserialize_with = "wire::text")]
    value: String,
}

/// Whose tag a route sets or deletes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Owner {
    /// `registered-models/*-tag`: the model (a `version` field is not read).
    Model,
    /// `model-versions/*-tag`: the version `version` names (required).
    Version,
}

/// The tag's target and the action it needs (`model.update` on a model, `model_version.update`
/// on a version).
fn target<'a>(
    owner: Owner,
    project: &'a str,
    req: &'a ModelTag,
) -> Result<(TagTarget<'a>, Action), MlflowError> {
    Ok(match owner {
        Owner::Model => (
            TagTarget::Model {
                project,
                name: &req.name,
            },
            Action::ModelUpdate,
        ),
        Owner::Version => {
            let version = req
                .version
                .as_deref()
                .ok_or_else(|| MlflowError::invalid("version is required"))?;
            (
                TagTarget::ModelVersion {
                    project,
                    model: &req.name,
                    version: version_number(version)?,
                },
                Action::ModelVersionUpdate,
            )
        }
    })
}

async fn set_tag(state: AppState, c: Caller, body: Bytes, owner: Owner) -> Reply {
    let req: ModelTag = wire::body(&body)?;
    let project = super::project(&state, &c).await?;
    let (target, action) = target(owner, &project, &req)?;
    c.authorize(&state, action, &Target::project(&project))
        .await?;
    let tag = KeyValue::from(InPair {
        key: req.key.clone(),
        value: req.value.clone(),
    });
    state.set_tags_of(target, &[tag], &c.actor).await?;
    Ok(Json(json!({})))
}

async fn delete_tag(
    state: AppState,
    c: Caller,
    q: Option<String>,
    body: Bytes,
    owner: Owner,
) -> Reply {
    let req: ModelTag = fields(&body, q.as_deref())?;
    let project = super::project(&state, &c).await?;
    let (target, action) = target(owner, &project, &req)?;
    c.authorize(&state, action, &Target::project(&project))
        .await?;
    state.delete_tag_of(target, &req.key, &c.actor).await?;
    Ok(Json(json!({})))
}

/// `POST registered-models/set-tag`.
pub(super) async fn set_model_tag(State(state): State<AppState>, c: Caller, body: Bytes) -> Reply {
    set_tag(state, c, body, Owner::Model).await
}

/// `POST model-versions/set-tag`.
pub(super) async fn set_version_tag(
    State(state): State<AppState>,
    c: Caller,
    body: Bytes,
) -> Reply {
    set_tag(state, c, body, Owner::Version).await
}

/// `DELETE registered-models/delete-tag`.
pub(super) async fn delete_model_tag(
    State(state): State<AppState>,
    c: Caller,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Reply {
    delete_tag(state, c, q, body, Owner::Model).await
}

/// `DELETE model-versions/delete-tag`.
pub(super) async fn delete_version_tag(
    State(state): State<AppState>,
    c: Caller,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Reply {
    delete_tag(state, c, q, body, Owner::Version).await
}

#[derive(Deserialize)]
pub(super) struct Rename {
    name: String,
    new_name: String,
}

/// `POST registered-models/rename`: versions, aliases and lineage follow the model.
pub(super) async fn rename(State(state): State<AppState>, c: Caller, body: Bytes) -> Reply {
    let project = authorized(&state, &c, Action::ModelUpdate).await?;
    let req: Rename = wire::body(&body)?;
    let renamed = state
        .rename_model(&project, &req.name, &req.new_name, &c.actor)
        .await?;
    Ok(Json(
        json!({"registered_model": registered_model_json(&renamed)}),
    ))
}

#[derive(Deserialize)]
pub(super) struct LatestVersions {
    name: String,
    #[serde(default)]
    stages: Option<Value>,
}

/// `GET`/`POST registered-models/get-latest-versions`: the latest version in each stage
/// asked (all when none are): a Verity version is in stage `None`, so that is the model's
/// latest version, and the other stages are empty.
pub(super) async fn latest_versions(
    State(state): State<AppState>,
    c: Caller,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Reply {
    let project = authorized(&state, &c, Action::ModelRead).await?;
    let req: LatestVersions = fields(&body, q.as_deref())?;
    let stages: Vec<String> = match req.stages {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => vec![s],
        Some(Value::Array(list)) => list
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                other => Err(MlflowError::invalid(format!("stage {other} is not text"))),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(MlflowError::invalid(format!(
                "stages must be a list of stage names; got {other}"
            )));
        }
    };
    let mut wants_none = stages.is_empty();
    for stage in &stages {
        match STAGES.iter().find(|s| s.eq_ignore_ascii_case(stage)) {
            Some(&"None") => wants_none = true,
            Some(_) => {}
            None => {
                return Err(MlflowError::invalid(format!(
                    "Invalid Model Version stage: {stage}. Value must be one of {}",
                    STAGES.join(", ")
                )));
            }
        }
    }
    let model = state.get_model(&project, &req.name).await?;
    let mut versions = Vec::new();
    if wants_none && model.latest_version > 0 {
        let latest = state
            .get_model_version(&project, &req.name, model.latest_version)
            .await?;
        versions.push(model_version_json(&latest));
    }
    Ok(Json(if versions.is_empty() {
        json!({})
    } else {
        json!({"model_versions": versions})
    }))
}

#[derive(Deserialize)]
pub(super) struct ByName {
    name: String,
    #[serde(default)]
    version: Option<String>,
}

/// `DELETE registered-models/delete` and `DELETE model-versions/delete`: refused for
/// everyone. A model version is what evaluations, approvals, aliases' history and lineage
/// name; Verity keeps it (and its model) for as long as the record is kept. Aliases move.
pub(super) async fn delete(
    State(state): State<AppState>,
    c: Caller,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Reply {
    let project = authorized(&state, &c, Action::ModelUpdate).await?;
    let req: ByName = fields(&body, q.as_deref())?;
    // The thing must exist: deleting what is not there is not found, as in MLflow.
    let what = match &req.version {
        Some(version) => {
            let number = version_number(version)?;
            state.get_model_version(&project, &req.name, number).await?;
            format!("version {number} of registered model '{}'", req.name)
        }
        None => {
            state.get_model(&project, &req.name).await?;
            format!("registered model '{}'", req.name)
        }
    };
    Err(MlflowError::permission_denied(format!(
        "Verity does not delete {what}: registered models and their versions are the record \
         that evaluations, approvals, alias history and lineage point at. Move or delete its \
         aliases instead (registered-models/alias)"
    )))
}

/// `POST model-versions/transition-stage`: refused; Verity uses aliases, which MLflow
/// recommends over stages (deprecated since MLflow 2.9).
pub(super) async fn transition_stage(
    State(state): State<AppState>,
    c: Caller,
    body: Bytes,
) -> Reply {
    let project = authorized(&state, &c, Action::ModelUpdate).await?;
    let req: ByName = wire::body(&body)?;
    if let Some(version) = &req.version {
        state
            .get_model_version(&project, &req.name, version_number(version)?)
            .await?;
    }
    Err(MlflowError::invalid(
        "Verity's registry has no stages: point an alias at the version instead \
         (MlflowClient.set_registered_model_alias, e.g. alias 'production'), as MLflow \
         recommends since stages were deprecated in MLflow 2.9",
    ))
}
