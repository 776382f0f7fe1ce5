//! Reading dataset versions with DataFusion, straight from the object store, as streams of
//! record batches (nothing loads a whole dataset into memory).

use std::sync::Arc;

use datafusion::datasource::file_format::options::{CsvReadOptions, ParquetReadOptions};
use datafusion::prelude::{SessionConfig, SessionContext};
use object_store::ObjectStore;
use verity_store::DataFormat;

use crate::{Error, Result};

/// The URL under which Verity's blob store is registered in a session.
const BLOBS_URL: &str = "verity://blobs/";

/// A DataFusion session that can read Verity's blobs.
#[derive(Clone)]
pub struct Session {
    ctx: SessionContext,
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
    /// A session reading from `blobs` (the server's object store).
    pub fn new(blobs: Arc<dyn ObjectStore>) -> Result<Self> {
        // Batches of 8192 rows keep memory flat; two partitions match the machines we run on
        // and keep the per-query overhead low.
        Self::with_layout(blobs, 8192, 2)
    }

    /// A session that reads rows in their stored order, `batch_size` rows per batch (one
    /// partition), for work that numbers rows, such as a model's predictions.
    pub fn sequential(blobs: Arc<dyn ObjectStore>, batch_size: usize) -> Result<Self> {
        Self::with_layout(blobs, batch_size.max(1), 1)
    }

    fn with_layout(
        blobs: Arc<dyn ObjectStore>,
        batch_size: usize,
        partitions: usize,
    ) -> Result<Self> {
        let mut config = SessionConfig::new()
            .with_batch_size(batch_size)
            .with_target_partitions(partitions)
            .with_information_schema(false);
        // Parquet statistics leave NaN out of min/max, and DataFusion 55 then reads a column
        // whose other values are all equal as that constant, NaN rows included. Checks and
        // evaluations must see every value, so plans do not use file statistics.
        config.options_mut().execution.collect_statistics = false;
        let ctx = SessionContext::new_with_config(config);
        let url = url::Url::parse(BLOBS_URL).map_err(|e| Error::Internal(e.to_string()))?;
        ctx.register_object_store(&url, blobs);
        Ok(Self { ctx })
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
    pub(crate) async fn schema(
        &self,
        name: &str,
    ) -> Result<datafusion::arrow::datatypes::SchemaRef> {
        let table = self.ctx.table(name).await.map_err(df_error)?;
        Ok(Arc::new(table.schema().as_arrow().clone()))
    }
}

/// DataFusion errors: reading or planning problems with the data are the caller's input.
pub(crate) fn df_error(err: datafusion::error::DataFusionError) -> Error {
    use datafusion::error::DataFusionError as E;
    match &err {
        E::Plan(_) | E::SQL(..) | E::SchemaError(..) | E::ArrowError(..) | E::ParquetError(..) => {
            Error::invalid(format!("the data cannot be read as asked: {err}"))
        }
        _ => Error::Internal(err.to_string()),
    }
}

/// Quotes an identifier for SQL (`"a ""b"""`).
pub(crate) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
