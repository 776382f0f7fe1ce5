//! The fairness check: label, prediction (or score and threshold) and sensitive columns of one
//! dataset version, streamed batch by batch into a [`FairnessAccumulator`], then pass/fail
//! conditions on the figures.
//!
//! Labels and predictions follow [`Labels`]' rules; they are validated on the columns' distinct
//! values first (a small query), then each row is mapped in the stream. A missing (null) label,
//! prediction or score is an error; a missing sensitive value forms its own group, `(null)`,
//! and the outcome says how many rows had one.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use super::{Progress, Severity, Status, finite};
use crate::fairness::{
    Convention, EqualizedOddsAgg, FairnessAccumulator, FairnessConfig, FairnessMetric,
    FairnessReport, GroupSelector, LabelValue, Labels,
};
use crate::read::{ReadAs, cast_utf8, count, row_count, stream};
use crate::source::{Session, Source, df_error, quote};
use crate::{Error, Result};

const TABLE: &str = "scored";
/// The group name of a missing sensitive value.
pub const NULL_GROUP: &str = "(null)";

/// A label value in a configuration: a number (or boolean) for numeric columns, text otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LabelLiteral {
    /// `true` is 1 and `false` 0.
    Bool(bool),
    /// A number.
    Number(f64),
    /// Text.
    Text(String),
}

/// A bound on one fairness figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FairnessCondition {
    /// The figure.
    pub metric: FairnessMetric,
    /// Whose definition; default `fairlearn:between_groups`, or `aif360` for the AIF360-only
    /// metrics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub convention: Option<Convention>,
    /// For the equalized-odds figures; default `worst_case`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agg: Option<EqualizedOddsAgg>,
    /// The figure must be at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// The figure must be at most this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// What a failure makes of the check.
    #[serde(default)]
    pub severity: Severity,
}

impl FairnessCondition {
    /// The four-fifths rule (US EEOC): demographic parity ratio between groups ≥ 0.8.
    pub fn four_fifths() -> Self {
        FairnessCondition {
            metric: FairnessMetric::DemographicParityRatio,
            convention: None,
            agg: None,
            min: Some(0.8),
            max: None,
            severity: Severity::Fail,
        }
    }

    fn convention(&self) -> Convention {
        self.convention.unwrap_or(match self.metric {
            FairnessMetric::StatisticalParityDifference
            | FairnessMetric::DisparateImpact
            | FairnessMetric::AverageOddsDifference => Convention::Aif360,
            _ => Convention::FairlearnBetweenGroups,
        })
    }

    fn agg(&self) -> Option<EqualizedOddsAgg> {
        match self.metric {
            FairnessMetric::EqualizedOddsDifference | FairnessMetric::EqualizedOddsRatio => {
                Some(self.agg.unwrap_or(EqualizedOddsAgg::WorstCase))
            }
            _ => None,
        }
    }
}

fn default_conditions() -> Vec<FairnessCondition> {
    vec![FairnessCondition::four_fifths()]
}

/// What the fairness check reads and judges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FairnessCheckConfig {
    /// The true label column.
    pub label: String,
    /// The predicted label column (or give `score` and `threshold`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prediction: Option<String>,
    /// A score column; `score >= threshold` is a positive prediction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<String>,
    /// The decision threshold for `score`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// The positive (favourable) label; by default 1 of {0, 1} or {-1, 1} (text needs one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub positive_label: Option<LabelLiteral>,
    /// The sensitive columns; a group is the tuple of their values.
    pub sensitive: Vec<String>,
    /// AIF360's privileged groups, as `{column: value}` maps (a row is privileged when any map
    /// matches; a column left out matches any value).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub privileged: Vec<std::collections::BTreeMap<String, String>>,
    /// Bounds on figures; default the four-fifths rule on the demographic parity ratio.
    #[serde(default = "default_conditions")]
    pub conditions: Vec<FairnessCondition>,
}

