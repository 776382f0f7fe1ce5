//! `/api/v1/projects/{project}/alerts` and `.../webhooks`: the alerts monitors open, and the
//! webhooks notified when one opens or resolves.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use verity_policy::{Action, Sensitivity};
use verity_store::{Alert, Delivery, DeliveryAttempt, Webhook};

use crate::auth::{Caller, Target};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::routes::clearance::{MonitorVisibility, authorize_monitor};
use crate::state::AppState;
use crate::wire::{ListResponse, PageQuery};
use crate::worker::webhook_payload;

/// An alert of a monitor.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertResponse {
    /// Id.
    pub id: i64,
    /// Project name.
    pub project: String,
    /// The monitor that opened it.
    pub monitor: String,
    /// The report that opened it.
    pub first_report_id: i64,
    /// The latest failing or warning report.
    pub last_report_id: i64,
    /// `open`, `acknowledged` or `resolved`.
    pub state: String,
    /// `warn` or `fail` (the worst seen while unresolved).
    pub severity: String,
    /// The latest report's summary.
    pub summary: String,
    /// Failing or warning runs while unresolved.
    pub occurrences: i64,
    /// When it opened.
    pub opened_at: i64,
    /// Who acknowledged it.
    pub acknowledged_by: Option<String>,
    /// When.
    pub acknowledged_at: Option<i64>,
    /// Who resolved it (`system:monitor` when a passing run did).
    pub resolved_by: Option<String>,
    /// When.
    pub resolved_at: Option<i64>,
    /// Last change.
    pub updated_at: i64,
}

impl From<Alert> for AlertResponse {
    fn from(a: Alert) -> Self {
        Self {
            id: a.id,
            project: a.project,
            monitor: a.monitor,
            first_report_id: a.first_report_id,
            last_report_id: a.last_report_id,
            state: a.state,
            severity: a.severity,
            summary: a.summary,
            occurrences: a.occurrences,
            opened_at: a.opened_at,
            acknowledged_by: a.acknowledged_by,
            acknowledged_at: a.acknowledged_at,
            resolved_by: a.resolved_by,
            resolved_at: a.resolved_at,
            updated_at: a.updated_at,
        }
    }
}

/// `?state=` and paging of the alert list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// Only alerts in this state (`open`, `acknowledged`, `resolved`).
    pub state: Option<String>,
    /// Items per page (1..=1000, default 100).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

type IdPath = Path<(String, i64)>;

/// Lists a project's alerts, newest first.
#[utoipa::path(get, path = "/api/v1/projects/{project}/alerts", tag = "monitoring",
    params(("project" = String, Path), AlertQuery),
    responses((status = 200, body = ListResponse<AlertResponse>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_alerts(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
    Query(query): Query<AlertQuery>,
) -> ApiResult<Json<ListResponse<AlertResponse>>> {
    caller
        .authorize(&state, Action::MonitorRead, &Target::project(&project))
        .await?;
    let page = PageQuery::request_of(query.limit, query.cursor)?;
    let mut alerts = state
        .list_alerts(&project, query.state.as_deref(), &page)
        .await?;
    let items = std::mem::take(&mut alerts.items);
    alerts.items = MonitorVisibility::default()
        .retain(&state, &caller, &project, items, |a| &a.monitor)
        .await?;
    Ok(Json(ListResponse::from_page(alerts, AlertResponse::from)))
}

/// Reads an alert.
#[utoipa::path(get, path = "/api/v1/projects/{project}/alerts/{id}", tag = "monitoring",
    params(("project" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = AlertResponse), (status = 404, body = ErrorBody)))]
pub async fn get_alert(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, id)): IdPath,
) -> ApiResult<Json<AlertResponse>> {
    caller
        .authorize(&state, Action::MonitorRead, &Target::project(&project))
        .await?;
    let alert = state.alert(&project, id).await?;
    authorize_alert_data(&state, &caller, &alert).await?;
    Ok(Json(alert.into()))
}

/// Acknowledges an open alert (someone is on it); it stays unresolved.
#[utoipa::path(post, path = "/api/v1/projects/{project}/alerts/{id}/acknowledge", tag = "monitoring",
    params(("project" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = AlertResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn acknowledge_alert(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, id)): IdPath,
) -> ApiResult<Json<AlertResponse>> {
    caller
        .authorize(
            &state,
            Action::AlertUpdate,
            &Target::in_project(&project, format!("project/{project}/alert/{id}")),
        )
        .await?;
    authorize_alert_data(&state, &caller, &state.alert(&project, id).await?).await?;
    Ok(Json(
        state
            .acknowledge_alert(&project, id, &caller.actor)
            .await?
            .into(),
    ))
}

