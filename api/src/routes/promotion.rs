//! Promotion gates, reviews and retirement over HTTP: `.../gates` (set by owners), a version's
//! verdict under a gate, its reviews (approvers and owners, never its creator: four eyes), and
//! retiring it. Alias moves through a gate are decided in [`guard_alias`].

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use verity_policy::Action;
use verity_store::VersionRef;
use verity_store::model::ModelVersion;
use verity_store::promotion::{Decision, Gate, Retirement, Review};

use crate::auth::{Caller, Target};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::promotion::{Requirements, Verdict, judge};
use crate::routes::clearance::authorize_datasets;
use crate::state::AppState;

type VersionPath = Path<(String, String, i64)>;

/// A promotion gate.
#[derive(Debug, Serialize, ToSchema)]
pub struct GateResponse {
    /// Id.
    pub id: i64,
    /// The model it guards; absent for every model of the project.
    pub model: Option<String>,
    /// The guarded alias.
    pub alias: String,
    /// What a version must show (docs/promotion.md).
    #[schema(value_type = Object)]
    pub requirements: Value,
    /// Who last set it.
    pub updated_by: String,
    /// When (ms).
    pub updated_at: i64,
}

impl From<Gate> for GateResponse {
    fn from(g: Gate) -> Self {
        Self {
            id: g.id,
            model: g.model,
            alias: g.alias,
            requirements: g.requirements,
            updated_by: g.updated_by,
            updated_at: g.updated_at,
        }
    }
}

/// A project's gates.
#[derive(Debug, Serialize, ToSchema)]
pub struct GatesResponse {
    /// Every gate, project-wide ones first.
    pub items: Vec<GateResponse>,
}

/// Body of `PUT .../gates`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetGate {
    /// The model to guard; absent for every model of the project.
    #[serde(default)]
    pub model: Option<String>,
    /// The alias to guard, e.g. `production`.
    pub alias: String,
    /// `metrics`, `no_worse_than_current`, `fairness`, `training_data_quality`,
    /// `no_open_drift_alert`, `approvals` (docs/promotion.md).
    #[schema(value_type = Object)]
    pub requirements: Value,
}

/// Query of `DELETE .../gates/{alias}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GateQuery {
    /// The gate's model; absent for the project-wide gate.
    pub model: Option<String>,
}

/// One requirement's verdict.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckResponse {
    /// What is required.
    pub requirement: String,
    /// Whether it is met.
    pub met: bool,
    /// What was found.
    pub detail: String,
    /// Report, alert and review ids it relied on.
    #[schema(value_type = Object)]
    pub evidence: Value,
}

/// A gate's verdict on a version.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerdictResponse {
    /// The gate's model; absent for a project-wide gate.
    pub gate_model: Option<String>,
    /// The guarded alias.
    pub alias: String,
    /// The version judged.
    pub version: i64,
    /// Whether the alias may point at it now.
    pub satisfied: bool,
    /// Every requirement.
    pub checks: Vec<CheckResponse>,
}

impl From<Verdict> for VerdictResponse {
    fn from(v: Verdict) -> Self {
        Self {
            gate_model: v.gate_model,
            alias: v.alias,
            version: v.version,
            satisfied: v.satisfied,
            checks: v
                .checks
                .into_iter()
                .map(|c| CheckResponse {
                    requirement: c.requirement,
                    met: c.met,
                    detail: c.detail,
                    evidence: c.evidence,
                })
                .collect(),
        }
    }
}

/// A review of a version's promotion.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewResponse {
    /// Id.
    pub id: i64,
    /// The alias reviewed for.
    pub alias: String,
    /// Who.
    pub reviewer: String,
    /// `approve` or `reject`.
    pub decision: String,
    /// Why.
    pub comment: String,
    /// When (ms).
    pub created_at: i64,
}

impl From<Review> for ReviewResponse {
    fn from(r: Review) -> Self {
        Self {
            id: r.id,
            alias: r.alias,
            reviewer: r.reviewer,
            decision: r.decision.as_str().to_owned(),
            comment: r.comment,
            created_at: r.created_at,
        }
    }
}

/// A version's reviews.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewsResponse {
    /// Oldest first.
    pub items: Vec<ReviewResponse>,
}

/// Body of `POST .../reviews`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddReview {
    /// The alias the promotion is to.
    pub alias: String,
    /// `approve` or `reject`.
    pub decision: String,
    /// Why (required).
    pub comment: String,
}

/// Body of `POST .../retire`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Retire {
    /// Why (required).
    pub reason: String,
}

