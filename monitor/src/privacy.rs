//! Differential privacy: noisy counts, histograms, sums, means and quantiles of a dataset
//! version, with OpenDP's measurements (no noise is sampled here).
//!
//! A [`DpRequest`] names a [`DpQuery`], a privacy budget (ε, and δ for the Gaussian mechanism)
//! and a [`Mechanism`]. [`release`] reads the column it needs and returns a [`DpRelease`]:
//! the noisy figures, the mechanism and noise scale used, and what was spent. The caller
//! charges [`DpRequest::cost`] to a budget **before** calling [`release`], after
//! [`DpRequest::validate`] and [`DpRequest::check_dataset`] have accepted the request (both
//! need no data values, so a refused request is never charged).
//!
//! # Privacy unit
//!
//! One row is one individual. Count, count by category, sum, histogram and quantiles are
//! ε-DP (or (ε, δ)) with respect to **adding or removing one row** (OpenDP's symmetric
//! distance 1). The mean relies on the row count `n`, which dataset versions publish: it is
//! ε-DP with respect to **changing one row** among the `n` (symmetric distance 2 at a fixed
//! size, OpenDP's bounded-DP convention); adding or removing a row changes the public `n`
//! itself.
//!
//! # Scale and verification
//!
//! The noise scale is searched for in Rust, always against the privacy map of the OpenDP
//! measurement itself, chained after the OpenDP transformation that bounds the query's
//! sensitivity: for Laplace and the exponential mechanism the loss is proportional to
//! `1 / scale`, so one evaluation of the map gives it; for the Gaussian mechanism (zCDP
//! converted to (ε, δ)) a short root search over the scale. Just before sampling, the
//! measurement is built again with the chosen scale and its map must report a loss within the
//! requested (ε, δ), or nothing is released.
//!
//! # Missing values
//!
//! Nulls and NaN are missing. `count` counts every row. `count_by` puts missing values in the
//! "other" bin. `sum`, `histogram` and `quantiles` drop them (these are add/remove-DP, so
//! the number of values need not be known). `mean` keeps the public `n` and imputes missing
//! values to the midpoint of the bounds, so the sized-domain sensitivity `(upper − lower) / n`
//! holds. Values outside the bounds are clamped into them (±∞ included); quantiles are chosen
//! among candidates within them.

mod measure;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use serde::{Deserialize, Serialize};

use crate::drift::ColumnData;
use crate::read::{ReadAs, read_column, row_count};
use crate::source::{Session, reserve};
use crate::{Error, Result};

use measure::Noise;

/// The largest ε a request may spend; anything above it gives no meaningful privacy.
pub const MAX_EPSILON: f64 = 10.0;
/// The largest absolute clamping bound.
pub const MAX_BOUND: f64 = 1e15;
/// The most bins a numeric histogram may have.
pub const MAX_BINS: u32 = 1000;
/// The most probabilities one quantiles query may ask for.
pub const MAX_PROBABILITIES: usize = 99;
/// The most categories a count by category may declare.
pub const MAX_CATEGORIES: usize = 1000;
/// Quantiles are chosen among this many equally spaced candidates from `lower` to `upper`.
pub const QUANTILE_CANDIDATES: usize = 1001;

/// What to compute, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DpQuery {
    /// The number of rows.
    Count {},
    /// The number of rows per declared category of a text, boolean or integer column, plus
    /// one "other" bin (values not declared, and missing values). The categories must be
    /// declared: read from the data they would leak.
    CountBy {
        /// The column.
        column: String,
        /// The categories, as text: `"true"`/`"false"` for booleans, decimal integers for
        /// integer columns.
        categories: Vec<String>,
    },
    /// The sum of a numeric column, each value clamped into `[lower, upper]`.
    Sum {
        /// The column.
        column: String,
        /// Lower clamping bound.
        lower: f64,
        /// Upper clamping bound.
        upper: f64,
    },
    /// The mean of a numeric column, each value clamped into `[lower, upper]`.
    Mean {
        /// The column.
        column: String,
        /// Lower clamping bound.
        lower: f64,
        /// Upper clamping bound.
        upper: f64,
    },
    /// Counts of a numeric column in `bins` equal-width bins from `lower` to `upper`; values
    /// outside go to the end bins.
    Histogram {
        /// The column.
        column: String,
        /// Lower edge of the first bin.
        lower: f64,
        /// Upper edge of the last bin.
        upper: f64,
        /// Number of bins.
        bins: u32,
    },
    /// Quantiles of a numeric column, each chosen among [`QUANTILE_CANDIDATES`] equally spaced
    /// values from `lower` to `upper` by the exponential mechanism; ε is split evenly among
    /// the probabilities.
    Quantiles {
        /// The column.
        column: String,
        /// The smallest candidate.
        lower: f64,
        /// The largest candidate.
        upper: f64,
        /// The probabilities, each in `[0, 1]` (0.5 is the median).
        probabilities: Vec<f64>,
    },
}

