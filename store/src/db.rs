//! Connection pools, migrations and the [`Store`] handle.
//!
//! Both backends are reached through `sqlx::Any` with one SQL text: every column is an
//! integer, a float or text, which Any carries faithfully on SQLite and PostgreSQL, and
//! placeholders are `$n` on both (see docs/adr/0001-sql-over-sqlx-any.md).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor as _};

use crate::{BlobStore, Error, Result};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// Which SQL database backs the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file (the default).
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

impl Backend {
    /// Picks the backend from a database URL.
    pub fn from_url(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(Error::invalid(
                "database url must start with sqlite: or postgres://",
            ))
        }
    }
}

/// The metadata store and the blob store behind one cheap-to-clone handle.
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) backend: Backend,
    /// Pool for reads (several connections).
    pub(crate) read: AnyPool,
    /// Pool for writes: a single connection on SQLite (writes serialise there anyway, and one
    /// writer avoids busy errors), the same pool as `read` on PostgreSQL.
    pub(crate) write: AnyPool,
    /// SQLite only: a native pool with a large row buffer for reads of many rows (metric
    /// history). Any cannot set the buffer, and its default of 50 rows makes the reader and the
    /// database thread hand over every few rows, which halves the throughput.
    pub(crate) bulk_read: Option<sqlx::SqlitePool>,
    pub(crate) blobs: BlobStore,
    /// Every project's storage quota in bytes; 0 for none.
    pub(crate) project_quota: std::sync::atomic::AtomicU64,
}

/// A SQLite URL with `mode=ro` in place of any other mode.
fn read_only_sqlite_url(url: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut params: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("mode="))
        .collect();
    params.push("mode=ro");
    format!("{base}?{}", params.join("&"))
}

/// The default SQLite URL for a data directory.
pub fn sqlite_url_for(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("verity.db").display())
}

impl Store {
    /// Connects to the database at `database_url` and uses `blobs` for bytes. Does not migrate.
    pub async fn connect(database_url: &str, blobs: BlobStore) -> Result<Self> {
        install_default_drivers();
        let backend = Backend::from_url(database_url)?;
        // A SQLite file is created on first use, as with the default data directory.
        let owned_url;
        let database_url = if backend == Backend::Sqlite && !database_url.contains("mode=") {
            let separator = if database_url.contains('?') { '&' } else { '?' };
            owned_url = format!("{database_url}{separator}mode=rwc");
            owned_url.as_str()
        } else {
            database_url
        };
        let mut bulk_read = None;
        let (read, write) = match backend {
            Backend::Sqlite => {
                let read = sqlite_pool(database_url, 4).await?;
                let write = sqlite_pool(database_url, 1).await?;
                // WAL is a property of the database file: set once, kept.
                sqlx::query("PRAGMA journal_mode=WAL")
                    .execute(&write)
                    .await?;
                bulk_read = Some(sqlite_bulk_read_pool(database_url).await?);
                (read, write)
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect(database_url)
                    .await?;
                (pool.clone(), pool)
            }
        };
        Ok(Self {
            inner: Arc::new(Inner {
                backend,
                read,
                write,
                bulk_read,
                blobs,
                project_quota: Default::default(),
            }),
        })
    }

