//! `experiments/*`: create, get, get-by-name, search, update, delete, restore, set and delete
//! tags.
//! Experiment id `"0"` is MLflow's default experiment, Verity's experiment `Default` (created
//! on first use).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use serde::Deserialize;
use serde_json::{Value, json};
use verity_policy::Action;
use verity_store::TagTarget;
use verity_store::model::{Experiment, KeyValue};

use super::filter::{self, Entity, Kind};
use super::wire::{self, InPair, Int};
use super::{DEFAULT_EXPERIMENT, MlflowError, project, project_for_write};
use crate::auth::{Caller, Target};
use crate::state::AppState;

type Reply = Result<Json<Value>, MlflowError>;

/// The tag MLflow keeps an experiment's (and a run's) description in.
const NOTE_TAG: &str = "mlflow.note.content";

/// Parses an experiment id (`"0"` is the default experiment, created here when `create` is set
/// and the caller may create experiments; otherwise a missing default experiment is not found).
pub(super) async fn resolve(
    state: &AppState,
    caller: &Caller,
    project: &str,
    id: &str,
    create: bool,
) -> Result<Experiment, MlflowError> {
    if id == "0" {
        return match state
            .get_experiment_by_name(project, DEFAULT_EXPERIMENT)
            .await
        {
            Ok(found) => Ok(found),
            Err(e) if e.kind() == verity_store::ErrorKind::NotFound && !create => {
                Err(MlflowError::not_found(
                    "No Experiment with id=0 exists yet (the first run in it creates it)",
                ))
            }
            Err(e) if e.kind() == verity_store::ErrorKind::NotFound => {
                caller
                    .authorize(state, Action::ExperimentCreate, &Target::project(project))
                    .await?;
                match state
                    .create_experiment(project, DEFAULT_EXPERIMENT, "", &caller.actor)
                    .await
                {
                    Err(e) if e.kind() == verity_store::ErrorKind::AlreadyExists => Ok(state
                        .get_experiment_by_name(project, DEFAULT_EXPERIMENT)
                        .await?),
                    other => Ok(other?),
                }
            }
            Err(e) => Err(e.into()),
        };
    }
    let id: i64 = id
        .trim()
        .parse()
        .map_err(|_| MlflowError::invalid(format!("experiment_id '{id}' is not a number")))?;
    state.get_experiment(project, id).await.map_err(|e| {
        if e.kind() == verity_store::ErrorKind::NotFound {
            MlflowError::not_found(format!("No Experiment with id={id} exists"))
        } else {
            e.into()
        }
    })
}

async fn authorize(
    state: &AppState,
    caller: &Caller,
    action: Action,
) -> Result<String, MlflowError> {
    let project = project(state, caller).await?;
    caller
        .authorize(state, action, &Target::project(&project))
        .await?;
    Ok(project)
}

/// Splits MLflow tags into the description (`mlflow.note.content`, kept as the experiment's
/// description) and the other tags, which are checked here so that nothing is half-created.
fn split_tags(tags: Vec<InPair>) -> Result<(Option<String>, Vec<KeyValue>), MlflowError> {
    let mut note = None;
    let mut others = Vec::new();
    for tag in tags {
        if tag.key == NOTE_TAG {
            note = Some(tag.value);
        } else {
            verity_store::validate::key("tag key", &tag.key)?;
            verity_store::validate::value("tag value", &tag.value)?;
            others.push(tag.into());
        }
    }
    Ok((note, others))
}

/// Experiments as MLflow writes them, with their tags (two queries whatever the count).
async fn with_tags(state: &AppState, found: &[Experiment]) -> Result<Vec<Value>, MlflowError> {
    let ids: Vec<i64> = found.iter().map(|e| e.id).collect();
    let mut tags = state.experiment_tags(&ids).await?;
    Ok(found
        .iter()
        .map(|e| wire::experiment(e, &tags.remove(&e.id).unwrap_or_default()))
        .collect())
}

/// One experiment as MLflow writes it.
async fn one(state: &AppState, found: Experiment) -> Reply {
    let experiment = with_tags(state, std::slice::from_ref(&found))
        .await?
        .pop()
        .unwrap_or_default();
    Ok(Json(json!({"experiment": experiment})))
}

#[derive(Deserialize)]
pub(super) struct Create {
    name: String,
    #[serde(default)]
    tags: Vec<InPair>,
    #[serde(default)]
    artifact_location: Option<String>,
}

