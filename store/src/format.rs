//! Reading what a dataset file is: format, Arrow schema and row count.
//!
//! Parquet is checked through its footer (schema and row count come from the metadata); CSV is
//! read once, streaming, to infer the schema over every record and to count the rows, which
//! also rejects files that are not CSV (ragged rows, invalid UTF-8, no header).

use std::sync::Arc;

use arrow_schema::Schema;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::parquet_to_arrow_schema;
use parquet::file::metadata::ParquetMetaDataReader;

use crate::{Error, Result};

/// File formats of dataset versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataFormat {
    /// Apache Parquet.
    Parquet,
    /// Comma-separated values with a header row.
    Csv,
}

impl DataFormat {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Parquet => "parquet",
            Self::Csv => "csv",
        }
    }

    /// Parses a stored or user-given name.
    pub fn parse(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "parquet" => Ok(Self::Parquet),
            "csv" => Ok(Self::Csv),
            other => Err(Error::invalid(format!(
                "format '{other}' is not supported: use parquet or csv"
            ))),
        }
    }

    /// The format from a Content-Type, when it names one.
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "text/csv" | "application/csv" => Some(Self::Csv),
            "application/vnd.apache.parquet" | "application/x-parquet" | "application/parquet" => {
                Some(Self::Parquet)
            }
            _ => None,
        }
    }

    /// The format from a file name's extension, when it names one.
    pub fn from_file_name(name: &str) -> Option<Self> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".parquet") || lower.ends_with(".pq") {
            Some(Self::Parquet)
        } else if lower.ends_with(".csv") {
            Some(Self::Csv)
        } else {
            None
        }
    }

    /// The media type served on download.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Parquet => "application/vnd.apache.parquet",
            Self::Csv => "text/csv",
        }
    }
}

/// What a dataset file contains.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Inspection {
    pub schema: Schema,
    pub row_count: i64,
}

/// Guesses the format from the first bytes: Parquet files start with `PAR1`.
pub(crate) async fn sniff(store: &dyn ObjectStore, path: &Path, size: u64) -> Result<DataFormat> {
    if size < 4 {
        return Ok(DataFormat::Csv);
    }
    let head = store.get_range(path, 0..4).await?;
    Ok(if head.as_ref() == b"PAR1" {
        DataFormat::Parquet
    } else {
        DataFormat::Csv
    })
}

/// Reads the schema and row count of a stored file, refusing files that are not of `format`.
pub(crate) async fn inspect(
    store: Arc<dyn ObjectStore>,
    path: &Path,
    size: u64,
    format: DataFormat,
) -> Result<Inspection> {
    match format {
        DataFormat::Parquet => inspect_parquet(store, path, size).await,
        DataFormat::Csv => inspect_csv(store, path).await,
    }
}

/// Largest Parquet footer accepted: a hostile file must not make the server allocate gigabytes.
const MAX_PARQUET_FOOTER: u64 = 64 * 1024 * 1024;

async fn inspect_parquet(
    store: Arc<dyn ObjectStore>,
    path: &Path,
    size: u64,
) -> Result<Inspection> {
    let bad = |why: String| Error::invalid(format!("not a valid Parquet file: {why}"));
    if size < 12 {
        return Err(bad(format!("{size} bytes is too short")));
    }
    let ends = store.get_ranges(path, &[0..4, size - 8..size]).await?;
    let (head, tail) = match ends.as_slice() {
        [head, tail] => (head, tail),
        _ => {
            return Err(Error::Internal(
                "object store returned the wrong number of ranges".into(),
            ));
        }
    };
    if head.as_ref() != b"PAR1" || tail.get(4..) != Some(b"PAR1".as_slice()) {
        return Err(bad(
            "missing PAR1 magic at the start or the end (truncated or not Parquet)".into(),
        ));
    }
    let mut len_bytes = [0u8; 4];
    len_bytes.copy_from_slice(tail.get(..4).unwrap_or(&[0; 4]));
    let footer_len = u64::from(u32::from_le_bytes(len_bytes));
    if footer_len + 12 > size || footer_len > MAX_PARQUET_FOOTER {
        return Err(bad(format!(
            "footer length {footer_len} does not fit a {size}-byte file"
        )));
    }
    let footer = store
        .get_range(path, size - 8 - footer_len..size - 8)
        .await?;
    let metadata =
        ParquetMetaDataReader::decode_metadata(&footer).map_err(|e| bad(e.to_string()))?;
    let file = metadata.file_metadata();
    for group in metadata.row_groups() {
        for column in group.columns() {
            let (start, len) = column.byte_range();
            if start.saturating_add(len) > size {
                return Err(bad(
                    "a column chunk lies beyond the end of the file (truncated)".into(),
                ));
            }
        }
    }
    let schema = parquet_to_arrow_schema(file.schema_descr(), file.key_value_metadata())
        .map_err(|e| bad(e.to_string()))?;
    Ok(Inspection {
        schema,
        row_count: file.num_rows(),
    })
}