impl FairnessCheckConfig {
    /// Checks what does not depend on the data.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] describing the first problem.
    pub fn validate(&self) -> Result<()> {
        match (&self.prediction, &self.score, self.threshold) {
            (Some(_), None, None) | (None, Some(_), Some(_)) => {}
            (None, Some(_), None) => return Err(Error::invalid("score needs a threshold")),
            _ => {
                return Err(Error::invalid(
                    "give either prediction, or score and threshold",
                ));
            }
        }
        finite("threshold", self.threshold)?;
        if self.sensitive.is_empty() {
            return Err(Error::invalid("name at least one sensitive column"));
        }
        for selector in &self.privileged {
            if selector.is_empty() {
                return Err(Error::invalid("a privileged group must name a column"));
            }
            if let Some(bad) = selector.keys().find(|k| !self.sensitive.contains(k)) {
                return Err(Error::invalid(format!(
                    "privileged group names '{bad}', which is not a sensitive column"
                )));
            }
        }
        validate_conditions(&self.conditions, !self.privileged.is_empty())
    }

    fn selectors(&self) -> Vec<GroupSelector> {
        self.privileged
            .iter()
            .map(|m| GroupSelector {
                values: self.sensitive.iter().map(|s| m.get(s).cloned()).collect(),
            })
            .collect()
    }
}

/// One condition's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConditionResult {
    /// The condition as applied (defaults filled in).
    pub condition: FairnessCondition,
    /// The figure; `None` when undefined, which fails the condition.
    pub value: Option<f64>,
    /// Whether it held.
    pub passed: bool,
}

/// The fairness check's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FairnessOutcome {
    /// The worst severity among failed conditions, `pass` if none failed.
    pub status: Status,
    /// One line for lists and alerts.
    pub summary: String,
    /// The figures.
    pub report: FairnessReport,
    /// The conditions' verdicts.
    pub conditions: Vec<ConditionResult>,
    /// Rows whose sensitive value was missing (grouped as `(null)`).
    pub rows_with_missing_sensitive: u64,
}

/// How label-like columns are compared.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Family {
    Number,
    Text,
}

/// Maps a column's values to booleans, given its distinct values' verdicts.
#[derive(Debug, Clone)]
pub(crate) enum Binarizer {
    Number(Vec<(f64, bool)>),
    Text(Vec<(String, bool)>),
    Threshold(f64),
}

/// Computes the fairness of `source`'s predictions.
///
/// # Errors
/// [`Error::InvalidArgument`] for an invalid configuration, missing columns, labels or
/// predictions that are not binary, missing labels/predictions/scores, no rows, or a privileged
/// group matching no row or every row; [`Error::ResourcesExhausted`] when the check needs
/// more memory than the session's limit.
pub async fn run_fairness(
    session: &Session,
    source: &Source,
    config: &FairnessCheckConfig,
    progress: &dyn Progress,
) -> Result<FairnessOutcome> {
    session
        .bounded(fairness_in(session, source, config, progress))
        .await
}

