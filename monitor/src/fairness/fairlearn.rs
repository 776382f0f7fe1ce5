//! Fairlearn 0.15's aggregates (`fairlearn/metrics/_fairness_metrics.py` on top of
//! `MetricFrame.difference` / `MetricFrame.ratio` in `_disaggregated_result.py`).
//!
//! Undefined values (pandas' NaN) are `None`; like pandas' `min`/`max`/`mean`, the reductions
//! skip them, and only when every value is undefined is the result undefined.

use super::rates::Rates;
use super::report::{Convention, EqualizedOddsAgg, FairnessFigure, FairnessMetric};

/// `MetricFrame.difference(method=…)` / `.ratio(method=…)`'s `method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    BetweenGroups,
    ToOverall,
}

impl Method {
    fn convention(self) -> Convention {
        match self {
            Method::BetweenGroups => Convention::FairlearnBetweenGroups,
            Method::ToOverall => Convention::FairlearnToOverall,
        }
    }
}

/// `MetricFrame.difference`: `between_groups` is `max |g - min g|` (= max − min);
/// `to_overall` is `max |g - overall|`.
pub(crate) fn difference(groups: &[f64], overall: f64, method: Method) -> Option<f64> {
    let subtrahend = match method {
        Method::BetweenGroups => nan_min(groups.iter().copied())?,
        Method::ToOverall => overall,
    };
    nan_max(groups.iter().map(|g| (g - subtrahend).abs()))
}

/// `MetricFrame.ratio`: `between_groups` is `min g / max g`; `to_overall` is the minimum over
/// groups of `g / overall`, inverted when above 1. `0/0` is undefined; `x/0` is `inf` and its
/// inverse 0, as in pandas.
pub(crate) fn ratio(groups: &[f64], overall: f64, method: Method) -> Option<f64> {
    match method {
        Method::BetweenGroups => {
            let r = nan_min(groups.iter().copied())? / nan_max(groups.iter().copied())?;
            (!r.is_nan()).then_some(r)
        }
        Method::ToOverall => nan_min(groups.iter().map(|g| {
            let r = g / overall;
            if r > 1.0 { 1.0 / r } else { r }
        })),
    }
}

/// pandas' `Series.min()`: the minimum of the non-NaN values.
fn nan_min(values: impl Iterator<Item = f64>) -> Option<f64> {
    values.filter(|v| !v.is_nan()).reduce(f64::min)
}

/// pandas' `Series.max()`: the maximum of the non-NaN values.
fn nan_max(values: impl Iterator<Item = f64>) -> Option<f64> {
    values.filter(|v| !v.is_nan()).reduce(f64::max)
}

/// Python's built-in `max([tpr, fpr])`: keeps the first item unless a later one compares
/// greater, so a leading NaN wins and a trailing NaN is ignored.
fn python_max(first: Option<f64>, second: Option<f64>) -> Option<f64> {
    match (first, second) {
        (Some(a), Some(b)) => Some(if b > a { b } else { a }),
        (Some(a), None) => Some(a),
        (None, _) => None,
    }
}

/// Python's built-in `min([tpr, fpr])` (see [`python_max`]).
fn python_min(first: Option<f64>, second: Option<f64>) -> Option<f64> {
    match (first, second) {
        (Some(a), Some(b)) => Some(if b < a { b } else { a }),
        (Some(a), None) => Some(a),
        (None, _) => None,
    }
}

/// pandas' `Series.mean()` of two values, skipping NaN.
fn mean(first: Option<f64>, second: Option<f64>) -> Option<f64> {
    match (first, second) {
        (Some(a), Some(b)) => Some((a + b) / 2.0),
        (Some(a), None) | (None, Some(a)) => Some(a),
        (None, None) => None,
    }
}