impl DpQuery {
    /// `count`, `count_by`, `sum`, `mean`, `histogram` or `quantiles`.
    pub fn kind(&self) -> &'static str {
        match self {
            DpQuery::Count {} => "count",
            DpQuery::CountBy { .. } => "count_by",
            DpQuery::Sum { .. } => "sum",
            DpQuery::Mean { .. } => "mean",
            DpQuery::Histogram { .. } => "histogram",
            DpQuery::Quantiles { .. } => "quantiles",
        }
    }

    /// The column the query reads, if any.
    pub fn column(&self) -> Option<&str> {
        match self {
            DpQuery::Count {} => None,
            DpQuery::CountBy { column, .. }
            | DpQuery::Sum { column, .. }
            | DpQuery::Mean { column, .. }
            | DpQuery::Histogram { column, .. }
            | DpQuery::Quantiles { column, .. } => Some(column),
        }
    }

    /// The clamping bounds, for the queries that have them.
    pub fn bounds(&self) -> Option<DpBounds> {
        match self {
            DpQuery::Count {} | DpQuery::CountBy { .. } => None,
            DpQuery::Sum { lower, upper, .. }
            | DpQuery::Mean { lower, upper, .. }
            | DpQuery::Histogram { lower, upper, .. }
            | DpQuery::Quantiles { lower, upper, .. } => Some(DpBounds {
                lower: *lower,
                upper: *upper,
            }),
        }
    }
}

/// The noise to add: Laplace (pure ε-DP) or Gaussian ((ε, δ)-DP, through zero-concentrated
/// DP). Counts and histograms use OpenDP's discrete variants; quantiles always use the
/// exponential mechanism (and accept only the default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mechanism {
    /// Laplace noise (the default).
    #[default]
    Laplace,
    /// Gaussian noise; needs δ.
    Gaussian,
}

/// A differentially private question with its budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DpRequest {
    /// What to compute.
    pub query: DpQuery,
    /// The ε to spend: finite, above 0 and at most [`MAX_EPSILON`].
    pub epsilon: f64,
    /// The δ to spend: required by the Gaussian mechanism (in `(0, 1)`), refused otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta: Option<f64>,
    /// The noise mechanism.
    #[serde(default)]
    pub mechanism: Mechanism,
}

/// What a release costs: the ε and δ to charge to a budget before releasing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PrivacyCost {
    /// ε.
    pub epsilon: f64,
    /// δ (0 for pure ε-DP).
    pub delta: f64,
}

/// Clamping bounds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DpBounds {
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
}

/// The mechanism OpenDP sampled with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleasedMechanism {
    /// Discrete Laplace (two-sided geometric) noise on integers.
    DiscreteLaplace,
    /// Laplace noise on floats (OpenDP samples it on a fine discrete lattice).
    Laplace,
    /// Discrete Gaussian noise on integers.
    DiscreteGaussian,
    /// Gaussian noise on floats (OpenDP samples it on a fine discrete lattice).
    Gaussian,
    /// The exponential mechanism (report-noisy-max with Gumbel noise).
    Exponential,
}

/// One declared category's noisy count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryCount {
    /// The category as declared.
    pub category: String,
    /// Its noisy count (may be negative: noise is not post-processed).
    pub count: i64,
}

/// One histogram bin's noisy count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinCount {
    /// Lower edge (inclusive; the first bin also holds everything below).
    pub lower: f64,
    /// Upper edge (exclusive; the last bin is inclusive and holds everything above).
    pub upper: f64,
    /// Its noisy count (may be negative).
    pub count: i64,
}

/// One noisy quantile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantileValue {
    /// The probability asked for.
    pub probability: f64,
    /// The chosen candidate.
    pub value: f64,
}

/// The released figures, tagged by the query's `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DpResult {
    /// The noisy row count (may be negative).
    Count {
        /// The noisy count.
        value: i64,
    },
    /// Noisy counts per declared category, in the declared order, and of the rest.
    CountBy {
        /// One per declared category.
        bins: Vec<CategoryCount>,
        /// Rows in no declared category, missing values included.
        other: i64,
    },
    /// The noisy sum.
    Sum {
        /// The noisy sum (may fall outside what the bounds allow).
        value: f64,
    },
    /// The noisy mean.
    Mean {
        /// The noisy mean (may fall outside the bounds).
        value: f64,
    },
    /// Noisy counts per bin, from the lowest.
    Histogram {
        /// One per bin.
        bins: Vec<BinCount>,
    },
    /// One chosen value per probability, in the requested order.
    Quantiles {
        /// One per probability.
        quantiles: Vec<QuantileValue>,
    },
}