async fn fairness_in(
    session: &Session,
    source: &Source,
    config: &FairnessCheckConfig,
    progress: &dyn Progress,
) -> Result<FairnessOutcome> {
    config.validate()?;
    session.register(TABLE, source).await?;
    let schema = session.schema(TABLE).await?;
    let family = |name: &str| -> Result<(Family, DataType)> {
        let field = schema
            .field_with_name(name)
            .map_err(|_| Error::invalid(format!("column '{name}' does not exist")))?;
        let family = match ReadAs::of(field.data_type()) {
            Some(ReadAs::Text) => Family::Text,
            Some(_) => Family::Number,
            None => {
                return Err(Error::invalid(format!(
                    "column '{name}' has type {}, which cannot hold labels",
                    field.data_type()
                )));
            }
        };
        Ok((family, field.data_type().clone()))
    };
    for s in &config.sensitive {
        family(s)?;
    }
    let (label_family, _) = family(&config.label)?;
    let rows = row_count(session, TABLE).await?;
    if rows == 0 {
        return Err(Error::invalid("the dataset has no rows"));
    }
    let positive = config.positive_label.as_ref();
    let (label_map, prediction_map, prediction_column) = match (&config.prediction, &config.score) {
        (Some(prediction), _) => {
            let (pred_family, _) = family(prediction)?;
            if pred_family != label_family {
                return Err(Error::invalid(format!(
                    "the label column '{}' and the prediction column '{prediction}' must both be \
                     numbers or both text",
                    config.label
                )));
            }
            let labels = distinct(session, TABLE, &config.label, label_family).await?;
            let predictions = distinct(session, TABLE, prediction, label_family).await?;
            let (l, p) = binarize_pair(&labels, &predictions, positive)?;
            (l, p, prediction.clone())
        }
        (None, Some(score)) => {
            let (score_family, _) = family(score)?;
            if score_family != Family::Number {
                return Err(Error::invalid(format!(
                    "the score column '{score}' must be numeric"
                )));
            }
            count_missing_scores(session, score).await?;
            let labels = distinct(session, TABLE, &config.label, label_family).await?;
            let (l, _) = binarize_pair(&labels, &labels, positive)?;
            (
                l,
                Binarizer::Threshold(config.threshold.unwrap_or(0.5)),
                score.clone(),
            )
        }
        (None, None) => return Err(Error::invalid("give a prediction or a score column")),
    };

    let cast = |name: &str, family: Family, alias: String| match family {
        Family::Number => format!("CAST({} AS DOUBLE) AS {alias}", quote(name)),
        Family::Text => format!("CAST({} AS VARCHAR) AS {alias}", quote(name)),
    };
    let prediction_family = if matches!(prediction_map, Binarizer::Threshold(_)) {
        Family::Number
    } else {
        label_family
    };
    let mut select = vec![
        cast(&config.label, label_family, "c0".into()),
        cast(&prediction_column, prediction_family, "c1".into()),
    ];
    select.extend(
        config
            .sensitive
            .iter()
            .enumerate()
            .map(|(i, s)| cast(s, Family::Text, format!("c{}", i + 2))),
    );
    let sql = format!("SELECT {} FROM {}", select.join(", "), quote(TABLE));
    let mut batches = stream(session, &sql).await?;
    let mut accumulator = FairnessAccumulator::new(config.sensitive.iter().cloned())?;
    let mut missing_sensitive = 0u64;
    let (mut labels, mut predictions) = (Vec::new(), Vec::new());
    progress.start("rows", rows);
    while let Some(batch) = batches.next().await {
        let batch = batch.map_err(df_error)?;
        labels.clear();
        predictions.clear();
        apply(&label_map, batch.column(0), &mut labels)?;
        apply(&prediction_map, batch.column(1), &mut predictions)?;
        let sensitive: Vec<_> = (0..config.sensitive.len())
            .map(|i| cast_utf8(batch.column(i + 2)))
            .collect::<Result<_>>()?;
        let mut keys: Vec<Vec<&str>> = Vec::with_capacity(sensitive.len());
        for column in &sensitive {
            let column = column.as_string::<i32>();
            missing_sensitive += column.null_count() as u64;
            keys.push(
                (0..column.len())
                    .map(|r| {
                        if column.is_null(r) {
                            NULL_GROUP
                        } else {
                            column.value(r)
                        }
                    })
                    .collect(),
            );
        }
        let key_slices: Vec<&[&str]> = keys.iter().map(Vec::as_slice).collect();
        accumulator.push_batch_multi(&labels, &predictions, &key_slices)?;
        progress.advance(batch.num_rows() as u64);
    }
    let report = accumulator.finish(&FairnessConfig {
        privileged: config.selectors(),
    })?;
    let (conditions, status, failed) = judge(&report, &config.conditions);
    let summary = format!(
        "{} groups over {} rows; {} of {} conditions failed{}",
        report.by_group.len(),
        report.rows,
        failed.len(),
        conditions.len(),
        if failed.is_empty() {
            String::new()
        } else {
            format!(" ({})", failed.join(", "))
        }
    );
    Ok(FairnessOutcome {
        status,
        summary,
        report,
        conditions,
        rows_with_missing_sensitive: missing_sensitive,
    })
}

