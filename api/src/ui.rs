//! The web dashboard: the files `npm run build` writes to `frontend/dist`, embedded in the
//! binary (read from disk in debug builds) and served under `/ui`, with `/` redirecting there.
//! Paths that name no file are the dashboard's own pages and get its `index.html`.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use rust_embed::Embed;

use crate::error::ApiError;

/// The built dashboard.
#[derive(Embed)]
#[folder = "../frontend/dist"]
#[exclude = ".gitignore"]
struct Assets;

/// Where the dashboard lives.
pub const UI_PREFIX: &str = "/ui/";

/// Only the dashboard's own scripts and styles; no framing, no plugins, API calls to this origin.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; \
    object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The dashboard's routes (outside `/api`, so no authorization decision: the files are public
/// and every API call they make is authorized on its own).
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(|| async { Redirect::temporary(UI_PREFIX) }))
        .route("/ui", get(|| async { Redirect::temporary(UI_PREFIX) }))
        .route("/ui/", get(|headers: HeaderMap| async move { asset("", &headers) }))
        .route(
            "/ui/{*path}",
            get(|Path(path): Path<String>, headers: HeaderMap| async move {
                asset(&path, &headers)
            }),
        )
}

/// One file of the dashboard, or its `index.html` for a page path.
fn asset(path: &str, headers: &HeaderMap) -> Response {
    let (file, path) = match Assets::get(path) {
        Some(file) if !path.is_empty() => (file, path),
        // A file name (with an extension) that is not there is a 404; anything else is a page.
        _ if is_file_name(path) => return ApiError::no_route().into_response(),
        _ => match Assets::get("index.html") {
            Some(file) => (file, "index.html"),
            None => {
                return ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "dashboard_not_built",
                    "this binary was built without the dashboard: run `npm --prefix frontend ci && \
                     npm --prefix frontend run build`, then build verity again (`make run` does both)",
                )
                .into_response();
            }
        },
    };
    let etag = format!("\"{}\"", hex::encode(file.metadata.sha256_hash()));
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
    // Vite names built assets by their content hash, so they never change; pages must be
    // asked for again so a new build shows at once.
    let cache = if path.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        file.data.into_owned().into_response()
    };
    let out = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(file.metadata.mimetype()) {
        out.insert(header::CONTENT_TYPE, value);
    }
    if let Ok(value) = HeaderValue::from_str(&etag) {
        out.insert(header::ETAG, value);
    }
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    out.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    out.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    out.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    out.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// Whether the last segment of `path` looks like a file name (`app.js`), not a page (`runs`).
fn is_file_name(path: &str) -> bool {
    path.rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_files_are_told_apart() {
        assert!(is_file_name("assets/index-3f2a.js"));
        assert!(is_file_name("favicon.svg"));
        assert!(!is_file_name(""));
        assert!(!is_file_name("projects/demo/runs"));
        assert!(!is_file_name("runs/3f2a9c"));
    }
}
