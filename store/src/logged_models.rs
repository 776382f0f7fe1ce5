//! MLflow 3 logged models: a model logged from a run (name, type, params, tags, a status that
//! goes PENDING → READY or FAILED). Its files are the source run's artifacts under
//! `models/<model_id>/`, so registering it is registering that run artifact directory.

use serde_json::json;
use sqlx::Row as _;

use crate::audit::{Actor, NewEvent, append};
use crate::db::{LockTable, lock_row};
use crate::experiments::experiment_in_project;
use crate::model::{KeyValue, Page};
use crate::projects::project_id;
use crate::runs::active_run;
use crate::{Error, PageRequest, Result, Store, now_ms, validate};

/// Statuses of a logged model.
pub const LOGGED_MODEL_STATUSES: [&str; 3] = ["PENDING", "READY", "FAILED"];

/// A logged model.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedModel {
    /// `m-` and 32 hex digits.
    pub model_id: String,
    /// Project name.
    pub project: String,
    /// Experiment id.
    pub experiment_id: i64,
    /// Name (the `name` of `log_model`).
    pub name: String,
    /// The run that logged it.
    pub source_run_id: String,
    /// Free text (`model_type`).
    pub model_type: String,
    /// One of [`LOGGED_MODEL_STATUSES`].
    pub status: String,
    /// Params.
    pub params: Vec<KeyValue>,
    /// Tags.
    pub tags: Vec<KeyValue>,
    /// Who logged it.
    pub created_by: String,
    /// When (ms).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
}

impl LoggedModel {
    /// Where its files are among the source run's artifacts.
    pub fn artifact_dir(&self) -> String {
        format!("models/{}", self.model_id)
    }
}

/// A logged model to create.
#[derive(Debug, Clone, Default)]
pub struct NewLoggedModel {
    /// Experiment id.
    pub experiment_id: i64,
    /// Name.
    pub name: String,
    /// The run that logs it.
    pub source_run_id: String,
    /// Free text.
    pub model_type: String,
    /// Params.
    pub params: Vec<KeyValue>,
    /// Tags.
    pub tags: Vec<KeyValue>,
}

const SELECT: &str = "SELECT m.model_id, p.name AS project, m.experiment_id, m.name, r.uuid AS source_run, \
     m.model_type, m.status, m.params, m.tags, m.created_by, m.created_at, m.updated_at, m.id \
     FROM logged_models m JOIN projects p ON p.id = m.project_id JOIN runs r ON r.id = m.source_run_id";

