//! Data-quality suites in Great Expectations' vocabulary, computed with DataFusion aggregates
//! (one pass per expectation, constant memory except `median` and `unique`).
//!
//! # Semantics (as GX Core 1.x on pandas)
//!
//! * Missing values are nulls, plus NaN in float columns. `not_be_null` counts them over all
//!   rows; every other column expectation counts unexpected values among the *present* ones.
//! * `mostly` (default 1): an expectation holds when `1 − unexpected / count ≥ mostly`; with no
//!   value to judge it holds (vacuous truth, as in GX).
//! * `unique` marks every row of a repeated value as unexpected, not just the repeats.
//! * `match_regex` searches (a match anywhere in the value, like `re.search`); values are read
//!   as text.
//! * `mean`/`median`/`stdev` use present values; `stdev` is the sample standard deviation
//!   (n − 1). Without a value the statistic is undefined and the expectation fails.
//! * `expect_rows_to_satisfy` (Deequ's `satisfies`): a SQL boolean expression over the row's
//!   columns; a row is unexpected when it is not true (false or null). It cannot read another
//!   table (subqueries are refused) and, being an expression, cannot write anything. Its
//!   columns are the raw values: NaN sorts above every number (as in PostgreSQL), so
//!   `x > 5` holds for NaN.
//! * A column that does not exist fails its expectation with an `error`; configuration errors
//!   (a regex that does not compile, bounds in the wrong order, an unknown type name, a
//!   predicate that does not parse) reject the whole suite.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::tree_node::TreeNode;
use datafusion::functions_aggregate::expr_fn::{avg, count, median, stddev, sum};
use datafusion::logical_expr::{Expr, cast, col, lit, when};
use datafusion::prelude::DataFrame;
use serde::{Deserialize, Serialize};
use std::ops::Not;

use super::{Progress, Severity, Status, finite};
use crate::source::{Session, Source, df_error};
use crate::{Error, Result};

const TABLE: &str = "checked";
/// Unexpected values listed per expectation (GX's `partial_unexpected_list` holds 20).
pub const PARTIAL_UNEXPECTED: usize = 20;
/// Most values a `value_set` may list.
pub const MAX_VALUE_SET: usize = 10_000;
/// Most expectations one suite may hold.
pub const MAX_EXPECTATIONS: usize = 500;

/// The expectation types understood, named as in Great Expectations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpectationType {
    /// The column exists.
    ExpectColumnToExist,
    /// The column's type is `type_` (a family or an Arrow type name).
    ExpectColumnValuesToBeOfType,
    /// At least `mostly` of the rows have a value.
    ExpectColumnValuesToNotBeNull,
    /// Present values do not repeat.
    ExpectColumnValuesToBeUnique,
    /// Present values lie within `[min_value, max_value]`.
    ExpectColumnValuesToBeBetween,
    /// Present values are in `value_set`.
    ExpectColumnValuesToBeInSet,
    /// Present values match `regex`.
    ExpectColumnValuesToMatchRegex,
    /// The number of rows lies within `[min_value, max_value]`.
    ExpectTableRowCountToBeBetween,
    /// The mean of present values lies within bounds.
    ExpectColumnMeanToBeBetween,
    /// The median of present values lies within bounds.
    ExpectColumnMedianToBeBetween,
    /// The sample standard deviation of present values lies within bounds.
    ExpectColumnStdevToBeBetween,
    /// Rows satisfy a SQL boolean `predicate`.
    ExpectRowsToSatisfy,
}

/// A literal in a `value_set`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Literal {
    /// A boolean.
    Bool(bool),
    /// A number.
    Number(f64),
    /// Text.
    Text(String),
}

