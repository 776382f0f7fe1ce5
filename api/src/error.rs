//! The one JSON error shape, and the mapping from store errors to HTTP statuses.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use verity_store::{Error as StoreError, ErrorKind};

/// Every error response: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The content of an error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `project_not_found`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

/// An error that becomes a JSON response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: String,
    message: String,
    /// Seconds for a `Retry-After` header (429).
    retry_after: Option<u64>,
}

impl ApiError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable error code.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The message for people.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// An error with a status, code and message.
    pub fn new(status: StatusCode, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            retry_after: None,
        }
    }

    /// A 400 with code `invalid_argument`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_argument", message)
    }

    /// A 404 for a route that does not exist.
    pub fn no_route() -> Self {
        Self::new(StatusCode::NOT_FOUND, "route_not_found", "no such route")
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        let status = match err.kind() {
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::AlreadyExists | ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::InvalidArgument => StatusCode::BAD_REQUEST,
            ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %err, "request failed");
            "internal error: see the server log".to_string()
        } else if matches!(err, StoreError::SourceUnavailable { .. }) {
            err.to_string()
        } else if status.is_server_error() {
            tracing::warn!(error = %err, "backing service unavailable");
            "a backing service is unavailable: try again later".to_string()
        } else {
            err.to_string()
        };
        Self {
            status,
            code: err.code(),
            message,
            retry_after: None,
        }
    }
}

impl From<verity_policy::Error> for ApiError {
    fn from(err: verity_policy::Error) -> Self {
        use verity_policy::ErrorKind as Kind;
        let (status, code) = match err.kind() {
            Kind::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            Kind::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            Kind::TooManyRequests => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
            Kind::InvalidArgument => (StatusCode::BAD_REQUEST, "invalid_argument"),
            Kind::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        let mut api = if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %err, "access control failed");
            Self::new(status, code, "internal error: see the server log")
        } else {
            Self::new(status, code, err.to_string())
        };
        if let verity_policy::Error::TooManyRequests { retry_after } = err {
            api.retry_after = Some(retry_after.as_millis().div_ceil(1000).max(1) as u64);
        }
        api
    }
}

impl From<verity_monitor::Error> for ApiError {
    fn from(err: verity_monitor::Error) -> Self {
        match err.kind() {
            verity_monitor::ErrorKind::InvalidArgument => {
                Self::new(StatusCode::BAD_REQUEST, "invalid_check", err.to_string())
            }
            // The check asks for more than the server gives one check: a smaller request
            // passes, so it is the client's to change.
            verity_monitor::ErrorKind::ResourcesExhausted => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "check_memory_exceeded",
                err.to_string(),
            ),
            verity_monitor::ErrorKind::Internal => {
                tracing::error!(error = %err, "check failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error: see the server log",
                )
            }
        }
    }
}

impl From<crate::checks::CheckError> for ApiError {
    fn from(err: crate::checks::CheckError) -> Self {
        match err {
            crate::checks::CheckError::Monitor(e) => e.into(),
            crate::checks::CheckError::Store(e) => e.into(),
            crate::checks::CheckError::Config(message) => ApiError::bad_request(message),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        let code = match &rejection {
            JsonRejection::JsonSyntaxError(_) => "malformed_json",
            JsonRejection::JsonDataError(_) => "invalid_body",
            JsonRejection::MissingJsonContentType(_) => "unsupported_media_type",
            _ if status == StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            _ => "invalid_body",
        };
        Self::new(status, code, rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_path",
            rejection.body_text(),
        )
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            rejection.body_text(),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        let headers = response.headers_mut();
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"verity\""),
            );
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
