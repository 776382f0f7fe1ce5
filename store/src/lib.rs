//! Verity persistence: the metadata store (SQL over SQLite or PostgreSQL) and the
//! content-addressed blob store (object_store).
//!
//! This is the only crate that writes SQL. Callers get domain types from [`model`] and errors
//! from [`Error`], whose [`Error::kind`] the API maps to an HTTP status and a stable code.

mod alerts;
mod artifacts;
pub mod audit;
mod blob;
pub mod compliance;
mod datasets;
mod db;
mod error;
mod experiments;
mod format;
pub mod identity;
mod jobs;
mod lineage;
mod logged_models;
pub mod masking;
mod metrics;
pub mod model;
mod models;
pub mod monitoring;
mod monitors;
mod page;
pub mod policies;
pub mod privacy;
mod projects;
pub mod promotion;
mod quota;
mod reports;
mod runs;
pub mod search;
mod tags;
pub mod validate;
mod webhooks;

pub use alerts::PayloadFn;
pub use artifacts::ArtifactEntry;
pub use audit::{Actor, AuditEvent, AuditFilter, AuditVerification, NewEvent, Outcome};
pub use blob::{BlobStore, StagedBlob, open_url, supported_schemes};
pub use datasets::{AddedVersion, NewDatasetVersion, VersionSource, schema_to_json};
pub use db::{Backend, Store, sqlite_url_for};
pub use error::{Error, ErrorKind, Result};
pub use format::DataFormat;
pub use identity::{ApiToken, KeptCredential, NewToken, Session, User, UserUpdate};
pub use jobs::WORKER_STOPPED;
pub use lineage::{MAX_DEPTH, MAX_NODES};
pub use logged_models::{LOGGED_MODEL_STATUSES, LoggedModel, MlflowDatasetInput, NewLoggedModel};
pub use metrics::{HistoryChunk, MAX_BUCKETS, MAX_HISTORY_PAGE};
pub use models::{ModelSource, NewModelVersion, VersionRef};
pub use monitoring::{
    Alert, AlertChange, CHECK_KINDS, Delivery, DeliveryAttempt, Job, ModelLinks, Monitor,
    MonitorUpdate, NewMonitor, NewReport, Report, ReportFilter, Webhook,
};
pub use page::{Cursor, PageRequest};
pub use policies::PolicyRule;
pub use runs::{NewRun, RunSearch, RunUpdate};
pub use tags::TagTarget;

/// Milliseconds since the Unix epoch, the unit of every stored time.
pub fn now_ms() -> i64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
