//! Privacy budgets and their ledger: how much differential-privacy loss (ε, δ) the releases
//! of a dataset may spend, and every release's charge. A charge is checked against the budgets
//! and recorded in one transaction, before anything is released, so concurrent requests can
//! never spend more than a budget holds.

use serde_json::json;
use sqlx::{AnyConnection, Row};

use crate::audit::{Actor, NewEvent, append};
use crate::datasets::dataset_id;
use crate::db::{LockTable, lock_row};
use crate::model::Page;
use crate::{Error, PageRequest, Result, Store, now_ms};

/// Largest ε a budget may hold (a budget beyond it protects nothing).
pub const MAX_BUDGET_EPSILON: f64 = 1000.0;

/// Who a budget limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BudgetScope {
    /// Every principal's releases together.
    Total,
    /// Each principal on their own, unless a [`BudgetScope::User`] budget names them.
    EachUser,
    /// One principal.
    User(String),
}

impl BudgetScope {
    /// The stored scope name: `total`, `each_user` or `user`.
    pub fn as_str(&self) -> &'static str {
        match self {
            BudgetScope::Total => "total",
            BudgetScope::EachUser => "each_user",
            BudgetScope::User(_) => "user",
        }
    }

    /// The principal column: the user's name for a user budget, else empty.
    fn principal(&self) -> &str {
        match self {
            BudgetScope::User(name) => name,
            _ => "",
        }
    }

    /// Parses a stored or requested scope; `user` needs the principal.
    pub fn parse(scope: &str, principal: Option<&str>) -> Result<Self> {
        match (scope, principal) {
            ("total", None) => Ok(BudgetScope::Total),
            ("each_user", None) => Ok(BudgetScope::EachUser),
            ("user", Some(name)) if !name.is_empty() => {
                crate::validate::user_name(name)?;
                Ok(BudgetScope::User(name.to_owned()))
            }
            ("user", _) => Err(Error::invalid("a `user` budget names its user")),
            ("total" | "each_user", Some(_)) => {
                Err(Error::invalid(format!("a `{scope}` budget names no user")))
            }
            _ => Err(Error::invalid(format!(
                "unknown budget scope '{scope}' (expected one of: total, each_user, user)"
            ))),
        }
    }
}

/// An amount of privacy loss.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PrivacyLoss {
    /// ε.
    pub epsilon: f64,
    /// δ (0 for pure ε-DP).
    pub delta: f64,
}

/// A dataset's budget for one scope, with what has been spent against it.
#[derive(Debug, Clone, PartialEq)]
pub struct PrivacyBudget {
    /// Who it limits.
    pub scope: BudgetScope,
    /// The limit.
    pub limit: PrivacyLoss,
    /// Spent so far: by everyone for `total`, by the user for `user`, by the principal who
    /// spent most for `each_user`.
    pub spent: PrivacyLoss,
    /// Who last set it.
    pub updated_by: String,
    /// When (ms).
    pub updated_at: i64,
}

/// One release's charge.
#[derive(Debug, Clone, PartialEq)]
pub struct PrivacyCharge {
    /// Id (sequence in the ledger).
    pub id: i64,
    /// The dataset version the release read.
    pub dataset_version_id: i64,
    /// Who asked.
    pub principal: String,
    /// The question, as asked (JSON).
    pub query: serde_json::Value,
    /// The mechanism that answered, e.g. `discrete_laplace`.
    pub mechanism: String,
    /// The loss charged.
    pub loss: PrivacyLoss,
    /// The request's id.
    pub request_id: Option<String>,
    /// When (ms).
    pub created_at: i64,
}

/// A charge to record before a release.
#[derive(Debug, Clone)]
pub struct NewCharge {
    /// The dataset version the release reads.
    pub dataset_version_id: i64,
    /// The question (JSON, as the ledger shows it).
    pub query: serde_json::Value,
    /// The mechanism that will answer.
    pub mechanism: String,
    /// The loss to charge.
    pub loss: PrivacyLoss,
}

/// What is left for a principal after a charge: the tightest of the budgets that apply.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Remaining {
    /// ε left.
    pub epsilon: f64,
    /// δ left.
    pub delta: f64,
}

/// A budget limit must be a finite, non-negative ε up to [`MAX_BUDGET_EPSILON`] and a δ in
/// [0, 1).
fn check_limit(limit: PrivacyLoss) -> Result<()> {
    if !limit.epsilon.is_finite() || limit.epsilon < 0.0 || limit.epsilon > MAX_BUDGET_EPSILON {
        return Err(Error::invalid(format!(
            "a budget's epsilon must be a number from 0 to {MAX_BUDGET_EPSILON}"
        )));
    }
    if !limit.delta.is_finite() || !(0.0..1.0).contains(&limit.delta) {
        return Err(Error::invalid(
            "a budget's delta must be a number from 0 up to (not including) 1",
        ));
    }
    Ok(())
}

