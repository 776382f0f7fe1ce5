//! AIF360's `ClassificationMetric` figures for a privileged/unprivileged split.
//!
//! AIF360 divides plainly (`TPR = TP / P`, `FPR = FP / N`, `DatasetMetric.ratio` =
//! unprivileged / privileged), so a side without positive (or negative) labels gives NaN and a
//! privileged selection rate of 0 gives `inf` (or NaN); such figures are `None` with a note.

use super::rates::ConfusionCounts;
use super::report::{Convention, FairnessFigure, FairnessMetric};

/// Selection rate, TPR and FPR with AIF360's plain division (NaN at 0/0).
struct Side {
    selection_rate: f64,
    true_positive_rate: f64,
    false_positive_rate: f64,
}

impl Side {
    fn new(c: &ConfusionCounts) -> Self {
        let div = |a: u64, b: u64| a as f64 / b as f64;
        Side {
            selection_rate: div(c.predicted_positives(), c.count()),
            true_positive_rate: div(c.true_positives, c.positives()),
            false_positive_rate: div(c.false_positives, c.negatives()),
        }
    }
}

/// The four AIF360 figures, unprivileged against privileged.
pub(crate) fn figures(
    privileged: &ConfusionCounts,
    unprivileged: &ConfusionCounts,
) -> Vec<FairnessFigure> {
    let (p, u) = (Side::new(privileged), Side::new(unprivileged));
    let spd = u.selection_rate - p.selection_rate;
    let di = u.selection_rate / p.selection_rate;
    let eod = u.true_positive_rate - p.true_positive_rate;
    let aod = 0.5
        * ((u.false_positive_rate - p.false_positive_rate)
            + (u.true_positive_rate - p.true_positive_rate));

    let no_positive = side_lacking(
        privileged,
        unprivileged,
        ConfusionCounts::positives,
        "positive",
    );
    let no_negative = side_lacking(
        privileged,
        unprivileged,
        ConfusionCounts::negatives,
        "negative",
    );
    let odds_why = [no_positive.clone(), no_negative]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("; ");
    let di_why = "the privileged selection rate is 0".to_owned();

    [
        (
            FairnessMetric::StatisticalParityDifference,
            spd,
            String::new(),
        ),
        (FairnessMetric::DisparateImpact, di, di_why),
        (
            FairnessMetric::EqualOpportunityDifference,
            eod,
            no_positive.unwrap_or_default(),
        ),
        (FairnessMetric::AverageOddsDifference, aod, odds_why),
    ]
    .into_iter()
    .map(|(metric, value, why)| figure(metric, value, &why))
    .collect()
}

fn figure(metric: FairnessMetric, value: f64, why: &str) -> FairnessFigure {
    let defined = value.is_finite();
    let returns = if value.is_nan() {
        "NaN"
    } else if value > 0.0 {
        "inf"
    } else {
        "-inf"
    };
    FairnessFigure {
        metric,
        convention: Convention::Aif360,
        agg: None,
        value: defined.then_some(value),
        note: (!defined).then(|| format!("undefined (AIF360 returns {returns}): {why}")),
    }
}

/// "the privileged side has no positive label" and the like, if any side lacks that class.
fn side_lacking(
    privileged: &ConfusionCounts,
    unprivileged: &ConfusionCounts,
    count: fn(&ConfusionCounts) -> u64,
    class: &str,
) -> Option<String> {
    let sides: Vec<&str> = [("privileged", privileged), ("unprivileged", unprivileged)]
        .into_iter()
        .filter(|(_, c)| count(c) == 0)
        .map(|(name, _)| name)
        .collect();
    (!sides.is_empty())
        .then(|| format!("the {} side has no {class} label", sides.join(" and the ")))
}
