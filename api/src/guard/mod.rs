//! What every request passes before a handler sees it: bounded request ids and URLs, the
//! client's address (through trusted proxies), a deadline on the body, refusal of the
//! requests a browser can send cross-site without asking (CSRF), and with authentication
//! disabled, refusal of foreign `Host` names (DNS rebinding).

pub mod body;
pub mod client;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::mlflow::MlflowError;
use crate::state::AppState;
pub use body::BodyDeadline;
pub use client::{ClientAddr, TrustedProxies};

/// Longest request id taken from a client's `X-Request-Id`; longer or odd ones are replaced.
pub const MAX_REQUEST_ID_CHARS: usize = 128;
/// Longest URL path, in bytes as sent (an artifact path of 1024 characters, escaped, fits).
pub const MAX_PATH_BYTES: usize = 16 * 1024;
/// Longest query string, in bytes as sent (a search filter of 10,000 bytes, escaped, fits).
pub const MAX_QUERY_BYTES: usize = 32 * 1024;

/// Settings of the request guards.
#[derive(Debug, Clone)]
pub struct GuardConfig {
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
    /// With authentication disabled, the `Host` names served besides loopback ones (lower
    /// case, without port).
    pub public_hosts: Vec<String>,
    /// Whether authentication is disabled (the `Host` check applies then).
    pub auth_disabled: bool,
    /// The deadline of request bodies.
    pub body_deadline: BodyDeadline,
}

/// An error in the envelope the route's clients read: MLflow's for the MLflow routes, the one
/// JSON error shape elsewhere.
fn refusal(path: &str, status: StatusCode, code: &str, message: String) -> Response {
    if is_mlflow(path) {
        MlflowError::with_status(status, message).into_response()
    } else {
        ApiError::new(status, code, message).into_response()
    }
}

/// Whether `path` is one of the MLflow protocol's routes.
pub fn is_mlflow(path: &str) -> bool {
    path.starts_with("/api/2.0/mlflow") || path.starts_with("/ajax-api/2.0/mlflow")
}

/// Keeps a client's `X-Request-Id` only when it is 1 to 128 characters of letters, digits and
/// `-_.:`; otherwise removes it, so the server assigns one. Ids go into every audit event.
pub async fn sanitize_request_id(mut request: Request, next: Next) -> Response {
    let acceptable = |v: &HeaderValue| {
        let bytes = v.as_bytes();
        !bytes.is_empty()
            && bytes.len() <= MAX_REQUEST_ID_CHARS
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
    };
    let headers = request.headers_mut();
    let values: Vec<&HeaderValue> = headers.get_all("x-request-id").iter().collect();
    if values.len() != 1 || !values.iter().all(|v| acceptable(v)) {
        headers.remove("x-request-id");
    }
    next.run(request).await
}

/// Refuses over-long URLs (414) and names in the URL longer than any name can be (400),
/// before routing and authorization, so they never reach the decision cache or the audit
/// trail. The file path of an artifact route (after `/api/v1/runs/{run}/artifacts/`, or under
/// `/api/2.0/mlflow-artifacts/`) is bounded in total only.
pub async fn bounded_target(request: Request, next: Next) -> Response {
    let uri = request.uri();
    let path = uri.path();
    if path.len() > MAX_PATH_BYTES || uri.query().is_some_and(|q| q.len() > MAX_QUERY_BYTES) {
        return refusal(
            path,
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!(
                "the URL is too long (at most {MAX_PATH_BYTES} bytes of path and \
                 {MAX_QUERY_BYTES} of query)"
            ),
        );
    }
    let segments: Vec<&str> = path.split('/').collect();
    let names = match segments.as_slice() {
        // "", "api", "v1", "runs", run, "artifacts", path...
        ["", "api", "v1", "runs", _, "artifacts", ..] => 5,
        ["", "api", "2.0", "mlflow-artifacts", ..] => 4,
        all => all.len(),
    };
    for segment in &segments[..names] {
        let decoded = percent_decoded_chars(segment);
        if decoded > verity_store::validate::MAX_NAME_LEN {
            return refusal(
                path,
                StatusCode::BAD_REQUEST,
                "invalid_argument",
                format!(
                    "a name in the URL has {decoded} characters; names have at most {}",
                    verity_store::validate::MAX_NAME_LEN
                ),
            );
        }
    }
    next.run(request).await
}

/// Characters of a URL segment once percent-escapes are decoded (bytes when not UTF-8).
fn percent_decoded_chars(segment: &str) -> usize {
    let raw = segment.as_bytes();
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let escaped = (raw[i] == b'%')
            .then(|| raw.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                bytes.push(byte);
                i += 3;
            }
            None => {
                bytes.push(raw[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(bytes).map_or(segment.len(), |s| s.chars().count())
}

/// Records the client's address ([`ClientAddr`]) for the handlers: the TCP peer, or the
/// client a trusted proxy names.
pub async fn resolve_client(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    if let Some(peer) = peer {
        let client = state.guard.trusted_proxies.client(peer, request.headers());
        request.extensions_mut().insert(ClientAddr(client));
    }
    next.run(request).await
}

/// The content types an HTML form (or a `fetch` without a preflight) can send cross-site.
fn is_form_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return true;
    };
    let essence = value
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    matches!(
        essence.as_str(),
        "" | "application/x-www-form-urlencoded" | "multipart/form-data" | "text/plain"
    )
}

/// Whether the request carries a header no browser attaches by itself to a cross-site
/// request: the session's CSRF token, or a Bearer token (browsers replay only Basic
/// credentials and cookies).
fn has_non_simple_credential(headers: &HeaderMap) -> bool {
    headers.contains_key(crate::auth::CSRF_HEADER)
        || headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_whitespace().next())
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("bearer"))
}

