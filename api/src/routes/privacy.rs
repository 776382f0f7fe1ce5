//! Privacy budgets and their ledger (`.../datasets/{dataset}/privacy...`): what differentially
//! private releases of a dataset may spend, set by its project's owners and read by owners and
//! auditors.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use verity_policy::Action;
use verity_store::privacy::{BudgetScope, PrivacyBudget, PrivacyCharge, PrivacyLoss};

use crate::auth::{Caller, Target};
use verity_monitor::privacy::{DpRequest, Mechanism, release};
use verity_monitor::source::{Session, Source};
use verity_store::model::Dataset;
use verity_store::privacy::NewCharge;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;
use crate::wire::{ListResponse, PageQuery};

type DatasetPath = Path<(String, String)>;

/// A dataset's budget for one scope, and what has been spent against it.
#[derive(Debug, Serialize, ToSchema)]
pub struct BudgetResponse {
    /// `total` (everyone together), `each_user` (each principal on their own, unless a `user`
    /// budget names them) or `user`.
    pub scope: String,
    /// The user of a `user` budget.
    pub user: Option<String>,
    /// The ε limit.
    pub epsilon: f64,
    /// The δ limit.
    pub delta: f64,
    /// ε spent against it (for `each_user`: by the principal who spent most).
    pub spent_epsilon: f64,
    /// δ spent against it.
    pub spent_delta: f64,
    /// Who last set it.
    pub updated_by: String,
    /// When (ms).
    pub updated_at: i64,
}

impl From<PrivacyBudget> for BudgetResponse {
    fn from(b: PrivacyBudget) -> Self {
        let user = match &b.scope {
            BudgetScope::User(name) => Some(name.clone()),
            _ => None,
        };
        Self {
            scope: b.scope.as_str().to_owned(),
            user,
            epsilon: b.limit.epsilon,
            delta: b.limit.delta,
            spent_epsilon: b.spent.epsilon,
            spent_delta: b.spent.delta,
            updated_by: b.updated_by,
            updated_at: b.updated_at,
        }
    }
}

/// A dataset's privacy budgets.
#[derive(Debug, Serialize, ToSchema)]
pub struct BudgetsResponse {
    /// Every budget of the dataset.
    pub items: Vec<BudgetResponse>,
}

/// Body of `PUT .../privacy/budgets`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetBudget {
    /// `total`, `each_user` or `user`.
    pub scope: String,
    /// The user, for a `user` budget.
    #[serde(default)]
    pub user: Option<String>,
    /// The ε limit (0 to 1000).
    pub epsilon: f64,
    /// The δ limit, in [0, 1) (0 by default: pure ε-DP only).
    #[serde(default)]
    pub delta: f64,
}

/// One release's charge in the ledger.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChargeResponse {
    /// Id.
    pub id: i64,
    /// The dataset version the release read.
    pub dataset_version_id: i64,
    /// Who asked.
    pub principal: String,
    /// The question, as asked.
    pub query: serde_json::Value,
    /// The mechanism that answered, e.g. `discrete_laplace`.
    pub mechanism: String,
    /// ε charged.
    pub epsilon: f64,
    /// δ charged.
    pub delta: f64,
    /// The request's id.
    pub request_id: Option<String>,
    /// When (ms).
    pub created_at: i64,
}

impl From<PrivacyCharge> for ChargeResponse {
    fn from(c: PrivacyCharge) -> Self {
        Self {
            id: c.id,
            dataset_version_id: c.dataset_version_id,
            principal: c.principal,
            query: c.query,
            mechanism: c.mechanism,
            epsilon: c.loss.epsilon,
            delta: c.loss.delta,
            request_id: c.request_id,
            created_at: c.created_at,
        }
    }
}

/// Authorizes `action` on a dataset, found inside its project (outside it, whether the
/// dataset exists is not told); returns the dataset.
pub(crate) async fn authorize_dataset(
    state: &AppState,
    caller: &Caller,
    action: Action,
    project: &str,
    dataset: &str,
) -> ApiResult<Dataset> {
    caller
        .authorize(state, Action::DatasetRead, &Target::project(project))
        .await?;
    let found = state.get_dataset(project, dataset).await?;
    caller
        .authorize(state, action, &Target::dataset(&found))
        .await?;
    Ok(found)
}

