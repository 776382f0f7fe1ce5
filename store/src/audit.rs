//! The audit trail: one hash-chained event per change, written in the change's own transaction.
//!
//! Each event's hash is `sha256(prev_hash "\n" canonical)`, where `canonical` is the JSON array
//! `[seq, at, actor, action, resource, project, outcome, request_id, client_addr, details]`
//! (details as the exact stored text). `audit_head` holds the last sequence number and hash:
//! appending locks it (PostgreSQL: `FOR UPDATE`; SQLite has one writer), so sequence numbers
//! are dense and the chain is linear; verification compares the last event with it, which
//! detects a truncated tail.

use futures::TryStreamExt as _;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row as _};

use crate::model::Page;
use crate::{Backend, PageRequest, Result, Store, now_ms};

/// The hash before the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who acts, and from where: recorded in every audit event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Actor {
    /// User name (or `cli`, or the local principal when authentication is off).
    pub principal: String,
    /// The request's `x-request-id`, when the change came over HTTP.
    pub request_id: Option<String>,
    /// The client's address, when known.
    pub client_addr: Option<String>,
}

impl From<&str> for Actor {
    fn from(principal: &str) -> Self {
        Self {
            principal: principal.to_owned(),
            ..Self::default()
        }
    }
}

/// How an audited request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The change was made or the read served.
    Success,
    /// Authorization refused it.
    Denied,
    /// It was refused for another reason (e.g. a wrong password).
    Failure,
}

impl Outcome {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Denied => "denied",
            Self::Failure => "failure",
        }
    }
}

/// An event to append.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Domain action, e.g. `run.write`.
    pub action: String,
    /// The resource acted on, e.g. `run/3f2a...` or `project/vision/dataset/iris`.
    pub resource: String,
    /// The project the resource belongs to, when it belongs to one.
    pub project: Option<String>,
    /// How it ended.
    pub outcome: Outcome,
    /// Further facts (never secrets).
    pub details: serde_json::Value,
}

impl NewEvent {
    /// A successful action on a resource.
    pub fn success(
        action: &str,
        resource: impl Into<String>,
        project: Option<&str>,
        details: serde_json::Value,
    ) -> Self {
        Self {
            action: action.to_owned(),
            resource: resource.into(),
            project: project.map(str::to_owned),
            outcome: Outcome::Success,
            details,
        }
    }
}

/// A stored audit event.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AuditEvent {
    /// Sequence number, dense from 1.
    pub seq: i64,
    /// Time (ms since the epoch).
    pub at: i64,
    /// Acting principal.
    pub actor: String,
    /// Domain action.
    pub action: String,
    /// Resource acted on.
    pub resource: String,
    /// Project of the resource.
    pub project: Option<String>,
    /// `success`, `denied` or `failure`.
    pub outcome: String,
    /// Request id.
    pub request_id: Option<String>,
    /// Client address.
    pub client_addr: Option<String>,
    /// Details as canonical JSON text.
    pub details: String,
    /// Hash of the previous event.
    pub prev_hash: String,
    /// This event's hash.
    pub hash: String,
}

impl AuditEvent {
    /// The hash this event should have, given the previous hash.
    pub fn expected_hash(&self, prev_hash: &str) -> String {
        let canonical = serde_json::json!([
            self.seq,
            self.at,
            self.actor,
            self.action,
            self.resource,
            self.project,
            self.outcome,
            self.request_id,
            self.client_addr,
            self.details,
        ])
        .to_string();
        let mut hasher = Sha256::new();
        hasher.update(prev_hash.as_bytes());
        hasher.update(b"\n");
        hasher.update(canonical.as_bytes());
        hex::encode(hasher.finalize())
    }
}

/// Filters for reading the trail; all optional, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only events of this project.
    pub project: Option<String>,
    /// Only events by this actor.
    pub actor: Option<String>,
    /// Only this action.
    pub action: Option<String>,
    /// Only this outcome.
    pub outcome: Option<String>,
    /// Only events at or after this time (ms).
    pub since: Option<i64>,
    /// Only events before this time (ms).
    pub until: Option<i64>,
    /// Only events on this resource or under it (`project/p/model/m` takes its versions too).
    pub resource: Option<String>,
}

/// The result of recomputing the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditVerification {
    /// Events checked.
    pub checked: i64,
    /// The head's sequence number.
    pub head_seq: i64,
    /// The first sequence number whose event is missing, altered or out of place.
    pub first_broken: Option<i64>,
    /// What is wrong there.
    pub problem: Option<String>,
}

impl AuditVerification {
    /// Whether the chain is intact.
    pub fn is_intact(&self) -> bool {
        self.first_broken.is_none()
    }
}

const SELECT: &str = "SELECT seq, at, actor, action, resource, project, outcome, request_id, \
                      client_addr, details, prev_hash, hash FROM audit_events";