/// What a DP query releases: the noisy figures and how they were made. It holds nothing else
/// computed from the data (no exact value, not even the row count).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DpRelease {
    /// The figures.
    #[serde(flatten)]
    pub result: DpResult,
    /// The mechanism OpenDP sampled with.
    pub mechanism: ReleasedMechanism,
    /// The noise scale: Laplace's `b`, Gaussian's σ (per value or bin), or, for quantiles,
    /// the scale of the Gumbel noise added to each candidate's score.
    pub scale: f64,
    /// The ε spent (what [`DpRequest::cost`] charged).
    pub epsilon: f64,
    /// The δ spent.
    pub delta: f64,
    /// The clamping bounds used, for queries that have them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounds: Option<DpBounds>,
}

impl DpRequest {
    /// What must be charged to a budget before the release: exactly the requested ε, and δ
    /// (0 without one).
    pub fn cost(&self) -> PrivacyCost {
        PrivacyCost {
            epsilon: self.epsilon,
            delta: self.delta.unwrap_or(0.0),
        }
    }

    /// Checks the request without data: ε, δ and the mechanism, bounds, bins, probabilities
    /// and categories.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] saying what is wrong.
    pub fn validate(&self) -> Result<()> {
        let eps = self.epsilon;
        if !(eps.is_finite() && eps > 0.0 && eps <= MAX_EPSILON) {
            return Err(Error::invalid(format!(
                "epsilon must be a finite number above 0 and at most {MAX_EPSILON}, not {eps}"
            )));
        }
        if let Some(delta) = self.delta
            && !(delta > 0.0 && delta < 1.0)
        {
            return Err(Error::invalid(format!(
                "delta must be above 0 and below 1, not {delta}"
            )));
        }
        match (self.mechanism, self.delta) {
            (Mechanism::Gaussian, None) => {
                return Err(Error::invalid(
                    "the gaussian mechanism needs a delta in (0, 1)",
                ));
            }
            (Mechanism::Laplace, Some(_)) => {
                return Err(Error::invalid(
                    "the laplace mechanism is pure epsilon-DP and takes no delta",
                ));
            }
            _ => {}
        }
        if self.query.column().is_some_and(str::is_empty) {
            return Err(Error::invalid("the column name is empty"));
        }
        if let Some(DpBounds { lower, upper }) = self.query.bounds() {
            let fine = |b: f64| b.is_finite() && b.abs() <= MAX_BOUND;
            if !(fine(lower) && fine(upper)) {
                return Err(Error::invalid(format!(
                    "bounds must be finite numbers within ±{MAX_BOUND:e}, not [{lower}, {upper}]"
                )));
            }
            if lower >= upper {
                return Err(Error::invalid(format!(
                    "the lower bound must be below the upper bound, not [{lower}, {upper}]"
                )));
            }
        }
        match &self.query {
            DpQuery::CountBy { categories, .. } => {
                if categories.is_empty() || categories.len() > MAX_CATEGORIES {
                    return Err(Error::invalid(format!(
                        "count_by needs 1 to {MAX_CATEGORIES} categories, not {}",
                        categories.len()
                    )));
                }
                let mut seen = HashSet::new();
                if let Some(twice) = categories.iter().find(|c| !seen.insert(*c)) {
                    return Err(Error::invalid(format!(
                        "category '{twice}' is declared twice"
                    )));
                }
            }
            DpQuery::Histogram { bins, .. } => {
                if !(1..=MAX_BINS).contains(bins) {
                    return Err(Error::invalid(format!(
                        "a histogram needs 1 to {MAX_BINS} bins, not {bins}"
                    )));
                }
            }
            DpQuery::Quantiles { probabilities, .. } => {
                if self.mechanism != Mechanism::Laplace {
                    return Err(Error::invalid(
                        "quantiles use the exponential mechanism (pure epsilon-DP): leave out \
                         mechanism and delta",
                    ));
                }
                if probabilities.is_empty() || probabilities.len() > MAX_PROBABILITIES {
                    return Err(Error::invalid(format!(
                        "quantiles needs 1 to {MAX_PROBABILITIES} probabilities, not {}",
                        probabilities.len()
                    )));
                }
                if let Some(p) = probabilities.iter().find(|p| !(0.0..=1.0).contains(*p)) {
                    return Err(Error::invalid(format!(
                        "probabilities must be within [0, 1], not {p}"
                    )));
                }
            }
            DpQuery::Count {} | DpQuery::Sum { .. } | DpQuery::Mean { .. } => {}
        }
        Ok(())
    }

