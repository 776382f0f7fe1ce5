//! Promotion gates, reviews and retirement: what a model version must show before a protected
//! alias may point at it, the reviewers' approvals and rejections, and retired versions, which
//! take no alias. Judging a gate's requirements against the evidence is the API's; this module
//! stores the gates, the decisions and the retirements, each change audited.

use std::fmt;
use std::str::FromStr;

use serde_json::{Value, json};
use sqlx::{AnyConnection, Row};

use crate::audit::{Actor, NewEvent, append};
use crate::db::{LockTable, lock_row};
use crate::error::map_unique;
use crate::models::{model_row, version_id};
use crate::projects::project_id;
use crate::{Error, Result, Store, now_ms, validate};

/// Longest review comment or retirement reason, in bytes.
pub const MAX_COMMENT_BYTES: usize = 10_000;

/// A gate on an alias of one model, or of every model of a project.
#[derive(Debug, Clone, PartialEq)]
pub struct Gate {
    /// Id.
    pub id: i64,
    /// Project name.
    pub project: String,
    /// The model it guards; `None` for every model of the project.
    pub model: Option<String>,
    /// The guarded alias.
    pub alias: String,
    /// The requirements, as the API validated them.
    pub requirements: Value,
    /// Who last set it.
    pub updated_by: String,
    /// When (ms).
    pub updated_at: i64,
}

/// A reviewer's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// For the promotion.
    Approve,
    /// Against it.
    Reject,
}

impl Decision {
    /// `approve` or `reject`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Reject => "reject",
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Decision {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "approve" => Ok(Decision::Approve),
            "reject" => Ok(Decision::Reject),
            other => Err(Error::invalid(format!(
                "unknown decision '{other}': use `approve` or `reject`"
            ))),
        }
    }
}

/// One review of a version's promotion to an alias.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    /// Id.
    pub id: i64,
    /// The model version's id.
    pub model_version_id: i64,
    /// The alias it was reviewed for.
    pub alias: String,
    /// Who decided.
    pub reviewer: String,
    /// What.
    pub decision: Decision,
    /// Why.
    pub comment: String,
    /// When (ms).
    pub created_at: i64,
}

/// Why and when a version was retired.
#[derive(Debug, Clone, PartialEq)]
pub struct Retirement {
    /// Why.
    pub reason: String,
    /// Who retired it.
    pub retired_by: String,
    /// When (ms).
    pub retired_at: i64,
}

fn check_text(what: &str, text: &str) -> Result<()> {
    if text.trim().is_empty() {
        return Err(Error::invalid(format!("a {what} is required")));
    }
    if text.len() > MAX_COMMENT_BYTES || text.contains('\0') {
        return Err(Error::invalid(format!(
            "a {what} holds at most {MAX_COMMENT_BYTES} bytes and no NUL"
        )));
    }
    Ok(())
}

fn gate_from_row(row: &sqlx::any::AnyRow, project: &str) -> Result<Gate> {
    let requirements: String = row.try_get("requirements")?;
    Ok(Gate {
        id: row.try_get("id")?,
        project: project.to_owned(),
        model: row.try_get("model")?,
        alias: row.try_get("alias")?,
        requirements: serde_json::from_str(&requirements)
            .map_err(|e| Error::Internal(format!("stored gate requirements: {e}")))?,
        updated_by: row.try_get("updated_by")?,
        updated_at: row.try_get("updated_at")?,
    })
}

const GATE_COLUMNS: &str = "g.id, m.name AS model, g.alias, g.requirements, g.updated_by, g.updated_at \
     FROM promotion_gates g LEFT JOIN registered_models m ON m.id = g.model_id";

/// The id of the model a gate guards (`None`: every model of the project).
async fn gate_model(
    conn: &mut AnyConnection,
    project: &str,
    model: Option<&str>,
) -> Result<Option<i64>> {
    match model {
        Some(name) => Ok(Some(model_row(conn, project, name).await?.id)),
        None => Ok(None),
    }
}

/// A gate's key among the project's gates: its model's id, 0 for every model.
fn scope_key(model_id: Option<i64>) -> i64 {
    model_id.unwrap_or(0)
}

fn review_from_row(row: &sqlx::any::AnyRow) -> Result<Review> {
    let decision: String = row.try_get("decision")?;
    Ok(Review {
        id: row.try_get("id")?,
        model_version_id: row.try_get("model_version_id")?,
        alias: row.try_get("alias")?,
        reviewer: row.try_get("reviewer")?,
        decision: decision.parse()?,
        comment: row.try_get("comment")?,
        created_at: row.try_get("created_at")?,
    })
}

