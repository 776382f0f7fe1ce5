//! Runs: lifecycle, params, tags, inputs/outputs and search.

use std::collections::HashMap;

use serde_json::json;
use sqlx::{AnyConnection, Row as _};

use crate::audit::{Actor, NewEvent, append};
use crate::datasets::version_in_project;
use crate::db::{LockTable, lock_row};
use crate::experiments::{experiment_in_project, view_condition};
use crate::lineage::{Edge, insert_edge};
use crate::model::{
    KeyValue, LogBatch, MetricPoint, NodeKind, Page, RUN_STATUSES, Run, RunDataset, RunDetail,
    RunModelOutput, ViewType,
};
use crate::page::Cursor;
use crate::search::{self, SqlValue};
use crate::{Error, PageRequest, Result, Store, now_ms, validate};

pub(crate) const SELECT_RUN: &str = "SELECT r.id, r.uuid, p.name AS project, r.experiment_id, r.name, r.status, \
     r.start_time, r.end_time, r.deleted_at, r.created_by, r.created_at FROM runs r \
     JOIN experiments e ON e.id = r.experiment_id JOIN projects p ON p.id = e.project_id";

/// Most order_by clauses in one search.
pub const MAX_ORDER_BY: usize = 10;
/// Most experiment ids in one search.
pub const MAX_EXPERIMENT_IDS: usize = 1000;

/// A new run.
#[derive(Debug, Clone, Default)]
pub struct NewRun {
    /// Display name; generated when None.
    pub name: Option<String>,
    /// Start time; now when None.
    pub start_time: Option<i64>,
    /// Initial tags.
    pub tags: Vec<KeyValue>,
}

/// Changes to a run.
#[derive(Debug, Clone, Default)]
pub struct RunUpdate {
    /// New display name.
    pub name: Option<String>,
    /// New status, one of [`RUN_STATUSES`].
    pub status: Option<String>,
    /// End time; set to now when a terminal status arrives without one.
    pub end_time: Option<i64>,
}

/// A run search.
#[derive(Debug, Clone, Default)]
pub struct RunSearch {
    /// Experiments to search; all of the project's when empty.
    pub experiment_ids: Vec<i64>,
    /// Filter in MLflow's grammar plus OR and parentheses.
    pub filter: Option<String>,
    /// Order clauses, e.g. `metrics.acc DESC`.
    pub order_by: Vec<String>,
    /// Which runs to include.
    pub view: ViewType,
    /// Page size and position (an offset).
    pub page: PageRequest,
}

pub(crate) async fn run_by_uuid(conn: &mut AnyConnection, uuid: &str) -> Result<Run> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT_RUN} WHERE r.uuid = $1"
    )))
    .bind(uuid)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| Error::not_found("run", uuid))
}

/// The run, which must not be deleted, for a change.
pub(crate) async fn active_run(conn: &mut AnyConnection, uuid: &str) -> Result<Run> {
    let run = run_by_uuid(conn, uuid).await?;
    if run.deleted_at.is_some() {
        return Err(Error::Conflict(format!(
            "run {uuid} is deleted: restore it first"
        )));
    }
    Ok(run)
}

fn check_status(status: &str) -> Result<()> {
    if RUN_STATUSES.contains(&status) {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "status '{status}' is not one of {}",
            RUN_STATUSES.join(", ")
        )))
    }
}

/// What a tag belongs to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TagOwner {
    /// A run (internal id).
    Run(i64),
    /// A model version (internal id).
    ModelVersion(i64),
    /// An experiment (id).
    Experiment(i64),
    /// A registered model (internal id).
    Model(i64),
}

impl TagOwner {
    /// The tag table, its owner column, and the owner's id.
    pub(crate) fn table(self) -> (&'static str, &'static str, i64) {
        match self {
            TagOwner::Run(id) => ("run_tags", "run_id", id),
            TagOwner::ModelVersion(id) => ("model_version_tags", "model_version_id", id),
            TagOwner::Experiment(id) => ("experiment_tags", "experiment_id", id),
            TagOwner::Model(id) => ("registered_model_tags", "model_id", id),
        }
    }
}

