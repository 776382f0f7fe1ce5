//! Streaming columns out of a registered table: one column at a time, batch by batch, so a
//! check holds at most a column (numbers) or its distinct values (strings) in memory.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Int64Type};
use datafusion::physical_plan::SendableRecordBatchStream;
use futures::StreamExt;

use crate::drift::ColumnData;
use crate::source::{Session, df_error, quote};
use crate::{Error, Result};

/// How a column's values are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadAs {
    /// Floats and decimals, as `f64`.
    Float,
    /// Signed and unsigned integers, as `i64`.
    Integer,
    /// Booleans.
    Boolean,
    /// Strings (and dictionaries of strings), as counts per distinct value.
    Text,
}

impl ReadAs {
    /// How a column of `data_type` is read; `None` for types no check reads (dates, lists…).
    pub fn of(data_type: &DataType) -> Option<Self> {
        use DataType as T;
        match data_type {
            T::Float16
            | T::Float32
            | T::Float64
            | T::Decimal32(..)
            | T::Decimal64(..)
            | T::Decimal128(..)
            | T::Decimal256(..) => Some(ReadAs::Float),
            T::Int8 | T::Int16 | T::Int32 | T::Int64 | T::UInt8 | T::UInt16 | T::UInt32 => {
                Some(ReadAs::Integer)
            }
            // u64 values above i64::MAX would not fit: read them as floats.
            T::UInt64 => Some(ReadAs::Float),
            T::Boolean => Some(ReadAs::Boolean),
            T::Utf8 | T::LargeUtf8 | T::Utf8View => Some(ReadAs::Text),
            T::Dictionary(_, value) => Self::of(value).filter(|r| *r == ReadAs::Text),
            _ => None,
        }
    }
}

/// Runs `sql` as a stream of record batches.
pub(crate) async fn stream(session: &Session, sql: &str) -> Result<SendableRecordBatchStream> {
    session
        .context()
        .sql(sql)
        .await
        .map_err(df_error)?
        .execute_stream()
        .await
        .map_err(df_error)
}

/// The number of rows of `table`.
pub async fn row_count(session: &Session, table: &str) -> Result<u64> {
    session
        .bounded(count(
            session,
            &format!("SELECT COUNT(*) FROM {}", quote(table)),
        ))
        .await
}

/// The single count a `SELECT COUNT(*) …` query returns.
pub(crate) async fn count(session: &Session, sql: &str) -> Result<u64> {
    let mut rows = stream(session, sql).await?;
    let mut count = 0u64;
    while let Some(batch) = rows.next().await {
        let batch = batch.map_err(df_error)?;
        if batch.num_rows() > 0 {
            let column = batch.column(0).as_primitive_opt::<Int64Type>();
            count = column
                .and_then(|c| u64::try_from(c.value(0)).ok())
                .unwrap_or(0);
        }
    }
    Ok(count)
}

/// Reads one column of `table` for drift: numbers as a vector, strings as counts.
///
/// # Errors
/// [`Error::InvalidArgument`] when the column's type cannot be read (see [`ReadAs::of`]);
/// [`Error::ResourcesExhausted`] when counting strings needs more memory than the session's
/// limit.
pub async fn read_column(session: &Session, table: &str, field: &Field) -> Result<ColumnData> {
    session.bounded(read_column_in(session, table, field)).await
}

async fn read_column_in(session: &Session, table: &str, field: &Field) -> Result<ColumnData> {
    let read = ReadAs::of(field.data_type()).ok_or_else(|| {
        Error::invalid(format!(
            "column '{}' has type {}, which drift does not compare",
            field.name(),
            field.data_type()
        ))
    })?;
    let column = quote(field.name());
    let table = quote(table);
    match read {
        ReadAs::Float => {
            let sql = format!("SELECT CAST({column} AS DOUBLE) FROM {table}");
            let mut batches = stream(session, &sql).await?;
            let mut out = Vec::new();
            while let Some(batch) = batches.next().await {
                let batch = batch.map_err(df_error)?;
                let values = batch.column(0).as_primitive::<Float64Type>();
                out.reserve(values.len());
                if values.null_count() == 0 {
                    out.extend_from_slice(values.values());
                } else {
                    out.extend(values.iter().map(|v| v.unwrap_or(f64::NAN)));
                }
            }
            Ok(ColumnData::Numeric(out))
        }
        ReadAs::Integer => {
            let sql = format!("SELECT CAST({column} AS BIGINT) FROM {table}");
            let mut batches = stream(session, &sql).await?;
            let mut out = Vec::new();
            while let Some(batch) = batches.next().await {
                let batch = batch.map_err(df_error)?;
                out.extend(batch.column(0).as_primitive::<Int64Type>().iter());
            }
            Ok(ColumnData::Integer(out))
        }
        ReadAs::Boolean => {
            let sql = format!("SELECT {column} FROM {table}");
            let mut batches = stream(session, &sql).await?;
            let mut out = Vec::new();
            while let Some(batch) = batches.next().await {
                let batch = batch.map_err(df_error)?;
                out.extend(batch.column(0).as_boolean().iter());
            }
            Ok(ColumnData::Boolean(out))
        }
        ReadAs::Text => {
            let sql =
                format!("SELECT CAST({column} AS VARCHAR) AS v, COUNT(*) FROM {table} GROUP BY v");
            let mut batches = stream(session, &sql).await?;
            let mut counts = Vec::new();
            let mut missing = 0u64;
            while let Some(batch) = batches.next().await {
                let batch = batch.map_err(df_error)?;
                let values = cast_utf8(batch.column(0))?;
                let values = values.as_string::<i32>();
                let n = batch.column(1).as_primitive::<Int64Type>();
                for row in 0..batch.num_rows() {
                    let count = u64::try_from(n.value(row)).unwrap_or(0);
                    if values.is_null(row) {
                        missing += count;
                    } else {
                        counts.push((values.value(row).to_owned(), count));
                    }
                }
            }
            Ok(ColumnData::CategoryCounts { counts, missing })
        }
    }
}

/// A string column as plain `Utf8` (DataFusion may hand back views or dictionaries).
pub(crate) fn cast_utf8(
    array: &datafusion::arrow::array::ArrayRef,
) -> Result<datafusion::arrow::array::ArrayRef> {
    datafusion::arrow::compute::cast(array, &DataType::Utf8)
        .map_err(|e| Error::Internal(format!("cannot read strings: {e}")))
}