/// Whether `spent + cost` stays within `limit` (with room for floating-point sums).
fn fits(spent: f64, cost: f64, limit: f64) -> bool {
    spent + cost <= limit * (1.0 + 1e-9) + 1e-12
}

/// ε and δ charged on a dataset, by everyone or by one principal.
async fn spent(
    conn: &mut AnyConnection,
    dataset: i64,
    principal: Option<&str>,
) -> Result<PrivacyLoss> {
    let row = match principal {
        None => {
            sqlx::query(
                "SELECT COALESCE(SUM(epsilon), 0.0) AS e, COALESCE(SUM(delta), 0.0) AS d \
                 FROM privacy_charges WHERE dataset_id = $1",
            )
            .bind(dataset)
            .fetch_one(&mut *conn)
            .await?
        }
        Some(name) => {
            sqlx::query(
                "SELECT COALESCE(SUM(epsilon), 0.0) AS e, COALESCE(SUM(delta), 0.0) AS d \
                 FROM privacy_charges WHERE dataset_id = $1 AND principal = $2",
            )
            .bind(dataset)
            .bind(name)
            .fetch_one(&mut *conn)
            .await?
        }
    };
    Ok(PrivacyLoss {
        epsilon: row.try_get("e")?,
        delta: row.try_get("d")?,
    })
}

/// The most any one principal has spent on a dataset (what an `each_user` budget must cover).
async fn most_spent_by_one(conn: &mut AnyConnection, dataset: i64) -> Result<PrivacyLoss> {
    let row = sqlx::query(
        "SELECT COALESCE(MAX(e), 0.0) AS e, COALESCE(MAX(d), 0.0) AS d FROM \
         (SELECT SUM(epsilon) AS e, SUM(delta) AS d FROM privacy_charges WHERE dataset_id = $1 \
          GROUP BY principal) per_principal",
    )
    .bind(dataset)
    .fetch_one(&mut *conn)
    .await?;
    Ok(PrivacyLoss {
        epsilon: row.try_get("e")?,
        delta: row.try_get("d")?,
    })
}

/// The budgets of a dataset as stored: (scope, principal, ε, δ, updated_by, updated_at).
async fn budget_rows(
    conn: &mut AnyConnection,
    dataset: i64,
) -> Result<Vec<(String, String, f64, f64, String, i64)>> {
    let rows = sqlx::query(
        "SELECT scope, principal, epsilon, delta, updated_by, updated_at FROM privacy_budgets \
         WHERE dataset_id = $1 ORDER BY scope, principal",
    )
    .bind(dataset)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get("scope")?,
                row.try_get("principal")?,
                row.try_get("epsilon")?,
                row.try_get("delta")?,
                row.try_get("updated_by")?,
                row.try_get("updated_at")?,
            ))
        })
        .collect()
}

/// What has been spent against a budget of `scope`.
async fn spent_against(
    conn: &mut AnyConnection,
    dataset: i64,
    scope: &BudgetScope,
) -> Result<PrivacyLoss> {
    match scope {
        BudgetScope::Total => spent(conn, dataset, None).await,
        BudgetScope::EachUser => most_spent_by_one(conn, dataset).await,
        BudgetScope::User(name) => spent(conn, dataset, Some(name)).await,
    }
}

