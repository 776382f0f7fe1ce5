//! Domain types returned by the store. Times are milliseconds since the Unix epoch.

use serde::{Deserialize, Serialize};

pub use crate::page::Page;

/// A namespace for datasets, experiments and models.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Project {
    /// Internal id.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Principal that created it.
    pub created_by: String,
    /// Creation time.
    pub created_at: i64,
}

/// A named collection of immutable dataset versions.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Dataset {
    /// Internal id.
    pub id: i64,
    /// Owning project's name.
    pub project: String,
    /// Name, unique in the project.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Number of versions.
    pub version_count: i64,
    /// `public`, `internal`, `confidential` or `restricted`: the clearance needed to read its rows.
    pub sensitivity: String,
    /// Principal that created it.
    pub created_by: String,
    /// Creation time.
    pub created_at: i64,
}

/// File formats a dataset version can have.
pub use crate::format::DataFormat;

/// One immutable, content-addressed version of a dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetVersion {
    /// Global id (also the lineage node id).
    pub id: i64,
    /// Owning project's name.
    pub project: String,
    /// Dataset name.
    pub dataset: String,
    /// Version number, 1-based, per dataset.
    pub version: i64,
    /// Lower-case hex SHA-256 of the bytes.
    pub content_hash: String,
    /// Size in bytes.
    pub byte_size: i64,
    /// File format.
    pub format: DataFormat,
    /// Arrow schema as JSON (arrow-schema's serde form).
    pub schema: serde_json::Value,
    /// Number of data rows.
    pub row_count: i64,
    /// Object-store URL the bytes were read from, when registered by URL.
    pub source_uri: Option<String>,
    /// Dataset version this one was derived from.
    pub derived_from_id: Option<i64>,
    /// Free text.
    pub description: String,
    /// Principal that created it.
    pub created_by: String,
    /// Creation time.
    pub created_at: i64,
}

/// A group of runs.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Experiment {
    /// Global id.
    pub id: i64,
    /// Owning project's name.
    pub project: String,
    /// Name, unique in the project.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Soft-deletion time, when deleted.
    pub deleted_at: Option<i64>,
    /// Principal that created it.
    pub created_by: String,
    /// Creation time.
    pub created_at: i64,
}

/// Lifecycle states of a run (MLflow's set).
pub const RUN_STATUSES: [&str; 5] = ["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"];

/// One execution of training or evaluation code.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Run {
    /// Internal id, never exposed.
    pub id: i64,
    /// Public id: 32 lower-case hex characters.
    pub uuid: String,
    /// Owning project's name.
    pub project: String,
    /// Experiment id.
    pub experiment_id: i64,
    /// Display name.
    pub name: String,
    /// One of [`RUN_STATUSES`].
    pub status: String,
    /// Start time.
    pub start_time: i64,
    /// End time, once ended.
    pub end_time: Option<i64>,
    /// Soft-deletion time, when deleted.
    pub deleted_at: Option<i64>,
    /// Principal that created it.
    pub created_by: String,
    /// Creation time.
    pub created_at: i64,
}

/// A key/value pair (param or tag) with its provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct KeyValue {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
}

/// A metric point. NaN and ±inf are stored faithfully.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricValue {
    /// Value.
    pub value: f64,
    /// Step (default 0).
    pub step: i64,
    /// Client time in ms.
    pub timestamp: i64,
}

/// A metric point with its key, as logged.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricPoint {
    /// Metric key.
    pub key: String,
    /// Value.
    pub value: f64,
    /// Step (default 0).
    pub step: i64,
    /// Client time in ms.
    pub timestamp: i64,
}

/// A batch of params, tags and metric points for one run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogBatch {
    /// Params (immutable per key).
    pub params: Vec<KeyValue>,
    /// Tags (overwrite).
    pub tags: Vec<KeyValue>,
    /// Metric points (append).
    pub metrics: Vec<MetricPoint>,
}

/// A dataset version a run read or wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct RunDataset {
    /// Dataset version id.
    pub dataset_version_id: i64,
    /// Project of the dataset.
    pub project: String,
    /// Dataset name.
    pub dataset: String,
    /// Version number.
    pub version: i64,
    /// Content hash.
    pub content_hash: String,
    /// Context, e.g. `training` (empty for outputs).
    pub context: String,
}

/// A model version a run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct RunModelOutput {
    /// Model version id.
    pub model_version_id: i64,
    /// Registered model name.
    pub model: String,
    /// Version number.
    pub version: i64,
}

/// A run with everything logged to it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunDetail {
    /// The run.
    pub run: Run,
    /// Params, sorted by key.
    pub params: Vec<KeyValue>,
    /// Tags, sorted by key.
    pub tags: Vec<KeyValue>,
    /// Latest value per metric key, sorted by key.
    pub metrics: Vec<MetricPoint>,
    /// Input dataset versions.
    pub inputs: Vec<RunDataset>,
    /// Output dataset versions.
    pub dataset_outputs: Vec<RunDataset>,
    /// Model versions produced.
    pub model_outputs: Vec<RunModelOutput>,
}

/// A stored file: a run artifact or a model version file.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StoredFile {
    /// Relative path.
    pub path: String,
    /// SHA-256 of the bytes.
    pub content_hash: String,
    /// Size in bytes.
    pub byte_size: i64,
    /// Principal that stored it.
    pub created_by: String,
    /// Time it was stored.
    pub created_at: i64,
}

