//! casbin rules in the database: role permissions (`p`) and role bindings (`g`). Every change
//! bumps `policy_revision`, which each server process watches to reload its enforcer.

use serde_json::json;
use sqlx::AnyConnection;

use crate::audit::{Actor, NewEvent, append};
use crate::{Error, Result, Store, now_ms};

/// One stored casbin rule.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PolicyRule {
    /// Internal id.
    pub id: i64,
    /// `p` (role, action, condition) or `g` (user, role, domain).
    pub ptype: String,
    /// First value.
    pub v0: String,
    /// Second value.
    pub v1: String,
    /// Third value.
    pub v2: String,
    /// Who added it.
    pub created_by: String,
    /// When.
    pub created_at: i64,
}

const SELECT: &str = "SELECT id, ptype, v0, v1, v2, created_by, created_at FROM policy_rules";

pub(crate) async fn bump_revision(conn: &mut AnyConnection) -> Result<()> {
    sqlx::query("UPDATE policy_revision SET revision = revision + 1 WHERE id = 1")
        .execute(conn)
        .await?;
    Ok(())
}

pub(crate) async fn insert_rule(
    conn: &mut AnyConnection,
    rule: (&str, &str, &str, &str),
    actor: &Actor,
) -> Result<i64> {
    let (ptype, v0, v1, v2) = rule;
    sqlx::query_scalar(
        "INSERT INTO policy_rules (ptype, v0, v1, v2, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(ptype)
    .bind(v0)
    .bind(v1)
    .bind(v2)
    .bind(&actor.principal)
    .bind(now_ms())
    .fetch_one(conn)
    .await
    .map_err(|err| {
        if crate::error::is_unique_violation(&err) {
            Error::AlreadyExists {
                entity: "policy rule",
                name: format!("{ptype}, {v0}, {v1}, {v2}"),
            }
        } else {
            err.into()
        }
    })
}

impl Store {
    /// Every rule, in id order.
    pub async fn policy_rules(&self) -> Result<Vec<PolicyRule>> {
        Ok(
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} ORDER BY id")))
                .fetch_all(&self.inner.read)
                .await?,
        )
    }

    /// The rules' revision; it changes whenever a rule does.
    pub async fn policy_revision(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT revision FROM policy_revision WHERE id = 1")
                .fetch_one(&self.inner.read)
                .await?,
        )
    }

    /// Writes the default rules once, into a database that never had rules (revision 0).
    /// Returns whether it did.
    pub async fn seed_policy_rules(
        &self,
        rules: &[(String, String, String, String)],
        actor: &Actor,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        // Locked on PostgreSQL: two servers starting together seed once.
        let lock = match self.inner.backend {
            crate::Backend::Postgres => " FOR UPDATE",
            crate::Backend::Sqlite => "",
        };
        let revision: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT revision FROM policy_revision WHERE id = 1{lock}"
        )))
        .fetch_one(&mut *tx)
        .await?;
        if revision != 0 {
            return Ok(false);
        }
        for (ptype, v0, v1, v2) in rules {
            insert_rule(&mut tx, (ptype, v0, v1, v2), actor).await?;
        }
        bump_revision(&mut tx).await?;
        let event = NewEvent::success("policy.seed", "policy", None, json!({"rules": rules.len()}));
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Adds a rule. `project` is the domain of a `g` rule, recorded with the audit event.
    pub async fn add_policy_rule(
        &self,
        rule: (&str, &str, &str, &str),
        actor: &Actor,
    ) -> Result<PolicyRule> {
        let mut tx = self.begin_write().await?;
        let id = insert_rule(&mut tx, rule, actor).await?;
        bump_revision(&mut tx).await?;
        let (ptype, v0, v1, v2) = rule;
        let project = (ptype == "g" && v2 != "*").then_some(v2);
        let event = NewEvent::success(
            "policy.add",
            format!("policy/{id}"),
            project,
            json!({"ptype": ptype, "v0": v0, "v1": v1, "v2": v2}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        self.policy_rule(id).await
    }

    /// Reads one rule.
    pub async fn policy_rule(&self, id: i64) -> Result<PolicyRule> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.inner.read)
            .await?
            .ok_or_else(|| Error::not_found("policy rule", id))
    }

    /// Removes a rule.
    pub async fn remove_policy_rule(&self, id: i64, actor: &Actor) -> Result<PolicyRule> {
        let rule = self.policy_rule(id).await?;
        let mut tx = self.begin_write().await?;
        let removed = sqlx::query("DELETE FROM policy_rules WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if removed == 0 {
            return Err(Error::not_found("policy rule", id));
        }
        bump_revision(&mut tx).await?;
        let project = (rule.ptype == "g" && rule.v2 != "*").then_some(rule.v2.as_str());
        let event = NewEvent::success(
            "policy.remove",
            format!("policy/{id}"),
            project,
            json!({"ptype": rule.ptype, "v0": rule.v0, "v1": rule.v1, "v2": rule.v2}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(rule)
    }

    /// Sets a user's role in a project (replacing the roles they had there), or removes them
    /// from the project when `role` is `None`. The user and the project must exist.
    pub async fn set_project_role(
        &self,
        project: &str,
        user: &str,
        role: Option<&str>,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        crate::projects::project_id(&mut tx, project).await?;
        let user_exists: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE name = $1")
            .bind(user)
            .fetch_optional(&mut *tx)
            .await?;
        if user_exists.is_none() {
            return Err(Error::not_found("user", user));
        }
        let removed =
            sqlx::query("DELETE FROM policy_rules WHERE ptype = 'g' AND v0 = $1 AND v2 = $2")
                .bind(user)
                .bind(project)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if let Some(role) = role {
            insert_rule(&mut tx, ("g", user, role, project), actor).await?;
        } else if removed == 0 {
            return Err(Error::not_found("member", format!("{user} in {project}")));
        }
        bump_revision(&mut tx).await?;
        let event = NewEvent::success(
            "project.manage_members",
            format!("project/{project}/member/{user}"),
            Some(project),
            json!({"user": user, "role": role}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The role bindings of a project: `(user, role)` pairs.
    pub async fn project_members(&self, project: &str) -> Result<Vec<(String, String)>> {
        let mut conn = self.inner.read.acquire().await?;
        crate::projects::project_id(&mut conn, project).await?;
        Ok(sqlx::query_as(
            "SELECT v0, v1 FROM policy_rules WHERE ptype = 'g' AND v2 = $1 ORDER BY v0, v1",
        )
        .bind(project)
        .fetch_all(&mut *conn)
        .await?)
    }
}
