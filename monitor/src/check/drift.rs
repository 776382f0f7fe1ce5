//! The drift check: every shared column of a reference and a current dataset version, read one
//! column at a time, tested with [`crate::drift::column_drift`].

use std::collections::BTreeMap;

use datafusion::arrow::datatypes::{Field, SchemaRef};
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use super::{Progress, Status, finite};
use crate::drift::{
    ColumnKind, ColumnOptions, DEFAULT_DRIFT_SHARE, DatasetDrift, Method, column_drift,
    dataset_drift,
};
use crate::read::{ReadAs, read_column, row_count};
use crate::source::{Session, Source, reserve};
use crate::{Error, Result};

/// Table names the check registers in its session.
const REFERENCE: &str = "reference";
const CURRENT: &str = "current";

/// Memory the check lets columns in flight take (estimated at 32 bytes per value: the values,
/// their cleaned copy and their sorted copy).
const MEMORY_BUDGET_BYTES: u64 = 512 << 20;
const BYTES_PER_VALUE: u64 = 32;

/// Drift options, named as Evidently's `DataDriftPreset` arguments.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriftConfig {
    /// Columns to compare; by default every column, and then both sides must have the same
    /// columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
    /// Share of drifted columns at which the dataset drifts (default 0.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift_share: Option<f64>,
    /// One method for every column (it must apply to each column's kind).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<Method>,
    /// One threshold for every column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// Methods per column, overriding `method`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub per_column_method: BTreeMap<String, Method>,
    /// Thresholds per column, overriding `threshold`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub per_column_threshold: BTreeMap<String, f64>,
    /// Kinds per column, overriding the inference (e.g. an integer code as `categorical`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub per_column_kind: BTreeMap<String, ColumnKind>,
    /// Bins of the numerical chart histograms (default 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram_bins: Option<usize>,
}

impl DriftConfig {
    /// Checks the options that do not depend on the data.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a share outside [0, 1], a non-finite threshold, zero
    /// bins or an empty column list.
    pub fn validate(&self) -> Result<()> {
        if let Some(share) = self.drift_share
            && !(0.0..=1.0).contains(&share)
        {
            return Err(Error::invalid(format!(
                "drift_share must lie between 0 and 1, got {share}"
            )));
        }
        finite("threshold", self.threshold)?;
        for (column, t) in &self.per_column_threshold {
            finite(&format!("the threshold of column '{column}'"), Some(*t))?;
        }
        if self.histogram_bins == Some(0) || self.histogram_bins.is_some_and(|b| b > 1000) {
            return Err(Error::invalid("histogram_bins must lie between 1 and 1000"));
        }
        if self.columns.as_ref().is_some_and(Vec::is_empty) {
            return Err(Error::invalid(
                "columns, when given, must name at least one column",
            ));
        }
        Ok(())
    }

    fn options(&self, column: &str) -> ColumnOptions {
        ColumnOptions {
            method: self.per_column_method.get(column).copied().or(self.method),
            threshold: self
                .per_column_threshold
                .get(column)
                .copied()
                .or(self.threshold),
            kind: self.per_column_kind.get(column).copied(),
            histogram_bins: self.histogram_bins,
        }
    }
}

/// A column left out because no drift method reads its type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkippedColumn {
    /// The column.
    pub column: String,
    /// Its Arrow type.
    pub data_type: String,
}

/// The drift check's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftOutcome {
    /// `fail` when the dataset drifts, `warn` when some column drifts or none could be tested,
    /// `pass` otherwise.
    pub status: Status,
    /// One line for lists and alerts.
    pub summary: String,
    /// Rows of the reference.
    pub reference_rows: u64,
    /// Rows of the current data.
    pub current_rows: u64,
    /// Per column and for the dataset.
    pub drift: DatasetDrift,
    /// Columns of types no method compares (dates, lists…), not tested.
    pub unsupported_columns: Vec<SkippedColumn>,
}

/// Compares `current` with `reference`.
///
/// # Errors
/// [`Error::InvalidArgument`] when the configuration is invalid, a named column is missing on
/// either side, the two sides have different columns (and `columns` does not pick shared
/// ones), a column is numeric on one side and text on the other, or a method does not apply to
/// a column's kind; [`Error::ResourcesExhausted`] when the comparison needs more memory than
/// the session's limit.
pub async fn run_drift(
    session: &Session,
    reference: &Source,
    current: &Source,
    config: &DriftConfig,
    progress: &dyn Progress,
) -> Result<DriftOutcome> {
    session
        .bounded(drift_in(session, reference, current, config, progress))
        .await
}

