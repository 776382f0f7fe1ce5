//! The policy crate's error type.

/// Result with the policy crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Coarse error classes; the API maps each to one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// No valid credentials were presented (401).
    Unauthenticated,
    /// The principal is known but may not do this (403).
    Forbidden,
    /// Too many attempts; try again later (429).
    TooManyRequests,
    /// The input is malformed or breaks a rule (400).
    InvalidArgument,
    /// A bug or an unexpected failure (500).
    Internal,
}

/// Everything the policy crate can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Missing, malformed or unknown credentials; the message says which.
    #[error("{0}")]
    Unauthenticated(String),
    /// The principal may not perform the action.
    #[error("{0}")]
    Forbidden(String),
    /// Too many attempts; retry after the given time.
    #[error("too many attempts: retry in {} s", retry_after.as_millis().div_ceil(1000).max(1))]
    TooManyRequests {
        /// How long the caller should wait before trying again.
        retry_after: std::time::Duration,
    },
    /// Input that breaks a rule; the message says which.
    #[error("{0}")]
    InvalidArgument(String),
    /// The authorization engine (casbin) failed: a bad model, rule or request.
    #[error("authorization engine error: {0}")]
    Casbin(#[from] casbin::Error),
    /// Hashing or verifying a password failed for a reason other than a wrong password.
    #[error("password hashing error: {0}")]
    PasswordHash(String),
    /// An unexpected internal failure.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The error's class, for mapping to an HTTP status.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Unauthenticated(_) => ErrorKind::Unauthenticated,
            Error::Forbidden(_) => ErrorKind::Forbidden,
            Error::TooManyRequests { .. } => ErrorKind::TooManyRequests,
            Error::InvalidArgument(_) => ErrorKind::InvalidArgument,
            Error::Casbin(_) | Error::PasswordHash(_) | Error::Internal(_) => ErrorKind::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn kinds_and_messages() {
        let e = Error::TooManyRequests {
            retry_after: Duration::from_millis(1500),
        };
        assert_eq!(e.kind(), ErrorKind::TooManyRequests);
        assert_eq!(e.to_string(), "too many attempts: retry in 2 s");
        let e = Error::TooManyRequests {
            retry_after: Duration::from_millis(10),
        };
        assert_eq!(e.to_string(), "too many attempts: retry in 1 s");
        assert_eq!(
            Error::Unauthenticated("x".into()).kind(),
            ErrorKind::Unauthenticated
        );
        assert_eq!(Error::Forbidden("x".into()).kind(), ErrorKind::Forbidden);
        assert_eq!(
            Error::InvalidArgument("x".into()).kind(),
            ErrorKind::InvalidArgument
        );
        assert_eq!(Error::Internal("x".into()).kind(), ErrorKind::Internal);
    }
}