/// Largest CSV record (row) accepted: the reader holds one record in memory at a time, so this
/// bounds what one upload can make the server allocate.
pub(crate) const MAX_CSV_RECORD_BYTES: usize = 16 * 1024 * 1024;

/// A reader that fails once a CSV record (bytes between line ends outside double quotes) grows
/// past a limit.
struct RecordLimit<R> {
    inner: R,
    limit: usize,
    in_record: usize,
    quoted: bool,
}

impl<R> RecordLimit<R> {
    fn new(inner: R, limit: usize) -> Self {
        Self {
            inner,
            limit,
            in_record: 0,
            quoted: false,
        }
    }
}

impl<R: std::io::Read> std::io::Read for RecordLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &byte in buf.get(..n).unwrap_or_default() {
            match byte {
                b'"' => self.quoted = !self.quoted,
                b'\n' if !self.quoted => {
                    self.in_record = 0;
                    continue;
                }
                _ => {}
            }
            self.in_record += 1;
            if self.in_record > self.limit {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("a record is longer than {} bytes", self.limit),
                ));
            }
        }
        Ok(n)
    }
}

async fn inspect_csv(store: Arc<dyn ObjectStore>, path: &Path) -> Result<Inspection> {
    let result = store.get(path).await?;
    let stream = result.into_stream().map_err(std::io::Error::other);
    let reader = tokio_util::io::StreamReader::new(stream);
    let bridge = RecordLimit::new(
        tokio_util::io::SyncIoBridge::new(reader),
        MAX_CSV_RECORD_BYTES,
    );
    let (schema, rows) = tokio::task::spawn_blocking(move || {
        arrow_csv::reader::Format::default()
            .with_header(true)
            .infer_schema(bridge, None)
    })
    .await
    .map_err(|e| Error::Internal(format!("csv inspection task failed: {e}")))?
    .map_err(|e| Error::invalid(format!("not a valid CSV file: {e}")))?;
    if schema.fields().is_empty() {
        return Err(Error::invalid("not a valid CSV file: it has no header row"));
    }
    if let Some(field) = schema.fields().iter().find(|f| f.name().trim().is_empty()) {
        return Err(Error::invalid(format!(
            "not a valid CSV file: a header column has an empty name ({:?})",
            field.name()
        )));
    }
    let row_count = i64::try_from(rows).map_err(|_| Error::invalid("csv has too many rows"))?;
    Ok(Inspection { schema, row_count })
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::RecordLimit;

    fn read_all(input: &[u8], limit: usize) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        RecordLimit::new(input, limit).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn records_are_bounded_outside_quotes_only() {
        assert!(read_all(b"a,b\n1,2\n333,4\n", 6).is_ok());
        assert!(read_all(b"a,b\n1234567,2\n", 6).is_err(), "a long line");
        // Line ends inside quotes do not end the record.
        assert!(read_all(b"a\n\"1\n2\n3\n4\"\n", 6).is_err());
        assert!(
            read_all(b"a\n\"1\"\"2\"\n", 7).is_ok(),
            "escaped quotes toggle twice"
        );
    }
}
