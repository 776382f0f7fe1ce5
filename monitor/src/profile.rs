//! Data profiles: per column type, missing values, distinct values, range, moments, quartiles
//! and top categories; duplicated rows; constant and empty columns. Computed by DataFusion
//! aggregates over the stored bytes, a few passes, constant memory per column.

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::DataType;
use datafusion::scalar::ScalarValue;
use serde::Serialize;

use crate::source::{Session, Source, df_error, quote};
use crate::{Error, Result};

/// How many top categories a profile keeps per column.
pub const TOP_CATEGORIES: usize = 10;

/// The profile of one dataset version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    /// Rows.
    pub rows: u64,
    /// Rows that repeat an earlier row exactly (all columns equal; nulls equal nulls).
    pub duplicated_rows: u64,
    /// Columns whose non-missing values are all equal.
    pub constant_columns: Vec<String>,
    /// Columns with no non-missing value.
    pub empty_columns: Vec<String>,
    /// Per column, in schema order.
    pub columns: Vec<ColumnProfile>,
}

/// The profile of one column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnProfile {
    /// Name.
    pub name: String,
    /// Arrow type, e.g. `Float64`, `Utf8`.
    pub data_type: String,
    /// `numeric`, `categorical` (text, booleans) or `other`.
    pub kind: &'static str,
    /// Missing values (null; for floats NaN counts as missing too).
    pub missing: u64,
    /// Missing share of the rows (0 when there are no rows).
    pub missing_share: f64,
    /// Distinct non-missing values.
    pub distinct: u64,
    /// Smallest value, as text (numbers in their usual notation).
    pub min: Option<String>,
    /// Largest value, as text.
    pub max: Option<String>,
    /// Mean (numeric columns).
    pub mean: Option<f64>,
    /// Sample standard deviation, n − 1 in the denominator (numeric columns with ≥ 2 values).
    pub std: Option<f64>,
    /// 25th, 50th and 75th percentiles (numeric; DataFusion's t-digest approximation).
    pub quartiles: Option<[f64; 3]>,
    /// Most frequent values with their counts, most frequent first (ties by value).
    pub top: Vec<(String, u64)>,
}

fn kind_of(data_type: &DataType) -> &'static str {
    if data_type.is_numeric() {
        "numeric"
    } else if matches!(
        data_type,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Boolean
    ) || matches!(data_type, DataType::Dictionary(_, v) if v.is_primitive() || **v == DataType::Utf8)
    {
        "categorical"
    } else {
        "other"
    }
}

fn scalar(batches: &[RecordBatch], column: usize) -> Result<ScalarValue> {
    let batch = batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .ok_or_else(|| Error::Internal("an aggregate returned no row".into()))?;
    ScalarValue::try_from_array(batch.column(column), 0).map_err(df_error)
}

fn as_u64(value: &ScalarValue) -> u64 {
    match value {
        ScalarValue::Int64(Some(v)) => u64::try_from(*v).unwrap_or(0),
        ScalarValue::UInt64(Some(v)) => *v,
        _ => 0,
    }
}

fn as_f64(value: &ScalarValue) -> Option<f64> {
    match value {
        ScalarValue::Float64(Some(v)) => Some(*v),
        ScalarValue::Float32(Some(v)) => Some(f64::from(*v)),
        ScalarValue::Int64(Some(v)) => Some(*v as f64),
        ScalarValue::UInt64(Some(v)) => Some(*v as f64),
        _ => None,
    }
}

fn as_text(value: &ScalarValue) -> Option<String> {
    if value.is_null() {
        None
    } else {
        Some(value.to_string())
    }
}

/// Profiles `source`.
///
/// # Errors
/// [`Error::ResourcesExhausted`] when the profile needs more memory than the session's
/// limit (many distinct values); [`Error::InvalidArgument`] for data that cannot be read.
pub async fn profile(session: &Session, source: &Source) -> Result<Profile> {
    session.bounded(profile_in(session, source)).await
}

