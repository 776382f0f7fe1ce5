//! Masking and pseudonymisation: what readers below a dataset's sensitivity see of it. A
//! `masked` column's values become a keyed hash (BLAKE3 keyed with the project's key, the
//! first 16 bytes in hex), so equal values stay equal across the project's datasets and joins
//! still work; a `hidden` column is left out. [`MaskedExport`] writes a masked copy of a
//! dataset version; [`mask_report`] masks what a stored report shows.

mod report;

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::parquet::arrow::ArrowWriter;
use futures::StreamExt;
pub use report::mask_report;
use verity_store::DataFormat;
pub use verity_store::masking::{ColumnMasks, MaskMode};

use crate::read::stream;
use crate::source::{Session, Source, df_error};
use crate::{Error, Result};

/// Why a version with every column hidden has no masked view (the end of its error message).
pub const ALL_HIDDEN: &str = "every column of this version is hidden: there is nothing to show";

/// Hex characters of a pseudonym (16 bytes of the keyed hash).
pub const PSEUDONYM_LEN: usize = 32;

/// Applies one dataset's (or, for a report over several, the union of their) masks with the
/// project's key.
#[derive(Clone)]
pub struct Masker {
    key: [u8; 32],
    columns: ColumnMasks,
}

impl std::fmt::Debug for Masker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key never appears in logs.
        f.debug_struct("Masker")
            .field("columns", &self.columns)
            .finish_non_exhaustive()
    }
}

impl Masker {
    /// A masker with the project's `key` for `columns`.
    pub fn new(key: [u8; 32], columns: ColumnMasks) -> Self {
        Self { key, columns }
    }

    /// The masked and hidden columns.
    pub fn columns(&self) -> &ColumnMasks {
        &self.columns
    }

    /// How `column` is shown, `None` when in clear.
    pub fn mode(&self, column: &str) -> Option<MaskMode> {
        self.columns.get(column).copied()
    }

    /// Whether `column` is masked or hidden.
    pub fn covers(&self, column: &str) -> bool {
        self.columns.contains_key(column)
    }

    /// The pseudonym of a value given as text: the same text always gives the same pseudonym
    /// under one project's key.
    pub fn pseudonym(&self, text: &str) -> String {
        let hash = blake3::keyed_hash(&self.key, text.as_bytes());
        hex_prefix(hash.as_bytes())
    }

    /// The schema readers below the sensitivity see: hidden columns left out, masked ones as
    /// nullable text.
    pub fn mask_schema(&self, schema: &Schema) -> SchemaRef {
        let fields: Vec<Field> = schema
            .fields()
            .iter()
            .filter_map(|f| match self.mode(f.name()) {
                None => Some(f.as_ref().clone()),
                Some(MaskMode::Masked) => Some(Field::new(f.name(), DataType::Utf8, true)),
                Some(MaskMode::Hidden) => None,
            })
            .collect();
        Arc::new(Schema::new(fields))
    }

    /// Masks one batch: hidden columns dropped, masked ones replaced by the pseudonyms of
    /// their values as text (nulls stay null).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when every column is hidden.
    pub fn mask_batch(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        let schema = batch.schema();
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(batch.num_columns());
        for (field, column) in schema.fields().iter().zip(batch.columns()) {
            match self.mode(field.name()) {
                None => columns.push(Arc::clone(column)),
                Some(MaskMode::Masked) => columns.push(self.mask_array(field.name(), column)?),
                Some(MaskMode::Hidden) => {}
            }
        }
        if columns.is_empty() && schema.fields().is_empty() {
            return Ok(batch.clone());
        }
        if columns.is_empty() {
            return Err(Error::invalid(ALL_HIDDEN));
        }
        let masked_schema = self.mask_schema(&schema);
        RecordBatch::try_new(masked_schema, columns)
            .map_err(|e| Error::Internal(format!("a masked batch does not fit its schema: {e}")))
    }

    fn mask_array(&self, name: &str, column: &ArrayRef) -> Result<ArrayRef> {
        // Arrow's display form: a string as it is, a number in its usual notation, binary in
        // hex, lists and maps spelled out; every type has one.
        let text =
            ArrayFormatter::try_new(column.as_ref(), &FormatOptions::default()).map_err(|e| {
                Error::invalid(format!(
                    "column '{name}' ({}) cannot be masked: {e}",
                    column.data_type()
                ))
            })?;
        let mut out = StringBuilder::with_capacity(column.len(), column.len() * PSEUDONYM_LEN);
        for row in 0..column.len() {
            if column.is_null(row) {
                out.append_null();
            } else {
                out.append_value(self.pseudonym(&text.value(row).to_string()));
            }
        }
        Ok(Arc::new(out.finish()))
    }
}

