//! Reading dataset versions with DataFusion, straight from the object store, as streams of
//! record batches (nothing loads a whole dataset into memory).
//!
//! Every session runs under a memory limit ([`Limits`]; [`DEFAULT_MEMORY_LIMIT`] unless
//! given): what its queries' operators hold (aggregations, distinct sets, sorts, joins) and
//! what checks read into memory themselves is counted against it, and work that would go over
//! it fails with [`Error::ResourcesExhausted`]. Nothing spills to disk: dataset values never
//! land in local temporary files.

use std::sync::Arc;

use datafusion::datasource::file_format::options::{CsvReadOptions, ParquetReadOptions};
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::{
    GreedyMemoryPool, MemoryConsumer, MemoryPool, MemoryReservation,
};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use object_store::ObjectStore;
use verity_store::DataFormat;

use crate::{Error, Result};

/// The URL under which Verity's blob store is registered in a session.
const BLOBS_URL: &str = "verity://blobs/";

/// The memory a session's queries may hold when no limit is given: 2 GiB.
pub const DEFAULT_MEMORY_LIMIT: usize = 2 * 1024 * 1024 * 1024;

/// Limits on what a session's queries may use.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Bytes the session's work may hold at once, all its queries together: what DataFusion's
    /// operators reserve (hash tables of aggregations and distinct counts, sort buffers, join
    /// builds) and what checks read into memory themselves (a drift check's numeric columns,
    /// an evaluation's per-row results). Going over it fails the work with
    /// [`Error::ResourcesExhausted`]. Batches in flight (a few thousand rows per partition)
    /// and Parquet metadata are not counted. Below about 1 MiB even a small version's profile
    /// fails (aggregations reserve some memory up front). Defaults to
    /// [`DEFAULT_MEMORY_LIMIT`].
    pub memory_bytes: usize,
    /// When set, the sessions made with these limits share one pool of `memory_bytes`: the
    /// limit holds for all of them together (a server's checks), not for each.
    shared: Option<SharedPool>,
}

/// One memory pool that several sessions draw from.
#[derive(Clone)]
struct SharedPool(Arc<dyn MemoryPool>);

impl std::fmt::Debug for SharedPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedPool").finish_non_exhaustive()
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::memory(DEFAULT_MEMORY_LIMIT)
    }
}

impl Limits {
    /// Limits holding each session's queries to `bytes` of memory.
    pub fn memory(bytes: usize) -> Self {
        Self {
            memory_bytes: bytes,
            shared: None,
        }
    }

    /// Limits holding the queries of every session made with them (and their clones) to
    /// `bytes` of memory together: concurrent checks cannot multiply the limit.
    pub fn shared_memory(bytes: usize) -> Self {
        Self {
            memory_bytes: bytes,
            shared: Some(SharedPool(Arc::new(GreedyMemoryPool::new(bytes)))),
        }
    }

    /// Whether the memory is shared by every session made with these limits.
    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }
}

/// A DataFusion session that can read Verity's blobs.
#[derive(Clone)]
pub struct Session {
    ctx: SessionContext,
    limits: Limits,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").finish_non_exhaustive()
    }
}

/// A dataset version to read: where its bytes are and in which format.
#[derive(Debug, Clone)]
pub struct Source {
    /// The blob's key in the store (`sha256/<2>/<hash>`).
    pub key: String,
    /// Parquet or CSV.
    pub format: DataFormat,
}

impl Source {
    /// The source of a stored dataset version.
    pub fn of_version(version: &verity_store::model::DatasetVersion) -> Self {
        Self {
            key: verity_store::BlobStore::key(&version.content_hash).to_string(),
            format: version.format,
        }
    }
}

impl Session {
    /// A session reading from `blobs` (the server's object store), under the default
    /// [`Limits`] ([`DEFAULT_MEMORY_LIMIT`]).
    pub fn new(blobs: Arc<dyn ObjectStore>) -> Result<Self> {
        Self::new_with_limits(blobs, Limits::default())
    }

    /// A session reading from `blobs` under `limits`.
    pub fn new_with_limits(blobs: Arc<dyn ObjectStore>, limits: Limits) -> Result<Self> {
        // Batches of 8192 rows keep memory flat; two partitions match the machines we run on
        // and keep the per-query overhead low.
        Self::with_layout(blobs, 8192, 2, limits)
    }

    /// A session that reads rows in their stored order, `batch_size` rows per batch (one
    /// partition), for work that numbers rows, such as a model's predictions; under the
    /// default [`Limits`].
    pub fn sequential(blobs: Arc<dyn ObjectStore>, batch_size: usize) -> Result<Self> {
        Self::sequential_with_limits(blobs, batch_size, Limits::default())
    }

    /// [`Session::sequential`] under `limits`.
    pub fn sequential_with_limits(
        blobs: Arc<dyn ObjectStore>,
        batch_size: usize,
        limits: Limits,
    ) -> Result<Self> {
        Self::with_layout(blobs, batch_size.max(1), 1, limits)
    }

    /// The limits this session runs under.
    pub fn limits(&self) -> Limits {
        self.limits.clone()
    }

