//! `/api/v1/auth`: dashboard login (session cookie + CSRF token), logout, and who am I.

use std::time::Instant;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use verity_policy::{Action, Role, Sensitivity};
use verity_store::{Actor, KeptCredential, NewEvent, Outcome, now_ms};

use crate::auth::{Caller, Credential, DecisionMark, SESSION_COOKIE, Target, unauthenticated};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Json;
use crate::state::AppState;

/// Body of `POST /api/v1/auth/login`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
}

/// A successful login: the session cookie is set; mutations must echo `csrf_token` in the
/// `X-CSRF-Token` header.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// The user.
    pub username: String,
    /// Token for the `X-CSRF-Token` header of cookie-authenticated changes.
    pub csrf_token: String,
    /// When the session ends (ms since the epoch).
    pub expires_at: i64,
}

/// The caller as the server sees them.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhoAmI {
    /// User name.
    pub username: String,
    /// Clearance for raw dataset reads.
    pub clearance: String,
    /// Whether the user is a global administrator.
    pub admin: bool,
    /// `session`, `token` or `anonymous` (authentication disabled).
    pub credential: String,
    /// For a token: the only project it works in.
    pub token_project: Option<String>,
    /// For a token: whether it may only read.
    pub token_read_only: bool,
    /// For a dashboard session: the token its changes must echo in `X-CSRF-Token` (so a
    /// reloaded page can go on changing things; other origins cannot read this answer).
    pub csrf_token: Option<String>,
    /// The global actions the caller may take (`project.create`, `user.manage`,
    /// `policy.manage`, `audit.read_all`), so that a client offers only those.
    pub global_actions: Vec<String>,
}

/// Marks an endpoint that anyone may call (logging in): a visible, deliberate decision.
fn public_endpoint(extensions: &Extensions) {
    if let Some(mark) = extensions.get::<DecisionMark>() {
        mark.set();
    }
}

/// Logs in with a user name and password. Unknown users and wrong passwords get the same
/// answer in the same time (the password is checked against a dummy hash); five failures of an
/// account from one client address, or twenty attempts a minute from it, answer 429 with
/// `Retry-After`, and an account under attack answers slowly to addresses that failed on it.
/// Attempts are audited; refused ones once per address and minute.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest, security(()),
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    extensions: Extensions,
    headers: HeaderMap,
    Json(body): Json<LoginRequest>,
) -> ApiResult<Response> {
    public_endpoint(&extensions);
    let address = crate::auth::client_ip_of(&extensions);
    let mut actor = Actor {
        principal: body.username.clone(),
        request_id: headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        client_addr: address.map(|a| a.to_string()),
    };
    // Names that cannot exist (too long, odd characters, NUL) fail like unknown users, in the
    // same time, and are not copied into the audit trail.
    let name_is_valid = verity_store::validate::user_name(&body.username).is_ok()
        && body.password.len() <= verity_policy::password::MAX_PASSWORD_BYTES;
    if !name_is_valid {
        actor.principal = "(invalid user name)".to_owned();
    }
    let failure = |reason: &str| NewEvent {
        action: "auth.login".into(),
        resource: format!("user/{}", actor.principal),
        project: None,
        outcome: Outcome::Failure,
        details: json!({"reason": reason}),
    };
    // Checked and counted in one step: concurrent attempts cannot all pass before any counts.
    // A refused attempt is audited once per limiter window and address, so an unauthenticated
    // client cannot fill the audit trail by hammering the limit.
    let admission = match state
        .login_limiter
        .begin(&body.username, address, Instant::now())
    {
        Ok(admission) => admission,
        Err(refusal) => {
            if refusal.audit {
                state.record_event(&actor, failure("rate_limited")).await?;
            }
            return Err(verity_policy::Error::TooManyRequests {
                retry_after: refusal.retry_after,
            }
            .into());
        }
    };
    // An account under attack answers slowly to clients that have failed on it.
    if !admission.delay.is_zero() {
        tokio::time::sleep(admission.delay).await;
    }
    let credentials = if name_is_valid {
        state.user_credentials(&body.username).await?
    } else {
        None
    };
    let hash = credentials.as_ref().map(|(_, hash)| hash.clone());
    let password = if name_is_valid {
        body.password
    } else {
        String::new()
    };
    let password_ok = verity_policy::verify_password(password, hash).await?;
    let user = credentials
        .map(|(user, _)| user)
        .filter(|user| password_ok && user.disabled_at.is_none());
    let Some(user) = user else {
        state
            .record_event(&actor, failure("bad_credentials"))
            .await?;
        return Err(unauthenticated("invalid user name or password"));
    };
    state.login_limiter.succeeded(&body.username, address);
    let session = verity_policy::new_session();
    let csrf_token = verity_policy::new_csrf_token();
    let ttl_ms = i64::try_from(state.session_ttl.as_millis()).unwrap_or(i64::MAX);
    let expires_at = now_ms().saturating_add(ttl_ms);
    state
        .create_session(&user.name, &session.digest, &csrf_token, expires_at, &actor)
        .await?;
    let secure = state.secure_cookies || came_over_https(&headers);
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        session.secret,
        state.session_ttl.as_secs(),
        if secure { "; Secure" } else { "" }
    );
    let mut response = axum::Json(LoginResponse {
        username: user.name,
        csrf_token,
        expires_at,
    })
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|_| ApiError::bad_request("bad cookie"))?,
    );
    Ok(response)
}