/// A retirement.
#[derive(Debug, Serialize, ToSchema)]
pub struct RetirementResponse {
    /// Why.
    pub reason: String,
    /// Who.
    pub retired_by: String,
    /// When (ms).
    pub retired_at: i64,
}

impl From<Retirement> for RetirementResponse {
    fn from(r: Retirement) -> Self {
        Self {
            reason: r.reason,
            retired_by: r.retired_by,
            retired_at: r.retired_at,
        }
    }
}

/// Decides an alias move under its gate, if one guards it: the verdict as evidence when every
/// requirement is met, 409 `gate_unmet` listing what is not.
pub(crate) async fn guard_alias(
    state: &AppState,
    project: &str,
    model: &str,
    alias: &str,
    target: &VersionRef,
) -> ApiResult<Option<Value>> {
    let Some(gate) = state.gate_for(project, model, alias).await? else {
        return Ok(None);
    };
    let candidate = match target {
        VersionRef::Number(n) => state.get_model_version(project, model, *n).await?,
        VersionRef::Id(id) => {
            let found = state.get_model_version_by_id(*id).await?;
            if found.project != project || found.model != model {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "conflict",
                    format!("model version {id} belongs to another model, not '{model}'"),
                ));
            }
            found
        }
    };
    // Pointing it where it already points changes nothing.
    if let Ok(current) = state.resolve_alias(project, model, alias, None).await
        && current.id == candidate.id
    {
        return Ok(None);
    }
    let requirements = Requirements::stored(&gate.requirements)?;
    let verdict = judge(state, &gate, &requirements, &candidate).await?;
    if !verdict.satisfied {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "gate_unmet",
            format!(
                "@{alias} of {model} is gated and v{} does not meet: {}",
                candidate.version,
                verdict.unmet().join("; ")
            ),
        ));
    }
    Ok(Some(serde_json::to_value(&verdict).unwrap_or(Value::Null)))
}

/// A project's promotion gates (every member).
#[utoipa::path(get, path = "/api/v1/projects/{project}/gates", tag = "models",
    params(("project" = String, Path)),
    responses((status = 200, body = GatesResponse), (status = 404, body = ErrorBody)))]
pub async fn list_gates(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
) -> ApiResult<Json<GatesResponse>> {
    caller
        .authorize(&state, Action::ModelRead, &Target::project(&project))
        .await?;
    let gates = state.gates(&project).await?;
    Ok(Json(GatesResponse {
        items: gates.into_iter().map(GateResponse::from).collect(),
    }))
}

/// Sets (or replaces) the gate on an alias of one model or of every model (owners). The
/// requirements are checked: known metrics and figures, sound bounds, existing datasets.
/// Audited as `gate.set`.
#[utoipa::path(put, path = "/api/v1/projects/{project}/gates", tag = "models", request_body = SetGate,
    params(("project" = String, Path)),
    responses((status = 200, body = GateResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_gate(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
    Json(body): Json<SetGate>,
) -> ApiResult<Json<GateResponse>> {
    caller
        .authorize(&state, Action::GateManage, &Target::project(&project))
        .await?;
    let requirements = Requirements::parse(&state, &project, &body.requirements).await?;
    let stored = serde_json::to_value(&requirements).unwrap_or(Value::Null);
    let gate = state
        .set_gate(
            &project,
            body.model.as_deref(),
            &body.alias,
            &stored,
            &caller.actor,
        )
        .await?;
    Ok(Json(gate.into()))
}

/// Removes a gate (owners). Audited as `gate.delete`.
#[utoipa::path(delete, path = "/api/v1/projects/{project}/gates/{alias}", tag = "models",
    params(("project" = String, Path), ("alias" = String, Path), GateQuery),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_gate(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, alias)): Path<(String, String)>,
    Query(query): Query<GateQuery>,
) -> ApiResult<StatusCode> {
    caller
        .authorize(&state, Action::GateManage, &Target::project(&project))
        .await?;
    state
        .delete_gate(&project, query.model.as_deref(), &alias, &caller.actor)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The verdict of the gate on `alias` for this version: every requirement, met or not, with
/// its evidence (404 when no gate guards the alias).
#[utoipa::path(get, path = "/api/v1/projects/{project}/models/{model}/versions/{version}/gates/{alias}", tag = "models",
    params(("project" = String, Path), ("model" = String, Path), ("version" = i64, Path), ("alias" = String, Path)),
    responses((status = 200, body = VerdictResponse), (status = 404, body = ErrorBody)))]