    /// Rows per batch its reads return.
    pub(crate) fn batch_size(&self) -> usize {
        self.ctx.copied_config().batch_size()
    }

    fn with_layout(
        blobs: Arc<dyn ObjectStore>,
        batch_size: usize,
        partitions: usize,
        limits: Limits,
    ) -> Result<Self> {
        let mut config = SessionConfig::new()
            .with_batch_size(batch_size)
            .with_target_partitions(partitions)
            .with_information_schema(false);
        // Parquet statistics leave NaN out of min/max, and DataFusion 55 then reads a column
        // whose other values are all equal as that constant, NaN rows included. Checks and
        // evaluations must see every value, so plans do not use file statistics.
        config.options_mut().execution.collect_statistics = false;
        // A greedy pool: operators that cannot spill (distinct counts, final aggregates) get
        // what is left, first come first served. Spilling is off, so a query over the limit
        // fails rather than writing dataset values to local disk.
        let builder = match &limits.shared {
            Some(SharedPool(pool)) => RuntimeEnvBuilder::new().with_memory_pool(Arc::clone(pool)),
            None => RuntimeEnvBuilder::new().with_memory_limit(limits.memory_bytes, 1.0),
        };
        let runtime = builder
            .with_disk_manager_builder(
                DiskManagerBuilder::default().with_mode(DiskManagerMode::Disabled),
            )
            .build_arc()
            .map_err(|e| Error::Internal(e.to_string()))?;
        let ctx = SessionContext::new_with_config_rt(config, runtime);
        let url = url::Url::parse(BLOBS_URL).map_err(|e| Error::Internal(e.to_string()))?;
        ctx.register_object_store(&url, blobs);
        Ok(Self { ctx, limits })
    }

    /// Counts memory the crate itself holds (columns read into vectors, per-row results)
    /// against this session's limit, as `name`; released when the reservation drops. Grow it
    /// with [`reserve`].
    pub(crate) fn reservation(&self, name: &str) -> MemoryReservation {
        MemoryConsumer::new(name).register(&self.ctx.runtime_env().memory_pool)
    }

    /// Runs `work`, naming this session's memory limit in an [`Error::ResourcesExhausted`]
    /// it fails with (public entry points wrap their work in it).
    pub(crate) async fn bounded<T>(
        &self,
        work: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        work.await.map_err(|err| match err {
            Error::ResourcesExhausted { limit_bytes: None } => Error::ResourcesExhausted {
                limit_bytes: Some(self.limits.memory_bytes),
            },
            other => other,
        })
    }

    /// Registers `source` as table `name` (replacing a table of that name).
    pub async fn register(&self, name: &str, source: &Source) -> Result<()> {
        let path = format!("{BLOBS_URL}{}", source.key);
        let _ = self.ctx.deregister_table(name).map_err(df_error)?;
        match source.format {
            DataFormat::Parquet => {
                // Blobs have no extension: accept any file name.
                let options = ParquetReadOptions {
                    file_extension: "",
                    ..ParquetReadOptions::default()
                };
                self.ctx
                    .register_parquet(name, &path, options)
                    .await
                    .map_err(df_error)?;
            }
            DataFormat::Csv => {
                let options = CsvReadOptions::new()
                    .has_header(true)
                    .file_extension("")
                    .schema_infer_max_records(10_000);
                self.ctx
                    .register_csv(name, &path, options)
                    .await
                    .map_err(df_error)?;
            }
        }
        Ok(())
    }

    /// The DataFusion context (crate-internal: callers get domain results).
    pub(crate) fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// Runs a query and collects its (small, aggregated) result.
    pub(crate) async fn query(
        &self,
        sql: &str,
    ) -> Result<Vec<datafusion::arrow::record_batch::RecordBatch>> {
        self.ctx
            .sql(sql)
            .await
            .map_err(df_error)?
            .collect()
            .await
            .map_err(df_error)
    }

    /// The schema of a registered table.
    pub async fn schema(&self, name: &str) -> Result<datafusion::arrow::datatypes::SchemaRef> {
        let table = self.ctx.table(name).await.map_err(df_error)?;
        Ok(Arc::new(table.schema().as_arrow().clone()))
    }
}

/// DataFusion errors: reading or planning problems with the data are the caller's input;
/// going over the memory limit, wherever it is wrapped, is [`Error::ResourcesExhausted`]
/// (without the limit, which [`Session::bounded`] adds, and without DataFusion's message).
pub(crate) fn df_error(err: datafusion::error::DataFusionError) -> Error {
    use datafusion::error::DataFusionError as E;
    if is_resources_exhausted(&err) {
        return Error::ResourcesExhausted { limit_bytes: None };
    }
    match &err {
        E::Plan(_) | E::SQL(..) | E::SchemaError(..) | E::ArrowError(..) | E::ParquetError(..) => {
            Error::invalid(format!("the data cannot be read as asked: {err}"))
        }
        _ => Error::Internal(err.to_string()),
    }
}