async fn profile_in(session: &Session, source: &Source) -> Result<Profile> {
    const TABLE: &str = "profiled";
    session.register(TABLE, source).await?;
    let schema = session.schema(TABLE).await?;
    let rows = as_u64(&scalar(
        &session.query("SELECT COUNT(*) FROM profiled").await?,
        0,
    )?);
    let mut columns = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let name = field.name();
        let kind = kind_of(field.data_type());
        let q = quote(name);
        let is_float = matches!(
            field.data_type(),
            DataType::Float16 | DataType::Float32 | DataType::Float64
        );
        // NaN is missing, as in pandas and Evidently.
        let present = if is_float {
            format!("CASE WHEN isnan({q}) THEN NULL ELSE {q} END")
        } else {
            q.clone()
        };
        let numeric = kind == "numeric";
        let moments = if numeric {
            ", AVG(CAST(v AS DOUBLE)), STDDEV_SAMP(CAST(v AS DOUBLE)), \
             APPROX_PERCENTILE_CONT(CAST(v AS DOUBLE), 0.25), \
             APPROX_PERCENTILE_CONT(CAST(v AS DOUBLE), 0.5), \
             APPROX_PERCENTILE_CONT(CAST(v AS DOUBLE), 0.75)"
                .to_owned()
        } else {
            String::new()
        };
        let sql = format!(
            "SELECT COUNT(v), COUNT(DISTINCT v), MIN(v), MAX(v){moments} \
             FROM (SELECT {present} AS v FROM profiled)"
        );
        let stats = session.query(&sql).await?;
        let present_count = as_u64(&scalar(&stats, 0)?);
        let distinct = as_u64(&scalar(&stats, 1)?);
        let (mean, std, quartiles) = if numeric && present_count > 0 {
            let q1 = as_f64(&scalar(&stats, 6)?);
            let q2 = as_f64(&scalar(&stats, 7)?);
            let q3 = as_f64(&scalar(&stats, 8)?);
            (
                as_f64(&scalar(&stats, 4)?),
                as_f64(&scalar(&stats, 5)?).filter(|s| s.is_finite()),
                match (q1, q2, q3) {
                    (Some(a), Some(b), Some(c)) => Some([a, b, c]),
                    _ => None,
                },
            )
        } else {
            (None, None, None)
        };
        let top = if kind == "categorical" && present_count > 0 {
            let sql = format!(
                "SELECT CAST(v AS VARCHAR), COUNT(*) AS n FROM (SELECT {present} AS v FROM profiled) \
                 WHERE v IS NOT NULL GROUP BY v ORDER BY n DESC, 1 LIMIT {TOP_CATEGORIES}"
            );
            let batches = session.query(&sql).await?;
            let mut top = Vec::new();
            for batch in &batches {
                for row in 0..batch.num_rows() {
                    let value =
                        ScalarValue::try_from_array(batch.column(0), row).map_err(df_error)?;
                    let count =
                        ScalarValue::try_from_array(batch.column(1), row).map_err(df_error)?;
                    top.push((as_text(&value).unwrap_or_default(), as_u64(&count)));
                }
            }
            top
        } else {
            Vec::new()
        };
        let missing = rows.saturating_sub(present_count);
        columns.push(ColumnProfile {
            name: name.clone(),
            data_type: field.data_type().to_string(),
            kind,
            missing,
            missing_share: if rows == 0 {
                0.0
            } else {
                missing as f64 / rows as f64
            },
            distinct,
            min: as_text(&scalar(&stats, 2)?),
            max: as_text(&scalar(&stats, 3)?),
            mean,
            std,
            quartiles,
            top,
        });
    }
    let all: Vec<String> = schema.fields().iter().map(|f| quote(f.name())).collect();
    let duplicated_rows = if all.is_empty() || rows == 0 {
        0
    } else {
        let sql = format!(
            "SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM profiled GROUP BY {})",
            all.join(", ")
        );
        as_u64(&scalar(&session.query(&sql).await?, 0)?)
    };
    Ok(Profile {
        rows,
        duplicated_rows,
        constant_columns: columns
            .iter()
            .filter(|c| c.distinct == 1)
            .map(|c| c.name.clone())
            .collect(),
        empty_columns: columns
            .iter()
            .filter(|c| c.missing == rows && rows > 0)
            .map(|c| c.name.clone())
            .collect(),
        columns,
    })
}