/// Inserts tags (overwriting), in one statement per tag.
pub(crate) async fn upsert_tags(
    conn: &mut AnyConnection,
    owner: TagOwner,
    tags: &[KeyValue],
    actor: &str,
    now: i64,
) -> Result<()> {
    let (table, column, owner_id) = owner.table();
    // Table and column names are constants of this crate.
    let sql = format!(
        "INSERT INTO {table} ({column}, key, value, created_by, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT ({column}, key) DO UPDATE SET value = excluded.value, created_by = excluded.created_by, \
         created_at = excluded.created_at"
    );
    for tag in tags {
        sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(owner_id)
            .bind(&tag.key)
            .bind(&tag.value)
            .bind(actor)
            .bind(now)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Deletes one tag; a missing tag is NotFound.
pub(crate) async fn delete_tag_row(
    conn: &mut AnyConnection,
    owner: TagOwner,
    key: &str,
) -> Result<()> {
    let (table, column, owner_id) = owner.table();
    let sql = format!("DELETE FROM {table} WHERE {column} = $1 AND key = $2");
    let deleted = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(owner_id)
        .bind(key)
        .execute(&mut *conn)
        .await?;
    if deleted.rows_affected() == 0 {
        return Err(Error::not_found("tag", key));
    }
    Ok(())
}

/// Checks params against the stored ones and inserts the new ones. The same key with another
/// value is a conflict; the same pair again is a no-op.
pub(crate) async fn insert_params(
    conn: &mut AnyConnection,
    run_id: i64,
    params: &[KeyValue],
    actor: &str,
    now: i64,
) -> Result<()> {
    if params.is_empty() {
        return Ok(());
    }
    let stored: HashMap<String, String> =
        sqlx::query_as::<_, KeyValue>("SELECT key, value FROM run_params WHERE run_id = $1")
            .bind(run_id)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|kv| (kv.key, kv.value))
            .collect();
    let mut fresh: HashMap<&str, &str> = HashMap::new();
    for param in params {
        let existing = stored
            .get(&param.key)
            .map(String::as_str)
            .or_else(|| fresh.get(param.key.as_str()).copied());
        match existing {
            Some(value) if value == param.value => {}
            Some(value) => {
                return Err(Error::Conflict(format!(
                    "param '{}' is already '{}' and params are immutable: cannot change it to '{}'",
                    param.key, value, param.value
                )));
            }
            None => {
                fresh.insert(&param.key, &param.value);
            }
        }
    }
    for (key, value) in fresh {
        sqlx::query("INSERT INTO run_params (run_id, key, value, created_by, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(run_id)
            .bind(key)
            .bind(value)
            .bind(actor)
            .bind(now)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub(crate) fn validate_pairs(what: &str, pairs: &[KeyValue]) -> Result<()> {
    for kv in pairs {
        validate::key(&format!("{what} key"), &kv.key)?;
        validate::value(&format!("{what} value"), &kv.value)?;
    }
    Ok(())
}

/// The latest point of every metric of the runs `ids` (a comma-separated list of integer ids
/// read from the database), by run then key.
pub(crate) async fn latest_points(
    conn: &mut AnyConnection,
    ids: &str,
) -> Result<Vec<(i64, MetricPoint)>> {
    let sql = format!(
        "SELECT run_id, key, value, step, timestamp FROM latest_metrics WHERE run_id IN ({ids}) ORDER BY run_id, key"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|row| {
            let value: Option<f64> = row.try_get("value")?;
            let point = MetricPoint {
                key: row.try_get("key")?,
                value: value.unwrap_or(f64::NAN),
                step: row.try_get("step")?,
                timestamp: row.try_get("timestamp")?,
            };
            Ok((row.try_get("run_id")?, point))
        })
        .collect()
}

/// Fills params, tags, latest metrics, inputs and outputs for runs, a fixed number of queries.
pub(crate) async fn load_details(
    conn: &mut AnyConnection,
    runs: Vec<Run>,
) -> Result<Vec<RunDetail>> {
    if runs.is_empty() {
        return Ok(Vec::new());
    }
    let ids = runs
        .iter()
        .map(|r| r.id.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let mut details: Vec<RunDetail> = runs
        .into_iter()
        .map(|run| RunDetail {
            run,
            params: vec![],
            tags: vec![],
            metrics: vec![],
            inputs: vec![],
            dataset_outputs: vec![],
            model_outputs: vec![],
        })
        .collect();
    let index: HashMap<i64, usize> = details
        .iter()
        .enumerate()
        .map(|(i, d)| (d.run.id, i))
        .collect();
    // The ids are integers read from the database, so inlining them is safe.
    for (table, is_param) in [("run_params", true), ("run_tags", false)] {
        let sql = format!(
            "SELECT run_id, key, value FROM {table} WHERE run_id IN ({ids}) ORDER BY run_id, key"
        );
        for row in sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut *conn)
            .await?
        {
            let run_id: i64 = row.try_get("run_id")?;
            let kv = KeyValue {
                key: row.try_get("key")?,
                value: row.try_get("value")?,
            };
            if let Some(&i) = index.get(&run_id) {
                if is_param {
                    details[i].params.push(kv)
                } else {
                    details[i].tags.push(kv)
                }
            }
        }
    }
    for (run_id, point) in latest_points(conn, &ids).await? {
        if let Some(&i) = index.get(&run_id) {
            details[i].metrics.push(point);
        }
    }
    let sql = format!(
        "SELECT e.dst_id AS run_id, e.relation, e.context, dv.id, p.name AS project, d.name AS dataset, dv.version, dv.content_hash \
         FROM lineage_edges e JOIN dataset_versions dv ON dv.id = e.src_id JOIN datasets d ON d.id = dv.dataset_id \
         JOIN projects p ON p.id = d.project_id \
         WHERE e.dst_kind = 'run' AND e.src_kind = 'dataset_version' AND e.dst_id IN ({ids}) \
         UNION ALL \
         SELECT e.src_id AS run_id, e.relation, e.context, dv.id, p.name AS project, d.name AS dataset, dv.version, dv.content_hash \
         FROM lineage_edges e JOIN dataset_versions dv ON dv.id = e.dst_id JOIN datasets d ON d.id = dv.dataset_id \
         JOIN projects p ON p.id = d.project_id \
         WHERE e.src_kind = 'run' AND e.dst_kind = 'dataset_version' AND e.src_id IN ({ids}) ORDER BY 4"
    );
    for row in sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await?
    {
        let run_id: i64 = row.try_get("run_id")?;
        let relation: String = row.try_get("relation")?;
        let dataset = RunDataset {
            dataset_version_id: row.try_get("id")?,
            project: row.try_get("project")?,
            dataset: row.try_get("dataset")?,
            version: row.try_get("version")?,
            content_hash: row.try_get("content_hash")?,
            context: row.try_get("context")?,
        };
        if let Some(&i) = index.get(&run_id) {
            if relation == "input" {
                details[i].inputs.push(dataset)
            } else {
                details[i].dataset_outputs.push(dataset)
            }
        }
    }
    let sql = format!(
        "SELECT e.src_id AS run_id, mv.id, m.name, mv.version FROM lineage_edges e \
         JOIN model_versions mv ON mv.id = e.dst_id JOIN registered_models m ON m.id = mv.model_id \
         WHERE e.src_kind = 'run' AND e.dst_kind = 'model_version' AND e.src_id IN ({ids}) ORDER BY mv.id"
    );
    for row in sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await?
    {
        let run_id: i64 = row.try_get("run_id")?;
        let output = RunModelOutput {
            model_version_id: row.try_get("id")?,
            model: row.try_get("name")?,
            version: row.try_get("version")?,
        };
        if let Some(&i) = index.get(&run_id) {
            details[i].model_outputs.push(output);
        }
    }
    Ok(details)
}

fn bind_values<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    values: &'q [SqlValue],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for value in values {
        query = match value {
            SqlValue::Int(v) => query.bind(*v),
            SqlValue::Real(v) => query.bind(*v),
            SqlValue::Text(v) => query.bind(v.as_str()),
        };
    }
    query
}

impl Store {
    /// Starts a run in an experiment of a project.
    pub async fn create_run(
        &self,
        project: &str,
        experiment_id: i64,
        new: NewRun,
        actor: &Actor,
    ) -> Result<RunDetail> {
        if let Some(name) = &new.name {
            validate::name("run name", name)?;
        }
        validate_pairs("tag", &new.tags)?;
        let uuid = uuid::Uuid::new_v4().simple().to_string();
        let name = new.name.unwrap_or_else(|| format!("run-{}", &uuid[..8]));
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let experiment = experiment_in_project(&mut tx, project, experiment_id).await?;
        if experiment.deleted_at.is_some() {
            return Err(Error::Conflict(format!(
                "experiment {experiment_id} is deleted: restore it first"
            )));
        }
        let run_id: i64 = sqlx::query_scalar(
            "INSERT INTO runs (uuid, experiment_id, name, status, start_time, created_by, created_at) \
             VALUES ($1, $2, $3, 'RUNNING', $4, $5, $6) RETURNING id",
        )
        .bind(&uuid)
        .bind(experiment_id)
        .bind(&name)
        .bind(new.start_time.unwrap_or(now))
        .bind(&actor.principal)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        upsert_tags(
            &mut tx,
            TagOwner::Run(run_id),
            &new.tags,
            &actor.principal,
            now,
        )
        .await?;
        let run = run_by_uuid(&mut tx, &uuid).await?;
        let detail = load_details(&mut tx, vec![run])
            .await?
            .pop()
            .ok_or_else(|| Error::Internal("run vanished".into()))?;
        let event = NewEvent::success(
            "run.create",
            format!("run/{uuid}"),
            Some(project),
            json!({"experiment_id": experiment_id, "name": name}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(detail)
    }

    /// Reads a run.
    pub async fn get_run(&self, uuid: &str) -> Result<Run> {
        let mut conn = self.inner.read.acquire().await?;
        run_by_uuid(&mut conn, uuid).await
    }

    /// Reads a run with everything logged to it.
    pub async fn get_run_detail(&self, uuid: &str) -> Result<RunDetail> {
        let mut conn = self.inner.read.acquire().await?;
        let run = run_by_uuid(&mut conn, uuid).await?;
        load_details(&mut conn, vec![run])
            .await?
            .pop()
            .ok_or_else(|| Error::not_found("run", uuid))
    }

    /// Renames a run or changes its status and end time.
    pub async fn update_run(&self, uuid: &str, update: RunUpdate, actor: &Actor) -> Result<Run> {
        if let Some(name) = &update.name {
            validate::name("run name", name)?;
        }
        if let Some(status) = &update.status {
            check_status(status)?;
        }
        let mut tx = self.begin_write().await?;
        let run = active_run(&mut tx, uuid).await?;
        let status = update.status.unwrap_or(run.status.clone());
        let terminal = matches!(status.as_str(), "FINISHED" | "FAILED" | "KILLED");
        let end_time = match (update.end_time, terminal) {
            (Some(t), _) => Some(t),
            (None, true) => run.end_time.or(Some(now_ms())),
            (None, false) => run.end_time,
        };
        if let Some(end) = end_time
            && end < run.start_time
        {
            return Err(Error::invalid("end_time must not be before start_time"));
        }
        let details = json!({"name": update.name, "status": status, "end_time": end_time});
        sqlx::query("UPDATE runs SET name = $1, status = $2, end_time = $3 WHERE id = $4")
            .bind(update.name.unwrap_or(run.name))
            .bind(&status)
            .bind(end_time)
            .bind(run.id)
            .execute(&mut *tx)
            .await?;
        let run = run_by_uuid(&mut tx, uuid).await?;
        let event = NewEvent::success(
            "run.write",
            format!("run/{uuid}"),
            Some(&run.project),
            details,
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(run)
    }

    /// Soft-deletes (`deleted = true`) or restores a run.
    pub async fn set_run_deleted(&self, uuid: &str, deleted: bool, actor: &Actor) -> Result<Run> {
        let mut tx = self.begin_write().await?;
        let run = run_by_uuid(&mut tx, uuid).await?;
        let deleted_at = if deleted {
            run.deleted_at.or(Some(now_ms()))
        } else {
            None
        };
        sqlx::query("UPDATE runs SET deleted_at = $1 WHERE id = $2")
            .bind(deleted_at)
            .bind(run.id)
            .execute(&mut *tx)
            .await?;
        let run = run_by_uuid(&mut tx, uuid).await?;
        let action = if deleted { "run.delete" } else { "run.restore" };
        let event = NewEvent::success(action, format!("run/{uuid}"), Some(&run.project), json!({}));
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(run)
    }

    /// Logs params, tags and metric points in one transaction: all or nothing.
    pub async fn log_batch(&self, uuid: &str, batch: &LogBatch, actor: &Actor) -> Result<()> {
        validate_pairs("param", &batch.params)?;
        validate_pairs("tag", &batch.tags)?;
        for point in &batch.metrics {
            validate::key("metric key", &point.key)?;
        }
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let run = run_by_uuid(&mut tx, uuid).await?;
        // Lock first, then look: a concurrent delete of the run commits before or after us.
        lock_row(&mut tx, self.inner.backend, LockTable::Runs, run.id).await?;
        let run = active_run(&mut tx, uuid).await?;
        insert_params(&mut tx, run.id, &batch.params, &actor.principal, now).await?;
        upsert_tags(
            &mut tx,
            TagOwner::Run(run.id),
            &batch.tags,
            &actor.principal,
            now,
        )
        .await?;
        crate::metrics::insert_points(
            &mut tx,
            self.inner.backend,
            run.id,
            &batch.metrics,
            &actor.principal,
            now,
        )
        .await?;
        let event = NewEvent::success(
            "run.write",
            format!("run/{uuid}"),
            Some(&run.project),
            json!({
                "params": batch.params.iter().map(|p| &p.key).collect::<Vec<_>>(),
                "tags": batch.tags.iter().map(|t| &t.key).collect::<Vec<_>>(),
                "metric_points": batch.metrics.len(),
            }),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a tag; deleting a missing tag is NotFound.
    pub async fn delete_tag(&self, uuid: &str, key: &str, actor: &Actor) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let run = active_run(&mut tx, uuid).await?;
        delete_tag_row(&mut tx, TagOwner::Run(run.id), key).await?;
        let event = NewEvent::success(
            "run.write",
            format!("run/{uuid}"),
            Some(&run.project),
            json!({"deleted_tag": key}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records that a run read a dataset version, in a context such as `training`.
    pub async fn add_run_input(
        &self,
        uuid: &str,
        dataset_version_id: i64,
        context: &str,
        actor: &Actor,
    ) -> Result<RunDetail> {
        validate::key("input context", context)?;
        self.add_run_dataset_edge(uuid, dataset_version_id, context, true, actor)
            .await
    }

    /// Records that a run wrote a dataset version.
    pub async fn add_run_output(
        &self,
        uuid: &str,
        dataset_version_id: i64,
        actor: &Actor,
    ) -> Result<RunDetail> {
        self.add_run_dataset_edge(uuid, dataset_version_id, "", false, actor)
            .await
    }

    async fn add_run_dataset_edge(
        &self,
        uuid: &str,
        dataset_version_id: i64,
        context: &str,
        input: bool,
        actor: &Actor,
    ) -> Result<RunDetail> {
        let mut tx = self.begin_write().await?;
        let run = active_run(&mut tx, uuid).await?;
        version_in_project(&mut tx, dataset_version_id, &run.project).await?;
        let edge = if input {
            Edge::new(
                NodeKind::DatasetVersion,
                dataset_version_id,
                NodeKind::Run,
                run.id,
                "input",
                context,
            )
        } else {
            Edge::new(
                NodeKind::Run,
                run.id,
                NodeKind::DatasetVersion,
                dataset_version_id,
                "output",
                "",
            )
        };
        insert_edge(&mut tx, &edge, &actor.principal).await?;
        let project = run.project.clone();
        let detail = load_details(&mut tx, vec![run])
            .await?
            .pop()
            .ok_or_else(|| Error::not_found("run", uuid))?;
        let event = NewEvent::success(
            "run.write",
            format!("run/{uuid}"),
            Some(&project),
            json!({"direction": if input { "input" } else { "output" }, "dataset_version_id": dataset_version_id, "context": context}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(detail)
    }

    /// Searches a project's runs with a filter and ordering; the cursor is an offset.
    pub async fn search_runs(&self, project: &str, request: &RunSearch) -> Result<Page<RunDetail>> {
        if request.order_by.len() > MAX_ORDER_BY {
            return Err(Error::invalid(format!(
                "order_by may have at most {MAX_ORDER_BY} clauses"
            )));
        }
        if request.experiment_ids.len() > MAX_EXPERIMENT_IDS {
            return Err(Error::invalid(format!(
                "experiment_ids may list at most {MAX_EXPERIMENT_IDS} experiments"
            )));
        }
        let filter = match request.filter.as_deref() {
            Some(text) => search::parse_filter(text)?,
            None => None,
        };
        let order_by = request
            .order_by
            .iter()
            .enumerate()
            .map(|(i, clause)| {
                search::parse_order_by(clause).map_err(|e| {
                    Error::invalid(format!(
                        "order_by[{i}] is not valid: {} at position {}",
                        e.message, e.position
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut binds = vec![SqlValue::Text(project.to_string())];
        let mut experiment_condition = String::new();
        if !request.experiment_ids.is_empty() {
            let placeholders: Vec<String> = (0..request.experiment_ids.len())
                .map(|i| format!("${}", i + 2))
                .collect();
            experiment_condition = format!(" AND r.experiment_id IN ({})", placeholders.join(", "));
            binds.extend(request.experiment_ids.iter().map(|id| SqlValue::Int(*id)));
        }
        let parts = search::build_sql(filter.as_ref(), &order_by, self.dialect(), binds.len() + 1);
        let offset = request.page.after.map_or(0, |c| c.0.max(0));
        let mut sql = format!(
            "{SELECT_RUN} {joins} WHERE p.name = $1{experiment_condition} AND {view}",
            joins = parts.joins,
            view = view_condition(request.view, "r.deleted_at"),
        );
        if !parts.condition.is_empty() {
            sql.push_str(&format!(" AND ({})", parts.condition));
        }
        sql.push_str(" ORDER BY ");
        if !parts.order_terms.is_empty() {
            sql.push_str(&parts.order_terms);
            sql.push_str(", ");
        }
        sql.push_str(&format!(
            "r.start_time DESC, r.id DESC LIMIT {} OFFSET {offset}",
            request.page.fetch()
        ));
        // The joins' binds come first in the text, so they are numbered first; keep that order.
        let mut all_binds = binds;
        all_binds.extend(parts.binds);
        let mut conn = self.inner.read.acquire().await?;
        let rows: Vec<Run> = bind_values(sqlx::query(sqlx::AssertSqlSafe(sql)), &all_binds)
            .try_map(|row: sqlx::any::AnyRow| {
                <Run as sqlx::FromRow<sqlx::any::AnyRow>>::from_row(&row)
            })
            .fetch_all(&mut *conn)
            .await?;
        let mut rows = rows;
        let limit = request.page.limit as usize;
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            Some(Cursor(offset + limit as i64).encode())
        } else {
            None
        };
        let items = load_details(&mut conn, rows).await?;
        Ok(Page { items, next_cursor })
    }
}