pub async fn gate_verdict(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, model, version, alias)): Path<(String, String, i64, String)>,
) -> ApiResult<Json<VerdictResponse>> {
    caller
        .authorize(&state, Action::ModelRead, &Target::project(&project))
        .await?;
    let candidate = state.get_model_version(&project, &model, version).await?;
    let gate = state
        .gate_for(&project, &model, &alias)
        .await?
        .ok_or_else(|| verity_store::Error::not_found("gate", format!("{model}@{alias}")))?;
    // The verdict quotes evaluation figures: the caller needs clearance for their data.
    let requirements = Requirements::stored(&gate.requirements)?;
    let mut datasets = Vec::new();
    for name in requirements.datasets() {
        datasets.push(state.get_dataset(&project, name).await?);
    }
    authorize_datasets(&state, &caller, Action::ReportRead, &datasets).await?;
    Ok(Json(
        judge(&state, &gate, &requirements, &candidate)
            .await?
            .into(),
    ))
}

/// A version's reviews, oldest first (every member).
#[utoipa::path(get, path = "/api/v1/projects/{project}/models/{model}/versions/{version}/reviews", tag = "models",
    params(("project" = String, Path), ("model" = String, Path), ("version" = i64, Path)),
    responses((status = 200, body = ReviewsResponse), (status = 404, body = ErrorBody)))]
pub async fn list_reviews(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, model, version)): VersionPath,
) -> ApiResult<Json<ReviewsResponse>> {
    caller
        .authorize(&state, Action::ModelRead, &Target::project(&project))
        .await?;
    let reviews = state.reviews(&project, &model, version).await?;
    Ok(Json(ReviewsResponse {
        items: reviews.into_iter().map(ReviewResponse::from).collect(),
    }))
}

/// Approves or rejects promoting a version to an alias, with a comment (approvers and owners;
/// never the version's creator; once per reviewer). Audited as `model_version.review`.
#[utoipa::path(post, path = "/api/v1/projects/{project}/models/{model}/versions/{version}/reviews", tag = "models",
    request_body = AddReview,
    params(("project" = String, Path), ("model" = String, Path), ("version" = i64, Path)),
    responses((status = 201, body = ReviewResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "reviewed already, or retired", body = ErrorBody)))]
pub async fn add_review(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, model, version)): VersionPath,
    Json(body): Json<AddReview>,
) -> ApiResult<(StatusCode, Json<ReviewResponse>)> {
    let target = Target::project(&project);
    caller
        .authorize(&state, Action::ModelVersionApprove, &target)
        .await?;
    let decision: Decision = body.decision.parse()?;
    let candidate = state.get_model_version(&project, &model, version).await?;
    four_eyes(&state, &caller, &candidate, &target).await?;
    if let Some(done) = state.retirement(&project, &model, version).await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!(
                "{model} v{version} is retired ({}): it can take no alias",
                done.reason
            ),
        ));
    }
    let review = state
        .add_review(
            &project,
            &model,
            version,
            &body.alias,
            decision,
            &body.comment,
            &caller.actor,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(review.into())))
}

/// Refuses (and records) a review of one's own version.
async fn four_eyes(
    state: &AppState,
    caller: &Caller,
    candidate: &ModelVersion,
    target: &Target,
) -> ApiResult<()> {
    if crate::promotion::creators(state, candidate)
        .await?
        .contains(&caller.actor.principal)
    {
        let reason = format!(
            "four eyes: {} made {} v{} (registered it or its run) and cannot review it",
            caller.actor.principal, candidate.model, candidate.version
        );
        return Err(caller
            .refuse(state, Action::ModelVersionApprove.as_str(), target, &reason)
            .await);
    }
    Ok(())
}

/// Retires a version with a reason (maintainers and owners): it can take no alias from then
/// on; one an alias points at must be moved first. Audited as `model_version.retire`.
#[utoipa::path(post, path = "/api/v1/projects/{project}/models/{model}/versions/{version}/retire", tag = "models",
    request_body = Retire,
    params(("project" = String, Path), ("model" = String, Path), ("version" = i64, Path)),
    responses((status = 200, body = RetirementResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "retired already, or an alias points at it", body = ErrorBody)))]
pub async fn retire_version(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, model, version)): VersionPath,
    Json(body): Json<Retire>,
) -> ApiResult<Json<RetirementResponse>> {
    caller
        .authorize(
            &state,
            Action::ModelVersionUpdate,
            &Target::project(&project),
        )
        .await?;
    let retired = state
        .retire_version(&project, &model, version, &body.reason, &caller.actor)
        .await?;
    Ok(Json(retired.into()))
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_gates, set_gate))
        .routes(routes!(delete_gate))
        .routes(routes!(gate_verdict))
        .routes(routes!(list_reviews, add_review))
        .routes(routes!(retire_version))
}