/// One expectation: `type` plus the arguments that type takes (others are refused).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// What is expected.
    #[serde(rename = "type")]
    pub kind: ExpectationType,
    /// The column, for column expectations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// Tolerated share of good values, in [0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mostly: Option<f64>,
    /// Lower bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_value: Option<f64>,
    /// Upper bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_value: Option<f64>,
    /// Whether the lower bound is excluded.
    #[serde(default, skip_serializing_if = "is_false")]
    pub strict_min: bool,
    /// Whether the upper bound is excluded.
    #[serde(default, skip_serializing_if = "is_false")]
    pub strict_max: bool,
    /// Allowed values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_set: Option<Vec<Literal>>,
    /// A regular expression (Rust `regex` syntax, which DataFusion uses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// A type family (`integer`, `float`, `numeric`, `string`, `boolean`, `date`,
    /// `timestamp`) or an Arrow type name (`Int64`, `Utf8`…), case-insensitive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// A SQL boolean expression over the row's columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
    /// What a failure makes of the suite.
    #[serde(default)]
    pub severity: Severity,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A suite: a list of expectations.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QualitySuite {
    /// The expectations, run in order.
    pub expectations: Vec<Expectation>,
}

/// One expectation's result, with GX's result fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExpectationResult {
    /// The expectation as given.
    pub expectation: Expectation,
    /// Whether it held.
    pub success: bool,
    /// The observed statistic (row count, mean, type…), when the type has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_value: Option<Observed>,
    /// Rows (or, for `not_be_null`, rows judged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub element_count: Option<u64>,
    /// Missing values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing_count: Option<u64>,
    /// Values that broke the expectation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unexpected_count: Option<u64>,
    /// `unexpected_count` as a percentage of the values judged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unexpected_percent: Option<f64>,
    /// Up to 20 distinct unexpected values, as text.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub partial_unexpected_list: Vec<String>,
    /// Why the expectation could not be evaluated (it then fails).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// An observed statistic.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Observed {
    /// A count or a statistic.
    Number(f64),
    /// A type name.
    Text(String),
}

/// A suite's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QualityOutcome {
    /// `fail` if a `fail`-severity expectation failed, else `warn` if any failed, else `pass`.
    pub status: Status,
    /// One line for lists and alerts.
    pub summary: String,
    /// Rows of the dataset.
    pub rows: u64,
    /// Per expectation, in order.
    pub results: Vec<ExpectationResult>,
}

impl QualitySuite {
    /// Checks the suite without data.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the expectation (by position) and the problem.
    pub fn validate(&self) -> Result<()> {
        if self.expectations.is_empty() {
            return Err(Error::invalid("a suite needs at least one expectation"));
        }
        if self.expectations.len() > MAX_EXPECTATIONS {
            return Err(Error::invalid(format!(
                "a suite holds at most {MAX_EXPECTATIONS} expectations"
            )));
        }
        for (i, e) in self.expectations.iter().enumerate() {
            e.validate().map_err(|err| {
                Error::invalid(format!("expectation {} ({:?}): {err}", i + 1, e.kind))
            })?;
        }
        Ok(())
    }
}