/// Resolves an alert by hand (notifies `alert.resolved` webhooks).
#[utoipa::path(post, path = "/api/v1/projects/{project}/alerts/{id}/resolve", tag = "monitoring",
    params(("project" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = AlertResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn resolve_alert(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, id)): IdPath,
) -> ApiResult<Json<AlertResponse>> {
    caller
        .authorize(
            &state,
            Action::AlertUpdate,
            &Target::in_project(&project, format!("project/{project}/alert/{id}")),
        )
        .await?;
    authorize_alert_data(&state, &caller, &state.alert(&project, id).await?).await?;
    let alert = state
        .resolve_alert(&project, id, &caller.actor, &webhook_payload)
        .await?;
    Ok(Json(alert.into()))
}

/// An alert tells how its monitor's data fared: it needs clearance for that data.
async fn authorize_alert_data(state: &AppState, caller: &Caller, alert: &Alert) -> ApiResult<()> {
    let monitor = state.monitor(&alert.project, &alert.monitor).await?;
    authorize_monitor(state, caller, Action::ReportRead, &monitor).await
}

/// A webhook (its secret is shown once, when created).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookResponse {
    /// Id.
    pub id: i64,
    /// Project name.
    pub project: String,
    /// Where deliveries are POSTed.
    pub url: String,
    /// Subscribed events: `alert.opened`, `alert.resolved` or `*`.
    pub events: Vec<String>,
    /// Whether deliveries are made.
    pub enabled: bool,
    /// Its creator's clearance: it receives alerts only of monitors whose data needs no more.
    pub clearance: String,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: i64,
    /// The HMAC-SHA256 signing secret: only in the answer to its creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl From<Webhook> for WebhookResponse {
    fn from(w: Webhook) -> Self {
        Self {
            id: w.id,
            project: w.project,
            url: w.url,
            events: w.events,
            enabled: w.enabled,
            clearance: w.clearance,
            created_by: w.created_by,
            created_at: w.created_at,
            secret: None,
        }
    }
}

/// Body of `POST .../webhooks`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// `http://` or `https://` URL that receives a POST per event.
    pub url: String,
    /// Events to send (default `["*"]`: all).
    #[serde(default = "all_events")]
    pub events: Vec<String>,
    /// The signing secret (at least 16 characters); generated when absent.
    pub secret: Option<String>,
}

fn all_events() -> Vec<String> {
    vec!["*".to_owned()]
}

/// Shortest accepted signing secret.
const MIN_SECRET_CHARS: usize = 16;

/// Creates a webhook (project owners). Each delivery is a JSON POST signed with
/// `X-Verity-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the
/// secret>`. The webhook receives alerts only of monitors whose data the creator is cleared
/// for now (its `clearance`).
#[utoipa::path(post, path = "/api/v1/projects/{project}/webhooks", tag = "monitoring", request_body = CreateWebhook,
    params(("project" = String, Path)),
    responses((status = 201, body = WebhookResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
    Json(body): Json<CreateWebhook>,
) -> ApiResult<(StatusCode, Json<WebhookResponse>)> {
    caller
        .authorize(&state, Action::WebhookManage, &Target::project(&project))
        .await?;
    let secret = match body.secret {
        Some(s) if s.chars().count() < MIN_SECRET_CHARS => {
            return Err(crate::error::ApiError::bad_request(format!(
                "the secret must have at least {MIN_SECRET_CHARS} characters"
            )));
        }
        Some(s) => s,
        None => verity_policy::new_signing_secret(),
    };
    let webhook = state
        .create_webhook(
            &project,
            &body.url,
            &body.events,
            &secret,
            caller.effective_clearance().as_str(),
            &caller.actor,
        )
        .await?;
    let mut response = WebhookResponse::from(webhook);
    response.secret = Some(secret);
    Ok((StatusCode::CREATED, Json(response)))
}

/// Lists a project's webhooks (project owners).
#[utoipa::path(get, path = "/api/v1/projects/{project}/webhooks", tag = "monitoring",
    params(("project" = String, Path)),
    responses((status = 200, body = ListResponse<WebhookResponse>), (status = 404, body = ErrorBody)))]
