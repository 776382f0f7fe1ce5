//! Experiments: named groups of runs, soft-deletable.

use sqlx::AnyConnection;

use serde_json::json;

use crate::audit::{Actor, NewEvent, append};
use crate::error::map_unique;
use crate::model::{Experiment, Page, ViewType};
use crate::projects::project_id;
use crate::{Error, PageRequest, Result, Store, now_ms, validate};

const SELECT: &str = "SELECT e.id, p.name AS project, e.name, e.description, e.deleted_at, e.created_by, e.created_at \
     FROM experiments e JOIN projects p ON p.id = e.project_id";

pub(crate) fn view_condition(view: ViewType, column: &str) -> String {
    match view {
        ViewType::ActiveOnly => format!("{column} IS NULL"),
        ViewType::DeletedOnly => format!("{column} IS NOT NULL"),
        ViewType::All => "1 = 1".to_string(),
    }
}

pub(crate) async fn experiment_in_project(
    conn: &mut AnyConnection,
    project: &str,
    id: i64,
) -> Result<Experiment> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE e.id = $1 AND p.name = $2"
    )))
    .bind(id)
    .bind(project)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| Error::not_found("experiment", id))
}

impl Store {
    /// Creates an experiment in a project.
    pub async fn create_experiment(
        &self,
        project: &str,
        name: &str,
        description: &str,
        actor: &Actor,
    ) -> Result<Experiment> {
        validate::name("experiment name", name)?;
        validate::description(description)?;
        let mut tx = self.begin_write().await?;
        let project_id = project_id(&mut tx, project).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO experiments (project_id, name, description, created_by, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(project_id)
        .bind(name)
        .bind(description)
        .bind(&actor.principal)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await
        .map_err(map_unique("experiment", name))?;
        let experiment = experiment_in_project(&mut tx, project, id).await?;
        let event = NewEvent::success(
            "experiment.create",
            format!("project/{project}/experiment/{id}"),
            Some(project),
            json!({"name": name}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(experiment)
    }

    /// Reads an experiment of a project by id.
    pub async fn get_experiment(&self, project: &str, id: i64) -> Result<Experiment> {
        let mut conn = self.inner.read.acquire().await?;
        experiment_in_project(&mut conn, project, id).await
    }

    /// Reads an experiment of a project by name.
    pub async fn get_experiment_by_name(&self, project: &str, name: &str) -> Result<Experiment> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE p.name = $1 AND e.name = $2"
        )))
        .bind(project)
        .bind(name)
        .fetch_optional(&self.inner.read)
        .await?
        .ok_or_else(|| Error::not_found("experiment", name))
    }

    /// Lists a project's experiments.
    pub async fn list_experiments(
        &self,
        project: &str,
        view: ViewType,
        page: &PageRequest,
    ) -> Result<Page<Experiment>> {
        let mut conn = self.inner.read.acquire().await?;
        let project_id = project_id(&mut conn, project).await?;
        let sql = format!(
            "{SELECT} WHERE e.project_id = $1 AND e.id > $2 AND {} ORDER BY e.id LIMIT $3",
            view_condition(view, "e.deleted_at")
        );
        let rows: Vec<Experiment> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(project_id)
            .bind(page.after_key())
            .bind(page.fetch())
            .fetch_all(&mut *conn)
            .await?;
        Ok(Page::from_rows(rows, page, |e| e.id))
    }

    /// Renames an experiment and/or changes its description.
    pub async fn update_experiment(
        &self,
        project: &str,
        id: i64,
        name: Option<&str>,
        description: Option<&str>,
        actor: &Actor,
    ) -> Result<Experiment> {
        if let Some(name) = name {
            validate::name("experiment name", name)?;
        }
        if let Some(description) = description {
            validate::description(description)?;
        }
        let mut tx = self.begin_write().await?;
        let current = experiment_in_project(&mut tx, project, id).await?;
        if current.deleted_at.is_some() {
            return Err(Error::Conflict(format!(
                "experiment {id} is deleted: restore it first"
            )));
        }
        let new_name = name.unwrap_or(&current.name);
        sqlx::query("UPDATE experiments SET name = $1, description = $2 WHERE id = $3")
            .bind(new_name)
            .bind(description.unwrap_or(&current.description))
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_unique("experiment", new_name))?;
        let experiment = experiment_in_project(&mut tx, project, id).await?;
        let event = NewEvent::success(
            "experiment.update",
            format!("project/{project}/experiment/{id}"),
            Some(project),
            json!({"name": name, "description": description}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(experiment)
    }

    /// Soft-deletes (`deleted = true`) or restores an experiment.
    pub async fn set_experiment_deleted(
        &self,
        project: &str,
        id: i64,
        deleted: bool,
        actor: &Actor,
    ) -> Result<Experiment> {
        let mut tx = self.begin_write().await?;
        let current = experiment_in_project(&mut tx, project, id).await?;
        let deleted_at = match (deleted, current.deleted_at) {
            (true, Some(at)) => Some(at),
            (true, None) => Some(now_ms()),
            (false, _) => None,
        };
        sqlx::query("UPDATE experiments SET deleted_at = $1 WHERE id = $2")
            .bind(deleted_at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let experiment = experiment_in_project(&mut tx, project, id).await?;
        let action = if deleted {
            "experiment.delete"
        } else {
            "experiment.restore"
        };
        let event = NewEvent::success(
            action,
            format!("project/{project}/experiment/{id}"),
            Some(project),
            json!({}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(experiment)
    }
}