impl Store {
    /// Sets (or replaces) a dataset's budget for `scope`. A limit below what has already been
    /// spent against it is refused. Audited as `privacy.budget`.
    pub async fn set_privacy_budget(
        &self,
        project: &str,
        dataset: &str,
        scope: BudgetScope,
        limit: PrivacyLoss,
        actor: &Actor,
    ) -> Result<PrivacyBudget> {
        check_limit(limit)?;
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let ds = dataset_id(&mut tx, project, dataset).await?;
        lock_row(&mut tx, self.inner.backend, LockTable::Datasets, ds).await?;
        let used = spent_against(&mut tx, ds, &scope).await?;
        if !fits(used.epsilon, 0.0, limit.epsilon) || !fits(used.delta, 0.0, limit.delta) {
            return Err(Error::invalid(format!(
                "the {} budget cannot be set to epsilon {} and delta {}: epsilon {} and delta {} \
                 have been spent already",
                scope.as_str(),
                limit.epsilon,
                limit.delta,
                used.epsilon,
                used.delta
            )));
        }
        sqlx::query(
            "INSERT INTO privacy_budgets (dataset_id, scope, principal, epsilon, delta, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (dataset_id, scope, principal) DO UPDATE SET \
             epsilon = excluded.epsilon, delta = excluded.delta, updated_by = excluded.updated_by, \
             updated_at = excluded.updated_at",
        )
        .bind(ds)
        .bind(scope.as_str())
        .bind(scope.principal())
        .bind(limit.epsilon)
        .bind(limit.delta)
        .bind(&actor.principal)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let event = NewEvent::success(
            "privacy.budget",
            format!(
                "project/{project}/dataset/{dataset}/privacy-budget/{}",
                scope.as_str()
            ),
            Some(project),
            json!({"scope": scope.as_str(), "user": scope.principal(), "epsilon": limit.epsilon, "delta": limit.delta}),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(PrivacyBudget {
            scope,
            limit,
            spent: used,
            updated_by: actor.principal.clone(),
            updated_at: now,
        })
    }

    /// A dataset's budgets, with what has been spent against each.
    pub async fn privacy_budgets(
        &self,
        project: &str,
        dataset: &str,
    ) -> Result<Vec<PrivacyBudget>> {
        let mut conn = self.inner.read.acquire().await?;
        let ds = dataset_id(&mut conn, project, dataset).await?;
        let mut budgets = Vec::new();
        for (scope, principal, epsilon, delta, updated_by, updated_at) in
            budget_rows(&mut conn, ds).await?
        {
            let scope = BudgetScope::parse(
                &scope,
                (!principal.is_empty()).then_some(principal.as_str()),
            )?;
            let spent = spent_against(&mut conn, ds, &scope).await?;
            budgets.push(PrivacyBudget {
                scope,
                limit: PrivacyLoss { epsilon, delta },
                spent,
                updated_by,
                updated_at,
            });
        }
        Ok(budgets)
    }

    /// Charges a release to the dataset's budgets, before it is made: in one transaction the
    /// budgets that apply to the actor (`total`, and their `user` budget or else `each_user`)
    /// are locked and checked, the charge is written to the ledger and audited as
    /// `privacy.charge`. A charge that any budget cannot take is refused
    /// ([`Error::BudgetExceeded`]) and nothing is written; a dataset without budgets allows no
    /// release. Returns the charge and what is left to the actor.
    pub async fn charge_privacy(
        &self,
        project: &str,
        dataset: &str,
        charge: NewCharge,
        actor: &Actor,
    ) -> Result<(PrivacyCharge, Remaining)> {
        let cost = charge.loss;
        let epsilon_ok = cost.epsilon.is_finite() && cost.epsilon > 0.0;
        let delta_ok = cost.delta.is_finite() && (0.0..1.0).contains(&cost.delta);
        if !epsilon_ok || !delta_ok {
            return Err(Error::invalid(
                "a charge needs epsilon > 0 and delta in [0, 1)",
            ));
        }
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let ds = dataset_id(&mut tx, project, dataset).await?;
        // Concurrent charges of one dataset take turns from here (SQLite has one writer).
        lock_row(&mut tx, self.inner.backend, LockTable::Datasets, ds).await?;
        let rows = budget_rows(&mut tx, ds).await?;
        let limit_of = |scope: &str, principal: &str| {
            rows.iter()
                .find(|(s, p, ..)| s == scope && p == principal)
                .map(|(_, _, e, d, ..)| PrivacyLoss {
                    epsilon: *e,
                    delta: *d,
                })
        };
        let total = limit_of("total", "");
        let personal = limit_of("user", &actor.principal).or_else(|| limit_of("each_user", ""));
        if total.is_none() && personal.is_none() {
            return Err(Error::BudgetExceeded(format!(
                "dataset '{dataset}' has no privacy budget for '{}': its owner sets one before \
                 differentially private questions can be answered",
                actor.principal
            )));
        }
        let mut remaining = Remaining {
            epsilon: f64::INFINITY,
            delta: f64::INFINITY,
        };
        for (what, limit, used) in [
            ("total", total, spent(&mut tx, ds, None).await?),
            (
                "personal",
                personal,
                spent(&mut tx, ds, Some(&actor.principal)).await?,
            ),
        ] {
            let Some(limit) = limit else { continue };
            if !fits(used.epsilon, cost.epsilon, limit.epsilon)
                || !fits(used.delta, cost.delta, limit.delta)
            {
                return Err(Error::BudgetExceeded(format!(
                    "this release needs epsilon {} and delta {}, but the {what} privacy budget of \
                     dataset '{dataset}' has epsilon {} and delta {} left: nothing was released",
                    cost.epsilon,
                    cost.delta,
                    (limit.epsilon - used.epsilon).max(0.0),
                    (limit.delta - used.delta).max(0.0),
                )));
            }
            remaining.epsilon = remaining
                .epsilon
                .min((limit.epsilon - used.epsilon - cost.epsilon).max(0.0));
            remaining.delta = remaining
                .delta
                .min((limit.delta - used.delta - cost.delta).max(0.0));
        }
        let query_text = charge.query.to_string();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO privacy_charges (dataset_id, dataset_version_id, principal, query, mechanism, \
             epsilon, delta, request_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(ds)
        .bind(charge.dataset_version_id)
        .bind(&actor.principal)
        .bind(&query_text)
        .bind(&charge.mechanism)
        .bind(cost.epsilon)
        .bind(cost.delta)
        .bind(actor.request_id.as_deref())
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let event = NewEvent::success(
            "privacy.charge",
            format!("project/{project}/dataset/{dataset}/privacy-charge/{id}"),
            Some(project),
            json!({
                "dataset_version_id": charge.dataset_version_id,
                "query": charge.query,
                "mechanism": charge.mechanism,
                "epsilon": cost.epsilon,
                "delta": cost.delta,
            }),
        );
        append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        let charged = PrivacyCharge {
            id,
            dataset_version_id: charge.dataset_version_id,
            principal: actor.principal.clone(),
            query: charge.query,
            mechanism: charge.mechanism,
            loss: cost,
            request_id: actor.request_id.clone(),
            created_at: now,
        };
        Ok((charged, remaining))
    }

    /// The ledger of a dataset, newest first.
    pub async fn privacy_ledger(
        &self,
        project: &str,
        dataset: &str,
        page: &PageRequest,
    ) -> Result<Page<PrivacyCharge>> {
        let mut conn = self.inner.read.acquire().await?;
        let ds = dataset_id(&mut conn, project, dataset).await?;
        let rows = sqlx::query(
            "SELECT id, dataset_version_id, principal, query, mechanism, epsilon, delta, request_id, \
             created_at FROM privacy_charges WHERE dataset_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(ds)
        .bind(page.before_key())
        .bind(page.fetch())
        .fetch_all(&mut *conn)
        .await?;
        let charges = rows
            .iter()
            .map(|row| {
                let query: String = row.try_get("query")?;
                Ok(PrivacyCharge {
                    id: row.try_get("id")?,
                    dataset_version_id: row.try_get("dataset_version_id")?,
                    principal: row.try_get("principal")?,
                    query: serde_json::from_str(&query).unwrap_or(serde_json::Value::String(query)),
                    mechanism: row.try_get("mechanism")?,
                    loss: PrivacyLoss {
                        epsilon: row.try_get("epsilon")?,
                        delta: row.try_get("delta")?,
                    },
                    request_id: row.try_get("request_id")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(charges, page, |c| c.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_refuse_odd_combinations() {
        assert_eq!(
            BudgetScope::parse("total", None).ok(),
            Some(BudgetScope::Total)
        );
        assert_eq!(
            BudgetScope::parse("each_user", None).ok(),
            Some(BudgetScope::EachUser)
        );
        assert_eq!(
            BudgetScope::parse("user", Some("alice")).ok(),
            Some(BudgetScope::User("alice".into()))
        );
        assert!(BudgetScope::parse("user", None).is_err());
        assert!(BudgetScope::parse("total", Some("alice")).is_err());
        assert!(BudgetScope::parse("user", Some("a b")).is_err());
        assert!(BudgetScope::parse("everyone", None).is_err());
    }

    #[test]
    fn limits_are_checked() {
        let ok = |e: f64, d: f64| {
            check_limit(PrivacyLoss {
                epsilon: e,
                delta: d,
            })
            .is_ok()
        };
        assert!(ok(0.0, 0.0) && ok(1.0, 1e-6) && ok(MAX_BUDGET_EPSILON, 0.5));
        assert!(!ok(-1.0, 0.0) && !ok(f64::NAN, 0.0) && !ok(f64::INFINITY, 0.0));
        assert!(!ok(MAX_BUDGET_EPSILON * 2.0, 0.0) && !ok(1.0, 1.0) && !ok(1.0, -0.1));
    }

    #[test]
    fn fitting_allows_rounding_but_not_more() {
        assert!(fits(0.1 + 0.2, 0.7, 1.0));
        assert!(fits(0.9, 0.1, 1.0));
        assert!(!fits(0.9, 0.1001, 1.0));
        assert!(!fits(0.0, 0.0001, 0.0));
    }
}