/// Checks each condition's bounds (finite, at least one) and that AIF360 figures have
/// privileged groups to compare.
///
/// # Errors
/// [`Error::InvalidArgument`] describing the first problem.
pub(crate) fn validate_conditions(
    conditions: &[FairnessCondition],
    has_privileged: bool,
) -> Result<()> {
    for c in conditions {
        finite("a condition's min", c.min)?;
        finite("a condition's max", c.max)?;
        if c.min.is_none() && c.max.is_none() {
            return Err(Error::invalid(format!(
                "the condition on {} needs min or max",
                c.metric.as_str()
            )));
        }
        if c.convention() == Convention::Aif360 && !has_privileged {
            return Err(Error::invalid(format!(
                "the condition on {} uses AIF360's convention, which needs privileged groups",
                c.metric.as_str()
            )));
        }
    }
    Ok(())
}

/// Judges `conditions` on a report: each verdict, the worst status, and one line per failed
/// condition.
pub(crate) fn judge(
    report: &FairnessReport,
    conditions: &[FairnessCondition],
) -> (Vec<ConditionResult>, Status, Vec<String>) {
    let conditions: Vec<ConditionResult> = conditions
        .iter()
        .map(|c| {
            let mut condition = c.clone();
            condition.convention = Some(c.convention());
            condition.agg = c.agg();
            let value = report.value(c.metric, c.convention(), c.agg());
            let passed = value.is_some_and(|v| {
                c.min.is_none_or(|min| v >= min) && c.max.is_none_or(|max| v <= max)
            });
            ConditionResult {
                condition,
                value,
                passed,
            }
        })
        .collect();
    let status = conditions
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.condition.severity.status())
        .max()
        .unwrap_or(Status::Pass);
    let failed: Vec<String> = conditions
        .iter()
        .filter(|c| !c.passed)
        .map(|c| match c.value {
            Some(v) => format!("{} = {v:.4}", c.condition.metric.as_str()),
            None => format!("{} undefined", c.condition.metric.as_str()),
        })
        .collect();
    (conditions, status, failed)
}

/// A column's distinct values; a missing value is an error.
pub(crate) async fn distinct(
    session: &Session,
    table: &str,
    column: &str,
    family: Family,
) -> Result<DistinctValues> {
    let cast = match family {
        Family::Number => "DOUBLE",
        Family::Text => "VARCHAR",
    };
    let sql = format!(
        "SELECT DISTINCT CAST({} AS {cast}) FROM {} LIMIT 1000",
        quote(column),
        quote(table)
    );
    let mut batches = stream(session, &sql).await?;
    let mut out = match family {
        Family::Number => DistinctValues::Number(Vec::new()),
        Family::Text => DistinctValues::Text(Vec::new()),
    };
    while let Some(batch) = batches.next().await {
        let batch = batch.map_err(df_error)?;
        let array = batch.column(0);
        if array.null_count() > 0 {
            return Err(Error::invalid(format!(
                "column '{column}' has missing values; every row needs a label and a prediction"
            )));
        }
        match &mut out {
            DistinctValues::Number(v) => v.extend(array.as_primitive::<Float64Type>().values()),
            DistinctValues::Text(v) => {
                let array = cast_utf8(array)?;
                v.extend(array.as_string::<i32>().iter().flatten().map(str::to_owned));
            }
        }
    }
    Ok(out)
}

#[derive(Debug, Clone)]
pub(crate) enum DistinctValues {
    Number(Vec<f64>),
    Text(Vec<String>),
}