async fn drift_in(
    session: &Session,
    reference: &Source,
    current: &Source,
    config: &DriftConfig,
    progress: &dyn Progress,
) -> Result<DriftOutcome> {
    config.validate()?;
    session.register(REFERENCE, reference).await?;
    session.register(CURRENT, current).await?;
    let ref_schema = session.schema(REFERENCE).await?;
    let cur_schema = session.schema(CURRENT).await?;
    let (fields, unsupported_columns) = pick_columns(config, &ref_schema, &cur_schema)?;
    let reference_rows = row_count(session, REFERENCE).await?;
    let current_rows = row_count(session, CURRENT).await?;

    progress.start("columns", fields.len() as u64);
    let per_column = (reference_rows + current_rows).max(1) * BYTES_PER_VALUE;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let in_flight = usize::try_from(MEMORY_BUDGET_BYTES / per_column)
        .unwrap_or(usize::MAX)
        .clamp(1, cores);
    let results: Vec<Result<_>> = futures::stream::iter(fields)
        .map(|(ref_field, cur_field)| {
            let options = config.options(cur_field.name());
            async move {
                let name = cur_field.name().clone();
                // Numbers are read into vectors (text is counted per distinct value by a
                // DataFusion aggregate, which the session's pool already counts).
                let held = session.reservation("drift column");
                if ReadAs::of(cur_field.data_type()) != Some(ReadAs::Text) {
                    reserve(&held, usize::try_from(per_column).unwrap_or(usize::MAX))?;
                }
                let (r, c) = futures::try_join!(
                    read_column(session, REFERENCE, &ref_field),
                    read_column(session, CURRENT, &cur_field)
                )?;
                let drift =
                    tokio::task::spawn_blocking(move || column_drift(&name, &r, &c, &options))
                        .await
                        .map_err(|e| Error::Internal(format!("a drift task stopped: {e}")))??;
                drop(held);
                progress.advance(1);
                Ok(drift)
            }
        })
        .buffered(in_flight)
        .collect()
        .await;
    let columns = results.into_iter().collect::<Result<Vec<_>>>()?;
    let drift = dataset_drift(columns, config.drift_share.unwrap_or(DEFAULT_DRIFT_SHARE));
    let any_drift = drift.number_of_drifted_columns > 0;
    let status = if drift.dataset_drift {
        Status::Fail
    } else if any_drift || drift.number_of_columns == 0 {
        Status::Warn
    } else {
        Status::Pass
    };
    let summary = if drift.number_of_columns == 0 {
        "no column could be tested for drift".to_owned()
    } else {
        format!(
            "{} of {} columns drifted (share {:.3}, dataset drift at {}){}",
            drift.number_of_drifted_columns,
            drift.number_of_columns,
            drift.share_of_drifted_columns,
            drift.drift_share,
            if drift.dataset_drift {
                ": dataset drift"
            } else {
                ""
            }
        )
    };
    Ok(DriftOutcome {
        status,
        summary,
        reference_rows,
        current_rows,
        drift,
        unsupported_columns,
    })
}

type FieldPairs = Vec<(Field, Field)>;

/// The columns to compare, as (reference, current) fields in the current data's order.
fn pick_columns(
    config: &DriftConfig,
    reference: &SchemaRef,
    current: &SchemaRef,
) -> Result<(FieldPairs, Vec<SkippedColumn>)> {
    let names: Vec<String> = match &config.columns {
        Some(columns) => {
            for name in columns {
                for (side, schema) in [("reference", reference), ("current", current)] {
                    if schema.field_with_name(name).is_err() {
                        return Err(Error::invalid(format!(
                            "column '{name}' is missing from the {side} data"
                        )));
                    }
                }
            }
            columns.clone()
        }
        None => {
            let only = |a: &SchemaRef, b: &SchemaRef| -> Vec<String> {
                a.fields()
                    .iter()
                    .filter(|f| b.field_with_name(f.name()).is_err())
                    .map(|f| f.name().clone())
                    .collect()
            };
            let only_ref = only(reference, current);
            let only_cur = only(current, reference);
            if !only_ref.is_empty() || !only_cur.is_empty() {
                return Err(Error::invalid(format!(
                    "the reference and current data have different columns \
                     (only in the reference: {only_ref:?}; only in the current data: \
                     {only_cur:?}); list the shared ones in `columns`"
                )));
            }
            current.fields().iter().map(|f| f.name().clone()).collect()
        }
    };
    for key in config
        .per_column_method
        .keys()
        .chain(config.per_column_threshold.keys())
        .chain(config.per_column_kind.keys())
    {
        if !names.contains(key) {
            return Err(Error::invalid(format!(
                "per-column options name '{key}', which is not a compared column"
            )));
        }
    }
    let explicit = config.columns.is_some();
    let mut pairs = Vec::new();
    let mut skipped = Vec::new();
    for name in names {
        let (Ok(r), Ok(c)) = (
            reference.field_with_name(&name),
            current.field_with_name(&name),
        ) else {
            continue;
        };
        match (ReadAs::of(r.data_type()), ReadAs::of(c.data_type())) {
            (Some(_), Some(_)) => pairs.push((r.clone(), c.clone())),
            _ if explicit => {
                let bad = if ReadAs::of(r.data_type()).is_none() {
                    r
                } else {
                    c
                };
                return Err(Error::invalid(format!(
                    "column '{name}' has type {}, which drift does not compare",
                    bad.data_type()
                )));
            }
            _ => skipped.push(SkippedColumn {
                column: name,
                data_type: c.data_type().to_string(),
            }),
        }
    }
    Ok((pairs, skipped))
}
