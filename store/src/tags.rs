//! Tags on experiments, registered models and model versions (runs have their own, in
//! `runs.rs`): mutable key/value metadata as MLflow keeps it. Setting a key again overwrites
//! it; deleting a missing key is NotFound; every change is audited on its owner.

use std::collections::HashMap;

use serde_json::json;
use sqlx::{AnyConnection, Row};

use crate::audit::{Actor, NewEvent, append};
use crate::experiments::experiment_in_project;
use crate::model::KeyValue;
use crate::models::{model_row, version_id};
use crate::runs::{TagOwner, delete_tag_row, upsert_tags, validate_pairs};
use crate::{Error, Result, Store, now_ms, validate};

/// What a tag is set on.
#[derive(Debug, Clone, Copy)]
pub enum TagTarget<'a> {
    /// An experiment of a project, by id.
    Experiment {
        /// The project.
        project: &'a str,
        /// The experiment's id.
        id: i64,
    },
    /// A registered model of a project.
    Model {
        /// The project.
        project: &'a str,
        /// The model's name.
        name: &'a str,
    },
    /// A version of a registered model.
    ModelVersion {
        /// The project.
        project: &'a str,
        /// The model's name.
        model: &'a str,
        /// The version number.
        version: i64,
    },
}

/// A target resolved inside a transaction: its owner row, audit action and resource.
struct Resolved {
    owner: TagOwner,
    project: String,
    action: &'static str,
    resource: String,
}

async fn resolve(conn: &mut AnyConnection, target: TagTarget<'_>) -> Result<Resolved> {
    Ok(match target {
        TagTarget::Experiment { project, id } => {
            let experiment = experiment_in_project(conn, project, id).await?;
            if experiment.deleted_at.is_some() {
                return Err(Error::Conflict(format!(
                    "experiment {id} is deleted; restore it to change its tags"
                )));
            }
            Resolved {
                owner: TagOwner::Experiment(id),
                project: project.to_owned(),
                action: "experiment.update",
                resource: format!("project/{project}/experiment/{id}"),
            }
        }
        TagTarget::Model { project, name } => Resolved {
            owner: TagOwner::Model(model_row(conn, project, name).await?.id),
            project: project.to_owned(),
            action: "model.update",
            resource: format!("project/{project}/model/{name}"),
        },
        TagTarget::ModelVersion {
            project,
            model,
            version,
        } => {
            let model_id = model_row(conn, project, model).await?.id;
            Resolved {
                owner: TagOwner::ModelVersion(version_id(conn, model_id, version, model).await?),
                project: project.to_owned(),
                action: "model_version.update",
                resource: format!("project/{project}/model/{model}/version/{version}"),
            }
        }
    })
}

impl Store {
    /// Sets tags (overwriting keys that exist), in one audited transaction.
    pub async fn set_tags_of(
        &self,
        target: TagTarget<'_>,
        tags: &[KeyValue],
        actor: &Actor,
    ) -> Result<()> {
        validate_pairs("tag", tags)?;
        let mut tx = self.begin_write().await?;
        let found = resolve(&mut tx, target).await?;
        upsert_tags(&mut tx, found.owner, tags, &actor.principal, now_ms()).await?;
        let event = NewEvent::success(
            found.action,
            found.resource,
            Some(&found.project),
            json!({"set_tags": tags.iter().map(|t| &t.key).collect::<Vec<_>>()}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a tag; a missing tag is NotFound.
    pub async fn delete_tag_of(
        &self,
        target: TagTarget<'_>,
        key: &str,
        actor: &Actor,
    ) -> Result<()> {
        validate::key("tag key", key)?;
        let mut tx = self.begin_write().await?;
        let found = resolve(&mut tx, target).await?;
        delete_tag_row(&mut tx, found.owner, key).await?;
        let event = NewEvent::success(
            found.action,
            found.resource,
            Some(&found.project),
            json!({"deleted_tag": key}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The tags of experiments, by experiment id (experiments without tags are absent).
    pub async fn experiment_tags(&self, ids: &[i64]) -> Result<HashMap<i64, Vec<KeyValue>>> {
        let mut conn = self.inner.read.acquire().await?;
        tags_by_owner(&mut conn, "experiment_tags", "experiment_id", ids).await
    }
}

/// Tags of owners in a tag table, by owner id, sorted by key.
pub(crate) async fn tags_by_owner(
    conn: &mut AnyConnection,
    table: &str,
    owner_column: &str,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<KeyValue>>> {
    let mut out: HashMap<i64, Vec<KeyValue>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    // The ids are integers and the names constants of this crate: safe to inline.
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let sql = format!(
        "SELECT {owner_column} AS owner, key, value FROM {table} WHERE {owner_column} IN ({list}) ORDER BY key"
    );
    for row in sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await?
    {
        out.entry(row.try_get("owner")?)
            .or_default()
            .push(KeyValue {
                key: row.try_get("key")?,
                value: row.try_get("value")?,
            });
    }
    Ok(out)
}