/// A dataset's privacy budgets with what has been spent (owners and auditors).
#[utoipa::path(get, path = "/api/v1/projects/{project}/datasets/{dataset}/privacy/budgets", tag = "privacy",
    params(("project" = String, Path), ("dataset" = String, Path)),
    responses((status = 200, body = BudgetsResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_budgets(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, dataset)): DatasetPath,
) -> ApiResult<Json<BudgetsResponse>> {
    authorize_dataset(&state, &caller, Action::PrivacyRead, &project, &dataset).await?;
    let budgets = state.privacy_budgets(&project, &dataset).await?;
    Ok(Json(BudgetsResponse {
        items: budgets.into_iter().map(BudgetResponse::from).collect(),
    }))
}

/// Sets (or replaces) a dataset's budget for one scope (project owners). A limit below what
/// has already been spent against it is refused. Audited as `privacy.budget`.
#[utoipa::path(put, path = "/api/v1/projects/{project}/datasets/{dataset}/privacy/budgets", tag = "privacy",
    request_body = SetBudget, params(("project" = String, Path), ("dataset" = String, Path)),
    responses((status = 200, body = BudgetResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_budget(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, dataset)): DatasetPath,
    Json(body): Json<SetBudget>,
) -> ApiResult<Json<BudgetResponse>> {
    authorize_dataset(&state, &caller, Action::PrivacyManage, &project, &dataset).await?;
    let scope = BudgetScope::parse(&body.scope, body.user.as_deref())?;
    let limit = PrivacyLoss {
        epsilon: body.epsilon,
        delta: body.delta,
    };
    let budget = state
        .set_privacy_budget(&project, &dataset, scope, limit, &caller.actor)
        .await?;
    Ok(Json(budget.into()))
}

/// The ledger of a dataset's releases, newest first (owners and auditors).
#[utoipa::path(get, path = "/api/v1/projects/{project}/datasets/{dataset}/privacy/ledger", tag = "privacy",
    params(("project" = String, Path), ("dataset" = String, Path), PageQuery),
    responses((status = 200, body = ListResponse<ChargeResponse>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn ledger(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, dataset)): DatasetPath,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<ListResponse<ChargeResponse>>> {
    authorize_dataset(&state, &caller, Action::PrivacyRead, &project, &dataset).await?;
    let page = state
        .privacy_ledger(&project, &dataset, &page.request()?)
        .await?;
    Ok(Json(ListResponse::from_page(page, ChargeResponse::from)))
}

/// Body of `POST .../versions/{version}/dp`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DpQueryRequest {
    /// The question, tagged by `kind`: `{"kind": "count"}`, `{"kind": "count_by", "column",
    /// "categories": [...]}`, `{"kind": "sum" | "mean", "column", "lower", "upper"}`,
    /// `{"kind": "histogram", "column", "lower", "upper", "bins"}`, `{"kind": "quantiles",
    /// "column", "lower", "upper", "probabilities": [...]}` (docs/privacy.md).
    #[schema(value_type = Object)]
    pub query: serde_json::Value,
    /// The ε to spend: above 0, at most 10.
    pub epsilon: f64,
    /// The δ to spend, in (0, 1): required by `gaussian`, refused by `laplace`.
    #[serde(default)]
    pub delta: Option<f64>,
    /// `laplace` (default) or `gaussian`; counts and histograms use their discrete variants.
    #[serde(default)]
    pub mechanism: Option<String>,
}

/// A differentially private answer and what it cost.
#[derive(Debug, Serialize, ToSchema)]
pub struct DpAnswer {
    /// The noisy figures, the mechanism, its noise scale, ε and δ spent, and the clamping
    /// bounds: nothing else computed from the rows.
    #[schema(value_type = Object)]
    pub release: serde_json::Value,
    /// The ledger entry that paid for it.
    pub charge: ChargeResponse,
    /// ε left to the caller under the tightest budget that applies.
    pub remaining_epsilon: f64,
    /// δ left to the caller.
    pub remaining_delta: f64,
}