/// Grows `reservation` by `bytes`, or fails with [`Error::ResourcesExhausted`] when that
/// would go over the session's limit.
pub(crate) fn reserve(reservation: &MemoryReservation, bytes: usize) -> Result<()> {
    reservation.try_grow(bytes).map_err(df_error)
}

/// Whether `err` is, or wraps at any depth, DataFusion's "resources exhausted": through
/// `Context`, `Shared`, `Diagnostic`, `External`, Arrow's and I/O's wrappers (error sources),
/// and every member of a `Collection`.
pub(crate) fn is_resources_exhausted(err: &datafusion::error::DataFusionError) -> bool {
    use datafusion::error::DataFusionError as E;
    use std::error::Error as StdError;
    // Error chains are short; the bound only guards against a cycle.
    const MAX_STEPS: usize = 1024;
    let mut pending: Vec<&(dyn StdError + 'static)> = vec![err];
    let mut steps = 0;
    while let Some(e) = pending.pop() {
        steps += 1;
        if steps > MAX_STEPS {
            break;
        }
        let df = e
            .downcast_ref::<E>()
            .or_else(|| e.downcast_ref::<Arc<E>>().map(Arc::as_ref));
        match df {
            Some(E::ResourcesExhausted(_)) => return true,
            Some(E::Collection(errors)) => {
                pending.extend(errors.iter().map(|e| e as &(dyn StdError + 'static)));
                continue;
            }
            _ => {}
        }
        // `io::Error::source` skips the error it wraps: look at that one itself.
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            pending.push(inner);
        } else if let Some(source) = e.source() {
            pending.push(source);
        }
    }
    false
}

/// Quotes an identifier for SQL (`"a ""b"""`).
pub(crate) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::error::ArrowError;
    use datafusion::error::DataFusionError as E;

    use super::*;

    fn exhausted() -> E {
        E::ResourcesExhausted(
            "Failed to allocate additional 1.0 MB for GroupedHashAggregate".into(),
        )
    }

    #[test]
    fn resources_exhausted_is_found_however_it_is_wrapped() {
        let wrapped = [
            exhausted(),
            exhausted().context("while sorting"),
            E::Shared(Arc::new(exhausted())),
            E::External(Box::new(exhausted())),
            E::External(Box::new(E::Shared(Arc::new(exhausted().context("x"))))),
            E::ArrowError(
                Box::new(ArrowError::ExternalError(Box::new(exhausted()))),
                None,
            ),
            E::Collection(vec![E::Plan("first".into()), exhausted()]),
            E::External(Box::new(std::io::Error::other(exhausted()))),
            E::IoError(std::io::Error::other(exhausted().context("spilling"))),
        ];
        for err in wrapped {
            assert!(is_resources_exhausted(&err), "{err}");
            let converted = df_error(err);
            assert!(
                matches!(converted, Error::ResourcesExhausted { limit_bytes: None }),
                "{converted:?}"
            );
        }
        for other in [
            E::Plan("nope".into()),
            E::Execution("boom".into()).context("reading"),
            E::External(Box::new(std::io::Error::other("disk"))),
            E::Collection(vec![]),
        ] {
            assert!(!is_resources_exhausted(&other), "{other}");
        }
    }

    #[tokio::test]
    async fn bounded_names_the_session_limit() {
        let blobs: Arc<dyn ObjectStore> = Arc::new(object_store::memory::InMemory::new());
        let session = Session::new_with_limits(blobs, Limits::memory(3 << 20)).expect("session");
        let err = session
            .bounded(async { Err::<(), _>(df_error(exhausted())) })
            .await
            .expect_err("fails");
        assert!(matches!(
            err,
            Error::ResourcesExhausted {
                limit_bytes: Some(n)
            } if n == 3 << 20
        ));
        assert!(err.to_string().contains("(limit 3 MiB)"), "{err}");
        let other = session
            .bounded(async { Err::<(), _>(Error::invalid("bad")) })
            .await
            .expect_err("fails");
        assert_eq!(other.kind(), crate::ErrorKind::InvalidArgument);
    }

    /// Sessions made with shared limits draw from one pool: what one holds, another cannot
    /// have, so concurrent checks do not multiply the server's limit; separate limits are
    /// separate pools.
    #[test]
    fn shared_limits_hold_for_all_sessions_together() {
        let blobs: Arc<dyn ObjectStore> = Arc::new(object_store::memory::InMemory::new());
        let shared = Limits::shared_memory(4 << 20);
        assert!(shared.is_shared());
        let first = Session::new_with_limits(blobs.clone(), shared.clone()).expect("session");
        let second = Session::new_with_limits(blobs.clone(), shared).expect("session");
        let held = first.reservation("first");
        held.try_grow((4 << 20) - 1024).expect("fits");
        let wanted = second.reservation("second");
        assert!(wanted.try_grow(4096).is_err(), "the pool is shared");
        drop(held);
        wanted.try_grow(4096).expect("fits once the first lets go");
        let separate = Session::new_with_limits(blobs, Limits::memory(4 << 20)).expect("session");
        let alone = separate.reservation("alone");
        alone.try_grow((4 << 20) - 1024).expect("a pool of its own");
    }
}