/// Whether the client reached Verity over HTTPS, as the proxy that terminated TLS says
/// (`X-Forwarded-Proto: https`, or RFC 7239 `Forwarded: proto=https`).
fn came_over_https(headers: &HeaderMap) -> bool {
    let forwarded_proto = headers
        .get_all("x-forwarded-proto")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| v.trim().eq_ignore_ascii_case("https"));
    let forwarded = headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split([',', ';']))
        .filter_map(|pair| pair.trim().split_once('='))
        .any(|(k, v)| {
            k.trim().eq_ignore_ascii_case("proto")
                && v.trim().trim_matches('"').eq_ignore_ascii_case("https")
        });
    forwarded_proto || forwarded
}

/// Body of `POST /api/v1/auth/password`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// The password now.
    pub current_password: String,
    /// The new password (at least 12 characters).
    pub new_password: String,
}

/// Changes the caller's own password, given the current one. Every other session of the
/// caller ends and every other API token is revoked; the session or token that made the
/// change keeps working. Wrong current passwords count against the login limits.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", request_body = ChangePasswordRequest,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<ChangePasswordRequest>,
) -> ApiResult<StatusCode> {
    caller.authorize_self();
    let keep = match &caller.credential {
        Credential::Anonymous => {
            return Err(ApiError::bad_request(
                "authentication is disabled: there is no password to change",
            ));
        }
        Credential::Session { digest, .. } => KeptCredential::Session(digest),
        // A limited token must not become a way to end the user's other credentials.
        Credential::Token {
            read_only, project, ..
        } if *read_only || project.is_some() => {
            return Err(caller
                .refuse(
                    &state,
                    "user.change_password",
                    &Target::global(format!("user/{}", caller.name)),
                    "a read-only or project-scoped token cannot change the password",
                )
                .await);
        }
        Credential::Token { id, .. } => KeptCredential::Token(*id),
    };
    verity_policy::validate_new_password(&body.new_password)?;
    let address = caller
        .actor
        .client_addr
        .as_deref()
        .and_then(|a| a.parse().ok());
    let admission = state
        .login_limiter
        .begin(&caller.name, address, Instant::now())
        .map_err(|refusal| verity_policy::Error::TooManyRequests {
            retry_after: refusal.retry_after,
        })?;
    if !admission.delay.is_zero() {
        tokio::time::sleep(admission.delay).await;
    }
    let hash = state
        .user_credentials(&caller.name)
        .await?
        .map(|(_, hash)| hash);
    if !verity_policy::verify_password(body.current_password, hash).await? {
        let event = NewEvent {
            action: "user.change_password".into(),
            resource: format!("user/{}", caller.name),
            project: None,
            outcome: Outcome::Failure,
            details: json!({"reason": "wrong_current_password"}),
        };
        state.record_event(&caller.actor, event).await?;
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "wrong_password",
            "the current password is not right",
        ));
    }
    state.login_limiter.succeeded(&caller.name, address);
    let new_hash = verity_policy::hash_password(body.new_password).await?;
    state
        .change_own_password(&caller.name, &new_hash, keep, &caller.actor)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends the caller's session (the cookie is cleared too).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn logout(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    caller.authorize_self();
    let Credential::Session { digest, .. } = &caller.credential else {
        return Err(ApiError::bad_request(
            "logout ends a dashboard session; revoke API tokens with DELETE /api/v1/tokens/{id}",
        ));
    };
    state.delete_session(digest, &caller.actor).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("verity_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    Ok(response)
}

/// Who the caller is and how they authenticated.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth",
    responses((status = 200, body = WhoAmI), (status = 401, body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    caller.authorize_self();
    let (credential, token_project, token_read_only, csrf_token) = match &caller.credential {
        Credential::Anonymous => ("anonymous", None, false, None),
        Credential::Session { csrf_token, .. } => {
            ("session", None, false, Some(csrf_token.clone()))
        }
        Credential::Token {
            project, read_only, ..
        } => ("token", project.clone(), *read_only, None),
    };
    let mut global_actions = Vec::new();
    for action in Action::ALL.iter().filter(|a| a.is_global()) {
        if caller.can(&state, *action, &Target::global("*"))? {
            global_actions.push(action.as_str().to_owned());
        }
    }
    let admin = caller.credential == Credential::Anonymous
        || state
            .authorizer
            .roles(&caller.name, "*")
            .contains(&Role::Admin);
    let who = Json(WhoAmI {
        username: caller.name.clone(),
        clearance: if caller.credential == Credential::Anonymous {
            Sensitivity::Restricted.as_str().to_owned()
        } else {
            caller.clearance.as_str().to_owned()
        },
        admin,
        credential: credential.to_owned(),
        token_project,
        token_read_only,
        csrf_token,
        global_actions,
    });
    // It can carry the session's CSRF token: never kept by a cache.
    Ok((
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        who,
    )
        .into_response())
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    // Anyone may call login, so it reads at most a small body.
    let login = OpenApiRouter::new()
        .routes(routes!(login))
        .layer(DefaultBodyLimit::max(MAX_LOGIN_BODY_BYTES));
    OpenApiRouter::new()
        .merge(login)
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(change_password))
}

/// Largest login body: a user name and a password with room to spare.
const MAX_LOGIN_BODY_BYTES: usize = 16 * 1024;
