//! Authentication (API tokens, dashboard sessions) and the authorization decision every
//! handler makes with [`Caller::authorize`] before it touches the store.
//!
//! A middleware ([`require_decision`]) fails closed: an `/api/v1` handler that answers 2xx
//! without having made a decision gets a 500 instead, so a new route cannot ship open.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::{ConnectInfo, FromRef, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::json;
use verity_policy::{Action, Authorizer, Object, Sensitivity, Subject};
use verity_store::{Actor, NewEvent, Outcome, User, now_ms};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Name of the dashboard's session cookie.
pub const SESSION_COOKIE: &str = "verity_session";
/// Header that cookie-authenticated mutations must carry (the session's CSRF token).
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Whether requests must authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthMode {
    /// Every request needs a token or a session (the default).
    Enabled,
    /// Anonymous single-user mode: everybody acts as the local principal with every right.
    Disabled,
}

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// Authentication is disabled: the local principal.
    Anonymous,
    /// A dashboard session (cookie); `digest` identifies it for logout.
    Session {
        /// SHA-256 digest of the session id.
        digest: String,
        /// The token cookie-authenticated changes must echo in `X-CSRF-Token`.
        csrf_token: String,
    },
    /// An API token with its restrictions.
    Token {
        /// Token id.
        id: i64,
        /// The only project the token works in, if scoped.
        project: Option<String>,
        /// Whether it may only read.
        read_only: bool,
        /// Its expiry (ms), if any.
        expires_at: Option<i64>,
    },
}

/// Set when a handler made an authorization decision; see [`require_decision`].
#[derive(Debug, Clone, Default)]
pub struct DecisionMark(Arc<AtomicBool>);

impl DecisionMark {
    /// Records that the handler decided.
    pub fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Fails closed: a successful response (`/api/v1`, the MLflow routes) from a handler that
/// never decided is replaced by a 500 (and logged), so no route can skip authorization
/// unnoticed.
pub async fn require_decision(mut request: Request, next: Next) -> Response {
    let mark = DecisionMark::default();
    request.extensions_mut().insert(mark.clone());
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if response.status().is_success() && !mark.0.load(Ordering::Relaxed) {
        tracing::error!(%path, "handler answered without an authorization decision");
        return ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error: see the server log",
        )
        .into_response();
    }
    response
}

/// What a request is about: the resource, its project and the attributes ABAC reads.
#[derive(Debug, Clone)]
pub struct Target {
    /// The project, for project actions.
    pub project: Option<String>,
    /// Resource path for audit events, e.g. `run/3f2a...`.
    pub resource: String,
    /// Dataset sensitivity (public for everything else).
    pub sensitivity: Sensitivity,
    /// The user who owns the resource (a run's creator), when ownership matters.
    pub owner: Option<String>,
}

impl Target {
    /// Something outside any project (users, policies, the whole audit trail).
    pub fn global(resource: impl Into<String>) -> Self {
        Self {
            project: None,
            resource: resource.into(),
            sensitivity: Sensitivity::Public,
            owner: None,
        }
    }

    /// A project itself, or anything in it named by `resource`.
    pub fn in_project(project: &str, resource: impl Into<String>) -> Self {
        Self {
            project: Some(project.to_owned()),
            resource: resource.into(),
            sensitivity: Sensitivity::Public,
            owner: None,
        }
    }

    /// The project as a whole.
    pub fn project(project: &str) -> Self {
        Self::in_project(project, format!("project/{project}"))
    }

    /// A run, owned by its creator.
    pub fn run(run: &verity_store::model::Run) -> Self {
        Self {
            owner: Some(run.created_by.clone()),
            ..Self::in_project(&run.project, format!("run/{}", run.uuid))
        }
    }

    /// Something in a project that shows data of this sensitivity.
    pub fn with_sensitivity(
        project: &str,
        resource: impl Into<String>,
        sensitivity: Sensitivity,
    ) -> Self {
        Self {
            sensitivity,
            ..Self::in_project(project, resource)
        }
    }

    /// A dataset, with its sensitivity.
    pub fn dataset(dataset: &verity_store::model::Dataset) -> Self {
        Self::with_sensitivity(
            &dataset.project,
            format!("project/{}/dataset/{}", dataset.project, dataset.name),
            dataset
                .sensitivity
                .parse()
                .unwrap_or(Sensitivity::Restricted),
        )
    }
}

/// Whether the user `name` with `clearance` may do `action` on `target` under the loaded
/// rules (no token restrictions, nothing recorded). The worker asks this for a monitor's owner.
pub fn user_may(
    authorizer: &Authorizer,
    name: &str,
    clearance: Sensitivity,
    action: Action,
    target: &Target,
) -> verity_policy::Result<bool> {
    let domain = match (&target.project, action.is_global()) {
        (Some(project), false) => project.as_str(),
        _ => "*",
    };
    let subject = Subject {
        name: name.to_owned(),
        clearance,
    };
    let object = Object {
        sensitivity: target.sensitivity,
        owner: target.owner.clone(),
    };
    authorizer.check(&subject, domain, action, &object)
}

