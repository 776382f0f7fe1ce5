//! Drift results: per column, per dataset, and the chart histograms.

use serde::Serialize;

use super::prepare::Categories;
use super::{ColumnKind, Method};

/// The drift result of one column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnDrift {
    /// The column's name.
    pub column: String,
    /// The kind it was tested as.
    pub kind: ColumnKind,
    /// The method used; `None` for a text column, which is not tested.
    pub method: Option<Method>,
    /// The threshold applied; `None` when no method applies.
    pub threshold: Option<f64>,
    /// The p-value (`ks`, `chisquare`, `z`) or distance, always finite; `None` when the column
    /// was not tested or the statistic is undefined or overflows (see `note`).
    pub score: Option<f64>,
    /// Whether the column drifted ([`Method::drifted`]); `false` without a score.
    pub drifted: bool,
    /// Non-missing reference values.
    pub reference_rows: u64,
    /// Non-missing current values.
    pub current_rows: u64,
    /// Reference values dropped as missing (null, NaN, ±inf).
    pub reference_missing: u64,
    /// Current values dropped as missing (null, NaN, ±inf).
    pub current_missing: u64,
    /// Distinct non-missing values of both sides together (what the method choice counts).
    pub unique_values: u64,
    /// Why there is no score, when there is none.
    pub note: Option<String>,
    /// What a chart needs: both sides on shared bins or categories.
    pub histogram: Histogram,
}

/// Both sides of a column on shared bins (numerical) or categories, as counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Histogram {
    /// Equal-width bins over both sides' range: bin `i` is `[edges[i], edges[i+1])`, the last
    /// one closed.
    Bins {
        /// `bins + 1` ascending edges.
        edges: Vec<f64>,
        /// Reference count per bin.
        reference: Vec<u64>,
        /// Current count per bin.
        current: Vec<u64>,
    },
    /// The most frequent categories of both sides together (ties in value order), and the rest
    /// summed.
    Categories {
        /// Category labels.
        labels: Vec<String>,
        /// Reference count per label.
        reference: Vec<u64>,
        /// Current count per label.
        current: Vec<u64>,
        /// The categories beyond the listed ones, if any.
        other: Option<OtherCategories>,
    },
    /// Neither side has a value.
    Empty,
}

/// The categories left out of a chart, summed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OtherCategories {
    /// How many categories were left out.
    pub categories: u64,
    /// Their reference count.
    pub reference: u64,
    /// Their current count.
    pub current: u64,
}

/// Keeps the `max` most frequent categories (by reference + current count).
pub(crate) fn category_histogram(cats: &Categories, max: usize) -> Histogram {
    if cats.labels.is_empty() {
        return Histogram::Empty;
    }
    let mut order: Vec<usize> = (0..cats.labels.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(cats.reference[i] + cats.current[i]));
    let (kept, rest) = order.split_at(max.min(order.len()));
    let other = (!rest.is_empty()).then(|| OtherCategories {
        categories: rest.len() as u64,
        reference: rest.iter().map(|&i| cats.reference[i]).sum(),
        current: rest.iter().map(|&i| cats.current[i]).sum(),
    });
    Histogram::Categories {
        labels: kept.iter().map(|&i| cats.labels[i].clone()).collect(),
        reference: kept.iter().map(|&i| cats.reference[i]).collect(),
        current: kept.iter().map(|&i| cats.current[i]).collect(),
        other,
    }
}

/// Dataset-level drift: Evidently's `DriftedColumnsCount`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatasetDrift {
    /// Columns with a score (the share's denominator).
    pub number_of_columns: usize,
    /// Of those, the drifted ones.
    pub number_of_drifted_columns: usize,
    /// `number_of_drifted_columns / number_of_columns` (0 when no column has a score).
    pub share_of_drifted_columns: f64,
    /// The share at which the dataset counts as drifted.
    pub drift_share: f64,
    /// `share_of_drifted_columns >= drift_share`, with at least one tested column.
    pub dataset_drift: bool,
    /// Columns without a score (empty side, text, undefined statistic), left out of the share.
    pub skipped_columns: Vec<String>,
    /// Every column's result, in the order given.
    pub columns: Vec<ColumnDrift>,
}

/// Aggregates column results: the dataset drifts when the share of drifted columns among
/// those with a score is at least `drift_share` (Evidently's default is
/// [`super::DEFAULT_DRIFT_SHARE`]). A NaN `drift_share` never drifts.
pub fn dataset_drift(columns: Vec<ColumnDrift>, drift_share: f64) -> DatasetDrift {
    let tested = columns.iter().filter(|c| c.score.is_some()).count();
    let drifted = columns
        .iter()
        .filter(|c| c.score.is_some() && c.drifted)
        .count();
    let share = if tested == 0 {
        0.0
    } else {
        drifted as f64 / tested as f64
    };
    let skipped_columns = columns
        .iter()
        .filter(|c| c.score.is_none())
        .map(|c| c.column.clone())
        .collect();
    DatasetDrift {
        number_of_columns: tested,
        number_of_drifted_columns: drifted,
        share_of_drifted_columns: share,
        drift_share,
        dataset_drift: tested > 0 && share >= drift_share,
        skipped_columns,
        columns,
    }
}