impl Expectation {
    fn validate(&self) -> Result<()> {
        use ExpectationType as T;
        let k = self.kind;
        let takes_column = !matches!(
            k,
            T::ExpectTableRowCountToBeBetween | T::ExpectRowsToSatisfy
        );
        let takes_mostly = matches!(
            k,
            T::ExpectColumnValuesToNotBeNull
                | T::ExpectColumnValuesToBeUnique
                | T::ExpectColumnValuesToBeBetween
                | T::ExpectColumnValuesToBeInSet
                | T::ExpectColumnValuesToMatchRegex
                | T::ExpectRowsToSatisfy
        );
        let takes_bounds = matches!(
            k,
            T::ExpectColumnValuesToBeBetween
                | T::ExpectTableRowCountToBeBetween
                | T::ExpectColumnMeanToBeBetween
                | T::ExpectColumnMedianToBeBetween
                | T::ExpectColumnStdevToBeBetween
        );
        let given = |present: bool, name: &str, allowed: bool| -> Result<()> {
            if present && !allowed {
                return Err(Error::invalid(format!("this type takes no `{name}`")));
            }
            Ok(())
        };
        match (&self.column, takes_column) {
            (None, true) => return Err(Error::invalid("`column` is required")),
            (Some(c), true) if c.is_empty() => return Err(Error::invalid("`column` is empty")),
            (Some(_), false) => given(true, "column", false)?,
            _ => {}
        }
        given(self.mostly.is_some(), "mostly", takes_mostly)?;
        if let Some(m) = self.mostly
            && !(0.0..=1.0).contains(&m)
        {
            return Err(Error::invalid(format!(
                "`mostly` must lie in [0, 1], got {m}"
            )));
        }
        given(self.min_value.is_some(), "min_value", takes_bounds)?;
        given(self.max_value.is_some(), "max_value", takes_bounds)?;
        given(self.strict_min, "strict_min", takes_bounds)?;
        given(self.strict_max, "strict_max", takes_bounds)?;
        finite("min_value", self.min_value)?;
        finite("max_value", self.max_value)?;
        if takes_bounds {
            match (self.min_value, self.max_value) {
                (None, None) => {
                    return Err(Error::invalid("give `min_value`, `max_value` or both"));
                }
                (Some(lo), Some(hi)) if lo > hi => {
                    return Err(Error::invalid(format!(
                        "`min_value` ({lo}) is greater than `max_value` ({hi})"
                    )));
                }
                _ => {}
            }
        }
        given(
            self.value_set.is_some(),
            "value_set",
            k == T::ExpectColumnValuesToBeInSet,
        )?;
        given(
            self.regex.is_some(),
            "regex",
            k == T::ExpectColumnValuesToMatchRegex,
        )?;
        given(
            self.type_.is_some(),
            "type_",
            k == T::ExpectColumnValuesToBeOfType,
        )?;
        given(
            self.predicate.is_some(),
            "predicate",
            k == T::ExpectRowsToSatisfy,
        )?;
        match k {
            T::ExpectColumnValuesToBeInSet => match &self.value_set {
                None => return Err(Error::invalid("`value_set` is required")),
                Some(v) if v.is_empty() => return Err(Error::invalid("`value_set` is empty")),
                Some(v) if v.len() > MAX_VALUE_SET => {
                    return Err(Error::invalid(format!(
                        "`value_set` lists at most {MAX_VALUE_SET} values"
                    )));
                }
                Some(v)
                    if v.iter()
                        .any(|l| matches!(l, Literal::Number(n) if !n.is_finite())) =>
                {
                    return Err(Error::invalid("`value_set` numbers must be finite"));
                }
                _ => {}
            },
            T::ExpectColumnValuesToMatchRegex => {
                let regex = self
                    .regex
                    .as_deref()
                    .ok_or_else(|| Error::invalid("`regex` is required"))?;
                regex::RegexBuilder::new(regex)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| Error::invalid(format!("`regex` does not compile: {e}")))?;
            }
            T::ExpectColumnValuesToBeOfType => {
                let t = self
                    .type_
                    .as_deref()
                    .ok_or_else(|| Error::invalid("`type_` is required"))?;
                if !known_type(t) {
                    return Err(Error::invalid(format!(
                        "unknown type '{t}': use integer, float, numeric, string, boolean, date, \
                         timestamp or an Arrow type name such as Int64 or Utf8"
                    )));
                }
            }
            T::ExpectRowsToSatisfy => {
                let p = self
                    .predicate
                    .as_deref()
                    .ok_or_else(|| Error::invalid("`predicate` is required"))?;
                if p.trim().is_empty() || p.len() > 10_000 {
                    return Err(Error::invalid(
                        "`predicate` must be a non-empty SQL expression of at most 10000 bytes",
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }
}

const TYPE_FAMILIES: [&str; 7] = [
    "integer",
    "float",
    "numeric",
    "string",
    "boolean",
    "date",
    "timestamp",
];

const ARROW_TYPES: [&str; 20] = [
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
    "utf8",
    "largeutf8",
    "utf8view",
    "boolean",
    "date32",
    "date64",
    "binary",
    "null",
    "decimal128",
];

fn known_type(t: &str) -> bool {
    let t = t.to_ascii_lowercase();
    TYPE_FAMILIES.contains(&t.as_str())
        || ARROW_TYPES.contains(&t.as_str())
        || t.starts_with("timestamp(")
        || t.starts_with("decimal128(")
}

/// Whether `data_type` is the type `expected` names.
fn type_matches(data_type: &DataType, expected: &str) -> bool {
    let expected = expected.to_ascii_lowercase();
    let base = match data_type {
        DataType::Dictionary(_, v) => v.as_ref(),
        t => t,
    };
    match expected.as_str() {
        "integer" => base.is_integer(),
        "float" => base.is_floating(),
        "numeric" => base.is_numeric(),
        "string" => matches!(
            base,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        ),
        "boolean" => *base == DataType::Boolean,
        "date" => matches!(base, DataType::Date32 | DataType::Date64),
        "timestamp" => matches!(base, DataType::Timestamp(..)),
        name => {
            let shown = base.to_string().to_ascii_lowercase();
            shown == name || shown.split('(').next() == Some(name)
        }
    }
}

/// Runs `suite` on `source`.
///
/// # Errors
/// [`Error::InvalidArgument`] for an invalid suite or a predicate that does not parse or reads
/// another table; a missing column is a failed expectation, not an error;
/// [`Error::ResourcesExhausted`] when the suite needs more memory than the session's limit.
pub async fn run_quality(
    session: &Session,
    source: &Source,
    suite: &QualitySuite,
    progress: &dyn Progress,
) -> Result<QualityOutcome> {
    session
        .bounded(quality_in(session, source, suite, progress))
        .await
}

async fn quality_in(
    session: &Session,
    source: &Source,
    suite: &QualitySuite,
    progress: &dyn Progress,
) -> Result<QualityOutcome> {
    suite.validate()?;
    session.register(TABLE, source).await?;
    let table = session.context().table(TABLE).await.map_err(df_error)?;
    let rows = table
        .clone()
        .count()
        .await
        .map_err(df_error)
        .map(|n| n as u64)?;
    progress.start("expectations", suite.expectations.len() as u64);
    let mut results = Vec::with_capacity(suite.expectations.len());
    for expectation in &suite.expectations {
        results.push(evaluate(&table, rows, expectation).await?);
        progress.advance(1);
    }
    let status = results
        .iter()
        .filter(|r| !r.success)
        .map(|r| r.expectation.severity.status())
        .max()
        .unwrap_or(Status::Pass);
    let failed = results.iter().filter(|r| !r.success).count();
    let summary = format!(
        "{} of {} expectations met over {rows} rows",
        results.len() - failed,
        results.len()
    );
    Ok(QualityOutcome {
        status,
        summary,
        rows,
        results,
    })
}

fn blank(expectation: &Expectation) -> ExpectationResult {
    ExpectationResult {
        expectation: expectation.clone(),
        success: false,
        observed_value: None,
        element_count: None,
        missing_count: None,
        unexpected_count: None,
        unexpected_percent: None,
        partial_unexpected_list: Vec::new(),
        error: None,
    }
}

fn within(value: f64, e: &Expectation) -> bool {
    let above = e.min_value.is_none_or(|lo| {
        if e.strict_min {
            value > lo
        } else {
            value >= lo
        }
    });
    let below = e.max_value.is_none_or(|hi| {
        if e.strict_max {
            value < hi
        } else {
            value <= hi
        }
    });
    above && below
}

/// The column's value with NaN as missing.
fn present(column: &str, data_type: &DataType) -> Expr {
    let c = col(datafusion::common::Column::from_name(column));
    if data_type.is_floating() {
        when(
            datafusion::functions::expr_fn::isnan(c.clone()),
            lit(datafusion::scalar::ScalarValue::Null),
        )
        .otherwise(c)
        .unwrap_or_else(|_| lit(datafusion::scalar::ScalarValue::Null))
    } else {
        c
    }
}

async fn evaluate(table: &DataFrame, rows: u64, e: &Expectation) -> Result<ExpectationResult> {
    use ExpectationType as T;
    let mut out = blank(e);
    if e.kind == T::ExpectTableRowCountToBeBetween {
        out.observed_value = Some(Observed::Number(rows as f64));
        out.success = within(rows as f64, e);
        return Ok(out);
    }
    if e.kind == T::ExpectRowsToSatisfy {
        return satisfy(table, rows, e, out).await;
    }
    let name = e.column.as_deref().unwrap_or_default();
    let Some(field) = table
        .schema()
        .fields()
        .iter()
        .find(|f| f.name() == name)
        .cloned()
    else {
        if e.kind != T::ExpectColumnToExist {
            out.error = Some(format!("column '{name}' does not exist"));
        }
        return Ok(out);
    };
    let data_type = field.data_type();
    let value = present(name, data_type);
    let numeric = data_type.is_numeric();
    let need_numeric = || format!("column '{name}' has type {data_type}, which is not numeric");
    match e.kind {
        T::ExpectColumnToExist => out.success = true,
        T::ExpectColumnValuesToBeOfType => {
            out.observed_value = Some(Observed::Text(data_type.to_string()));
            out.success = type_matches(data_type, e.type_.as_deref().unwrap_or_default());
        }
        T::ExpectColumnValuesToNotBeNull => {
            let present = aggregate_u64(table, vec![count(value)]).await?[0];
            let missing = rows - present.min(rows);
            fill_counts(&mut out, rows, missing, missing, rows, e.mostly);
            out.element_count = Some(rows);
        }
        T::ExpectColumnValuesToBeUnique => {
            let repeated = table
                .clone()
                .filter(value.clone().is_not_null())
                .map_err(df_error)?
                .aggregate(
                    vec![value.clone().alias("v")],
                    vec![count(lit(1)).alias("n")],
                )
                .map_err(df_error)?
                .filter(col("n").gt(lit(1i64)))
                .map_err(df_error)?;
            let counts = aggregate_u64(&repeated, vec![sum(col("n"))]).await?;
            let present = aggregate_u64(table, vec![count(value)]).await?[0];
            fill_counts(&mut out, rows, rows - present, counts[0], present, e.mostly);
            out.partial_unexpected_list =
                sample(repeated.select(vec![col("v")]).map_err(df_error)?).await?;
        }
        T::ExpectColumnValuesToBeBetween
        | T::ExpectColumnValuesToBeInSet
        | T::ExpectColumnValuesToMatchRegex => {
            let unexpected = match e.kind {
                T::ExpectColumnValuesToBeBetween => {
                    if !numeric {
                        out.error = Some(need_numeric());
                        return Ok(out);
                    }
                    let v = cast(value.clone(), DataType::Float64);
                    let mut inside = lit(true);
                    if let Some(lo) = e.min_value {
                        inside = inside.and(if e.strict_min {
                            v.clone().gt(lit(lo))
                        } else {
                            v.clone().gt_eq(lit(lo))
                        });
                    }
                    if let Some(hi) = e.max_value {
                        inside = inside.and(if e.strict_max {
                            v.clone().lt(lit(hi))
                        } else {
                            v.clone().lt_eq(lit(hi))
                        });
                    }
                    inside.not()
                }
                T::ExpectColumnValuesToBeInSet => match in_set(&value, data_type, e) {
                    Ok(expr) => expr.not(),
                    Err(message) => {
                        out.error = Some(message);
                        return Ok(out);
                    }
                },
                _ => {
                    let text = cast(value.clone(), DataType::Utf8);
                    datafusion::functions::expr_fn::regexp_like(
                        text,
                        lit(e.regex.clone().unwrap_or_default()),
                        None,
                    )
                    .not()
                }
            };
            let judged = value.clone().is_not_null();
            let flagged = judged.clone().and(unexpected);
            let counts = aggregate_u64(
                table,
                vec![
                    count(value.clone()),
                    sum(when(flagged.clone(), lit(1i64))
                        .otherwise(lit(0i64))
                        .map_err(df_error)?),
                ],
            )
            .await?;
            fill_counts(
                &mut out,
                rows,
                rows - counts[0].min(rows),
                counts[1],
                counts[0],
                e.mostly,
            );
            let listed = table
                .clone()
                .filter(flagged)
                .map_err(df_error)?
                .select(vec![value.alias("v")])
                .map_err(df_error)?;
            out.partial_unexpected_list = sample(listed).await?;
        }
        T::ExpectColumnMeanToBeBetween
        | T::ExpectColumnMedianToBeBetween
        | T::ExpectColumnStdevToBeBetween => {
            if !numeric {
                out.error = Some(need_numeric());
                return Ok(out);
            }
            let v = cast(value, DataType::Float64);
            let statistic = match e.kind {
                T::ExpectColumnMeanToBeBetween => avg(v),
                T::ExpectColumnMedianToBeBetween => median(v),
                _ => stddev(v),
            };
            let batches = table
                .clone()
                .aggregate(vec![], vec![statistic])
                .map_err(df_error)?
                .collect()
                .await
                .map_err(df_error)?;
            let observed = batches
                .iter()
                .find(|b| b.num_rows() > 0)
                .and_then(|b| {
                    let c = cast_f64(b.column(0)).ok()?;
                    let c = c.as_primitive::<Float64Type>();
                    (!c.is_null(0)).then(|| c.value(0))
                })
                .filter(|v| v.is_finite());
            match observed {
                Some(v) => {
                    out.observed_value = Some(Observed::Number(v));
                    out.success = within(v, e);
                }
                None => out.error = Some("the statistic is undefined: too few values".into()),
            }
        }
        T::ExpectTableRowCountToBeBetween | T::ExpectRowsToSatisfy => {}
    }
    Ok(out)
}

/// Sets GX's count fields and the verdict with `mostly`.
fn fill_counts(
    out: &mut ExpectationResult,
    rows: u64,
    missing: u64,
    unexpected: u64,
    judged: u64,
    mostly: Option<f64>,
) {
    out.element_count = Some(rows);
    out.missing_count = Some(missing);
    out.unexpected_count = Some(unexpected);
    let share = if judged == 0 {
        0.0
    } else {
        unexpected as f64 / judged as f64
    };
    out.unexpected_percent = Some(share * 100.0);
    out.success = judged == 0 || 1.0 - share >= mostly.unwrap_or(1.0);
}

/// The `IN` test for a value set, typed like the column; an error message when the set's
/// literals do not fit the column.
fn in_set(
    value: &Expr,
    data_type: &DataType,
    e: &Expectation,
) -> std::result::Result<Expr, String> {
    let set = e.value_set.as_deref().unwrap_or_default();
    let name = e.column.as_deref().unwrap_or_default();
    let wrong =
        |what: &str| format!("column '{name}' has type {data_type} but `value_set` holds {what}");
    if data_type.is_numeric() {
        let numbers = set
            .iter()
            .map(|l| match l {
                Literal::Number(n) => Ok(lit(*n)),
                Literal::Bool(_) => Err(wrong("booleans")),
                Literal::Text(_) => Err(wrong("text")),
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(cast(value.clone(), DataType::Float64).in_list(numbers, false))
    } else if *data_type == DataType::Boolean {
        let bools = set
            .iter()
            .map(|l| match l {
                Literal::Bool(b) => Ok(lit(*b)),
                _ => Err(wrong("values other than booleans")),
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(value.clone().in_list(bools, false))
    } else {
        let texts = set
            .iter()
            .map(|l| match l {
                Literal::Text(t) => lit(t.clone()),
                Literal::Number(n) => lit(n.to_string()),
                Literal::Bool(b) => lit(b.to_string()),
            })
            .collect();
        Ok(cast(value.clone(), DataType::Utf8).in_list(texts, false))
    }
}

/// `expect_rows_to_satisfy`: the predicate is parsed against the table alone; subqueries
/// (the only way an expression reads another table) are refused.
async fn satisfy(
    table: &DataFrame,
    rows: u64,
    e: &Expectation,
    mut out: ExpectationResult,
) -> Result<ExpectationResult> {
    let sql = e.predicate.as_deref().unwrap_or_default();
    let predicate = match table.parse_sql_expr(sql) {
        Ok(p) => p,
        Err(err) => {
            use datafusion::error::DataFusionError as D;
            let unknown_column = matches!(err.find_root(), D::SchemaError(..));
            if unknown_column {
                out.error = Some(format!(
                    "the predicate cannot be evaluated: {}",
                    err.find_root()
                ));
                return Ok(out);
            }
            return Err(Error::invalid(format!(
                "the predicate is not a SQL expression over this dataset's columns: {}",
                err.find_root()
            )));
        }
    };
    let reads_tables = predicate
        .exists(|x| {
            Ok(matches!(
                x,
                Expr::ScalarSubquery(_) | Expr::Exists(_) | Expr::InSubquery(_)
            ))
        })
        .unwrap_or(true);
    if reads_tables {
        return Err(Error::invalid(
            "the predicate may only use the dataset's own columns: subqueries are refused",
        ));
    }
    let flagged = predicate.is_not_true();
    let counts = aggregate_u64(
        table,
        vec![sum(when(flagged, lit(1i64))
            .otherwise(lit(0i64))
            .map_err(df_error)?)],
    )
    .await
    .map_err(|err| match err {
        Error::Internal(m) => Error::invalid(format!("the predicate cannot be evaluated: {m}")),
        other => other,
    })?;
    fill_counts(&mut out, rows, 0, counts[0], rows, e.mostly);
    out.missing_count = None;
    Ok(out)
}

/// Runs aggregates over the whole table and returns them as counts (null → 0).
async fn aggregate_u64(table: &DataFrame, aggregates: Vec<Expr>) -> Result<Vec<u64>> {
    let n = aggregates.len();
    let batches = table
        .clone()
        .aggregate(vec![], aggregates)
        .map_err(df_error)?
        .collect()
        .await
        .map_err(df_error)?;
    let mut out = vec![0u64; n];
    if let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) {
        for (i, slot) in out.iter_mut().enumerate() {
            let column = datafusion::arrow::compute::cast(batch.column(i), &DataType::Int64)
                .map_err(|e| Error::Internal(e.to_string()))?;
            let column = column.as_primitive::<Int64Type>();
            if !column.is_null(0) {
                *slot = u64::try_from(column.value(0)).unwrap_or(0);
            }
        }
    }
    Ok(out)
}

/// Up to [`PARTIAL_UNEXPECTED`] distinct values of the frame's one column, as text, sorted.
async fn sample(frame: DataFrame) -> Result<Vec<String>> {
    let batches = frame
        .distinct()
        .map_err(df_error)?
        .limit(0, Some(PARTIAL_UNEXPECTED))
        .map_err(df_error)?
        .collect()
        .await
        .map_err(df_error)?;
    let mut out = Vec::new();
    for batch in &batches {
        let text = crate::read::cast_utf8(batch.column(0))?;
        out.extend(text.as_string::<i32>().iter().flatten().map(str::to_owned));
    }
    out.sort();
    Ok(out)
}

fn cast_f64(
    array: &datafusion::arrow::array::ArrayRef,
) -> Result<datafusion::arrow::array::ArrayRef> {
    datafusion::arrow::compute::cast(array, &DataType::Float64)
        .map_err(|e| Error::Internal(e.to_string()))
}
