//! Project members (role bindings, managed by project owners) and the raw casbin rules
//! (`/api/v1/policies`, administrators). Changes take effect on the next request.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use verity_policy::{Action, Condition, Role};
use verity_store::PolicyRule;

use crate::auth::{Caller, Target};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::state::AppState;

/// A user's role in a project.
#[derive(Debug, Serialize, ToSchema)]
pub struct Member {
    /// User name.
    pub user: String,
    /// `owner`, `maintainer`, `contributor`, `viewer`, `auditor` or `approver`.
    pub role: String,
}

/// The members of a project.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembersResponse {
    /// Members, by user name.
    pub items: Vec<Member>,
}

/// Body of `PUT .../members/{user}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetMemberRole {
    /// The project role.
    pub role: String,
}

/// A stored casbin rule.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PolicyRuleResponse {
    /// Id (to delete it).
    pub id: i64,
    /// `p` (role, action, condition) or `g` (user, role, domain).
    pub ptype: String,
    /// `p`: role; `g`: user.
    pub v0: String,
    /// `p`: action or `*`; `g`: role.
    pub v1: String,
    /// `p`: condition (``, `clearance`, `owner`); `g`: project or `*`.
    pub v2: String,
    /// Who added it.
    pub created_by: String,
    /// When.
    pub created_at: i64,
}

impl From<PolicyRule> for PolicyRuleResponse {
    fn from(r: PolicyRule) -> Self {
        Self {
            id: r.id,
            ptype: r.ptype,
            v0: r.v0,
            v1: r.v1,
            v2: r.v2,
            created_by: r.created_by,
            created_at: r.created_at,
        }
    }
}

/// Body of `POST /api/v1/policies`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPolicyRule {
    /// `p` or `g`.
    pub ptype: String,
    /// `p`: role; `g`: user.
    pub v0: String,
    /// `p`: action or `*`; `g`: role.
    pub v1: String,
    /// `p`: condition; `g`: project or `*`.
    #[serde(default)]
    pub v2: String,
}

/// The rules of `GET /api/v1/policies`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PoliciesResponse {
    /// Every rule, by id.
    pub items: Vec<PolicyRuleResponse>,
}

fn project_role(role: &str) -> ApiResult<Role> {
    let role: Role = role.parse()?;
    if !role.is_project_role() {
        return Err(ApiError::bad_request(
            "admin is a global role: grant it with POST /api/v1/policies (g, user, admin, *)",
        ));
    }
    Ok(role)
}

/// Lists a project's members.
#[utoipa::path(get, path = "/api/v1/projects/{project}/members", tag = "access",
    params(("project" = String, Path)),
    responses((status = 200, body = MembersResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_members(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
) -> ApiResult<Json<MembersResponse>> {
    caller
        .authorize(&state, Action::ProjectRead, &Target::project(&project))
        .await?;
    let items = state
        .project_members(&project)
        .await?
        .into_iter()
        .map(|(user, role)| Member { user, role })
        .collect();
    Ok(Json(MembersResponse { items }))
}

/// Gives a user a role in the project, replacing the role they had (owners, administrators).
#[utoipa::path(put, path = "/api/v1/projects/{project}/members/{user}", tag = "access", request_body = SetMemberRole,
    params(("project" = String, Path), ("user" = String, Path)),
    responses((status = 200, body = Member), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_member(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, user)): Path<(String, String)>,
    Json(body): Json<SetMemberRole>,
) -> ApiResult<Json<Member>> {
    caller
        .authorize(
            &state,
            Action::MembersManage,
            &Target::in_project(&project, format!("project/{project}/member/{user}")),
        )
        .await?;
    let role = project_role(&body.role)?;
    state
        .set_project_role(&project, &user, Some(role.as_str()), &caller.actor)
        .await?;
    state.reload_policies().await?;
    Ok(Json(Member {
        user,
        role: role.as_str().to_owned(),
    }))
}

/// Removes a user from the project (owners, administrators).
#[utoipa::path(delete, path = "/api/v1/projects/{project}/members/{user}", tag = "access",
    params(("project" = String, Path), ("user" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove_member(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, user)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    caller
        .authorize(
            &state,
            Action::MembersManage,
            &Target::in_project(&project, format!("project/{project}/member/{user}")),
        )
        .await?;
    state
        .set_project_role(&project, &user, None, &caller.actor)
        .await?;
    state.reload_policies().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every stored rule: role permissions (`p`) and bindings (`g`) (administrators).
#[utoipa::path(get, path = "/api/v1/policies", tag = "access",
    responses((status = 200, body = PoliciesResponse), (status = 403, body = ErrorBody)))]
pub async fn list_policies(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<PoliciesResponse>> {
    caller
        .authorize(&state, Action::PolicyManage, &Target::global("policy"))
        .await?;
    let items = state
        .policy_rules()
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(Json(PoliciesResponse { items }))
}

/// Adds a rule (administrators): `p` grants a role an action (or `*`) under a condition;
/// `g` binds a user to a role in a project (or `*`, globally).
#[utoipa::path(post, path = "/api/v1/policies", tag = "access", request_body = NewPolicyRule,
    responses((status = 201, body = PolicyRuleResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn add_policy(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewPolicyRule>,
) -> ApiResult<(StatusCode, Json<PolicyRuleResponse>)> {
    caller
        .authorize(&state, Action::PolicyManage, &Target::global("policy"))
        .await?;
    match body.ptype.as_str() {
        "p" => {
            body.v0.parse::<Role>()?;
            if body.v1 != "*" {
                body.v1.parse::<Action>()?;
            }
            body.v2.parse::<Condition>()?;
        }
        "g" => {
            state.get_user(&body.v0).await?;
            let role: Role = body.v1.parse()?;
            if body.v2 == "*" {
                if role != Role::Admin {
                    return Err(ApiError::bad_request(
                        "only the admin role is global; bind project roles to a project",
                    ));
                }
            } else {
                project_role(&body.v1)?;
                state.get_project(&body.v2).await?;
            }
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "ptype must be p or g, not {other:?}"
            )));
        }
    }
    let rule = state
        .add_policy_rule((&body.ptype, &body.v0, &body.v1, &body.v2), &caller.actor)
        .await?;
    state.reload_policies().await?;
    Ok((StatusCode::CREATED, Json(rule.into())))
}

/// Deletes a rule (administrators).
#[utoipa::path(delete, path = "/api/v1/policies/{id}", tag = "access", params(("id" = i64, Path)),
    responses((status = 200, body = PolicyRuleResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove_policy(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<PolicyRuleResponse>> {
    caller
        .authorize(
            &state,
            Action::PolicyManage,
            &Target::global(format!("policy/{id}")),
        )
        .await?;
    let rule = state.remove_policy_rule(id, &caller.actor).await?;
    state.reload_policies().await?;
    Ok(Json(rule.into()))
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_members))
        .routes(routes!(set_member, remove_member))
        .routes(routes!(list_policies, add_policy))
        .routes(routes!(remove_policy))
}
