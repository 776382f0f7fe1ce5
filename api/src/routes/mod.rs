//! The HTTP router: every route under `/api/v1`, the operations endpoints and the OpenAPI document.

mod alerts;
mod artifacts;
mod audit;
mod checks;
mod clearance;
mod compliance;
mod datasets;
mod evaluations;
mod experiments;
mod lineage;
mod masking;
mod members;
mod models;
mod monitors;
pub(crate) mod privacy;
mod projects;
pub(crate) mod promotion;
mod runs;
mod session;
mod users;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::TryStreamExt;
use serde_json::json;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use verity_store::StagedBlob;

use axum::middleware::{from_fn, from_fn_with_state};

use crate::error::{ApiError, ApiResult};
use crate::guard;
use crate::state::AppState;

/// The OpenAPI document's header; paths are collected from the handlers.
#[derive(OpenApi)]
#[openapi(
    info(title = "Verity", description = "ML governance, versioning and monitoring: REST API v1. Times are milliseconds since the Unix epoch; metric values are JSON numbers or the strings \"NaN\", \"Infinity\", \"-Infinity\"."),
    tags(
        (name = "projects", description = "Namespaces"),
        (name = "datasets", description = "Datasets and immutable, content-addressed versions"),
        (name = "experiments", description = "Experiments"),
        (name = "runs", description = "Runs: params, tags, metrics, inputs, outputs, search"),
        (name = "artifacts", description = "Run artifacts"),
        (name = "models", description = "Registered models, versions, aliases and alias history"),
        (name = "lineage", description = "Lineage graph and OpenLineage events"),
        (name = "auth", description = "Login sessions (dashboard) and the caller's identity"),
        (name = "users", description = "Users and API tokens"),
        (name = "access", description = "Project members and casbin rules"),
        (name = "audit", description = "The hash-chained audit trail"),
        (name = "monitoring", description = "Checks and their reports, monitors, jobs, alerts and webhooks"),
        (name = "privacy", description = "Differentially private questions, privacy budgets and their ledger"),
        (name = "compliance", description = "Model cards, datasheets, Annex IV documentation and audit exports: stored, hashed reports"),
    ),
    components(schemas(crate::error::ErrorBody)),
    modifiers(&SecuritySchemes),
    security(("bearer" = []), ("session" = []))
)]
struct ApiDoc;

/// Declares the two ways to authenticate: API tokens and the dashboard's session cookie.
struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("API token (vty_...), created with POST /api/v1/tokens or `verity token create`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::SESSION_COOKIE,
                "Dashboard session from POST /api/v1/auth/login; changes also need the X-CSRF-Token header",
            ))),
        );
    }
}

/// All API routes with their OpenAPI description.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(projects::router())
        .merge(datasets::router())
        .merge(experiments::router())
        .merge(runs::router())
        .merge(artifacts::router())
        .merge(models::router())
        .merge(lineage::router())
        .merge(session::router())
        .merge(users::router())
        .merge(members::router())
        .merge(audit::router())
        .merge(checks::router())
        .merge(evaluations::router())
        .merge(monitors::router())
        .merge(alerts::router())
        .merge(privacy::router())
        .merge(masking::router())
        .merge(promotion::router())
        .merge(compliance::router())
}

/// The OpenAPI document, with axum's `{*path}` wildcards written as OpenAPI templates (the
/// server builds the same document in [`app`]; tests compare it with docs/openapi.json).
#[cfg(test)]
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, api) = api_routes().split_for_parts();
    with_openapi_templates(api)
}

fn with_openapi_templates(mut api: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let paths = std::mem::take(&mut api.paths.paths);
    api.paths.paths = paths
        .into_iter()
        .map(|(path, item)| (path.replace("{*", "{"), item))
        .collect();
    api
}