/// Whether the request would act as someone: it carries credentials a browser attaches by
/// itself (a cookie, Basic credentials), or authentication is disabled. A request with none
/// is answered 401 by its handler anyway.
fn acts_as_someone(state: &AppState, headers: &HeaderMap) -> bool {
    state.guard.auth_disabled
        || headers.contains_key(header::COOKIE)
        || headers.contains_key(header::AUTHORIZATION)
}

/// Refuses (415) a `POST` that a page on another site could have made a browser send: one
/// without a content type or with a form or `text/plain` body, without a CSRF token or a
/// Bearer token, that would act as someone. Other methods cannot be sent cross-site without a
/// CORS preflight, which Verity never grants; JSON, CSV and other uploads declare their type.
pub async fn refuse_cross_site_posts(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() == Method::POST
        && is_form_content_type(request.headers())
        && !has_non_simple_credential(request.headers())
        && acts_as_someone(&state, request.headers())
    {
        let path = request.uri().path().to_owned();
        return refusal(
            &path,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "a POST needs Content-Type: application/json (or the upload's own type, such as \
             text/csv), or a Bearer token or X-CSRF-Token header: form and text/plain bodies \
             are what other sites can make a browser send"
                .to_owned(),
        );
    }
    next.run(request).await
}

/// With authentication disabled, serves only requests whose `Host` is a loopback name
/// (`localhost`, `*.localhost`, a loopback address) or one of `--public-host`: a page
/// whose DNS name is rebound to 127.0.0.1 still sends its own name, and is refused.
pub async fn check_host(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !state.guard.auth_disabled {
        return next.run(request).await;
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.as_str().to_owned()));
    let allowed = host
        .as_deref()
        .is_some_and(|h| host_allowed(h, &state.guard.public_hosts));
    if !allowed {
        let path = request.uri().path().to_owned();
        return refusal(
            &path,
            StatusCode::BAD_REQUEST,
            "host_not_allowed",
            format!(
                "authentication is disabled, so only requests to a loopback name or a \
                 --public-host are served; this one was for {:?}",
                host.unwrap_or_default()
            ),
        );
    }
    next.run(request).await
}

/// Whether a `Host` header value (`name[:port]`, `[v6]:port`) is a loopback name or one of
/// `public_hosts`.
pub fn host_allowed(host: &str, public_hosts: &[String]) -> bool {
    let name = host_name(host);
    if name == "localhost" || name.ends_with(".localhost") {
        return true;
    }
    if let Ok(ip) = name.parse::<std::net::IpAddr>()
        && ip.to_canonical().is_loopback()
    {
        return true;
    }
    public_hosts.contains(&name)
}

/// The host a `Host` header or a `--public-host` value names (`name[:port]`, `[v6][:port]`, a
/// bare IPv6 address): without port and brackets, in lower case, without a trailing dot.
pub fn host_name(host: &str) -> String {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None if host.parse::<std::net::IpAddr>().is_ok() => host,
        None => match host.rsplit_once(':') {
            Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
            _ => host,
        },
    };
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Puts a deadline on the request body ([`BodyDeadline`]); when it passes, the answer is 408
/// whatever the handler made of the broken body.
pub async fn body_deadline(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let timed_out = Arc::new(AtomicBool::new(false));
    let path = request.uri().path().to_owned();
    let request = request.map(|b| {
        axum::body::Body::new(body::DeadlineBody::new(
            b,
            state.guard.body_deadline,
            Arc::clone(&timed_out),
        ))
    });
    let response = next.run(request).await;
    if timed_out.load(Ordering::Acquire) {
        let mut refused = refusal(
            &path,
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            "the request body did not arrive in time".to_owned(),
        );
        refused
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return refused;
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_lose_port_brackets_case_and_trailing_dot() {
        for (given, name) in [
            ("Verity.Internal:8080", "verity.internal"),
            ("verity.internal.", "verity.internal"),
            ("[::1]:8080", "::1"),
            ("[2001:DB8::1]", "2001:db8::1"),
            ("2001:db8::1", "2001:db8::1"),
            ("10.0.0.5:80", "10.0.0.5"),
            ("host:notaport", "host:notaport"),
        ] {
            assert_eq!(host_name(given), name, "{given}");
        }
    }

    #[test]
    fn loopback_and_public_hosts_only() {
        let public = vec!["verity.example.org".to_owned()];
        for ok in [
            "localhost",
            "localhost:8080",
            "LOCALHOST.",
            "app.localhost:3000",
            "127.0.0.1:8080",
            "127.1.2.3",
            "[::1]:8080",
            "verity.example.org",
            "Verity.Example.Org:443",
        ] {
            assert!(host_allowed(ok, &public), "{ok}");
        }
        for refused in [
            "evil.example.com",
            "localhost.evil.com",
            "10.0.0.1:8080",
            "[2001:db8::1]:80",
            "",
            "verity.example.org.evil.com",
        ] {
            assert!(!host_allowed(refused, &public), "{refused}");
        }
    }

    #[test]
    fn names_count_decoded_characters() {
        assert_eq!(percent_decoded_chars("abc"), 3);
        assert_eq!(percent_decoded_chars("%61%62"), 2);
        assert_eq!(percent_decoded_chars("%C3%A9"), 1);
    }
}