    /// Checks the request against the dataset it will read, without its values: the column
    /// exists and has a type the query fits, the categories parse for the column's type, a
    /// mean has rows to divide by, and OpenDP accepts the measurement at this budget (its
    /// noise scale is found here). Includes [`DpRequest::validate`]. `rows` is the version's
    /// published row count.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] saying what is wrong; [`Error::Internal`] when OpenDP
    /// refuses a measurement that should exist.
    pub fn check_dataset(&self, schema: &Schema, rows: u64) -> Result<()> {
        self.plan(schema, rows).map(|_| ())
    }

    /// Everything [`DpRequest::check_dataset`] checks, and what the release needs from it.
    fn plan(&self, schema: &Schema, rows: u64) -> Result<Plan> {
        self.validate()?;
        let column = match self.query.column() {
            None => None,
            Some(name) => Some(column_kind(schema, name, &self.query)?),
        };
        let categories = match (&self.query, column) {
            (DpQuery::CountBy { categories, .. }, Some(read)) => {
                canonical_categories(categories, read)?
            }
            _ => Vec::new(),
        };
        if matches!(self.query, DpQuery::Mean { .. }) && rows == 0 {
            return Err(Error::invalid(
                "a DP mean needs at least one row: the dataset is empty",
            ));
        }
        let rows = usize::try_from(rows)
            .map_err(|_| Error::invalid("the dataset has more rows than this server can read"))?;
        let scale = measure::calibrate(self, rows)?;
        Ok(Plan {
            scale,
            rows,
            categories,
        })
    }

    fn noise(&self) -> Noise {
        match (self.mechanism, self.delta) {
            (Mechanism::Gaussian, Some(delta)) => Noise::Gaussian { delta },
            _ => Noise::Laplace,
        }
    }
}

/// What [`DpRequest::plan`] settled before any value is read.
struct Plan {
    /// The calibrated noise scale.
    scale: f64,
    /// The public row count.
    rows: usize,
    /// For `count_by`: the declared categories as the column's values read as text.
    categories: Vec<String>,
}

/// How the query's column is read, refusing unknown columns and types that do not fit.
fn column_kind(schema: &Schema, name: &str, query: &DpQuery) -> Result<ReadAs> {
    // The other columns are not listed: some may be hidden from the asker.
    let field = schema
        .field_with_name(name)
        .map_err(|_| Error::invalid(format!("column '{name}' is not in the dataset")))?;
    let read = ReadAs::of(field.data_type());
    let kind = query.kind();
    match (query, read) {
        (DpQuery::CountBy { .. }, Some(r @ (ReadAs::Text | ReadAs::Boolean | ReadAs::Integer))) => {
            Ok(r)
        }
        (DpQuery::CountBy { .. }, _) => Err(Error::invalid(format!(
            "count_by needs a text, boolean or integer column; '{name}' has type {} (use a \
             histogram for numbers)",
            field.data_type()
        ))),
        (_, Some(r @ (ReadAs::Float | ReadAs::Integer))) => Ok(r),
        _ => Err(Error::invalid(format!(
            "a DP {kind} needs a numeric column; '{name}' has type {}",
            field.data_type()
        ))),
    }
}

/// The declared categories as the column's values read as text (`CAST(… AS VARCHAR)`):
/// booleans `true`/`false`, integers in decimal; refusing ones the column cannot hold and
/// ones that name the same value twice.
fn canonical_categories(categories: &[String], read: ReadAs) -> Result<Vec<String>> {
    let canonical = categories
        .iter()
        .map(|c| match read {
            ReadAs::Boolean => match c.trim().to_ascii_lowercase().as_str() {
                v @ ("true" | "false") => Ok(v.to_owned()),
                _ => Err(Error::invalid(format!(
                    "category '{c}' is not a boolean (true or false)"
                ))),
            },
            ReadAs::Integer => c
                .trim()
                .parse::<i64>()
                .map(|v| v.to_string())
                .map_err(|_| Error::invalid(format!("category '{c}' is not an integer"))),
            ReadAs::Text | ReadAs::Float => Ok(c.clone()),
        })
        .collect::<Result<Vec<_>>>()?;
    let mut seen = HashSet::new();
    if let Some(i) = canonical.iter().position(|c| !seen.insert(c)) {
        return Err(Error::invalid(format!(
            "category '{}' names a value declared already",
            categories[i]
        )));
    }
    Ok(canonical)
}

