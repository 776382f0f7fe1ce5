//! The monitor crate's error type.

/// Result with the monitor crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Coarse error classes; the API maps each to one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input cannot be checked as asked (wrong types, missing columns, empty data).
    InvalidArgument,
    /// The work needs more memory than the server allows one check or evaluation; the same
    /// request fails again unless it asks for less (fewer columns, a smaller version).
    ResourcesExhausted,
    /// A bug or an unexpected failure.
    Internal,
}

/// Everything the monitor crate can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input that cannot be checked as asked; the message says why.
    #[error("{0}")]
    InvalidArgument(String),
    /// The work needed more memory than its session's limit
    /// ([`Limits::memory_bytes`](crate::source::Limits::memory_bytes)). The message names the
    /// limit only: never a data value or the query engine's own words.
    #[error(
        "the check needs more memory than the server allows checks{}: check fewer columns or a \
         smaller version",
        limit_bytes.map(|b| format!(" (limit {})", human_bytes(b))).unwrap_or_default()
    )]
    ResourcesExhausted {
        /// The session's memory limit in bytes, when known.
        limit_bytes: Option<usize>,
    },
    /// An unexpected failure.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The error's class.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidArgument(_) => ErrorKind::InvalidArgument,
            Error::ResourcesExhausted { .. } => ErrorKind::ResourcesExhausted,
            Error::Internal(_) => ErrorKind::Internal,
        }
    }

    /// An [`Error::InvalidArgument`].
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidArgument(message.into())
    }
}

/// `2048 MiB`, `64 KiB`, `100 bytes`: whole units, rounded down.
fn human_bytes(bytes: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * KIB;
    if bytes >= MIB {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_exhausted_names_the_limit_only() {
        let err = Error::ResourcesExhausted {
            limit_bytes: Some(2 << 30),
        };
        assert_eq!(err.kind(), ErrorKind::ResourcesExhausted);
        assert_eq!(
            err.to_string(),
            "the check needs more memory than the server allows checks (limit 2048 MiB): check \
             fewer columns or a smaller version"
        );
        let small = Error::ResourcesExhausted {
            limit_bytes: Some(64 * 1024),
        };
        assert!(small.to_string().contains("(limit 64 KiB)"), "{small}");
        let unknown = Error::ResourcesExhausted { limit_bytes: None };
        assert_eq!(
            unknown.to_string(),
            "the check needs more memory than the server allows checks: check fewer columns or a \
             smaller version"
        );
    }
}
