//! Command-line configuration; every flag is also an environment variable.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Verity: ML governance, versioning and monitoring.
#[derive(Debug, Parser)]
#[command(name = "verity", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (applies pending migrations first).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(StorageArgs),
}

/// Where metadata and bytes live.
#[derive(Debug, Clone, Args)]
pub struct StorageArgs {
    /// Directory for the embedded defaults: the SQLite database (verity.db) and, unless
    /// --object-store is given, the blobs (blobs/). Created when missing.
    #[arg(long, env = "VERITY_DATA_DIR", default_value = "./verity-data")]
    pub data_dir: PathBuf,

    /// Metadata database: `sqlite:///path/verity.db` or `postgres://user@host:5432/db`.
    /// Default: SQLite in the data directory.
    #[arg(long, env = "VERITY_DATABASE_URL")]
    pub database_url: Option<String>,

    /// Object store for artifacts and dataset bytes: `s3://bucket/prefix` (credentials and
    /// endpoint from AWS_* variables), `gs://`, `az://` (when built with those features),
    /// `memory://` (lost on exit) or `file:///abs/dir`. Default: <data-dir>/blobs.
    #[arg(long, env = "VERITY_OBJECT_STORE")]
    pub object_store: Option<String>,

    /// Largest upload (dataset version, artifact, model file) in bytes.
    #[arg(long, env = "VERITY_MAX_UPLOAD_BYTES", default_value_t = 50 * 1024 * 1024 * 1024)]
    pub max_upload_bytes: u64,
}

/// Options of `verity serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the chosen address is printed).
    #[arg(long, env = "VERITY_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,

    /// Largest JSON request body in bytes (batch logging included); uploads stream and are
    /// bounded by --max-upload-bytes instead.
    #[arg(long, env = "VERITY_MAX_BODY_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub max_body_bytes: usize,

    /// The principal recorded as the actor of every change until access control is configured.
    #[arg(long, env = "VERITY_LOCAL_PRINCIPAL", default_value = "local")]
    pub local_principal: String,

    /// Storage options.
    #[command(flatten)]
    pub storage: StorageArgs,
}