    /// Connects to an existing database for reading only (`verity audit verify`): SQLite is
    /// opened read-only (a missing file is an error, not a new database), PostgreSQL sessions
    /// are read-only; nothing is migrated.
    pub async fn connect_read_only(database_url: &str, blobs: BlobStore) -> Result<Self> {
        install_default_drivers();
        let backend = Backend::from_url(database_url)?;
        let pool = match backend {
            Backend::Sqlite => {
                let url = read_only_sqlite_url(database_url);
                AnyPoolOptions::new()
                    .max_connections(1)
                    .connect(&url)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(10))
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            sqlx::query("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
                                .execute(conn)
                                .await
                                .map(drop)
                        })
                    })
                    .connect(database_url)
                    .await?
            }
        };
        Ok(Self {
            inner: Arc::new(Inner {
                backend,
                read: pool.clone(),
                write: pool,
                bulk_read: None,
                blobs,
                project_quota: Default::default(),
            }),
        })
    }

    /// Starts a write transaction. On SQLite it is `BEGIN IMMEDIATE`: the write lock is taken
    /// up front (waiting up to the busy timeout), so a transaction that reads before it writes
    /// cannot fail with SQLITE_BUSY when another process (the CLI, a second server) committed
    /// in between.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.inner.backend {
            Backend::Sqlite => self.inner.write.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.inner.write.begin().await?,
        })
    }

    /// Applies pending migrations for the backend's dialect.
    pub async fn migrate(&self) -> Result<()> {
        let migrator = match self.inner.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.inner.write).await?;
        Ok(())
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    /// The blob store.
    pub fn blobs(&self) -> &BlobStore {
        &self.inner.blobs
    }

    /// Checks that the database and the object store answer.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.inner.read).await?;
        self.inner.blobs.ping().await
    }

    /// Closes the pools.
    pub async fn close(&self) {
        // SQLite keeps planner statistics only when asked; `optimize` gathers what the queries
        // of this session showed to be worth it (cheap, and recommended before closing).
        if self.inner.backend == Backend::Sqlite
            && let Err(e) = sqlx::query("PRAGMA optimize")
                .execute(&self.inner.write)
                .await
        {
            tracing::warn!(error = %e, "PRAGMA optimize failed");
        }
        self.inner.read.close().await;
        self.inner.write.close().await;
        if let Some(pool) = &self.inner.bulk_read {
            pool.close().await;
        }
    }

    pub(crate) fn dialect(&self) -> crate::search::Dialect {
        match self.inner.backend {
            Backend::Sqlite => crate::search::Dialect::Sqlite,
            Backend::Postgres => crate::search::Dialect::Postgres,
        }
    }
}

async fn sqlite_bulk_read_pool(url: &str) -> Result<sqlx::SqlitePool> {
    use std::str::FromStr as _;
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)?
        .row_buffer_size(4096)
        .busy_timeout(Duration::from_secs(10))
        .read_only(true);
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(options)
        .await?;
    Ok(pool)
}

async fn sqlite_pool(url: &str, max: u32) -> Result<AnyPool> {
    let pool = AnyPoolOptions::new()
        .max_connections(max)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                for pragma in [
                    "PRAGMA foreign_keys = ON",
                    "PRAGMA busy_timeout = 10000",
                    "PRAGMA synchronous = NORMAL",
                    "PRAGMA case_sensitive_like = ON",
                ] {
                    conn.execute(pragma).await?;
                }
                Ok(())
            })
        })
        .connect(url)
        .await?;
    Ok(pool)
}

/// Tables whose rows serialise concurrent writers of their children.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LockTable {
    /// A run (params, tags, metrics, artifacts).
    Runs,
    /// A dataset (version numbers).
    Datasets,
    /// A registered model (version numbers, aliases).
    RegisteredModels,
    /// A monitor (its alert: at most one unresolved).
    Monitors,
    /// An MLflow logged model (its tags and params).
    LoggedModels,
    /// A project (its storage quota).
    Projects,
}

/// Locks a row until the transaction ends, so that concurrent writers of the same parent take
/// turns (next version number, param immutability). SQLite needs nothing: it has one writer.
pub(crate) async fn lock_row(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    table: LockTable,
    id: i64,
) -> Result<()> {
    if backend == Backend::Postgres {
        let sql = match table {
            LockTable::Runs => "SELECT id FROM runs WHERE id = $1 FOR UPDATE",
            LockTable::Datasets => "SELECT id FROM datasets WHERE id = $1 FOR UPDATE",
            LockTable::RegisteredModels => {
                "SELECT id FROM registered_models WHERE id = $1 FOR UPDATE"
            }
            LockTable::Monitors => "SELECT id FROM monitors WHERE id = $1 FOR UPDATE",
            LockTable::LoggedModels => "SELECT id FROM logged_models WHERE id = $1 FOR UPDATE",
            // NO KEY UPDATE: it serialises quota checks without conflicting with the KEY SHARE
            // locks that inserts of the project's children take.
            LockTable::Projects => "SELECT id FROM projects WHERE id = $1 FOR NO KEY UPDATE",
        };
        sqlx::query(sql).bind(id).execute(conn).await?;
    }
    Ok(())
}
