//! The store's error type.

use crate::search::ParseError;

/// Result with the store's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Coarse error classes; the API maps each to one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The named entity does not exist.
    NotFound,
    /// An entity with the same identity already exists.
    AlreadyExists,
    /// The request conflicts with the stored state (an immutable value, a foreign version).
    Conflict,
    /// The input is malformed or breaks a rule.
    InvalidArgument,
    /// The payload is larger than the configured limit.
    TooLarge,
    /// A backing service (database, object store) is unreachable.
    Unavailable,
    /// A bug or an unexpected failure.
    Internal,
}

/// Everything the store can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The named entity does not exist.
    #[error("{entity} '{name}' not found")]
    NotFound {
        /// Entity kind, e.g. `project`.
        entity: &'static str,
        /// The name or id that was looked up.
        name: String,
    },
    /// An entity with this identity exists already.
    #[error("{entity} '{name}' already exists")]
    AlreadyExists {
        /// Entity kind, e.g. `project`.
        entity: &'static str,
        /// The conflicting name.
        name: String,
    },
    /// A change that contradicts stored, immutable state.
    #[error("{0}")]
    Conflict(String),
    /// Input that breaks a rule; the message says which.
    #[error("{0}")]
    InvalidArgument(String),
    /// A search filter or order clause that does not parse.
    #[error("invalid filter: {0}")]
    InvalidFilter(#[from] ParseError),
    /// An upload over the configured maximum size.
    #[error("payload exceeds the maximum size of {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// Recording the bytes would pass the project's storage quota.
    #[error(
        "project '{project}' holds {used} bytes; {adding} more bytes would pass its storage quota of {quota} bytes"
    )]
    QuotaExceeded {
        /// The project.
        project: String,
        /// Bytes recorded now.
        used: u64,
        /// Bytes the request would add.
        adding: u64,
        /// The quota.
        quota: u64,
    },
    /// A differentially private release that no budget allows (or would pass one).
    #[error("{0}")]
    BudgetExceeded(String),
    /// The object store holding a registered url did not answer (the detail is logged).
    #[error("reading '{path}' from its object store failed: try again later")]
    SourceUnavailable {
        /// The object's path.
        path: String,
    },
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Applying migrations failed.
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The object store failed.
    #[error("object store error: {0}")]
    ObjectStore(#[from] object_store::Error),
    /// A local I/O error.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// An unexpected internal failure.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Builds a [`Error::NotFound`].
    pub fn not_found(entity: &'static str, name: impl ToString) -> Self {
        Self::NotFound {
            entity,
            name: name.to_string(),
        }
    }

    /// Builds an [`Error::InvalidArgument`].
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidArgument(message.into())
    }

    /// The class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound { .. } => ErrorKind::NotFound,
            Self::AlreadyExists { .. } => ErrorKind::AlreadyExists,
            Self::Conflict(_) | Self::BudgetExceeded(_) => ErrorKind::Conflict,
            Self::InvalidArgument(_) | Self::InvalidFilter(_) => ErrorKind::InvalidArgument,
            Self::TooLarge { .. } | Self::QuotaExceeded { .. } => ErrorKind::TooLarge,
            Self::SourceUnavailable { .. } => ErrorKind::Unavailable,
            Self::Database(sqlx::Error::PoolTimedOut | sqlx::Error::Io(_)) => {
                ErrorKind::Unavailable
            }
            // PostgreSQL gave up a transaction to break a deadlock or a serialization
            // conflict: running it again can succeed.
            Self::Database(sqlx::Error::Database(db))
                if matches!(db.code().as_deref(), Some("40P01" | "40001")) =>
            {
                ErrorKind::Unavailable
            }
            Self::ObjectStore(object_store::Error::NotFound { .. }) => ErrorKind::NotFound,
            Self::Database(_)
            | Self::Migrate(_)
            | Self::ObjectStore(_)
            | Self::Io(_)
            | Self::Internal(_) => ErrorKind::Internal,
        }
    }

    /// A stable machine-readable code, e.g. `project_not_found`.
    pub fn code(&self) -> String {
        match self {
            Self::NotFound { entity, .. } => format!("{entity}_not_found"),
            Self::AlreadyExists { entity, .. } => format!("{entity}_already_exists"),
            Self::Conflict(_) => "conflict".into(),
            Self::BudgetExceeded(_) => "privacy_budget_exceeded".into(),
            Self::InvalidArgument(_) => "invalid_argument".into(),
            Self::InvalidFilter(_) => "invalid_filter".into(),
            Self::TooLarge { .. } => "payload_too_large".into(),
            Self::QuotaExceeded { .. } => "quota_exceeded".into(),
            Self::ObjectStore(object_store::Error::NotFound { .. }) => "blob_not_found".into(),
            Self::SourceUnavailable { .. } => "source_unavailable".into(),
            _ if self.kind() == ErrorKind::Unavailable => "unavailable".into(),
            _ => "internal".into(),
        }
    }
}

/// True when a database error is a unique-constraint violation.
pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Maps a unique violation to [`Error::AlreadyExists`], everything else to [`Error::Database`].
pub(crate) fn map_unique<'a>(
    entity: &'static str,
    name: &'a str,
) -> impl FnOnce(sqlx::Error) -> Error + 'a {
    move |err| {
        if is_unique_violation(&err) {
            Error::AlreadyExists {
                entity,
                name: name.to_string(),
            }
        } else {
            Error::Database(err)
        }
    }
}