/// `POST experiments/create`.
pub(super) async fn create(State(state): State<AppState>, c: Caller, body: Bytes) -> Reply {
    let project = project_for_write(&state, &c).await?;
    c.authorize(&state, Action::ExperimentCreate, &Target::project(&project))
        .await?;
    let req: Create = wire::body(&body)?;
    if req
        .artifact_location
        .as_deref()
        .is_some_and(|l| !l.is_empty())
    {
        return Err(MlflowError::invalid(
            "artifact_location: Verity stores artifacts itself (proxied); leave it out",
        ));
    }
    if req.name.trim().is_empty() {
        return Err(MlflowError::invalid("experiment name must not be empty"));
    }
    let (note, tags) = split_tags(req.tags)?;
    let created = state
        .create_experiment(&project, &req.name, &note.unwrap_or_default(), &c.actor)
        .await?;
    if !tags.is_empty() {
        let target = TagTarget::Experiment {
            project: &project,
            id: created.id,
        };
        state.set_tags_of(target, &tags, &c.actor).await?;
    }
    Ok(Json(json!({"experiment_id": created.id.to_string()})))
}

#[derive(Deserialize)]
pub(super) struct ById {
    experiment_id: String,
}

/// `GET experiments/get`.
pub(super) async fn get(State(state): State<AppState>, c: Caller, RawQuery(q): RawQuery) -> Reply {
    let project = authorize(&state, &c, Action::ExperimentRead).await?;
    let req: ById = wire::query(q.as_deref())?;
    let found = resolve(&state, &c, &project, &req.experiment_id, false).await?;
    one(&state, found).await
}

#[derive(Deserialize)]
pub(super) struct ByName {
    experiment_name: String,
}

/// `GET experiments/get-by-name` (deleted experiments too, as MLflow does).
pub(super) async fn get_by_name(
    State(state): State<AppState>,
    c: Caller,
    RawQuery(q): RawQuery,
) -> Reply {
    let project = authorize(&state, &c, Action::ExperimentRead).await?;
    let req: ByName = wire::query(q.as_deref())?;
    let found = state
        .get_experiment_by_name(&project, &req.experiment_name)
        .await
        .map_err(|e| {
            if e.kind() == verity_store::ErrorKind::NotFound {
                MlflowError::not_found(format!(
                    "Could not find experiment with name '{}'",
                    req.experiment_name
                ))
            } else {
                e.into()
            }
        })?;
    one(&state, found).await
}

#[derive(Deserialize)]
pub(super) struct Search {
    #[serde(default)]
    view_type: Option<Value>,
    #[serde(default)]
    max_results: Option<Int>,
    #[serde(default)]
    page_token: Option<String>,
    #[serde(default)]
    filter: Option<String>,
    #[serde(default)]
    order_by: Option<Value>,
}

async fn search_with(state: AppState, c: Caller, req: Search) -> Reply {
    let project = authorize(&state, &c, Action::ExperimentRead).await?;
    let filter = filter::parse_filter(req.filter.as_deref(), Kind::Experiments)?;
    let order = filter::parse_order(req.order_by.as_ref(), Kind::Experiments)?;
    let max = wire::result_count(req.max_results, 1000, 50_000)?;
    let view = wire::view_type(req.view_type.as_ref())?;
    let (store, project) = (&state, project.as_str());
    let all =
        filter::read_all(|page| async move { store.list_experiments(project, view, &page).await })
            .await?;
    let ids: Vec<i64> = all.iter().map(|e| e.id).collect();
    let tags = state.experiment_tags(&ids).await?;
    let mut with_tags: Vec<(Experiment, Vec<KeyValue>)> = all
        .into_iter()
        .map(|e| {
            let t = tags.get(&e.id).cloned().unwrap_or_default();
            (e, t)
        })
        .collect();
    with_tags = filter::select(with_tags, &filter, &order, |(e, t)| Entity {
        id: e.id,
        name: &e.name,
        created: e.created_at,
        updated: e.deleted_at.unwrap_or(e.created_at),
        tags: t,
    });
    let (page, next) = filter::offset_page(with_tags, max, req.page_token.as_deref())?;
    let experiments = page.iter().map(|(e, t)| wire::experiment(e, t)).collect();
    Ok(Json(wire::paged("experiments", experiments, next)))
}