/// The complete application.
pub fn app(state: AppState) -> Router {
    let max_body_bytes = state.max_body_bytes;
    let (router, api) = api_routes().split_for_parts();
    // Serialised once; every request for the document gets the same bytes.
    let spec =
        bytes::Bytes::from(serde_json::to_vec(&with_openapi_templates(api)).unwrap_or_default());
    let mlflow = crate::mlflow::router().layer(from_fn_with_state(
        state.clone(),
        crate::mlflow::authenticate_first,
    ));
    // Every /api/v1 handler must make an authorization decision (fails closed).
    router
        .merge(mlflow)
        .route_layer(axum::middleware::from_fn(crate::auth::require_decision))
        .route(
            "/openapi.json",
            get(
                move || async move { ([(header::CONTENT_TYPE, "application/json")], spec.clone()) },
            ),
        )
        .merge(crate::ui::router())
        .route("/health", get(health))
        .route("/ready", get(ready))
        .fallback(|| async { ApiError::no_route() })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not accept that method",
            )
        })
        // Layers run from the last to the first on the way in.
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(from_fn_with_state(state.clone(), guard::body_deadline))
        .layer(from_fn_with_state(
            state.clone(),
            guard::refuse_cross_site_posts,
        ))
        .layer(from_fn(guard::bounded_target))
        .layer(from_fn_with_state(state.clone(), guard::resolve_client))
        .layer(from_fn_with_state(state.clone(), guard::check_host))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(from_fn(guard::sanitize_request_id))
        .with_state(state)
}

/// Liveness: the process answers.
async fn health() -> impl IntoResponse {
    axum::Json(json!({"status": "ok"}))
}

/// Readiness: the database and the object store answer.
async fn ready(State(state): State<AppState>) -> Response {
    match state.ping().await {
        Ok(()) => axum::Json(json!({"status": "ready"})).into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "not ready");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_ready",
                "database or object store unreachable",
            )
            .into_response()
        }
    }
}

/// Whether a Content-Type names JSON (`application/json`, any case, any parameters).
pub(crate) fn is_json(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .eq_ignore_ascii_case("application/json")
}

/// Reads a JSON body of a route that also accepts raw uploads, with the same limits and the
/// same error codes as the `Json` extractor (413, 400 for syntax, 422 for types).
pub(crate) async fn read_json_body<T: serde::de::DeserializeOwned>(
    state: &AppState,
    body: Body,
) -> ApiResult<T> {
    let bytes = read_body(state, body).await?;
    parse_json_body(&bytes)
}

/// Like [`read_json_body`], but an empty body is `T::default()`.
pub(crate) async fn read_optional_json_body<T: serde::de::DeserializeOwned + Default>(
    state: &AppState,
    body: Body,
) -> ApiResult<T> {
    let bytes = read_body(state, body).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    parse_json_body(&bytes)
}

async fn read_body(state: &AppState, body: Body) -> ApiResult<bytes::Bytes> {
    axum::body::to_bytes(body, state.max_body_bytes)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("JSON body exceeds {} bytes", state.max_body_bytes),
            )
        })
}

fn parse_json_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            e.to_string(),
        ),
        _ => ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", e.to_string()),
    })
}

/// Streams a request body into the blob store for `project`, bounded by the largest upload and
/// by what the project's storage quota leaves: refused as soon as the body passes either, so a
/// client cannot fill the staging area past its quota.
pub(crate) async fn stage_body(
    state: &AppState,
    project: &str,
    body: Body,
) -> ApiResult<StagedBlob> {
    stage_body_beside(state, project, 0, body).await
}

/// Like [`stage_body`], when `staged` bytes of the project are staged already and count
/// against its quota too (the open parts of multipart uploads).
pub(crate) async fn stage_body_beside(
    state: &AppState,
    project: &str,
    staged: u64,
    body: Body,
) -> ApiResult<StagedBlob> {
    let stream = body
        .into_data_stream()
        .map_err(|e| std::io::Error::other(e.to_string()));
    let room = state
        .quota_room(project)
        .await?
        .map(|room| room.saturating_sub(staged));
    match (room, state.project_quota()) {
        (Some(room), Some(quota)) if room < state.blobs().max_size() => {
            match state.blobs().stage_within(stream, room).await {
                Err(verity_store::Error::TooLarge { .. }) => {
                    Err(verity_store::Error::QuotaExceeded {
                        project: project.to_owned(),
                        used: quota.saturating_sub(room),
                        adding: room.saturating_add(1),
                        quota,
                    }
                    .into())
                }
                other => Ok(other?),
            }
        }
        _ => Ok(state.blobs().stage(stream).await?),
    }
}