/// Appends an event on `conn`, inside the caller's transaction. Call it last, just before the
/// commit: on PostgreSQL it locks the chain head until the transaction ends.
pub(crate) async fn append(
    conn: &mut AnyConnection,
    backend: Backend,
    actor: &Actor,
    event: NewEvent,
) -> Result<i64> {
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT seq, hash FROM audit_head WHERE id = 1{lock}"
    )))
    .fetch_one(&mut *conn)
    .await?;
    let head_seq: i64 = row.try_get(0)?;
    let prev_hash: String = row.try_get(1)?;
    // PostgreSQL text cannot hold NUL; an event about a name with one must still be written.
    let clean = |s: &str| s.replace('\0', "\u{fffd}");
    let mut stored = AuditEvent {
        seq: head_seq + 1,
        at: now_ms(),
        actor: clean(&actor.principal),
        action: clean(&event.action),
        resource: clean(&event.resource),
        project: event.project.as_deref().map(clean),
        outcome: event.outcome.as_str().to_owned(),
        request_id: actor.request_id.as_deref().map(clean),
        client_addr: actor.client_addr.as_deref().map(clean),
        details: event.details.to_string(),
        prev_hash,
        hash: String::new(),
    };
    stored.hash = stored.expected_hash(&stored.prev_hash);
    sqlx::query(
        "INSERT INTO audit_events (seq, at, actor, action, resource, project, outcome, request_id, \
         client_addr, details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(stored.seq)
    .bind(stored.at)
    .bind(&stored.actor)
    .bind(&stored.action)
    .bind(&stored.resource)
    .bind(&stored.project)
    .bind(&stored.outcome)
    .bind(&stored.request_id)
    .bind(&stored.client_addr)
    .bind(&stored.details)
    .bind(&stored.prev_hash)
    .bind(&stored.hash)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(stored.seq)
        .bind(&stored.hash)
        .execute(&mut *conn)
        .await?;
    Ok(stored.seq)
}

impl Store {
    /// Appends an event in a transaction of its own (denials, logins, sensitive reads).
    pub async fn record_event(&self, actor: &Actor, event: NewEvent) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let seq = append(&mut tx, self.inner.backend, actor, event).await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// Reads events in sequence order.
    pub async fn list_audit_events(
        &self,
        filter: &AuditFilter,
        page: &PageRequest,
    ) -> Result<Page<AuditEvent>> {
        let mut sql = format!("{SELECT} WHERE seq > $1");
        let mut binds: Vec<either::Bind> = Vec::new();
        let mut next = 2;
        let mut text = |column: &str, value: &Option<String>, sql: &mut String| {
            if let Some(value) = value {
                sql.push_str(&format!(" AND {column} = ${next}"));
                binds.push(either::Bind::Text(value.clone()));
                next += 1;
            }
        };
        text("project", &filter.project, &mut sql);
        text("actor", &filter.actor, &mut sql);
        text("action", &filter.action, &mut sql);
        text("outcome", &filter.outcome, &mut sql);
        if let Some(resource) = &filter.resource {
            let under = format!("{resource}/");
            sql.push_str(&format!(
                " AND (resource = ${next} OR substr(resource, 1, CAST(${} AS INTEGER)) = ${})",
                next + 1,
                next + 2
            ));
            binds.push(either::Bind::Text(resource.clone()));
            binds.push(either::Bind::Int(under.chars().count() as i64));
            binds.push(either::Bind::Text(under));
            next += 3;
        }
        for (op, value) in [(">=", filter.since), ("<", filter.until)] {
            if let Some(value) = value {
                sql.push_str(&format!(" AND at {op} ${next}"));
                binds.push(either::Bind::Int(value));
                next += 1;
            }
        }
        sql.push_str(&format!(" ORDER BY seq LIMIT ${next}"));
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(page.after_key());
        for bind in binds {
            query = match bind {
                either::Bind::Text(v) => query.bind(v),
                either::Bind::Int(v) => query.bind(v),
            };
        }
        let rows: Vec<AuditEvent> = query.bind(page.fetch()).fetch_all(&self.inner.read).await?;
        Ok(Page::from_rows(rows, page, |e| e.seq))
    }

    /// Recomputes the whole chain and compares it with the head; names the first broken
    /// sequence number.
    pub async fn verify_audit_chain(&self) -> Result<AuditVerification> {
        let mut conn = self.inner.read.acquire().await?;
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&mut *conn)
            .await?;
        let head_seq: i64 = head.try_get(0)?;
        let head_hash: String = head.try_get(1)?;
        let mut report = AuditVerification {
            checked: 0,
            head_seq,
            first_broken: None,
            problem: None,
        };
        let mut expected_seq = 1;
        let mut prev_hash = GENESIS_HASH.to_owned();
        {
            // Events appended after the head was read are not part of this check (each event
            // commits with its head update, so everything up to the head is there).
            let mut rows = sqlx::query_as::<_, AuditEvent>(sqlx::AssertSqlSafe(format!(
                "{SELECT} WHERE seq <= $1 ORDER BY seq"
            )))
            .bind(head_seq)
            .fetch(&mut *conn);
            while let Some(event) = rows.try_next().await? {
                let problem = if event.seq != expected_seq {
                    Some(format!(
                        "event {expected_seq} is missing (found {} next)",
                        event.seq
                    ))
                } else if event.prev_hash != prev_hash {
                    Some("its prev_hash does not match the previous event's hash".to_owned())
                } else if event.expected_hash(&prev_hash) != event.hash {
                    Some("its content does not match its hash".to_owned())
                } else {
                    None
                };
                if let Some(problem) = problem {
                    report.first_broken = Some(expected_seq);
                    report.problem = Some(problem);
                    return Ok(report);
                }
                report.checked += 1;
                expected_seq += 1;
                prev_hash = event.hash;
            }
        }
        let last = expected_seq - 1;
        if last != head_seq || prev_hash != head_hash {
            report.first_broken = Some(last + 1);
            report.problem = Some(if last < head_seq {
                format!(
                    "the chain ends at {last} but the head says {head_seq}: events were removed from the tail"
                )
            } else {
                "the last event does not match the chain head".to_owned()
            });
        }
        Ok(report)
    }
}

/// Bind values of a dynamically built query.
mod either {
    pub(super) enum Bind {
        Text(String),
        Int(i64),
    }
}
