//! Projects: the namespace for everything else.

use serde_json::json;
use sqlx::AnyConnection;

use crate::audit::{Actor, NewEvent, append};
use crate::error::map_unique;
use crate::model::{Page, Project};
use crate::{Error, PageRequest, Result, Store, now_ms, validate};

const SELECT: &str = "SELECT id, name, description, created_by, created_at FROM projects";

/// The id of the project named `name`, or NotFound.
pub(crate) async fn project_id(conn: &mut AnyConnection, name: &str) -> Result<i64> {
    sqlx::query_scalar("SELECT id FROM projects WHERE name = $1")
        .bind(name)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| Error::not_found("project", name))
}

impl Store {
    /// Creates a project.
    pub async fn create_project(
        &self,
        name: &str,
        description: &str,
        actor: &Actor,
    ) -> Result<Project> {
        validate::name("project name", name)?;
        if name == "*" {
            return Err(Error::invalid(
                "'*' is reserved (it names the global domain of access rules)",
            ));
        }
        validate::description(description)?;
        let mut tx = self.begin_write().await?;
        let project: Project = sqlx::query_as(
            "INSERT INTO projects (name, description, created_by, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING id, name, description, created_by, created_at",
        )
        .bind(name)
        .bind(description)
        .bind(&actor.principal)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await
        .map_err(map_unique("project", name))?;
        let event = NewEvent::success(
            "project.create",
            format!("project/{name}"),
            Some(name),
            json!({"description": description}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(project)
    }

    /// Reads a project by name.
    pub async fn get_project(&self, name: &str) -> Result<Project> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE name = $1")))
            .bind(name)
            .fetch_optional(&self.inner.read)
            .await?
            .ok_or_else(|| Error::not_found("project", name))
    }

    /// Lists projects by id.
    pub async fn list_projects(&self, page: &PageRequest) -> Result<Page<Project>> {
        let rows: Vec<Project> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE id > $1 ORDER BY id LIMIT $2"
        )))
        .bind(page.after_key())
        .bind(page.fetch())
        .fetch_all(&self.inner.read)
        .await?;
        Ok(Page::from_rows(rows, page, |p| p.id))
    }

    /// Changes a project's description.
    pub async fn update_project(
        &self,
        name: &str,
        description: &str,
        actor: &Actor,
    ) -> Result<Project> {
        validate::description(description)?;
        let mut tx = self.begin_write().await?;
        let project: Project = sqlx::query_as(
            "UPDATE projects SET description = $1 WHERE name = $2 \
             RETURNING id, name, description, created_by, created_at",
        )
        .bind(description)
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| Error::not_found("project", name))?;
        let event = NewEvent::success(
            "project.update",
            format!("project/{name}"),
            Some(name),
            json!({"description": description}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(project)
    }
}
