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
    /// Manage users (works on the database directly; run it where the server's storage is).
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Inspect the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Run a check (profile, quality suite, drift, fairness) on local files or, with
    /// --project, on stored dataset versions; prints the report. Exit status: 0 pass or warn,
    /// 1 fail (2 for usage and data errors).
    Check(CheckArgs),
    /// Evaluate a registered model version on a stored dataset version (docs/models.md):
    /// stores the predictions and an evaluation report, and with --compare-to also evaluates
    /// the version an alias points to and stores the comparison. Exit status: 0 pass or warn,
    /// 1 fail (a fairness condition failed), 2 for usage and data errors.
    Eval(EvalArgs),
}

/// `verity eval ...`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The project.
    #[arg(long)]
    pub project: String,
    /// The model version: `NAME@ALIAS` or `NAME/VERSION`.
    #[arg(long)]
    pub model: String,
    /// The dataset: `NAME` (its latest version) or `NAME@VERSION`.
    #[arg(long)]
    pub dataset: String,
    /// The label column.
    #[arg(long)]
    pub label: Option<String>,
    /// Sensitive columns (comma-separated): metrics per value of each, and fairness.
    #[arg(long, value_delimiter = ',')]
    pub sensitive: Vec<String>,
    /// Every evaluation option as JSON (docs/models.md), or `@path`; --label, --sensitive and
    /// --batch-size override its fields.
    #[arg(long)]
    pub config: Option<String>,
    /// Rows per forward pass.
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Where the forward pass runs: cpu, cuda or auto (a GPU when built with CUDA and one is
    /// present).
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Also evaluate the version this alias points to and store the comparison.
    #[arg(long)]
    pub compare_to: Option<String>,
    /// The dataset the predictions become a version of (default `<model>-predictions`).
    #[arg(long)]
    pub predictions_dataset: Option<String>,
    /// Print the whole report as JSON instead of a summary.
    #[arg(long)]
    pub json: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Storage options.
    #[command(flatten)]
    pub storage: StorageArgs,
}

/// `verity check ...`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// `profile`, `quality`, `drift` or `fairness`.
    #[arg(value_parser = ["profile", "quality", "drift", "fairness"])]
    pub kind: String,
    /// The data to check: a Parquet or CSV file, or with --project a dataset as `NAME` (its
    /// latest version) or `NAME@VERSION`.
    pub current: String,
    /// The data to compare with (drift): a file, or with --project `NAME@VERSION`.
    #[arg(long)]
    pub reference: Option<String>,
    /// The check's options as JSON (docs/monitoring.md), or `@path` to a JSON file. A quality
    /// check needs `{"expectations": [...]}`, a fairness check its columns.
    #[arg(long)]
    pub config: Option<String>,
    /// Read stored dataset versions of this project instead of files.
    #[arg(long)]
    pub project: Option<String>,
    /// With --project: store the report (as the CLI user), linked to its inputs.
    #[arg(long, requires = "project")]
    pub record: bool,
    /// Print the whole report as JSON instead of a summary.
    #[arg(long)]
    pub json: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Storage options (with --project).
    #[command(flatten)]
    pub storage: StorageArgs,
}