/// One bucket of a downsampled metric series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricBucket {
    /// First step in the bucket.
    pub start_step: i64,
    /// Last step in the bucket.
    pub end_step: i64,
    /// Number of points.
    pub count: i64,
    /// Smallest finite-or-infinite value (NaN ignored); NaN when all points are NaN.
    pub min: f64,
    /// Largest value (NaN ignored); NaN when all points are NaN.
    pub max: f64,
    /// Value of the first point by step.
    pub first: f64,
    /// Value of the last point by step.
    pub last: f64,
}

/// A named model with versions and aliases.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisteredModel {
    /// Internal id.
    pub id: i64,
    /// Owning project's name.
    pub project: String,
    /// Name, unique in the project.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Highest version number (0 when none).
    pub latest_version: i64,
    /// Current aliases.
    pub aliases: Vec<ModelAlias>,
    /// Tags (mutable metadata, sorted by key).
    pub tags: Vec<KeyValue>,
    /// Principal that created it.
    pub created_by: String,
    /// Creation time.
    pub created_at: i64,
    /// Last change time.
    pub updated_at: i64,
}

/// Registration states of a model version (MLflow's set).
pub const MODEL_VERSION_STATUSES: [&str; 3] =
    ["PENDING_REGISTRATION", "FAILED_REGISTRATION", "READY"];

/// One version of a registered model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelVersion {
    /// Global id (also the lineage node id).
    pub id: i64,
    /// Owning project's name.
    pub project: String,
    /// Registered model name.
    pub model: String,
    /// Version number, 1-based.
    pub version: i64,
    /// Run that produced it.
    pub source_run_id: Option<String>,
    /// Artifact path in the source run.
    pub source_path: Option<String>,
    /// Free text.
    pub description: String,
    /// One of [`MODEL_VERSION_STATUSES`].
    pub status: String,
    /// Tags, sorted by key.
    pub tags: Vec<KeyValue>,
    /// Aliases pointing at it.
    pub aliases: Vec<String>,
    /// Files of the version.
    pub files: Vec<StoredFile>,
    /// Principal that created it.
    pub created_by: String,
    /// Creation time.
    pub created_at: i64,
    /// Last change time.
    pub updated_at: i64,
    /// Why and when it was retired, if it was (it then takes no alias).
    pub retired: Option<crate::promotion::Retirement>,
}

/// A current alias.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelAlias {
    /// Alias name.
    pub alias: String,
    /// Version it points to.
    pub version: i64,
    /// Who set it last.
    pub set_by: String,
    /// When it was set last.
    pub set_at: i64,
}

/// One move of an alias.
#[derive(Debug, Clone, PartialEq)]
pub struct AliasEvent {
    /// Sequence id.
    pub id: i64,
    /// Alias name.
    pub alias: String,
    /// Version before the move (None when newly set).
    pub old_version: Option<i64>,
    /// Version after the move (None when deleted).
    pub new_version: Option<i64>,
    /// Who moved it.
    pub actor: String,
    /// When.
    pub at: i64,
    /// What the move relied on: the gate's verdict when a gate guarded the alias.
    pub evidence: Option<serde_json::Value>,
}

/// Kinds of lineage nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeKind {
    /// A dataset version.
    DatasetVersion,
    /// A run.
    Run,
    /// A model version.
    ModelVersion,
    /// A check report (monitoring).
    Report,
}

impl NodeKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DatasetVersion => "dataset_version",
            Self::Run => "run",
            Self::ModelVersion => "model_version",
            Self::Report => "report",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "dataset_version" => Some(Self::DatasetVersion),
            "run" => Some(Self::Run),
            "model_version" => Some(Self::ModelVersion),
            "report" => Some(Self::Report),
            _ => None,
        }
    }
}

/// A lineage graph node with a readable label.
#[derive(Debug, Clone, PartialEq)]
pub struct LineageNode {
    /// Kind.
    pub kind: NodeKind,
    /// Public id: dataset/model version or report id as decimal, or the run's uuid.
    pub id: String,
    /// Readable label, e.g. `proj/ds@v3` or `drift report #12`.
    pub label: String,
    /// The project the node belongs to.
    pub project: String,
    /// Distance from the start node.
    pub depth: u32,
}

/// A lineage edge from upstream to downstream.
#[derive(Debug, Clone, PartialEq)]
pub struct LineageEdge {
    /// Upstream kind.
    pub from_kind: NodeKind,
    /// Upstream public id.
    pub from_id: String,
    /// Downstream kind.
    pub to_kind: NodeKind,
    /// Downstream public id.
    pub to_id: String,
    /// `input`, `output`, `produced`, `derived`, or `checked` / `reference` (dataset version
    /// to the report that judged it / compared with it).
    pub relation: String,
    /// Context of an input, e.g. `training`.
    pub context: String,
    /// Who recorded it.
    pub created_by: String,
    /// When.
    pub created_at: i64,
}

/// A lineage graph around one node.
#[derive(Debug, Clone, PartialEq)]
pub struct LineageGraph {
    /// Nodes, the start node first.
    pub nodes: Vec<LineageNode>,
    /// Edges between the nodes.
    pub edges: Vec<LineageEdge>,
    /// True when the walk stopped at the node limit and left nodes out.
    pub truncated: bool,
}

/// Which way to walk the lineage graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Towards inputs.
    Upstream,
    /// Towards outputs.
    Downstream,
    /// Both ways.
    Both,
}

/// Which runs a search includes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ViewType {
    /// Runs that are not deleted (default).
    #[default]
    ActiveOnly,
    /// Deleted runs only.
    DeletedOnly,
    /// All runs.
    All,
}
