//! `/api/v1/users` (administrators) and `/api/v1/tokens` (API tokens, shown once).

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use verity_policy::Action;
use verity_store::{ApiToken, NewToken, User, UserUpdate, now_ms};

use crate::auth::{Caller, Credential, Target};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;
use crate::wire::{ListResponse, PageQuery};

/// A user account (never its password).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    /// Login name.
    pub name: String,
    /// Highest dataset sensitivity whose raw rows the user may read.
    pub clearance: String,
    /// Whether the account is disabled.
    pub disabled: bool,
    /// Who created it.
    pub created_by: String,
    /// When (ms since the epoch).
    pub created_at: i64,
}

impl From<User> for UserResponse {
    fn from(u: User) -> Self {
        Self {
            name: u.name,
            clearance: u.clearance,
            disabled: u.disabled_at.is_some(),
            created_by: u.created_by,
            created_at: u.created_at,
        }
    }
}

/// Body of `POST /api/v1/users`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Login name: letters, digits, `_ - . @`.
    pub name: String,
    /// At least 12 characters; generated (and returned once) when absent.
    pub password: Option<String>,
    /// `public`, `internal` (default), `confidential` or `restricted`.
    pub clearance: Option<String>,
    /// Make the user a global administrator.
    #[serde(default)]
    pub admin: bool,
}

/// A created user; `password` is present only when the server generated it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUser {
    /// The user.
    pub user: UserResponse,
    /// The generated password, shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// Body of `PATCH /api/v1/users/{name}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    /// New clearance.
    pub clearance: Option<String>,
    /// Disable (`true`) or enable (`false`); disabling ends sessions and stops tokens.
    pub disabled: Option<bool>,
    /// New password (ends the user's sessions).
    pub password: Option<String>,
}

/// An API token's metadata.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Id (to revoke it).
    pub id: i64,
    /// Owner.
    pub user: String,
    /// Label.
    pub name: String,
    /// The first characters of the secret, to recognise it.
    pub prefix: String,
    /// The only project it works in, if scoped.
    pub project: Option<String>,
    /// Whether it may only read.
    pub read_only: bool,
    /// Expiry (ms), if any.
    pub expires_at: Option<i64>,
    /// Revocation time, if revoked.
    pub revoked_at: Option<i64>,
    /// When it was created.
    pub created_at: i64,
}

impl From<ApiToken> for TokenResponse {
    fn from(t: ApiToken) -> Self {
        Self {
            id: t.id,
            user: t.user_name,
            name: t.name,
            prefix: t.display_prefix,
            project: t.project,
            read_only: t.read_only,
            expires_at: t.expires_at,
            revoked_at: t.revoked_at,
            created_at: t.created_at,
        }
    }
}

/// A new token: `token` is the secret, shown this once and never stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    /// Its metadata.
    #[serde(flatten)]
    pub metadata: TokenResponse,
}

/// Body of `POST /api/v1/tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// Label, e.g. `ci`.
    pub name: String,
    /// Owner; default the caller (administrators may name anyone).
    pub user: Option<String>,
    /// Limit the token to one project.
    pub project: Option<String>,
    /// Allow reads only.
    #[serde(default)]
    pub read_only: bool,
    /// Expiry in days from now (1..=3650); no expiry when absent.
    pub expires_in_days: Option<u32>,
}

/// Query of `GET /api/v1/tokens`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListTokensQuery {
    /// Whose tokens (administrators); default the caller's.
    pub user: Option<String>,
    /// Items per page.
    pub limit: Option<u32>,
    /// Cursor.
    pub cursor: Option<String>,
}

/// Lists users (administrators).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(PageQuery),
    responses((status = 200, body = ListResponse<UserResponse>), (status = 403, body = ErrorBody)))]
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<ListResponse<UserResponse>>> {
    caller
        .authorize(&state, Action::UserManage, &Target::global("user"))
        .await?;
    let page = state.list_users(&page.request()?).await?;
    Ok(Json(ListResponse::from_page(page, UserResponse::from)))
}

/// Creates a user (administrators).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUser,
    responses((status = 201, body = CreatedUser), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<CreateUser>,
) -> ApiResult<(StatusCode, Json<CreatedUser>)> {
    caller
        .authorize(
            &state,
            Action::UserManage,
            &Target::global(format!("user/{}", body.name)),
        )
        .await?;
    let (password, generated) = match body.password {
        Some(p) => {
            verity_policy::validate_new_password(&p)?;
            (p, None)
        }
        None => {
            let p = verity_policy::generate_password();
            (p.clone(), Some(p))
        }
    };
    verity_store::validate::user_name(&body.name)?;
    let clearance = body.clearance.as_deref().unwrap_or("internal");
    verity_store::validate::sensitivity(clearance)?;
    let hash = verity_policy::hash_password(password).await?;
    let user = if body.admin {
        let user = state
            .create_admin_user(&body.name, &hash, clearance, &caller.actor)
            .await?;
        state.reload_policies().await?;
        user
    } else {
        state
            .create_user(&body.name, &hash, clearance, &caller.actor)
            .await?
    };
    Ok((
        StatusCode::CREATED,
        Json(CreatedUser {
            user: user.into(),
            password: generated,
        }),
    ))
}