/// `verity user ...`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from stdin with --password-stdin, else generated
    /// and printed once.
    Create {
        /// Login name.
        name: String,
        /// Clearance: public, internal, confidential or restricted.
        #[arg(long, default_value = "internal")]
        clearance: String,
        /// Make the user a global administrator.
        #[arg(long)]
        admin: bool,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
        /// Storage options.
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// List users.
    List {
        /// Storage options.
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Disable a user: sessions end, tokens stop working.
    Disable {
        /// Login name.
        name: String,
        /// Storage options.
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Set a new password (read from stdin with --password-stdin, else generated and printed).
    ResetPassword {
        /// Login name.
        name: String,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
        /// Storage options.
        #[command(flatten)]
        storage: StorageArgs,
    },
}

/// `verity token ...`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user and print its secret once.
    Create {
        /// Owner.
        #[arg(long)]
        user: String,
        /// Label.
        #[arg(long, default_value = "cli")]
        name: String,
        /// Limit the token to one project.
        #[arg(long)]
        project: Option<String>,
        /// Allow reads only.
        #[arg(long)]
        read_only: bool,
        /// Expiry in days.
        #[arg(long)]
        expires_in_days: Option<u32>,
        /// Storage options.
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Revoke a token by id (effective on the next request).
    Revoke {
        /// Token id.
        id: i64,
        /// Storage options.
        #[command(flatten)]
        storage: StorageArgs,
    },
}

/// `verity audit ...`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chain; exit status 1 and the first broken sequence number when it
    /// does not check out.
    Verify {
        /// Storage options.
        #[command(flatten)]
        storage: StorageArgs,
    },
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

    /// `enabled` (default): every request needs an API token or a session. `disabled`:
    /// anonymous single-user mode, everybody acts as --local-principal with every right.
    #[arg(long, env = "VERITY_AUTH", value_enum, default_value = "enabled")]
    pub auth: crate::auth::AuthMode,

    /// The principal recorded as the actor of every change when --auth is disabled.
    #[arg(long, env = "VERITY_LOCAL_PRINCIPAL", default_value = "local")]
    pub local_principal: String,

    /// The project that MLflow clients (`/api/2.0/mlflow`) log into; created on first use by
    /// a caller allowed to create projects.
    #[arg(long, env = "VERITY_MLFLOW_PROJECT", default_value = "default")]
    pub mlflow_project: String,

    /// Lifetime of a dashboard session, in hours.
    #[arg(long, env = "VERITY_SESSION_HOURS", default_value_t = 12)]
    pub session_hours: u64,

    /// Mark session cookies `Secure` (set it when clients reach Verity over HTTPS; a request
    /// with `X-Forwarded-Proto: https` gets it anyway).
    #[arg(long, env = "VERITY_SECURE_COOKIES")]
    pub secure_cookies: bool,

    /// Do not run monitor jobs, schedules or webhook deliveries in this process (another
    /// `verity serve` sharing the database does).
    #[arg(long, env = "VERITY_NO_WORKER")]
    pub no_worker: bool,

    /// How long a worker holds a claimed monitor job or webhook delivery without renewing it,
    /// in milliseconds; after a crash, another process takes the job over once it ends.
    #[arg(long, env = "VERITY_JOB_LEASE_MS", default_value_t = 60_000)]
    pub job_lease_ms: u64,

    /// Pause between polls of an empty job queue, in milliseconds.
    #[arg(long, env = "VERITY_WORKER_POLL_MS", default_value_t = 1_000)]
    pub worker_poll_ms: u64,

    /// First retry delay of a failed job or webhook delivery, in milliseconds; it doubles with
    /// every attempt (at most an hour).
    #[arg(long, env = "VERITY_RETRY_BASE_MS", default_value_t = 5_000)]
    pub retry_base_ms: u64,

    /// Attempts a webhook delivery gets before it is marked failed.
    #[arg(long, env = "VERITY_WEBHOOK_ATTEMPTS", default_value_t = 6)]
    pub webhook_attempts: i64,

    /// Let webhooks reach loopback, private and link-local addresses (refused by default, so
    /// that a webhook cannot probe the server's own network).
    #[arg(long, env = "VERITY_WEBHOOK_ALLOW_PRIVATE")]
    pub webhook_allow_private: bool,

    /// Reverse proxies in front of Verity: addresses or CIDR networks, comma-separated. For a
    /// connection from one of them the client's address is read from `X-Forwarded-For` (for
    /// the login limits and the audit trail); from anyone else the header is ignored.
    #[arg(long, env = "VERITY_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<String>,

    /// Host names (or addresses) clients use to reach this server besides loopback ones,
    /// comma-separated. With `--auth disabled` requests for any other `Host` are refused, so
    /// that a web page cannot reach the server by rebinding its DNS name to 127.0.0.1.
    #[arg(long, env = "VERITY_PUBLIC_HOSTS", value_delimiter = ',')]
    pub public_host: Vec<String>,

    /// How long a connection may wait, in milliseconds, until a request's headers are complete:
    /// from its start, and while it idles between requests (as nginx's
    /// `client_header_timeout` and `keepalive_timeout`); slower and silent connections are
    /// closed.
    #[arg(long, env = "VERITY_HEADER_READ_TIMEOUT_MS", default_value_t = 60_000)]
    pub header_read_timeout_ms: u64,

    /// How long a request body may take, in milliseconds, before each byte counts; every
    /// --body-min-bytes-per-second bytes received add a second (so a trickle times out and a
    /// large upload at a reasonable rate does not). A body that misses it is answered 408.
    #[arg(long, env = "VERITY_BODY_READ_TIMEOUT_MS", default_value_t = 30_000)]
    pub body_read_timeout_ms: u64,

    /// See --body-read-timeout-ms.
    #[arg(long, env = "VERITY_BODY_MIN_BYTES_PER_SECOND", default_value_t = 1024)]
    pub body_min_bytes_per_second: u64,

    /// Storage quota of every project in bytes: dataset versions, run artifacts and uploaded
    /// model files that would pass it are refused (413 `quota_exceeded`). Off by default.
    #[arg(long, env = "VERITY_PROJECT_QUOTA_BYTES")]
    pub project_quota_bytes: Option<u64>,

    /// Memory one check or evaluation may use, in MiB (at least 4); one that needs more fails
    /// with 413 `check_memory_exceeded` instead of exhausting the server.
    #[arg(long, env = "VERITY_CHECK_MEMORY_MB", default_value_t = 2048)]
    pub check_memory_mb: usize,

    /// How long an MLflow multipart upload stays open, in seconds; then its staged parts are
    /// deleted.
    #[arg(long, env = "VERITY_MULTIPART_TTL_SECS", default_value_t = 3600)]
    pub multipart_ttl_secs: u64,

    /// Storage options.
    #[command(flatten)]
    pub storage: StorageArgs,
}