/// The retirement of a version, by id, if retired.
pub(crate) async fn retirement_of(
    conn: &mut AnyConnection,
    model_version_id: i64,
) -> Result<Option<Retirement>> {
    let row = sqlx::query(
        "SELECT reason, retired_by, retired_at FROM model_version_retirements WHERE model_version_id = $1",
    )
    .bind(model_version_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(Retirement {
            reason: r.try_get("reason")?,
            retired_by: r.try_get("retired_by")?,
            retired_at: r.try_get("retired_at")?,
        })
    })
    .transpose()
}

impl Store {
    /// Sets (or replaces) the gate on `alias` of `model` (of every model of the project for
    /// `None`). Audited as `gate.set`.
    pub async fn set_gate(
        &self,
        project: &str,
        model: Option<&str>,
        alias: &str,
        requirements: &Value,
        actor: &Actor,
    ) -> Result<Gate> {
        validate::alias(alias)?;
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let project_row = project_id(&mut tx, project).await?;
        let model_id = gate_model(&mut tx, project, model).await?;
        let scope = scope_key(model_id);
        sqlx::query(
            "INSERT INTO promotion_gates (project_id, model_id, scope_key, alias, requirements, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (project_id, scope_key, alias) DO UPDATE SET \
             requirements = excluded.requirements, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        )
        .bind(project_row)
        .bind(model_id)
        .bind(scope)
        .bind(alias)
        .bind(requirements.to_string())
        .bind(&actor.principal)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let stored = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {GATE_COLUMNS} WHERE g.project_id = $1 AND g.scope_key = $2 AND g.alias = $3"
        )))
        .bind(project_row)
        .bind(scope)
        .bind(alias)
        .fetch_one(&mut *tx)
        .await?;
        let gate = gate_from_row(&stored, project)?;
        let event = NewEvent::success(
            "gate.set",
            gate_resource(project, model, alias),
            Some(project),
            json!({"model": model, "alias": alias, "requirements": requirements}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(gate)
    }

    /// Removes a gate. Audited as `gate.delete`.
    pub async fn delete_gate(
        &self,
        project: &str,
        model: Option<&str>,
        alias: &str,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let project_row = project_id(&mut tx, project).await?;
        let scope = scope_key(gate_model(&mut tx, project, model).await?);
        let deleted = sqlx::query(
            "DELETE FROM promotion_gates WHERE project_id = $1 AND scope_key = $2 AND alias = $3",
        )
        .bind(project_row)
        .bind(scope)
        .bind(alias)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if deleted == 0 {
            return Err(Error::not_found(
                "gate",
                gate_resource(project, model, alias),
            ));
        }
        let event = NewEvent::success(
            "gate.delete",
            gate_resource(project, model, alias),
            Some(project),
            json!({"model": model, "alias": alias}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A project's gates, project-wide ones first, then by model and alias.
    pub async fn gates(&self, project: &str) -> Result<Vec<Gate>> {
        let mut conn = self.inner.read.acquire().await?;
        let project_row = project_id(&mut conn, project).await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {GATE_COLUMNS} WHERE g.project_id = $1 ORDER BY g.scope_key, m.name, g.alias"
        )))
        .bind(project_row)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter().map(|r| gate_from_row(r, project)).collect()
    }

    /// The gate guarding `alias` of `model`: the model's own, else the project-wide one.
    pub async fn gate_for(&self, project: &str, model: &str, alias: &str) -> Result<Option<Gate>> {
        let mut conn = self.inner.read.acquire().await?;
        let project_row = project_id(&mut conn, project).await?;
        let model_id = model_row(&mut conn, project, model).await?.id;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {GATE_COLUMNS} WHERE g.project_id = $1 AND g.alias = $2 AND g.scope_key IN (0, $3) \
             ORDER BY g.scope_key DESC LIMIT 1"
        )))
        .bind(project_row)
        .bind(alias)
        .bind(model_id)
        .fetch_optional(&mut *conn)
        .await?;
        row.map(|r| gate_from_row(&r, project)).transpose()
    }

    /// Records a review of promoting a version to `alias`; one per reviewer, version and alias
    /// (a second is a conflict). Who may review (and that it is not the version's creator) is
    /// the caller's to check. Audited as `model_version.review`.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_review(
        &self,
        project: &str,
        model: &str,
        version: i64,
        alias: &str,
        decision: Decision,
        comment: &str,
        actor: &Actor,
    ) -> Result<Review> {
        validate::alias(alias)?;
        check_text("comment", comment)?;
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let row = model_row(&mut tx, project, model).await?;
        let id = version_id(&mut tx, row.id, version, model).await?;
        let seen: Option<String> = sqlx::query_scalar(
            "SELECT decision FROM model_version_reviews WHERE model_version_id = $1 AND alias = $2 AND reviewer = $3",
        )
        .bind(id)
        .bind(alias)
        .bind(&actor.principal)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(decision) = seen {
            return Err(Error::Conflict(format!(
                "{} has already reviewed {model} v{version} for '{alias}' ({decision})",
                actor.principal
            )));
        }
        let review_id: i64 = sqlx::query_scalar(
            "INSERT INTO model_version_reviews (model_version_id, alias, reviewer, decision, comment, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(id)
        .bind(alias)
        .bind(&actor.principal)
        .bind(decision.as_str())
        .bind(comment)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_unique("review", alias))?;
        let event = NewEvent::success(
            "model_version.review",
            format!("project/{project}/model/{model}/version/{version}"),
            Some(project),
            json!({"alias": alias, "decision": decision.as_str(), "comment": comment}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(Review {
            id: review_id,
            model_version_id: id,
            alias: alias.to_owned(),
            reviewer: actor.principal.clone(),
            decision,
            comment: comment.to_owned(),
            created_at: now,
        })
    }

    /// The reviews of a version (for every alias), oldest first.
    pub async fn reviews(&self, project: &str, model: &str, version: i64) -> Result<Vec<Review>> {
        let mut conn = self.inner.read.acquire().await?;
        let row = model_row(&mut conn, project, model).await?;
        let id = version_id(&mut conn, row.id, version, model).await?;
        let rows = sqlx::query(
            "SELECT id, model_version_id, alias, reviewer, decision, comment, created_at \
             FROM model_version_reviews WHERE model_version_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter().map(review_from_row).collect()
    }

    /// Retires a version: it can take no alias from then on. A version an alias points at is
    /// refused (move the alias first), as is one already retired. Audited as
    /// `model_version.retire`.
    pub async fn retire_version(
        &self,
        project: &str,
        model: &str,
        version: i64,
        reason: &str,
        actor: &Actor,
    ) -> Result<Retirement> {
        check_text("reason", reason)?;
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let row = model_row(&mut tx, project, model).await?;
        lock_row(
            &mut tx,
            self.inner.backend,
            LockTable::RegisteredModels,
            row.id,
        )
        .await?;
        let id = version_id(&mut tx, row.id, version, model).await?;
        if let Some(done) = retirement_of(&mut tx, id).await? {
            return Err(Error::Conflict(format!(
                "{model} v{version} was retired already by {} ({})",
                done.retired_by, done.reason
            )));
        }
        let held: Vec<String> = sqlx::query_scalar(
            "SELECT alias FROM model_aliases WHERE model_version_id = $1 ORDER BY alias",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        if !held.is_empty() {
            return Err(Error::Conflict(format!(
                "{model} v{version} is what {} point{} at: move {} first",
                held.iter()
                    .map(|a| format!("@{a}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if held.len() == 1 { "s" } else { "" },
                if held.len() == 1 { "it" } else { "them" }
            )));
        }
        sqlx::query(
            "INSERT INTO model_version_retirements (model_version_id, reason, retired_by, retired_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(reason)
        .bind(&actor.principal)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let event = NewEvent::success(
            "model_version.retire",
            format!("project/{project}/model/{model}/version/{version}"),
            Some(project),
            json!({"reason": reason}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(Retirement {
            reason: reason.to_owned(),
            retired_by: actor.principal.clone(),
            retired_at: now,
        })
    }

    /// A version's retirement, if it was retired.
    pub async fn retirement(
        &self,
        project: &str,
        model: &str,
        version: i64,
    ) -> Result<Option<Retirement>> {
        let mut conn = self.inner.read.acquire().await?;
        let row = model_row(&mut conn, project, model).await?;
        let id = version_id(&mut conn, row.id, version, model).await?;
        retirement_of(&mut conn, id).await
    }
}

fn gate_resource(project: &str, model: Option<&str>, alias: &str) -> String {
    match model {
        Some(model) => format!("project/{project}/model/{model}/gate/{alias}"),
        None => format!("project/{project}/gate/{alias}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_parse_and_refuse_others() {
        assert_eq!("approve".parse::<Decision>().ok(), Some(Decision::Approve));
        assert_eq!("reject".parse::<Decision>().ok(), Some(Decision::Reject));
        assert!("Approve".parse::<Decision>().is_err());
    }

    #[test]
    fn comments_are_required_and_bounded() {
        assert!(check_text("comment", "fine").is_ok());
        assert!(check_text("comment", "  ").is_err());
        assert!(check_text("comment", "a\0b").is_err());
        assert!(check_text("comment", &"x".repeat(MAX_COMMENT_BYTES + 1)).is_err());
    }
}
