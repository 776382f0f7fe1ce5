//! Comparing a challenger's evaluation with the current version's (champion's) on the same
//! dataset version: every headline figure side by side, which side is better, and a verdict on
//! the task's primary figure (ROC AUC for binary, accuracy for multi-class, RMSE for
//! regression). Promotion gates read these.

use serde::Serialize;

use super::evaluate::{EvaluationOutcome, Metrics};
use crate::fairness::{Convention, EqualizedOddsAgg, FairnessMetric};
use crate::{Error, Result};

/// Which side a figure favours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    /// The challenger's figure is better.
    Challenger,
    /// The champion's figure is better.
    Champion,
    /// Equal.
    Tie,
}

/// One figure of both evaluations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FigureDifference {
    /// The figure (`accuracy`, `roc_auc`, `sex.demographic_parity_ratio`…).
    pub metric: String,
    /// The challenger's value (None when undefined).
    pub challenger: Option<f64>,
    /// The champion's value.
    pub champion: Option<f64>,
    /// challenger − champion, when both are defined.
    pub difference: Option<f64>,
    /// Whether larger values are better.
    pub higher_is_better: bool,
    /// Which side is better, when both are defined.
    pub better: Option<Better>,
}

/// The comparison of two evaluations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// `regression`, `binary` or `multiclass`.
    pub task: String,
    /// The figure the verdict is taken on.
    pub primary_metric: String,
    /// The verdict on the primary figure (None when it is undefined on either side).
    pub verdict: Option<Better>,
    /// Headline figures over all rows.
    pub overall: Vec<FigureDifference>,
    /// Fairness figures per sensitive column (binary models).
    pub fairness: Vec<FigureDifference>,
}

fn difference(
    metric: String,
    challenger: Option<f64>,
    champion: Option<f64>,
    higher: bool,
) -> FigureDifference {
    let both = challenger.zip(champion);
    FigureDifference {
        metric,
        challenger,
        champion,
        difference: both.map(|(a, b)| a - b),
        higher_is_better: higher,
        better: both.map(|(a, b)| {
            if a == b {
                Better::Tie
            } else if (a > b) == higher {
                Better::Challenger
            } else {
                Better::Champion
            }
        }),
    }
}

/// `(name, value, higher is better)` of each headline figure; the first is the primary one.
fn headline(metrics: &Metrics) -> Vec<(&'static str, Option<f64>, bool)> {
    match metrics {
        Metrics::Binary(m) => vec![
            ("roc_auc", m.roc_auc, true),
            ("accuracy", Some(m.accuracy), true),
            ("precision", m.precision, true),
            ("recall", m.recall, true),
            ("f1", m.f1, true),
            ("pr_auc", m.pr_auc, true),
            ("log_loss", Some(m.log_loss), false),
            ("brier", Some(m.brier), false),
        ],
        Metrics::Multiclass(m) => vec![
            ("accuracy", Some(m.accuracy), true),
            ("macro_f1", Some(m.macro_f1), true),
            ("weighted_f1", Some(m.weighted_f1), true),
            ("roc_auc_ovr", m.roc_auc_ovr, true),
            ("log_loss", Some(m.log_loss), false),
            ("brier", Some(m.brier), false),
        ],
        Metrics::Regression(m) => vec![
            ("rmse", Some(m.rmse), false),
            ("mae", Some(m.mae), false),
            ("r2", m.r2, true),
            ("max_error", Some(m.max_error), false),
        ],
    }
}

/// Compares two evaluations of the same task on the same rows.
///
/// # Errors
/// [`Error::InvalidArgument`] when the tasks or row counts differ.
pub fn compare(challenger: &EvaluationOutcome, champion: &EvaluationOutcome) -> Result<Comparison> {
    let task = challenger.overall.task();
    if task != champion.overall.task() {
        return Err(Error::invalid(format!(
            "cannot compare a {task} model with a {} model",
            champion.overall.task()
        )));
    }
    if challenger.rows != champion.rows {
        return Err(Error::invalid(format!(
            "the evaluations cover {} and {} rows; compare them on the same dataset version",
            challenger.rows, champion.rows
        )));
    }
    let overall: Vec<FigureDifference> = headline(&challenger.overall)
        .into_iter()
        .zip(headline(&champion.overall))
        .map(|((name, a, higher), (_, b, _))| difference(name.to_owned(), a, b, higher))
        .collect();
    let figures = [
        (FairnessMetric::DemographicParityRatio, None, true),
        (FairnessMetric::DemographicParityDifference, None, false),
        (
            FairnessMetric::EqualizedOddsDifference,
            Some(EqualizedOddsAgg::WorstCase),
            false,
        ),
    ];
    let mut fairness = Vec::new();
    for mine in &challenger.fairness {
        let theirs = champion.fairness.iter().find(|f| f.column == mine.column);
        for (metric, agg, higher) in figures {
            let value = |f: &super::evaluate::ColumnFairness| {
                f.report
                    .value(metric, Convention::FairlearnBetweenGroups, agg)
            };
            fairness.push(difference(
                format!("{}.{}", mine.column, metric.as_str()),
                value(mine),
                theirs.and_then(value),
                higher,
            ));
        }
    }
    let primary = &overall[0];
    Ok(Comparison {
        task: task.to_owned(),
        primary_metric: primary.metric.clone(),
        verdict: primary.better,
        overall,
        fairness,
    })
}