/// The request as the monitor crate takes it; anything malformed is a 400 naming the problem.
fn dp_request(body: DpQueryRequest) -> ApiResult<DpRequest> {
    let query = serde_json::from_value(body.query)
        .map_err(|e| ApiError::bad_request(format!("invalid query: {e}")))?;
    let mechanism = match body.mechanism.as_deref() {
        None | Some("laplace") => Mechanism::Laplace,
        Some("gaussian") => Mechanism::Gaussian,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "unknown mechanism '{other}' (expected one of: laplace, gaussian)"
            )));
        }
    };
    let request = DpRequest {
        query,
        epsilon: body.epsilon,
        delta: body.delta,
        mechanism,
    };
    request.validate()?;
    Ok(request)
}

/// Answers a differentially private question about a dataset version (`dataset.query_dp`: no
/// clearance needed, only noisy aggregates leave). The question is checked against the data's
/// schema, then charged to the dataset's privacy budgets, then answered with OpenDP. A question
/// any budget cannot pay for is refused (409 `privacy_budget_exceeded`) and nothing is released.
#[utoipa::path(post, path = "/api/v1/projects/{project}/datasets/{dataset}/versions/{version}/dp", tag = "privacy",
    request_body = DpQueryRequest,
    params(("project" = String, Path), ("dataset" = String, Path), ("version" = i64, Path)),
    responses((status = 200, body = DpAnswer), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "the privacy budget cannot pay for it", body = ErrorBody)))]
pub async fn query_dp(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, dataset, version)): Path<(String, String, i64)>,
    Json(body): Json<DpQueryRequest>,
) -> ApiResult<Json<DpAnswer>> {
    Ok(Json(
        answer_dp(&state, &caller, (&project, &dataset, version), body).await?,
    ))
}

/// Checks, charges and answers one DP question about a dataset version for `caller` (the
/// route above; datasheets of sensitive data ask through it too).
pub(crate) async fn answer_dp(
    state: &AppState,
    caller: &Caller,
    (project, dataset, version): (&str, &str, i64),
    body: DpQueryRequest,
) -> ApiResult<DpAnswer> {
    authorize_dataset(state, caller, Action::DatasetQueryDp, project, dataset).await?;
    let request = dp_request(body)?;
    refuse_hidden_column(state, caller, project, dataset, &request).await?;
    let found = state.get_dataset_version(project, dataset, version).await?;
    let session =
        Session::new_with_limits(state.blobs().object_store(), state.check_limits.clone())?;
    session.register(TABLE, &Source::of_version(&found)).await?;
    let rows = u64::try_from(found.row_count).unwrap_or(0);
    let schema = session.schema(TABLE).await?;
    request.check_dataset(&schema, rows)?;
    let charge = NewCharge {
        dataset_version_id: found.id,
        query: serde_json::to_value(&request.query).unwrap_or_default(),
        mechanism: request.released_mechanism().as_str().to_owned(),
        loss: PrivacyLoss {
            epsilon: request.cost().epsilon,
            delta: request.cost().delta,
        },
    };
    let (charged, remaining) = state
        .charge_privacy(project, dataset, charge, &caller.actor)
        .await?;
    // Charged: from here a failure keeps the charge (spent, never refunded: an error can
    // itself say something about the data).
    let release = release(&session, TABLE, &request).await?;
    Ok(DpAnswer {
        release: serde_json::to_value(&release).unwrap_or_default(),
        charge: charged.into(),
        remaining_epsilon: remaining.epsilon,
        remaining_delta: remaining.delta,
    })
}

/// Refuses a DP question about a column its owner hid from readers below the dataset's
/// sensitivity, when the caller is one of them (nothing charged).
async fn refuse_hidden_column(
    state: &AppState,
    caller: &Caller,
    project: &str,
    dataset: &str,
    request: &DpRequest,
) -> ApiResult<()> {
    let Some(column) = request.query.column() else {
        return Ok(());
    };
    let found = state.get_dataset(project, dataset).await?;
    if caller.can(state, Action::DatasetReadData, &Target::dataset(&found))? {
        return Ok(());
    }
    let masking = state.dataset_masking(project, dataset).await?;
    if masking.columns.get(column) == Some(&verity_store::masking::MaskMode::Hidden) {
        return Err(ApiError::bad_request(format!(
            "column '{column}' is hidden from readers below the dataset's sensitivity"
        )));
    }
    Ok(())
}

/// The table name a DP question reads its version as.
const TABLE: &str = "dataset";

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_budgets, set_budget))
        .routes(routes!(ledger))
        .routes(routes!(query_dp))
}