/// The authenticated principal of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// User name (the local principal when authentication is off).
    pub name: String,
    /// Clearance for raw dataset reads.
    pub clearance: Sensitivity,
    /// How they authenticated.
    pub credential: Credential,
    /// Who and where, for audit events.
    pub actor: Actor,
    mark: Option<DecisionMark>,
}

impl Caller {
    fn decided(&self) {
        if let Some(mark) = &self.mark {
            mark.set();
        }
    }

    /// The clearance the caller acts with: every level when authentication is disabled.
    pub fn effective_clearance(&self) -> Sensitivity {
        if self.credential == Credential::Anonymous {
            Sensitivity::Restricted
        } else {
            self.clearance
        }
    }

    /// A self-service request (the caller's own session or tokens): no rule to check, but
    /// the decision is made here, visibly.
    pub fn authorize_self(&self) {
        self.decided();
    }

    /// Whether the caller may do `action` on `target`, without recording anything.
    pub fn can(&self, state: &AppState, action: Action, target: &Target) -> ApiResult<bool> {
        if self.credential == Credential::Anonymous {
            return Ok(true);
        }
        if self.token_refusal(action, target).is_some() {
            return Ok(false);
        }
        user_may(
            &state.authorizer,
            &self.name,
            self.clearance,
            action,
            target,
        )
        .map_err(ApiError::from)
    }

    fn token_refusal(&self, action: Action, target: &Target) -> Option<String> {
        let Credential::Token {
            project, read_only, ..
        } = &self.credential
        else {
            return None;
        };
        if *read_only && !action.is_read() {
            return Some("this API token is read-only".to_owned());
        }
        if let Some(scope) = project
            && (action.is_global() || target.project.as_deref() != Some(scope.as_str()))
        {
            return Some(format!("this API token works only in project '{scope}'"));
        }
        None
    }

    /// The decision: allows, or records the denial in the audit trail and answers 403.
    pub async fn authorize(
        &self,
        state: &AppState,
        action: Action,
        target: &Target,
    ) -> ApiResult<()> {
        match self.decide(state, action, target).await? {
            None => Ok(()),
            Some(reason) => Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", reason)),
        }
    }

    /// Like [`Caller::authorize`] for something found by an id the caller chose: a refusal
    /// is recorded but answered with `not_found`, the answer to an id that does not exist, so
    /// that ids cannot be probed for what exists elsewhere.
    pub async fn authorize_or_hide(
        &self,
        state: &AppState,
        action: Action,
        target: &Target,
        not_found: impl FnOnce() -> ApiError,
    ) -> ApiResult<()> {
        match self.decide(state, action, target).await? {
            None => Ok(()),
            Some(_) => Err(not_found()),
        }
    }

    /// Decides, recording a refusal in the audit trail; returns the refusal's reason. The
    /// reason names the action, not the resource: a refusal must not describe what the caller
    /// may not see (the audit event records the resource).
    async fn decide(
        &self,
        state: &AppState,
        action: Action,
        target: &Target,
    ) -> ApiResult<Option<String>> {
        self.decided();
        if self.can(state, action, target)? {
            return Ok(None);
        }
        let reason = self
            .token_refusal(action, target)
            .unwrap_or_else(|| format!("user '{}' may not {} here", self.name, action.as_str()));
        self.record_denial(state, action.as_str(), target, &reason)
            .await;
        Ok(Some(reason))
    }

    /// Refuses for a reason of the handler's own rather than a rule (e.g. a token asking for a
    /// stronger token): records the denial like [`Caller::authorize`] and returns the 403.
    pub async fn refuse(
        &self,
        state: &AppState,
        action: &str,
        target: &Target,
        reason: &str,
    ) -> ApiError {
        self.decided();
        self.record_denial(state, action, target, reason).await;
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", reason)
    }

    /// Looks the run up (404 when missing), then decides `action` on it: the run's project and
    /// its creator (for "own runs only" rules) are the attributes.
    pub async fn authorize_run(
        &self,
        state: &AppState,
        action: Action,
        run_id: &str,
    ) -> ApiResult<verity_store::model::Run> {
        let run = state.get_run(run_id).await?;
        self.authorize(state, action, &Target::run(&run)).await?;
        Ok(run)
    }

    /// Writes a denial event; a failure to write is logged (the request is denied anyway).
    async fn record_denial(&self, state: &AppState, action: &str, target: &Target, reason: &str) {
        let event = NewEvent {
            action: action.to_owned(),
            resource: target.resource.clone(),
            project: target.project.clone(),
            outcome: Outcome::Denied,
            details: json!({"reason": reason}),
        };
        if let Err(e) = state.record_event(&self.actor, event).await {
            tracing::error!(error = %e, "recording a denial in the audit trail failed");
        }
    }
}

