//! The monitor crate's error type.

/// Result with the monitor crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Coarse error classes; the API maps each to one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input cannot be checked as asked (wrong types, missing columns, empty data).
    InvalidArgument,
    /// A bug or an unexpected failure.
    Internal,
}

/// Everything the monitor crate can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input that cannot be checked as asked; the message says why.
    #[error("{0}")]
    InvalidArgument(String),
    /// An unexpected failure.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The error's class.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidArgument(_) => ErrorKind::InvalidArgument,
            Error::Internal(_) => ErrorKind::Internal,
        }
    }

    /// An [`Error::InvalidArgument`].
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidArgument(message.into())
    }
}