/// Reads a user (administrators, or the user themself).
#[utoipa::path(get, path = "/api/v1/users/{name}", tag = "users", params(("name" = String, Path)),
    responses((status = 200, body = UserResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<UserResponse>> {
    if name == caller.name {
        caller.authorize_self();
    } else {
        caller
            .authorize(
                &state,
                Action::UserManage,
                &Target::global(format!("user/{name}")),
            )
            .await?;
    }
    Ok(Json(state.get_user(&name).await?.into()))
}

/// Changes a user's clearance, enabled state or password (administrators).
#[utoipa::path(patch, path = "/api/v1/users/{name}", tag = "users", request_body = UpdateUserRequest,
    params(("name" = String, Path)),
    responses((status = 200, body = UserResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Json(body): Json<UpdateUserRequest>,
) -> ApiResult<Json<UserResponse>> {
    caller
        .authorize(
            &state,
            Action::UserManage,
            &Target::global(format!("user/{name}")),
        )
        .await?;
    let password_hash = match body.password {
        Some(p) => {
            verity_policy::validate_new_password(&p)?;
            Some(verity_policy::hash_password(p).await?)
        }
        None => None,
    };
    let update = UserUpdate {
        clearance: body.clearance,
        disabled: body.disabled,
        password_hash,
    };
    Ok(Json(
        state
            .update_user(&name, update, &caller.actor)
            .await?
            .into(),
    ))
}

/// Lists API tokens: the caller's own, or (administrators) another user's.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "users", params(ListTokensQuery),
    responses((status = 200, body = ListResponse<TokenResponse>), (status = 403, body = ErrorBody)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListTokensQuery>,
) -> ApiResult<Json<ListResponse<TokenResponse>>> {
    let user = query.user.unwrap_or_else(|| caller.name.clone());
    if user == caller.name {
        caller.authorize_self();
    } else {
        caller
            .authorize(
                &state,
                Action::UserManage,
                &Target::global(format!("user/{user}")),
            )
            .await?;
    }
    let page = verity_store::PageRequest::new(query.limit, query.cursor.as_deref())?;
    let page = state.list_tokens(Some(&user), &page).await?;
    Ok(Json(ListResponse::from_page(page, TokenResponse::from)))
}

/// Creates an API token and returns its secret once. A token-authenticated caller can only
/// create tokens at most as strong as its own (same project scope, read-only stays read-only).
#[utoipa::path(post, path = "/api/v1/tokens", tag = "users", request_body = CreateTokenRequest,
    responses((status = 201, body = CreatedToken), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<CreateTokenRequest>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let user = body.user.clone().unwrap_or_else(|| caller.name.clone());
    if user == caller.name {
        caller.authorize_self();
    } else {
        caller
            .authorize(
                &state,
                Action::UserManage,
                &Target::global(format!("user/{user}")),
            )
            .await?;
    }
    if let Credential::Token {
        project, read_only, ..
    } = &caller.credential
    {
        let wider_scope = project.is_some() && body.project != *project;
        if wider_scope || (*read_only && !body.read_only) {
            let target = Target {
                project: body.project.clone(),
                ..Target::global(format!("user/{user}/token"))
            };
            return Err(caller
                .refuse(
                    &state,
                    "token.create",
                    &target,
                    "a token can only create tokens with its own project scope and read-only flag",
                )
                .await);
        }
    }
    if caller.credential == Credential::Anonymous {
        return Err(ApiError::bad_request(
            "authentication is disabled: there are no users to hold tokens",
        ));
    }
    if let Some(project) = &body.project {
        state.get_project(project).await?;
    }
    let mut expires_at = match body.expires_in_days {
        Some(days) if (1..=3650).contains(&days) => {
            Some(now_ms() + i64::from(days) * 24 * 3600 * 1000)
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                "expires_in_days must be between 1 and 3650",
            ));
        }
        None => None,
    };
    // A token's children live no longer than it does, and die with it (revocation cascades).
    let mut parent_id = None;
    if let Credential::Token {
        id,
        expires_at: parent_expiry,
        ..
    } = &caller.credential
    {
        parent_id = Some(*id);
        if let Some(parent_expiry) = parent_expiry {
            expires_at = Some(expires_at.map_or(*parent_expiry, |e| e.min(*parent_expiry)));
        }
    }
    let secret = verity_policy::new_token();
    let new = NewToken {
        name: body.name,
        display_prefix: secret.display_prefix.clone(),
        digest: secret.digest.clone(),
        project: body.project,
        read_only: body.read_only,
        expires_at,
        parent_id,
    };
    let token = state.create_token(&user, new, &caller.actor).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            token: secret.secret,
            metadata: token.into(),
        }),
    ))
}

/// Revokes a token and the tokens it created (its owner or an administrator); effective from
/// the next request.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "users", params(("id" = i64, Path)),
    responses((status = 200, body = TokenResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<TokenResponse>> {
    // Only the token's owner and administrators learn whether a token id exists: anyone else
    // gets the answer to an unknown id.
    let not_found = || ApiError::from(verity_store::Error::not_found("token", id));
    let is_admin = caller.can(
        &state,
        Action::UserManage,
        &Target::global(format!("token/{id}")),
    )?;
    let token = match state.get_token(id).await {
        Ok(token) => token,
        Err(e) if e.kind() == verity_store::ErrorKind::NotFound && !is_admin => {
            caller.authorize_self();
            return Err(not_found());
        }
        Err(e) => return Err(e.into()),
    };
    if token.user_name == caller.name {
        // A limited token (read-only or one project) may revoke itself, not its owner's others.
        if let Credential::Token {
            id: own,
            project,
            read_only,
            ..
        } = &caller.credential
            && (*read_only || project.is_some())
            && *own != id
        {
            return Err(caller
                .refuse(
                    &state,
                    "token.revoke",
                    &Target::global(format!("token/{id}")),
                    "a read-only or project-scoped token can only revoke itself",
                )
                .await);
        }
        caller.authorize_self();
    } else {
        caller
            .authorize_or_hide(
                &state,
                Action::UserManage,
                &Target::global(format!("token/{id}")),
                not_found,
            )
            .await?;
    }
    Ok(Json(state.revoke_token(id, &caller.actor).await?.into()))
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}