/// Streams a masked copy of a dataset version as a download (made as it is sent; the first
/// chunk is made before the answer starts, so a version that cannot be read is a clear error).
pub(crate) async fn masked_download(
    state: &AppState,
    version: &verity_store::model::DatasetVersion,
    masker: verity_monitor::masking::Masker,
    file_name: &str,
) -> ApiResult<Response> {
    use futures::StreamExt;
    use verity_monitor::masking::MaskedExport;
    use verity_monitor::source::{Session, Source};
    let session = Session::sequential_with_limits(
        state.blobs().object_store(),
        8192,
        state.check_limits.clone(),
    )?;
    // A reading error can quote a cell, which may be a masked one: its text is withheld.
    let withheld = |e: verity_monitor::Error| -> ApiError {
        let all_hidden = e.to_string().ends_with(verity_monitor::masking::ALL_HIDDEN);
        if e.kind() == verity_monitor::ErrorKind::InvalidArgument && !all_hidden {
            ApiError::bad_request(
                "the masked copy cannot be made: the data cannot be read (the reason is withheld \
                 from the masked view, since it can quote a value)",
            )
        } else {
            e.into()
        }
    };
    let mut export = MaskedExport::open(&session, &Source::of_version(version), masker)
        .await
        .map_err(withheld)?;
    let first = export.next_chunk().await.map_err(withheld)?;
    let rest = futures::stream::unfold(Some(export), |export| async move {
        let mut export = export?;
        match export.next_chunk().await {
            Ok(Some(chunk)) => Some((Ok(bytes::Bytes::from(chunk)), Some(export))),
            Ok(None) => None,
            // Cut short; the reason (which can quote a value) stays in the server.
            Err(_) => Some((Err(std::io::Error::other("the masked copy failed")), None)),
        }
    });
    let head = futures::stream::iter(first.map(|c| Ok::<_, std::io::Error>(bytes::Bytes::from(c))));
    let body = Body::from_stream(head.chain(rest));
    let mut response = Response::new(body);
    download_headers(
        response.headers_mut(),
        version.format.content_type(),
        file_name,
    );
    Ok(response)
}

/// Streams a stored blob as a download.
pub(crate) async fn download(
    state: &AppState,
    content_hash: &str,
    content_type: &str,
    file_name: &str,
) -> ApiResult<Response> {
    let (size, stream) = state.blobs().get(content_hash).await?;
    let body = Body::from_stream(stream.map_err(|e| std::io::Error::other(e.to_string())));
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{content_hash}\"")) {
        headers.insert(header::ETAG, etag);
    }
    download_headers(headers, content_type, file_name);
    Ok(response)
}

/// The headers of every download: its type, an attachment name, and no way to run it here.
fn download_headers(headers: &mut axum::http::HeaderMap, content_type: &str, file_name: &str) {
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    // Stored bytes are never run as a page or script of this origin (the dashboard's), even
    // when opened directly: no type sniffing, and a sandbox without scripts.
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox"),
    );
    let safe_name: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(disposition) = HeaderValue::from_str(&format!("attachment; filename=\"{safe_name}\""))
    {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
}

#[cfg(test)]
mod tests {
    /// The committed docs/openapi.json must match what the handlers declare; after an intended
    /// change, regenerate it with `make openapi` and review the diff.
    #[test]
    fn openapi_document_is_committed() -> Result<(), Box<dyn std::error::Error>> {
        let generated = serde_json::to_string_pretty(&super::openapi())? + "\n";
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json");
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            std::fs::write(path, &generated)?;
            return Ok(());
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/openapi.json is out of date: run `make openapi` and review the diff"
        );
        Ok(())
    }

    #[test]
    fn json_content_types_are_recognised_in_any_case() {
        assert!(super::is_json("application/json"));
        assert!(super::is_json("Application/JSON; charset=utf-8"));
        assert!(!super::is_json("application/jsonl"));
        assert!(!super::is_json("text/csv"));
    }

    #[test]
    fn every_path_is_versioned_and_documented() {
        let api = super::openapi();
        assert!(
            api.paths.paths.len() >= 30,
            "only {} paths documented",
            api.paths.paths.len()
        );
        for (path, item) in &api.paths.paths {
            assert!(path.starts_with("/api/v1/"), "{path} is outside /api/v1");
            assert!(!path.contains("{*"), "{path} keeps an axum wildcard");
            for (method, op) in [
                ("get", &item.get),
                ("post", &item.post),
                ("put", &item.put),
                ("patch", &item.patch),
                ("delete", &item.delete),
            ] {
                if let Some(op) = op {
                    assert!(
                        op.description.is_some() || op.summary.is_some(),
                        "{method} {path} has no doc comment"
                    );
                }
            }
        }
    }
}