/// `POST experiments/search`.
pub(super) async fn search(State(state): State<AppState>, c: Caller, body: Bytes) -> Reply {
    let req: Search = wire::body(&body)?;
    search_with(state, c, req).await
}

/// `GET experiments/search`.
pub(super) async fn search_get(
    State(state): State<AppState>,
    c: Caller,
    RawQuery(q): RawQuery,
) -> Reply {
    let req: Search = wire::query(q.as_deref())?;
    search_with(state, c, req).await
}

#[derive(Deserialize)]
pub(super) struct Update {
    experiment_id: String,
    new_name: String,
}

/// `POST experiments/update` (a new name).
pub(super) async fn update(State(state): State<AppState>, c: Caller, body: Bytes) -> Reply {
    let project = authorize(&state, &c, Action::ExperimentUpdate).await?;
    let req: Update = wire::body(&body)?;
    let found = resolve(&state, &c, &project, &req.experiment_id, false).await?;
    state
        .update_experiment(&project, found.id, Some(&req.new_name), None, &c.actor)
        .await?;
    Ok(Json(json!({})))
}

async fn set_deleted(state: AppState, c: Caller, body: Bytes, deleted: bool) -> Reply {
    let project = authorize(&state, &c, Action::ExperimentDelete).await?;
    let req: ById = wire::body(&body)?;
    let found = resolve(&state, &c, &project, &req.experiment_id, false).await?;
    if deleted && found.name == DEFAULT_EXPERIMENT {
        return Err(MlflowError::invalid(
            "Cannot delete the default experiment '0'. This is an internally reserved experiment.",
        ));
    }
    state
        .set_experiment_deleted(&project, found.id, deleted, &c.actor)
        .await?;
    Ok(Json(json!({})))
}

/// `POST experiments/delete`.
pub(super) async fn delete(State(state): State<AppState>, c: Caller, body: Bytes) -> Reply {
    set_deleted(state, c, body, true).await
}

/// `POST experiments/restore`.
pub(super) async fn restore(State(state): State<AppState>, c: Caller, body: Bytes) -> Reply {
    set_deleted(state, c, body, false).await
}

#[derive(Deserialize)]
pub(super) struct SetTag {
    experiment_id: String,
    key: String,
    #[serde(default, deserialize_with = "wire::text")]
    value: String,
}

/// `POST experiments/set-experiment-tag`: the description tag sets the description.
pub(super) async fn set_tag(State(state): State<AppState>, c: Caller, body: Bytes) -> Reply {
    let project = authorize(&state, &c, Action::ExperimentUpdate).await?;
    let req: SetTag = wire::body(&body)?;
    let found = resolve(&state, &c, &project, &req.experiment_id, false).await?;
    let (note, tags) = split_tags(vec![InPair {
        key: req.key,
        value: req.value,
    }])?;
    if let Some(note) = note {
        state
            .update_experiment(&project, found.id, None, Some(&note), &c.actor)
            .await?;
    }
    if !tags.is_empty() {
        let target = TagTarget::Experiment {
            project: &project,
            id: found.id,
        };
        state.set_tags_of(target, &tags, &c.actor).await?;
    }
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
pub(super) struct DeleteTag {
    experiment_id: String,
    key: String,
}

/// `POST experiments/delete-experiment-tag`: the description tag clears the description.
pub(super) async fn delete_tag(State(state): State<AppState>, c: Caller, body: Bytes) -> Reply {
    let project = authorize(&state, &c, Action::ExperimentUpdate).await?;
    let req: DeleteTag = wire::body(&body)?;
    let found = resolve(&state, &c, &project, &req.experiment_id, false).await?;
    if req.key == NOTE_TAG {
        if found.description.is_empty() {
            return Err(MlflowError::not_found(format!(
                "No tag with name: {NOTE_TAG} in experiment {}",
                found.id
            )));
        }
        state
            .update_experiment(&project, found.id, None, Some(""), &c.actor)
            .await?;
    } else {
        let target = TagTarget::Experiment {
            project: &project,
            id: found.id,
        };
        state
            .delete_tag_of(target, &req.key, &c.actor)
            .await
            .map_err(|e| {
                if e.kind() == verity_store::ErrorKind::NotFound {
                    MlflowError::not_found(format!(
                        "No tag with name: {} in experiment {}",
                        req.key, found.id
                    ))
                } else {
                    e.into()
                }
            })?;
    }
    Ok(Json(json!({})))
}