/// Every Fairlearn aggregate, both methods, both equalized-odds aggregations.
pub(crate) fn figures(groups: &[Rates], overall: &Rates) -> Vec<FairnessFigure> {
    let column =
        |f: fn(&Rates) -> f64| -> (Vec<f64>, f64) { (groups.iter().map(f).collect(), f(overall)) };
    let (sel, sel_all) = column(|r| r.selection_rate);
    let (tpr, tpr_all) = column(|r| r.true_positive_rate);
    let (fpr, fpr_all) = column(|r| r.false_positive_rate);

    const ALL_SEL_ZERO: &str = "every group's selection rate is 0, so the ratio is 0/0";
    const ALL_TPR_ZERO: &str = "every group's true positive rate is 0, so the ratio is 0/0";
    const EO_WORST: &str = "every group's true positive rate is 0, so the TPR ratio is 0/0, \
                            and Fairlearn's min([tpr_ratio, fpr_ratio]) keeps a leading NaN";
    const EO_MEAN: &str = "both the TPR and the FPR ratio are 0/0";
    const NO_GROUP: &str = "no group has a defined value";

    let mut out = Vec::with_capacity(16);
    for method in [Method::BetweenGroups, Method::ToOverall] {
        let figure = |metric, agg, value: Option<f64>, why: &str| FairnessFigure {
            metric,
            convention: method.convention(),
            agg,
            value,
            note: value
                .is_none()
                .then(|| format!("undefined (Fairlearn returns NaN): {why}")),
        };
        let tpr_diff = difference(&tpr, tpr_all, method);
        let fpr_diff = difference(&fpr, fpr_all, method);
        let tpr_ratio = ratio(&tpr, tpr_all, method);
        let fpr_ratio = ratio(&fpr, fpr_all, method);
        let (worst, mean_agg) = (
            Some(EqualizedOddsAgg::WorstCase),
            Some(EqualizedOddsAgg::Mean),
        );
        use FairnessMetric as M;
        out.extend([
            figure(
                M::DemographicParityDifference,
                None,
                difference(&sel, sel_all, method),
                NO_GROUP,
            ),
            figure(
                M::DemographicParityRatio,
                None,
                ratio(&sel, sel_all, method),
                ALL_SEL_ZERO,
            ),
            figure(
                M::EqualizedOddsDifference,
                worst,
                python_max(tpr_diff, fpr_diff),
                NO_GROUP,
            ),
            figure(
                M::EqualizedOddsDifference,
                mean_agg,
                mean(tpr_diff, fpr_diff),
                NO_GROUP,
            ),
            figure(
                M::EqualizedOddsRatio,
                worst,
                python_min(tpr_ratio, fpr_ratio),
                EO_WORST,
            ),
            figure(
                M::EqualizedOddsRatio,
                mean_agg,
                mean(tpr_ratio, fpr_ratio),
                EO_MEAN,
            ),
            figure(M::EqualOpportunityDifference, None, tpr_diff, NO_GROUP),
            figure(M::EqualOpportunityRatio, None, tpr_ratio, ALL_TPR_ZERO),
        ]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn difference_and_ratio_follow_pandas() {
        let g = [0.2, 0.5, 0.4];
        // between_groups: 0.5 - 0.2; 0.2 / 0.5.
        assert_eq!(difference(&g, 0.4, Method::BetweenGroups), Some(0.5 - 0.2));
        assert_eq!(ratio(&g, 0.4, Method::BetweenGroups), Some(0.2 / 0.5));
        // to_overall: max(|0.2-0.4|, |0.5-0.4|, 0) = 0.2 - 0.4 in absolute value;
        // ratios 0.5, 0.8 (1.25 inverted), 1 → 0.5.
        assert_eq!(
            difference(&g, 0.4, Method::ToOverall),
            Some((0.2f64 - 0.4).abs())
        );
        assert_eq!(ratio(&g, 0.4, Method::ToOverall), Some(0.2 / 0.4));
        // All zero: 0/0 → undefined; differences 0.
        assert_eq!(ratio(&[0.0, 0.0], 0.0, Method::BetweenGroups), None);
        assert_eq!(ratio(&[0.0, 0.0], 0.0, Method::ToOverall), None);
        assert_eq!(difference(&[0.0, 0.0], 0.0, Method::ToOverall), Some(0.0));
        // x/0 = inf, inverted to 0 (pandas' ratio_sub_one).
        assert_eq!(ratio(&[0.5], 0.0, Method::ToOverall), Some(0.0));
    }

    #[test]
    fn python_min_max_keep_a_leading_nan() {
        assert_eq!(python_min(None, Some(0.5)), None);
        assert_eq!(python_min(Some(0.5), None), Some(0.5));
        assert_eq!(python_max(Some(0.1), Some(0.3)), Some(0.3));
        assert_eq!(mean(None, Some(0.5)), Some(0.5));
        assert_eq!(mean(None, None), None);
    }
}
