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

/// Only the dashboard's own scripts and styles (no inline ones; React and uPlot set styles
/// through the CSSOM, which the policy allows); no framing, no plugins, API calls to this origin.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

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
    let (file, path) = match built_file(path) {
        Some(file) => (file, path),
        // Built assets and root files that are not there are 404s; anything else is a page
        // (names may hold dots: `/ui/projects/team.ml` is a page).
        None if is_file_name(path) => return ApiError::no_route().into_response(),
        None => match built_file("index.html") {
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
        .is_some_and(|v| {
            v.split(',')
                .map(|tag| tag.trim().trim_start_matches("W/"))
                .any(|tag| tag == etag || tag == "*")
        });
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

/// A file of the build, by its exact relative path. Only names the build holds are looked
/// up: debug builds read from disk, and a path such as `/proc/self/fd/7` or `../x` must never
/// reach the file system.
fn built_file(path: &str) -> Option<rust_embed::EmbeddedFile> {
    if path.is_empty() || !Assets::iter().any(|name| name == path) {
        return None;
    }
    Assets::get(path)
}

/// Whether a missing `path` names a file of the build (a hashed asset, or a file at the root
/// such as `favicon.ico`) rather than a page of the dashboard.
fn is_file_name(path: &str) -> bool {
    path.starts_with("assets/") || (!path.contains('/') && path.contains('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_files_are_told_apart() {
        assert!(is_file_name("assets/index-3f2a.js"));
        assert!(is_file_name("assets/nope"));
        assert!(is_file_name("favicon.svg"));
        assert!(!is_file_name(""));
        assert!(!is_file_name("projects/demo/runs"));
        assert!(!is_file_name("runs/3f2a9c"));
        // Names may hold dots; their pages are pages.
        assert!(!is_file_name("projects/team.ml"));
        assert!(!is_file_name("projects/p/datasets/iris.csv"));
    }

    #[test]
    fn only_names_of_the_build_are_looked_up() {
        for path in [
            "/etc/passwd",
            "/proc/self/fd/7",
            "../Cargo.toml",
            "assets/../../Cargo.toml",
            "",
            ".",
        ] {
            assert!(built_file(path).is_none(), "{path}");
        }
    }
}