fn pairs(column: &str, text: &str) -> Result<Vec<KeyValue>> {
    let list: Vec<(String, String)> = serde_json::from_str::<Vec<serde_json::Value>>(text)
        .map_err(|e| Error::Internal(format!("stored {column}: {e}")))?
        .into_iter()
        .map(|v| {
            (
                v["key"].as_str().unwrap_or_default().to_owned(),
                v["value"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    Ok(list
        .into_iter()
        .map(|(key, value)| KeyValue { key, value })
        .collect())
}

fn to_json(list: &[KeyValue]) -> String {
    serde_json::Value::Array(
        list.iter()
            .map(|kv| json!({"key": kv.key, "value": kv.value}))
            .collect(),
    )
    .to_string()
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<LoggedModel> {
    Ok(LoggedModel {
        model_id: row.try_get("model_id")?,
        project: row.try_get("project")?,
        experiment_id: row.try_get("experiment_id")?,
        name: row.try_get("name")?,
        source_run_id: row.try_get("source_run")?,
        model_type: row.try_get("model_type")?,
        status: row.try_get("status")?,
        params: pairs("params", &row.try_get::<String, _>("params")?)?,
        tags: pairs("tags", &row.try_get::<String, _>("tags")?)?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn check_pairs(what: &str, list: &[KeyValue]) -> Result<()> {
    for kv in list {
        validate::key(what, &kv.key)?;
        validate::description(&kv.value)?;
    }
    Ok(())
}

/// Merges `changes` into `list` by key (a later value wins).
fn merge(list: &mut Vec<KeyValue>, changes: &[KeyValue]) {
    for change in changes {
        match list.iter_mut().find(|kv| kv.key == change.key) {
            Some(existing) => existing.value = change.value.clone(),
            None => list.push(change.clone()),
        }
    }
}

impl Store {
    /// Logs a model from an active run of the experiment, PENDING until finalized.
    pub async fn create_logged_model(
        &self,
        project: &str,
        new: &NewLoggedModel,
        actor: &Actor,
    ) -> Result<LoggedModel> {
        validate::name("model name", &new.name)?;
        validate::description(&new.model_type)?;
        check_pairs("param", &new.params)?;
        check_pairs("tag", &new.tags)?;
        let model_id = format!("m-{}", uuid::Uuid::new_v4().simple());
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let pid = project_id(&mut tx, project).await?;
        let experiment = experiment_in_project(&mut tx, project, new.experiment_id).await?;
        let run = active_run(&mut tx, &new.source_run_id).await?;
        if run.experiment_id != experiment.id {
            return Err(Error::invalid(format!(
                "run {} belongs to experiment {}, not {}",
                run.uuid, run.experiment_id, experiment.id
            )));
        }
        sqlx::query(
            "INSERT INTO logged_models (model_id, project_id, experiment_id, name, source_run_id, model_type, status, params, tags, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', $7, $8, $9, $10, $10)",
        )
        .bind(&model_id)
        .bind(pid)
        .bind(experiment.id)
        .bind(&new.name)
        .bind(run.id)
        .bind(&new.model_type)
        .bind(to_json(&new.params))
        .bind(to_json(&new.tags))
        .bind(&actor.principal)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let event = NewEvent::success(
            "logged_model.create",
            format!("project/{project}/logged_model/{model_id}"),
            Some(project),
            json!({"name": new.name, "run": run.uuid, "experiment_id": experiment.id}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        let created = logged_model_in(&mut tx, &model_id).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Reads a logged model.
    pub async fn get_logged_model(&self, model_id: &str) -> Result<LoggedModel> {
        let mut conn = self.inner.read.acquire().await?;
        logged_model_in(&mut conn, model_id).await
    }

    /// Changes a logged model's status, and merges tags and params into it.
    pub async fn update_logged_model(
        &self,
        model_id: &str,
        status: Option<&str>,
        tags: &[KeyValue],
        params: &[KeyValue],
        actor: &Actor,
    ) -> Result<LoggedModel> {
        if let Some(status) = status
            && !LOGGED_MODEL_STATUSES.contains(&status)
        {
            return Err(Error::invalid(format!(
                "status '{status}' is not one of {}",
                LOGGED_MODEL_STATUSES.join(", ")
            )));
        }
        check_pairs("tag", tags)?;
        check_pairs("param", params)?;
        let mut tx = self.begin_write().await?;
        let mut model = locked_logged_model(&mut tx, self.inner.backend, model_id).await?;
        merge(&mut model.tags, tags);
        merge(&mut model.params, params);
        let status = status.unwrap_or(&model.status).to_owned();
        sqlx::query(
            "UPDATE logged_models SET status = $1, tags = $2, params = $3, updated_at = $4 WHERE model_id = $5",
        )
        .bind(&status)
        .bind(to_json(&model.tags))
        .bind(to_json(&model.params))
        .bind(now_ms())
        .bind(model_id)
        .execute(&mut *tx)
        .await?;
        let event = NewEvent::success(
            "logged_model.update",
            format!("project/{}/logged_model/{model_id}", model.project),
            Some(&model.project),
            json!({"status": status, "tags": tags.len(), "params": params.len()}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        let updated = logged_model_in(&mut tx, model_id).await?;
        tx.commit().await?;
        Ok(updated)
    }

    /// Deletes a tag of a logged model; a missing tag is NotFound.
    pub async fn delete_logged_model_tag(
        &self,
        model_id: &str,
        key: &str,
        actor: &Actor,
    ) -> Result<LoggedModel> {
        let mut tx = self.begin_write().await?;
        let mut model = locked_logged_model(&mut tx, self.inner.backend, model_id).await?;
        let before = model.tags.len();
        model.tags.retain(|t| t.key != key);
        if model.tags.len() == before {
            return Err(Error::not_found("tag", key));
        }
        sqlx::query("UPDATE logged_models SET tags = $1, updated_at = $2 WHERE model_id = $3")
            .bind(to_json(&model.tags))
            .bind(now_ms())
            .bind(model_id)
            .execute(&mut *tx)
            .await?;
        let event = NewEvent::success(
            "logged_model.update",
            format!("project/{}/logged_model/{model_id}", model.project),
            Some(&model.project),
            json!({"deleted_tag": key}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        let updated = logged_model_in(&mut tx, model_id).await?;
        tx.commit().await?;
        Ok(updated)
    }

    /// Marks a logged model deleted: it is no longer found or listed. Its files (its run's
    /// artifacts) and the versions registered from it stay.
    pub async fn delete_logged_model(&self, model_id: &str, actor: &Actor) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let model = locked_logged_model(&mut tx, self.inner.backend, model_id).await?;
        sqlx::query(
            "UPDATE logged_models SET deleted_at = $1, updated_at = $1 WHERE model_id = $2",
        )
        .bind(now_ms())
        .bind(model_id)
        .execute(&mut *tx)
        .await?;
        let event = NewEvent::success(
            "logged_model.delete",
            format!("project/{}/logged_model/{model_id}", model.project),
            Some(&model.project),
            json!({}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Lists a project's logged models in the given experiments (all when empty), optionally
    /// of one name and one source run, oldest first.
    pub async fn search_logged_models(
        &self,
        project: &str,
        experiment_ids: &[i64],
        name: Option<&str>,
        source_run_id: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<LoggedModel>> {
        let mut conn = self.inner.read.acquire().await?;
        let pid = project_id(&mut conn, project).await?;
        let mut sql =
            format!("{SELECT} WHERE m.project_id = $1 AND m.id > $2 AND m.deleted_at IS NULL");
        let mut n = 2;
        if !experiment_ids.is_empty() {
            let list: Vec<String> = experiment_ids.iter().map(i64::to_string).collect();
            sql.push_str(&format!(" AND m.experiment_id IN ({})", list.join(", ")));
        }
        if name.is_some() {
            n += 1;
            sql.push_str(&format!(" AND m.name = ${n}"));
        }
        if source_run_id.is_some() {
            n += 1;
            sql.push_str(&format!(" AND r.uuid = ${n}"));
        }
        sql.push_str(&format!(" ORDER BY m.id LIMIT ${}", n + 1));
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(pid)
            .bind(page.after_key());
        if let Some(name) = name {
            query = query.bind(name);
        }
        if let Some(run) = source_run_id {
            query = query.bind(run);
        }
        let rows = query.bind(page.fetch()).fetch_all(&mut *conn).await?;
        let mut found = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: i64 = row.try_get("id")?;
            found.push((id, from_row(row)?));
        }
        let page = Page::from_rows(found, page, |(id, _)| *id);
        Ok(Page {
            items: page.items.into_iter().map(|(_, m)| m).collect(),
            next_cursor: page.next_cursor,
        })
    }
}

/// A logged model that is not deleted, its row locked for the transaction (concurrent tag and
/// param changes take turns: they rewrite the JSON lists).
async fn locked_logged_model(
    tx: &mut sqlx::AnyConnection,
    backend: crate::Backend,
    model_id: &str,
) -> Result<LoggedModel> {
    let row: i64 = sqlx::query_scalar(
        "SELECT id FROM logged_models WHERE model_id = $1 AND deleted_at IS NULL",
    )
    .bind(model_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| Error::not_found("logged_model", model_id))?;
    lock_row(tx, backend, LockTable::LoggedModels, row).await?;
    logged_model_in(tx, model_id).await
}

async fn logged_model_in(conn: &mut sqlx::AnyConnection, model_id: &str) -> Result<LoggedModel> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE m.model_id = $1 AND m.deleted_at IS NULL"
    )))
    .bind(model_id)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| Error::not_found("logged_model", model_id))?;
    from_row(&row)
}

/// A dataset an MLflow client named as a run's input (its description, as sent).
#[derive(Debug, Clone, PartialEq)]
pub struct MlflowDatasetInput {
    /// Name.
    pub name: String,
    /// The client's digest.
    pub digest: String,
    /// `local`, `code`, `http`...
    pub source_type: String,
    /// The source, JSON text.
    pub source: String,
    /// The schema, JSON text.
    pub schema: String,
    /// The profile, JSON text.
    pub profile: String,
    /// Input tags (`mlflow.data.context`...).
    pub tags: Vec<KeyValue>,
}

/// MLflow's limits on a dataset's description.
const MAX_DATASET_TEXT: [(&str, usize); 6] = [
    ("name", 500),
    ("digest", 36),
    ("source_type", 500),
    ("source", 65_536),
    ("schema", 1_048_576),
    ("profile", 16_777_216),
];

impl Store {
    /// Records datasets an MLflow client named as inputs of an active run (the same name and
    /// digest again is a no-op).
    pub async fn add_mlflow_inputs(
        &self,
        uuid: &str,
        inputs: &[MlflowDatasetInput],
        actor: &Actor,
    ) -> Result<()> {
        for input in inputs {
            let fields = [
                &input.name,
                &input.digest,
                &input.source_type,
                &input.source,
                &input.schema,
                &input.profile,
            ];
            for ((what, max), value) in MAX_DATASET_TEXT.iter().zip(fields) {
                if value.chars().count() > *max || value.contains('\0') {
                    return Err(Error::invalid(format!(
                        "dataset {what} must be at most {max} characters, without NUL"
                    )));
                }
            }
            if input.name.is_empty() || input.digest.is_empty() {
                return Err(Error::invalid("a dataset input needs a name and a digest"));
            }
            check_pairs("input tag", &input.tags)?;
        }
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let run = active_run(&mut tx, uuid).await?;
        for input in inputs {
            sqlx::query(
                "INSERT INTO mlflow_dataset_inputs (run_id, name, digest, source_type, source, schema, profile, tags, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
            )
            .bind(run.id)
            .bind(&input.name)
            .bind(&input.digest)
            .bind(&input.source_type)
            .bind(&input.source)
            .bind(&input.schema)
            .bind(&input.profile)
            .bind(to_json(&input.tags))
            .bind(&actor.principal)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        let event = NewEvent::success(
            "run.log_inputs",
            format!("run/{uuid}"),
            Some(&run.project),
            json!({"datasets": inputs.iter().map(|i| json!({"name": i.name, "digest": i.digest})).collect::<Vec<_>>()}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The datasets MLflow clients named as a run's inputs, in the order they were logged.
    pub async fn mlflow_inputs(&self, uuid: &str) -> Result<Vec<MlflowDatasetInput>> {
        let mut conn = self.inner.read.acquire().await?;
        let rows = sqlx::query(
            "SELECT i.name, i.digest, i.source_type, i.source, i.schema, i.profile, i.tags \
             FROM mlflow_dataset_inputs i JOIN runs r ON r.id = i.run_id WHERE r.uuid = $1 ORDER BY i.id",
        )
        .bind(uuid)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(MlflowDatasetInput {
                    name: row.try_get("name")?,
                    digest: row.try_get("digest")?,
                    source_type: row.try_get("source_type")?,
                    source: row.try_get("source")?,
                    schema: row.try_get("schema")?,
                    profile: row.try_get("profile")?,
                    tags: pairs("tags", &row.try_get::<String, _>("tags")?)?,
                })
            })
            .collect()
    }
}