/// Releases `request` over registered table `table`: validates it, checks it against the
/// table's schema and row count ([`DpRequest::check_dataset`]), reads the column (streaming:
/// counts per value for `count_by`, one `Vec<f64>` for numeric queries, counted against the
/// session's memory limit) and runs the OpenDP measurement. Charge [`DpRequest::cost`]
/// before calling this; nothing here touches a budget.
///
/// # Errors
/// [`Error::InvalidArgument`] for a bad request or one that does not fit the table;
/// [`Error::ResourcesExhausted`] when the column does not fit the session's memory limit;
/// [`Error::Internal`] when reading fails or OpenDP refuses (no figure is released then).
pub async fn release(session: &Session, table: &str, request: &DpRequest) -> Result<DpRelease> {
    session.bounded(release_in(session, table, request)).await
}

async fn release_in(session: &Session, table: &str, request: &DpRequest) -> Result<DpRelease> {
    request.validate()?;
    let schema = session.schema(table).await?;
    let rows = row_count(session, table).await?;
    let plan = request.plan(&schema, rows)?;
    let scale = plan.scale;
    let result = match &request.query {
        DpQuery::Count {} => {
            let (request, plan) = (request.clone(), plan);
            blocking(move || measure::count(&request, &plan)).await?
        }
        DpQuery::CountBy {
            column, categories, ..
        } => {
            let counts = category_counts(session, table, column, &plan).await?;
            let labels = categories.clone();
            let request = request.clone();
            blocking(move || measure::count_by(&request, &plan, &counts, labels)).await?
        }
        DpQuery::Sum { column, .. }
        | DpQuery::Mean { column, .. }
        | DpQuery::Histogram { column, .. }
        | DpQuery::Quantiles { column, .. } => {
            let held = session.reservation("dp column");
            reserve(&held, plan.rows.saturating_mul(size_of::<f64>()))?;
            let values = read_floats(session, table, column).await?;
            let request = request.clone();
            let result = blocking(move || measure::numeric(&request, &plan, values)).await?;
            drop(held);
            result
        }
    };
    Ok(DpRelease {
        result,
        mechanism: measure::mechanism(request),
        scale,
        epsilon: request.epsilon,
        delta: request.cost().delta,
        bounds: request.query.bounds(),
    })
}

/// Runs CPU-bound work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::Internal(format!("a DP task stopped: {e}")))?
}

/// The column's values as `f64` (integers and decimals cast), nulls as NaN.
async fn read_floats(session: &Session, table: &str, column: &str) -> Result<Vec<f64>> {
    let field = Field::new(column, DataType::Float64, true);
    match read_column(session, table, &field).await? {
        ColumnData::Numeric(values) => Ok(values),
        _ => Err(Error::Internal(
            "a float column read as another kind".into(),
        )),
    }
}

/// Rows per declared category (in order) and then the rest, missing values included.
async fn category_counts(
    session: &Session,
    table: &str,
    column: &str,
    plan: &Plan,
) -> Result<Vec<i64>> {
    let field = Field::new(column, DataType::Utf8, true);
    let ColumnData::CategoryCounts { counts, missing } =
        read_column(session, table, &field).await?
    else {
        return Err(Error::Internal("a text column read as another kind".into()));
    };
    let index: HashMap<&str, usize> = plan
        .categories
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let other = plan.categories.len();
    let mut bins = vec![0u64; other + 1];
    bins[other] = missing;
    for (value, count) in counts {
        let bin = index.get(value.as_str()).copied().unwrap_or(other);
        bins[bin] = bins[bin].saturating_add(count);
    }
    Ok(bins
        .into_iter()
        .map(|c| i64::try_from(c).unwrap_or(i64::MAX))
        .collect())
}

impl DpRequest {
    /// The mechanism the release will sample with, known before anything is read (the ledger
    /// records it with the charge).
    pub fn released_mechanism(&self) -> ReleasedMechanism {
        measure::mechanism(self)
    }
}

impl ReleasedMechanism {
    /// The stable name, as serialised: `discrete_laplace`, `laplace`, `discrete_gaussian`,
    /// `gaussian` or `exponential`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ReleasedMechanism::DiscreteLaplace => "discrete_laplace",
            ReleasedMechanism::Laplace => "laplace",
            ReleasedMechanism::DiscreteGaussian => "discrete_gaussian",
            ReleasedMechanism::Gaussian => "gaussian",
            ReleasedMechanism::Exponential => "exponential",
        }
    }
}
