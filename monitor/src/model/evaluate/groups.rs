//! From gathered rows to the outcome: metrics overall and per group, and for a binary model
//! the fairness engine's figures and conditions per sensitive column.

use std::borrow::Cow;

use serde::Serialize;

use super::encode::LabelBatch;
use super::{EvaluationConfig, EvaluationOutcome, Gathered, Metrics, Model};
use crate::Result;
use crate::check::Status;
use crate::check::fairness::{ConditionResult, FairnessCondition, judge};
use crate::fairness::{FairnessAccumulator, FairnessConfig, FairnessReport, GroupId};
use crate::model::metrics;
use crate::model::spec::Output;

/// Figures for the rows holding one value of a sensitive column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupEvaluation {
    /// The value (`(null)` for missing values).
    pub value: String,
    /// Rows in the group.
    pub rows: u64,
    /// The group's figures.
    pub metrics: Metrics,
}

/// The groups of one sensitive column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnGroups {
    /// The sensitive column.
    pub column: String,
    /// One entry per value, sorted by value.
    pub groups: Vec<GroupEvaluation>,
}

/// A binary model's fairness across one sensitive column's groups.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnFairness {
    /// The sensitive column.
    pub column: String,
    /// The worst severity among failed conditions, `pass` if none failed.
    pub status: Status,
    /// The fairness engine's figures (Fairlearn's and AIF360's conventions).
    pub report: FairnessReport,
    /// The conditions' verdicts.
    pub conditions: Vec<ConditionResult>,
}

/// The figures over `rows` (all rows when `None`).
fn metrics_of(
    output: &Output,
    bins: usize,
    labels: &LabelBatch,
    outputs: &[f32],
    rows: Option<&[usize]>,
) -> Result<Metrics> {
    fn pick<'a, T: Copy>(all: &'a [T], rows: Option<&[usize]>) -> Cow<'a, [T]> {
        match rows {
            None => Cow::Borrowed(all),
            Some(rows) => Cow::Owned(rows.iter().map(|&i| all[i]).collect()),
        }
    }
    Ok(match output {
        Output::Regression => Metrics::Regression(metrics::regression(
            &pick(&labels.values, rows),
            &pick(outputs, rows),
        )?),
        Output::Binary { .. } => Metrics::Binary(metrics::binary(
            &pick(&labels.positives, rows),
            &pick(outputs, rows),
            output.threshold().unwrap_or(0.5),
            bins,
        )?),
        Output::Multiclass { classes } => {
            let k = classes.len();
            let probabilities: Cow<'_, [f32]> = match rows {
                None => Cow::Borrowed(outputs),
                Some(rows) => Cow::Owned(
                    rows.iter()
                        .flat_map(|&i| outputs[i * k..(i + 1) * k].iter().copied())
                        .collect(),
                ),
            };
            Metrics::Multiclass(metrics::multiclass(
                &pick(&labels.classes, rows),
                &probabilities,
                classes,
                bins,
            )?)
        }
    })
}

/// Computes the outcome of an evaluation of `rows` rows.
pub(super) fn summarise(
    model: &Model,
    config: &EvaluationConfig,
    batch_size: usize,
    gathered: Gathered,
    rows: u64,
) -> Result<EvaluationOutcome> {
    let output = &model.spec().output;
    let bins = config.calibration_bins;
    let overall = metrics_of(output, bins, &gathered.labels, &gathered.outputs, None)?;
    let mut by_group = Vec::with_capacity(config.sensitive.len());
    let mut fairness = Vec::new();
    for (c, column) in config.sensitive.iter().enumerate() {
        let (_, values) = &gathered.dictionaries[c];
        let codes = &gathered.codes[c];
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); values.len()];
        for (row, &code) in codes.iter().enumerate() {
            members[code as usize].push(row);
        }
        let mut groups = Vec::with_capacity(values.len());
        for (value, rows) in values.iter().zip(&members) {
            groups.push(GroupEvaluation {
                value: value.clone(),
                rows: rows.len() as u64,
                metrics: metrics_of(
                    output,
                    bins,
                    &gathered.labels,
                    &gathered.outputs,
                    Some(rows),
                )?,
            });
        }
        groups.sort_by(|a, b| a.value.cmp(&b.value));
        by_group.push(ColumnGroups {
            column: column.clone(),
            groups,
        });
        if let Some(threshold) = output.threshold() {
            fairness.push(column_fairness(
                column, values, codes, &gathered, threshold, config,
            )?);
        }
    }
    let status = fairness
        .iter()
        .map(|f| f.status)
        .max()
        .unwrap_or(Status::Pass);
    let summary = summary(&overall, rows, &fairness);
    Ok(EvaluationOutcome {
        status,
        summary,
        rows,
        device: model.device_name().to_owned(),
        batch_size,
        overall,
        by_group,
        fairness,
        rows_with_missing_sensitive: gathered.missing_sensitive,
    })
}

fn column_fairness(
    column: &str,
    values: &[String],
    codes: &[u32],
    gathered: &Gathered,
    threshold: f64,
    config: &EvaluationConfig,
) -> Result<ColumnFairness> {
    let mut accumulator = FairnessAccumulator::new([column])?;
    let ids: Vec<GroupId> = values
        .iter()
        .map(|v| accumulator.intern(&[v.as_str()]))
        .collect::<Result<_>>()?;
    let groups: Vec<GroupId> = codes.iter().map(|&c| ids[c as usize]).collect();
    let predicted: Vec<bool> = gathered
        .outputs
        .iter()
        .map(|&s| f64::from(s) >= threshold)
        .collect();
    accumulator.push_coded(&gathered.labels.positives, &predicted, &groups)?;
    let report = accumulator.finish(&FairnessConfig::default())?;
    let conditions = config
        .conditions
        .clone()
        .unwrap_or_else(|| vec![FairnessCondition::four_fifths()]);
    let (conditions, status, _) = judge(&report, &conditions);
    Ok(ColumnFairness {
        column: column.to_owned(),
        status,
        report,
        conditions,
    })
}

fn figure(value: Option<f64>) -> String {
    value.map_or_else(|| "undefined".to_owned(), |v| format!("{v:.4}"))
}

fn summary(overall: &Metrics, rows: u64, fairness: &[ColumnFairness]) -> String {
    let mut line = match overall {
        Metrics::Regression(m) => format!(
            "regression on {rows} rows: RMSE {:.4}, MAE {:.4}, R² {}",
            m.rmse,
            m.mae,
            figure(m.r2)
        ),
        Metrics::Binary(m) => format!(
            "binary classifier on {rows} rows: accuracy {:.4}, ROC AUC {}, F1 {}",
            m.accuracy,
            figure(m.roc_auc),
            figure(m.f1)
        ),
        Metrics::Multiclass(m) => format!(
            "{}-class classifier on {rows} rows: accuracy {:.4}, macro F1 {:.4}",
            m.classes.len(),
            m.accuracy,
            m.macro_f1
        ),
    };
    if !fairness.is_empty() {
        let total: usize = fairness.iter().map(|f| f.conditions.len()).sum();
        let failed: Vec<String> = fairness
            .iter()
            .flat_map(|f| {
                f.conditions.iter().filter(|c| !c.passed).map(move |c| {
                    format!(
                        "{}: {} = {}",
                        f.column,
                        c.condition.metric.as_str(),
                        figure(c.value)
                    )
                })
            })
            .collect();
        line.push_str(&format!(
            "; fairness: {} of {total} conditions failed",
            failed.len()
        ));
        if !failed.is_empty() {
            line.push_str(&format!(" ({})", failed.join(", ")));
        }
    }
    line
}