fn hex_prefix(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(PSEUDONYM_LEN);
    for byte in &bytes[..PSEUDONYM_LEN / 2] {
        text.push(DIGITS[usize::from(byte >> 4)] as char);
        text.push(DIGITS[usize::from(byte & 0x0f)] as char);
    }
    text
}

/// Bytes a Parquet export buffers before it hands a chunk out.
const PARQUET_CHUNK_BYTES: usize = 4 << 20;

enum Encoder {
    Csv { header_written: bool },
    Parquet(Box<ArrowWriter<Vec<u8>>>),
}

/// A masked copy of a dataset version in its own format (CSV or Parquet), produced chunk by
/// chunk in the stored row order, so memory stays flat whatever the size.
pub struct MaskedExport {
    rows: SendableRecordBatchStream,
    masker: Masker,
    schema: SchemaRef,
    encoder: Option<Encoder>,
}

impl std::fmt::Debug for MaskedExport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MaskedExport").finish_non_exhaustive()
    }
}

impl MaskedExport {
    /// Starts reading `source` through `session` (make it with [`Session::sequential`] to keep
    /// the stored row order).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the data cannot be read.
    pub async fn open(session: &Session, source: &Source, masker: Masker) -> Result<Self> {
        const TABLE: &str = "masked_export";
        session.register(TABLE, source).await?;
        let schema = session.schema(TABLE).await?;
        let rows = stream(session, &format!("SELECT * FROM {TABLE}")).await?;
        let masked_schema = masker.mask_schema(&schema);
        if masked_schema.fields().is_empty() && !schema.fields().is_empty() {
            return Err(Error::invalid(ALL_HIDDEN));
        }
        let encoder = match source.format {
            DataFormat::Csv => Encoder::Csv {
                header_written: false,
            },
            DataFormat::Parquet => {
                let writer = ArrowWriter::try_new(Vec::new(), Arc::clone(&masked_schema), None)
                    .map_err(|e| Error::Internal(format!("cannot start a Parquet file: {e}")))?;
                Encoder::Parquet(Box::new(writer))
            }
        };
        Ok(Self {
            rows,
            masker,
            schema: masked_schema,
            encoder: Some(encoder),
        })
    }

    /// The next chunk of the file, `None` once it is complete.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when a row cannot be read or masked.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>> {
        loop {
            let Some(encoder) = self.encoder.as_mut() else {
                return Ok(None);
            };
            let Some(batch) = self.rows.next().await else {
                return self.finish().map(Some);
            };
            let masked = self.masker.mask_batch(&batch.map_err(df_error)?)?;
            match encoder {
                Encoder::Csv { header_written } => {
                    let out = csv_chunk(&masked, !*header_written)?;
                    *header_written = true;
                    if !out.is_empty() {
                        return Ok(Some(out));
                    }
                }
                Encoder::Parquet(writer) => {
                    writer.write(&masked).map_err(write_error)?;
                    if writer.in_progress_size() >= PARQUET_CHUNK_BYTES {
                        writer.flush().map_err(write_error)?;
                    }
                    let written = std::mem::take(writer.inner_mut());
                    if !written.is_empty() {
                        return Ok(Some(written));
                    }
                }
            }
        }
    }

    fn finish(&mut self) -> Result<Vec<u8>> {
        match self.encoder.take() {
            Some(Encoder::Parquet(writer)) => writer.into_inner().map_err(write_error),
            Some(Encoder::Csv { header_written }) if !header_written => {
                // No rows: the header alone.
                csv_chunk(&RecordBatch::new_empty(Arc::clone(&self.schema)), true)
            }
            _ => Ok(Vec::new()),
        }
    }
}

fn csv_chunk(batch: &RecordBatch, header: bool) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut writer = datafusion::arrow::csv::WriterBuilder::new()
        .with_header(header)
        .build(&mut out);
    writer.write(batch).map_err(write_error)?;
    drop(writer);
    Ok(out)
}

fn write_error(err: impl std::fmt::Display) -> Error {
    Error::Internal(format!("cannot write the masked copy: {err}"))
}