impl<S> FromRequestParts<S> for Caller
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let mark = parts.extensions.get::<DecisionMark>().cloned();
        // Authenticated already by a middleware (the MLflow routes authenticate first).
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(Caller {
                mark,
                ..caller.clone()
            });
        }
        let state = AppState::from_ref(state);
        let mut actor = Actor {
            principal: String::new(),
            request_id: parts
                .headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            client_addr: client_ip(parts).map(|ip| ip.to_string()),
        };
        if state.auth_mode == AuthMode::Disabled {
            actor.principal = state.local_principal.to_string();
            return Ok(Caller {
                name: actor.principal.clone(),
                clearance: Sensitivity::Restricted,
                credential: Credential::Anonymous,
                actor,
                mark,
            });
        }
        let (user, credential) = authenticate(&state, &parts.headers).await?;
        actor.principal = user.name.clone();
        let caller = Caller {
            name: user.name,
            clearance: user.clearance.parse().unwrap_or(Sensitivity::Public),
            credential,
            actor,
            mark,
        };
        if let Credential::Session { csrf_token, .. } = &caller.credential
            && !is_safe(&parts.method)
            && !csrf_matches(csrf_token, &parts.headers)
        {
            caller.decided();
            let target = Target::global(parts.uri.path().to_owned());
            let reason = "cookie-authenticated changes need the session's CSRF token in the X-CSRF-Token header";
            caller
                .record_denial(&state, "auth.csrf", &target, reason)
                .await;
            return Err(ApiError::new(StatusCode::FORBIDDEN, "csrf_failed", reason));
        }
        Ok(caller)
    }
}

/// The client's IP address: what the guard resolved (through trusted proxies), else the
/// connection's peer.
pub fn client_ip(parts: &Parts) -> Option<IpAddr> {
    client_ip_of(&parts.extensions)
}

/// [`client_ip`] from a request's extensions.
pub fn client_ip_of(extensions: &axum::http::Extensions) -> Option<IpAddr> {
    extensions
        .get::<crate::guard::ClientAddr>()
        .map(|c| c.0)
        .or_else(|| {
            extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip().to_canonical())
        })
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// A 401 with the challenge header.
pub fn unauthenticated(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
}

fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
}

fn csrf_matches(expected: &str, headers: &HeaderMap) -> bool {
    headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|sent| verity_policy::constant_time_eq(expected.as_bytes(), sent.as_bytes()))
}

/// Finds the user behind a request's credentials: `Authorization: Bearer <token>`,
/// `Authorization: Basic` with a token as the password (what MLflow clients send), or the
/// session cookie.
async fn authenticate(state: &AppState, headers: &HeaderMap) -> ApiResult<(User, Credential)> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value
            .to_str()
            .map_err(|_| unauthenticated("the Authorization header is not valid text"))?;
        let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
        let (secret, basic_user) = if scheme.eq_ignore_ascii_case("bearer") {
            (rest.trim().to_owned(), None)
        } else if scheme.eq_ignore_ascii_case("basic") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| unauthenticated("the Basic credentials are not valid base64"))?;
            let (user, password) = decoded
                .split_once(':')
                .ok_or_else(|| unauthenticated("the Basic credentials need user:token"))?;
            (password.to_owned(), Some(user.to_owned()))
        } else {
            return Err(unauthenticated(
                "unsupported Authorization scheme: use Bearer <token>",
            ));
        };
        return token_user(state, &secret, basic_user.as_deref()).await;
    }
    if let Some(cookie) = session_cookie(headers) {
        let digest = verity_policy::digest(cookie);
        let session = state
            .session_by_digest(&digest)
            .await?
            .ok_or_else(|| unauthenticated("the session has expired or was ended: log in again"))?;
        if session.user.disabled_at.is_some() {
            return Err(unauthenticated("the account is disabled"));
        }
        let csrf_token = session.csrf_token;
        return Ok((session.user, Credential::Session { digest, csrf_token }));
    }
    Err(unauthenticated(
        "authentication required: send Authorization: Bearer <API token>, or log in",
    ))
}

async fn token_user(
    state: &AppState,
    secret: &str,
    basic_user: Option<&str>,
) -> ApiResult<(User, Credential)> {
    let digest = verity_policy::parse_token(secret).map_err(ApiError::from)?;
    let (token, user) = state
        .token_by_digest(&digest)
        .await?
        .ok_or_else(|| unauthenticated("unknown API token"))?;
    if token.revoked_at.is_some() {
        return Err(unauthenticated("this API token was revoked"));
    }
    if token.expires_at.is_some_and(|at| at <= now_ms()) {
        return Err(unauthenticated("this API token has expired"));
    }
    if user.disabled_at.is_some() {
        return Err(unauthenticated("the account is disabled"));
    }
    if let Some(name) = basic_user
        && name != user.name
    {
        return Err(unauthenticated("the token does not belong to that user"));
    }
    let credential = Credential::Token {
        id: token.id,
        project: token.project,
        read_only: token.read_only,
        expires_at: token.expires_at,
    };
    Ok((user, credential))
}
