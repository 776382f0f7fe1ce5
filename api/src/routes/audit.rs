//! `/api/v1/audit`: filtered, paged reads of the hash-chained audit trail, a JSON Lines
//! export and chain verification. A project's auditors and owners read its events;
//! administrators read everything.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use verity_policy::Action;
use verity_store::{AuditEvent, AuditFilter, PageRequest};

use crate::auth::{Caller, Target};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Query};
use crate::state::AppState;
use crate::wire::ListResponse;

/// One audit event.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventResponse {
    /// Sequence number, dense from 1.
    pub seq: i64,
    /// Time (ms since the epoch).
    pub at: i64,
    /// Acting principal.
    pub actor: String,
    /// Domain action, e.g. `run.write`, `auth.login`.
    pub action: String,
    /// Resource acted on.
    pub resource: String,
    /// Project of the resource.
    pub project: Option<String>,
    /// `success`, `denied` or `failure`.
    pub outcome: String,
    /// Request id (`x-request-id`).
    pub request_id: Option<String>,
    /// Client address.
    pub client_addr: Option<String>,
    /// Details.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// Hash of the previous event.
    pub prev_hash: String,
    /// This event's hash: sha256(prev_hash "\n" canonical event).
    pub hash: String,
}

impl From<AuditEvent> for AuditEventResponse {
    fn from(e: AuditEvent) -> Self {
        Self {
            details: serde_json::from_str(&e.details)
                .unwrap_or(serde_json::Value::String(e.details)),
            seq: e.seq,
            at: e.at,
            actor: e.actor,
            action: e.action,
            resource: e.resource,
            project: e.project,
            outcome: e.outcome,
            request_id: e.request_id,
            client_addr: e.client_addr,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

/// Filters of the audit reads; all optional.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only this project's events (required unless the caller is an administrator).
    pub project: Option<String>,
    /// Only this actor.
    pub actor: Option<String>,
    /// Only this action.
    pub action: Option<String>,
    /// `success`, `denied` or `failure`.
    pub outcome: Option<String>,
    /// From this time (ms, inclusive).
    pub since: Option<i64>,
    /// Until this time (ms, exclusive).
    pub until: Option<i64>,
    /// Only events on this resource or under it, e.g. `project/p/model/churn` (its versions
    /// and gates too).
    pub resource: Option<String>,
    /// Items per page (1..=1000).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl AuditQuery {
    fn filter(&self) -> AuditFilter {
        AuditFilter {
            project: self.project.clone(),
            actor: self.actor.clone(),
            action: self.action.clone(),
            outcome: self.outcome.clone(),
            since: self.since,
            until: self.until,
            resource: self.resource.clone(),
        }
    }

    async fn authorize(&self, state: &AppState, caller: &Caller) -> ApiResult<()> {
        match &self.project {
            Some(project) => {
                // A name no project can have is refused before it reaches the decision cache
                // or a denial event.
                verity_store::validate::name("project", project)?;
                caller
                    .authorize(
                        state,
                        Action::AuditRead,
                        &Target::in_project(project, format!("project/{project}/audit")),
                    )
                    .await
            }
            None => {
                caller
                    .authorize(state, Action::AuditReadAll, &Target::global("audit"))
                    .await
            }
        }
    }
}

/// The result of recomputing the chain.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyResponse {
    /// Whether every event and the head check out.
    pub intact: bool,
    /// Events checked before the first problem (or all).
    pub checked: i64,
    /// The head's sequence number.
    pub head_seq: i64,
    /// First broken sequence number.
    pub first_broken: Option<i64>,
    /// What is wrong there.
    pub problem: Option<String>,
}

/// Reads audit events in sequence order.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = ListResponse<AuditEventResponse>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_audit(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<AuditQuery>,
) -> ApiResult<Json<ListResponse<AuditEventResponse>>> {
    query.authorize(&state, &caller).await?;
    let page = PageRequest::new(query.limit, query.cursor.as_deref())?;
    let page = state.list_audit_events(&query.filter(), &page).await?;
    Ok(Json(ListResponse::from_page(
        page,
        AuditEventResponse::from,
    )))
}

/// Exports the matching events as JSON Lines (one event per line), streamed page by page.
#[utoipa::path(get, path = "/api/v1/audit/export", tag = "audit", params(AuditQuery),
    responses((status = 200, content_type = "application/x-ndjson", body = String), (status = 403, body = ErrorBody)))]
pub async fn export_audit(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<AuditQuery>,
) -> ApiResult<Response> {
    query.authorize(&state, &caller).await?;
    let filter = query.filter();
    let first = PageRequest::new(Some(1000), query.cursor.as_deref())?;
    let stream = futures::stream::try_unfold(Some(first), move |next| {
        let state = state.clone();
        let filter = filter.clone();
        async move {
            let Some(page) = next else { return Ok(None) };
            let got = state
                .list_audit_events(&filter, &page)
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            let mut buf = Vec::new();
            for event in got.items {
                serde_json::to_writer(&mut buf, &AuditEventResponse::from(event))?;
                buf.push(b'\n');
            }
            let next = match got.next_cursor {
                Some(cursor) => Some(
                    PageRequest::new(Some(1000), Some(&cursor))
                        .map_err(|e| std::io::Error::other(e.to_string()))?,
                ),
                None => None,
            };
            Ok::<_, std::io::Error>(Some((bytes::Bytes::from(buf), next)))
        }
    });
    let mut response = Response::new(Body::from_stream(stream));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    Ok(response)
}

/// Recomputes the whole chain and names the first broken sequence number (administrators).
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, body = VerifyResponse), (status = 403, body = ErrorBody)))]
pub async fn verify_audit(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<VerifyResponse>> {
    caller
        .authorize(&state, Action::AuditReadAll, &Target::global("audit"))
        .await?;
    let report = state.verify_audit_chain().await?;
    Ok(Json(VerifyResponse {
        intact: report.is_intact(),
        checked: report.checked,
        head_seq: report.head_seq,
        first_broken: report.first_broken,
        problem: report.problem,
    }))
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_audit))
        .routes(routes!(export_audit))
        .routes(routes!(verify_audit))
}