/// Applies [`Labels::pair_from_values`] to the union of both columns' distinct values and
/// returns each column's value → boolean map.
pub(crate) fn binarize_pair(
    labels: &DistinctValues,
    predictions: &DistinctValues,
    positive: Option<&LabelLiteral>,
) -> Result<(Binarizer, Binarizer)> {
    match (labels, predictions) {
        (DistinctValues::Number(l), DistinctValues::Number(p)) => {
            let positive = match positive {
                None => None,
                Some(LabelLiteral::Number(n)) => Some(*n),
                Some(LabelLiteral::Bool(b)) => Some(f64::from(u8::from(*b))),
                Some(LabelLiteral::Text(t)) => {
                    return Err(Error::invalid(format!(
                        "positive_label \"{t}\" is text but the labels are numbers"
                    )));
                }
            };
            let (l, p) = verdicts(l, p, positive.as_ref())?;
            Ok((Binarizer::Number(l), Binarizer::Number(p)))
        }
        (DistinctValues::Text(l), DistinctValues::Text(p)) => {
            let positive = match positive {
                Some(LabelLiteral::Text(t)) => Some(t.clone()),
                Some(other) => {
                    return Err(Error::invalid(format!(
                        "positive_label {other:?} is not text but the labels are text"
                    )));
                }
                None => None,
            };
            let (l, p) = verdicts(l, p, positive.as_ref())?;
            Ok((Binarizer::Text(l), Binarizer::Text(p)))
        }
        _ => Err(Error::invalid(
            "labels and predictions must both be numbers or both text",
        )),
    }
}

/// Each distinct label and prediction value with its verdict, checked over their union as
/// Fairlearn checks the union of `y_true` and `y_pred`.
type Verdicts<T> = Vec<(T, bool)>;

fn verdicts<T: LabelValue>(
    labels: &[T],
    predictions: &[T],
    positive: Option<&T>,
) -> Result<(Verdicts<T>, Verdicts<T>)> {
    let union: Vec<T> = labels.iter().chain(predictions).cloned().collect();
    let (positives, _) = Labels::pair_from_values(&union, &union, positive)?;
    let mut all = union.into_iter().zip(positives.into_vec());
    let l: Verdicts<T> = all.by_ref().take(labels.len()).collect();
    Ok((l, all.collect()))
}

/// Fails when the score column has a missing or NaN value.
async fn count_missing_scores(session: &Session, score: &str) -> Result<()> {
    let q = quote(score);
    let sql = format!(
        "SELECT COUNT(*) FROM {} WHERE {q} IS NULL OR isnan(CAST({q} AS DOUBLE))",
        quote(TABLE)
    );
    let n = count(session, &sql).await?;
    if n > 0 {
        return Err(Error::invalid(format!(
            "{n} rows have no score (null or NaN) in '{score}'; fairness needs a score for \
             every row (drop or impute them first)"
        )));
    }
    Ok(())
}

/// Maps one batch's column to booleans.
pub(crate) fn apply(
    binarizer: &Binarizer,
    array: &datafusion::arrow::array::ArrayRef,
    out: &mut Vec<bool>,
) -> Result<()> {
    let unexpected = || Error::Internal("a value changed between two reads".into());
    match binarizer {
        Binarizer::Threshold(t) => {
            let values = array.as_primitive::<Float64Type>();
            out.extend(values.values().iter().map(|s| *s >= *t));
        }
        Binarizer::Number(map) => {
            let values = array.as_primitive::<Float64Type>();
            for v in values.values() {
                let (_, b) = map.iter().find(|(k, _)| k == v).ok_or_else(unexpected)?;
                out.push(*b);
            }
        }
        Binarizer::Text(map) => {
            let array = cast_utf8(array)?;
            for v in array.as_string::<i32>().iter() {
                let v = v.ok_or_else(unexpected)?;
                let (_, b) = map.iter().find(|(k, _)| k == v).ok_or_else(unexpected)?;
                out.push(*b);
            }
        }
    }
    Ok(())
}