pub async fn list_webhooks(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
) -> ApiResult<Json<ListResponse<WebhookResponse>>> {
    caller
        .authorize(&state, Action::WebhookManage, &Target::project(&project))
        .await?;
    let items = state.list_webhooks(&project).await?;
    Ok(Json(ListResponse {
        items: items.into_iter().map(WebhookResponse::from).collect(),
        next_cursor: None,
    }))
}

/// Deletes a webhook and its delivery log (project owners).
#[utoipa::path(delete, path = "/api/v1/projects/{project}/webhooks/{id}", tag = "monitoring",
    params(("project" = String, Path), ("id" = i64, Path)),
    responses((status = 204, description = "deleted"), (status = 404, body = ErrorBody)))]
pub async fn delete_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, id)): IdPath,
) -> ApiResult<StatusCode> {
    caller
        .authorize(&state, Action::WebhookManage, &Target::project(&project))
        .await?;
    state.delete_webhook(&project, id, &caller.actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One event sent (or to send) to a webhook, with every attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryResponse {
    /// Id (sent as `X-Verity-Delivery`).
    pub id: i64,
    /// The webhook.
    pub webhook_id: i64,
    /// The event, e.g. `alert.opened`.
    pub event: String,
    /// The JSON body sent.
    pub payload: String,
    /// `pending`, `delivered` or `failed` (no attempts left).
    pub state: String,
    /// Attempts so far.
    pub attempts: i64,
    /// When the next attempt is due (pending).
    pub next_attempt_at: i64,
    /// The last HTTP status received.
    pub last_status: Option<i64>,
    /// The last error.
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at: i64,
    /// When it was delivered.
    pub delivered_at: Option<i64>,
    /// Every attempt, oldest first.
    pub attempt_log: Vec<AttemptResponse>,
}

/// One attempt of a delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptResponse {
    /// Attempt number, from 1.
    pub attempt: i64,
    /// When.
    pub at: i64,
    /// HTTP status received, if any.
    pub status: Option<i64>,
    /// What went wrong, if anything.
    pub error: Option<String>,
    /// How long it took, in milliseconds.
    pub duration_ms: i64,
}

impl From<DeliveryAttempt> for AttemptResponse {
    fn from(a: DeliveryAttempt) -> Self {
        Self {
            attempt: a.attempt,
            at: a.at,
            status: a.status,
            error: a.error,
            duration_ms: a.duration_ms,
        }
    }
}

impl From<Delivery> for DeliveryResponse {
    fn from(d: Delivery) -> Self {
        Self {
            id: d.id,
            webhook_id: d.webhook_id,
            event: d.event,
            payload: d.payload,
            state: d.state,
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_status: d.last_status,
            last_error: d.last_error,
            created_at: d.created_at,
            delivered_at: d.delivered_at,
            attempt_log: d.attempts_log.into_iter().map(Into::into).collect(),
        }
    }
}

/// Lists a webhook's deliveries, newest first (project owners); deliveries about data the
/// caller is not cleared for are left out (a page may hold fewer items than `limit`).
#[utoipa::path(get, path = "/api/v1/projects/{project}/webhooks/{id}/deliveries", tag = "monitoring",
    params(("project" = String, Path), ("id" = i64, Path), PageQuery),
    responses((status = 200, body = ListResponse<DeliveryResponse>), (status = 404, body = ErrorBody)))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, id)): IdPath,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<ListResponse<DeliveryResponse>>> {
    caller
        .authorize(&state, Action::WebhookManage, &Target::project(&project))
        .await?;
    let mut deliveries = state
        .list_deliveries(&project, id, &page.request()?)
        .await?;
    let mut visible = Vec::with_capacity(deliveries.items.len());
    for delivery in std::mem::take(&mut deliveries.items) {
        let target = Target::with_sensitivity(
            &project,
            format!("project/{project}/webhook/{id}/delivery/{}", delivery.id),
            delivery
                .sensitivity
                .parse()
                .unwrap_or(Sensitivity::Restricted),
        );
        if caller.can(&state, Action::ReportRead, &target)? {
            visible.push(delivery);
        }
    }
    deliveries.items = visible;
    Ok(Json(ListResponse::from_page(
        deliveries,
        DeliveryResponse::from,
    )))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_alerts))
        .routes(routes!(get_alert))
        .routes(routes!(acknowledge_alert))
        .routes(routes!(resolve_alert))
        .routes(routes!(create_webhook, list_webhooks))
        .routes(routes!(delete_webhook))
        .routes(routes!(list_deliveries))
}
