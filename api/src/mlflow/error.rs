//! MLflow's error envelope: `{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "..."}` with
//! the HTTP status MLflow gives each code (`mlflow/exceptions.py`).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::ApiError;

/// An error as MLflow clients read it.
#[derive(Debug)]
pub struct MlflowError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl MlflowError {
    /// `INVALID_PARAMETER_VALUE` (400).
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "INVALID_PARAMETER_VALUE",
            message: message.into(),
        }
    }

    /// `RESOURCE_DOES_NOT_EXIST` (404).
    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            code: "RESOURCE_DOES_NOT_EXIST",
            message: message.into(),
        }
    }
}

impl MlflowError {
    /// `PERMISSION_DENIED` (403): refused whoever asks (a rule of Verity's, not a role).
    pub fn permission_denied(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            code: "PERMISSION_DENIED",
            message: message.into(),
        }
    }

    /// `ENDPOINT_NOT_FOUND` (404): a route Verity's MLflow API does not serve.
    pub fn endpoint_not_found() -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            code: "ENDPOINT_NOT_FOUND",
            message: "Verity's MLflow API does not serve this endpoint (docs/mlflow.md lists the \
                      ones it does)"
                .into(),
        }
    }
}

impl MlflowError {
    /// `BAD_REQUEST` (405): the endpoint exists with another method.
    pub fn method_not_allowed() -> Self {
        Self {
            status: StatusCode::METHOD_NOT_ALLOWED,
            code: "BAD_REQUEST",
            message: "this endpoint does not accept that method".into(),
        }
    }
}

impl MlflowError {
    /// An error with a status of the request guards' (408, 414, 415, 400): `BAD_REQUEST`, or
    /// `INVALID_PARAMETER_VALUE` for a 400.
    pub fn with_status(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code: if status == StatusCode::BAD_REQUEST {
                "INVALID_PARAMETER_VALUE"
            } else {
                "BAD_REQUEST"
            },
            message: message.into(),
        }
    }
}

impl From<ApiError> for MlflowError {
    fn from(err: ApiError) -> Self {
        let (status, code) = match (err.status().as_u16(), err.code()) {
            (404, _) => (StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST"),
            // MLflow answers an existing name with 400.
            (409, code) if code.ends_with("already_exists") => {
                (StatusCode::BAD_REQUEST, "RESOURCE_ALREADY_EXISTS")
            }
            // A changed param value, a foreign version: MLflow calls these invalid values.
            (400 | 409 | 413 | 422, _) => (StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE"),
            (401, _) => (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"),
            (403, _) => (StatusCode::FORBIDDEN, "PERMISSION_DENIED"),
            (429, _) => (StatusCode::TOO_MANY_REQUESTS, "REQUEST_LIMIT_EXCEEDED"),
            (503, _) => (StatusCode::SERVICE_UNAVAILABLE, "TEMPORARILY_UNAVAILABLE"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR"),
        };
        Self {
            status,
            code,
            message: err.message().to_owned(),
        }
    }
}

impl From<axum::extract::rejection::PathRejection> for MlflowError {
    fn from(rejection: axum::extract::rejection::PathRejection) -> Self {
        Self::invalid(rejection.body_text())
    }
}

impl From<verity_store::Error> for MlflowError {
    fn from(err: verity_store::Error) -> Self {
        ApiError::from(err).into()
    }
}

impl IntoResponse for MlflowError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(json!({"error_code": self.code, "message": self.message})),
        )
            .into_response();
        // A Bearer challenge: a Basic one would make browsers prompt for credentials and then
        // replay them on requests other sites make them send (CSRF). MLflow clients send their
        // credentials unasked.
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"verity\""),
            );
        }
        response
    }
}
